"""Fuzzy comprehensive evaluation (模糊综合评价) from Likert answers: the membership matrix is
the share of respondents choosing each category, composed with the indicator weights into an
evaluation vector, graded by maximum membership and scored; one level, or two levels
(多级模糊综合评价) with indicators grouped into dimensions.

References
----------
Zadeh, L. A. (1965). Fuzzy sets. *Information and Control*, 8(3), 338–353.
汪培庄 (1983). 模糊集合论及其应用. 上海科学技术出版社.
谢季坚, 刘承平 (2013). 模糊数学方法及其应用（第4版）. 华中科技大学出版社.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.data.options import choice
from govsurvey.errors import DataValidationError, OutOfRangeError, SpecificationError, UnknownItemError, preview
from govsurvey.evaluation.weights import _by_codes, _indicator_values, align_weights
from govsurvey.instrument.model import Instrument
from govsurvey.psychometrics._input import warn
from govsurvey.results import Result

__all__ = ["FuzzyEvaluation", "fuzzy_evaluation", "OPERATORS", "OVERALL", "BORDERLINE_MARGIN"]

OPERATORS = ("M(·,⊕)", "M(∧,∨)", "M(·,∨)", "M(∧,⊕)")
"""Composition operators: weighted average (加权平均型), Zadeh's max–min (主因素决定型),
max–product (主因素突出型), bounded sum of minima (取小上界和型)."""
_ALIASES = {"weighted": "M(·,⊕)", "M(*,+)": "M(·,⊕)", "M(.,+)": "M(·,⊕)", "M(•,⊕)": "M(·,⊕)",
            "maxmin": "M(∧,∨)", "M(^,v)": "M(∧,∨)", "M(min,max)": "M(∧,∨)",
            "maxproduct": "M(·,∨)", "M(*,v)": "M(·,∨)", "M(.,v)": "M(·,∨)",
            "boundedsum": "M(∧,⊕)", "M(^,+)": "M(∧,⊕)", "M(min,+)": "M(∧,⊕)"}
OVERALL = "(all)"
"""The label of the whole-sample row beside the units."""
TIE_RTOL = 1e-12
BORDERLINE_MARGIN = 0.01
"""A maximum-membership grade whose largest membership exceeds the next largest by less than
this is flagged ``borderline``: a few answers either way would change the grade."""


# ------------------------------------------------------------------ composition
def compose(w: np.ndarray, r: np.ndarray, operator: str) -> np.ndarray:
    """B = W ∘ R for weights ``w`` (J,) and membership ``r`` (…, J, K) under ``operator``
    (before normalisation)."""
    if operator == "M(·,⊕)":
        return np.einsum("j,...jk->...k", w, r)
    if operator == "M(∧,∨)":
        return np.minimum(w[:, None], r).max(axis=-2)
    if operator == "M(·,∨)":
        return (w[:, None] * r).max(axis=-2)
    return np.minimum(1.0, np.minimum(w[:, None], r).sum(axis=-2))


def _normalised(raw: np.ndarray, operator: str, what: str) -> np.ndarray:
    if operator == "M(·,⊕)":     # Σ_k b_k = Σ_j w_j = 1 already
        return raw
    total = raw.sum(axis=-1, keepdims=True)
    if not (total > 0).all():
        raise DataValidationError(f"{what}: the composed vector is all zeros under {operator} (weights or memberships are "
                                  "0 throughout). Fix: check the weights.")
    return raw / total


# ------------------------------------------------------------------ inputs
def _indicators(data: pd.DataFrame, instrument: Instrument | None, column: Any, what: str) -> list:
    cols = [c for c in data.columns if column is None or c != column]
    if instrument is None:
        return cols
    items = [i for i in instrument.construct_items if i in cols]
    if not items:
        raise UnknownItemError(f"{what}: none of the data's columns is a construct item of instrument {instrument.name!r}. "
                               "Fix: read the data with gs.read_responses(path, instrument) so columns carry item ids.")
    return items


def _levels(values: np.ndarray, levels: Any, instrument: Instrument | None, items: list, lang: str, what: str,
            msgs: list[str]) -> tuple[tuple, tuple]:
    """(codes, labels) of the evaluation set (评语集)."""
    if levels is not None:
        if isinstance(levels, Mapping):
            codes, labels = tuple(levels), tuple(levels.values())
        else:
            codes = tuple(levels)
            labels = codes
        if not all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool) for c in codes):
            raise SpecificationError(f"{what}: the level codes must be numbers (the answers' codes), got "
                                     f"{preview([repr(c) for c in codes])}. Fix: to label the levels pass a mapping "
                                     "code → label, e.g. levels={1: '很差', 2: '较差', 3: '一般', 4: '较好', 5: '很好'}.")
    elif instrument is not None:
        if lang not in instrument.languages:
            raise UnknownItemError(f"{what}: lang={lang!r} is not a language of instrument {instrument.name!r}; it has "
                                   f"{', '.join(instrument.languages)}. Fix: pass lang= one of them.")
        scales = {instrument.scale_of(i).name: instrument.scale_of(i) for i in items}
        code_sets = {name: sc.codes for name, sc in scales.items()}
        if len(set(code_sets.values())) > 1:
            raise DataValidationError(f"{what}: the items use scales with different codes ({preview(list(code_sets))}), but "
                                      "a fuzzy evaluation needs one evaluation set. Fix: evaluate items of one scale "
                                      "together, or pass levels= explicitly.")
        sc = next(iter(scales.values()))
        codes = sc.codes
        labels = tuple(sc.labels.get(lang, {}).get(c, c) for c in codes)
    else:
        seen = np.unique(values[~np.isnan(values)])
        whole = seen.size and np.all(seen == np.round(seen)) and seen.min() >= 1
        codes = tuple(range(1, int(seen.max()) + 1)) if whole else tuple(seen.tolist())
        labels = codes
        _check_ranges(values, items, codes, what, msgs)
    if len(codes) < 2 or len(set(codes)) < len(codes) or len(set(labels)) < len(labels):
        raise SpecificationError(f"{what}: levels= must give at least two distinct codes with distinct labels, got "
                                 f"{preview(list(zip(codes, labels)))}. Fix: e.g. levels={{1: '很差', 2: '较差', 3: '一般', "
                                 "4: '较好', 5: '很好'}.")
    return codes, labels


def _check_ranges(values: np.ndarray, items: list, codes: tuple, what: str, msgs: list[str]) -> None:
    """The evaluation set inferred from the answers is shared by every indicator: refuse
    indicators whose observed ranges do not overlap (two scales), warn when an indicator's
    answers all lie below the middle of the inferred set (perhaps a shorter scale)."""
    if len(items) < 2 or len(codes) < 2:
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    ok = np.isfinite(lo)
    if ok.sum() < 2:
        return
    ranges = [f"{items[j]} {lo[j]:g}–{hi[j]:g}" for j in np.flatnonzero(ok)]
    if np.nanmax(lo[ok]) > np.nanmin(hi[ok]):
        raise DataValidationError(f"{what}: the indicators' answers do not overlap ({preview(ranges)}), so they are on "
                                  f"different scales and one evaluation set (here {codes[0]:g}–{codes[-1]:g}, {len(codes)} "
                                  "levels) cannot serve them all. Fix: evaluate the indicators of each scale separately, or "
                                  "pass levels= (and recode the answers to it).")
    middle = (float(codes[0]) + float(codes[-1])) / 2
    low = [items[j] for j in np.flatnonzero(ok) if hi[j] < middle]
    if low:
        warn(msgs, f"{what}: no levels= and no instrument, so the evaluation set is taken from the answers as "
                   f"{codes[0]:g}–{codes[-1]:g} ({len(codes)} levels) for every indicator, but {preview(map(str, low))} "
                   f"answer only in its lower half ({preview(ranges)}), as a shorter scale would. If the indicators share "
                   "one scale, pass levels= to say so; if not, evaluate them separately.")


def _level_index(values: np.ndarray, codes: tuple, items: list, what: str) -> np.ndarray:
    """Each answer's level position (−1: no answer); answers that are no level refused by name."""
    c = np.asarray(codes, dtype=float)
    order = np.argsort(c)
    pos = np.clip(np.searchsorted(c[order], values), 0, len(c) - 1)
    idx = order[pos]
    answered = ~np.isnan(values)
    bad = answered & (c[idx] != values)
    if bad.any():
        cells = [f"{items[j]}={values[i, j]:g}" for i, j in np.argwhere(bad)]
        raise OutOfRangeError(f"{what}: {len(cells)} answer(s) are not levels of the evaluation set "
                              f"{preview([str(x) for x in codes])}: {preview(sorted(set(cells)))}. Fix: pass levels= with every "
                              "code used, or recode the answers (missing-value codes should be blank).")
    return np.where(answered, idx, -1)


