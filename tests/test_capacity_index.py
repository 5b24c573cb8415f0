"""gs.capacity_index on a constructed study with known answers: a small instrument (goal → two
stages → three dimensions of two items), three communities whose unit means are set by hand,
weighted sums and ranks computed by hand, TOPSIS equal to gs.topsis on the same means, weights
given for a stage spread over its dimensions, the bootstrap reproducible with its seed, and the
association of the index with the interviewees' barrier talk on constructed codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.qualitative.coded import build_interviews

INSTRUMENT = """\
format: 1
name: tiny
version: "1"
languages: [zh, en]
title: {zh: 小问卷, en: Tiny}
scales:
  agree5:
    type: likert
    min: 1
    max: 5
    labels:
      zh: {1: 非常不同意, 2: 比较不同意, 3: 一般, 4: 比较同意, 5: 非常同意}
      en: {1: Strongly disagree, 2: Disagree, 3: Neutral, 4: Agree, 5: Strongly agree}
demographics:
  - id: site
    type: text
    text: {zh: 您所在的社区, en: Your community}
constructs:
  cap:
    label: {zh: 能力, en: Capacity}
  s1:
    label: {zh: 事前, en: Before}
    parent: cap
  s2:
    label: {zh: 事后, en: After}
    parent: cap
  A:
    label: {zh: 预案, en: Plans}
    parent: s1
    scale: agree5
    items:
      - {id: a1, text: {zh: 甲一, en: a one}}
      - {id: a2, text: {zh: 甲二, en: a two}}
  B:
    label: {zh: 物资, en: Reserves}
    parent: s1
    scale: agree5
    items:
      - {id: b1, text: {zh: 乙一, en: b one}}
      - {id: b2, text: {zh: 乙二, en: b two}, reverse: true}
  C:
    label: {zh: 恢复, en: Recovery}
    parent: s2
    scale: agree5
    items:
      - {id: c1, text: {zh: 丙一, en: c one}}
      - {id: c2, text: {zh: 丙二, en: c two}}
importance:
  scale: agree5
  items:
    - {id: IA, dimension: A, text: {zh: 预案重要性, en: plans importance}}
    - {id: IB, dimension: B, text: {zh: 物资重要性, en: reserves importance}}
    - {id: IC, dimension: C, text: {zh: 恢复重要性, en: recovery importance}}
"""

# unit means of the dimensions (each respondent answers both items of a dimension with the same
# code, so a dimension score is that code; b2 is reverse-keyed and stored as 6 − code)
MEANS = {"U1": {"A": 4.0, "B": 2.0, "C": 3.0}, "U2": {"A": 3.0, "B": 4.0, "C": 5.0}, "U3": {"A": 2.0, "B": 3.0, "C": 2.0}}


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    path = tmp_path_factory.mktemp("inst") / "tiny.yaml"
    path.write_text(INSTRUMENT, encoding="utf-8")
    return gs.load_instrument(path)


def _respondents(n_per_unit: int = 12, seed: int = 3) -> pd.DataFrame:
    """Each unit's respondents answer around the unit mean (±1, balanced: the mean is exact)."""
    rng = np.random.default_rng(seed)
    rows = []
    for unit, means in MEANS.items():
        for k in range(n_per_unit):
            shift = (-1, 1)[k % 2] if k < n_per_unit - (n_per_unit % 2) else 0
            row = {"site": unit}
            for dim, m in means.items():
                v = float(np.clip(m + shift * (1 if dim != "C" else 0), 1, 5))
                row[f"{dim.lower()}1"], row[f"{dim.lower()}2"] = v, (6 - v if dim == "B" else v)
            row.update({"IA": 5.0, "IB": 5.0, "IC": float(rng.integers(4, 6))})
            rows.append(row)
    return pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="id"))


@pytest.fixture(scope="module")
def data():
    return _respondents()


def test_indicators_come_from_the_instrument(inst, data):
    res = gs.capacity_index(data, inst, unit="site", method="weighted_sum", importance=False)
    assert res.construct == "cap" and res.level == "dimensions"
    assert list(res.weights.index) == ["A", "B", "C"]
    pd.testing.assert_frame_equal(res.values, pd.DataFrame(MEANS).T.rename_axis("site").rename_axis("indicator", axis=1),
                                  check_exact=False, rtol=1e-12)
    assert res.weights["weight"].tolist() == pytest.approx([1 / 3] * 3, rel=1e-12) and res.weights_method == "equal"
    assert res.table["n_obs"].tolist() == [12, 12, 12] and res.n_obs == 36


