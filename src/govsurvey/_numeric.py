"""Numerical building blocks that must hold up on hostile data: centring that keeps full
precision when values sit far from zero, a root search that survives NaN from scipy's
distribution functions, a scale-aware zero-variance test, and the message that says which
columns leave no complete case.

Used by ``moments``, ``psychometrics``, ``models.describe`` and ``screening``; depends on
numpy and scipy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize

__all__ = ["bracketed_root", "centre", "centred_cross_products", "decreasing_root", "no_complete_cases", "no_variance"]

EPS = float(np.finfo(float).eps)

ZERO_VARIANCE_ULPS = 16.0
"""A column counts as constant when its SD is at most this many units in the last place of
its mean: that much "variance" is what rounding leaves on truly constant data."""


def centre(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and deviations from them, by a corrected two-pass algorithm.

    ``x − mean(x)`` is exact for values near the mean, but the mean itself is rounded to the
    precision of the values (1/64 near 1e14), and that error enters every power of the
    deviations. The second pass removes the mean of the deviations (Björck, 1996, §2.7;
    Chan, Golub & LeVeque, 1983), so skewness, correlations and covariances are the same for
    ``x`` and ``x + c``. ``x`` is not modified.

    Examples
    --------
    >>> import numpy as np
    >>> mean, dev = centre(np.array([[1e14 + 1.0], [1e14 + 2.0], [1e14 + 4.0]]))
    >>> [round(float(v), 12) for v in dev[:, 0]]
    [-1.333333333333, -0.333333333333, 1.666666666667]
    """
    x = np.asarray(x, dtype=float)
    first = x.mean(axis=0)
    dev = x - first
    again = dev.mean(axis=0)
    dev -= again
    return first + again, dev


def centred_cross_products(x: np.ndarray, origin: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Column means and Σ(x − x̄)(x − x̄)ᵀ of complete rows, shift invariant.

    One subtraction of the rounded mean, then the exact correction of the cross-products
    for the (tiny) mean ``r`` of the deviations d: Σ(d − r)(d − r)ᵀ = dᵀd − n·r rᵀ — no
    second pass over the data. With ``origin`` the means are returned relative to it,
    (rounded mean − origin) + r, which keeps the digits that the absolute mean (rounded
    to the values' precision) would lose.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0]]) + 1e12
    >>> means, m2 = centred_cross_products(x)
    >>> m2.tolist()
    [[2.0, 2.0], [2.0, 4.666666666666667]]
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    first = x.mean(axis=0)
    dev = x - first
    m2 = dev.T @ dev             # symmetric: numpy computes AᵀA as one rank-k update
    r = np.zeros_like(first)
    # the rounded mean is off by r ≈ eps·|mean|, which adds n·r² to m2 — relatively (eps·mean/SD)²,
    # below 1e-16 unless the mean exceeds 1e7 SDs: only then take the second pass
    if np.any(first * first > 1e14 * np.diag(m2) / n):
        r = dev.mean(axis=0)
        m2 -= n * np.outer(r, r)
    mean = first + r if origin is None else (first - origin) + r
    return mean, m2


def pairwise_covariances(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Available-case means and pairwise covariances, R's ``cov(x, use = "pairwise")``: each
    pair over the rows where both are present, with that pair's own means and an n_ij − 1
    divisor (NaN where a pair has fewer than two rows). Computed on deviations from the
    available-case means, so values far from zero keep their precision; all pairs at once,
    Σ_ij = (zᵢᵀzⱼ − (Σ_{i|j} z)(Σ_{j|i} z)/n_ij)/(n_ij − 1).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 4.0], [4.0, 3.0]])
    >>> means, cov = pairwise_covariances(x)
    >>> means.tolist(), float(cov[0, 1])
    ([2.5, 3.0], 1.0)
    """
    x = np.asarray(x, dtype=float)
    obs = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        first = np.nanmean(x, axis=0)
    z = np.where(obs, x - first, 0.0)
    o = obs.astype(float)
    n_ij = o.T @ o
    s_ij = z.T @ o                      # Σ z_i over the rows that have j
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (z.T @ z - s_ij * s_ij.T / n_ij) / (n_ij - 1)
        means = first + z.sum(axis=0) / np.diag(n_ij)
    cov[n_ij < 2] = np.nan
    return means, cov


def no_variance(var: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Which variances are zero up to rounding: SD ≤ 16 ulp of the mean (or the variance is
    NaN). Relative to the mean, so it holds at any scale and offset: items + 1e8 with SD 1
    vary; a constant 1e8 + 3 does not.

    Examples
    --------
    >>> import numpy as np
    >>> no_variance(np.array([0.0, 1e-4, 1e-30, 1e-40]), np.array([3.0, 1e8, 1e8, 0.0])).tolist()
    [True, False, True, False]
    """
    var = np.asarray(var, dtype=float)
    floor = (ZERO_VARIANCE_ULPS * EPS * np.abs(np.asarray(means, dtype=float))) ** 2
    return ~(var > floor)


