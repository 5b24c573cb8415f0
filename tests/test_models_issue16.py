"""Issue 16: ordered categories keep their order in every model; robust regression uses t on
the residual df; MLR invariance reports the Satorra–Bentler scaled difference test.

Reference values: tests/reference/values/issue16_models.json, made by
tests/reference/r/make_issue16_models_reference.R (R 4.2.2, MASS 7.3-58.2, sandwich 3.0-2,
lmtest 0.9-40, lavaan 0.6-14). Tolerances, per quantity:

- polr, glm, lm/coeftest/coefci/waldtest: 1e-6 relative (R's optimisers tightened in the
  script, so the reference is the maximum-likelihood solution to ~1e-10; our polr
  coefficients agree to ~2e-9, SEs — from a numerical Hessian — to ~4e-7).
- lavaan: 1e-5 relative for χ² statistics, scaling factors and fit indices, 1e-5 absolute for
  p-values. Each model's χ² scaling factor agrees with lavaan to ~1e-6 (lavaan's MLR
  information is a numerically differentiated Hessian); the difference test's c_d =
  (d₀c₀ − d₁c₁)/(d₀ − d₁) amplifies that about eightfold here (7.4e-6 on the metric Δχ²).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.models._frame import levels_in_order

REF_DIR = Path(__file__).resolve().parent / "reference"
REF = json.loads((REF_DIR / "values" / "issue16_models.json").read_text(encoding="utf-8"))
LAVAAN_REL, LAVAAN_P_ABS = 1e-5, 1e-5
R_REL = 1e-6


@pytest.fixture(scope="module")
def housing() -> pd.DataFrame:
    """MASS::housing expanded to one row per respondent (polr's weights=Freq are case weights;
    R gives the same estimates either way, see expanded_rows_* in the JSON)."""
    h = pd.read_csv(REF_DIR / "data" / "housing.csv")
    levels = REF["ordinal_housing"]["levels"]
    for c in ("Sat", "Infl", "Type", "Cont"):
        h[c] = pd.Categorical(h[c], categories=levels[c], ordered=(c == "Sat"))
    return h.loc[h.index.repeat(h["Freq"])].reset_index(drop=True).drop(columns="Freq")


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    d = pd.read_csv(REF_DIR / "data" / "HolzingerSwineford1939.csv")
    d["female"] = (d["sex"] == 2).astype(int)
    return d


def _polr_name(term: str) -> str:
    """R's name of a coefficient (InflMedium) from ours (Infl[T.Medium] or C(Infl)[T.Medium])."""
    if "[T." not in term:
        return term
    var, level = term.split("[T.")
    return var.removeprefix("C(").removesuffix(")") + level.rstrip("]")


@pytest.mark.parametrize("formula", ["Sat ~ Infl + Type + Cont", "Sat ~ C(Infl) + C(Type) + C(Cont)"])
@pytest.mark.parametrize("ordered_predictors", [False, True])
def test_ordinal_ordered_outcome_matches_polr(housing, formula, ordered_predictors):
    """polr(Sat ~ Infl + Type + Cont, weights=Freq, data=housing, Hess=TRUE): Sat's thresholds
    Low|Medium, Medium|High in its own order (not High|Low); predictors' references are their
    first category (Low, Tower, Low) whether or not the Categorical is ordered."""
    ref = REF["ordinal_housing"]
    data = housing.copy()
    if ordered_predictors:
        for c in ("Infl", "Type", "Cont"):
            data[c] = data[c].cat.as_ordered()
    before = data.copy()
    fit = gs.ordinal(formula, data)
    pd.testing.assert_frame_equal(data, before)                       # the input is not modified
    assert [_polr_name(t) for t in fit.table.index] == list(ref["coef"])
    for term, row in fit.table.iterrows():
        assert row["b"] == pytest.approx(ref["coef"][_polr_name(term)], rel=R_REL), term
        assert row["se"] == pytest.approx(ref["se"][_polr_name(term)], rel=R_REL), term
    assert fit.deviance == pytest.approx(ref["deviance"], rel=R_REL)
    assert fit.n == ref["n"]
    assert fit.table.loc[fit.table.index[1], "b"] == pytest.approx(1.28881911099488, rel=R_REL)   # InflHigh, +1.289


