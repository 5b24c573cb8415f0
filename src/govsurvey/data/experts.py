"""Expert files of an evaluation index system (评价指标体系): Delphi consultation rounds and AHP
judgement matrices, as CSV (UTF-8 or GBK, detected) or Excel.

Both readers check the whole file before anything is computed and report every problem at
once, each with the file, its row (as a spreadsheet numbers it: the header is row 1) and its
column; names may be given as ids (``reserves``) or as the labels experts read
(``应急物资储备``) through ``aliases=``.

**Delphi layout** (:func:`read_delphi`): one row per expert and round.

=============  ==========================================================================
column          content
=============  ==========================================================================
expert          the expert's id (专家, 专家编号); required
round           the round, 1, 2, … (轮次; "第2轮" and "round 2" are read as 2); without it
                every row is round 1
familiarity     familiarity with the topic (熟悉程度): 很熟悉 / 熟悉 / 一般 / 不太熟悉 / 不熟悉
                (or English, or a coefficient 0–1); optional
basis           the judgement-basis coefficient Ca (判断依据, 0–1); or, instead, one column
                per basis — 实践经验, 理论分析, 参考国内外文献, 直观感觉 (practical experience,
                theoretical analysis, literature, intuition) — holding 大 / 中 / 小 (high /
                medium / low); optional
one per         the importance rating of that indicator on the questionnaire's scale (1–5);
indicator       blank for an indicator the expert did not rate (or one dropped after a round)
=============  ==========================================================================

Familiarity and basis are read from each expert's first row that gives them (they usually
appear in round 1 only).

The file holds the answers, not the mailing: a row with an expert and a round but no ratings
is an expert who did not return that round (:func:`govsurvey.delphi` counts and warns), but
experts who never answered need not be listed, so the number of questionnaires sent — the
denominator of the experts' positive coefficient (专家积极系数) — is not read from the file.
Give it as ``gs.delphi(..., sent=...)`` or, in a study spec, ``evaluation: {sent: ...}``.

**AHP layouts** (:func:`read_ahp`), recognised from the header:

* *long*: columns ``expert``, ``node``, ``row``, ``col``, ``value`` — one judgement per row:
  how much more important ``row`` is than ``col`` in the judgement matrix of ``node`` (the
  criterion whose sub-criteria are compared; the goal for the top matrix), on Saaty's 1–9
  scale, written ``3``, ``1/3`` or ``0.333``;
* *matrix*: columns ``expert``, ``node``, ``row`` and then one column per criterion — each
  expert's matrix typed as it is printed, one row of the matrix per row of the file.

Give the upper triangle (row before column in the node's order) or both triangles: the
diagonal is 1 or blank, a pair given twice must be reciprocal (to 2 %, so that 0.33 stands
for 1/3; the entry ≥ 1 is kept and the other becomes its exact reciprocal).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.data.readers import _blank
from govsurvey.errors import DataFormatError, DataValidationError, UnknownItemError, preview

__all__ = ["DelphiPanel", "AHPJudgements", "read_delphi", "read_ahp", "instrument_names", "HEADERS", "BASIS_HEADERS", "RECIPROCAL_TOLERANCE"]

#: Header names recognised for each role (compared without case, spaces, "_" or "-").
HEADERS: dict[str, tuple[str, ...]] = {
    "expert": ("expert", "专家", "专家编号", "专家代码", "专家序号", "expert id"),
    "round": ("round", "轮次", "轮", "咨询轮次"),
    "familiarity": ("familiarity", "熟悉程度", "熟悉度", "cs"),
    "basis": ("basis", "判断依据", "判断依据系数", "ca"),
    "node": ("node", "节点", "判断矩阵", "准则", "上级指标", "parent"),
    "row": ("row", "行", "行指标", "指标i", "criterion", "指标"),
    "col": ("col", "column", "列", "列指标", "指标j"),
    "value": ("value", "值", "判断值", "标度", "judgement", "judgment"),
}
#: The four judgement bases (判断依据) as columns of a Delphi file, with English names.
BASIS_HEADERS: dict[str, tuple[str, ...]] = {
    "实践经验": ("实践经验", "practical experience"),
    "理论分析": ("理论分析", "theoretical analysis"),
    "参考国内外文献": ("参考国内外文献", "国内外文献", "literature"),
    "直观感觉": ("直观感觉", "intuition"),
}
#: A pair given in both triangles must multiply to 1 within this relative tolerance.
RECIPROCAL_TOLERANCE = 0.02
MAX_SHOWN = 8
_FRACTION = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:/([+-]?(?:\d+(?:\.\d*)?|\.\d+)))?$")
_ROUND = re.compile(r"^(?:第|round|r)?(\d+)(?:轮|轮次)?$")


# ------------------------------------------------------------------ results
@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class DelphiPanel:
    """A Delphi file as :func:`govsurvey.delphi` takes it: ``ratings`` (round → experts ×
    indicators), ``familiarity`` and ``basis`` per expert (None when the file has none)."""

    ratings: dict
    familiarity: pd.Series | None
    basis: pd.Series | pd.DataFrame | None
    indicators: tuple
    experts: tuple
    path: str

    def __repr__(self) -> str:
        return (f"DelphiPanel(file={Path(self.path).name!r}, rounds={list(self.ratings)}, experts={len(self.experts)}, "
                f"indicators={len(self.indicators)}, familiarity={self.familiarity is not None}, "
                f"basis={self.basis is not None})")


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class AHPJudgements:
    """An AHP file as :func:`govsurvey.ahp` takes it: ``matrices`` (node → expert → complete
    reciprocal matrix) and ``table``, the judgements used (one row per expert, node and pair
    of the upper triangle, with the file row each came from)."""

    matrices: dict
    experts: tuple
    nodes: tuple
    table: pd.DataFrame
    layout: str
    path: str

    def __repr__(self) -> str:
        return (f"AHPJudgements(file={Path(self.path).name!r}, layout={self.layout!r}, nodes={list(self.nodes)}, "
                f"experts={len(self.experts)})")


# ------------------------------------------------------------------ shared pieces
def _key(text: Any) -> str:
    """A header or name as compared: NFKC, no case, no spaces, "_" or "-"."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def _text(v: Any) -> str:
    """A cell as text: whole numbers without ".0", text NFKC-normalised and stripped."""
    if isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v).is_integer():
        return str(int(v))
    return unicodedata.normalize("NFKC", str(v)).strip()


