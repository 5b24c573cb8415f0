"""Where capacity falls short (quantitative) and why (qualitative), side by side."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.checks import check_finite_values, numeric_columns
from govsurvey.data.options import choice, real_number, whole_number
from govsurvey.errors import DataValidationError, DataWarning, SpecificationError, UnknownItemError, preview
from govsurvey.qualitative.coded import CodedInterviews, quotes

__all__ = ["capacity_gaps", "joint_display", "link_codes", "shortfall_flags", "CONVERGENCE_RULE", "SHORTFALL_RULE",
           "QUADRANT_RULE", "QUADRANTS", "DEFAULT_TOLERANCE"]

QUADRANTS = {
    (True, False): "concentrate here",      # high importance, low performance
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}

GAP_COLUMNS = ("gap", "ci_low", "ci_high", "p")
SHORTFALL_COLUMNS = ("shortfall", "large_gap", "low_performance")

#: Default half-width of the band around each quadrant axis, in pooled respondent-level SDs
#: of that axis: a standardized difference below Cohen's (1988) "small" d = 0.2 is negligible.
DEFAULT_TOLERANCE = 0.2

SHORTFALL_RULE = (
    "Quantitative signal: a dimension falls short when its gap (importance − performance, or target − performance) is "
    "significantly above 0 (two-sided p < .05 with gap > 0) and large relative to the other dimensions analysed with it (within "
    "each group with by=): its gap is above the median gap of the dimensions (large_gap), or its mean "
    "performance is in their lowest tertile, at or below the 1/3 quantile of the dimensions' mean performance "
    "(low_performance). A single dimension falls short on a significant gap alone. The importance–performance "
    "quadrant is reported beside this decision and does not enter it."
)

QUADRANT_RULE = (
    "Quadrants (Martilla & James, 1977) split at the grand means: the mean, over dimensions, of the dimension means of "
    "importance and of performance. A dimension whose mean importance or mean performance lies within ± tolerance × "
    "SD of its axis's grand mean, SD being the pooled respondent-level SD of that axis (the root mean of the "
    "dimensions' variances; default tolerance 0.2, below Cohen's small effect), keeps the quadrant of its side of the "
    "line but is flagged quadrant_borderline. With a target: 'below target' when the gap is significantly above 0, "
    "borderline when the mean performance lies within ± tolerance × the pooled performance SD of the target."
)

CONVERGENCE_RULE = (
    SHORTFALL_RULE + " " + QUADRANT_RULE + " Qualitative signal: among interviewees who raised codes of the dimension, the share raising a "
    "barrier code — 'barrier' if ≥ 2/3, 'facilitator' if ≤ 1/3, 'mixed' between. convergence = silent (no interviewee "
    "raised the dimension); confirms (shortfall with barrier, or no shortfall with facilitator); expands (mixed themes, "
    "which qualify the numbers); discordant (shortfall with facilitator, or no shortfall with barrier). After Fetters, "
    "Curry & Creswell (2013)."
)


def _dimension_columns(scores: pd.DataFrame, dims: Sequence[str] | None) -> list[str]:
    if not isinstance(scores, pd.DataFrame):
        raise SpecificationError(f"scores must be a DataFrame of dimension scores, got {type(scores).__name__}.")
    # named dimensions may hold numeric text: _numeric() converts it or refuses it
    return numeric_columns(scores, dims, "capacity_gaps", allow_bool=False, check_dtype=dims is None)


def _numeric(values: pd.Series, what: str, where: str = "capacity_gaps", *,
             fix: str = "pass numeric scores (gs.score returns them)", finite: bool = True) -> pd.Series:
    """A score column as floats; text that is not a number is an error, never a silent NaN
    (``finite``: infinite values too)."""
    if isinstance(values, pd.DataFrame):
        raise DataValidationError(f"{where}: {what} names {values.shape[1]} columns. Fix: give every column a unique name.")
    out = pd.to_numeric(values, errors="coerce")
    bad = values[out.isna() & values.notna()]
    if len(bad):
        raise DataValidationError(f"{where}: {what} has non-numeric values ({preview(sorted(set(map(str, bad))))}). "
                                  f"Fix: {fix}.")
    out = out.astype(float)
    if finite:
        check_finite_values(out.to_numpy()[:, None], [what], where)
    return out


def capacity_gaps(
    scores: pd.DataFrame,
    *,
    importance: pd.DataFrame | None = None,
    target: float | Mapping[str, float] | None = None,
    by: str | pd.Series | None = None,
    ci: float = 0.95,
    dimensions: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> pd.DataFrame:
    """Per dimension: how far performance falls short of importance (or of a target).

    Parameters
    ----------
    scores
        Respondents × dimension scores (e.g. from :func:`govsurvey.score`).
    importance
        Respondents × importance ratings with the same dimension columns (see
        :func:`govsurvey.score_importance`); the gap is importance − performance per
        respondent, tested with a paired t test; d is the mean gap over its SD (d_z).
    target
        Instead of importance: a value (or one per dimension) the performance should reach;
        gap = target − mean, one-sample t test, d = gap / SD.
    by
        A grouping column of ``scores`` (or a Series aligned with it) for per-group gaps;
        shortfalls and quadrants are then decided among the dimensions of each group.
    tolerance
        Half-width of the band around each quadrant axis, in pooled respondent-level SDs of
        that axis (the root mean of the dimensions' variances). Default 0.2: a dimension
        closer to the line than Cohen's (1988) "small" standardized difference is flagged
        ``quadrant_borderline``. See :data:`QUADRANT_RULE`.

    Returns
    -------
    DataFrame
        index dimension (and group): ``n``, ``mean``, ``importance`` or ``target``, ``gap``,
        ``ci_low``, ``ci_high``, ``t``, ``p``, ``d``; ``quadrant`` — the importance–performance
        quadrant (Martilla & James, 1977) against the grand means of importance and
        performance across dimensions: "concentrate here", "keep up the good work", "low
        priority", "possible overkill" (with a target: "below target" when the gap is
        significantly above 0, else "at or above target"); ``quadrant_borderline`` — a mean
        within the tolerance band of an axis; and the shortfall decision of
        :func:`shortfall_flags` (rule: :data:`SHORTFALL_RULE`): ``large_gap``,
        ``low_performance`` and ``shortfall``, which the quadrant does not gate.
        ``attrs["tolerance"]`` holds the tolerance used.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> dims = list(inst.importance_items)
    >>> gaps = gs.capacity_gaps(gs.score(clean, inst)[dims], importance=gs.score_importance(clean, inst))
    >>> gaps.sort_values("gap").index[-1] in ("reserves", "psych_support", "warning")
    True
    >>> bool(gaps.loc["reserves", "shortfall"])
    True
    """
    if (importance is None) == (target is None):
        raise SpecificationError("capacity_gaps needs exactly one of importance= or target=.")
    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95, where="capacity_gaps")
    tolerance = real_number(tolerance, "tolerance", low=0, high=1, what="a number of SDs", example=DEFAULT_TOLERANCE,
                            where="capacity_gaps")
    if importance is not None and not isinstance(importance, pd.DataFrame):
        raise SpecificationError("capacity_gaps: importance= must be a DataFrame of importance ratings (gs.score_importance), "
                                 f"got {type(importance).__name__}.")
    dims = _dimension_columns(scores, dimensions if dimensions is not None else (list(importance.columns) if importance is not None else None))
    if by is not None:
        out = _gaps_by_group(scores, importance, target, by, ci, dims, tolerance)
    else:
        out = pd.DataFrame([_gap_row(scores, importance, target, dim, ci) for dim in dims]).set_index("dimension")
        out = _add_quadrants(out, scores, importance, dims, tolerance)
        out = out.join(shortfall_flags(out))
    out.attrs["tolerance"] = tolerance
    return out


def _pooled_sd(frame: pd.DataFrame, dims: list[str], what: str) -> float:
    """The root mean of the dimensions' variances across respondents (one axis of the map)."""
    variances = [_numeric(frame[d], f"{what}{d!r}").var(ddof=1) for d in dims]
    return math.sqrt(float(np.nanmean(variances))) if not all(pd.isna(variances)) else float("nan")


