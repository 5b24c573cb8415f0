"""Item statistics, reliability and EFA against psych 2.2.9 (values/hs_items.json).

Tolerances follow issue 3: closed forms ≤ 1e-6 relative; EFA loadings, communalities, Phi,
omega, λ6 and split-half ≤ 1e-4 absolute (psych's minres and ML solutions come from an
L-BFGS-B optimiser stopped at its default tolerance, ~1e-5 from the exact optimum).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import govsurvey as gs
from refdata import align_factors, load

REF = load("hs_items.json")
SCALES = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
CLOSED = {"rel": 1e-6}


@pytest.mark.parametrize("scale", list(SCALES))
def test_reliability_against_psych_alpha(hs, scale):
    """psych::alpha(X[, items]), psych::alpha.ci, psych::splitHalf, psych::omega(nfactors=1)."""
    ref = REF["reliability"][scale]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 301 cases for 3 items is fine; nothing to warn about here
        r = gs.reliability(hs[SCALES[scale]])
    assert r.alpha == pytest.approx(ref["raw_alpha"], rel=1e-6)
    assert r.alpha_std == pytest.approx(ref["std_alpha"], rel=1e-6)
    assert r.average_r == pytest.approx(ref["average_r"], rel=1e-6)
    assert r.alpha_ci[0] == pytest.approx(ref["feldt_ci"][0], rel=1e-6)  # Feldt lower
    assert r.alpha_ci[1] == pytest.approx(ref["feldt_ci"][2], rel=1e-6)  # Feldt upper
    for item, value in ref["alpha_if_deleted"].items():
        assert r.items.loc[item, "alpha_if_deleted"] == pytest.approx(value, rel=1e-6)
    for item, value in ref["r_drop"].items():
        assert r.items.loc[item, "r_drop"] == pytest.approx(value, rel=1e-6)
    assert r.lambda6 == pytest.approx(ref["G6"], abs=1e-4)
    assert r.split_half == pytest.approx(ref["split_half_max"], abs=1e-4)
    assert r.omega_total == pytest.approx(ref["omega_total_1f"], abs=1e-4)
    assert r.n_obs == 301 and r.ci_method == "Feldt"


def test_alpha_of_all_nine(hs_items):
    r = gs.reliability(hs_items)
    assert r.alpha == pytest.approx(REF["alpha_all9"]["raw_alpha"], rel=1e-6)
    assert r.alpha_std == pytest.approx(REF["alpha_all9"]["std_alpha"], rel=1e-6)


def test_critical_ratio(hs_items):
    """Extreme 27 % groups on the 9-item total (quantile type 7), Welch t.test(high, low)."""
    table = gs.item_analysis(hs_items)
    for item, t in REF["critical_ratio"]["t"].items():
        assert table.loc[item, "cr_t"] == pytest.approx(t, rel=1e-6)
    assert (table.attrs["n_low"], table.attrs["n_high"]) == (REF["critical_ratio"]["n_low"], REF["critical_ratio"]["n_high"])
    assert (table["cr_p"] < 1e-8).all()


def test_kmo_and_bartlett(hs_items):
    """psych::KMO(X); psych::cortest.bartlett(cor(X), n=301)."""
    k = gs.kmo(hs_items)
    assert k.overall == pytest.approx(REF["kmo"]["overall"], rel=1e-6)
    for item, msa in REF["kmo"]["per_item"].items():
        assert k.per_item[item] == pytest.approx(msa, rel=1e-6)
    b = gs.bartlett(hs_items)
    assert b.chi2 == pytest.approx(REF["bartlett"]["chisq"], rel=1e-6)
    assert b.df == REF["bartlett"]["df"]
    assert b.p_value == pytest.approx(REF["bartlett"]["p_value"], rel=1e-6)


def test_parallel_analysis_agrees_on_the_number_of_factors(hs_items):
    """set.seed(42); psych::fa.parallel(X, fa='fa', n.iter=20) suggests 3."""
    pa = gs.parallel_analysis(hs_items, n_iter=20, seed=42)
    assert pa.n_factors == REF["parallel"]["nfact"]
    again = gs.parallel_analysis(hs_items, n_iter=20, seed=42)
    assert again.table.equals(pa.table)  # same seed, same numbers
    np.testing.assert_allclose(pa.table["pc_observed"].to_numpy(), REF["eigen_values"], rtol=1e-10)


@pytest.mark.parametrize(
    "key, method, rotation",
    [("efa_minres_oblimin", "minres", "oblimin"), ("efa_ml_varimax", "ml", "varimax"),
     ("efa_pa_promax", "pa", "promax"), ("efa_minres_none", "minres", "none")],
)
def test_efa_against_psych_fa(hs_items, key, method, rotation):
    """psych::fa(X, nfactors=3, fm=method, rotate=rotation); abs tolerance 1e-4 after alignment."""
    ref = REF[key]
    fit = gs.efa(hs_items, 3, method=method, rotation=rotation)
    aligned, perm, signs = align_factors(fit.loadings, ref["loadings"])
    expected = np.array([[col[i] for col in ref["loadings"]] for i in ref["loadings"][0]])
    np.testing.assert_allclose(aligned, expected, atol=1e-4, rtol=0)
    assert perm == [0, 1, 2] and (signs > 0).all()  # psych's own order and signs
    for item, h2 in ref["communalities"].items():
        assert fit.communalities[item] == pytest.approx(h2, abs=1e-4)
        assert fit.uniquenesses[item] == pytest.approx(ref["uniquenesses"][item], abs=1e-4)
    if ref["Phi"]:
        phi = fit.phi.to_numpy()[np.ix_(perm, perm)] * np.outer(signs, signs)
        np.testing.assert_allclose(phi, np.array(ref["Phi"]), atol=1e-4, rtol=0)
    else:
        assert fit.phi is None


def test_principal_components_varimax(hs_items):
    """psych::principal(X, nfactors=3, rotate='varimax') — SPSS's 主成分 + 最大方差旋转."""
    ref = REF["pc_varimax"]
    fit = gs.efa(hs_items, 3, method="pc", rotation="varimax")
    aligned, perm, _ = align_factors(fit.loadings, ref["loadings"])
    expected = np.array([[col[i] for col in ref["loadings"]] for i in ref["loadings"][0]])
    np.testing.assert_allclose(aligned, expected, atol=1e-4, rtol=0)
    for item, h2 in ref["communalities"].items():
        assert fit.communalities[item] == pytest.approx(h2, abs=1e-4)
    np.testing.assert_allclose(fit.variance.to_numpy(), np.array(ref["variance"]), atol=1e-4, rtol=0)
    assert list(fit.loadings.columns) == ["RC1", "RC2", "RC3"]


