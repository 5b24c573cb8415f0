"""Vectorised nonparametric bootstrap: resample counts and weighted cross-products for many
resamples at once, in cache-sized chunks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["resample_counts", "bootstrap_covariances", "MIN_BOOT_N"]

MIN_BOOT_N = 10       # fewer cases give too few distinct resamples for a percentile interval
DRAW_CELLS = 32_768   # resamples × cases per batch of drawn counts (≈ 256 KB of int64)


def resample_counts(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """Multinomial(n; 1/n, …, 1/n) counts for ``b`` bootstrap resamples (b × n).

    Drawn exactly as resampling with replacement does — n uniform indices per resample — and
    counted with one ``bincount`` over the chunk, several times faster than
    ``Generator.multinomial`` for equal cell probabilities.
    """
    idx = rng.integers(0, n, size=(b, n), dtype=np.intp)
    idx += (np.arange(b, dtype=np.intp) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)


def bootstrap_covariances(x: np.ndarray, *, n_boot: int, seed: int | None, chunk: int | None = None) -> Iterator[np.ndarray]:
    """Yield unbiased covariance matrices of bootstrap resamples of ``x`` (n × k), a chunk
    (b × k × k) at a time: counts @ [x_i x_iᵀ] gives every resample's cross-products in one
    matrix product (data centred first for accuracy)."""
    rng = np.random.default_rng(seed)
    n, k = x.shape
    xc = x - x.mean(axis=0)
    iu = np.triu_indices(k)
    pairs = np.concatenate([xc, xc[:, iu[0]] * xc[:, iu[1]]], axis=1)
    chunk = chunk or max(8, 200_000 // n)
    draw = max(1, DRAW_CELLS // n)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        # counts are drawn a few resamples at a time: their b × n temporaries then stay small
        # enough for the allocator to reuse, instead of megabytes mapped and faulted in per chunk
        sums = np.empty((b, pairs.shape[1]))
        for s in range(0, b, draw):
            np.matmul(resample_counts(rng, n, min(draw, b - s)), pairs, out=sums[s:s + draw])
        sums /= n
        mean = sums[:, :k]
        cross = np.empty((b, k, k))
        cross[:, iu[0], iu[1]] = sums[:, k:]
        cross[:, iu[1], iu[0]] = sums[:, k:]
        yield (cross - mean[:, :, None] * mean[:, None, :]) * (n / (n - 1))
