"""Coded interviews: the segments, the codebook and the cases, and what is computed from them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError
from govsurvey.qualitative.privacy import (
    case_pseudonyms,
    identifying_columns,
    pseudonymise,
    scrubber_for,
)
from govsurvey.qualitative.privacy import pseudonymise as _pseudonymise_step
from govsurvey.results import Result

__all__ = [
    "CodedInterviews", "SEGMENT_COLUMNS", "CODEBOOK_COLUMNS", "POLARITIES", "build_interviews",
    "code_matrix", "cooccurrence", "Agreement", "intercoder_agreement", "quotes", "pseudonym_map", "scrub", "pseudonymise",
]

SEGMENT_COLUMNS = ["source", "case", "coder", "code", "start", "end", "text"]
CODEBOOK_COLUMNS = ["code", "parent", "description", "dimension", "polarity"]
POLARITIES = ("barrier", "facilitator", "neutral", "")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class CodedInterviews(Result):
    """Coded interview segments with their codebook and cases (see :func:`govsurvey.read_codes`).

    ``segments``: source, case, coder, code, start, end (0-based character offsets, end
    exclusive), text, then case variables (site, role, …). ``codebook``: code, parent,
    description, dimension (the instrument construct it speaks to) and polarity (barrier /
    facilitator). ``cases``: one row per case with its variables; ``identifying`` names the
    case variables that identify a person (never written to outputs unless asked).

    As :func:`govsurvey.read_codes` returns them the interviews are pseudonymised: cases are
    role + number (网格员-03), identifying variables are gone and every form of a known name
    is replaced in texts, source names and memos. The key back to the real names is kept in
    memory only: :meth:`identity_key`, written only by :func:`govsurvey.write_identity_key`.
    """

    segments: pd.DataFrame
    codebook: pd.DataFrame
    cases: pd.DataFrame
    identifying: tuple[str, ...] = ()
    texts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    origin: str = ""
    warnings: tuple[str, ...] = ()
    _identity: pd.DataFrame | None = dataclasses.field(default=None, repr=False)

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}

    @property
    def pseudonymised(self) -> bool:
        """Whether the pseudonymisation step has been applied (``read_codes`` applies it)."""
        return self._identity is not None

    def identity_key(self) -> pd.DataFrame:
        """Pseudonym → real case label, identifying variables and source names (in memory only).

        Examples
        --------
        >>> import govsurvey as gs
        >>> files = gs.datasets.example_files()
        >>> codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
        >>> key = codes.identity_key()
        >>> list(key.columns), key.index.name
        (['case', 'name', 'sources'], 'pseudonym')
        """
        if self._identity is None:
            return pd.DataFrame(columns=["case", "sources"], index=pd.Index([], name="pseudonym"))
        return self._identity.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.segments

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe and pseudonymised: identifying variables and real names are left out."""
        from govsurvey.results import to_jsonable

        safe = self if self.pseudonymised else pseudonymise(self)
        return {"segments": to_jsonable(safe.segments), "codebook": to_jsonable(safe.codebook), "cases": to_jsonable(safe.cases),
                "origin": safe.origin, "warnings": list(safe.warnings)}

    def __repr__(self) -> str:
        coders = sorted(self.segments["coder"].unique())
        return (f"CodedInterviews({len(self.segments)} segments, {self.segments['case'].nunique()} cases, "
                f"{len(self.codebook)} codes, coders={coders})")

    @property
    def coders(self) -> list[str]:
        counts = self.segments["coder"].value_counts()
        return sorted(counts.index, key=lambda c: (-counts[c], str(c)))


