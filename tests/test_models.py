"""Models: planted effects of the example study, missing-data reporting, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs


@pytest.fixture(scope="module")
def study(inst, xlsx_data):
    clean = gs.screen(xlsx_data, inst).clean
    scores = gs.score(clean, inst)
    return clean[["gender", "role", "site", "street", "age_group"]].join(scores)


def test_planted_structural_effects_are_recovered(study, truth):
    """Trust depends on capacity; participation on capacity and trust; cadres, grid workers and
    volunteers participate more. Observed-score regressions are attenuated by measurement
    error, so the check is on direction, significance and plausible size."""
    s = truth["model"]["structural"]
    trust = gs.regress("trust ~ capacity", study)
    assert trust.table.loc["capacity", "p"] < 1e-6
    assert 0.25 < trust.table.loc["capacity", "beta"] < s["trust_on_capacity"] + 0.1
    part = gs.regress("participation ~ capacity + trust + C(role)", study)
    assert part.table.loc["trust", "p"] < 1e-3 and part.table.loc["capacity", "p"] < 0.05
    roles = [t for t in part.table.index if t.startswith("C(role)")]
    assert all(part.table.loc[t, "b"] > 0 for t in roles)
    assert min(part.table.loc[t, "p"] for t in roles) < 0.01


def test_planted_mediation_and_community_variance(study, truth):
    med = gs.mediation(study, x="capacity", m="trust", y="participation", n_boot=2000, seed=7)
    assert med.table.loc["indirect", "ci_low"] > 0  # capacity → trust → participation
    mlm = gs.multilevel("capacity ~ 1", study, groups="site")
    planted = truth["model"]["icc_general_capacity"]
    assert 0.02 < mlm.icc < 0.4 and mlm.icc == pytest.approx(planted, abs=0.15)
    cmp = gs.compare_groups(study, "participation", "role")
    assert cmp.p_value < 0.001 and cmp.posthoc is not None


def test_rows_with_missing_values_are_reported_not_dropped_silently(study):
    data = study.copy()
    data.loc[data.index[:7], "trust"] = np.nan
    fit = gs.regress("participation ~ trust", data)
    assert fit.n_dropped >= 7 and "trust: " in fit.warnings[0]
    med = gs.mediation(data, x="capacity", m="trust", y="participation", n_boot=0)
    assert med.n_dropped >= 7 and "left out" in med.warnings[0]


def test_describe_and_correlations_on_scores(study):
    d = gs.describe(study, columns=["trust", "capacity"], by="gender")
    assert set(d.index.get_level_values(0)) == {1.0, 2.0}
    c = gs.correlations(study[["trust", "capacity", "participation"]])
    assert (c.p.to_numpy()[np.triu_indices(3, 1)] < 0.001).all()
    table = c.to_frame()
    assert list(table.columns[:2]) == ["M", "SD"] and np.isnan(table.loc["trust", "capacity"])


def test_perfect_separation_is_a_clear_error():
    data = pd.DataFrame({"y": [0] * 20 + [1] * 20, "x": list(range(40))})
    with pytest.raises(gs.DataValidationError, match="separated"):
        gs.logistic("y ~ x", data)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda d: gs.regress("participation ~ nope", d), gs.UnknownItemError, "nope"),
        (lambda d: gs.regress("participation trust", d), gs.SpecificationError, "no '~'"),
        (lambda d: gs.regress("participation ~ trust", d, robust="HC9"), gs.SpecificationError, "robust='HC9'"),
        (lambda d: gs.regress("participation ~ trust + t2", d.assign(t2=d["trust"] * 2)), gs.NotPositiveDefiniteError, "collinear"),
        (lambda d: gs.logistic("role ~ trust", d), gs.DataValidationError, "exactly two values"),
        (lambda d: gs.ordinal("gender ~ trust", d), gs.DataValidationError, "use gs.logistic"),
        (lambda d: gs.hierarchical_regression(d, "trust", []), gs.SpecificationError, "blocks"),
        (lambda d: gs.mediation(d, x="trust", m="trust", y="capacity"), gs.SpecificationError, "different columns"),
        (lambda d: gs.mediation(d, x="trust", m="capacity", y="participation", ci_method="bca"), gs.SpecificationError, "ci_method"),
        (lambda d: gs.mediation(d, x="trust", m="capacity", y="participation", n_boot=-1), gs.SpecificationError, "n_boot"),
        (lambda d: gs.moderation(d, x="trust", w="nope", y="capacity"), gs.UnknownItemError, "nope"),
        (lambda d: gs.multilevel("trust ~ capacity", d.assign(one="a"), groups="one"), gs.DataValidationError, "1 group"),
        (lambda d: gs.compare_groups(d, "trust", "gender", test="ttest"), gs.SpecificationError, "test='ttest'"),
        (lambda d: gs.compare_groups(d, "trust", "role", test="t"), gs.SpecificationError, "compares two groups"),
        (lambda d: gs.compare_groups(d.assign(g=1), "trust", "g"), gs.DataValidationError, "at least two"),
        (lambda d: gs.correlations(d, method="kendall"), gs.SpecificationError, "kendall"),
        (lambda d: gs.describe(d, columns=["site"]), gs.DataValidationError, "not numeric"),
        (lambda d: gs.mediation(d, x="site", m="trust", y="capacity"), gs.DataValidationError, "non-numeric"),
    ],
)
def test_bad_input_gives_clear_errors(study, call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            call(study)


def test_results_serialise(study):
    import json

    for r in (gs.regress("trust ~ capacity", study), gs.mediation(study, x="capacity", m="trust", y="participation", n_boot=50, seed=1),
              gs.moderation(study, x="capacity", w="trust", y="participation"), gs.multilevel("trust ~ capacity", study, groups="site"),
              gs.compare_groups(study, "trust", "gender"), gs.correlations(study[["trust", "capacity"]]),
              gs.logistic("g2 ~ trust", study.assign(g2=(study["gender"] == 2).astype(int)))):
        json.dumps(r.to_dict())
        assert isinstance(r.to_frame(), pd.DataFrame) and repr(r) and r._repr_html_()


def test_effect_size_intervals_invert_the_noncentral_distributions(study):
    from scipy import stats

    res = gs.compare_groups(study, "trust", "gender", test="t")
    e = res.effect_size.iloc[0]
    n1, n2 = res.groups["n"]
    scale = (1 / n1 + 1 / n2) ** 0.5
    t = e["cohen_d"] / scale
    assert e["d_ci_low"] < e["cohen_d"] < e["d_ci_high"]
    assert stats.nct.cdf(t, n1 + n2 - 2, e["d_ci_low"] / scale) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(t, n1 + n2 - 2, e["d_ci_high"] / scale) == pytest.approx(0.025, abs=1e-6)
    assert abs(e["hedges_g"]) < abs(e["cohen_d"])
    av = gs.compare_groups(study, "participation", "role", test="anova").effect_size.iloc[0]
    assert av["eta_sq_ci_low"] <= av["eta_sq"] <= av["eta_sq_ci_high"] and av["omega_sq"] < av["eta_sq"]


def test_weighted_regressions(study):
    data = study.assign(w=np.where(study["gender"] == 1, 2.0, 1.0), g2=(study["gender"] == 2).astype(int))
    wls = gs.regress("trust ~ capacity", data, weights="w")
    assert wls.weighted and wls.table.loc["capacity", "b"] != gs.regress("trust ~ capacity", data).table.loc["capacity", "b"]
    lg = gs.logistic("g2 ~ trust", data, weights="w")
    assert np.isfinite(lg.table.loc["trust", "b"])
    with pytest.raises(gs.DataValidationError, match="must be positive"):
        gs.regress("trust ~ capacity", data.assign(w=-1.0), weights="w")


def test_empty_groups_are_left_out_with_a_note():
    """A categorical group with an unused level (an empty group) is left out and said so, as
    R's droplevels() would; a group with a single case is an error that names it."""
    rng = np.random.default_rng(3)
    n = 120
    d = pd.DataFrame({"y": rng.standard_normal(n), "x": rng.standard_normal(n)})
    d["g"] = pd.Categorical(np.where(np.arange(n) % 2, "a", "b"), categories=["a", "b", "empty"])
    comp = gs.compare_groups(d, "y", "g")
    assert comp.test == "welch" and list(comp.groups.index) == ["a", "b"]
    assert any("empty of 'g' have no cases" in w for w in comp.warnings)
    fit = gs.regress("y ~ x + C(g)", d)
    assert list(fit.table.index) == ["Intercept", "C(g)[T.b]", "x"]
    assert any("empty" in w for w in fit.warnings)
    d.loc[0, "g"] = "empty"
    with pytest.raises(gs.DataValidationError, match=r"group\(s\) \['empty'\] have fewer than 2 cases"):
        gs.compare_groups(d, "y", "g")


