"""Write responses in the layouts users get from their tools: Wenjuanxing exports and SPSS files.

Used by the example-study simulator so the bundled example exercises the real readers, and
useful on their own (e.g. to hand SPSS users a labelled ``.sav``). All writes are atomic.

Every cell written to CSV or Excel goes through :func:`safe_cell` (a frame through
:func:`neutralise_cells`), so text from respondents or instruments that starts like a
formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``, tab, carriage return) is written as text,
never run by the spreadsheet that opens it (OWASP "CSV injection").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.data.files import write_atomic
from govsurvey.errors import SpecificationError, UnknownItemError
from govsurvey.instrument.model import Instrument

__all__ = ["QuestionBlock", "write_wenjuanxing", "write_sav", "safe_cell", "restore_cell", "neutralise_cells", "FORMULA_STARTS"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""


def _needs_quote(text: str) -> bool:
    body = text.lstrip("'")
    return body[:1] in FORMULA_STARTS and body != ""


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet cannot run it: text starting with ``= + - @``, a tab or a
    carriage return gets a leading ``'``; anything else (numbers, None, dates) is returned as is.

    Text that already starts with ``'`` before such a character gets one more, so
    :func:`restore_cell` undoes this exactly.

    Examples
    --------
    >>> safe_cell("=1+2"), safe_cell("-3"), safe_cell(-3), safe_cell("非常同意")
    ("'=1+2", "'-3", -3, '非常同意')
    """
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """Undo :func:`safe_cell`: drop the ``'`` it added; any other value is returned as is.

    >>> restore_cell("'=1+2"), restore_cell("'quoted"), restore_cell(restore_cell(safe_cell("'=x")))
    ('=1+2', "'quoted", '=x')
    """
    if isinstance(value, str) and value[:1] == "'" and _needs_quote(value[1:]):
        return value[1:]
    return value


