"""Delphi method (德尔菲法) for screening the indicators of an evaluation index system: per
round and indicator the experts' mean importance, SD, coefficient of variation and full-score
frequency with a stated screening rule; Kendall's coefficient of concordance W with the tie
correction (over all indicators, and per group of indicators such as the levels of the index
system); the experts' authority coefficient Cr = (Ca + Cs)/2; the positive coefficient.

The pipeline follows the data: the rounds are split out (:func:`_rounds`) and checked
(:func:`_round_matrix`) → indicator statistics and screening (:func:`_indicator_stats`) →
concordance (:func:`_kendall`) → the experts' authority (:func:`_authority`) → the response
rates (:func:`_positive`).

References
----------
Dalkey, N., & Helmer, O. (1963). An experimental application of the Delphi method to the use of
experts. *Management Science*, 9(3), 458–467.
Kendall, M. G., & Babington Smith, B. (1939). The problem of m rankings. *The Annals of
Mathematical Statistics*, 10(3), 275–287.
Siegel, S., & Castellan, N. J. (1988). *Nonparametric Statistics for the Behavioral Sciences*
(2nd ed., section 9.4). New York: McGraw-Hill.
曾光 (1994). 现代流行病学方法与应用. 北京: 北京医科大学·中国协和医科大学联合出版社.
王春枝, 斌 (2011). 德尔菲法中的数据统计处理方法及其应用研究. 内蒙古财经学院学报, (4).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import re
import sys
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.options import real_number, whole_number
from govsurvey.errors import (
    DataValidationError,
    DataWarning,
    OutOfRangeError,
    SpecificationError,
    UnknownItemError,
    preview,
)
from govsurvey.results import Result

__all__ = ["Delphi", "delphi", "FAMILIARITY", "FAMILIARITY_SIX_LEVEL", "BASIS", "DEFAULT_RULE", "DEFAULT_SCALE",
           "RULE_KEYS", "AUTHORITY_MIN"]

#: Familiarity coefficient Cs (熟悉程度系数) by answer, the five-level table of the Chinese
#: Delphi literature (曾光, 1994; 王春枝 & 斌, 2011), with English equivalents.
FAMILIARITY: dict[str, float] = {
    "很熟悉": 1.0, "熟悉": 0.8, "一般": 0.6, "不太熟悉": 0.4, "不熟悉": 0.2,
    "very familiar": 1.0, "familiar": 0.8, "moderately familiar": 0.6, "not very familiar": 0.4, "unfamiliar": 0.2,
}
#: The six-level variant some questionnaires use (较熟悉 between 熟悉 and 一般); pass it as
#: ``familiarity_table=FAMILIARITY_SIX_LEVEL``.
FAMILIARITY_SIX_LEVEL: dict[str, float] = {
    "很熟悉": 1.0, "熟悉": 0.8, "较熟悉": 0.6, "一般": 0.4, "不太熟悉": 0.2, "不熟悉": 0.0,
    "very familiar": 1.0, "familiar": 0.8, "fairly familiar": 0.6, "moderately familiar": 0.4,
    "not very familiar": 0.2, "unfamiliar": 0.0,
}
#: Judgement-basis coefficients Ca (判断依据系数): basis → influence on the judgement
#: (大 / 中 / 小) → coefficient; an expert's Ca is the sum over the four bases (at most 1.0).
BASIS: dict[str, dict[str, float]] = {
    "实践经验": {"大": 0.5, "中": 0.4, "小": 0.3},
    "理论分析": {"大": 0.3, "中": 0.2, "小": 0.1},
    "参考国内外文献": {"大": 0.1, "中": 0.1, "小": 0.05},
    "直观感觉": {"大": 0.1, "中": 0.1, "小": 0.1},
}
_KENDALL_COLUMNS = ("round", "m", "n", "w", "chi2", "df", "p")
_GROUP_COLUMNS = ("round", "group", "m", "n", "w", "chi2", "df", "p")
_BASIS_EN = {"practical experience": "实践经验", "theoretical analysis": "理论分析", "literature": "参考国内外文献",
             "intuition": "直观感觉"}
_LEVEL_EN = {"high": "大", "medium": "中", "low": "小", "large": "大", "small": "小"}
#: The screening rule :func:`delphi` applies unless told otherwise: keep an indicator whose
#: mean importance is at least 3.5 and whose coefficient of variation is at most 0.25 — a rule
#: for ratings on :data:`DEFAULT_SCALE`; on any other scale ``rule=`` must be given.
DEFAULT_RULE: dict[str, float] = {"mean_min": 3.5, "cv_max": 0.25}
#: The rating scale :data:`DEFAULT_RULE` is meant for (a 1–5 Likert importance rating).
DEFAULT_SCALE: tuple[float, float] = (1.0, 5.0)
#: The conditions a rule may set (every one given must hold for ``keep``).
RULE_KEYS = ("mean_min", "sd_max", "cv_max", "full_score_min")
#: The usual reading: an expert panel with mean Cr ≥ 0.7 is authoritative enough.
AUTHORITY_MIN = 0.7


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Delphi(Result):
    """Indicator screening, concordance and expert authority of a Delphi study (see :func:`delphi`)."""

    rounds: pd.DataFrame
    kendall_w: pd.DataFrame
    authority: pd.DataFrame
    authority_mean: float
    positive: pd.DataFrame
    rule: dict[str, float]
    scale: tuple[float, float]
    kendall_w_groups: pd.DataFrame = dataclasses.field(default_factory=lambda: pd.DataFrame(columns=list(_GROUP_COLUMNS)))
    groups: dict[Any, Any] | None = None
    familiarity_table: dict[str, float] | None = None
    basis_table: dict[str, dict[str, float]] | None = None
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per round and indicator: n, mean, sd, full_score, cv, keep."""
        return self.rounds

    def __repr__(self) -> str:
        last = self.rounds["round"].iloc[-1]
        final = self.rounds.loc[self.rounds["round"] == last]
        ws = ", ".join(f"{r!s}: {w:.4f}" for r, w in zip(self.kendall_w["round"], self.kendall_w["w"]))
        rule = ", ".join(f"{k}={v:g}" for k, v in self.rule.items())
        return (f"Delphi(rounds={len(self.kendall_w)}, indicators={len(final)}, kept={int(final['keep'].sum())} in round "
                f"{last!s}, rule={{{rule}}}, kendall_w={{{ws}}}, authority_mean={self.authority_mean:.4f}, "
                f"warnings={len(self.warnings)})")