class _Problems:
    """Every problem of a file, raised together (the first kind decides the class)."""

    def __init__(self, path: Path) -> None:
        self.path, self.items, self.unknown = path, [], []

    def at(self, row: int | None, column: Any, text: str) -> None:
        where = f"row {row}" if row is not None else ""
        if column is not None:
            where += (", " if where else "") + f"column {column!r}"
        self.items.append(f"{where}: {text}" if where else text)

    def name(self, text: str) -> None:
        self.unknown.append(text)

    def raise_if_any(self, fix: str) -> None:
        if not (self.items or self.unknown):
            return
        problems = self.unknown + self.items
        shown = "\n  - ".join(problems[:MAX_SHOWN])
        more = f"\n  … and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        cls = UnknownItemError if self.unknown else DataValidationError
        raise cls(f"{self.path.name} has {len(problems)} problem(s):\n  - {shown}{more}\nFix: {fix}")


def _read(path: str | Path, sheet: Any, encoding: str | None) -> tuple[Path, pd.DataFrame]:
    from govsurvey.data.readers import read_table

    p = Path(path)
    frame, _ = read_table(p, encoding=encoding, sheet=sheet)
    frame = frame.loc[~frame.map(_blank).all(axis=1)]               # blank rows (Excel's used range) are skipped
    empty = [c for c in frame.columns if str(c).startswith("Unnamed: ") and frame[c].map(_blank).all()]
    frame = frame.drop(columns=empty)
    if frame.empty:
        raise DataFormatError(f"{p.name} has no rows below its header. Fix: one row per expert (and round or judgement).")
    return p, frame


def _roles(frame: pd.DataFrame, path: Path, roles: Sequence[str], required: Sequence[str]) -> dict[str, str]:
    """Column of each role found in the header; a missing required one names what was found."""
    found: dict[str, str] = {}
    for col in frame.columns:
        for role in roles:
            if role not in found and _key(col) in {_key(h) for h in HEADERS[role]}:
                found[role] = col
                break
    missing = [r for r in required if r not in found]
    if missing:
        names = "; ".join(f"{r} ({' / '.join(HEADERS[r][:3])})" for r in missing)
        raise DataFormatError(f"{path.name} has no column for {names}; its header is {preview(map(str, frame.columns), 8)}. "
                              "Fix: name the columns as the layout in the README (\"Expert files\") says.")
    return found


