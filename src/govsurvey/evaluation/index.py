"""A capacity index per unit (社区能力指数): the evaluation index system is the instrument's own
construct tree (capacity → life-cycle stages → dimensions → items), the indicators its
dimension scores or items, the units the communities respondents belong to — and the index is
set beside the capacity gaps and the interview evidence of each unit.

The pipeline follows the data: the index system from the instrument (:func:`_system`) → the
respondents' indicator values and the unit × indicator matrix (:func:`_matrix`) → subjective
(expert), objective and combined weights (:func:`_subjective`, :func:`_weights_kernel`) → the
index, its ranks and stratified bootstrap intervals (:func:`_score_kernel`) → shortfalls per
unit (:func:`_shortfalls`) → barrier talk per unit (:func:`_barriers`) → the association of
index and interviews (:func:`_association`).

References
----------
Deng, J.-L. (1982). Control problems of grey systems. *Systems & Control Letters*, 1(5), 288–294.
Diakoulaki, D., Mavrotas, G., & Papayannakis, L. (1995). Determining objective weights in
multiple criteria problems: The CRITIC method. *Computers & Operations Research*, 22(7), 763–770.
Fetters, M. D., Curry, L. A., & Creswell, J. W. (2013). Achieving integration in mixed methods
designs. *Health Services Research*, 48(6 Pt 2), 2134–2156.
Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making*. Springer (TOPSIS).
Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.options import MAX_BOOT, choice, real_number, seed_value, whole_number
from govsurvey.errors import DataValidationError, DataWarning, SpecificationError, UnknownItemError, preview
from govsurvey.evaluation.ranking import bootstrap_unit_means, grey_kernel, interval_columns, small_units, topsis_kernel
from govsurvey.evaluation.weights import (
    WEIGHT_SUM_TOL,
    DecisionMatrix,
    as_weight_series,
    critic_kernel,
    decision_matrix,
    entropy_kernel,
    minmax,
)
from govsurvey.instrument.model import Instrument
from govsurvey.results import Result

__all__ = ["CapacityIndex", "capacity_index", "index_indicators", "METHODS", "LEVELS", "OBJECTIVE", "MIN_ASSOCIATION_UNITS",
           "BARRIER_RULE", "WEIGHTINGS"]

METHODS = ("topsis", "weighted_sum", "grey")
LEVELS = ("dimensions", "items")
OBJECTIVE = ("entropy", "critic")
#: Fewer units than this make a unit-level correlation descriptive at best (a warning says so).
MIN_ASSOCIATION_UNITS = 5
#: When a unit's interviews point to barriers on a dimension (the joint display's rule).
BARRIER_RULE = 2 / 3


def _warn(messages: list[str], text: str) -> None:
    """Record a warning for the result and emit it as a :class:`DataWarning` at the caller's line."""
    messages.append(text)
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_globals.get("__name__") in (__name__, "govsurvey.evaluation.weights",
                                                                      "govsurvey.evaluation.ranking"):
        frame, level = frame.f_back, level + 1
    warnings.warn(text, DataWarning, stacklevel=level)