def _warn(messages: list[str], text: str) -> None:
    """Record a warning for the result and emit it as a :class:`DataWarning` at the caller's line."""
    messages.append(text)
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warnings.warn(text, DataWarning, stacklevel=level)


# ------------------------------------------------------------------ ratings
def _rounds(ratings: Any, round_col: Any) -> list[tuple[Any, pd.DataFrame]]:
    """(round label, experts × indicators table) for every round, in the order given."""
    if isinstance(ratings, Mapping):
        if round_col is not None:
            raise SpecificationError("delphi: round_col= is for one long table; a dict already names its rounds. "
                                     "Fix: drop round_col=.")
        if not ratings:
            raise SpecificationError("delphi: ratings= is an empty dict. Fix: give round → experts × indicators table.")
        return list(ratings.items())
    if not isinstance(ratings, pd.DataFrame):
        raise SpecificationError(f"delphi: ratings= must be a DataFrame (experts × indicators) or a dict round → DataFrame, "
                                 f"got {type(ratings).__name__}.")
    if round_col is None:
        return [(1, ratings)]
    if round_col not in ratings.columns:
        raise UnknownItemError(f"delphi: round_col={round_col!r} is not a column of ratings (columns: "
                               f"{preview([str(c) for c in ratings.columns])}). Fix: name the column that holds the round.")
    labels = ratings[round_col]
    if labels.isna().any():
        raise DataValidationError(f"delphi: {int(labels.isna().sum())} row(s) have no round in {round_col!r}. "
                                  "Fix: fill the round of every row.")
    rest = ratings.drop(columns=round_col)
    return [(r, rest.loc[(labels == r).to_numpy()]) for r in pd.unique(labels)]