def test_weighted_sum_and_ranks_by_hand(inst, data):
    w = {"A": 0.5, "B": 0.3, "C": 0.2}
    res = gs.capacity_index(data, inst, unit="site", weights=w, method="weighted_sum", importance=False)
    # 100 × Σ w (x̄ − 1)/(5 − 1): U1 = 100(.5·.75 + .3·.25 + .2·.5) = 55; U2 = 100(.5·.5 + .3·.75 + .2·1) = 67.5; U3 = 100(.5·.25 + .3·.5 + .2·.25) = 32.5
    assert res.table["index"].tolist() == pytest.approx([55.0, 67.5, 32.5], rel=1e-12)
    assert res.table["rank"].tolist() == [2, 1, 3]
    assert res.weights["subjective"].tolist() == pytest.approx([0.5, 0.3, 0.2], rel=1e-12) and res.weights_method == "given"


def test_a_stage_weight_is_shared_by_its_dimensions(inst, data):
    res = gs.capacity_index(data, inst, unit="site", weights={"s1": 0.6, "C": 0.4}, method="weighted_sum", importance=False)
    assert res.weights["weight"].tolist() == pytest.approx([0.3, 0.3, 0.4], rel=1e-12)
    h = res.hierarchy
    assert h.loc["s1", "weight"] == pytest.approx(0.6) and h.loc["A", "local_weight"] == pytest.approx(0.5)
    assert h.loc["s2", "level"] == 1 and h.loc["C", "level"] == 2 and h.loc["C", "parent"] == "s2"
    with pytest.raises(gs.DataValidationError, match="twice"):
        gs.capacity_index(data, inst, unit="site", weights={"s1": 0.6, "A": 0.1, "C": 0.3}, importance=False)
    with pytest.raises(gs.UnknownItemError, match="no weight for indicator"):
        gs.capacity_index(data, inst, unit="site", weights={"s1": 1.0}, importance=False)
    with pytest.raises(gs.UnknownItemError, match="not indicators or nodes"):
        gs.capacity_index(data, inst, unit="site", weights={"s1": 0.6, "Z": 0.4}, importance=False)


def test_topsis_equals_gs_topsis_on_the_unit_means(inst, data):
    w = pd.Series({"A": 0.5, "B": 0.3, "C": 0.2})
    res = gs.capacity_index(data, inst, unit="site", weights=w, method="topsis", importance=False)
    ref = gs.topsis(pd.DataFrame(MEANS).T, w)
    assert res.table["index"].to_numpy() == pytest.approx(ref.closeness.to_numpy(), rel=1e-12)
    assert res.table["rank"].tolist() == ref.rank.tolist()
    grey = gs.capacity_index(data, inst, unit="site", weights=w, method="grey", importance=False)
    assert grey.table["index"].to_numpy() == pytest.approx(gs.grey_relational(pd.DataFrame(MEANS).T, w).grade.to_numpy(), rel=1e-12)


def test_entropy_weights_and_their_combination_with_expert_weights(inst, data):
    means = pd.DataFrame(MEANS).T
    ent = gs.entropy_weights(means)
    res = gs.capacity_index(data, inst, unit="site", weights="entropy", method="weighted_sum", importance=False)
    assert res.weights["objective"].to_numpy() == pytest.approx(ent.to_numpy(), rel=1e-12) and res.weights_method == "entropy"
    s = pd.Series({"A": 0.5, "B": 0.3, "C": 0.2})
    both = gs.capacity_index(data, inst, unit="site", weights=s, objective="entropy", method="weighted_sum", importance=False)
    assert both.weights["weight"].to_numpy() == pytest.approx(gs.combine_weights(s, ent).to_numpy(), rel=1e-12)
    assert both.weights_method == "given × entropy" and both.combine == "multiplicative"
    add = gs.capacity_index(data, inst, unit="site", weights=s, objective="entropy", combine="additive", alpha=0.3,
                            method="weighted_sum", importance=False)
    assert add.weights["weight"].to_numpy() == pytest.approx((0.3 * s + 0.7 * ent).to_numpy(), rel=1e-12)


