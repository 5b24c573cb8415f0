"""Full-information maximum likelihood (FIML, lavaan's ``missing = "ml"``).

Each case contributes the normal likelihood of the values it has (:mod:`govsurvey.missing`),
so no case with at least one observed model variable is thrown away. With the saturated
("H1") estimates (μ̂, Σ̂) from EM, the discrepancy minimised is

    F(θ) = 2 [ℓ(μ̂, Σ̂) − ℓ(μ(θ), Σ(θ))] / N,      χ² = N·F,

as lavaan's. Writing f_k = log|Σ_oo| + tr(Σ_oo⁻¹ C_k) with C_k = S_k + e_k e_kᵀ, e_k = x̄_k − μ_o,
and the padded inverses of :mod:`govsurvey.missing` (P_k = Σ̃_k⁻¹, V_k = P_k C_k P_k), the
derivatives along dΣ, dμ are

    ∂f = tr((P − V) dΣ) − 2 eᵀP dμ,
    ∂²f[dΣ₁, dΣ₂] = tr(P dΣ₁ V dΣ₂) + tr(V dΣ₁ P dΣ₂) − tr(P dΣ₁ P dΣ₂),
    ∂²f[dμ₁, dμ₂] = 2 dμ₁ᵀ P dμ₂,        ∂²f[dΣ, dμ] = 2 (Pe)ᵀ dΣ (P dμ),

so the exact (observed) Hessian in θ is Jᵀ H J plus the model's second derivatives weighted
by the gradient in (μ, Σ); the pattern sums inside H are two matrix products over all
patterns at once. The expected information (C_k → Σ_oo, e_k → 0) is the first term's
−tr(P dΣ₁ P dΣ₂) → +tr(…) and the mean block. Estimation is Newton's method on the observed
Hessian (Fisher scoring where it is not positive definite); standard errors use the observed
information, lavaan's default under ``missing = "ml"``.

References: Arbuckle (1996); Enders (2010), *Applied Missing Data Analysis*; Savalei (2010)
for the observed information; lavaan's ``lav_mvnorm_missing_*`` functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import sparse

from govsurvey.errors import NotPositiveDefiniteError
from govsurvey._numeric import pairwise_covariances
from govsurvey.missing import LOG_2PI, Patterns, _inverses, missing_loglik, pattern_terms
from govsurvey.psychometrics.sem.engine import GroupData, Model
from govsurvey.psychometrics.sem.partable import ParTable, Row, n_moments

__all__ = ["FimlGroup", "FimlModel", "Saturated", "saturated_table"]


class FimlGroup(GroupData):
    """A group's data for FIML: ``x`` the kept cases (NaN = missing), ``patterns`` their
    missing-data patterns; ``mean``/``cov`` are the saturated (EM) estimates."""

    def __init__(self, x: np.ndarray, patterns: Patterns, mean: np.ndarray, cov: np.ndarray) -> None:
        super().__init__(x=x, n=patterns.n_total, mean=mean, cov=cov)
        self.patterns = patterns
        self.loglik_h1 = missing_loglik(patterns, mean, cov)


class FimlModel(Model):
    """:class:`Model` with the casewise (FIML) likelihood; Newton's method also with a mean
    structure (the observed Hessian is exact)."""

    newton_with_means = True

    def __init__(self, pt: ParTable, groups: list[FimlGroup]) -> None:
        super().__init__(pt, groups)
        self.loglik_h1 = sum(g.loglik_h1 for g in groups)
        self._has_paths = any(r.free and r.op in ("=~", "~") for r in pt.rows)

    def loglik(self, theta: np.ndarray) -> float:
        total = 0.0
        for g, gd in enumerate(self.groups):
            imp = self.implied(theta, g)
            total += missing_loglik(gd.patterns, imp["mu"], imp["sigma"])
        return total

    def objective(self, theta: np.ndarray) -> float:
        try:
            return 2.0 * (self.loglik_h1 - self.loglik(theta)) / self.n_total
        except NotPositiveDefiniteError:
            return np.inf

    def gradient_and_info(self, theta: np.ndarray, *, with_info: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        _, grad, info, _ = self._newton_parts(theta, second_order=False, require_pd=False, with_info=with_info)
        return grad, info

    def observed_hessian(self, theta: np.ndarray) -> np.ndarray:
        """The exact Hessian of F (module docstring)."""
        return self._newton_parts(theta, second_order=True, require_pd=False)[3]

    def _newton_parts(self, theta: np.ndarray, *, second_order: bool = True, require_pd: bool = True,
                      with_info: bool = True) -> tuple[float, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """F, gradient, expected information (only when ``second_order`` is False: Newton's
        steps need the observed Hessian, Fisher's fallback asks for the expected one through
        :meth:`gradient_and_info`) and the observed Hessian. The products with the p² × p²
        pattern sums go through a sparse dΣ/dθ (a loading moves one row and column of Σ)."""
        q, p, n = self.q, self.p, self.n_total
        with_info = with_info and not second_order
        grad = np.zeros(q)
        info = np.zeros((q, q)) if with_info else None
        hess = np.zeros((q, q)) if second_order else None
        f = 2.0 * self.loglik_h1 / n
        for g, gd in enumerate(self.groups):
            imp = self.implied(theta, g)
            try:
                t = pattern_terms(gd.patterns, imp["mu"], imp["sigma"], weight=1.0 / n)
            except NotPositiveDefiniteError:
                if require_pd:
                    return np.inf, None, None, None
                raise
            f += t.f + float(np.sum(gd.patterns.n * gd.patterns.mask.sum(axis=1))) * LOG_2PI / n
            dsig, dmu = self.derivatives(theta, g, imp)
            dflat = dsig.reshape(q, p * p)
            grad += dflat @ t.m.ravel() - 2 * dmu @ t.v
            if not (with_info or second_order):
                continue
            blocks = _kron_blocks(t, gd.patterns.n / n, second_order)
            dsp = sparse.csr_matrix(dflat)
            mean_part = 2 * dmu @ np.einsum("k,kij->ij", gd.patterns.n / n, t.inv) @ dmu.T
            if with_info:
                info += _sandwich(dsp, blocks["expected"]) + mean_part
            if second_order:
                cross = (dsp @ blocks["cross"]) @ dmu.T
                hess += (_sandwich(dsp, blocks["observed"]) + mean_part + cross + cross.T
                         + self._second_order(theta, g, t.m, t.v))
        if hess is not None:
            hess = (hess + hess.T) / 2
        return f, grad, None if info is None else (info + info.T) / 2, hess

    def _second_order(self, theta: np.ndarray, g: int, m: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Σ_ab-terms of the Hessian: tr(M Σ_ab) − 2 vᵀ μ_ab over pairs of parameters. The Σ part
        is :meth:`Model._second_term`; with μ = FBm and ∂B/∂A_ij = B e_i e_jᵀ B,

            ∂²μ/∂A_ij∂A_kl = (FB)_·k B_li (Bm)_j + (FB)_·i B_jk (Bm)_l,   ∂²μ/∂A_ij∂m_k = (FB)_·i B_jk,

        zero for every other pair (Σ and μ are linear in variances, covariances and means)."""
        if not self._has_paths:
            return np.zeros((self.q, self.q))
        imp = self.implied(theta, g)
        plan = self._hessian_plan(g)
        cell = self._second_term(imp, m, plan)
        kind, ii, jj = plan["kind"], plan["i"], plan["j"]
        paths, means = np.flatnonzero(kind <= 1), np.flatnonzero(kind == 3)
        if self.pt.meanstructure and len(paths):
            b = imp["B"]
            fbv = v @ imp["FB"]                       # vᵀFB, one value per variable
            bm = b @ imp["m"]
            i, j = ii[paths], jj[paths]
            x = fbv[i][:, None] * b[j[:, None], i[None, :]] * bm[j][None, :]   # x_ab = (vᵀFB)_i B_jk (Bm)_l
            cell[np.ix_(paths, paths)] -= 2 * (x + x.T)
            if len(means):
                pm = fbv[i][:, None] * b[j[:, None], ii[means][None, :]]
                cell[np.ix_(paths, means)] -= 2 * pm
                cell[np.ix_(means, paths)] -= 2 * pm.T
        return self._to_parameters((cell + cell.T) / 2, plan)

    def _to_parameters(self, cell: np.ndarray, plan: dict[str, Any]) -> np.ndarray:
        """A matrix over a group's free cells summed into one over the parameters (cells that
        share a parameter — equality constraints — add up)."""
        if plan["identity"]:
            return cell
        if plan["permutation"] is not None:
            order = plan["permutation"]
            return cell[np.ix_(order, order)]
        inc = np.zeros((len(plan["par"]), self.q))
        inc[np.arange(len(plan["par"])), plan["par"]] = 1.0
        return inc.T @ cell @ inc

    def casewise_scores(self, theta: np.ndarray, g: int) -> np.ndarray:
        """∂ log f(x_i,o; θ)/∂θ for every kept case of group g (N_g × q):
        −½ [tr(Σ_oo⁻¹ Σ_a) − zᵀ Σ_a z] + zᵀ μ_a with z = Σ_oo⁻¹ (x_o − μ_o)."""
        gd = self.groups[g]
        pat = gd.patterns
        imp = self.implied(theta, g)
        t = pattern_terms(pat, imp["mu"], imp["sigma"])
        dsig, dmu = self.derivatives(theta, g, imp)
        q, p = self.q, self.p
        dflat = dsig.reshape(q, p * p)
        dev = np.where(np.isnan(gd.x), 0.0, gd.x - imp["mu"])
        z = np.einsum("nij,nj->ni", t.inv[pat.case_pattern], dev)
        t1 = (t.inv.reshape(-1, p * p) @ dflat.T)[pat.case_pattern]
        quad = (z[:, :, None] * z[:, None, :]).reshape(-1, p * p) @ dflat.T
        return -0.5 * (t1 - quad) + z @ dmu.T