# ------------------------------------------------------------------ result
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class CapacityIndex(Result):
    """A capacity index per unit, beside its shortfalls and interview evidence (see :func:`capacity_index`)."""

    table: pd.DataFrame
    weights: pd.DataFrame
    hierarchy: pd.DataFrame
    values: pd.DataFrame
    association: pd.DataFrame
    evidence: pd.DataFrame | None
    gaps: pd.DataFrame | None
    sensitivity: pd.DataFrame
    sensitivity_ranks: pd.DataFrame
    construct: str
    level: str
    method: str
    weights_method: str
    combine: str | None
    alpha: float
    unit: str
    n_units: int
    n_obs: int
    n_missing: int = 0
    n_boot: int = 0
    ci: float = 0.95
    seed: int | None = None
    n_boot_failed: int = 0
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per unit: n_obs, index, rank (intervals with n_boot), shortfalls, barrier share."""
        return self.table

    def __repr__(self) -> str:
        best = self.table["index"].idxmax()
        best = best.item() if isinstance(best, np.generic) else best
        assoc = ""
        if "barrier_share" in self.association.index:
            row = self.association.loc["barrier_share"]
            assoc = f", rho(index, barrier_share)={row['rho']:.4f} (n_units={int(row['n_units'])})"
        return (f"CapacityIndex(construct={self.construct!r}, level={self.level!r}, method={self.method!r}, "
                f"weights={self.weights_method!r}, indicators={len(self.weights)}, n_units={self.n_units}, n_obs={self.n_obs}, "
                f"best={best!r} (index {self.table['index'].max():.4f}), n_boot={self.n_boot}{assoc}, "
                f"warnings={len(self.warnings)})")


# ------------------------------------------------------------------ the index system
@dataclasses.dataclass(frozen=True, slots=True)
class _System:
    root: str
    indicators: list[str]
    parent: dict[str, str]            # node → parent node, every node below the root
    dimension: dict[str, str]         # indicator → its first-order construct
    low: np.ndarray                   # scale minimum per indicator
    high: np.ndarray                  # scale maximum per indicator
    excluded: tuple[str, ...] = ()    # indicators of the system left out of the index

    def under(self, node: str) -> list[str]:
        """The indicators at or below ``node``."""
        out = []
        for ind in self.indicators:
            n = ind
            while n is not None:
                if n == node:
                    out.append(ind)
                    break
                n = self.parent.get(n)
        return out


def _default_root(inst: Instrument) -> str:
    """The top construct above the importance-rated dimensions, else the first top-level higher-order construct."""
    def top(name: str) -> str:
        while inst.constructs[name].parent is not None:
            name = inst.constructs[name].parent
        return name

    tops = list(dict.fromkeys(top(d) for d in inst.importance_items if d in inst.constructs))
    if len(tops) == 1 and inst.constructs[tops[0]].children:
        return tops[0]
    higher = [n for n in inst.higher_order if inst.constructs[n].parent is None]
    if not higher:
        raise SpecificationError(f"capacity_index: instrument {inst.name!r} has no construct with dimensions, so it defines no "
                                 "index system. Fix: pass construct= a construct whose dimensions are the indicators.")
    return higher[0]


def _system(inst: Instrument, construct: str | None, level: str, exclude: Sequence[str], msgs: list[str]) -> _System:
    root = _default_root(inst) if construct is None else construct
    if root not in inst.constructs:
        raise UnknownItemError(f"capacity_index: construct={root!r} is not a construct of instrument {inst.name!r}. Fix: use "
                               f"one of {preview(inst.higher_order, 8)}.")
    if not inst.constructs[root].children and level == "dimensions":
        raise SpecificationError(f"capacity_index: construct {root!r} has no dimensions. Fix: pass a higher-order construct "
                                 f"({preview(inst.higher_order, 8)}), or level='items'.")
    parent = {c: inst.constructs[c].parent for c in inst.descendants(root)}
    dims = [c for c in inst.descendants(root) if not inst.constructs[c].children] or [root]
    if level == "dimensions":
        indicators, dimension = dims, {d: d for d in dims}
    else:
        indicators = inst.items_of(root)
        dimension = {i: inst.question(i).construct for i in indicators}
        parent.update(dimension)
    unknown = [str(x) for x in exclude if x not in indicators]
    if unknown:
        raise UnknownItemError(f"capacity_index: exclude= names {preview(unknown)}, which are not indicators ({level}) of "
                               f"{root!r}. Fix: name some of {preview(indicators, 12)}.")
    if exclude:
        _warn(msgs, f"capacity_index: indicator(s) {preview(list(exclude))} are left out of the index (exclude=).")
        indicators = [i for i in indicators if i not in set(exclude)]
    if len(indicators) < 2:
        raise DataValidationError(f"capacity_index: {root!r} leaves {len(indicators)} indicator(s); an index needs at least 2. "
                                  "Fix: use level='items', or exclude fewer indicators.")
    scales = {i: [inst.scale_of(q) for q in ([i] if level == "items" else inst.items_of(i))] for i in indicators}
    low = np.array([min(s.min for s in scales[i]) for i in indicators], dtype=float)
    high = np.array([max(s.max for s in scales[i]) for i in indicators], dtype=float)
    return _System(root, indicators, parent, dimension, low, high, tuple(exclude))


def index_indicators(instrument: Instrument, construct: str | None = None, *, level: str = "dimensions") -> tuple[str, list[str]]:
    """The goal and the indicators :func:`capacity_index` uses: the dimensions or items below
    ``construct`` (default: the construct above the importance-rated dimensions).

    >>> import govsurvey as gs
    >>> root, dims = index_indicators(gs.load_instrument(gs.datasets.instrument_path("community_phe_survey")))
    >>> root, dims[:3], len(dims)
    ('capacity', ['plans', 'reserves', 'warning'], 9)
    """
    level = choice(level, "level", LEVELS, where="capacity_index")
    system = _system(instrument, construct, level, [], [])
    return system.root, list(system.indicators)


# ------------------------------------------------------------------ weights
def _subjective(weights: Any, system: _System, msgs: list[str]) -> tuple[np.ndarray | None, str]:
    """Expert (or given) weights spread over the indicators: a weight named for a node of the
    index system goes to the indicators below it in equal shares."""
    if weights is None:
        return None, "equal"
    given = getattr(weights, "global_weights", None)
    label = "ahp" if isinstance(given, pd.Series) else "given"
    series = as_weight_series(given if label == "ahp" else weights, "weights", "capacity_index")
    names = [str(n) for n in series.index]
    known = {*system.indicators, *system.parent, *system.excluded, system.root}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownItemError(f"capacity_index: weights= name(s) {preview(unknown)}, which are not indicators or nodes of the "
                               f"index system under {system.root!r}. Fix: index the weights by indicator or construct name.")
    w = np.zeros(len(system.indicators))
    cover = np.zeros(len(system.indicators), dtype=int)
    for name, value in zip(names, series.to_numpy(dtype=float)):
        below = system.under(name)          # nothing for an excluded indicator: its weight is dropped
        for ind in below:
            k = system.indicators.index(ind)
            w[k] += value / len(below)
            cover[k] += 1
    if (cover > 1).any():
        twice = [system.indicators[k] for k in np.flatnonzero(cover > 1)]
        raise DataValidationError(f"capacity_index: weights= weigh indicator(s) {preview(twice)} twice (a node and a node below "
                                  "it are both named). Fix: give weights for the leaves of the hierarchy only.")
    if (cover == 0).any():
        raise UnknownItemError(f"capacity_index: weights= give no weight for indicator(s) "
                               f"{preview([system.indicators[k] for k in np.flatnonzero(cover == 0)])}. Fix: weigh every "
                               "indicator (or a construct above it).")
    total = float(w.sum())
    if not total > 0:
        raise DataValidationError("capacity_index: the weights= sum to 0. Fix: give at least one indicator a positive weight.")
    if abs(total - 1.0) > WEIGHT_SUM_TOL:
        _warn(msgs, f"capacity_index: the subjective weights of the indicators in the index sum to {total:.6g} (an indicator "
                   "was left out, or the weights were not normalised); they were rescaled to sum to 1.")
    return w / total, label


def _objective(x: np.ndarray, cost: np.ndarray, method: str | None) -> np.ndarray | None:
    """Entropy or CRITIC weights of unit matrices ``x`` (…, units, indicators)."""
    if method is None:
        return None
    z, flat = minmax(x, cost)
    return entropy_kernel(z, flat, 0.0)[2] if method == "entropy" else critic_kernel(z, flat)[3]


def _weights_kernel(x: np.ndarray, s: np.ndarray | None, objective: str | None, combine: str, alpha: float,
                    cost: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The weights used (…, indicators) for unit matrices ``x`` and the objective part."""
    o = _objective(x, cost, objective)
    if o is None:
        return (np.full(x.shape[-1], 1.0 / x.shape[-1]) if s is None else s), None
    if s is None:
        return o, o
    if combine == "multiplicative":
        p = s * o
        with np.errstate(divide="ignore", invalid="ignore"):
            return p / p.sum(axis=-1, keepdims=True), o
    return alpha * s + (1 - alpha) * o, o


