"""Ranking units (communities) on an evaluation index system: TOPSIS and grey relational
analysis (灰色关联分析), with stratified bootstrap intervals when the units' values are means of
respondents.

Both methods normalise over the units, so a unit's score depends on every other unit. The
bootstrap therefore resamples respondents within each unit (stratified), recomputes every
unit's means and then the whole method — normalisation, and objective weights when
``weights="entropy"`` or ``"critic"`` — for all resamples at once: arrays of resamples ×
units × indicators, in batches that bound the memory, never a Python loop over resamples.

References
----------
Deng, J.-L. (1982). Control problems of grey systems. *Systems & Control Letters*, 1(5), 288–294.
Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making: Methods and Applications*.
Springer (TOPSIS).
Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall
(percentile intervals; stratified resampling, §3.7).
刘思峰 等 (2017). 灰色系统理论及其应用（第8版）. 科学出版社.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.options import MAX_BOOT, choice, real_number, seed_value, whole_number
from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError, preview
from govsurvey.evaluation.weights import (
    DecisionMatrix,
    align_weights,
    check_size,
    critic_kernel,
    decision_matrix,
    entropy_kernel,
    minmax,
)
from govsurvey.psychometrics._input import warn
from govsurvey.resampling import MIN_BOOT_N, resample_counts
from govsurvey.results import Result

__all__ = ["TOPSIS", "topsis", "GreyRelational", "grey_relational", "MIN_UNIT_N"]

BOOT_CELLS = 4_000_000
"""Resamples × units × indicators computed in one batch (≈ 32 MB per array)."""
DRAW_CELLS = 1_000_000
"""Resamples × respondents of one unit drawn at once."""
MIN_UNIT_N = 5
"""A unit with fewer respondents than this gets a bootstrap interval flagged as unreliable."""


# ------------------------------------------------------------------ shared set-up
@dataclasses.dataclass(frozen=True, slots=True)
class _Setup:
    m: DecisionMatrix
    w: np.ndarray                 # the point estimate's weights (J,)
    weights_method: str           # "given", "equal", "entropy", "critic"
    n_boot: int
    seed: int | None
    ci: float
    msgs: list[str]

    def batch_weights(self, x: np.ndarray) -> np.ndarray:
        """Weights for unit matrices ``x`` (…, U, J): fixed, or recomputed when objective."""
        if self.weights_method in ("given", "equal"):
            return self.w
        z, flat = minmax(x, self.m.cost)
        return entropy_kernel(z, flat, 0.0)[2] if self.weights_method == "entropy" else critic_kernel(z, flat)[3]

    def weight_series(self) -> pd.Series:
        return pd.Series(self.w, index=pd.Index(self.m.indicators, name="indicator"), name="weight")


def _setup(data: Any, weights: Any, *, cost: Any, by: Any, n_boot: Any, seed: Any, ci: Any, what: str) -> _Setup:
    n_boot = whole_number(n_boot, "n_boot", low=0, high=MAX_BOOT, where=what)
    seed = seed_value(seed, where=what)
    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95, where=what)
    m = decision_matrix(data, cost=cost, by=by, what=what)
    check_size(m, what)
    msgs = list(m.warnings)
    if n_boot and m.rows is None:
        raise SpecificationError(f"{what}: n_boot={n_boot} needs respondent-level data with by= (the bootstrap resamples "
                                 "respondents within each unit). Fix: pass the respondents and by='<unit column>', or n_boot=0.")
    if n_boot:
        small_units(m, what, msgs, warn)
    z, flat = minmax(m.values, m.cost)
    constant = [str(c) for c in m.indicators[flat[0]]]
    if constant:
        warn(msgs, f"{what}: indicator(s) {preview(constant)} have the same value for every unit, so they cannot tell the "
                   "units apart (objective weights give them weight 0). Fix: drop them, or check the data.")
    if isinstance(weights, str):
        method = choice(weights, "weights", ("entropy", "critic"), where=what)
        w = entropy_kernel(z, flat, 0.0)[2] if method == "entropy" else critic_kernel(z, flat)[3]
        if not np.isfinite(w).all():
            raise DataValidationError(f"{what}: no indicator varies across the units, so {method} weights are undefined. "
                                      "Fix: check the data.")
        return _Setup(m, w, method, n_boot, seed, ci, msgs)
    if weights is None:
        return _Setup(m, np.full(len(m.indicators), 1.0 / len(m.indicators)), "equal", n_boot, seed, ci, msgs)
    w = align_weights(weights, m.indicators, "weights", what, msgs)
    return _Setup(m, w, "given", n_boot, seed, ci, msgs)


# ------------------------------------------------------------------ the stratified bootstrap
def small_units(m: DecisionMatrix, what: str, msgs: list[str], emit: Callable[[list[str], str], None]) -> None:
    """Warn about units too small for a bootstrap interval: fewer than :data:`MIN_UNIT_N`
    respondents (unreliable: the interval can exclude the point estimate), or fewer than
    ``MIN_BOOT_N`` (rough)."""
    tiny = [f"{u} (n = {len(idx)})" for u, idx in zip(m.units, m.members) if len(idx) < MIN_UNIT_N]
    small = [str(u) for u, idx in zip(m.units, m.members) if MIN_UNIT_N <= len(idx) < MIN_BOOT_N]
    if tiny:
        emit(msgs, f"{what}: unit(s) {preview(tiny)} have fewer than {MIN_UNIT_N} respondents, so their intervals are "
                   "unreliable: a resample of so few respondents takes a handful of values, and the percentile interval of "
                   "a bounded index relative to the other units can even exclude the point estimate. Fix: report their "
                   "index without an interval, or gather more responses there.")
    if small:
        emit(msgs, f"{what}: unit(s) {preview(small)} have fewer than {MIN_BOOT_N} respondents; their resampled means "
                   "take few distinct values and the intervals are rough.")



def bootstrap_unit_means(m: DecisionMatrix, n_boot: int, seed: int | None) -> Any:
    """Yield batches (b × units × indicators) of unit means of stratified resamples: every
    unit's respondents drawn with replacement within the unit, means over the answers given
    (NaN where a resample of a unit has no answer to an indicator)."""
    rng = np.random.default_rng(seed)
    n_units, n_ind = m.values.shape
    present = ~np.isnan(m.rows)
    filled = np.where(present, m.rows, 0.0)
    present = present.astype(float)
    chunk = max(1, BOOT_CELLS // (n_units * n_ind))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        sums = np.empty((b, n_units, n_ind))
        counts = np.empty((b, n_units, n_ind))
        for u, idx in enumerate(m.members):
            step = max(1, DRAW_CELLS // len(idx))
            for s in range(0, b, step):
                draw = resample_counts(rng, len(idx), min(step, b - s)).astype(float)
                np.matmul(draw, filled[idx], out=sums[s:s + step, u, :])
                np.matmul(draw, present[idx], out=counts[s:s + step, u, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            yield sums / counts


def _boot_scores(setup: _Setup, score: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """``score(means, weights)`` (b × units) for every resample, stacked (n_boot × units)."""
    out = [score(x, setup.batch_weights(x)) for x in bootstrap_unit_means(setup.m, setup.n_boot, setup.seed)]
    return np.concatenate(out, axis=0)


def _plain(label: Any) -> Any:
    """A numpy scalar label as the Python value (for a readable repr)."""
    return label.item() if isinstance(label, np.generic) else label


def _ranks(values: pd.Series) -> pd.Series:
    return values.rank(ascending=False, method="min").astype(int).rename("rank")


def _interval_columns(table: pd.DataFrame, boot: np.ndarray, setup: _Setup, what: str, quantity: str) -> int:
    return interval_columns(table, boot, setup.ci, setup.msgs, what, quantity)


def interval_columns(table: pd.DataFrame, boot: np.ndarray, ci: float, msgs: list[str], what: str, quantity: str) -> int:
    """Add ci_low/ci_high (percentile, level ``ci``) and rank_low/rank_high (rank 1 = highest) of
    the resampled scores ``boot`` (resamples × units) to ``table``; return the number of resamples
    left out because the method was undefined in them (a warning in ``msgs`` says so)."""
    ok = np.isfinite(boot).all(axis=1)
    failed = int((~ok).sum())
    q = [(1 - ci) / 2, (1 + ci) / 2]
    if failed == len(boot):
        warn(msgs, f"{what}: the {quantity} is undefined in every bootstrap resample; no intervals.")
        for col in ("ci_low", "ci_high", "rank_low", "rank_high"):
            table[col] = np.nan
        return failed
    if failed:
        warn(msgs, f"{what}: in {failed} of {len(boot)} bootstrap resamples the {quantity} is undefined (every unit "
                   "alike, or a unit without answers to an indicator); the intervals use the other resamples.")
    good = boot[ok]
    table["ci_low"], table["ci_high"] = np.quantile(good, q, axis=0)
    ranks = stats.rankdata(-good, method="min", axis=1)
    table["rank_low"], table["rank_high"] = np.quantile(ranks, q, axis=0, method="inverted_cdf").astype(int)
    return failed


# ------------------------------------------------------------------ TOPSIS
def topsis_kernel(x: np.ndarray, w: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, ...]:
    """TOPSIS on ``x`` (…, units, indicators) with weights ``w`` (…, indicators): vector
    normalisation, weighted matrix, ideal best/worst, distances and closeness (NaN when both
    distances are 0). A column of zeros is normalised to 0."""
    norm = np.sqrt(np.einsum("...ij,...ij->...j", x, x))[..., None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(norm > 0, x / norm, 0.0)
    v = r * w[..., None, :]
    best = np.where(cost, v.min(axis=-2), v.max(axis=-2))
    worst = np.where(cost, v.max(axis=-2), v.min(axis=-2))
    d_best = np.sqrt(((v - best[..., None, :]) ** 2).sum(axis=-1))
    d_worst = np.sqrt(((v - worst[..., None, :]) ** 2).sum(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        closeness = d_worst / (d_best + d_worst)
    return r, v, best, worst, d_best, d_worst, closeness


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class TOPSIS(Result):
    """TOPSIS closeness and ranks of the units (see :func:`topsis`)."""

    table: pd.DataFrame
    closeness: pd.Series
    rank: pd.Series
    normalized: pd.DataFrame
    weighted: pd.DataFrame
    ideal: pd.DataFrame
    weights: pd.Series
    weights_method: str
    cost: tuple = ()
    n_units: int
    n_obs: int
    n_boot: int = 0
    ci: float = 0.95
    seed: int | None = None
    n_boot_failed: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per unit: d_best, d_worst, closeness, rank (and the intervals with n_boot)."""
        return self.table

    def __repr__(self) -> str:
        best = _plain(self.closeness.idxmax())
        return (f"TOPSIS(n_units={self.n_units}, indicators={len(self.weights)}, n_obs={self.n_obs}, "
                f"weights={self.weights_method!r}, best={best!r} (closeness {self.closeness.max():.4f}), n_boot={self.n_boot})")


