"""Item analysis and reliability: alpha, standardized alpha, Feldt and bootstrap CIs,
omega total, maximum split-half, Guttman's λ6, average inter-item correlation."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
from scipy import special, stats

from govsurvey._blas import small_matrix_blas
from govsurvey.data.options import MAX_BOOT, real_number, seed_value, whole_number
from govsurvey.errors import DataValidationError, NotPositiveDefiniteError
from govsurvey.psychometrics._input import prepare_items, smc, warn
from govsurvey.resampling import MIN_BOOT_N
from govsurvey.results import Result

__all__ = ["item_analysis", "reliability", "Reliability", "alpha_from_cov", "feldt_ci", "split_half_max"]


_TABLE_COLUMNS = pd.Index(["alpha_if_deleted", "r_drop"])   # (a view per table: no shared mutable name)


def alpha_from_cov(cov: np.ndarray) -> float:
    """Cronbach's alpha: k/(k−1) · (1 − tr C / ΣC)."""
    k = cov.shape[0]
    return float(k / (k - 1) * (1.0 - np.trace(cov) / cov.sum()))


def _alpha_std(r: np.ndarray) -> float:
    k = r.shape[0]
    return float(k / (k - 1) * (1.0 - k / r.sum()))


def _r_drop(cov: np.ndarray) -> np.ndarray:
    """Corrected item–total correlation: each item with the sum of the others (psych r.drop)."""
    total = cov.sum()
    col = cov.sum(axis=0)
    d = np.diag(cov)
    rest_var = total - 2 * col + d
    return (col - d) / np.sqrt(d * rest_var)


def _alpha_if_deleted(cov: np.ndarray) -> np.ndarray:
    """Alpha of the k − 1 remaining items for each item left out, from C alone: leaving out
    item i removes C_ii from the trace and its row and column from the total."""
    k = cov.shape[0]
    if k < 3:
        return np.full(k, np.nan)
    d = np.diag(cov)
    rest_total = cov.sum() - 2 * cov.sum(axis=0) + d
    return (k - 1) / (k - 2) * (1.0 - (np.trace(cov) - d) / rest_total)


def feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's (1965) F-based interval for alpha, as psych::alpha.ci."""
    p = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * special.fdtri(df1, df2, 1 - p / 2)     # = stats.f.ppf, without its overhead
    high = 1 - (1 - alpha) * special.fdtri(df1, df2, p / 2)
    return float(low), float(high)


def split_half_max(r: np.ndarray, *, n_sample: int = 10000, seed: int | None = None) -> float:
    """The largest split-half reliability (Guttman/Flanagan–Rulon, 4·r_AB/ΣR) over splits
    into ⌊k/2⌋ and ⌈k/2⌉ items, as psych::splitHalf ``maxrb``.

    Like psych, splits are enumerated in combination order, ⌈C(k, ⌊k/2⌋)/2⌉ of them,
    when that is at most ``n_sample``; otherwise ``n_sample`` random splits are drawn (``seed``).
    """
    k = r.shape[0]
    m = k // 2
    total = r.sum()
    # psych: count <- round(choose(n, m))/2, then splits i = 1, 2, … while i < count + 1
    count = math.ceil(math.comb(k, m) / 2)
    if count <= n_sample:
        splits = list(itertools.islice(itertools.combinations(range(k), m), count))
    else:
        rng = np.random.default_rng(seed)
        splits = [tuple(rng.choice(k, size=m, replace=False)) for _ in range(n_sample)]
    # r_AB for every split at once: with indicator rows a, r_AB = a R (1 − a)ᵀ
    a = np.zeros((len(splits), k))
    a[np.repeat(np.arange(len(splits)), m), np.asarray(splits, dtype=int).ravel()] = 1.0
    rab = ((a @ r) * (1.0 - a)).sum(axis=1)
    return float(4 * rab.max() / total)


def _lambda6(r: np.ndarray) -> float:
    k = r.shape[0]
    return float(1 - (k - smc(r).sum()) / r.sum())


