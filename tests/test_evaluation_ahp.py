"""AHP (govsurvey.evaluation.ahp): a published worked example (Saaty 2008), ahpy 2.1 as an
independent implementation (weights, CR, hierarchies), group aggregation and the geometric-mean
method computed by hand with numpy, input forms, errors and warnings."""

from __future__ import annotations

import copy
import itertools
import json
import math
import warnings

import ahpy
import numpy as np
import pandas as pd
import pytest

from govsurvey.errors import (
    DataValidationError,
    DataWarning,
    SpecificationError,
    UnknownItemError,
)
from govsurvey.evaluation.ahp import (
    AHP,
    RANDOM_INDEX_SAATY_1980,
    RANDOM_INDEX_SAATY_2005,
    ahp,
)

# Saaty (2008), "Decision making with the analytic hierarchy process", Int. J. Services Sciences
# 1(1), 83–98: "which drink is consumed more in the U.S.?". The judgements and the derived
# priorities (.177 .019 .042 .116 .190 .129 .327, C.R. = .022) are as quoted in AHPy's test suite
# (PhilipGriffith/AHPy, tests/test_ahp.py, which cites the paper); the paper itself was not at hand,
# so these are published values at second hand, to the three decimals printed.
DRINKS = ["coffee", "wine", "tea", "beer", "soda", "milk", "water"]
DRINK_PAIRS = {("coffee", "wine"): 9, ("coffee", "tea"): 5, ("coffee", "beer"): 2, ("coffee", "soda"): 1,
               ("coffee", "milk"): 1, ("water", "coffee"): 2, ("water", "wine"): 9, ("water", "tea"): 9,
               ("water", "beer"): 3, ("water", "soda"): 2, ("water", "milk"): 3, ("tea", "wine"): 3,
               ("beer", "wine"): 9, ("beer", "tea"): 3, ("beer", "milk"): 1, ("soda", "wine"): 9, ("soda", "tea"): 4,
               ("soda", "beer"): 2, ("soda", "milk"): 2, ("milk", "wine"): 9, ("milk", "tea"): 3}
DRINKS_PUBLISHED = {"coffee": 0.177, "wine": 0.019, "tea": 0.042, "beer": 0.116, "soda": 0.190, "milk": 0.129,
                    "water": 0.327}


