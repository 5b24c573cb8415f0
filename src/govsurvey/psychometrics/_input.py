"""Checked numeric input for the psychometric functions: item matrices and their moments.

Everything that depends only on means and covariances is computed from one pass over the
data here (a cross-product), so the statistics scale with the number of items, not rows.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from govsurvey._numeric import centred_cross_products, no_complete_cases, no_variance, pairwise_covariances
from govsurvey.data.checks import check_finite_values, check_unique_columns
from govsurvey.data.options import choice
from govsurvey.errors import (
    DataValidationError,
    DataWarning,
    NotPositiveDefiniteError,
    SpecificationError,
    preview,
)

__all__ = ["ItemData", "prepare_items", "warn", "cov_to_cor", "check_positive_definite", "smc", "cholesky_ok",
           "positive_definite_inverse", "surely_well_conditioned"]

log = logging.getLogger(__name__)


def warn(messages: list[str], text: str, category: type[Warning] = DataWarning) -> None:
    """Record a warning for the result and emit it as a Python warning."""
    messages.append(text)
    warnings.warn(text, category, stacklevel=3)


@dataclasses.dataclass(frozen=True, slots=True)
class ItemData:
    """Item matrix after checks: names, complete-case values (listwise) and moments."""

    names: tuple[str, ...]
    values: np.ndarray | None  # rows used (listwise) — None when only moments are known
    n: int
    means: np.ndarray
    cov: np.ndarray  # unbiased (n − 1)
    n_dropped: int
    warnings: tuple[str, ...]
    labels: pd.Index | None = None   # the caller's column labels, when they are these names in this order
    n_rows: int | None = None        # every row of the table (psych's n.obs for raw data); None from moments
    cor_pairwise: np.ndarray | None = None   # R's cor(x, use="pairwise") under missing="pairwise"

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def cor(self) -> np.ndarray:
        """cov2cor of the covariances (psych::alpha's R: with pairwise covariances, each variance from
        every answer to the item)."""
        return cov_to_cor(self.cov)

    @property
    def pairwise(self) -> bool:
        return self.cor_pairwise is not None

    def factor_cor(self, what: str) -> np.ndarray:
        """The correlations psych factors: ``cor(x, use="pairwise")`` under ``missing="pairwise"`` — each
        correlation, its means and SDs included, from the rows where both items are answered, as
        psych::fa, principal, omega, KMO and cortest.bartlett compute it — else :attr:`cor`.
        An item without variance among a pair's rows leaves that correlation undefined: raise,
        naming the pair (psych stops on an NA in the correlation matrix)."""
        if self.cor_pairwise is None:
            return self.cor
        bad = np.argwhere(np.isnan(self.cor_pairwise))
        if bad.size:
            i, j = bad[0]
            raise DataValidationError(
                f"{what}: the pairwise correlation of {self.names[i]} and {self.names[j]} is undefined: among the rows "
                "where both are answered one of them does not vary. Fix: drop one of them, or use missing='listwise'.")
        return self.cor_pairwise

    @property
    def n_psych(self) -> int:
        """The n psych takes for raw data: every row under ``missing="pairwise"`` (``n.obs <- nrow(x)`` in
        psych::fa, alpha's Feldt interval, cortest.bartlett), the complete rows otherwise."""
        return self.n_rows if self.pairwise and self.n_rows is not None else self.n

    def n_rule(self) -> str:
        """How :attr:`n_psych` was counted, for a result's ``n_obs_rule``."""
        if not self.pairwise:
            return f"complete rows: {self.n}" + (f" ({self.n_dropped} with missing answers left out)" if self.n_dropped else "")
        return (f"all {self.n_psych} rows, as psych takes n.obs = nrow(x) with pairwise correlations "
                f"({self.n} complete rows; each correlation uses the rows where both items are answered)")


def cov_to_cor(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    r = cov / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    return r


def item_frame(items: Any, what: str) -> pd.DataFrame:
    """``items`` as a DataFrame: a 2-D array gets columns V1, V2, …; anything else is refused."""
    if isinstance(items, np.ndarray):
        if items.ndim != 2:
            raise SpecificationError(f"{what}: items must be a 2-D table (respondents × items), got {items.ndim}-D.")
        items = pd.DataFrame(items, columns=[f"V{j + 1}" for j in range(items.shape[1])])
    if not isinstance(items, pd.DataFrame):
        raise SpecificationError(f"{what}: items must be a pandas DataFrame of item columns, got {type(items).__name__}.")
    return items


def _numeric_matrix(items: Any, what: str) -> tuple[list[str], np.ndarray, bool]:
    """Item names, a float matrix (cases × items, NaN for missing) after the checks, and whether
    the table's column labels are these names already (all text)."""
    items = item_frame(items, what)
    labels = items.columns.tolist()
    if len(set(labels)) < len(labels):
        check_unique_columns(items, labels, what)
    names = [str(c) for c in labels]
    text = all(isinstance(c, str) for c in labels)
    values = items.to_numpy()
    if values.dtype.kind in "iuf":      # fast path: every column numeric (not boolean), one conversion
        values = np.array(values, dtype=float)     # (a copy: never a view of the caller's frame)
        check_finite_values(values, names, what)
        return names, values, text
    out = np.empty(items.shape, dtype=float)
    for j, col in enumerate(items.columns):
        s = items.iloc[:, j]
        if pd.api.types.is_bool_dtype(s):
            s = s.astype(float)
        if not pd.api.types.is_numeric_dtype(s):
            conv = pd.to_numeric(s, errors="coerce")
            bad = s[conv.isna() & s.notna()]
            if len(bad):
                shown = ", ".join(sorted({repr(v) for v in bad.tolist()})[:5])
                raise DataValidationError(
                    f"{what}: item {col!r} has non-numeric values ({shown}). "
                    "Fix: read the data with gs.read_responses(path, instrument) so answers become codes."
                )
            s = conv
        v = s.astype(float).to_numpy(dtype=float, na_value=np.nan)
        check_finite_values(v[:, None], [str(col)], what)
        out[:, j] = v
    return names, out, text


def prepare_items(
    items: Any,
    *,
    what: str,
    min_items: int = 2,
    missing: str = "listwise",
    drop_constant: bool = False,
    min_n: int = 3,
) -> ItemData:
    """Check an item table and compute its moments in one pass.

    ``missing="listwise"`` keeps complete rows (how many were dropped is reported);
    ``"pairwise"`` computes each covariance from the rows where both items are present
    (as psych's ``use="pairwise"``). Constant items raise, or are dropped with a warning
    when ``drop_constant`` (psych::alpha's behaviour).
    """
    missing = choice(missing, "missing", ("listwise", "pairwise"), where=what)
    from govsurvey.moments import Moments

    if isinstance(items, Moments):
        return _from_moments(items, what=what, min_items=min_items, drop_constant=drop_constant, min_n=min_n)
    names, x, text = _numeric_matrix(items, what)
    labels = items.columns if isinstance(items, pd.DataFrame) and text else None
    msgs: list[str] = []
    if x.shape[1] < min_items:
        raise DataValidationError(f"{what} needs at least {min_items} items, got {x.shape[1]}. Fix: pass more item columns.")
    r_pair = None
    n_rows = x.shape[0]
    if missing == "listwise":
        x, n_dropped, means, cov = _listwise(x, names, what, min_n, msgs)
        values, n = x, x.shape[0]
    else:
        n_dropped, values = 0, None
        means, cov, n = _pairwise(x, names, what, min_n, msgs)
    constant = [names[j] for j in np.flatnonzero(no_variance(np.diag(cov), means))]
    if constant:
        if not drop_constant:
            raise DataValidationError(
                f"{what}: item(s) {', '.join(constant)} have zero variance (everyone gave the same answer), "
                "so correlations with them are undefined. Fix: drop them from the analysis."
            )
        keep = [j for j, nm in enumerate(names) if nm not in constant]
        for c in constant:
            warn(msgs, f"Item {c} has zero variance and was left out.")
        names = [names[j] for j in keep]
        cov = cov[np.ix_(keep, keep)]
        means = means[keep]
        values = values[:, keep] if values is not None else None
        x = x[:, keep] if missing == "pairwise" else x
        if len(names) < min_items:
            raise DataValidationError(
                f"{what} has fewer than {min_items} items with variance (without variance: {preview(constant)}). "
                "Fix: check the data — were the answers read as codes, and is the right column selected?")
    if missing == "pairwise":
        r_pair = _pairwise_cor(x, min_n)
    if n < 5 * len(names):
        warn(msgs, f"Only {n} cases for {len(names)} items ({n / len(names):.1f} per item); estimates are unstable below about 5–10 cases per item.")
    if labels is not None and (len(labels) != len(names) or constant):
        labels = None
    return ItemData(names=tuple(names), values=values, n=int(n), means=means, cov=cov, n_dropped=int(n_dropped), warnings=tuple(msgs),
                    labels=labels, n_rows=int(n_rows), cor_pairwise=r_pair)


def _listwise(x: np.ndarray, names: list[str], what: str, min_n: int, msgs: list[str]
              ) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Complete rows, how many were dropped, means and the (n − 1) covariance matrix —
    centred so that items far from zero (codes + 1e8) keep full precision."""
    n_total = x.shape[0]
    isnan = np.isnan(x)
    keep = ~isnan.any(axis=1)
    n = int(keep.sum())
    if n < min_n:
        raise DataValidationError(no_complete_cases(
            isnan.sum(axis=0), n_total, names, what=what, n_complete=n, needed=min_n,
            fix="collect more responses or use missing='pairwise'."))
    n_dropped = n_total - n
    if n_dropped:
        log.info("%s: %d of %d rows with missing values dropped (listwise)", what, n_dropped, n_total)
        msgs.append(f"{n_dropped} of {n_total} respondents with missing answers were left out (listwise deletion).")
        x = x[keep]
    means, m2 = centred_cross_products(x)
    return x, n_dropped, means, m2 / (n - 1)


def _pairwise(x: np.ndarray, names: list[str], what: str, min_n: int, msgs: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Means, pairwise covariances (psych's use='pairwise') and the n reported: complete rows,
    or the smallest pairwise count when no row is complete."""
    present = ~np.isnan(x)
    counts = present.T.astype(float) @ present.astype(float)
    if counts.min() < min_n:
        empty = [names[j] for j in np.flatnonzero(np.diag(counts) == 0)]
        if empty:
            raise DataValidationError(
                f"{what}: item(s) {preview(empty)} have no answers at all. "
                "Fix: drop them from the analysis or check how the data were read.")
        i, j = np.unravel_index(int(np.argmin(counts)), counts.shape)
        raise DataValidationError(
            f"{what}: some pairs of items are answered together by fewer than {min_n} respondents "
            f"(e.g. {names[i]} and {names[j]}: {int(counts[i, j])}). Fix: drop sparse items.")
    means, cov = pairwise_covariances(x)     # (every pair has ≥ min_n rows here)
    complete = int(present.all(axis=1).sum())
    if complete < x.shape[0]:
        msgs.append("Covariances were computed pairwise (psych's use='pairwise').")
    return means, cov, complete if complete else int(counts.min())


def _pairwise_cor(x: np.ndarray, min_n: int) -> np.ndarray:
    """R's ``cor(x, use="pairwise")``: each correlation from the rows where both items are answered,
    with those rows' own means and SDs (from deviations of the column means, so items far from zero
    keep full precision). NaN where an item does not vary among a pair's rows."""
    dev = pd.DataFrame(x - np.nanmean(x, axis=0), columns=range(x.shape[1]))
    r = dev.corr(min_periods=min_n).to_numpy(copy=True)
    np.fill_diagonal(r, 1.0)
    return r


def _from_moments(m, *, what: str, min_items: int, drop_constant: bool, min_n: int) -> ItemData:
    """ItemData from precomputed moments (listwise complete rows, counted in ``m.n_dropped``)."""
    msgs: list[str] = []
    if len(m.names) < min_items:
        raise DataValidationError(f"{what} needs at least {min_items} items, got {len(m.names)}.")
    if m.n < min_n:
        raise DataValidationError(f"{what} has {m.n} complete cases; at least {min_n} are needed.")
    if m.n_dropped:
        msgs.append(f"{m.n_dropped} rows with missing answers were left out (listwise deletion).")
    cov = m.m2 / (m.n - 1)
    names, means = list(m.names), m.mean.copy()
    constant = [names[j] for j in np.flatnonzero(no_variance(np.diag(cov), means))]
    if constant:
        if not drop_constant:
            raise DataValidationError(f"{what}: item(s) {', '.join(constant)} have zero variance. Fix: drop them from the analysis.")
        keep = [j for j, nm in enumerate(names) if nm not in constant]
        for c in constant:
            warn(msgs, f"Item {c} has zero variance and was left out.")
        names, cov, means = [names[j] for j in keep], cov[np.ix_(keep, keep)], means[keep]
    if m.n < 5 * len(names):
        warn(msgs, f"Only {m.n} cases for {len(names)} items ({m.n / len(names):.1f} per item); estimates are unstable below about 5–10 cases per item.")
    return ItemData(names=tuple(names), values=None, n=int(m.n), means=means, cov=cov, n_dropped=int(m.n_dropped), warnings=tuple(msgs))


def positive_definite_inverse(matrix: np.ndarray, rel: float) -> np.ndarray | None:
    """``matrix``⁻¹ when λ_min > rel·max(1, λ_max), else None.

    A Cholesky factor and the trace bound (λ_max ≤ tr M, λ_min ≥ 1/tr M⁻¹) settle the clear
    cases without an eigendecomposition; the eigenvalues decide the rest."""
    inv = None
    if cholesky_ok(matrix):
        try:
            inv = np.linalg.inv(matrix)
        except np.linalg.LinAlgError:
            inv = None
    if inv is not None and surely_well_conditioned(matrix, inv, rel, floor=1.0):
        return inv
    eig = np.linalg.eigvalsh(matrix)
    if not eig.min() > rel * max(1.0, eig.max()):
        return None
    return inv if inv is not None else np.linalg.inv(matrix)


def check_positive_definite(matrix: np.ndarray, names: tuple[str, ...], what: str) -> np.ndarray:
    """The inverse of ``matrix``; raise NotPositiveDefiniteError naming the items involved when
    the matrix is singular (λ_min ≤ 1e-10·max(1, λ_max))."""
    inv = positive_definite_inverse(matrix, 1e-10)
    if inv is not None:
        return inv
    eig, vec = np.linalg.eigh(matrix)
    weights = np.abs(vec[:, 0])
    involved = [names[j] for j in np.argsort(-weights)[:4] if weights[j] > 0.2]
    raise NotPositiveDefiniteError(
        f"{what}: the correlation matrix is singular or not positive definite (smallest eigenvalue {eig.min():.3g}); "
        f"items involved: {', '.join(involved) or 'several'}. An item may be a copy or a sum of others, or there are fewer "
        "respondents than items. Fix: drop redundant items or collect more responses."
    )


def cholesky_ok(mat: np.ndarray) -> bool:
    """Whether ``mat`` has a Cholesky factor (is numerically positive definite)."""
    try:
        np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        return False
    return True


def surely_well_conditioned(mat: np.ndarray, inverse: np.ndarray, rel: float, *, floor: float = 0.0) -> bool:
    """True guarantees λ_min > rel·max(floor, λ_max) for a positive definite ``mat`` with
    inverse ``inverse``: λ_max ≤ tr(mat) and λ_min ≥ 1/tr(mat⁻¹). False means only that the
    bound cannot tell; the caller then asks the eigenvalues."""
    t_inv = float(np.trace(inverse))
    return t_inv > 0 and 1.0 / t_inv > rel * max(floor, float(np.trace(mat)))


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations: 1 − 1/diag(R⁻¹) (psych::smc).

    Raises NotPositiveDefiniteError when R is singular (an item is a linear combination of
    others, or there are fewer cases than items): then some SMC is 1 and R⁻¹ does not exist.
    """
    inv = positive_definite_inverse(r, 1e-12)
    if inv is None:
        raise NotPositiveDefiniteError(
            f"The correlation matrix is singular (smallest eigenvalue {np.linalg.eigvalsh(r).min():.3g}), so squared "
            "multiple correlations are undefined: an item is a copy or a sum of others, or there are fewer respondents "
            "than items. Fix: drop redundant items or collect more responses."
        )
    return 1.0 - 1.0 / np.diag(inv)