def _omega_total_1f(r: np.ndarray) -> float:
    from govsurvey.psychometrics.factor import LOWER, fit_minres, one_factor_uls

    l = one_factor_uls(r)
    if l is None or (l**2).max() >= 1 - LOWER:   # no interior minimum: psych's bounded minres
        l = fit_minres(r, 1)[0][:, 0]
    return float(1 - (1 - l**2).sum() / r.sum())


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Reliability(Result):
    """Reliability of one scale (see :func:`reliability`)."""

    alpha: float
    alpha_std: float
    alpha_ci: tuple[float, float]
    ci_method: str
    omega_total: float
    split_half: float
    lambda6: float
    average_r: float
    n_obs: int
    n_items: int
    items: pd.DataFrame
    warnings: tuple[str, ...] = ()
    omega_ci: tuple[float, float] = (float("nan"), float("nan"))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "alpha": self.alpha, "alpha_std": self.alpha_std, "ci_low": self.alpha_ci[0], "ci_high": self.alpha_ci[1],
            "omega_total": self.omega_total, "split_half": self.split_half, "lambda6": self.lambda6,
            "average_r": self.average_r, "n_obs": self.n_obs, "n_items": self.n_items,
        }])


@small_matrix_blas
def reliability(
    items: pd.DataFrame,
    *,
    missing: str = "listwise",
    ci: float = 0.95,
    n_boot: int = 0,
    seed: int | None = None,
) -> Reliability:
    """Reliability of a scale whose items are already reverse-coded.

    Parameters
    ----------
    items
        Respondents × items.
    missing
        ``"listwise"`` (complete cases) or ``"pairwise"`` (psych::alpha's default:
        each covariance from the rows where both items are present). Pairwise follows psych
        throughout: alpha, standardized alpha, λ6 and split-half from ``cov(x, use="pairwise")``
        (and its cov2cor), omega total from ``cor(x, use="pairwise")`` as ``psych::omega``, and
        Feldt's interval with n = every row, as ``psych::alpha`` passes ``nrow(x)`` to
        ``alpha.ci``; ``n_obs`` is that n.
    ci
        Level of the interval for alpha: Feldt's F interval, or with ``n_boot > 0`` the
        percentile interval of a vectorised nonparametric bootstrap (needs listwise data).
    seed
        Seeds the bootstrap and, with more than 16 items, the random split-halves.

    Notes
    -----
    alpha = k/(k−1)(1 − tr C/ΣC); standardized alpha uses the correlation matrix;
    λ6 = 1 − Σ(1 − SMC)/ΣR; omega total = 1 − Σu²/ΣR from a one-factor minres solution, as
    ``psych::omega(x, nfactors = 1, flip = FALSE)``: the items are taken as keyed (reverse-coded
    first, :func:`govsurvey.reverse_code`), whereas psych's default ``flip = TRUE`` silently
    reverses items that load negatively and then reports a higher omega; a negatively related
    item gets a warning instead. On such a weak scale the bootstrap interval of omega can reach
    below 0 (it is the percentile interval of the resampled estimates, as R's); read it as "no
    reliable common factor". split_half is psych::splitHalf's ``maxrb``.

    References
    ----------
    Cronbach (1951); Feldt (1965); Guttman (1945); McDonald (1999); Revelle, psych::alpha.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> rel = gs.reliability(data[inst.items_of("reserves")])   # In R: psych::alpha(data[, items])
    >>> 0.7 < rel.alpha < 0.95
    True
    """
    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95)
    n_boot = whole_number(n_boot, "n_boot", low=0, high=MAX_BOOT)
    seed = seed_value(seed)
    data = prepare_items(items, what="reliability", missing=missing, drop_constant=True, min_items=2)
    msgs = list(data.warnings)
    cov, r, k = data.cov, data.cor, data.k
    if not cov.sum() > 1e-12 * np.trace(cov):
        raise DataValidationError(
            f"reliability: the scale total does not vary (the items' covariances cancel their variances exactly), so "
            f"alpha is undefined. Items: {', '.join(data.names)}. Fix: check reverse keys and the data."
        )
    alpha = alpha_from_cov(cov)
    r_drop = _r_drop(cov)
    negative = [data.names[j] for j in range(k) if r_drop[j] < 0]
    if negative:
        warn(msgs, f"Item(s) {', '.join(negative)} correlate negatively with the rest of the scale; a reverse key may be missing.")
    if alpha < 0:
        warn(msgs, f"alpha is negative ({alpha:.3f}): items are on average negatively related. Check reverse keys.")
    omega_ci = (float("nan"), float("nan"))
    if n_boot > 0:
        if data.values is None:
            raise DataValidationError("A bootstrap interval needs the raw responses (complete cases); moments or pairwise "
                                      "covariances are not enough. Fix: pass the item DataFrame with missing='listwise'.")
        if data.n < MIN_BOOT_N:
            raise DataValidationError(f"A bootstrap interval needs at least {MIN_BOOT_N} complete cases; there are {data.n}. "
                                      "Fix: use Feldt's interval (n_boot=0) or collect more responses.")
        boots_alpha, boots_omega = _bootstrap(data.values, n_boot=n_boot, seed=seed)
        q = [(1 - ci) / 2, 1 - (1 - ci) / 2]
        bad = int(np.isnan(boots_alpha).sum())
        if bad:
            warn(msgs, f"{bad} of {n_boot} bootstrap resamples had an item (or the total) without variance and were left out "
                 "of the interval; with so few distinct answers the interval is rough.")
        lo, hi = np.nanquantile(boots_alpha, q) if bad < n_boot else (np.nan, np.nan)
        alpha_ci, method = (float(lo), float(hi)), f"percentile bootstrap ({n_boot} resamples)"
        if k >= 3 and np.isfinite(boots_omega).any():
            omega_ci = tuple(float(v) for v in np.nanquantile(boots_omega, q))
    else:
        alpha_ci, method = feldt_ci(alpha, data.n_psych, k, ci), "Feldt"
    table = pd.DataFrame(np.column_stack([_alpha_if_deleted(cov), r_drop]), columns=_TABLE_COLUMNS.view(),
                         index=data.labels.rename("item") if data.labels is not None else pd.Index(data.names, name="item"))
    try:
        lambda6 = _lambda6(r)
        omega_total = _omega_total_1f(data.factor_cor("reliability")) if k >= 3 else float("nan")
    except NotPositiveDefiniteError as exc:
        lambda6 = omega_total = float("nan")
        warn(msgs, f"{exc} Alpha does not need the inverse and is reported; lambda6 and omega_total are not.")
    except DataValidationError as exc:   # a pairwise correlation undefined: omega needs it, alpha does not
        omega_total = float("nan")
        warn(msgs, f"{exc} omega_total is not reported.")
    if r.sum() > 1e-12 * k:
        alpha_std, split_half = _alpha_std(r), split_half_max(r, seed=seed)
    else:   # the standardized total does not vary: both divide by ΣR = 0
        alpha_std = split_half = float("nan")
        warn(msgs, "The standardized items sum to a constant (their correlations cancel), so standardized alpha and "
                   "split-half reliability are undefined. Check reverse keys.")
    return Reliability(
        alpha=alpha, alpha_std=alpha_std, alpha_ci=alpha_ci, ci_method=method,
        omega_total=omega_total,
        split_half=split_half, lambda6=lambda6,
        average_r=float((r.sum() - k) / (k * (k - 1))), n_obs=data.n_psych, n_items=k, items=table, warnings=tuple(msgs),
        omega_ci=omega_ci,
    )