def _round_matrix(label: Any, frame: Any, scale: tuple[float, float], messages: list[str]) -> pd.DataFrame:
    """One round's ratings as floats (experts × indicators), checked; experts and indicators
    without any rating in the round are left out."""
    where = f"delphi: round {label!s}"
    if not isinstance(frame, pd.DataFrame):
        raise SpecificationError(f"{where}: ratings must be a DataFrame (experts × indicators), got {type(frame).__name__}.")
    for axis, what in ((frame.index, "expert (row label)"), (frame.columns, "indicator (column)")):
        if not axis.is_unique:
            raise DataValidationError(f"{where}: {what} {preview(map(str, axis[axis.duplicated()].unique()))} appears "
                                      "more than once. Fix: one row per expert (experts as the index) and one column per indicator.")
    x = pd.DataFrame({c: _numeric(frame[c], where, c) for c in frame.columns}, index=frame.index)
    lo, hi = scale
    out = [f"{e!s}/{c!s} = {v:g}" for c in x.columns for e, v in x[c].items() if not (pd.isna(v) or lo <= v <= hi)]
    if out:
        raise OutOfRangeError(f"{where}: {len(out)} rating(s) lie outside the scale {lo:g}–{hi:g}: {preview(out)} "
                              "(expert/indicator = value). Fix: correct them, or pass scale=(low, high).")
    x = x.loc[:, x.notna().any(axis=0)]
    silent = x.index[x.isna().all(axis=1)]
    if len(silent):
        _warn(messages, f"{where}: {len(silent)} expert(s) rated no indicator ({preview(map(str, silent))}) and are "
                        "counted as not having returned the questionnaire.")
        x = x.drop(index=silent)
    if x.empty:
        raise DataValidationError(f"{where} has no ratings. Fix: check the table (experts as rows, indicators as columns).")
    return x


def _numeric(column: pd.Series, where: str, name: Any) -> pd.Series:
    """A ratings column as floats; text, booleans and infinities are refused by cell."""
    if pd.api.types.is_bool_dtype(column.dtype):
        raise DataValidationError(f"{where}: indicator {name!s} holds True/False. Fix: give the importance ratings as numbers.")
    numeric = pd.api.types.is_numeric_dtype(column.dtype)
    values = (column if numeric else pd.to_numeric(column.astype(object), errors="coerce")).astype(float)
    bad = [f"{e!s} = {v!r}" for e, v, x in zip(column.index, column, values)
           if (pd.isna(x) and not pd.isna(v)) or isinstance(v, (bool, np.bool_)) or math.isinf(x)]
    if bad:
        raise DataValidationError(f"{where}: indicator {name!s} has rating(s) that are not numbers: {preview(bad)}. "
                                  "Fix: code the answers as numbers on the rating scale.")
    return values


# ------------------------------------------------------------------ screening and concordance
def _rule(rule: Any, scale: tuple[float, float]) -> dict[str, float]:
    """The screening rule, checked: known keys, numbers in range; the default only on its scale."""
    if rule is None:
        if scale != DEFAULT_SCALE:
            lo, hi = scale
            share = (DEFAULT_RULE["mean_min"] - DEFAULT_SCALE[0]) / (DEFAULT_SCALE[1] - DEFAULT_SCALE[0])
            same = lo + share * (hi - lo)
            raise SpecificationError(
                f"delphi: scale=({lo:g}, {hi:g}) is not the 1–5 scale the default rule (mean ≥ "
                f"{DEFAULT_RULE['mean_min']:g}, CV ≤ {DEFAULT_RULE['cv_max']:g}) is meant for, so no rule is applied "
                f"silently. Fix: pass rule= for your scale, e.g. rule={{'mean_min': {same:.4g}, 'cv_max': "
                f"{DEFAULT_RULE['cv_max']:g}}} (the default's place on the scale: {share:.1%} of the range above its "
                "minimum), or rule={} to keep every indicator.")
        return dict(DEFAULT_RULE)
    if not isinstance(rule, Mapping):
        raise SpecificationError(f"delphi: rule= must be a dict such as {DEFAULT_RULE}, got {type(rule).__name__}.")
    unknown = [str(k) for k in rule if k not in RULE_KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], RULE_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecificationError(f"delphi: rule= has unknown key(s) {preview(unknown)}{hint}. Fix: use "
                                 f"{', '.join(RULE_KEYS)}.")
    bounds = {"mean_min": (None, None), "sd_max": (0, None), "cv_max": (0, None), "full_score_min": (0, 1)}
    return {k: real_number(v, f"rule[{k!r}]", low=bounds[k][0], high=bounds[k][1], where="delphi") for k, v in rule.items()}


