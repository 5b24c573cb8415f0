"""Models against R (values/hs_models.json, nested_mixed.json from r/make_reference.R;
values/models_extra.json from r/make_models_reference.R).

Tolerances from issue 4: OLS, HC3, betas, VIF, hierarchical step, moderation ≤ 1e-6
relative; logistic ≤ 1e-5; mediation paths and the delta-method SE ≤ 1e-6 against lavaan;
multilevel ≤ 1e-4 against lme4.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import govsurvey as gs
from refdata import HERE, load

MODELS = load("hs_models.json")
MIXED = load("nested_mixed.json")
EXTRA = load("models_extra.json")


@pytest.fixture(scope="module")
def hsm(hs) -> pd.DataFrame:
    out = hs.copy()
    out["female"] = (out["sex"] == 2).astype(int)
    out["pasteur"] = (out["school"] == "Pasteur").astype(int)
    out["agegrp"] = pd.cut(out["ageyr"], [0, 12, 13, 99], labels=["le12", "13", "ge14"]).astype(str)
    out["x9c"] = pd.cut(out["x9"], [-np.inf, 4.5, 5.5, 6.5, np.inf], labels=False) + 1
    return out


def _r(name: str) -> str:
    return "(Intercept)" if name == "Intercept" else name


def test_ols(hsm):
    """lm(x9 ~ x1 + x4 + x7 + ageyr + female); betas from lm(scale(y) ~ scale(X)); VIF 1/(1 − R²_j)."""
    ref = MODELS["ols"]
    fit = gs.regress("x9 ~ x1 + x4 + x7 + ageyr + female", hsm)
    for term, row in fit.table.iterrows():
        for ours, key in (("b", "coef"), ("se", "se"), ("t", "t"), ("p", "p")):
            assert row[ours] == pytest.approx(ref[key][_r(term)], rel=1e-6), (term, ours)
        if term != "Intercept":
            assert row["beta"] == pytest.approx(ref["std_beta"][term], rel=1e-6)
            assert row["vif"] == pytest.approx(ref["vif"][term], rel=1e-6)
    assert fit.r2 == pytest.approx(ref["r2"], rel=1e-6)
    assert fit.adj_r2 == pytest.approx(ref["adj_r2"], rel=1e-6)
    assert fit.f == pytest.approx(ref["f"], rel=1e-6)
    assert fit.n == 301 and fit.n_dropped == 0
    hc3 = gs.regress("x9 ~ x1 + x4 + x7 + ageyr + female", hsm, robust="HC3")
    for term, se in ref["se_hc3"].items():
        assert hc3.table.loc["Intercept" if term == "(Intercept)" else term, "se"] == pytest.approx(se, rel=1e-6)


def test_hierarchical(hsm):
    ref = MODELS["hierarchical"]
    steps = gs.hierarchical_regression(hsm, "x9", [["ageyr", "female"], ["x1", "x4", "x7"]])
    assert steps.loc[1, "r2"] == pytest.approx(ref["r2_step1"], rel=1e-6)
    assert steps.loc[2, "r2"] == pytest.approx(ref["r2_step2"], rel=1e-6)
    assert steps.loc[2, "delta_r2"] == pytest.approx(ref["delta_r2"], rel=1e-6)
    assert steps.loc[2, "f_change"] == pytest.approx(ref["f_change"], rel=1e-6)
    assert steps.loc[2, "p_change"] == pytest.approx(ref["p_change"], rel=1e-6)


def test_logistic(hsm):
    ref = MODELS["logistic"]
    fit = gs.logistic("pasteur ~ x1 + x4 + x7", hsm)
    for term, row in fit.table.iterrows():
        assert row["b"] == pytest.approx(ref["coef"][_r(term)], rel=1e-5)
        assert row["se"] == pytest.approx(ref["se"][_r(term)], rel=1e-5)
        assert row["odds_ratio"] == pytest.approx(math.exp(ref["coef"][_r(term)]), rel=1e-5)
    assert fit.deviance == pytest.approx(ref["deviance"], rel=1e-5)
    assert fit.aic == pytest.approx(ref["aic"], rel=1e-5)


def test_ordinal(hsm):
    """MASS::polr(factor(x9c) ~ x1 + female, Hess=TRUE): coefficients, thresholds and SEs (1e-5)."""
    ref = EXTRA["ordinal"]
    fit = gs.ordinal("x9c ~ x1 + female", hsm)
    for term, b in ref["coef"].items():
        assert fit.table.loc[term, "b"] == pytest.approx(b, abs=1e-5)
        assert fit.table.loc[term, "se"] == pytest.approx(ref["se"][term], abs=1e-5)
    assert fit.deviance == pytest.approx(ref["deviance"], rel=1e-6)


def test_mediation_against_lavaan(hsm):
    ref = MODELS["mediation"]
    med = gs.mediation(hsm, x="x1", m="x4", y="x9", n_boot=0)
    t = med.table
    for ours, key in (("a", "a"), ("b", "b"), ("c_prime", "cp"), ("indirect", "indirect"), ("total", "total")):
        assert t.loc[ours, "estimate"] == pytest.approx(ref[key], rel=1e-6)
    assert t.loc["indirect", "se"] == pytest.approx(ref["indirect_se_delta"], rel=1e-6)


def test_parallel_mediation_with_covariate(hsm):
    ref = EXTRA["parallel"]
    med = gs.mediation(hsm, x="x1", m=["x5", "x6"], y="x9", covariates=["ageyr"], n_boot=0)
    for ours, key in (("a_x5", "a1"), ("a_x6", "a2"), ("b_x5", "b1"), ("b_x6", "b2"), ("c_prime", "cp"),
                      ("indirect_x5", "ind1"), ("indirect_x6", "ind2"), ("indirect", "indirect"), ("total", "total")):
        assert med.table.loc[ours, "estimate"] == pytest.approx(ref[key]["est"], rel=1e-6)
        assert med.table.loc[ours, "se"] == pytest.approx(ref[key]["se"], rel=1e-6)


def test_bootstrap_interval_within_monte_carlo_error_of_lavaan(hsm):
    """Both intervals are 5,000-resample percentile intervals from different random streams.

    The sampling SD of an estimated p-quantile is √(p(1 − p)/B)/f(q); with the bootstrap
    distribution close to normal, f(q) ≈ φ(z_p)/sd_boot. Two independent estimates differ with
    SD √2 times that, so we allow 4 such SDs (a false alarm about once in 16,000 runs).
    """
    ref = EXTRA["mediation_boot"]
    med = gs.mediation(hsm, x="x1", m="x4", y="x9", n_boot=5000, seed=20261124)
    B, sd = ref["n_boot"], ref["ind_boot_sd"]
    p = 0.025
    mc_sd = math.sqrt(p * (1 - p) / B) / (stats.norm.pdf(stats.norm.ppf(p)) / sd)
    tol = 4 * math.sqrt(2) * mc_sd
    assert med.table.loc["indirect", "ci_low"] == pytest.approx(ref["ind_ci"][0], abs=tol)
    assert med.table.loc["indirect", "ci_high"] == pytest.approx(ref["ind_ci"][1], abs=tol)
    again = gs.mediation(hsm, x="x1", m="x4", y="x9", n_boot=5000, seed=20261124)
    pd.testing.assert_frame_equal(again.table, med.table)  # same seed, same interval
    bc = gs.mediation(hsm, x="x1", m="x4", y="x9", n_boot=5000, seed=20261124, ci_method="bc")
    assert bc.table.loc["indirect", "ci_low"] != med.table.loc["indirect", "ci_low"]


def test_moderation(hsm):
    """lm(x9 ~ x1 * female), uncentred."""
    ref = MODELS["moderation"]
    mod = gs.moderation(hsm, x="x1", w="female", y="x9", center=False)
    for ours, key in (("Intercept", "(Intercept)"), ("x", "x1"), ("w", "female"), ("x:w", "x1:female")):
        assert mod.table.loc[ours, "b"] == pytest.approx(ref["coef"][key], rel=1e-6)
        assert mod.table.loc[ours, "se"] == pytest.approx(ref["se"][key], rel=1e-6)
    # simple slope for girls = b_x + b_xw
    girls = mod.simple_slopes.loc["female = 1", "slope"]
    assert girls == pytest.approx(ref["coef"]["x1"] + ref["coef"]["x1:female"], rel=1e-10)
    centred = gs.moderation(hsm, x="x1", w="female", y="x9")
    assert centred.table.loc["x:w", "b"] == pytest.approx(ref["coef"]["x1:female"], rel=1e-10)


@pytest.mark.filterwarnings("ignore:High multicollinearity")
def test_johnson_neyman_bounds_are_where_significance_changes(hsm):
    mod = gs.moderation(hsm, x="x1", w="ageyr", y="x9")
    for _, row in mod.johnson_neyman.iterrows():
        # at a bound, |t| of the conditional effect equals the critical t
        fit = gs.regress("x9 ~ x1 * I(ageyr - %r)" % row["w"], hsm)
        t = fit.table.loc["x1", "t"]
        assert abs(t) == pytest.approx(stats.t.ppf(0.975, fit.df_resid), rel=1e-6)


@pytest.mark.parametrize("key, reml", [("reml", True), ("ml", False)])
def test_multilevel_random_intercept(key, reml):
    """lme4::lmer(preparedness ~ hours + (1 | community)); tolerance 1e-4."""
    ref = MIXED[key]
    data = pd.read_csv(HERE / "data" / "nested_preparedness.csv")
    fit = gs.multilevel("preparedness ~ hours", data, groups="community", reml=reml)
    for term in ("Intercept", "hours"):
        assert fit.fixed.loc[term, "b"] == pytest.approx(ref["fixed"][_r(term)], abs=1e-4)
        assert fit.fixed.loc[term, "se"] == pytest.approx(ref["se"][_r(term)], abs=1e-4)
    assert fit.var_groups == pytest.approx(ref["var_community"], abs=1e-4)
    assert fit.var_residual == pytest.approx(ref["var_residual"], abs=1e-4)
    assert fit.icc == pytest.approx(ref["icc"], abs=1e-4)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-4)
    assert fit.n_groups == 60 and fit.n == 1200


def test_multilevel_random_slope():
    """lmer(preparedness ~ hours + (1 + hours | community)): a boundary (singular) fit in lme4 too."""
    ref = EXTRA["random_slope"]
    data = pd.read_csv(HERE / "data" / "nested_preparedness.csv")
    with pytest.warns(gs.DataWarning, match="singular"):
        fit = gs.multilevel("preparedness ~ hours", data, groups="community", random_slopes=["hours"])
    for term in ("Intercept", "hours"):
        assert fit.fixed.loc[term, "b"] == pytest.approx(ref["fixed"][_r(term)], abs=1e-4)
        assert fit.fixed.loc[term, "se"] == pytest.approx(ref["se"][_r(term)], abs=1e-4)
    assert fit.random.loc["Intercept", "Intercept"] == pytest.approx(ref["var_intercept"], abs=1e-4)
    assert fit.random.loc["hours", "hours"] == pytest.approx(ref["var_slope"], abs=1e-4)
    assert fit.var_residual == pytest.approx(ref["var_residual"], abs=1e-4)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-4)


def test_group_comparisons(hsm):
    """t.test, oneway.test, aov, TukeyHSD, kruskal.test, wilcox.test(correct=FALSE), chisq.test."""
    st = gs.compare_groups(hsm, "x9", "female", test="t")
    assert st.statistic == pytest.approx(EXTRA["t_student"]["t"], rel=1e-6) and st.df2 == EXTRA["t_student"]["df"]
    assert st.p_value == pytest.approx(EXTRA["t_student"]["p"], rel=1e-6)
    wt = gs.compare_groups(hsm, "x9", "female")
    assert wt.test == "welch"
    assert wt.statistic == pytest.approx(EXTRA["t_welch"]["t"], rel=1e-6)
    assert wt.df2 == pytest.approx(EXTRA["t_welch"]["df"], rel=1e-6)
    wa = gs.compare_groups(hsm, "x9", "agegrp", test="welch_anova")
    assert wa.statistic == pytest.approx(EXTRA["welch_anova"]["f"], rel=1e-6)
    assert wa.df2 == pytest.approx(EXTRA["welch_anova"]["df2"], rel=1e-6)
    assert wa.p_value == pytest.approx(EXTRA["welch_anova"]["p"], rel=1e-6)
    av = gs.compare_groups(hsm, "x9", "agegrp", test="anova")
    assert av.statistic == pytest.approx(EXTRA["anova_age"]["f"], rel=1e-6)
    assert av.effect_size.loc[0, "eta_sq"] == pytest.approx(EXTRA["anova_age"]["eta_sq"], rel=1e-6)
    tukey = {f"{r.B}-{r.A}" if f"{r.B}-{r.A}" in EXTRA["tukey"]["pairs"] else f"{r.A}-{r.B}": r for r in av.posthoc.itertuples()}
    for pair, p_adj in zip(EXTRA["tukey"]["pairs"], EXTRA["tukey"]["p_adj"]):
        assert tukey[pair].p_tukey == pytest.approx(p_adj, abs=1e-5)
    kw = gs.compare_groups(hsm, "x9", "agegrp", test="kruskal")
    assert kw.statistic == pytest.approx(EXTRA["kruskal"]["h"], rel=1e-6)
    mw = gs.compare_groups(hsm, "x9", "female", test="mannwhitney")
    assert mw.p_value == pytest.approx(EXTRA["wilcox"]["p"], rel=1e-6)
    assert mw.statistic == pytest.approx(EXTRA["wilcox"]["w"], rel=1e-12)  # R's W is U of the first group
    ch = gs.compare_groups(hsm, "agegrp", "school")
    assert ch.test == "chi2"
    assert ch.statistic == pytest.approx(EXTRA["chisq"]["x2"], rel=1e-6)
    assert ch.p_value == pytest.approx(EXTRA["chisq"]["p"], rel=1e-6)


def test_correlations_and_describe(hsm):
    c = gs.correlations(hsm[["x1", "x9"]])
    assert c.r.loc["x1", "x9"] == pytest.approx(EXTRA["cor_pearson"]["r"], rel=1e-6)
    assert c.p.loc["x1", "x9"] == pytest.approx(EXTRA["cor_pearson"]["p"], rel=1e-6)
    s = gs.correlations(hsm[["x1", "x9"]], method="spearman")
    assert s.r.loc["x1", "x9"] == pytest.approx(EXTRA["cor_spearman"]["rho"], rel=1e-6)
    assert s.p.loc["x1", "x9"] == pytest.approx(EXTRA["cor_spearman"]["p"], rel=1e-6)
    d = gs.describe(hsm[["x1", "x9"]])
    for v in ("x1", "x9"):
        assert d.loc[v, "skew"] == pytest.approx(EXTRA["describe"]["skew"][v], rel=1e-6)
        assert d.loc[v, "kurtosis"] == pytest.approx(EXTRA["describe"]["kurtosis"][v], rel=1e-6)
        assert d.loc[v, "sd"] == pytest.approx(EXTRA["describe"]["sd"][v], rel=1e-6)
