"""Common-method variance beyond Harman's single-factor test: the unmeasured latent method
construct (ULMC, "common latent factor") comparison and the marker-variable correction.

Both follow the checks Chinese questionnaire theses report (周浩 & 龙立荣, 2004, 心理科学进展
12(6), 942–950, after Podsakoff, MacKenzie, Lee & Podsakoff, 2003); Harman's test is
:func:`govsurvey.harman_test`.

References
----------
Lindell, M. K., & Whitney, D. J. (2001). Accounting for common method variance in
cross-sectional research designs. *Journal of Applied Psychology*, 86(1), 114–121.
Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method
biases in behavioral research. *Journal of Applied Psychology*, 88(5), 879–903.
Williams, L. J., Cote, J. A., & Buckley, M. R. (1989). Lack of method variance in
self-reported affect and perceptions at work: Reality or artifact? *Journal of Applied
Psychology*, 74(3), 462–468.
周浩, 龙立荣 (2004). 共同方法偏差的统计检验与控制方法. 心理科学进展, 12(6), 942–950.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.checks import check_unique_columns
from govsurvey.data.options import choice, real_number
from govsurvey.errors import DataValidationError, HeywoodCaseWarning, SpecificationError, UnknownItemError
from govsurvey.psychometrics._input import _numeric_matrix, warn
from govsurvey.psychometrics.sem import CFA, cfa
from govsurvey.psychometrics.sem.syntax import parse_model
from govsurvey.results import Result

__all__ = ["CLFTest", "clf_test", "MarkerTest", "marker_test", "CLF_RULE", "METHOD_SHARE_MEDIAN"]

#: The rule :func:`clf_test` applies (``flagged``): adding the method factor improves CFI or TLI
#: by more than .10, or RMSEA or SRMR by more than .05.
CLF_RULE = {"cfi": 0.10, "tli": 0.10, "rmsea": 0.05, "srmr": 0.05}
#: Median share of method variance in Williams, Cote & Buckley's (1989) reanalysis, the usual
#: benchmark for the method factor's share of item variance.
METHOD_SHARE_MEDIAN = 0.25
_FIT_KEYS = ("chisq", "df", "cfi", "tli", "rmsea", "srmr")


def _index_names(estimator: str) -> dict[str, str]:
    """Which fit-dict keys the comparison uses: the robust ones under MLR (as the CFA section)."""
    if estimator == "MLR":
        return {"chisq": "chisq_scaled", "cfi": "cfi_robust", "tli": "tli_robust", "rmsea": "rmsea_robust", "srmr": "srmr"}
    return {"chisq": "chisq", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "srmr": "srmr"}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class CLFTest(Result):
    """The trait CFA against the same model with an unmeasured common method factor (see :func:`clf_test`)."""

    trait: CFA
    clf: CFA
    method_factor: str
    chisq_diff: float
    df_diff: float
    p_diff: float
    delta_cfi: float
    delta_tli: float
    delta_rmsea: float
    delta_srmr: float
    method_loadings: pd.DataFrame
    method_variance: float          # the method factor's (unstandardized) variance ψ_M
    method_share: float             # mean squared standardized method loading
    flagged: bool
    improper: bool
    estimator: str
    n_obs: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per model: the indices compared (robust ones under MLR) and the differences."""
        names = _index_names(self.estimator)
        rows = {}
        for label, fit in (("trait", self.trait.fit), ("clf", self.clf.fit)):
            rows[label] = {"chisq": fit[names["chisq"]], "df": fit["df"],
                           **{k: fit[names[k]] for k in ("cfi", "tli", "rmsea", "srmr")}}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "model"
        diffs = {"chisq_diff": self.chisq_diff, "df_diff": self.df_diff, "p_diff": self.p_diff, "delta_cfi": self.delta_cfi,
                 "delta_tli": self.delta_tli, "delta_rmsea": self.delta_rmsea, "delta_srmr": self.delta_srmr}
        for k, v in diffs.items():
            frame[k] = [np.nan, v]
        return frame

    def __repr__(self) -> str:
        return (f"CLFTest(n={self.n_obs}, estimator={self.estimator!r}, chisq_diff={self.chisq_diff:.3f}, df_diff={self.df_diff:.0f}, "
                f"delta_cfi={self.delta_cfi:.4f}, delta_tli={self.delta_tli:.4f}, delta_rmsea={self.delta_rmsea:.4f}, "
                f"delta_srmr={self.delta_srmr:.4f}, method_share={self.method_share:.4f}, flagged={self.flagged}, "
                f"improper={self.improper})")