def _add_quadrants(out: pd.DataFrame, scores: pd.DataFrame, importance: pd.DataFrame | None, dims: list[str],
                   tolerance: float) -> pd.DataFrame:
    """``quadrant`` and ``quadrant_borderline`` (see :data:`QUADRANT_RULE`) for one group's rows."""
    band_perf = tolerance * _pooled_sd(scores, dims, "")
    if importance is None:
        out["quadrant"] = np.where((out["p"] < 0.05) & (out["gap"] > 0), "below target", "at or above target")
        out["quadrant_borderline"] = (out["mean"] - out["target"]).abs() <= band_perf
        return out
    band_imp = tolerance * _pooled_sd(importance.reindex(scores.index), dims, "importance ")
    d_imp = out["importance"] - out["importance"].mean()
    d_perf = out["mean"] - out["mean"].mean()
    out["quadrant"] = [QUADRANTS[(bool(i >= 0), bool(p >= 0))] for i, p in zip(d_imp, d_perf)]
    out["quadrant_borderline"] = (d_imp.abs() <= band_imp) | (d_perf.abs() <= band_perf)
    return out


def shortfall_flags(gaps: pd.DataFrame) -> pd.DataFrame:
    """Which dimensions fall short, by :data:`SHORTFALL_RULE`, among the rows of ``gaps``.

    Parameters
    ----------
    gaps
        One analysis' dimensions (one group of ``capacity_gaps(by=...)``) with ``gap`` and
        ``p``, and ``mean`` (mean performance) when known; without ``mean`` only the gap
        criterion applies.

    Returns
    -------
    DataFrame
        same index: ``large_gap`` (gap above the median gap of the rows; always, for a single row), ``low_performance``
        (mean ≤ the 1/3 quantile of the rows' means, linear interpolation) and
        ``shortfall`` = gap > 0 and p < .05 and (large_gap or low_performance). With one row
        both criteria hold, so a significant gap alone decides.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"gap": [1.9, 1.87, 0.6, 0.5, 0.4], "p": [1e-9, 1e-9, 1e-4, 0.2, 1e-3],
    ...                   "mean": [2.5, 2.6, 3.8, 3.9, 4.0]}, index=list("ABCDE"))
    >>> shortfall_flags(g)["shortfall"].tolist()     # C's gap is the median, not above it
    [True, True, False, False, False]
    """
    gap, p = _gap_column(gaps, "gap"), _gap_column(gaps, "p")
    large = (gap > gap.median()) | (len(gap) == 1)
    if "mean" in gaps.columns:
        perf = _gap_column(gaps, "mean")
        low = perf <= perf.quantile(1 / 3)
    else:
        low = pd.Series(False, index=gaps.index)
    shortfall = (p < 0.05) & (gap > 0) & (large | low)
    return pd.DataFrame({"large_gap": large, "low_performance": low, "shortfall": shortfall}, index=gaps.index)


