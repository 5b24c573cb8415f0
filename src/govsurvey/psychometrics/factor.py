"""Exploratory factor analysis and its companions, matching psych (Revelle) 2.2.9.

Extraction: minres (psych's default: unweighted least squares on the off-diagonal),
maximum likelihood (factanal's objective), iterated principal axis (psych's loop and
stopping rule), principal components (``psych::principal``). Rotation: see
:mod:`govsurvey.psychometrics.rotation`. After rotation factors are signed so their
loadings sum positive and ordered by variance explained, as psych does.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from govsurvey._blas import small_matrix_blas
from govsurvey.data.options import MAX_ITER, choice, real_number, seed_value, whole_number
from govsurvey.errors import ConvergenceWarning, DataValidationError, HeywoodCaseWarning, SpecificationError
from govsurvey.psychometrics._input import check_positive_definite, prepare_items, smc, warn
from govsurvey.psychometrics.rotation import oblimin, promax, promax_spss, promax_stats, varimax
from govsurvey.results import Result

__all__ = [
    "EFA", "efa", "KMO", "kmo", "Bartlett", "bartlett", "ParallelAnalysis", "parallel_analysis",
    "Omega", "omega", "Harman", "harman_test", "fit_minres", "fit_ml", "fit_pa",
]

METHODS = ("minres", "ml", "pa", "pc")
ROTATIONS = ("oblimin", "varimax", "promax", "promax_stats", "promax_spss", "none")
PROMAX = {"promax": promax, "promax_stats": promax_stats, "promax_spss": promax_spss}
PSYCH_MIN_ERR = 0.001  # psych::fa's min.err
PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA", "pc": "PC"}
LOWER = 0.005  # psych's lower bound for uniquenesses


def _sign_columns(l: np.ndarray) -> np.ndarray:
    s = np.sign(l.sum(axis=0))
    s[s == 0] = 1
    return s


def _top_eigen(m: np.ndarray, nf: int) -> tuple[np.ndarray, np.ndarray]:
    vals, vecs = np.linalg.eigh(m)
    order = np.argsort(vals)[::-1]
    return vals[order], vecs[:, order]


def _loadings_from(m: np.ndarray, nf: int) -> np.ndarray:
    vals, vecs = _top_eigen(m, nf)
    return vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0))


def _minimize_psi(f, start: np.ndarray, max_iter: int = 20000) -> tuple[np.ndarray, bool, int]:
    """L-BFGS-B on the uniquenesses within psych's bounds [0.005, 1]; converged when the
    projected gradient vanishes (a bound may be active: that is a Heywood case, not a failure)."""
    p = len(start)
    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B", bounds=[(LOWER, 1.0)] * p,
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": max_iter, "maxfun": 2 * max_iter})
    x, g = res.x, res.jac
    pg = np.where((x <= LOWER + 1e-12) & (g > 0), 0.0, np.where((x >= 1 - 1e-12) & (g < 0), 0.0, g))
    return x, bool(np.abs(pg).max() < 1e-6), int(res.nit)


def fit_minres(r: np.ndarray, nf: int, *, max_iter: int = 20000) -> tuple[np.ndarray, dict[str, Any]]:
    """Minres loadings (unrotated, signed) and fit facts.

    Minimises ½ Σ_{k>nf} λ_k(R − Ψ)², whose stationary point — zero diagonal residual — is
    the point psych's optimiser (``fit.residuals`` with the ``FAgr.minres`` gradient) seeks.
    """
    start = np.clip(1 - smc(r), LOWER, 1.0)

    def f(psi: np.ndarray) -> tuple[float, np.ndarray]:
        m = r - np.diag(psi)
        vals, vecs = np.linalg.eigh(m)
        order = np.argsort(vals)[::-1]
        vals, vecs = vals[order], vecs[:, order]
        rest = vals[nf:]
        value = 0.5 * float((rest**2).sum())
        grad = -((vecs[:, nf:] ** 2) * rest).sum(axis=1)
        return value, grad

    newton = _minres_newton(r, nf, start)
    if newton is not None:
        psi, converged, nit = newton, True, 0
    else:
        psi, converged, nit = _minimize_psi(f, start, max_iter)
    l = _loadings_from(r - np.diag(psi), nf)
    l = l * _sign_columns(l)
    return l, {"converged": converged, "psi": psi, "iterations": nit}


def _minres_newton(r: np.ndarray, nf: int, start: np.ndarray, max_iter: int = 50) -> np.ndarray | None:
    """Newton's method for the minres stationary point strictly inside psych's bounds, or None
    (a bound is reached, the Hessian is not positive definite, or no convergence) so the caller
    falls back to L-BFGS-B.

    With eigenpairs (λ_k, v_k) of R − Ψ, "top" the first ``nf`` and "rest" the others, the
    gradient of ½Σ_rest λ_k² is g_i = −Σ_rest λ_k v_ik² and its Hessian (perturbation theory)

        H = P∘P + 2 Σ_{k∈rest, m∈top} λ_k/(λ_k − λ_m) (v_k∘v_m)(v_k∘v_m)ᵀ,   P = Σ_rest v_k v_kᵀ.
    """
    psi = start.copy()
    p = len(psi)
    for _ in range(max_iter):
        vals, vecs = np.linalg.eigh(r - np.diag(psi))
        vals, vecs = vals[::-1], vecs[:, ::-1]
        top, rest = vecs[:, :nf], vecs[:, nf:]
        lam_rest = vals[nf:]
        grad = -(rest**2) @ lam_rest
        if np.abs(grad).max() < 1e-13:
            return psi
        gaps = lam_rest[:, None] - vals[None, :nf]
        if np.any(np.abs(gaps) < 1e-10):
            return None
        coef = lam_rest[:, None] / gaps                                  # (rest × top)
        w = (rest[:, :, None] * top[:, None, :]).reshape(p, -1)          # v_k ∘ v_m, pairs (k, m)
        proj = rest @ rest.T
        hess = proj * proj + 2 * (w * coef.reshape(-1)) @ w.T
        try:
            chol = np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            return None
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        psi = psi - step
        if psi.min() <= LOWER or psi.max() >= 1.0:
            return None
    return None


def uls_start(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For one covariance/correlation matrix (k × k) or a stack (b × k × k): the off-diagonal
    part, and the first principal axis with each item's largest absolute off-diagonal entry as
    its communality — its eigenvalue and loadings, the start of :func:`uls_newton_terms`."""
    k = c.shape[-1]
    eye = np.eye(k, dtype=bool)
    off = np.where(eye, 0.0, c)
    vals, vecs = np.linalg.eigh(off + eye * np.abs(off).max(axis=-1)[..., :, None])
    top = vals[..., -1]
    return off, top, vecs[..., :, -1] * np.sqrt(np.maximum(top, 0.0))[..., None]


