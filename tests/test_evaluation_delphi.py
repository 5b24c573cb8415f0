"""Delphi (govsurvey.evaluation.delphi): Kendall's W against R (tests/reference/values/delphi.json,
made by tests/reference/r/make_delphi_reference.R: the base-R formula with the tie correction and
vegan 2.6-4's kendall.global; irr is not installed there), against a scipy-based computation here
and by hand; indicator statistics against R; screening rules; authority coefficients; the three
input layouts; missing ratings; bad input."""

from __future__ import annotations

import copy
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from govsurvey.errors import (
    DataValidationError,
    DataWarning,
    OutOfRangeError,
    SpecificationError,
    UnknownItemError,
)
from govsurvey.evaluation.delphi import (
    DEFAULT_RULE,
    FAMILIARITY_SIX_LEVEL,
    Delphi,
    delphi,
)

REFERENCE = Path(__file__).resolve().parent / "reference"
REF = json.loads((REFERENCE / "values" / "delphi.json").read_text(encoding="utf-8"))


def ratings(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "data" / f"delphi_{name}.csv", index_col=0)


def scipy_w(x: np.ndarray, correct: bool = True) -> float:
    """Kendall's W from scipy's average ranks and tie counts (independent of the module's loop)."""
    m, n = x.shape
    r = np.vstack([stats.rankdata(row) for row in x])
    s = np.sum((r.sum(axis=0) - m * (n + 1) / 2) ** 2)
    t = sum(float(np.sum(c ** 3 - c)) for c in (pd.Series(row).value_counts().to_numpy() for row in x))
    return 12 * s / (m ** 2 * (n ** 3 - n) - (m * t if correct else 0))


# ------------------------------------------------------------------ Kendall's W
@pytest.mark.parametrize("name", ["small", "sim"])
def test_kendall_w_matches_r(name):
    ref = REF[name]
    res = delphi(ratings(name), rule={})
    row = res.kendall_w.iloc[0]
    assert (row["m"], row["n"], row["df"]) == (ref["m"], ref["n"], ref["df"])
    # R 4.2.2: 12 S / (m^2 (n^3 - n) - m sum T_j) in base R, and vegan::kendall.global(t(X)); 1e-12
    assert row["w"] == pytest.approx(ref["w"], abs=1e-12)
    assert row["w"] == pytest.approx(ref["w_vegan"], abs=1e-12)
    assert row["chi2"] == pytest.approx(ref["chi2_vegan"], rel=1e-12)
    assert row["p"] == pytest.approx(ref["p"], rel=1e-10)          # pchisq(chi2, n - 1, lower.tail = FALSE)
    # an independent scipy-based computation agrees, and the tie correction matters here
    x = ratings(name).to_numpy(dtype=float)
    assert row["w"] == pytest.approx(scipy_w(x), abs=1e-12)
    assert scipy_w(x, correct=False) == pytest.approx(ref["w_uncorrected"], abs=1e-12)
    assert row["w"] - ref["w_uncorrected"] > 0.04


@pytest.mark.parametrize("name", ["small", "sim"])
def test_indicator_statistics_match_r(name):
    ref = REF[name]["indicators"]
    table = delphi(ratings(name), rule={}).rounds.set_index("indicator")
    for ours, theirs in (("mean", "mean"), ("sd", "sd"), ("cv", "cv"), ("full_score", "full_score")):
        # colMeans, sd (n - 1), sd/mean, colMeans(X == 5) in R; 1e-12
        expected = pd.Series(ref[theirs]).reindex(table.index)
        np.testing.assert_allclose(table[ours].to_numpy(), expected.to_numpy(dtype=float), rtol=0, atol=1e-12)


