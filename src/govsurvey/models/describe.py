"""Descriptive statistics, correlation matrices and group comparisons."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from govsurvey.data.checks import check_finite_values, numeric_columns
from govsurvey.data.options import choice, real_number
from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError
from govsurvey.models._frame import model_frame
from govsurvey.psychometrics._input import warn
from govsurvey.results import Result

__all__ = ["describe", "Correlations", "correlations", "GroupComparison", "compare_groups"]


def _numeric_columns(data: pd.DataFrame, columns: Sequence[str] | None, what: str) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}.")
    cols = numeric_columns(data, columns, what, allow_bool=False)
    check_finite_values(data[cols].to_numpy(dtype=float, na_value=np.nan), [str(c) for c in cols], what)
    return cols


def describe(data: pd.DataFrame, *, by: str | None = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Descriptive statistics per variable (and per group with ``by``).

    Columns: ``n``, ``missing``, ``mean``, ``sd``, ``se``, ``median``, ``min``, ``max``,
    ``skew`` and ``kurtosis`` (excess), with their standard errors ``se_skew``,
    ``se_kurtosis`` — the bias-corrected G1/G2 and SEs that SPSS DESCRIPTIVES reports.

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
        x = v.dropna().to_numpy()
        n = len(x)
        row = {"n": n, "missing": int(v.isna().sum())}
        if n:
            sd = float(np.std(x, ddof=1)) if n > 1 else np.nan
            row.update(mean=float(x.mean()), sd=sd, se=sd / math.sqrt(n) if n > 1 else np.nan, median=float(np.median(x)),
                       min=float(x.min()), max=float(x.max()))
            row["skew"] = float(stats.skew(x, bias=False)) if n > 2 and sd > 0 else np.nan
            row["kurtosis"] = float(stats.kurtosis(x, bias=False)) if n > 3 and sd > 0 else np.nan
            row["se_skew"] = math.sqrt(6 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3))) if n > 2 else np.nan
            row["se_kurtosis"] = 2 * row["se_skew"] * math.sqrt((n * n - 1) / ((n - 3) * (n + 5))) if n > 3 else np.nan
        rows[c] = row
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
    k = len(cols)
    r = np.eye(k)
    p = np.zeros((k, k))
    n = np.zeros((k, k), dtype=int)
    for i in range(k):
        n[i, i] = int(frame.iloc[:, i].notna().sum())
        for j in range(i + 1, k):
            pair = frame.iloc[:, [i, j]].dropna()
            m = len(pair)
            n[i, j] = n[j, i] = m
            if m < 3 or pair.iloc[:, 0].std() == 0 or pair.iloc[:, 1].std() == 0:
                r[i, j] = r[j, i] = p[i, j] = p[j, i] = np.nan
                continue
            res = stats.pearsonr(pair.iloc[:, 0], pair.iloc[:, 1]) if method == "pearson" else stats.spearmanr(pair.iloc[:, 0], pair.iloc[:, 1])
            r[i, j] = r[j, i] = float(res[0])
            p[i, j] = p[j, i] = float(res[1])
    mk = lambda a: pd.DataFrame(a, index=cols, columns=cols)
    return Correlations(r=mk(r), p=mk(p), n=mk(n), means=frame.mean(), sds=frame.std(ddof=1), method=method)


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
                return optimize.brentq(f, lo, hi, xtol=1e-10)
            width *= 2
        return np.nan

    return solve(1 - a), solve(a)


def _cohen_d(a: np.ndarray, b: np.ndarray, level: float) -> dict[str, float]:
    n1, n2 = len(a), len(b)
    sp = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    d = (a.mean() - b.mean()) / sp
    df = n1 + n2 - 2
    j = math.exp(math.lgamma(df / 2) - math.log(math.sqrt(df / 2)) - math.lgamma((df - 1) / 2))
    t = d / math.sqrt(1 / n1 + 1 / n2)
    lo, hi = _ncp_interval(lambda x, ncp: stats.nct.cdf(x, df, ncp), t, level, abs(t) + 50)
    scale = math.sqrt(1 / n1 + 1 / n2)
    return {"cohen_d": d, "d_ci_low": lo * scale, "d_ci_high": hi * scale, "hedges_g": d * j}


def _eta_omega(f: float, df1: float, df2: float, n: int, level: float) -> dict[str, float]:
    eta2 = f * df1 / (f * df1 + df2)
    omega2 = max(df1 * (f - 1) / (df1 * (f - 1) + n), 0.0)
    # CI of the population effect from the noncentral F (Steiger, 2004): λ → λ/(λ + n)
    cdf = lambda x, ncp: stats.ncf.cdf(x, df1, df2, max(ncp, 1e-12))
    a = (1 - level) / 2

    def bound(target):
        if cdf(f, 1e-12) < target:
            return 0.0
        hi = max(10.0, f * df1 * 4)
        while cdf(f, hi) > target:
            hi *= 2
        return optimize.brentq(lambda l: cdf(f, l) - target, 1e-12, hi, xtol=1e-10)

    lam_lo, lam_hi = bound(1 - a), bound(a)
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
    Cramér's V for χ². ``groups`` holds n, mean and SD per group; ``levene`` the variance test.

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
    levels = sorted(d[group].unique(), key=lambda v: (str(type(v)), v))
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
        eff = _cohen_d(samples[0], samples[1], ci)
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
        eff = _eta_omega(stat, df1, df2, n, ci)
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
        eff = _eta_omega(float(stats.f_oneway(*samples).statistic), k - 1, n - k, n, ci)
        if posthoc in ("auto", "games-howell"):
            post = pg.pairwise_gameshowell(data=d, dv=dv, between=group)
        elif posthoc == "tukey":
            post = pg.pairwise_tukey(data=d, dv=dv, between=group)
    return GroupComparison(test=test, statistic=stat, df1=df1, df2=df2, p_value=p, effect_size=pd.DataFrame([eff]),
                           groups=groups_table, levene=levene, posthoc=post, n=n, n_dropped=mf.n_dropped, warnings=tuple(msgs))