def test_ordinal_unordered_categorical_outcome_uses_its_categories(housing):
    """A Categorical's category order is the model order, ordered or not (as an R factor's levels)."""
    fit = gs.ordinal("Sat ~ Infl + Type + Cont", housing.assign(Sat=housing["Sat"].cat.as_unordered()))
    assert list(fit.table.index[-2:]) == ["Low|Medium", "Medium|High"]
    assert fit.deviance == pytest.approx(REF["ordinal_housing"]["deviance"], rel=R_REL)


def test_ordinal_refuses_a_continuous_outcome_with_a_fix():
    """A scale score as the outcome would give one threshold per distinct value (and minutes of
    optimisation on a few hundred cases): refused, pointing to gs.regress."""
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"score": rng.normal(size=200).round(2), "x": rng.normal(size=200)})
    with pytest.raises(gs.DataValidationError, match=r"distinct values.*gs\.regress"):
        gs.ordinal("score ~ x", data)
    eleven = data.assign(score=np.clip(np.round(data["score"] * 2 + 5), 0, 10))       # a 0–10 rating still fits
    assert gs.ordinal("score ~ x", eleven).table.shape[0] >= 1


def test_logistic_factor_outcome_second_category_is_one(hs):
    """glm(factor(school, levels=c('Pasteur','Grant-White')) ~ x1 + x4 + x7, family=binomial):
    the second category (Grant-White, alphabetically first) is the event."""
    ref = REF["logistic_factor"]
    ref_levels = ["Pasteur", "Grant-White"]
    data = hs.assign(school=pd.Categorical(hs["school"], categories=ref_levels))
    assert levels_in_order(data["school"]) == ref_levels
    fit = gs.logistic("school ~ x1 + x4 + x7", data)
    for term, row in fit.table.iterrows():
        r = "(Intercept)" if term == "Intercept" else term
        assert row["b"] == pytest.approx(ref["coef"][r], rel=R_REL), term
        assert row["se"] == pytest.approx(ref["se"][r], rel=R_REL), term
    assert fit.deviance == pytest.approx(ref["deviance"], rel=R_REL)


def test_compare_groups_keeps_category_order(hs):
    """t.test(x9 ~ factor(school, levels=c('Pasteur','Grant-White')), var.equal=TRUE): t is
    Pasteur minus Grant-White; TukeyHSD on agegrp (le12, 13, ge14) in level order."""
    ref = REF["t_factor"]
    data = hs.assign(school=pd.Categorical(hs["school"], categories=ref["levels"], ordered=True))
    res = gs.compare_groups(data, "x9", "school", test="t")
    assert list(res.groups.index) == ref["levels"]
    assert res.groups["mean"].tolist() == pytest.approx(ref["means"], rel=R_REL)
    assert res.statistic == pytest.approx(ref["t"], rel=R_REL)
    assert res.p_value == pytest.approx(ref["p"], rel=R_REL)
    tk = REF["tukey_factor"]
    ages = hs.assign(agegrp=pd.cut(hs["ageyr"], [0, 12, 13, 99], labels=tk["levels"]))   # an ordered Categorical
    res = gs.compare_groups(ages, "x9", "agegrp", test="anova")
    assert list(res.groups.index) == tk["levels"]
    post = res.posthoc
    for pair, diff, lwr, upr in zip(tk["pairs"], tk["diff"], tk["lwr"], tk["upr"]):   # R's "B-A" is mean(B) − mean(A)
        b, a = pair.split("-")
        row = post[(post["A"] == a) & (post["B"] == b)]
        assert len(row) == 1, pair
        assert -row["diff"].iloc[0] == pytest.approx(diff, rel=R_REL), pair
        # TukeyHSD's simultaneous 95% interval (of B − A: ours negated and swapped)
        assert -row["ci_high"].iloc[0] == pytest.approx(lwr, rel=R_REL, abs=1e-10), pair
        assert -row["ci_low"].iloc[0] == pytest.approx(upr, rel=R_REL, abs=1e-10), pair