def _score_kernel(x: np.ndarray, w: np.ndarray, method: str, system: _System, cost: np.ndarray, rho: float) -> np.ndarray:
    """The index of every unit (…, units): 100 × Σ w_j (x̄_j − min_j)/(max_j − min_j) with the
    scale's range, TOPSIS closeness, or the grey relational grade."""
    if method == "weighted_sum":
        z = (x - system.low) / (system.high - system.low)
        return 100.0 * np.einsum("...ij,...j->...i", z, w)
    if method == "topsis":
        return topsis_kernel(x, w, cost)[-1]
    return grey_kernel(x, w, cost, rho, ("ideal", None))[3]


# ------------------------------------------------------------------ data
def _indicator_values(data: pd.DataFrame, inst: Instrument, system: _System, level: str,
                      scores: pd.DataFrame | None) -> pd.DataFrame:
    if level == "items":
        from govsurvey.scoring import reverse_code

        missing = [i for i in system.indicators if i not in data.columns]
        if missing:
            raise UnknownItemError(f"capacity_index: the data lack item column(s) {preview(missing)}. Fix: read the data with "
                                   "gs.read_responses(path, instrument) so columns carry item ids.")
        return reverse_code(data, inst)[system.indicators]
    if scores is None:
        from govsurvey.scoring import score

        scores = score(data, inst)
    missing = [d for d in system.indicators if d not in scores.columns]
    if missing:
        raise UnknownItemError(f"capacity_index: scores= lack dimension column(s) {preview(missing)}. Fix: pass "
                               "gs.score(data, instrument), or leave scores=None.")
    if not scores.index.equals(data.index):
        raise SpecificationError("capacity_index: scores= must have the data's rows (the same index). Fix: compute them from "
                                 "the same data: gs.score(data, instrument).")
    return scores[system.indicators]


def _unit_column(data: pd.DataFrame, unit: Any) -> pd.Series:
    if not isinstance(unit, str) or unit not in data.columns:
        raise UnknownItemError(f"capacity_index: unit={unit!r} is not a column of the data. Fix: name the column that holds "
                               "each respondent's community (e.g. 'site').")
    return data[unit]


