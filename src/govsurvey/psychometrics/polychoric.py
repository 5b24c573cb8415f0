"""Polychoric correlations, their thresholds and asymptotic covariance, and ordinal reliability.

The pipeline is lavaan's for ordered data (``lav_samplestats_step1`` → ``step2`` →
``lav_muthen1984``), written for numpy and vectorised over item pairs:

1. thresholds of each item from its marginal proportions, τ_k = Φ⁻¹(P(y ≤ k));
2. for each item pair the ML polychoric correlation given those thresholds (two-step, Olsson 1979);
3. the asymptotic covariance of (thresholds, polychorics) from the casewise scores of both
   estimating equations, NACOV = N · B⁻¹ (Σ s sᵀ) B⁻ᵀ (Muthén 1984; Muthén & Satorra 1995).

``method="psych"`` reproduces psych::polychoric instead (its Brent search with tolerance
ε^¼, its global thresholds and its continuity correction), which is what ordinal alpha
(Zumbo, Gadermann & Zeisser 2007) is usually computed from.

With ``ordered=`` naming only some columns, :func:`polychoric` returns lavaan's mixed matrix
(``lavCor(data, ordered = ...)``): Pearson, polyserial (:mod:`govsurvey.psychometrics.polyserial`)
and polychoric correlations together.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from govsurvey.data.options import choice, whole_number
from govsurvey.errors import (
    DataValidationError,
    DataWarning,
    SpecificationError,
    UnknownItemError,
    preview,
)
from govsurvey.psychometrics._input import _listwise, _numeric_matrix, item_frame
from govsurvey.results import Result

__all__ = [
    "OrdinalReliability",
    "OrdinalSampleStats",
    "Polychoric",
    "bivariate_normal_cdf",
    "cor_smooth",
    "ordinal_reliability",
    "ordinal_sample_stats",
    "polychoric",
]

_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))
_BOUND = 0.999                     # lavaan: nlminb(lower = -0.999, upper = +0.999)
_BIG = 100.0                       # lavaan's stand-in for ±∞ in casewise scores (o1/o2 in lav_uvord)
_TWO_PI = 2.0 * np.pi

# 20-point Gauss–Legendre nodes on (0, 1) and weights (Genz's BVNU), mirrored onto (0, 2)
_GL_X = np.array([0.9931285991850949, 0.9639719272779138, 0.9122344282513259, 0.8391169718222188,
                  0.7463319064601508, 0.6360536807265150, 0.5108670019508271, 0.3737060887154196,
                  0.2277858511416451, 0.07652652113349733])
_GL_W = np.array([0.01761400713915212, 0.04060142980038694, 0.06267204833410906, 0.08327674157670475,
                  0.1019301198172404, 0.1181945319615184, 0.1316886384491766, 0.1420961093183821,
                  0.1491729864726037, 0.1527533871307259])
_X = np.concatenate([1.0 - _GL_X, 1.0 + _GL_X])
_W = np.concatenate([_GL_W, _GL_W])


# --------------------------------------------------------------------------------------------
# bivariate normal
# --------------------------------------------------------------------------------------------

def _phi(x: np.ndarray) -> np.ndarray:
    return special.ndtr(x)


def bivariate_normal_cdf(h: Any, k: Any, rho: Any) -> np.ndarray:
    """P(X ≤ h, Y ≤ k) for a standard bivariate normal with correlation ``rho``, elementwise.

    Genz's (2004) BVNU algorithm (Drezner & Wesolowsky 1990 with 20-point Gauss–Legendre
    quadrature; Owen's series near |ρ| = 1), vectorised; absolute error about 1e-15. Infinite
    limits are allowed.

    >>> float(bivariate_normal_cdf(0.0, 0.0, 0.5))     # 1/4 + asin(ρ)/(2π) = 1/3
    0.3333333333333333
    """
    h, k, r = (np.asarray(a, dtype=float) for a in np.broadcast_arrays(h, k, rho))
    out = np.empty(h.shape)
    lo = np.isneginf(h) | np.isneginf(k)
    hi_h, hi_k = np.isposinf(h), np.isposinf(k)
    out[lo] = 0.0
    m = hi_h & ~lo
    out[m] = _phi(k[m])
    m = hi_k & ~hi_h & ~lo
    out[m] = _phi(h[m])
    fin = ~(lo | hi_h | hi_k)
    if fin.any():
        out[fin] = _bvnu(-h[fin], -k[fin], r[fin])
    return out


def _bvnu(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """P(X > h, Y > k) for finite h, k (1-D arrays), Genz's BVNU."""
    out = np.empty(h.shape)
    hk = h * k
    small = np.abs(r) < 0.925
    if small.any():
        hs = (h[small] ** 2 + k[small] ** 2) / 2
        asr = np.arcsin(r[small]) / 2
        sn = np.sin(asr[:, None] * _X)
        bvn = np.exp((sn * hk[small, None] - hs[:, None]) / (1 - sn * sn)) @ _W
        out[small] = bvn * asr / _TWO_PI + _phi(-h[small]) * _phi(-k[small])
    big = ~small
    if big.any():
        hb, kb, rb = h[big], k[big].copy(), r[big]
        hkb = hk[big].copy()
        neg = rb < 0
        kb[neg], hkb[neg] = -kb[neg], -hkb[neg]
        bvn = np.zeros(hb.shape)
        inner = np.abs(rb) < 1
        if inner.any():
            h1, k1, hk1 = hb[inner], kb[inner], hkb[inner]
            as_ = (1 - rb[inner]) * (1 + rb[inner])
            a = np.sqrt(as_)
            bs = (h1 - k1) ** 2
            asr = -(bs / as_ + hk1) / 2
            c = (4 - hk1) / 8
            d = (12 - hk1) / 80
            with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                v = np.where(asr > -100, a * np.exp(asr) * (1 - c * (bs - as_) * (1 - d * bs) / 3 + c * d * as_ * as_), 0.0)
                b = np.sqrt(bs)
                sp = np.sqrt(_TWO_PI) * _phi(-b / a)
                v = v - np.where(hk1 > -100, np.exp(-hk1 / 2) * sp * b * (1 - c * bs * (1 - d * bs) / 3), 0.0)
                a2 = a / 2
                xs = (a2[:, None] * _X) ** 2
                asr2 = -(bs[:, None] / xs + hk1[:, None]) / 2
                sp2 = 1 + c[:, None] * xs * (1 + 5 * d[:, None] * xs)
                rs = np.sqrt(1 - xs)
                ep = np.exp(-(hk1[:, None] / 2) * xs / (1 + rs) ** 2) / rs
                terms = np.where(asr2 > -100, np.exp(asr2) * (sp2 - ep), 0.0)
            bvn[inner] = (a2 * (terms @ _W) - v) / _TWO_PI
        pos = rb > 0
        bvn[pos] += _phi(-np.maximum(hb[pos], kb[pos]))
        negs = ~pos
        ge = negs & (hb >= kb)
        bvn[ge] = -bvn[ge]
        lt = negs & (hb < kb)
        l_ = np.where(hb[lt] < 0, _phi(kb[lt]) - _phi(hb[lt]), _phi(-hb[lt]) - _phi(-kb[lt]))
        bvn[lt] = l_ - bvn[lt]
        out[big] = bvn
    return np.clip(out, 0.0, 1.0)


