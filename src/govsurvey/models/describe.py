"""Descriptive statistics, correlation matrices and group comparisons."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey._numeric import bracketed_root, centre, decreasing_root, no_variance
from govsurvey.data.checks import check_finite_values, numeric_columns
from govsurvey.data.options import choice, real_number
from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError
from govsurvey.models._frame import levels_in_order, model_frame
from govsurvey.psychometrics._input import warn
from govsurvey.results import Result

__all__ = ["describe", "frequencies", "Correlations", "correlations", "GroupComparison", "compare_groups"]


def _numeric_columns(data: pd.DataFrame, columns: Sequence[str] | None, what: str) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}.")
    cols = numeric_columns(data, columns, what, allow_bool=False)
    check_finite_values(data[cols].to_numpy(dtype=float, na_value=np.nan), [str(c) for c in cols], what)
    return cols


def _column_moments(x: np.ndarray) -> dict[str, float]:
    """Mean, SD, SE, median, range and SPSS's G1/G2 with their SEs, from deviations about the
    mean (corrected two-pass, :func:`govsurvey._numeric.centre`): the powers are of the
    centred values, so x and x + 1e14 give the same skewness and kurtosis."""
    n = len(x)
    if not n:
        return {}
    mean, dev = centre(x[:, None])
    dev = dev[:, 0]
    m2 = float(dev @ dev) / n
    sd = math.sqrt(m2 * n / (n - 1)) if n > 1 else np.nan
    row = {"mean": float(mean[0]), "sd": sd, "se": sd / math.sqrt(n) if n > 1 else np.nan, "median": float(np.median(x)),
           "min": float(x.min()), "max": float(x.max()), "skew": np.nan, "kurtosis": np.nan}
    if n > 2 and not no_variance(np.array([m2]), mean)[0]:
        sq = dev * dev
        m3, m4 = float(sq @ dev) / n, float(sq @ sq) / n
        row["skew"] = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)                        # G1
        if n > 3:
            row["kurtosis"] = ((n * n - 1) * m4 / m2**2 - 3 * (n - 1) ** 2) / ((n - 2) * (n - 3))   # G2
    row["se_skew"] = math.sqrt(6 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3))) if n > 2 else np.nan
    row["se_kurtosis"] = 2 * row["se_skew"] * math.sqrt((n * n - 1) / ((n - 3) * (n + 5))) if n > 3 else np.nan
    return row


def describe(data: pd.DataFrame, *, by: str | None = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Descriptive statistics per variable (and per group with ``by``).

    Columns: ``n``, ``missing``, ``mean``, ``sd``, ``se``, ``median``, ``min``, ``max``,
    ``skew`` and ``kurtosis`` (excess), with their standard errors ``se_skew``,
    ``se_kurtosis`` — the bias-corrected G1/G2 and SEs that SPSS DESCRIPTIVES reports
    (``psych::describe(x, type = 2)`` in R). Moments are taken of deviations from the mean,
    so a large offset (values near 1e14) does not change skewness or kurtosis.

    Examples
    --------
    >>> import govsurvey as gs, pandas as pd
    >>> gs.describe(pd.DataFrame({"a": [1.0, 2, 3, 4, 10]})).loc["a", "median"]
    np.float64(3.0)
    """
    cols = _numeric_columns(data, columns, "describe")
    if by is not None:
        if by not in data.columns:
            raise UnknownItemError(f"describe: by={by!r} is not a column of the data.")
        parts = {k: describe(g, columns=[c for c in cols if c != by]) for k, g in data.groupby(by, sort=True, observed=True)}
        if not parts:
            raise DataValidationError(f"describe: by={by!r} has no value in any row (it is empty or all missing), so there are no "
                                      f"groups to describe. Fix: check the {by!r} column, or describe without by=.")
        return pd.concat(parts, names=[by, "variable"])
    rows = {}
    for c in cols:
        v = data[c].astype(float)
        rows[c] = {"n": int(v.notna().sum()), "missing": int(v.isna().sum()), **_column_moments(v.dropna().to_numpy())}
    out = pd.DataFrame.from_dict(rows, orient="index",
                                 columns=["n", "missing", "mean", "sd", "se", "median", "min", "max", "skew", "kurtosis", "se_skew", "se_kurtosis"])
    out.index.name = "variable"
    return out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Correlations(Result):
    """A correlation matrix with p values and pairwise n."""

    r: pd.DataFrame
    p: pd.DataFrame
    n: pd.DataFrame
    means: pd.Series
    sds: pd.Series
    method: str

    def to_frame(self) -> pd.DataFrame:
        """The APA table's numbers: M, SD, then the correlations (lower triangle)."""
        lower = self.r.where(np.tril(np.ones(self.r.shape, dtype=bool), k=-1))
        return pd.concat([self.means.rename("M"), self.sds.rename("SD"), lower], axis=1)

    def __repr__(self) -> str:
        return f"Correlations({self.method}, {self.r.shape[0]} variables, n={int(self.n.to_numpy().min())}–{int(self.n.to_numpy().max())})"