# ------------------------------------------------------------------ joins
def _shortfalls(data: pd.DataFrame, inst: Instrument, system: _System, units: pd.Series, scores: pd.DataFrame | None,
                msgs: list[str]) -> pd.DataFrame | None:
    """capacity_gaps per unit over the index's importance-rated dimensions (None without them)."""
    from govsurvey.integration.gaps import capacity_gaps
    from govsurvey.scoring import score, score_importance

    dims = [d for d in dict.fromkeys(system.dimension.values()) if d in inst.importance_items]
    if not dims or not all(inst.importance_items[d] in data.columns for d in dims):
        return None
    perf = scores if scores is not None and all(d in scores.columns for d in dims) else score(data, inst)
    try:
        return capacity_gaps(perf[dims], importance=score_importance(data, inst)[dims], by=units)
    except DataValidationError as exc:
        _warn(msgs, f"capacity_index: the shortfalls per unit could not be computed ({exc}); the index is given without them.")
        return None


def _unit_shortfalls(gaps: pd.DataFrame | None, units: pd.Index) -> pd.DataFrame:
    if gaps is None:
        return pd.DataFrame(index=units)
    short = gaps.loc[gaps["shortfall"].astype(bool)]
    names = {u: [d for g, d in short.index if g == u] for u in units}
    return pd.DataFrame({"n_shortfalls": [len(names[u]) for u in units], "shortfalls": [", ".join(names[u]) for u in units]},
                        index=units)


def _barriers(codes: Any, unit: str, units: pd.Index, survey: pd.DataFrame, system: _System, labels: Mapping | None,
              coder: str | None, msgs: list[str]) -> pd.DataFrame:
    """Per unit × dimension: interviewees who raised the dimension and who named a barrier of it."""
    from govsurvey.integration.gaps import _match_units, _unit_keys
    from govsurvey.qualitative.coded import CodedInterviews, _primary

    if not isinstance(codes, CodedInterviews):
        raise SpecificationError(f"capacity_index: codes= must be coded interviews (gs.read_codes), got {type(codes).__name__}.")
    if unit not in codes.segments.columns:
        raise UnknownItemError(f"capacity_index: unit={unit!r} is not a case variable of the interviews. Fix: add it to the "
                               f"cases table (case variables: {preview(list(codes.segments.columns[7:])) or 'none'}).")
    _, talk = _match_units(survey, codes.segments, unit, labels, msgs, what="capacity_index")
    seg = _primary(codes, coder)
    book = codes.codebook.set_index("code")
    dims = list(dict.fromkeys(system.dimension.values()))
    dim_of = seg["code"].map(book["dimension"])
    seg = seg.assign(_unit=talk.loc[seg.index], _dim=dim_of, _barrier=seg["code"].map(book["polarity"]) == "barrier")
    seg = seg[seg["_dim"].isin(dims) & seg["_unit"].notna()]
    keys = _unit_keys(pd.Series(list(units), index=units), labels)
    pairs = seg.groupby(["_unit", "_dim", "case"])["_barrier"].any().reset_index()
    cells = pairs.groupby(["_unit", "_dim"])["_barrier"].agg(n_raised="size", n_barrier="sum")
    interviewed = codes.segments.groupby(talk)["case"].nunique()
    rows = []
    for u, key in keys.items():
        for d in dims:
            raised, barrier = cells.loc[(key, d)] if (key, d) in cells.index else (0, 0)
            rows.append({"unit": u, "dimension": d, "n_interviewees": int(interviewed.get(key, 0)),
                         "n_raised": int(raised), "n_barrier": int(barrier)})
    return pd.DataFrame(rows).set_index(["unit", "dimension"])


def _evidence(cells: pd.DataFrame, gaps: pd.DataFrame | None) -> pd.DataFrame:
    """The unit × dimension table: interviews beside the shortfall decision."""
    out = cells.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["barrier_share"] = np.where(out["n_raised"] > 0, out["n_barrier"] / out["n_raised"].replace(0, np.nan), np.nan)
    out["barriers"] = out["barrier_share"] >= BARRIER_RULE
    if gaps is not None:
        flags = gaps["shortfall"].astype(bool)
        out["shortfall"] = [bool(flags.get((u, d), False)) for u, d in out.index]
    return out


def _unit_barriers(evidence: pd.DataFrame, units: pd.Index) -> pd.DataFrame:
    per = evidence.groupby(level="unit", sort=False).agg(n_interviewees=("n_interviewees", "first"),
                                                         n_raised=("n_raised", "sum"), n_barrier=("n_barrier", "sum"))
    per = per.reindex(units)
    with np.errstate(divide="ignore", invalid="ignore"):
        per["barrier_share"] = np.where(per["n_raised"] > 0, per["n_barrier"] / per["n_raised"].replace(0, np.nan), np.nan)
    out = per[["n_interviewees", "barrier_share"]].copy()
    if "shortfall" in evidence.columns:
        confirmed = (evidence["shortfall"] & evidence["barriers"]).groupby(level="unit", sort=False).sum()
        out["n_confirmed"] = confirmed.reindex(units).fillna(0).astype(int)
    return out