def _bvn_pdf(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """φ₂(h, k; ρ); 0 where h or k is infinite."""
    with np.errstate(invalid="ignore", over="ignore"):
        one = 1 - r * r
        q = (h * h - 2 * r * h * k + k * k) / one
        out = np.exp(-q / 2) / (_TWO_PI * np.sqrt(one))
    return np.where(np.isfinite(h) & np.isfinite(k), out, 0.0)


def _bvn_dpdf(h: np.ndarray, k: np.ndarray, r: np.ndarray, pdf: np.ndarray) -> np.ndarray:
    """∂φ₂/∂ρ = φ₂ · [ρ/(1−ρ²) + (hk(1+ρ²) − ρ(h²+k²))/(1−ρ²)²]; 0 at infinite corners."""
    with np.errstate(invalid="ignore"):
        one = 1 - r * r
        out = pdf * (r / one + (h * k * (1 + r * r) - r * (h * h + k * k)) / (one * one))
    return np.where(np.isfinite(h) & np.isfinite(k), out, 0.0)


# --------------------------------------------------------------------------------------------
# data → ordinal codes
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class _Codes:
    names: tuple[str, ...]     # the ordinal items
    codes: np.ndarray          # n × p, int, 0-based observed-category index
    levels: tuple[np.ndarray, ...]   # the observed values of each item, sorted
    n_dropped: int
    warnings: tuple[str, ...]
    all_names: tuple[str, ...] = ()        # every variable, in the caller's order
    continuous: tuple[str, ...] = ()       # the variables not named in ordered=
    x_cont: np.ndarray | None = None       # n × continuous values (the same complete rows)


def _as_codes(x: np.ndarray, names: list[str], what: str, max_categories: int) -> tuple[np.ndarray, tuple[np.ndarray, ...], list[str]]:
    """Complete float matrix → 0-based category codes (observed values, sorted: lavaan's ``ordered()``)."""
    msgs: list[str] = []
    frac = np.abs(x - np.round(x)) > 1e-8 * np.maximum(1.0, np.abs(x))
    merged = [len(np.unique(np.round(x[:, j]))) < len(np.unique(x[:, j])) for j in range(x.shape[1])]
    bad = [names[j] for j in np.flatnonzero(frac.any(axis=0) | np.array(merged, dtype=bool))]
    if bad:
        raise DataValidationError(
            f"{what}: item(s) {preview(bad)} have non-integer values, so they are not ordinal. Polychoric correlations "
            "need integer category codes. Fix: pass Likert-type items coded 1, 2, 3, …; for continuous variables use "
            "gs.polychoric(data, ordered=[the ordinal items]) (polyserial correlations) or gs.correlations.")
    levels, codes = [], np.empty(x.shape, dtype=np.intp)
    for j in range(x.shape[1]):
        lev, inv = np.unique(x[:, j], return_inverse=True)
        levels.append(lev)
        codes[:, j] = inv.reshape(-1)
    nlev = np.array([len(v) for v in levels])
    const = [names[j] for j in np.flatnonzero(nlev < 2)]
    if const:
        raise DataValidationError(
            f"{what}: item(s) {preview(const)} have a single observed category, so their thresholds and correlations "
            "are undefined. Fix: drop them from the analysis.")
    many = [f"{names[j]} ({nlev[j]})" for j in np.flatnonzero(nlev > max_categories)]
    if many:
        raise DataValidationError(
            f"{what}: item(s) {preview(many)} have more than {max_categories} distinct values; they look continuous. "
            "Fix: leave continuous variables out of ordered= (gs.polychoric(data, ordered=[the ordinal items]) gives "
            "their polyserial correlations), use gs.correlations, or raise max_categories= if these really are ordinal.")
    gaps = [f"{names[j]} (never {_unused_codes(lev)})" for j, lev in enumerate(levels) if np.any(np.diff(lev) > 1)]
    if gaps:
        msgs.append(f"{what}: empty categories inside the range of {preview(gaps)}; the observed categories are used "
                    "and an unused one gets no threshold, as lavaan does.")
    if len(set(nlev.tolist())) > 1:
        common = int(np.bincount(nlev).argmax())
        odd = [f"{names[j]}: {nlev[j]}" for j in range(len(names)) if nlev[j] != common]
        msgs.append(f"{what}: items have different numbers of observed categories ({preview(odd)}; the others {common}); "
                    "each item gets one threshold fewer than its observed categories, as lavaan does (an unused answer "
                    "option has none).")
    return codes, tuple(levels), msgs


def _unused_codes(lev: np.ndarray, at_most: int = 5) -> str:
    """The integer codes inside the range of ``lev`` (sorted integers) that are never used, the
    first ``at_most`` of them — found from the gaps, so codes like 1e12 cost no memory."""
    out: list[str] = []
    for lo, hi in zip(lev[:-1], lev[1:]):
        out.extend(str(int(c)) for c in np.arange(lo + 1, min(hi, lo + 1 + at_most - len(out))))
        if len(out) >= at_most:
            break
    total = int(np.sum(np.diff(lev) - 1))
    return ", ".join(out) + (f" and {total - len(out)} more" if total > len(out) else "")


def _check_psych_span(values: np.ndarray, max_categories: int, what: str = "polychoric") -> None:
    """psych tabulates every integer from the smallest to the largest code of all items; refuse
    codes spread so widely that the table would not fit in memory (e.g. 1e12, 2e12, …)."""
    span = float(values.max() - values.min()) + 1
    if span > max(100, 10 * max_categories):
        raise DataValidationError(
            f"{what}(method='psych'): the codes run from {values.min():g} to {values.max():g} ({span:.3g} integer "
            "values); psych tabulates every integer in that range. Fix: recode the items to 1, 2, …, K, or use "
            "method='lavaan', which uses the observed categories only.")


def _ordered_names(data: pd.DataFrame, ordered: Any, what: str) -> set | None:
    """The columns named in ``ordered=`` (checked against the data), or None when every item is
    ordinal (``ordered`` None or True)."""
    if ordered is None or ordered is True:
        return None
    ordered = [] if ordered is False else [ordered] if isinstance(ordered, str) else list(ordered)
    unknown = [str(c) for c in ordered if c not in data.columns]
    if unknown:
        raise UnknownItemError(f"{what}: ordered= names {len(unknown)} column(s) not in the data: {preview(unknown)}. "
                               f"Fix: name ordinal items among the data's columns ({preview([str(c) for c in data.columns], 8)}).")
    return set(ordered)


def _check_continuous(x: np.ndarray, names: tuple[str, ...], what: str) -> None:
    const = [names[j] for j in np.flatnonzero(np.all(x == x[:1], axis=0))]
    if const:
        raise DataValidationError(
            f"{what}: continuous variable(s) {preview(const)} have a single value in the rows used, so their correlations "
            "are undefined. Fix: drop them from the analysis.")


def _prepare(data: Any, items: Any, what: str, max_categories: int, ordered: Any = None) -> _Codes:
    """Complete rows of the items as category codes; with ``ordered=`` naming some of them, the
    others are kept as continuous values (listwise over all of them, as lavCor)."""
    data = item_frame(data, what)
    ordered = _ordered_names(data, ordered, what)
    if items is not None:
        items = [items] if isinstance(items, str) else list(items)
        unknown = [str(c) for c in items if c not in data.columns]
        if unknown:
            raise UnknownItemError(f"{what}: items= names {len(unknown)} column(s) not in the data: {preview(unknown)}. "
                                   "Fix: check the item ids against the data's columns.")
        data = data[items]
    names, x, _ = _numeric_matrix(data, what)       # numbers (text codes converted), unique names, finite
    if len(names) < 2:
        raise DataValidationError(f"{what} needs at least 2 items, got {len(names)}. Fix: pass more item columns.")
    is_ord = np.array([ordered is None or c in ordered for c in data.columns], dtype=bool)
    if not is_ord.any():
        raise SpecificationError(f"{what}: ordered= names none of the items ({preview(names)}), so there is nothing "
                                 "ordinal. Fix: name the ordinal items in ordered=, or use gs.correlations.")
    msgs: list[str] = []
    x, n_dropped, _, _ = _listwise(x, names, what, 3, msgs)      # complete rows (≥ 3), how many were left out
    ordinal = [names[j] for j in np.flatnonzero(is_ord)]
    codes, levels, more = _as_codes(x[:, is_ord], ordinal, what, max_categories)
    cont = tuple(names[j] for j in np.flatnonzero(~is_ord))
    x_cont = x[:, ~is_ord] if cont else None
    if cont:
        _check_continuous(x_cont, cont, what)
    return _Codes(tuple(ordinal), codes, levels, n_dropped, tuple(msgs + more), tuple(names), cont, x_cont)


# --------------------------------------------------------------------------------------------
# step 1 and step 2: thresholds and polychorics
# --------------------------------------------------------------------------------------------

def _thresholds(codes: np.ndarray, ncat: np.ndarray) -> list[np.ndarray]:
    n = codes.shape[0]
    out = []
    for j in range(codes.shape[1]):
        freq = np.bincount(codes[:, j], minlength=ncat[j])
        out.append(special.ndtri(np.cumsum(freq)[:-1] / n))
    return out


def _padded(th: list[np.ndarray], kmax: int) -> np.ndarray:
    """Item × (kmax + 1) cut points: −∞, τ₁…τ_{K−1}, +∞, then +∞ for unused slots."""
    out = np.full((len(th), kmax + 1), np.inf)
    out[:, 0] = -np.inf
    for j, t in enumerate(th):
        out[j, 1:len(t) + 1] = t
    return out


def _pair_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's vech order without the diagonal: (2,1), (3,1), …, (p,1), (3,2), … — rows i > columns j."""
    jj, ii = np.triu_indices(p, 1)          # row-major upper triangle = column-major lower triangle
    return ii, jj


def _tables(codes: np.ndarray, ii: np.ndarray, jj: np.ndarray, kmax: int) -> np.ndarray:
    """Pair × kmax × kmax frequency tables (rows: item ii, columns: item jj)."""
    npair = len(ii)
    cell = codes[:, ii] * kmax + codes[:, jj] + np.arange(npair) * kmax * kmax
    return np.bincount(cell.ravel(), minlength=npair * kmax * kmax).reshape(npair, kmax, kmax).astype(float)


def _corners(ti: np.ndarray, tj: np.ndarray, rho: np.ndarray, order: int) -> tuple[np.ndarray, ...]:
    """Φ₂ (and φ₂, ∂φ₂/∂ρ when order ≥ 1, 2) at every corner ti[a] × tj[b], per pair."""
    h = ti[:, :, None]
    k = tj[:, None, :]
    r = rho[:, None, None]
    h, k, r = np.broadcast_arrays(h, k, r)
    cdf = bivariate_normal_cdf(h, k, r)
    if order == 0:
        return (cdf,)
    pdf = _bvn_pdf(h, k, r)
    if order == 1:
        return cdf, pdf
    return cdf, pdf, _bvn_dpdf(h, k, r, pdf)


def _rect(c: np.ndarray) -> np.ndarray:
    return c[:, 1:, 1:] - c[:, :-1, 1:] - c[:, 1:, :-1] + c[:, :-1, :-1]


def _newton_rho(freq: np.ndarray, ti: np.ndarray, tj: np.ndarray, start: np.ndarray,
                tol: float = 1e-12, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Maximise Σ f log π(ρ) for every pair at once: Newton steps kept inside a bracket on the
    score's sign, bisection when a step leaves it; ρ ∈ [−0.999, 0.999] as lavaan bounds it."""
    npair = len(start)
    rho = np.clip(start, -_BOUND, _BOUND)
    lo, hi = np.full(npair, -_BOUND), np.full(npair, _BOUND)
    active = np.ones(npair, dtype=bool)
    converged = np.zeros(npair, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        cdf, pdf, dpdf = _corners(ti[idx], tj[idx], rho[idx], 2)
        pi, d1, d2 = _rect(cdf), _rect(pdf), _rect(dpdf)
        f = freq[idx]
        ok = (pi > _SQRT_EPS) & (f > 0)
        pis = np.where(ok, pi, 1.0)
        g = np.where(ok, f * d1 / pis, 0.0).sum(axis=(1, 2))
        hess = np.where(ok, f * (d2 / pis - (d1 / pis) ** 2), 0.0).sum(axis=(1, 2))
        r = rho[idx]
        lo[idx] = np.where(g > 0, r, lo[idx])
        hi[idx] = np.where(g <= 0, r, hi[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = -g / hess
        new = r + step
        bad = ~(hess < 0) | ~(new > lo[idx]) | ~(new < hi[idx]) | ~np.isfinite(new)
        new = np.where(bad, (lo[idx] + hi[idx]) / 2, new)
        done = (np.abs(new - r) < tol) | (hi[idx] - lo[idx] < tol) | (g == 0)
        rho[idx] = np.where(g == 0, r, new)
        converged[idx[done]] = True
        active[idx[done]] = False
    return rho, converged


def _special_2x2(freq: np.ndarray, th: list[np.ndarray], ii: np.ndarray, jj: np.ndarray, ncat: np.ndarray,
                 msgs: list[str], names: tuple[str, ...]) -> tuple[np.ndarray, dict[int, float]]:
    """lavaan's rules for 2 × 2 tables (lav_bvord_cor_twostep_fit): one empty cell gets 0.5
    added keeping the margins; two empty cells give ρ = ±1; a zero odds-ratio log gives ρ = 0;
    thresholds both 0 give ρ = −cos(2π p₁₁)."""
    fixed: dict[int, float] = {}
    freq = freq.copy()
    for p in np.flatnonzero((ncat[ii] == 2) & (ncat[jj] == 2)):
        t = freq[p, :2, :2]
        zeros = np.flatnonzero(t.T.ravel() == 0)        # R's column-major cell numbers − 1
        if len(zeros) == 2:
            fixed[p] = 1.0 if t[0, 0] > 0 else -1.0
            msgs.append(f"Two empty cells in the 2 × 2 table of {names[ii[p]]} × {names[jj[p]]}: the correlation is set "
                        f"to {fixed[p]:+.0f}, as lavaan does.")
            continue
        if len(zeros) == 1:
            s = 0.5 if zeros[0] in (0, 3) else -0.5
            t += np.array([[s, -s], [-s, s]])
        if t[0, 0] * t[1, 1] == t[0, 1] * t[1, 0]:
            fixed[p] = 0.0
        elif th[ii[p]][0] == 0 and th[jj[p]][0] == 0:
            fixed[p] = float(-np.cos(2 * np.pi * t[0, 0] / t.sum()))
        freq[p, :2, :2] = t
    return freq, fixed


def _lavaan_rho(codes: np.ndarray, th: list[np.ndarray], ncat: np.ndarray, names: tuple[str, ...],
                msgs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    p = codes.shape[1]
    kmax = int(ncat.max())
    ii, jj = _pair_index(p)
    freq0 = _tables(codes, ii, jj, kmax)
    freq, fixed = _special_2x2(freq0, th, ii, jj, ncat, msgs, names)
    cut = _padded(th, kmax)
    ti, tj = cut[ii], cut[jj]
    c = codes - codes.mean(axis=0)
    sd = np.sqrt((c * c).sum(axis=0))
    start = ((c.T @ c) / np.outer(sd, sd))[ii, jj]
    start = np.where(np.isfinite(start) & (np.abs(start) < 1), start, 0.0)
    rho, conv = _newton_rho(freq, ti, tj, start)
    for q, v in fixed.items():
        rho[q], conv[q] = v, True
    if not conv.all():
        bad = [f"{names[ii[q]]}–{names[jj[q]]}" for q in np.flatnonzero(~conv)]
        msgs.append(f"The polychoric correlation did not converge for {preview(bad)}. Fix: inspect these tables for "
                    "sparse or empty cells, or merge rare categories.")
    return rho, freq0, ii, jj, cut


# --------------------------------------------------------------------------------------------
# psych::polychoric
# --------------------------------------------------------------------------------------------

def _brent_min(f, npair: int, tol: float = np.finfo(float).eps ** 0.25) -> np.ndarray:
    """R's ``optimize`` (Brent_fmin) on (−1, 1), run for every pair at once. ``f(x, idx)``
    returns the objective of pairs ``idx`` at ``x``."""
    c = (3.0 - np.sqrt(5.0)) * 0.5
    eps = np.sqrt(np.finfo(float).eps)
    a, b = np.full(npair, -1.0), np.full(npair, 1.0)
    v = a + c * (b - a)
    w, x = v.copy(), v.copy()
    d, e = np.zeros(npair), np.zeros(npair)
    fx = f(x, np.arange(npair))
    fv, fw = fx.copy(), fx.copy()
    tol3 = tol / 3.0
    active = np.ones(npair, dtype=bool)
    for _ in range(500):
        xm = (a + b) * 0.5
        tol1 = eps * np.abs(x) + tol3
        t2 = tol1 * 2.0
        active &= ~(np.abs(x - xm) <= t2 - (b - a) * 0.5)
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        A, B, X, W, V = a[idx], b[idx], x[idx], w[idx], v[idx]
        FX, FW, FV, D, E = fx[idx], fw[idx], fv[idx], d[idx], e[idx]
        XM, T1, T2 = xm[idx], tol1[idx], t2[idx]
        p = np.zeros(idx.size)
        q = np.zeros(idx.size)
        r = np.zeros(idx.size)
        fit = np.abs(E) > T1
        r_ = (X - W) * (FX - FV)
        q_ = (X - V) * (FX - FW)
        p_ = (X - V) * q_ - (X - W) * r_
        q_ = (q_ - r_) * 2.0
        p_ = np.where(q_ > 0, -p_, p_)
        q_ = np.abs(q_)
        p, q = np.where(fit, p_, p), np.where(fit, q_, q)
        r = np.where(fit, E, r)
        E = np.where(fit, D, E)
        golden = (np.abs(p) >= np.abs(q * 0.5 * r)) | (p <= q * (A - X)) | (p >= q * (B - X))
        e_g = np.where(X < XM, B - X, A - X)
        with np.errstate(divide="ignore", invalid="ignore"):
            d_p = p / q
        u_p = X + d_p
        near = (u_p - A < T2) | (B - u_p < T2)
        d_p = np.where(near, np.where(X >= XM, -T1, T1), d_p)
        E = np.where(golden, e_g, E)
        D = np.where(golden, c * e_g, d_p)
        U = np.where(np.abs(D) >= T1, X + D, np.where(D > 0, X + T1, X - T1))
        FU = f(U, idx)
        better = FU <= FX
        # fu <= fx
        A1 = np.where(better & ~(U < X), X, A)
        B1 = np.where(better & (U < X), X, B)
        # fu > fx
        A1 = np.where(~better & (U < X), U, A1)
        B1 = np.where(~better & ~(U < X), U, B1)
        c1 = ~better & ((FU <= FW) | (W == X))
        c2 = ~better & ~c1 & ((FU <= FV) | (V == X) | (V == W))
        Vn = np.where(better, W, np.where(c1, W, np.where(c2, U, V)))
        FVn = np.where(better, FW, np.where(c1, FW, np.where(c2, FU, FV)))
        Wn = np.where(better, X, np.where(c1, U, W))
        FWn = np.where(better, FX, np.where(c1, FU, FW))
        Xn = np.where(better, U, X)
        FXn = np.where(better, FU, FX)
        a[idx], b[idx], v[idx], w[idx], x[idx] = A1, B1, Vn, Wn, Xn
        fv[idx], fw[idx], fx[idx], d[idx], e[idx] = FVn, FWn, FXn, D, E
    return x


def _psych_rho(x_codes: np.ndarray, values: np.ndarray, names: tuple[str, ...], msgs: list[str]
               ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
    """psych::polychoric(x) (psych 2.2.9): codes = value − global min; tau from each item's
    tabulate over the global range; ``global`` thresholds when every item has the same maximum,
    else each pair's own table with empty rows/columns dropped, empty cells set to 0.5/n
    (``correct = .5``) and thresholds from that table's margins."""
    gmin = values.min()
    z = np.round(values - gmin).astype(np.intp)
    nvalues = int(z.max()) + 1
    n, p = z.shape
    tau = [special.ndtri(np.cumsum(np.bincount(z[:, j], minlength=nvalues))[:-1] / n) for j in range(p)]
    maxes = z.max(axis=0)
    glob = bool(maxes.min() == maxes.max())
    ii, jj = _pair_index(p)
    tab = _tables(z, ii, jj, nvalues) / n
    if glob:
        cut = _padded(tau, nvalues)
        ti, tj = cut[ii], cut[jj]
    else:
        msgs.append("psych: the items do not have an equal number of response alternatives, so global thresholds are "
                    "off (psych's global=FALSE): each pair uses its own table's margins.")
        ti = np.full((len(ii), nvalues + 1), np.inf)
        tj = np.full((len(ii), nvalues + 1), np.inf)
        tabs = np.zeros_like(tab)
        fixed = 0
        for q in range(len(ii)):
            t = tab[q]
            t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
            if (t == 0).any():
                fixed += 1
                t = np.where(t == 0, 0.5 / n, t)
            rc = special.ndtri(np.cumsum(t.sum(axis=1))[:-1])
            cc = special.ndtri(np.cumsum(t.sum(axis=0))[:-1])
            ti[q, 0] = tj[q, 0] = -np.inf
            ti[q, 1:len(rc) + 1] = rc
            tj[q, 1:len(cc) + 1] = cc
            tabs[q, :t.shape[0], :t.shape[1]] = t
        tab = tabs
        if fixed:
            msgs.append(f"psych: {fixed} table(s) had empty cells set to 0.5/n (its correction for continuity).")

    def objective(rho: np.ndarray, idx: np.ndarray) -> np.ndarray:
        pi = _rect(_corners(ti[idx], tj[idx], rho, 0)[0])
        t = tab[idx]
        ok = (pi > 0) & (t != 0)
        return -np.where(ok, t * np.log(np.where(pi > 0, pi, 1.0)), 0.0).sum(axis=(1, 2))

    rho = _brent_min(objective, len(ii))
    return rho, tau, ii, jj


# --------------------------------------------------------------------------------------------
# step 3: asymptotic covariance (Muthén 1984)
# --------------------------------------------------------------------------------------------

def _nacov(codes: np.ndarray, th: list[np.ndarray], rho: np.ndarray, ii: np.ndarray, jj: np.ndarray,
           cut: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """N × ACOV of (thresholds, polychorics), lavaan's ``muthen1984`` for ordered data without
    covariates: B⁻¹ (SᵀS) B⁻ᵀ · N with S the N × (Σ(K−1) + p*) casewise scores of the
    univariate (threshold) and bivariate (ρ) ML equations, and the bread
    B = [[A11, 0], [A21, A22]]: A11 the per-item blocks of SᵀS, A22 = diag(SᵀS) of the ρ
    scores, A21[ρ_ij, τ] = Σ s_ρij · ∂ℓ_ij/∂τ (the pair's own threshold scores)."""
    n, p = codes.shape
    kmax = cut.shape[1] - 1
    nth = np.array([len(t) for t in th])
    start = np.concatenate([[0], np.cumsum(nth)])
    npair = len(ii)
    # univariate threshold scores: (1{y = k} − 1{y = k + 1}) φ(τ_k) / π_y
    sc_th = np.zeros((n, start[-1]))
    for j in range(p):
        t = th[j]
        prob = np.diff(np.concatenate([[0.0], _phi(t), [1.0]]))
        table = np.zeros((len(t) + 1, len(t)))
        dens = np.exp(-t * t / 2) / np.sqrt(_TWO_PI)
        kk = np.arange(len(t))
        table[kk, kk] = dens / prob[kk]
        table[kk + 1, kk] = -dens / prob[kk + 1]
        sc_th[:, start[j]:start[j + 1]] = table[codes[:, j]]
    # bivariate pieces at the estimates
    ti, tj = cut[ii], cut[jj]
    cdf, pdf = _corners(ti, tj, rho, 1)
    pi, dpi = _rect(cdf), _rect(pdf)
    pi_f = np.where(pi < _SQRT_EPS, _SQRT_EPS, pi)        # lavaan floors π at √ε …
    drho = np.where(pi <= _SQRT_EPS, 0.0, dpi / pi_f)     # … and drops those cells' scores
    cell = codes[:, ii] * kmax + codes[:, jj] + np.arange(npair) * kmax * kmax
    sc_rho = drho.ravel()[cell]
    # A21: Σ_cells f_ab s_ρ(a,b) ∂ℓ(a,b)/∂τ. For threshold k of the row item,
    # ∂ℓ(a,b)/∂τ_k = (δ_{a,k} − δ_{a,k+1}) G1[k, b] / π_ab with
    # G1[k, b] = φ(τ_k) [Φ((u_b − ρτ_k)/R) − Φ((l_b − ρτ_k)/R)]; symmetrically for the column item.
    wgt = np.where(pi <= _SQRT_EPS, 0.0, freq * drho / pi_f)          # f s_ρ / π
    r = rho[:, None, None]
    root = np.sqrt(1 - r * r)
    big_i = np.clip(ti, -_BIG, _BIG)                                    # lavaan's ±100 for ±∞
    big_j = np.clip(tj, -_BIG, _BIG)
    ti_in, tj_in = big_i[:, 1:-1], big_j[:, 1:-1]                       # thresholds slots 1..kmax−1
    g1 = (np.exp(-ti_in ** 2 / 2) / np.sqrt(_TWO_PI))[:, :, None] * (
        _phi((big_j[:, None, 1:] - r * ti_in[:, :, None]) / root) - _phi((big_j[:, None, :-1] - r * ti_in[:, :, None]) / root))
    g2 = (np.exp(-tj_in ** 2 / 2) / np.sqrt(_TWO_PI))[:, :, None] * (
        _phi((big_i[:, None, 1:] - r * tj_in[:, :, None]) / root) - _phi((big_i[:, None, :-1] - r * tj_in[:, :, None]) / root))
    a21_i = ((wgt[:, :-1, :] - wgt[:, 1:, :]) * g1).sum(axis=2)       # pair × threshold of item ii
    a21_j = ((wgt[:, :, :-1] - wgt[:, :, 1:]).transpose(0, 2, 1) * g2).sum(axis=2)
    a21 = np.zeros((npair, start[-1]))
    for q in range(npair):
        i, j = ii[q], jj[q]
        a21[q, start[i]:start[i + 1]] = a21_i[q, :nth[i]]
        a21[q, start[j]:start[j + 1]] = a21_j[q, :nth[j]]
    sc = np.hstack([sc_th, sc_rho])
    inner = sc.T @ sc
    a11_inv = np.zeros((start[-1], start[-1]))
    for j in range(p):
        s = slice(start[j], start[j + 1])
        a11_inv[s, s] = np.linalg.inv(inner[s, s])
    a22 = np.diag(inner)[start[-1]:]
    if np.any(a22 == 0):
        raise DataValidationError("polychoric: a correlation has no information (all its scores are zero), so its "
                                  "asymptotic covariance is undefined. Fix: merge sparse categories.")
    b_inv = np.zeros_like(inner)
    b_inv[:start[-1], :start[-1]] = a11_inv
    b_inv[start[-1]:, start[-1]:] = np.diag(1 / a22)
    b_inv[start[-1]:, :start[-1]] = -(a21 / a22[:, None]) @ a11_inv
    return n * (b_inv @ inner @ b_inv.T)


# --------------------------------------------------------------------------------------------
# smoothing
# --------------------------------------------------------------------------------------------

def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """psych::cor.smooth: when the smallest eigenvalue is below machine ε, eigenvalues under
    ``eig_tol`` become 100·eig_tol, all are rescaled to sum to p, and the rebuilt matrix is
    rescaled to a correlation matrix. Returns the matrix and whether it was smoothed.

    >>> m, done = cor_smooth(np.array([[1, .9, .9], [.9, 1, 0.], [.9, 0., 1]]))
    >>> done, bool(np.all(np.linalg.eigvalsh(m) > 0))
    (True, True)
    """
    vals, vecs = np.linalg.eigh(r)
    if vals.min() >= np.finfo(float).eps:
        return r, False
    vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
    vals = vals * r.shape[0] / vals.sum()
    m = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(m))
    m = m / np.outer(d, d)
    np.fill_diagonal(m, 1.0)
    return (m + m.T) / 2, True


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OrdinalSampleStats:
    """Sample statistics of ordered items for WLS/WLSMV (see :func:`ordinal_sample_stats`).

    ``wls_obs`` = (τ of item 1, …, τ of item p, ρ₂₁, ρ₃₁, …, ρ_p1, ρ₃₂, …): thresholds item by
    item, then the polychorics in lavaan's ``vech(R, diagonal = FALSE)`` order (lower triangle by
    column). ``nacov`` is N × ACOV of ``wls_obs`` in that order (lavaan's ``lavInspect(fit, "gamma")``).
    """

    th: tuple[np.ndarray, ...]
    rho: np.ndarray
    wls_obs: np.ndarray
    nacov: np.ndarray
    n_obs: int
    th_item: np.ndarray            # item index (0-based) of each threshold in wls_obs
    pairs: np.ndarray              # npair × 2 (row i, column j), i > j, in wls_obs order
    warnings: tuple[str, ...] = ()

    def __iter__(self):
        """Unpacks as ``th, rho, wls_obs, nacov``."""
        return iter((self.th, self.rho, self.wls_obs, self.nacov))


def _polychoric_core(codes: np.ndarray, names: tuple[str, ...], msgs: list[str], *, acov: bool
                     ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    p = codes.shape[1]
    ncat = codes.max(axis=0) + 1
    th = _thresholds(codes, ncat)
    rho, freq, ii, jj, cut = _lavaan_rho(codes, th, ncat, names, msgs)
    nacov = _nacov(codes, th, rho, ii, jj, cut, freq) if acov else None
    r = np.eye(p)
    r[ii, jj] = r[jj, ii] = rho
    return th, r, nacov, ii, jj, freq


def ordinal_sample_stats(x: np.ndarray, *, names: tuple[str, ...] | None = None) -> OrdinalSampleStats:
    """Thresholds, polychoric correlations and their asymptotic covariance, as lavaan's WLSMV uses them.

    Parameters
    ----------
    x
        n × p array of integer category codes, complete (no NaN). Each column's observed values,
        sorted, are its categories (lavaan's ``ordered()``): an unused code gets no threshold.
    names
        Item names for messages (default V1, V2, …).

    Returns
    -------
    OrdinalSampleStats
        ``th`` (one array of K_j − 1 thresholds per item), ``rho`` (p × p), ``wls_obs``
        (thresholds item by item, then ρ in lavaan's vech order: (2,1), (3,1), …, (p,1), (3,2), …)
        and ``nacov`` (N × ACOV of ``wls_obs``, lavaan's ``lavInspect(fit, "gamma")``). It also
        unpacks: ``th, rho, wls_obs, nacov = ordinal_sample_stats(x)``.

    Notes
    -----
    Two-step estimation (Olsson 1979): τ_jk = Φ⁻¹(P̂(y_j ≤ k)); then each ρ_ij maximises
    Σ_ab f_ab log π_ab(ρ) with π_ab the bivariate normal rectangle between the fixed thresholds.
    The covariance is Muthén's (1984) sandwich from casewise scores, as lavaan's ``muthen1984``:
    NACOV = N · B⁻¹ (SᵀS) B⁻ᵀ (see :func:`_nacov`). No smoothing is applied here.

    References
    ----------
    Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient.
    Psychometrika, 44, 443–460. Muthén, B. (1984). A general structural equation model with
    dichotomous, ordered categorical, and continuous latent variable indicators. Psychometrika,
    49, 115–132. Jöreskog, K. G. (1994). On the estimation of polychoric correlations and their
    asymptotic covariance matrix. Psychometrika, 59, 381–389.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0, 0], [[1, .5, .4], [.5, 1, .3], [.4, .3, 1]], size=500)
    >>> x = np.digitize(z, [-1, 0, 1])
    >>> th, rho, wls_obs, nacov = ordinal_sample_stats(x)
    >>> len(wls_obs), nacov.shape                       # 3 × 3 thresholds + 3 correlations
    (12, (12, 12))
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise SpecificationError(f"ordinal_sample_stats: x must be 2-D (cases × items), got {x.ndim}-D.")
    names = tuple(names) if names is not None else tuple(f"V{j + 1}" for j in range(x.shape[1]))
    if np.isnan(x).any():
        raise DataValidationError("ordinal_sample_stats: x has missing values. Fix: pass complete cases (listwise).")
    codes, _, msgs = _as_codes(x, list(names), "ordinal_sample_stats", max_categories=np.iinfo(np.int32).max)
    th, r, nacov, ii, jj, _ = _polychoric_core(codes, names, msgs, acov=True)
    wls_obs = np.concatenate(th + [r[ii, jj]])
    th_item = np.repeat(np.arange(len(th)), [len(t) for t in th])
    return OrdinalSampleStats(th=tuple(th), rho=r, wls_obs=wls_obs, nacov=nacov, n_obs=int(x.shape[0]), th_item=th_item,
                              pairs=np.column_stack([ii, jj]), warnings=tuple(msgs))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Polychoric(Result):
    """Polychoric correlations of ordered items, or with ``ordered=`` the mixed matrix of
    ordinal and continuous variables (see :func:`polychoric`)."""

    rho: pd.DataFrame
    thresholds: pd.DataFrame        # item, threshold (1-based), value — ordinal items only
    n_obs: int
    n_dropped: int
    method: str
    smoothed: bool
    zero_cell_pairs: pd.DataFrame   # item_1, item_2, n_zero_cells
    wls_obs: pd.Series | None       # method="lavaan": thresholds then polychorics (lavaan's order)
    gamma: pd.DataFrame | None      # method="lavaan": N × ACOV of wls_obs (lavInspect(fit, "gamma"))
    continuous: tuple[str, ...] = ()                # variables not named in ordered=
    continuous_moments: pd.DataFrame | None = None  # variable, mean, variance (÷ N, as lavaan)
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.rho.copy()


def _ordinal_block(prep: _Codes, method: str, acov: bool, msgs: list[str], max_categories: int
                   ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds, polychoric matrix, NACOV (lavaan, when asked), pair indices and tables of the ordinal items."""
    codes, names = prep.codes, prep.names
    if method != "psych":
        return _polychoric_core(codes, names, msgs, acov=acov)
    p = len(names)
    values = np.stack([prep.levels[j][codes[:, j]] for j in range(p)], axis=1)
    _check_psych_span(values, max_categories)
    rho, tau, ii, jj = _psych_rho(codes, values, names, msgs)
    r = np.eye(p)
    r[ii, jj] = r[jj, ii] = rho
    ncat = codes.max(axis=0) + 1
    return [t[np.isfinite(t)] for t in tau], r, None, ii, jj, _tables(codes, ii, jj, int(ncat.max()))


def _zero_cells(freq: np.ndarray, codes: np.ndarray, ii: np.ndarray, jj: np.ndarray, names: tuple[str, ...],
                msgs: list[str]) -> pd.DataFrame:
    """The ordinal pairs whose cross-table has empty cells (and a message when there are any)."""
    ncat = codes.max(axis=0) + 1
    zero = np.array([int((freq[q, :ncat[ii[q]], :ncat[jj[q]]] == 0).sum()) for q in range(len(ii))], dtype=int)
    hit = np.flatnonzero(zero)
    # a few empty corner cells are normal for Likert items (no one answers 1 to one item and 5 to
    # the other); a warning only where a quarter of a table or more is empty, all pairs kept in the result
    sparse = [q for q in hit if zero[q] >= 0.25 * ncat[ii[q]] * ncat[jj[q]]]
    if sparse:
        shown = [f"{names[jj[q]]}×{names[ii[q]]} ({zero[q]} of {ncat[ii[q]] * ncat[jj[q]]})" for q in sparse]
        msgs.append(f"{len(sparse)} of {len(ii)} item pairs have a quarter or more of their cross-table empty: "
                    f"{preview(shown)}. The estimates are still ML (lavaan adds nothing), but such sparse tables make "
                    "them unstable. Fix: merge rare categories, or collect more responses.")
    return pd.DataFrame({"item_1": [names[jj[q]] for q in hit], "item_2": [names[ii[q]] for q in hit],
                         "n_zero_cells": zero[hit]})


def polychoric(data: pd.DataFrame, items: Any = None, *, ordered: Any = None, smooth: bool = True,
               method: str = "ml", acov: bool = False, max_categories: int = 10) -> Polychoric:
    """Polychoric correlation matrix and thresholds of ordered (Likert-type) items; with
    ``ordered=``, the mixed matrix of ordinal and continuous variables (polyserial correlations).

    Parameters
    ----------
    data
        Respondents × items, integer category codes (NaN = missing). Rows with any missing
        value among the variables used are left out (listwise, lavCor's default; ``n_dropped``
        says how many).
    items
        Column names to use (default: every column).
    ordered
        ``None`` or ``True`` (default): every item is ordinal. A list of column names (lavaan's
        ``lavCor(data, ordered = c(...))``): those are ordinal and the others continuous; the
        matrix then holds Pearson correlations between continuous variables, polyserial ones
        between a continuous and an ordinal variable (see :func:`govsurvey.polyserial`) and
        polychoric ones between ordinal items. Names not in ``items`` are ignored.
    smooth
        If the matrix is not positive definite, apply psych's ``cor.smooth`` (eigenvalues below
        1e-12 raised, rescaled to a correlation matrix) and warn; ``smoothed`` records it.
    method
        ``"ml"`` (default): lavaan's two-step ML estimate (``lavCor(x, ordered=)``), each
        correlation solved to 1e-12 within [−0.999, 0.999] (polyserial: [−0.995, 0.995]), with
        every case in the polyserial likelihoods. ``"lavaan"``: the same, except that, as lavaan
        0.6.14, cases whose density × probability is below √ε are left out of a polyserial
        likelihood, which ties the estimate to the unit of the continuous variable (a warning
        says when that happens; on a real file, salary in dollars vs thousands moved ρ by up to
        0.08); identical to ``"ml"`` without continuous variables. ``"psych"``: psych::polychoric's numbers
        (its Brent search stops at tolerance ε^¼ ≈ 1.2e-4, so it differs from lavaan by up to
        ~2e-5; psych's ``correct = .5`` when items differ in their number of categories) and
        psych::polyserial's ad hoc estimate for continuous × ordinal pairs — psych::mixedCor's
        matrix when every ordinal item has 3 to 8 categories without a gap.
    acov
        ``wls_obs`` and ``gamma`` (Muthén 1984; lavaan's ``lavInspect(fit, "gamma")``) when
        ``True`` and every item is ordinal (not with ``method="psych"``). Off by default: Γ has
        (thresholds + pairs)² entries — 100 MB and seconds for 82 items — and only WLSMV needs
        it (:func:`ordinal_sample_stats` computes it there). Not available for mixed data:
        ``acov=True`` there raises :class:`~govsurvey.SpecificationError`.
    max_categories
        Ordinal items with more distinct values are refused as continuous.

    Returns
    -------
    Polychoric
        ``rho`` (variable × variable DataFrame, in the data's column order), ``thresholds``
        (``item``, ``threshold``, ``value``, ordinal items), ``n_obs``, ``n_dropped``,
        ``zero_cell_pairs`` (ordinal pairs whose table has empty cells), ``wls_obs`` (Series
        labelled ``A1|t1`` … ``A2~~A1`` …), ``gamma`` (labelled DataFrame), ``continuous`` (names)
        and ``continuous_moments`` (``variable``, ``mean``, ``variance`` ÷ N), ``warnings``.

    Notes
    -----
    Thresholds τ_jk = Φ⁻¹(cumulative proportion ≤ k) from each item's own margins; categories
    are the observed values, so an unused answer option has no threshold (lavaan; psych instead
    turns global thresholds off). Each ρ maximises Σ f_ab log π_ab(ρ), π_ab the bivariate normal
    probability of cell (a, b) (Olsson 1979, two-step). Empty cells are allowed; lavaan neither
    adds anything to them (except one empty cell in a 2 × 2 table, which gets 0.5 keeping the
    margins) nor warns — here a :class:`DataWarning` lists the pairs. ``wls_obs`` and ``gamma``
    follow lavaan's order: thresholds item by item, then ρ by column of the lower triangle.
    Continuous variables are standardised with their ML mean and variance; their Pearson
    correlations are lavaan's; the polyserial estimates are lavaan's ``lav_bvmix`` two-step ML
    (:mod:`govsurvey.psychometrics.polyserial`), all continuous × ordinal pairs solved at once.

    References
    ----------
    Olsson (1979), Psychometrika 44, 443–460; Olsson, Drasgow & Dorans (1982), Psychometrika
    47, 337–347; Muthén (1984), Psychometrika 49, 115–132; Jöreskog (1994), Psychometrika 59,
    381–389; Genz (2004), Statistics and Computing 14, 251–260.

    Examples
    --------
    >>> import govsurvey as gs
    >>> rng = np.random.default_rng(0)
    >>> z = rng.multivariate_normal([0, 0, 0], [[1, .6, .4], [.6, 1, .3], [.4, .3, 1]], size=2000)
    >>> items = pd.DataFrame(np.digitize(z[:, :2], [-1.0, 0.0, 0.8]) + 1, columns=["q1", "q2"])
    >>> pc = gs.polychoric(items)      # In R: lavaan::lavCor(items, ordered = c("q1", "q2"))
    >>> round(float(pc.rho.loc["q1", "q2"]), 1)
    0.6
    >>> pc.thresholds.shape
    (6, 3)
    >>> items["score"] = 10 + 3 * z[:, 2]          # a continuous variable
    >>> mixed = gs.polychoric(items, ordered=["q1", "q2"])   # lavCor(items, ordered = c("q1", "q2"))
    >>> mixed.continuous, round(float(mixed.rho.loc["score", "q1"]), 1)
    (('score',), 0.4)
    """
    method = choice(method, "method", ("lavaan", "ml", "psych"), where="polychoric")
    max_categories = whole_number(max_categories, "max_categories", low=2)
    prep = _prepare(data, items, "polychoric", max_categories, ordered)
    if prep.continuous:
        from govsurvey.psychometrics.polyserial import _check_acov, _mixed_matrix
        _check_acov(acov, prep.continuous)
    names, msgs = prep.names, list(prep.warnings)
    want_acov = method != "psych" and not prep.continuous and bool(acov)
    th, r, nacov, ii, jj, freq = _ordinal_block(prep, method, want_acov, msgs, max_categories)
    zero_pairs = _zero_cells(freq, prep.codes, ii, jj, names, msgs)
    moments = None
    if prep.continuous:
        r, moments = _mixed_matrix(prep, r, method, msgs)
    smoothed = False
    r_raw = r.copy()
    if smooth:
        r, smoothed = cor_smooth(r)
        if smoothed:
            kind = "mixed correlation" if prep.continuous else "polychoric"
            msgs.append(f"The {kind} matrix was not positive definite; it was smoothed with psych's cor.smooth "
                        "(eigenvalues below 1e-12 raised, rescaled to a correlation matrix). Fix: check for redundant "
                        "items or sparse tables.")
    for m in msgs:
        warnings.warn(m, DataWarning, stacklevel=2)
    p = len(names)
    thresholds = pd.DataFrame({"item": [names[j] for j in range(p) for _ in th[j]],
                               "threshold": [k + 1 for j in range(p) for k in range(len(th[j]))],
                               "value": np.concatenate(th)})
    wls = gamma = None
    if nacov is not None:
        labels = [f"{names[j]}|t{k + 1}" for j in range(p) for k in range(len(th[j]))]
        labels += [f"{names[i]}~~{names[j]}" for i, j in zip(ii, jj)]
        wls = pd.Series(np.concatenate(th + [r_raw[ii, jj]]), index=labels, name="wls_obs")   # as estimated
        gamma = pd.DataFrame(nacov, index=labels, columns=labels)
    every = list(prep.all_names)
    return Polychoric(rho=pd.DataFrame(r, index=every, columns=every), thresholds=thresholds,
                      n_obs=int(prep.codes.shape[0]), n_dropped=prep.n_dropped, method=method, smoothed=smoothed,
                      zero_cell_pairs=zero_pairs, wls_obs=wls, gamma=gamma, continuous=prep.continuous,
                      continuous_moments=moments, warnings=tuple(msgs))


# --------------------------------------------------------------------------------------------
# ordinal reliability
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class OrdinalReliability(Result):
    """Ordinal alpha and omega of one scale (see :func:`ordinal_reliability`)."""

    alpha: float
    omega_total: float
    average_r: float
    n_obs: int
    n_items: int
    reversed: tuple[str, ...]
    method: str
    polychoric: Polychoric
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"alpha": self.alpha, "omega_total": self.omega_total, "average_r": self.average_r,
                              "n_obs": self.n_obs, "n_items": self.n_items}])


def ordinal_reliability(items: pd.DataFrame, *, check_keys: bool = False, method: str = "psych",
                        smooth: bool = True) -> OrdinalReliability:
    """Ordinal alpha and omega total: alpha and one-factor omega of the polychoric matrix.

    Parameters
    ----------
    items
        Respondents × items of one scale, integer codes, already reverse-coded (listwise).
    check_keys
        As psych::alpha(check.keys=TRUE): items loading negatively on the first principal
        component of the polychoric matrix are reversed (their row and column change sign)
        and named in ``reversed`` with a warning. Default False: items are taken as keyed.
    method
        Polychoric estimate used: ``"psych"`` (default; psych::polychoric, so that the result
        equals ``psych::alpha(polychoric(x)$rho)``) or ``"lavaan"`` (exact ML, within ~2e-5).
    smooth
        Passed to :func:`polychoric`.

    Notes
    -----
    alpha = k/(k−1) · (1 − k/ΣR) on the polychoric matrix R (Zumbo, Gadermann & Zeisser 2007);
    omega total = 1 − Σu²/ΣR from a one-factor minres solution of R (psych::omega, nfactors=1;
    psych::omega flips negatively loading items itself, so pass ``check_keys=True`` to compare
    with it on items that are not reverse-coded).
    Both describe the latent continuous responses, not the observed sum score.

    References
    ----------
    Zumbo, B. D., Gadermann, A. M., & Zeisser, C. (2007). Ordinal versions of coefficients
    alpha and theta for Likert rating scales. Journal of Modern Applied Statistical Methods,
    6, 21–29. Gadermann, Guhn & Zumbo (2012), Practical Assessment, Research & Evaluation 17(3).

    Examples
    --------
    >>> import govsurvey as gs
    >>> rng = np.random.default_rng(2)
    >>> f = rng.standard_normal(800)
    >>> items = pd.DataFrame({f"q{j}": np.digitize(0.7 * f + 0.7 * rng.standard_normal(800), [-1, 0, 1]) + 1
    ...                       for j in range(1, 5)})
    >>> rel = gs.ordinal_reliability(items)   # In R: psych::alpha(psych::polychoric(items)$rho)
    >>> 0.75 < rel.alpha < 0.9
    True
    """
    from govsurvey.psychometrics.reliability import _omega_total_1f, alpha_from_cov

    method = choice(method, "method", ("lavaan", "psych"), where="ordinal_reliability")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pc = polychoric(items, smooth=smooth, method=method, acov=False)
    msgs = [str(w.message) for w in caught]
    for m in msgs:
        warnings.warn(m, DataWarning, stacklevel=2)
    r = pc.rho.to_numpy()
    names = list(pc.rho.columns)
    reversed_ = ()
    if check_keys:
        vals, vecs = np.linalg.eigh(r)
        v = vecs[:, -1] * np.sqrt(vals[-1])
        v = v * (np.sign(v.sum()) or 1.0)
        neg = v < 0
        if neg.any():
            keys = np.where(neg, -1.0, 1.0)
            r = r * np.outer(keys, keys)
            reversed_ = tuple(names[j] for j in np.flatnonzero(neg))
            m = (f"Item(s) {', '.join(reversed_)} load negatively on the first principal component and were reversed "
                 "(check_keys=True, as psych::alpha). Fix: reverse-code them with gs.reverse_code, or check the keys.")
            msgs.append(m)
            warnings.warn(m, DataWarning, stacklevel=2)
    k = r.shape[0]
    alpha = alpha_from_cov(r)
    average_r = float((r.sum() - k) / (k * (k - 1)))
    omega_total = _omega_total_1f(r) if k >= 3 else float("nan")
    if k < 3:
        m = (f"ordinal_reliability: omega_total is NaN: a one-factor omega needs at least 3 items, this scale has {k} "
             f"({', '.join(names)}). Fix: report alpha (or the polychoric correlation) for a two-item scale.")
        msgs.append(m)
        warnings.warn(m, DataWarning, stacklevel=2)
    return OrdinalReliability(alpha=alpha, omega_total=omega_total, average_r=average_r, n_obs=pc.n_obs, n_items=k,
                              reversed=reversed_, method=method, polychoric=pc, warnings=tuple(msgs))