def frequencies(data: pd.DataFrame, instrument: Any, *, columns: Sequence[str] | None = None, lang: str | None = None) -> pd.DataFrame:
    """The sample description table (样本基本特征): n and % of every category of the
    instrument's labelled background questions, categories in the instrument's order with
    their labels — what ``describe`` must not do with codes (a mean gender of 1.535).

    Rows: (variable, category); columns ``n``, ``percent`` (of those who answered the
    question), ``code``; a "missing" row per question when some did not answer (percent NaN).
    Text questions (community, street) give one row with the number of distinct answers in
    ``n_distinct``. ``columns``: the questions (default: every demographic question present
    in ``data``); ``lang``: label language (default: the instrument's first).

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.read_responses(gs.datasets.example_files()["sav"], inst)
    >>> table = gs.frequencies(data, inst, columns=["gender"])
    >>> list(table.loc["gender"].index), bool(int(table["n"].sum()) == data["gender"].notna().sum())
    (['男', '女'], True)
    """
    from govsurvey.data.checks import check_unique_columns
    from govsurvey.errors import UnknownItemError

    lang = _frequency_inputs(data, instrument, lang)
    columns = [columns] if isinstance(columns, str) else columns
    names = list(columns) if columns is not None else [q.id for q in instrument.demographics if q.id in data.columns]
    unknown = [c for c in names if c not in data.columns]
    if unknown:
        raise UnknownItemError(f"frequencies: {', '.join(map(repr, unknown))} not in the data. Fix: check the column names.")
    check_unique_columns(data, names, "frequencies")
    rows = []
    for name in names:
        rows.extend(_frequency_rows(data[name], name, instrument, lang))
    table = pd.DataFrame(rows, columns=["variable", "category", "code", "n", "percent", "n_distinct"])
    return table.set_index(["variable", "category"])


def _frequency_inputs(data: Any, instrument: Any, lang: str | None) -> str:
    """Check the data and the instrument; the label language to use."""
    from govsurvey.errors import SpecificationError

    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"frequencies: data must be a pandas DataFrame, got {type(data).__name__}. "
                                 "Fix: pass the responses, e.g. gs.read_responses(path, instrument).")
    if not all(hasattr(instrument, a) for a in ("languages", "questions", "scales", "demographics")):
        raise SpecificationError(f"frequencies: instrument must be an Instrument, got {type(instrument).__name__}. "
                                 "Fix: pass gs.load_instrument(path).")
    if lang is not None and lang not in instrument.languages:
        raise SpecificationError(f"frequencies: lang={lang!r} is not a language of the instrument "
                                 f"({', '.join(instrument.languages)}). Fix: use one of those.")
    return lang or instrument.languages[0]


def _check_codes(col: pd.Series, name: str, labels: dict) -> pd.Series:
    """The column as numbers; refuse booleans, text and codes the scale does not label (they
    would be counted as missing or not at all, and the percentages would not add up)."""
    from govsurvey.errors import OutOfRangeError, preview

    if pd.api.types.is_bool_dtype(col):
        raise OutOfRangeError(f"frequencies: {name!r} holds True/False, not the scale's codes ({preview(labels)}). "
                              "Fix: recode it to those codes, e.g. data[col].map({False: 1, True: 2}).")
    codes = pd.to_numeric(col, errors="coerce")
    odd = col[(codes.isna() & col.notna()) | (codes.notna() & ~codes.isin([float(c) for c in labels]))]
    if len(odd):
        raise OutOfRangeError(f"frequencies: {name!r} has {len(odd)} value(s) that are not codes of its scale: "
                              f"{preview(sorted({repr(v) for v in odd.tolist()}))} (codes: {preview(labels)}). "
                              "Fix: read the data with gs.read_responses(path, instrument), or recode or blank them.")
    return codes


