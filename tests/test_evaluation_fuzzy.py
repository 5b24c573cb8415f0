"""Fuzzy comprehensive evaluation: a published max–min example, each composition operator on a
small example computed by hand, two levels, units, levels and reverse keys from the bundled
instrument, ties, and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.evaluation.fuzzy import OVERALL, fuzzy_evaluation

LEVELS4 = {1: "很欢迎", 2: "较欢迎", 3: "不太欢迎", 4: "不欢迎"}


def respondents_with_shares(counts: dict[str, list[int]]) -> pd.DataFrame:
    """Respondents whose answers to each indicator fall into levels 1..K with the given counts."""
    return pd.DataFrame({name: np.repeat(np.arange(1, len(c) + 1), c).astype(float) for name, c in counts.items()})


# ------------------------------------------------------------------ a published example
# The clothing example of fuzzy comprehensive evaluation (因素集 花色, 式样, 耐穿程度, 价格; 评语集 很欢迎, 较欢迎,
# 不太欢迎, 不欢迎), as given in a MATLAB worked example ("Example8_4") reproduced at
# https://e-com-net.com/article/1276296104417181696.htm: R = [[.2 .5 .2 .1], [.7 .2 .1 0], [0 .4 .5 .1],
# [.2 .3 .5 0]], weights A1 = (.1, .2, .3, .4) and A2 = (.4, .35, .15, .1), model M(∧,∨) (主因素决定型), published
# B1 = (0.2, 0.3, 0.4, 0.1) → 不太欢迎 and B2 = (0.35, 0.4, 0.2, 0.1) → 较欢迎. (The printed textbook behind that
# example was not checked; the B values were also verified by hand: e.g. b1 for A1 = max(.1∧.2, .2∧.7, .3∧0, .4∧.2) = .2.)
CLOTHING = respondents_with_shares({"花色": [2, 5, 2, 1], "式样": [7, 2, 1, 0], "耐穿程度": [0, 4, 5, 1], "价格": [2, 3, 5, 0]})


@pytest.mark.parametrize("weights, published, grade", [
    ((0.1, 0.2, 0.3, 0.4), (0.2, 0.3, 0.4, 0.1), "不太欢迎"),
    ((0.4, 0.35, 0.15, 0.1), (0.35, 0.4, 0.2, 0.1), "较欢迎"),
])
def test_published_clothing_example(weights, published, grade):
    w = pd.Series(weights, index=CLOTHING.columns)
    res = fuzzy_evaluation(CLOTHING, weights=w, levels=LEVELS4, operator="M(∧,∨)")
    np.testing.assert_allclose(res.membership.to_numpy(), [[.2, .5, .2, .1], [.7, .2, .1, 0], [0, .4, .5, .1], [.2, .3, .5, 0]],
                               rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.raw_vector.loc[OVERALL].to_numpy(), published, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.vector.loc[OVERALL].to_numpy(), np.array(published) / sum(published), rtol=0, atol=1e-15)
    assert res.grade[OVERALL] == grade


def test_clothing_example_weighted_average_by_hand():
    # B = A1 · R: b1 = .1·.2 + .2·.7 + .3·0 + .4·.2 = .24; b2 = .05 + .04 + .12 + .12 = .33;
    # b3 = .02 + .02 + .15 + .20 = .39; b4 = .01 + 0 + .03 + 0 = .04 (sums to 1: no normalisation).
    w = pd.Series((0.1, 0.2, 0.3, 0.4), index=CLOTHING.columns)
    res = fuzzy_evaluation(CLOTHING, weights=w, levels=LEVELS4)
    np.testing.assert_allclose(res.vector.loc[OVERALL].to_numpy(), [0.24, 0.33, 0.39, 0.04], rtol=0, atol=1e-15)
    assert res.grade[OVERALL] == "不太欢迎"
    assert res.score[OVERALL] == pytest.approx(0.24 + 2 * 0.33 + 3 * 0.39 + 4 * 0.04, abs=1e-15)


# ------------------------------------------------------------------ each operator by hand
# Ten respondents, two indicators, three levels: R = [[.5, .3, .2], [.2, .4, .4]], W = (.6, .4).
SMALL = respondents_with_shares({"a": [5, 3, 2], "b": [2, 4, 4]})
W = {"a": 0.6, "b": 0.4}


@pytest.mark.parametrize("operator, raw", [
    ("M(·,⊕)", [.6 * .5 + .4 * .2, .6 * .3 + .4 * .4, .6 * .2 + .4 * .4]),              # (.38, .34, .28)
    ("M(∧,∨)", [max(min(.6, .5), min(.4, .2)), max(min(.6, .3), min(.4, .4)), max(min(.6, .2), min(.4, .4))]),  # (.5, .4, .4)
    ("M(·,∨)", [max(.6 * .5, .4 * .2), max(.6 * .3, .4 * .4), max(.6 * .2, .4 * .4)]),  # (.3, .18, .16)
    ("M(∧,⊕)", [min(1, .5 + .2), min(1, .3 + .4), min(1, .2 + .4)]),                    # (.7, .7, .6)
])
def test_operators_by_hand(operator, raw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)          # M(∧,⊕) ties here; tested below
        res = fuzzy_evaluation(SMALL, weights=W, operator=operator)
    np.testing.assert_allclose(res.raw_vector.loc[OVERALL].to_numpy(), raw, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.vector.loc[OVERALL].to_numpy(), np.array(raw) / sum(raw), rtol=0, atol=1e-15)
    assert res.operator == operator and res.levels == (1, 2, 3)


def test_operator_aliases():
    assert fuzzy_evaluation(SMALL, weights=W, operator="maxmin").operator == "M(∧,∨)"
    assert fuzzy_evaluation(SMALL, weights=W, operator="weighted").operator == "M(·,⊕)"
    with pytest.raises(gs.SpecificationError, match="operator='max'"):
        fuzzy_evaluation(SMALL, operator="max")


def test_tie_warned_and_first_level_given():
    with pytest.warns(gs.DataWarning, match=r"shared by two or more levels for \(all\)"):
        res = fuzzy_evaluation(SMALL, weights=W, operator="M(∧,⊕)")          # (.35, .35, .30)
    assert res.grade[OVERALL] == 1 and bool(res.table.loc[OVERALL, "tied"])
    assert any("shared" in w for w in res.warnings)


def test_scores_and_default_weights():
    b = np.array([(.5 + .2) / 2, (.3 + .4) / 2, (.2 + .4) / 2])                   # equal weights: (.35, .35, .30)
    with pytest.warns(gs.DataWarning, match="shared"):
        res = fuzzy_evaluation(SMALL, scores=(60, 80, 100))
    np.testing.assert_allclose(res.vector.loc[OVERALL].to_numpy(), b, rtol=0, atol=1e-15)
    assert res.score[OVERALL] == pytest.approx(b @ [60, 80, 100], abs=1e-12)
    assert res.scores == (60.0, 80.0, 100.0)
    with pytest.warns(gs.DataWarning, match="shared"):
        res = fuzzy_evaluation(SMALL, scores={1: 0, 2: 50, 3: 100})
    assert res.score[OVERALL] == pytest.approx(b @ [0, 50, 100], abs=1e-12)
    with pytest.raises(gs.SpecificationError, match="one finite score per level"):
        fuzzy_evaluation(SMALL, scores=(1, 2))


def test_levels_from_data_and_unobserved_levels():
    d = pd.DataFrame({"a": [2.0, 3.0, 4.0, 4.0], "b": [3.0, 3.0, np.nan, 2.0]})
    res = fuzzy_evaluation(d)
    assert res.levels == (1, 2, 3, 4)                   # 1..max; nobody chose 1
    np.testing.assert_allclose(res.membership.to_numpy(), [[0, .25, .25, .5], [0, 1 / 3, 2 / 3, 0]], rtol=0, atol=1e-15)
    assert res.n_answers.tolist() == [4, 3]             # NaN left out per indicator
    res = fuzzy_evaluation(d, levels=[1, 2, 3, 4, 5])
    assert res.membership.shape == (2, 5) and res.membership[5].eq(0).all()
    with pytest.raises(gs.OutOfRangeError, match="a=4"):
        fuzzy_evaluation(d, levels={1: "差", 2: "中", 3: "好"})


# ------------------------------------------------------------------ two levels
THREE = respondents_with_shares({"q1": [5, 3, 2], "q2": [2, 4, 4], "q3": [1, 1, 8]})


def test_two_level_by_hand():
    # g1 = {q1, q2} with local weights (.6, .4): B_g1 = (.38, .34, .28); g2 = {q3}: B_g2 = (.1, .1, .8).
    # Dimension weights (.3, .7): B = .3·B_g1 + .7·B_g2 = (.114 + .07, .102 + .07, .084 + .56).
    res = fuzzy_evaluation(THREE, weights={"q1": 0.6, "q2": 0.4, "q3": 1.0}, groups={"q1": "g1", "q2": "g1", "q3": "g2"},
                           dimension_weights={"g1": 0.3, "g2": 0.7})
    np.testing.assert_allclose(res.dimensions.loc[["g1", "g2"], [1, 2, 3]].to_numpy(),
                               [[.38, .34, .28], [.1, .1, .8]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.vector.loc[OVERALL].to_numpy(), [.184, .172, .644], rtol=0, atol=1e-15)
    assert res.dimensions["grade"].tolist() == [1, 3]
    np.testing.assert_allclose(res.weights, [0.6, 0.4, 1.0], rtol=0, atol=1e-15)
    assert res.dimension_weights.to_dict() == {"g1": 0.3, "g2": 0.7}
    # dimension → indicators is accepted too
    same = fuzzy_evaluation(THREE, weights={"q1": 0.6, "q2": 0.4, "q3": 1.0}, groups={"g1": ["q1", "q2"], "g2": ["q3"]},
                            dimension_weights={"g1": 0.3, "g2": 0.7})
    pd.testing.assert_frame_equal(same.table, res.table)


def test_two_level_with_global_weights_equals_one_level():
    w = {"q1": 0.3, "q2": 0.2, "q3": 0.5}
    one = fuzzy_evaluation(THREE, weights=w)
    two = fuzzy_evaluation(THREE, weights=w, groups={"q1": "g1", "q2": "g1", "q3": "g2"})
    np.testing.assert_allclose(two.dimension_weights, [0.5, 0.5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(two.vector.to_numpy(), one.vector.to_numpy(), rtol=0, atol=1e-15)


def test_groups_checked():
    with pytest.raises(gs.UnknownItemError, match="no dimension for q3"):
        fuzzy_evaluation(THREE, groups={"q1": "g1", "q2": "g1"})
    with pytest.raises(gs.UnknownItemError, match="dimension_weights"):
        fuzzy_evaluation(THREE, groups={"q1": "g1", "q2": "g1", "q3": "g2"}, dimension_weights={"g1": 1.0})


# ------------------------------------------------------------------ units
def test_by_units_and_the_whole_sample():
    d = pd.concat([SMALL.assign(site="甲"), THREE[["q1", "q2"]].set_axis(["a", "b"], axis=1).assign(site="乙")],
                  ignore_index=True)
    d.loc[3, "b"] = np.nan
    res = fuzzy_evaluation(d, weights=W, by="site")
    assert res.table.index.tolist() == ["乙", "甲", OVERALL] and res.table.index.name == "site"
    for unit, rows in [("甲", d[d.site == "甲"]), ("乙", d[d.site == "乙"]), (OVERALL, d)]:
        for item in ("a", "b"):
            shares = rows[item].value_counts(normalize=True).reindex([1.0, 2.0, 3.0], fill_value=0)
            np.testing.assert_allclose(res.membership.loc[(unit, item)].to_numpy(), shares.to_numpy(), rtol=0, atol=1e-15)
            assert res.n_answers[(unit, item)] == rows[item].notna().sum()
    assert res.table["n_obs"].tolist() == [10, 10, 20]
    # 甲 is SMALL with one answer to b (a 2) missing: r_b = (2/9, 3/9, 4/9), B = .6·(.5, .3, .2) + .4·r_b
    np.testing.assert_allclose(res.vector.loc["甲"].to_numpy(), [.3 + .8 / 9, .18 + 1.2 / 9, .12 + 1.6 / 9], rtol=0, atol=1e-15)


def test_inputs_are_not_modified():
    d = SMALL.assign(site=["x", "y"] * 5)
    before = d.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        fuzzy_evaluation(d, weights=pd.Series(W), by="site", operator="M(·,∨)")
    pd.testing.assert_frame_equal(d, before)


# ------------------------------------------------------------------ with the bundled instrument
@pytest.fixture(scope="module")
def inst() -> gs.Instrument:
    return gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))


@pytest.fixture(scope="module")
def sav(inst) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gs.read_responses(gs.datasets.example_files()["sav"], inst)


def test_levels_groups_and_reverse_keys_from_the_instrument(inst, sav):
    items = inst.items_of("pre_event")
    res = fuzzy_evaluation(sav[items + ["site"]], inst, by="site")
    labels = inst.scales["agree5"].labels["zh"]
    assert res.labels == tuple(labels[c] for c in (1, 2, 3, 4, 5)) and res.levels == (1, 2, 3, 4, 5)
    assert res.dimensions is not None
    assert list(res.dimension_weights.index) == ["plans", "reserves", "warning", "training"]
    assert res.groups["PL4"] == "plans" and len(res.table) == 13
    # PL4 is reverse-keyed: its level-k share is the share of raw answer 6 − k
    raw = sav["PL4"].value_counts(normalize=True).reindex([5.0, 4.0, 3.0, 2.0, 1.0], fill_value=0).to_numpy()
    np.testing.assert_allclose(res.membership.loc[(OVERALL, "PL4")].to_numpy(), raw, rtol=0, atol=1e-15)
    kept = fuzzy_evaluation(sav[items], inst, recode_reverse=False, groups=False)
    np.testing.assert_allclose(kept.membership.loc["PL4"].to_numpy(), raw[::-1], rtol=0, atol=1e-15)
    assert kept.dimensions is None
    assert isinstance(res.grade[OVERALL], str) and "FuzzyEvaluation(two-level" in repr(res)


def test_instrument_picks_construct_items_and_checks_lang(inst, sav):
    res = fuzzy_evaluation(sav, inst, groups=False)          # demographics, importance ratings and meta columns ignored
    assert list(res.weights.index) == [i for i in inst.construct_items if i in sav.columns]
    with pytest.raises(gs.UnknownItemError, match="lang='fr'"):
        fuzzy_evaluation(sav, inst, lang="fr")
    with pytest.raises(gs.SpecificationError, match="instrument= must be a govsurvey Instrument"):
        fuzzy_evaluation(SMALL, pd.Series(W))


def test_result_contract():
    res = fuzzy_evaluation(SMALL, weights=W)
    assert res.to_frame() is res.table
    assert list(res.table.columns) == [1, 2, 3, "grade", "score", "n_obs", "tied", "margin", "borderline"]
    assert repr(res) == repr(fuzzy_evaluation(SMALL, weights=W))
    d = res.to_dict()
    assert d["operator"] == "M(·,⊕)" and d["dimensions"] is None
    with pytest.raises(AttributeError):
        res.operator = "M(∧,∨)"


# ------------------------------------------------------------------ borderline grades and mixed scales
def test_margin_and_borderline_grades():
    """margin = largest − next largest membership; borderline below BORDERLINE_MARGIN (0.01): a
    grade decided by .389 against .388 is flagged, one decided by .5 against .3 is not."""
    from govsurvey.evaluation.fuzzy import BORDERLINE_MARGIN

    # unit A: 389 answers "4", 388 "5", 223 "3" (margin .001); unit B: 5 × "4", 3 × "5", 2 × "3" (margin .2)
    a = np.repeat([4.0, 5.0, 3.0], [389, 388, 223])
    b = np.repeat([4.0, 5.0, 3.0], [5, 3, 2])
    d = pd.DataFrame({"q": np.concatenate([a, b]), "site": ["A"] * len(a) + ["B"] * len(b)})
    res = fuzzy_evaluation(d, by="site", levels={1: "很差", 2: "较差", 3: "一般", 4: "较好", 5: "很好"})
    assert BORDERLINE_MARGIN == 0.01
    assert res.table.loc["A", "margin"] == pytest.approx(0.001, abs=1e-12) and bool(res.table.loc["A", "borderline"])
    assert res.table.loc["B", "margin"] == pytest.approx(0.2, abs=1e-12) and not bool(res.table.loc["B", "borderline"])
    assert res.table.loc["A", "grade"] == "较好" and not bool(res.table.loc["A", "tied"])
    with pytest.warns(gs.DataWarning, match="shared by two or more levels"):
        tied = fuzzy_evaluation(pd.DataFrame({"q": [4.0, 5.0]}), levels=[1, 2, 3, 4, 5])
    assert tied.table.loc[OVERALL, "margin"] == 0 and bool(tied.table.loc[OVERALL, "borderline"])


def test_indicators_of_different_scales_need_levels():
    """Without levels= or an instrument the evaluation set is inferred from the answers: answers
    8–21 beside 1–3 would make 21 levels for both — refused; an indicator answered only below the
    middle of the inferred set (1–3 beside 1–9) is warned about; levels= settles both."""
    d = pd.DataFrame({"count": [8.0, 12, 21, 15], "likert": [1.0, 2, 3, 2]})
    with pytest.raises(gs.DataValidationError, match=r"do not overlap \(count 8–21, likert 1–3\).*1–21, 21 levels.*"
                                                     r"Fix: evaluate the indicators of each scale separately, or pass levels="):
        fuzzy_evaluation(d)
    narrow = pd.DataFrame({"wide": [1.0, 3, 7, 9], "narrow": [1.0, 2, 3, 3]})
    with pytest.warns(gs.DataWarning, match=r"taken from the answers as 1–9 \(9 levels\).*narrow answer only in its lower "
                                            r"half.*pass levels="):
        res = fuzzy_evaluation(narrow)
    assert any("lower half" in w for w in res.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fuzzy_evaluation(narrow, levels=range(1, 10))
        fuzzy_evaluation(pd.DataFrame({"x": [1.0, 2, 5, 5], "y": [4.0, 4, 5, 5]}))     # one 1–5 scale, skewed answers
