"""Where capacity falls short (quantitative) and why (qualitative), side by side."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.checks import check_finite_values, numeric_columns
from govsurvey.errors import DataValidationError, DataWarning, SpecificationError, UnknownItemError, preview
from govsurvey.qualitative.coded import CodedInterviews, quotes

__all__ = ["capacity_gaps", "joint_display", "link_codes", "CONVERGENCE_RULE", "QUADRANTS"]

QUADRANTS = {
    (True, False): "concentrate here",      # high importance, low performance
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}

CONVERGENCE_RULE = (
    "Quantitative signal: a dimension falls short when its gap (importance − performance, or target − "
    "performance) is significantly above 0 (p < .05) and it lies in the importance–performance quadrant "
    "'concentrate here' (or, with a target, its gap is significant). Qualitative signal: among interviewees who "
    "raised codes of the dimension, the share raising a barrier code — 'barrier' if ≥ 2/3, 'facilitator' if ≤ 1/3, "
    "'mixed' between. convergence = silent (no interviewee raised the dimension); confirms (shortfall with barrier, "
    "or no shortfall with facilitator); expands (mixed themes, which qualify the numbers); discordant (shortfall "
    "with facilitator, or no shortfall with barrier). After Fetters, Curry & Creswell (2013)."
)


def _dimension_columns(scores: pd.DataFrame, dims: Sequence[str] | None) -> list[str]:
    if not isinstance(scores, pd.DataFrame):
        raise SpecificationError(f"scores must be a DataFrame of dimension scores, got {type(scores).__name__}.")
    # named dimensions may hold numeric text: _numeric() converts it or refuses it
    return numeric_columns(scores, dims, "capacity_gaps", allow_bool=False, check_dtype=dims is None)


def _numeric(values: pd.Series, what: str) -> pd.Series:
    """A score column as floats; text that is not a number is an error, never a silent NaN."""
    out = pd.to_numeric(values, errors="coerce")
    bad = values[out.isna() & values.notna()]
    if len(bad):
        raise DataValidationError(f"capacity_gaps: {what} has non-numeric values ({preview(sorted(set(map(str, bad))))}). "
                                  "Fix: pass numeric scores (gs.score returns them).")
    out = out.astype(float)
    check_finite_values(out.to_numpy()[:, None], [what], "capacity_gaps")
    return out


def capacity_gaps(
    scores: pd.DataFrame,
    *,
    importance: pd.DataFrame | None = None,
    target: float | Mapping[str, float] | None = None,
    by: str | pd.Series | None = None,
    ci: float = 0.95,
    dimensions: Sequence[str] | None = None,
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
        A grouping column of ``scores`` (or a Series aligned with it) for per-group gaps.

    Returns
    -------
    DataFrame
        index dimension (and group): ``n``, ``mean``, ``importance`` or ``target``, ``gap``,
        ``ci_low``, ``ci_high``, ``t``, ``p``, ``d`` and ``quadrant`` — the
        importance–performance quadrant (Martilla & James, 1977) against the grand means of
        importance and performance across dimensions: "concentrate here", "keep up the good
        work", "low priority", "possible overkill".

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> dims = list(inst.importance_items)
    >>> gaps = gs.capacity_gaps(gs.score(clean, inst)[dims], importance=gs.score_importance(clean, inst))
    >>> gaps.sort_values("gap").index[-1] in ("reserves", "psych_support", "warning")
    True
    """
    if (importance is None) == (target is None):
        raise SpecificationError("capacity_gaps needs exactly one of importance= or target=.")
    if not (0 < ci < 1):
        raise SpecificationError(f"ci={ci!r} must be between 0 and 1.")
    dims = _dimension_columns(scores, dimensions if dimensions is not None else (list(importance.columns) if importance is not None else None))
    if by is not None:
        groups = scores[by] if isinstance(by, str) else pd.Series(by, index=scores.index)
        if isinstance(by, str) and by not in scores.columns:
            raise UnknownItemError(f"by={by!r} is not a column of scores.")
        parts = []
        for level, idx in groups.groupby(groups, sort=True).groups.items():
            part = capacity_gaps(scores.loc[idx], importance=importance.loc[idx] if importance is not None else None,
                                 target=target, ci=ci, dimensions=dims)
            part.insert(0, "group", level)
            parts.append(part.reset_index())
        return pd.concat(parts).set_index(["group", "dimension"])
    rows = []
    for dim in dims:
        perf = _numeric(scores[dim], repr(dim))
        if importance is not None:
            if dim not in importance.columns:
                raise UnknownItemError(f"capacity_gaps: importance has no column {dim!r}.")
            imp = _numeric(importance[dim], f"importance {dim!r}").reindex(perf.index)
            pair = pd.concat([perf, imp], axis=1).dropna()
            diff = pair.iloc[:, 1] - pair.iloc[:, 0]
            ref_value, ref_name = float(pair.iloc[:, 1].mean()), "importance"
            mean = float(pair.iloc[:, 0].mean())
        else:
            tv = target[dim] if isinstance(target, Mapping) else target
            if tv is None or not np.isfinite(tv):
                raise SpecificationError(f"target for {dim!r} must be a number.")
            x = perf.dropna()
            diff = tv - x
            ref_value, ref_name, mean = float(tv), "target", float(x.mean())
        n = int(diff.shape[0])
        if n < 2:
            raise DataValidationError(f"capacity_gaps: {dim!r} has {n} usable respondents; at least 2 are needed.")
        gap = float(diff.mean())
        sd = float(diff.std(ddof=1))
        if not sd > 0:
            warnings.warn(f"capacity_gaps: every respondent has the same gap on {dim!r}, so t, p and d are undefined (NaN).",
                          DataWarning, stacklevel=2)
        se = sd / math.sqrt(n)
        t = gap / se if se > 0 else float("nan")
        tc = stats.t.ppf(0.5 + ci / 2, n - 1)
        rows.append({"dimension": dim, "n": n, "mean": mean, ref_name: ref_value, "gap": gap, "ci_low": gap - tc * se,
                     "ci_high": gap + tc * se, "t": t, "p": float(2 * stats.t.sf(abs(t), n - 1)) if se > 0 else float("nan"),
                     "d": gap / sd if sd > 0 else float("nan")})
    out = pd.DataFrame(rows).set_index("dimension")
    if importance is not None:
        hi_imp = out["importance"] >= out["importance"].mean()
        hi_perf = out["mean"] >= out["mean"].mean()
        out["quadrant"] = [QUADRANTS[(bool(i), bool(p))] for i, p in zip(hi_imp, hi_perf)]
    else:
        out["quadrant"] = np.where((out["p"] < 0.05) & (out["gap"] > 0), "below target", "at or above target")
    return out