def test_ahp_result_as_weights(inst, data):
    top = pd.DataFrame([[1, 3], [None, 1]], index=["s1", "s2"], columns=["s1", "s2"])
    s1 = pd.DataFrame([[1, 1], [None, 1]], index=["A", "B"], columns=["A", "B"])
    expert = gs.ahp({"cap": top, "s1": s1})
    res = gs.capacity_index(data, inst, unit="site", weights=expert, method="weighted_sum", importance=False)
    assert res.weights["subjective"].tolist() == pytest.approx([0.375, 0.375, 0.25], rel=1e-9)
    assert res.weights_method == "ahp"
    excluded = gs.capacity_index(data, inst, unit="site", weights=expert, exclude=["B"], method="weighted_sum", importance=False)
    assert excluded.weights.index.tolist() == ["A", "C"]
    assert excluded.weights["weight"].tolist() == pytest.approx([0.6, 0.4], rel=1e-9)          # renormalised, with a warning
    assert any("rescaled" in w for w in excluded.warnings)


def test_items_level_and_reverse_keys(inst, data):
    res = gs.capacity_index(data, inst, unit="site", level="items", method="weighted_sum", importance=False)
    assert list(res.weights.index) == ["a1", "a2", "b1", "b2", "c1", "c2"]
    assert res.values.loc["U1", "b2"] == pytest.approx(2.0)                     # 6 − stored value
    assert res.table["index"].tolist() == pytest.approx([50.0, 75.0, 100 / 3], rel=1e-12)        # equal item weights
    dims = gs.capacity_index(data, inst, unit="site", weights={"A": 1, "B": 1, "C": 1}, level="items", method="weighted_sum",
                             importance=False)
    assert dims.weights["subjective"].tolist() == pytest.approx([1 / 6] * 6, rel=1e-12)


def test_bootstrap_is_reproducible_with_its_seed(inst, data):
    kw = dict(unit="site", objective="entropy", importance=False, n_boot=300)
    a = gs.capacity_index(data, inst, seed=11, **kw)
    b = gs.capacity_index(data, inst, seed=11, **kw)
    c = gs.capacity_index(data, inst, seed=12, **kw)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.table[["ci_low", "ci_high"]].equals(c.table[["ci_low", "ci_high"]])
    assert (a.table["ci_low"] <= a.table["index"] + 1e-12).all() and (a.table["index"] <= a.table["ci_high"] + 1e-12).all()
    assert set(a.table.columns) >= {"ci_low", "ci_high", "rank_low", "rank_high"} and a.n_boot == 300 and a.seed == 11


def test_the_bootstrap_equals_a_resample_by_resample_loop(inst, data):
    """The vectorised bootstrap recomputes means, entropy weights and TOPSIS per resample, as a loop would."""
    from govsurvey.evaluation.weights import decision_matrix
    from govsurvey.evaluation.ranking import bootstrap_unit_means

    res = gs.capacity_index(data, inst, unit="site", objective="entropy", importance=False, n_boot=50, seed=5, ci=0.9)
    scores = gs.score(data, inst)[["A", "B", "C"]]
    m = decision_matrix(scores, by=data["site"], what="t")
    draws = np.concatenate(list(bootstrap_unit_means(m, 50, 5)))
    loop = np.array([gs.topsis(pd.DataFrame(x, columns=["A", "B", "C"]), gs.entropy_weights(pd.DataFrame(x, columns=["A", "B", "C"])))
                     .closeness.to_numpy() for x in draws])
    lo, hi = np.quantile(loop, [0.05, 0.95], axis=0)
    assert res.table["ci_low"].to_numpy() == pytest.approx(lo, rel=1e-10)
    assert res.table["ci_high"].to_numpy() == pytest.approx(hi, rel=1e-10)


def test_shortfalls_per_unit_come_from_capacity_gaps_by_unit(inst, data):
    res = gs.capacity_index(data, inst, unit="site", method="weighted_sum")
    gaps = gs.capacity_gaps(gs.score(data, inst)[["A", "B", "C"]], importance=gs.score_importance(data, inst), by=data["site"])
    pd.testing.assert_frame_equal(res.gaps, gaps)
    for unit in MEANS:
        short = [d for d, flag in gaps.xs(unit)["shortfall"].items() if flag]
        assert res.table.loc[unit, "n_shortfalls"] == len(short)
        assert res.table.loc[unit, "shortfalls"] == ", ".join(short)
    assert "n_shortfalls" in res.association.index