def _structure(model: str) -> tuple[list[str], list[str], list[str]]:
    """(latent variables, exogenous latent variables, observed indicators) of a measurement model."""
    statements = parse_model(model)[0]
    latents = list(dict.fromkeys(s.lhs for s in statements if s.op == "=~"))
    if not latents:
        raise SpecificationError("clf_test needs a measurement model (f =~ x1 + x2 + x3). Fix: give the trait CFA in lavaan syntax.")
    lv = set(latents)
    endogenous = {t.var for s in statements if s.op == "=~" for t in s.terms if t.var in lv}
    endogenous |= {s.lhs for s in statements if s.op == "~"}
    items = list(dict.fromkeys(t.var for s in statements if s.op == "=~" for t in s.terms if t.var not in lv))
    return latents, [f for f in latents if f not in endogenous], items


def clf_model(model: str, method: str = "method") -> str:
    """The trait model plus a method factor measured by every observed indicator with loadings
    fixed at 1 (equal loadings; the method factor's variance is free) and orthogonal to the
    exogenous trait factors — the same model as lavaan's ``method =~ m*x1 + m*x2 + …``
    (the label ties every loading to the first, which lavaan fixes at 1).

    >>> print(clf_model("f =~ a + b + c\\ng =~ d + e + h"))
    f =~ a + b + c
    g =~ d + e + h
    method =~ 1*a + 1*b + 1*c + 1*d + 1*e + 1*h
    method ~~ 0*f + 0*g
    """
    latents, exogenous, items = _structure(model)
    if method in latents or method in items:
        raise SpecificationError(f"clf_test: the model already has a variable named {method!r}. Fix: pass method= another name.")
    return (model.rstrip() + f"\n{method} =~ " + " + ".join(f"1*{i}" for i in items)
            + f"\n{method} ~~ " + " + ".join(f"0*{f}" for f in exogenous))


def _difference(trait: CFA, clf: CFA, estimator: str, msgs: list[str]) -> tuple[float, float, float]:
    """Δχ², Δdf and p: the plain ML difference, or under MLR the Satorra–Bentler (2001) scaled
    difference, c_d = (d₀c₀ − d₁c₁)/(d₀ − d₁), Δχ² = (T₀ − T₁)/c_d (lavaan's lavTestLRT)."""
    t0, t1 = trait.fit, clf.fit
    ddf = t0["df"] - t1["df"]
    diff = t0["chisq"] - t1["chisq"]
    if estimator == "MLR":
        c1 = t1["chisq_scaling_factor"] if t1["df"] > 0 else 1.0
        cd = (t0["df"] * t0["chisq_scaling_factor"] - t1["df"] * c1) / ddf
        if not cd > 0:
            warn(msgs, f"clf_test: the scaling factor of the Satorra–Bentler difference test is not positive ({cd:.4g}), so the "
                       "scaled Δχ² is not interpretable. Fix: judge by ΔCFI, ΔTLI, ΔRMSEA and ΔSRMR.")
            return float("nan"), ddf, float("nan")
        diff /= cd
    return float(diff), float(ddf), float(stats.chi2.sf(diff, ddf))


