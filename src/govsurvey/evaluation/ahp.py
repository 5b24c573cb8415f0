"""Analytic hierarchy process (AHP, 层次分析法): weights of an evaluation index system from
experts' pairwise-comparison (judgement) matrices, with Saaty's consistency check, group
aggregation and global weights down a hierarchy.

The pipeline follows the data: judgement entries are parsed and the matrix completed by
reciprocals (:func:`_matrix`) → each expert's priority vector and consistency
(:func:`_priorities`, :func:`_check`) → the group's priorities (AIJ or AIP, :func:`_node`) →
the hierarchy (:func:`_structure`) → global weights (:func:`_synthesis`).

References
----------
Crawford, G., & Williams, C. (1985). A note on the analysis of subjective judgment matrices.
*Journal of Mathematical Psychology*, 29(4), 387–405.
Forman, E., & Peniwati, K. (1998). Aggregating individual judgments and priorities with the
analytic hierarchy process. *European Journal of Operational Research*, 108(1), 165–169.
Saaty, T. L. (1980). *The Analytic Hierarchy Process*. New York: McGraw-Hill.
Saaty, T. L. (1990). How to make a decision: The analytic hierarchy process. *European Journal
of Operational Research*, 48(1), 9–26.
Saaty, T. L. (2005). *Theory and Applications of the Analytic Network Process*. Pittsburgh:
RWS Publications.
Saaty, T. L. (2008). Decision making with the analytic hierarchy process. *International
Journal of Services Sciences*, 1(1), 83–98.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.data.options import choice
from govsurvey.errors import (
    DataValidationError,
    DataWarning,
    SpecificationError,
    UnknownItemError,
    preview,
)
from govsurvey.results import Result

__all__ = ["AHP", "ahp", "RANDOM_INDEX_SAATY_1980", "RANDOM_INDEX_SAATY_2005", "CR_THRESHOLD", "MAX_CRITERIA", "ZERO_TOL"]

#: Saaty's (1980) random consistency index RI by matrix order n = 1 … 15 — the table
#: most Chinese AHP studies print (0.58 for n = 3 … 1.49 for n = 10). The dip at n = 12
#: (1.48 < 1.51) is in the table as it is commonly reproduced.
RANDOM_INDEX_SAATY_1980: dict[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
    11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}
#: Saaty's later table from many more simulated matrices (Saaty, 2005; the table ahpy uses
#: with ``random_index='saaty'``): 0.52 for n = 3 … 1.59 for n = 15.
RANDOM_INDEX_SAATY_2005: dict[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.52, 4: 0.89, 5: 1.11, 6: 1.25, 7: 1.35, 8: 1.40, 9: 1.45, 10: 1.49,
    11: 1.52, 12: 1.54, 13: 1.56, 14: 1.58, 15: 1.59,
}
#: A judgement matrix is acceptably consistent when CR ≤ 0.10 (Saaty, 1980).
CR_THRESHOLD = 0.10
#: The largest matrix the random-index tables cover.
MAX_CRITERIA = 15
_RI_TABLES = {"saaty1980": RANDOM_INDEX_SAATY_1980, "saaty2005": RANDOM_INDEX_SAATY_2005}
_RECIPROCITY_TOL = 1e-6
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_JUDGEMENT = re.compile(rf"^({_NUMBER})(?:/({_NUMBER}))?$")
_SCALE = np.array([1 / k for k in range(9, 1, -1)] + list(range(1, 10)), dtype=float)

Judgements = pd.DataFrame | Sequence[pd.DataFrame]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class AHP(Result):
    """Weights and consistency of an AHP (see :func:`ahp`)."""

    weights: pd.Series
    global_weights: pd.Series
    local: pd.DataFrame
    consistency: pd.DataFrame
    lambda_max: float | pd.Series
    ci: float | pd.Series
    cr: float | pd.Series
    matrices: dict[str, pd.DataFrame]
    method: str
    aggregate: str
    random_index: str
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The weights table: one row per node and criterion, local and global weight."""
        return self.local

    @property
    def consistent(self) -> bool:
        """Every judgement matrix (each expert's and each group matrix) has CR ≤ 0.10."""
        return bool(self.consistency["consistent"].all())

    def __repr__(self) -> str:
        nodes = len(self.matrices)
        crs = self.consistency["cr"].to_numpy(dtype=float)
        worst = float(np.nanmax(crs)) if np.isfinite(crs).any() else float("nan")
        cr = f"cr={self.cr:.4f}" if isinstance(self.cr, float) else f"max_cr={worst:.4f}"
        top = ", ".join(f"{k!s}: {v:.4f}" for k, v in self.weights.items())
        return (f"AHP(nodes={nodes}, leaves={len(self.global_weights)}, method={self.method!r}, aggregate={self.aggregate!r}, "
                f"{cr}, inconsistent={int((~self.consistency['consistent']).sum())}, weights={{{top}}}, "
                f"warnings={len(self.warnings)})")


