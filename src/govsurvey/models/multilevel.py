"""Linear mixed models for respondents nested in communities (exact profiled (RE)ML, as lme4)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.checks import check_finite_values
from govsurvey.errors import ConvergenceWarning, DataValidationError, SpecificationError
from govsurvey.models._frame import model_frame
from govsurvey.models.formula import Formula, design_matrices, parse_formula
from govsurvey.models.regression import check_outcome_varies
from govsurvey.psychometrics._input import warn
from govsurvey.results import Result

__all__ = ["Multilevel", "multilevel"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Multilevel(Result):
    """A linear mixed model (see :func:`multilevel`)."""

    fixed: pd.DataFrame
    var_groups: float
    var_residual: float
    random: pd.DataFrame
    icc: float
    icc_null: float
    loglik: float
    aic: float
    bic: float
    reml: bool
    n: int
    n_groups: int
    n_dropped: int
    converged: bool
    formula: str
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.fixed

    def __repr__(self) -> str:
        return (f"Multilevel({self.formula!r}, n={self.n}, groups={self.n_groups}, var_groups={self.var_groups:.4f}, "
                f"var_residual={self.var_residual:.4f}, icc={self.icc:.4f}, loglik={self.loglik:.3f}, reml={self.reml})")


@dataclasses.dataclass
class _LMMFit:
    beta: np.ndarray
    cov_beta: np.ndarray
    cov_re: np.ndarray
    var_residual: float
    loglik: float
    converged: bool

    @property
    def var_groups(self) -> float:
        return float(self.cov_re[0, 0])


def _lmm(y: np.ndarray, x: np.ndarray, z: np.ndarray, g: np.ndarray, reml: bool) -> _LMMFit:
    """Exact (RE)ML for y = Xβ + Z b_g + e, b_g ~ N(0, σ²ΛΛᵀ), e ~ N(0, σ²I), as lme4.

    The deviance is profiled over β and σ²; with Woodbury's identity every term needs only
    per-group sums (ZᵀZ, ZᵀX, Zᵀy) and XᵀX, Xᵀy, yᵀy — one pass over the data — so each
    evaluation costs O(groups·q³). The q(q+1)/2 elements of the lower-triangular Λ (diagonal
    ≥ 0) are found by L-BFGS-B from several starts.
    """
    from scipy import optimize as _opt

    n, p = x.shape
    q = z.shape[1]
    codes, inv = np.unique(g, return_inverse=True)
    m = len(codes)
    ztz = np.zeros((m, q, q))
    np.add.at(ztz, inv, z[:, :, None] * z[:, None, :])
    ztx = np.zeros((m, q, p))
    np.add.at(ztx, inv, z[:, :, None] * x[:, None, :])
    zty = np.zeros((m, q))
    np.add.at(zty, inv, z * y[:, None])
    xtx, xty, yty = x.T @ x, x.T @ y, float(y @ y)
    tril = np.tril_indices(q)
    diag_pos = [k for k, (i, j) in enumerate(zip(*tril)) if i == j]

    def lam(theta):
        out = np.zeros((q, q))
        out[tril] = theta
        return out

    def parts(theta):
        L = lam(theta)
        mj = np.eye(q)[None] + np.einsum("ji,gjk,kl->gil", L, ztz, L)
        minv = np.linalg.inv(mj)
        lzx = np.einsum("ji,gjp->gip", L, ztx)           # Λᵀ Zᵀ X
        lzy = np.einsum("ji,gj->gi", L, zty)
        a = xtx - np.einsum("gip,gij,gjr->pr", lzx, minv, lzx)
        b = xty - np.einsum("gip,gij,gj->p", lzx, minv, lzy)
        yy = yty - float(np.einsum("gi,gij,gj->", lzy, minv, lzy))
        beta = np.linalg.solve(a, b)
        rss = yy - float(beta @ b)
        logdet_v = float(np.linalg.slogdet(mj)[1].sum())
        return L, a, beta, rss, logdet_v

    def deviance(theta):
        try:
            _, a, _, rss, logdet_v = parts(theta)
        except np.linalg.LinAlgError:
            return np.inf
        if rss <= 0:
            return np.inf
        if reml:
            dof = n - p
            return dof * (np.log(2 * np.pi * rss / dof) + 1) + logdet_v + np.linalg.slogdet(a)[1]
        return n * (np.log(2 * np.pi * rss / n) + 1) + logdet_v

    bounds = [(0.0, None) if k in diag_pos else (None, None) for k in range(len(tril[0]))]
    best = None
    for scale in (1.0, 0.3, 0.05):
        start = np.zeros(len(tril[0]))
        start[diag_pos] = scale
        res = _opt.minimize(deviance, start, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000})
        if best is None or res.fun < best.fun:
            best = res
    if q == 1:  # the boundary θ = 0 (no group variance) is a legitimate optimum
        if deviance(np.zeros(1)) <= best.fun:
            best.x, best.fun = np.zeros(1), deviance(np.zeros(1))
    L, a, beta, rss, _ = parts(best.x)
    sigma2 = rss / (n - p if reml else n)
    return _LMMFit(beta=beta, cov_beta=sigma2 * np.linalg.inv(a), cov_re=sigma2 * L @ L.T, var_residual=sigma2,
                   loglik=-0.5 * float(best.fun), converged=bool(np.isfinite(best.fun)) and (bool(best.success) or best.nit > 0))


def _random_intercept(y: np.ndarray, x: np.ndarray, g: np.ndarray, reml: bool) -> _LMMFit:
    return _lmm(y, x, np.ones((len(y), 1)), g, reml)


def multilevel(
    formula: str,
    data: pd.DataFrame,
    *,
    groups: str,
    reml: bool = True,
    random_slopes: Sequence[str] = (),
    ci: float = 0.95,
) -> Multilevel:
    """A linear mixed model with a random intercept per group (and optional random slopes),
    as ``lme4::lmer(y ~ x + (1 | group))`` — e.g. residents nested in communities.

    Parameters
    ----------
    formula
        Fixed part, e.g. ``"preparedness ~ training + C(role, Treatment(\"居民\"))"``, in the
        grammar of :func:`~govsurvey.models.regression.regress` (see its Notes: columns,
        ``Q("name")``, ``+ - * / : **``, ``C()``, ``I()``, ``log`` …); never run as Python code.
        Random effects are not written in it (no ``(1 | site)``): use ``groups`` and
        ``random_slopes``.
    groups
        The grouping column (community, site).
    reml
        REML (default, as lmer) or ML (``reml=False``; use ML to compare fixed effects by
        likelihood ratio).
    random_slopes
        Predictors whose slopes vary by group (their covariance with the intercept is free).

    Returns
    -------
    Multilevel
        ``fixed`` (term: ``b``, ``se``, ``z``, ``p``, ``ci_low``, ``ci_high``),
        ``var_groups`` (random-intercept variance), ``var_residual``, ``random`` (the random
        effects' covariance matrix), ``icc`` = var_groups / (var_groups + var_residual) of this
        model, ``icc_null`` of the intercept-only model (how much of the outcome lies between
        groups), ``loglik`` (the REML criterion's log-likelihood under REML, as lmer), AIC, BIC.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean
    >>> data = clean[["site"]].join(gs.score(clean, inst))
    >>> fit = gs.multilevel("trust ~ 1", data, groups="site")
    >>> bool(0 < fit.icc < 0.5)
    True
    >>> fit = gs.multilevel("trust ~ capacity + I(capacity ** 2)", data, groups="site")
    >>> list(fit.fixed.index)
    ['Intercept', 'capacity', 'I(capacity ** 2)']
    """
    parsed = parse_formula(formula)
    parsed.check_columns(data)
    cols = parsed.variables + [groups] + [s for s in random_slopes if s not in parsed.variables]
    mf = model_frame(data, list(dict.fromkeys(cols)), what="multilevel", numeric=parsed.outcome_variables)
    msgs = [mf.note()] if mf.note() else []
    frame = mf.data.reset_index(drop=True)
    sizes = frame[groups].value_counts()
    if len(sizes) < 2:
        raise DataValidationError(f"multilevel: groups={groups!r} has {len(sizes)} group(s); at least 2 are needed (10+ for stable variances).")
    if len(sizes) < 10:
        warn(msgs, f"Only {len(sizes)} groups: the group-level variance is poorly estimated with fewer than about 10–20 groups.")
    if (sizes == 1).all():
        raise DataValidationError("multilevel: every group has one member, so within- and between-group variance cannot be separated.")
    bad = [v for v in random_slopes if v not in frame.columns or not pd.api.types.is_numeric_dtype(frame[v])]
    if bad:
        raise SpecificationError(f"random_slopes: {', '.join(map(str, bad))} must be numeric columns of the model.")
    return _lmm_result(parsed, frame, groups, reml, ci, mf, msgs, len(sizes), list(random_slopes))


def _icc_null(y: np.ndarray, frame: pd.DataFrame, groups: str, reml: bool) -> float:
    null = _random_intercept(y, np.ones((len(y), 1)), frame[groups].to_numpy(), reml)
    return null.var_groups / (null.var_groups + null.var_residual)


def _lmm_result(parsed: Formula, frame, groups, reml, ci, mf, msgs, n_groups, slopes) -> Multilevel:
    formula = parsed.text
    yd, xd = design_matrices(parsed, frame)
    yv, xv = yd.iloc[:, 0].to_numpy(dtype=float), xd.to_numpy(dtype=float)
    if len(yv) <= xd.shape[1] + 1:
        raise DataValidationError(f"multilevel: {len(yv)} complete rows for {xd.shape[1]} fixed-effect coefficients plus the "
                                  "variances. Fix: use fewer predictors (a factor costs one coefficient per level) or more data.")
    check_outcome_varies(yv, yd.columns[0], "multilevel", "there is no variance to split between and within groups",
                         "check the outcome column.")
    check_finite_values(np.column_stack([yv, xv]), [str(yd.columns[0])] + [str(c) for c in xd.columns], "multilevel")
    if np.linalg.matrix_rank(xv) < xd.shape[1]:
        raise DataValidationError("multilevel: the fixed-effect predictors are perfectly collinear. Fix: drop a redundant predictor.")
    z = np.column_stack([np.ones(len(frame))] + [frame[v].to_numpy(dtype=float) for v in slopes])
    fit = _lmm(yv, xv, z, frame[groups].to_numpy(), reml)
    if not fit.var_residual > 1e-12 * float(np.var(yv)):
        raise DataValidationError(
            f"multilevel: the fixed effects of {formula!r} reproduce the outcome exactly ({len(frame)} rows, {xd.shape[1]} "
            "coefficients), so there is no residual variance to split. Fix: use fewer predictors or more data."
        )
    if not fit.converged:
        warn(msgs, "The variance search did not converge; estimates are unreliable.", ConvergenceWarning)
    if fit.var_groups < 1e-10 * fit.var_residual:
        warn(msgs, "The group-level variance is estimated at zero (a singular fit): groups do not differ beyond chance.")
    se = np.sqrt(np.diag(fit.cov_beta))
    z = fit.beta / se
    zc = stats.norm.ppf(0.5 + ci / 2)
    fixed = pd.DataFrame({"b": fit.beta, "se": se, "z": z, "p": 2 * stats.norm.sf(np.abs(z)), "ci_low": fit.beta - zc * se,
                          "ci_high": fit.beta + zc * se}, index=pd.Index(xd.columns, name="term"))
    names = ["Intercept"] + slopes
    random = pd.DataFrame(fit.cov_re, index=names, columns=names)
    if len(slopes) and np.linalg.eigvalsh(fit.cov_re).min() < 1e-10 * max(fit.cov_re.max(), 1e-12):
        warn(msgs, "The random-effects covariance matrix is singular (boundary fit): a random slope or intercept variance is "
             "estimated at zero, or they correlate ±1. Consider dropping the random slope.")
    n_params = xd.shape[1] + len(names) * (len(names) + 1) // 2 + 1
    icc = fit.var_groups / (fit.var_groups + fit.var_residual)
    only_intercept = xd.shape[1] == 1
    return Multilevel(fixed=fixed, var_groups=fit.var_groups, var_residual=fit.var_residual, random=random, icc=icc,
                      icc_null=icc if only_intercept else _icc_null(yv, frame, groups, reml), loglik=fit.loglik,
                      aic=-2 * fit.loglik + 2 * n_params, bic=-2 * fit.loglik + n_params * np.log(mf.n), reml=reml, n=mf.n,
                      n_groups=n_groups, n_dropped=mf.n_dropped, converged=fit.converged, formula=formula, warnings=tuple(msgs))