def _scores(scores: Any, codes: tuple, what: str) -> np.ndarray:
    if scores is None:
        try:
            return np.asarray(codes, dtype=float)
        except (TypeError, ValueError):
            raise SpecificationError(f"{what}: the levels are not numbers, so scores= must give each level's score. "
                                     "Fix: e.g. scores=(20, 40, 60, 80, 100).") from None
    values = [scores.get(c) for c in codes] if isinstance(scores, Mapping) else list(scores)
    ok = len(values) == len(codes) and all(v is not None and np.isfinite(float(v)) for v in values)
    if not ok:
        raise SpecificationError(f"{what}: scores= must give one finite score per level ({len(codes)} levels: "
                                 f"{preview([str(c) for c in codes])}). Fix: e.g. scores=(20, 40, 60, 80, 100).")
    return np.asarray(values, dtype=float)


def _groups(groups: Any, instrument: Instrument | None, items: list, what: str) -> list | None:
    """The dimension of each indicator (in indicator order), or None for a one-level evaluation."""
    if groups is False or (groups is None and instrument is None):
        return None
    if groups is None:
        return [instrument.question(i).construct for i in items]
    if not isinstance(groups, Mapping):
        raise SpecificationError(f"{what}: groups= must map each indicator to its dimension (or each dimension to its "
                                 f"indicators), got {type(groups).__name__}. Fix: e.g. groups={{'PL1': 'plans', ...}}.")
    if groups and all(isinstance(v, Iterable) and not isinstance(v, str) for v in groups.values()):
        groups = {i: dim for dim, members in groups.items() for i in members}
    unknown = [str(i) for i in groups if i not in items]
    unmapped = [str(i) for i in items if i not in groups]
    if unknown or unmapped:
        parts = ([f"{preview(unknown)} not indicators of the data"] if unknown else []) + (
            [f"no dimension for {preview(unmapped)}"] if unmapped else [])
        raise UnknownItemError(f"{what}: groups= does not match the indicators ({'; '.join(parts)}). Fix: map every "
                               "indicator column to one dimension.")
    return [groups[i] for i in items]


