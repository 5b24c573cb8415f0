"""The regression family: OLS with robust SEs, standardized betas and VIFs; hierarchical
(blockwise) regression; logistic and proportional-odds (ordinal) logistic regression."""

from __future__ import annotations

import dataclasses
import warnings as _warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.checks import check_finite_values
from govsurvey.data.options import choice
from govsurvey.errors import ConvergenceWarning, DataValidationError, NotPositiveDefiniteError, SpecificationError, preview
from govsurvey.models._frame import levels_in_order, model_frame
from govsurvey.models.formula import Formula, Var, design_matrices, parse_formula, quote_name
from govsurvey.psychometrics._input import warn
from govsurvey.results import Result

__all__ = ["Regression", "regress", "hierarchical_regression", "Logistic", "logistic", "ordinal"]

ROBUST = (None, "HC0", "HC1", "HC2", "HC3")
ROBUST_DF = ("residual", "normal")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Regression(Result):
    """An OLS (or WLS) regression (see :func:`regress`)."""

    table: pd.DataFrame
    r2: float
    adj_r2: float
    f: float
    f_pvalue: float
    df_model: float
    df_resid: float
    n: int
    n_dropped: int
    formula: str
    robust: str | None
    weighted: bool
    warnings: tuple[str, ...] = ()
    robust_df: str | None = None     # "residual" (t on df_resid) or "normal" (z) when robust is set

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def __repr__(self) -> str:
        return (f"Regression({self.formula!r}, n={self.n}, r2={self.r2:.4f}, adj_r2={self.adj_r2:.4f}, "
                f"F={self.f:.3f}, p={self.f_pvalue:.3g}, robust={self.robust!r})")


def _design(formula: Formula, frame: pd.DataFrame):
    """Outcome and design matrix of a parsed formula (built without evaluating any text)."""
    y, x = design_matrices(formula, frame)
    values = np.column_stack([y.to_numpy(dtype=float), x.to_numpy(dtype=float)])
    check_finite_values(values, [str(c) for c in list(y.columns) + list(x.columns)], f"formula {formula.text!r}")
    return y, x


def _plain_outcome(formula: Formula, what: str) -> str:
    """The outcome column of a model whose outcome must be a column as it stands."""
    if formula.plain_outcome is None:
        raise SpecificationError(f"{what}: the outcome of {formula.text!r} must be a column, not {formula.outcome.text}. "
                                 "Fix: recode the outcome in the data and name that column left of '~'.")
    return formula.plain_outcome


def check_outcome_varies(yv: np.ndarray, name: object, what: str, consequence: str, fix: str) -> None:
    """Raise when the outcome has one value in every used row (``consequence``: why that
    leaves the model nothing to estimate)."""
    if not np.ptp(yv) > 0:
        raise DataValidationError(f"{what}: the outcome {name!r} has the same value ({yv[0]:g}) in every used row, "
                                  f"so {consequence}. Fix: {fix}")


def _check_design(y: pd.DataFrame, x: pd.DataFrame, what: str) -> None:
    """The outcome must vary, and no predictor may be constant or a combination of others."""
    check_outcome_varies(y.to_numpy(dtype=float)[:, 0], y.columns[0], what, "there is nothing to explain",
                         "check the outcome column and the rows left after missing values.")
    xv = x.to_numpy(dtype=float)
    if np.linalg.matrix_rank(xv) < xv.shape[1]:
        flat = [str(c) for c, col in zip(x.columns, xv.T) if c != "Intercept" and not np.ptp(col) > 0]
        detail = f"{', '.join(flat)} do(es) not vary in the used rows" if flat else "one predictor is a combination of others"
        raise NotPositiveDefiniteError(f"{what}: the predictors are perfectly collinear ({detail}). Fix: drop a redundant or constant predictor.")


def _vif(x: pd.DataFrame) -> pd.Series:
    cols = [c for c in x.columns if c != "Intercept"]
    out = pd.Series(np.nan, index=x.columns)
    if len(cols) < 2:
        out[cols] = 1.0
        return out
    r = np.corrcoef(x[cols].to_numpy(), rowvar=False)
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        raise NotPositiveDefiniteError(
            f"Predictors {', '.join(cols)} are perfectly collinear (one is a combination of others). Fix: drop one of them."
        ) from None
    out[cols] = np.diag(inv)
    return out


