"""Fit a model: data → parameter table → estimation → fit measures, SEs, standardized solution."""

from __future__ import annotations

import ast
import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from govsurvey._numeric import centred_cross_products, decreasing_root, no_variance
from govsurvey.data.checks import check_finite_values, check_unique_columns
from govsurvey.data.options import choice
from govsurvey.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataValidationError,
    HeywoodCaseWarning,
    ModelSyntaxError,
    NotPositiveDefiniteError,
    SpecificationError,
    UnknownItemError,
)
from govsurvey.psychometrics._input import cholesky_ok, surely_well_conditioned, warn
from govsurvey.psychometrics.sem.engine import GroupData, Model, h1_trace
from govsurvey.psychometrics.sem.fiml import (
    FimlGroup, FimlModel, Saturated, baseline_loglik, corrected_tests, fiml_groups, gfi_terms, loglik_x, robust_trace,
)
from govsurvey.psychometrics.sem.partable import ParTable, Row, build_partable, n_moments
from govsurvey.psychometrics.sem.syntax import parse_model

__all__ = ["FitResult", "fit_model"]

ESTIMATORS = ("ML", "MLR")
ORDINAL_ESTIMATORS = ("WLSMV", "DWLS", "ULSMV")
MISSING = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml"}


def missing_option(value: str) -> str:
    """``"listwise"`` or ``"fiml"`` (``"ml"``: lavaan's name for it)."""
    return MISSING[choice(value, "missing", tuple(MISSING))]


@dataclasses.dataclass
class FitResult:
    pt: ParTable
    model: Model
    theta: np.ndarray
    vcov: np.ndarray
    fit: dict[str, float]
    columns: dict[str, list]        # the parameter table's columns (lhs, op, rhs, group, …, std_se)
    n_obs: int
    groups: list[str]
    estimator: str
    converged: bool
    warnings: list[str]
    extra: dict[str, Any]
    _estimates: pd.DataFrame | None = None

    @property
    def estimates(self) -> pd.DataFrame:
        """The parameter table as a DataFrame (built on first use)."""
        if self._estimates is None:
            self._estimates = pd.DataFrame(self.columns)
        return self._estimates


@dataclasses.dataclass(frozen=True)
class _Part:
    """One group's complete cases: values (cases × variables) and the variables' names."""

    x: np.ndarray
    names: list[str]


def _group_data(part: _Part, ov: list[str]) -> GroupData:
    x = part.x if part.names == ov else part.x[:, [part.names.index(v) for v in ov]]
    mean, m2 = centred_cross_products(x)     # full precision for variables far from zero
    return GroupData(x=x, n=x.shape[0], mean=mean, cov=m2 / x.shape[0])


def _prepare(data: pd.DataFrame, needed: list[str], group: str | None, msgs: list[str], *, listwise: bool = True
             ) -> tuple[list[_Part], list[str]]:
    """The model's columns as numbers, per group; incomplete cases left out (``listwise``) or
    kept with NaN (FIML, which drops only the cases with no model variable observed)."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    cols = needed + ([group] if group else [])
    labels = data.columns.tolist()
    present = set(labels)
    missing = [c for c in cols if c not in present]
    if missing:
        raise UnknownItemError(f"The model or group= names column(s) not in the data: {', '.join(missing[:5])}. Fix: check the names.")
    if len(present) < len(labels):
        check_unique_columns(data, cols, "model data")
    x = None
    if not group:
        # the model's columns in one conversion; an all-numeric (not boolean) table converts to a numeric array
        x = data.to_numpy() if len(needed) == len(labels) == len(present) else data[needed].to_numpy()
        if x.dtype.kind in "iuf":
            x = np.array(x, dtype=float)          # (a copy: never a view of the caller's frame)
            if len(needed) == len(labels) and labels != needed:
                where = {c: j for j, c in enumerate(labels)}
                x = x[:, [where[c] for c in needed]]
        else:
            x = None                              # text, booleans, categories or missing values in nullable columns
    if x is not None:
        check_finite_values(x, needed, "model data")
        complete = ~np.isnan(x).any(axis=1)
        if not listwise:
            return [_Part(x, list(needed))], ["all"]
        if not complete.all():
            msgs.append(f"{int((~complete).sum())} of {len(x)} cases with missing values were left out (listwise deletion).")
            x = x[complete]
        if x.shape[0] < 3:
            raise DataValidationError(f"Only {x.shape[0]} complete cases; too few to fit a model.")
        return [_Part(x, list(needed))], ["all"]
    frame = data[cols].copy()
    for c in needed:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            conv = pd.to_numeric(frame[c], errors="coerce")
            if (conv.isna() & frame[c].notna()).any():
                raise DataValidationError(f"Variable {c!r} has non-numeric values. Fix: read the data with the instrument so answers become codes.")
            frame[c] = conv
        check_finite_values(frame[c].to_numpy(dtype=float)[:, None], [c], "model data")
    n0 = frame.shape[0]
    frame = frame.dropna() if listwise else frame.dropna(subset=[group]) if group else frame
    if listwise and frame.shape[0] < n0:
        msgs.append(f"{n0 - frame.shape[0]} of {n0} cases with missing values were left out (listwise deletion).")
    if group:
        levels = list(pd.unique(frame[group]))
        parts = [frame[frame[group] == lv] for lv in levels]
        names = [str(lv) for lv in levels]
    else:
        parts, names = [frame], ["all"]
    for name, part in zip(names, parts):
        if part.shape[0] < 3:
            raise DataValidationError(f"Group {name!r} has {part.shape[0]} {'complete ' if listwise else ''}cases; too few to fit a model.")
    return [_Part(part[needed].to_numpy(dtype=float), list(needed)) for part in parts], names


def _nearly_singular(mat: np.ndarray, inverse: np.ndarray) -> bool:
    """Whether the symmetric ``mat`` has λ_min ≤ 1e-10·|λ|_max. When ``mat`` is positive
    definite, λ_max ≤ tr(mat) and λ_min ≥ 1/tr(mat⁻¹), so a comfortable bound settles it
    without an eigendecomposition; otherwise the eigenvalues decide."""
    if cholesky_ok(mat) and surely_well_conditioned(mat, inverse, 1e-10):
        return False
    eig = np.linalg.eigvalsh(mat)
    return bool(eig.min() <= 1e-10 * np.abs(eig).max())


def _ncp_bound(x2: float, df: int, target: float) -> float:
    """λ with P(χ²_df(λ) ≤ x2) = target (0 if even λ = 0 gives less); lavaan's RMSEA interval.

    Uses the CDF ufuncs (``scipy.special.chdtr``/``chndtr``, the same Boost code behind
    ``scipy.stats.ncx2.cdf``) directly: the root search evaluates them a dozen times.
    """
    x2 = max(x2, 0.0)          # a perfect fit can give χ² = −1e-12; the CDF ufuncs return NaN below 0
    if special.chdtr(df, x2) < target:
        return 0.0
    f = lambda lam: special.chndtr(x2, df, lam) - target if lam > 0 else special.chdtr(df, x2) - target
    # NaN (no bracket: the CDF failed far in the tail) gives a NaN interval rather than a scipy error
    return decreasing_root(f, start=max(x2, 1.0), low=0.0, xtol=1e-12, rtol=1e-14)


def _implied_with_inverse(model: Model, theta: np.ndarray) -> list[dict[str, Any]]:
    """Each group's implied moments at θ, with Σ⁻¹ ("inv") and log|Σ| ("logdet") added:
    computed once for the statistics of a final solution."""
    out = []
    for g in range(len(model.groups)):
        imp = model.implied(theta, g)
        imp["inv"] = np.linalg.inv(imp["sigma"])
        imp["logdet"] = float(np.linalg.slogdet(imp["sigma"])[1])
        out.append(imp)
    return out


def _loglik(model: Model, imps: list[dict[str, Any]]) -> float:
    """The log-likelihood, as lavaan's: with fixed.x covariates that of the other variables
    given them — the joint one less the covariates' own, at their sample moments."""
    ll = 0.0
    x = [model.pt.ov.index(v) for v in model.pt.ov_x]
    for gd, imp in zip(model.groups, imps):
        inv, logdet = imp["inv"], imp["logdet"]
        d = gd.mean - imp["mu"]
        ll += -gd.n / 2 * (model.p * math.log(2 * math.pi) + logdet + np.trace(gd.cov @ inv) + d @ inv @ d)
        if x:
            ll += gd.n / 2 * (len(x) * math.log(2 * math.pi) + float(np.linalg.slogdet(gd.cov[np.ix_(x, x)])[1]) + len(x))
    return float(ll)


