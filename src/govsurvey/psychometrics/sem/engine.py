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
import math
from typing import Any

import numpy as np
from scipy import linalg

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


def _one_factor_starts(c: np.ndarray) -> np.ndarray:
    """Approximate one-factor loadings for a stack of covariance blocks (b × k × k): the
    principal-axis start, then one Newton step on ¼ Σ_{i≠j} (c_ij − l_i l_j)² where it lowers
    that loss (:func:`govsurvey.psychometrics.factor.one_factor_uls` iterates to convergence)."""
    from govsurvey.psychometrics.factor import uls_newton_terms, uls_start

    off, _, l = uls_start(c)

    def loss(l: np.ndarray) -> np.ndarray:
        e = off - l[:, :, None] * l[:, None, :]
        e[:, np.arange(l.shape[1]), np.arange(l.shape[1])] = 0.0
        return (e**2).sum(axis=(1, 2))

    grad, hess = uls_newton_terms(off, l)
    with np.errstate(all="ignore"):
        try:
            new = l - np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            new = l
        better = np.isfinite(new).all(axis=1) & (loss(new) < loss(l))
    l = np.where(better[:, None], new, l)
    return l * np.where(l.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)


class Model:
    newton_with_means = False      # Newton's method also with a mean structure (FimlModel)

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
        self.group_rows = [np.array([n for n, r in enumerate(pt.rows) if r.group == g], dtype=int) for g in range(pt.n_groups)]
        latent = set(pt.lv)
        self.is_latent = np.array([name in latent for name in self.vars])
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
        kind_a, ii_a, jj_a, par_a = np.array(kind, dtype=int), np.array(ii, dtype=int), np.array(jj, dtype=int), np.array(par, dtype=int)
        v = self.v
        paths, covs, means = kind_a <= 1, kind_a == 2, kind_a == 3
        free = par_a >= 0
        return {
            "kind": kind_a, "i": ii_a, "j": jj_a, "par": par_a, "value": np.array(val, dtype=float),
            # for matrices(): the rows that are free, and the flat cells of A, S (both triangles) and m they fill
            "_free": np.flatnonzero(free), "_par_free": par_a[free],
            "_paths": np.flatnonzero(paths), "_a_cells": ii_a[paths] * v + jj_a[paths],
            "_covs": np.flatnonzero(covs), "_s_cells": np.concatenate([ii_a[covs] * v + jj_a[covs], jj_a[covs] * v + ii_a[covs]]),
            "_means": np.flatnonzero(means), "_m_cells": ii_a[means],
            # A² = 0 (no variable both receives and sends a path, as in a first-order measurement
            # model): then B = (I − A)⁻¹ = I + A exactly
            "_nilpotent": not (set(ii_a[paths].tolist()) & set(jj_a[paths].tolist())),
        }

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
        """A, S, m for one parameter vector (as :meth:`batch_matrices`, without the batch axis)."""
        ix = self.index[g]
        vals = ix["value"].copy()
        vals[ix["_free"]] = theta[ix["_par_free"]]
        v = self.v
        a = np.zeros(v * v)
        a[ix["_a_cells"]] = vals[ix["_paths"]]
        s = np.zeros(v * v)
        cv = vals[ix["_covs"]]
        s[ix["_s_cells"]] = np.concatenate([cv, cv])
        m = np.zeros(v)
        m[ix["_m_cells"]] = vals[ix["_means"]]
        return a.reshape(v, v), s.reshape(v, v), m

    def implied(self, theta: np.ndarray, g: int) -> dict[str, np.ndarray]:
        a, s, m = self.matrices(theta, g)
        b = self._eye + a if self.index[g]["_nilpotent"] else np.linalg.inv(self._eye - a)
        fb = b[: self.p]
        total = b @ s @ b.T
        total = (total + total.T) / 2
        sigma = total[: self.p, : self.p].copy()
        mu = fb @ m if self.pt.meanstructure else self.groups[g].mean.copy()
        return {"A": a, "S": s, "m": m, "B": b, "FB": fb, "sigma": sigma, "mu": mu, "total": total}

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

    def hessian(self, theta: np.ndarray, *, second_order: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
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

        which costs O(q²p) instead of O(q²p²). (``second_order=False``: the gradient and the
        expected Hessian only, the observed one is None.) Σ_ab ≠ 0 only for path × path and
        path × (co)variance pairs. For paths A_ij, A_kl and (co)variance S_kl, with
        B = (I − A)⁻¹, T = B S Bᵀ, G = (FB)ᵀ M FB and K = B S G,

            tr(M Σ_{A_ij A_kl}) = 2 (B_li K_jk + B_jk K_li + T_jl G_ki),
            tr(M Σ_{A_ij S_kl}) = 2 (B_jk G_li + [k ≠ l] B_jl G_ki).
        """
        _, grad, info, hess = self._newton_parts(theta, second_order=second_order, require_pd=False)
        return grad, info, hess

    def _newton_parts(self, theta: np.ndarray, *, second_order: bool = True, require_pd: bool = True
                      ) -> tuple[float, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """F, its gradient, expected and (``second_order``) observed Hessian at θ (see
        :meth:`hessian`); a Cholesky factorisation of Σ checks it and gives log|Σ|. Where some
        Σ_g is not positive definite F is +∞ and, with ``require_pd``, nothing else is computed."""
        if self.pt.meanstructure:
            raise ValueError("hessian() is for models without a mean structure")
        q = self.q
        grad = np.zeros(q)
        info = np.zeros((q, q))
        hess = np.zeros((q, q))
        fval = 0.0
        for g, gd in enumerate(self.groups):
            wg = gd.n / self.n_total
            imp = self.implied(theta, g)
            try:
                chol = np.linalg.cholesky(imp["sigma"])
            except np.linalg.LinAlgError:
                if require_pd:
                    return np.inf, None, None, None
                fval = np.inf
                inv = np.linalg.inv(imp["sigma"])
            else:
                inv = np.linalg.inv(imp["sigma"])      # (faster than solving with the factor at this size)
                fval += wg * (2.0 * float(np.log(np.diag(chol)).sum()) + float((inv * gd.cov).sum()) - gd.logdet_s - self.p)
            plan = self._hessian_plan(g)
            ii, jj, par = plan["i"], plan["j"], plan["par"]
            n = len(par)
            fb = imp["FB"]
            c = imp["B"] @ imp["S"] @ fb.T                        # v × p
            z = np.empty((self.p, 2 * n))                         # [U W]: the rank-two factors of every Σ_a
            z[:, :n] = fb[:, ii]
            z[:, n:] = np.where(plan["is_path"], c[jj].T, fb[:, jj]) * plan["w_scale"]
            sz = inv @ z
            gz = z.T @ sz                                         # G_xy = XᵀΣ⁻¹Y, all four blocks at once
            guu, guw, gww = gz[:n, :n], gz[:n, n:], gz[n:, n:]
            e = 2 * (guw.T * guw + gww * guu)
            hcell = None
            if second_order:
                kz = sz.T @ (gd.cov @ sz)                         # K_xy = (Σ⁻¹X)ᵀ S (Σ⁻¹Y)
                kuu, kuw, kww = kz[:n, :n], kz[:n, n:], kz[n:, n:]
                gcell = 2 * (np.diagonal(guw) - np.diagonal(kuw))  # tr(M Σ_a) = 2 uᵀMw, M = Σ⁻¹ − Σ⁻¹SΣ⁻¹
                x = kuw.T * guw + kww * guu + kuu * gww + kuw * guw.T
                hcell = x + x.T - e + self._second_term(imp, inv - inv @ gd.cov @ inv, plan)
            else:
                gcell = 2 * (np.diagonal(guw) - np.sum(sz[:, :n] * (gd.cov @ sz[:, n:]), axis=0))
            if plan["identity"]:                              # cells are the parameters, in order
                grad += wg * gcell
                info += wg * e
                if second_order:
                    hess += wg * hcell
            elif plan["permutation"] is not None:             # one cell per parameter: a permutation
                order = plan["permutation"]
                grad += wg * gcell[order]
                info += wg * e[np.ix_(order, order)]
                if second_order:
                    hess += wg * hcell[np.ix_(order, order)]
            else:                                             # equality constraints: sum the cells
                inc = np.zeros((len(par), q))
                inc[np.arange(len(par)), par] = 1.0
                grad += wg * (gcell @ inc)
                info += wg * (inc.T @ e @ inc)
                if second_order:
                    hess += wg * (inc.T @ hcell @ inc)
        return fval, grad, (info + info.T) / 2, ((hess + hess.T) / 2 if second_order else None)

    def _hessian_plan(self, g: int) -> dict[str, Any]:
        """Index arrays for :meth:`hessian` that depend only on the model: group g's free cells
        (kind, row, column, parameter), how they map to parameters, and the gathers and
        scatters of :meth:`_second_term`."""
        ix = self.index[g]
        plan = ix.get("_hessian")
        if plan is not None:
            return plan
        free = ix["par"] >= 0
        kind, ii, jj, par = ix["kind"][free], ix["i"][free], ix["j"][free], ix["par"][free]
        n, v = len(kind), self.v
        unique = len(np.unique(par)) == len(par) and len(par) == self.q
        order = np.argsort(par) if unique else None
        plan = {
            "kind": kind, "i": ii, "j": jj, "par": par,
            "is_path": (kind <= 1)[None, :],
            # w is halved for variances (Σ_a = u uᵀ) and zero for means (they do not move Σ)
            "w_scale": (np.where((kind == 2) & (ii == jj), 0.5, 1.0) * (kind <= 2))[None, :],
            "identity": unique and bool((order == np.arange(n)).all()),
            "permutation": order,
        }
        paths, covs = np.flatnonzero(kind <= 1), np.flatnonzero(kind == 2)
        i, j = ii[paths], jj[paths]
        # rows: the first path (i, j); columns: the second path (k, l) — flat gathers from v × v matrices
        plan["pp"] = (j[None, :] * v + i[:, None], j[:, None] * v + i[None, :],      # B_li, K_jk
                      j[:, None] * v + i[None, :], j[None, :] * v + i[:, None],      # B_jk, K_li
                      j[:, None] * v + j[None, :], i[None, :] * v + i[:, None])      # T_jl, G_ki
        plan["pp_cells"] = (paths[:, None] * n + paths[None, :]).ravel()
        k, l = ii[covs], jj[covs]
        plan["pc"] = (j[:, None] * v + k[None, :], l[None, :] * v + i[:, None],      # B_jk, G_li
                      j[:, None] * v + l[None, :], k[None, :] * v + i[:, None])      # B_jl, G_ki
        plan["pc_offdiag"] = (k != l)[None, :]
        plan["pc_cells"] = (paths[:, None] * n + covs[None, :]).ravel()
        plan["cp_cells"] = (covs[:, None] * n + paths[None, :]).ravel()
        plan["n_paths"], plan["n_covs"] = len(paths), len(covs)
        ix["_hessian"] = plan
        return plan

    def _second_term(self, imp: dict, mmat: np.ndarray, plan: dict[str, Any]) -> np.ndarray:
        """tr(M Σ_ab) over pairs of a group's free cells (see :meth:`hessian`), each term one
        flat gather from a v × v matrix."""
        b, s, fb, t = imp["B"], imp["S"], imp["FB"], imp["total"]
        gmat = fb.T @ mmat @ fb
        kmat = b @ s @ gmat
        n = len(plan["kind"])
        cell = np.zeros(n * n)
        if plan["n_paths"]:
            bl, kl, bf, kf, tf, gf = plan["pp"]
            bv, kv, tv, gv = b.ravel(), kmat.ravel(), t.ravel(), gmat.ravel()
            pp = bv[bl] * kv[kl] + bv[bf] * kv[kf] + tv[tf] * gv[gf]
            cell[plan["pp_cells"]] = 2 * pp.ravel()
            if plan["n_covs"]:
                b1, g1, b2, g2 = plan["pc"]
                pc = bv[b1] * gv[g1] + np.where(plan["pc_offdiag"], bv[b2] * gv[g2], 0.0)
                pc2 = 2 * pc
                cell[plan["pc_cells"]] = pc2.ravel()
                cell[plan["cp_cells"]] = pc2.T.ravel()
        return cell.reshape(n, n)

    # --------------------------------------------------------------- estimation
    def start_values(self, *, refine: bool = True) -> np.ndarray:
        """Marker-based starting values, refined (``refine``) from each congeneric block's
        one-factor solution (:meth:`_block_starts`)."""
        theta = np.zeros(self.q)
        set_ = np.zeros(self.q, dtype=bool)
        pt = self.pt
        g0 = self.groups[0]
        ov = {name: k for k, name in enumerate(pt.ov)}
        # marker-based starts for loadings and latent variances
        indicators: dict[str, list[str]] = {}
        for r in pt.rows:
            if r.op == "=~" and r.group == 0 and r.rhs in ov:
                indicators.setdefault(r.lhs, []).append(r.rhs)
        markers = {f: items[0] for f, items in indicators.items()}
        lv_var: dict[str, float] = {}
        for f, items in indicators.items():
            i = ov[items[0]]
            covs = [float(g0.cov[i, ov[y]]) for y in items[1:] if y != items[0]]
            psi = sum(covs) / len(covs) if covs else 0.5 * g0.cov[i, i]
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
                    theta[k] = gd.cov[ov[r.rhs], ov[mk]] / lv_var.get(r.lhs, 1.0)
                else:
                    theta[k] = 1.0
            elif r.op == "~~" and r.lhs == r.rhs:
                gd = self.groups[r.group]
                theta[k] = 0.5 * gd.cov[ov[r.lhs], ov[r.lhs]] if r.lhs in ov else lv_var.get(r.lhs, 0.05)
            elif r.op == "~1" and r.lhs in ov:
                theta[k] = self.groups[r.group].mean[ov[r.lhs]]
            else:
                theta[k] = 0.0
            set_[k] = True
        if refine:
            for g in range(pt.n_groups):
                self._block_starts(theta, g)
        return theta

    def _block_starts(self, theta: np.ndarray, g: int) -> None:
        """Refine the starts of congeneric blocks from each block's one-factor solution.

        For a factor measured only by observed items (two or more) that load on nothing
        else, the one-factor unweighted least-squares loadings l of the items' covariance
        block give the loadings (scaled to the fixed marker, or to the fixed factor variance),
        the factor variance and the residual variances s_ii − l_i²; free covariances of two
        such factors get the least-squares value Σ λ_iλ_j s_ij / Σ (λ_iλ_j)². This is close to
        lavaan's FABIN-type starts and puts Newton's method near the solution, where it
        converges in a few steps; where a block does not qualify the simple starts stay. With
        two items the product l_i l_j = s_ij is split in proportion to their standard deviations
        (equal loadings for correlations), which keeps a two-indicator factor with a fixed
        variance away from the singular start λ_i = λ_j = 1 (an implied correlation of 1).
        """
        pt, gd = self.pt, self.groups[g]
        ov = {name: k for k, name in enumerate(pt.ov)}
        rows = self.rows_by_group[g]
        loads: dict[str, list[Row]] = {}
        n_factors_of: dict[str, int] = {}
        var_row: dict[str, Row] = {}
        user_start = set()
        for r in rows:
            if r.op == "=~":
                loads.setdefault(r.lhs, []).append(r)
                n_factors_of[r.rhs] = n_factors_of.get(r.rhs, 0) + 1
            elif r.op == "~~" and r.lhs == r.rhs:
                var_row[r.lhs] = r
            if r.free and r.start is not None:
                user_start.add(r.par)
        cov_diag = np.diag(gd.cov)
        lam_matrix = np.zeros((len(pt.ov), len(pt.lv)))   # the blocks' loadings, items × factors
        lv_pos = {f: k for k, f in enumerate(pt.lv)}
        scaled: set[str] = set()
        blocks = {}
        for f, lrows in loads.items():
            items = [r.rhs for r in lrows]
            if not (len(items) < 2 or f not in var_row or any(i not in ov or n_factors_of[i] > 1 for i in items)
                    or len(set(items)) < len(items)):
                blocks[f] = [ov[i] for i in items]
        by_size: dict[int, list[str]] = {}
        for f, pos in blocks.items():
            by_size.setdefault(len(pos), []).append(f)
        uls: dict[str, np.ndarray] = {}
        for f in by_size.pop(2, []):           # two items: l_i l_j = s_ij split by their variances
            i, j = blocks[f]
            sij, ratio = gd.cov[i, j], (gd.cov[i, i] / gd.cov[j, j]) ** 0.25 if gd.cov[j, j] > 0 else 1.0
            if abs(sij) > 1e-8 and ratio > 0:
                uls[f] = np.array([math.sqrt(abs(sij)) * ratio, math.copysign(math.sqrt(abs(sij)) / ratio, sij)])
        for fs in by_size.values():            # blocks of one size together: one batched solve
            pos = np.array([blocks[f] for f in fs])
            found = _one_factor_starts(gd.cov[pos[:, :, None], pos[:, None, :]])
            ok = np.isfinite(found).all(axis=1)
            uls.update((f, l) for f, l, good in zip(fs, found, ok) if good)
        for f, pos in blocks.items():
            if f not in uls:
                continue
            lrows, l = loads[f], uls[f]
            items = [r.rhs for r in lrows]
            frow = var_row[f]
            fixed = [(k, r.value) for k, r in enumerate(lrows) if not r.free and r.value]
            if fixed:                                          # a marker: λ_m = value, ψ = (l_m / value)²
                c = l[fixed[0][0]] / fixed[0][1]
            elif not frow.free and frow.value and frow.value > 0:   # a fixed factor variance
                c = math.sqrt(frow.value)
            else:
                continue
            d = cov_diag[pos]
            resid = d - l * l
            if not abs(c) > 1e-8 * math.sqrt(float(d.sum())) or (resid <= 0.01 * d).any():
                continue                                       # no scale, or a near-Heywood block: simple starts
            lam = l / c
            for k, r in enumerate(lrows):
                if r.free and r.par not in user_start:
                    theta[r.par] = lam[k]
                vr = var_row.get(items[k])
                if vr is not None and vr.free and vr.par not in user_start:
                    theta[vr.par] = resid[k]
            if frow.free and frow.par not in user_start:
                theta[frow.par] = c * c
            lam_matrix[pos, lv_pos[f]] = lam
            scaled.add(f)
        if len(scaled) < 2:
            return
        # ψ_ab = Σ_{i∈a, j∈b} λ_iλ_j s_ij / Σ (λ_iλ_j)², all pairs in one product
        sq = (lam_matrix**2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            psi = (lam_matrix.T @ gd.cov @ lam_matrix) / np.outer(sq, sq)
        for r in rows:
            if (r.op == "~~" and r.lhs != r.rhs and r.free and r.par not in user_start
                    and r.lhs in scaled and r.rhs in scaled):
                theta[r.par] = float(psi[lv_pos[r.lhs], lv_pos[r.rhs]])

    def fit(self, theta0: np.ndarray | None = None, *, max_iter: int = 500, tol: float = 1e-10,
            newton: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
        """Maximise the likelihood from ``theta0`` (default: :meth:`start_values`): Newton's
        method on the exact Hessian for models without a mean structure (``newton``), Fisher
        scoring otherwise (see :meth:`_iterate`)."""
        newton = newton and (self.newton_with_means or not self.pt.meanstructure)
        theta = self.start_values() if theta0 is None else theta0.copy()
        parts = self._evaluate(theta, newton=newton, second_order=False)
        if theta0 is None and not np.isfinite(parts[0]):     # refined starts with Σ not positive definite: the simple ones
            theta = self.start_values(refine=False)
            parts = self._evaluate(theta, newton=newton, second_order=False)
        if not np.isfinite(parts[0]):
            # fall back: inflate residual variances until Σ is positive definite
            for _ in range(20):
                theta = theta * 1.0
                for r in self.pt.rows:
                    if r.free and r.op == "~~" and r.lhs == r.rhs:
                        theta[r.par] = abs(theta[r.par]) * 2 + 0.1
                if np.isfinite(self.objective(theta)):
                    break
            parts = self._evaluate(theta, newton=newton, second_order=False)
        if not np.isfinite(parts[0]):
            raise NotPositiveDefiniteError("The model-implied covariance matrix is not positive definite at the starting values. Fix: check the model.")
        theta, info = self._iterate(theta, parts, newton=newton, max_iter=max_iter, tol=tol)
        if not info["converged"] and not newton:
            theta, info = self._polish(theta, info, tol=tol)
        return theta, info

    def _polish(self, theta: np.ndarray, info: dict[str, Any], *, tol: float, max_iter: int = 50
                ) -> tuple[np.ndarray, dict[str, Any]]:
        """Newton's method on the observed Hessian (central differences of the analytic
        gradient) where Fisher scoring crawls — a mean structure far from the data, e.g. fixed
        intercepts, where the expected information is a poor guide — with a backtracking line
        search; Fisher steps where that Hessian is not positive definite."""
        f, grad = info["fmin"], info["gradient"]
        for it in range(max_iter):
            if np.max(np.abs(grad)) < tol:
                break
            hess = self.observed_hessian(theta)
            try:
                step = linalg.cho_solve((np.linalg.cholesky(hess), True), grad, check_finite=False)
            except np.linalg.LinAlgError:
                step = self._fisher_step(self.gradient_and_info(theta)[1], grad)
            found = self._line_search(theta, f, step, 1.0, 40)
            if found is None:
                break
            theta, f, stalled = found
            grad, _ = self.gradient_and_info(theta, with_info=False)
            if stalled:
                break
        grad, fisher = self.gradient_and_info(theta)
        converged = bool(np.max(np.abs(grad)) < 1e-7)
        return theta, {**info, "iterations": info["iterations"] + it, "converged": converged, "fmin": f,
                       "info": fisher, "gradient": grad}

    def _evaluate(self, theta: np.ndarray, *, newton: bool, second_order: bool
                  ) -> tuple[float, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """F, gradient, expected information and (Newton, ``second_order``) the exact Hessian at
        θ; F = +∞ and nothing else where some Σ_g is not positive definite."""
        if newton:
            return self._newton_parts(theta, second_order=second_order)
        f = self.objective(theta)
        if not np.isfinite(f):
            return f, None, None, None
        grad, info = self.gradient_and_info(theta)
        return f, grad, info, None

    def _line_search(self, theta: np.ndarray, f: float, step: np.ndarray, alpha: float, tries: int
                     ) -> tuple[np.ndarray, float, bool] | None:
        """Backtracking: halve ``alpha`` until F(θ − α·step) does not increase (None after
        ``tries`` halvings); with the new θ and F, say whether the step made no progress at all
        (F and θ unchanged to rounding)."""
        for _ in range(tries):
            cand = theta - alpha * step
            fc = self.objective(cand)
            if np.isfinite(fc) and fc <= f + 1e-14 * max(1.0, abs(f)):
                return cand, fc, bool(abs(f - fc) < 1e-16 and np.max(np.abs(alpha * step)) < 1e-12)
            alpha /= 2
        return None

    @staticmethod
    def _fisher_step(info: np.ndarray, grad: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(info, grad, rcond=None)[0]

    def _iterate(self, theta: np.ndarray, parts: tuple, *, newton: bool, max_iter: int, tol: float
                 ) -> tuple[np.ndarray, dict[str, Any]]:
        """Fisher scoring, or (``newton``) a Fisher-scoring step from the starting values (the
        expected information is positive definite everywhere) and then Newton's method on the
        exact Hessian (quadratic convergence, also for misfitting models; Fisher scoring where
        the Hessian is not positive definite), with a backtracking line search. A full step is
        tried first and evaluated together with the derivatives at the new point (one pass for
        both); close to the solution only the first-order terms are computed until the gradient
        says otherwise. ``parts`` are :meth:`_evaluate` at the start θ (first-order terms suffice)."""
        f, grad, info, hess = parts
        it, converged = 0, False
        for it in range(1, max_iter + 1):
            gmax = np.max(np.abs(grad))
            if gmax < tol:
                converged = True
                break
            if newton and hess is None and it > 1:
                f, grad, info, hess = self._newton_parts(theta)
            step = None
            if hess is not None:
                try:
                    step = linalg.cho_solve((np.linalg.cholesky(hess), True), grad, check_finite=False)
                except np.linalg.LinAlgError:
                    step = None
            if step is None:
                if info is None:                  # (FIML computes the expected information only on demand)
                    info = self.gradient_and_info(theta)[1]
                step = self._fisher_step(info, grad)
            cand = theta - step
            # after a full Newton step from a small gradient the next one is about its square
            fc, g_c, i_c, h_c = self._evaluate(cand, newton=newton, second_order=not gmax < 1e-6)
            if np.isfinite(fc) and fc <= f + 1e-14 * max(1.0, abs(f)):
                tiny = abs(f - fc) < 1e-16 and np.max(np.abs(step)) < 1e-12
                theta, f, grad, info, hess = cand, fc, g_c, i_c, h_c
                if tiny:
                    converged = np.max(np.abs(grad)) < 1e-7
                    break
                continue
            found = self._line_search(theta, f, step, 0.5, 39)   # the full step does not descend: backtrack
            if found is None:
                break
            theta, f, stalled = found
            if stalled:
                grad, info = self.gradient_and_info(theta)
                converged = np.max(np.abs(grad)) < 1e-7
                break
            f, grad, info, hess = self._evaluate(theta, newton=newton, second_order=True)
        if not converged and np.max(np.abs(grad)) < 1e-7:
            converged = True
        return theta, {"iterations": it, "converged": converged, "fmin": f, "info": info, "gradient": grad}

    # -------------------------------------------------------------- robust parts
    def observed_hessian(self, theta: np.ndarray) -> np.ndarray:
        """The exact Hessian of F: :meth:`hessian`'s closed form without a mean structure, the
        FIML one (a single, complete missing-data pattern) with it."""
        if not self.pt.meanstructure:
            return self._newton_parts(theta, second_order=True, require_pd=False)[3]
        return self._complete_fiml().observed_hessian(theta)

    def numeric_hessian(self, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """Hessian of F by central differences of the analytic gradient (for checks)."""
        hess = np.zeros((self.q, self.q))
        for k in range(self.q):
            e = np.zeros(self.q)
            step = h * max(1.0, abs(theta[k]))
            e[k] = step
            gp, _ = self.gradient_and_info(theta + e, with_info=False)
            gm, _ = self.gradient_and_info(theta - e, with_info=False)
            hess[:, k] = (gp - gm) / (2 * step)
        return (hess + hess.T) / 2

    def _complete_fiml(self) -> "Model":
        """This model with complete data as one FIML pattern (built once): its exact observed
        Hessian covers the mean structure."""
        twin = getattr(self, "_fiml_twin", None)
        if twin is None:
            from govsurvey.missing import Patterns
            from govsurvey.psychometrics.sem.fiml import FimlGroup, FimlModel

            groups = [FimlGroup(gd.x, Patterns.complete(gd.n, gd.mean, gd.cov), gd.mean, gd.cov) for gd in self.groups]
            twin = self._fiml_twin = FimlModel(self.pt, groups)
        return twin

    def casewise_scores(self, theta: np.ndarray, g: int) -> np.ndarray:
        """∂ log f(x_i; θ)/∂θ for every case of group g (N_g × q)."""
        gd = self.groups[g]
        imp = self.implied(theta, g)
        inv = np.linalg.inv(imp["sigma"])
        dsig, dmu = self.derivatives(theta, g, imp)
        z = (gd.x - imp["mu"]) @ inv
        t1 = np.einsum("ij,aji->a", inv, dsig)
        return -0.5 * (t1[None, :] - self._casewise_quad(z, imp, g)) + z @ dmu.T

    def _casewise_quad(self, z: np.ndarray, imp: dict, g: int) -> np.ndarray:
        """zᵢᵀ (∂Σ/∂θ_a) zᵢ for every case i and parameter a from the structure of ∂Σ (as in
        :meth:`derivatives`): a path A_kl gives F b_k c_lᵀ + its transpose, so 2(z·Fb_k)(z·c_l);
        a (co)variance S_kl gives Fb_k Fb_lᵀ (+ transpose), so (2 −δ_kl)(z·Fb_k)(z·Fb_l) —
        N × v products instead of N × p² per parameter."""
        fb, b, s = imp["FB"], imp["B"], imp["S"]
        u = z @ fb                                 # N × v: z·(FB)_k
        cz = z @ (b @ s @ fb.T).T                  # N × v: z·c_l
        ix = self.index[g]
        free = ix["par"] >= 0
        kind, ii, jj, par = ix["kind"][free], ix["i"][free], ix["j"][free], ix["par"][free]
        vals = np.zeros((len(z), len(kind)))
        paths = kind <= 1
        vals[:, paths] = 2 * u[:, ii[paths]] * cz[:, jj[paths]]
        cov = kind == 2
        vals[:, cov] = np.where(ii[cov] == jj[cov], 1.0, 2.0) * u[:, ii[cov]] * u[:, jj[cov]]
        onehot = np.zeros((len(par), self.q))       # rows sharing a parameter (equality) add up
        onehot[np.arange(len(par)), par] = 1.0
        return vals @ onehot


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
    """tr(A₁⁻¹ B₁) for the saturated model at the sample moments (unit information), in closed
    form: with the casewise scores of (μ, vech Σ) and A₁ = diag(S⁻¹, ½Dᵀ(S⁻¹⊗S⁻¹)D), the mean
    block gives tr(S⁻¹S) = p and the covariance block ½ mean(½·2[(d²)² − 2d² + p]) = ½(mean d⁴ − p),
    d² = (x − x̄)ᵀS⁻¹(x − x̄) with the N-divisor S (mean d² = p). O(np²) instead of the p⁴
    Kronecker product; :func:`h1_trace_kron` is the direct formula, for checks."""
    p = gd.cov.shape[0]
    e = gd.x - gd.mean
    d2 = np.einsum("ij,ij->i", e @ np.linalg.inv(gd.cov), e)
    return float(0.5 * (np.mean(d2 * d2) - p) + (p if meanstructure else 0))


def h1_trace_kron(gd: GroupData, meanstructure: bool) -> float:
    """:func:`h1_trace` by the duplication matrix and the Kronecker product (for checks)."""
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