def _association(table: pd.DataFrame, msgs: list[str]) -> pd.DataFrame:
    """Spearman's ρ of the index with the barrier share and with the number of shortfalls, across units."""
    rows = []
    for column in ("barrier_share", "n_shortfalls"):
        if column not in table.columns:
            continue
        both = table[["index", column]].astype(float).dropna()
        n = len(both)
        if n >= 3 and both["index"].nunique() > 1 and both[column].nunique() > 1:
            rho, p = stats.spearmanr(both["index"], both[column])
            rho, p = float(rho), float(p)
        else:
            rho, p = math.nan, math.nan
        if n < MIN_ASSOCIATION_UNITS:
            what = "unit(s) with interviews" if column == "barrier_share" else "unit(s)"
            _warn(msgs, f"capacity_index: the association of the index with {column} rests on {n} {what} (fewer than "
                       f"{MIN_ASSOCIATION_UNITS}); read it as a description, not as evidence.")
        rows.append({"with": column, "n_units": n, "rho": rho, "p": p})
    return pd.DataFrame(rows, columns=["with", "n_units", "rho", "p"]).set_index("with")


# ------------------------------------------------------------------ the public function
def capacity_index(data: pd.DataFrame, instrument: Instrument, *, unit: str, construct: str | None = None,
                   level: str = "dimensions", weights: Any = None, objective: str | None = None,
                   combine: str = "multiplicative", alpha: float = 0.5, method: str = "topsis", rho: float = 0.5,
                   scores: pd.DataFrame | None = None, exclude: Sequence[str] = (), importance: bool = True,
                   codes: Any = None, labels: Mapping[Any, Any] | None = None, coder: str | None = None,
                   n_boot: int = 0, seed: int | None = None, ci: float = 0.95) -> CapacityIndex:
    """A capacity index per unit (community) from the instrument's own index system, with
    bootstrap intervals, the unit's shortfalls and its interviewees' barrier talk.

    Parameters
    ----------
    data
        One row per respondent as read (``gs.read_responses``, screened: ``screen(...).clean``):
        the items in raw keying and the ``unit`` column.
    instrument
        The :class:`~govsurvey.Instrument`: its construct tree is the index system.
    unit
        The column giving each respondent's unit (e.g. ``"site"``, the community).
    construct
        The goal of the index system (default: the construct above the importance-rated
        dimensions, e.g. ``"capacity"``; else the first top-level higher-order construct).
    level
        ``"dimensions"``: the indicators are the first-order constructs below ``construct``,
        scored as item means (``gs.score``, or ``scores=``); ``"items"``: its items, reverse
        keys applied.
    weights
        Subjective (expert) weights: ``None`` (none: equal weights unless ``objective``); an
        :class:`~govsurvey.AHP` result (its global weights over the leaf criteria); or a Series
        or dict by indicator or by node of the hierarchy. A weight given for a node above the
        indicators (a stage, or a dimension at ``level="items"``) goes to the indicators below
        it in equal shares; weights are rescaled to sum 1 over the indicators kept, with a
        warning when they did not. ``"entropy"`` or ``"critic"`` is short for
        ``objective=`` that method without subjective weights.
    objective
        ``"entropy"`` or ``"critic"``: objective weights from the unit × indicator matrix
        (:func:`govsurvey.objective_weights`), recomputed on every bootstrap resample.
    combine, alpha
        How subjective and objective weights combine (:func:`govsurvey.combine_weights`):
        ``"multiplicative"`` s·o / Σ s·o, or ``"additive"`` α s + (1 − α) o.
    method
        ``"topsis"`` (closeness to the ideal unit, 0–1; Hwang & Yoon, 1981), ``"weighted_sum"``
        (100 × Σ w_j (x̄_j − scale min)/(scale max − scale min): 0–100 on the questionnaire's
        own scale, so a unit's index does not depend on the other units) or ``"grey"`` (grey
        relational grade with the ideal unit; Deng, 1982; ``rho`` its distinguishing coefficient).
    scores
        Construct scores of ``data`` (same rows) to use instead of ``gs.score(data, instrument)``
        — e.g. those of a study with its own ``min_valid``.
    exclude
        Indicators to leave out (e.g. those a Delphi round did not keep).
    importance
        With importance ratings in the instrument and the data: capacity gaps per unit
        (:func:`govsurvey.capacity_gaps` with ``by=unit``) and each unit's shortfall dimensions.
    codes, labels, coder
        Coded interviews (:func:`govsurvey.read_codes`) whose case variable ``unit`` names the
        interviewee's unit; ``labels`` maps survey codes to the interviews' names (as
        :func:`govsurvey.link_codes`); ``coder`` the coder whose codes are used (default the first).
    n_boot, seed, ci
        Stratified bootstrap: respondents resampled within each unit, the unit means, the
        objective weights and the index recomputed for every resample at once; percentile
        intervals at level ``ci``.

    Returns
    -------
    CapacityIndex
        ``table`` — one row per unit: ``n_obs``, ``index``, ``rank`` (1 = highest), with
        ``n_boot``: ``ci_low``, ``ci_high``, ``rank_low``, ``rank_high``; with importance
        ratings: ``n_shortfalls``, ``shortfalls`` (the dimensions, comma-separated); with
        ``codes``: ``n_interviewees``, ``barrier_share`` (of the dimensions each of the unit's
        interviewees raised, the share raised with a barrier code, pooled over them) and, with
        both, ``n_confirmed`` (shortfall dimensions on which the unit's interviews point to
        barriers: ≥ 2/3 of those raising it, the joint display's rule). ``weights`` — per
        indicator: ``dimension``, ``subjective``, ``objective``, ``weight`` (used).
        ``hierarchy`` — per node below the goal: ``parent``, ``level``, ``leaf``, ``local_weight``,
        ``weight`` (global), ``subjective``, ``objective`` (sums over the indicators below).
        ``values`` — unit × indicator means. ``association`` — Spearman's ρ of the index with
        ``barrier_share`` and with ``n_shortfalls`` across units: ``n_units``, ``rho``, ``p``
        (a warning below :data:`MIN_ASSOCIATION_UNITS` units). ``evidence`` — per unit ×
        dimension: ``n_interviewees``, ``n_raised``, ``n_barrier``, ``barrier_share``,
        ``barriers``, ``shortfall`` (None without codes). ``gaps`` — capacity_gaps by unit.
        ``sensitivity`` — the ranking under other weightings of the same indicators (rows, those
        of :data:`WEIGHTINGS` that exist and differ from the weights used: ``subjective`` expert
        weights only, ``objective`` only, the ``multiplicative`` and the ``additive`` (α = 0.5)
        combination, ``equal`` weights): ``rho`` (Spearman's ρ with the index used, across
        units), ``top`` and ``bottom`` (the units ranked first and last), ``same_top`` and
        ``same_bottom`` (whether the index's first and last unit keep their place),
        ``max_shift`` (the largest change of a unit's rank); ``sensitivity_ranks`` — unit ×
        weighting ranks (``used`` first).
        ``construct``, ``level``, ``method``, ``weights_method`` ("equal", "given", "ahp",
        "entropy", "critic", or e.g. "ahp × entropy"), ``combine``, ``alpha``, ``unit``,
        ``n_units``, ``n_obs``, ``n_missing`` (indicator values missing: unit means are over
        those given), ``n_boot``, ``ci``, ``seed``, ``n_boot_failed``, ``warnings``.

    Notes
    -----
    TOPSIS and the grey grade are relative: a unit's index says how close it is to the best of
    these units, not how much capacity it has on any absolute scale (``"weighted_sum"`` is the
    absolute one). The bootstrap intervals hold the subjective (expert) weights fixed — their
    uncertainty is not in the intervals; objective weights are recomputed in every resample.
    ``sensitivity`` shows how much the ranking owes to the choice of weights.

    Does the index rank lowest the communities whose interviews name barriers? Then ρ(index,
    barrier share) is negative. With a dozen communities, two interviewees each, the answer is
    a description of those communities, not a test of a population: the report says so.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> files = gs.datasets.example_files()
    >>> clean = gs.screen(gs.read_responses(files["xlsx"], inst), inst).clean
    >>> codes = gs.read_codes(files["qdpx"], codebook=files["codebook"])
    >>> res = gs.capacity_index(clean, inst, unit="site", objective="entropy", codes=codes, n_boot=200, seed=1)
    >>> res.table[["index", "ci_low", "ci_high", "rank", "barrier_share"]].sort_values("rank").round(3).head(3)
           index  ci_low  ci_high  rank  barrier_share
    site
    光明社区   0.919   0.720    0.969     1            NaN
    幸福里社区  0.772   0.556    0.889     2          0.286
    东风社区   0.671   0.472    0.805     3          0.357
    >>> res.association.round(3)          # Spearman's ρ across units: lower index, more barrier talk
                   n_units    rho      p
    with
    barrier_share       10 -0.640  0.046
    n_shortfalls        12 -0.306  0.334

    With the experts' AHP weights combined with the entropy weights (组合赋权):

    >>> expert = gs.ahp(gs.read_ahp(files["ahp"], inst).matrices)    # E04's pre-event matrix has CR > .10: warned
    >>> both = gs.capacity_index(clean, inst, unit="site", weights=expert, objective="entropy")
    >>> both.weights_method, round(float(both.weights["weight"].sum()), 12)
    ('ahp × entropy', 1.0)
    """
    msgs: list[str] = []
    level = choice(level, "level", LEVELS, where="capacity_index")
    method = choice(method, "method", METHODS, where="capacity_index")
    combine = choice(combine, "combine", ("multiplicative", "additive"), where="capacity_index")
    alpha = real_number(alpha, "alpha", low=0, high=1, what="a share", example=0.5, where="capacity_index")
    rho = real_number(rho, "rho", low=0, high=1, inclusive=(False, True), what="a distinguishing coefficient", example=0.5,
                      where="capacity_index")
    n_boot = whole_number(n_boot, "n_boot", low=0, high=MAX_BOOT, where="capacity_index")
    seed = seed_value(seed, where="capacity_index")
    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95, where="capacity_index")
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"capacity_index: data must be a DataFrame of respondents, got {type(data).__name__}.")
    if not isinstance(instrument, Instrument):
        raise SpecificationError(f"capacity_index: instrument must be a govsurvey Instrument, got {type(instrument).__name__}.")
    if isinstance(weights, str):
        if objective is not None:
            raise SpecificationError(f"capacity_index: weights={weights!r} and objective={objective!r} both ask for objective "
                                     "weights. Fix: give expert weights in weights= and the method in objective=.")
        weights, objective = None, choice(weights, "weights", OBJECTIVE, where="capacity_index")
    objective = None if objective is None else choice(objective, "objective", OBJECTIVE, where="capacity_index")
    system = _system(instrument, construct, level, list(exclude), msgs)
    s, s_label = _subjective(weights, system, msgs)
    units = _unit_column(data, unit)
    frame = _indicator_values(data, instrument, system, level, scores)
    m = decision_matrix(frame, by=units, what="capacity_index")
    msgs.extend(m.warnings)
    opts = _Options(unit=unit, level=level, method=method, objective=objective, combine=combine, alpha=alpha, rho=rho,
                    importance=importance, labels=labels, coder=coder, n_boot=n_boot, seed=seed, ci=ci)
    return _finish(data, instrument, system, m, s, s_label, units, opts, scores, codes, msgs)