def regress(formula: str, data: pd.DataFrame, *, robust: str | None = None, weights: str | None = None,
            ci: float = 0.95, robust_df: str = "residual") -> Regression:
    """Ordinary (or weighted) least squares, as R's ``lm`` / SPSS REGRESSION.

    Parameters
    ----------
    formula
        ``"outcome ~ predictors"`` in R/patsy notation, e.g. ``"participation ~ trust + C(role) + age"``.
        It is parsed by a fixed grammar and never run as Python code (see Notes).
    data
        The rows; a :class:`~govsurvey.moments.Moments` also works for plain sums of columns
        (``y ~ a + b``). Rows missing any column the model uses are left out and counted.
    robust
        ``None`` or ``"HC0"``–``"HC3"`` heteroscedasticity-consistent standard errors
        (HC3 is the usual choice; Long & Ervin, 2000). The F test uses the same covariance
        (``lmtest::waldtest(fit, vcov = sandwich::vcovHC(fit, type = "HC3"), test = "F")``).
    weights
        Column of survey (analytic) weights, for weighted least squares.
    ci
        Level of the confidence intervals.
    robust_df
        With ``robust``: ``"residual"`` (default) refers each coefficient's robust t to the t
        distribution on the residual df, n − k − 1, for ``p``, ``ci_low`` and ``ci_high`` —
        as ``lmtest::coeftest(fit, vcov = sandwich::vcovHC(fit, type = "HC3"))`` and
        ``coefci`` in R, and SPSS's robust-SE tables; ``"normal"`` uses the standard normal
        (the asymptotic z of statsmodels' default and Stata's ``vce(robust)`` large-sample
        variant; the ``t`` column then holds that z).

    Returns
    -------
    Regression
        ``table`` (index term: ``b``, ``se``, ``t``, ``p``, ``ci_low``, ``ci_high``, ``beta``
        — standardized coefficient b·sd(x)/sd(y) as from ``lm(scale(y) ~ scale(X))`` — and
        ``vif``), ``r2``, ``adj_r2``, ``f``, ``f_pvalue``, ``n`` and how many rows were left out.

    Notes
    -----
    The formula grammar (shared by :func:`logistic`, :func:`ordinal` and
    :func:`~govsurvey.models.multilevel.multilevel`; :mod:`govsurvey.models.formula`):

    - a column by name (``trust``, ``参与度``), or quoted, ``Q("a b")``, ``Q("q1.2")``,
      ``Q("class")``, when the name has spaces, dots or symbols or is a Python keyword;
    - ``+`` adds a term and ``-`` removes one; ``a:b`` is the interaction, ``a*b`` means
      ``a + b + a:b``, ``a/b`` means ``a + a:b``, ``(a + b + c)**2`` all terms up to two-way;
      ``- 1`` or ``+ 0`` drops the intercept;
    - ``C(x)`` codes ``x`` as categorical: treatment (dummy) coding against the first level
      (sorted, or a pandas Categorical's order); ``C(x, Treatment("居民"))``,
      ``C(x, Treatment(2))`` or ``C(x, Treatment(reference="居民"))`` names the reference
      level. Text and true/false columns are categorical without ``C()``. A categorical in a
      term whose main effect is absent gets full dummy coding, as in R;
    - ``log``, ``exp``, ``sqrt``, ``center``, ``standardize`` (alias ``scale``; SD with divisor
      n, as patsy) of a column or of arithmetic, and ``I(...)`` for arithmetic alone (``+ - *
      / **``, numbers, columns, parentheses): ``I(age ** 2)``, ``log(income + 1)``.

    Anything else — ``np.log``, ``a.b``, other functions, quoted text outside ``Q()`` and
    ``Treatment()``, subscripts, keywords, backslashes — is a
    :class:`~govsurvey.errors.SpecificationError` that names the part and its position.
    Coefficients are named as patsy names them: ``Intercept``, ``C(role)[T.2.0]``, ``x:w``,
    ``C(a)[T.b]:x``, ``log(x)``, ``I(x ** 2)``.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> scores = gs.score(gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean, inst)
    >>> fit = gs.regress("trust ~ capacity", scores)
    >>> bool(fit.table.loc["capacity", "p"] < 0.001)
    True

    A Chinese reference level, and a quadratic term:

    >>> import pandas as pd
    >>> d = pd.DataFrame({"满意度": [3.0, 4, 2, 5, 4, 3, 5, 2, 4], "trust": [2.0, 4, 1, 5, 3, 3, 4, 2, 5],
    ...                   "role": ["居民", "网格员", "居民", "志愿者", "网格员", "居民", "志愿者", "居民", "网格员"]})
    >>> fit = gs.regress('满意度 ~ trust + I((trust - 3) ** 2) + C(role, Treatment("居民"))', d)
    >>> list(fit.table.index)
    ['Intercept', 'C(role, Treatment("居民"))[T.志愿者]', 'C(role, Treatment("居民"))[T.网格员]', 'trust', 'I((trust - 3) ** 2)']
    """
    import statsmodels.api as sm

    if robust not in ROBUST:
        raise SpecificationError(f"robust={robust!r} is not supported. Fix: use None, 'HC0', 'HC1', 'HC2' or 'HC3'.")
    robust_df = choice(robust_df, "robust_df", ROBUST_DF, where="regress")
    from govsurvey.moments import Moments

    parsed = parse_formula(formula)
    if isinstance(data, Moments):
        if robust or weights:
            raise SpecificationError("Robust SEs and weights need the raw data, not Moments. Fix: pass the DataFrame.")
        return _regress_moments(parsed, data, ci)
    parsed.check_columns(data)
    extra = [weights] if weights else []
    mf = model_frame(data, parsed.variables + extra, what="regress", numeric=parsed.outcome_variables + extra)
    msgs = [mf.note()] if mf.note() else []
    y, x = _design(parsed, mf.data)
    if x.shape[0] <= x.shape[1]:
        raise DataValidationError(f"regress: {x.shape[0]} rows for {x.shape[1]} coefficients. Fix: use fewer predictors or more data.")
    _check_design(y, x, "regress")
    if not [c for c in x.columns if c != "Intercept"]:
        raise DataValidationError(f"regress: no predictor in {formula!r} varies in the used rows (a factor with one level "
                                  "has no contrasts). Fix: check the predictors, or use gs.describe for a mean alone.")
    _check_leverage(x, robust)
    if weights:
        w = mf.data[weights].to_numpy(dtype=float)
        if (w <= 0).any():
            raise DataValidationError(f"regress: weights in {weights!r} must be positive.")
        model = sm.WLS(y, x, weights=w)
    else:
        model = sm.OLS(y, x)
    vif = _vif(x)
    # robust SEs with t on the residual df (lmtest::coeftest) unless the normal approximation is asked for
    fit = model.fit(cov_type=robust or "nonrobust", use_t=robust is None or robust_df == "residual")
    conf = fit.conf_int(alpha=1 - ci)
    ysd = float(y.iloc[:, 0].std(ddof=1))
    beta = x.std(ddof=1) / ysd * fit.params
    beta["Intercept"] = np.nan if "Intercept" in beta.index else beta.get("Intercept")
    table = pd.DataFrame({
        "b": fit.params, "se": fit.bse, "t": fit.tvalues, "p": fit.pvalues, "ci_low": conf[0], "ci_high": conf[1],
        "beta": beta, "vif": vif,
    })
    table.index.name = "term"
    high = table.index[table["vif"] > 10].tolist()
    if high:
        warn(msgs, f"High multicollinearity: VIF > 10 for {', '.join(high)}.")
    return Regression(table=table, r2=float(fit.rsquared), adj_r2=float(fit.rsquared_adj), f=float(np.squeeze(fit.fvalue)),
                      f_pvalue=float(np.squeeze(fit.f_pvalue)), df_model=float(fit.df_model), df_resid=float(fit.df_resid),
                      n=int(fit.nobs), n_dropped=mf.n_dropped, formula=formula, robust=robust, weighted=bool(weights),
                      warnings=tuple(msgs), robust_df=robust_df if robust else None)