def test_kendall_w_by_hand():
    x = pd.DataFrame({"a": [5, 5, 4, 5], "b": [4, 5, 3, 4], "c": [4, 3, 2, 3]}, index=["E1", "E2", "E3", "E4"])
    # ranks: E1 3, 1.5, 1.5 (T = 6); E2 2.5, 2.5, 1 (T = 6); E3 3, 2, 1; E4 3, 2, 1
    # R = 11.5, 8, 4.5; S = 24.5; W = 12·24.5 / (16·24 − 4·12) = 294/336 = 0.875 (uncorrected 294/384)
    row = delphi(x).kendall_w.iloc[0]
    assert row["w"] == pytest.approx(0.875, abs=1e-15)
    assert row["chi2"] == pytest.approx(7.0, abs=1e-14)             # m (n − 1) W = 4 · 2 · 0.875
    assert row["p"] == pytest.approx(math.exp(-3.5), rel=1e-14)      # χ² on 2 df: p = exp(−χ²/2)
    assert 294 / 384 != pytest.approx(row["w"], abs=0.1)


# ------------------------------------------------------------------ screening
def test_default_rule_and_boundaries():
    x = pd.DataFrame({"keep": [4, 4, 4, 4], "low_mean": [3, 3, 3, 4], "spread": [5, 5, 2, 5],
                      "edge": [3, 4, 3, 4]}, index=list("ABCD"))
    x["edge"] = [3.5, 3.5, 3.5, 3.5]                                  # mean exactly 3.5, CV 0: kept (≥)
    res = delphi(x)
    keep = res.rounds.set_index("indicator")["keep"].to_dict()
    assert keep == {"keep": True, "low_mean": False, "spread": False, "edge": True}
    assert res.rule == DEFAULT_RULE and res.rule is not DEFAULT_RULE
    spread = res.rounds.set_index("indicator").loc["spread"]
    assert spread["cv"] == pytest.approx(np.std([5, 5, 2, 5], ddof=1) / 4.25, rel=1e-14)
    assert spread["full_score"] == 0.75


def test_custom_rule_with_full_score_and_sd():
    x = pd.DataFrame({"a": [5, 5, 4, 4], "b": [5, 4, 4, 4], "c": [5, 5, 5, 1]}, index=list("ABCD"))
    res = delphi(x, rule={"mean_min": 4, "full_score_min": 0.5})
    assert res.rounds["keep"].tolist() == [True, False, True]
    res = delphi(x, rule={"full_score_min": 0.5, "sd_max": 1.0})
    assert res.rounds["keep"].tolist() == [True, False, False]
    assert delphi(x, rule={}).rounds["keep"].all()


def test_misspelled_rule_key():
    x = pd.DataFrame({"a": [5, 4], "b": [4, 4]})
    with pytest.raises(SpecificationError, match=r"unknown key\(s\) cv_mx \(did you mean 'cv_max'\?\)\. Fix: use "
                                                  r"mean_min, sd_max, cv_max, full_score_min"):
        delphi(x, rule={"mean_min": 3.5, "cv_mx": 0.25})
    with pytest.raises(SpecificationError, match=r"rule\['full_score_min'\]=2 must be"):
        delphi(x, rule={"full_score_min": 2})


# ------------------------------------------------------------------ authority
def panel() -> pd.DataFrame:
    return pd.DataFrame({"a": [5, 4, 5], "b": [4, 4, 3], "c": [3, 3, 2]}, index=["E1", "E2", "E3"])


def test_authority_from_labels_and_codes():
    familiarity = pd.Series({"E1": "很熟悉", "E2": " Familiar ", "E3": 0.6})
    basis = pd.DataFrame({"实践经验": ["大", "中", "low"], "理论分析": ["中", "大", "小"],
                          "literature": ["小", "Medium", 0.1], "直观感觉": ["中", "小", "大"]}, index=["E1", "E2", "E3"])
    res = delphi(panel(), familiarity=familiarity, basis=basis)
    ca = {"E1": 0.5 + 0.2 + 0.05 + 0.1, "E2": 0.4 + 0.3 + 0.1 + 0.1, "E3": 0.3 + 0.1 + 0.1 + 0.1}
    cs = {"E1": 1.0, "E2": 0.8, "E3": 0.6}
    assert res.authority["ca"].to_dict() == pytest.approx(ca, abs=1e-15)
    assert res.authority["cs"].to_dict() == pytest.approx(cs, abs=1e-15)
    assert res.authority["cr"].to_dict() == pytest.approx({e: (ca[e] + cs[e]) / 2 for e in ca}, abs=1e-15)
    assert res.authority_mean == pytest.approx(np.mean([(ca[e] + cs[e]) / 2 for e in ca]), abs=1e-15)
    coded = delphi(panel(), familiarity={"E1": 1.0, "E2": 0.8, "E3": 0.6}, basis=pd.Series(ca))
    pd.testing.assert_frame_equal(coded.authority, res.authority)


