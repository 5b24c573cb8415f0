"""Checks on numeric values shared by every stage that computes with them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from govsurvey.errors import DataValidationError, UnknownItemError, preview

__all__ = ["MAX_ABS", "MIN_ABS", "check_finite_values", "check_unique_columns", "numeric_columns"]

# Squares and cross-products of values beyond this overflow double precision (max ≈ 1.8e308)
# once summed over cases, so variances, covariances and sums of squares become inf or NaN.
MAX_ABS = 1e150
# ... and squares of values all below this underflow to zero, so the variance vanishes.
MIN_ABS = 1e-150


def check_finite_values(x: np.ndarray, names: Sequence[str], what: str) -> None:
    """Raise :class:`DataValidationError` for ±inf, for values so large that second moments
    overflow, or for a column whose values are all so small (but not all zero) that they
    underflow. ``x`` is cases × variables (NaN allowed: missing); ``names`` label the columns."""
    if x.size == 0:
        return
    with np.errstate(invalid="ignore"):
        peak = np.nanmax(np.abs(x), axis=0, initial=0.0)
    tiny = (peak > 0) & (peak < MIN_ABS)
    if np.all(peak <= MAX_ABS) and not tiny.any():
        return
    for name, col, top in zip(names, x.T, peak):
        if np.isinf(col).any():
            raise DataValidationError(f"{what}: {str(name)!r} contains infinite values. Fix: correct or blank them.")
    if tiny.any():
        j = int(np.argmax(tiny))
        raise DataValidationError(
            f"{what}: {str(names[j])!r} has no value larger than {peak[j]:.3g} in magnitude; their squares underflow to zero "
            "in double precision, so its variance cannot be computed. Fix: rescale the variable (e.g. multiply by a power "
            "of ten) or correct the data."
        )
    j = int(np.argmax(peak))
    raise DataValidationError(
        f"{what}: {str(names[j])!r} has values as large as {peak[j]:.3g}; their squares overflow double precision, so "
        "variances and covariances cannot be computed. Fix: rescale the variable (e.g. divide by a power of ten) or "
        "correct the data."
    )


def numeric_columns(data: pd.DataFrame, columns: Sequence[str] | None, what: str, *, allow_bool: bool,
                    check_dtype: bool = True) -> list:
    """The columns a statistic uses: ``columns``, or every numeric one (booleans only with
    ``allow_bool``). Unknown, duplicated or (with ``check_dtype``) non-numeric names, or none at
    all, are errors; without ``check_dtype`` the caller converts text columns itself."""
    if columns is None:
        dtypes = [(c, t) for c, t in zip(data.columns, data.dtypes)]
        cols = list(dict.fromkeys(c for c, t in dtypes
                                  if pd.api.types.is_numeric_dtype(t) and (allow_bool or not pd.api.types.is_bool_dtype(t))))
    else:
        cols = list(columns)
        missing = [str(c) for c in cols if c not in data.columns]
        if missing:
            raise UnknownItemError(f"{what}: column(s) not in the data: {', '.join(missing)}.")
    check_unique_columns(data, cols, what)
    bad = [str(c) for c in cols if check_dtype and not pd.api.types.is_numeric_dtype(data[c].dtype)]
    if bad:
        raise DataValidationError(f"{what}: column(s) {', '.join(bad)} are not numeric. Fix: pass numeric columns (scores or codes).")
    if not cols:
        raise DataValidationError(
            f"{what}: the data have no numeric columns (columns: {preview([str(c) for c in data.columns])}). "
            "Fix: read the responses with their instrument so answers become codes, or convert the columns to numbers."
        )
    return cols


def check_unique_columns(data: pd.DataFrame, columns: Sequence, what: str) -> None:
    """Raise :class:`DataValidationError` when a name in ``columns`` labels more than one column
    of ``data`` (pandas then returns a table where a column is expected)."""
    if data.columns.is_unique:
        return
    repeated = set(data.columns[data.columns.duplicated()])
    dup = [str(c) for c in dict.fromkeys(columns) if c in repeated]
    if dup:
        raise DataValidationError(f"{what}: column name(s) {', '.join(dup)} appear more than once, so it is ambiguous which "
                                  "to use. Fix: rename or drop the duplicated columns.")