def _alias_map(aliases: Mapping[str, str] | None) -> dict[str, str]:
    return {_key(k): str(v) for k, v in (aliases or {}).items()}


def instrument_names(instrument: Any) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The instrument's index system for expert files: node → criteria (each higher-order
    construct's dimensions, each first-order construct's items) and label → name for every
    construct label in every language.

    >>> import govsurvey as gs
    >>> nodes, aliases = instrument_names(gs.load_instrument(gs.datasets.instrument_path("community_phe_survey")))
    >>> nodes["capacity"], aliases["应急物资储备"]
    (['pre_event', 'during_event', 'post_event'], 'reserves')
    """
    nodes = {name: list(c.children) if c.children else list(c.items) for name, c in instrument.constructs.items()}
    aliases = {label: name for name, c in instrument.constructs.items() for label in c.label.values() if label}
    return nodes, aliases


def _with_instrument(instrument: Any, names: Iterable[str] | None, aliases: Mapping[str, str] | None, *, items: bool
                     ) -> tuple[list[str] | None, dict[str, str]]:
    """Allowed names and aliases, the instrument's added to those given."""
    if instrument is None:
        return (None if names is None else [str(n) for n in names]), dict(aliases or {})
    nodes, labels = instrument_names(instrument)
    allowed = [*(names or ()), *instrument.constructs, *(instrument.construct_items if items else ())]
    return list(dict.fromkeys(map(str, allowed))), {**labels, **(aliases or {})}


def _name(raw: Any, alias: Mapping[str, str]) -> str:
    text = _text(raw)
    return alias.get(_key(text), text)


