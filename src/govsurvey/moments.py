"""Sufficient statistics: n, means and the centred cross-product matrix, in one pass.

Everything that depends only on means and covariances — alpha, omega, KMO, Bartlett, EFA,
CFA (ML), HTMT, OLS — accepts a :class:`Moments` in place of a DataFrame and gives identical
results. Moments are computed in chunks with a shift (so the sums stay well conditioned),
merged across chunks with Chan, Golub & LeVeque's (1979) update, and can come from a
DataFrame, an array, a file read in bounded memory (:func:`govsurvey.data.moments_from_file`)
or a Dask DataFrame (:meth:`Moments.from_dask`), computed on the cluster.

Rows with any missing value in the chosen columns are left out (listwise) and counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from govsurvey._numeric import centred_cross_products, no_complete_cases
from govsurvey.errors import DataValidationError, SpecificationError

__all__ = ["Moments"]

CHUNK_ROWS = 1_000_000


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Moments:
    """n, means and centred cross-products (Σ (x − x̄)(x − x̄)ᵀ) of named columns."""

    names: tuple[str, ...]
    n: int
    mean: np.ndarray
    m2: np.ndarray
    n_dropped: int = 0

    # ----------------------------------------------------------- construction
    @classmethod
    def from_array(cls, x: np.ndarray, names: Sequence[str], *, chunk_rows: int = CHUNK_ROWS) -> "Moments":
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(names):
            raise SpecificationError("from_array needs a 2-D array with one column per name.")
        acc = _Accumulator(tuple(names))
        for start in range(0, x.shape[0], chunk_rows):
            acc.add(x[start:start + chunk_rows])
        return acc.result()

    @classmethod
    def from_frame(cls, data: pd.DataFrame, columns: Sequence[str] | None = None, *, chunk_rows: int = CHUNK_ROWS) -> "Moments":
        """Moments of ``columns`` (default: every numeric column) of a DataFrame."""
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"Moments.from_frame needs a DataFrame, got {type(data).__name__}.")
        from govsurvey.data.checks import numeric_columns

        cols = numeric_columns(data, columns, "Moments", allow_bool=True)
        acc = _Accumulator(tuple(str(c) for c in cols))
        values = data[cols]
        for start in range(0, len(values), chunk_rows):
            acc.add(values.iloc[start:start + chunk_rows].to_numpy(dtype=float))
        return acc.result()

    @classmethod
    def from_chunks(cls, chunks: Iterable[pd.DataFrame | np.ndarray], names: Sequence[str]) -> "Moments":
        """Moments of a stream of chunks (DataFrames or arrays with the same columns)."""
        acc = _Accumulator(tuple(names))
        for chunk in chunks:
            acc.add(chunk[list(names)].to_numpy(dtype=float) if isinstance(chunk, pd.DataFrame) else np.asarray(chunk, dtype=float))
        return acc.result()

    @classmethod
    def from_dask(cls, ddf: Any, columns: Sequence[str] | None = None) -> "Moments":
        """Moments of a ``dask.dataframe``: each partition's moments are computed where the
        data live (on the cluster), only k + k² numbers per partition travel back, and they
        are merged here. Point Dask at a real cluster with
        ``dask.distributed.Client("tcp://scheduler:8786")`` before calling this."""
        import dask

        cols = list(columns) if columns is not None else [c for c, t in ddf.dtypes.items() if pd.api.types.is_numeric_dtype(t)]
        names = tuple(str(c) for c in cols)

        def part(df: pd.DataFrame) -> tuple[int, int, np.ndarray, np.ndarray]:
            acc = _Accumulator(names)
            acc.add(df[cols].to_numpy(dtype=float))
            m = acc.result(allow_empty=True)
            return m.n, m.n_dropped, m.mean, m.m2

        parts = dask.compute(*[dask.delayed(part)(p) for p in ddf[cols].to_delayed()])
        total = None
        for n, dropped, mean, m2 in parts:
            m = Moments(names, int(n), mean, m2, int(dropped))
            total = m if total is None else total.merge(m)
        if total is None or total.n == 0:
            raise DataValidationError("Moments.from_dask: the data have no complete rows.")
        return total

    # -------------------------------------------------------------- algebra
    def merge(self, other: "Moments") -> "Moments":
        """Combine two disjoint sets of rows (Chan, Golub & LeVeque, 1979).

        The difference of the two means enters the result; for data far from zero (1e14 with
        a spread of 1) each mean is rounded to the values' precision, so merging separately
        computed Moments loses digits that one stream (``from_chunks``, ``from_frame``) keeps."""
        if self.names != other.names:
            raise SpecificationError("Moments.merge: the two have different columns.")
        if other.n == 0:
            return dataclasses.replace(self, n_dropped=self.n_dropped + other.n_dropped)
        if self.n == 0:
            return dataclasses.replace(other, n_dropped=self.n_dropped + other.n_dropped)
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + np.outer(delta, delta) * (self.n * other.n / n)
        return Moments(self.names, n, mean, m2, self.n_dropped + other.n_dropped)

    def select(self, columns: Sequence[str]) -> "Moments":
        pos = [self.names.index(c) for c in columns]
        return Moments(tuple(columns), self.n, self.mean[pos], self.m2[np.ix_(pos, pos)], self.n_dropped)

    @property
    def cov(self) -> pd.DataFrame:
        """Unbiased (n − 1) covariance matrix."""
        return pd.DataFrame(self.m2 / (self.n - 1), index=list(self.names), columns=list(self.names))

    @property
    def cor(self) -> pd.DataFrame:
        c = self.m2 / (self.n - 1)
        sd = np.sqrt(np.diag(c))
        r = c / np.outer(sd, sd)
        np.fill_diagonal(r, 1.0)
        return pd.DataFrame(r, index=list(self.names), columns=list(self.names))

    @property
    def columns(self) -> list[str]:
        return list(self.names)

    def __getitem__(self, columns) -> "Moments":
        if isinstance(columns, str):
            columns = [columns]
        missing = [c for c in columns if c not in self.names]
        if missing:
            from govsurvey.errors import UnknownItemError

            raise UnknownItemError(f"Moments has no column(s) {', '.join(map(str, missing))}.")
        return self.select(list(columns))

    def __repr__(self) -> str:
        return f"Moments(n={self.n}, columns={len(self.names)}, dropped={self.n_dropped})"


class _Accumulator:
    """Running moments of a stream of blocks.

    Means are held relative to an origin (the first block's mean) and only shifted back at
    the end, so Chan's merge subtracts small, exactly represented means even when the data
    sit far from zero (1e14 + spread 1). Each block's cross-products are taken about its own
    mean: as XᵀX − n·x̄x̄ᵀ when |x̄| ≤ 100·SD (one matrix product, the fast path), else by
    explicit centring (:func:`govsurvey._numeric.centred_cross_products`)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.total: Moments | None = None     # means relative to self.origin
        self.origin: np.ndarray | None = None
        self.dropped = 0
        self.rows = 0
        self.missing = np.zeros(len(names), dtype=np.int64)

    def add(self, x: np.ndarray) -> None:
        if x.size == 0:
            return
        self.rows += x.shape[0]
        col_sum = x.sum(axis=0)
        if not np.isfinite(col_sum).all():  # only then look for NaN rows and infinities
            if np.isinf(x).any():
                raise DataValidationError("Moments: the data contain infinite values. Fix: correct or blank them.")
            isnan = np.isnan(x)
            self.missing += isnan.sum(axis=0)
            keep = ~isnan.any(axis=1)
            self.dropped += int((~keep).sum())
            x = x[keep]
            if x.shape[0] == 0:
                return
            col_sum = x.sum(axis=0)
        n = x.shape[0]
        mean = col_sum / n
        if self.origin is None:
            self.origin = mean
        gram = x.T @ x
        var = np.diag(gram) / n - mean**2      # a rough estimate: only decides the path
        if np.any(mean**2 > 1e4 * np.maximum(var, 1e-300)):
            shifted, m2 = centred_cross_products(x, self.origin)
        else:
            shifted, m2 = mean - self.origin, gram - n * np.outer(mean, mean)
        if not np.isfinite(m2).all():
            j = int(np.argmax(np.nanmax(np.abs(x), axis=0)))
            raise DataValidationError(
                f"Moments: {self.names[j]!r} has values so large (up to {np.nanmax(np.abs(x[:, j])):.3g}) that their squares "
                "overflow double precision. Fix: rescale the variable (e.g. divide by a power of ten) or correct the data."
            )
        block = Moments(self.names, n, shifted, (m2 + m2.T) / 2)
        self.total = block if self.total is None else self.total.merge(block)

    def result(self, allow_empty: bool = False) -> Moments:
        if self.total is None:
            if allow_empty:
                k = len(self.names)
                return Moments(self.names, 0, np.zeros(k), np.zeros((k, k)), self.dropped)
            raise DataValidationError(no_complete_cases(
                self.missing, self.rows, self.names, what="Moments", n_complete=0, needed=1,
                fix="select columns that were answered together."))
        return dataclasses.replace(self.total, mean=self.origin + self.total.mean, n_dropped=self.dropped)
