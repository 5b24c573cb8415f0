"""Near-duplicate submissions: pairs of respondents whose answers almost all agree.

The search is exact but cheap. A pair can only qualify when it disagrees on at most
``d_max = floor((1 − share) × p)`` of the ``p`` items (fewer items answered by both only lowers
that bound), so it disagrees on at most ``d_max`` of any subset of the items. Two kinds of
pair are looked at:

- every pair, at the stricter share (answers alone): a first pass counts disagreements on a
  few of the most varied items for all pairs at once — one matrix product per block of rows,
  on one-hot codes with the missing cells zeroed — and keeps the pairs within ``d_max``.
  Honest respondents disagree on about half of those items, so few pairs survive;
- pairs from the same IP or device, at the looser share: every pair within a small group,
  and the first pass within a large one (an office or campus behind one address).

The survivors are then compared on every item.

References
----------
Kuriakose, N., & Robbins, M. (2016). Don't get duped: Fraud through duplication in public
opinion surveys. *Statistical Journal of the IAOS*, 32(3), 283–291 (the maximum percent
match between a respondent and any other).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from govsurvey._blas import small_matrix_blas

__all__ = ["NearDuplicates", "find_near_duplicates", "modal_share"]

MIN_FILTER_ITEMS = 12
"""The first pass uses max(12, 4 × (d_max + 1)) of the most varied items (all when fewer)."""

SMALL_GROUP = 200
"""Groups (one IP or device) up to this size are compared pair by pair without a first pass."""

BLOCK_ROWS = 1024
"""Rows per block of the first pass: a block's counts take ``BLOCK_ROWS × n × 4`` bytes."""

VERIFY_PAIRS = 200_000
"""Candidate pairs compared on every item at a time."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class NearDuplicates:
    """For each later respondent of a qualifying pair (positions in submission order): the
    earliest earlier partner, the items both answered and the items on which they agree."""

    later: np.ndarray
    earlier: np.ndarray
    n_common: np.ndarray
    n_agree: np.ndarray
    shared: np.ndarray


def modal_share(x: np.ndarray) -> np.ndarray:
    """Per row, the share of the answered cells given the row's most frequent answer (NaN
    when none is answered).

    Examples
    --------
    >>> modal_share(np.array([[5, 5, 5, 4], [1, 2, np.nan, 2], [np.nan] * 4])).round(3).tolist()
    [0.75, 0.667, nan]
    """
    answered = (~np.isnan(x)).sum(axis=1)
    most = np.zeros(x.shape[0], dtype=np.int64)
    for value in np.unique(x[~np.isnan(x)]):
        np.maximum(most, (x == value).sum(axis=1), out=most)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(answered > 0, most / answered, np.nan)


def _one_hot(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows × (Σ levels) float32 indicators of each answer (a missing cell has no 1), and the
    complement within each item: answered − indicator (all 0 where the cell is missing)."""
    blocks, answered = [], []
    for col in x.T:
        codes, levels = pd.factorize(col, use_na_sentinel=True)
        onehot = np.zeros((x.shape[0], max(len(levels), 1)), dtype=np.float32)
        ok = codes >= 0
        onehot[np.flatnonzero(ok), codes[ok]] = 1.0
        blocks.append(onehot)
        answered.append(np.broadcast_to(ok[:, None].astype(np.float32), onehot.shape))
    onehot = np.hstack(blocks)
    return onehot, np.hstack(answered) - onehot


def _filter_items(x: np.ndarray, d_max: int) -> np.ndarray:
    """Columns of the first pass: those on which two random respondents most often differ."""
    width = max(MIN_FILTER_ITEMS, 4 * (d_max + 1))
    if x.shape[1] <= width:
        return np.arange(x.shape[1])
    spread = np.empty(x.shape[1])
    for k, col in enumerate(x.T):
        counts = pd.Series(col).value_counts(normalize=True).to_numpy()
        spread[k] = 1.0 - float((counts**2).sum())
    return np.sort(np.argsort(-spread, kind="stable")[:width])


