"""Polychoric correlations, thresholds, their NACOV and ordinal alpha against lavaan 0.6-14 and
psych 2.2.9 (values/ordinal.json, made by r/make_ordinal_reference.R).

Tolerances, per quantity:
- thresholds: 1e-12 — closed form Φ⁻¹(cumulative proportion) in both;
- lavaan ρ: 1e-6 — lavaan's nlminb stops within ~4e-8 of the ML optimum we solve to 1e-12;
- psych ρ (method="psych"): 1e-9 — the same Brent search, evaluated on the same Φ₂ to ~1e-15;
- lavaan ρ vs psych ρ: 5e-5 — psych's optimize() stops at tolerance ε^¼;
- gamma (NACOV) and wls_obs: 1e-6 relative to gamma's largest entry — lavaan's ρ enters it;
- ordinal alpha: 1e-8 — a closed form of psych's ρ;
- ordinal omega total: 1e-5 — psych's minres (fa) stops ~2e-7 from the optimum.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refdata import HERE, load

import govsurvey as gs
from govsurvey.psychometrics.polychoric import bivariate_normal_cdf, cor_smooth

REF = load("ordinal.json")
ITEMS = REF["items"]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    data = pd.read_csv(HERE / "data" / "bfi.csv")[ITEMS].dropna()
    assert len(data) == REF["n_complete"] == 2436
    return data


@pytest.fixture(scope="module")
def bfi_poly(bfi):
    return _quiet(gs.polychoric, bfi)


@pytest.fixture(scope="module")
def hs_ordinal() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "hs_ordinal.csv")[[f"x{i}" for i in range(1, 10)]]


def _matrix(values, p):
    return np.array(values, dtype=float).reshape(p, p, order="F")      # R's column-major


def test_rho_and_thresholds_against_lavaan(bfi_poly):
    """lavCor(bc, ordered = items): lavInspect(fit, "sampstat")$cov and $th."""
    ref = REF["polychoric"]
    np.testing.assert_allclose(bfi_poly.rho.loc[ITEMS, ITEMS].to_numpy(), _matrix(ref["lavaan_rho"], 25), rtol=0, atol=1e-6)
    th = bfi_poly.thresholds
    assert [f"{i}|t{k}" for i, k in zip(th["item"], th["threshold"])] == ref["th_names"]
    np.testing.assert_allclose(th["value"].to_numpy(), ref["lavaan_th"], rtol=0, atol=1e-12)
    assert bfi_poly.n_obs == 2436 and bfi_poly.n_dropped == 0 and bfi_poly.method == "ml"
    assert not bfi_poly.smoothed


def test_rho_against_psych(bfi, bfi_poly):
    """psych::polychoric(bc): $rho and $tau (items × 5)."""
    ref = REF["polychoric"]
    psych_rho = _matrix(ref["psych_rho"], 25)
    ours = _quiet(gs.polychoric, bfi, method="psych")
    np.testing.assert_allclose(ours.rho.to_numpy(), psych_rho, rtol=0, atol=1e-9)
    tau = np.array(ref["psych_tau"]).reshape(ref["tau_dim"], order="F")
    np.testing.assert_allclose(ours.thresholds["value"].to_numpy(), tau.ravel(), rtol=0, atol=1e-12)
    # lavaan's exact ML and psych's coarser search agree to psych's tolerance
    np.testing.assert_allclose(bfi_poly.rho.to_numpy(), psych_rho, rtol=0, atol=5e-5)


def test_empty_category_as_lavaan_and_psych(bfi):
    """A1..A5 with A1's category 6 merged into 5: lavaan gives A1 four thresholds, psych turns
    global thresholds off."""
    ref = REF["empty_category"]
    data = bfi[ref["items"]].copy()
    data.loc[data["A1"] == 6, "A1"] = 5
    with pytest.warns(gs.DataWarning, match="different numbers of observed categories"):
        pc = gs.polychoric(data)
    th = pc.thresholds
    assert [f"{i}|t{k}" for i, k in zip(th["item"], th["threshold"])] == ref["th_names"]
    np.testing.assert_allclose(th["value"].to_numpy(), ref["lavaan_th"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(pc.rho.to_numpy(), _matrix(ref["lavaan_rho"], 5), rtol=0, atol=1e-6)
    ps = _quiet(gs.polychoric, data, method="psych")
    np.testing.assert_allclose(ps.rho.to_numpy(), _matrix(ref["psych_rho"], 5), rtol=0, atol=1e-9)


def test_gamma_against_lavaan_wlsmv(hs_ordinal):
    """lavInspect(cfa(HS.model, ordered = x1..x9, estimator = "WLSMV"), "gamma") and "wls.obs"."""
    ref = REF["gamma_hs"]
    gamma = _matrix(ref["gamma"], 63)
    scale = np.abs(gamma).max()
    stats = gs.ordinal_sample_stats(hs_ordinal.to_numpy())
    np.testing.assert_allclose(stats.wls_obs, ref["wls_obs"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(stats.nacov, gamma, rtol=0, atol=1e-6 * scale)
    th, rho, wls_obs, nacov = stats                              # unpacks as documented
    assert len(th) == 9 and all(len(t) == 3 for t in th) and rho.shape == (9, 9)
    assert wls_obs is stats.wls_obs and nacov is stats.nacov
    assert stats.pairs[:3].tolist() == [[1, 0], [2, 0], [3, 0]]  # lavaan's vech order
    np.testing.assert_array_equal(stats.th_item, np.repeat(np.arange(9), 3))
    # the result object carries the same vector, labelled
    pc = _quiet(gs.polychoric, hs_ordinal, acov=True)
    assert list(pc.wls_obs.index[:4]) == ["x1|t1", "x1|t2", "x1|t3", "x2|t1"]
    assert list(pc.wls_obs.index[27:30]) == ["x2~~x1", "x3~~x1", "x4~~x1"]
    np.testing.assert_allclose(pc.wls_obs.to_numpy(), stats.wls_obs, rtol=0, atol=1e-14)
    np.testing.assert_allclose(pc.gamma.to_numpy(), stats.nacov, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", list(REF["ordinal_alpha"]))
def test_ordinal_alpha_against_psych(bfi, scale):
    """suppressWarnings(alpha(polychoric(bc[s])$rho, check.keys = TRUE))$total$raw_alpha."""
    items = bfi[[f"{scale}{i}" for i in range(1, 6)]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        rel = gs.ordinal_reliability(items, check_keys=True)
    assert rel.alpha == pytest.approx(REF["ordinal_alpha"][scale], abs=1e-8)
    expected_reversed = {"A": ("A1",), "C": ("C4", "C5"), "E": ("E1", "E2"), "N": (), "O": ("O2", "O5")}[scale]
    assert rel.reversed == expected_reversed
    # psych::omega(polychoric(bc[s])$rho, nfactors = 1)$omega.tot: psych's minres stops ~2e-7 from the optimum
    assert rel.omega_total == pytest.approx(REF["ordinal_omega"][scale], abs=1e-5)
    assert rel.n_items == 5 and rel.n_obs == 2436


def test_reversal_warns(bfi):
    with pytest.warns(gs.DataWarning, match="reversed"):
        gs.ordinal_reliability(bfi[["A1", "A2", "A3"]], check_keys=True)


def test_sparse_cells_warn_and_are_listed():
    rng = np.random.default_rng(3)
    z = rng.multivariate_normal([0, 0, 0], [[1, .8, .3], [.8, 1, .3], [.3, .3, 1]], size=60)
    data = pd.DataFrame(np.digitize(z, [-1.5, -0.5, 0.5, 1.5]) + 1, columns=["a", "b", "c"])
    with pytest.warns(gs.DataWarning, match="a quarter or more of their cross-table empty"):
        pc = gs.polychoric(data)
    assert len(pc.zero_cell_pairs) > 0
    # a few empty corner cells in a large sample (normal for Likert items): listed, not warned about
    big = pd.DataFrame(np.digitize(rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], size=3000), [-2.3, -1, 0, 1]) + 1,
                       columns=["a", "b"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet = gs.polychoric(big)
    assert len(quiet.zero_cell_pairs) == 1 and not any("empty" in str(w.message) for w in caught)
    assert set(pc.zero_cell_pairs.columns) == {"item_1", "item_2", "n_zero_cells"}
    assert (pc.zero_cell_pairs["n_zero_cells"] > 0).all()


def test_not_positive_definite_is_smoothed():
    data = pd.DataFrame(np.random.default_rng(0).integers(1, 4, size=(8, 5)), columns=list("abcde"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pc = gs.polychoric(data, acov=True)
    assert any("cor.smooth" in str(w.message) and w.category is gs.DataWarning for w in caught)
    assert pc.smoothed
    assert np.linalg.eigvalsh(pc.rho.to_numpy()).min() > 0
    np.testing.assert_allclose(np.diag(pc.rho.to_numpy()), 1.0)
    raw = _quiet(gs.polychoric, data, smooth=False)
    assert not raw.smoothed and np.linalg.eigvalsh(raw.rho.to_numpy()).min() < 1e-10
    # wls_obs keeps the estimates, not the smoothed matrix
    p = 5
    ii, jj = np.tril_indices(p, -1)
    order = np.lexsort((ii, jj))
    np.testing.assert_allclose(pc.wls_obs.to_numpy()[-10:], raw.rho.to_numpy()[ii[order], jj[order]])


def test_cor_smooth_leaves_positive_definite_alone():
    r = np.array([[1, .5], [.5, 1]])
    out, done = cor_smooth(r)
    assert not done and out is r


@pytest.mark.parametrize("bad, error, match", [
    (pd.DataFrame({"a": [1.0, 2.5, 3.0, 1.0], "b": [1, 2, 3, 1]}), gs.DataValidationError, "non-integer"),
    (pd.DataFrame({"a": np.arange(40) % 13, "b": np.arange(40) % 3}), gs.DataValidationError, "look continuous"),
    (pd.DataFrame({"a": [1, 1, 1, 1], "b": [1, 2, 3, 1]}), gs.DataValidationError, "single observed category"),
    (pd.DataFrame({"a": ["x", "y", "x", "y"], "b": [1, 2, 1, 2]}), gs.DataValidationError, "non-numeric"),
    (pd.DataFrame({"a": [1, 2, 1, 2]}), gs.DataValidationError, "at least 2 items"),
])
def test_clear_errors(bad, error, match):
    with pytest.raises(error, match=match):
        gs.polychoric(bad)


def test_unknown_items_and_bad_method(bfi):
    with pytest.raises(gs.UnknownItemError, match="Z9"):
        gs.polychoric(bfi, items=["A1", "Z9"])
    with pytest.raises(gs.SpecificationError, match="method"):
        gs.polychoric(bfi, method="mplus")
    with pytest.raises(ValueError, match="non-integer"):
        gs.ordinal_sample_stats(np.array([[1.0, 2.0], [1.5, 1.0], [2.0, 2.0]]))


def test_missing_rows_dropped_and_counted_input_untouched(bfi):
    data = bfi[["A1", "A2", "A3"]].iloc[:400].astype(float).copy()
    data.iloc[[3, 7], 1] = np.nan
    before = data.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pc = gs.polychoric(data)
    assert any("2 of 400 respondents" in str(w.message) for w in caught)
    pd.testing.assert_frame_equal(data, before)
    assert pc.n_obs == 398 and pc.n_dropped == 2


def test_result_contract(bfi_poly):
    d = bfi_poly.to_dict()
    assert set(d) >= {"rho", "thresholds", "n_obs", "gamma", "wls_obs", "warnings"}
    import json
    json.dumps(d)
    assert bfi_poly.to_frame().shape == (25, 25)
    assert repr(bfi_poly).startswith("Polychoric(rho=<DataFrame 25×25>")
    assert "<table" in bfi_poly._repr_html_()
    with pytest.raises(AttributeError):
        bfi_poly.n_obs = 3


def test_bivariate_normal_cdf_known_values():
    assert bivariate_normal_cdf(0.0, 0.0, 0.5) == pytest.approx(1 / 3, abs=1e-15)
    r = np.array([-0.99, -0.5, 0.0, 0.3, 0.95, 0.999])
    np.testing.assert_allclose(bivariate_normal_cdf(0.0, 0.0, r), 0.25 + np.arcsin(r) / (2 * np.pi), atol=1e-15)
    assert bivariate_normal_cdf(np.inf, 0.3, 0.4) == pytest.approx(0.617911422188953, abs=1e-15)
    assert bivariate_normal_cdf(-np.inf, 0.3, 0.4) == 0.0
    # symmetry P(X ≤ h, Y ≤ k; ρ) + P(X ≤ h, Y > k; ρ) = Φ(h), with P(X ≤ h, Y > k; ρ) = Φ₂(h, −k; −ρ)
    h, k, rho = 0.7, -0.4, 0.93
    total = bivariate_normal_cdf(h, k, rho) + bivariate_normal_cdf(h, -k, -rho)
    assert total == pytest.approx(0.758036347776927, abs=1e-14)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), r=st.floats(-0.8, 0.8), ncat=st.integers(2, 6))
def test_reversing_an_item_flips_the_sign(seed, r, ncat):
    """Reversing one item's category order negates its correlations and mirrors its thresholds."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0, 0], [[1, r, r / 2], [r, 1, 0.3], [r / 2, 0.3, 1]], size=300)
    cuts = np.sort(rng.uniform(-1.2, 1.2, ncat - 1))
    x = pd.DataFrame(np.digitize(z, cuts) + 1, columns=["a", "b", "c"])
    if (x.nunique() < 2).any():
        return
    flipped = x.copy()
    flipped["a"] = x["a"].max() + x["a"].min() - x["a"]
    one = _quiet(gs.polychoric, x, smooth=False)
    two = _quiet(gs.polychoric, flipped, smooth=False)
    sign = np.array([-1.0, 1.0, 1.0])
    expected = one.rho.to_numpy() * np.outer(sign, sign)
    free = np.abs(expected) < 0.998            # at lavaan's ±0.999 bound both sides sit on it
    np.testing.assert_allclose(two.rho.to_numpy()[free], expected[free], atol=1e-8)
    ta = one.thresholds.query("item == 'a'")["value"].to_numpy()
    tb = two.thresholds.query("item == 'a'")["value"].to_numpy()
    np.testing.assert_allclose(tb, -ta[::-1], atol=1e-12)


def test_dichotomised_bivariate_normal_recovers_r():
    rng = np.random.default_rng(11)
    z = rng.multivariate_normal([0, 0], [[1, 0.45], [0.45, 1]], size=200_000)
    x = pd.DataFrame((z > [0.3, -0.6]).astype(int), columns=["a", "b"])
    pc = gs.polychoric(x, acov=True)
    assert pc.rho.loc["a", "b"] == pytest.approx(0.45, abs=0.01)    # SE ≈ 0.004 at n = 200,000
    gamma = pc.gamma.to_numpy()
    se = np.sqrt(gamma[-1, -1] / pc.n_obs)
    assert 0.002 < se < 0.006