def _sandwich(dsp: sparse.csr_matrix, h: np.ndarray) -> np.ndarray:
    """D H Dᵀ for a sparse D (q × p²) and a dense H (p² × p²)."""
    left = np.asarray((dsp @ h))               # q × p²
    return np.asarray((dsp @ left.T)).T


def _kron_blocks(t: Any, w: np.ndarray, second_order: bool) -> dict[str, np.ndarray]:
    """The pattern sums of the Hessian in (vec Σ, μ) as p² × p² (and p² × p) matrices H with
    ∂²f[dΣ₁, dΣ₂] = vec(dΣ₁)ᵀ H vec(dΣ₂): a term tr(X dΣ₁ Y dΣ₂) has H[(i,j),(k,l)] = X_li Y_jk,
    i.e. the product XᵀY over patterns rearranged."""
    k, p, _ = t.inv.shape
    inv = t.inv.reshape(k, p * p)
    winv = inv * w[:, None]

    def arrange(prod: np.ndarray) -> np.ndarray:       # prod[(l,i),(j,k)] → H[(i,j),(k,l)]
        return prod.reshape(p, p, p, p).transpose(1, 2, 3, 0).reshape(p * p, p * p)

    out = {"expected": arrange(winv.T @ inv)}
    if second_order:
        vmat = (t.inv @ t.c @ t.inv).reshape(k, p * p)
        prod = winv.T @ (vmat - inv) + (vmat * w[:, None]).T @ inv
        out["observed"] = arrange(prod)
        pe = np.einsum("kij,kj->ki", t.inv, t.e) * w[:, None]
        out["cross"] = 2 * (pe.T @ inv).reshape(p * p, p)      # L[(i,j),k] = 2 Σ w (Pe)_i P_jk
    return out