def _indicator_stats(label: Any, x: pd.DataFrame, top: float, rule: Mapping[str, float],
                     messages: list[str]) -> pd.DataFrame:
    """n, mean, SD (n − 1), full-score share, CV = SD/mean and the screening decision per indicator."""
    n = x.count()
    mean, sd = x.mean(), x.std(ddof=1)
    table = pd.DataFrame({"round": [label] * x.shape[1], "indicator": list(x.columns), "n": n.to_numpy(dtype=int),
                          "mean": mean.to_numpy(), "sd": sd.to_numpy(), "full_score": ((x == top).sum() / n).to_numpy(),
                          "cv": (sd / mean).to_numpy()})
    single = table.loc[table["n"] < 2, "indicator"]
    if len(single):
        _warn(messages, f"delphi: round {label!s}: indicator(s) {preview(map(str, single))} have one rating, so SD and CV "
                        "are undefined and the indicator is not kept by an SD or CV rule.")
    keep = np.ones(len(table), dtype=bool)
    checks = {"mean_min": ("mean", np.greater_equal), "sd_max": ("sd", np.less_equal),
              "cv_max": ("cv", np.less_equal), "full_score_min": ("full_score", np.greater_equal)}
    for key, bound in rule.items():
        column, op = checks[key]
        keep &= op(table[column].to_numpy(dtype=float), bound)
    table["keep"] = keep
    return table


def _kendall(x: np.ndarray) -> tuple[float, float, int, float]:
    """Kendall's W with the tie correction, its χ² = m(n − 1)W on n − 1 df and p, for
    complete ratings x (m experts × n indicators); ranks within each expert (average ranks)."""
    m, n = x.shape
    ranks = stats.rankdata(x, axis=1)
    totals = ranks.sum(axis=0)
    s = float(np.sum((totals - totals.mean()) ** 2))
    ties = 0.0
    for row in x:
        counts = np.unique(row, return_counts=True)[1].astype(float)
        ties += float(np.sum(counts ** 3 - counts))
    denominator = m * m * (n ** 3 - n) - m * ties
    if m < 2 or n < 2 or denominator <= 0:
        return math.nan, math.nan, n - 1, math.nan
    w = 12 * s / denominator
    chi2 = m * (n - 1) * w
    return w, chi2, n - 1, float(stats.chi2.sf(chi2, n - 1))


def _group_concordance(label: Any, x: pd.DataFrame, groups: Mapping[Any, Any] | None) -> list[dict[str, Any]]:
    """Kendall rows of one round per group of indicators (each group's indicators rated in the
    round, on the experts who rated all of them); a group with fewer than 2 indicators is left out."""
    if not groups:
        return []
    rows = []
    for group in dict.fromkeys(groups[c] for c in x.columns if c in groups):
        part = x[[c for c in x.columns if c in groups and groups[c] == group]]
        if part.shape[1] < 2:
            continue
        complete = part.dropna()
        w, chi2, df, p = _kendall(complete.to_numpy(dtype=float))
        rows.append({"round": label, "group": group, "m": len(complete), "n": part.shape[1], "w": w, "chi2": chi2,
                     "df": df, "p": p})
    return rows


def _groups(groups: Any, labels: list[Any], frames: list[pd.DataFrame]) -> dict[Any, Any] | None:
    """groups= checked: indicator → group, every key an indicator of some round."""
    if groups is None:
        return None
    if isinstance(groups, pd.Series):
        groups = groups.to_dict()
    if not isinstance(groups, Mapping):
        raise SpecificationError(f"delphi: groups= must map each indicator to its group (e.g. its level in the index "
                                 f"system), got {type(groups).__name__}. Fix: groups={{'plans': 2, 'pre_event': 1, ...}}.")
    known = {c for x in frames for c in x.columns}
    unknown = [str(k) for k in groups if k not in known]
    if unknown:
        raise UnknownItemError(f"delphi: groups= names {preview(unknown)}, which no round rates. Fix: name indicators of "
                               f"the ratings ({preview(sorted(map(str, known)))}).")
    return dict(groups)


def _concordance(label: Any, x: pd.DataFrame, messages: list[str]) -> dict[str, Any]:
    """One round's Kendall row, on the experts who rated every indicator of the round."""
    complete = x.dropna()
    dropped = x.index.difference(complete.index, sort=False)
    if len(dropped):
        _warn(messages, f"delphi: round {label!s}: {len(dropped)} expert(s) left some indicators unrated "
                        f"({preview(map(str, dropped))}); Kendall's W uses the {len(complete)} experts with complete "
                        "ratings (the indicator statistics use every rating given).")
    w, chi2, df, p = _kendall(complete.to_numpy(dtype=float))
    if math.isnan(w):
        _warn(messages, f"delphi: round {label!s}: Kendall's W is undefined ({len(complete)} complete expert(s), "
                        f"{x.shape[1]} indicator(s), or every expert gave all indicators the same rating).")
    return {"round": label, "m": len(complete), "n": x.shape[1], "w": w, "chi2": chi2, "df": df, "p": p}


