"""Objective weights of an evaluation index system (评价指标体系) from the survey data — the
entropy weight method (熵权法) and CRITIC — and their combination with expert (AHP) weights.

Rows are the units evaluated (communities) or, with ``by=``, respondents whose answers are
averaged within each unit first; columns are the indicators. Both methods start from the
min–max normalised unit × indicator matrix (benefit indicators x' = (x − min)/(max − min), cost
indicators x' = (max − x)/(max − min)), the convention of Chinese evaluation studies and of
pymcdm's CRITIC. An indicator that does not vary across units carries no information: it is
given weight 0 with a :class:`~govsurvey.errors.DataWarning`, never a division by zero.

The kernels take arrays with leading batch dimensions (resamples × units × indicators), so
:mod:`govsurvey.evaluation.ranking` recomputes the weights on every bootstrap resample at once.

References
----------
Diakoulaki, D., Mavrotas, G., & Papayannakis, L. (1995). Determining objective weights in
multiple criteria problems: The CRITIC method. *Computers & Operations Research*, 22(7), 763–770.
Shannon, C. E. (1948). A mathematical theory of communication. *Bell System Technical Journal*,
27(3), 379–423.
Zeleny, M. (1982). *Multiple Criteria Decision Making*. McGraw-Hill (the entropy weight).
郭亚军 (2007). 综合评价理论、方法及应用. 科学出版社.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from govsurvey._numeric import EPS, ZERO_VARIANCE_ULPS
from govsurvey.data.checks import check_finite_values, check_unique_columns
from govsurvey.data.options import choice, real_number
from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError, preview
from govsurvey.psychometrics._input import warn
from govsurvey.results import Result

__all__ = ["ObjectiveWeights", "objective_weights", "entropy_weights", "critic_weights", "combine_weights"]

WEIGHT_SUM_TOL = 1e-9
"""Weights whose sum differs from 1 by more than this are rescaled to sum to 1, with a warning."""


# ------------------------------------------------------------------ the unit × indicator matrix
@dataclasses.dataclass(frozen=True, slots=True)
class DecisionMatrix:
    """Checked input of the evaluation methods: unit-level values and, with ``by=``, the
    respondent rows they are means of (kept for the bootstrap)."""

    units: pd.Index
    indicators: pd.Index
    values: np.ndarray                 # units × indicators (unit means when by= is given)
    cost: np.ndarray                   # bool per indicator
    n_obs: int                         # rows used: respondents with a unit, or units
    rows: np.ndarray | None            # respondents × indicators (NaN: no answer), by= only
    members: tuple[np.ndarray, ...]    # row positions of each unit's respondents, by= only
    warnings: tuple[str, ...]

    @property
    def cost_names(self) -> tuple:
        return tuple(self.indicators[self.cost])


def _by_codes(data: pd.DataFrame, by: Any, what: str) -> tuple[np.ndarray, pd.Index, Hashable | None]:
    """Each row's unit position (−1: no unit), the units (sorted when sortable) and the column
    ``by`` names (None when ``by`` is a Series or an array)."""
    column = None
    try:
        is_column = not isinstance(by, (pd.Series, np.ndarray, list, pd.Index, pd.Categorical)) and by in data.columns
    except TypeError:        # an unhashable value is not a column name
        is_column = False
    if is_column:
        check_unique_columns(data, [by], what)
        column, values, name = by, data[by], str(by)
    elif isinstance(by, pd.Series):
        if not by.index.equals(data.index):
            if not (data.index.is_unique and by.index.is_unique and data.index.isin(by.index).all()):
                raise SpecificationError(
                    f"{what}: the by= Series is indexed differently from the data's rows. Fix: pass the name of a data "
                    "column, or a Series with the data's index (e.g. responses['site']).")
            by = by.reindex(data.index)
        values, name = by, (str(by.name) if by.name is not None else "unit")
    elif isinstance(by, (np.ndarray, list, pd.Index, pd.Categorical)):
        if len(by) != len(data):
            raise SpecificationError(f"{what}: by= has {len(by)} values but the data have {len(data)} rows. "
                                     "Fix: give one unit label per row, or the name of a data column.")
        values, name = pd.Series(np.asarray(by, dtype=object), index=data.index), "unit"
    else:
        raise UnknownItemError(f"{what}: by={by!r} is not a column of the data. Fix: name the column that holds each "
                               f"respondent's unit (community), one of {preview([str(c) for c in data.columns])}.")
    try:
        codes, units = pd.factorize(values, sort=True)
    except TypeError:        # labels of mixed types: keep their order of appearance
        codes, units = pd.factorize(values, sort=False)
    return np.asarray(codes), pd.Index(units, name=name), column


def _indicator_values(frame: pd.DataFrame, what: str) -> np.ndarray:
    """The indicator columns as a float matrix (NaN for missing); text columns refused by name."""
    check_unique_columns(frame, list(frame.columns), what)
    bad = [str(c) for c, t in zip(frame.columns, frame.dtypes) if not pd.api.types.is_numeric_dtype(t)]
    if bad:
        raise DataValidationError(
            f"{what}: column(s) {preview(bad)} are not numeric, so they cannot be indicators. Fix: pass only the "
            "indicator columns (e.g. data[['x1', 'x2']]) and name the unit column in by=, or convert the columns to numbers.")
    if frame.shape[1] == 0:
        raise DataValidationError(f"{what}: the data have no indicator columns. Fix: pass one column per indicator.")
    values = frame.astype(float).to_numpy(dtype=float, na_value=np.nan, copy=True)
    check_finite_values(values, [str(c) for c in frame.columns], what)
    return values


def _cost_mask(cost: Any, indicators: pd.Index, what: str) -> np.ndarray:
    if cost is None:
        cost = ()
    names = [cost] if isinstance(cost, str) or not isinstance(cost, Iterable) else list(cost)
    unknown = [str(c) for c in names if c not in indicators]
    if unknown:
        raise UnknownItemError(
            f"{what}: cost= names {len(unknown)} indicator(s) not in the data: {preview(unknown)}. Fix: name indicator "
            f"columns (the indicators are {preview([str(c) for c in indicators])}).")
    return np.asarray(indicators.isin(names), dtype=bool)


def _unit_means(rows: np.ndarray, codes: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit sums over the answers given, and how many answers (units × indicators each)."""
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(n_units))
    present = ~np.isnan(rows[order])
    sums = np.add.reduceat(np.where(present, rows[order], 0.0), starts, axis=0)
    counts = np.add.reduceat(present.astype(float), starts, axis=0)
    return sums, counts