def topsis(data: pd.DataFrame, weights: Any = None, *, cost: Any = (), by: Any = None, n_boot: int = 0,
           seed: int | None = None, ci: float = 0.95) -> TOPSIS:
    """TOPSIS: rank units by their relative closeness to the ideal solution (逼近理想解排序法).

    Parameters
    ----------
    data
        One row per unit and one numeric column per indicator; or, with ``by=``, one row per
        respondent (unit means over the answers given are taken first).
    weights
        A Series (or dict, or a result with a ``weights`` Series) indexed by indicator, ≥ 0,
        naming every indicator once (rescaled to sum 1 with a warning when it does not);
        ``None`` for equal weights 1/m; or ``"entropy"`` / ``"critic"`` for objective weights
        from the same unit matrix (:func:`~govsurvey.evaluation.weights.objective_weights`),
        recomputed on every bootstrap resample.
    cost
        Indicators where less is better; the others are benefit indicators.
    by
        The column (name) or a Series / array giving each respondent's unit.
    n_boot, seed, ci
        Stratified bootstrap resamples (respondents resampled within each unit; needs ``by=``),
        the seed of numpy's Generator, and the level of the percentile intervals.

    Returns
    -------
    TOPSIS
        ``table`` (one row per unit: ``d_best``, ``d_worst``, ``closeness``, ``rank``, and with
        ``n_boot``: ``ci_low``/``ci_high`` of the closeness and ``rank_low``/``rank_high``);
        ``closeness`` and ``rank`` (Series by unit; rank 1 = closest to the ideal, ties share
        the smaller rank); ``normalized`` (r), ``weighted`` (v); ``ideal`` (``best`` and
        ``worst`` per indicator, in v units);
        ``weights`` (Series used; ``weights_method``: ``"given"``, ``"equal"``, ``"entropy"`` or
        ``"critic"``), ``cost``, ``n_units``, ``n_obs`` (rows used), ``n_boot``, ``ci``, ``seed``,
        ``n_boot_failed`` (resamples where the method was undefined, left out), ``warnings``.

    Notes
    -----
    Hwang & Yoon (1981): r_ij = x_ij / √(Σ_i x_ij²) (vector normalisation), v_ij = w_j r_ij; the
    ideal best v⁺_j is max_i v_ij for a benefit and min_i v_ij for a cost indicator (the worst
    v⁻_j the reverse); D⁺_i = √(Σ_j (v_ij − v⁺_j)²), D⁻_i = √(Σ_j (v_ij − v⁻_j)²),
    C_i = D⁻_i/(D⁺_i + D⁻_i). Same closeness as pymcdm's ``TOPSIS(vector_normalization)``
    (which turns a cost column into 1 − r first: distances are unchanged). Many Chinese studies
    normalise by min–max first instead; pass the normalised matrix to reproduce them.

    Bootstrap: each resample draws every unit's respondents with replacement within the unit,
    recomputes the unit means and then TOPSIS over all units (and the weights, when objective);
    the interval is the percentile interval, ranks' intervals are inverted-CDF quantiles (ranks
    that occurred). An indicator that happens to be constant across units in a resample adds
    nothing to either distance there (and gets weight 0 when the weights are objective). A
    resample where the closeness is undefined (every unit alike: D⁺ = D⁻ = 0, or a unit with no
    answer to an indicator) is left out and counted in ``n_boot_failed``, with a warning.

    The closeness is bounded (0–1) and relative to the other units, and the percentile interval
    takes its quantiles as they fall: for a unit of very few respondents (1–3) the resampled
    closeness takes a handful of values, skewed by the other units moving too, and the interval
    can exclude the point estimate. A warning flags units with fewer than :data:`MIN_UNIT_N`
    respondents (their intervals unreliable) and fewer than 10 (rough).

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.ranking import topsis
    >>> x = pd.DataFrame({"cost": [250, 200, 300, 275], "quality": [7, 6, 8, 9]}, index=list("ABCD"))
    >>> res = topsis(x, pd.Series({"cost": 0.4, "quality": 0.6}), cost=["cost"])
    >>> res.table.round(4)
          d_best  d_worst  closeness  rank
    unit
    A     0.0880   0.0553     0.3857     4
    B     0.1187   0.0772     0.3943     3
    C     0.0868   0.0791     0.4769     2
    D     0.0579   0.1202     0.6749     1

    # In pymcdm: TOPSIS(vector_normalization)(x.to_numpy(float), np.array([0.4, 0.6]), np.array([-1, 1]))
    # gives [0.38573054 0.39425246 0.47690158 0.67485344]
    """
    setup = _setup(data, weights, cost=cost, by=by, n_boot=n_boot, seed=seed, ci=ci, what="topsis")
    m = setup.m
    r, v, best, worst, d_best, d_worst, c = topsis_kernel(m.values, setup.w, m.cost)
    if not np.isfinite(c).all():
        raise DataValidationError("topsis: every unit has the same values on every indicator, so the closeness is undefined. "
                                  "Fix: check the data.")
    cols = pd.Index(m.indicators, name="indicator")
    table = pd.DataFrame({"d_best": d_best, "d_worst": d_worst, "closeness": c}, index=m.units)
    table["rank"] = _ranks(table["closeness"])
    failed = 0
    if setup.n_boot:
        boot = _boot_scores(setup, lambda x, w: topsis_kernel(x, w, m.cost)[-1])
        failed = _interval_columns(table, boot, setup, "topsis", "closeness")
    return TOPSIS(table=table, closeness=table["closeness"].copy(), rank=table["rank"].copy(),
                  normalized=pd.DataFrame(r, index=m.units, columns=cols), weighted=pd.DataFrame(v, index=m.units, columns=cols),
                  ideal=pd.DataFrame({"best": best, "worst": worst}, index=cols), weights=setup.weight_series(),
                  weights_method=setup.weights_method, cost=m.cost_names, n_units=len(m.units), n_obs=m.n_obs,
                  n_boot=setup.n_boot, ci=setup.ci, seed=setup.seed, n_boot_failed=failed, warnings=tuple(setup.msgs))