@dataclasses.dataclass(frozen=True)
class _Node:
    """One node's result: its criteria, weights, the matrix used and its consistency rows."""

    criteria: list[str]
    weights: np.ndarray
    matrix: pd.DataFrame
    rows: list[dict[str, Any]]
    summary: tuple[float, float, float]  # lambda_max, ci, cr of the node's matrix (NaN under AIP groups)


def _warn(messages: list[str], text: str) -> None:
    """Record a warning for the result and emit it as a :class:`DataWarning` at the caller's line."""
    messages.append(text)
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warnings.warn(text, DataWarning, stacklevel=level)


def _show(a: float) -> str:
    """A judgement as a person writes it: 3, 1/5, 2.5."""
    return f"{a:.4g}" if a >= 1 or not math.isfinite(a) or a <= 0 else f"1/{1 / a:.4g}"


# ------------------------------------------------------------------ parsing and checks
def _judgement(value: Any, where: str) -> float:
    """One matrix entry as a float (NaN when blank): a number, or text such as "3" or "1/3"."""
    if value is None or value is pd.NA:
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        raise DataValidationError(f"{where} is {value!r}. Fix: write a judgement from Saaty's 1–9 scale, such as 3 or 1/3.")
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        text = re.sub(r"\s+", "", value).replace("／", "/")
        if not text:
            return math.nan
        match = _JUDGEMENT.match(text)
        if match is None:
            raise DataValidationError(f"{where} is {value!r}, which is not a judgement. Fix: write a number such as 3 "
                                      "or a fraction such as 1/3.")
        num, den = float(match.group(1)), float(match.group(2) or 1)
        if den == 0:
            raise DataValidationError(f"{where} is {value!r}, a division by zero. Fix: write a fraction such as 1/3.")
        return num / den
    raise DataValidationError(f"{where} is a {type(value).__name__}, not a judgement. Fix: write a number such as 3 "
                              "or a fraction such as 1/3.")


def _matrix(frame: Any, where: str, messages: list[str]) -> tuple[list[str], np.ndarray]:
    """The criteria and the complete, reciprocal judgement matrix of one expert."""
    if not isinstance(frame, pd.DataFrame):
        raise SpecificationError(f"{where}: a judgement matrix must be a pandas DataFrame, got {type(frame).__name__}. "
                                 "Fix: pd.DataFrame(values, index=criteria, columns=criteria).")
    rows, cols = [str(r) for r in frame.index], [str(c) for c in frame.columns]
    if len(set(rows)) != len(rows) or len(set(cols)) != len(cols):
        raise DataValidationError(f"{where}: a criterion is named twice in the matrix's rows or columns. Fix: give each "
                                  "criterion one row and one column.")
    if set(rows) != set(cols):
        raise DataValidationError(f"{where}: the rows ({preview(rows)}) and columns ({preview(cols)}) do not name the same "
                                  "criteria. Fix: label rows and columns with the same criteria, in the same order.")
    n = len(rows)
    if n == 0:
        raise DataValidationError(f"{where}: the judgement matrix is empty. Fix: give at least one criterion.")
    if n > MAX_CRITERIA:
        raise DataValidationError(f"{where}: {n} criteria are compared in one matrix; the random index is tabulated for at "
                                  f"most {MAX_CRITERIA} (and Saaty advises at most 9). Fix: group the criteria into "
                                  "sub-criteria and compare them in smaller matrices.")
    values = frame.to_numpy(dtype=object)[:, [cols.index(r) for r in rows]]
    a = np.array([[_judgement(values[i, j], f"{where}, cell [{rows[i]}, {rows[j]}]") for j in range(n)] for i in range(n)])
    _complete(a, rows, where)
    outside = [f"[{rows[i]}, {rows[j]}] = {_show(a[i, j])}" for i in range(n) for j in range(i + 1, n)
               if not (1 / 9 - 1e-9 <= a[i, j] <= 9 + 1e-9)]
    if outside:
        _warn(messages, f"{where}: {len(outside)} judgement(s) lie outside Saaty's scale 1/9 … 9: {preview(outside)}. "
                        "They are used as given. Fix: check for typing errors, or restate them on the 1–9 scale.")
    return rows, a