def build_interviews(segments: pd.DataFrame, codebook: pd.DataFrame, cases: pd.DataFrame | None, *,
                     identifying: Sequence[str] | None = None, texts: Mapping[str, str] | None = None,
                     origin: str = "", warnings: Sequence[str] = ()) -> CodedInterviews:
    """Validate and assemble; segments are sorted (source, start, end, coder, code) so every
    reader gives the same table for the same coding."""
    missing = [c for c in SEGMENT_COLUMNS if c not in segments.columns]
    if missing:
        raise DataValidationError(f"Coded segments lack column(s) {', '.join(missing)}. Fix: provide {', '.join(SEGMENT_COLUMNS)}.")
    seg = segments.copy()
    for c in ("start", "end"):
        conv = pd.to_numeric(seg[c], errors="coerce")
        if conv.isna().any() or (conv < 0).any() or (conv != conv.round()).any():
            raise DataValidationError(f"Segment {c} offsets must be whole numbers ≥ 0; bad rows: {list(seg.index[conv.isna() | (conv < 0)][:5])}.")
        seg[c] = conv.astype(int)
    bad = seg.index[seg["end"] < seg["start"]].tolist()
    if bad:
        raise DataValidationError(f"Segments end before they start in rows {bad[:5]}. Fix: check the offsets.")
    for c in ("source", "case", "coder", "code"):
        seg[c] = seg[c].astype(str)
    seg["text"] = seg["text"].fillna("").astype(str)
    book = codebook.copy() if codebook is not None else pd.DataFrame(columns=CODEBOOK_COLUMNS)
    for c in CODEBOOK_COLUMNS:
        if c not in book.columns:
            book[c] = ""
    book = book[CODEBOOK_COLUMNS].fillna("").astype(str)
    if book["code"].duplicated().any():
        raise DataValidationError(f"The codebook lists code(s) twice: {book['code'][book['code'].duplicated()].tolist()[:5]}.")
    wrong = sorted(set(book["polarity"]) - set(POLARITIES))
    if wrong:
        raise DataValidationError(f"Codebook polarity must be barrier, facilitator or neutral; found {wrong}.")
    unknown = sorted(set(seg["code"]) - set(book["code"]))
    if unknown and len(book):
        raise UnknownItemError(f"Segments use code(s) not in the codebook: {', '.join(unknown[:5])}. Fix: add them to the codebook.")
    if not len(book):
        book = pd.DataFrame({"code": sorted(seg["code"].unique())}).assign(parent="", description="", dimension="", polarity="")
    book = _tree_order(book)
    if cases is None or not len(cases):
        cases = pd.DataFrame(index=pd.Index(sorted(seg["case"].unique()), name="case"))
    cases = cases.copy()
    if cases.index.name != "case":
        if "case" in cases.columns:
            cases = cases.set_index("case")
        cases.index.name = "case"
    cases.index = cases.index.astype(str)
    missing_cases = sorted(set(seg["case"]) - set(cases.index))
    if missing_cases:
        cases = pd.concat([cases, pd.DataFrame(index=pd.Index(missing_cases, name="case"))])
    cases = cases[sorted(cases.columns, key=str)]  # canonical column order, whatever the reader
    ident = identifying_columns([c for c in cases.columns if isinstance(c, str)], identifying)
    variables = [c for c in cases.columns if c not in seg.columns]
    if variables:
        seg = seg.drop(columns=[c for c in variables if c in seg.columns]).join(cases[variables], on="case")
    seg = seg[SEGMENT_COLUMNS + sorted((c for c in seg.columns if c not in SEGMENT_COLUMNS and c not in ident), key=str)]
    seg = seg.sort_values(["source", "start", "end", "coder", "code"], kind="stable").reset_index(drop=True)
    return CodedInterviews(segments=seg, codebook=book.reset_index(drop=True), cases=cases.sort_index(), identifying=ident,
                           texts=dict(texts or {}), origin=origin, warnings=tuple(warnings))


def _tree_order(book: pd.DataFrame) -> pd.DataFrame:
    """Codebook rows in depth-first order of the code tree, siblings in their given order
    (iterative and linear: deep trees and many codes are fine)."""
    codes = book["code"].tolist()
    known = set(codes)
    children: dict[str, list[int]] = {}
    for k, parent in enumerate(book["parent"]):
        children.setdefault(parent if parent in known and parent != codes[k] else "", []).append(k)
    order: list[int] = []
    seen: set[int] = set()
    stack = list(reversed(children.get("", [])))
    while stack:
        k = stack.pop()
        if k in seen:
            continue
        seen.add(k)
        order.append(k)
        stack.extend(reversed(children.get(codes[k], [])))
    order += [k for k in range(len(book)) if k not in seen]  # cycles: keep them, in given order
    return book.iloc[order].reset_index(drop=True)