def _suggest(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _row(i: int) -> int:
    """The spreadsheet row of data row ``i`` (the header is row 1)."""
    return int(i) + 2


def _number(v: Any) -> float | None:
    """A rating: a number, or text that is one; None when it is not."""
    if isinstance(v, bool):
        return None
    if isinstance(v, numbers.Real):
        return float(v)
    try:
        x = float(_text(v))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


# ------------------------------------------------------------------ Delphi
def read_delphi(path: str | Path, instrument: Any = None, *, indicators: Iterable[str] | None = None,
                aliases: Mapping[str, str] | None = None, sheet: str | int | None = None,
                encoding: str | None = None) -> DelphiPanel:
    """Read a Delphi consultation file (one row per expert and round; layout in the module
    docstring and the README's "Expert files").

    Parameters
    ----------
    path
        A CSV (UTF-8, UTF-8 with BOM or GBK) or Excel file.
    instrument
        An :class:`~govsurvey.Instrument`: its constructs and items may be rated, headed by
        name or by label in any of its languages (read as the name).
    indicators
        The indicator names the file may rate (e.g. the instrument's constructs); a column that
        is neither one of them (after ``aliases``) nor a known column is an
        :class:`~govsurvey.errors.UnknownItemError` naming it. ``None`` takes every other column
        as an indicator.
    aliases
        Label → name, e.g. ``{"应急物资储备": "reserves"}``: columns headed by a label are read
        as that name.
    sheet, encoding
        The Excel sheet (default the first) and the CSV encoding (default detected).

    Returns
    -------
    DelphiPanel
        ``ratings`` (dict round → DataFrame, experts × indicators, rounds in ascending order),
        ``familiarity`` and ``basis`` (Series by expert; ``basis`` a DataFrame expert × basis
        with basis columns; None when absent), ``indicators``, ``experts``, ``path``.

    Examples
    --------
    >>> import govsurvey as gs
    >>> from govsurvey.data import read_delphi
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> panel = read_delphi(gs.datasets.example_files()["delphi"], inst)   # headers are labels: 应急物资储备 …
    >>> panel
    DelphiPanel(file='experts_delphi.csv', rounds=[1, 2], experts=15, indicators=12, familiarity=True, basis=True)
    >>> panel.indicators[:4]
    ('pre_event', 'during_event', 'post_event', 'plans')
    >>> res = gs.delphi(panel.ratings, familiarity=panel.familiarity, basis=panel.basis)
    >>> res.kendall_w[["round", "m", "n"]].values.tolist()
    [[1, 15, 12], [2, 15, 12]]
    """
    indicators, aliases = _with_instrument(instrument, indicators, aliases, items=True)
    p, frame = _read(path, sheet, encoding)
    roles = _roles(frame, p, ("expert", "round", "familiarity", "basis"), ("expert",))
    basis_cols = {col: canon for col in frame.columns for canon, names in BASIS_HEADERS.items()
                  if col not in roles.values() and _key(col) in {_key(n) for n in names}}
    rest = [c for c in frame.columns if c not in roles.values() and c not in basis_cols]
    problems = _Problems(p)
    columns = _indicator_columns(rest, frame, indicators, aliases, problems)
    problems.raise_if_any(f"name each indicator column after an indicator ({preview(sorted(indicators or []), 12)}), "
                          "or one of the columns expert, round, familiarity, basis.")
    experts = [_expert(v, i, roles["expert"], problems) for i, v in zip(frame.index, frame[roles["expert"]])]
    rounds = ([_round(v, i, roles["round"], problems) for i, v in zip(frame.index, frame[roles["round"]])]
              if "round" in roles else [1] * len(frame))
    values = {name: [_rating(v, i, col, problems) for i, v in zip(frame.index, frame[col])] for col, name in columns.items()}
    seen: dict[tuple, int] = {}
    for i, e, r in zip(frame.index, experts, rounds):
        if e is not None and r is not None:
            if (e, r) in seen:
                problems.at(_row(i), roles["expert"], f"expert {e} appears again in round {r} (first in row {seen[(e, r)]}); "
                            "give one row per expert and round")
            seen.setdefault((e, r), _row(i))
    order = sorted(range(len(frame)), key=lambda k: (rounds[k] if rounds[k] is not None else 0, k))
    familiarity = _per_expert(frame, roles.get("familiarity"), experts, order, problems, "familiarity")
    basis = _basis(frame, roles.get("basis"), basis_cols, experts, order, problems)
    problems.raise_if_any("correct the cells named (ratings are numbers on the questionnaire's scale; rounds 1, 2, …).")
    table = pd.DataFrame(values, index=frame.index).assign(_expert=experts, _round=rounds)
    ratings = {int(r): part.drop(columns=["_expert", "_round"]).set_index(pd.Index(part["_expert"], name="expert"))
               for r, part in sorted(table.groupby("_round"), key=lambda kv: kv[0])}
    return DelphiPanel(ratings=ratings, familiarity=familiarity, basis=basis, indicators=tuple(values),
                       experts=tuple(dict.fromkeys(experts)), path=str(p))


def _indicator_columns(rest: list, frame: pd.DataFrame, indicators: Iterable[str] | None, aliases: Mapping[str, str] | None,
                       problems: _Problems) -> dict[str, str]:
    """Indicator column → indicator name; unknown and repeated names recorded (with the closest
    indicator name or label)."""
    known = None if indicators is None else [str(i) for i in indicators]
    alias = _alias_map(aliases)
    candidates = [*(known or []), *(str(k) for k, v in (aliases or {}).items() if str(v) in (known or []))]
    out: dict[str, str] = {}
    for col in rest:
        if str(col).startswith("Unnamed: "):
            problems.at(None, col, "a column without a header holds values; give it the indicator's name")
            continue
        name = _name(col, alias)
        if known is not None and name not in known:
            problems.name(f"column {col!r} is not an indicator{_suggest(name, candidates)}")
            continue
        if name in out.values():
            first = next(c for c, n in out.items() if n == name)
            problems.at(None, col, f"rates {name!r} again (also column {first!r})")
            continue
        out[col] = name
    if not out and not problems.unknown:
        problems.at(None, None, "no indicator columns (one column per indicator rated)")
    return out


def _expert(v: Any, i: int, col: str, problems: _Problems) -> str | None:
    if _blank(v):
        problems.at(_row(i), col, "no expert id")
        return None
    return _text(v)


def _round(v: Any, i: int, col: str, problems: _Problems) -> int | None:
    if isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v).is_integer() and v >= 1:
        return int(v)
    m = _ROUND.match(_key(v)) if not _blank(v) else None
    if m is None or int(m.group(1)) < 1:
        problems.at(_row(i), col, f"{v!r} is not a round number (1, 2, …)")
        return None
    return int(m.group(1))