def bootstrap_alpha(x: np.ndarray, *, n_boot: int, seed: int | None) -> np.ndarray:
    """Alpha in ``n_boot`` nonparametric resamples, all computed together from resampling
    counts and weighted cross-products (:func:`govsurvey.resampling.bootstrap_covariances`)."""
    return _bootstrap(x, n_boot=n_boot, seed=seed, omega=False)[0]


def _bootstrap(x: np.ndarray, *, n_boot: int, seed: int | None, omega: bool = True) -> tuple[np.ndarray, np.ndarray]:
    from govsurvey.psychometrics.factor import minres1_batch
    from govsurvey.resampling import bootstrap_covariances

    k = x.shape[1]
    alphas, omegas = [], []
    for cov in bootstrap_covariances(x, n_boot=n_boot, seed=seed):
        tr = np.einsum("bii->b", cov)
        tot = cov.sum(axis=(1, 2))
        var = np.einsum("bii->bi", cov)
        # a resample can draw one answer for every case of an item: no variance, alpha and omega undefined
        ok = (var > 1e-12 * tr[:, None]).all(axis=1) & (tot > 0)    # relative: items at any scale
        with np.errstate(divide="ignore", invalid="ignore"):
            alphas.append(np.where(ok, k / (k - 1) * (1 - tr / tot), np.nan))
        if omega and k >= 3:
            sd = np.sqrt(np.where(ok[:, None], var, 1.0))
            r = cov / (sd[:, :, None] * sd[:, None, :])
            ok &= np.linalg.eigvalsh(np.where(ok[:, None, None], r, np.eye(k))).min(axis=1) > 1e-10
            om = np.full(len(ok), np.nan)
            if ok.any():
                h = minres1_batch(r[ok])
                om[ok] = 1 - (1 - h).sum(axis=1) / r[ok].sum(axis=(1, 2))
            omegas.append(om)
    return np.concatenate(alphas), (np.concatenate(omegas) if omegas else np.array([]))


