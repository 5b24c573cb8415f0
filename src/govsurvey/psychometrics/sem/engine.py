"""Maximum-likelihood estimation of a structural equation model in RAM form.

For group g, with variables ordered observed-then-latent, A holds directed paths (loadings,
regressions), S (co)variances and m intercepts/means; B = (I − A)⁻¹ and

    Σ_g = F B S Bᵀ Fᵀ,     μ_g = F B m.

The ML discrepancy (lavaan's, with N-divisor sample covariances S_g and means x̄_g) is

    F = Σ_g (N_g/N) [log|Σ_g| + tr(S_g Σ_g⁻¹) − log|S_g| − p + (x̄_g − μ_g)ᵀ Σ_g⁻¹ (x̄_g − μ_g)],

χ² = N·F. It is minimised by Fisher scoring with the analytic gradient and the expected
Hessian E[∂²F] = Σ_g w_g [tr(Σ⁻¹ Σ_a Σ⁻¹ Σ_b) + 2 μ_aᵀ Σ⁻¹ μ_b]; standard errors come from
the expected information (N/2)·E[∂²F] (lavaan's defaults for ML with complete data).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from govsurvey.errors import NotPositiveDefiniteError
from govsurvey.psychometrics.sem.partable import ParTable, Row

__all__ = ["GroupData", "Model"]


@dataclasses.dataclass
class GroupData:
    x: np.ndarray          # raw data (N_g × p), observed variables in model order
    n: int
    mean: np.ndarray
    cov: np.ndarray        # N-divisor (ML) sample covariance

    def __post_init__(self) -> None:
        try:
            self.chol_s = np.linalg.cholesky(self.cov)   # S = L Lᵀ, so tr(SΣ⁻¹) = ‖Σ-factor⁻¹ L‖²
        except np.linalg.LinAlgError:
            self.chol_s = np.full_like(self.cov, np.nan)
        self.logdet_s = float(np.linalg.slogdet(self.cov)[1])


class Model:
    def __init__(self, pt: ParTable, groups: list[GroupData]) -> None:
        self.pt = pt
        self.groups = groups
        self.vars = pt.ov + pt.lv
        self.p = len(pt.ov)
        self.v = len(self.vars)
        self.idx = {name: k for k, name in enumerate(self.vars)}
        self.n_total = sum(g.n for g in groups)
        self.q = pt.n_free
        for r in pt.rows:
            if r.exo_fixed:
                gd = groups[r.group]
                i = pt.ov.index(r.lhs)
                if r.op == "~1":
                    r.value = float(gd.mean[i])
                else:
                    r.value = float(gd.cov[i, pt.ov.index(r.rhs)])
        self.rows_by_group = [[r for r in pt.rows if r.group == g] for g in range(pt.n_groups)]
        self.index = [self._index(rows) for rows in self.rows_by_group]
        self._eye = np.eye(self.v)

    def _index(self, rows: list[Row]) -> dict[str, np.ndarray]:
        """Where each row's value goes: kind (0 loading, 1 regression, 2 (co)variance, 3 mean),
        target cell (i, j), free-parameter index (−1 if fixed) and fixed value."""
        kind, ii, jj, par, val = [], [], [], [], []
        for r in rows:
            if r.op == "=~":
                k, i, j = 0, self.idx[r.rhs], self.idx[r.lhs]
            elif r.op == "~":
                k, i, j = 1, self.idx[r.lhs], self.idx[r.rhs]
            elif r.op == "~~":
                k, i, j = 2, self.idx[r.lhs], self.idx[r.rhs]
            else:
                k, i, j = 3, self.idx[r.lhs], self.idx[r.lhs]
            kind.append(k)
            ii.append(i)
            jj.append(j)
            par.append(r.par if r.free else -1)
            val.append(r.value if (not r.free and r.value is not None) else 0.0)
        return {"kind": np.array(kind), "i": np.array(ii), "j": np.array(jj), "par": np.array(par), "value": np.array(val, dtype=float)}

    def batch_matrices(self, thetas: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A, S, m for many parameter vectors at once (b × v × v, b × v × v, b × v)."""
        ix = self.index[g]
        b = thetas.shape[0]
        vals = np.where(ix["par"] >= 0, thetas[:, np.maximum(ix["par"], 0)], ix["value"][None, :])
        a = np.zeros((b, self.v, self.v))
        s = np.zeros((b, self.v, self.v))
        m = np.zeros((b, self.v))
        k = ix["kind"]
        sel = k <= 1
        a[:, ix["i"][sel], ix["j"][sel]] = vals[:, sel]
        sel = k == 2
        s[:, ix["i"][sel], ix["j"][sel]] = vals[:, sel]
        s[:, ix["j"][sel], ix["i"][sel]] = vals[:, sel]
        sel = k == 3
        m[:, ix["i"][sel]] = vals[:, sel]
        return a, s, m

    # ------------------------------------------------------------------ matrices
    def matrices(self, theta: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, s, m = self.batch_matrices(theta[None, :], g)
        return a[0], s[0], m[0]

    def implied(self, theta: np.ndarray, g: int) -> dict[str, np.ndarray]:
        a, s, m = self.matrices(theta, g)
        b = np.linalg.inv(self._eye - a)
        fb = b[: self.p]
        sigma = fb @ s @ fb.T
        mu = fb @ m if self.pt.meanstructure else self.groups[g].mean.copy()
        total = b @ s @ b.T
        return {"A": a, "S": s, "m": m, "B": b, "FB": fb, "sigma": (sigma + sigma.T) / 2, "mu": mu, "total": total}

    def derivatives(self, theta: np.ndarray, g: int, imp: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """dΣ/dθ (q × p × p) and dμ/dθ (q × p) for group g."""
        imp = imp or self.implied(theta, g)
        fb, b, s, m = imp["FB"], imp["B"], imp["S"], imp["m"]
        c = b @ s @ fb.T          # v × p
        ix = self.index[g]
        free = ix["par"] >= 0
        kind, ii, jj, par = ix["kind"][free], ix["i"][free], ix["j"][free], ix["par"][free]
        unique = ix.setdefault("_unique", len(np.unique(par)) == len(par))

        def put(target, where, values):
            if unique:
                target[where] += values
            else:
                np.add.at(target, where, values)

        dsig = np.zeros((self.q, self.p, self.p))
        dmu = np.zeros((self.q, self.p))
        paths = kind <= 1
        if paths.any():
            o = fb[:, ii[paths]].T[:, :, None] * c[jj[paths]][:, None, :]
            put(dsig, par[paths], o + o.transpose(0, 2, 1))
            if self.pt.meanstructure:
                put(dmu, par[paths], fb[:, ii[paths]].T * (b @ m)[jj[paths]][:, None])
        cov = kind == 2
        if cov.any():
            o = fb[:, ii[cov]].T[:, :, None] * fb[:, jj[cov]].T[:, None, :]
            o = np.where((ii[cov] == jj[cov])[:, None, None], o, o + o.transpose(0, 2, 1))
            put(dsig, par[cov], o)
        means = kind == 3
        if means.any():
            put(dmu, par[means], fb[:, ii[means]].T)
        return dsig, dmu

    # ---------------------------------------------------------------- objective
    def objective(self, theta: np.ndarray) -> float:
        """F at θ; +∞ where some Σ_g is not positive definite (a determinant can be positive
        with two negative eigenvalues, so the test is a Cholesky factorisation)."""
        total = 0.0
        for g, gd in enumerate(self.groups):
            imp = self.implied(theta, g)
            try:
                chol = np.linalg.cholesky(imp["sigma"])
            except np.linalg.LinAlgError:
                return np.inf
            logdet = 2.0 * float(np.log(np.diag(chol)).sum())
            z = np.linalg.solve(chol, np.column_stack([gd.chol_s, gd.mean - imp["mu"]]))
            p = self.p
            f = logdet + float((z[:, :p] ** 2).sum()) - gd.logdet_s - p + float((z[:, p] ** 2).sum())
            total += gd.n / self.n_total * f
        return float(total)

    def gradient_and_info(self, theta: np.ndarray, *, with_info: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        grad = np.zeros(self.q)
        info = np.zeros((self.q, self.q)) if with_info else None
        for g, gd in enumerate(self.groups):
            w = gd.n / self.n_total
            imp = self.implied(theta, g)
            inv = np.linalg.inv(imp["sigma"])
            d = gd.mean - imp["mu"]
            dsig, dmu = self.derivatives(theta, g, imp)
            mmat = inv - inv @ (gd.cov + np.outer(d, d)) @ inv
            q, p = dsig.shape[0], dsig.shape[1]
            grad += w * (dsig.reshape(q, p * p) @ mmat.T.reshape(p * p) - 2 * dmu @ (inv @ d))
            if with_info:
                ms = np.matmul(inv, dsig)                              # Σ⁻¹ Σ_a, batched
                # tr(Σ⁻¹Σ_a Σ⁻¹Σ_b) = Σ_ij (Σ⁻¹Σ_a)_ij (Σ⁻¹Σ_b)_ji, as one matrix product
                info += w * (ms.reshape(q, p * p) @ ms.transpose(0, 2, 1).reshape(q, p * p).T + 2 * dmu @ inv @ dmu.T)
        return grad, info

    def hessian(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gradient, expected and observed (exact, analytic) Hessian of F, for models without a
        mean structure (then μ = x̄ and F = Σ_g w_g [log|Σ| + tr(SΣ⁻¹) − log|S| − p]).

        With M = Σ⁻¹ − Σ⁻¹SΣ⁻¹, V = Σ⁻¹SΣ⁻¹ and P_a = Σ⁻¹Σ_a:

            ∂F/∂a = tr(M Σ_a),
            ∂²F/∂a∂b = tr(M Σ_ab) − tr(P_a P_b) + tr(P_a V Σ_b) + tr(P_b V Σ_a),

        and the expected Hessian is tr(P_a P_b). Every Σ_a has rank two, Σ_a = u wᵀ + w uᵀ
        (a path A_ij: u = (FB)_·i, w = (B S (FB)ᵀ)_j·; a covariance S_kl: u = (FB)_·k,
        w = (FB)_·l, halved when k = l), so with Gram matrices G_xy = XᵀΣ⁻¹Y and K_xy = XᵀVY
        of the stacked u's (U) and w's (W):

            tr(P_a P_b) = 2 (G_wu∘G_uw + G_ww∘G_uu)_ab,
            tr(P_a V Σ_b) = (K_wu∘G_uw + K_ww∘G_uu + K_uu∘G_ww + K_uw∘G_wu)_ab,

        which costs O(q²p) instead of O(q²p²). Σ_ab ≠ 0 only for path × path and
        path × (co)variance pairs. For paths A_ij, A_kl and (co)variance S_kl, with
        B = (I − A)⁻¹, T = B S Bᵀ, G = (FB)ᵀ M FB and K = B S G,

            tr(M Σ_{A_ij A_kl}) = 2 (B_li K_jk + B_jk K_li + T_jl G_ki),
            tr(M Σ_{A_ij S_kl}) = 2 (B_jk G_li + [k ≠ l] B_jl G_ki).
        """
        if self.pt.meanstructure:
            raise ValueError("hessian() is for models without a mean structure")
        q = self.q
        grad = np.zeros(q)
        info = np.zeros((q, q))
        hess = np.zeros((q, q))
        for g, gd in enumerate(self.groups):
            wg = gd.n / self.n_total
            imp = self.implied(theta, g)
            inv = np.linalg.inv(imp["sigma"])
            vmat = inv @ gd.cov @ inv
            mmat = inv - vmat
            ix = self.index[g]
            free = ix["par"] >= 0
            kind, ii, jj, par = ix["kind"][free], ix["i"][free], ix["j"][free], ix["par"][free]
            fb = imp["FB"]
            c = imp["B"] @ imp["S"] @ fb.T                        # v × p
            u = fb[:, ii]
            w = np.where((kind <= 1)[None, :], c[jj].T, fb[:, jj])
            w = w * np.where((kind == 2) & (ii == jj), 0.5, 1.0)[None, :]
            w = w * (kind <= 2)[None, :]                         # (mean rows do not move Σ)
            su, sw = inv @ u, inv @ w
            guu, gww, guw = u.T @ su, w.T @ sw, u.T @ sw
            vu, vw = gd.cov @ su, gd.cov @ sw                    # K_xy = (Σ⁻¹X)ᵀ S (Σ⁻¹Y)
            kuu, kww, kuw = su.T @ vu, sw.T @ vw, su.T @ vw
            e = 2 * (guw.T * guw + gww * guu)
            x = kuw.T * guw + kww * guu + kuu * gww + kuw * guw.T
            gcell = 2 * np.sum(u * (mmat @ w), axis=0)
            hcell = x + x.T - e + self._second_term(imp, mmat, kind, ii, jj)
            if len(par) == q and ix.setdefault("_unique", len(np.unique(par)) == len(par)):
                order = np.argsort(par)                       # one cell per parameter: a permutation
                grad += wg * gcell[order]
                info += wg * e[np.ix_(order, order)]
                hess += wg * hcell[np.ix_(order, order)]
            else:                                             # equality constraints: sum the cells
                inc = np.zeros((len(par), q))
                inc[np.arange(len(par)), par] = 1.0
                grad += wg * (gcell @ inc)
                info += wg * (inc.T @ e @ inc)
                hess += wg * (inc.T @ hcell @ inc)
        return grad, (info + info.T) / 2, (hess + hess.T) / 2

    @staticmethod
    def _second_term(imp: dict, mmat: np.ndarray, kind: np.ndarray, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
        """tr(M Σ_ab) over pairs of a group's free cells (kind, row, column; see :meth:`hessian`)."""
        b, s, fb = imp["B"], imp["S"], imp["FB"]
        t = imp["total"]
        gmat = fb.T @ mmat @ fb
        kmat = b @ s @ gmat
        paths = np.flatnonzero(kind <= 1)
        covs = np.flatnonzero(kind == 2)
        n = len(kind)
        cell = np.zeros((n, n))
        if len(paths):
            i, j = ii[paths], jj[paths]
            # rows: (i, j) = first path; columns: (k, l) = second path
            pp = (b[j[None, :], i[:, None]] * kmat[j[:, None], i[None, :]]     # B_li K_jk
                  + b[j[:, None], i[None, :]] * kmat[j[None, :], i[:, None]]   # B_jk K_li
                  + t[j[:, None], j[None, :]] * gmat[i[None, :], i[:, None]])  # T_jl G_ki
            cell[np.ix_(paths, paths)] = 2 * pp
            if len(covs):
                k, l = ii[covs], jj[covs]
                pc = b[j[:, None], k[None, :]] * gmat[l[None, :], i[:, None]]
                pc = pc + np.where((k != l)[None, :], b[j[:, None], l[None, :]] * gmat[k[None, :], i[:, None]], 0.0)
                cell[np.ix_(paths, covs)] = 2 * pc
                cell[np.ix_(covs, paths)] = 2 * pc.T
        return cell

    # --------------------------------------------------------------- estimation
    def start_values(self) -> np.ndarray:
        theta = np.zeros(self.q)
        set_ = np.zeros(self.q, dtype=bool)
        pt = self.pt
        g0 = self.groups[0]
        ov = pt.ov
        # marker-based starts for loadings and latent variances
        markers: dict[str, str] = {}
        for r in pt.rows:
            if r.op == "=~" and r.group == 0 and r.lhs not in markers and r.rhs in ov:
                markers[r.lhs] = r.rhs
        lv_var: dict[str, float] = {}
        for f, mk in markers.items():
            ind = [r.rhs for r in pt.rows if r.op == "=~" and r.lhs == f and r.group == 0 and r.rhs in ov and r.rhs != mk]
            i = ov.index(mk)
            covs = [g0.cov[i, ov.index(y)] for y in ind]
            psi = float(np.mean(covs)) if covs else 0.5 * g0.cov[i, i]
            lv_var[f] = max(psi, 0.05 * g0.cov[i, i])
        for r in pt.rows:
            if not r.free or set_[r.par]:
                continue
            k = r.par
            if r.start is not None:
                theta[k] = r.start
            elif r.op == "=~":
                gd = self.groups[r.group]
                mk = markers.get(r.lhs)
                if mk is not None and r.rhs in ov and mk != r.rhs:
                    theta[k] = gd.cov[ov.index(r.rhs), ov.index(mk)] / lv_var.get(r.lhs, 1.0)
                else:
                    theta[k] = 1.0
            elif r.op == "~~" and r.lhs == r.rhs:
                gd = self.groups[r.group]
                theta[k] = 0.5 * gd.cov[ov.index(r.lhs), ov.index(r.lhs)] if r.lhs in ov else lv_var.get(r.lhs, 0.05)
            elif r.op == "~1" and r.lhs in ov:
                theta[k] = self.groups[r.group].mean[ov.index(r.lhs)]
            else:
                theta[k] = 0.0
            set_[k] = True
        return theta

    def fit(self, theta0: np.ndarray | None = None, *, max_iter: int = 500, tol: float = 1e-10,
            newton: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
        theta = self.start_values() if theta0 is None else theta0.copy()
        f = self.objective(theta)
        if not np.isfinite(f):
            # fall back: inflate residual variances until Σ is positive definite
            for _ in range(20):
                theta = theta * 1.0
                for r in self.pt.rows:
                    if r.free and r.op == "~~" and r.lhs == r.rhs:
                        theta[r.par] = abs(theta[r.par]) * 2 + 0.1
                f = self.objective(theta)
                if np.isfinite(f):
                    break
        if not np.isfinite(f):
            raise NotPositiveDefiniteError("The model-implied covariance matrix is not positive definite at the starting values. Fix: check the model.")
        it = 0
        converged = False
        # Newton steps on the exact Hessian (quadratic convergence, also for misfitting models)
        # where it is available and positive definite; Fisher scoring otherwise.
        newton = newton and not self.pt.meanstructure
        for it in range(1, max_iter + 1):
            if newton:
                grad, info, hess = self.hessian(theta)
            else:
                grad, info = self.gradient_and_info(theta)
            if np.max(np.abs(grad)) < tol:
                converged = True
                break
            step = None
            if newton:
                try:
                    chol = np.linalg.cholesky(hess)
                    step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
                except np.linalg.LinAlgError:
                    step = None
            if step is None:
                try:
                    step = np.linalg.solve(info, grad)
                except np.linalg.LinAlgError:
                    step = np.linalg.lstsq(info, grad, rcond=None)[0]
            alpha = 1.0
            for _ in range(40):
                cand = theta - alpha * step
                fc = self.objective(cand)
                if np.isfinite(fc) and fc <= f + 1e-14 * max(1.0, abs(f)):
                    break
                alpha /= 2
            else:
                break
            if abs(f - fc) < 1e-16 and np.max(np.abs(alpha * step)) < 1e-12:
                theta, f = cand, fc
                grad, info = self.gradient_and_info(theta)
                converged = np.max(np.abs(grad)) < 1e-7
                break
            theta, f = cand, fc
        if not converged:         # (on convergence grad and info are those at theta already)
            grad, info = self.gradient_and_info(theta)
        if not converged and np.max(np.abs(grad)) < 1e-7:
            converged = True
        return theta, {"iterations": it, "converged": converged, "fmin": f, "info": info, "gradient": grad}

    # -------------------------------------------------------------- robust parts
    def observed_hessian(self, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """Hessian of F by central differences of the analytic gradient."""
        hess = np.zeros((self.q, self.q))
        for k in range(self.q):
            e = np.zeros(self.q)
            step = h * max(1.0, abs(theta[k]))
            e[k] = step
            gp, _ = self.gradient_and_info(theta + e, with_info=False)
            gm, _ = self.gradient_and_info(theta - e, with_info=False)
            hess[:, k] = (gp - gm) / (2 * step)
        return (hess + hess.T) / 2

    def casewise_scores(self, theta: np.ndarray, g: int) -> np.ndarray:
        """∂ log f(x_i; θ)/∂θ for every case of group g (N_g × q)."""
        gd = self.groups[g]
        imp = self.implied(theta, g)
        inv = np.linalg.inv(imp["sigma"])
        dsig, dmu = self.derivatives(theta, g, imp)
        z = (gd.x - imp["mu"]) @ inv
        t1 = np.einsum("ij,aji->a", inv, dsig)
        quad = np.einsum("ip,apq,iq->ia", z, dsig, z, optimize=True)
        return -0.5 * (t1[None, :] - quad) + z @ dmu.T


def duplication(p: int) -> np.ndarray:
    """Duplication matrix D with vec(Σ) = D vech(Σ) (vech: lower triangle, column by column)."""
    rows = []
    for j in range(p):
        for i in range(j, p):
            rows.append((i, j))
    d = np.zeros((p * p, len(rows)))
    for k, (i, j) in enumerate(rows):
        d[j * p + i, k] = 1
        d[i * p + j, k] = 1
    return d


def h1_trace(gd: GroupData, meanstructure: bool) -> float:
    """tr(A₁⁻¹ B₁) for the saturated model at the sample moments (unit information)."""
    p = gd.cov.shape[0]
    inv = np.linalg.inv(gd.cov)
    dmat = duplication(p)
    a_sig = 0.5 * dmat.T @ np.kron(inv, inv) @ dmat
    e = gd.x - gd.mean
    z = e @ inv
    outer = np.einsum("ni,nj->nij", z, z) - inv[None]
    s_sig = 0.5 * outer.reshape(gd.n, p * p) @ dmat
    if meanstructure:
        s = np.hstack([z, s_sig])
        a = np.zeros((p + a_sig.shape[0], p + a_sig.shape[0]))
        a[:p, :p] = inv
        a[p:, p:] = a_sig
    else:
        s, a = s_sig, a_sig
    b1 = s.T @ s / gd.n
    return float(np.sum(b1 * np.linalg.inv(a).T))
