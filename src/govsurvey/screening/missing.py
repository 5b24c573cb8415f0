"""Missing-data report: how much is missing, in which patterns, and Little's (1988) MCAR test.

For the items of a survey, :func:`missing_report` counts the missing values per item and per
missing-data pattern, estimates the saturated normal mean and covariance matrix by EM (the
"H1" model of full-information ML, :mod:`govsurvey.missing`) and tests whether the data are
missing completely at random (MCAR). With μ̂, Σ̂ the EM estimates (N-divisor) of all cases with
at least one observed item, and for each missing-data pattern j its n_j cases, its p_j observed
items o_j and their means x̄_j,

    d² = Σ_j n_j (x̄_j − μ̂_oj)ᵀ Σ̂_oj⁻¹ (x̄_j − μ̂_oj),    df = Σ_j p_j − p,

and d² is referred to χ²(df). Under MCAR every pattern's means estimate the same μ; a small p
says the patterns' means differ more than chance allows. All patterns are handled in one batch
with the padded inverses of :func:`govsurvey.missing.pattern_terms` — no loop over patterns.

References
----------
Little, R. J. A. (1988). A test of missing completely at random for multivariate data with
missing values. *Journal of the American Statistical Association*, 83(404), 1198–1202.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey._numeric import no_variance
from govsurvey.data.checks import check_finite_values, check_unique_columns
from govsurvey.errors import (
    ConvergenceError,
    DataValidationError,
    DataWarning,
    NotPositiveDefiniteError,
    SpecificationError,
    UnknownItemError,
    preview,
)
from govsurvey.missing import Patterns, em_moments, pattern_terms
from govsurvey.results import Result

__all__ = ["LittleTest", "MissingReport", "little_test", "missing_report"]

WHAT = "missing_report"
PATTERN_COLUMNS = ("n", "pct", "n_observed", "complete")
"""Columns of the pattern table besides the items (an item may not carry one of these names)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class LittleTest(Result):
    """Little's (1988) MCAR test: ``statistic`` d², ``df``, ``p_value`` (upper tail of χ²(df);
    NaN when df = 0) and ``n_patterns``, the missing-data patterns with at least one observed
    item (the cases of those patterns are ``n_obs``)."""

    statistic: float
    df: int
    p_value: float
    n_patterns: int
    n_obs: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class MissingReport(Result):
    """Missing data of a set of items (see :func:`missing_report`).

    ``variables`` (index variable: ``n_missing``, ``pct_missing``, ``n_observed``);
    ``patterns`` (one row per missing-data pattern, most frequent first: 1 = observed,
    0 = missing for each item, then ``n`` cases, ``pct`` of all cases, ``n_observed`` items and
    ``complete`` for the complete-case pattern); ``n_cases`` (rows), ``n_complete`` (rows with
    every item), ``n_empty`` (rows with no item: left out of the test and the EM estimates);
    ``little`` (:class:`LittleTest`); ``em_mean``, ``em_cov`` (EM estimates, N-divisor);
    ``em_iterations``; ``warnings``.
    """

    variables: pd.DataFrame
    patterns: pd.DataFrame
    n_cases: int
    n_complete: int
    n_empty: int
    little: LittleTest
    em_mean: pd.Series
    em_cov: pd.DataFrame
    em_iterations: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The per-variable table with the EM means and standard deviations."""
        out = self.variables.copy()
        out["em_mean"] = self.em_mean
        out["em_sd"] = np.sqrt(np.diag(self.em_cov.to_numpy()))
        return out


def _item_names(data: Any, items: Sequence | None) -> list:
    """The item columns, checked: known, unique, numeric (booleans only when named)."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{WHAT}: data must be a pandas DataFrame, got {type(data).__name__}. "
                                 "Fix: pass a DataFrame, e.g. from gs.read_responses(path, instrument).")
    if items is None:
        names = [c for c, t in zip(data.columns, data.dtypes)
                 if pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)]
        if not names:
            raise DataValidationError(f"{WHAT}: the data have no numeric columns (columns: {preview(map(str, data.columns))}). "
                                      "Fix: read the responses with their instrument so answers become codes, or pass items=.")
    else:
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence | pd.Index | np.ndarray):
            raise SpecificationError(f"{WHAT}: items= must be a list of column names, got {items!r}. Fix: e.g. items=['q1', 'q2'].")
        names = list(items)
        if not names:
            raise SpecificationError(f"{WHAT}: items= is empty. Fix: name at least one column, or leave items=None for all numeric columns.")
        repeated = [str(c) for c in dict.fromkeys(c for c in names if names.count(c) > 1)]
        if repeated:
            raise SpecificationError(f"{WHAT}: items= names {preview(repeated)} more than once. Fix: name each column once.")
        unknown = [str(c) for c in names if c not in data.columns]
        if unknown:
            raise UnknownItemError(f"{WHAT}: items= names {len(unknown)} column(s) not in the data: {preview(unknown)}. "
                                   "Fix: check the spelling against data.columns.")
    check_unique_columns(data, names, WHAT)
    text = [str(c) for c in names if not pd.api.types.is_numeric_dtype(data[c].dtype)]
    if text:
        raise DataValidationError(f"{WHAT}: column(s) {preview(text)} are not numeric. Fix: read the data with "
                                  "gs.read_responses(path, instrument) so answers become codes, or leave them out of items=.")
    clash = [str(c) for c in names if c in PATTERN_COLUMNS]
    if clash:
        raise SpecificationError(f"{WHAT}: item(s) {', '.join(clash)} share a name with a column of the pattern table "
                                 f"({', '.join(PATTERN_COLUMNS)}). Fix: rename them, e.g. data.rename(columns={{'n': 'n_item'}}).")
    return names