def _complete(a: np.ndarray, names: list[str], where: str) -> None:
    """Check the diagonal, positivity and reciprocity, fill blanks by reciprocals (in place on
    the parsed copy); the upper triangle is kept and the lower set to its exact reciprocals."""
    n = len(names)
    for i in range(n):
        d = a[i, i]
        if not math.isnan(d) and abs(d - 1) > _RECIPROCITY_TOL:
            raise DataValidationError(f"{where}: the diagonal cell [{names[i]}, {names[i]}] is {d:.6g}; a criterion compared "
                                      "with itself is 1. Fix: write 1 on the diagonal or leave it blank.")
        a[i, i] = 1.0
    for i, j in zip(*np.nonzero(~np.isnan(a))):
        if not (math.isfinite(a[i, j]) and a[i, j] > 0):
            raise DataValidationError(f"{where}: cell [{names[i]}, {names[j]}] is {a[i, j]:.6g}; judgements must be positive "
                                      "numbers. Fix: use Saaty's 1–9 scale (1/9 … 9).")
    missing = []
    for i in range(n):
        for j in range(i + 1, n):
            x, y = a[i, j], a[j, i]
            if math.isnan(x) and math.isnan(y):
                missing.append(f"[{names[i]}, {names[j]}]")
                continue
            if not math.isnan(x) and not math.isnan(y) and abs(x * y - 1) > _RECIPROCITY_TOL:
                raise DataValidationError(
                    f"{where}: cells [{names[i]}, {names[j]}] = {_show(x)} and [{names[j]}, {names[i]}] = {_show(y)} are not "
                    f"reciprocal (their product is {x * y:.6g}, not 1). Fix: enter one of them and leave the other blank, "
                    f"or make it {_show(1 / x)}.")
            a[i, j] = x if not math.isnan(x) else 1 / y
            a[j, i] = 1 / a[i, j]
    if missing:
        raise DataValidationError(f"{where}: {len(missing)} pair(s) have no judgement: {preview(missing)}. Fix: fill the "
                                  "upper triangle (the row criterion compared with the column criterion).")