def uls_newton_terms(off: np.ndarray, l: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of ¼ Σ_{i≠j} (c_ij − l_i l_j)² in the loadings (one matrix or a
    stack): g_i = −Σ_{j≠i} e_ij l_j with e = c − llᵀ off the diagonal, H = diag(Σ_{j≠i} l_j²)
    + (llᵀ − e) off the diagonal — no eigendecomposition needed."""
    l2 = l * l
    s2 = l2.sum(axis=-1, keepdims=True)
    grad = l * (s2 - l2) - np.matmul(off, l[..., None])[..., 0]
    hess = 2.0 * l[..., :, None] * l[..., None, :] - off
    diag = np.arange(l.shape[-1])
    hess[..., diag, diag] = s2 - l2
    return grad, hess


def one_factor_uls(c: np.ndarray, *, max_iter: int = 50) -> np.ndarray | None:
    """Loadings l of one factor by unweighted least squares on the off-diagonal,
    min ¼ Σ_{i≠j} (c_ij − l_i l_j)², for a covariance or correlation matrix ``c``; or None
    when Newton's method does not reach a minimum (the caller then uses a bounded method).

    This is the one-factor minres solution (psych::fa(fm="minres", nfactors=1)) whenever its
    uniquenesses lie inside the bounds, solved in loading space (:func:`uls_newton_terms`)
    from the principal-axis start of :func:`uls_start`.
    """
    if c.shape[0] < 3:
        return None
    off, top, l = uls_start(c)
    scale = float(np.abs(off).max())
    if not (top > 0 and scale > 0):
        return None
    for _ in range(max_iter):
        grad, hess = uls_newton_terms(off, l)
        if np.abs(grad).max() < 1e-14 * scale * max(1.0, float(np.abs(l).max())):
            try:
                np.linalg.cholesky(hess)  # a minimum, not a saddle
            except np.linalg.LinAlgError:
                return None
            return l if l.sum() >= 0 else -l
        try:
            l = l - np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return None
    return None


def fit_ml(r: np.ndarray, nf: int, *, max_iter: int = 20000) -> tuple[np.ndarray, dict[str, Any]]:
    """Maximum-likelihood loadings (factanal's objective and gradient, as psych fm="ml")."""
    p = r.shape[0]
    start = np.clip(1 - smc(r), LOWER, 1.0)

    def f(psi: np.ndarray) -> tuple[float, np.ndarray]:
        sc = 1 / np.sqrt(psi)
        sstar = r * np.outer(sc, sc)
        vals, vecs = np.linalg.eigh(sstar)
        order = np.argsort(vals)[::-1]
        vals, vecs = vals[order], vecs[:, order]
        e = vals[nf:]
        value = -float((np.log(e) - e).sum() - nf + p)
        load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1, 0))
        load = np.sqrt(psi)[:, None] * load
        g = load @ load.T + np.diag(psi) - r
        return value, np.diag(g) / psi**2

    psi, converged, nit = _minimize_psi(f, start, max_iter)
    sc = 1 / np.sqrt(psi)
    vals, vecs = _top_eigen(r * np.outer(sc, sc), nf)
    l = np.sqrt(psi)[:, None] * (vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1, 0)))
    l = l * _sign_columns(l)
    return l, {"converged": converged, "psi": psi, "iterations": nit}