def _rating(v: Any, i: int, col: str, problems: _Problems) -> float:
    if _blank(v):
        return math.nan
    x = _number(v)
    if x is None:
        problems.at(_row(i), col, f"{v!r} is not a rating (a number on the scale)")
        return math.nan
    return x


def _coefficient_or_label(v: Any) -> Any:
    x = _number(v)
    return x if x is not None else _text(v)


def _per_expert(frame: pd.DataFrame, col: str | None, experts: list, order: list[int], problems: _Problems,
                what: str) -> pd.Series | None:
    """One value per expert: the first non-blank one in round order."""
    if col is None:
        return None
    values: dict[str, Any] = {}
    for k in order:
        e, v = experts[k], frame[col].iloc[k]
        if e is not None and e not in values and not _blank(v):
            values[e] = _coefficient_or_label(v)
    absent = [e for e in dict.fromkeys(experts) if e is not None and e not in values]
    if absent:
        problems.at(None, col, f"no {what} for expert(s) {preview(absent)} in any row")
    return pd.Series({e: values.get(e) for e in dict.fromkeys(experts) if e is not None}, dtype=object, name=what)


def _basis(frame: pd.DataFrame, col: str | None, basis_cols: Mapping[str, str], experts: list, order: list[int],
           problems: _Problems) -> pd.Series | pd.DataFrame | None:
    if col is not None and basis_cols:
        problems.at(None, col, f"the file has both a basis column and basis columns ({preview(basis_cols)}); keep one")
        return None
    if col is not None:
        return _per_expert(frame, col, experts, order, problems, "basis")
    if not basis_cols:
        return None
    parts = {canon: _per_expert(frame, c, experts, order, problems, canon) for c, canon in basis_cols.items()}
    return pd.DataFrame(parts).rename_axis("expert")


# ------------------------------------------------------------------ AHP
def read_ahp(path: str | Path, instrument: Any = None, *, nodes: Mapping[str, Sequence[str]] | None = None,
             aliases: Mapping[str, str] | None = None, sheet: str | int | None = None,
             encoding: str | None = None) -> AHPJudgements:
    """Read AHP judgement matrices of several experts (long or matrix layout; see the module
    docstring and the README's "Expert files").

    Parameters
    ----------
    path
        A CSV (UTF-8, UTF-8 with BOM or GBK) or Excel file.
    instrument
        An :class:`~govsurvey.Instrument`: its construct tree gives the nodes (each construct
        with its dimensions or items as criteria, :func:`instrument_names`), named by name or by
        label in any of its languages.
    nodes
        Node → its criteria in order (e.g. from the instrument: ``{"capacity": ["pre_event",
        "during_event", "post_event"], ...}``). A node or criterion not in it is an
        :class:`~govsurvey.errors.UnknownItemError`; every expert must compare all criteria of
        each node they judge; matrices follow this order. ``None``: nodes and criteria as the
        file names them, in order of appearance.
    aliases
        Label → name for nodes and criteria, e.g. ``{"应急物资储备": "reserves"}``.
    sheet, encoding
        The Excel sheet (default the first) and the CSV encoding (default detected).

    Returns
    -------
    AHPJudgements
        ``matrices`` (node → expert → complete reciprocal DataFrame, ready for
        :func:`govsurvey.ahp`), ``experts``, ``nodes``, ``table`` (expert, node, row, col,
        value, file_row: the upper-triangle judgements used), ``layout``, ``path``.

    Examples
    --------
    >>> import govsurvey as gs
    >>> from govsurvey.data import read_ahp
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> judgements = read_ahp(gs.datasets.example_files()["ahp"], inst)    # nodes written as labels: 事前准备能力 …
    >>> judgements
    AHPJudgements(file='experts_ahp.csv', layout='long', nodes=['capacity', 'pre_event', 'during_event', 'post_event'], experts=5)
    >>> judgements.matrices["post_event"]["E01"]
                   recovery  psych_support
    recovery            1.0            2.0
    psych_support       0.5            1.0
    """
    if instrument is not None:
        inst_nodes, inst_aliases = instrument_names(instrument)
        nodes, aliases = {**inst_nodes, **(nodes or {})}, {**inst_aliases, **(aliases or {})}
    p, frame = _read(path, sheet, encoding)
    roles = _roles(frame, p, ("expert", "node", "row", "col", "value"), ("expert", "node", "row"))
    layout = "long" if "value" in roles else "matrix"
    if layout == "long" and "col" not in roles:
        raise DataFormatError(f"{p.name} has a value column but no column naming the compared criterion (col / 列). "
                              "Fix: add it, or use the matrix layout (one column per criterion).")
    problems = _Problems(p)
    alias = _alias_map(aliases)
    entries = _long_entries(frame, roles, alias, problems) if layout == "long" else _matrix_entries(frame, roles, alias, problems)
    order = _check_names(entries, nodes, problems)
    problems.raise_if_any("name nodes and criteria as the instrument does (or by their labels), one per cell.")
    cells = _cells(entries, problems)
    matrices, used = _matrices(cells, order, problems)
    problems.raise_if_any("give each pair of criteria one judgement (the upper triangle), as 3, 1/3 or 0.333; "
                          "the diagonal is 1 or blank.")
    experts = tuple(dict.fromkeys(e for e, *_ in entries))
    table = pd.DataFrame(used, columns=["expert", "node", "row", "col", "value", "file_row"])
    return AHPJudgements(matrices=matrices, experts=experts, nodes=tuple(matrices), table=table, layout=layout, path=str(p))