# ------------------------------------------------------------------ result
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class FuzzyEvaluation(Result):
    """A fuzzy comprehensive evaluation (see :func:`fuzzy_evaluation`)."""

    table: pd.DataFrame
    vector: pd.DataFrame
    raw_vector: pd.DataFrame
    grade: pd.Series
    score: pd.Series
    membership: pd.DataFrame
    n_answers: pd.Series
    dimensions: pd.DataFrame | None
    weights: pd.Series
    dimension_weights: pd.Series | None
    groups: pd.Series | None
    levels: tuple
    labels: tuple
    scores: tuple
    operator: str
    n_obs: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per unit and the whole sample: the vector B by level, grade, score, n_obs, tied."""
        return self.table

    def __repr__(self) -> str:
        levels = "two-level" if self.dimensions is not None else "one-level"
        grade = self.grade[OVERALL]
        grade = grade.item() if isinstance(grade, np.generic) else grade
        return (f"FuzzyEvaluation({levels}, operator={self.operator!r}, indicators={len(self.weights)}, levels={len(self.levels)}, "
                f"units={len(self.table) - 1}, n_obs={self.n_obs}, overall grade={grade!r}, "
                f"score={self.score[OVERALL]:.4f})")


def _grade(vectors: np.ndarray, labels: tuple, scores: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
    """Grade (the first level of maximum membership), whether the maximum is shared, and the score."""
    top = vectors.max(axis=-1, keepdims=True)
    tied = (vectors >= top * (1 - TIE_RTOL)).sum(axis=-1) > 1
    grade = [labels[k] for k in np.argmax(vectors, axis=-1).ravel()]
    return grade, tied, vectors @ scores


def _margin(vectors: np.ndarray) -> np.ndarray:
    """The largest membership less the next largest (0 when tied)."""
    top2 = np.sort(vectors, axis=-1)[..., -2:]
    return top2[..., 1] - top2[..., 0]


def _frame(b: np.ndarray, rows: pd.Index, labels: tuple, extra: dict) -> pd.DataFrame:
    out = pd.DataFrame(b.reshape(-1, len(labels)), index=rows, columns=pd.Index(labels, name="level"))
    for k, v in extra.items():
        out[k] = v
    if extra:
        out.columns.name = None
    return out


# ------------------------------------------------------------------ the evaluation
def fuzzy_evaluation(data: pd.DataFrame, instrument: Instrument | None = None, weights: Any = None, *, by: Any = None,
                     levels: Any = None, scores: Any = None, groups: Any = None, dimension_weights: Any = None,
                     operator: str = "M(·,⊕)", lang: str = "zh", recode_reverse: bool = True) -> FuzzyEvaluation:
    """Fuzzy comprehensive evaluation (模糊综合评价) of Likert answers, for the whole sample and
    per unit (community); one level, or two levels with indicators grouped into dimensions.

    Parameters
    ----------
    data
        One row per respondent, one column per indicator holding its Likert code (1..K), and
        the ``by`` column if named. With ``instrument``, the indicators are the instrument's
        construct items found in the data (other columns are ignored).
    instrument
        An :class:`~govsurvey.Instrument`: the evaluation set (评语集) is the items' scale with its
        labels in ``lang``, the dimensions are the items' constructs (unless ``groups=``), and
        reverse-keyed items are recoded (min + max − x; the data are taken in raw keying, as
        :func:`govsurvey.score` takes them; ``recode_reverse=False`` for data already recoded).
    weights
        Indicator weights (Series or dict by indicator, or a result with a ``weights`` Series);
        ``None`` for equal weights. One level: rescaled to sum 1 (with a warning when they did
        not). Two levels: rescaled to sum 1 within each dimension (local weights).
    by
        The column (name) or a Series / array giving each respondent's unit.
    levels
        The evaluation set: a mapping code → label (e.g. ``{1: "很差", …, 5: "很好"}``) or a
        sequence of codes. Default: the instrument's scale, or 1..max of the codes observed
        (every integer ≥ 1; otherwise the distinct values observed), one set for every
        indicator: indicators whose observed answers do not overlap (8–21 beside 1–3: two
        scales) are refused, and a warning names indicators answered only below the middle of
        the inferred set (1–3 beside 1–21) — pass ``levels=`` to state the scale.
    scores
        Each level's score for the weighted score S = B · scores: a sequence in level order or a
        mapping code → score (e.g. ``(20, 40, 60, 80, 100)``); default the codes.
    groups
        Indicator → dimension (or dimension → list of indicators) for the two-level evaluation;
        ``False`` for one level even with an instrument.
    dimension_weights
        Weights of the dimensions (Series or dict). Default: each dimension's share of the
        indicator weights (with equal indicator weights, its share of the indicators), which
        makes the weighted-average two-level vector equal the one-level one.
    operator
        ``"M(·,⊕)"`` weighted average (default), ``"M(∧,∨)"`` max–min (Zadeh), ``"M(·,∨)"``
        max–product, ``"M(∧,⊕)"`` bounded sum min(1, Σ_j min(w_j, r_jk)). ASCII aliases:
        ``"weighted"``, ``"maxmin"``, ``"maxproduct"``, ``"boundedsum"``.
    lang
        The language of the instrument's labels.

    Returns
    -------
    FuzzyEvaluation
        ``table`` (one row per unit and a last row ``"(all)"`` for the whole sample: b for each
        level, ``grade``, ``score``, ``n_obs``, ``tied``, ``margin`` — the largest membership
        less the next largest — and ``borderline``, margin < :data:`BORDERLINE_MARGIN`); ``vector`` (B, normalised to sum 1)
        and ``raw_vector`` (B before normalisation) with the same rows; ``grade`` and ``score``
        (Series); ``membership`` (R: indicators × levels; with ``by``, indexed by unit and
        indicator) and ``n_answers`` (answers behind each row of R); ``dimensions`` (two
        levels: each dimension's vector B_g, ``grade``, ``score`` and ``weight``, indexed by
        unit and dimension; else None); ``weights`` (local within dimensions when two-level),
        ``dimension_weights``, ``groups``; ``levels``, ``labels``, ``scores``, ``operator``,
        ``n_obs``, ``warnings``.

    Notes
    -----
    r_jk = (respondents answering indicator j with level k)/(respondents answering j): missing
    answers are left out per indicator (n in ``n_answers``), and a level nobody chose gets 0.
    Composition b_k: M(·,⊕) Σ_j w_j r_jk; M(∧,∨) max_j min(w_j, r_jk); M(·,∨) max_j w_j r_jk;
    M(∧,⊕) min(1, Σ_j min(w_j, r_jk)). M(·,⊕) gives Σ_k b_k = 1; the others are normalised to
    sum 1 (``raw_vector`` keeps them as composed, as textbooks print them). Two levels: B_g =
    W_g ∘ R_g within each dimension (normalised), then B = A ∘ [B_1; …; B_G] with the dimension
    weights A, by the same operator. The grade is the level of maximum membership; when the
    maximum is shared (within a relative 1e-12) the first tied level in the order of
    ``levels`` is given, ``tied`` is True and a warning says so (the weighted score is then the
    better summary). When the two largest memberships differ by less than
    :data:`BORDERLINE_MARGIN` (0.01) the grade is ``borderline``: a difference that small (.389
    against .388) is within what a few answers change, so the grade should be read with the
    score. S = Σ_k b_k s_k.

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.fuzzy import fuzzy_evaluation
    >>> d = pd.DataFrame({"q1": [5, 4, 4, 3, 5, 4], "q2": [2, 3, 3, 4, 3, 4], "site": list("AAABBB")})
    >>> res = fuzzy_evaluation(d, weights={"q1": 0.6, "q2": 0.4}, by="site",
    ...                        levels={1: "很差", 2: "较差", 3: "一般", 4: "较好", 5: "很好"})
    >>> res.vector.round(4)
    level   很差      较差      一般      较好   很好
    site
    A      0.0  0.1333  0.2667  0.4000  0.2
    B      0.0  0.0000  0.3333  0.4667  0.2
    (all)  0.0  0.0667  0.3000  0.4333  0.2
    >>> res.table[["grade", "score", "n_obs"]].round(4)
          grade   score  n_obs
    site
    A        较好  3.6667      3
    B        较好  3.8667      3
    (all)    较好  3.7667      6
    """
    what = "fuzzy_evaluation"
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{what}: data must be a pandas DataFrame of respondents × indicators, got {type(data).__name__}.")
    if instrument is not None and not isinstance(instrument, Instrument):
        raise SpecificationError(f"{what}: instrument= must be a govsurvey Instrument, got {type(instrument).__name__}. "
                                 "Fix: pass weights by name (weights=...) when there is no instrument.")
    operator = choice(_ALIASES.get(operator, operator) if isinstance(operator, str) else operator, "operator",
                      OPERATORS, where=what)
    msgs: list[str] = []
    codes, units, column = _by_codes(data, by, what) if by is not None else (np.zeros(len(data), int), pd.Index([]), None)
    items = _indicators(data, instrument, column, what)
    values = _indicator_values(data[items], what)
    if instrument is not None and recode_reverse:
        for j, i in enumerate(items):
            if instrument.question(i).reverse:
                sc = instrument.scale_of(i)
                values[:, j] = sc.min + sc.max - values[:, j]
    if by is not None and (codes < 0).any():
        warn(msgs, f"{what}: {int((codes < 0).sum())} respondent(s) have no unit in by= and were left out.")
        values, codes = values[codes >= 0], codes[codes >= 0]
    if by is not None and OVERALL in units:
        raise DataValidationError(f"{what}: a unit is labelled {OVERALL!r}, the label of the whole-sample row. Fix: rename it.")
    level_codes, labels = _levels(values, levels, instrument, items, lang, what, msgs)
    score_values = _scores(scores, level_codes, what)
    level = _level_index(values, level_codes, items, what)
    dims = _groups(groups, instrument, items, what)
    return _evaluate(level, codes, units if by is not None else None, pd.Index(items, name="indicator"), weights, dims,
                     dimension_weights, level_codes, labels, score_values, operator, msgs)


def _membership(level: np.ndarray, codes: np.ndarray, n_units: int, n_levels: int) -> np.ndarray:
    """Counts (units + 1 for the whole sample) × indicators × levels."""
    n_ind = level.shape[1]
    ok = level >= 0
    key = (codes[:, None] * n_ind + np.arange(n_ind)) * n_levels + level
    counts = np.bincount(key[ok], minlength=n_units * n_ind * n_levels).reshape(n_units, n_ind, n_levels).astype(float)
    return np.concatenate([counts, counts.sum(axis=0, keepdims=True)], axis=0)


def _evaluate(level: np.ndarray, codes: np.ndarray, units: pd.Index | None, items: pd.Index, weights: Any, dims: list | None,
              dimension_weights: Any, level_codes: tuple, labels: tuple, score_values: np.ndarray, operator: str,
              msgs: list[str]) -> FuzzyEvaluation:
    what = "fuzzy_evaluation"
    n_units = 0 if units is None else len(units)
    rows = pd.Index([*(units if units is not None else []), OVERALL], name=units.name if units is not None else "unit")
    counts = _membership(level, codes, max(n_units, 1), len(level_codes))
    if units is None:
        counts = counts[-1:]
    n_ans = counts.sum(axis=-1)
    empty = np.argwhere(n_ans == 0)
    if empty.size:
        cells = [f"{rows[u]}: {items[j]}" for u, j in empty]
        raise DataValidationError(f"{what}: indicator(s) without any answer ({preview(cells)}), so their membership is "
                                  "undefined. Fix: drop the indicator, or the unit.")
    r = counts / n_ans[..., None]
    w = np.full(len(items), 1.0 / len(items)) if weights is None else align_weights(
        weights, items, "weights", what, msgs, rescale=dims is None)
    if dims is None:
        raw = compose(w, r, operator)
        dimensions, a_series, group_series, w_used = None, None, None, w
    else:
        raw, dimensions, a_series, w_used = _two_level(r, w, dims, dimension_weights, rows, labels, score_values, operator, msgs)
        group_series = pd.Series(dims, index=items, name="dimension")
    b = _normalised(raw, operator, what)
    grade, tied, score = _grade(b, labels, score_values)
    if tied.any():
        warn(msgs, f"{what}: the largest membership is shared by two or more levels for {preview([str(u) for u in rows[tied]])}; "
                   "the maximum-membership grade is not determined there (the first tied level is shown). Fix: report "
                   "the weighted score.")
    n_obs = np.bincount(codes, minlength=max(n_units, 1)) if units is not None else np.array([])
    margin = _margin(b)
    table = _frame(b, rows, labels, {"grade": grade, "score": score, "n_obs": [*n_obs.tolist(), len(codes)], "tied": tied,
                                     "margin": margin, "borderline": margin < BORDERLINE_MARGIN})
    if units is None:
        mem_index = items
    else:
        mem_index = pd.MultiIndex.from_product([rows, items], names=[rows.name, "indicator"])
    membership = _frame(r, mem_index, labels, {})
    return FuzzyEvaluation(table=table, vector=_frame(b, rows, labels, {}), raw_vector=_frame(raw, rows, labels, {}),
                           grade=table["grade"].copy(), score=table["score"].copy(), membership=membership,
                           n_answers=pd.Series(n_ans.ravel().astype(int), index=mem_index, name="n_answers"), dimensions=dimensions,
                           weights=pd.Series(w_used, index=items, name="weight"), dimension_weights=a_series,
                           groups=group_series, levels=tuple(level_codes), labels=tuple(labels),
                           scores=tuple(score_values.tolist()), operator=operator, n_obs=len(codes), warnings=tuple(msgs))


def _two_level(r: np.ndarray, w: np.ndarray, dims: Sequence, dimension_weights: Any, rows: pd.Index, labels: tuple,
               score_values: np.ndarray, operator: str, msgs: list[str]
               ) -> tuple[np.ndarray, pd.DataFrame, pd.Series, np.ndarray]:
    """First-level vectors per dimension, then the second-level composition with the dimension weights."""
    what = "fuzzy_evaluation"
    names = list(dict.fromkeys(dims))
    dim_index = pd.Index(names, name="dimension")
    members = [np.flatnonzero([d == g for d in dims]) for g in names]
    sums = np.array([w[idx].sum() for idx in members])
    if not (sums > 0).all():
        zero = [str(g) for g, s in zip(names, sums) if not s > 0]
        raise DataValidationError(f"{what}: the indicator weights of dimension(s) {preview(zero)} sum to 0. Fix: give each "
                                  "dimension at least one positive weight.")
    local = w.copy()
    for idx, s in zip(members, sums):
        local[idx] = w[idx] / s
    first = np.stack([_normalised(compose(local[idx], r[..., idx, :], operator), operator, what) for idx in members], axis=-2)
    a = sums / sums.sum() if dimension_weights is None else align_weights(
        dimension_weights, dim_index, "dimension_weights", what, msgs)
    raw = compose(a, first, operator)
    grade, tied, score = _grade(first, labels, score_values)
    index = pd.MultiIndex.from_product([rows, dim_index], names=[rows.name, "dimension"])
    dimensions = _frame(first, index, labels, {"grade": grade, "score": score.ravel(), "weight": np.tile(a, len(rows)),
                                               "tied": tied.ravel()})
    if tied.any():
        where = [f"{u}: {g}" for u, g in index[tied.ravel()]]
        warn(msgs, f"{what}: the largest membership of a dimension's vector is shared by two or more levels for "
                   f"{preview(where)}; its grade shows the first tied level. Fix: report the dimension's weighted score.")
    if len(rows) == 1:
        dimensions = dimensions.droplevel(0)
    return raw, dimensions, pd.Series(a, index=dim_index, name="weight"), local