@pytest.mark.parametrize("kind", ["HC3", "HC1"])
def test_robust_regression_uses_t_on_residual_df(hs, kind):
    """coeftest(lm, vcov.=vcovHC(lm, type=kind)) and coefci(...): t on 295 df by default;
    df = Inf for robust_df='normal'; waldtest(lm, vcov=..., test='F') for the model F."""
    ref = REF[f"ols_{kind.lower()}"]
    formula = "x9 ~ x1 + x4 + x7 + ageyr + female"
    fit = gs.regress(formula, hs, robust=kind)
    assert fit.robust_df == "residual" and fit.df_resid == ref["df_resid"]
    for term, row in fit.table.iterrows():
        r = "(Intercept)" if term == "Intercept" else term
        for ours, key in (("b", "b"), ("se", "se"), ("t", "t"), ("p", "p"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            assert row[ours] == pytest.approx(ref[key][r], rel=R_REL), (term, ours)
    assert fit.f == pytest.approx(ref["f"], rel=R_REL)
    assert fit.f_pvalue == pytest.approx(ref["f_p"], rel=R_REL)
    normal = gs.regress(formula, hs, robust=kind, robust_df="normal")
    assert normal.robust_df == "normal"
    for term, row in normal.table.iterrows():
        r = "(Intercept)" if term == "Intercept" else term
        for ours, key in (("p", "p_normal"), ("ci_low", "ci_low_normal"), ("ci_high", "ci_high_normal")):
            assert row[ours] == pytest.approx(ref[key][r], rel=R_REL), (term, ours)


def test_robust_df_is_checked_and_plain_ols_unchanged(hs):
    with pytest.raises(gs.SpecificationError, match=r"robust_df='t' is not known.*'residual', 'normal'"):
        gs.regress("x9 ~ x1", hs, robust="HC3", robust_df="t")
    plain = gs.regress("x9 ~ x1", hs)
    assert plain.robust_df is None
    assert plain.table.loc["x1", "p"] == pytest.approx(gs.regress("x9 ~ x1", hs, robust_df="normal").table.loc["x1", "p"], rel=1e-12)


def test_mlr_invariance_scaled_difference_matches_lavtestlrt(hs):
    """cfa(HS.model, group='school', estimator='MLR', group.equal=...) and
    lavTestLRT(configural, metric, scalar) — method 'satorra.bentler.2001'."""
    ref = REF["invariance_mlr"]
    table = gs.invariance(hs, ref["model"], "school", estimator="MLR")
    stats_keys = {"chisq": "chisq", "chisq_scaled": "chisq.scaled", "chisq_scaling_factor": "chisq.scaling.factor",
                  "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "srmr": "srmr",
                  "cfi_robust": "cfi.robust", "tli_robust": "tli.robust", "rmsea_robust": "rmsea.robust"}
    for name in ("configural", "metric", "scalar"):
        assert table.loc[name, "df"] == ref[name]["df"]
        for ours, theirs in stats_keys.items():
            assert table.loc[name, ours] == pytest.approx(ref[name][theirs], rel=LAVAAN_REL), (name, ours)
        for ours, theirs in (("pvalue", "pvalue"), ("pvalue_scaled", "pvalue.scaled")):
            assert table.loc[name, ours] == pytest.approx(ref[name][theirs], abs=LAVAAN_P_ABS), (name, ours)
    for name, key in (("metric", "metric_vs_configural"), ("scalar", "scalar_vs_metric")):
        scaled, plain = ref["scaled"][key], ref["unscaled"][key]
        assert table.loc[name, "chisq_diff"] == pytest.approx(scaled["chisq_diff"], rel=LAVAAN_REL), name
        assert table.loc[name, "df_diff"] == scaled["df_diff"]
        assert table.loc[name, "p_diff"] == pytest.approx(scaled["p"], abs=LAVAAN_P_ABS), name
        assert abs(table.loc[name, "chisq_diff"] - plain["chisq_diff"]) > 0.5     # not the ML difference
        prev = "configural" if name == "metric" else "metric"
        assert table.loc[name, "delta_cfi_robust"] == pytest.approx(
            ref[name]["cfi.robust"] - ref[prev]["cfi.robust"], abs=LAVAAN_REL)
    assert np.isnan(table.loc["configural", "chisq_diff"])
    assert table.attrs["warnings"] == []


def test_ml_invariance_table_unchanged(hs):
    """Under ML the difference stays the plain Δχ² and no robust columns are added."""
    ref = REF["invariance_mlr"]
    table = gs.invariance(hs, ref["model"], "school")
    assert list(table.columns) == ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "chisq_diff", "df_diff",
                                   "p_diff", "delta_cfi"]
    assert table.loc["metric", "chisq_diff"] == pytest.approx(ref["unscaled"]["metric_vs_configural"]["chisq_diff"],
                                                              rel=LAVAAN_REL)
