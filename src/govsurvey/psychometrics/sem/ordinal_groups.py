"""Ordinal indicators in several groups, with thresholds, latent-response intercepts and
scaling factors as parameters: DWLS/WLSMV estimation, robust inference and tests (lavaan's
``ordered =`` with ``group =``), the measurement-invariance sequence of Wu & Estabrook (2016)
as ``semTools::measEq.syntax`` sets it up, and the Satorra (2000) scaled-shifted difference
test lavaan's ``lavTestLRT`` reports for WLSMV fits.

In group g the latent responses y* have the model-implied covariance matrix Σ_g and means
μ_g = ν_g + Λα_g (the mean structure of :class:`~.engine.Model`). Item j is observed through
thresholds τ_gj; its latent response is standardised by a scale Δ_gj: in the delta
parameterization Δ_gj is a parameter (the "scaling factor", lavaan's ``y ~*~ y``, fixed at 1
unless freed), in the theta parameterization Δ_gj = 1/√Σ_g,jj (the residual variances are
parameters). The statistics the model implies are

    τ*_gjk = Δ_gj (τ_gjk − μ_gj),      ρ_g,ij = Δ_gi Δ_gj Σ_g,ij  (i > j),

and the estimates minimise F = Σ_g (n_g/N) ½ (s_g − σ_g)ᵀ W_g (s_g − σ_g), T = 2N·F.

Wu & Estabrook (2016), with the factors identified by their variances (std.lv) and the delta
parameterization, as ``measEq.syntax(..., ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")``:

- configural: thresholds free in every group; intercepts ν = 0, scales Δ = 1, latent means 0
  and variances 1 in every group;
- thresholds: thresholds equal; ν and Δ free in every group but the first;
- metric (+ loadings): loadings equal; latent variances free but in the first group;
- scalar (+ intercepts): ν equal (so 0 everywhere); latent means free but in the first group.

(Theta parameterization: the residual variances take the place of Δ.)

References: Muthén (1984); Asparouhov & Muthén (2010); Satorra (2000); Wu & Estabrook (2016),
Psychometrika 81, 1014–1045; Rosseel (2012), lavaan; Jorgensen et al., semTools.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import linalg, special

from govsurvey.errors import ConvergenceError, NotPositiveDefiniteError
from govsurvey.psychometrics.sem.engine import Model
from govsurvey.psychometrics.sem.ordinal import DwlsFit, OrdinalStats, _gamma, _indices, robust_tests
from govsurvey.psychometrics.sem.ordinal import _scaled_shifted as scaled_shifted
from govsurvey.psychometrics.sem.partable import ParTable

__all__ = ["Extras", "GroupedProblem", "GroupedFit", "fit_grouped", "grouped_measures", "satorra2000", "wu_estabrook",
           "WU_ESTABROOK_STEPS"]

WU_ESTABROOK_STEPS = {"configural": (), "thresholds": ("thresholds",), "metric": ("thresholds", "loadings"),
                      "scalar": ("thresholds", "loadings", "intercepts")}


@dataclasses.dataclass(frozen=True)
class Extras:
    """Where the thresholds and scaling factors sit in θ (after the model's parameters): per
    group, the index of each threshold (items in model order) and of each item's scaling
    factor (−1: fixed at 1, or not a parameter under the theta parameterization)."""

    th_par: list[np.ndarray]
    scale_par: list[np.ndarray]
    n_extra: int


def _renumber(rows: list, labels: dict[str, int]) -> tuple[int, dict[str, int]]:
    """Free-parameter indices 0… in order of first use, sharing kept; the labels' map updated."""
    new: dict[int, int] = {}
    for r in rows:
        if r.free:
            r.par = new.setdefault(r.par, len(new))
    return len(new), {lab: new[p] for lab, p in labels.items() if p in new}


def wu_estabrook(pt: ParTable, n_th: list[int], step: tuple[str, ...], parameterization: str = "delta"
                 ) -> tuple[ParTable, Extras]:
    """The parameter table and extras of one step of Wu & Estabrook's sequence (module docstring).

    ``pt``: the model's table for all groups with a mean structure, no loading fixed
    (auto.fix.first off) and ``group_equal`` set to the step's loadings/intercepts;
    ``n_th``: thresholds per item (model order)."""
    rows = [dataclasses.replace(r) for r in pt.rows]
    ov, lv = set(pt.ov), set(pt.lv)
    eq_th, eq_lambda, eq_nu = ("thresholds" in step), ("loadings" in step), ("intercepts" in step)
    next_par = max([r.par for r in rows if r.free], default=-1) + 1
    for r in rows:
        first = r.group == 0
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in lv:                  # factor variances: std.lv
            free = not first and eq_lambda
        elif r.op == "~1" and r.lhs in lv:                                    # latent means
            free = not first and eq_nu
        elif r.op == "~1" and r.lhs in ov:                                    # latent-response intercepts
            free = not first and eq_th and not eq_nu
        elif r.op == "~~" and r.lhs == r.rhs and r.lhs in ov:                 # residual variances
            free = parameterization == "theta" and not first and eq_th
            if not free:
                r.free, r.value, r.par, r.label = False, (1.0 if parameterization == "theta" else 0.0), -1, None
            elif not r.free:
                r.free, r.par = True, next_par
                next_par += 1
            continue
        else:
            continue
        if free and not r.free:
            r.free, r.value, r.par = True, None, next_par
            next_par += 1
        elif not free:
            r.free, r.par, r.label = False, -1, None
            r.value = 1.0 if r.op == "~~" else 0.0
    n_free, labels = _renumber(rows, pt.labels)
    out = dataclasses.replace(pt, rows=rows, n_free=n_free, labels=labels)
    return out, _extras(n_free, pt.n_groups, n_th, eq_th, parameterization == "delta" and eq_th)


def _extras(q0: int, n_groups: int, n_th: list[int], equal_thresholds: bool, free_scales: bool) -> Extras:
    total = sum(n_th)
    th_par, scale_par, k = [], [], q0
    for g in range(n_groups):
        if g == 0 or not equal_thresholds:
            th_par.append(np.arange(k, k + total))
            k += total
        else:
            th_par.append(th_par[0])
        if free_scales and g > 0:
            scale_par.append(np.arange(k, k + len(n_th)))
            k += len(n_th)
        else:
            scale_par.append(np.full(len(n_th), -1))
    return Extras(th_par, scale_par, k - q0)


class GroupedProblem:
    """σ_g(θ) and Δ_g = ∂σ_g/∂θ for every group (module docstring)."""

    def __init__(self, model: Model, stats: list[OrdinalStats], extras: Extras, parameterization: str) -> None:
        self.model, self.stats, self.extras = model, stats, extras
        self.theta_param = parameterization == "theta"
        p = model.p
        self.lower = np.array([(i, j) for j in range(p) for i in range(j + 1, p)], dtype=int).reshape(-1, 2)
        self.th_item = np.concatenate([np.full(len(t), i) for i, t in enumerate(stats[0].thresholds)]).astype(int)
        self.n_th = len(self.th_item)
        self.q = model.q + extras.n_extra
        self.n = np.array([s.n for s in stats], dtype=float)
        self.fg = self.n / self.n.sum()

    def scales(self, theta: np.ndarray, g: int, sig: np.ndarray) -> np.ndarray:
        if self.theta_param:
            return 1.0 / np.sqrt(np.diag(sig))
        sp = self.extras.scale_par[g]
        return np.where(sp >= 0, theta[np.maximum(sp, 0)], 1.0)

    def sigma(self, theta: np.ndarray, g: int) -> np.ndarray:
        imp = self.model.implied(theta[: self.model.q], g)
        sig, mu = imp["sigma"], imp["mu"]
        d = self.scales(theta, g, sig)
        it, (i, j) = self.th_item, self.lower.T
        tau = theta[self.extras.th_par[g]]
        return np.concatenate([d[it] * (tau - mu[it]), d[i] * d[j] * sig[i, j]])

    def jacobian(self, theta: np.ndarray, g: int) -> np.ndarray:
        m, q0, k = self.model, self.model.q, self.n_th
        imp = m.implied(theta[:q0], g)
        sig, mu = imp["sigma"], imp["mu"]
        dsig, dmu = m.derivatives(theta[:q0], g, imp)
        d = self.scales(theta, g, sig)
        it, (i, j) = self.th_item, self.lower.T
        tau = theta[self.extras.th_par[g]]
        dd = (-0.5 * d[None, :] * np.diagonal(dsig, axis1=1, axis2=2) / np.diag(sig)) if self.theta_param \
            else np.zeros((q0, m.p))                                         # ∂Δ/∂θ_model
        out = np.zeros((k + len(i), self.q))
        out[:k, :q0] = (-d[it][None, :] * dmu[:, it] + (tau - mu[it])[None, :] * dd[:, it]).T
        out[k:, :q0] = (d[i] * d[j] * dsig[:, i, j] + sig[i, j] * (d[j] * dd[:, i] + d[i] * dd[:, j])).T
        out[np.arange(k), self.extras.th_par[g]] += d[it]
        sp = self.extras.scale_par[g]
        if (sp >= 0).any():
            rows_t = np.flatnonzero(sp[it] >= 0)
            out[rows_t, sp[it[rows_t]]] += (tau - mu[it])[rows_t]
            for a, b in ((i, j), (j, i)):                                     # ∂(Δ_a Δ_b Σ_ab)/∂Δ_a
                sel = np.flatnonzero(sp[a] >= 0)
                np.add.at(out, (k + sel, sp[a[sel]]), d[b[sel]] * sig[a[sel], b[sel]])
        return out

    def corr(self, theta: np.ndarray, g: int) -> np.ndarray:
        """The implied correlations of the latent responses in group g."""
        sig = self.model.implied(theta[: self.model.q], g)["sigma"]
        d = self.scales(theta, g, sig)
        r = sig * np.outer(d, d)
        np.fill_diagonal(r, 1.0)
        return r


@dataclasses.dataclass
class GroupedFit(DwlsFit):
    """A :class:`~.ordinal.DwlsFit` over groups (``problem`` a :class:`GroupedProblem`), with
    each group's DWLS weights."""

    weights: list[np.ndarray] = dataclasses.field(default_factory=list)


def _weights(stats: list[OrdinalStats], estimator: str, raw: bool = False) -> list[np.ndarray]:
    return [np.ones(len(s.wls_obs)) if estimator == "ULSMV" else 1.0 / np.diag(s.nacov if raw else _gamma(s))
            for s in stats]


def _gn_parts(prob: GroupedProblem, theta: np.ndarray, w: list[np.ndarray]) -> tuple[float, np.ndarray, np.ndarray]:
    f, grad, info = 0.0, np.zeros(prob.q), np.zeros((prob.q, prob.q))
    for g, s in enumerate(prob.stats):
        r = s.wls_obs - prob.sigma(theta, g)
        jac = prob.jacobian(theta, g)
        f += prob.fg[g] * 0.5 * float(r @ (w[g] * r))
        grad += prob.fg[g] * (jac.T @ (w[g] * r))
        info += prob.fg[g] * (jac.T @ (w[g][:, None] * jac))
    return f, grad, info


def _f(prob: GroupedProblem, theta: np.ndarray, w: list[np.ndarray]) -> float:
    total = 0.0
    for g, s in enumerate(prob.stats):
        r = s.wls_obs - prob.sigma(theta, g)
        total += prob.fg[g] * 0.5 * float(r @ (w[g] * r))
    return total


def fit_grouped(pt: ParTable, stats: list[OrdinalStats], extras: Extras, *, estimator: str = "WLSMV",
                parameterization: str = "delta", max_iter: int = 300, tol: float = 1e-10) -> GroupedFit:
    """DWLS/ULS estimates by Gauss–Newton steps over all groups, then robust inference."""
    from govsurvey.psychometrics.sem.engine import GroupData

    gds = [GroupData(x=np.empty((0, len(pt.ov))), n=s.n, mean=np.zeros(len(pt.ov)), cov=s.rho) for s in stats]
    model = Model(pt, gds)
    prob = GroupedProblem(model, stats, extras, parameterization)
    w = _weights(stats, estimator)
    theta = _starts(prob, model)
    f_old = math.inf
    for it in range(1, max_iter + 1):
        f_cur, grad, info = _gn_parts(prob, theta, w)
        step = _gn_step(info, grad)
        alpha = 1.0
        for _ in range(30):
            cand = theta + alpha * step
            if _f(prob, cand, w) <= f_cur + 1e-15:
                break
            alpha /= 2
        theta = cand
        if np.max(np.abs(alpha * step)) < tol or abs(f_old - f_cur) < 1e-16:
            break
        f_old = f_cur
    else:
        raise ConvergenceError(f"DWLS did not converge in {max_iter} iterations over {len(stats)} groups. Fix: check each "
                               "group's polychoric correlations (gs.polychoric), merge sparse categories, or simplify the model.")
    out = _inference(prob, theta, w, it)
    out.extra["estimator"] = estimator
    return out


def _gn_step(info: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The Gauss–Newton step; where ΔᵀWΔ is (nearly) singular on the way — a poor start — the
    least-squares step instead (identification is checked once, at the solution)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", linalg.LinAlgWarning)
        try:
            return linalg.solve(info, grad, assume_a="sym")
        except (linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
            return np.linalg.lstsq(info, grad, rcond=None)[0]


def _starts(prob: GroupedProblem, model: Model) -> np.ndarray:
    theta = np.concatenate([model.start_values(), np.zeros(prob.extras.n_extra)])
    for g, s in enumerate(prob.stats):
        th = np.concatenate(s.thresholds)
        if prob.theta_param:
            th = th * np.sqrt(np.diag(model.implied(theta[: model.q], g)["sigma"]))[prob.th_item]
        theta[prob.extras.th_par[g]] = th
        sp = prob.extras.scale_par[g]
        theta[sp[sp >= 0]] = 1.0
    return theta


def _stacked(prob: GroupedProblem, theta: np.ndarray, w: list[np.ndarray], gammas: list[np.ndarray]):
    """Δ stacked over groups, W̃ = ⊕ f_g W_g and Γ̃ = ⊕ Γ_g / f_g (the groups' statistics as one vector)."""
    jac = np.vstack([prob.jacobian(theta, g) for g in range(len(prob.stats))])
    wt = np.concatenate([prob.fg[g] * w[g] for g in range(len(w))])
    gt = linalg.block_diag(*[gammas[g] / prob.fg[g] for g in range(len(w))])
    return jac, wt, gt


def _inference(prob: GroupedProblem, theta: np.ndarray, w: list[np.ndarray], iterations: int) -> GroupedFit:
    n = prob.n.sum()
    gammas = [_gamma(s) for s in prob.stats]
    jac, wt, gt = _stacked(prob, theta, w, gammas)
    wj = wt[:, None] * jac
    info = jac.T @ wj
    if np.linalg.cond(info) > 1e12:
        raise NotPositiveDefiniteError(
            "The model is not identified across the groups: the DWLS information matrix is singular at the solution. "
            "Fix: check that every factor has at least two indicators and that the group constraints leave each "
            "group's scale fixed (as the Wu & Estabrook steps do), or simplify the model.")
    fmin = _f(prob, theta, w)
    parts = robust_tests(jac, wt, gt, n, fmin, np.linalg.inv(info))
    return GroupedFit(theta=theta, iterations=iterations, fmin=fmin, problem=prob, weights=w, **parts)


def grouped_measures(fit: GroupedFit, *, estimator: str = "WLSMV") -> dict[str, float]:
    """χ² standard and scaled-shifted, the independence model's, CFI/TLI/RMSEA standard,
    scaled and robust (catML), SRMR — as :func:`.ordinal.fit_measures`, over groups (lavaan:
    RMSEA × √G with N − G; SRMR the groups' weighted by n_g/N)."""
    prob, n_groups = fit.problem, len(fit.problem.stats)
    n, k = prob.n.sum(), prob.n_th
    gammas = [_gamma(s) for s in prob.stats]
    b_chisq = float(sum(s.n * (s.wls_obs[k:] @ (w[k:] * s.wls_obs[k:])) for s, w in zip(prob.stats, fit.weights)))
    b_df = n_groups * len(prob.lower)
    jac_b = linalg.block_diag(*[np.vstack([np.eye(k), np.zeros((len(prob.lower), k))]) for _ in prob.stats])
    wt = np.concatenate([prob.fg[g] * w for g, w in enumerate(fit.weights)])
    gt = linalg.block_diag(*[gm / prob.fg[g] for g, gm in enumerate(gammas)])
    a_b, s_b = scaled_shifted(jac_b, wt, gt, b_df)
    df = fit.df
    out = {"chisq": fit.chisq, "df": float(df), "pvalue": fit.extra["pvalue"], "chisq_scaled": fit.chisq_scaled,
           "df_scaled": float(df), "pvalue_scaled": fit.extra["pvalue_scaled"], "chisq_scaling_factor": fit.scaling_factor,
           "chisq_shift": fit.shift, "baseline_chisq": b_chisq, "baseline_df": float(b_df),
           "baseline_chisq_scaled": a_b * b_chisq + s_b, "npar": float(prob.q)}
    n_rmsea = n - n_groups
    out.update(_grouped_indices(fit.chisq, df, b_chisq, b_df, n_rmsea, n_groups, ""))
    out.update(_grouped_indices(out["chisq_scaled"], df, out["baseline_chisq_scaled"], b_df, n_rmsea, n_groups, "_scaled"))
    out.update(_robust_grouped(fit, estimator, df, n_rmsea, n_groups))
    out["srmr"] = float(sum(prob.fg[g] * _srmr(prob, fit.theta, g) for g in range(n_groups)))
    return out


def _grouped_indices(t: float, df: int, tb: float, dfb: float, n_rmsea: float, n_groups: int, suffix: str) -> dict[str, float]:
    out = _indices(t, df, tb, dfb, n_rmsea, suffix)
    out[f"rmsea{suffix}"] *= math.sqrt(n_groups)
    return out


def _srmr(prob: GroupedProblem, theta: np.ndarray, g: int) -> float:
    k = prob.n_th
    resid = prob.stats[g].wls_obs[k:] - prob.sigma(theta, g)[k:]
    return math.sqrt(float(resid @ resid) / (len(resid) + prob.model.p)) if len(resid) else 0.0


def _catml_npar(prob: GroupedProblem) -> int:
    """Free parameters of lavaan's catML model: the fit's, without thresholds, intercepts and
    latent means (lavaan ≥ 0.6-20 also drops the equality constraints among the thresholds)."""
    pars = {r.par for r in prob.model.pt.rows if r.free and r.op != "~1"}
    scales = {int(p) for sp in prob.extras.scale_par for p in sp if p >= 0}
    return len(pars) + len(scales)


def _robust_grouped(fit: GroupedFit, estimator: str, df: int, n_rmsea: float, n_groups: int) -> dict[str, float]:
    """lavaan's robust CFI/TLI/RMSEA for ordinal data (``lav_fit_catml_dwls``): T₃ = Σ N_g·F_ML(R_g, Σ*_g)
    at the DWLS estimates, ĉ₃ = tr(Uᵀ V U Γ̃_ρ)/df₃ with U = I − Δ_ρ E⁻¹ Δ_ρᵀ W̃_ρ, and the null
    model's T₃₀ = −Σ N_g log|R_g|, ĉ₀ = tr(Γ̃_ρ)/df₀. CFI/TLI use the fit's df, RMSEA df₃."""
    prob, k = fit.problem, fit.problem.n_th
    if thresholds_shared(prob.extras):
        return dict.fromkeys(("cfi_robust", "tli_robust", "rmsea_robust"), float("nan"))
    raw = _weights(prob.stats, estimator, raw=True)
    jacs = [prob.jacobian(fit.theta, g) for g in range(n_groups)]
    e_inv = np.linalg.inv(sum(prob.fg[g] * (j.T @ (raw[g][:, None] * j)) for g, j in enumerate(jacs)))
    x3, x0 = 0.0, 0.0
    d_rho, w_rho, v_blocks, g_blocks = [], [], [], []
    i, j = prob.lower.T
    for g, s in enumerate(prob.stats):
        sig = prob.corr(fit.theta, g)
        inv = np.linalg.inv(sig)
        x3 += s.n * float(np.linalg.slogdet(sig)[1] + np.trace(s.rho @ inv) - np.linalg.slogdet(s.rho)[1] - prob.model.p)
        x0 -= s.n * float(np.linalg.slogdet(s.rho)[1])
        v_blocks.append(prob.fg[g] * (inv[np.ix_(i, i)] * inv[np.ix_(j, j)] + inv[np.ix_(i, j)] * inv[np.ix_(j, i)]))
        d_rho.append(jacs[g][k:])
        w_rho.append(prob.fg[g] * raw[g][k:])
        g_blocks.append(s.nacov[k:, k:] / prob.fg[g])
    d_all, w_all = np.vstack(d_rho), np.concatenate(w_rho)
    u = np.eye(len(w_all)) - d_all @ e_inv @ (w_all[:, None] * d_all).T
    g_all, v_all = linalg.block_diag(*g_blocks), linalg.block_diag(*v_blocks)
    df3 = n_groups * len(prob.lower) - _catml_npar(prob)
    df0 = n_groups * len(prob.lower)
    c3 = float(np.trace(u.T @ v_all @ u @ g_all)) / df3 if df3 > 0 else float("nan")
    c0 = float(np.trace(g_all)) / df0
    t1 = max(x3 - c3 * df, 0)
    t2 = max(x3 - c3 * df, x0 - c0 * df0, 0)
    return {"cfi_robust": 1.0 if t2 == 0 else 1 - t1 / t2,
            "tli_robust": 1 - ((x3 - c3 * df) * df0) / ((x0 - c0 * df0) * df) if df > 0 else 1.0,
            "rmsea_robust": math.sqrt(max(x3 / n_rmsea / df3 - c3 / n_rmsea, 0)) * math.sqrt(n_groups) if df3 > 0 else 0.0}


def thresholds_shared(extras: Extras) -> bool:
    """Whether thresholds are constrained equal across groups: lavaan 0.6-14 then gives no
    robust CFI/TLI/RMSEA (its catML model keeps constraints on the thresholds it removed; fixed
    in 0.6-20, with a df that counts the scaling factors the correlations cannot identify), and
    neither does govsurvey, whose values would have no reference to be checked against."""
    return any(tp is extras.th_par[0] for tp in extras.th_par[1:])


ROBUST_NOTE = ("Robust (catML) CFI/TLI/RMSEA are not given once thresholds are equal across groups (lavaan 0.6-14 gives "
               "none either); compare the scaled CFI/TLI/RMSEA and the scaled-shifted χ² difference instead.")


def _orth_complement(h: np.ndarray) -> np.ndarray:
    """An orthonormal basis (columns) of the orthogonal complement of h's column space."""
    q, _ = np.linalg.qr(h, mode="complete")
    rank = np.linalg.matrix_rank(h)
    return q[:, rank:]


def satorra2000(h1: GroupedFit, h0: GroupedFit) -> dict[str, float]:
    """The scaled-shifted difference test of the nested fit ``h0`` against ``h1`` (Satorra,
    2000), as ``lavTestLRT`` reports for WLSMV (``method = "satorra.2000"``, ``A.method =
    "delta"``): A spans the constraints, the orthogonal complement of Δ₁⁺Δ₀; with the
    information P of h1 and M = P⁻¹Aᵀ(AP⁻¹Aᵀ)⁺AP⁻¹, tr(UΓ) = Σ_g f_g tr(W_gΓ_gW_gΔ_gMΔ_gᵀ),
    tr((UΓ)²) from U = VΔMΔᵀV on the stacked groups with ⊕ f_gΓ_g; a = √(m/tr((UΓ)²)),
    b = m − a·tr(UΓ), T_d = a(T₀ − T₁) + b."""
    p1, p0 = h1.problem, h0.problem
    m = h0.df - h1.df
    if m <= 0:
        return {"chisq_diff": h0.chisq - h1.chisq, "df_diff": float(m), "p_diff": float("nan")}
    groups = range(len(p1.stats))
    jac1 = [p1.jacobian(h1.theta, g) for g in groups]
    d_all = np.vstack(jac1)
    d0 = np.vstack([p0.jacobian(h0.theta, g) for g in groups])
    a = _orth_complement(np.linalg.pinv(d_all) @ d0).T
    # lavaan's Γ and W here are the unrescaled N·ACOV and its diagonal's inverse (lavTech "Gamma",
    # "WLS.V"), unlike the fit's test statistics (matching lavTestLRT only so)
    gammas = [s.nacov for s in p1.stats]
    weights = _weights(p1.stats, h1.extra.get("estimator", "WLSMV"), raw=True)
    info = sum(p1.fg[g] * (jac1[g].T @ (weights[g][:, None] * jac1[g])) for g in groups)
    p_inv = np.linalg.inv(info)
    mid = p_inv @ a.T @ np.linalg.pinv(a @ p_inv @ a.T) @ a @ p_inv
    tr1 = sum(p1.fg[g] * float(np.trace((weights[g][:, None] * gammas[g] * weights[g][None, :]) @ jac1[g] @ mid
                                        @ jac1[g].T)) for g in groups)
    v_all = np.concatenate(weights)
    u_all = (v_all[:, None] * d_all) @ mid @ (d_all.T * v_all[None, :])
    ug = u_all @ linalg.block_diag(*[p1.fg[g] * gammas[g] for g in groups])
    tr2 = float(np.sum(ug * ug.T))
    a_s = math.sqrt(m / tr2)
    t = (h0.chisq - h1.chisq) * a_s + (m - a_s * tr1)
    return {"chisq_diff": t, "df_diff": float(m), "p_diff": float(special.chdtrc(m, t)), "diff_a": a_s,
            "diff_b": m - a_s * tr1}


def std_grouped(prob: GroupedProblem, theta: np.ndarray) -> np.ndarray:
    """std.all of the model's rows in every group: each latent response's variance is 1/Δ²
    (delta parameterization: its residual variance 1/Δ² − (ΛΨΛᵀ)_jj, not a parameter)."""
    from govsurvey.psychometrics.sem.fit import _std_group

    m, q0 = prob.model, prob.model.q
    out = np.empty((1, len(m.pt.rows)))
    idx = np.arange(m.p)
    for g in range(len(prob.stats)):
        a, s, mm = m.matrices(theta[:q0], g)
        b = np.linalg.inv(np.eye(m.v) - a)
        s = s.copy()
        if not prob.theta_param:
            tot = np.diag(b @ s @ b.T)
            d = prob.scales(theta, g, np.diag(tot))
            s[idx, idx] = 1.0 / d ** 2 - (tot[idx] - s[idx, idx])
        tot = np.diag(b @ s @ b.T)
        _std_group(m, g, a[None], s[None], mm[None], tot[None], out)
    return out[0]


def _residual_values(prob: GroupedProblem, theta: np.ndarray, std: np.ndarray) -> dict[int, float]:
    """The delta parameterization's (fixed) residual variances of the latent responses, per row."""
    if prob.theta_param:
        return {}
    out = {}
    m = prob.model
    for g in range(len(prob.stats)):
        sig = m.implied(theta[: m.q], g)["sigma"]
        d = prob.scales(theta, g, sig)
        for k in m.group_rows[g]:
            r = m.pt.rows[k]
            if r.op == "~~" and r.lhs == r.rhs and r.lhs in m.pt.ov:
                out[k] = float(std[k] / d[m.pt.ov.index(r.lhs)] ** 2)
    return out


def grouped_columns(fit: GroupedFit, group_names: list[str]) -> dict[str, list]:
    """The estimates table: the model's rows per group, then per group the thresholds
    (``item | t1``…) and the scaling factors (``item ~*~ item``; implied, not parameters, under
    the theta parameterization)."""
    from govsurvey.psychometrics.sem.fit import _jacobian

    prob, theta, vcov = fit.problem, fit.theta, fit.vcov
    std_fn = lambda t: std_grouped(prob, t)  # noqa: E731
    std = std_fn(theta)
    jac = _jacobian(std_fn, theta)
    std_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    resid = _residual_values(prob, theta, std)
    cols: dict[str, list] = {key: [] for key in ("lhs", "op", "rhs", "group", "label", "free", "estimate", "se", "z", "p",
                                                 "std_all", "std_se")}

    def add(lhs, op, rhs, group, label, par, value, sa, sse):
        free = par >= 0
        est = float(theta[par]) if free else float(value)
        s = float(se[par]) if free else 0.0
        z = est / s if free and s > 0 else float("nan")
        p = float(2 * special.ndtr(-abs(z))) if z == z else float("nan")
        for key, v in zip(cols, (lhs, op, rhs, group, label or "", free, est, s, z, p, sa, sse)):
            cols[key].append(v)

    for k, r in enumerate(prob.model.pt.rows):
        add(r.lhs, r.op, r.rhs, group_names[r.group], r.label, r.par if r.free else -1,
            resid.get(k, r.value or 0.0), float(std[k]), float(std_se[k]))
    for g, name in enumerate(group_names):
        sig = prob.model.implied(theta[: prob.model.q], g)["sigma"]
        d = prob.scales(theta, g, sig)
        for pos, (item, t) in enumerate(_threshold_names(prob)):
            par = int(prob.extras.th_par[g][pos])
            add(item, "|", t, name, None, par, 0.0, float(theta[par] * d[prob.th_item[pos]]),
                float(se[par] * d[prob.th_item[pos]]))
        for j, item in enumerate(prob.model.pt.ov):       # theta: the scales 1/√Σⱼⱼ the parameters imply
            par = -1 if prob.theta_param else int(prob.extras.scale_par[g][j])
            add(item, "~*~", item, name, None, par, float(d[j]), float("nan"), float("nan"))
    return cols


def _threshold_names(prob: GroupedProblem) -> list[tuple[str, str]]:
    names, count = [], {}
    for i in prob.th_item:
        item = prob.model.pt.ov[i]
        count[item] = count.get(item, 0) + 1
        names.append((item, f"t{count[item]}"))
    return names


def wu_estabrook_step(group_equal: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``group_equal`` as one of Wu & Estabrook's steps (thresholds, then loadings, then
    intercepts); anything else is a :class:`SpecificationError` naming the allowed sets."""
    from govsurvey.errors import SpecificationError

    chosen = tuple(group_equal)
    for step in WU_ESTABROOK_STEPS.values():
        if set(chosen) == set(step):
            return step
    raise SpecificationError(
        f"group_equal={list(chosen)} is not a step of the ordinal invariance sequence (Wu & Estabrook, 2016). "
        "Fix: use [], ['thresholds'], ['thresholds', 'loadings'] or ['thresholds', 'loadings', 'intercepts'] "
        "(thresholds are constrained before loadings, loadings before intercepts).")


def group_stats(xs: list[np.ndarray], names: tuple[str, ...], labels: list[str], msgs: list[str]) -> list[OrdinalStats]:
    """Each group's thresholds, polychorics and Γ; every item must have the same categories in
    every group (as lavaan requires), else a :class:`DataValidationError` naming them."""
    from govsurvey.errors import DataValidationError
    from govsurvey.psychometrics.polychoric import ordinal_sample_stats

    levels = [[np.unique(x[:, j]) for j in range(x.shape[1])] for x in xs]
    bad = [(names[j], labels[g]) for g in range(1, len(xs)) for j in range(len(names))
           if not np.array_equal(levels[g][j], levels[0][j])]
    if bad:
        where = "; ".join(f"{item} in group {grp!r}" for item, grp in bad[:5])
        raise DataValidationError(
            f"Ordinal items must use the same categories in every group; they do not for {where} "
            f"(the first group, {labels[0]!r}, is the reference). Fix: merge the sparse categories (e.g. recode 1 and 2 "
            "together) before comparing groups.")
    out = []
    for x, label in zip(xs, labels):
        smp = ordinal_sample_stats(x, names=names)
        msgs.extend(f"group {label}: {w}" for w in smp.warnings)
        out.append(OrdinalStats(list(smp.th), smp.rho, smp.wls_obs, smp.nacov, x.shape[0]))
    return out


def fit_ordinal_groups(xs: list[np.ndarray], labels: list[str], pt: ParTable, step: tuple[str, ...], *, estimator: str,
                       parameterization: str, msgs: list[str]):
    """Fit one step of the sequence to the groups' complete cases ``xs`` (cases × pt.ov
    categories); a :class:`~.fit.FitResult` whose ``extra["grouped_fit"]`` feeds :func:`satorra2000`."""
    from govsurvey.psychometrics.sem.fit import FitResult

    stats = group_stats(xs, tuple(pt.ov), labels, msgs)
    wpt, extras = wu_estabrook(pt, [len(t) for t in stats[0].thresholds], step, parameterization)
    fit = fit_grouped(wpt, stats, extras, estimator=estimator, parameterization=parameterization)
    measures = grouped_measures(fit, estimator=estimator)
    if thresholds_shared(extras):
        msgs.append(ROBUST_NOTE)
    columns = grouped_columns(fit, labels)
    q0 = fit.problem.model.q
    return FitResult(pt=wpt, model=fit.problem.model, theta=fit.theta[:q0], vcov=fit.vcov[:q0, :q0], fit=measures,
                     columns=columns, n_obs=int(sum(s.n for s in stats)), groups=list(labels), estimator=estimator,
                     converged=True, warnings=msgs,
                     extra={"iterations": fit.iterations, "missing": {"method": "listwise", "n_used": int(sum(s.n for s in stats))},
                            "parameterization": parameterization, "grouped_fit": fit, "group_equal": step,
                            "identification": "std.lv (Wu & Estabrook, 2016)"})
