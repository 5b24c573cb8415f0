"""Polyserial correlations, and correlation matrices of continuous and ordinal variables together.

A polyserial correlation is the correlation of a continuous variable X with the normal variable
Y* behind an ordinal one, Y = k when τ_{k−1} < Y* ≤ τ_k. Three estimators are provided:

- ``method="lavaan"`` — lavaan's two-step ML (``lav_bvmix_cor_twostep_fit``): X is
  standardised with its ML mean and variance (÷ N), the thresholds come from Y's margins
  (τ_k = Φ⁻¹(P̂(Y ≤ k))), and ρ maximises Σ_i log P(τ_{y_i−1} < Y* ≤ τ_{y_i} | z_i), where
  Y* | z ~ N(ρz, 1 − ρ²). Solved by safeguarded Newton steps for every (continuous, ordinal)
  pair at once, within lavaan's bounds [−0.995, 0.995].
- ``method="ml"`` (default) — the same estimator with every case in the likelihood (see below), so the
  estimate does not depend on the unit of the continuous variable; on a real SPSS file (salary in
  dollars vs thousands) lavaan 0.6.14's rule moved ρ by up to 0.08.
- ``method="psych"`` — the ad hoc estimator of Olsson, Drasgow & Dorans (1982) that
  psych::polyserial and psych::mixedCor use: ρ = r_xy · sd(y) / Σ_k φ(τ_k), with sd(y) the ML
  standard deviation of the category codes.

:func:`govsurvey.polychoric` with ``ordered=`` builds the whole matrix from these (Pearson
between continuous variables, polyserial between a continuous and an ordinal one, polychoric
between ordinal ones), as ``lavaan::lavCor(data, ordered = ...)``; :func:`polyserial` is the
one-pair version, with a standard error.

lavaan 0.6.14's ``lav_bvmix_lik_cache`` leaves out of the likelihood every case whose density ×
probability φ(x; μ, σ)·P(y | x) is below √ε ≈ 1.5e-8. The density carries the unit of X: in
psych's bfi one respondent aged 86 (5 SD above the mean) is left out of four age pairs, which
moves those ρ by up to 0.005; with age × 1000, 6 to 11 cases per pair are, moving ρ(age, A1)
by 0.009. ``method="lavaan"`` follows the rule, to give lavCor's numbers, and warns when it binds;
``method="ml"`` keeps every case, so its estimate does not depend on the unit of X.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from govsurvey.data.options import choice, whole_number
from govsurvey.errors import DataWarning, SpecificationError, preview
from govsurvey.results import Result

__all__ = ["Polyserial", "polyserial"]

_BOUND = 0.995                      # lavaan: nlminb(lower = -0.995, upper = +0.995) in lav_bvmix
_BIG = 100.0                        # lavaan's stand-in for ±∞ thresholds (o1/o2 in lav_uvord)
_EPS = float(np.finfo(float).eps)   # lavaan floors P(y | x) at .Machine$double.eps
_LAVAAN_DROP = float(np.sqrt(np.finfo(float).eps))   # lavaan drops cases with likelihood below this
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_CHUNK = 1_000_000                  # cases × pairs evaluated at once (~15 arrays of this size, 8 MB each)


# --------------------------------------------------------------------------------------------
# the two-step ML kernel, vectorised over (continuous, ordinal) pairs
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class _Pairs:
    """The data of every (continuous, ordinal) pair: z (n × continuous), the density φ(x; μ, σ)
    of each value, the category bounds of each case for each ordinal item (n × ordinal, ±100 for
    ±∞ as lavaan), the pairs, and whether lavaan's √ε rule leaves cases out."""

    z: np.ndarray
    dens: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    ci: np.ndarray          # continuous index of each pair
    oi: np.ndarray          # ordinal index of each pair
    drop: bool              # lavaan: cases with φ(x; μ, σ)·P(y | x) < √ε leave the likelihood

    @classmethod
    def build(cls, x: np.ndarray, codes: np.ndarray, th: list[np.ndarray], drop: bool) -> _Pairs:
        z, _, var = _standardise(x)
        nc, no = z.shape[1], codes.shape[1]
        lower, upper = np.empty(codes.shape), np.empty(codes.shape)
        for j, t in enumerate(th):
            cut = np.concatenate([[-_BIG], t, [_BIG]])
            lower[:, j], upper[:, j] = cut[codes[:, j]], cut[codes[:, j] + 1]
        ci, oi = np.meshgrid(np.arange(nc), np.arange(no), indexing="ij")
        dens = np.exp(-z * z / 2) / np.sqrt(2 * np.pi * var)
        return cls(z, dens, lower, upper, ci.ravel(), oi.ravel(), drop)

    def chunks(self, idx: np.ndarray):
        """Blocks of pairs ``idx``: (offset, pairs, z, density, lower, upper), each n × block."""
        step = max(1, _CHUNK // max(1, self.z.shape[0]))
        for s in range(0, len(idx), step):
            q = idx[s:s + step]
            c, o = self.ci[q], self.oi[q]
            yield s, q, self.z[:, c], self.dens[:, c], self.lower[:, o], self.upper[:, o]


def _conditional(rho: np.ndarray, z: np.ndarray, a: np.ndarray, b: np.ndarray, order: int) -> tuple[np.ndarray, ...]:
    """P = P(a < Y* ≤ b | z) = Φ(u) − Φ(l), u = (b − ρz)/R, l = (a − ρz)/R, R = √(1 − ρ²), floored
    at ε as lavaan; with ``order`` ≥ 1 also ∂P/∂ρ = φ(u)u′ − φ(l)l′, u′ = (ρb − z)/R³, and with
    ``order`` 2 ∂²P/∂ρ² = φ(u)(u″ − u u′²) − φ(l)(l″ − l l′²), u″ = (bR² + 3ρ(ρb − z))/R⁵."""
    r = rho[None, :]
    one = 1.0 - r * r
    inv = 1.0 / np.sqrt(one)                  # 1/R, per pair
    rz = r * z
    u, low = (b - rz) * inv, (a - rz) * inv
    sign = np.where(low > 0, -1.0, 1.0)       # Φ(−l) − Φ(−u) in the upper tail: no cancellation
    p = np.maximum(sign * (special.ndtr(sign * u) - special.ndtr(sign * low)), _EPS)
    if order == 0:
        return (p,)
    inv3 = inv / one
    au, al = r * b - z, r * a - z
    du, dl = au * inv3, al * inv3
    fu, fl = np.exp(-0.5 * u * u) * _INV_SQRT_2PI, np.exp(-0.5 * low * low) * _INV_SQRT_2PI
    d1 = fu * du - fl * dl
    if order == 1:
        return p, d1
    inv5 = inv3 / one
    d2 = (fu * ((b * one + 3 * r * au) * inv5 - u * du * du)
          - fl * ((a * one + 3 * r * al) * inv5 - low * dl * dl))
    return p, d1, d2


def _score(pairs: _Pairs, rho: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of Σ_i log P_i(ρ) for pairs ``idx`` at ``rho`` (one value per pair)."""
    g, h = np.empty(len(idx)), np.empty(len(idx))
    for s, q, z, dens, a, b in pairs.chunks(idx):
        p, d1, d2 = _conditional(rho[s:s + len(q)], z, a, b, 2)
        ratio = d1 / p
        curv = d2 / p - ratio * ratio
        if pairs.drop:
            keep = dens * p >= _LAVAAN_DROP
            ratio, curv = np.where(keep, ratio, 0.0), np.where(keep, curv, 0.0)
        g[s:s + len(q)] = ratio.sum(axis=0)
        h[s:s + len(q)] = curv.sum(axis=0)
    return g, h


def _newton(pairs: _Pairs, start: np.ndarray, tol: float = 1e-12, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the two-step log-likelihood of every pair at once: Newton steps kept inside a
    bracket on the score's sign, bisection when a step leaves it; ρ ∈ [−0.995, 0.995] as lavaan.
    An optimum beyond a bound ends on the bound (lavaan's nlminb does the same)."""
    npair = len(start)
    rho = np.clip(start, -_BOUND, _BOUND)
    lo, hi = np.full(npair, -_BOUND), np.full(npair, _BOUND)
    active, converged = np.ones(npair, dtype=bool), np.zeros(npair, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        r = rho[idx]
        g, h = _score(pairs, r, idx)
        lo[idx] = np.where(g > 0, r, lo[idx])
        hi[idx] = np.where(g <= 0, r, hi[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(h < 0, -g / h, np.nan)
        ok = np.isfinite(step)
        done = (ok & (np.abs(step) < tol)) | (hi[idx] - lo[idx] < tol) | (g == 0)
        new = r + np.where(ok, step, 0.0)
        bad = ~ok | ~(new > lo[idx]) | ~(new < hi[idx])
        new = np.where(done, np.clip(new, -_BOUND, _BOUND), np.where(bad, (lo[idx] + hi[idx]) / 2, new))
        rho[idx] = new
        converged[idx[done]] = True
        active[idx[done]] = False
    edge = np.flatnonzero(converged & (np.abs(rho) > _BOUND - 1e-8))
    if edge.size:
        at = np.sign(rho[edge]) * _BOUND
        g, _ = _score(pairs, at, edge)
        rho[edge] = np.where(np.sign(g) == np.sign(at), at, rho[edge])
    return rho, converged


def _start(z: np.ndarray, codes: np.ndarray, th: list[np.ndarray], pairs: _Pairs) -> np.ndarray:
    """lavaan's starting value: the ad hoc estimate r·sd(codes)/Σφ(τ), halved beyond ±0.9."""
    c = codes - codes.mean(axis=0)
    sd = np.sqrt((c * c).mean(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (z.T @ c) / (z.shape[0] * sd)
        stau = np.array([np.exp(-t * t / 2).sum() / np.sqrt(2 * np.pi) for t in th])
        start = (r * sd / stau)[pairs.ci, pairs.oi]
    start = np.where(np.isfinite(start), start, 0.0)
    return np.where(np.abs(start) > 0.9, start / 2, start)


def _information(pairs: _Pairs, rho: np.ndarray) -> np.ndarray:
    """−∂²ℓ/∂ρ² at the estimates: the observed information of ρ given the first-step estimates."""
    return -_score(pairs, rho, np.arange(len(rho)))[1]


def _lavaan_dropped(pairs: _Pairs, rho: np.ndarray) -> np.ndarray:
    """How many cases of each pair lavaan 0.6.14 leaves out of its likelihood at ``rho``:
    φ(x; μ, σ) · P(y | x) < √ε (``lav_bvmix_lik_cache``)."""
    out = np.empty(len(rho), dtype=int)
    for s, q, z, dens, a, b in pairs.chunks(np.arange(len(rho))):
        (p,) = _conditional(rho[s:s + len(q)], z, a, b, 0)
        out[s:s + len(q)] = (dens * p < _LAVAAN_DROP).sum(axis=0)
    return out


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z-scores with the ML mean and variance (÷ N, lavaan's ``lav_uvreg_fit``), the means and variances."""
    mean = x.mean(axis=0)
    c = x - mean
    var = (c * c).mean(axis=0)
    return c / np.sqrt(var), mean, var


def _ml_polyserial(x: np.ndarray, codes: np.ndarray, th: list[np.ndarray], cont: tuple[str, ...],
                   ordinal: tuple[str, ...], method: str, msgs: list[str]) -> tuple[np.ndarray, np.ndarray, _Pairs]:
    """Two-step ML polyserial correlations, continuous × ordinal (lavaan's ``lav_bvmix``; with
    ``method="lavaan"`` its √ε case rule too), and messages for pairs that did not converge and
    for pairs where that rule leaves cases out."""
    pairs = _Pairs.build(x, codes, th, drop=method == "lavaan")
    rho, conv = _newton(pairs, _start(pairs.z, codes, th, pairs))
    label = [f"{cont[c]}–{ordinal[o]}" for c, o in zip(pairs.ci, pairs.oi)]
    if not conv.all():
        msgs.append(f"The polyserial correlation did not converge for {preview([label[q] for q in np.flatnonzero(~conv)])}. "
                    "Fix: check these variables for outliers and sparse categories.")
    edge = [label[q] for q in np.flatnonzero(np.abs(rho) >= _BOUND)]
    if edge:
        msgs.append(f"The polyserial correlation of {preview(edge)} is on the bound ±{_BOUND} (lavaan's), so the ML "
                    "estimate may be larger: the ordinal item is (nearly) a cut of the continuous variable. Fix: check "
                    "whether both measure the same thing; keep only one of them.")
    dropped = _lavaan_dropped(pairs, rho)
    if dropped.any():
        hit = preview([f"{label[q]} ({dropped[q]})" for q in np.flatnonzero(dropped)])
        rule = ("drops a case from the polyserial likelihood when its density × probability is below 1.5e-8; the density "
                "carries the unit of the continuous variable, so the estimate changes with that unit")
        msgs.append(f"As lavaan 0.6.14, cases were left out of the polyserial likelihood of {hit}: lavaan {rule}. "
                    "Fix: method='ml' keeps every case (the same estimator, unit-free)." if method == "lavaan" else
                    f"lavaan 0.6.14 (lavCor) would leave cases out of the polyserial likelihood of {hit}, so its "
                    f"estimates differ from these, which use every case: lavaan {rule}. method='lavaan' reproduces it.")
    return rho.reshape(len(cont), len(ordinal)), conv.reshape(len(cont), len(ordinal)), pairs


# --------------------------------------------------------------------------------------------
# psych's ad hoc estimator
# --------------------------------------------------------------------------------------------

def _psych_polyserial(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """psych::polyserial(x, y) (psych 2.2.9) for complete data, continuous × ordinal:
    r_xy · sd(y) √((n−1)/n) / Σ_k φ(τ_k), clipped to [−1, 1]. Its thresholds come from each item's
    frequencies over every integer from the smallest to the largest code of all the ordinal
    items, so an unused code inside that range repeats a threshold (counted twice in Σφ)."""
    n = x.shape[0]
    lo = values.min()
    k = np.round(values - lo).astype(np.intp)
    span = int(k.max()) + 1
    stau = np.empty(values.shape[1])
    for j in range(values.shape[1]):
        cum = np.cumsum(np.bincount(k[:, j], minlength=span) / n)[:-1]
        stau[j] = (np.exp(-special.ndtri(cum) ** 2 / 2) / np.sqrt(2 * np.pi)).sum()
    xc, yc = x - x.mean(axis=0), values - values.mean(axis=0)
    sx, sy = np.sqrt((xc * xc).sum(axis=0)), np.sqrt((yc * yc).sum(axis=0))
    rxy = (xc.T @ yc) / np.outer(sx, sy)
    return np.clip(rxy * (sy / np.sqrt(n)) / stau, -1.0, 1.0)


def _pearson(x: np.ndarray) -> np.ndarray:
    """Pearson correlations of complete columns (lavaan: the ML covariance → correlation)."""
    z, _, _ = _standardise(x)
    r = (z.T @ z) / z.shape[0]
    np.fill_diagonal(r, 1.0)
    return r


# --------------------------------------------------------------------------------------------
# the mixed matrix for gs.polychoric(ordered=)
# --------------------------------------------------------------------------------------------

def _mixed_matrix(prep: Any, r_ord: np.ndarray, method: str, msgs: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """The full correlation matrix in the caller's column order from the polychoric block
    ``r_ord``, Pearson correlations of the continuous variables and the polyserial block; and
    the continuous variables' ML means and variances."""
    x = prep.x_cont
    if method != "psych":
        from govsurvey.psychometrics.polychoric import _thresholds
        th = _thresholds(prep.codes, prep.codes.max(axis=0) + 1)
        r_cs, _, _ = _ml_polyserial(x, prep.codes, th, prep.continuous, prep.names, method, msgs)
    else:
        values = np.stack([prep.levels[j][prep.codes[:, j]] for j in range(len(prep.names))], axis=1)
        r_cs = _psych_polyserial(x, values)
    order = list(prep.continuous) + list(prep.names)
    full = np.block([[_pearson(x), r_cs], [r_cs.T, r_ord]])
    pos = [order.index(v) for v in prep.all_names]
    _, mean, var = _standardise(x)
    moments = pd.DataFrame({"variable": list(prep.continuous), "mean": mean, "variance": var})
    return full[np.ix_(pos, pos)], moments


def _check_acov(acov: Any, continuous: tuple[str, ...]) -> None:
    if acov:
        raise SpecificationError(
            f"polychoric: acov=True is not available with continuous variables ({preview(continuous)}): the asymptotic "
            "covariance Γ of mixed polyserial/Pearson/polychoric correlations (and so WLSMV with mixed continuous and "
            "ordinal indicators) is not supported yet. Fix: leave acov unset for the mixed correlation matrix, or name "
            "every item in ordered= (or cut the continuous variables into categories) to get Γ of a polychoric matrix.")


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Polyserial(Result):
    """Polyserial correlation of a continuous and an ordinal variable (see :func:`polyserial`)."""

    rho: float
    se: float | None            # ML methods: SE given the thresholds, mean and variance; psych: None
    thresholds: pd.DataFrame    # item, threshold (1-based), value
    mean: float                 # ML mean and variance (÷ N) of the continuous variable
    variance: float
    n_obs: int
    n_dropped: int
    method: str
    converged: bool
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"rho": self.rho, "se": self.se, "n_obs": self.n_obs, "method": self.method}])


def _as_column(v: Any, default: str, what: str) -> tuple[str, np.ndarray]:
    if isinstance(v, pd.DataFrame):
        if v.shape[1] != 1:
            raise SpecificationError(f"{what}: {default} must be one variable, got a table with {v.shape[1]} columns. "
                                     "Fix: for several variables use gs.polychoric(data, ordered=[...]).")
        v = v.iloc[:, 0]
    name = str(v.name) if isinstance(v, pd.Series) and v.name is not None else default
    arr = v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)
    if arr.ndim != 1:
        raise SpecificationError(f"{what}: {default} must be 1-D, got shape {arr.shape}.")
    return name, arr


def polyserial(x: Any, y: Any, *, method: str = "ml", max_categories: int = 10) -> Polyserial:
    """Polyserial correlation of a continuous variable ``x`` and an ordinal variable ``y``.

    Parameters
    ----------
    x
        Continuous variable (Series, 1-D array or list; NaN = missing).
    y
        Ordinal variable: integer category codes (NaN = missing), paired with ``x`` by position.
        Its observed values, sorted, are its categories (as lavaan's ``ordered()``).
    method
        ``"lavaan"`` (default): two-step ML as ``lavaan::lavCor(data.frame(x, y), ordered = "y")``
        — x standardised with its ML mean and SD, thresholds from y's margins, then ρ by ML,
        solved to 1e-12 within [−0.995, 0.995] — including lavaan 0.6.14's rule that leaves out
        cases whose density × probability is below √ε (a :class:`~govsurvey.DataWarning` says
        when it does). ``"ml"``: the same with every case, so ρ̂ does not depend on the unit of x.
        ``"psych"``: psych::polyserial's ad hoc estimate r_xy · sd(y) / Σ φ(τ_k) (Olsson, Drasgow
        & Dorans 1982), no SE.
    max_categories
        A ``y`` with more distinct values is refused (it looks continuous: were x and y swapped?).

    Returns
    -------
    Polyserial
        ``rho``, ``se``, ``thresholds`` (``item``, ``threshold``, ``value``), ``mean`` and
        ``variance`` of x (÷ N), ``n_obs``, ``n_dropped`` (rows without both values), ``method``,
        ``converged``, ``warnings``.

    Notes
    -----
    Rows missing x or y are left out. The log-likelihood is Σ_i log[Φ(u_i) − Φ(l_i)] with
    u_i = (τ_{y_i} − ρz_i)/√(1 − ρ²), l_i likewise with τ_{y_i − 1}. ``se`` = 1/√(−∂²ℓ/∂ρ²) at
    ρ̂, treating the thresholds, mean and variance as known (polycor::polyserial's two-step
    ``std.err``); it leaves out the first step's sampling error, which is small for the
    correlation (polycor's joint ML SE is ~0.5 % larger on bfi), and is NaN on the bound.
    psych::polyserial equals ``method="psych"`` on complete pairs; with missing values psych
    takes sd(y) and the thresholds from every answered y.

    References
    ----------
    Olsson, U., Drasgow, F., & Dorans, N. J. (1982). The polyserial correlation coefficient.
    Psychometrika, 47, 337–347. Rosseel, Y. (2012). lavaan: An R package for structural equation
    modeling. Journal of Statistical Software, 48(2) (``lavCor``; ``lav_bvmix.R``).

    Examples
    --------
    >>> from govsurvey.psychometrics.polyserial import polyserial
    >>> rng = np.random.default_rng(4)
    >>> z = rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], size=3000)
    >>> x, y = 50 + 10 * z[:, 0], np.digitize(z[:, 1], [-1.0, 0.0, 1.0]) + 1
    >>> ps = polyserial(x, y)     # In R: lavaan::lavCor(data.frame(x, y), ordered = "y")
    >>> round(ps.rho, 1), ps.thresholds.shape, ps.n_obs
    (0.5, (3, 3), 3000)
    """
    from govsurvey.psychometrics.polychoric import (
        _check_psych_span,
        _prepare,
        _thresholds,
    )

    method = choice(method, "method", ("lavaan", "ml", "psych"), where="polyserial")
    max_categories = whole_number(max_categories, "max_categories", low=2)
    xn, xv = _as_column(x, "x", "polyserial")
    yn, yv = _as_column(y, "y", "polyserial")
    if len(xv) != len(yv):
        raise SpecificationError(f"polyserial: x and y must have the same length, got {len(xv)} and {len(yv)}.")
    if xn == yn:
        xn, yn = "x", "y"
    prep = _prepare(pd.DataFrame({xn: xv, yn: yv}), None, "polyserial", max_categories, ordered=[yn])
    msgs = list(prep.warnings)
    th = _thresholds(prep.codes, prep.codes.max(axis=0) + 1)
    _, mean, var = _standardise(prep.x_cont)
    se = None
    if method != "psych":
        r, conv, pairs = _ml_polyserial(prep.x_cont, prep.codes, th, prep.continuous, prep.names, method, msgs)
        rho, converged = float(r[0, 0]), bool(conv[0, 0])
        info = float(_information(pairs, r.ravel())[0])
        se = float(1 / np.sqrt(info)) if abs(rho) < _BOUND and info > 0 else float("nan")
    else:
        values = prep.levels[0][prep.codes]
        _check_psych_span(values, max_categories, "polyserial")
        rho, converged = float(_psych_polyserial(prep.x_cont, values)[0, 0]), True
    for m in msgs:
        warnings.warn(m, DataWarning, stacklevel=2)
    thresholds = pd.DataFrame({"item": [yn] * len(th[0]), "threshold": np.arange(1, len(th[0]) + 1), "value": th[0]})
    return Polyserial(rho=rho, se=se, thresholds=thresholds, mean=float(mean[0]), variance=float(var[0]),
                      n_obs=int(prep.codes.shape[0]), n_dropped=prep.n_dropped, method=method, converged=converged,
                      warnings=tuple(msgs))