# an entry: (expert, node, row criterion, column criterion, raw value, file row, file column)
def _long_entries(frame: pd.DataFrame, roles: Mapping[str, str], alias: Mapping[str, str], problems: _Problems) -> list[tuple]:
    out = []
    for i, rec in zip(frame.index, frame.to_dict("records")):
        key = [rec[roles[r]] for r in ("expert", "node", "row", "col")]
        if any(_blank(v) for v in key):
            blank = [roles[r] for r, v in zip(("expert", "node", "row", "col"), key) if _blank(v)]
            problems.at(_row(i), blank[0], "is blank (every judgement needs its expert, node, row and column)")
            continue
        out.append((_text(key[0]), _name(key[1], alias), _name(key[2], alias), _name(key[3], alias), rec[roles["value"]],
                    _row(i), roles["value"]))
    return out


def _matrix_entries(frame: pd.DataFrame, roles: Mapping[str, str], alias: Mapping[str, str], problems: _Problems) -> list[tuple]:
    criteria = [c for c in frame.columns if c not in roles.values()]
    if not criteria:
        problems.at(None, None, "no criterion columns (the matrix layout has one column per criterion)")
    out = []
    for i, rec in zip(frame.index, frame.to_dict("records")):
        key = [rec[roles[r]] for r in ("expert", "node", "row")]
        if any(_blank(v) for v in key):
            blank = [roles[r] for r, v in zip(("expert", "node", "row"), key) if _blank(v)]
            problems.at(_row(i), blank[0], "is blank (every matrix row needs its expert, node and row criterion)")
            continue
        for col in criteria:
            if not _blank(rec[col]):
                out.append((_text(key[0]), _name(key[1], alias), _name(key[2], alias), _name(col, alias), rec[col], _row(i), col))
    return out


def _check_names(entries: list[tuple], nodes: Mapping[str, Sequence[str]] | None, problems: _Problems) -> dict[str, list[str]]:
    """Node → criteria in order; unknown nodes and criteria recorded once each."""
    if nodes is None:
        order: dict[str, list[str]] = {}
        for _, node, r, c, *_ in entries:
            crit = order.setdefault(node, [])
            crit.extend(x for x in (r, c) if x not in crit)
        return order
    known = {str(k): [str(c) for c in v] for k, v in nodes.items()}
    reported: set = set()
    for _, node, r, c, _, row, _ in entries:
        if node not in known:
            if node not in reported:
                problems.name(f"row {row}: node {node!r} is not a node of the index system{_suggest(node, known)}; "
                              f"the nodes are {preview(known, 12)}")
                reported.add(node)
            continue
        for crit in (r, c):
            if crit not in known[node] and (node, crit) not in reported:
                problems.name(f"row {row}: {crit!r} is not a criterion of node {node!r}{_suggest(crit, known[node])}; "
                              f"its criteria are {preview(known[node], 12)}")
                reported.add((node, crit))
    return known