def test_mediation_bootstrap_survives_singular_resamples():
    """Found by the property suite: with few distinct predictor values some resamples have a
    singular design; they are left out (with a warning) instead of failing the whole batch."""
    from govsurvey.models.mediation import bootstrap_paths

    rng = np.random.default_rng(0)
    n = 12
    x = np.r_[np.zeros(n - 2), 1.0, 1.0]          # most resamples miss both x = 1 cases
    m = x + rng.standard_normal(n)
    y = m + rng.standard_normal(n)
    z = np.column_stack([np.ones(n), x, m, y])
    draws = bootstrap_paths(z, 1, 0, n_boot=400, seed=1)
    bad = ~np.isfinite(draws).all(axis=1)
    assert 0 < bad.sum() < 400 and np.isfinite(draws[~bad]).all()
    with pytest.raises(gs.DataValidationError, match="at least 10 complete cases"):
        gs.mediation(pd.DataFrame({"x": [0.0, 1, 0, 1, 0, 1], "m": m[:6], "y": y[:6]}), x="x", m="m", y="y", n_boot=100, seed=1)


def test_describe_by_an_all_missing_group_is_a_clear_error():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "g": [np.nan, np.nan, np.nan]})
    with pytest.raises(gs.DataValidationError, match="by='g' has no value in any row"):
        gs.describe(frame, by="g")