def _primary(codes: CodedInterviews, coder: str | None) -> pd.DataFrame:
    seg = codes.segments
    if coder == "all":
        return seg.drop_duplicates(["source", "start", "end", "code"])
    who = coder if coder is not None else codes.coders[0]
    if who not in set(seg["coder"]):
        raise UnknownItemError(f"coder={who!r} did not code anything; coders are {', '.join(codes.coders)}.")
    return seg[seg["coder"] == who]


def code_matrix(codes: CodedInterviews, *, by: str = "case", binary: bool = True, coder: str | None = None,
                level: str = "code") -> pd.DataFrame:
    """Cases (or sites, roles, …) × codes: segment counts, or presence (1/0) with ``binary``.

    ``level="dimension"`` or ``"parent"`` aggregates codes to their instrument dimension or
    parent theme. Uses the primary coder (the one with most segments) unless ``coder`` is
    given; ``coder="all"`` pools coders (a span coded alike by two coders counts once).
    """
    seg = _primary(codes, coder)
    if by not in seg.columns:
        raise UnknownItemError(f"by={by!r} is not a case variable; use one of case, {', '.join(c for c in seg.columns if c not in SEGMENT_COLUMNS)}.")
    key = _level_key(codes, level)
    seg = seg.assign(_key=seg["code"].map(key))
    seg = seg[seg["_key"].astype(bool)]
    table = pd.crosstab(seg[by], seg["_key"])
    table.columns.name = level
    return (table > 0).astype(int) if binary else table


def _level_key(codes: CodedInterviews, level: str) -> dict[str, str]:
    book = codes.codebook.set_index("code")
    if level == "code":
        return {c: c for c in book.index}
    if level in ("dimension", "parent"):
        return {c: book.at[c, level] for c in book.index}
    raise SpecificationError(f"level={level!r} must be 'code', 'parent' or 'dimension'.")


def cooccurrence(codes: CodedInterviews, *, unit: str = "segment", coder: str | None = None) -> pd.DataFrame:
    """Code × code co-occurrence: ``unit="segment"`` counts pairs of segments of one source
    whose character ranges overlap; ``unit="case"`` counts cases where both codes occur.
    The diagonal holds how many segments (or cases) carry each code."""
    seg = _primary(codes, coder)
    names = sorted(seg["code"].unique())
    pos = {c: k for k, c in enumerate(names)}
    m = np.zeros((len(names), len(names)), dtype=int)
    if unit == "case":
        pres = pd.crosstab(seg["case"], seg["code"]).reindex(columns=names, fill_value=0) > 0
        arr = pres.to_numpy().astype(int)
        m = arr.T @ arr
    elif unit == "segment":
        for _, part in seg.groupby("source"):
            s = part[["start", "end", "code"]].to_numpy()
            for i in range(len(s)):
                m[pos[s[i, 2]], pos[s[i, 2]]] += 1
                for j in range(i + 1, len(s)):
                    if s[i, 0] < s[j, 1] and s[j, 0] < s[i, 1] and s[i, 2] != s[j, 2]:
                        a, b = pos[s[i, 2]], pos[s[j, 2]]
                        m[a, b] += 1
                        m[b, a] += 1
    else:
        raise SpecificationError(f"unit={unit!r} must be 'segment' or 'case'.")
    return pd.DataFrame(m, index=pd.Index(names, name="code"), columns=names)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Agreement(Result):
    """Inter-coder agreement (see :func:`intercoder_agreement`)."""

    cohen_kappa: float
    krippendorff_alpha: float
    percent_agreement: float
    per_code: pd.DataFrame
    n_units: int
    coders: tuple[str, str]
    unit: str
    units: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.per_code

    def __repr__(self) -> str:
        return (f"Agreement({self.coders[0]} vs {self.coders[1]}: κ={self.cohen_kappa:.3f}, α={self.krippendorff_alpha:.3f}, "
                f"agreement={self.percent_agreement:.1%}, units={self.n_units})")