def _frequency_rows(col: pd.Series, name: str, instrument: Any, lang: str) -> list[dict]:
    q = next((q for q in instrument.questions if q.id == name), None)
    scale = instrument.scales.get(q.scale) if q is not None else None
    labels = (scale.labels.get(lang) or {}) if scale is not None else {}
    if not labels:
        if not pd.api.types.is_numeric_dtype(col) or col.nunique() > 20:
            return [{"variable": name, "category": "", "code": None, "n": int(col.notna().sum()), "percent": float("nan"),
                     "n_distinct": int(col.nunique())}]
        labels = {v: str(v) for v in sorted(col.dropna().unique())}
    codes = _check_codes(col, name, labels)
    valid = int(codes.notna().sum())
    if not valid:
        import warnings

        from govsurvey.errors import DataWarning
        warnings.warn(f"frequencies: {name!r} has no answers, so its percentages are NaN. Fix: check the column.",
                      DataWarning, stacklevel=3)
    counts = codes.value_counts()
    rows = [{"variable": name, "category": text, "code": code, "n": int(counts.get(float(code), 0)),
             "percent": 100.0 * counts.get(float(code), 0) / valid if valid else float("nan"), "n_distinct": None}
            for code, text in labels.items()]
    if valid < len(col):
        rows.append({"variable": name, "category": "missing", "code": None, "n": len(col) - valid, "percent": float("nan"),
                     "n_distinct": None})
    return rows


def correlations(data: pd.DataFrame, *, method: str = "pearson", columns: Sequence[str] | None = None) -> Correlations:
    """Pearson or Spearman correlations with two-sided p values and pairwise n, as
    ``cor.test`` in R; ``to_frame()`` gives the numbers of an APA correlation table
    (means, SDs, lower triangle).

    Examples
    --------
    >>> import govsurvey as gs, pandas as pd
    >>> c = gs.correlations(pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5]}))
    >>> round(float(c.r.loc["a", "b"]), 2)
    0.8
    """
    method = choice(method, "method", ("pearson", "spearman"), where="correlations")
    cols = _numeric_columns(data, columns, "correlations")
    if len(cols) < 2:
        raise DataValidationError("correlations needs at least two numeric columns.")
    frame = data[cols].astype(float)
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    k = len(cols)
    r = np.eye(k)
    p = np.zeros((k, k))
    n = np.zeros((k, k), dtype=int)
    for i in range(k):
        n[i, i] = int((~np.isnan(values[:, i])).sum())
        for j in range(i + 1, k):
            pair = values[~np.isnan(values[:, [i, j]]).any(axis=1)][:, [i, j]]
            n[i, j] = n[j, i] = len(pair)
            r[i, j], p[i, j] = _pair_correlation(pair, method)
            r[j, i], p[j, i] = r[i, j], p[i, j]
    stats_of = {c: _column_moments(values[~np.isnan(values[:, j]), j]) for j, c in enumerate(cols)}
    means = pd.Series({c: m.get("mean", np.nan) for c, m in stats_of.items()}, dtype=float)
    sds = pd.Series({c: m.get("sd", np.nan) for c, m in stats_of.items()}, dtype=float)
    mk = lambda a: pd.DataFrame(a, index=cols, columns=cols)
    return Correlations(r=mk(r), p=mk(p), n=mk(n), means=means, sds=sds, method=method)


def _pair_correlation(pair: np.ndarray, method: str) -> tuple[float, float]:
    """r and its two-sided p for the complete rows of two columns (NaN when fewer than 3 rows
    or a column does not vary). Pearson's r is computed from deviations about the means
    (corrected two-pass), so it does not depend on the columns' offsets; p from t with n − 2 df,
    as ``cor.test``."""
    m = len(pair)
    if m < 3:
        return np.nan, np.nan
    mean, dev = centre(pair)
    ss = dev.T @ dev
    if no_variance(np.diag(ss) / (m - 1), mean).any():
        return np.nan, np.nan
    if method == "spearman":
        res = stats.spearmanr(pair[:, 0], pair[:, 1])
        return float(res[0]), float(res[1])
    r = float(np.clip(ss[0, 1] / math.sqrt(ss[0, 0] * ss[1, 1]), -1.0, 1.0))
    if abs(r) == 1.0:
        return r, 0.0
    t = r * math.sqrt((m - 2) / (1 - r * r))
    return r, float(2 * stats.t.sf(abs(t), m - 2))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class GroupComparison(Result):
    """A comparison of groups (see :func:`compare_groups`)."""

    test: str
    statistic: float
    df1: float
    df2: float
    p_value: float
    effect_size: pd.DataFrame
    groups: pd.DataFrame
    levene: dict[str, float]
    posthoc: pd.DataFrame | None
    n: int
    n_dropped: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.groups

    def __repr__(self) -> str:
        return f"GroupComparison({self.test}: statistic={self.statistic:.4f}, df=({self.df1:g}, {self.df2:.4g}), p={self.p_value:.4g}, n={self.n})"


