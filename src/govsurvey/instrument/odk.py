"""Data in the layout ODK, KoBoToolbox and SurveyCTO export: group paths and select_multiple.

An export names a question inside groups by its path (``grp_a/grp_b/q``), and a select_multiple
question either as one column of space-separated choice names (``q`` = ``"red blue"``) or as one
0/1 column per choice (``q/red``). These functions bring such a frame to govsurvey's layout: one
column per question id, and for a select_multiple question one 0/1 column per choice named
``<id>/<choice name>`` (``<id>/<code>`` when the list has no word names; a ``/`` never occurs
in a question name, so these cannot clash with another question). Inputs are never modified.
"""

from __future__ import annotations

import pandas as pd

from govsurvey.errors import DataValidationError
from govsurvey.instrument.model import Instrument

__all__ = ["odk_columns", "expand_select_multiple", "choice_columns"]


def choice_columns(instrument: Instrument, qid: str) -> dict[str, int]:
    """Choice name → code of the select_multiple question ``qid`` (names are the codes as text
    when the list has no word names).

    Examples
    --------
    >>> from govsurvey.instrument.model import Instrument, Item, Scale
    >>> sc = Scale(name="fruit", type="nominal", labels={"en": {1: "Apple", 2: "Pear"}}, names={1: "apple", 2: "pear"})
    >>> q = Item(id="fruits", text={"en": "Fruits"}, scale="fruit", role="demographic", type="select_multiple")
    >>> inst = Instrument(name="f", version="1", title={"en": "F"}, languages=("en",), scales={"fruit": sc},
    ...                   constructs={}, items=(), demographics=(q,))
    >>> choice_columns(inst, "fruits")
    {'apple': 1, 'pear': 2}
    """
    sc = instrument.scale_of(qid)
    return {sc.names.get(c, str(c)): c for c in sc.codes}


def _multiples(instrument: Instrument) -> list[str]:
    return [q.id for q in instrument.questions if q.type == "select_multiple"]


def odk_columns(frame: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Rename export headers to question ids: ``group/sub/q`` → ``q`` and ``q/choice`` stays ``q/choice``.

    A header is renamed only when its last part is a question id (or, after a select_multiple id,
    one of its choice names); other headers (``_id``, ``meta/instanceID``) stay as they are.
    Raises :class:`~govsurvey.errors.DataValidationError` when two headers would get one name.
    """
    ids = {q.id for q in instrument.questions}
    multi = {qid: choice_columns(instrument, qid) for qid in _multiples(instrument)}
    renamed: dict[str, str] = {}
    for col in frame.columns:
        parts = str(col).split("/")
        new = str(col)
        if len(parts) >= 2 and parts[-2] in multi and parts[-1] in multi[parts[-2]]:
            new = f"{parts[-2]}/{parts[-1]}"
        elif len(parts) >= 2 and parts[-1] in ids:
            new = parts[-1]
        renamed[col] = new
    seen: dict[str, str] = {}
    for old, new in renamed.items():
        if new in seen:
            raise DataValidationError(
                f"Export columns {seen[new]!r} and {old!r} both stand for {new!r} (two groups hold a question of that "
                f"name). Fix: rename one of the questions in the form, or drop one column before reading.")
        seen[new] = str(old)
    return frame.rename(columns=renamed)


def expand_select_multiple(frame: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Replace each select_multiple column of space-separated choice names by one 0/1 column per
    choice (``<id>/<name>``); a blank answer gives NaN in every choice column.

    Raises :class:`~govsurvey.errors.DataValidationError` naming the column, the rows and the
    unknown names when an answer holds a name the list does not have.
    """
    out = frame.copy()
    for qid in _multiples(instrument):
        if qid not in out.columns:
            continue
        names = choice_columns(instrument, qid)
        cells = out[qid].map(lambda v: None if v is None or (isinstance(v, float) and v != v) or not str(v).strip()
                             else str(v).split())
        bad = {(idx, n) for idx, got in cells.items() if got for n in got if n not in names}
        if bad:
            rows = sorted({str(i) for i, _ in bad})[:5]
            raise DataValidationError(
                f"Column {qid!r} (select_multiple) holds choice names its list does not have: "
                f"{', '.join(sorted({n for _, n in bad})[:5])} (rows {', '.join(rows)}). "
                f"Fix: use the names {', '.join(list(names)[:8])}, or correct the form's choices sheet.")
        pos = out.columns.get_loc(qid)
        new = {f"{qid}/{n}": cells.map(lambda got, n=n: float("nan") if got is None else float(n in got)) for n in names}
        out = pd.concat([out.iloc[:, :pos], pd.DataFrame(new, index=out.index), out.iloc[:, pos + 1:]], axis=1)
    return out