def _check_leverage(x: pd.DataFrame, robust: str | None) -> None:
    """HC2 and HC3 divide by 1 − hᵢᵢ: a row with leverage 1 leaves them undefined."""
    if robust not in ("HC2", "HC3"):
        return
    q, _ = np.linalg.qr(x.to_numpy(dtype=float))
    lev = (q**2).sum(axis=1)
    full = [str(i) for i, h in zip(x.index, lev) if h > 1 - 1e-8]
    if full:
        raise DataValidationError(
            f"regress: robust={robust!r} divides by 1 − leverage, and row(s) {preview(full)} have leverage 1 (e.g. the only "
            "case in a category), so their standard errors are undefined. Fix: merge rare categories or use robust='HC1'."
        )


def _regress_moments(parsed: Formula, m, ci: float) -> Regression:
    """OLS from sufficient statistics: slopes S_xx⁻¹ s_xy, intercept ȳ − bᵀx̄, and the usual
    covariance σ²(XᵀX)⁻¹ written in centred moments — identical to the fit on the rows."""
    formula = parsed.text
    factors = [term[0] for term in parsed.terms]
    plain = all(len(term) == 1 and isinstance(term[0], Var) for term in parsed.terms)
    if not (plain and factors and parsed.intercept and isinstance(parsed.outcome, Var)):
        raise SpecificationError(f"With Moments, formulas are plain sums of column names (y ~ a + b); {formula!r} is not. "
                                 "Fix: pass the DataFrame for C(), interactions, transforms or '- 1'.")
    lhs, terms = parsed.outcome.name, [f.name for f in factors]
    absent = [v for v in [lhs, *terms] if v not in m.names]
    if absent:
        from govsurvey.errors import UnknownItemError

        raise UnknownItemError(f"formula {formula!r} names column(s) not in the moments: {', '.join(absent)}.")
    sel = m.select([lhs, *terms])
    n, k = sel.n, len(terms)
    if n <= k + 1:
        raise DataValidationError(f"regress: {n} rows for {k + 1} coefficients.")
    sxx, sxy, syy = sel.m2[1:, 1:], sel.m2[1:, 0], sel.m2[0, 0]
    try:
        inv = np.linalg.inv(sxx)
    except np.linalg.LinAlgError:
        raise NotPositiveDefiniteError("regress: the predictors are perfectly collinear. Fix: drop a redundant predictor.") from None
    b = inv @ sxy
    xbar, ybar = sel.mean[1:], sel.mean[0]
    b0 = ybar - b @ xbar
    rss = syy - sxy @ b
    df = n - k - 1
    s2 = rss / df
    cov = np.empty((k + 1, k + 1))
    cov[1:, 1:] = s2 * inv
    cov[0, 1:] = cov[1:, 0] = -s2 * inv @ xbar
    cov[0, 0] = s2 * (1 / n + xbar @ inv @ xbar)
    est = np.concatenate([[b0], b])
    se = np.sqrt(np.diag(cov))
    t = est / se
    tc = stats.t.ppf(0.5 + ci / 2, df)
    r2 = 1 - rss / syy
    sd = np.sqrt(np.diag(sel.m2) / (n - 1))
    corr = sxx / np.outer(sd[1:], sd[1:]) / (n - 1)
    vif = np.diag(np.linalg.inv(corr)) if k > 1 else np.ones(1)
    names = ["Intercept", *(f.text for f in factors)]
    table = pd.DataFrame({"b": est, "se": se, "t": t, "p": 2 * stats.t.sf(np.abs(t), df), "ci_low": est - tc * se,
                          "ci_high": est + tc * se, "beta": np.concatenate([[np.nan], b * sd[1:] / sd[0]]),
                          "vif": np.concatenate([[np.nan], vif])}, index=pd.Index(names, name="term"))
    f = (r2 / k) / ((1 - r2) / df)
    return Regression(table=table, r2=float(r2), adj_r2=float(1 - (1 - r2) * (n - 1) / df), f=float(f),
                      f_pvalue=float(stats.f.sf(f, k, df)), df_model=float(k), df_resid=float(df), n=int(n),
                      n_dropped=int(sel.n_dropped), formula=formula, robust=None, weighted=False, warnings=())