def _item_matrix(data: pd.DataFrame, names: list) -> np.ndarray:
    """Cases × items as floats (a copy; NaN = missing), checked for finite values."""
    x = np.column_stack([data[c].astype(float).to_numpy(dtype=float, na_value=np.nan) for c in names])
    check_finite_values(x, [str(c) for c in names], WHAT)
    return x


def _check_estimable(x: np.ndarray, names: list) -> None:
    """Refuse items the EM estimates cannot be computed for: fewer than two observed values,
    no variance, or a pair of items never observed together."""
    observed = ~np.isnan(x)
    few = [str(names[j]) for j in np.flatnonzero(observed.sum(axis=0) < 2)]
    if few:
        raise DataValidationError(f"{WHAT}: item(s) {preview(few)} have fewer than two observed values, so their mean and "
                                  "variance cannot be estimated. Fix: leave them out of items=.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        constant = [str(names[j]) for j in np.flatnonzero(no_variance(np.nanvar(x, axis=0), np.nanmean(x, axis=0)))]
    if constant:
        raise DataValidationError(f"{WHAT}: item(s) {preview(constant)} have the same value in every case that answered "
                                  "them (no variance), so the covariance matrix is singular. Fix: leave them out of items=.")
    together = observed.T.astype(float) @ observed.astype(float)
    i, j = np.nonzero(np.triu(together == 0, k=1))
    if len(i):
        pairs = [f"{names[a]} & {names[b]}" for a, b in zip(i, j)]
        raise DataValidationError(f"{WHAT}: {len(pairs)} pair(s) of items are never observed together ({preview(pairs)}), so "
                                  "their covariance cannot be estimated and Little's test is not defined (a planned-missing "
                                  "design?). Fix: leave one item of each pair out of items=.")


def _em(patterns: Patterns, names: list) -> tuple[np.ndarray, np.ndarray, int]:
    """The EM estimates, with a clear error when the covariance matrix is singular."""
    fix = ("an item may be a linear combination of others (a total or a duplicate) or constant within the cases that "
           "answer it together with others. Fix: leave such items out of items=.")
    try:
        mu, sigma, iterations = em_moments(patterns)
    except NotPositiveDefiniteError:
        raise NotPositiveDefiniteError(f"{WHAT}: the EM covariance matrix of {preview(map(str, names))} is singular: {fix}") from None
    except ConvergenceError:
        raise ConvergenceError(f"{WHAT}: the EM estimates of {preview(map(str, names))} did not converge in 10000 iterations; "
                               "the covariance matrix is probably singular at its maximum (or two items are almost never "
                               f"observed together): {fix}") from None
    eig = np.linalg.eigvalsh(sigma)
    if not eig[0] > 1e-12 * eig[-1]:
        raise NotPositiveDefiniteError(f"{WHAT}: the EM covariance matrix of {preview(map(str, names))} is singular (smallest "
                                       f"eigenvalue {eig[0]:.3g}, largest {eig[-1]:.3g}): {fix}")
    return mu, sigma, iterations


def little_test(patterns: Patterns, mu: np.ndarray, sigma: np.ndarray) -> LittleTest:
    """Little's (1988) d² at the EM estimates ``mu``, ``sigma`` (module docstring), all
    patterns at once: d² = Σ_k n_k e_kᵀ Σ̃_k⁻¹ e_k with e_k = x̄_k − μ̂ on the observed items
    and Σ̃_k⁻¹ the padded inverse of Σ̂_oo."""
    terms = pattern_terms(patterns, mu, sigma)
    d2 = float(np.einsum("k,ki,kij,kj->", patterns.n.astype(float), terms.e, terms.inv, terms.e))
    df = int(patterns.mask.sum()) - patterns.mask.shape[1]
    p_value = float(stats.chi2.sf(d2, df)) if df > 0 else float("nan")
    return LittleTest(statistic=d2 if df > 0 else 0.0, df=df, p_value=p_value, n_patterns=int(patterns.mask.shape[0]),
                      n_obs=patterns.n_total)


def _variable_table(x: np.ndarray, names: list) -> pd.DataFrame:
    n_missing = np.isnan(x).sum(axis=0)
    table = pd.DataFrame({"n_missing": n_missing, "pct_missing": 100.0 * n_missing / x.shape[0],
                          "n_observed": x.shape[0] - n_missing}, index=pd.Index(names, name="variable"))
    return table


def _pattern_table(x: np.ndarray, names: list) -> pd.DataFrame:
    """One row per missing-data pattern (empty rows included), most frequent first; ties: more
    items observed first, then by the pattern itself (observed before missing, left to right)."""
    masks, counts = np.unique(~np.isnan(x), axis=0, return_counts=True)
    table = pd.DataFrame(masks.astype(int), columns=names)
    table["n"] = counts.astype(int)
    table["pct"] = 100.0 * counts / x.shape[0]
    table["n_observed"] = masks.sum(axis=1).astype(int)
    table["complete"] = masks.all(axis=1)
    keys = [-counts, -table["n_observed"].to_numpy()] + [-masks[:, j].astype(int) for j in range(masks.shape[1])]
    order = np.lexsort(keys[::-1])
    table = table.iloc[order].reset_index(drop=True)
    table.index = pd.RangeIndex(1, len(table) + 1, name="pattern")
    return table


def _note(messages: list[str], text: str) -> None:
    messages.append(text)
    warnings.warn(text, DataWarning, stacklevel=3)


def missing_report(data: pd.DataFrame, items: Sequence | None = None) -> MissingReport:
    """Missing values per item and per pattern, EM estimates and Little's (1988) MCAR test.

    Parameters
    ----------
    data : DataFrame
        Respondents × columns (NaN or ``pd.NA`` = missing); never modified.
    items : list of column names, optional
        The items to report on (default: every numeric, non-boolean column).

    Returns
    -------
    MissingReport
        ``variables``, ``patterns``, ``n_cases``, ``n_complete``, ``n_empty``, ``little``
        (``statistic``, ``df``, ``p_value``, ``n_patterns``), ``em_mean``, ``em_cov``,
        ``warnings``.

    Raises
    ------
    UnknownItemError
        ``items`` names a column not in the data.
    DataValidationError
        A column is not numeric or holds infinite values; an item has fewer than two observed
        values or no variance; two items are never observed together; no case has any item.
    NotPositiveDefiniteError, ConvergenceError
        The EM covariance matrix is singular (an item is a combination of others); with missing
        values in such items EM creeps towards the singular matrix and does not converge.

    Notes
    -----
    Cases with every item missing carry no information on the means and are left out of the
    EM estimates and the test (counted in ``n_empty``, with a warning). μ̂, Σ̂ are the saturated
    ML estimates by EM (N-divisor, run to 1e-12 as lavaan's
    ``lav_mvnorm_missing_h1_estimate_moments`` with ``tol = 1e-12``); then
    d² = Σ_j n_j (x̄_j − μ̂_oj)ᵀ Σ̂_oj⁻¹ (x̄_j − μ̂_oj) over the patterns j, on
    df = Σ_j p_j − p (p_j: items observed in pattern j). Without missing values (or with one
    pattern) the test is not defined: d² = 0, df = 0, p NaN, with a warning. The test assumes
    multivariate normality and, with many small patterns, tends to reject too often; a
    significant result rules out MCAR but a non-significant one does not prove it.

    References
    ----------
    Little, R. J. A. (1988). A test of missing completely at random for multivariate data with
    missing values. *Journal of the American Statistical Association*, 83(404), 1198–1202.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.read_responses(gs.datasets.example_files()["csv"], inst)
    >>> report = gs.missing_report(data, items=inst.items_of("reserves"))
    >>> report.variables["n_missing"].tolist()
    [2, 4, 2, 3]
    >>> report.n_cases, report.n_complete, report.n_empty
    (640, 629, 0)
    >>> int(report.patterns.loc[1, "n"]), bool(report.patterns.loc[1, "complete"])   # most frequent first
    (629, True)
    >>> t = report.little
    >>> round(t.statistic, 3), t.df, round(t.p_value, 3), t.n_patterns
    (10.054, 12, 0.611, 5)

    In R, the same EM estimates come from
    ``lavaan:::lav_mvnorm_missing_h1_estimate_moments(Y, max.iter = 10000, tol = 1e-12)`` and the
    test as written out in ``tests/reference/r/make_fiml_reference.R`` (``naniar::mcar_test(Y)``
    computes the same d² with norm's EM).
    """
    names = _item_names(data, items)
    x = _item_matrix(data, names)
    messages: list[str] = []
    observed = ~np.isnan(x)
    if not observed.any():
        raise DataValidationError(f"{WHAT}: every case has every item missing ({preview(map(str, names))}). "
                                  "Fix: check the item names and how the data were read.")
    _check_estimable(x, names)
    patterns = Patterns.from_array(x)
    if patterns.n_empty:
        _note(messages, f"{patterns.n_empty} of {x.shape[0]} cases have every item missing; they are left out of "
                        "Little's test and the EM estimates (n_empty).")
    mu, sigma, iterations = _em(patterns, names)
    little = little_test(patterns, mu, sigma)
    if not (~observed).any():
        _note(messages, "There are no missing values: Little's MCAR test is not defined without missing data "
                        "(statistic 0, df 0, p NaN).")
    elif little.df <= 0:
        _note(messages, "Every case with data has the same missing-data pattern: Little's MCAR test is not defined "
                        "(statistic 0, df 0, p NaN).")
    return MissingReport(
        variables=_variable_table(x, names), patterns=_pattern_table(x, names), n_cases=int(x.shape[0]),
        n_complete=int(observed.all(axis=1).sum()), n_empty=int(patterns.n_empty), little=little,
        em_mean=pd.Series(mu, index=pd.Index(names, name="variable"), name="em_mean"),
        em_cov=pd.DataFrame(sigma, index=pd.Index(names, name="variable"), columns=list(names)),
        em_iterations=int(iterations), warnings=tuple(messages),
    )