def _bentler_scale(cov: np.ndarray, mean: np.ndarray, var_obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's "cor.bentler" rescaling (``lav_residuals_rescale``): covariances divided by
    √(s_ii s_jj) and means by √s_ii, the observed variances — except elements below 1e-5 in
    absolute value, which lavaan leaves as they are."""
    sd = np.sqrt(var_obs)
    scale = np.where(np.abs(cov) < 1e-5, 1.0, 1.0 / np.outer(sd, sd))
    mscale = np.where(np.abs(mean) < 1e-5, 1.0, 1.0 / sd)
    return cov * scale, mean * mscale


def _gfi_srmr(model: Model, imps: list[dict[str, Any]]) -> tuple[float, float, int]:
    """GFI (lavaan: 1 − eᵀWe / sᵀWs with W = ½Dᵀ(Σ̂⁻¹⊗Σ̂⁻¹)D, i.e. ½tr(EΣ̂⁻¹EΣ̂⁻¹), plus the mean
    part with Σ̂⁻¹) and SRMR (Bentler's, means included under a mean structure), weighted by N_g."""
    p = model.p
    gfis, srmrs, ns = [], [], []
    nel = p * (p + 1) // 2 + (p if model.pt.meanstructure else 0)
    for gd, imp in zip(model.groups, imps):
        sig, mu, inv = imp["sigma"], imp["mu"], imp["inv"]
        if isinstance(gd, FimlGroup):
            t1, t2 = gfi_terms(gd, sig, mu, [model.pt.ov.index(v) for v in model.pt.ov_x])
        else:
            ea = (gd.cov - sig) @ inv
            sa = gd.cov @ inv
            t1, t2 = 0.5 * np.sum(ea * ea.T), 0.5 * np.sum(sa * sa.T)
            if model.pt.meanstructure:
                dm = gd.mean - mu
                t1 += dm @ inv @ dm
                t2 += gd.mean @ inv @ gd.mean
        gfis.append(1 - t1 / t2)
        var_obs = np.diag(gd.cov)
        obs_c, obs_m = _bentler_scale(gd.cov, gd.mean, var_obs)
        imp_c, imp_m = _bentler_scale(sig, mu, var_obs)
        res = obs_c - imp_c
        total = 0.5 * float((res**2).sum() + (np.diagonal(res) ** 2).sum())     # the lower triangle of a symmetric matrix
        count = p * (p + 1) // 2
        if model.pt.meanstructure:
            total += float(((obs_m - imp_m) ** 2).sum())
            count += p
        srmrs.append(math.sqrt(total / count))
        ns.append(gd.n)
    w = np.array(ns) / sum(ns)
    return float(w @ np.array(gfis)), float(w @ np.array(srmrs)), nel


def _baseline_fmin(pt: ParTable, groups: list[GroupData]) -> float:
    """The independence model's ML discrepancy in closed form: Σ_b keeps the fixed.x block and
    the other variances, so F_b = Σ_g w_g (log|Σ_b| − log|S|) (means are saturated)."""
    n = sum(gd.n for gd in groups)
    x = [pt.ov.index(v) for v in pt.ov_x]
    total = 0.0
    rest = [j for j in range(len(pt.ov)) if j not in set(x)]
    for gd in groups:
        # |Σ_b| = |S_xx| · Π (other variances); log|S| is the group's already
        logdet_b = float(np.log(np.diag(gd.cov)[rest]).sum())
        if x:
            logdet_b += float(np.linalg.slogdet(gd.cov[np.ix_(x, x)])[1])
        total += gd.n / n * (logdet_b - gd.logdet_s)
    return float(total)


def _baseline_scaling(pt: ParTable, groups: list[GroupData], b_df: float, trace_h1: float | None = None) -> float:
    """The independence model's Yuan–Bentler scaling factor with complete data, in closed form:
    its parameters are each variable's own variance (and mean), so A is diagonal and
    tr(A⁻¹B) = Σ_g Σ_j ½(m4_gj/σ⁴_gj − 1) (+ 1 per free mean), m4 the fourth central moment and
    σ² the ML variance; c_b = (tr₁ − tr_b)/df_b as for the model (:func:`_robust`)."""
    x = set(pt.ov_x)
    keep = [j for j, v in enumerate(pt.ov) if v not in x]
    trace_b = 0.0
    for gd in groups:
        dev = gd.x[:, keep] - gd.x[:, keep].mean(axis=0)
        dev2 = dev * dev
        var = dev2.mean(axis=0)
        trace_b += float(np.sum(0.5 * ((dev2 * dev2).mean(axis=0) / var ** 2 - 1))) + (len(keep) if pt.meanstructure else 0)
    if trace_h1 is None:
        trace_h1 = saturated_trace(pt, groups)
    return (trace_h1 - trace_b) / b_df if b_df > 0 else float("nan")


def _baseline(pt: ParTable, groups: list[GroupData], cls: type[Model] = Model) -> tuple[Model, np.ndarray, float]:
    """The independence model: variances (and means) free; fixed.x covariates kept as they are."""
    rows: list[Row] = []
    k = 0
    for g in range(pt.n_groups):
        for v in pt.ov:
            exo = v in pt.ov_x
            rows.append(Row(v, "~~", v, g, not exo, None, None, None, user=False, exo_fixed=exo, par=-1 if exo else k))
            k += 0 if exo else 1
        for i, a in enumerate(pt.ov_x):
            for b in pt.ov_x[i + 1:]:
                rows.append(Row(a, "~~", b, g, False, None, None, None, user=False, exo_fixed=True))
        if pt.meanstructure:
            for v in pt.ov:
                exo = v in pt.ov_x
                rows.append(Row(v, "~1", "", g, not exo, None, None, None, user=False, exo_fixed=exo, par=-1 if exo else k))
                k += 0 if exo else 1
    bpt = ParTable(rows=rows, ov=pt.ov, lv=[], ov_x=pt.ov_x, n_groups=pt.n_groups, meanstructure=pt.meanstructure,
                   n_free=k, defined=[], labels={})
    bm = cls(bpt, groups)
    theta = np.zeros(k)
    for r in rows:
        if r.free:
            gd = groups[r.group]
            i = pt.ov.index(r.lhs)
            theta[r.par] = gd.cov[i, i] if r.op == "~~" else gd.mean[i]
    theta, info = bm.fit(theta)
    return bm, theta, info["fmin"]


def _robust(model: Model, theta: np.ndarray, df: int, trace_h1: float | None = None, a_inv: np.ndarray | None = None
            ) -> tuple[np.ndarray, float]:
    """MLR: Huber–White sandwich vcov and the Yuan–Bentler (Mplus) scaling factor
    (``trace_h1``: the unrestricted model's tr(A₁⁻¹B₁), by default at the sample moments;
    ``a_inv``: the inverse unit observed information, when the caller has it)."""
    n = model.n_total
    a_inv, trace_h0, b0 = robust_trace(model, theta, a_inv)
    vcov = a_inv @ b0 @ a_inv / n
    if trace_h1 is None:
        trace_h1 = saturated_trace(model.pt, model.groups)
    c = (trace_h1 - trace_h0) / df if df > 0 else float("nan")
    return vcov, float(c)


def saturated_trace(pt: ParTable, groups: list[GroupData]) -> float:
    """tr(A₁⁻¹B₁) of the unrestricted model with complete data. With fixed.x covariates their
    own moments are no parameters of either model (lavaan's conditional H1), so the covariates'
    share — the same trace over the covariates alone — is left out."""
    x = [pt.ov.index(v) for v in pt.ov_x]
    total = 0.0
    for gd in groups:
        total += h1_trace(gd, pt.meanstructure)
        if x:
            sub = GroupData(x=gd.x[:, x], n=gd.n, mean=gd.mean[x], cov=gd.cov[np.ix_(x, x)])
            total -= h1_trace(sub, pt.meanstructure)
    return total


def _std_batch(model: Model, thetas: np.ndarray) -> np.ndarray:
    """Standardized (std.all) values of every row for many parameter vectors at once."""
    out = np.empty((thetas.shape[0], len(model.pt.rows)))
    for g in range(model.pt.n_groups):
        a, s, m = model.batch_matrices(thetas, g)
        bb = np.linalg.inv(np.eye(model.v)[None] - a)
        tot = np.sum((bb @ s) * bb, axis=2)  # diag(B S Bᵀ), batched
        _std_group(model, g, a, s, m, tot, out)
    return out


def _std_group(model: Model, g: int, a: np.ndarray, s: np.ndarray, m: np.ndarray, tot: np.ndarray, out: np.ndarray) -> None:
    """Fill group g's rows of ``out`` (batch × rows) with std.all values from batched A, S, m
    and total variances diag(B S Bᵀ)."""
    b = a.shape[0]
    ms = model.pt.meanstructure
    lv = model.is_latent
    sd = np.sqrt(np.maximum(tot, 0))
    ix = model.index[g]
    k, i, j = ix["kind"], ix["i"], ix["j"]
    vals = np.empty((b, len(k)))
    load = k == 0
    vals[:, load] = a[:, i[load], j[load]] * sd[:, j[load]] / sd[:, i[load]]
    reg = k == 1
    vals[:, reg] = a[:, i[reg], j[reg]] * sd[:, j[reg]] / sd[:, i[reg]]
    var = (k == 2) & (i == j)
    vals[:, var] = s[:, i[var], i[var]] / tot[:, i[var]]
    cov = (k == 2) & (i != j)
    denom = s[:, i[cov], i[cov]] * s[:, j[cov], j[cov]]
    with np.errstate(invalid="ignore", divide="ignore"):
        vals[:, cov] = np.where(denom > 0, s[:, i[cov], j[cov]] / np.sqrt(np.abs(denom)), np.nan)
    mean = k == 3
    keep = lv[i[mean]] | ms
    vals[:, mean] = np.where(keep, m[:, i[mean]] / sd[:, i[mean]], np.nan)
    out[:, model.group_rows[g]] = vals


def _std_values(model: Model, theta: np.ndarray, imps: list[dict[str, Any]] | None = None) -> np.ndarray:
    if imps is None:
        return _std_batch(model, theta[None, :])[0]
    out = np.empty((1, len(model.pt.rows)))
    for g, imp in enumerate(imps):
        _std_group(model, g, imp["A"][None], imp["S"][None], imp["m"][None], np.diag(imp["total"])[None], out)
    return out[0]


def _std_jacobian(model: Model, theta: np.ndarray, imps: list[dict[str, Any]] | None = None) -> np.ndarray:
    """∂ std / ∂θ (rows × free parameters), analytically.

    With B = (I − A)⁻¹ and T = B S Bᵀ, a path A_kl changes the total variances by
    ∂T_mm = 2 B_mk T_lm and a (co)variance S_kl by ∂T_mm = 2 B_mk B_ml (B_mk² when k = l);
    std.all values are A_ij·sd_j/sd_i, S_ii/T_ii, S_ij/√(S_ii S_jj) and m_i/sd_i.
    """
    out = np.zeros((len(model.pt.rows), model.q))
    lv = model.is_latent
    for g in range(model.pt.n_groups):
        imp = model.implied(theta, g) if imps is None else imps[g]
        a, s, m, b, t = imp["A"], imp["S"], imp["m"], imp["B"], imp["total"]
        tot = np.diag(t)
        sd = np.sqrt(np.maximum(tot, 0))
        ix = model.index[g]
        kind, i, j, par = ix["kind"], ix["i"], ix["j"], ix["par"]
        cells = np.flatnonzero(par >= 0)
        nr, nc = len(kind), len(cells)
        onehot = np.zeros((nr, nc))
        onehot[cells, np.arange(nc)] = 1.0
        ck, cl, ckind = i[cells], j[cells], kind[cells]
        dtot = np.zeros((model.v, nc))
        path = ckind <= 1
        dtot[:, path] = 2 * b[:, ck[path]] * t[cl[path], :].T
        cov = ckind == 2
        dtot[:, cov] = np.where(ck[cov] == cl[cov], 1.0, 2.0) * b[:, ck[cov]] * b[:, cl[cov]]
        with np.errstate(divide="ignore", invalid="ignore"):
            dsd = dtot / (2 * sd[:, None])
            d = np.full((nr, nc), np.nan)
            rows = np.flatnonzero(kind <= 1)
            ri, rj = i[rows], j[rows]
            d[rows] = (onehot[rows] * (sd[rj] / sd[ri])[:, None]
                       + a[ri, rj][:, None] * (dsd[rj] / sd[ri][:, None] - (sd[rj] / sd[ri] ** 2)[:, None] * dsd[ri]))
            rows = np.flatnonzero((kind == 2) & (i == j))
            ri = i[rows]
            d[rows] = onehot[rows] / tot[ri][:, None] - (s[ri, ri] / tot[ri] ** 2)[:, None] * dtot[ri]
            rows = np.flatnonzero((kind == 2) & (i != j))
            if len(rows):
                var_cell = np.full(model.v, nc)            # each variable's free variance cell; nc: fixed
                own = (ckind == 2) & (ck == cl)
                var_cell[ck[own]] = np.flatnonzero(own)
                e = np.zeros((nc + 1, nc))
                e[np.arange(nc), np.arange(nc)] = 1.0      # row nc: a fixed variance (no derivative)
                ei = e[var_cell[i[rows]]]
                ej = e[var_cell[j[rows]]]
                ri, rj = i[rows], j[rows]
                denom = s[ri, ri] * s[rj, rj]
                val = s[ri, rj] / np.sqrt(np.abs(denom))
                dd = onehot[rows] / np.sqrt(np.abs(denom))[:, None] - 0.5 * val[:, None] * (ei / s[ri, ri][:, None] + ej / s[rj, rj][:, None])
                d[rows] = np.where((denom > 0)[:, None], dd, np.nan)
            rows = np.flatnonzero(kind == 3)
            if len(rows):
                ri = i[rows]
                keep = lv[ri] | model.pt.meanstructure
                dd = onehot[rows] / sd[ri][:, None] - (m[ri] / sd[ri] ** 2)[:, None] * dsd[ri]
                d[rows] = np.where(keep[:, None], dd, np.nan)
        inc = np.zeros((nc, model.q))
        inc[np.arange(nc), par[cells]] = 1.0
        out[model.group_rows[g]] = d @ inc
    return out


def _std_jacobian_numeric(model: Model, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂ std / ∂θ by central differences, all perturbations in one batch (checks the analytic one)."""
    q = len(theta)
    steps = h * np.maximum(1.0, np.abs(theta))
    pert = np.repeat(theta[None, :], 2 * q, axis=0)
    pert[np.arange(q), np.arange(q)] += steps
    pert[q + np.arange(q), np.arange(q)] -= steps
    vals = _std_batch(model, pert)
    return ((vals[:q] - vals[q:]) / (2 * steps)[:, None]).T


def _jacobian(fn, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    base = fn(theta)
    jac = np.zeros((len(base), len(theta)))
    for k in range(len(theta)):
        step = h * max(1.0, abs(theta[k]))
        e = np.zeros_like(theta)
        e[k] = step
        with np.errstate(invalid="ignore"):     # a defined parameter at ±inf (a/0) has no derivative: NaN
            jac[:, k] = (fn(theta + e) - fn(theta - e)) / (2 * step)
    return jac


def _eval_defined(pt: ParTable, theta: np.ndarray, std: np.ndarray | None = None) -> np.ndarray:
    """Defined parameters; with ``std`` (standardized values per row) the standardized versions,
    as lavaan's standardizedSolution evaluates := on standardized parameters."""
    if std is None:
        values: dict[str, float] = {lab: float(theta[k]) for lab, k in pt.labels.items()}
    else:
        values = {}
        for r, v in zip(pt.rows, std):
            if r.label and r.label not in values:
                values[r.label] = float(v)
    out = []
    for d in pt.defined:
        out.append(_eval(d.tree.body, values, d))
        values[d.name] = out[-1]
    return np.array(out)


_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
_CALLS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs}


def _eval(node: Any, values: dict[str, float], d) -> float:
    """A defined parameter's arithmetic (checked by the model parser) in IEEE floats: log of a
    negative or a division by zero gives NaN or ±inf, as R does, never a Python exception."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise ModelSyntaxError(f"Model line {d.line}: {node.id!r} in {d.name} := {d.expr} is not a parameter label.")
        return values[node.id]
    with np.errstate(all="ignore"):
        if isinstance(node, ast.UnaryOp):
            v = _eval(node.operand, values, d)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            a, b = _eval(node.left, values, d), _eval(node.right, values, d)
            return float(_BINARY[type(node.op)](np.float64(a), np.float64(b)))
        if isinstance(node, ast.Call):
            return float(_CALLS[node.func.id](np.float64(_eval(node.args[0], values, d))))
    raise ModelSyntaxError(f"Model line {d.line}: cannot evaluate {d.expr!r}.")


def fit_model(
    data: pd.DataFrame,
    model: str,
    *,
    estimator: str = "ML",
    group: str | None = None,
    group_equal: tuple[str, ...] | list[str] = (),
    meanstructure: bool | None = None,
    auto_fix_first: bool = True,
    parsed: tuple[list, list, list] | None = None,
    growth: bool = False,
    missing: str = "listwise",
    ordered: bool | list[str] | tuple[str, ...] | None = None,
    parameterization: str = "delta",
) -> FitResult:
    """Fit ``model`` (lavaan syntax; ``parsed``: its :func:`parse_model` result, when the caller
    has parsed it already) to ``data`` (a DataFrame or :class:`govsurvey.Moments`).

    ``meanstructure=None`` is lavaan's default: a mean structure when the model has an
    intercept statement (``x ~ 1``) or groups. ``growth``: lavaan's ``growth()`` — a mean
    structure with observed intercepts fixed at 0 and latent means free. ``missing``:
    ``"listwise"`` or ``"fiml"`` (alias ``"ml"``, lavaan's name; :mod:`.fiml`)."""
    if ordered is not None or estimator in ORDINAL_ESTIMATORS:
        return _fit_ordinal(data, model, estimator=estimator, group=group, missing=missing, ordered=ordered, parsed=parsed,
                            meanstructure=meanstructure, auto_fix_first=auto_fix_first, parameterization=parameterization,
                            group_equal=group_equal)
    estimator = choice(estimator, "estimator", ESTIMATORS + ORDINAL_ESTIMATORS)
    missing = missing_option(missing)
    fiml = missing == "fiml"
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    msgs: list[str] = []
    statements, defined, constraints = parse_model(model) if parsed is None else parsed
    observed = observed_variables(statements)
    from govsurvey.moments import Moments

    moments = data if isinstance(data, Moments) else None
    if moments is not None:
        if group:
            raise SpecificationError("Multi-group models need the raw data, not Moments. Fix: pass the DataFrame.")
        if estimator != "ML":
            raise SpecificationError("MLR needs the raw data (case-wise scores), not Moments. Fix: pass the DataFrame or use estimator='ML'.")
        if fiml:
            raise SpecificationError("FIML needs the raw data (each case's observed values), not Moments. Fix: pass the DataFrame.")
        absent = [v for v in observed if v not in moments.names]
        if absent:
            raise UnknownItemError(f"The model names variable(s) not in the moments: {', '.join(absent[:5])}.")
        if moments.n_dropped:
            msgs.append(f"{moments.n_dropped} rows with missing values were left out (listwise deletion).")
        parts, group_names = None, ["all"]
    else:
        parts, group_names = _prepare(data, observed, group, msgs, listwise=not fiml)
    has_means = any(s.op == "~1" for s in statements)
    ms = (bool(group) or has_means or growth) if meanstructure is None else bool(meanstructure)
    if fiml and meanstructure is False:
        raise SpecificationError("FIML needs a mean structure (each case's likelihood involves the means). "
                                 "Fix: leave meanstructure unset, or use missing='listwise'.")
    ms = ms or fiml
    if group_equal and not group:
        raise SpecificationError("group_equal= needs group=. Fix: name the grouping column.")
    pt = build_partable(statements, defined, constraints, observed=list(data.columns), n_groups=1 if parts is None else len(parts),
                        meanstructure=ms, group_equal=tuple(group_equal), auto_fix_first=auto_fix_first,
                        int_ov_free=not growth, int_lv_free=growth)
    for note in pt.notes:
        warn(msgs, note)
    missing_info: dict[str, Any] = {"method": "listwise"}
    if moments is not None:
        sel = moments.select(pt.ov)
        groups = [GroupData(x=np.empty((0, len(pt.ov))), n=sel.n, mean=sel.mean.copy(), cov=sel.m2 / sel.n)]
    elif fiml:
        groups, missing_info = fiml_groups(parts, pt, group_names, msgs)
    else:
        groups = [_group_data(part, pt.ov) for part in parts]
    for name, gd in zip(group_names, groups):
        flat = [pt.ov[j] for j in np.flatnonzero(no_variance(np.diag(gd.cov), gd.mean))]
        if flat:     # (every path — DataFrame, groups, Moments — is checked here, on the variances of the covariance pass)
            raise DataValidationError(f"Variable(s) {', '.join(flat)} are constant{'' if not group else f' in group {name!r}'}; "
                                      "a covariance model needs variance. Fix: drop them.")
        if np.linalg.eigvalsh(gd.cov).min() <= 1e-12 * np.trace(gd.cov):
            raise NotPositiveDefiniteError(
                f"The sample covariance matrix{'' if not group else f' of group {name!r}'} is singular: a variable is a "
                "linear combination of others, or there are fewer cases than variables. Fix: drop redundant variables."
            )
    m = FimlModel(pt, groups) if fiml else Model(pt, groups)
    n = m.n_total
    df = n_moments(pt) - pt.n_free
    if df < 0:
        raise ModelSyntaxError(
            f"The model has {pt.n_free} free parameters but only {n_moments(pt)} sample moments (df = {df}); it is not identified. "
            "Fix: fix a loading per factor to 1, add indicators, or remove parameters."
        )
    theta, info = m.fit()
    gmax = float(np.abs(info["gradient"]).max())
    if not info["converged"] and not gmax <= 1e-3:
        raise ConvergenceError(
            f"The estimator did not converge in {info['iterations']} iterations (largest gradient {gmax:.2g}); "
            "the estimates would be meaningless. This happens when the model is empirically under-identified "
            "(e.g. the items of a factor barely correlate, so it has nothing to measure) or badly misspecified. "
            "Fix: check the items' correlations (gs.kmo, gs.efa), simplify the model or fix more parameters."
        )
    if not info["converged"]:
        warn(msgs, f"The estimator did not converge in {info['iterations']} iterations (largest gradient {np.abs(info['gradient']).max():.2g}). "
             "Results may be wrong. Fix: simplify the model or check for empirical under-identification.", ConvergenceWarning)
    fmin = info["fmin"]
    chisq = n * fmin
    x_idx = [pt.ov.index(v) for v in pt.ov_x]
    if fiml:
        b_chisq = 2 * (m.loglik_h1 - sum(baseline_loglik(gd, x_idx) for gd in groups))
        info = {**info, "info": m.observed_hessian(theta)}     # lavaan's default under missing="ml"
    else:
        b_chisq = n * _baseline_fmin(pt, groups)
    b_df = n_moments(pt) - (len(pt.ov) - len(pt.ov_x)) * (2 if ms else 1) * pt.n_groups
    try:
        vcov_ml = np.linalg.inv(n / 2 * info["info"])
    except np.linalg.LinAlgError:
        raise NotPositiveDefiniteError("The information matrix is singular: the model is not identified. Fix: add constraints (e.g. fix a loading to 1).") from None
    if _nearly_singular(info["info"], vcov_ml * (n / 2)):
        warn(msgs, "The information matrix is (nearly) singular; the model may not be identified and standard errors are unreliable.")
    imps = _implied_with_inverse(m, theta)
    ll = m.loglik(theta) - sum(loglik_x(gd, x_idx) for gd in groups) if fiml else _loglik(m, imps)
    gfi, srmr, nel = _gfi_srmr(m, imps)
    g = pt.n_groups
    fit: dict[str, float] = {
        "chisq": chisq, "df": float(df), "pvalue": float(special.chdtrc(df, chisq)) if df > 0 else float("nan"),
        "baseline_chisq": b_chisq, "baseline_df": float(b_df),
    }
    fit.update(_incremental(chisq, df, b_chisq, b_df))
    rmsea = math.sqrt(max(chisq / n / df - 1 / n, 0)) * math.sqrt(g) if df > 0 else 0.0
    lo = _ncp_bound(chisq, df, 0.95) if df > 0 else 0.0
    hi = _ncp_bound(chisq, df, 0.05) if df > 0 else 0.0
    fit.update({
        "rmsea": rmsea,
        "rmsea_ci_lower": math.sqrt(lo / (n * df)) * math.sqrt(g) if df > 0 else 0.0,
        "rmsea_ci_upper": math.sqrt(hi / (n * df)) * math.sqrt(g) if df > 0 else 0.0,
        "srmr": srmr, "gfi": gfi, "agfi": 1 - (nel * g / df) * (1 - gfi) if df > 0 else 1.0,
        "aic": -2 * ll + 2 * pt.n_free, "bic": -2 * ll + pt.n_free * math.log(n), "loglik": ll, "npar": float(pt.n_free),
    })
    vcov = vcov_ml
    if fiml:
        fit["unrestricted_loglik"] = m.loglik_h1 - sum(loglik_x(gd, x_idx) for gd in groups)
    if not fiml:
        missing_info["n_dropped"] = moments.n_dropped if moments is not None else len(data) - n
    extra: dict[str, Any] = {"iterations": info["iterations"], "missing": {**missing_info, "n_used": n}}
    sat = Saturated(pt, groups) if fiml and (estimator == "MLR" or df > 0) else None
    if estimator == "MLR":
        trace_h1 = sat.first_order()[0] if fiml else saturated_trace(pt, groups)
        # under FIML the information above is the observed one: its inverse is the sandwich's A⁻¹
        vcov, c = _robust(m, theta, df, trace_h1, a_inv=n * vcov_ml if fiml else None)
        if fiml:
            bm, btheta, _ = _baseline(pt, groups, FimlModel)
            _, cb = _robust(bm, btheta, b_df, trace_h1)
        else:
            cb = _baseline_scaling(pt, groups, b_df, trace_h1)
        scaled = chisq / c if df > 0 else chisq        # a saturated model has no scaling factor (lavaan: NA)
        fit.update({
            "chisq_scaled": scaled, "df_scaled": float(df),
            "pvalue_scaled": float(stats.chi2.sf(scaled, df)) if df > 0 else float("nan"),
            "chisq_scaling_factor": c, "baseline_chisq_scaled": b_chisq / cb, "baseline_chisq_scaling_factor": cb,
        })
        fit.update(_robust_indices(chisq, df, c, b_chisq, b_df, cb, n, g))
        fit.update({f"{k}_scaled": v for k, v in _incremental(scaled, df, b_chisq / cb, b_df).items() if k in ("cfi", "tli")})
    if fiml and df > 0:
        if estimator != "MLR":
            bm, btheta, _ = _baseline(pt, groups, FimlModel)
        ct = corrected_tests(m, theta, bm, btheta, sat, scaled=estimator == "MLR")
        fit.update(_robust_indices(ct["chisq"], df, ct["c"], ct["chisq_null"], b_df, ct["c_null"], n, g))
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    heywood = []
    for r in pt.rows:
        if r.free and r.op == "~~" and r.lhs == r.rhs and theta[r.par] < 0:
            heywood.append(r.lhs)
    if heywood:
        warn(msgs, f"Heywood case: negative variance estimate(s) for {', '.join(sorted(set(heywood)))}. "
             "Fix: check those indicators (too few, or too highly correlated), or simplify the model.", HeywoodCaseWarning)
    for gi in range(g):
        psi = imps[gi]["total"][m.p:, m.p:]
        if psi.size and np.linalg.eigvalsh(psi).min() < -1e-10:
            warn(msgs, "The latent covariance matrix is not positive definite (a factor correlation beyond ±1). "
                 "Fix: merge highly correlated factors or revise the model.", HeywoodCaseWarning)
            break
    std = _std_values(m, theta, imps)
    jac = _std_jacobian(m, theta, imps)
    std_se = np.sqrt(np.clip(((jac @ vcov) * jac).sum(axis=1), 0, None))
    free = np.array([r.free for r in pt.rows])
    pars = np.array([r.par if r.free else 0 for r in pt.rows])
    est_all = np.where(free, theta[pars], [r.value if r.value is not None else 0.0 for r in pt.rows])
    se_all = np.where(free, se[pars], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_all = np.where(free & (se_all > 0), est_all / np.where(se_all > 0, se_all, 1), np.nan)
    p_all = 2 * special.ndtr(-np.abs(z_all))
    columns: dict[str, list] = {
        "lhs": [r.lhs for r in pt.rows], "op": [r.op for r in pt.rows], "rhs": [r.rhs for r in pt.rows],
        "group": [group_names[r.group] for r in pt.rows], "label": [r.label or "" for r in pt.rows],
        "free": [r.free for r in pt.rows], "estimate": list(est_all), "se": list(se_all), "z": list(z_all), "p": list(p_all),
        "std_all": list(std), "std_se": list(std_se),
    }
    if pt.defined:
        vals = _eval_defined(pt, theta)
        jd = _jacobian(lambda t: _eval_defined(pt, t), theta)
        dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jd, vcov, jd), 0, None))
        std_fn = lambda t: _eval_defined(pt, t, _std_values(m, t))
        dstd = std_fn(theta)
        js = _jacobian(std_fn, theta)
        dstd_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", js, vcov, js), 0, None))
        for d, v, s_e, sv, ss in zip(pt.defined, vals, dse, dstd, dstd_se):
            z = v / s_e if s_e > 0 else np.nan
            row = {"lhs": d.name, "op": ":=", "rhs": d.expr, "group": "", "label": d.name, "free": True,
                   "estimate": v, "se": s_e, "z": z, "p": 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan,
                   "std_all": sv, "std_se": ss}
            for key, value in row.items():
                columns[key].append(value)
    return FitResult(pt=pt, model=m, theta=theta, vcov=vcov, fit=fit, columns=columns, n_obs=n, groups=group_names,
                     estimator=estimator, converged=bool(info["converged"]), warnings=msgs, extra=extra)


def _robust_indices(chisq: float, df: int, c: float, b_chisq: float, b_df: float, cb: float, n: int, g: int
                    ) -> dict[str, float]:
    """Robust CFI, TLI and RMSEA (Brosseau-Liard & Savalei, 2014; Brosseau-Liard, Savalei & Li,
    2012) from a test statistic, its df and correction c, the baseline's, as lavaan's
    ``lav_fit_cfi``/``lav_fit_tli``/``lav_fit_rmsea`` with ``c.hat``."""
    if df <= 0:                                      # saturated: lavaan gives no robust CFI/TLI, RMSEA 0
        return {"cfi_robust": float("nan"), "tli_robust": float("nan"), "rmsea_robust": 0.0}
    t1 = max(chisq - c * df, 0)
    t2 = max(chisq - c * df, b_chisq - cb * b_df, 0)
    return {"cfi_robust": 1.0 if math.isclose(t2, 0, abs_tol=1.5e-8) else 1 - t1 / t2,
            "tli_robust": 1 - ((chisq - c * df) * b_df) / ((b_chisq - cb * b_df) * df),
            "rmsea_robust": math.sqrt(max(chisq / n / df - c / n, 0)) * math.sqrt(g)}


def _fit_ordinal(data, model: str, *, estimator: str, group, missing: str, ordered, parsed, meanstructure, auto_fix_first,
                 parameterization: str = "delta", group_equal=()) -> FitResult:
    """Ordered indicators (``ordered=``): DWLS/ULS on polychoric correlations (:mod:`.ordinal`;
    with ``group=``, :mod:`.ordinal_groups`: Wu & Estabrook's identification, ``group_equal``
    one of their steps). Every observed variable must be ordered; FIML is not offered."""
    from govsurvey.psychometrics.sem.ordinal import fit_ordinal

    estimator = "WLSMV" if estimator == "ML" else choice(estimator, "estimator", ORDINAL_ESTIMATORS)
    parameterization = choice(parameterization, "parameterization", ("delta", "theta"))
    if ordered is None:
        raise SpecificationError(f"estimator={estimator!r} is for ordered items. Fix: name them, ordered=[...], or ordered=True for all.")
    if missing_option(missing) != "listwise" or (meanstructure and group is None):
        raise SpecificationError("Ordered indicators are fitted to complete cases (FIML for ordinal data is not available yet), "
                                 "with a mean structure only across groups. Fix: drop missing=/meanstructure=.")
    msgs: list[str] = []
    statements, defined, constraints = parse_model(model) if parsed is None else parsed
    observed = observed_variables(statements)
    chosen = observed if ordered is True else list(ordered)
    rest = [v for v in observed if v not in set(chosen)]
    if rest or ordered is False:
        raise SpecificationError(f"Every observed variable must be ordered here; {', '.join(rest[:5]) or 'none'} is not. "
                                 "Fix: ordered=True, or list them all (mixing continuous and ordered indicators is not available yet).")
    if group is not None:
        return _fit_ordinal_groups(data, statements, defined, constraints, observed, group, group_equal, estimator,
                                   parameterization, msgs)
    parts, _ = _prepare(data, observed, None, msgs)
    pt = build_partable(statements, defined, constraints, observed=list(data.columns), n_groups=1, meanstructure=False,
                        group_equal=(), auto_fix_first=auto_fix_first, int_ov_free=True, int_lv_free=False)
    x = parts[0].x[:, [observed.index(v) for v in pt.ov]]
    res = fit_ordinal(x, pt, estimator, msgs, parameterization=parameterization)
    res.extra["missing"]["n_dropped"] = len(data) - res.n_obs
    return res


def _fit_ordinal_groups(data, statements, defined, constraints, observed, group, group_equal, estimator, parameterization,
                        msgs) -> FitResult:
    from govsurvey.psychometrics.sem.ordinal_groups import fit_ordinal_groups, wu_estabrook_step

    if defined:
        raise SpecificationError("Defined parameters (:=) are not available for ordinal models across groups yet. "
                                 "Fix: fit each group separately, or drop the := lines.")
    step = wu_estabrook_step((group_equal,) if isinstance(group_equal, str) else group_equal)
    parts, labels = _prepare(data, observed, group, msgs)
    pt = build_partable(statements, defined, constraints, observed=list(data.columns), n_groups=len(parts), meanstructure=True,
                        group_equal=tuple(e for e in step if e != "thresholds"), auto_fix_first=False, int_ov_free=False,
                        int_lv_free=False)
    xs = [p.x[:, [observed.index(v) for v in pt.ov]] for p in parts]
    res = fit_ordinal_groups(xs, labels, pt, step, estimator=estimator, parameterization=parameterization, msgs=msgs)
    res.extra["missing"]["n_dropped"] = len(data) - res.n_obs
    return res


def observed_variables(statements: list) -> list[str]:
    """The observed variables a parsed model names (everything that is no latent variable, in
    order of appearance), the columns it needs from the data."""
    lv = {st.lhs for st in statements if st.op == "=~"}
    names = dict.fromkeys([t.var for st in statements for t in st.terms if t.var != "1"] + [st.lhs for st in statements])
    return [v for v in names if v not in lv]


def _incremental(chisq: float, df: int, b_chisq: float, b_df: float) -> dict[str, float]:
    t1 = max(chisq - df, 0)
    t2 = max(chisq - df, b_chisq - b_df, 0)
    cfi = 1.0 if t2 == 0 else 1 - t1 / t2
    tli = 1.0 if df <= 0 or b_df <= 0 or (b_chisq / b_df - 1) == 0 else ((b_chisq / b_df) - (chisq / df)) / ((b_chisq / b_df) - 1)
    nfi = (b_chisq - chisq) / b_chisq if b_chisq > 0 else float("nan")
    return {"cfi": cfi, "tli": tli, "nfi": nfi}