def decision_matrix(data: Any, *, cost: Any = (), by: Any = None, what: str, min_units: int = 2) -> DecisionMatrix:
    """Check ``data`` and build the unit × indicator matrix (unit means over the answers given
    when ``by`` names each respondent's unit)."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{what}: data must be a pandas DataFrame (rows: units or respondents, columns: "
                                 f"indicators), got {type(data).__name__}. Fix: pd.DataFrame(values, columns=names).")
    msgs: list[str] = []
    if by is None:
        if not data.index.is_unique:
            dup = data.index[data.index.duplicated()].unique()
            raise DataValidationError(f"{what}: unit label(s) {preview([str(u) for u in dup])} appear more than once in the "
                                      "index. Fix: give each unit one row, or pass by= to average respondents within units.")
        values = _indicator_values(data, what)
        holes = np.argwhere(np.isnan(values))
        if holes.size:
            cells = [f"{data.index[i]}: {data.columns[j]}" for i, j in holes]
            raise DataValidationError(
                f"{what}: {len(cells)} indicator value(s) are missing ({preview(cells)}); a unit cannot be evaluated "
                "without all its indicators. Fix: fill them in (or drop the unit or indicator), or pass the respondent-level "
                "data with by= so unit means are taken over the answers given.")
        units = pd.Index(data.index, name=data.index.name if data.index.name is not None else "unit")
        indicators = pd.Index(data.columns)
        return DecisionMatrix(units=units, indicators=indicators, values=values, cost=_cost_mask(cost, indicators, what),
                              n_obs=len(units), rows=None, members=(), warnings=())
    codes, units, column = _by_codes(data, by, what)
    frame = data.drop(columns=[column]) if column is not None else data
    rows = _indicator_values(frame, what)
    indicators = pd.Index(frame.columns)
    cost_mask = _cost_mask(cost, indicators, what)
    if (codes < 0).any():
        warn(msgs, f"{what}: {int((codes < 0).sum())} row(s) have no unit in by= and were left out.")
        rows, codes = rows[codes >= 0], codes[codes >= 0]
    if len(units) < min_units:
        raise DataValidationError(f"{what} needs at least {min_units} units to compare; by= gives {len(units)}. "
                                  "Fix: check the by= column.")
    sums, counts = _unit_means(rows, codes, len(units))
    empty = np.argwhere(counts == 0)
    if empty.size:
        cells = [f"{units[i]}: {indicators[j]}" for i, j in empty]
        raise DataValidationError(f"{what}: no respondent of a unit answered an indicator ({preview(cells)}), so its unit "
                                  "mean is undefined. Fix: drop the indicator or the unit.")
    n_missing = int(np.isnan(rows).sum())
    if n_missing:
        warn(msgs, f"{what}: {n_missing} answer(s) are missing; each unit mean is taken over the answers given "
                   "(available-case means).")
    members = tuple(np.flatnonzero(codes == u) for u in range(len(units)))
    return DecisionMatrix(units=units, indicators=indicators, values=sums / counts, cost=cost_mask, n_obs=len(rows),
                          rows=rows, members=members, warnings=tuple(msgs))


def check_size(m: DecisionMatrix, what: str, min_units: int = 2) -> None:
    if len(m.units) < min_units:
        raise DataValidationError(f"{what} needs at least {min_units} units to compare, got {len(m.units)}. "
                                  "Fix: pass one row per unit (or respondents with by=).")


# ------------------------------------------------------------------ kernels (batch-capable)
def minmax(x: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min–max normalisation over units (axis −2) of ``x`` (…, units, indicators).

    Returns the normalised values and, per indicator, whether it is constant across units (a
    range of at most 16 ulp of its largest magnitude); a constant indicator is set to 1 (every
    unit equally at the best), as pymcdm's ``minmax_normalization`` does."""
    lo = x.min(axis=-2, keepdims=True)
    hi = x.max(axis=-2, keepdims=True)
    span = hi - lo
    flat = ~(span > ZERO_VARIANCE_ULPS * EPS * np.maximum(np.abs(lo), np.abs(hi)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(cost, hi - x, x - lo) / span
    return np.where(flat, 1.0, z), flat


def entropy_kernel(z: np.ndarray, flat: np.ndarray, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entropy e_j, divergence d_j = 1 − e_j (0 for a constant indicator) and weights d/Σd of
    normalised ``z`` (…, units, indicators); 0·ln 0 = 0. Weights are NaN where Σd = 0."""
    y = z + shift
    p = y / y.sum(axis=-2, keepdims=True)
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=-2) / np.log(z.shape[-2]) + 0.0     # + 0.0: −0.0 becomes 0.0
    flat = flat[..., 0, :]
    e = np.where(flat, 1.0, e)
    d = np.where(flat, 0.0, 1.0 - e)
    total = d.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(total > 0, d / total, np.nan)
    return e, d, w


def critic_kernel(z: np.ndarray, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CRITIC on normalised ``z`` (…, units, indicators): σ_j (ddof = 1), conflict Σ_k (1 − r_jk)
    over the indicators that vary, information C_j = σ_j Σ_k (1 − r_jk) and weights C/ΣC. A
    constant indicator gets C = 0 and conflict NaN (its correlations are undefined)."""
    n = z.shape[-2]
    dev = z - z.mean(axis=-2, keepdims=True)
    ss = np.einsum("...ij,...ij->...j", dev, dev)
    sd = np.sqrt(ss / (n - 1))
    cross = np.swapaxes(dev, -1, -2) @ dev
    flat = flat[..., 0, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cross / np.sqrt(ss[..., :, None] * ss[..., None, :])
    conflict = np.where(flat[..., None, :], 0.0, 1.0 - r).sum(axis=-1)
    conflict = np.where(flat, np.nan, conflict)
    info = np.where(flat, 0.0, sd * conflict)
    total = info.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(total > 0, info / total, np.nan)
    return sd, conflict, info, w


# ------------------------------------------------------------------ results
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ObjectiveWeights(Result):
    """Objective weights with the quantities behind them (see :func:`objective_weights`)."""

    method: str
    weights: pd.Series
    table: pd.DataFrame
    normalized: pd.DataFrame
    cost: tuple = ()
    shift: float = 0.0
    n_units: int
    n_obs: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: type, range, the method's intermediate quantities and the weight."""
        return self.table

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}: {v:.4f}" for k, v in list(self.weights.items())[:6])
        more = f", … {len(self.weights) - 6} more" if len(self.weights) > 6 else ""
        return (f"ObjectiveWeights(method={self.method!r}, n_units={self.n_units}, n_obs={self.n_obs}, "
                f"indicators={len(self.weights)}, weights={{{shown}{more}}})")


def objective_weights(data: pd.DataFrame, method: str = "entropy", *, cost: Any = (), by: Any = None,
                      shift: float = 0.0) -> ObjectiveWeights:
    """Objective indicator weights by the entropy weight method (熵权法) or CRITIC.

    Parameters
    ----------
    data
        One row per unit (community) and one numeric column per indicator; or, with ``by=``,
        one row per respondent (unit means over the answers given are taken first).
    method
        ``"entropy"`` or ``"critic"``.
    cost
        Indicators where less is better (成本型指标); the others are benefit indicators.
    by
        The column (name) or a Series / array giving each respondent's unit.
    shift
        Entropy only: a constant added to the normalised values before p_ij (the "平移" variant,
        e.g. 0.0001 or 0.01, that avoids p = 0); 0 by default, with 0·ln 0 = 0.

    Returns
    -------
    ObjectiveWeights
        ``weights`` (Series by indicator, summing to 1); ``table`` (one row per indicator:
        ``type``, ``min``, ``max`` of the unit values, then ``entropy``, ``divergence`` or ``sd``,
        ``conflict``, ``information``, and ``weight``); ``normalized`` (the min–max matrix);
        ``n_units``, ``n_obs``, ``warnings``.

    Notes
    -----
    Normalisation: x'_ij = (x_ij − min_i x_ij)/(max_i x_ij − min_i x_ij) for benefit and
    (max_i x_ij − x_ij)/(max_i x_ij − min_i x_ij) for cost indicators.

    **Entropy**: p_ij = (x'_ij + s)/Σ_i (x'_ij + s) with shift s, e_j = −(1/ln n) Σ_i p_ij ln p_ij
    (0·ln 0 = 0), d_j = 1 − e_j, w_j = d_j/Σ_k d_k. Some texts apply the entropy to the raw
    values (p = x/Σx, positive data only) or shift the normalised values by 0.0001–0.01; the
    shift lowers the weight of indicators where one unit sits far below the others. pymcdm's
    ``entropy_weights`` takes p = x/Σx on the values given (which must be > 0), so it agrees
    with this function when given the normalised matrix shifted by s > 0.

    **CRITIC** (Diakoulaki et al., 1995): σ_j is the standard deviation of x'_j (ddof = 1, as
    pymcdm; the weights do not depend on the ddof, only σ_j and C_j do), r_jk the Pearson
    correlation of x'_j and x'_k (a cost indicator's is reversed with it), C_j = σ_j Σ_k (1 − r_jk),
    w_j = C_j/Σ_k C_k. pymcdm's ``critic_weights`` normalises every column as a benefit indicator.

    An indicator constant across units gets weight 0 and a warning (entropy: d_j = 0; CRITIC:
    C_j = 0, its conflict is undefined and it is left out of the others' conflict sums).

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.weights import objective_weights
    >>> x = pd.DataFrame({"x1": [1, 2, 3], "x2": [2, 2, 5], "x3": [4, 1, 2]}, index=["A", "B", "C"])
    >>> res = objective_weights(x, "entropy", cost=["x3"])
    >>> res.weights.round(4).tolist()
    [0.2326, 0.5531, 0.2143]
    >>> res.table[["entropy", "divergence"]].round(4).to_dict("list")
    {'entropy': [0.5794, 0.0, 0.6126], 'divergence': [0.4206, 1.0, 0.3874]}
    >>> objective_weights(x, "critic").weights.round(4).tolist()   # pymcdm: critic_weights(x.to_numpy(float))
    [0.2879, 0.2459, 0.4662]
    """
    what = f"{method}_weights" if isinstance(method, str) else "objective_weights"
    method = choice(method, "method", ("entropy", "critic"), where="objective_weights")
    shift = real_number(shift, "shift", low=0, what="a number", example=0.01, where=what)
    if method == "critic" and shift:
        raise SpecificationError("critic_weights: shift= applies to the entropy method only (a shift changes no standard "
                                 "deviation or correlation). Fix: leave shift=0.")
    m = decision_matrix(data, cost=cost, by=by, what=what)
    check_size(m, what)
    if method == "critic" and len(m.indicators) < 2:
        raise DataValidationError("critic_weights needs at least two indicators (the method weighs each by its conflict "
                                  "with the others). Fix: pass more indicator columns.")
    msgs = list(m.warnings)
    z, flat = minmax(m.values, m.cost)
    constant = [str(c) for c in m.indicators[flat[0]]]
    if constant:
        warn(msgs, f"{what}: indicator(s) {preview(constant)} have the same value for every unit; they carry no information "
                   "and get weight 0. Fix: drop them, or check the data.")
    table = pd.DataFrame({"type": np.where(m.cost, "cost", "benefit"), "min": m.values.min(axis=0),
                          "max": m.values.max(axis=0)}, index=pd.Index(m.indicators, name="indicator"))
    if method == "entropy":
        e, d, w = entropy_kernel(z, flat, shift)
        table["entropy"], table["divergence"] = e, d
    else:
        sd, conflict, info, w = critic_kernel(z, flat)
        table["sd"], table["conflict"], table["information"] = sd, conflict, info
    if not np.isfinite(w).all():
        raise DataValidationError(f"{what}: no indicator varies across the units, so no weights can be derived. "
                                  "Fix: check the data (are the units' rows different?).")
    table["weight"] = w
    weights = pd.Series(w, index=pd.Index(m.indicators, name="indicator"), name="weight")
    normalized = pd.DataFrame(z, index=m.units, columns=pd.Index(m.indicators, name="indicator"))
    return ObjectiveWeights(method=method, weights=weights, table=table, normalized=normalized, cost=m.cost_names,
                            shift=shift, n_units=len(m.units), n_obs=m.n_obs, warnings=tuple(msgs))


def entropy_weights(data: pd.DataFrame, *, cost: Any = (), by: Any = None, shift: float = 0.0) -> pd.Series:
    """Entropy weights (熵权法) by indicator, summing to 1; see :func:`objective_weights` for the
    formulas (min–max normalisation, 0·ln 0 = 0) and the intermediate table.

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.weights import entropy_weights
    >>> x = pd.DataFrame({"x1": [1, 2, 3], "x2": [2, 2, 5], "x3": [4, 1, 2]}, index=["A", "B", "C"])
    >>> entropy_weights(x, cost=["x3"]).round(4).to_dict()
    {'x1': 0.2326, 'x2': 0.5531, 'x3': 0.2143}
    """
    return objective_weights(data, "entropy", cost=cost, by=by, shift=shift).weights


def critic_weights(data: pd.DataFrame, *, cost: Any = (), by: Any = None) -> pd.Series:
    """CRITIC weights by indicator, summing to 1; see :func:`objective_weights` for the formulas
    (min–max normalisation, σ with ddof = 1, conflict Σ(1 − r)) and the intermediate table.

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.weights import critic_weights
    >>> x = pd.DataFrame({"x1": [1, 2, 3], "x2": [2, 2, 5], "x3": [4, 1, 2]}, index=["A", "B", "C"])
    >>> critic_weights(x, cost=["x3"]).round(4).to_dict()
    {'x1': 0.1744, 'x2': 0.3971, 'x3': 0.4285}
    """
    return objective_weights(data, "critic", cost=cost, by=by).weights


# ------------------------------------------------------------------ given and combined weights
def as_weight_series(weights: Any, name: str, what: str) -> pd.Series:
    """A weight vector as a float Series: a Series, a mapping, or a result with a ``weights`` Series."""
    if isinstance(getattr(weights, "weights", None), pd.Series):
        weights = weights.weights
    if isinstance(weights, Mapping) and not isinstance(weights, pd.Series):
        weights = pd.Series(dict(weights))
    if not isinstance(weights, pd.Series):
        raise SpecificationError(f"{what}: {name}= must be a pandas Series of weights indexed by indicator (or a dict), got "
                                 f"{type(weights).__name__}. Fix: pd.Series(values, index=indicator_names).")
    if not weights.index.is_unique:
        raise DataValidationError(f"{what}: {name}= names indicator(s) "
                                  f"{preview([str(i) for i in weights.index[weights.index.duplicated()].unique()])} twice. "
                                  "Fix: give each indicator one weight.")
    try:
        values = weights.astype(float)
    except (TypeError, ValueError):
        raise DataValidationError(f"{what}: {name}= holds values that are not numbers. Fix: pass numeric weights.") from None
    bad = [str(i) for i, v in values.items() if not (np.isfinite(v) and v >= 0)]
    if bad:
        raise DataValidationError(f"{what}: {name}= has negative, missing or infinite weight(s) for {preview(bad)}. "
                                  "Fix: weights must be finite and ≥ 0.")
    return values


def align_weights(weights: Any, indicators: pd.Index, name: str, what: str, msgs: list[str], *,
                  rescale: bool = True) -> np.ndarray:
    """Weights in the order of ``indicators``; the index must name exactly those indicators.
    With ``rescale``, a sum other than 1 (beyond :data:`WEIGHT_SUM_TOL`) is rescaled with a warning."""
    w = as_weight_series(weights, name, what)
    missing = [str(i) for i in indicators if i not in w.index]
    extra = [str(i) for i in w.index if i not in indicators]
    if missing or extra:
        parts = ([f"no weight for {len(missing)} indicator(s): {preview(missing)}"] if missing else []) + (
            [f"{len(extra)} weight(s) for indicators not in the data: {preview(extra)}"] if extra else [])
        raise UnknownItemError(f"{what}: {name}= does not match the indicators — {'; '.join(parts)}. Fix: index the weights "
                               "by the data's indicator columns, one weight each.")
    values = w.reindex(indicators).to_numpy(dtype=float)
    total = float(values.sum())
    if not total > 0:
        raise DataValidationError(f"{what}: the {name}= weights sum to 0. Fix: give at least one indicator a positive weight.")
    if rescale and abs(total - 1.0) > WEIGHT_SUM_TOL:
        warn(msgs, f"{what}: the {name}= weights sum to {total:.10g}, not 1; they were rescaled to sum to 1.")
        values = values / total
    return values


def combine_weights(subjective: Any, objective: Any, *, method: str = "multiplicative", alpha: float = 0.5) -> pd.Series:
    """Combine subjective (expert, e.g. AHP) and objective (entropy, CRITIC) weights (组合赋权).

    Parameters
    ----------
    subjective, objective
        Weights indexed by indicator (Series, dict, or a result with a ``weights`` Series); both
        must name the same indicators. Each is rescaled to sum to 1 first (with a warning when it
        did not).
    method
        ``"multiplicative"`` (乘法合成): w_j = s_j o_j / Σ_k s_k o_k; or ``"additive"`` (线性加权):
        w_j = α s_j + (1 − α) o_j.
    alpha
        The subjective share in the additive combination, from 0 to 1.

    Returns
    -------
    pandas.Series
        The combined weights in the order of ``subjective``, summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.weights import combine_weights
    >>> ahp = pd.Series({"x1": 0.5, "x2": 0.3, "x3": 0.2})
    >>> ent = pd.Series({"x3": 0.2, "x2": 0.2, "x1": 0.6})
    >>> combine_weights(ahp, ent).round(4).to_dict()
    {'x1': 0.75, 'x2': 0.15, 'x3': 0.1}
    >>> combine_weights(ahp, ent, method="additive", alpha=0.5).round(4).to_dict()
    {'x1': 0.55, 'x2': 0.25, 'x3': 0.2}
    """
    method = choice(method, "method", ("multiplicative", "additive"), where="combine_weights")
    alpha = real_number(alpha, "alpha", low=0, high=1, what="a share", example=0.5, where="combine_weights")
    msgs: list[str] = []
    s = as_weight_series(subjective, "subjective", "combine_weights")
    o = align_weights(objective, s.index, "objective", "combine_weights", msgs)
    s_values = align_weights(s, s.index, "subjective", "combine_weights", msgs)
    if method == "multiplicative":
        product = s_values * o
        total = float(product.sum())
        if not total > 0:
            raise DataValidationError("combine_weights: no indicator has a positive weight in both vectors, so the "
                                      "multiplicative combination is undefined. Fix: use method='additive'.")
        combined = product / total
    else:
        combined = alpha * s_values + (1.0 - alpha) * o
    return pd.Series(combined, index=pd.Index(s.index, name="indicator"), name="weight")