def clf_test(data: pd.DataFrame, model: str, *, estimator: str = "ML", missing: str = "listwise",
             method: str = "method") -> CLFTest:
    """Common-method check by an unmeasured latent method construct (ULMC, "common latent
    factor"; 周浩 & 龙立荣, 2004, "控制未测单一方法潜因子法"; Podsakoff et al., 2003).

    The trait CFA ``model`` is fitted as given and again with one more factor, ``method``,
    loading on every observed indicator with equal loadings (fixed at 1, its variance free)
    and uncorrelated with the trait factors; both with :func:`govsurvey.cfa`.

    Parameters
    ----------
    data
        One row per respondent, the model's items as columns (reverse-keyed items recoded).
    model
        The trait measurement model in lavaan syntax (e.g. ``Instrument.cfa_model()``).
    estimator, missing
        As :func:`govsurvey.cfa`. Under ``"MLR"`` the differences use the robust CFI, TLI and
        RMSEA and the Satorra–Bentler (2001) scaled Δχ².
    method
        The method factor's name.

    Returns
    -------
    CLFTest
        ``trait`` and ``clf`` (the two :class:`~govsurvey.CFA` fits); ``chisq_diff``, ``df_diff``,
        ``p_diff``; ``delta_cfi``, ``delta_tli``, ``delta_rmsea``, ``delta_srmr`` (CLF minus trait:
        an improvement is a positive ΔCFI/ΔTLI and a negative ΔRMSEA/ΔSRMR); ``method_loadings``
        (item, estimate, std_all); ``method_variance`` (ψ_M; not positive: no method variance
        beyond the traits, and ``method_share`` is NaN); ``method_share`` — the share of item
        variance due to the method factor, the mean squared standardized method loading
        (Williams et al., 1989, whose median was about 25 %); ``flagged``; ``improper`` (the
        CLF solution has another negative variance or a factor correlation beyond ±1: the
        comparison then says little); ``warnings``.

    Notes
    -----
    **The rule implemented** (``flagged``): common-method bias is judged serious when adding
    the method factor improves CFI or TLI by more than .10, or lowers RMSEA or SRMR by more
    than .05 (:data:`CLF_RULE`). These are the cut-offs Chinese theses cite with 周浩 & 龙立荣
    (2004) for the ULMC comparison; they are a convention — Podsakoff et al. (2003) give no
    numeric cut-off. The Δχ² test is reported too, but with a few hundred respondents almost
    any method factor improves χ² significantly, so it is not the criterion. ``method_share``
    is compared in the report with Williams et al.'s (1989) 25 % median (:data:`METHOD_SHARE_MEDIAN`).
    No ULMC result rules common-method bias out (Podsakoff et al., 2003).

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> res = gs.clf_test(data, inst.cfa_model())      # 14 factors, 49 items; simulated data without method variance
    >>> res.df_diff, res.flagged, res.improper, bool(res.method_share < 0.01)
    (1.0, False, False, True)

    # In R: fit0 <- cfa(HS.model, data = hs)
    #       fit1 <- cfa(paste(HS.model, "method =~ m*x1 + ... + m*x9",
    #                         "method ~~ 0*visual + 0*textual + 0*speed", sep = "\\n"), data = hs)
    #       anova(fit1, fit0); fitMeasures(fit1, c("cfi", "tli", "rmsea", "srmr"))
    """
    estimator = choice(estimator, "estimator", ("ML", "MLR"), where="clf_test")
    if not isinstance(model, str):
        raise SpecificationError(f"clf_test: model must be lavaan syntax (a text), got {type(model).__name__}. "
                                 "Fix: pass e.g. instrument.cfa_model().")
    full = clf_model(model, method)
    msgs: list[str] = []
    trait = cfa(data, model, estimator=estimator, missing=missing)
    clf = cfa(data, full, estimator=estimator, missing=missing)
    msgs.extend(f"method-factor model: {w}" for w in clf.warnings if w not in trait.warnings)
    names = _index_names(estimator)
    deltas = {k: float(clf.fit[names[k]] - trait.fit[names[k]]) for k in ("cfi", "tli", "rmsea", "srmr")}
    chisq_diff, df_diff, p_diff = _difference(trait, clf, estimator, msgs)
    lo = clf.loadings
    loads = lo.loc[lo["factor"] == method, ["item", "estimate", "std_all"]].reset_index(drop=True)
    psi = clf.estimates.query("op == '~~' and lhs == @method and rhs == @method")["estimate"]
    method_variance = float(psi.iloc[0])
    share = float(np.mean(np.square(loads["std_all"].to_numpy(dtype=float)))) if method_variance > 0 else float("nan")
    improper = _improper(clf, method)
    if method_variance <= 0:
        warn(msgs, f"clf_test: the method factor's variance is {method_variance:.4g} (not positive): the items share no "
                   "common method variance beyond the traits, or the model is empirically under-identified.", HeywoodCaseWarning)
    elif improper:
        warn(msgs, "clf_test: the method-factor model has an improper solution (a negative variance or a factor correlation "
                   "beyond ±1); its fit indices are reported, but interpret the comparison with care.", HeywoodCaseWarning)
    flagged = bool(deltas["cfi"] > CLF_RULE["cfi"] or deltas["tli"] > CLF_RULE["tli"]
                   or -deltas["rmsea"] > CLF_RULE["rmsea"] or -deltas["srmr"] > CLF_RULE["srmr"])
    return CLFTest(trait=trait, clf=clf, method_factor=method, chisq_diff=chisq_diff, df_diff=df_diff, p_diff=p_diff,
                   delta_cfi=deltas["cfi"], delta_tli=deltas["tli"], delta_rmsea=deltas["rmsea"], delta_srmr=deltas["srmr"],
                   method_loadings=loads, method_variance=method_variance, method_share=share, flagged=flagged,
                   improper=improper, estimator=estimator, n_obs=int(clf.n_obs), warnings=tuple(msgs))