TESTS = ("auto", "t", "welch", "anova", "welch_anova", "mannwhitney", "kruskal", "chi2")
POSTHOC = (None, "auto", "tukey", "games-howell")


def _ncp_interval(stat_fn, observed: float, level: float, hi_start: float) -> tuple[float, float]:
    """Bounds of a noncentrality parameter by inverting the noncentral distribution."""
    a = (1 - level) / 2

    def solve(target):
        f = lambda ncp: stat_fn(observed, ncp) - target
        # widen a bracket around the observed value until it holds the root: the CDFs lose accuracy
        # (and return NaN) far out in the noncentrality, so never start at ±hi_start
        width = 1.0
        while width <= 2 * hi_start:
            lo, hi = observed - width, observed + width
            flo, fhi = f(lo), f(hi)
            if not (np.isfinite(flo) and np.isfinite(fhi)):
                return np.nan
            if flo * fhi <= 0:
                return bracketed_root(f, lo, hi, xtol=1e-10)
            width *= 2
        return np.nan

    return solve(1 - a), solve(a)


def _warn_ci(msgs: list[str], what: str, lo: float, hi: float, level: float, distribution: str) -> None:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        warn(msgs, f"The {level:.0%} confidence interval of {what} could not be computed: the {distribution} "
                   "distribution cannot be inverted numerically this far in its tail, so the interval is reported as NaN "
                   f"(the point estimate of {what} is unaffected). Fix: report {what} without the interval, or merge groups.")


def _cohen_d(a: np.ndarray, b: np.ndarray, level: float, msgs: list[str]) -> dict[str, float]:
    n1, n2 = len(a), len(b)
    sp = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    d = (a.mean() - b.mean()) / sp
    df = n1 + n2 - 2
    j = math.exp(math.lgamma(df / 2) - math.log(math.sqrt(df / 2)) - math.lgamma((df - 1) / 2))
    t = d / math.sqrt(1 / n1 + 1 / n2)
    lo, hi = _ncp_interval(lambda x, ncp: stats.nct.cdf(x, df, ncp), t, level, abs(t) + 50)
    scale = math.sqrt(1 / n1 + 1 / n2)
    _warn_ci(msgs, "Cohen's d", lo, hi, level, f"noncentral t (df = {df})")
    return {"cohen_d": d, "d_ci_low": lo * scale, "d_ci_high": hi * scale, "hedges_g": d * j}


def _eta_omega(f: float, df1: float, df2: float, n: int, level: float, msgs: list[str]) -> dict[str, float]:
    eta2 = f * df1 / (f * df1 + df2)
    omega2 = max(df1 * (f - 1) / (df1 * (f - 1) + n), 0.0)
    # CI of the population effect from the noncentral F (Steiger, 2004): λ → λ/(λ + n)
    cdf = lambda x, ncp: stats.ncf.cdf(x, df1, df2, max(ncp, 1e-12))
    a = (1 - level) / 2

    # λ = 0 when even the central F puts less than the target below f; NaN (with a warning) when
    # the CDF fails (NaN) before the root can be bracketed — e.g. with hundreds of groups
    bound = lambda target: decreasing_root(lambda l: cdf(f, l) - target, start=max(10.0, f * df1 * 4), low=0.0, xtol=1e-10)
    lam_lo, lam_hi = bound(1 - a), bound(a)
    _warn_ci(msgs, "η²", lam_lo, lam_hi, level, f"noncentral F (df = {df1:g}, {df2:g})")
    return {"eta_sq": eta2, "eta_sq_ci_low": lam_lo / (lam_lo + n), "eta_sq_ci_high": lam_hi / (lam_hi + n), "omega_sq": omega2}


