"""Ordinal indicators: DWLS estimation on thresholds and polychoric correlations, with robust
(sandwich) standard errors and the mean-and-variance adjusted ("scaled-shifted") test — lavaan's
``estimator = "WLSMV"`` (and ``"DWLS"``, ``"ULSMV"``) with ``ordered =``, delta parameterization.

Each ordinal item y_j is a cut-up latent response y*_j = (Λη)_j + ε_j with thresholds τ_j.
In the delta parameterization the latent responses have unit variance — their residual
variances are 1 − (ΛΨΛᵀ)_jj, not parameters — so the model implies the thresholds themselves
and the off-diagonal correlations of Σ* = ΛΨΛᵀ (the residual variances never enter them).
With the sample statistics s = (τ̂, ρ̂) (thresholds item by item, then the polychorics of the
lower triangle by column, lavaan's order), their asymptotic covariance Γ (N·ACOV) and
W = diag(Γ)⁻¹ (DWLS; the identity for ULS), the estimates minimise

    F(θ) = ½ (s − σ(θ))ᵀ W (s − σ(θ)),      T = 2N·F,

by Gauss–Newton steps (ΔᵀWΔ) δ = ΔᵀW(s − σ), Δ = ∂σ/∂θ. The robust covariance of the estimates
is (ΔᵀWΔ)⁻¹ ΔᵀWΓWΔ (ΔᵀWΔ)⁻¹ / N, and with U = W − WΔ(ΔᵀWΔ)⁻¹ΔᵀW the scaled-shifted test is
a·T + b with a = √(df / tr((UΓ)²)) and b = df − a·tr(UΓ) (Asparouhov & Muthén, 2010; lavaan's
``test = "scaled.shifted"``).

References: Muthén (1984); Muthén, du Toit & Spisic (1997); Asparouhov & Muthén (2010);
Rosseel (2012), lavaan.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from scipy import special

from govsurvey.errors import ConvergenceError, NotPositiveDefiniteError
from govsurvey.psychometrics.sem.engine import GroupData, Model
from govsurvey.psychometrics.sem.partable import ParTable

__all__ = ["OrdinalStats", "DwlsFit", "fit_dwls", "delta_table"]


@dataclasses.dataclass(frozen=True)
class OrdinalStats:
    """One group's ordinal sample statistics: thresholds per item (in model order), the
    polychoric matrix, s = (thresholds, lower-triangle polychorics by column), Γ = N·ACOV(s), N."""

    thresholds: list[np.ndarray]
    rho: np.ndarray
    wls_obs: np.ndarray
    nacov: np.ndarray
    n: int


def delta_table(pt: ParTable, ordered: set[str], parameterization: str = "delta") -> ParTable:
    """``pt`` with the residual variances of ordered indicators fixed and free parameters
    renumbered: no parameters under the delta parameterization (the latent responses have unit
    variance; the row's value is a placeholder), fixed at 1 under the theta parameterization."""
    rows = [dataclasses.replace(r) for r in pt.rows]
    value = 1.0 if parameterization == "theta" else 0.0
    for r in rows:
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in ordered and r.free:
            r.free, r.value, r.par, r.label = False, value, -1, None
    old = sorted({r.par for r in rows if r.free})
    new = {p: k for k, p in enumerate(old)}
    for r in rows:
        if r.free:
            r.par = new[r.par]
    labels = {lab: new[p] for lab, p in pt.labels.items() if p in new}
    return dataclasses.replace(pt, rows=rows, n_free=len(old), labels=labels)


@dataclasses.dataclass
class DwlsFit:
    theta: np.ndarray            # model parameters, then thresholds
    vcov: np.ndarray
    chisq: float
    df: int
    chisq_scaled: float
    scaling_factor: float
    shift: float
    iterations: int
    fmin: float
    extra: dict[str, Any]
    problem: Any = None          # the _Problem it was fitted on: σ(θ), Δ and the model, for what follows


class _Problem:
    """σ(θ) and Δ = ∂σ/∂θ for one group: thresholds are their own parameters (after the
    model's), correlations the off-diagonal cells of the model-implied Σ*."""

    def __init__(self, model: Model, stats: OrdinalStats) -> None:
        self.model, self.stats = model, stats
        p = model.p
        self.lower = np.array([(i, j) for j in range(p) for i in range(j + 1, p)], dtype=int).reshape(-1, 2)
        self.n_th = sum(len(t) for t in stats.thresholds)
        self.q = model.q + self.n_th

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        sig = self.model.implied(theta[: self.model.q], 0)["sigma"]
        return np.concatenate([theta[self.model.q:], sig[self.lower[:, 0], self.lower[:, 1]]])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        dsig, _ = self.model.derivatives(theta[: self.model.q], 0)
        k, q0 = len(self.stats.wls_obs), self.model.q
        out = np.zeros((k, self.q))
        out[: self.n_th, q0:] = np.eye(self.n_th)
        out[self.n_th:, :q0] = dsig[:, self.lower[:, 0], self.lower[:, 1]].T
        return out

    def corr(self, theta: np.ndarray) -> np.ndarray:
        """The implied correlations of the latent responses."""
        sig = self.model.implied(theta[: self.model.q], 0)["sigma"].copy()
        np.fill_diagonal(sig, 1.0)
        return sig


class _ThetaProblem(_Problem):
    """The theta parameterization: residual variances of the latent responses fixed at 1, so
    Σ = ΛΨΛᵀ + I has no unit diagonal; the statistics are ρ_ij = Σ_ij/√(Σ_ii Σ_jj) and the
    thresholds over √Σ_ii. Derivatives by the chain rule:
    dρ_ij = dΣ_ij/(d_i d_j) − ½ρ_ij (dΣ_ii/Σ_ii + dΣ_jj/Σ_jj), dτ*_k = dτ_k/d_i − ½τ*_k dΣ_ii/Σ_ii."""

    def __init__(self, model: Model, stats: OrdinalStats) -> None:
        super().__init__(model, stats)
        self.th_item = np.concatenate([np.full(len(t), i) for i, t in enumerate(stats.thresholds)]).astype(int)

    def _parts(self, theta: np.ndarray):
        sig = self.model.implied(theta[: self.model.q], 0)["sigma"]
        d = np.sqrt(np.diag(sig))
        return sig, d

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        sig, d = self._parts(theta)
        i, j = self.lower[:, 0], self.lower[:, 1]
        return np.concatenate([theta[self.model.q:] / d[self.th_item], sig[i, j] / (d[i] * d[j])])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        sig, d = self._parts(theta)
        dsig, _ = self.model.derivatives(theta[: self.model.q], 0)
        q0, k = self.model.q, self.n_th
        diag = np.diagonal(dsig, axis1=1, axis2=2) / np.diag(sig)          # q0 × p: dΣ_ii/Σ_ii
        i, j = self.lower[:, 0], self.lower[:, 1]
        rho = sig[i, j] / (d[i] * d[j])
        tau = theta[q0:] / d[self.th_item]
        out = np.zeros((len(self.stats.wls_obs), self.q))
        out[:k, q0:] = np.diag(1.0 / d[self.th_item])
        out[:k, :q0] = (-0.5 * tau[:, None]) * diag[:, self.th_item].T
        out[k:, :q0] = (dsig[:, i, j] / (d[i] * d[j])).T - 0.5 * rho[:, None] * (diag[:, i] + diag[:, j]).T
        return out

    def corr(self, theta: np.ndarray) -> np.ndarray:
        sig, d = self._parts(theta)
        return sig / np.outer(d, d)


def _problem(model: Model, stats: OrdinalStats, parameterization: str) -> _Problem:
    return _ThetaProblem(model, stats) if parameterization == "theta" else _Problem(model, stats)


def fit_dwls(pt: ParTable, stats: OrdinalStats, *, estimator: str = "WLSMV", max_iter: int = 200, tol: float = 1e-10,
             parameterization: str = "delta") -> DwlsFit:
    """DWLS (WLSMV, DWLS) or ULS (ULSMV) estimates, robust covariance and tests (module docstring)."""
    gd = GroupData(x=np.empty((0, len(pt.ov))), n=stats.n, mean=np.zeros(len(pt.ov)), cov=stats.rho)
    model = Model(pt, [gd])
    prob = _problem(model, stats, parameterization)
    s, gamma = stats.wls_obs, _gamma(stats)
    w = np.ones(len(s)) if estimator == "ULSMV" else 1.0 / np.diag(gamma)
    theta = np.concatenate([model.start_values(), np.concatenate(stats.thresholds)])
    if parameterization == "theta":                # thresholds on the unit-residual scale: τ·√Σ_ii at the starts
        _, dd = prob._parts(theta)
        theta[model.q:] = theta[model.q:] * dd[prob.th_item]
    f_old = math.inf
    for it in range(1, max_iter + 1):
        d = s - prob.sigma(theta)
        jac = prob.jacobian(theta)
        grad = jac.T @ (w * d)
        info = jac.T @ (w[:, None] * jac)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            raise NotPositiveDefiniteError("The DWLS information matrix is singular: the model is not identified. "
                                           "Fix: fix a loading per factor to 1, or add indicators.") from None
        f_cur = 0.5 * float(d @ (w * d))
        alpha = 1.0
        for _ in range(30):                       # backtracking: Gauss–Newton steps that do not descend are halved
            cand = theta + alpha * step
            dc = s - prob.sigma(cand)
            if 0.5 * float(dc @ (w * dc)) <= f_cur + 1e-15:
                break
            alpha /= 2
        theta = cand
        if np.max(np.abs(alpha * step)) < tol or abs(f_old - f_cur) < 1e-16:
            break
        f_old = f_cur
    else:
        raise ConvergenceError(
            f"DWLS did not converge in {max_iter} iterations; the estimates would be meaningless. This happens when the "
            "model is empirically under-identified (e.g. the items of a factor barely correlate) or badly misspecified. "
            "Fix: check the items' polychoric correlations (gs.polychoric), simplify the model or fix more parameters.")
    return _inference(prob, theta, w, estimator, it)


def _gamma(stats: OrdinalStats) -> np.ndarray:
    """Γ as the estimator uses it: N·ACOV rescaled by N/(N − 1), as lavaan does internally
    (its ``lavInspect(fit, "gamma")`` reports the unrescaled N·ACOV; tests, SEs and W follow
    the rescaled one: χ² and the SEs agree with lavaan only so)."""
    return stats.nacov * stats.n / (stats.n - 1)


def _inference(prob: _Problem, theta: np.ndarray, w: np.ndarray, estimator: str, iterations: int) -> DwlsFit:
    s, gamma, n = prob.stats.wls_obs, _gamma(prob.stats), prob.stats.n
    d = s - prob.sigma(theta)
    fmin = 0.5 * float(d @ (w * d))
    jac = prob.jacobian(theta)
    parts = robust_tests(jac, w, gamma, n, fmin, np.linalg.inv(jac.T @ (w[:, None] * jac)))
    return DwlsFit(theta=theta, iterations=iterations, fmin=fmin, problem=prob, **parts)


def robust_tests(jac: np.ndarray, w: np.ndarray, gamma: np.ndarray, n: float, fmin: float, bread: np.ndarray
                 ) -> dict[str, Any]:
    """The sandwich covariance (ΔᵀWΔ)⁻¹ΔᵀWΓWΔ(ΔᵀWΔ)⁻¹/N, T = 2N·F with its df and p, and the
    scaled-shifted test (:func:`_scaled_shifted`), for one group's or the stacked groups'
    Δ, W and Γ (``bread``: (ΔᵀWΔ)⁻¹)."""
    wj = w[:, None] * jac
    vcov = bread @ (wj.T @ gamma @ wj) @ bread / n
    df = len(w) - jac.shape[1]
    chisq = 2 * n * fmin
    a, b = _scaled_shifted(jac, w, gamma, df, bread)
    scaled = a * chisq + b if df > 0 else float("nan")
    return {"vcov": vcov, "chisq": chisq, "df": df, "chisq_scaled": scaled, "scaling_factor": 1 / a if a == a else a,
            "shift": b, "extra": {"pvalue": float(special.chdtrc(df, chisq)) if df > 0 else float("nan"),
                                  "pvalue_scaled": float(special.chdtrc(df, scaled)) if df > 0 else float("nan")}}


def _scaled_shifted(jac: np.ndarray, w: np.ndarray, gamma: np.ndarray, df: int, bread: np.ndarray | None = None
                    ) -> tuple[float, float]:
    """a, b of the scaled-shifted test a·T + b for a model with Jacobian ``jac`` (``bread``:
    (ΔᵀWΔ)⁻¹ when the caller has it); NaN where df ≤ 0 or tr((UΓ)²) is 0."""
    if df <= 0:
        return float("nan"), float("nan")
    wj = w[:, None] * jac
    u = np.diag(w) - wj @ (np.linalg.pinv(jac.T @ wj) if bread is None else bread) @ wj.T
    ug = u @ gamma
    tr1, tr2 = float(np.trace(ug)), float(np.sum(ug * ug.T))
    if not tr2 > 0:
        return float("nan"), float("nan")
    a = math.sqrt(df / tr2)
    return a, df - a * tr1


def _catml(prob: _Problem, theta: np.ndarray, w: np.ndarray, gamma: np.ndarray, df: int) -> dict[str, float]:
    """The "catML" statistics behind lavaan 0.6's robust CFI/TLI/RMSEA for ordinal data
    (Savalei, 2021; ``lav_fit_catml_dwls``): T₃ = N·F_ML(R, Σ*(θ̂)) — the normal-theory
    discrepancy of the polychoric matrix R from the implied correlations at the DWLS
    estimates — with ĉ = tr(Uᵀ V U Γ_ρ)/df, U = I − Δ_ρ(ΔᵀWΔ)⁻¹Δ_ρᵀW_ρ, V the ML weight of
    the correlations at Σ*, and for the independence model T₃₀ = −N·log|R|, ĉ₀ = tr(Γ_ρ)/df₀."""
    n, p = prob.stats.n, prob.model.p
    rho = prob.stats.rho
    sig = prob.corr(theta)
    inv = np.linalg.inv(sig)
    f_ml = float(np.linalg.slogdet(sig)[1] + np.trace(rho @ inv) - np.linalg.slogdet(rho)[1] - p)
    i, j = prob.lower[:, 0], prob.lower[:, 1]
    # ½ Dᵀ(Σ⁻¹⊗Σ⁻¹)D on the off-diagonal cells: element (ij, kl) = Σ⁻¹_ik Σ⁻¹_jl + Σ⁻¹_il Σ⁻¹_jk
    v = inv[np.ix_(i, i)] * inv[np.ix_(j, j)] + inv[np.ix_(i, j)] * inv[np.ix_(j, i)]
    k = prob.n_th
    jac = prob.jacobian(theta)
    wj = w[:, None] * jac
    e_inv = np.linalg.inv(jac.T @ wj)
    u = np.eye(len(i)) - jac[k:] @ e_inv @ wj[k:].T
    g_rho = gamma[k:, k:]
    c = float(np.trace(u.T @ v @ u @ g_rho)) / df if df > 0 else float("nan")
    df0 = len(i)
    return {"chisq": n * f_ml, "c": c, "chisq_null": -n * float(np.linalg.slogdet(rho)[1]), "df_null": df0,
            "c_null": float(np.trace(g_rho)) / df0}


def fit_measures(fit: DwlsFit, *, estimator: str = "WLSMV") -> dict[str, float]:
    """χ² (standard and scaled-shifted) with df and p, the independence model's, CFI/TLI/RMSEA
    standard, scaled and robust (catML, as lavaan 0.6.14), and SRMR on the correlations.
    lavaan's N conventions for ordinal data: the test statistics use N − 1 (Γ rescaled), the
    catML statistic N, and RMSEA N − 1."""
    prob = fit.problem
    stats = prob.stats
    n, df = stats.n, fit.df
    gamma = _gamma(stats)
    w = np.ones(len(stats.wls_obs)) if estimator == "ULSMV" else 1.0 / np.diag(gamma)
    k = prob.n_th
    rho_obs = stats.wls_obs[k:]
    b_chisq = n * float(rho_obs @ (w[k:] * rho_obs))
    b_df = len(rho_obs)
    jac_b = np.zeros((len(stats.wls_obs), k))
    jac_b[:k] = np.eye(k)
    a_b, s_b = _scaled_shifted(jac_b, w, gamma, b_df)
    out = {"chisq": fit.chisq, "df": float(df), "pvalue": fit.extra["pvalue"], "chisq_scaled": fit.chisq_scaled,
           "df_scaled": float(df), "pvalue_scaled": fit.extra["pvalue_scaled"], "chisq_scaling_factor": fit.scaling_factor,
           "chisq_shift": fit.shift, "baseline_chisq": b_chisq, "baseline_df": float(b_df),
           "baseline_chisq_scaled": a_b * b_chisq + s_b, "npar": float(prob.q)}
    out.update(_indices(fit.chisq, df, b_chisq, b_df, n - 1, ""))
    out.update(_indices(out["chisq_scaled"], df, out["baseline_chisq_scaled"], b_df, n - 1, "_scaled"))
    raw = stats.nacov
    cat = _catml(prob, fit.theta, 1.0 / np.diag(raw) if estimator != "ULSMV" else np.ones(len(w)), raw, df)
    out.update(_robust(cat, df, n))
    resid = rho_obs - prob.sigma(fit.theta)[k:]
    out["srmr"] = math.sqrt(float(resid @ resid) / (len(resid) + prob.model.p)) if len(resid) else 0.0
    return out


def _indices(t: float, df: int, tb: float, dfb: float, n_rmsea: int, suffix: str) -> dict[str, float]:
    t1, t2 = max(t - df, 0), max(t - df, tb - dfb, 0)
    cfi = 1.0 if t2 == 0 else 1 - t1 / t2
    tli = ((tb / dfb) - (t / df)) / ((tb / dfb) - 1) if df > 0 else 1.0
    rmsea = math.sqrt(max(t / n_rmsea / df - 1 / n_rmsea, 0)) if df > 0 else 0.0
    return {f"cfi{suffix}": cfi, f"tli{suffix}": tli, f"rmsea{suffix}": rmsea}


def _robust(cat: dict[str, float], df: int, n: int) -> dict[str, float]:
    x3, c3, x0, c0, df0 = cat["chisq"], cat["c"], cat["chisq_null"], cat["c_null"], cat["df_null"]
    t1 = max(x3 - c3 * df, 0)
    t2 = max(x3 - c3 * df, x0 - c0 * df0, 0)
    return {"cfi_robust": 1.0 if t2 == 0 else 1 - t1 / t2,
            "tli_robust": 1 - ((x3 - c3 * df) * df0) / ((x0 - c0 * df0) * df) if df > 0 else 1.0,
            "rmsea_robust": math.sqrt(max(x3 / (n - 1) / df - c3 / (n - 1), 0)) if df > 0 else 0.0}


def std_values(model: Model, theta: np.ndarray, ordered_idx: np.ndarray) -> np.ndarray:
    """Standardized (std.all) values of the rows, the latent responses' residual variances set
    to 1 − (ΛΨΛᵀ)_jj (delta parameterization: unit variances)."""
    from govsurvey.psychometrics.sem.fit import _std_group

    a, s, m = model.matrices(theta, 0)
    b = np.linalg.inv(np.eye(model.v) - a)
    tot = np.diag(b @ s @ b.T)
    s = s.copy()
    s[ordered_idx, ordered_idx] = 1.0 - (tot[ordered_idx] - s[ordered_idx, ordered_idx])
    tot = np.diag(b @ s @ b.T)
    out = np.empty((1, len(model.pt.rows)))
    _std_group(model, 0, a[None], s[None], m[None], tot[None], out)
    return out[0]


ORDINAL_ESTIMATORS = ("WLSMV", "DWLS", "ULSMV")


def fit_ordinal(x: np.ndarray, pt: ParTable, estimator: str, msgs: list[str], stats: OrdinalStats | None = None,
                parameterization: str = "delta"):
    """Fit ``pt`` (all observed variables ordered) to the complete cases ``x`` (cases × pt.ov,
    integer categories) by DWLS/ULS on polychoric correlations; a :class:`FitResult`."""
    from govsurvey.psychometrics.polychoric import ordinal_sample_stats
    from govsurvey.psychometrics.sem.fit import FitResult, _eval_defined, _jacobian

    if stats is None:
        sample = ordinal_sample_stats(x, names=tuple(pt.ov))
        msgs.extend(sample.warnings)
        stats = OrdinalStats(list(sample.th), sample.rho, sample.wls_obs, sample.nacov, x.shape[0])
    ordered = set(pt.ov)
    dpt = delta_table(pt, ordered, parameterization)
    fit = fit_dwls(dpt, stats, estimator=estimator, parameterization=parameterization)
    measures = fit_measures(fit, estimator=estimator)
    _warn_sample(stats, len(fit.theta), list(dpt.ov), msgs)
    model = fit.problem.model
    q = model.q
    theta, vcov = fit.theta[:q], fit.vcov[:q, :q]
    idx = np.array([dpt.ov.index(v) for v in dpt.ov])
    if parameterization == "theta":                   # residual variances are fixed values: the usual std.all
        from govsurvey.psychometrics.sem.fit import _std_values

        std_fn = lambda t: _std_values(model, t)      # noqa: E731
    else:
        std_fn = lambda t: std_values(model, t, idx)  # noqa: E731
    std = std_fn(theta)
    jac = _jacobian(std_fn, theta)
    std_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
    scale = np.sqrt(np.diag(model.implied(theta, 0)["sigma"])) if parameterization == "theta" else np.ones(len(dpt.ov))
    _warn_heywood(dpt, model, theta, std, msgs)
    columns = _columns(dpt, model, fit, std, std_se, stats, scale, parameterization)
    if dpt.defined:
        _add_defined(columns, dpt, theta, vcov, _eval_defined, _jacobian)
    return FitResult(pt=dpt, model=model, theta=theta, vcov=vcov, fit=measures, columns=columns, n_obs=stats.n,
                     groups=["all"], estimator=estimator, converged=True, warnings=msgs,
                     extra={"iterations": fit.iterations, "missing": {"method": "listwise", "n_used": stats.n},
                            "thresholds": fit.theta[q:], "parameterization": parameterization,
                            "r2": {v: 1 - std[k] for k, v in _residual_rows(dpt)}})


def _warn_heywood(pt: ParTable, model: Model, theta: np.ndarray, std: np.ndarray, msgs: list[str]) -> None:
    """As for continuous models: negative (latent-response) residual variances — standardized
    loadings beyond ±1 — and latent covariance matrices that are not positive definite."""
    from govsurvey.errors import HeywoodCaseWarning
    from govsurvey.psychometrics._input import warn

    bad = [r.lhs for k, r in enumerate(pt.rows) if r.op == "~~" and r.lhs == r.rhs and (std[k] < 0 or
                                                                                       (r.free and theta[r.par] < 0))]
    if bad:
        warn(msgs, f"Heywood case: negative (residual) variance for {', '.join(sorted(set(bad)))} — a standardized loading "
             "beyond ±1. Fix: check those items (too few categories used, a nearly empty category, too highly correlated "
             "items) or simplify the model.", HeywoodCaseWarning)
    psi = model.implied(theta, 0)["total"][model.p:, model.p:]
    if psi.size and np.linalg.eigvalsh(psi).min() < -1e-10:
        warn(msgs, "The latent covariance matrix is not positive definite (a factor correlation beyond ±1). "
             "Fix: merge highly correlated factors or revise the model.", HeywoodCaseWarning)


def _warn_sample(stats: OrdinalStats, npar: int, names: list[str], msgs: list[str]) -> None:
    """Warn (and record) when the estimates cannot be trusted: fewer cases than free parameters,
    or a polychoric matrix that is at the ±1 bound or not positive definite (redundant items)."""
    import warnings

    from govsurvey.errors import DataWarning, preview

    found = []
    if stats.n < npar:
        found.append(f"Only {stats.n} complete cases for {npar} free parameters (thresholds included): the WLSMV "
                     "estimates, standard errors and fit are not trustworthy. Fix: collect more responses, merge "
                     "categories, or simplify the model.")
    r = np.asarray(stats.rho, dtype=float)
    i, j = np.nonzero(np.triu(np.abs(r) >= 0.995, k=1))
    if len(i) or np.linalg.eigvalsh(r)[0] <= 1e-8:
        pairs = [f"{names[a]} & {names[b]}" for a, b in zip(i, j)]
        found.append("The polychoric correlation matrix is not positive definite"
                     + (f" (at the ±1 bound: {preview(pairs)})" if pairs else "")
                     + ": items are redundant or tables too sparse. Fix: drop one item of each such pair, or merge categories.")
    for m in found:
        msgs.append(m)
        warnings.warn(m, DataWarning, stacklevel=4)


def _residual_rows(pt: ParTable) -> list[tuple[int, str]]:
    return [(k, r.lhs) for k, r in enumerate(pt.rows) if r.op == "~~" and r.lhs == r.rhs and r.lhs in pt.ov]


def _columns(pt: ParTable, model: Model, fit: DwlsFit, std: np.ndarray, std_se: np.ndarray, stats: OrdinalStats,
             scale: np.ndarray, parameterization: str) -> dict[str, list]:
    """The estimates table: the model's rows (ordinal residual variances at 1 − R² under delta,
    1 under theta, fixed), then the thresholds as lavaan's ``item | t1`` rows (standardized:
    over the latent response's SD, ``scale``)."""
    q = model.q
    se = np.sqrt(np.clip(np.diag(fit.vcov), 0, None))
    resid = dict(_residual_rows(pt))
    cols: dict[str, list] = {key: [] for key in ("lhs", "op", "rhs", "group", "label", "free", "estimate", "se", "z", "p",
                                                 "std_all", "std_se")}

    def add(lhs, op, rhs, label, free, est, s, sa, sse):
        z = est / s if free and s > 0 else float("nan")
        for key, value in zip(cols, (lhs, op, rhs, "all", label or "", free, est, s if free else 0.0, z,
                                     float(2 * special.ndtr(-abs(z))) if z == z else float("nan"), sa, sse)):
            cols[key].append(value)

    for k, r in enumerate(pt.rows):
        est = fit.theta[r.par] if r.free else (std[k] if k in resid and parameterization == "delta" else (r.value or 0.0))
        add(r.lhs, r.op, r.rhs, r.label, r.free, float(est), float(se[r.par]) if r.free else 0.0, float(std[k]), float(std_se[k]))
    pos = q
    for item, th, sd in zip(pt.ov, stats.thresholds, scale):
        for t in range(len(th)):
            add(item, "|", f"t{t + 1}", None, True, float(fit.theta[pos]), float(se[pos]), float(fit.theta[pos] / sd),
                float(se[pos] / sd))
            pos += 1
    return cols


def _add_defined(cols: dict[str, list], pt: ParTable, theta: np.ndarray, vcov: np.ndarray, evaluate, jacobian) -> None:
    vals = evaluate(pt, theta)
    jd = jacobian(lambda t: evaluate(pt, t), theta)
    dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jd, vcov, jd), 0, None))
    for d, v, s in zip(pt.defined, vals, dse):
        z = v / s if s > 0 else float("nan")
        row = (d.name, ":=", d.expr, "", d.name, True, v, s, z, float(2 * special.ndtr(-abs(z))) if z == z else float("nan"),
               float("nan"), float("nan"))
        for key, value in zip(cols, row):
            cols[key].append(value)