def test_authority_tables_and_errors():
    with pytest.warns(DataWarning, match="Cr = 0.667 is below 0.7"):
        six = delphi(panel(), familiarity={"E1": "较熟悉", "E2": "一般", "E3": "不熟悉"}, basis={"E1": 1, "E2": 1, "E3": 1},
                     familiarity_table=FAMILIARITY_SIX_LEVEL)
    assert six.authority["cs"].tolist() == [0.6, 0.4, 0.0]
    with pytest.warns(DataWarning, match="mean authority coefficient Cr = 0.500 is below 0.7"):
        assert delphi(panel(), familiarity={"E1": 0, "E2": 0, "E3": 0}, basis={"E1": 1, "E2": 1, "E3": 1}).authority_mean == 0.5
    with pytest.raises(UnknownItemError, match=r"familiarity of expert E2 is '较熟悉', which is not in the table\. "
                                               r"Fix: use one of 很熟悉, 熟悉, 一般, 不太熟悉, 不熟悉, very familiar.*"
                                               r"familiarity_table="):
        delphi(panel(), familiarity={"E1": "熟悉", "E2": "较熟悉", "E3": "熟悉"})
    with pytest.raises(DataValidationError, match="familiarity of expert E1 is 1.5"):
        delphi(panel(), familiarity={"E1": 1.5})
    with pytest.raises(UnknownItemError, match="column 经验 is not a judgement basis"):
        delphi(panel(), basis=pd.DataFrame({"经验": ["大"]}, index=["E1"]))
    with pytest.raises(DataValidationError, match=r"name different experts \(E3 in only one\)"):
        delphi(panel(), familiarity={"E1": 1, "E2": 1, "E3": 1}, basis={"E1": 1, "E2": 1})
    with pytest.raises(DataValidationError, match="familiarity of expert E2 is missing"):
        delphi(panel(), familiarity=pd.Series({"E1": 1.0, "E2": np.nan}))
    only = delphi(panel(), familiarity={"E1": 1, "E2": 0.8, "E3": 0.8})
    assert only.authority["ca"].isna().all() and math.isnan(only.authority_mean)
    assert delphi(panel()).authority.empty


# ------------------------------------------------------------------ rounds and layouts
def two_rounds() -> dict[str, pd.DataFrame]:
    sim = ratings("sim")
    r2 = sim.iloc[:12, :15].clip(lower=3)           # round 2: 12 experts returned, 5 indicators dropped
    return {"第一轮": sim, "第二轮": r2}


def test_dict_and_long_format_give_the_same_result():
    rounds = two_rounds()
    long = pd.concat(rounds, names=["轮次", "expert"]).reset_index("轮次")
    by_dict = delphi(rounds, sent={"第一轮": 16, "第二轮": 15})
    by_long = delphi(long, round_col="轮次", sent={"第一轮": 16, "第二轮": 15})
    for field in ("rounds", "kendall_w", "positive"):
        pd.testing.assert_frame_equal(getattr(by_long, field), getattr(by_dict, field))
    assert by_dict.kendall_w["round"].tolist() == ["第一轮", "第二轮"]
    assert by_dict.kendall_w["n"].tolist() == [20, 15] and by_dict.kendall_w["m"].tolist() == [15, 12]
    assert by_dict.positive["rate"].tolist() == pytest.approx([15 / 16, 12 / 15], abs=1e-15)
    assert by_dict.warnings == ()                    # indicators not in round 2 are simply not part of it
    assert repr(by_dict) == repr(delphi(rounds, sent={"第一轮": 16, "第二轮": 15}))
    assert repr(by_dict).startswith("Delphi(rounds=2, indicators=15, kept=")


