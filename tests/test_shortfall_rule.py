"""The joint display's "falls short" rule (issue: flat importance). A dimension falls short on
its gap — significant and large relative to the other dimensions — whatever its
importance–performance quadrant; quadrants split at the grand means with a tolerance band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.integration.gaps import (CONVERGENCE_RULE, DEFAULT_TOLERANCE, QUADRANT_RULE, SHORTFALL_RULE,
                                        shortfall_flags)
from govsurvey.qualitative.coded import build_interviews

# the issue's study: importance flat at 4.31–4.42 (grand mean 4.367); REC has the second-largest
# gap (1.87) and the second-lowest performance, its importance (4.345) just under the mean
IMPORTANCE = {"PLAN": 4.42, "REC": 4.345, "INFO": 4.31, "GRID": 4.38, "TRAIN": 4.38}
PERFORMANCE = {"PLAN": 2.40, "REC": 2.475, "INFO": 3.60, "GRID": 3.90, "TRAIN": 4.10}


def _exact(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """n values with exactly this mean and SD."""
    z = rng.standard_normal(n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def _study(n: int = 800, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    perf = pd.DataFrame({d: _exact(rng, m, 0.8, n) for d, m in PERFORMANCE.items()})
    imp = pd.DataFrame({d: _exact(rng, m, 0.7, n) for d, m in IMPORTANCE.items()})
    return perf, imp


def _codes(polarity_by_dimension: dict[str, list[str]], cases: pd.DataFrame | None = None) -> gs.CodedInterviews:
    """One barrier and one facilitator code per dimension; the k-th polarity listed is a segment of interviewee k."""
    book = pd.DataFrame([{"code": f"{d}-{pol}", "parent": "", "description": "", "dimension": d, "polarity": pol}
                         for d in polarity_by_dimension for pol in ("barrier", "facilitator")])
    rows = []
    for d, polarities in polarity_by_dimension.items():
        for k, pol in enumerate(polarities):
            case = f"case{k:02d}"
            rows.append({"source": f"{case}.txt", "case": case, "coder": "A", "code": f"{d}-{pol}",
                         "start": 10 * len(rows), "end": 10 * len(rows) + 5, "text": f"{d} {pol} {k}"})
    return build_interviews(pd.DataFrame(rows), book, cases)


@pytest.fixture(scope="module")
def flat():
    perf, imp = _study()
    return perf, imp, gs.capacity_gaps(perf, importance=imp)


def test_flat_importance_recreates_the_issue(flat):
    _, _, gaps = flat
    assert gaps["importance"].mean() == pytest.approx(4.367, abs=1e-9)
    assert gaps.loc["REC", "gap"] == pytest.approx(1.87, abs=1e-9)
    assert gaps["gap"].rank(ascending=False)["REC"] == 2 and gaps["mean"].rank()["REC"] == 2
    assert gaps.loc["REC", "p"] < 1e-100
    assert gaps.loc["REC", "quadrant"] == "low priority"          # reported as before ...


def test_rec_falls_short_whatever_its_quadrant(flat):
    _, _, gaps = flat
    assert gaps.loc["REC", ["shortfall", "large_gap", "low_performance"]].tolist() == [True, True, True]
    assert bool(gaps.loc["REC", "quadrant_borderline"])           # ... flagged: 0.022 below the mean, 0.03 SD
    assert gaps["shortfall"].tolist() == [True, True, False, False, False]
    assert not gaps.loc[["INFO", "GRID", "TRAIN"], "large_gap"].any()   # INFO's gap is the median: not above it
    assert (gaps.loc[["GRID", "TRAIN"], "p"] < 0.05).all()


def test_joint_display_confirms_rec_when_every_interviewee_names_a_barrier(flat):
    _, _, gaps = flat
    codes = _codes({"REC": ["barrier"] * 6, "PLAN": ["barrier"] * 4 + ["facilitator"],
                    "TRAIN": ["facilitator"] * 5, "GRID": ["barrier"] * 5})
    jd = gs.joint_display(gaps, codes)
    assert jd.loc["REC", "barrier_share_of_raised"] == 1.0
    assert jd.loc["REC", ["shortfall", "qualitative", "convergence"]].tolist() == [True, "barrier", "confirms"]
    assert jd.loc["REC", "quadrant"] == "low priority" and jd.loc["REC", "quadrant_borderline"]
    assert jd.loc["TRAIN", "convergence"] == "confirms"            # no shortfall, facilitators
    assert jd.loc["GRID", "convergence"] == "discordant"           # no shortfall, barriers
    assert jd.loc["INFO", "convergence"] == "silent"
    assert jd.attrs["rule"] == CONVERGENCE_RULE


def test_joint_display_computes_the_same_decision_for_a_frame_built_by_hand(flat):
    _, _, gaps = flat
    codes = _codes({"REC": ["barrier"] * 3})
    by_hand = gaps[["mean", "gap", "ci_low", "ci_high", "p"]]
    cols = ["shortfall", "large_gap", "low_performance"]
    pd.testing.assert_frame_equal(gs.joint_display(by_hand, codes)[cols], gs.joint_display(gaps, codes)[cols])
    no_mean = gs.joint_display(by_hand.drop(columns="mean"), codes)
    assert not no_mean["low_performance"].any() and no_mean.loc["REC", "shortfall"]


def test_a_large_gap_that_is_not_significant_is_no_shortfall():
    g = pd.DataFrame({"gap": [2.0, 1.5, 0.2, 0.1], "p": [0.30, 1e-6, 1e-4, 1e-3], "mean": [2.0, 2.5, 4.0, 4.1]},
                     index=["noisy", "real", "small", "smaller"])
    flags = shortfall_flags(g)
    assert flags.loc["noisy", "large_gap"] and flags.loc["noisy", "low_performance"]
    assert flags["shortfall"].tolist() == [False, True, False, False]
    negative = shortfall_flags(g.assign(gap=[-2.0, -1.5, -0.2, -0.1], p=1e-9))
    assert not negative["shortfall"].any()                         # performance above importance: no shortfall


def test_low_performance_alone_can_make_a_shortfall():
    g = pd.DataFrame({"gap": [0.30, 0.9, 0.8, 0.7, 0.2], "p": 1e-6, "mean": [2.0, 3.5, 3.6, 3.7, 4.0]},
                     index=list("ABCDE"))
    flags = shortfall_flags(g)
    assert flags.loc["A", ["large_gap", "low_performance", "shortfall"]].tolist() == [False, True, True]
    assert not flags.loc["E", "shortfall"]


def test_a_single_dimension_falls_short_on_a_significant_gap_alone(flat):
    perf, imp, _ = flat
    one = gs.capacity_gaps(perf[["TRAIN"]], importance=imp[["TRAIN"]])
    assert one.loc["TRAIN", ["large_gap", "low_performance", "shortfall"]].tolist() == [True, True, True]
    assert one.loc["TRAIN", "quadrant_borderline"]                 # alone, it lies on both lines
    target = gs.capacity_gaps(perf[["GRID"]], target=4.0)          # 3.9 < 4.0, significant at n = 800
    assert target.loc["GRID", "p"] < 0.05 and target.loc["GRID", "shortfall"]
    assert not gs.capacity_gaps(perf[["GRID"]], target=3.0).loc["GRID", "shortfall"]


def test_target_uses_the_same_relative_rule(flat):
    perf, _, _ = flat
    t = gs.capacity_gaps(perf, target=4.5)
    assert (t["p"] < 0.05).all() and (t["quadrant"] == "below target").all()
    assert t["shortfall"].tolist() == [True, True, False, False, False]
    near = gs.capacity_gaps(perf, target=4.15)
    assert near.loc["TRAIN", "quadrant_borderline"] and not near.loc["REC", "quadrant_borderline"]


def test_by_groups_decide_within_each_group():
    perf, imp = _study(n=400, seed=3)
    other, other_imp = _study(n=400, seed=4)
    other = other.assign(GRID=other["GRID"] - 2.0)                 # in group b GRID is the weakest dimension
    scores = pd.concat([perf.assign(site="a"), other.assign(site="b")], ignore_index=True)
    gaps = gs.capacity_gaps(scores, importance=pd.concat([imp, other_imp], ignore_index=True), by="site",
                            dimensions=list(PERFORMANCE))
    assert not gaps.loc[("a", "GRID"), "shortfall"] and gaps.loc[("b", "GRID"), "shortfall"]
    for site in ("a", "b"):
        alone = gs.capacity_gaps(scores[scores["site"] == site][list(PERFORMANCE)],
                                 importance=pd.concat([imp, other_imp], ignore_index=True)[scores["site"] == site])
        pd.testing.assert_series_equal(gaps.xs(site)["shortfall"], alone["shortfall"])
    codes = _codes({"GRID": ["barrier"] * 3}, pd.DataFrame({"case": ["case00", "case01", "case02"], "site": ["a", "b", "b"]}))
    jd = gs.joint_display(gaps, codes, by="site")
    assert jd.loc[("a", "GRID"), "convergence"] == "discordant" and jd.loc[("b", "GRID"), "convergence"] == "confirms"


def test_tolerance_band(flat):
    perf, imp, gaps = flat
    assert gaps.attrs["tolerance"] == DEFAULT_TOLERANCE
    strict = gs.capacity_gaps(perf, importance=imp, tolerance=0)
    assert not strict["quadrant_borderline"].any()
    assert strict["quadrant"].equals(gaps["quadrant"]) and strict["shortfall"].equals(gaps["shortfall"])
    # importance is flat (all within 0.06 points, < 0.2 × 0.7 SD of the grand mean): every quadrant is borderline
    assert gaps["quadrant_borderline"].all()
    spread = gs.capacity_gaps(perf, importance=imp.assign(PLAN=imp["PLAN"] + 1, INFO=imp["INFO"] - 1))
    assert not spread.loc["PLAN", "quadrant_borderline"] and spread.loc["PLAN", "quadrant"] == "concentrate here"
    for bad in (-0.1, 2, "0.2", np.nan):
        with pytest.raises(gs.SpecificationError, match="tolerance"):
            gs.capacity_gaps(perf, importance=imp, tolerance=bad)


def test_the_rule_text_states_the_criteria():
    for phrase in ("p < .05", "median gap", "lowest tertile", "1/3 quantile", "single dimension", "does not enter"):
        assert phrase in SHORTFALL_RULE and phrase in CONVERGENCE_RULE, phrase
    assert "concentrate here" not in SHORTFALL_RULE
    for phrase in ("grand means", "tolerance", "borderline", "0.2"):
        assert phrase in QUADRANT_RULE, phrase
    assert QUADRANT_RULE in CONVERGENCE_RULE and "Fetters" in CONVERGENCE_RULE