def hierarchical_regression(data: pd.DataFrame, y: str, blocks: Sequence[Sequence[str]]) -> pd.DataFrame:
    """Blockwise (hierarchical) regression: each step adds a block of predictors.

    All steps use the same respondents — those complete on ``y`` and every block — as SPSS
    does, so ΔR² compares like with like. Per step: ``r2``, ``delta_r2``, ``f_change``,
    ``df1``, ``df2``, ``p_change`` (the F test of the R² change, as ``anova(m1, m2)`` in R).

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> data = clean[["gender", "role"]].join(gs.score(clean, inst))
    >>> steps = gs.hierarchical_regression(data, "participation", [["gender"], ["capacity", "trust"]])
    >>> bool(steps.loc[2, "delta_r2"] > 0)
    True
    """
    if not blocks or any(not isinstance(b, (list, tuple)) or not b for b in blocks):
        raise SpecificationError("blocks must be a list of non-empty lists of predictors, e.g. [['age', 'gender'], ['trust']].")
    allvars = [v for b in blocks for v in b]
    mf = model_frame(data, [y] + allvars, what="hierarchical_regression", numeric=[y] + allvars)
    rows = []
    prev_r2, prev_k = 0.0, 0
    used: list[str] = []
    for step, block in enumerate(blocks, start=1):
        used = used + list(block)
        fit = regress(f"{_q(y)} ~ " + " + ".join(_q(v) for v in used), mf.data)
        k = len(used)
        df1, df2 = k - prev_k, mf.n - k - 1
        delta = fit.r2 - prev_r2
        f_change = (delta / df1) / ((1 - fit.r2) / df2)
        rows.append({"step": step, "added": ", ".join(block), "r2": fit.r2, "adj_r2": fit.adj_r2, "delta_r2": delta,
                     "f_change": f_change, "df1": df1, "df2": df2, "p_change": float(stats.f.sf(f_change, df1, df2)),
                     "n": mf.n})
        prev_r2, prev_k = fit.r2, k
    out = pd.DataFrame(rows).set_index("step")
    out.attrs["note"] = mf.note()
    return out