def _candidates(x: np.ndarray, d_max: int):
    """Yield, block by block, pairs (i < j) that disagree on at most ``d_max`` filter items."""
    onehot, other = _one_hot(x[:, _filter_items(x, d_max)])
    # onehot_i · other_j summed item by item = items both answered − items agreeing
    n = x.shape[0]
    for start in range(0, n - 1, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        close = onehot[start:stop] @ other[start:].T <= d_max + 0.5
        hit = np.flatnonzero(close.any(axis=1))      # most rows have no candidate at all
        rows, cols = np.nonzero(close[hit])
        rows = hit[rows]
        keep = cols > rows                       # the block's columns start at row `start`
        yield rows[keep] + start, cols[keep] + start


def _group_pairs(codes: np.ndarray, x: np.ndarray, d_max: int):
    """Yield pairs (i < j) with the same code (≥ 0): all pairs of a small group, the first
    pass's survivors within a large one."""
    known = np.flatnonzero(codes >= 0)
    rows = known[np.argsort(codes[known], kind="stable")]       # grouped, ascending within a group
    _, starts, sizes = np.unique(codes[rows], return_index=True, return_counts=True)
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= SMALL_GROUP)]):
        members = rows[starts[sizes == size][:, None] + np.arange(size)]      # groups × size
        a, b = np.triu_indices(size, 1)
        yield members[:, a].ravel(), members[:, b].ravel()
    for start, size in zip(starts[sizes > SMALL_GROUP], sizes[sizes > SMALL_GROUP]):
        members = rows[start:start + size]
        for i, j in _candidates(x[members], d_max):
            yield members[i], members[j]


def _compare(x: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Items both answered and items agreeing, pair by pair, on every item."""
    common = np.empty(len(i), dtype=np.int64)
    agree = np.empty(len(i), dtype=np.int64)
    for s in range(0, len(i), VERIFY_PAIRS):
        a, b = x[i[s:s + VERIFY_PAIRS]], x[j[s:s + VERIFY_PAIRS]]
        common[s:s + VERIFY_PAIRS] = (~np.isnan(a) & ~np.isnan(b)).sum(axis=1)
        agree[s:s + VERIFY_PAIRS] = (a == b).sum(axis=1)     # NaN never equals
    return common, agree


@small_matrix_blas      # one BLAS thread below 10⁸ n·p²: as fast here, and half the CPU of two
def find_near_duplicates(x: np.ndarray, groups: np.ndarray | None, *, share: float, share_alone: float,
                         min_common: int) -> NearDuplicates:
    """Later respondents whose answers agree with an earlier respondent's.

    A pair (i earlier, j later) qualifies when both answered at least ``min_common`` items
    and they agree on at least ``share`` of those and share a group in any column of
    ``groups`` (rows × kinds of integer codes, −1 unknown: an IP, a device), or on at least
    ``share_alone`` of them whatever the groups. ``x`` holds the answers (rows in submission
    order, NaN missing).

    Examples
    --------
    >>> x = np.array([[1, 2, 3, 4, 5, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 5, 4, 3, 2, 1],
    ...               [1, 2, 3, 4, 5, 1, 2, 3, 4, np.nan]], dtype=float)
    >>> found = find_near_duplicates(x, None, share=0.9, share_alone=0.95, min_common=8)
    >>> found.later.tolist(), found.earlier.tolist(), found.n_agree.tolist(), found.n_common.tolist()
    ([2], [0], [9], [9])
    """
    n, p = x.shape
    x = np.asarray(x, dtype=float)
    best = np.full(n, -1, dtype=np.int64)
    common_of = np.zeros(n, dtype=np.int64)
    agree_of = np.zeros(n, dtype=np.int64)
    shared_of = np.zeros(n, dtype=bool)
    sources = [_candidates(x, int(np.floor((1.0 - share_alone) * p + 1e-9)))]
    if groups is not None:
        d_group = int(np.floor((1.0 - share) * p + 1e-9))
        sources += [_group_pairs(codes, x, d_group) for codes in np.asarray(groups).T]
    for source in sources:
        for i, j in source:
            if not len(i):
                continue
            common, agree = _compare(x, i, j)
            same = (((groups[i] == groups[j]) & (groups[i] >= 0)).any(axis=1) if groups is not None
                    else np.zeros(len(i), dtype=bool))
            ok = (common >= min_common) & (agree >= np.where(same, share, share_alone) * common - 1e-9)
            i, j, common, agree, same = i[ok], j[ok], common[ok], agree[ok], same[ok]
            # the earliest partner of each j among these pairs, kept if earlier than the one found so far
            by = np.lexsort((i, j))
            first = by[np.unique(j[by], return_index=True)[1]]
            better = first[(best[j[first]] < 0) | (i[first] < best[j[first]])]
            js = j[better]
            best[js], common_of[js], agree_of[js], shared_of[js] = i[better], common[better], agree[better], same[better]
    later = np.flatnonzero(best >= 0)
    return NearDuplicates(later=later, earlier=best[later], n_common=common_of[later],
                          n_agree=agree_of[later], shared=shared_of[later])