def test_positive_coefficient():
    res = delphi(panel(), sent=4)
    assert res.positive.iloc[0][["returned", "rate"]].tolist() == [3, 0.75]
    assert pd.isna(delphi(panel()).positive["sent"].iloc[0]) and math.isnan(delphi(panel()).positive["rate"].iloc[0])
    with pytest.raises(DataValidationError, match="round 1 has 3 responding experts but sent=2"):
        delphi(panel(), sent=2)
    with pytest.raises(UnknownItemError, match="sent= names round"):
        delphi(panel(), sent={"R1": 4})


def test_missing_ratings():
    x = ratings("small").astype(float)
    x.loc["E2", "C3"] = np.nan
    x.loc["E9"] = np.nan                            # a row with no ratings: did not return
    with pytest.warns(DataWarning) as caught:
        res = delphi(x)
    text = " ".join(str(w.message) for w in caught)
    assert "1 expert(s) rated no indicator (E9)" in text
    assert "1 expert(s) left some indicators unrated (E2); Kendall's W uses the 5 experts" in text
    assert res.rounds.set_index("indicator")["n"].to_dict() == {"C1": 6, "C2": 6, "C3": 5, "C4": 6, "C5": 6}
    assert res.kendall_w["m"].iloc[0] == 5
    assert res.kendall_w["w"].iloc[0] == pytest.approx(scipy_w(x.drop(index=["E2", "E9"]).to_numpy()), abs=1e-12)
    assert res.positive["returned"].iloc[0] == 6
    assert len(res.warnings) == 2


def test_bad_ratings():
    x = panel()
    high = x.copy()
    high.loc["E1", "a"] = 6
    with pytest.raises(OutOfRangeError, match=r"1 rating\(s\) lie outside the scale 1–5: E1/a = 6"):
        delphi(high)
    assert delphi(x * 2, scale=(1, 10), rule={}).rounds["full_score"].tolist() == [2 / 3, 0, 0]
    text = x.astype(object)
    text.loc["E2", "b"] = "很重要"
    with pytest.raises(DataValidationError, match=r"indicator b has rating\(s\) that are not numbers: E2 = '很重要'"):
        delphi(text)
    with pytest.raises(SpecificationError, match="scale="):
        delphi(x, scale=(5, 1))
    with pytest.raises(UnknownItemError, match="round_col='round' is not a column"):
        delphi(x, round_col="round")
    with pytest.raises(DataValidationError, match="expert .* E1 appears more than once"):
        delphi(pd.concat([x, x.iloc[:1]]))


def test_inputs_unmodified_and_result_serialises():
    rounds = two_rounds()
    before = copy.deepcopy(rounds)
    familiarity = pd.Series(["很熟悉"] * 15, index=rounds["第一轮"].index)
    basis = pd.DataFrame({"实践经验": "大", "理论分析": "中", "参考国内外文献": "中", "直观感觉": "小"},
                         index=rounds["第一轮"].index)
    f0, b0 = familiarity.copy(), basis.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = delphi(rounds, familiarity=familiarity, basis=basis)
    for k in rounds:
        pd.testing.assert_frame_equal(rounds[k], before[k])
    pd.testing.assert_series_equal(familiarity, f0)
    pd.testing.assert_frame_equal(basis, b0)
    assert isinstance(res, Delphi) and res.to_frame() is res.rounds
    assert res.authority_mean == pytest.approx((0.5 + 0.2 + 0.1 + 0.1 + 1.0) / 2, abs=1e-15)
    json.dumps(res.to_dict(), ensure_ascii=False)