def _kappa(a: Sequence[str], b: Sequence[str]) -> float:
    a, b = np.asarray(a), np.asarray(b)
    cats = np.union1d(a, b)
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == c) * np.mean(b == c) for c in cats))
    return float("nan") if pe == 1 else (po - pe) / (1 - pe)


def _kripp_alpha_nominal(a: Sequence[str], b: Sequence[str]) -> float:
    """Krippendorff's α (nominal) for two coders, no missing values: 1 − D_o/D_e from the
    coincidence matrix (Krippendorff, 2011)."""
    values = np.concatenate([np.asarray(a), np.asarray(b)])
    cats = {c: k for k, c in enumerate(sorted(set(values)))}
    o = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b):  # each unit has two pairable values: coincidences (x, y) and (y, x), weight 1/(m_u − 1) = 1
        o[cats[x], cats[y]] += 1
        o[cats[y], cats[x]] += 1
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = (o.sum() - np.trace(o)) / n
    d_e = (n**2 - (n_c**2).sum()) / (n * (n - 1))
    return float("nan") if d_e == 0 else float(1 - d_o / d_e)


def intercoder_agreement(codes: CodedInterviews, *, coders: Sequence[str] | None = None) -> Agreement:
    """Agreement of two coders on the same texts.

    Unit of agreement: a span of text. Within each source coded by both coders, segments
    whose character ranges overlap are merged into one unit; each coder's category for the
    unit is the code they applied (several codes are joined; a unit one coder left uncoded
    is ``"(none)"``, so uncoded text is counted, not ignored). On these units: Cohen's κ,
    Krippendorff's α (nominal) and percent agreement; ``per_code`` gives, per code, κ and
    agreement on its presence across the units. Only sources both coders coded are used.

    Examples
    --------
    >>> import govsurvey as gs
    >>> codes = gs.read_codes(gs.datasets.example_files()["segments"], codebook=gs.datasets.example_files()["codebook"])
    >>> round(gs.intercoder_agreement(codes).percent_agreement, 2) > 0.7
    True
    """
    all_coders = codes.coders
    pair = tuple(coders) if coders is not None else tuple(all_coders[:2])
    if len(pair) != 2 or len(set(pair)) != 2:
        raise SpecificationError("intercoder_agreement compares exactly two different coders, e.g. coders=('A', 'B').")
    for c in pair:
        if c not in all_coders:
            raise UnknownItemError(f"coder {c!r} is not in the data; coders are {', '.join(all_coders)}.")
    seg = codes.segments
    a_src = set(seg.loc[seg["coder"] == pair[0], "source"])
    b_src = set(seg.loc[seg["coder"] == pair[1], "source"])
    shared = sorted(a_src & b_src)
    if not shared:
        raise DataValidationError(f"Coders {pair[0]} and {pair[1]} coded no source in common, so agreement cannot be computed.")
    rows = []
    for src in shared:
        part = seg[(seg["source"] == src) & seg["coder"].isin(pair)].sort_values(["start", "end"])
        units: list[list] = []
        for s in part.itertuples():
            if units and s.start < units[-1][1]:
                units[-1][1] = max(units[-1][1], s.end)
                units[-1][2].append(s)
            else:
                units.append([s.start, s.end, [s]])
        for start, end, members in units:
            cat = {}
            for who in pair:
                got = sorted({m.code for m in members if m.coder == who})
                cat[who] = " + ".join(got) if got else "(none)"
            rows.append({"source": src, "start": start, "end": end, pair[0]: cat[pair[0]], pair[1]: cat[pair[1]]})
    units = pd.DataFrame(rows)
    a, b = units[pair[0]].tolist(), units[pair[1]].tolist()
    per = []
    for code in sorted(set(seg.loc[seg["coder"].isin(pair) & seg["source"].isin(shared), "code"])):
        pa = ["1" if code in x.split(" + ") else "0" for x in a]
        pb = ["1" if code in x.split(" + ") else "0" for x in b]
        per.append({"code": code, "kappa": _kappa(pa, pb), "agreement": float(np.mean(np.array(pa) == np.array(pb))),
                    f"n_{pair[0]}": pa.count("1"), f"n_{pair[1]}": pb.count("1")})
    return Agreement(cohen_kappa=_kappa(a, b), krippendorff_alpha=_kripp_alpha_nominal(a, b),
                     percent_agreement=float(np.mean(np.array(a) == np.array(b))), per_code=pd.DataFrame(per).set_index("code"),
                     n_units=len(units), coders=pair, units=units,
                     unit="overlap-merged coded spans in sources both coders coded; '(none)' where a coder left the span uncoded")