def _dimension_codes(codes: CodedInterviews, dimension: str) -> pd.DataFrame:
    book = codes.codebook
    names = set(book.loc[book["dimension"] == dimension, "code"])
    return codes.segments[codes.segments["code"].isin(names)]


def joint_display(gaps: pd.DataFrame, codes: CodedInterviews, *, by: str | None = None, coder: str | None = None,
                  n_quotes: int = 2, pseudonymise: bool = True) -> pd.DataFrame:
    """A joint display: one row per capacity dimension, numbers beside interview themes.

    Columns: ``gap``, ``ci_low``, ``ci_high``, ``p``, ``quadrant`` (from
    :func:`capacity_gaps`); ``n_cases`` (interviewees), ``n_raised`` (who raised the
    dimension), ``share_barrier`` (share of interviewees raising a barrier code for it),
    ``barrier_share_of_raised``, ``themes`` (codes with the number of interviewees, most
    frequent first), ``quotes`` (``n_quotes`` exemplar quotes, pseudonymised) and
    ``convergence`` by the rule in :data:`CONVERGENCE_RULE`. Rows are ordered by gap, largest
    first. With ``by`` (e.g. ``"site"``) ``gaps`` must come from ``capacity_gaps(by=...)``
    and codes are matched per group.
    """
    if by is not None:
        if not isinstance(gaps.index, pd.MultiIndex):
            raise SpecificationError("joint_display(by=...) needs gaps from capacity_gaps(..., by=...).")
        if by not in codes.segments.columns:
            raise UnknownItemError(f"by={by!r} is not a case variable of the interviews.")
        parts = []
        for level in gaps.index.get_level_values(0).unique():
            sub = codes_subset(codes, codes.segments[by] == level)
            if sub is None:
                continue
            part = joint_display(gaps.xs(level), sub, coder=coder, n_quotes=n_quotes, pseudonymise=pseudonymise)
            part.insert(0, "group", level)
            parts.append(part.reset_index())
        return pd.concat(parts).set_index(["group", "dimension"]) if parts else pd.DataFrame()
    from govsurvey.qualitative.coded import _primary

    seg_all = _primary(codes, coder)
    n_cases = int(codes.segments["case"].nunique())
    book = codes.codebook.set_index("code")
    rows = []
    for dim, g in gaps.sort_values("gap", ascending=False).iterrows():
        dim_codes = set(book.index[book["dimension"] == dim])
        seg = seg_all[seg_all["code"].isin(dim_codes)]
        raised = seg["case"].nunique()
        barrier_cases = seg.loc[seg["code"].map(book["polarity"]) == "barrier", "case"].nunique()
        share_raised = barrier_cases / raised if raised else float("nan")
        counts = seg.groupby("code")["case"].nunique().sort_values(ascending=False, kind="stable")
        themes = "; ".join(f"{c} ({k})" for c, k in counts.items())
        shortfall = bool(g["p"] < 0.05 and g["gap"] > 0 and g.get("quadrant", "concentrate here") in ("concentrate here", "below target"))
        if not raised:
            qual, conv = "none", "silent"
        else:
            qual = "barrier" if share_raised >= 2 / 3 else ("facilitator" if share_raised <= 1 / 3 else "mixed")
            conv = ("expands" if qual == "mixed" else
                    "confirms" if (qual == "barrier") == shortfall else "discordant")
        main = counts.index[0] if len(counts) else None
        if main is not None:
            q = quotes(codes, main, n=n_quotes, pseudonymise=pseudonymise, coder=coder)
            quote_text = " | ".join(f"“{t}”（{c}）" for t, c in zip(q["text"], q["case"]))
        else:
            quote_text = ""
        rows.append({"dimension": dim, "gap": g["gap"], "ci_low": g["ci_low"], "ci_high": g["ci_high"], "p": g["p"],
                     "quadrant": g.get("quadrant", ""), "shortfall": shortfall, "n_cases": n_cases, "n_raised": int(raised),
                     "share_barrier": barrier_cases / n_cases if n_cases else float("nan"),
                     "barrier_share_of_raised": share_raised, "qualitative": qual, "themes": themes, "quotes": quote_text,
                     "convergence": conv})
    out = pd.DataFrame(rows).set_index("dimension")
    out.attrs["rule"] = CONVERGENCE_RULE
    return out