def decreasing_root(g: Callable[[float], float], *, start: float, low: float = 0.0, xtol: float = 1e-10,
                    rtol: float = 4 * EPS, max_steps: int = 200) -> float:
    """The root of a decreasing function ``g`` on [low, ∞): ``low`` when g(low) ≤ 0, NaN when
    no bracket can be found (g is NaN there, or never changes sign).

    The bracket grows from ``start`` by doubling; where ``g`` returns NaN (scipy's noncentral
    CDFs do, far in the tail) it is halved back towards the last point known to be positive,
    so a root on the finite side is still found. Never raises.

    Examples
    --------
    >>> round(decreasing_root(lambda x: 10.0 - x if x < 100 else float("nan"), start=1000.0), 9)
    10.0
    """
    g_low = g(low)
    if not math.isfinite(g_low):
        return float("nan")
    if g_low <= 0:
        return float(low)
    lo, width, nan_at = float(low), max(float(start) - low, 1.0), None
    for _ in range(max_steps):
        hi = lo + width if nan_at is None else (lo + nan_at) / 2
        value = g(hi)
        if not math.isfinite(value):
            nan_at = hi
            if nan_at - lo <= xtol * (1 + abs(lo)):
                return float("nan")
        elif value > 0:
            lo = hi
            width *= 2
        else:
            return bracketed_root(g, lo, hi, xtol, rtol)
        if not math.isfinite(lo + width):
            return float("nan")
    return float("nan")


def bracketed_root(g: Callable[[float], float], lo: float, hi: float, xtol: float = 1e-10, rtol: float = 4 * EPS) -> float:
    """Brent's root of ``g`` in [lo, hi]; NaN, not a scipy error, when the bracket does not
    hold a sign change, ``g`` is NaN inside it, or the search does not converge.

    Examples
    --------
    >>> bracketed_root(lambda x: x - 2.0, 0.0, 5.0)
    2.0
    >>> bracketed_root(lambda x: float("nan"), 0.0, 5.0)
    nan
    """
    try:
        root = optimize.brentq(g, lo, hi, xtol=xtol, rtol=rtol, maxiter=500)
    except (ValueError, RuntimeError):     # NaN inside the bracket, or no convergence
        return float("nan")
    return float(root) if math.isfinite(g(root)) else float("nan")


def no_complete_cases(missing: np.ndarray, n_rows: int, names: Sequence[str], *, what: str, n_complete: int,
                      needed: int, fix: str) -> str:
    """The message for too few complete rows: names the columns with no value at all, or
    else the columns with most missing values, and how to fix it.

    Examples
    --------
    >>> import numpy as np
    >>> print(no_complete_cases(np.array([0, 10]), 10, ["a", "b"], what="kmo", n_complete=0, needed=3, fix="x."))
    kmo has 0 complete cases; at least 3 are needed. Item(s) b have no answers at all. Fix: drop them from the analysis or check how the data were read; x.
    """
    from govsurvey.errors import preview

    missing = np.asarray(missing)
    head = f"{what} has {n_complete} complete cases; at least {needed} are needed."
    empty = [names[j] for j in np.flatnonzero(missing >= n_rows)]
    if empty and n_rows:
        return (f"{head} Item(s) {preview(empty)} have no answers at all. "
                f"Fix: drop them from the analysis or check how the data were read; {fix}")
    worst = [j for j in np.argsort(-missing, kind="stable") if missing[j] > 0][:5]
    if not worst:
        return f"{head} Fix: {fix}"
    shown = ", ".join(f"{names[j]} ({int(missing[j])} of {n_rows} missing)" for j in worst)
    who = "Every respondent" if n_complete == 0 else "Nearly every respondent"
    return (f"{head} {who} skipped at least one of the items; most missing: {shown}. "
            f"Fix: drop the items with most missing answers, or {fix}")