def test_kaiser_rule_when_n_factors_is_none(hs_items):
    fit = gs.efa(hs_items, method="pc", rotation="varimax")
    assert fit.n_factors == int((np.array(REF["eigen_values"]) > 1).sum()) == 3
    assert "eigenvalues > 1" in fit.n_factors_rule


def test_harman(hs_items):
    """psych::fa(X, nfactors=1, fm='pa', rotate='none')$Vaccounted[2, 1]."""
    h = gs.harman_test(hs_items)
    assert h.first_factor_share == pytest.approx(REF["harman"]["first_factor_share"], rel=1e-6)
    assert h.n_eigen_gt1 == 3
    pc = gs.harman_test(hs_items, method="pc")
    assert pc.first_factor_share == pytest.approx(REF["eigen_values"][0] / 9, rel=1e-12)


def test_pairwise_alpha_with_missing_values(hs):
    """psych::alpha on items with missing values uses pairwise covariances (values/sem_extra.json)."""
    ref = load("sem_extra.json")["alpha_pairwise"]
    x = hs[["x4", "x5", "x6"]].copy()
    x.loc[x.index[2::7], "x4"] = np.nan   # R rows seq(3, 301, by=7)
    x.loc[x.index[4::11], "x5"] = np.nan  # seq(5, 301, by=11)
    x.loc[x.index[1::13], "x6"] = np.nan  # seq(2, 301, by=13)
    r = gs.reliability(x, missing="pairwise")
    assert r.alpha == pytest.approx(ref["raw_alpha"], rel=1e-6)
    assert r.alpha_std == pytest.approx(ref["std_alpha"], rel=1e-6)
    assert r.average_r == pytest.approx(ref["average_r"], rel=1e-6)
    for item, v in ref["r_drop"].items():
        assert r.items.loc[item, "r_drop"] == pytest.approx(v, rel=1e-6)
    for item, v in ref["alpha_if_deleted"].items():
        assert r.items.loc[item, "alpha_if_deleted"] == pytest.approx(v, rel=1e-6)
    listwise = gs.reliability(x)
    assert listwise.n_obs < 301 and any("listwise" in w for w in listwise.warnings)