# ------------------------------------------------------------------ grey relational analysis
def grey_kernel(x: np.ndarray, w: np.ndarray, cost: np.ndarray, rho: float, reference: tuple[str, Any]
                ) -> tuple[np.ndarray, ...]:
    """Grey relational analysis on ``x`` (…, units, indicators): min–max normalised values, the
    normalised reference series, coefficients ξ, grades Σ_j w_j ξ_ij, and global Δmin, Δmax.

    ``reference`` is ``("ideal", None)``, ``("unit", position)`` or ``("values", raw values)``."""
    z, flat = minmax(x, cost)
    kind, ref = reference
    if kind == "ideal":
        x0 = z.max(axis=-2)
    elif kind == "unit":
        x0 = z[..., ref, :]
    else:
        lo, hi = x.min(axis=-2), x.max(axis=-2)
        with np.errstate(divide="ignore", invalid="ignore"):
            x0 = np.where(flat[..., 0, :], 1.0, np.where(cost, hi - ref, ref - lo) / (hi - lo))
    delta = np.abs(x0[..., None, :] - z)
    d_min = delta.min(axis=(-2, -1))[..., None, None]
    d_max = delta.max(axis=(-2, -1))[..., None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = (d_min + rho * d_max) / (delta + rho * d_max)
    grade = (xi * w[..., None, :]).sum(axis=-1)
    return z, x0, xi, grade, d_min[..., 0, 0], d_max[..., 0, 0]


def _reference(reference: Any, m: DecisionMatrix) -> tuple[str, Any]:
    if reference is None:
        return "ideal", None
    if isinstance(reference, (pd.Series, dict)):
        ref = pd.Series(reference)
        missing = [str(i) for i in m.indicators if i not in ref.index]
        if missing:
            raise UnknownItemError(f"grey_relational: reference= has no value for indicator(s) {preview(missing)}. "
                                   "Fix: give the reference (target) value of every indicator, in the data's units.")
        values = ref.reindex(m.indicators).to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise DataValidationError("grey_relational: reference= has missing or infinite values. Fix: give finite numbers.")
        return "values", values
    try:
        position = m.units.get_loc(reference)
    except (KeyError, TypeError):
        position = None
    if not isinstance(position, (int, np.integer)):
        raise UnknownItemError(f"grey_relational: reference={reference!r} is neither a unit nor a Series of indicator values. "
                               f"Fix: name a unit ({preview([str(u) for u in m.units])}), pass target values by indicator, "
                               "or leave reference=None for the ideal series.")
    return "unit", int(position)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class GreyRelational(Result):
    """Grey relational grades and ranks of the units (see :func:`grey_relational`)."""

    table: pd.DataFrame
    grade: pd.Series
    rank: pd.Series
    coefficients: pd.DataFrame
    normalized: pd.DataFrame
    reference: pd.Series
    reference_kind: str
    rho: float
    delta_min: float
    delta_max: float
    weights: pd.Series
    weights_method: str
    cost: tuple = ()
    n_units: int
    n_obs: int
    n_boot: int = 0
    ci: float = 0.95
    seed: int | None = None
    n_boot_failed: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per unit: grade, rank (and the intervals with n_boot)."""
        return self.table

    def __repr__(self) -> str:
        best = _plain(self.grade.idxmax())
        return (f"GreyRelational(n_units={self.n_units}, indicators={len(self.weights)}, n_obs={self.n_obs}, rho={self.rho:g}, "
                f"reference={self.reference_kind!r}, weights={self.weights_method!r}, best={best!r} "
                f"(grade {self.grade.max():.4f}), n_boot={self.n_boot})")


def grey_relational(data: pd.DataFrame, weights: Any = None, *, rho: float = 0.5, cost: Any = (), by: Any = None,
                    reference: Any = None, n_boot: int = 0, seed: int | None = None, ci: float = 0.95) -> GreyRelational:
    """Grey relational analysis (灰色关联分析): rank units by their weighted grey relational grade
    with a reference series (Deng, 1982).

    Parameters
    ----------
    data, weights, cost, by, n_boot, seed, ci
        As :func:`topsis`.
    rho
        The distinguishing coefficient ρ (分辨系数), in (0, 1]; 0.5 by convention.
    reference
        ``None``: the ideal series, the best normalised value of each indicator (1 after
        min–max); a unit's label: that unit's values; or a Series of target values by
        indicator in the data's units (normalised with the units' minimum and maximum).

    Returns
    -------
    GreyRelational
        ``table`` (one row per unit: ``grade``, ``rank``, and with ``n_boot``: ``ci_low``,
        ``ci_high``, ``rank_low``, ``rank_high``); ``grade`` and ``rank`` (Series by unit; rank
        1 = most related to the reference); ``coefficients`` (ξ, units × indicators);
        ``normalized``; ``reference`` (normalised) and ``reference_kind``; ``rho``,
        ``delta_min``, ``delta_max`` (global, over all units and indicators);
        ``weights`` (Series used; ``weights_method``: ``"given"``, ``"equal"``, ``"entropy"`` or
        ``"critic"``), ``cost``, ``n_units``, ``n_obs`` (rows used), ``n_boot``, ``ci``, ``seed``,
        ``n_boot_failed`` (resamples where the method was undefined, left out), ``warnings``.

    Notes
    -----
    Normalisation: min–max, x'_ij = (x_ij − min_i x_ij)/(max_i x_ij − min_i x_ij) for benefit and
    (max_i x_ij − x_ij)/(max_i x_ij − min_i x_ij) for cost indicators (an indicator constant
    across units is set to 1 and, with the ideal reference, has ξ = 1 for every unit). Other
    texts use the initial-value (初值化) or mean (均值化) transformation; pass data so transformed
    with ``reference=`` set accordingly to reproduce them. Δ_ij = |x'_0j − x'_ij|;
    ξ_ij = (Δmin + ρ Δmax)/(Δ_ij + ρ Δmax) with Δmin = min_i min_j Δ_ij and Δmax = max_i max_j Δ_ij;
    grade_i = Σ_j w_j ξ_ij (the plain mean with equal weights). Bootstrap as in :func:`topsis`
    (the grade too is bounded and relative, so a unit of very few respondents can get a
    percentile interval that excludes its grade: a warning flags units under :data:`MIN_UNIT_N`).

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.ranking import grey_relational
    >>> x = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "x2": [3.0, 1.0, 2.0]}, index=["A", "B", "C"])
    >>> res = grey_relational(x)          # equal weights, ideal reference, rho = 0.5
    >>> res.coefficients.round(4)
    indicator      x1      x2
    unit
    A          0.3333  1.0000
    B          0.5000  0.3333
    C          1.0000  0.5000
    >>> res.table.round(4)
           grade  rank
    unit
    A     0.6667     2
    B     0.4167     3
    C     0.7500     1
    """
    rho = real_number(rho, "rho", low=0, high=1, inclusive=(False, True), what="a distinguishing coefficient",
                      example=0.5, where="grey_relational")
    setup = _setup(data, weights, cost=cost, by=by, n_boot=n_boot, seed=seed, ci=ci, what="grey_relational")
    m = setup.m
    ref = _reference(reference, m)
    z, x0, xi, grade, d_min, d_max = grey_kernel(m.values, setup.w, m.cost, rho, ref)
    if not np.isfinite(grade).all():
        raise DataValidationError("grey_relational: every unit equals the reference on every indicator (Δmax = 0), so the "
                                  "relational coefficients are undefined. Fix: check the data and reference=.")
    cols = pd.Index(m.indicators, name="indicator")
    table = pd.DataFrame({"grade": grade}, index=m.units)
    table["rank"] = _ranks(table["grade"])
    failed = 0
    if setup.n_boot:
        boot = _boot_scores(setup, lambda x, w: grey_kernel(x, w, m.cost, rho, ref)[3])
        failed = _interval_columns(table, boot, setup, "grey_relational", "grade")
    return GreyRelational(table=table, grade=table["grade"].copy(), rank=table["rank"].copy(),
                          coefficients=pd.DataFrame(xi, index=m.units, columns=cols),
                          normalized=pd.DataFrame(z, index=m.units, columns=cols),
                          reference=pd.Series(x0, index=cols, name="reference"), reference_kind=ref[0], rho=rho,
                          delta_min=float(d_min), delta_max=float(d_max), weights=setup.weight_series(),
                          weights_method=setup.weights_method, cost=m.cost_names, n_units=len(m.units), n_obs=m.n_obs,
                          n_boot=setup.n_boot, ci=setup.ci, seed=setup.seed, n_boot_failed=failed, warnings=tuple(setup.msgs))