def fit_pa(r: np.ndarray, nf: int, *, min_err: float = PSYCH_MIN_ERR, max_iter: int = 50) -> tuple[np.ndarray, dict[str, Any]]:
    """Iterated principal axis exactly as psych (``fa(fm="pa", min.err=, max.iter=)``): SMC start,
    stop when the summed communality changes by at most ``min_err`` or after ``max_iter``
    iterations (psych then says "maximum iteration exceeded"; here ``converged`` is False)."""
    rm = r.copy()
    np.fill_diagonal(rm, smc(r))
    comm = float(np.trace(rm))
    err, i = comm, 1
    converged = True
    while err > min_err:
        l = _loadings_from(rm, nf)
        new = (l**2).sum(axis=1)
        comm1 = float(new.sum())
        np.fill_diagonal(rm, new)
        err = abs(comm - comm1)
        comm = comm1
        i += 1
        if i > max_iter:
            converged = False
            break
    l = l * _sign_columns(l)
    return l, {"converged": converged, "iterations": i - 1}


def _fit_pc(r: np.ndarray, nf: int, *, max_iter: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    l = _loadings_from(r, nf)
    return l * _sign_columns(l), {"converged": True, "iterations": 0}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class EFA(Result):
    """An exploratory factor solution (see :func:`efa`)."""

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    phi: pd.DataFrame | None
    variance: pd.DataFrame
    method: str
    rotation: str
    n_factors: int
    n_factors_rule: str
    eigenvalues: tuple[float, ...]
    n_obs: int
    converged: bool
    warnings: tuple[str, ...] = ()
    n_obs_rule: str = ""

    def to_frame(self) -> pd.DataFrame:
        out = self.loadings.copy()
        out["h2"] = self.communalities
        out["u2"] = self.uniquenesses
        return out


def _rotate(l: np.ndarray, method: str, rotation: str) -> tuple[np.ndarray, np.ndarray | None]:
    if rotation == "none" or l.shape[1] < 2:
        return l, None
    if rotation == "varimax":
        return varimax(l)[0], None
    if rotation in PROMAX:
        z, phi, _ = PROMAX[rotation](l)
        return z, phi
    z, phi, _ = oblimin(l)
    return z, phi


@small_matrix_blas
def efa(
    items: pd.DataFrame,
    n_factors: int | None = None,
    *,
    method: str = "minres",
    rotation: str = "oblimin",
    missing: str = "listwise",
    max_iter: int | None = None,
    min_err: float | None = None,
) -> EFA:
    """Exploratory factor analysis, as ``psych::fa`` (and ``psych::principal`` for ``method="pc"``).

    Parameters
    ----------
    items
        Respondents × items (reverse-coded).
    n_factors
        Number of factors; ``None`` keeps eigenvalues of the correlation matrix greater
        than 1 (the Kaiser rule SPSS applies by default) and says so in ``n_factors_rule``.
    method
        ``"minres"`` (psych's default), ``"ml"``, ``"pa"`` (iterated principal axis) or
        ``"pc"`` (principal components: "主成分分析法", the SPSS default with varimax).
    rotation
        ``"oblimin"``, ``"varimax"``, ``"promax"``, ``"promax_stats"``, ``"promax_spss"`` or
        ``"none"``. Varimax uses Kaiser normalisation, as SPSS and R do. The promax variants
        (power/kappa 4) differ in where Kaiser normalisation applies (see Notes).
    missing
        ``"listwise"`` (complete rows) or ``"pairwise"``: psych's ``cor(x, use="pairwise")``,
        each correlation from the rows where both items are answered; ``n_obs`` is then every
        row, as psych's ``n.obs`` (``n_obs_rule`` says so).
    max_iter
        Iteration limit of the extraction (default: psych's 50 for ``"pa"``; 20,000 for the
        optimisers of ``"minres"`` and ``"ml"``). Reaching it gives a ConvergenceWarning.
    min_err
        ``"pa"`` only: stop when the summed communality changes by at most this (psych's
        ``min.err``; default psych's 0.001, which stops well before the fixed point — loadings
        can be ~1e-3 from it). ``min_err=1e-10`` with ``max_iter=1000`` runs principal axis to
        convergence, as ``psych::fa(fm="pa", min.err=1e-10, max.iter=1000)``.

    Notes
    -----
    Promax. ``"promax"`` is ``psych::fa(rotate="promax")`` — ``psych::kaiser(f, "Promax")``:
    varimax, the target x·|x|³ and its least-squares fit all on Kaiser row-normalised
    loadings, rows scaled back at the end. It is used for every ``method``, ``"pc"`` included,
    so PCA + promax is normalised as SPSS ("Promax with Kaiser Normalization", kappa 4) and as
    ``psych::fa``. ``"promax_stats"`` is ``stats::promax``, which ``psych::principal(rotate=
    "promax")`` calls: varimax normalised, target and fit on the raw varimax loadings.
    ``"promax_spss"`` is SPSS FACTOR's algorithm as Grieder & Steiner (2022) transcribe it from
    the SPSS Algorithms manual (``EFAtools::PROMAX(type="SPSS")``): varimax normalised, the target
    from row-normalised varimax loadings, fitted to the raw ones; it is checked against that
    transcription, not against SPSS output. On three components of HolzingerSwineford1939 the
    loadings of the three differ by up to 0.03 (``promax`` − ``promax_spss``: 0.013). Factors
    are signed and ordered as psych does, not as SPSS.

    Communalities are diag(ΛΦΛ′) (for oblique rotations Φ matters); uniquenesses are
    1 − communality. ``variance`` has SS loadings (diag(ΦΛ′Λ) for oblique solutions),
    proportion and cumulative proportion of the total variance.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> fit = gs.efa(data[inst.items_of("pre_event")], 4, method="ml", rotation="promax")
    >>> fit.loadings.shape
    (15, 4)
    """
    method = choice(method, "method", METHODS, where="efa")
    rotation = choice(rotation, "rotation", ROTATIONS, where="efa")
    n_factors = whole_number(n_factors, "n_factors", low=1, none_means="eigenvalues > 1", where="efa")
    max_iter = whole_number(max_iter, "max_iter", low=1, none_ok=True, where="efa")
    if min_err is not None:
        min_err = real_number(min_err, "min_err", low=0, high=1, inclusive=False, what="a change in summed communality",
                              example=1e-10, where="efa")
        if method != "pa":
            raise SpecificationError(f"efa: min_err= is principal axis's stopping rule (method='pa'); method={method!r} "
                                     "has its own. Fix: drop min_err= or use method='pa'.")
    data = prepare_items(items, what="efa", missing=missing, min_items=3)
    msgs = list(data.warnings)
    r = data.factor_cor("efa")
    check_positive_definite(r, data.names, "efa")
    eig = np.sort(np.linalg.eigvalsh(r))[::-1]
    p = data.k
    if n_factors is None:
        n_factors = int((eig > 1).sum()) or 1
        rule = f"eigenvalues > 1 (Kaiser): {n_factors}"
    else:
        n_factors = whole_number(n_factors, "n_factors", low=1, high=p, note=" (the number of items)", where="efa")
        rule = "given"
    dof = ((p - n_factors) ** 2 - (p + n_factors)) / 2
    if method != "pc" and (n_factors >= p or dof < 0):
        raise SpecificationError(
            f"{n_factors} factors are too many for {p} items (degrees of freedom {dof:g} < 0). Fix: extract fewer factors."
        )
    fitter = {"minres": fit_minres, "ml": fit_ml, "pa": fit_pa, "pc": _fit_pc}[method]
    kwargs = {} if max_iter is None else {"max_iter": max_iter}
    if min_err is not None:
        kwargs["min_err"] = min_err
    l0, info = fitter(r, n_factors, **kwargs)
    if not info["converged"]:
        warn(msgs, f"The {method} extraction did not converge ({info['iterations']} iterations); treat the solution with caution.", ConvergenceWarning)
    communal = (l0**2).sum(axis=1)
    lr, phi = _rotate(l0, method, rotation)
    if method == "pc":  # psych::principal: order by size, then sign
        if n_factors > 1:
            order = np.argsort(-(lr**2).sum(axis=0), kind="stable")
            lr = lr[:, order]
            phi = phi[np.ix_(order, order)] if phi is not None else None
        s = _sign_columns(lr)
        lr = lr * s
        phi = phi * np.outer(s, s) if phi is not None else None
    else:  # psych::fa: sign, then order by variance explained
        s = _sign_columns(lr)
        lr = lr * s
        phi = phi * np.outer(s, s) if phi is not None else None
        if n_factors > 1:
            ev = np.diag(phi @ lr.T @ lr) if phi is not None else (lr**2).sum(axis=0)
            order = np.argsort(-ev, kind="stable")
            lr = lr[:, order]
            phi = phi[np.ix_(order, order)] if phi is not None else None
    prefix = PREFIX[method] if rotation == "none" or method != "pc" else ("RC" if phi is None else "TC")
    cols = [f"{prefix}{j + 1}" for j in range(n_factors)]
    names = list(data.names)
    heywood = [names[j] for j in range(p) if communal[j] >= 1 - LOWER - 1e-9]
    if heywood and method != "pc":
        warn(msgs, f"Heywood case: item(s) {', '.join(heywood)} have communality ≥ {1 - LOWER:g} (uniqueness at its bound). "
             "Fix: extract fewer factors or check those items.", HeywoodCaseWarning)
    ss = np.diag(phi @ lr.T @ lr) if phi is not None else (lr**2).sum(axis=0)
    variance = pd.DataFrame([ss, ss / p, np.cumsum(ss / p)], index=["SS loadings", "Proportion Var", "Cumulative Var"], columns=cols)
    phi_frame = pd.DataFrame(phi, index=cols, columns=cols) if phi is not None else None
    return EFA(
        loadings=pd.DataFrame(lr, index=pd.Index(names, name="item"), columns=cols),
        communalities=pd.Series(communal, index=names, name="h2"),
        uniquenesses=pd.Series(1 - communal, index=names, name="u2"),
        phi=phi_frame, variance=variance, method=method, rotation=rotation, n_factors=n_factors,
        n_factors_rule=rule, eigenvalues=tuple(float(e) for e in eig), n_obs=data.n_psych,
        converged=bool(info["converged"]), warnings=tuple(msgs), n_obs_rule=data.n_rule(),
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class KMO(Result):
    """Kaiser–Meyer–Olkin measure of sampling adequacy."""

    overall: float
    per_item: pd.Series
    warnings: tuple[str, ...] = ()


@small_matrix_blas
def kmo(items: pd.DataFrame, *, missing: str = "listwise") -> KMO:
    """Kaiser–Meyer–Olkin measure of sampling adequacy, as ``psych::KMO``.

    MSA = Σr² / (Σr² + Σq²) over off-diagonal correlations r and partial (anti-image)
    correlations q. Values ≥ .80 are meritorious, ≥ .70 middling, < .50 unacceptable
    (Kaiser, 1974). With ``missing="pairwise"`` r is psych's ``cor(x, use="pairwise")``.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> gs.kmo(data[inst.items_of("capacity")]).overall > 0.8
    True
    """
    data = prepare_items(items, what="kmo", missing=missing)
    r = data.factor_cor("kmo")
    q = check_positive_definite(r, data.names, "kmo")      # R⁻¹; raises, naming the items, when R is singular
    d = np.sqrt(np.diag(q))
    q = q / np.outer(d, d)
    np.fill_diagonal(q, 0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0)
    r2, q2 = (r0**2), (q**2)
    r2_col, q2_col = r2.sum(axis=0), q2.sum(axis=0)
    alone = [data.names[j] for j in np.flatnonzero(~(r2_col + q2_col > 0))]
    if alone:
        raise DataValidationError(
            f"kmo: item(s) {', '.join(alone)} are uncorrelated with every other item (all correlations exactly 0), so their "
            "sampling adequacy is 0/0, undefined. Fix: check those items; a factor analysis has nothing to share with them."
        )
    overall = float(r2_col.sum() / (r2_col.sum() + q2_col.sum()))
    per = r2_col / (r2_col + q2_col)
    return KMO(overall=overall, per_item=pd.Series(per, index=data.labels.view() if data.labels is not None else list(data.names), name="msa"), warnings=data.warnings)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Bartlett(Result):
    """Bartlett's test of sphericity."""

    chi2: float
    df: int
    p_value: float
    n_obs: int
    n_obs_rule: str = ""


@small_matrix_blas
def bartlett(items: pd.DataFrame, *, missing: str = "listwise") -> Bartlett:
    """Bartlett's test that the correlation matrix is an identity, as ``psych::cortest.bartlett``:
    χ² = −(n − 1 − (2p + 5)/6) · ln|R|, df = p(p − 1)/2.

    With ``missing="pairwise"`` R is ``cor(x, use="pairwise")`` and n every row of the table,
    as ``psych::cortest.bartlett(x)`` takes them from raw data (``n <- dim(R)[1]``); listwise,
    n is the complete rows. ``n_obs`` and ``n_obs_rule`` say which n was used.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.read_responses(gs.datasets.example_files()["sav"], inst)
    >>> gs.bartlett(data[inst.items_of("trust")]).p_value < 0.001
    True
    """
    data = prepare_items(items, what="bartlett", missing=missing)
    r = data.factor_cor("bartlett")
    check_positive_definite(r, data.names, "bartlett")
    p, n = data.k, data.n_psych
    logdet = float(np.linalg.slogdet(r)[1])
    chi2 = -logdet * (n - 1 - (2 * p + 5) / 6)
    df = p * (p - 1) // 2
    return Bartlett(chi2=float(chi2), df=int(df), p_value=float(special.chdtrc(df, chi2)), n_obs=n, n_obs_rule=data.n_rule())


def _minres1_loss(r: np.ndarray, l: np.ndarray) -> np.ndarray:
    """Σ_{i≠j} (r_ij − l_i l_j)² for a stack of loading vectors."""
    e = r - l[:, :, None] * l[:, None, :]
    return (e ** 2).sum(axis=(1, 2)) - (np.einsum("bii->bi", e) ** 2).sum(axis=1)


def _minres1_step(r: np.ndarray, l: np.ndarray, mu: np.ndarray, bound: float) -> np.ndarray:
    """A damped projected Newton step on the one-factor minres loss: gradient
    g_i = −4Σ_{j≠i}(r_ij − l_i l_j)l_j, Hessian H_ii = 4Σ_{j≠i}l_j², H_ik = −4r_ik + 8l_i l_k;
    loadings at the bound that the gradient pushes outward are held; H is shifted to be
    positive definite (Levenberg–Marquardt, ``mu`` relative to its diagonal)."""
    p = l.shape[1]
    eye = np.eye(p, dtype=bool)
    e = r - l[:, :, None] * l[:, None, :]
    e[:, eye] = 0.0
    g = -4 * np.einsum("bij,bj->bi", e, l)
    hess = -4 * r + 8 * l[:, :, None] * l[:, None, :]
    hess[:, eye] = 4 * ((l ** 2).sum(axis=1)[:, None] - l ** 2)
    held = (np.abs(l) >= bound - 1e-15) & (np.sign(l) * g < 0)
    hess = np.where(held[:, :, None] | held[:, None, :], 0.0, hess)
    hess[:, eye] += held
    g = np.where(held, 0.0, g)
    low = np.linalg.eigvalsh(hess)[:, 0]
    shift = 1.01 * np.maximum(-low, 0) + mu * (1 + np.abs(hess[:, eye]).max(axis=1))
    step = np.linalg.solve(hess + shift[:, None, None] * np.eye(p), -g[:, :, None])[:, :, 0]
    return np.clip(l + step, -bound, bound), np.abs(g).max(axis=1)


def minres1_batch(r: np.ndarray, *, iters: int = 200, tol: float = 1e-12) -> np.ndarray:
    """One-factor minres communalities h = l² for a stack of correlation matrices (b × p × p):
    the loadings minimising Σ_{i≠j}(r_ij − l_i l_j)² with l_i² ≤ 1 − LOWER (psych's bound on the
    uniquenesses), all members together by damped projected Newton steps from the principal-
    axis start (R with the SMCs on its diagonal). At an interior solution this is the fixed
    point of the principal-axis iteration (Σ_{j≠i} r_ij l_j = l_i Σ_{j≠i} l_j²), reached in tens
    of steps where that iteration needs thousands on weak scales and noise; a step is kept
    only where it lowers the loss, and a member stops when the loss no longer falls (relative
    ``tol``) with a vanishing gradient. On noise a member can end in another local minimum
    than a longer principal-axis run would: the loss is then at least as low."""
    b, p, _ = r.shape
    eye = np.eye(p, dtype=bool)
    bound = math.sqrt(1 - LOWER)
    m = r.copy()
    m[:, eye] = 1 - 1 / np.einsum("bii->bi", np.linalg.inv(r))
    vals, vecs = np.linalg.eigh(m)
    l = np.clip(vecs[:, :, -1] * np.sqrt(np.maximum(vals[:, -1:], 0)), -bound, bound)
    loss = _minres1_loss(r, l)
    mu = np.full(b, 1e-4)
    active = np.ones(b, dtype=bool)
    for _ in range(iters):
        a = np.flatnonzero(active)
        if not a.size:
            break
        cand, grad = _minres1_step(r[a], l[a], mu[a], bound)
        new = _minres1_loss(r[a], cand)
        better = new <= loss[a]
        rel = (loss[a] - new) / np.maximum(loss[a], 1e-300)
        l[a[better]], loss[a[better]] = cand[better], new[better]
        mu[a] = np.where(better, np.maximum(mu[a] / 10, 1e-12), mu[a] * 10)
        done = (better & (rel <= tol) & (grad < 1e-9)) | (mu[a] > 1e8)
        active[a[done]] = False
    return l ** 2


def null_correlations(rng: np.random.Generator, b: int, n: int, p: int) -> np.ndarray:
    """``b`` correlation matrices of ``n`` independent standard-normal cases on ``p`` variables,
    drawn through their centred cross-products, which are Wishart(n − 1, I): by Bartlett's
    decomposition W = AAᵀ, A lower triangular with A_ii = √χ²(n − 1 − i) and N(0, 1) below the
    diagonal (Bartlett, 1933) — p(p + 1)/2 draws per matrix instead of n·p, the same
    distribution as psych::fa.parallel's simulated data."""
    a = np.zeros((b, p, p))
    rows, cols = np.tril_indices(p, -1)
    a[:, rows, cols] = rng.standard_normal((b, len(rows)))
    a[:, np.arange(p), np.arange(p)] = np.sqrt(rng.chisquare(n - 1 - np.arange(p), size=(b, p)))
    w = a @ a.transpose(0, 2, 1)
    d = np.sqrt(np.einsum("bii->bi", w))
    return w / (d[:, :, None] * d[:, None, :])


def _fa_values_batch(r: np.ndarray) -> np.ndarray:
    """Eigenvalues of R with one-factor minres communalities on the diagonal, for a
    stack of correlation matrices (psych::fa.parallel's "fa" values), solved together."""
    m = r.copy()
    m[:, np.eye(r.shape[1], dtype=bool)] = minres1_batch(r)
    return np.sort(np.linalg.eigvalsh(m), axis=1)[:, ::-1]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ParallelAnalysis(Result):
    """Horn's parallel analysis (see :func:`parallel_analysis`)."""

    n_factors: int
    n_components: int
    table: pd.DataFrame
    n_iter: int
    quantile: float
    seed: int | None


@small_matrix_blas
def parallel_analysis(items: pd.DataFrame, *, n_iter: int = 100, seed: int | None = None, quantile: float = 0.95,
                      missing: str = "listwise") -> ParallelAnalysis:
    """Horn's parallel analysis, as ``psych::fa.parallel``.

    Observed eigenvalues are compared with the ``quantile`` of eigenvalues from ``n_iter``
    normal random data sets of the same size: for factors, eigenvalues of the correlation
    matrix with one-factor minres communalities on its diagonal; for components, of the
    correlation matrix itself. The suggested number is how many observed eigenvalues
    exceed their simulated counterparts before the first that does not. All simulated
    matrices are drawn and solved together (:func:`null_correlations`, :func:`minres1_batch`).

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> gs.parallel_analysis(data[inst.items_of("participation")], n_iter=20, seed=1).n_factors
    3
    """
    n_iter = whole_number(n_iter, "n_iter", low=1, high=MAX_ITER, where="parallel_analysis")
    seed = seed_value(seed, where="parallel_analysis")
    quantile = real_number(quantile, "quantile", low=0, high=1, inclusive=False, what="a share", example=0.95,
                           where="parallel_analysis")
    data = prepare_items(items, what="parallel_analysis", missing=missing, min_items=3)
    r = data.factor_cor("parallel_analysis")
    check_positive_definite(r, data.names, "parallel_analysis")
    n, p = data.n_psych, data.k   # pairwise: psych::fa.parallel simulates nrow(x) cases
    sim = null_correlations(np.random.default_rng(seed), n_iter, n, p)
    obs_fa = _fa_values_batch(r[None])[0]
    sim_fa = np.quantile(_fa_values_batch(sim), quantile, axis=0)
    obs_pc = np.sort(np.linalg.eigvalsh(r))[::-1]
    sim_pc = np.quantile(np.sort(np.linalg.eigvalsh(sim), axis=1)[:, ::-1], quantile, axis=0)

    def count(obs: np.ndarray, ref: np.ndarray) -> int:
        below = np.flatnonzero(~(obs > ref))
        return int(below[0]) if below.size else len(obs)

    table = pd.DataFrame({"fa_observed": obs_fa, "fa_simulated": sim_fa, "pc_observed": obs_pc, "pc_simulated": sim_pc},
                         index=pd.RangeIndex(1, p + 1, name="factor"))
    return ParallelAnalysis(n_factors=count(obs_fa, sim_fa), n_components=count(obs_pc, sim_pc), table=table,
                            n_iter=n_iter, quantile=quantile, seed=seed)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Omega(Result):
    """McDonald's omega from a Schmid–Leiman solution (see :func:`omega`)."""

    omega_h: float
    omega_total: float
    alpha: float
    n_factors: int
    loadings: pd.DataFrame
    warnings: tuple[str, ...] = ()


@small_matrix_blas
def omega(items: pd.DataFrame, n_factors: int = 3, *, missing: str = "listwise") -> Omega:
    """Omega hierarchical and omega total via the Schmid–Leiman transformation, as
    ``psych::omega(x, nfactors, fm="minres", rotate="oblimin")``.

    A minres solution (varimax) is rotated obliquely (oblimin); a one-factor minres
    solution of the factor correlations gives the general factor; omega_h = (Σg)²/ΣR and
    omega_total = 1 − Σu²/ΣR. With two group factors their general loadings are set equal
    (psych's ``option="equal"``); with one factor omega_h is not meaningful (NaN, with a warning).
    With ``missing="pairwise"`` the correlations are psych's ``cor(x, use="pairwise")``.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> om = gs.omega(data[inst.items_of("capacity")], 3)
    >>> om.omega_total > om.omega_h > 0
    True
    """
    n_factors = whole_number(n_factors, "n_factors", low=1, where="omega")
    data = prepare_items(items, what="omega", missing=missing, min_items=3)
    whole_number(n_factors, "n_factors", low=1, high=data.k, note=" (the number of items)", where="omega")
    msgs = list(data.warnings)
    r = data.factor_cor("omega")   # pairwise: cor(m, use="pairwise"), as psych::omegah
    check_positive_definite(r, data.names, "omega")
    p = data.k
    l0, info = fit_minres(r, n_factors)
    orth = varimax(l0)[0] if n_factors > 1 else l0
    if n_factors > 1:
        s = _sign_columns(orth)  # psych::fa signs (and orders) the varimax solution it returns
        orth = orth * s
        orth = orth[:, np.argsort(-(orth**2).sum(axis=0), kind="stable")]
    h2 = (orth**2).sum(axis=1)
    if n_factors == 1:
        fload, gload = orth, np.array([1.0])
        warn(msgs, "omega_h is not meaningful with one factor; only omega_total is reported.")
    else:
        fload, phi, _ = oblimin(orth)
        if n_factors > 2:
            gl, _ = fit_minres(phi, 1)
            gload = gl[:, 0] if gl.sum() >= 0 else -gl[:, 0]
        else:
            g = np.sqrt(abs(phi[0, 1]))
            gload = np.array([g, np.sign(phi[0, 1]) * g])
            warn(msgs, "With two group factors the general-factor loadings are set equal (psych option='equal'); interpret omega_h with caution.")
    g = fload @ gload
    key = np.sign(g)
    key[key == 0] = 1
    rr = r * np.outer(key, key)
    g = g * key
    vt = rr.sum()
    u2 = 1 - h2
    omega_h = float(g.sum() ** 2 / vt) if n_factors > 1 else float("nan")
    omega_t = float((vt - u2.sum()) / vt)
    alpha = float((vt - p) / vt * p / (p - 1))
    cols = ["g"] + [f"F{j + 1}*" for j in range(n_factors)] if n_factors > 1 else ["g"]
    if n_factors > 1:
        uniq2 = np.maximum(1 - (1 - fload**2) - (fload * gload) ** 2, 0)
        sm = np.sign(fload) * np.sqrt(uniq2) * key[:, None]
        table = np.column_stack([g, sm, h2, u2])
    else:
        table = np.column_stack([g, h2, u2])
    loadings = pd.DataFrame(table, index=pd.Index(list(data.names), name="item"), columns=cols + ["h2", "u2"])
    return Omega(omega_h=omega_h, omega_total=omega_t, alpha=alpha, n_factors=n_factors, loadings=loadings, warnings=tuple(msgs))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Harman(Result):
    """Harman's single-factor test for common-method variance."""

    first_factor_share: float
    n_eigen_gt1: int
    method: str
    threshold: float
    flagged: bool
    eigenvalues: tuple[float, ...]


@small_matrix_blas
def harman_test(items: pd.DataFrame, *, method: str = "pa", threshold: float = 0.40, missing: str = "listwise") -> Harman:
    """Harman's single-factor test (Podsakoff et al., 2003).

    ``first_factor_share`` is the share of total variance explained by one unrotated factor
    (``method="pa"``: principal axis, as ``psych::fa(x, 1, fm="pa", rotate="none")``;
    ``"pc"``: the first principal component, as SPSS's unrotated PCA). ``flagged`` is True
    when it exceeds ``threshold`` (40 % is the convention in Chinese theses; 50 % in some
    journals). The test is weak evidence either way; report it with that caveat.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> gs.harman_test(data[inst.construct_items]).n_eigen_gt1 > 3
    True
    """
    method = choice(method, "method", ("pa", "pc"), where="harman_test")
    threshold = real_number(threshold, "threshold", low=0, high=1, inclusive=False, what="a share", example=0.40,
                            where="harman_test")
    data = prepare_items(items, what="harman_test", missing=missing, min_items=3)
    r = data.factor_cor("harman_test")
    check_positive_definite(r, data.names, "harman_test")
    eig = np.sort(np.linalg.eigvalsh(r))[::-1]
    if method == "pa":
        l, _ = fit_pa(r, 1)
        share = float((l**2).sum() / data.k)
    else:
        share = float(eig[0] / data.k)
    return Harman(first_factor_share=share, n_eigen_gt1=int((eig > 1).sum()), method=method, threshold=threshold,
                  flagged=share > threshold, eigenvalues=tuple(float(e) for e in eig))