def compare_groups(
    data: pd.DataFrame,
    dv: str,
    group: str,
    *,
    test: str = "auto",
    posthoc: str | None = "auto",
    ci: float = 0.95,
) -> GroupComparison:
    """Compare a dependent variable across groups.

    ``test``: ``"t"`` (Student), ``"welch"`` (Welch's t), ``"anova"`` (one-way, with Tukey HSD),
    ``"welch_anova"`` (with Games–Howell), ``"mannwhitney"``, ``"kruskal"``, ``"chi2"``
    (Pearson χ² of a categorical dv, Cramér's V), or ``"auto"``: χ² when the dv is not
    numeric; Welch's t for two groups (Delacre et al., 2017); for three or more one-way
    ANOVA + Tukey when Levene's test (median-centred, as SPSS's "based on median" row and
    ``car::leveneTest``) is not significant at .05, else Welch ANOVA + Games–Howell.

    Effect sizes: Cohen's d (pooled SD) with a noncentral-t CI and Hedges' g for two groups;
    η² with a noncentral-F CI and ω² for more; rank-biserial r or ε² for rank tests;
    Cramér's V for χ². ``groups`` holds n, mean and SD per group; ``levene`` the variance test;
    ``posthoc`` the pairwise comparisons (pingouin's Tukey or Games–Howell table) with their
    simultaneous ``ci``-level intervals ``ci_low``/``ci_high`` (as R's ``TukeyHSD``).
    Groups come in a pandas Categorical's category order (as R's factor levels: the t and d
    of two groups are first minus second), otherwise sorted.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> data = clean[["role"]].join(gs.score(clean, inst))
    >>> res = gs.compare_groups(data, "participation", "role")
    >>> res.test in ("anova", "welch_anova")
    True
    """
    import pingouin as pg

    test = choice(test, "test", TESTS, where="compare_groups")
    posthoc = choice(posthoc, "posthoc", POSTHOC, where="compare_groups")
    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95, where="compare_groups")
    mf = model_frame(data, [dv, group], what="compare_groups")
    msgs = [mf.note()] if mf.note() else []
    d = mf.data
    levels = levels_in_order(d[group])      # a Categorical's own order, else sorted
    sizes = d[group].value_counts()
    if len(levels) < 2:
        raise DataValidationError(f"compare_groups: {group!r} has {len(levels)} group(s) with data; at least two are needed.")
    numeric = pd.api.types.is_numeric_dtype(d[dv]) and not pd.api.types.is_bool_dtype(d[dv])  # yes/no is categorical
    if test == "auto":
        test = "chi2" if not numeric else None
    if test == "chi2":
        table = pd.crosstab(d[group], d[dv])
        chi2, p, dof, expected = stats.chi2_contingency(table, correction=False)
        v = math.sqrt(chi2 / (table.to_numpy().sum() * (min(table.shape) - 1)))
        if (expected < 5).mean() > 0.2:
            warn(msgs, f"{(expected < 5).mean():.0%} of expected counts are below 5; the χ² approximation is doubtful (consider Fisher's exact test or merging categories).")
        return GroupComparison(test="chi2", statistic=float(chi2), df1=float(dof), df2=float("nan"), p_value=float(p),
                               effect_size=pd.DataFrame([{"cramers_v": v}]), groups=table, levene={}, posthoc=None,
                               n=mf.n, n_dropped=mf.n_dropped, warnings=tuple(msgs))
    if not numeric:
        raise DataValidationError(f"compare_groups: {dv!r} is not numeric; use test='chi2' for a categorical outcome.")
    check_finite_values(d[dv].to_numpy(dtype=float, na_value=np.nan)[:, None], [str(dv)], "compare_groups")
    small = sizes[sizes < 2].index.tolist()
    if small:
        raise DataValidationError(f"compare_groups: group(s) {small} have fewer than 2 cases. Fix: merge or drop them.")
    samples = [d.loc[d[group] == lv, dv].to_numpy(dtype=float) for lv in levels]
    if any(s.std() == 0 for s in samples) and all(s.std() == 0 for s in samples):
        raise DataValidationError(f"compare_groups: {dv!r} does not vary within any group.")
    lev = stats.levene(*samples, center="median")
    levene = {"statistic": float(lev.statistic), "p_value": float(lev.pvalue)}
    k = len(levels)
    if test is None:
        test = "welch" if k == 2 else ("anova" if lev.pvalue >= 0.05 else "welch_anova")
    if k == 2 and test in ("anova", "welch_anova", "kruskal"):
        test = {"anova": "t", "welch_anova": "welch", "kruskal": "mannwhitney"}[test]
    if k > 2 and test in ("t", "welch", "mannwhitney"):
        raise SpecificationError(f"test={test!r} compares two groups, but {group!r} has {k}. Fix: use 'anova', 'welch_anova' or 'kruskal'.")
    groups_table = pd.DataFrame({"n": [len(s) for s in samples], "mean": [s.mean() for s in samples], "sd": [s.std(ddof=1) for s in samples]},
                                index=pd.Index(levels, name=group))
    post = None
    n = mf.n
    if test in ("t", "welch"):
        res = stats.ttest_ind(samples[0], samples[1], equal_var=(test == "t"))
        if test == "t":
            df = len(samples[0]) + len(samples[1]) - 2
        else:
            v1, v2 = samples[0].var(ddof=1) / len(samples[0]), samples[1].var(ddof=1) / len(samples[1])
            df = (v1 + v2) ** 2 / (v1**2 / (len(samples[0]) - 1) + v2**2 / (len(samples[1]) - 1))
        stat, p, df1, df2 = float(res.statistic), float(res.pvalue), 1.0, float(df)
        eff = _cohen_d(samples[0], samples[1], ci, msgs)
    elif test == "mannwhitney":
        # normal approximation with tie correction and no continuity correction, as SPSS (R: correct=FALSE)
        res = stats.mannwhitneyu(samples[0], samples[1], alternative="two-sided", method="asymptotic", use_continuity=False)
        stat, p, df1, df2 = float(res.statistic), float(res.pvalue), float("nan"), float("nan")
        eff = {"rank_biserial": 1 - 2 * res.statistic / (len(samples[0]) * len(samples[1]))}
    elif test == "kruskal":
        res = stats.kruskal(*samples)
        stat, p, df1, df2 = float(res.statistic), float(res.pvalue), float(k - 1), float("nan")
        eff = {"epsilon_sq": float(res.statistic / ((n**2 - 1) / (n + 1)))}
    elif test == "anova":
        res = stats.f_oneway(*samples)
        stat, p, df1, df2 = float(res.statistic), float(res.pvalue), float(k - 1), float(n - k)
        eff = _eta_omega(stat, df1, df2, n, ci, msgs)
        if posthoc in ("auto", "tukey"):
            post = pg.pairwise_tukey(data=d, dv=dv, between=group)
        elif posthoc == "games-howell":
            post = pg.pairwise_gameshowell(data=d, dv=dv, between=group)
    else:  # welch_anova
        flat = [str(lv) for lv, smp in zip(levels, samples) if not smp.var(ddof=1) > 0]
        if flat:
            raise DataValidationError(
                f"compare_groups: Welch's ANOVA weights each group by n/variance, but {dv!r} does not vary in group(s) "
                f"{', '.join(flat)}. Fix: use test='kruskal' (rank-based), or test='anova' if the variances may be pooled."
            )
        res = pg.welch_anova(data=d, dv=dv, between=group)
        stat, p, df1, df2 = float(res["F"].iloc[0]), float(res["p_unc"].iloc[0] if "p_unc" in res else res["p-unc"].iloc[0]), float(res["ddof1"].iloc[0]), float(res["ddof2"].iloc[0])
        eff = _eta_omega(float(stats.f_oneway(*samples).statistic), k - 1, n - k, n, ci, msgs)
        if posthoc in ("auto", "games-howell"):
            post = pg.pairwise_gameshowell(data=d, dv=dv, between=group)
        elif posthoc == "tukey":
            post = pg.pairwise_tukey(data=d, dv=dv, between=group)
    return GroupComparison(test=test, statistic=stat, df1=df1, df2=df2, p_value=p, effect_size=pd.DataFrame([eff]),
                           groups=groups_table, levene=levene, posthoc=_posthoc_ci(post, k, n - k, ci), n=n,
                           n_dropped=mf.n_dropped, warnings=tuple(msgs))


def _posthoc_ci(post: pd.DataFrame | None, k: int, df_within: float, level: float) -> pd.DataFrame | None:
    """The post-hoc table with simultaneous ``ci_low``/``ci_high`` for each mean difference:
    diff ± q(level; k, df)/√2 · SE, with the studentized range q on the within-groups df
    (Tukey–Kramer, R's ``TukeyHSD``) or each pair's Welch df (Games–Howell)."""
    if post is None:
        return None
    df = post["df"].to_numpy(dtype=float) if "df" in post else np.full(len(post), float(df_within))
    half = stats.studentized_range.ppf(level, k, df) / math.sqrt(2) * post["se"].to_numpy(dtype=float)
    return post.assign(ci_low=post["diff"] - half, ci_high=post["diff"] + half)