# ------------------------------------------------------------------ the default rule's scale, groups, tables used
def test_default_rule_only_on_the_1_to_5_scale():
    """mean ≥ 3.5 means nothing on a 0–10 scale: without rule= another scale is refused, with the
    default's place on that scale suggested; (1, 5) as floats is the default scale."""
    x = pd.DataFrame({"a": [8, 9, 7], "b": [3, 4, 2]}, index=["E1", "E2", "E3"])
    with pytest.raises(SpecificationError, match=r"scale=\(0, 10\) is not the 1–5 scale the default rule \(mean ≥ 3.5, "
                                                 r"CV ≤ 0.25\).*Fix: pass rule=.*'mean_min': 6.25, 'cv_max': 0.25.*62.5%"):
        delphi(x, scale=(0, 10))
    res = delphi(x, scale=(0, 10), rule={"mean_min": 6.25, "cv_max": 0.25})
    assert res.rounds["keep"].tolist() == [True, False]
    assert delphi(panel(), scale=(1.0, 5.0)).rule == DEFAULT_RULE


def test_kendall_w_within_groups():
    """W within each group (level) of each round equals W of that group's columns alone."""
    rounds = two_rounds()
    cols = list(rounds["第一轮"].columns)
    groups = {c: (1 if k < 5 else 2) for k, c in enumerate(cols)}
    res = delphi(rounds, groups=groups, rule={})
    g = res.kendall_w_groups
    assert list(g.columns) == ["round", "group", "m", "n", "w", "chi2", "df", "p"]
    assert g[["round", "group"]].values.tolist() == [["第一轮", 1], ["第一轮", 2], ["第二轮", 1], ["第二轮", 2]]
    for r in g.itertuples(index=False):
        frame = rounds[r.round]
        part = frame[[c for c in frame.columns if groups[c] == r.group]].dropna()
        assert (r.m, r.n, r.df) == (len(part), part.shape[1], part.shape[1] - 1)
        assert r.w == pytest.approx(scipy_w(part.to_numpy(dtype=float)), abs=1e-12)
        assert r.chi2 == pytest.approx(r.m * (r.n - 1) * r.w, rel=1e-12)
    assert res.groups == groups
    pd.testing.assert_frame_equal(res.kendall_w, delphi(rounds, rule={}).kendall_w)        # the overall W unchanged
    assert delphi(rounds, rule={}).kendall_w_groups.empty
    with pytest.raises(UnknownItemError, match="groups= names nope, which no round rates"):
        delphi(rounds, groups={"nope": 1}, rule={})
    with pytest.raises(SpecificationError, match="groups= must map each indicator"):
        delphi(rounds, groups=[1, 2], rule={})


def test_the_tables_used_for_labels_are_recorded():
    labels = delphi(panel(), familiarity={"E1": "很熟悉", "E2": "熟悉", "E3": "一般"},
                    basis=pd.DataFrame({"实践经验": ["大", "中", "小"], "理论分析": "中", "参考国内外文献": "小", "直观感觉": "中"},
                                       index=["E1", "E2", "E3"]))
    assert labels.familiarity_table["很熟悉"] == 1.0 and labels.basis_table["参考国内外文献"] == {"大": 0.1, "中": 0.1, "小": 0.05}
    coded = delphi(panel(), familiarity={"E1": 1.0, "E2": 0.8, "E3": 0.6}, basis={"E1": 0.9, "E2": 0.8, "E3": 0.7})
    assert coded.familiarity_table is None and coded.basis_table is None
    six = delphi(panel(), familiarity={"E1": "较熟悉", "E2": "熟悉", "E3": "很熟悉"}, basis={"E1": 1, "E2": 1, "E3": 1},
                 familiarity_table=FAMILIARITY_SIX_LEVEL)
    assert six.familiarity_table["较熟悉"] == 0.6
    json.dumps(labels.to_dict(), ensure_ascii=False)