# ------------------------------------------------------------------ numerical kernel
def _priorities(a: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    """The priority vector (sum 1) and λmax of a positive reciprocal matrix.

    ``eigen``: the principal (Perron) eigenvector and eigenvalue. ``geometric``: the
    normalised geometric means of the rows, with λmax = mean((A w)_i / w_i).
    """
    n = len(a)
    if n == 1:
        return np.ones(1), 1.0
    if method == "eigen":
        values, vectors = np.linalg.eig(a)
        k = int(np.argmax(values.real))
        w = vectors[:, k].real
        w = w / w.sum()
        lam = float(values[k].real)
    else:
        g = np.exp(np.log(a).mean(axis=1))
        w = g / g.sum()
        lam = float(np.mean((a @ w) / w))
    if not (np.all(np.isfinite(w)) and np.all(w > 0)):
        raise DataValidationError("ahp: the principal eigenvector could not be computed with positive entries (the "
                                  "judgements span too many orders of magnitude). Fix: check the matrix, or use "
                                  "method='geometric'.")
    return w, lam


def _nearest_scale(x: float) -> str:
    """The value of Saaty's scale (1/9 … 9) closest to x on the log scale."""
    return _show(float(_SCALE[np.argmin(np.abs(np.log(_SCALE) - math.log(x)))]))


#: |CI| or |CR| below this is rounding error of the eigenvalue (λmax a hair below n): shown as 0.
ZERO_TOL = 1e-12


def _clamp(x: float) -> float:
    """0.0 for a value within :data:`ZERO_TOL` of 0 (no "-0.0000" for a consistent matrix)."""
    return 0.0 if abs(x) < ZERO_TOL else x


def _check(node: str, expert: Any, a: np.ndarray, w: np.ndarray, lam: float, names: list[str],
           ri_table: Mapping[int, float], messages: list[str]) -> dict[str, Any]:
    """One consistency row; a warning naming the most inconsistent judgement when CR > 0.10."""
    n = len(a)
    worst = {"worst_row": None, "worst_col": None, "worst_judgement": math.nan, "worst_implied": math.nan}
    if n <= 2:   # a reciprocal matrix of order 1 or 2 is always consistent
        lam, ci, ri, cr = float(n), 0.0, 0.0, 0.0
    else:
        ri = float(ri_table.get(n, math.nan))
        if not ri > 0:
            raise SpecificationError(f"ahp: random_index= gives no positive RI for a matrix of order {n} (node {node!r}). "
                                     "Fix: add it to the table, or use random_index='saaty1980'.")
        ci = _clamp((lam - n) / (n - 1))
        cr = _clamp(ci / ri)
        dev = np.abs(np.log(a * w[None, :] / w[:, None]))
        iu = np.triu_indices(n, 1)
        k = int(np.argmax(dev[iu]))
        i, j = int(iu[0][k]), int(iu[1][k])
        worst = {"worst_row": names[i], "worst_col": names[j], "worst_judgement": float(a[i, j]),
                 "worst_implied": float(w[i] / w[j])}
    row = {"node": node, "expert": expert, "n": n, "lambda_max": lam, "ci": ci, "ri": ri, "cr": cr,
           "consistent": bool(cr <= CR_THRESHOLD), **worst}
    if cr > CR_THRESHOLD:
        who = {None: "", "AIJ": " (the experts' aggregated AIJ matrix)"}.get(expert, f", expert {expert}")
        fix = ("have the experts whose own matrices are inconsistent (see .consistency) revisit them, or use "
               "aggregate='AIP'") if expert == "AIJ" else "ask the expert to revisit it and recompute"
        _warn(messages, f"ahp: node {node!r}{who}: CR = {cr:.4f} > {CR_THRESHOLD:.2f} (λmax = {lam:.4f}, n = {n}), so the "
                        f"judgements are not acceptably consistent. The judgement [{names[i]}, {names[j]}] = {_show(a[i, j])} "
                        f"departs most from the weights, which imply {w[i] / w[j]:.3f} (nearest scale value "
                        f"{_nearest_scale(w[i] / w[j])}). Fix: {fix}.")
    return row


def _node(name: str, given: Any, method: str, aggregate: str, ri_table: Mapping[int, float],
          messages: list[str]) -> _Node:
    """A node's priorities from one matrix or several experts' matrices (AIJ or AIP)."""
    if isinstance(given, Mapping):          # expert id → matrix: the ids label the consistency rows
        experts, labels = list(given.values()), list(given.keys())
    else:
        experts = list(given) if isinstance(given, (list, tuple)) else [given]
        labels = list(range(1, len(experts) + 1)) if len(experts) > 1 else [None]
    if not experts:
        raise DataValidationError(f"ahp: node {name!r} has no matrices. Fix: give at least one.")
    several = len(experts) > 1
    names: list[str] = []
    parsed = []
    for label, frame in zip(labels, experts):
        where = f"ahp: node {name!r}" + (f", expert {label}" if label is not None else "")
        crit, a = _matrix(frame, where, messages)
        if names and set(crit) != set(names):
            raise DataValidationError(f"{where}: the criteria ({preview(crit)}) differ from expert 1's ({preview(names)}). "
                                      "Fix: every expert compares the same criteria.")
        if names:
            order = [crit.index(c) for c in names]
            a = a[np.ix_(order, order)]
        names = names or crit
        parsed.append(a)
    rows, vectors = [], []
    for label, a in zip(labels, parsed):
        w, lam = _priorities(a, method)
        rows.append(_check(name, label, a, w, lam, names, ri_table, messages))
        vectors.append(w)
    group = np.exp(np.mean(np.log(np.stack(parsed)), axis=0)) if several else parsed[0]   # AIJ: geometric mean
    if not several:
        w, row = vectors[0], rows[0]
    elif aggregate == "AIJ":
        w, lam = _priorities(group, method)
        row = _check(name, "AIJ", group, w, lam, names, ri_table, messages)
        rows.append(row)
    else:   # AIP: geometric mean of the individual priority vectors, renormalised
        g = np.exp(np.mean(np.log(np.stack(vectors)), axis=0))
        w, row = g / g.sum(), {"lambda_max": math.nan, "ci": math.nan, "cr": math.nan}
    matrix = pd.DataFrame(group, index=names, columns=names)
    return _Node(names, w, matrix, rows, (row["lambda_max"], row["ci"], row["cr"]))


# ------------------------------------------------------------------ hierarchy
def _parent_of(node: str, target: Any, nodes: Mapping[str, list[str]], owners: Mapping[str, list[str]]) -> tuple[str, str]:
    """(parent node, criterion) for a node named in ``hierarchy=``."""
    if isinstance(target, tuple) and len(target) == 2:
        parent, crit = str(target[0]), str(target[1])
        if parent not in nodes or crit not in nodes[parent]:
            raise UnknownItemError(f"ahp: hierarchy= attaches {node!r} to criterion {crit!r} of node {parent!r}, which has "
                                   "no such criterion. Fix: name a node of matrices= and one of its criteria.")
        return parent, crit
    crit = str(target)
    candidates = [p for p in owners.get(crit, []) if p != node]
    if not candidates:
        raise UnknownItemError(f"ahp: hierarchy= attaches {node!r} to {crit!r}, which is not a criterion of any other "
                               "matrix. Fix: name a criterion of the parent matrix.")
    if len(candidates) > 1:
        raise SpecificationError(f"ahp: hierarchy= attaches {node!r} to {crit!r}, a criterion of several matrices "
                                 f"({preview(candidates)}). Fix: give the parent too: hierarchy={{{node!r}: "
                                 f"({candidates[0]!r}, {crit!r})}}.")
    return candidates[0], crit


def _structure(nodes: Mapping[str, list[str]], hierarchy: Mapping[Any, Any] | None) -> tuple[str, dict[tuple[str, str], str]]:
    """The root node and the sub-matrix of each criterion: (parent node, criterion) → child node."""
    given = {str(k): v for k, v in (hierarchy or {}).items()}
    unknown = [k for k in given if k not in nodes]
    if unknown:
        raise UnknownItemError(f"ahp: hierarchy= names node(s) not in matrices=: {preview(unknown)}. Fix: use the keys of "
                               f"matrices= ({preview(list(nodes))}).")
    owners: dict[str, list[str]] = {}
    for node, crits in nodes.items():
        for c in crits:
            owners.setdefault(c, []).append(node)
    children: dict[tuple[str, str], str] = {}
    for node in nodes:
        if node in given:
            link = _parent_of(node, given[node], nodes, owners)
        else:
            candidates = [p for p in owners.get(node, []) if p != node]
            if not candidates:
                continue
            if len(candidates) > 1:
                raise SpecificationError(f"ahp: node {node!r} is a criterion of several matrices ({preview(candidates)}), so "
                                         f"its parent is ambiguous. Fix: hierarchy={{{node!r}: ({candidates[0]!r}, {node!r})}}.")
            link = (candidates[0], node)
        if link in children:
            raise SpecificationError(f"ahp: nodes {children[link]!r} and {node!r} both elaborate criterion {link[1]!r} of "
                                     f"{link[0]!r}. Fix: keep one sub-matrix per criterion.")
        children[link] = node
    roots = [n for n in nodes if n not in children.values()]
    if len(roots) != 1:
        raise SpecificationError(f"ahp: the hierarchy has {len(roots)} top nodes ({preview(roots) or 'none: a cycle'}); it "
                                 "needs exactly one goal. Fix: name each sub-matrix after the criterion it elaborates, or "
                                 "pass hierarchy={child: parent_criterion}.")
    return roots[0], children


def _synthesis(root: str, children: Mapping[tuple[str, str], str], results: Mapping[str, _Node]) -> pd.DataFrame:
    """Local and global weight of every criterion, depth first from the goal."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(node: str, weight: float, level: int) -> None:
        seen.add(node)
        res = results[node]
        for crit, w in zip(res.criteria, res.weights):
            child = children.get((node, crit))
            rows.append({"node": node, "criterion": crit, "level": level, "local_weight": float(w),
                         "global_weight": weight * float(w), "leaf": child is None})
            if child is not None:
                visit(child, weight * float(w), level + 1)

    visit(root, 1.0, 1)
    unreached = [n for n in results if n not in seen]
    if unreached:
        raise SpecificationError(f"ahp: node(s) {preview(unreached)} cannot be reached from the goal {root!r} (their "
                                 "criteria form a cycle). Fix: check which criterion each sub-matrix elaborates.")
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ the public function
def ahp(matrices: Judgements | Mapping[Any, Judgements], *, method: str = "eigen", aggregate: str = "AIJ",
        hierarchy: Mapping[Any, Any] | None = None, random_index: str | Mapping[int, float] = "saaty1980") -> AHP:
    """Analytic hierarchy process (AHP, 层次分析法): weights from pairwise-comparison
    (judgement, 判断矩阵) matrices, Saaty's consistency ratio, group aggregation and the global
    weights of an evaluation index system.

    Parameters
    ----------
    matrices
        One judgement matrix; a list of matrices (several experts judging one node); or a dict
        node → matrix, node → list of experts' matrices or node → dict expert id → matrix (a
        hierarchy; the ids then label the experts' rows of ``consistency``, as
        :func:`govsurvey.data.read_ahp` gives them). A matrix is a square
        DataFrame whose index and columns name the criteria; entry [i, j] says how much more
        important criterion i is than j on Saaty's 1–9 scale. Entries may be numbers or text
        (``"3"``, ``"1/3"``; no arithmetic beyond one fraction). The lower triangle may be left
        blank (NaN, None or ``""``): it is completed by reciprocals; where both triangles are
        given they must be reciprocal to within 1e-6 and the upper triangle is used. The
        diagonal must be 1 or blank. Judgements outside 1/9 … 9 are used with a warning.
    method
        ``"eigen"`` (Saaty's principal eigenvector; λmax its eigenvalue) or ``"geometric"``
        (row geometric means, normalised; Crawford & Williams, 1985), for which λmax is
        estimated as mean((A w)_i / w_i), the usual textbook formula.
    aggregate
        How several experts' matrices for one node are combined (Forman & Peniwati, 1998):
        ``"AIJ"`` — aggregation of individual judgements: the element-wise geometric mean of
        the matrices, whose priorities are then computed (its CR is reported as expert
        ``"AIJ"``); ``"AIP"`` — aggregation of individual priorities: the geometric mean of
        the experts' priority vectors, renormalised (no group matrix, so the node's λmax, CI
        and CR are NaN; each expert's are in ``consistency``).
    hierarchy
        Which criterion each sub-matrix elaborates, ``{child_node: parent_criterion}`` or
        ``{child_node: (parent_node, parent_criterion)}``, needed only when the dict keys do
        not say it. By default a node whose name is a criterion of another matrix is that
        criterion's sub-matrix, and the goal is the one node that is no other matrix's
        criterion.
    random_index
        The random index table for CR: ``"saaty1980"`` (default, :data:`RANDOM_INDEX_SAATY_1980`),
        ``"saaty2005"`` (:data:`RANDOM_INDEX_SAATY_2005`) or a mapping n → RI (e.g. the table of
        your textbook). Say in the thesis which table was used.

    Returns
    -------
    AHP
        ``weights`` — the goal's local weights (Series, sum 1); ``global_weights`` — over the
        leaf criteria (Series, sum 1; the product of local weights down the hierarchy; a leaf
        named under several parents, such as alternatives, gets the sum); ``local`` — one row
        per node and criterion: ``node``, ``criterion``, ``level`` (1 for the goal's criteria),
        ``local_weight``, ``global_weight``, ``leaf`` (also ``to_frame()``); ``consistency`` —
        one row per judgement matrix: ``node``, ``expert`` (None for a node given one matrix;
        1, 2, … for each expert's in a list, the id for a dict of experts; ``"AIJ"`` for the
        aggregated matrix), ``n``, ``lambda_max``,
        ``ci``, ``ri``, ``cr``, ``consistent`` (CR ≤ 0.10), and, for matrices of order 3 or more,
        the judgement furthest from the weights: ``worst_row``, ``worst_col``, ``worst_judgement``
        (a[i, j] as given) and ``worst_implied`` (w_i / w_j, what the weights imply; missing for
        order ≤ 2); ``lambda_max``, ``ci``, ``cr`` — of the
        matrix behind the weights (the single matrix, or the AIJ matrix; NaN under AIP): floats
        when there is one node, Series indexed by node for a hierarchy; ``matrices`` — each
        node's completed matrix (for several experts, their element-wise geometric mean);
        ``method``, ``aggregate``, ``random_index``, ``warnings``.

    Notes
    -----
    CI = (λmax − n)/(n − 1) and CR = CI/RI (Saaty, 1980); matrices of order 1 or 2 are always
    consistent (CI = 0 and RI = 0, so CR = CI/RI is undefined: it is recorded as 0 and
    ``consistent`` is True; a report should show it as "—"). |CI| and |CR| below 1e-12
    (:data:`ZERO_TOL`: λmax of a consistent matrix computed a hair below n) are set to 0. RI
    is tabulated for n ≤ 15, so larger matrices are refused. The judgement a[i, j] with the
    largest |ln(a_ij w_j / w_i)| is the one furthest from what the weights imply (w_i / w_j),
    recorded in ``consistency`` for every matrix of order ≥ 3; when CR > 0.10 a warning names
    the node, the expert and that judgement, a candidate for revision. Under AIJ every expert's
    matrix enters the group matrix, an inconsistent one included. The geometric mean is the
    aggregation that keeps the group matrix reciprocal (Forman & Peniwati, 1998).

    Examples
    --------
    >>> import pandas as pd
    >>> from govsurvey.evaluation.ahp import ahp
    >>> crit = ["预防准备", "监测预警", "处置救援"]
    >>> m = pd.DataFrame([[1, "3", "5"], [None, 1, "2"], [None, None, 1]], index=crit, columns=crit)
    >>> res = ahp(m)
    >>> res.weights.round(4).to_dict()
    {'预防准备': 0.6483, '监测预警': 0.2297, '处置救援': 0.122}
    >>> round(res.cr, 4)
    0.0032

    # In Python: ahpy.Compare("goal", {("预防准备", "监测预警"): 3, ("预防准备", "处置救援"): 5,
    #                                  ("监测预警", "处置救援"): 2}, precision=10, random_index="saaty")
    """
    method = choice(method, "method", ("eigen", "geometric"), where="ahp")
    aggregate = choice(aggregate, "aggregate", ("AIJ", "AIP"), where="ahp")
    ri_name, ri_table = _ri_table(random_index)
    given = {str(k): v for k, v in matrices.items()} if isinstance(matrices, Mapping) else {"goal": matrices}
    if not given:
        raise SpecificationError("ahp: matrices= is an empty dict. Fix: give node → judgement matrix.")
    messages: list[str] = []
    results = {node: _node(node, value, method, aggregate, ri_table, messages) for node, value in given.items()}
    root, children = _structure({k: v.criteria for k, v in results.items()}, hierarchy)
    local = _synthesis(root, children, results)
    leaves = local.loc[local["leaf"]]
    global_weights = leaves.groupby("criterion", sort=False)["global_weight"].sum()
    rows = [row for res in results.values() for row in res.rows]
    consistency = pd.DataFrame(rows)
    consistency["expert"] = pd.Series([row["expert"] for row in rows], dtype=object)
    summary = pd.DataFrame({k: v.summary for k, v in results.items()}, index=["lambda_max", "ci", "cr"]).T
    summary.index.name = "node"
    one = len(results) == 1
    pick = (lambda c: float(summary[c].iloc[0])) if one else (lambda c: summary[c].rename(c))
    weights = pd.Series(results[root].weights, index=pd.Index(results[root].criteria, name="criterion"), name="weight")
    return AHP(weights=weights, global_weights=global_weights.rename("global_weight"), local=local, consistency=consistency,
               lambda_max=pick("lambda_max"), ci=pick("ci"), cr=pick("cr"),
               matrices={k: v.matrix for k, v in results.items()}, method=method, aggregate=aggregate,
               random_index=ri_name, warnings=tuple(messages))


def _ri_table(random_index: Any) -> tuple[str, Mapping[int, float]]:
    """The random-index table's name and values."""
    if isinstance(random_index, Mapping):
        return "custom", {int(k): float(v) for k, v in random_index.items()}
    name = choice(random_index, "random_index", tuple(_RI_TABLES), where="ahp")
    return name, _RI_TABLES[name]