def _gap_column(gaps: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column of a gaps table; text that is not a number is an error."""
    return _numeric(gaps[name], f"column {name!r}", "gaps", fix="pass the result of gs.capacity_gaps", finite=False)


def _gaps_by_group(scores: pd.DataFrame, importance: pd.DataFrame | None, target: Any, by: Any, ci: float,
                   dims: list[str], tolerance: float) -> pd.DataFrame:
    """capacity_gaps per level of ``by`` (a column name or values aligned with the respondents)."""
    if isinstance(by, str):
        if by not in scores.columns:
            raise UnknownItemError(f"capacity_gaps: by={by!r} is not a column of scores. Fix: join the grouping column to the scores.")
        groups = scores[by]
    elif isinstance(by, pd.Series):
        groups = by.reindex(scores.index)
    elif np.ndim(by) == 1 and len(by) == len(scores):
        groups = pd.Series(list(by), index=scores.index)
    else:
        raise SpecificationError(f"capacity_gaps: by= must name a column of scores or give one value per respondent "
                                 f"({len(scores)}), got {type(by).__name__} of size {np.size(by)}.")
    parts = []
    for level, idx in groups.groupby(groups, sort=True).groups.items():
        part = capacity_gaps(scores.loc[idx], importance=importance.reindex(idx) if importance is not None else None,
                             target=target, ci=ci, dimensions=dims, tolerance=tolerance)
        part.insert(0, "group", level)
        parts.append(part.reset_index())
    if not parts:
        raise DataValidationError("capacity_gaps: by= has no group: every respondent's value is missing. "
                                  "Fix: fill in the grouping variable, or leave by= out.")
    return pd.concat(parts).set_index(["group", "dimension"])


def _gap_row(scores: pd.DataFrame, importance: pd.DataFrame | None, target: Any, dim: str, ci: float) -> dict[str, Any]:
    """One dimension's gap, its CI, paired or one-sample t test and d."""
    perf = _numeric(scores[dim], repr(dim))
    if importance is not None:
        if dim not in importance.columns:
            raise UnknownItemError(f"capacity_gaps: importance has no column {dim!r}. Fix: rate the importance of every dimension, "
                                   "or pass dimensions= the ones rated.")
        imp = _numeric(importance[dim], f"importance {dim!r}").reindex(perf.index)
        pair = pd.concat([perf, imp], axis=1).dropna()
        diff = pair.iloc[:, 1] - pair.iloc[:, 0]
        ref_value, ref_name, mean = float(pair.iloc[:, 1].mean()), "importance", float(pair.iloc[:, 0].mean())
    else:
        if isinstance(target, Mapping) and dim not in target:
            raise UnknownItemError(f"capacity_gaps: target= gives no value for {dim!r} (it has {preview(map(str, target))}). "
                                   "Fix: add one, or pass one number for every dimension.")
        tv = real_number(target[dim] if isinstance(target, Mapping) else target,
                         f"target[{dim!r}]" if isinstance(target, Mapping) else "target", where="capacity_gaps")
        x = perf.dropna()
        diff = tv - x
        ref_value, ref_name, mean = tv, "target", float(x.mean())
    n = int(diff.shape[0])
    if n < 2:
        raise DataValidationError(f"capacity_gaps: {dim!r} has {n} usable respondents; at least 2 are needed.")
    gap = float(diff.mean())
    sd = float(diff.std(ddof=1))
    if not sd > 0:
        warnings.warn(f"capacity_gaps: every respondent has the same gap on {dim!r}, so t, p and d are undefined (NaN).",
                      DataWarning, stacklevel=3)
    se = sd / math.sqrt(n)
    t = gap / se if se > 0 else float("nan")
    tc = stats.t.ppf(0.5 + ci / 2, n - 1)
    return {"dimension": dim, "n": n, "mean": mean, ref_name: ref_value, "gap": gap, "ci_low": gap - tc * se,
            "ci_high": gap + tc * se, "t": t, "p": float(2 * stats.t.sf(abs(t), n - 1)) if se > 0 else float("nan"),
            "d": gap / sd if sd > 0 else float("nan")}


def joint_display(gaps: pd.DataFrame, codes: CodedInterviews, *, by: str | None = None, coder: str | None = None,
                  n_quotes: int = 2, pseudonymise: bool = True) -> pd.DataFrame:
    """A joint display: one row per capacity dimension, numbers beside interview themes.

    Columns: ``gap``, ``ci_low``, ``ci_high``, ``p``, ``quadrant``,
    ``quadrant_borderline``, ``shortfall``, ``large_gap`` and ``low_performance`` (from
    :func:`capacity_gaps`; a table without the shortfall columns gets them from
    :func:`shortfall_flags`, per group with ``by``); ``n_cases`` (interviewees),
    ``n_raised`` (who raised the dimension), ``share_barrier`` (share of interviewees
    raising a barrier code for it),
    ``barrier_share_of_raised``, ``themes`` (codes with the number of interviewees, most
    frequent first), ``quotes`` (``n_quotes`` exemplar quotes, pseudonymised) and
    ``convergence`` by the rule in :data:`CONVERGENCE_RULE`. Rows are ordered by gap, largest
    first. With ``by`` (e.g. ``"site"``) ``gaps`` must come from ``capacity_gaps(by=...)``
    and codes are matched per group. ``n_quotes=0`` leaves the quotes out.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> gaps = gs.capacity_gaps(gs.score(clean, inst)[list(inst.importance_items)], importance=gs.score_importance(clean, inst))
    >>> files = gs.datasets.example_files()
    >>> codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
    >>> gs.joint_display(gaps, codes).loc["reserves", "convergence"]
    'confirms'
    """
    if not isinstance(gaps, pd.DataFrame):
        raise SpecificationError(f"joint_display: gaps must be the table of gs.capacity_gaps, got {type(gaps).__name__}.")
    if not isinstance(codes, CodedInterviews):
        raise SpecificationError(f"joint_display: codes must be coded interviews (gs.read_codes), got {type(codes).__name__}.")
    absent = [c for c in GAP_COLUMNS if c not in gaps.columns]
    if absent:
        raise UnknownItemError(f"joint_display: gaps lack column(s) {', '.join(absent)}. Fix: pass the result of gs.capacity_gaps.")
    if not len(gaps):
        raise DataValidationError("joint_display: gaps has no dimension. Fix: pass the result of gs.capacity_gaps on the scores.")
    n_quotes = whole_number(n_quotes, "n_quotes", low=0, high=100, where="joint_display")
    if by is not None:
        return _joint_by_group(gaps, codes, by, coder=coder, n_quotes=n_quotes, pseudonymise=pseudonymise)
    from govsurvey.qualitative.coded import _primary

    gaps = _with_shortfall(gaps)
    seg_all = _primary(codes, coder)
    n_cases = int(codes.segments["case"].nunique())
    book = codes.codebook.set_index("code")
    rows = [_joint_row(dim, g, codes, seg_all[seg_all["code"].isin(set(book.index[book["dimension"] == dim]))], book,
                       n_cases, coder=coder, n_quotes=n_quotes, pseudonymise=pseudonymise)
            for dim, g in gaps.sort_values("gap", ascending=False).iterrows()]
    out = pd.DataFrame(rows).set_index("dimension")
    out.attrs["rule"] = CONVERGENCE_RULE
    return out


def _with_shortfall(gaps: pd.DataFrame) -> pd.DataFrame:
    """``gaps`` with the columns of :func:`shortfall_flags` that it lacks (a table built by hand)."""
    missing = [c for c in SHORTFALL_COLUMNS if c not in gaps.columns]
    if not missing:
        return gaps
    return gaps.join(shortfall_flags(gaps)[missing])


def _joint_by_group(gaps: pd.DataFrame, codes: CodedInterviews, by: str, **options: Any) -> pd.DataFrame:
    """joint_display per group of ``gaps`` (from capacity_gaps(by=...)) with the interviews of that group."""
    if not isinstance(gaps.index, pd.MultiIndex):
        raise SpecificationError("joint_display(by=...) needs gaps from capacity_gaps(..., by=...).")
    if by not in codes.segments.columns:
        raise UnknownItemError(f"joint_display: by={by!r} is not a case variable of the interviews. "
                               f"Fix: add it to the cases table (case variables: {preview(list(codes.segments.columns[7:])) or 'none'}).")
    keys = _unit_keys(codes.segments[by], None)
    parts = []
    for level in gaps.index.get_level_values(0).unique():
        sub = codes_subset(codes, keys == _unit_key(level))
        if sub is None:
            continue
        part = joint_display(gaps.xs(level), sub, **options)
        part.insert(0, "group", level)
        parts.append(part.reset_index())
    if not parts:
        raise DataValidationError(
            f"joint_display: no group of gaps matches a {by} of the interviews. Groups: "
            f"{_shown_units(pd.Series(gaps.index.get_level_values(0).unique()))}; interviews: {_shown_units(codes.segments[by])}. "
            f"Fix: compute the gaps by the same variable, with the same values (recode one side).")
    return pd.concat(parts).set_index(["group", "dimension"])


def _joint_row(dim: str, g: pd.Series, codes: CodedInterviews, seg: pd.DataFrame, book: pd.DataFrame, n_cases: int, *,
               coder: str | None, n_quotes: int, pseudonymise: bool) -> dict[str, Any]:
    """One dimension of the joint display: its gap beside the interviews' themes (``seg``: its segments)."""
    raised = seg["case"].nunique()
    barrier_cases = seg.loc[seg["code"].map(book["polarity"]) == "barrier", "case"].nunique()
    share_raised = barrier_cases / raised if raised else float("nan")
    counts = seg.groupby("code")["case"].nunique().sort_values(ascending=False, kind="stable")
    themes = "; ".join(f"{c} ({k})" for c, k in counts.items())
    shortfall = _flag(g["shortfall"])
    if not raised:
        qual, conv = "none", "silent"
    else:
        qual = "barrier" if share_raised >= 2 / 3 else ("facilitator" if share_raised <= 1 / 3 else "mixed")
        conv = ("expands" if qual == "mixed" else
                "confirms" if (qual == "barrier") == shortfall else "discordant")
    quote_text = ""
    if len(counts) and n_quotes:
        q = quotes(codes, counts.index[0], n=n_quotes, pseudonymise=pseudonymise, coder=coder)
        quote_text = " | ".join(f"“{t}”（{c}）" for t, c in zip(q["text"], q["case"]))
    return {"dimension": dim, "gap": g["gap"], "ci_low": g["ci_low"], "ci_high": g["ci_high"], "p": g["p"],
            "quadrant": g.get("quadrant", ""), "quadrant_borderline": _flag(g.get("quadrant_borderline")),
            "shortfall": shortfall, "large_gap": _flag(g["large_gap"]), "low_performance": _flag(g["low_performance"]),
            "n_cases": n_cases, "n_raised": int(raised),
            "share_barrier": barrier_cases / n_cases if n_cases else float("nan"),
            "barrier_share_of_raised": share_raised, "qualitative": qual, "themes": themes, "quotes": quote_text,
            "convergence": conv}


def _flag(value: Any) -> bool:
    """A table cell as a bool: True (Python or numpy) is True; False, missing or anything else is False."""
    return isinstance(value, (bool, np.bool_)) and bool(value)


def codes_subset(codes: CodedInterviews, mask: pd.Series) -> CodedInterviews | None:
    seg = codes.segments[mask.to_numpy()]
    if not len(seg):
        return None
    from govsurvey.qualitative.coded import build_interviews

    cases = codes.cases.loc[sorted(set(seg["case"]))]
    return build_interviews(seg[["source", "case", "coder", "code", "start", "end", "text"]], codes.codebook, cases,
                            identifying=codes.identifying, texts=codes.texts, origin=codes.origin)


def _unit_key(value: Any) -> Any:
    """A unit's value in a form both sides can be compared in: whole numbers — 1, 1.0,
    np.int64(1), '1', ' 1 ' — become the int 1; other text is stripped; missing is None."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, numbers.Real):
        x = float(value)
        return int(x) if x.is_integer() else x
    if isinstance(value, str):
        text = value.strip()
        try:
            x = float(text)
        except ValueError:
            return text
        return int(x) if x.is_integer() else text
    return value


def _unit_keys(values: pd.Series, labels: Mapping | None) -> pd.Series:
    """Each value's key (see :func:`_unit_key`) after codes found in ``labels`` became their labels."""
    table = {_unit_key(code): _unit_key(label) for code, label in (labels or {}).items()}
    keys = [_unit_key(v) for v in values]
    return pd.Series([table.get(k, k) if k is not None else None for k in keys], index=values.index, dtype=object)


def _shown_units(values: pd.Series) -> str:
    """A few distinct values for a message, numbers in numeric order, text quoted."""
    distinct = {v.item() if isinstance(v, np.generic) else v for v in values.dropna()}
    ordered = sorted(distinct, key=lambda v: (0, float(v), "") if isinstance(v, numbers.Real) else (1, 0.0, str(v)))
    return preview([repr(v) for v in ordered], at_most=4)


def _match_units(scores: pd.DataFrame, segments: pd.DataFrame, level: str, labels: Mapping | None,
                 msgs: list[str], what: str = "link_codes") -> tuple[pd.Series, pd.Series]:
    """The unit keys of respondents and of segments; an error when no interviewed unit has
    respondents, a warning (in ``msgs``) when only some have (messages start with ``what``)."""
    survey, talk = _unit_keys(scores[level], labels), _unit_keys(segments[level], labels)
    interviewed, surveyed = set(talk.dropna()), set(survey.dropna())
    if not interviewed:
        raise DataValidationError(
            f"{what}: no interviewee has a value of the case variable {level!r}. "
            f"Fix: give every case its {level} in the interviews' cases table.")
    common = interviewed & surveyed
    if not common:
        hint = (" The labels= given did not turn the survey's codes into the interviews' values."
                if labels else " If the survey stores codes, pass labels={code: label}, e.g. the instrument's choice labels.")
        raise DataValidationError(
            f"{what}: no {level} of the interviews matches a {level} of the survey. Survey: "
            f"{_shown_units(scores[level])}; interviews: {_shown_units(segments[level])}.{hint} "
            f"Fix: pass labels= (code → label) or recode the interviews' case variable {level!r} to the survey's values.")
    left_out = interviewed - surveyed
    if left_out:
        text = (f"{what}: {len(left_out)} of {len(interviewed)} interviewed {level} value(s) match no survey "
                f"respondent and are left out: {preview(sorted(map(str, left_out)), at_most=4)}. "
                f"Fix: check their spelling, or pass labels= for coded values.")
        msgs.append(text)
        warnings.warn(text, DataWarning, stacklevel=3)
    return survey, talk


def _code_rate_cells(scores: pd.DataFrame, codes: CodedInterviews, seg: pd.DataFrame, dims: list[str], polarity: str,
                     survey: pd.Series, talk: pd.Series, level: str, msgs: list[str]) -> pd.DataFrame:
    """One row per unit × dimension (index: the unit): ``rate`` — the share of the unit's
    interviewees raising a ``polarity`` code of the dimension — and ``score``, the unit's mean."""
    book = codes.codebook.set_index("code")
    interviewed = codes.segments.groupby(talk)["case"].nunique()
    cells = []
    for dim in dims:
        dim_codes = set(book.index[(book["dimension"] == dim) & (book["polarity"] == polarity)])
        if not dim_codes:
            text = f"link_codes: the codebook has no {polarity} code for dimension {dim!r}, so its r is undefined (NaN)."
            msgs.append(text)
            warnings.warn(text, DataWarning, stacklevel=3)
        s = seg[seg["code"].isin(dim_codes)]
        rate = (s.groupby(talk.loc[s.index])["case"].nunique() / interviewed).reindex(interviewed.index).fillna(0.0)
        mean = _numeric(scores[dim], repr(dim), where="link_codes").groupby(survey).mean()
        both = pd.concat([rate.rename("rate"), mean.rename("score")], axis=1, join="inner").dropna()
        both.index.name = level
        cells.append(both.assign(dimension=dim))
    return pd.concat(cells)


def _corr_row(name: str, x: np.ndarray, y: np.ndarray, ci: float) -> dict[str, Any]:
    n = len(x)
    if n < 4 or np.std(x) == 0 or np.std(y) == 0:
        return {"dimension": name, "n_units": n, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "rho": np.nan}
    r, p = stats.pearsonr(x, y)
    z, se = np.arctanh(r), 1 / math.sqrt(n - 3)
    zc = stats.norm.ppf(0.5 + ci / 2)
    return {"dimension": name, "n_units": n, "r": float(r), "ci_low": float(np.tanh(z - zc * se)),
            "ci_high": float(np.tanh(z + zc * se)), "p": float(p), "rho": float(stats.spearmanr(x, y)[0])}


def _link_dimensions(scores: pd.DataFrame, codes: CodedInterviews, dimensions: Sequence[str] | None) -> list[str]:
    if dimensions is None:
        dims = [d for d in codes.codebook["dimension"].unique() if d and d in scores.columns]
        if not dims:
            raise DataValidationError(
                f"link_codes: no codebook dimension matches a score column (dimensions: "
                f"{preview(sorted(d for d in codes.codebook['dimension'].unique() if d)) or 'none'}; score columns: "
                f"{preview(map(str, scores.columns))}). Fix: give codes a dimension named as an instrument construct.")
        return dims
    dims = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    if not dims:
        raise SpecificationError("link_codes: dimensions= is empty. Fix: name score columns, or leave it out for all.")
    missing = [str(d) for d in dims if d not in scores.columns]
    if missing:
        raise UnknownItemError(f"link_codes: dimensions= names column(s) not in scores: {preview(missing)}.")
    return dims


def link_codes(scores: pd.DataFrame, codes: CodedInterviews, *, level: str = "site", dimensions: Sequence[str] | None = None,
               polarity: str = "barrier", coder: str | None = None, ci: float = 0.95,
               labels: Mapping[Any, Any] | None = None) -> pd.DataFrame:
    """Test whether quantitized interview codes go with the survey scores.

    At ``level`` (a case variable shared by respondents and interviewees, e.g. ``"site"``),
    each unit gets, per dimension, the share of its interviewees who raised a ``polarity``
    code for that dimension (among those interviewed there) and the mean survey score on
    the dimension. Rows: one per dimension — Pearson r between code rate and mean score across
    units with a Fisher-z CI and p, Spearman ρ, and the number of units — then ``pooled``:
    the same across all unit × dimension cells after centring rate and score within each
    dimension (is a unit's barrier talk about a dimension higher where that unit scores lower
    than other units on it?). A negative r for barriers supports the interviews' account.

    Parameters
    ----------
    labels
        Code → label of ``level``, for a survey that stores codes (1–12) where the
        interviews hold names (东湖社区, …), e.g. the instrument's choice labels
        ``inst.scale_of("site").labels["zh"]``. Applied to both sides; values it does not
        list are kept. Numeric codes match whatever their type: 1, 1.0 and "1" are one unit.

    Returns
    -------
    DataFrame
        index ``dimension`` (then ``pooled``): ``n_units``, ``r``, ``ci_low``, ``ci_high``,
        ``p``, ``rho``; ``attrs["cells"]`` the unit × dimension table, ``attrs["level"]``,
        ``attrs["warnings"]`` (interviewed units without respondents, dimensions without codes).

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> data = clean[["site"]].join(gs.score(clean, inst))
    >>> files = gs.datasets.example_files()
    >>> codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
    >>> table = gs.link_codes(data, codes, level="site")
    >>> bool(table.loc["pooled", "r"] < 0)
    True

    A survey that stores the sites as codes 1–12 links through their labels:

    >>> names = sorted(clean["site"].unique())
    >>> coded = data.assign(site=data["site"].map({name: k + 1 for k, name in enumerate(names)}))
    >>> same = gs.link_codes(coded, codes, level="site", labels={k + 1: name for k, name in enumerate(names)})
    >>> bool(same.equals(table))
    True
    """
    from govsurvey.qualitative.coded import _primary

    if not isinstance(scores, pd.DataFrame):
        raise SpecificationError(f"link_codes: scores must be a DataFrame of scores with a {level!r} column, got {type(scores).__name__}.")
    if not isinstance(codes, CodedInterviews):
        raise SpecificationError(f"link_codes: codes must be coded interviews (gs.read_codes), got {type(codes).__name__}.")
    if labels is not None and not isinstance(labels, Mapping):
        raise SpecificationError(f"link_codes: labels= must map codes to labels ({{1: '东湖社区', …}}), got {type(labels).__name__}.")
    polarity = choice(polarity, "polarity", ("barrier", "facilitator"), where="link_codes")
    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95, where="link_codes")
    if not isinstance(level, str) or level not in scores.columns:
        raise UnknownItemError(f"link_codes: level={level!r} is not a column of scores (the respondents' {level}). "
                               "Fix: join the case variable to the scores, e.g. clean[['site']].join(scores).")
    seg = _primary(codes, coder)
    if level not in seg.columns:
        raise UnknownItemError(f"link_codes: level={level!r} is not a case variable of the interviews. "
                               f"Fix: add it to the cases table (case variables: {preview(list(seg.columns[7:])) or 'none'}).")
    dims = _link_dimensions(scores, codes, dimensions)
    msgs: list[str] = []
    survey, talk = _match_units(scores, codes.segments, level, labels, msgs)
    table = _code_rate_cells(scores, codes, seg, dims, polarity, survey, talk, level, msgs)
    rows = [_corr_row(dim, part["rate"].to_numpy(), part["score"].to_numpy(), ci)
            for dim, part in ((d, table[table["dimension"] == d]) for d in dims)]
    centred = table.groupby("dimension")[["rate", "score"]].transform(lambda v: v - v.mean())
    rows.append(_corr_row("pooled", centred["rate"].to_numpy(), centred["score"].to_numpy(), ci))
    out = pd.DataFrame(rows).set_index("dimension")
    n_units = int(table.index.nunique())
    if n_units < 4:
        text = f"link_codes: only {n_units} {level} value(s) have both interviews and respondents; the r of each dimension needs at least 4 (NaN)."
        msgs.append(text)
        warnings.warn(text, DataWarning, stacklevel=2)
    out.attrs["cells"] = table
    out.attrs["level"] = level
    out.attrs["warnings"] = msgs
    return out