def neutralise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text cell, the index
    (every level) and the column headers; numbers are untouched and ``frame`` is not modified.

    Call it on any table just before ``to_csv``/``to_excel``.

    Examples
    --------
    >>> frame = pd.DataFrame({"site": ["=cmd|' /C calc'!A0", "东区"], "score": [-1.5, 2.0]}, index=["@1", "2"])
    >>> out = neutralise_cells(frame)
    >>> out["site"].tolist(), out.index.tolist(), out["score"].tolist()
    (["'=cmd|' /C calc'!A0", '东区'], ["'@1", '2'], [-1.5, 2.0])
    """
    out = frame.copy()
    for k in range(out.shape[1]):
        col = out.iloc[:, k]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype)
                or isinstance(col.dtype, pd.PeriodDtype)):
            out.isetitem(k, col.astype(object).map(safe_cell).astype(col.dtype if pd.api.types.is_string_dtype(col.dtype) else object))
    out.columns = _safe_index(out.columns)
    out.index = _safe_index(out.index)
    return out


def _safe_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_safe_index(level) for level in index.levels], verify_integrity=False)
    if pd.api.types.is_numeric_dtype(index.dtype) or pd.api.types.is_datetime64_any_dtype(index.dtype):
        return index
    return pd.Index([safe_cell(v) for v in index], dtype=index.dtype if pd.api.types.is_string_dtype(index.dtype) else object,
                    name=index.name)

META_OUT = [("序号", None), ("提交答卷时间", "_submitted"), ("所用时间", "_seconds"), ("来源", "_channel"),
            ("来源详情", "_channel_detail"), ("来自IP", "_ip")]


@dataclasses.dataclass(frozen=True, slots=True)
class QuestionBlock:
    """One numbered Wenjuanxing question: a single question, or a matrix over several items.

    ``style`` sets how a matrix's columns are headed: ``"first"`` — ``N、题干—行`` then
    ``N、行``; ``"every"`` — ``N、(题干)—行`` on every column; ``"bare"`` — ``N、题干—行``
    then just the row text.
    """

    number: int
    ids: tuple[str, ...]
    stem: str | None = None
    style: str = "first"


def _headers(blocks: Sequence[QuestionBlock], instrument: Instrument, lang: str) -> list[tuple[str, str]]:
    out = []
    for b in blocks:
        if len(b.ids) == 1 and b.stem is None:
            q = instrument.question(b.ids[0])
            out.append((f"{b.number}、{q.text[lang]}：", q.id))
            continue
        if b.style not in ("first", "every", "bare"):
            raise SpecificationError(f"QuestionBlock style {b.style!r} is not known; use 'first', 'every' or 'bare'.")
        for k, qid in enumerate(b.ids):
            row = instrument.question(qid).text[lang]
            if b.style == "every":
                out.append((f"{b.number}、({b.stem})—{row}", qid))
            elif k == 0:
                out.append((f"{b.number}、{b.stem}—{row}", qid))
            elif b.style == "first":
                out.append((f"{b.number}、{row}", qid))
            else:
                out.append((row, qid))
    return out


def write_wenjuanxing(
    data: pd.DataFrame,
    instrument: Instrument,
    path: str | Path,
    blocks: Sequence[QuestionBlock],
    *,
    layout: str = "text",
    lang: str = "zh",
    encoding: str = "utf-8-sig",
    missing_text: str = "(空)",
    missing_code: int = -3,
) -> Path:
    """Write ``data`` as a Wenjuanxing download (``.xlsx`` or ``.csv``).

    ``layout="text"`` writes option text (按选项文本), ``"number"`` option numbers (按选项序号).
    ``data`` holds codes with item-id columns, index = 序号, and optionally ``_submitted``,
    ``_seconds``, ``_channel``, ``_channel_detail``, ``_ip``. Text that could run as a
    formula is written through :func:`safe_cell`.
    """
    if layout not in ("text", "number"):
        raise SpecificationError(f"layout={layout!r} must be 'text' or 'number'.")
    heads = _headers(blocks, instrument, lang)
    absent = [qid for _, qid in heads if qid not in data.columns]
    if absent:
        raise UnknownItemError(f"write_wenjuanxing: columns not in the data: {absent[:5]}.")
    cols: dict[str, list] = {"序号": list(data.index)}
    for head, src in META_OUT[1:]:
        if src in data.columns:
            values = data[src]
            if src == "_seconds":
                cols[head] = [f"{int(round(v))}秒" for v in values]
            elif src == "_submitted":
                cols[head] = [pd.Timestamp(v).strftime("%Y/%-m/%-d %H:%M:%S") for v in values]
            else:
                cols[head] = [("N/A" if pd.isna(v) else str(v)) for v in values]
    for head, qid in heads:
        scale = instrument.scale_of(qid)
        values = data[qid]
        if scale.type == "text":
            cols[head] = [("" if pd.isna(v) else str(v)) for v in values]
        elif layout == "number":
            cols[head] = [missing_code if pd.isna(v) else int(v) for v in values]
        else:
            labels = scale.labels[lang]
            cols[head] = [missing_text if pd.isna(v) else labels[int(v)] for v in values]
    frame = neutralise_cells(pd.DataFrame(cols))
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        return write_atomic(target, lambda p: frame.to_excel(p, index=False, sheet_name="Sheet1", engine="openpyxl"))
    return write_atomic(target, lambda p: p.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode(encoding)))


def write_sav(data: pd.DataFrame, instrument: Instrument, path: str | Path, *, lang: str = "zh",
              missing_code: float = 99, id_name: str = "id", extra: dict[str, str] | None = None) -> Path:
    """Write an SPSS ``.sav`` with variable labels, value labels and a user-missing code.

    Item columns keep their ids as variable names; missing answers are stored as
    ``missing_code`` and declared user-missing. ``extra`` renames further columns
    (e.g. ``{"_seconds": "duration"}``; SPSS names cannot start with ``_``).
    """
    import pyreadstat

    qids = [q.id for q in instrument.questions if q.id in data.columns]
    out = pd.DataFrame({id_name: np.asarray(data.index)})
    labels = {id_name: "respondent id"}
    value_labels: dict[str, dict] = {}
    missing_ranges: dict[str, list] = {}
    for qid in qids:
        q = instrument.question(qid)
        scale = instrument.scale_of(qid)
        labels[qid] = q.text[lang]
        if scale.type == "text":
            out[qid] = data[qid].astype("string").fillna("").astype(str).to_numpy()
            continue
        values = data[qid].astype(float)
        out[qid] = values.fillna(missing_code).to_numpy()
        missing_ranges[qid] = [missing_code]
        if scale.labels.get(lang):
            value_labels[qid] = {float(k): v for k, v in scale.labels[lang].items()}
    for src, name in (extra or {}).items():
        col = data[src]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[name] = col.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
        else:
            out[name] = col.to_numpy()
        labels[name] = src
    return write_atomic(path, lambda p: pyreadstat.write_sav(
        out, str(p), column_labels=labels, variable_value_labels=value_labels, missing_ranges=missing_ranges))