def _q(name: str) -> str:
    return quote_name(name)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Logistic(Result):
    """A logistic (binary or ordinal) regression."""

    table: pd.DataFrame
    n: int
    n_dropped: int
    loglik: float
    deviance: float
    aic: float
    pseudo_r2_mcfadden: float
    pseudo_r2_nagelkerke: float
    formula: str
    kind: str
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def __repr__(self) -> str:
        return f"Logistic({self.kind}, {self.formula!r}, n={self.n}, deviance={self.deviance:.3f}, aic={self.aic:.3f})"


def _logit_table(params, bse, conf) -> pd.DataFrame:
    z = params / bse
    table = pd.DataFrame({"b": params, "se": bse, "z": z, "p": 2 * stats.norm.sf(np.abs(z)), "ci_low": conf[0], "ci_high": conf[1],
                          "odds_ratio": np.exp(params), "or_ci_low": np.exp(conf[0]), "or_ci_high": np.exp(conf[1])})
    table.index.name = "term"
    return table


def logistic(formula: str, data: pd.DataFrame, *, ci: float = 0.95, weights: str | None = None) -> Logistic:
    """Binary logistic regression, as ``glm(family=binomial)``: coefficients, SEs, Wald z and
    p, odds ratios with Wald CIs, deviance, AIC, McFadden and Nagelkerke pseudo-R².

    Parameters
    ----------
    formula
        ``"outcome ~ predictors"`` in the grammar of :func:`regress` (see its Notes: columns,
        ``Q("name")``, ``+ - * / : **``, ``C(x, Treatment("level"))``, ``I()``, ``log`` …);
        never run as Python code. The outcome must be a column coded 0/1 (or two values; the
        larger counts as 1 — for a pandas Categorical the second category, as the second
        level of an R factor is the event in ``glm``).
    data
        The rows; rows missing any column the model uses are left out and counted.
    ci
        Level of the Wald confidence intervals.
    weights
        A column of survey weights (used as ``glm(weights=)`` does).

    Returns
    -------
    Logistic
        ``table`` (term: ``b``, ``se``, ``z``, ``p``, CIs, ``odds_ratio`` with its CI),
        ``deviance``, ``aic``, pseudo-R². Perfect separation raises a clear error instead of
        returning infinite odds ratios.

    Examples
    --------
    >>> import pandas as pd
    >>> import govsurvey as gs
    >>> d = pd.DataFrame({"joined": [0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0],
    ...                   "trust": [1.0, 2, 2, 3, 3, 4, 4, 5, 5, 1, 3, 2]})
    >>> fit = gs.logistic("joined ~ trust", d)
    >>> bool(fit.table.loc["trust", "odds_ratio"] > 1)
    True
    """
    import statsmodels.api as sm

    parsed = parse_formula(formula)
    parsed.check_columns(data)
    yname = _plain_outcome(parsed, "logistic")
    mf = model_frame(data, parsed.variables + ([weights] if weights else []), what="logistic",
                     numeric=[weights] if weights else [])
    msgs = [mf.note()] if mf.note() else []
    if weights is not None and (mf.data[weights] <= 0).any():
        raise DataValidationError(f"logistic: weights in {weights!r} must be positive.")
    values = levels_in_order(mf.data[yname])      # a Categorical's order: its second category counts as 1
    if len(values) != 2:
        raise DataValidationError(f"logistic: the outcome {yname!r} must have exactly two values, found {len(values)}. Fix: recode it to 0/1.")
    frame = mf.data.copy()
    frame[yname] = (frame[yname] == values[1]).astype(float)
    y, x = _design(parsed, frame)
    _check_design(y, x, "logistic")
    with _warnings.catch_warnings():
        _warnings.simplefilter("error")
        try:
            glm_weights = {"var_weights": mf.data[weights].to_numpy(dtype=float)} if weights else {}
            fit = sm.GLM(y, x, family=sm.families.Binomial(), **glm_weights).fit()
        except Exception as exc:  # statsmodels raises PerfectSeparationError/-Warning or overflow warnings
            if "separation" in str(exc).lower() or "overflow" in str(exc).lower() or "divide" in str(exc).lower():
                raise DataValidationError(
                    f"logistic: the outcome is perfectly (or quasi-)separated by the predictors in {formula!r}, so odds ratios are infinite. "
                    "Fix: drop or merge the predictor categories that predict the outcome exactly, or use penalized (Firth) regression."
                ) from None
            raise
    if not fit.converged:
        warn(msgs, "The logistic regression did not converge; estimates are unreliable.", ConvergenceWarning)
    table = _logit_table(fit.params, fit.bse, fit.conf_int(alpha=1 - ci))
    if (table["se"] > 50).any():
        raise DataValidationError(f"logistic: standard errors explode for {', '.join(table.index[table['se'] > 50])}; the outcome is (quasi-)separated. Fix: drop or merge those predictors.")
    n = int(fit.nobs)
    ll, ll0 = float(fit.llf), float(fit.llnull)
    cox_snell = 1 - np.exp(2 * (ll0 - ll) / n)
    nagelkerke = cox_snell / (1 - np.exp(2 * ll0 / n))
    return Logistic(table=table, n=n, n_dropped=mf.n_dropped, loglik=ll, deviance=float(fit.deviance), aic=float(fit.aic),
                    pseudo_r2_mcfadden=1 - ll / ll0, pseudo_r2_nagelkerke=float(nagelkerke), formula=formula, kind="binary",
                    warnings=tuple(msgs))


