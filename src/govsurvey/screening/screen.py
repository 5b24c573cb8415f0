"""Response screening with every failure reported at once."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey._numeric import centre
from govsurvey.data.options import real_number, whole_number
from govsurvey.errors import (
    DataValidationError,
    DataWarning,
    SpecificationError,
    UnknownItemError,
)
from govsurvey.instrument.model import Instrument
from govsurvey.results import Result
from govsurvey.scoring.score import item_frame
from govsurvey.screening.near_duplicates import find_near_duplicates, modal_share

__all__ = ["screen", "Screening", "RULES"]

RULES = ("out_of_range", "too_many_missing", "speeder", "straightline", "attention", "duplicate", "near_duplicate",
         "mahalanobis")
"""Screening rules in the order they are reported."""

DEFAULT_SPEED_RATIO = 1 / 3
"""Without ``min_seconds``, a speeder took less than a third of the median completion time."""

DEFAULT_NEAR_SHARE = 0.95
"""Near-duplicates agree on at least this share of the construct items both answered (with a
shared IP or device; on twice as strict a share, 1 − (1 − 0.95)/2 = 0.975, without one)."""

NEAR_MIN_ITEMS = 10
NEAR_MIN_SHARE = 0.8
"""A near-duplicate pair answered at least max(10, 80 % of the construct items) items in common."""

NEAR_MAX_MODAL = 0.9
"""Respondents giving one answer to at least 90 % of their construct items are not compared:
two such answer patterns match by chance, not by copying (``straightline=0.9`` judges them)."""

SOURCE_COLUMNS = ("_ip", "_device")
"""Columns naming where a submission came from (问卷星's 来自IP is read as ``_ip``)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Screening(Result):
    """The outcome of :func:`screen`.

    Attributes
    ----------
    clean
        The data without excluded respondents (a copy; the input is untouched).
    flags
        One boolean column per rule that ran, index = respondent.
    excluded
        The exclusion log: index respondent; ``rules`` (comma-separated) and ``reason``.
    failure_cases
        Every failure: ``respondent``, ``column``, ``rule``, ``value``.
    summary
        Per rule: ``n_flagged`` and ``n_only`` (flagged by this rule alone); then the flow
        rows ``total``, ``excluded``, ``retained``.
    thresholds
        The thresholds used (e.g. the speeder cut-off in seconds and how it was set).
    notes
        Rules that could not run and why.
    """

    clean: pd.DataFrame
    flags: pd.DataFrame
    excluded: pd.DataFrame
    failure_cases: pd.DataFrame
    summary: pd.DataFrame
    thresholds: dict[str, Any]
    notes: tuple[str, ...] = ()

    @property
    def n_total(self) -> int:
        return int(self.flags.shape[0])

    @property
    def n_excluded(self) -> int:
        return int(self.excluded.shape[0])

    def to_frame(self) -> pd.DataFrame:
        return self.summary

    def __repr__(self) -> str:
        per = ", ".join(f"{r}={int(self.flags[r].sum())}" for r in self.flags.columns)
        return f"Screening(total={self.n_total}, excluded={self.n_excluded}, retained={self.n_total - self.n_excluded}; {per})"


def _reason(rule: str, column: str, value: Any, thresholds: dict[str, Any]) -> str:
    """One failure as a phrase for the exclusion log."""
    if rule == "duplicate":
        return f"duplicate of respondent {value}"
    if rule == "near_duplicate":
        return f"near-duplicate of respondent {value} {column}"
    if rule == "speeder":
        return f"speeder: {value:.0f} s (cut-off {thresholds['speeder']['seconds']:.4g} s)"
    if rule == "straightline":
        return f"straightline: {value:.0%} identical answers in block {column}"
    if rule == "too_many_missing":
        return f"too_many_missing: {value:.0%} of construct items missing"
    if rule == "attention":
        shown = "(missing)" if value is None else f"{value:g}"
        return f"attention: {column}={shown} (expected {thresholds['attention'][column]})"
    if rule == "mahalanobis":
        return f"mahalanobis: D²={value:.4g} (cut-off {thresholds['mahalanobis']['d2']:.4g})"
    return f"{rule}: {column}={value:g}" if isinstance(value, float) else f"{rule}: {column}={value}"


_RULE_FIX = {
    "out_of_range": "check that the answers were read as the instrument's codes",
    "too_many_missing": "check max_missing= and that the item columns were read",
    "speeder": "check min_seconds= (or speed_ratio=) and the time column's unit (seconds, not minutes)",
    "straightline": "check the straightline= share and the reverse keys",
    "attention": "check the expected answers of the attention checks (attention= or the instrument's checks:)",
    "duplicate": "check that respondents' answers were not copied, or pass duplicates=False",
    "near_duplicate": "check that respondents' answers were not copied, or raise near_duplicates= (or pass False)",
    "mahalanobis": "use a smaller mahalanobis_p or leave it None",
}


def _submission_order(data: pd.DataFrame) -> pd.Index:
    """Respondents in the order they submitted: by ``_submitted`` when present, else by row."""
    return data["_submitted"].sort_values(kind="stable").index if "_submitted" in data.columns else data.index


def _source_codes(data: pd.DataFrame, order: pd.Index) -> tuple[np.ndarray | None, list[str]]:
    """Integer codes (−1 unknown) of the IP/device columns, rows in submission order."""
    cols = [c for c in SOURCE_COLUMNS if c in data.columns]
    if not cols:
        return None, []
    codes = []
    for c in cols:
        text = data.loc[order, c].astype("string").str.strip().replace("", pd.NA)
        codes.append(pd.factorize(text, use_na_sentinel=True)[0])
    return np.column_stack(codes), cols


def _near_duplicate_rule(data: pd.DataFrame, numeric: pd.DataFrame, items: list[str], share: float,
                         skip: pd.Series, failures: list, thresholds: dict[str, Any], notes: list[str]) -> pd.Series | None:
    """Flag the later respondent of each near-duplicate pair (see :func:`screen`); None when
    there are too few construct items for the rule to mean anything."""
    min_common = max(NEAR_MIN_ITEMS, int(np.ceil(NEAR_MIN_SHARE * len(items) - 1e-9)))
    if len(items) < min_common:
        notes.append(f"near_duplicate: only {len(items)} construct items (at least {NEAR_MIN_ITEMS} are needed); rule not run.")
        return None
    share_alone = 1.0 - (1.0 - share) / 2
    order = _submission_order(data)
    order = order[~skip.reindex(order).to_numpy()]           # exact copies are left to `duplicate`
    x = numeric.loc[order, items].to_numpy(dtype=float)
    plain = modal_share(x) >= NEAR_MAX_MODAL - 1e-12
    order, x = order[~plain], x[~plain]
    groups, cols = _source_codes(data, order)
    thresholds["near_duplicate"] = {
        "share": share if groups is not None else None, "share_without_shared_source": share_alone,
        "min_common": min_common, "items": len(items), "source_columns": cols,
        "order": "_submitted" if "_submitted" in data.columns else "row order", "max_modal_share": NEAR_MAX_MODAL,
    }
    if plain.any():
        notes.append(f"near_duplicate: {int(plain.sum())} respondent(s) gave one answer to at least {NEAR_MAX_MODAL:.0%} "
                     "of their construct items and were not compared (their answers match by chance; see straightline=).")
    if groups is None:
        notes.append(f"near_duplicate: no IP or device column ({', '.join(SOURCE_COLUMNS)}), so pairs were judged by their "
                     f"answers alone, at the stricter share {share_alone:.4g}.")
    found = find_near_duplicates(x, groups, share=share, share_alone=share_alone, min_common=min_common)
    flag = pd.Series(False, index=data.index)
    later, earlier = order[found.later], order[found.earlier]
    flag.loc[later] = True
    for rid, other, n_agree, n_common, same in zip(later, earlier, found.n_agree, found.n_common, found.shared):
        where = f", same {'/'.join(cols)}" if same else ""
        failures.append((rid, f"(construct items, {n_agree} of {n_common} agree{where})", "near_duplicate",
                         other.item() if isinstance(other, np.generic) else other))
    return flag


def _everyone_excluded(flags: pd.DataFrame, thresholds: dict[str, Any]) -> str | None:
    """The warning when no respondent is left: the rules that flagged everyone (else every rule
    with its count) and how to fix each — analyses would otherwise only say "0 complete cases"."""
    if not len(flags) or not flags.any(axis=1).all():
        return None
    total = len(flags)
    counts = flags.sum(axis=0).astype(int)
    culprits = [r for r in flags.columns if counts[r] == total] or [r for r in flags.columns if counts[r]]
    parts = []
    for r in culprits:
        cut = f", cut-off {thresholds['speeder']['seconds']:.4g} s" if r == "speeder" and "speeder" in thresholds else ""
        parts.append(f"{r} flagged {counts[r]} of {total}{cut}")
    fixes = "; ".join(_RULE_FIX[r] for r in culprits)
    return (f"screen excluded all {total} respondents, so nothing is left to analyse ({'; '.join(parts)}). "
            f"Fix: {fixes}.")


def screen(
    data: pd.DataFrame,
    instrument: Instrument,
    *,
    min_seconds: float | None = None,
    time_column: str | None = None,
    attention: Mapping[str, Any] | bool | None = None,
    straightline: bool | float = True,
    duplicates: bool = True,
    near_duplicates: bool | float = True,
    mahalanobis_p: float | None = None,
    max_missing: float = 0.2,
    speed_ratio: float = DEFAULT_SPEED_RATIO,
    min_block: int = 8,
) -> Screening:
    """Screen responses and exclude respondents who fail any rule.

    Rules (each a column of ``flags``):

    - ``out_of_range``: a code outside its question's scale (e.g. 6 on a 1–5 scale).
    - ``too_many_missing``: more than ``max_missing`` of the construct items missing.
    - ``speeder``: completion time below ``min_seconds``, or, when not given, below
      ``speed_ratio`` (default 1/3) × the median time — robust to a few very slow
      respondents. Time comes from ``time_column`` (default ``_seconds``, Wenjuanxing's 所用时间).
    - ``straightline``: within a block of Likert items (each top-level construct with at
      least ``min_block`` items), every answered item has the same answer. A float in
      (0, 1] flags instead when the most frequent answer covers at least that share.
      Reverse-keyed items make all-equal answers inconsistent, which is why they belong in blocks.
    - ``attention``: an attention-check item not answered as expected; the expected
      answers come from the instrument (``checks:``) or ``attention={item: answer}``;
      ``attention=False`` turns the rule off. A skipped check counts as failed.
    - ``duplicate``: the same answers to every question as an earlier submission (the
      first is kept; ``value`` names it).
    - ``near_duplicate``: a later submission (by ``_submitted``, else row order) whose
      construct-item answers agree with an earlier one's on at least ``near_duplicates``
      (default 0.95) of the items both answered, from the same IP or device (``_ip``,
      ``_device``), or on at least 1 − (1 − share)/2 (0.975) of them from anywhere; both
      must have answered max(10, 80 %) of the construct items. Exact copies are left to
      ``duplicate`` and not compared again, nor are respondents giving one answer to 90 %
      or more of their construct items (such patterns match by chance). ``value`` names
      the earlier respondent, ``column`` how many items agreed (e.g. ``(construct items,
      47 of 48 agree, same _ip)``); ``near_duplicates=False`` turns it off. Kuriakose and
      Robbins (2016) flag pairs matching on 85 % of all questions; the 95 % here, on
      construct items only, is stricter.
    - ``mahalanobis``: with ``mahalanobis_p`` set, complete cases whose squared
      Mahalanobis distance on the construct items exceeds the chi-square quantile at 1 − p.

    References
    ----------
    Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in survey
    data. *Journal of Experimental Social Psychology*, 66, 4–19.
    Kuriakose, N., & Robbins, M. (2016). Don't get duped: Fraud through duplication in public
    opinion surveys. *Statistical Journal of the IAOS*, 32(3), 283–291.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.read_responses(gs.datasets.example_files()["sav"], inst)
    >>> result = gs.screen(data, inst)
    >>> result.n_excluded > 0
    True
    >>> result.thresholds["near_duplicate"]["share"], result.thresholds["near_duplicate"]["min_common"]
    (0.95, 40)
    """
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if data.shape[0] == 0:
        raise DataValidationError("The data have no rows to screen. Fix: check what was read.")
    if not data.index.is_unique:
        dup = data.index[data.index.duplicated()].unique().tolist()
        raise DataValidationError(f"Respondent ids repeat in the index: {dup[:5]}. Fix: give every respondent a unique id.")
    max_missing = real_number(max_missing, "max_missing", low=0, high=1, what="a share", where="screen")
    speed_ratio = real_number(speed_ratio, "speed_ratio", low=0, high=1, what="a share", where="screen")
    min_seconds = real_number(min_seconds, "min_seconds", low=0, none_means="the median rule", where="screen")
    mahalanobis_p = real_number(mahalanobis_p, "mahalanobis_p", low=1e-12, high=0.5, none_means="rule off", where="screen")
    straightline = (bool(straightline) if isinstance(straightline, (bool, np.bool_)) else
                    real_number(straightline, "straightline", low=0.5, high=1, what="True, False or a share",
                                where="screen"))
    min_block = whole_number(min_block, "min_block", low=2, where="screen")
    near_duplicates = (bool(near_duplicates) if isinstance(near_duplicates, (bool, np.bool_)) else
                       real_number(near_duplicates, "near_duplicates", low=0.5, high=1,
                                   what="True, False or a share", where="screen"))

    data = data.copy()
    questions = [q.id for q in instrument.questions if q.id in data.columns]
    construct_items = [i for i in instrument.construct_items if i in data.columns]
    if not construct_items:
        raise UnknownItemError(
            f"None of the construct items of {instrument.name!r} is a column of the data. "
            "Fix: read the data with gs.read_responses(path, instrument)."
        )
    coded = [q for q in questions if instrument.scale_of(q).type != "text"]
    numeric = item_frame(data, instrument, coded, what="screen")
    failures: list[tuple[Any, str, str, Any]] = []
    flags = pd.DataFrame(index=data.index)
    thresholds: dict[str, Any] = {}
    notes: list[str] = []

    # out_of_range
    bad = pd.Series(False, index=data.index)
    for q in coded:
        sc = instrument.scale_of(q)
        v = numeric[q]
        if sc.type in ("likert", "ordinal", "nominal"):
            wrong = v.notna() & ~v.isin([float(c) for c in sc.codes])
        else:
            lo = sc.min if sc.min is not None else -np.inf
            hi = sc.max if sc.max is not None else np.inf
            wrong = v.notna() & ((v < lo) | (v > hi))
        for rid, val in v[wrong].items():
            failures.append((rid, q, "out_of_range", float(val)))
        bad |= wrong
    flags["out_of_range"] = bad

    # too_many_missing
    share = numeric[construct_items].isna().mean(axis=1)
    flags["too_many_missing"] = share > max_missing + 1e-12
    thresholds["max_missing"] = max_missing
    for rid, val in share[flags["too_many_missing"]].items():
        failures.append((rid, "(construct items)", "too_many_missing", float(val)))

    # speeder
    tcol = time_column if time_column is not None else ("_seconds" if "_seconds" in data.columns else None)
    if time_column is not None and time_column not in data.columns:
        raise UnknownItemError(f"time_column={time_column!r} is not a column of the data. Columns include: {list(data.columns)[:5]}.")
    if tcol is None:
        if min_seconds is not None:
            raise UnknownItemError("min_seconds= is set but the data have no completion-time column. Fix: pass time_column= naming it.")
        skipped = ("speeder: no completion-time column (所用时间, 答题时长, duration …, or time_column=); rule not run, so "
                   "speeders are not screened. Fix: keep the export's time column, or give time_column=.")
        notes.append(skipped)
        warnings.warn(skipped, DataWarning, stacklevel=2)
    else:
        seconds = pd.to_numeric(data[tcol], errors="coerce").astype(float)
        if seconds.notna().sum() == 0:
            notes.append(f"speeder: column {tcol!r} has no usable times; rule not run.")
        else:
            if min_seconds is None:
                cut = float(np.nanmedian(seconds)) * speed_ratio
                thresholds["speeder"] = {"seconds": cut, "rule": f"{speed_ratio:.4g} × median ({np.nanmedian(seconds):.6g} s)"}
            else:
                cut = float(min_seconds)
                thresholds["speeder"] = {"seconds": cut, "rule": "min_seconds"}
            fast = seconds < cut
            flags["speeder"] = fast.fillna(False).astype(bool)
            for rid, val in seconds[fast].items():
                failures.append((rid, tcol, "speeder", float(val)))
            if seconds.isna().any():
                notes.append(f"speeder: {int(seconds.isna().sum())} respondent(s) have no completion time and were not judged.")

    # straightline
    if straightline is not False:
        roots = [n for n, c in instrument.constructs.items() if c.parent is None]
        blocks = {}
        for r in roots:
            ids = [i for i in instrument.items_of(r) if i in data.columns and instrument.scale_of(i).type in ("likert", "ordinal")]
            if len(ids) >= min_block:
                blocks[r] = ids
        if not blocks:
            notes.append(f"straightline: no block of at least {min_block} Likert items; rule not run.")
        else:
            share_needed = 1.0 if straightline is True else float(straightline)
            thresholds["straightline"] = {"share": share_needed, "blocks": {k: len(v) for k, v in blocks.items()}}
            flag = pd.Series(False, index=data.index)
            for name, ids in blocks.items():
                block = numeric[ids]
                answered = block.notna().sum(axis=1)
                modal_share = block.apply(lambda row: row.value_counts().max() if row.notna().any() else 0, axis=1) / answered.replace(0, np.nan)
                hit = (answered >= min_block) & (modal_share >= share_needed - 1e-12)
                for rid in hit[hit].index:
                    failures.append((rid, name, "straightline", float(modal_share[rid])))
                flag |= hit
            flags["straightline"] = flag

    # attention
    if attention is not False:
        expected = dict(instrument.attention_checks) if attention in (None, True) else dict(attention)
        unknown = [k for k in expected if k not in data.columns]
        if unknown:
            raise UnknownItemError(f"attention= names item(s) not in the data: {unknown[:5]}. Fix: use the check items' ids.")
        if not expected:
            notes.append("attention: the instrument declares no attention checks; rule not run.")
        else:
            thresholds["attention"] = expected
            flag = pd.Series(False, index=data.index)
            for item, answer in expected.items():
                v = pd.to_numeric(data[item], errors="coerce")
                wrong = v.isna() | (v != float(answer))
                for rid, val in v[wrong].items():
                    failures.append((rid, item, "attention", None if pd.isna(val) else float(val)))
                flag |= wrong
            flags["attention"] = flag

    # duplicate
    if duplicates:
        keyframe = data[questions]
        order = _submission_order(data)
        ordered = keyframe.loc[order]
        answered = ordered.notna().any(axis=1)
        hashed = pd.util.hash_pandas_object(ordered.astype("string").fillna("\x00NA"), index=False)
        dup = hashed.duplicated(keep="first") & answered
        first_of = hashed[~hashed.duplicated(keep="first")]
        first_by_hash = pd.Series(first_of.index, index=first_of.values)
        flag = pd.Series(dup.reindex(data.index).fillna(False).astype(bool), index=data.index)
        flags["duplicate"] = flag
        for rid in flag[flag].index:
            first = first_by_hash[hashed[rid]]
            failures.append((rid, "(all questions)", "duplicate", first.item() if isinstance(first, np.generic) else first))

    # near_duplicate
    if near_duplicates is not False:
        share = DEFAULT_NEAR_SHARE if near_duplicates is True else float(near_duplicates)
        skip = flags["duplicate"] if "duplicate" in flags.columns else pd.Series(False, index=data.index)
        flag = _near_duplicate_rule(data, numeric, construct_items, share, skip, failures, thresholds, notes)
        if flag is not None:
            flags["near_duplicate"] = flag

    # mahalanobis
    if mahalanobis_p is not None:
        x = numeric[construct_items].dropna()
        k = x.shape[1]
        if x.shape[0] <= k + 1:
            raise DataValidationError(
                f"mahalanobis_p needs more complete cases ({x.shape[0]}) than items ({k}) + 1. Fix: turn it off or screen fewer items."
            )
        _, centred = centre(x.to_numpy(dtype=float))     # corrected two-pass: exact for items far from 0
        cov = centred.T @ centred / (x.shape[0] - 1)
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise DataValidationError(
                "The construct items' covariance matrix is singular (an item is constant or a copy of others), "
                "so Mahalanobis distances are undefined. Fix: drop constant or duplicated items, or leave mahalanobis_p=None."
            ) from None
        z = np.linalg.solve(chol, centred.T)
        d2 = pd.Series((z**2).sum(axis=0), index=x.index)
        cut = float(stats.chi2.ppf(1 - mahalanobis_p, df=k))
        thresholds["mahalanobis"] = {"d2": cut, "df": k, "p": mahalanobis_p}
        hit = d2 > cut
        flags["mahalanobis"] = hit.reindex(data.index).fillna(False).astype(bool)
        for rid, val in d2[hit].items():
            failures.append((rid, "(construct items)", "mahalanobis", float(val)))

    flags = flags[[r for r in RULES if r in flags.columns]].astype(bool)
    any_flag = flags.any(axis=1)
    excluded_ids = flags.index[any_flag]
    rules_of = flags.loc[excluded_ids].apply(lambda row: ", ".join(c for c in flags.columns if row[c]), axis=1)
    fc = pd.DataFrame(failures, columns=["respondent", "column", "rule", "value"])
    # object dtype keeps each value as it is (a respondent id stays an id, not 6.0)
    fc["value"] = pd.Series([f[3] for f in failures], dtype=object)
    fc["_order"] = fc["rule"].map({r: k for k, r in enumerate(RULES)})
    fc = fc.sort_values(["_order", "respondent"], kind="stable").drop(columns="_order").reset_index(drop=True)
    reasons = {}
    for rid in excluded_ids:
        rows = fc[fc["respondent"] == rid]
        reasons[rid] = "; ".join(_reason(r, c, v, thresholds) for r, c, v in zip(rows["rule"], rows["column"], rows["value"]))
    excluded = pd.DataFrame(
        {"rules": rules_of.reindex(excluded_ids) if len(excluded_ids) else pd.Series(dtype="string"),
         "reason": pd.Series(reasons, dtype="string").reindex(excluded_ids)},
        index=pd.Index(excluded_ids, name="respondent"),
    )
    only = flags[flags.sum(axis=1) == 1]
    summary = pd.DataFrame(
        {"n_flagged": flags.sum(axis=0).astype(int), "n_only": only.sum(axis=0).astype(int)}
    )
    flow = pd.DataFrame(
        {"n_flagged": [flags.shape[0], len(excluded_ids), flags.shape[0] - len(excluded_ids)], "n_only": [pd.NA] * 3},
        index=["total", "excluded", "retained"],
    )
    summary = pd.concat([summary, flow])
    summary.index.name = "rule"
    clean = data.loc[~any_flag]
    clean.attrs = dict(data.attrs)
    everyone = _everyone_excluded(flags, thresholds)
    if everyone:
        notes.append(everyone)
        warnings.warn(everyone, DataWarning, stacklevel=2)
    return Screening(
        clean=clean, flags=flags, excluded=excluded, failure_cases=fc, summary=summary,
        thresholds=thresholds, notes=tuple(notes),
    )