def pseudonym_map(codes: CodedInterviews) -> dict[str, str]:
    """Case → pseudonym: role label plus a number within the role (e.g. 网格员-03), in case
    order; a case already labelled with its pseudonym keeps it."""
    return case_pseudonyms(codes.cases)


def scrub(text: str, codes: CodedInterviews) -> str:
    """Replace every form of every known name (identifying variables, and case labels and
    source names that are names) in ``text`` with the case's pseudonym, or ``[姓名]`` where a
    form belongs to several people (a pseudonym in brackets: an editorial insertion into the
    text); works on pseudonymised interviews through their key.

    Examples
    --------
    >>> import govsurvey as gs
    >>> files = gs.datasets.example_files()
    >>> codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
    >>> gs.qualitative.scrub("何 秀英和朱书记", codes)
    '[社区干部-01]和[网格员-01]'
    """
    return dataclasses.replace(scrubber_for(codes), bracket=True)(text)


def quotes(codes: CodedInterviews, code: str, *, n: int = 3, pseudonymise: bool = True, coder: str | None = None,
           max_chars: int = 160) -> pd.DataFrame:
    """Exemplar segments for ``code`` (or for every code of a dimension or parent theme).

    One quote per case at most, the most substantive first (longest up to ``max_chars``),
    ties broken by source order, so the choice is deterministic. Interviews from
    :func:`govsurvey.read_codes` are already pseudonymised: cases appear as role + number
    (网格员-03) and every form of a known name in the text is replaced. ``pseudonymise=True``
    (the default) applies that step to interviews built otherwise; ``pseudonymise=False``
    shows them as they are (real names only for ``read_codes(..., pseudonymise=False)``).

    Examples
    --------
    >>> import govsurvey as gs
    >>> files = gs.datasets.example_files()
    >>> codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
    >>> q = gs.quotes(codes, "物资储备不足", n=2)
    >>> len(q) <= 2 and "-" in q["case"].iloc[0]
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecificationError(f"n={n!r} must be a whole number ≥ 1.")
    if pseudonymise and not codes.pseudonymised:
        codes = _pseudonymise_step(codes)
    book = codes.codebook
    if code in set(book["code"]):
        wanted = {code}
    elif code in set(book["dimension"]) or code in set(book["parent"]):
        wanted = set(book.loc[(book["dimension"] == code) | (book["parent"] == code), "code"])
    else:
        raise UnknownItemError(f"{code!r} is neither a code, a dimension nor a parent theme of the codebook.")
    seg = _primary(codes, coder)
    seg = seg[seg["code"].isin(wanted)].copy()
    seg["_len"] = seg["text"].str.len().clip(upper=max_chars)
    seg = seg.sort_values(["_len", "source", "start"], ascending=[False, True, True], kind="stable")
    seg = seg.drop_duplicates("case").drop_duplicates("text").head(n)
    cols = [c for c in ("code", "case", "role", "site", "text", "source", "start", "end") if c in seg.columns]
    out = seg[cols].reset_index(drop=True)
    out["text"] = [t if len(t) <= max_chars else t[: max_chars - 1] + "…" for t in out["text"]]
    if pseudonymise:
        out["source"] = out["case"]
    return out