def _fit_ordered(model):
    """BFGS from statsmodels' start, then Newton steps from there: BFGS alone stops ~1e-6 short
    of the maximum (polr with a tight reltol agrees with the polished solution to ~1e-9).
    The Newton result is kept only if it converged to finite values at least as likely."""
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        fit = model.fit(method="bfgs", disp=False, maxiter=5000, gtol=1e-7)
        params = fit.params.to_numpy()
        # polish only an interior solution: no run-off estimates, no fitted probability near 0 or 1
        probs = np.asarray(fit.predict())
        interior = (fit.mle_retvals.get("converged", True) and np.isfinite(params).all() and np.abs(params).max() < 30
                    and probs.min() > 1e-8 and probs.max() < 1 - 1e-8)
        if not interior:
            return fit
        try:
            polished = model.fit(start_params=params, method="newton", disp=False, maxiter=5)
        except (ValueError, np.linalg.LinAlgError):
            return fit
    ok = (polished.mle_retvals.get("converged", False) and np.isfinite(polished.params.to_numpy()).all()
          and polished.llf >= fit.llf - 1e-9)
    return polished if ok else fit


#: The most outcome categories gs.ordinal accepts (a 0–10 rating has 11; 21 would be a score).
MAX_ORDINAL_LEVELS = 20