def _judgement(v: Any) -> tuple[float | None, str | None]:
    """A judgement cell as a positive number, or the reason it is not one."""
    if isinstance(v, bool):
        return None, "is not a judgement"
    if isinstance(v, numbers.Real):
        x = float(v)
    else:
        m = _FRACTION.match(re.sub(r"\s+", "", _text(v)).replace("÷", "/"))
        if m is None:
            return None, "is not a judgement (write 3, 1/3 or 0.333)"
        num, den = float(m.group(1)), float(m.group(2) or 1)
        if den == 0:
            return None, "divides by zero"
        x = num / den
    if not (math.isfinite(x) and x > 0):
        return None, "is not a positive number (judgements run from 1/9 to 9)"
    return x, None


def _cells(entries: list[tuple], problems: _Problems) -> dict[tuple, tuple[float, int, str]]:
    """(expert, node, row, col) → (value, file row, file column); bad values, diagonals ≠ 1 and
    repeated cells recorded."""
    cells: dict[tuple, tuple[float, int, str]] = {}
    for expert, node, r, c, raw, row, col in entries:
        if _blank(raw):
            continue
        x, why = _judgement(raw)
        if x is None:
            problems.at(row, col, f"{_text(raw)!r} {why}")
            continue
        if r == c:
            if abs(x - 1) > 1e-9:
                problems.at(row, col, f"the diagonal cell [{r}, {r}] of expert {expert}, node {node!r} is {_text(raw)}; it must be 1 or blank")
            continue
        key = (expert, node, r, c)
        if key in cells:
            problems.at(row, col, f"expert {expert}, node {node!r}: [{r}, {c}] is given again (first in row {cells[key][1]})")
            continue
        cells[key] = (x, row, col)
    return cells


def _matrices(cells: Mapping[tuple, tuple[float, int, str]], order: Mapping[str, list[str]], problems: _Problems
              ) -> tuple[dict, list[tuple]]:
    """node → expert → complete matrix, and the judgements used (upper triangle)."""
    judged: dict[str, dict[str, None]] = {}
    for expert, node, *_ in cells:
        judged.setdefault(node, {}).setdefault(expert, None)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    used: list[tuple] = []
    for node in [n for n in order if n in judged]:
        crit = order[node]
        for expert in judged[node]:
            a = np.eye(len(crit))
            for i in range(len(crit)):
                for j in range(i + 1, len(crit)):
                    x = _pair(cells, expert, node, crit[i], crit[j], problems)
                    if x is not None:
                        a[i, j], a[j, i] = x[0], 1 / x[0]
                        used.append((expert, node, crit[i], crit[j], x[0], x[1]))
            out.setdefault(node, {})[expert] = pd.DataFrame(a, index=crit, columns=crit)
    return out, used


def _pair(cells: Mapping[tuple, tuple[float, int, str]], expert: str, node: str, a: str, b: str,
          problems: _Problems) -> tuple[float, int] | None:
    """The judgement [a, b] of one expert (from either triangle), checked for reciprocity."""
    up, low = cells.get((expert, node, a, b)), cells.get((expert, node, b, a))
    if up is None and low is None:
        problems.at(None, None, f"expert {expert}, node {node!r}: no judgement for [{a}, {b}]")
        return None
    if up is not None and low is not None:
        product = up[0] * low[0]
        if abs(product - 1) > RECIPROCAL_TOLERANCE:
            problems.at(low[1], low[2], f"expert {expert}, node {node!r}: [{a}, {b}] = {up[0]:.4g} (row {up[1]}) and "
                        f"[{b}, {a}] = {low[0]:.4g} are not reciprocal (their product is {product:.4g}, not 1); "
                        "keep one of them")
            return None
        return (up[0], up[1]) if up[0] >= low[0] else (1 / low[0], low[1])
    return (up[0], up[1]) if up is not None else (1 / low[0], low[1])
