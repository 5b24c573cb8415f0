"""Missing-data patterns, the normal likelihood over them, and the EM (saturated) estimates.

Cases with the same missing-data pattern (the same observed variables) share the pattern's
sufficient statistics: n_k, the mean x̄_k and the N-divisor covariance S_k of its observed
variables. The normal log-likelihood of all observed values ("casewise", "full information")
is then

    ℓ(μ, Σ) = −½ Σ_k n_k [p_k log 2π + log|Σ_oo| + tr(Σ_oo⁻¹ (S_k + e_k e_kᵀ))],   e_k = x̄_k − μ_o,

with o the pattern's observed variables. Every pattern is handled as a full p × p matrix in
one batch: Σ̃_k = Σ on o × o and the identity elsewhere, so Σ̃_k⁻¹ is Σ_oo⁻¹ padded with zeros
(after masking) and log|Σ̃_k| = log|Σ_oo| — no loop over patterns.

The saturated estimates (μ̂, Σ̂) that maximise ℓ come from the EM algorithm (Dempster, Laird &
Rubin, 1977; Little & Rubin, 2019, ch. 11), the "H1" model of full-information ML
(lavaan's ``lav_mvnorm_missing_h1_estimate_moments``).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from govsurvey.errors import ConvergenceError, DataValidationError, NotPositiveDefiniteError

__all__ = ["Patterns", "em_moments", "pattern_terms", "missing_loglik"]

LOG_2PI = math.log(2 * math.pi)


@dataclasses.dataclass(frozen=True, eq=False)
class Patterns:
    """Missing-data patterns of an n × p array (NaN = missing), cases with nothing observed
    left out (``n_empty``).

    ``mask`` (K × p, True = observed), ``n`` (K), ``mean`` (K × p, 0 where not observed),
    ``cov`` (K × p × p, N-divisor, 0 outside o × o), ``case_pattern`` (the pattern of each
    kept case), ``kept`` (which input rows were kept)."""

    mask: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    case_pattern: np.ndarray
    kept: np.ndarray
    n_empty: int

    @property
    def n_total(self) -> int:
        return int(self.n.sum())

    @property
    def outer(self) -> np.ndarray:
        """o oᵀ for every pattern (K × p × p)."""
        m = self.mask.astype(float)
        return m[:, :, None] * m[:, None, :]

    @classmethod
    def complete(cls, n: int, mean: np.ndarray, cov: np.ndarray) -> Patterns:
        """n complete cases with these means and (N-divisor) covariances: one pattern."""
        p = len(mean)
        return cls(mask=np.ones((1, p), dtype=bool), n=np.array([n]), mean=np.asarray(mean, float)[None, :],
                   cov=np.asarray(cov, float)[None, :, :], case_pattern=np.zeros(n, dtype=int), kept=np.ones(n, dtype=bool),
                   n_empty=0)

    @classmethod
    def from_array(cls, x: np.ndarray) -> Patterns:
        x = np.asarray(x, dtype=float)
        observed = ~np.isnan(x)
        kept = observed.any(axis=1)
        x, observed = x[kept], observed[kept]
        if x.shape[0] == 0:
            raise DataValidationError("Every case has every variable missing. Fix: check the data and the variable names.")
        masks, inverse, counts = np.unique(observed, axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # shift by the available-case means so the within-pattern sums stay well conditioned
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)          # an all-missing column: refused later, by name
            shift = np.nanmean(x, axis=0)
        z = np.where(observed, x - shift, 0.0)[order]
        sums = np.add.reduceat(z, starts, axis=0)
        cross = np.add.reduceat(z[:, :, None] * z[:, None, :], starts, axis=0)
        n = counts.astype(float)
        zbar = sums / n[:, None]
        cov = cross / n[:, None, None] - zbar[:, :, None] * zbar[:, None, :]
        mean = np.where(masks, zbar + shift, 0.0)
        m = masks.astype(float)
        cov = cov * (m[:, :, None] * m[:, None, :])
        return cls(mask=masks, n=counts.astype(int), mean=mean, cov=cov, case_pattern=inverse, kept=kept,
                   n_empty=int((~kept).sum()))


def _padded(patterns: Patterns, sigma: np.ndarray) -> np.ndarray:
    """Σ̃_k: Σ on each pattern's observed block, the identity on the rest (K × p × p)."""
    m = patterns.mask
    out = sigma[None, :, :] * patterns.outer
    k, p = m.shape
    diag = np.arange(p)
    out[:, diag, diag] += (~m).astype(float)
    return out