def saturated_table(pt: ParTable) -> ParTable:
    """The unrestricted model of ``pt``'s observed variables: every mean, variance and
    covariance free (fixed.x covariates kept fixed), per group."""
    rows: list[Row] = []
    k = 0
    x = set(pt.ov_x)
    for g in range(pt.n_groups):
        for i, a in enumerate(pt.ov):
            for b in pt.ov[i:]:
                fixed = a in x and b in x
                rows.append(Row(a, "~~", b, g, not fixed, None, None, None, user=False, exo_fixed=fixed,
                                par=-1 if fixed else k))
                k += 0 if fixed else 1
        for a in pt.ov:
            fixed = a in x
            rows.append(Row(a, "~1", "", g, not fixed, None, None, None, user=False, exo_fixed=fixed, par=-1 if fixed else k))
            k += 0 if fixed else 1
    return ParTable(rows=rows, ov=pt.ov, lv=[], ov_x=pt.ov_x, n_groups=pt.n_groups, meanstructure=True, n_free=k,
                    defined=[], labels={})


def saturated_theta(sat: ParTable, groups: list[GroupData], moments: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """θ of :func:`saturated_table` at given means and covariances per group."""
    theta = np.zeros(sat.n_free)
    for r in sat.rows:
        if r.free:
            mu, sigma = moments[r.group]
            i = sat.ov.index(r.lhs)
            theta[r.par] = mu[i] if r.op == "~1" else sigma[i, sat.ov.index(r.rhs)]
    return theta


def loglik_x(gd: GroupData, x_idx: list[int]) -> float:
    """The log-likelihood of the (complete) fixed.x covariates at their sample moments."""
    if not x_idx:
        return 0.0
    cov = gd.cov[np.ix_(x_idx, x_idx)]
    return -gd.n / 2 * (len(x_idx) * LOG_2PI + float(np.linalg.slogdet(cov)[1]) + len(x_idx))


def baseline_loglik(gd: FimlGroup, x_idx: list[int]) -> float:
    """The independence model's log-likelihood under FIML in closed form: each other variable's
    available-case normal likelihood (its mean and N-divisor variance over the cases that have
    it), the fixed.x block at its sample moments."""
    total = loglik_x(gd, x_idx)
    for j in range(gd.cov.shape[0]):
        if j in x_idx:
            continue
        col = gd.x[:, j]
        col = col[~np.isnan(col)]
        var = float(np.mean((col - col.mean()) ** 2))
        total += -len(col) / 2 * (LOG_2PI + math.log(var) + 1)
    return total


def robust_trace(model: Model, theta: np.ndarray, a_inv: np.ndarray | None = None) -> tuple[np.ndarray, float, np.ndarray]:
    """The sandwich's parts: A⁻¹ (A the unit observed information, ½ ∂²F; ``a_inv`` when the
    caller has it), the trace Σ_g (N_g/N) tr(A⁻¹ B_g) with B_g the mean outer product of
    group g's casewise scores, and B = Σ_g s_gᵀ s_g / N."""
    n = model.n_total
    if a_inv is None:
        a_inv = _unit_information_inverse(model.observed_hessian(theta))
    scores = [model.casewise_scores(theta, g) for g in range(len(model.groups))]
    b0 = sum(s.T @ s for s in scores) / n
    trace = sum((gd.n / n) * np.sum((s.T @ s / gd.n) * a_inv.T) for gd, s in zip(model.groups, scores))
    return a_inv, float(trace), b0


def _unit_information_inverse(hessian: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(0.5 * hessian)
    except np.linalg.LinAlgError:
        raise NotPositiveDefiniteError("The observed information matrix is singular; the model may not be identified.") from None


class Saturated:
    """The unrestricted model of a FIML fit at its EM estimates, built once per fit: its unit
    observed information W_m (and inverse) for the corrected tests and, on first use (MLR),
    tr(A₁⁻¹B₁) and the first-order information J_m (the casewise scores are costly)."""

    def __init__(self, pt: ParTable, groups: list[FimlGroup]) -> None:
        self.table = saturated_table(pt)
        self.model = FimlModel(self.table, groups)
        self.theta = saturated_theta(self.table, groups, [(gd.mean, gd.cov) for gd in groups])
        hess = self.model.observed_hessian(self.theta)
        self.wm = 0.5 * hess
        self.wmi = _unit_information_inverse(hess)
        self._first_order: tuple[float, np.ndarray] | None = None

    def first_order(self) -> tuple[float, np.ndarray]:
        """tr(A₁⁻¹B₁) and J_m = Σ_g s_gᵀ s_g / N."""
        if self._first_order is None:
            _, trace, jm = robust_trace(self.model, self.theta, self.wmi)
            self._first_order = (trace, jm)
        return self._first_order


def fiml_groups(parts: list[Any], pt: ParTable, names: list[str], msgs: list[str]) -> tuple[list[FimlGroup], dict[str, Any]]:
    """Each group's kept cases, patterns and EM estimates. Cases with no model variable
    observed are left out, and — as lavaan with fixed.x — cases missing a fixed.x covariate
    (the model is conditional on the covariates, whose values it needs)."""
    from govsurvey.missing import em_moments

    x_idx = [pt.ov.index(v) for v in pt.ov_x]
    groups, n_empty, n_x, n_incomplete, n_patterns = [], 0, 0, 0, 0
    for name, part in zip(names, parts):
        x = part.x if part.names == pt.ov else part.x[:, [part.names.index(v) for v in pt.ov]]
        if x_idx:
            bad = np.isnan(x[:, x_idx]).any(axis=1)
            n_x += int(bad.sum())
            x = x[~bad]
        patterns = Patterns.from_array(x)
        n_empty += patterns.n_empty
        if patterns.n_total < 3:
            raise_few(name, patterns.n_total)
        check_fiml_data(x, pt.ov, name)
        mu, sigma = _em_named(patterns, pt.ov, name, em_moments)
        kept = x[patterns.kept]
        n_incomplete += int(np.isnan(kept).any(axis=1).sum())
        n_patterns += len(patterns.n)
        groups.append(FimlGroup(kept, patterns, mu, sigma))
    if n_x:
        msgs.append(f"{n_x} case(s) with a missing value on an exogenous covariate ({', '.join(pt.ov_x)}) were left out: "
                    "the model is conditional on the covariates (fixed.x), as lavaan's. Fix: if those values matter, "
                    "make the covariates random by naming their variance (e.g. 'x ~~ x').")
    if n_empty:
        msgs.append(f"{n_empty} case(s) with every model variable missing were left out.")
    used = sum(g.n for g in groups)
    return groups, {"method": "fiml", "n_used": used, "n_dropped": n_empty + n_x, "n_incomplete": n_incomplete,
                    "n_patterns": n_patterns}


def check_fiml_data(x: np.ndarray, ov: list[str], name: str) -> None:
    """Refuse, by name, what the saturated (EM) estimates cannot be computed for: a variable with
    fewer than two observed values or no variance, or two variables never observed together."""
    from govsurvey.errors import DataValidationError, preview

    where = "" if name == "all" else f" in group {name!r}"
    observed = ~np.isnan(x)
    few = [ov[j] for j in np.flatnonzero(observed.sum(axis=0) < 2)]
    if few:
        raise DataValidationError(f"missing='fiml': variable(s) {preview(few)}{where} have fewer than two observed values, so "
                                  "their mean and variance cannot be estimated. Fix: drop them from the model.")
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.nanmax(x, axis=0) - np.nanmin(x, axis=0)
    flat = [ov[j] for j in np.flatnonzero(spread == 0)]
    if flat:
        raise DataValidationError(f"missing='fiml': variable(s) {preview(flat)}{where} have the same value in every case "
                                  "that answered them (no variance). Fix: drop them from the model.")
    i, j = np.nonzero(np.triu(observed.T.astype(float) @ observed.astype(float) == 0, k=1))
    if len(i):
        pairs = [f"{ov[a]} & {ov[b]}" for a, b in zip(i, j)]
        raise DataValidationError(f"missing='fiml': {len(pairs)} pair(s) of variables{where} are never observed together "
                                  f"({preview(pairs)}), so their covariance is not identified from the data (a planned-"
                                  "missing design?). Fix: drop one variable of each pair, or collect cases that answer both.")


def _em_named(patterns: Patterns, ov: list[str], name: str, em_moments) -> tuple[np.ndarray, np.ndarray]:
    """The EM estimates, with errors that name the variables and say what to do."""
    from govsurvey.errors import ConvergenceError, NotPositiveDefiniteError, preview

    where = "" if name == "all" else f" in group {name!r}"
    fix = ("a variable may be a linear combination of others (a duplicate or a total). Fix: drop such variables "
           "(gs.missing_report shows the EM covariance matrix).")
    try:
        mu, sigma, _ = em_moments(patterns)
    except NotPositiveDefiniteError:
        raise NotPositiveDefiniteError(f"missing='fiml': the saturated covariance matrix of {preview(ov)}{where} is "
                                       f"singular: {fix}") from None
    except ConvergenceError:
        raise ConvergenceError(f"missing='fiml': the EM estimates of the saturated model of {preview(ov)}{where} did not "
                               f"converge; the covariance matrix is probably singular at its maximum: {fix}") from None
    eig = np.linalg.eigvalsh(sigma)
    if not eig[0] > 1e-12 * eig[-1]:
        raise NotPositiveDefiniteError(f"missing='fiml': the saturated covariance matrix of {preview(ov)}{where} is "
                                       f"singular (smallest eigenvalue {eig[0]:.3g}): {fix}")
    return mu, sigma


def raise_few(name: str, n: int) -> None:
    from govsurvey.errors import DataValidationError

    where = "" if name == "all" else f" in group {name!r}"
    raise DataValidationError(f"Only {n} case(s){where} have an observed model variable; too few to fit a model.")


def _delta(model: Model, theta: np.ndarray, sat: ParTable) -> np.ndarray:
    """∂(saturated parameters)/∂θ: each free row of ``sat`` (a covariance or a mean of a group)
    as a function of the model's parameters (rows × q)."""
    derivs = [model.derivatives(theta, g) for g in range(len(model.groups))]
    out = np.zeros((sat.n_free, model.q))
    ov = {v: i for i, v in enumerate(sat.ov)}
    for r in sat.rows:
        if r.free:
            dsig, dmu = derivs[r.group]
            out[r.par] = dmu[:, ov[r.lhs]] if r.op == "~1" else dsig[:, ov[r.lhs], ov[r.rhs]]
    return out


def corrected_tests(model: Model, theta: np.ndarray, base: Model, base_theta: np.ndarray, sat: Saturated, *, scaled: bool
                    ) -> dict[str, float]:
    """Zhang & Savalei's (2020) FIML-corrected statistics behind lavaan's robust RMSEA, CFI and
    TLI under missing data (``lav_fit_fiml_corrected``, version "V3" for a scaled test, "V6"
    otherwise): T̃ is the complete-data ML χ² of the saturated (EM) moments at θ̂, its
    correction ĉ = k/df with

        U = W_m − W_m Δ (Δᵀ W_m Δ)⁻¹ Δᵀ W_m,
        k_V3 = tr(U W_m⁻¹ W_c W_m⁻¹ U Γ),   Γ = W_m⁻¹ J_m W_m⁻¹,     k_V6 = tr(W_c W_m⁻¹ U W_m⁻¹),

    W_m, J_m the observed and first-order information of the missing-data saturated model
    (``sat``) and W_c the complete-data one, all at the EM moments (group blocks weighted by
    N_g/N); the same for the independence model."""
    groups = model.groups
    wm, wmi = sat.wm, sat.wmi
    wc = 0.5 * Model(sat.table, groups).gradient_and_info(sat.theta)[1]
    middle = wmi @ wc @ wmi
    gamma = wmi @ sat.first_order()[1] @ wmi if scaled else None      # blocks Γ_g / f_g

    def k_of(m: Model, th: np.ndarray) -> float:
        d = _delta(m, th, sat.table)
        wd = wm @ d
        u = wm - wd @ np.linalg.solve(d.T @ wd, wd.T)
        if scaled:
            return float(np.trace(u @ middle @ u @ gamma))
        return float(np.trace(wc @ wmi @ u @ wmi))

    n = model.n_total
    x3 = n * Model(model.pt, groups).objective(theta)
    x3_null = n * Model(base.pt, groups).objective(base_theta)
    df = n_moments(model.pt) - model.q
    df_null = n_moments(base.pt) - base.q
    return {"chisq": x3, "df": df, "c": k_of(model, theta) / df if df > 0 else float("nan"),
            "chisq_null": x3_null, "df_null": df_null, "c_null": k_of(base, base_theta) / df_null}


def gfi_terms(gd: FimlGroup, sigma: np.ndarray, mu: np.ndarray, x_idx: list[int]) -> tuple[float, float]:
    """eᵀWe and sᵀWs of the GFI under FIML, as lavaan 0.6's: s holds the available-case means
    and the pairwise covariances (each pair's cases, N−1 divisor) rescaled by (N−1)/N — its
    "sample statistics" under missing data — and W is the expected information of the
    missing-data likelihood at the model-implied moments (``h1.information = "structured"``),
    the patterns' informations weighted by n_k/N: ½ tr(E P_k E P_k) + dmᵀ P_k dm. With fixed.x
    covariates (``x_idx``) W has no rows for their means and their own (co)variances, so those
    elements are left out."""
    pat = gd.patterns
    inv, _ = _inverses(pat, sigma)
    w = pat.n / pat.n_total
    mean, cov = available_case_moments(gd.x)

    def quad(c: np.ndarray, m: np.ndarray) -> float:
        c, m = c.copy(), m.copy()
        c[np.ix_(x_idx, x_idx)] = 0.0
        m[x_idx] = 0.0
        a = c[None] @ inv
        pm = np.einsum("kij,j->ki", inv, m)
        return float(w @ (0.5 * np.einsum("kij,kji->k", a, a) + pm @ m))

    return quad(cov - sigma, mean - mu), quad(cov, mean)


def available_case_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Available-case means and pairwise covariances (R's ``cov(use = "pairwise")``) times
    (N−1)/N, N all cases — what lavaan 0.6 keeps as "sample statistics" under missing data."""
    means, cov = pairwise_covariances(x)
    n = x.shape[0]
    return means, cov * (n - 1) / n