# ------------------------------------------------------------------ authority and response
def _key(label: str) -> str:
    """A label as looked up: no surrounding space, English in lower case with single spaces."""
    return re.sub(r"[\s_\-]+", " ", label.strip()).casefold()


def _lookup(label: str, table: Mapping[str, Any], aliases: Mapping[str, str]) -> Any:
    """The table entry for a label (English aliases of the default tables honoured), or KeyError."""
    keyed = {_key(str(k)): v for k, v in table.items()}
    key = _key(label)
    if key not in keyed and key in aliases:
        key = _key(aliases[key])
    return keyed[key]


def _coefficient(value: Any, expert: Any, what: str, table: Mapping[str, Any] | None, aliases: Mapping[str, str],
                 fix: str) -> float:
    """A coefficient from 0 to 1: a number as given, or a label through its table."""
    if isinstance(value, str):
        try:
            coded = _lookup(value, table or {}, aliases)
        except KeyError:
            raise UnknownItemError(f"delphi: {what} of expert {expert!s} is {value!r}, which is not in the table. Fix: use "
                                   f"one of {', '.join(map(str, (table or {}).keys()))}; or code it as a number from 0 to 1; "
                                   f"or {fix}.") from None
        return float(coded)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise DataValidationError(f"delphi: {what} of expert {expert!s} is {value!r}; it must be a label of the table or a "
                                  "coefficient from 0 to 1. Fix: correct it.")
    return float(value)


def _by_expert(values: Any, name: str) -> pd.Series | pd.DataFrame:
    """familiarity= or basis= as a Series/DataFrame indexed by expert."""
    if isinstance(values, Mapping):
        values = pd.Series(dict(values), dtype=object)
    if not isinstance(values, (pd.Series, pd.DataFrame)):
        raise SpecificationError(f"delphi: {name}= must be a Series or dict indexed by expert (the ratings' index), got "
                                 f"{type(values).__name__}. Fix: pd.Series(values, index=ratings.index).")
    if not values.index.is_unique:
        raise DataValidationError(f"delphi: {name}= names expert(s) {preview(map(str, values.index[values.index.duplicated()]))} "
                                  "twice. Fix: one entry per expert.")
    return values


def _familiarity(familiarity: Any, table: Mapping[str, float]) -> pd.Series:
    values = _by_expert(familiarity, "familiarity")
    if isinstance(values, pd.DataFrame):
        raise SpecificationError("delphi: familiarity= must be one value per expert (a Series), not a table.")
    fix = "pass familiarity_table= with your questionnaire's labels (e.g. FAMILIARITY_SIX_LEVEL)"
    return pd.Series([_coefficient(_present(v, e, "familiarity"), e, "familiarity", table, {}, fix)
                      for e, v in values.items()], index=values.index, dtype=float)


def _basis(basis: Any, table: Mapping[str, Mapping[str, float]]) -> pd.Series:
    """Ca per expert: a coefficient as given, or the sum over bases of the level's coefficient."""
    values = _by_expert(basis, "basis")
    fix = "pass basis_table= with your questionnaire's labels"
    if isinstance(values, pd.Series):
        return pd.Series([_coefficient(_present(v, e, "basis"), e, "judgement basis (Ca)", None, {}, fix)
                          for e, v in values.items()], index=values.index, dtype=float)
    total = pd.Series(0.0, index=values.index)
    for column in values.columns:
        try:
            levels = _lookup(str(column), table, _BASIS_EN)
        except KeyError:
            levels = None
        for e, v in values[column].items():
            v = _present(v, e, f"basis {column!s}")
            if isinstance(v, str) and levels is None:
                raise UnknownItemError(f"delphi: basis= column {column!s} is not a judgement basis of the table. Fix: use "
                                       f"{', '.join(table)} (or {', '.join(_BASIS_EN)}), or pass basis_table=.")
            total.loc[e] += _coefficient(v, e, f"judgement basis {column!s}", levels, _LEVEL_EN, fix)
    return total


def _present(value: Any, expert: Any, what: str) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        raise DataValidationError(f"delphi: {what} of expert {expert!s} is missing. Fix: fill it, or leave the expert "
                                  "out of familiarity= and basis=.")
    return value