def _inverses(patterns: Patterns, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ_oo⁻¹ padded with zeros (K × p × p) and log|Σ_oo| (K) for every pattern; raises
    :class:`NotPositiveDefiniteError` when Σ is not positive definite."""
    try:
        np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        raise NotPositiveDefiniteError("The covariance matrix is not positive definite.") from None
    padded = _padded(patterns, sigma)
    sign, logdet = np.linalg.slogdet(padded)
    inv = np.linalg.inv(padded) * patterns.outer
    return inv, logdet


def missing_loglik(patterns: Patterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """ℓ(μ, Σ) over all observed values (module docstring)."""
    inv, logdet = _inverses(patterns, sigma)
    e = (patterns.mean - mu[None, :]) * patterns.mask
    quad = np.einsum("kij,kji->k", inv, patterns.cov) + np.einsum("ki,kij,kj->k", e, inv, e)
    p_k = patterns.mask.sum(axis=1)
    return float(-0.5 * np.sum(patterns.n * (p_k * LOG_2PI + logdet + quad)))


@dataclasses.dataclass(frozen=True, eq=False)
class PatternTerms:
    """What the likelihood's derivatives need at (μ, Σ), summed over patterns with weights
    n_k / N: with F = −2ℓ/N (up to a constant), ∂F = tr(M dΣ) − 2 vᵀ dμ."""

    f: float            # −2ℓ/N − p̄ log 2π (the constant left out), N = Σ n_k
    m: np.ndarray       # Σ_k w_k (Σ̃⁻¹ − Σ̃⁻¹ C_k Σ̃⁻¹), C_k = S_k + e_k e_kᵀ
    v: np.ndarray       # Σ_k w_k Σ̃⁻¹ e_k
    inv: np.ndarray     # the padded inverses (K × p × p)
    e: np.ndarray       # e_k (K × p), 0 where not observed
    c: np.ndarray       # C_k (K × p × p)


def pattern_terms(patterns: Patterns, mu: np.ndarray, sigma: np.ndarray, weight: float | None = None) -> PatternTerms:
    """The quantities of :class:`PatternTerms`; ``weight`` is 1/N (default: 1 / the patterns' N)."""
    inv, logdet = _inverses(patterns, sigma)
    w = patterns.n * (1.0 / patterns.n_total if weight is None else weight)
    e = (patterns.mean - mu[None, :]) * patterns.mask
    c = patterns.cov + e[:, :, None] * e[:, None, :]
    ic = inv @ c
    f = float(np.sum(w * (logdet + np.einsum("kii->k", ic))))
    m = np.einsum("k,kij->ij", w, inv - ic @ inv)
    v = np.einsum("k,kij,kj->i", w, inv, e)
    return PatternTerms(f=f, m=(m + m.T) / 2, v=v, inv=inv, e=e, c=c)


def em_moments(patterns: Patterns, *, tol: float = 1e-12, max_iter: int = 10_000,
               start: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Saturated ML estimates (μ̂, Σ̂) by EM; returns them with the number of iterations.

    E-step, for each pattern (batched): with R_k = Σ Σ̃_k⁻¹ the missing values' regression on
    the observed ones, the expected case is x̂ = μ + R_k (x − μ)_o, so a pattern contributes
    n_k x̂̄_k to Σx and n_k [x̂̄_k x̂̄_kᵀ + R_k S_k R_kᵀ + Σ − R_k Σ] to Σxxᵀ; M-step: the
    complete-data ML estimates. Stops when no element of μ or Σ moves by more than
    ``tol`` × (1 + its size).

    References: Dempster, Laird & Rubin (1977); Little & Rubin (2019), *Statistical Analysis
    with Missing Data*, 3rd ed., §11.2.
    """
    n = patterns.n.astype(float)
    total = n.sum()
    if start is None:
        # available-case means and variances, no covariances
        obs_n = (patterns.mask * n[:, None]).sum(axis=0)
        if (obs_n < 2).any():
            bad = int(np.flatnonzero(obs_n < 2)[0])
            raise DataValidationError(f"Variable {bad + 1} has fewer than two observed values; its mean and variance cannot be estimated.")
        mu = (patterns.mean * n[:, None]).sum(axis=0) / obs_n
        dev = (patterns.mean - mu) * patterns.mask
        var = ((np.diagonal(patterns.cov, axis1=1, axis2=2) + dev**2) * n[:, None]).sum(axis=0) / obs_n
        sigma = np.diag(var)
    else:
        mu, sigma = start[0].copy(), start[1].copy()
    for it in range(1, max_iter + 1):
        inv, _ = _inverses(patterns, sigma)
        r = sigma[None] @ inv
        e = (patterns.mean - mu) * patterns.mask
        xhat = mu + np.einsum("kij,kj->ki", r, e)
        t1 = n @ xhat / total
        t2 = (np.einsum("k,ki,kj->ij", n, xhat, xhat)
              + np.einsum("k,kij->ij", n, r @ patterns.cov @ r.transpose(0, 2, 1) + sigma[None] - r @ sigma[None])) / total
        new_sigma = t2 - np.outer(t1, t1)
        new_sigma = (new_sigma + new_sigma.T) / 2
        change = max(float(np.max(np.abs(t1 - mu) / (1 + np.abs(mu)))),
                     float(np.max(np.abs(new_sigma - sigma) / (1 + np.abs(sigma)))))
        mu, sigma = t1, new_sigma
        if change < tol:
            return mu, sigma, it
    raise ConvergenceError(f"The EM algorithm for the saturated means and covariances did not converge in {max_iter} "
                           "iterations (a variable may be almost never observed together with another). "
                           "Fix: check the missing-data patterns (gs.missing_report) and drop such variables.")