def _codes(units: dict[str, list[tuple[str, str]]]) -> gs.CodedInterviews:
    """Interviewees per unit; each names (dimension, polarity) codes. One barrier and one facilitator code per dimension."""
    book = pd.DataFrame([{"code": f"{d}-{pol}", "parent": "", "description": "", "dimension": d, "polarity": pol}
                         for d in "ABC" for pol in ("barrier", "facilitator")])
    rows, cases = [], []
    for unit, people in units.items():
        for k, said in enumerate(people):
            case = f"{unit}-{k}"
            cases.append({"case": case, "site": unit})
            for dim, pol in said:
                rows.append({"source": f"{case}.txt", "case": case, "coder": "A", "code": f"{dim}-{pol}",
                             "start": 10 * len(rows), "end": 10 * len(rows) + 5, "text": f"{dim} {pol}"})
    return build_interviews(pd.DataFrame(rows), book, pd.DataFrame(cases).set_index("case"))


def test_barrier_share_per_unit_and_its_association_with_the_index(inst, data):
    codes = _codes({
        "U1": [[("A", "facilitator"), ("B", "barrier")], [("B", "barrier"), ("C", "facilitator")]],   # 2 of 4 raised: .5
        "U2": [[("A", "facilitator"), ("B", "facilitator"), ("C", "facilitator")]],                    # 0 of 3
        "U3": [[("A", "barrier"), ("C", "barrier")], [("A", "barrier"), ("B", "facilitator")]],        # 3 of 4: .75
    })
    with pytest.warns(gs.DataWarning, match=r"rests on 3 unit\(s\) with interviews"):
        res = gs.capacity_index(data, inst, unit="site", weights={"A": 0.5, "B": 0.3, "C": 0.2}, method="weighted_sum",
                                codes=codes)
    t = res.table
    assert t["barrier_share"].tolist() == pytest.approx([0.5, 0.0, 0.75])
    assert t["n_interviewees"].tolist() == [2, 1, 2]
    row = res.association.loc["barrier_share"]
    assert row["n_units"] == 3 and row["rho"] == pytest.approx(-1.0)              # index 55, 67.5, 32.5: ranks reversed
    ev = res.evidence
    assert ev.loc[("U3", "A"), ["n_raised", "n_barrier"]].tolist() == [2, 2] and bool(ev.loc[("U3", "A"), "barriers"])
    assert ev.loc[("U1", "B"), "barrier_share"] == 1.0 and ev.loc[("U2", "C"), "barrier_share"] == 0.0
    confirmed = [int((ev.xs(u)["shortfall"] & ev.xs(u)["barriers"]).sum()) for u in MEANS]
    assert t["n_confirmed"].tolist() == confirmed


def test_units_without_interviews_and_coded_sites(inst, data):
    codes = _codes({"甲": [[("A", "barrier")]], "U2": [[("A", "facilitator")]]})
    with pytest.warns(gs.DataWarning, match="1 of 2 interviewed site value"):
        res = gs.capacity_index(data, inst, unit="site", codes=codes, importance=False)
    assert np.isnan(res.table.loc["U1", "barrier_share"]) and res.table.loc["U2", "barrier_share"] == 0.0
    coded = data.assign(site=data["site"].map({"U1": 1, "U2": 2, "U3": 3}))
    res2 = gs.capacity_index(coded, inst, unit="site", codes=_codes({"U1": [[("A", "barrier")]]}), labels={1: "U1", 2: "U2", 3: "U3"},
                             importance=False)
    assert res2.table.loc[1, "barrier_share"] == 1.0 and np.isnan(res2.table.loc[2, "barrier_share"])
    with pytest.raises(gs.DataValidationError, match="capacity_index: no site of the interviews matches"):
        gs.capacity_index(data, inst, unit="site", codes=_codes({"甲": [[("A", "barrier")]]}), importance=False)


def test_result_contract(inst, data):
    res = gs.capacity_index(data, inst, unit="site", objective="critic", n_boot=100, seed=1)
    assert res.to_frame() is res.table
    d = res.to_dict()
    assert d["construct"] == "cap" and d["table"]["columns"][:3] == ["n_obs", "index", "rank"]
    assert repr(res) == repr(gs.capacity_index(data, inst, unit="site", objective="critic", n_boot=100, seed=1))
    assert repr(res).startswith("CapacityIndex(construct='cap', level='dimensions', method='topsis', weights='critic'")
    with pytest.raises(AttributeError):
        res.method = "grey"