@dataclasses.dataclass(frozen=True, slots=True)
class _Options:
    unit: str
    level: str
    method: str
    objective: str | None
    combine: str
    alpha: float
    rho: float
    importance: bool
    labels: Mapping | None
    coder: str | None
    n_boot: int
    seed: int | None
    ci: float


def _finish(data: pd.DataFrame, inst: Instrument, system: _System, m: DecisionMatrix, s: np.ndarray | None, s_label: str,
            units: pd.Series, o: _Options, scores: pd.DataFrame | None, codes: Any, msgs: list[str]) -> CapacityIndex:
    cost = np.zeros(len(system.indicators), dtype=bool)
    w, obj = _weights_kernel(m.values, s, o.objective, o.combine, o.alpha, cost)
    if not np.isfinite(w).all():
        raise DataValidationError("capacity_index: no indicator varies across the units, so objective weights are undefined. "
                                  "Fix: check the unit column (are the units' answers different?), or drop objective=.")
    index = _score_kernel(m.values, w, o.method, system, cost, o.rho)
    if not np.isfinite(index).all():
        raise DataValidationError("capacity_index: every unit has the same means on every indicator, so the index is undefined. "
                                  "Fix: check the data and the unit column.")
    table = pd.DataFrame({"n_obs": [len(k) for k in m.members], "index": index}, index=m.units)
    table["rank"] = table["index"].rank(ascending=False, method="min").astype(int)
    failed = _bootstrap(table, m, s, system, cost, o, msgs) if o.n_boot else 0
    gaps = _shortfalls(data, inst, system, units, scores, msgs) if o.importance else None
    table = table.join(_unit_shortfalls(gaps, m.units))
    evidence = None
    if codes is not None:
        cells = _barriers(codes, o.unit, m.units, pd.DataFrame({o.unit: units}), system, o.labels, o.coder, msgs)
        evidence = _evidence(cells, gaps)
        table = table.join(_unit_barriers(evidence, m.units))
    association = _association(table, msgs)
    sensitivity, sensitivity_ranks = _sensitivity(m, s, obj, w, o, system, cost, table["index"])
    parts = [x for x in ((s_label if s is not None else None), o.objective) if x]
    label = (" × " if o.combine == "multiplicative" else " + ").join(parts) or "equal"
    weights, hierarchy = _weight_tables(system, s, obj, w)
    return CapacityIndex(table=table, weights=weights, hierarchy=hierarchy,
                         values=pd.DataFrame(m.values, index=m.units, columns=pd.Index(system.indicators, name="indicator")),
                         association=association, evidence=evidence, gaps=gaps, sensitivity=sensitivity,
                         sensitivity_ranks=sensitivity_ranks, construct=system.root, level=o.level,
                         method=o.method, weights_method=label, combine=o.combine if len(parts) == 2 else None,
                         alpha=o.alpha, unit=o.unit, n_units=len(m.units), n_obs=m.n_obs,
                         n_missing=int(np.isnan(m.rows).sum()) if m.rows is not None else 0, n_boot=o.n_boot, ci=o.ci,
                         seed=o.seed, n_boot_failed=failed, warnings=tuple(msgs))