def _labelled(values: Any) -> bool:
    """Whether familiarity= or basis= holds labels (looked up in a table) rather than coefficients."""
    cells = values.to_numpy().ravel() if isinstance(values, (pd.Series, pd.DataFrame)) else list(dict(values).values())
    return any(isinstance(v, str) for v in cells)


def _authority(familiarity: Any, basis: Any, familiarity_table: Mapping[str, float],
               basis_table: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Ca, Cs and Cr = (Ca + Cs)/2 per expert (a column is NaN when its input is not given)."""
    cs = _familiarity(familiarity, familiarity_table) if familiarity is not None else None
    ca = _basis(basis, basis_table) if basis is not None else None
    if cs is not None and ca is not None and set(cs.index) != set(ca.index):
        odd = [str(e) for e in cs.index.symmetric_difference(ca.index)]
        raise DataValidationError(f"delphi: familiarity= and basis= name different experts ({preview(odd)} in only one). "
                                  "Fix: give both for every expert.")
    index = (cs if cs is not None else ca).index if (cs is not None or ca is not None) else pd.Index([])
    frame = pd.DataFrame({"ca": ca.reindex(index) if ca is not None else np.nan,
                          "cs": cs.reindex(index) if cs is not None else np.nan}, index=index, dtype=float)
    frame["cr"] = (frame["ca"] + frame["cs"]) / 2
    return frame.rename_axis("expert")    # a new Index: setting .name would rename the caller's (shared) one


def _positive(labels: list[Any], returned: list[int], sent: Any) -> pd.DataFrame:
    """Returned questionnaires per round and, with ``sent``, the positive coefficient returned/sent."""
    if isinstance(sent, Mapping):
        unknown = [str(k) for k in sent if k not in labels]
        if unknown:
            raise UnknownItemError(f"delphi: sent= names round(s) {preview(unknown)} that the ratings do not have. Fix: use "
                                   f"the round labels {preview(map(str, labels))}.")
        counts = [sent.get(r) for r in labels]
    else:
        counts = [sent] * len(labels)
    counts = [whole_number(c, "sent", low=1, where="delphi", none_ok=True) for c in counts]
    for r, k, s in zip(labels, returned, counts):
        if s is not None and k > s:
            raise DataValidationError(f"delphi: round {r!s} has {k} responding experts but sent={s}. Fix: give the number "
                                      "of questionnaires sent in that round.")
    rate = [k / s if s is not None else math.nan for k, s in zip(returned, counts)]
    return pd.DataFrame({"round": labels, "sent": pd.array(counts, dtype="Int64"), "returned": returned, "rate": rate})


# ------------------------------------------------------------------ the public function
def delphi(ratings: pd.DataFrame | Mapping[Any, pd.DataFrame], *, familiarity: Any = None, basis: Any = None,
           rule: Mapping[str, float] | None = None, scale: tuple[float, float] = (1, 5), round_col: Any = None,
           sent: int | Mapping[Any, int] | None = None, familiarity_table: Mapping[str, float] | None = None,
           basis_table: Mapping[str, Mapping[str, float]] | None = None, groups: Mapping[Any, Any] | None = None) -> Delphi:
    """Delphi consultation (德尔菲专家咨询) statistics for screening evaluation indicators:
    importance mean, SD, coefficient of variation and full-score frequency with a screening
    rule; Kendall's W; the experts' authority and positive coefficients.

    Parameters
    ----------
    ratings
        The experts' importance ratings, in one of three layouts:

        * one round: a DataFrame with one row per expert (the index identifies the expert) and
          one column per indicator, holding ratings on ``scale`` (Likert 1–5 by default);
        * several rounds: a dict round label → such a DataFrame (in the order of the rounds);
        * several rounds in one long table: the same rows stacked, with the round in the
          column ``round_col`` (e.g. ``pd.concat(rounds, names=["round", "expert"])
          .reset_index("round")``).

        Missing ratings are allowed: an indicator nobody rated in a round (one dropped after an
        earlier round) is not part of that round; an expert who rated nothing in a round is
        counted as not having returned it (with a warning); otherwise the indicator statistics
        use every rating given and Kendall's W the experts with complete ratings in the round
        (with a warning naming the others).
    familiarity
        Each expert's familiarity with the topic (Cs): a Series or dict indexed by expert,
        either coded coefficients (0–1) or labels of ``familiarity_table``.
    basis
        Each expert's judgement basis (Ca): a Series or dict of coded Ca (0–1), or a DataFrame
        with one row per expert and one column per basis (实践经验, 理论分析, 参考国内外文献,
        直观感觉; or practical experience, theoretical analysis, literature, intuition) holding
        the basis's influence — 大/中/小 (high/medium/low) or its coded coefficient; Ca is the
        row sum through ``basis_table``.
    rule
        The screening rule (every condition given must hold for ``keep``): ``mean_min`` (mean
        ≥), ``sd_max`` (SD ≤), ``cv_max`` (CV ≤), ``full_score_min`` (full-score share ≥).
        Default :data:`DEFAULT_RULE`, mean ≥ 3.5 and CV ≤ 0.25 — a rule for the 1–5 scale: with
        any other ``scale`` the rule must be given (a :class:`~govsurvey.errors.SpecificationError`
        says so and suggests the default's place on your scale). ``{}`` keeps every indicator.
    scale
        The rating scale (lowest, highest); the highest is the "full score".
    round_col
        The round column of a long table.
    sent
        Questionnaires sent, one number for every round or a dict round → number; the positive
        coefficient (专家积极系数) is returned/sent. Without it only the number returned is given.
    familiarity_table, basis_table
        Label → coefficient tables replacing :data:`FAMILIARITY` and :data:`BASIS`.
    groups
        Indicator → group (e.g. its level in the index system: 1 for the first-level
        indicators, 2 for the second-level ones): Kendall's W is then also computed within
        each group of every round (``kendall_w_groups``). Ranking first- and second-level
        indicators together mixes two questions; W within each level answers each.

    Returns
    -------
    Delphi
        ``rounds`` — one row per round and indicator: ``round``, ``indicator``, ``n``, ``mean``,
        ``sd``, ``full_score`` (share rating the scale's maximum), ``cv``, ``keep`` (also
        ``to_frame()``); ``kendall_w`` — one row per round: ``round``, ``m`` (experts), ``n``
        (indicators), ``w``, ``chi2``, ``df``, ``p``; ``authority`` — per expert ``ca``, ``cs``,
        ``cr`` (empty without ``familiarity``/``basis``; a column is NaN when its input is
        missing); ``authority_mean`` (mean Cr, NaN without both); ``positive`` — per round
        ``sent``, ``returned``, ``rate``; ``rule``; ``scale``; ``kendall_w_groups`` — with
        ``groups``, one row per round and group (of at least 2 indicators): ``round``,
        ``group``, ``m``, ``n``, ``w``, ``chi2``, ``df``, ``p`` (empty without); ``groups`` as given
        (a dict, or None); ``familiarity_table``
        and ``basis_table`` — the tables the labels were coded with (None when the answers were
        given as coefficients, or not given); ``warnings``.

    Notes
    -----
    **Indicator statistics.** SD uses n − 1 (the sample SD, as SPSS); CV = SD / mean.

    **Kendall's W** (Kendall & Babington Smith, 1939; tie correction as Siegel & Castellan,
    1988): each expert's ratings are ranked across the indicators (ties get average ranks);
    with R_i the rank sum of indicator i, S = Σ (R_i − mean R)², and T_j = Σ (t³ − t) over the
    tie groups of expert j, W = 12 S / (m²(n³ − n) − m Σ T_j), with m experts and n
    indicators. χ² = m(n − 1)W on n − 1 df (equal to 12S / (mn(n + 1) − Σ T_j/(n − 1))).
    Likert ratings are heavily tied, so the correction matters; SPSS applies it too.

    **Authority** (权威系数): Cr = (Ca + Cs)/2, usually judged acceptable at Cr ≥ 0.7
    (:data:`AUTHORITY_MIN`). The tables are the customary ones of the Chinese Delphi
    literature (曾光, 1994; 王春枝 & 斌, 2011), which appear in slightly different versions:

    * familiarity (:data:`FAMILIARITY`): 很熟悉 1.0, 熟悉 0.8, 一般 0.6, 不太熟悉 0.4, 不熟悉 0.2.
      Questionnaires with six levels (…, 较熟悉 0.6, 一般 0.4, 不太熟悉 0.2, 不熟悉 0): pass
      ``familiarity_table=FAMILIARITY_SIX_LEVEL``;
    * judgement basis (:data:`BASIS`), influence 大/中/小: 实践经验 0.5/0.4/0.3, 理论分析
      0.3/0.2/0.1, 参考国内外文献 0.1/0.1/0.05, 直观感觉 0.1/0.1/0.1 (some versions give
      literature 0.1/0.1/0.1 or intuition 0.1/0.1/0.05: pass your table as ``basis_table=``).

    Say in the thesis which tables were used.

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.delphi import delphi
    >>> r1 = pd.DataFrame({"预案体系": [5, 4, 5, 5, 4], "物资储备": [4, 4, 5, 3, 4], "志愿者队伍": [3, 2, 4, 3, 3]},
    ...                   index=["E1", "E2", "E3", "E4", "E5"])
    >>> res = delphi(r1, familiarity={"E1": "很熟悉", "E2": "熟悉", "E3": "熟悉", "E4": "一般", "E5": 0.8},
    ...              basis={"E1": 0.9, "E2": 0.8, "E3": 0.8, "E4": 0.7, "E5": 0.9})
    >>> res.rounds[["indicator", "mean", "cv", "keep"]].round(4)
      indicator  mean      cv   keep
    0      预案体系   4.6  0.1191   True
    1      物资储备   4.0  0.1768   True
    2     志愿者队伍   3.0  0.2357  False
    >>> res.kendall_w[["m", "n", "w", "chi2", "df"]].round(4)
       m  n       w   chi2  df
    0  5  3  0.8375  8.375   2
    >>> round(res.authority_mean, 4)
    0.81

    # In R (base): ranks <- t(apply(X, 1, rank)); S <- sum((colSums(ranks) - mean(colSums(ranks)))^2)
    #              W <- 12 * S / (m^2 * (n^3 - n) - m * sum(T_j));  vegan::kendall.global(t(X)) agrees
    """
    scale = _scale(scale)
    screening = _rule(rule, scale)
    messages: list[str] = []
    stat_rows, w_rows, labels, returned, matrices = [], [], [], [], []
    for label, frame in _rounds(ratings, round_col):
        if any(label == seen for seen in labels):
            raise DataValidationError(f"delphi: round {label!s} is given twice. Fix: give each round once.")
        x = _round_matrix(label, frame, scale, messages)
        stat_rows.append(_indicator_stats(label, x, scale[1], screening, messages))
        w_rows.append(_concordance(label, x, messages))
        labels.append(label)
        returned.append(len(x))
        matrices.append(x)
    grouping = _groups(groups, labels, matrices)
    group_rows = [row for label, x in zip(labels, matrices) for row in _group_concordance(label, x, grouping)]
    f_table = FAMILIARITY if familiarity_table is None else familiarity_table
    b_table = BASIS if basis_table is None else basis_table
    authority = _authority(familiarity, basis, f_table, b_table)
    mean_cr = float(authority["cr"].mean()) if len(authority) and authority["cr"].notna().all() else math.nan
    if mean_cr < AUTHORITY_MIN:
        _warn(messages, f"delphi: the experts' mean authority coefficient Cr = {mean_cr:.3f} is below {AUTHORITY_MIN} (the "
                        "usual threshold). Report it, and consider whether the panel is expert enough.")
    table = pd.concat(stat_rows, ignore_index=True)
    used_f = {str(k): float(v) for k, v in f_table.items()} if familiarity is not None and _labelled(familiarity) else None
    used_b = ({str(k): {str(a): float(b) for a, b in v.items()} for k, v in b_table.items()}
              if isinstance(basis, pd.DataFrame) and _labelled(basis) else None)
    return Delphi(rounds=table, kendall_w=pd.DataFrame(w_rows, columns=list(_KENDALL_COLUMNS)), authority=authority,
                  authority_mean=mean_cr, positive=_positive(labels, returned, sent), rule=screening, scale=scale,
                  kendall_w_groups=pd.DataFrame(group_rows, columns=list(_GROUP_COLUMNS)), groups=grouping,
                  familiarity_table=used_f,
                  basis_table=used_b, warnings=tuple(messages))


def _scale(scale: Any) -> tuple[float, float]:
    if not isinstance(scale, (tuple, list)) or len(scale) != 2:
        raise SpecificationError(f"delphi: scale= must be (lowest, highest), such as (1, 5), got {scale!r}.")
    lo = real_number(scale[0], "scale[0]", where="delphi")
    hi = real_number(scale[1], "scale[1]", where="delphi")
    if not lo < hi:
        raise SpecificationError(f"delphi: scale={tuple(scale)!r} must run from lowest to highest, such as (1, 5).")
    return (lo, hi)