def _improper(fit: CFA, method: str) -> bool:
    """A negative variance (other than the method factor's, reported on its own), or a
    standardized latent covariance beyond ±1."""
    est = fit.estimates
    variances = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"]) & (est["lhs"] != method)]["estimate"].to_numpy(dtype=float)
    corr = fit.factor_correlations.to_numpy(dtype=float)
    off = corr[~np.eye(len(corr), dtype=bool)]
    return bool((variances < 0).any() or (np.abs(off) > 1 + 1e-8).any())


# ------------------------------------------------------------------ marker variable
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class MarkerTest(Result):
    """Lindell & Whitney's (2001) marker-variable correction (see :func:`marker_test`)."""

    marker: str
    r_m: float
    rank: str
    marker_correlations: pd.Series
    table: pd.DataFrame
    n_obs: int
    n_dropped: int
    alpha: float
    n_significant: int
    n_significant_adjusted: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def __repr__(self) -> str:
        return (f"MarkerTest(marker={self.marker!r}, n={self.n_obs}, r_m={self.r_m:.4f}, rank={self.rank!r}, pairs={len(self.table)}, "
                f"significant={self.n_significant}, significant_adjusted={self.n_significant_adjusted})")


def _marker_inputs(data: pd.DataFrame, marker: str, variables: Sequence[str] | None) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"marker_test: data must be a DataFrame, got {type(data).__name__}.")
    if not isinstance(marker, str) or marker not in data.columns:
        raise UnknownItemError(f"marker_test: marker={marker!r} is not a column of the data. "
                               f"Fix: name the marker item or variable, one of {', '.join(map(str, list(data.columns)[:5]))}"
                               f"{' …' if data.shape[1] > 5 else ''}.")
    named = list(data.columns) if variables is None else [marker, *([variables] if isinstance(variables, str) else variables)]
    check_unique_columns(data, named, "marker_test")
    if variables is None:
        variables = [c for c in data.columns if c != marker and pd.api.types.is_numeric_dtype(data[c])]
    variables = [variables] if isinstance(variables, str) else list(variables)
    unknown = [v for v in variables if v not in data.columns]
    if unknown:
        raise UnknownItemError(f"marker_test: variables= names {len(unknown)} column(s) not in the data: "
                               f"{', '.join(map(str, unknown[:5]))}. Fix: name columns of the data.")
    if marker in variables:
        raise DataValidationError(f"marker_test: the marker {marker!r} is one of the substantive variables. A marker must be "
                                  "theoretically unrelated to them. Fix: leave it out of variables=.")
    if len(variables) < 2:
        raise DataValidationError(f"marker_test needs at least two substantive variables, got {len(variables)}. "
                                  "Fix: name two or more construct scores in variables=.")
    return variables