@small_matrix_blas
def item_analysis(items: pd.DataFrame, *, extreme: float = 0.27) -> pd.DataFrame:
    """Item statistics for a scale whose items are already reverse-coded.

    Columns: ``mean``, ``sd``, ``r_drop`` (corrected item–total correlation),
    ``alpha_if_deleted``, ``cr_t`` and ``cr_p`` — the critical ratio: Welch's t of the item
    between respondents whose total is at or above the (1 − extreme) quantile and at or
    below the ``extreme`` quantile (R's quantile type 7), as Chinese thesis practice
    ("临界比值法", 高低分组 27 %) and ``t.test(high, low)`` in R.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> table = gs.item_analysis(data[inst.items_of("plans")])
    >>> bool((table["cr_p"] < 0.001).all())
    True
    """
    extreme = real_number(extreme, "extreme", low=0, high=0.5, inclusive=False, what="a share", example=0.27)
    data = prepare_items(items, what="item_analysis", drop_constant=False, min_items=2)
    x = data.values
    total = x.sum(axis=1)
    q_lo, q_hi = np.quantile(total, [extreme, 1 - extreme])
    lo, hi = x[total <= q_lo], x[total >= q_hi]
    if lo.shape[0] < 2 or hi.shape[0] < 2:
        raise DataValidationError("item_analysis: the extreme groups have fewer than 2 respondents each. Fix: use more respondents.")
    t, p = stats.ttest_ind(hi, lo, axis=0, equal_var=False)
    table = pd.DataFrame({
        "mean": data.means, "sd": np.sqrt(np.diag(data.cov)), "r_drop": _r_drop(data.cov),
        "alpha_if_deleted": _alpha_if_deleted(data.cov), "cr_t": t, "cr_p": p,
    }, index=pd.Index(data.names, name="item"))
    msgs = list(data.warnings)
    negative = table.index[table["r_drop"] < 0].tolist()
    if negative:
        warn(msgs, f"Item(s) {', '.join(negative)} correlate negatively with the rest of the scale; a reverse key may be missing.")
    table.attrs["warnings"] = msgs
    table.attrs["n_low"], table.attrs["n_high"] = int(lo.shape[0]), int(hi.shape[0])
    return table