def codes_subset(codes: CodedInterviews, mask: pd.Series) -> CodedInterviews | None:
    seg = codes.segments[mask.to_numpy()]
    if not len(seg):
        return None
    from govsurvey.qualitative.coded import build_interviews

    cases = codes.cases.loc[sorted(set(seg["case"]))]
    return build_interviews(seg[["source", "case", "coder", "code", "start", "end", "text"]], codes.codebook, cases,
                            identifying=codes.identifying, texts=codes.texts, origin=codes.origin)


def link_codes(scores: pd.DataFrame, codes: CodedInterviews, *, level: str = "site", dimensions: Sequence[str] | None = None,
               polarity: str = "barrier", coder: str | None = None, ci: float = 0.95) -> pd.DataFrame:
    """Test whether quantitized interview codes go with the survey scores.

    At ``level`` (a case variable shared by respondents and interviewees, e.g. ``"site"``),
    each unit gets, per dimension, the share of its interviewees who raised a ``polarity``
    code for that dimension (among those interviewed there) and the mean survey score on
    the dimension. Rows: one per dimension — Pearson r between code rate and mean score across
    units with a Fisher-z CI and p, Spearman ρ, and the number of units — then ``pooled``:
    the same across all unit × dimension cells after centring rate and score within each
    dimension (is a unit's barrier talk about a dimension higher where that unit scores lower
    than other units on it?). A negative r for barriers supports the interviews' account.

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
    """
    from govsurvey.qualitative.coded import _primary

    if level not in scores.columns:
        raise UnknownItemError(f"level={level!r} is not a column of scores (the respondents' {level}).")
    seg = _primary(codes, coder)
    if level not in seg.columns:
        raise UnknownItemError(f"level={level!r} is not a case variable of the interviews.")
    if polarity not in ("barrier", "facilitator"):
        raise SpecificationError("polarity must be 'barrier' or 'facilitator'.")
    book = codes.codebook.set_index("code")
    dims = list(dimensions) if dimensions is not None else [d for d in book["dimension"].unique() if d and d in scores.columns]
    if not dims:
        raise DataValidationError("link_codes: no codebook dimension matches a score column. Fix: map codes to instrument dimensions.")
    interviewed = codes.segments.groupby(level)["case"].nunique()
    cells = []
    for dim in dims:
        s = seg[(seg["code"].map(book["dimension"]) == dim) & (seg["code"].map(book["polarity"]) == polarity)]
        rate = (s.groupby(level)["case"].nunique() / interviewed).reindex(interviewed.index).fillna(0.0)
        mean = pd.to_numeric(scores[dim], errors="coerce").groupby(scores[level]).mean()
        both = pd.concat([rate.rename("rate"), mean.rename("score")], axis=1, join="inner").dropna()
        both["dimension"] = dim
        cells.append(both)
    table = pd.concat(cells)
    rows = []

    def corr_row(name, x, y):
        n = len(x)
        if n < 4 or np.std(x) == 0 or np.std(y) == 0:
            return {"dimension": name, "n_units": n, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "rho": np.nan}
        r, p = stats.pearsonr(x, y)
        z, se = np.arctanh(r), 1 / math.sqrt(n - 3)
        zc = stats.norm.ppf(0.5 + ci / 2)
        return {"dimension": name, "n_units": n, "r": float(r), "ci_low": float(np.tanh(z - zc * se)), "ci_high": float(np.tanh(z + zc * se)),
                "p": float(p), "rho": float(stats.spearmanr(x, y)[0])}

    for dim in dims:
        part = table[table["dimension"] == dim]
        rows.append(corr_row(dim, part["rate"].to_numpy(), part["score"].to_numpy()))
    centred = table.groupby("dimension")[["rate", "score"]].transform(lambda v: v - v.mean())
    rows.append(corr_row("pooled", centred["rate"].to_numpy(), centred["score"].to_numpy()))
    out = pd.DataFrame(rows).set_index("dimension")
    out.attrs["cells"] = table
    out.attrs["level"] = level
    return out