def frame_from_pairs(names: list[str], pairs: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A full reciprocal matrix from ahpy-style pairwise judgements."""
    a = pd.DataFrame(1.0, index=names, columns=names)
    for (i, j), v in pairs.items():
        a.loc[i, j], a.loc[j, i] = v, 1 / v
    return a


def ahpy_compare(name: str, frame: pd.DataFrame) -> ahpy.Compare:
    """The same matrix in ahpy: upper-triangle pairs, full precision, Saaty's 2005 RI table."""
    names = list(frame.index)
    pairs = {(names[i], names[j]): float(frame.iloc[i, j]) for i, j in itertools.combinations(range(len(names)), 2)}
    return ahpy.Compare(name, pairs, precision=15, random_index="saaty")


def random_matrix(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scale = [1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 3, 5, 7, 9, 2, 1 / 2, 4, 1 / 4]
    a = np.ones((n, n))
    for i, j in itertools.combinations(range(n), 2):
        a[i, j] = rng.choice(scale)
        a[j, i] = 1 / a[i, j]
    names = [f"C{k}" for k in range(1, n + 1)]
    return pd.DataFrame(a, index=names, columns=names)


def perron(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Principal eigenvector by power iteration (independent of numpy's eig used in the module)."""
    w = np.ones(len(a)) / len(a)
    for _ in range(10_000):
        nxt = a @ w
        nxt /= nxt.sum()
        if np.max(np.abs(nxt - w)) < 1e-15:
            break
        w = nxt
    return nxt, float(np.mean(a @ nxt / nxt))


# ------------------------------------------------------------------ published example
def test_saaty_2008_drinks_published_priorities_and_cr():
    res = ahp(frame_from_pairs(DRINKS, DRINK_PAIRS))
    for k, v in DRINKS_PUBLISHED.items():
        assert res.weights[k] == pytest.approx(v, abs=5e-4), k      # published to three decimals
    assert round(res.cr, 3) == 0.022                                  # RI(7) = 1.32 (Saaty 1980)
    assert round(ahp(frame_from_pairs(DRINKS, DRINK_PAIRS), random_index="saaty2005").cr, 3) == 0.022   # RI = 1.35
    assert res.consistency["ri"].iloc[0] == 1.32


# ------------------------------------------------------------------ ahpy as the independent implementation
@pytest.mark.parametrize("n,seed", [(3, 1), (4, 2), (5, 3), (6, 4), (7, 5), (8, 6), (9, 7), (12, 8), (15, 9)])
def test_weights_lambda_and_cr_match_ahpy(n, seed):
    frame = random_matrix(n, seed)
    res = _quiet(ahp, frame, random_index="saaty2005")       # random judgements are rarely consistent
    ref = ahpy_compare("goal", frame)
    # ahpy 2.1: priorities by repeated squaring of the matrix, rounded to precision=15 → 1e-8 is ample
    for k, v in ref.local_weights.items():
        assert res.weights[k] == pytest.approx(float(v), abs=1e-8), k
    # ahpy's consistency_ratio with random_index='saaty' uses Saaty's (2005) table, the same as ours here
    ri = RANDOM_INDEX_SAATY_2005[n]
    assert res.cr == pytest.approx(float(ref.consistency_ratio), abs=1e-8)
    assert res.ci == pytest.approx(float(ref.consistency_ratio) * ri, abs=1e-8)
    assert res.lambda_max == pytest.approx(n + float(ref.consistency_ratio) * ri * (n - 1), abs=1e-7)
    # with the default 1980 table CI is the same and only RI differs
    default = _quiet(ahp, frame)
    assert default.ci == pytest.approx(res.ci, abs=1e-12)
    assert default.cr == pytest.approx(res.ci / RANDOM_INDEX_SAATY_1980[n], abs=1e-12)


def test_drinks_match_ahpy():
    frame = frame_from_pairs(DRINKS, DRINK_PAIRS)
    ref = ahpy.Compare("drinks", DRINK_PAIRS, precision=15, random_index="saaty")
    res = ahp(frame, random_index="saaty2005")
    assert res.weights.to_dict() == pytest.approx({k: float(v) for k, v in ref.local_weights.items()}, abs=1e-8)
    assert res.cr == pytest.approx(float(ref.consistency_ratio), abs=1e-8)


def test_saaty_2005_cities_hierarchy_matches_ahpy():
    # Saaty (2005), Theory and Applications of the ANP: choosing a city; the pairs as in AHPy's tests,
    # which quote the synthesized priorities .229 .275 .385 .111 (Bethesda, Boston, Pittsburgh, Santa Fe).
    criteria = {("Culture", "Housing"): 3, ("Culture", "Transportation"): 5, ("Family", "Culture"): 5,
                ("Family", "Housing"): 7, ("Family", "Transportation"): 7, ("Housing", "Transportation"): 3,
                ("Jobs", "Culture"): 2, ("Jobs", "Housing"): 4, ("Jobs", "Transportation"): 7, ("Family", "Jobs"): 1}
    cities = ["Bethesda", "Boston", "Pittsburgh", "Santa Fe"]
    subs = {
        "Culture": {("Bethesda", "Pittsburgh"): 1, ("Boston", "Bethesda"): 2, ("Boston", "Pittsburgh"): 2.5,
                    ("Boston", "Santa Fe"): 1, ("Santa Fe", "Bethesda"): 2, ("Santa Fe", "Pittsburgh"): 2.5},
        "Family": {("Bethesda", "Boston"): 2, ("Bethesda", "Santa Fe"): 4, ("Boston", "Santa Fe"): 2,
                   ("Pittsburgh", "Bethesda"): 3, ("Pittsburgh", "Boston"): 8, ("Pittsburgh", "Santa Fe"): 9},
        "Housing": {("Bethesda", "Boston"): 5, ("Bethesda", "Santa Fe"): 2.5, ("Pittsburgh", "Bethesda"): 2,
                    ("Pittsburgh", "Boston"): 9, ("Pittsburgh", "Santa Fe"): 7, ("Santa Fe", "Boston"): 4},
        "Jobs": {("Bethesda", "Pittsburgh"): 3, ("Bethesda", "Santa Fe"): 4, ("Boston", "Bethesda"): 2,
                 ("Boston", "Pittsburgh"): 6, ("Boston", "Santa Fe"): 8, ("Pittsburgh", "Santa Fe"): 1},
        "Transportation": {("Bethesda", "Boston"): 1.5, ("Bethesda", "Santa Fe"): 4, ("Boston", "Santa Fe"): 2.5,
                           ("Pittsburgh", "Bethesda"): 2, ("Pittsburgh", "Boston"): 3.5, ("Pittsburgh", "Santa Fe"): 9},
    }
    names = ["Culture", "Family", "Housing", "Jobs", "Transportation"]
    matrices = {"goal": frame_from_pairs(names, criteria)} | {k: frame_from_pairs(cities, v) for k, v in subs.items()}
    res = _quiet(ahp, matrices, random_index="saaty2005")
    goal = ahpy.Compare("goal", criteria, precision=15, random_index="saaty")
    goal.add_children([ahpy.Compare(k, v, precision=15, random_index="saaty") for k, v in subs.items()])
    assert res.global_weights.to_dict() == pytest.approx({k: float(v) for k, v in goal.target_weights.items()}, abs=1e-8)
    assert res.global_weights.round(3).to_dict() == {"Bethesda": 0.229, "Boston": 0.275, "Pittsburgh": 0.385, "Santa Fe": 0.111}
    assert res.global_weights.sum() == pytest.approx(1, abs=1e-12)
    assert isinstance(res.cr, pd.Series) and list(res.cr.index) == ["goal", *subs]
    for node in subs:
        child = next(c for c in goal._node_children if c.name == node)
        assert res.cr[node] == pytest.approx(float(child.consistency_ratio), abs=1e-8)


# ------------------------------------------------------------------ a three-level index system
def three_level() -> dict[str, pd.DataFrame]:
    def m(names, upper):
        a = pd.DataFrame(np.nan, index=names, columns=names, dtype=object)
        for (i, j), v in zip(itertools.combinations(range(len(names)), 2), upper):
            a.iloc[i, j] = v
        return a
    return {"应急能力": m(["B1", "B2"], ["2"]),
            "B1": m(["C11", "C12", "C13"], ["3", "5", "2"]),
            "B2": m(["C21", "C22"], ["1/3"]),
            "C11": m(["D1", "D2", "D3", "D4"], ["2", "4", "5", "3", "3", "1"])}


def test_three_level_global_weights_are_products_and_sum_to_one():
    res = ahp(three_level())
    loc = res.local.set_index(["node", "criterion"])["local_weight"]
    assert list(res.global_weights.index) == ["D1", "D2", "D3", "D4", "C12", "C13", "C21", "C22"]
    for d in ["D1", "D2", "D3", "D4"]:
        expected = loc[("应急能力", "B1")] * loc[("B1", "C11")] * loc[("C11", d)]
        assert res.global_weights[d] == pytest.approx(expected, rel=1e-14)
    assert res.global_weights["C22"] == pytest.approx(loc[("应急能力", "B2")] * 0.75, rel=1e-14)
    assert res.global_weights.sum() == pytest.approx(1, abs=1e-14)
    assert res.weights.to_dict() == pytest.approx({"B1": 2 / 3, "B2": 1 / 3}, abs=1e-14)
    assert res.local["level"].tolist() == [1, 2, 3, 3, 3, 3, 2, 2, 1, 2, 2]
    assert res.to_frame() is res.local
    # ahpy's hierarchy gives the same global weights node by node (its target_weights drop leaves
    # whose siblings have sub-criteria, such as C12 and C13, so they are compared per node)
    nodes = {k: ahpy_compare(k, _numeric(v)) for k, v in three_level().items()}
    nodes["B1"].add_children([nodes["C11"]])
    nodes["应急能力"].add_children([nodes["B1"], nodes["B2"]])
    for name, node in nodes.items():
        ours = res.local.loc[res.local["node"] == name].set_index("criterion")["global_weight"].to_dict()
        assert ours == pytest.approx({k: float(v) for k, v in node.global_weights.items()}, abs=1e-8), name


def test_hierarchy_argument_and_ambiguity():
    mats = three_level()
    renamed = {"goal" if k == "应急能力" else f"matrix {k}": v for k, v in mats.items()}
    res = ahp(renamed, hierarchy={"matrix B1": "B1", "matrix B2": ("goal", "B2"), "matrix C11": "C11"})
    assert res.global_weights.to_dict() == pytest.approx(ahp(mats).global_weights.to_dict(), abs=1e-15)
    with pytest.raises(SpecificationError, match=r"2 top nodes.*goal, matrix B1"):
        ahp({"goal": mats["应急能力"], "matrix B1": mats["B1"]})
    with pytest.raises(UnknownItemError, match="not in matrices="):
        ahp(mats, hierarchy={"B9": "B1"})
    with pytest.raises(UnknownItemError, match="not a criterion of any other matrix"):
        ahp(renamed, hierarchy={"matrix B1": "B7"})


# ------------------------------------------------------------------ groups of experts
def experts(n: int = 4) -> list[pd.DataFrame]:
    names = ["A", "B", "C", "D"][:n]
    uppers = [(3, 5, 2, 2, 1 / 2, 1 / 3), (2, 7, 3, 4, 1, 1 / 2), (4, 3, 1 / 2, 1 / 2, 1 / 3, 1 / 4)]
    out = []
    for up in uppers:
        a = np.eye(n)
        for (i, j), v in zip(itertools.combinations(range(n), 2), up):
            a[i, j], a[j, i] = v, 1 / v
        out.append(pd.DataFrame(a, index=names, columns=names))
    return out


def test_aij_and_aip_by_hand():
    mats = experts()
    stack = np.stack([m.to_numpy() for m in mats])
    group = np.exp(np.log(stack).mean(axis=0))              # AIJ: element-wise geometric mean
    w_aij, lam_aij = perron(group)
    ws = [perron(a)[0] for a in stack]
    g = np.exp(np.log(np.stack(ws)).mean(axis=0))           # AIP: geometric mean of priorities
    w_aip = g / g.sum()
    aij = ahp(mats)
    aip = ahp(mats, aggregate="AIP")
    np.testing.assert_allclose(aij.weights.to_numpy(), w_aij, rtol=0, atol=1e-12)
    np.testing.assert_allclose(aip.weights.to_numpy(), w_aip, rtol=0, atol=1e-12)
    assert np.max(np.abs(w_aij - w_aip)) > 1e-3            # the two aggregations differ for n = 4
    assert aij.lambda_max == pytest.approx(lam_aij, abs=1e-10)
    assert aij.cr == pytest.approx((lam_aij - 4) / 3 / 0.90, abs=1e-10)
    assert math.isnan(aip.cr) and math.isnan(aip.lambda_max)
    assert aij.consistency["expert"].tolist() == [1, 2, 3, "AIJ"]
    assert aip.consistency["expert"].tolist() == [1, 2, 3]
    for k, a in enumerate(stack):
        assert aij.consistency["cr"].iloc[k] == pytest.approx((perron(a)[1] - 4) / 3 / 0.90, abs=1e-10)
    np.testing.assert_allclose(aij.matrices["goal"].to_numpy(), group, rtol=1e-15)


def test_aij_equals_aip_for_three_criteria():
    # for n = 3 the eigenvector is the row geometric mean, so both aggregations coincide exactly
    mats = experts(3)
    assert ahp(mats).weights.to_numpy() == pytest.approx(ahp(mats, aggregate="AIP").weights.to_numpy(), abs=1e-14)


def test_experts_with_different_criteria_or_order():
    mats = experts()
    shuffled = mats[1].loc[["C", "A", "D", "B"], ["B", "D", "C", "A"]]
    res = ahp([mats[0], shuffled, mats[2]])
    assert res.weights.to_dict() == pytest.approx(ahp(mats).weights.to_dict(), abs=1e-15)
    other = mats[2].rename(index={"C": "E"}, columns={"C": "E"})
    with pytest.raises(DataValidationError, match=r"node 'goal', expert 2: the criteria .* differ from expert 1's"):
        ahp([mats[0], other])


# ------------------------------------------------------------------ methods and input forms
def test_geometric_method_by_hand():
    frame = frame_from_pairs(DRINKS, DRINK_PAIRS)
    a = frame.to_numpy()
    g = np.prod(a, axis=1) ** (1 / len(a))
    w = g / g.sum()
    res = ahp(frame, method="geometric")
    np.testing.assert_allclose(res.weights.to_numpy(), w, rtol=1e-13)
    assert res.lambda_max == pytest.approx(np.mean(a @ w / w), rel=1e-13)
    assert res.ci == pytest.approx((res.lambda_max - 7) / 6, rel=1e-12)
    assert res.method == "geometric"


def test_string_entries_and_upper_triangle_equal_the_full_matrix():
    names = ["a", "b", "c", "d"]
    full = pd.DataFrame([[1, 3, 5, 1 / 2], [1 / 3, 1, 2, 1 / 4], [1 / 5, 1 / 2, 1, 1 / 7], [2, 4, 7, 1]],
                        index=names, columns=names)
    text = pd.DataFrame([["1", "3", "5", "1/2"], ["1/3", "1", "2", "1/4"], ["1/5", " 1 / 2", "1", "1/7"],
                         ["2", "4", "7", "1"]], index=names, columns=names)
    upper = pd.DataFrame([[1, "3", 5, "1／2"], [None, "", "2", "1/4"], [np.nan, None, 1, "1/7"], [None, "", None, None]],
                         index=names, columns=names)
    ref = ahp(full)
    for other in (text, upper, full.loc[names[::-1], names]):        # rows in another order: columns rule
        res = ahp(other)
        assert res.weights.to_dict() == pytest.approx(ref.weights.to_dict(), abs=1e-14)
        assert res.cr == pytest.approx(ref.cr, abs=1e-12)


def test_n1_n2_and_n16():
    one = ahp(pd.DataFrame([[1]], index=["x"], columns=["x"]))
    assert one.weights.tolist() == [1.0] and (one.lambda_max, one.ci, one.cr) == (1.0, 0.0, 0.0)
    two = ahp(pd.DataFrame([[1, "4"], [None, 1]], index=["x", "y"], columns=["x", "y"]))
    assert two.weights.to_numpy() == pytest.approx([0.8, 0.2], abs=1e-15)
    assert (two.lambda_max, two.ci, two.cr) == (2.0, 0.0, 0.0)
    assert two.consistency["consistent"].all()
    names = [f"C{i}" for i in range(16)]
    with pytest.raises(DataValidationError, match=r"16 criteria .* at most 15 .* Fix: group the criteria"):
        ahp(pd.DataFrame(1.0, index=names, columns=names))


# ------------------------------------------------------------------ warnings and errors
def inconsistent() -> pd.DataFrame:
    names = ["P", "Q", "R", "S"]
    return frame_from_pairs(names, {("P", "Q"): 3, ("P", "R"): 1 / 5, ("P", "S"): 7, ("Q", "R"): 5, ("Q", "S"): 1 / 3,
                                    ("R", "S"): 9})


def test_cr_warning_names_node_expert_and_most_inconsistent_judgement():
    frame = inconsistent()
    a = frame.to_numpy()
    w, lam = perron(a)
    cr = (lam - 4) / 3 / 0.90
    assert cr > 0.1
    dev = np.abs(np.log(a * w[None, :] / w[:, None]))
    i, j = np.unravel_index(np.argmax(np.triu(dev, 1)), dev.shape)
    cell = f"[{frame.index[i]}, {frame.columns[j]}]"
    with pytest.warns(DataWarning) as caught:
        res = ahp({"B2": frame}, hierarchy=None)
    text = str(caught[0].message)
    assert f"node 'B2': CR = {cr:.4f} > 0.10" in text
    assert f"The judgement {cell} =" in text and f"which imply {w[i] / w[j]:.3f}" in text
    assert res.warnings == (text,) and not res.consistent
    assert res.consistency["consistent"].tolist() == [False]
    relabelled = frame.set_axis(["A", "B", "C", "D"], axis=0).set_axis(["A", "B", "C", "D"], axis=1)
    with pytest.warns(DataWarning) as caught:
        group = ahp([experts()[0], relabelled, experts()[1]])
    assert any(str(c.message).startswith("ahp: node 'goal', expert 2: CR = ") for c in caught)
    assert not group.consistency.loc[1, "consistent"]


def test_scale_warning_and_entry_errors():
    names = ["a", "b", "c"]
    with pytest.warns(DataWarning, match=r"1 judgement\(s\) lie outside Saaty's scale .*\[a, c\] = 12"):
        res = ahp(pd.DataFrame([[1, 2, 12], [None, 1, 6], [None, None, 1]], index=names, columns=names))
    assert len(res.warnings) == 1
    bad = pd.DataFrame([[1, 3, 5], [0.5, 1, 2], [0.2, 0.5, 1]], index=names, columns=names)
    with pytest.raises(DataValidationError, match=r"cells \[a, b\] = 3 and \[b, a\] = 1/2 are not reciprocal .* make it 1/3"):
        ahp(bad)
    cases = [([[1, "3*3", 5]], r"cell \[a, b\] is '3\*3', which is not a judgement"),
             ([[1, "1/0", 5]], r"cell \[a, b\] is '1/0', a division by zero"),
             ([[1, -3, 5]], r"cell \[a, b\] is -3; judgements must be positive"),
             ([[2, 3, 5]], r"diagonal cell \[a, a\] is 2"),
             ([[1, None, 5]], r"1 pair\(s\) have no judgement: \[a, b\]"),
             ([[1, True, 5]], r"cell \[a, b\] is True")]
    for first, message in cases:
        frame = pd.DataFrame(first + [[None, 1, 2], [None, None, 1]], index=names, columns=names)
        with pytest.raises(DataValidationError, match=message):
            ahp(frame)
    with pytest.raises(DataValidationError, match="do not name the same criteria"):
        ahp(pd.DataFrame(np.ones((2, 2)), index=["a", "b"], columns=["a", "c"]))
    with pytest.raises(SpecificationError, match="must be a pandas DataFrame"):
        ahp(np.ones((3, 3)))
    with pytest.raises(SpecificationError, match="method='eig' is not known"):
        ahp(bad, method="eig")
    with pytest.raises(SpecificationError, match="no positive RI for a matrix of order 3"):
        ahp(experts(3)[0], random_index={4: 0.9})
    assert ahp(experts(3)[0], random_index={3: 0.5}).random_index == "custom"


def test_inputs_not_modified_and_result_serialises():
    mats = three_level()
    group = experts()
    before, before_group = copy.deepcopy(mats), copy.deepcopy(group)
    res = ahp(mats)
    ahp(group, aggregate="AIP")
    for k in mats:
        pd.testing.assert_frame_equal(mats[k], before[k])
    for a, b in zip(group, before_group):
        pd.testing.assert_frame_equal(a, b)
    assert list(mats) == list(before)
    assert isinstance(res, AHP)
    json.dumps(res.to_dict(), ensure_ascii=False)
    assert repr(res) == repr(ahp(three_level()))
    assert repr(res).startswith("AHP(nodes=4, leaves=8, method='eigen', aggregate='AIJ', max_cr=")


# ------------------------------------------------------------------ helpers
def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """An upper-triangle text matrix as numbers (for ahpy)."""
    out = frame.map(lambda v: np.nan if v is None or (isinstance(v, float) and np.isnan(v)) else fraction_value(v))
    return out


def fraction_value(v) -> float:
    if isinstance(v, str) and "/" in v:
        num, den = v.split("/")
        return float(num) / float(den)
    return float(v)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ reporting fields
def test_consistent_matrices_have_ci_and_cr_exactly_zero():
    """λmax of a consistent matrix comes out a hair below or above n; |CI|, |CR| < 1e-12 are 0
    (no "-0.0000" in a repr or a report)."""
    names = ["a", "b", "c", "d"]
    consistent = frame_from_pairs(names, {("a", "b"): 2, ("a", "c"): 4, ("a", "d"): 8, ("b", "c"): 2, ("b", "d"): 4,
                                          ("c", "d"): 2})
    for method in ("eigen", "geometric"):
        res = ahp({"g": consistent, "a": frame_from_pairs(["x", "y", "z"], {("x", "y"): 3, ("x", "z"): 9, ("y", "z"): 3})},
                  method=method)
        assert (res.consistency["ci"] == 0.0).all() and (res.consistency["cr"] == 0.0).all()
        assert not np.signbit(res.consistency["cr"].to_numpy()).any()
        assert "-0.0000" not in repr(res)


def test_the_judgement_furthest_from_the_weights_is_recorded_for_every_matrix_of_order_3_or_more():
    frame = inconsistent()
    a = frame.to_numpy()
    w, _ = perron(a)
    dev = np.abs(np.log(a * w[None, :] / w[:, None]))
    i, j = np.unravel_index(np.argmax(np.triu(dev, 1)), dev.shape)
    two = pd.DataFrame([[1, "4"], [None, 1]], index=["x", "y"], columns=["x", "y"])
    with pytest.warns(DataWarning):
        res = ahp({"B2": frame, "Q": two})
    row = res.consistency.set_index("node").loc["B2"]
    assert (row["worst_row"], row["worst_col"]) == (frame.index[i], frame.columns[j])
    assert row["worst_judgement"] == pytest.approx(a[i, j], rel=1e-15)
    assert row["worst_implied"] == pytest.approx(w[i] / w[j], rel=1e-9)         # the warning's "which imply"
    order2 = res.consistency.set_index("node").loc["Q"]
    assert pd.isna(order2["worst_row"]) and np.isnan(order2["worst_implied"])