def marker_test(data: pd.DataFrame, marker: str, variables: Sequence[str] | None = None, *, rank: str = "smallest",
                alpha: float = 0.05) -> MarkerTest:
    """Lindell & Whitney's (2001) marker-variable correction for common-method variance.

    A marker is an item or variable measured with the same method but theoretically unrelated
    to the substantive variables, so its correlation with them estimates the common-method
    variance. r_M is the smallest positive correlation of the marker with the substantive
    variables (``rank="second_smallest"``: the second smallest, the more conservative choice
    Lindell & Whitney also discuss). Every correlation r between two substantive variables is
    corrected to r_A = (r − r_M)/(1 − r_M) and tested with t = r_A/√((1 − r_A²)/(n − 3)) on
    n − 3 df (two-sided).

    Parameters
    ----------
    data
        One row per respondent: the marker and the substantive variables (construct scores).
    marker
        The marker's column.
    variables
        The substantive variables (default: every other numeric column).
    rank
        ``"smallest"`` or ``"second_smallest"`` positive marker correlation as r_M.
    alpha
        Significance level for ``significant`` / ``significant_adjusted``.

    Returns
    -------
    MarkerTest
        ``r_m``; ``marker_correlations`` (the marker's r with each variable); ``table`` (one row
        per pair: ``var1``, ``var2``, ``r``, ``p``, ``r_adjusted``, ``t_adjusted``,
        ``p_adjusted``, ``significant``, ``significant_adjusted``); ``n_obs`` (complete cases,
        listwise), ``n_dropped``; ``n_significant`` and ``n_significant_adjusted``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, govsurvey as gs
    >>> rng = np.random.default_rng(2)
    >>> f = rng.normal(size=300)
    >>> d = pd.DataFrame({"a": f + rng.normal(size=300), "b": f + rng.normal(size=300), "m": rng.normal(size=300)})
    >>> res = gs.marker_test(d, "m", ["a", "b"])
    >>> bool(res.table["significant_adjusted"].iloc[0])
    True
    """
    variables = _marker_inputs(data, marker, variables)
    rank = choice(rank, "rank", ("smallest", "second_smallest"), where="marker_test")
    alpha = real_number(alpha, "alpha", low=0, high=1, inclusive=False, what="a level", example=0.05, where="marker_test")
    cols = [marker, *variables]
    _, x, _ = _numeric_matrix(data[cols], "marker_test")     # text or ±inf refused by name (not coerced to missing)
    frame = pd.DataFrame(x, columns=cols, index=data.index)
    complete = frame.dropna()
    n, msgs = len(complete), []
    if n <= 4:
        raise DataValidationError(f"marker_test: only {n} complete cases on {', '.join(cols[:5])}; the test needs at least 5. "
                                  "Fix: check the columns for missing values.")
    flat = [c for c in cols if complete[c].std() == 0]
    if flat:
        raise DataValidationError(f"marker_test: {', '.join(flat)} is constant in the complete cases; a correlation needs variance. "
                                  "Fix: drop it.")
    if n < len(frame):
        warn(msgs, f"marker_test: {len(frame) - n} rows with missing values were left out (listwise deletion).")
    r = np.corrcoef(complete.to_numpy(dtype=float), rowvar=False)
    rm_all = pd.Series(r[0, 1:], index=pd.Index(variables, name="variable"), name="r")
    positive = np.sort(rm_all[rm_all > 0].to_numpy())
    want = 0 if rank == "smallest" else 1
    if len(positive) == 0:
        r_m = 0.0
        warn(msgs, f"marker_test: the marker {marker!r} correlates positively with none of the variables, so r_M = 0 and the "
                   "correlations are not corrected (no common-method variance shows through this marker).")
    else:
        if len(positive) <= want:
            warn(msgs, f"marker_test: the marker {marker!r} correlates positively with one variable only; its correlation is used as r_M.")
        r_m = float(positive[min(want, len(positive) - 1)])
    rows = []
    for i in range(len(variables)):
        for j in range(i + 1, len(variables)):
            rows.append(_pair(variables[i], variables[j], float(r[i + 1, j + 1]), r_m, n, alpha))
    table = pd.DataFrame(rows)
    return MarkerTest(marker=marker, r_m=r_m, rank=rank, marker_correlations=rm_all, table=table, n_obs=n,
                      n_dropped=len(frame) - n, alpha=alpha, n_significant=int(table["significant"].sum()),
                      n_significant_adjusted=int(table["significant_adjusted"].sum()), warnings=tuple(msgs))


def _pair(a: str, b: str, r: float, r_m: float, n: int, alpha: float) -> dict:
    """One pair's r (t on n − 2 df) and its Lindell–Whitney correction (t on n − 3 df)."""
    t = r * math.sqrt((n - 2) / (1 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
    p = float(2 * stats.t.sf(abs(t), n - 2))
    r_a = (r - r_m) / (1 - r_m)
    t_a = r_a / math.sqrt((1 - r_a * r_a) / (n - 3)) if abs(r_a) < 1 else math.copysign(math.inf, r_a)
    p_a = float(2 * stats.t.sf(abs(t_a), n - 3))
    return {"var1": a, "var2": b, "r": r, "p": p, "r_adjusted": r_a, "t_adjusted": t_a, "p_adjusted": p_a,
            "significant": bool(p < alpha), "significant_adjusted": bool(p_a < alpha)}