#: The weightings the ranking is recomputed under (:func:`_sensitivity`), in report order.
WEIGHTINGS = ("subjective", "objective", "multiplicative", "additive", "equal")


def _sensitivity(m: DecisionMatrix, s: np.ndarray | None, obj: np.ndarray | None, w: np.ndarray, o: _Options,
                 system: _System, cost: np.ndarray, used: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The index recomputed under other weightings of the same indicators — expert weights only,
    objective only, the multiplicative and the additive (α = 0.5) combination, equal weights —
    each one's ranks beside those of the weights used, and its agreement with them."""
    p = s * obj if s is not None and obj is not None else None
    candidates = {"subjective": s, "objective": obj, "multiplicative": p / p.sum() if p is not None else None,
                  "additive": 0.5 * s + 0.5 * obj if p is not None else None,
                  "equal": np.full(len(w), 1.0 / len(w))}
    schemes = {k: v for k, v in candidates.items() if v is not None and not np.allclose(v, w, rtol=0, atol=1e-12)}
    ranks = {"used": used.rank(ascending=False, method="min").astype(int)}
    rows = []
    top, bottom = ranks["used"].idxmin(), ranks["used"].idxmax()
    for name, weights in schemes.items():
        index = pd.Series(_score_kernel(m.values, weights, o.method, system, cost, o.rho), index=used.index)
        if not np.isfinite(index).all():
            continue
        rank = index.rank(ascending=False, method="min").astype(int)
        ranks[name] = rank
        rho = float(stats.spearmanr(used, index)[0]) if index.nunique() > 1 and used.nunique() > 1 else math.nan
        rows.append({"weighting": name, "rho": rho, "top": rank.idxmin(), "bottom": rank.idxmax(),
                     "same_top": bool(rank[top] == 1), "same_bottom": bool(rank[bottom] == rank.max()),
                     "max_shift": int((rank - ranks["used"]).abs().max())})
    summary = pd.DataFrame(rows, columns=["weighting", "rho", "top", "bottom", "same_top", "same_bottom", "max_shift"])
    return summary.set_index("weighting"), pd.DataFrame(ranks).rename_axis(columns="weighting")


def _bootstrap(table: pd.DataFrame, m: DecisionMatrix, s: np.ndarray | None, system: _System, cost: np.ndarray,
               o: _Options, msgs: list[str]) -> int:
    """Percentile intervals of the index and ranks over stratified resamples (all at once, in batches)."""
    small_units(m, "capacity_index", msgs, _warn)
    boot = np.concatenate([
        _score_kernel(x, _weights_kernel(x, s, o.objective, o.combine, o.alpha, cost)[0], o.method, system, cost, o.rho)
        for x in bootstrap_unit_means(m, o.n_boot, o.seed)], axis=0)
    return interval_columns(table, boot, o.ci, msgs, "capacity_index", "index")


def _weight_tables(system: _System, s: np.ndarray | None, o: np.ndarray | None, w: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    nan = np.full(len(w), np.nan)
    weights = pd.DataFrame({"dimension": [system.dimension[i] for i in system.indicators],
                            "subjective": s if s is not None else nan, "objective": o if o is not None else nan, "weight": w},
                           index=pd.Index(system.indicators, name="indicator"))
    nodes = [n for n in system.parent if system.under(n)]
    if system.root in nodes:
        nodes.remove(system.root)
    rows = []
    for n in nodes:
        below = [system.indicators.index(i) for i in system.under(n)]
        parent = system.parent[n]
        depth, p = 1, parent
        while p is not None and p != system.root:
            depth, p = depth + 1, system.parent.get(p)
        up = [system.indicators.index(i) for i in system.under(parent)] if parent != system.root else list(range(len(w)))
        rows.append({"node": n, "parent": parent, "level": depth, "leaf": n in system.indicators,
                     "local_weight": float(w[below].sum() / w[up].sum()) if w[up].sum() > 0 else math.nan,
                     "weight": float(w[below].sum()), "subjective": float(s[below].sum()) if s is not None else math.nan,
                     "objective": float(o[below].sum()) if o is not None else math.nan})
    return weights, pd.DataFrame(rows).set_index("node")