def ordinal(formula: str, data: pd.DataFrame, *, ci: float = 0.95) -> Logistic:
    """Proportional-odds (cumulative logit) regression, as ``MASS::polr``:
    logit P(Y ≤ k) = ζ_k − xᵀβ. Thresholds appear in ``table`` as ``"k|k+1"`` rows.

    Parameters
    ----------
    formula
        ``"outcome ~ predictors"`` in the grammar of :func:`regress` (see its Notes); never run
        as Python code. The outcome must be a column with three or more ordered values; the
        intercept is absorbed by the thresholds. A pandas Categorical outcome (ordered or
        not) keeps its category order, as ``polr`` keeps a factor's levels: ``Low < Medium <
        High`` gives thresholds ``Low|Medium`` and ``Medium|High``; other columns are sorted.
        Categorical predictors are treatment-coded against their first category — also for
        an ordered Categorical, where R's default for an ordered factor is polynomial
        contrasts (``contr.poly``).
    data
        The rows; rows missing any column the model uses are left out and counted.
    ci
        Level of the Wald confidence intervals.

    Notes
    -----
    Fitted by BFGS and polished by Newton steps; agrees with ``MASS::polr`` run to a tight
    tolerance (``control = list(reltol = 1e-15)``) to ~1e-9 in the coefficients.

    Examples
    --------
    In R: ``MASS::polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, Hess = TRUE)``;
    here with one row per respondent (``housing.loc[housing.index.repeat(housing["Freq"])]``,
    ``Sat`` an ordered Categorical) — see tests/reference/r/make_issue16_models_reference.R.

    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> data = clean[["SA1"]].join(gs.score(clean, inst)[["trust"]])
    >>> bool(gs.ordinal("SA1 ~ trust", data).table.loc["trust", "odds_ratio"] > 1)
    True
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    parsed = parse_formula(formula)
    parsed.check_columns(data)
    yname = _plain_outcome(parsed, "ordinal")
    mf = model_frame(data, parsed.variables, what="ordinal")
    msgs = [mf.note()] if mf.note() else []
    levels = levels_in_order(mf.data[yname])      # an ordered Categorical keeps Low < Medium < High
    if len(levels) < 3:
        raise DataValidationError(f"ordinal: the outcome {yname!r} has {len(levels)} levels; use gs.logistic for two.")
    if len(levels) > MAX_ORDINAL_LEVELS:
        raise DataValidationError(
            f"ordinal: the outcome {yname!r} has {len(levels)} distinct values; an ordinal regression estimates a threshold "
            f"between every two of them, which is meant for ordered categories (at most {MAX_ORDINAL_LEVELS}). Fix: for a "
            "continuous outcome or a scale score use gs.regress; otherwise recode the outcome into ordered categories.")
    frame = mf.data.copy()
    frame[yname] = pd.Categorical(frame[yname], categories=levels, ordered=True)
    y, x = _design(parsed, frame.assign(**{yname: frame[yname].cat.codes}))
    _check_design(y, x if "Intercept" in x.columns else x.assign(Intercept=1.0), "ordinal")
    x = x.drop(columns=[c for c in x.columns if c == "Intercept"])
    # the optimiser works on predictors scaled to unit SD (a salary in yuan next to 0/1 dummies
    # otherwise stalls BFGS); coefficients and their covariance are scaled back below
    scale = x.std(ddof=0).to_numpy()
    scale = np.where(scale > 0, scale, 1.0)
    model = OrderedModel(frame[yname], x / scale, distr="logit")
    fit = _fit_ordered(model)
    if not fit.mle_retvals.get("converged", True):
        warn(msgs, "The ordinal regression did not converge; estimates are unreliable. Fix: merge sparse outcome "
                   "categories or drop predictors that (almost) separate them.", ConvergenceWarning)
    # separation: the MLE runs off to infinity, so the optimiser stops where every (complete) or
    # some (quasi-) observed category has fitted probability 1 — as glm's "fitted probabilities 0 or 1"
    p_obs = np.asarray(fit.predict())[np.arange(len(frame)), frame[yname].cat.codes.to_numpy()]
    if (p_obs > 1 - 1e-6).all():
        raise DataValidationError(
            f"ordinal: the predictors in {formula!r} separate the outcome categories perfectly, so the estimates are "
            "infinite. Fix: drop or merge the separating predictor, or merge outcome categories."
        )
    if (p_obs > 1 - 1e-8).any():
        warn(msgs, "Fitted probabilities of 0 or 1 occurred: the predictors (quasi-)separate some outcome categories; "
                   "estimates and standard errors are unreliable.")
    k = x.shape[1]
    params = fit.params.copy()
    # statsmodels parameterises thresholds as the first plus log-increments; report the thresholds themselves
    thresholds = model.transform_threshold_params(params.to_numpy())[1:-1]
    try:
        cov = fit.cov_params().to_numpy()
    except (ValueError, np.linalg.LinAlgError):
        cov = np.full((len(params), len(params)), np.nan)
    back = np.concatenate([1.0 / scale, np.ones(len(params) - k)])    # to the predictors' own units
    params = params * back
    cov = cov * np.outer(back, back)
    if not np.isfinite(cov).all() or not np.isfinite(params.to_numpy()).all():
        raise DataValidationError(
            f"ordinal: the model {formula!r} has no finite maximum-likelihood estimate: the predictors separate the outcome "
            "categories (almost) perfectly, or a category has too few cases. Fix: merge sparse outcome categories, drop the "
            "separating predictor, or collect more data."
        )
    jac = np.eye(len(params))
    nth = len(params) - k
    for i in range(nth):  # τ_i = p_0 + Σ_{j=1..i} exp(p_j)
        jac[k + i, k] = 1.0
        for j in range(1, i + 1):
            jac[k + i, k + j] = np.exp(params.iloc[k + j])
    cov_t = jac @ cov @ jac.T
    names = list(x.columns) + [f"{levels[i]}|{levels[i + 1]}" for i in range(nth)]
    est = pd.Series(np.concatenate([params.to_numpy()[:k], thresholds]), index=names)
    se = pd.Series(np.sqrt(np.diag(cov_t)), index=names)
    zc = stats.norm.ppf(0.5 + ci / 2)
    table = _logit_table(est, se, pd.DataFrame({0: est - zc * se, 1: est + zc * se}))
    table.loc[table.index[k:], ["odds_ratio", "or_ci_low", "or_ci_high"]] = np.nan
    n = int(fit.nobs)
    ll = float(fit.llf)
    counts = frame[yname].value_counts().to_numpy()
    ll0 = float((counts * np.log(counts / counts.sum())).sum())
    cox_snell = 1 - np.exp(2 * (ll0 - ll) / n)
    return Logistic(table=table, n=n, n_dropped=mf.n_dropped, loglik=ll, deviance=-2 * ll, aic=-2 * ll + 2 * len(params),
                    pseudo_r2_mcfadden=1 - ll / ll0, pseudo_r2_nagelkerke=float(cox_snell / (1 - np.exp(2 * ll0 / n))),
                    formula=formula, kind="ordinal", warnings=tuple(msgs))