def test_bad_arguments_name_the_fix(inst, data):
    with pytest.raises(gs.UnknownItemError, match="unit='community' is not a column"):
        gs.capacity_index(data, inst, unit="community")
    with pytest.raises(gs.SpecificationError, match="method='topsys'"):
        gs.capacity_index(data, inst, unit="site", method="topsys")
    with pytest.raises(gs.SpecificationError, match="both ask for objective"):
        gs.capacity_index(data, inst, unit="site", weights="entropy", objective="critic")
    with pytest.raises(gs.UnknownItemError, match="not a construct"):
        gs.capacity_index(data, inst, unit="site", construct="nope")
    with pytest.raises(gs.UnknownItemError, match="exclude= names"):
        gs.capacity_index(data, inst, unit="site", exclude=["Z"])
    with pytest.raises(gs.SpecificationError, match="codes= must be coded interviews"):
        gs.capacity_index(data, inst, unit="site", codes=pd.DataFrame())


# ------------------------------------------------------------------ the ranking under other weightings
def test_sensitivity_recomputes_the_ranking_under_other_weightings(inst, data):
    """Expert-only, objective-only, the other combination and equal weights: each ranking is the
    index recomputed with those weights (TOPSIS on the same means), ρ its Spearman agreement with
    the ranking used; the weighting used itself is not repeated."""
    from scipy import stats

    s = {"A": 0.6, "B": 0.3, "C": 0.1}
    res = gs.capacity_index(data, inst, unit="site", weights=s, objective="entropy", importance=False)
    assert list(res.sensitivity.index) == ["subjective", "objective", "additive", "equal"]   # multiplicative is used
    assert list(res.sensitivity_ranks.columns) == ["used", "subjective", "objective", "additive", "equal"]
    means = res.values
    o = gs.entropy_weights(means)
    schemes = {"subjective": pd.Series(s), "objective": o, "additive": 0.5 * pd.Series(s) + 0.5 * o,
               "equal": pd.Series(1 / 3, index=["A", "B", "C"])}
    for name, w in schemes.items():
        direct = gs.topsis(means, w.reindex(means.columns)).closeness
        assert res.sensitivity_ranks[name].tolist() == direct.rank(ascending=False, method="min").astype(int).tolist(), name
        # scipy 1.17: spearmanr of the two indexes across the 3 units; 1e-12
        assert res.sensitivity.loc[name, "rho"] == pytest.approx(stats.spearmanr(res.table["index"], direct)[0], abs=1e-12)
        ranks = res.sensitivity_ranks[name]
        assert res.sensitivity.loc[name, "top"] == ranks.idxmin() and res.sensitivity.loc[name, "bottom"] == ranks.idxmax()
        assert res.sensitivity.loc[name, "max_shift"] == (ranks - res.sensitivity_ranks["used"]).abs().max()
    assert res.sensitivity_ranks["used"].tolist() == res.table["rank"].tolist()
    additive = gs.capacity_index(data, inst, unit="site", weights=s, objective="entropy", combine="additive", importance=False)
    assert list(additive.sensitivity.index) == ["subjective", "objective", "multiplicative", "equal"]     # α = 0.5 is used
    alone = gs.capacity_index(data, inst, unit="site", objective="critic", importance=False)
    assert list(alone.sensitivity.index) == ["equal"]
    equal = gs.capacity_index(data, inst, unit="site", importance=False)
    assert equal.sensitivity.empty and list(equal.sensitivity_ranks.columns) == ["used"]
    d = res.to_dict()
    assert d["sensitivity"]["columns"] == ["rho", "top", "bottom", "same_top", "same_bottom", "max_shift"]


def test_bootstrap_warns_about_units_of_very_few_respondents(inst, data):
    few = pd.concat([data[data["site"] == "U1"].head(3), data[data["site"] != "U1"]])
    with pytest.warns(gs.DataWarning, match=r"U1 \(n = 3\) have fewer than 5 respondents, so their intervals are unreliable"):
        res = gs.capacity_index(few, inst, unit="site", method="weighted_sum", importance=False, n_boot=50, seed=1)
    assert any("unreliable" in w for w in res.warnings)
