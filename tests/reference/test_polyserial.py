"""Polyserial correlations and mixed (continuous + ordinal) correlation matrices against lavaan
0.6-14, psych 2.2.9 and polycor 0.8-1 (values/polyserial.json, made by r/make_polyserial_reference.R).

The data: bfi's A1..A5 (ordinal), age, consc = mean of C1..C5 and neuro = mean of N1..N5
(continuous), 2,800 rows, 2,548 complete.

Tolerances, per quantity:
- lavaan ρ (polyserial, polychoric, Pearson): 1e-6 — lavaan's nlminb stops within ~1.5e-8 of the
  optimum we solve to 1e-12 (1.1e-7 with age × 1000, where lavaan's √ε rule drops cases and
  makes its objective jump);
- thresholds: 1e-10 — closed form Φ⁻¹(cumulative proportion) in both;
- continuous means and ML variances: 1e-10 relative — closed forms (lavaan's nlminb starts at them);
- psych::polyserial (ad hoc): 1e-10 — a closed form;
- psych::mixedCor: 1e-9 — its polychoric block is psych's Brent search, evaluated on the same Φ₂;
- polycor two-step (our kernel on polycor's z, standardised with the n − 1 SD): ρ 1e-6, SE 1e-5
  relative — polycor's BFGS (reltol 1e-14) stops ~3e-7 away, its SE is a numerical Hessian;
- polycor's joint ML (thresholds re-estimated): ρ 5e-4, SE 1e-2 relative — a different estimator
  (measured: 1.8e-4 and 0.6 %);
- polycor two-step vs ours with lavaan's z (ML SD): 1e-4 — the n/(n − 1) scaling of z.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refdata import HERE, load

import govsurvey as gs
ps_module = importlib.import_module("govsurvey.psychometrics.polyserial")   # the module (the package exports the function)
from govsurvey.psychometrics.polychoric import _thresholds
from govsurvey.psychometrics.polyserial import Polyserial, polyserial

REF = load("polyserial.json")
ORD = REF["ordered"]
CONT = REF["continuous"]
NAMES = ORD + CONT


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        return fn(*args, **kwargs)


def _matrix(values, p):
    return np.array(values, dtype=float).reshape(p, p, order="F")      # R's column-major


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    bfi = pd.read_csv(HERE / "data" / "bfi.csv")
    out = bfi[ORD].copy()
    out["age"] = bfi["age"]
    out["consc"] = bfi[[f"C{i}" for i in range(1, 6)]].mean(axis=1, skipna=False)   # R's rowMeans
    out["neuro"] = bfi[[f"N{i}" for i in range(1, 6)]].mean(axis=1, skipna=False)
    assert len(out) == REF["n_rows"] == 2800
    return out


@pytest.fixture(scope="module")
def complete(data) -> pd.DataFrame:
    out = data.dropna()
    assert len(out) == REF["n_complete"] == 2548
    return out


@pytest.fixture(scope="module")
def mixed(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = gs.polychoric(data, ordered=ORD, method="lavaan")
    return result, [str(w.message) for w in caught]


def _th_labels(pc):
    return [f"{i}|t{k}" for i, k in zip(pc.thresholds["item"], pc.thresholds["threshold"])]


# --------------------------------------------------------------------------------------------
# lavaan
# --------------------------------------------------------------------------------------------

def test_mixed_matrix_against_lavaan(mixed):
    """lavCor(df, ordered = A1..A5): listwise deletion, cov2cor(sampstat$cov), sampstat$th, and
    lavCor(..., output = "cor"/"th") give the same numbers."""
    pc, msgs = mixed
    ref = REF["lavaan"]["main"]
    assert ref["names"] == NAMES and list(pc.rho.columns) == NAMES and list(pc.rho.index) == NAMES
    np.testing.assert_allclose(pc.rho.to_numpy(), _matrix(ref["cor"], 8), rtol=0, atol=1e-6)
    np.testing.assert_allclose(pc.rho.to_numpy(), _matrix(ref["cor_output"], 8), rtol=0, atol=1e-6)
    assert _th_labels(pc) == ref["th_names"]
    np.testing.assert_allclose(pc.thresholds["value"].to_numpy(), ref["th"], rtol=0, atol=1e-10)
    assert pc.n_obs == ref["nobs"] == 2548 and pc.n_dropped == 252
    assert pc.continuous == tuple(CONT) and pc.method == "lavaan" and not pc.smoothed
    moments = pc.continuous_moments.set_index("variable")
    np.testing.assert_allclose(moments.loc[CONT, "mean"], ref["mean"], rtol=1e-10)
    np.testing.assert_allclose(moments.loc[CONT, "variance"], ref["var"], rtol=1e-10)     # ÷ N
    assert pc.wls_obs is None and pc.gamma is None
    assert any("252 of 2800 respondents" in m for m in msgs)
    # lavaan's √ε rule leaves one old respondent (age 5 SD above the mean) out of four age pairs
    rule = [m for m in msgs if "As lavaan 0.6.14" in m]
    assert len(rule) == 1 and "age–A2 (1)" in rule[0] and "method='ml'" in rule[0]


@pytest.mark.parametrize("case", ["gap", "top"])
def test_empty_category_against_lavaan(complete, case):
    """gap: A3's 3s recoded to 2 (categories 1, 2, 4, 5, 6); top: A1's 6s recoded to 5. lavaan
    uses the observed categories, so the item gets one threshold fewer."""
    ref = REF["lavaan"][case]
    data = complete.copy()
    item, old, new = ("A3", 3, 2) if case == "gap" else ("A1", 6, 5)
    data.loc[data[item] == old, item] = new
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pc = gs.polychoric(data, ordered=ORD, method="lavaan")
    expected = "empty categories inside" if case == "gap" else "different numbers of observed categories"
    assert any(expected in str(w.message) and w.category is gs.DataWarning for w in caught)
    assert _th_labels(pc) == ref["th_names"] and sum(t.startswith(item) for t in ref["th_names"]) == 4
    np.testing.assert_allclose(pc.thresholds["value"].to_numpy(), ref["th"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(pc.rho.to_numpy(), _matrix(ref["cor"], 8), rtol=0, atol=1e-6)


def test_lavaan_rule_depends_on_the_unit_ml_does_not(complete):
    """age × 1000: lavaan drops more cases (density below √ε) and moves ρ(age, A1) by 0.009;
    method="lavaan" follows it, method="ml" (every case) does not change with the unit."""
    ref_raw, ref_scaled = REF["lavaan"]["main"], REF["lavaan"]["age_times_1000"]
    scaled = complete.copy()
    scaled["age"] = scaled["age"] * 1000
    with pytest.warns(gs.DataWarning, match=r"age–A3 \(11\)"):
        lav = gs.polychoric(scaled, ordered=ORD, method="lavaan")
    np.testing.assert_allclose(lav.rho.to_numpy(), _matrix(ref_scaled["cor"], 8), rtol=0, atol=1e-6)
    assert abs(ref_scaled["cor"][5] - ref_raw["cor"][5]) > 5e-3                 # lavaan's own unit effect
    with pytest.warns(gs.DataWarning, match="would leave cases out"):
        ml_raw = gs.polychoric(complete, ordered=ORD, method="ml")
    ml_scaled = _quiet(gs.polychoric, scaled, ordered=ORD, method="ml")
    np.testing.assert_allclose(ml_scaled.rho.to_numpy(), ml_raw.rho.to_numpy(), rtol=0, atol=1e-10)
    # where lavaan's rule leaves nobody out (age–A1, every non-age pair), "ml" is lavaan's estimate
    raw = _matrix(ref_raw["cor"], 8)
    keep = np.ones((8, 8), dtype=bool)
    keep[5, 1:5] = keep[1:5, 5] = False
    np.testing.assert_allclose(ml_raw.rho.to_numpy()[keep], raw[keep], rtol=0, atol=1e-6)
    assert np.abs(ml_raw.rho.to_numpy()[5, 1:5] - raw[5, 1:5]).max() > 2e-3


def test_standalone_polyserial_is_the_matrix_entry(complete, mixed):
    pc, _ = mixed
    one = _quiet(polyserial, complete["age"], complete["A1"], method="lavaan")
    assert isinstance(one, Polyserial) and one.method == "lavaan" and one.converged
    assert one.rho == pytest.approx(pc.rho.loc["age", "A1"], abs=1e-12)
    np.testing.assert_allclose(one.thresholds["value"], REF["lavaan"]["main"]["th"][:5], rtol=0, atol=1e-10)
    assert list(one.thresholds["item"]) == ["A1"] * 5 and one.n_obs == 2548 and one.n_dropped == 0
    assert one.mean == pytest.approx(REF["lavaan"]["main"]["mean"][0], rel=1e-12)
    assert one.variance == pytest.approx(REF["lavaan"]["main"]["var"][0], rel=1e-12)
    assert 0.015 < one.se < 0.03


# --------------------------------------------------------------------------------------------
# psych
# --------------------------------------------------------------------------------------------

def test_polyserial_block_against_psych(complete):
    """psych::polyserial(dc[c("age", "consc", "neuro")], dc[A1..A5]) — rows ordinal, columns continuous."""
    ref = REF["psych"]["polyserial"]
    pc = _quiet(gs.polychoric, complete, ordered=ORD, method="psych", smooth=False)
    block = pc.rho.loc[ref["rows"], ref["cols"]].to_numpy()
    np.testing.assert_allclose(block, np.array(ref["main"]).reshape(5, 3, order="F"), rtol=0, atol=1e-10)
    for key, (x, y) in {"age_A1": ("age", "A1"), "neuro_A3": ("neuro", "A3")}.items():
        one = polyserial(complete[x], complete[y], method="psych")
        assert one.rho == pytest.approx(REF["psych"]["single"][key], abs=1e-10) and one.se is None


def test_polyserial_with_a_gap_against_psych(complete):
    """psych tabulates every code from the smallest to the largest, so A3's unused 3 repeats a
    threshold and φ(τ) is counted twice: psych::polyserial(gap[cont], gap[ord])."""
    ref = REF["psych"]["polyserial"]
    data = complete.copy()
    data.loc[data["A3"] == 3, "A3"] = 2
    pc = _quiet(gs.polychoric, data, ordered=ORD, method="psych", smooth=False)
    block = pc.rho.loc[ref["rows"], ref["cols"]].to_numpy()
    np.testing.assert_allclose(block, np.array(ref["gap"]).reshape(5, 3, order="F"), rtol=0, atol=1e-10)


@pytest.mark.parametrize("case", ["main", "top"])
def test_mixed_matrix_against_psych_mixedcor(complete, case):
    """psych::mixedCor(dc)$rho (age, consc, neuro have > 8 values: continuous; A1..A5 polytomous),
    and with A1's 6s recoded to 5 (psych's polychoric then turns global thresholds off)."""
    ref = REF["psych"]["mixedCor"]
    data = complete.copy()
    if case == "top":
        data.loc[data["A1"] == 6, "A1"] = 5
    pc = _quiet(gs.polychoric, data, ordered=ORD, method="psych")
    assert ref["names"] == NAMES and not pc.smoothed
    np.testing.assert_allclose(pc.rho.to_numpy(), _matrix(ref[case], 8), rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------
# polycor
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("k", range(3))
def test_kernel_against_polycor(complete, k):
    """polycor::polyserial(x, y, std.err = TRUE) — two-step with x standardised by the n − 1 SD
    (scale()) and SE 1/√(Hessian); polycor::polyserial(x, y, ML = TRUE, std.err = TRUE) — joint ML."""
    ref = REF["polycor"][k]
    n = len(complete)
    x = complete[[ref["x"]]].to_numpy(float)
    codes = (complete[[ref["y"]]].to_numpy() - 1).astype(int)
    pairs = ps_module._Pairs.build(x, codes, _thresholds(codes, codes.max(axis=0) + 1), drop=False)
    pairs = dataclasses.replace(pairs, z=pairs.z * np.sqrt((n - 1) / n))          # polycor's scale(x)
    rho, converged = ps_module._newton(pairs, np.zeros(1))
    se = 1 / np.sqrt(ps_module._information(pairs, rho))
    assert converged.all()
    assert rho[0] == pytest.approx(ref["twostep_rho"], abs=1e-6)
    assert se[0] == pytest.approx(ref["twostep_se"], rel=1e-5)
    ours = polyserial(complete[ref["x"]], complete[ref["y"]], method="ml")
    assert ours.rho == pytest.approx(ref["twostep_rho"], abs=1e-4)
    assert ours.rho == pytest.approx(ref["ml_rho"], abs=5e-4)
    assert ours.se == pytest.approx(ref["ml_se"], rel=1e-2)


# --------------------------------------------------------------------------------------------
# behaviour
# --------------------------------------------------------------------------------------------

def test_one_ordinal_item_and_ordered_outside_items(complete):
    pc = _quiet(gs.polychoric, complete, items=["age", "A2", "neuro"], ordered=ORD, method="lavaan")   # A1, A3… ignored
    assert list(pc.rho.columns) == ["age", "A2", "neuro"] and pc.continuous == ("age", "neuro")
    full = _matrix(REF["lavaan"]["main"]["cor"], 8)
    np.testing.assert_allclose(pc.rho.loc["A2", "age"], full[1, 5], atol=1e-6)
    np.testing.assert_allclose(pc.rho.loc["neuro", "age"], full[7, 5], atol=1e-12)
    assert list(pc.thresholds["item"].unique()) == ["A2"] and len(pc.zero_cell_pairs) == 0
    for method in ("psych", "ml"):
        assert _quiet(gs.polychoric, complete, items=["age", "A2"], ordered="A2", method=method).rho.shape == (2, 2)
    every = _quiet(gs.polychoric, complete[ORD], ordered=True, method="lavaan", acov=True)
    assert every.continuous == () and every.gamma is not None and every.continuous_moments is None
    assert _quiet(gs.polychoric, complete[ORD]).gamma is None                # Γ only on request
    same = _quiet(gs.polychoric, complete[ORD], method="ml", acov=True)  # no continuous variable: lavaan's
    pd.testing.assert_frame_equal(same.gamma, every.gamma)
    pd.testing.assert_frame_equal(same.rho, every.rho)


def test_on_the_bound_as_lavaan():
    """An ordinal item cut from the continuous variable itself: lavaan stops at 0.995 (checked
    in R: lavCor(data.frame(x, y), ordered = "y") gives 0.995)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(500)
    with pytest.warns(gs.DataWarning, match="on the bound"):
        one = polyserial(x, np.digitize(x, [-1, 0, 1]) + 1)
    assert one.rho == 0.995 and np.isnan(one.se)
    assert _quiet(polyserial, -x, np.digitize(x, [-1, 0, 1]) + 1).rho == -0.995


def test_acov_for_mixed_data_is_refused_clearly(complete):
    with pytest.raises(gs.SpecificationError, match="WLSMV with mixed continuous and ordinal indicators"):
        gs.polychoric(complete, ordered=ORD, acov=True)
    assert _quiet(gs.polychoric, complete, ordered=ORD, acov=False).gamma is None


@pytest.mark.parametrize("make, error, match", [
    (lambda d: d.assign(age=30.0), gs.DataValidationError, "age.*single value"),
    (lambda d: d.assign(age=["old"] * len(d)), gs.DataValidationError, "non-numeric"),
])
def test_hostile_continuous_columns(complete, make, error, match):
    with pytest.raises(error, match=match):
        gs.polychoric(make(complete), ordered=ORD)


def test_hostile_arguments(complete):
    with pytest.raises(gs.UnknownItemError, match="Z9.*A1, A2"):
        gs.polychoric(complete, ordered=["A1", "Z9"])
    with pytest.raises(gs.SpecificationError, match="names none of the items"):
        gs.polychoric(complete, ordered=[])
    with pytest.raises(gs.DataValidationError, match="look continuous"):
        gs.polychoric(complete, ordered=ORD + ["age"])
    with pytest.raises(gs.SpecificationError, match="method"):
        gs.polychoric(complete, ordered=ORD, method="polycor")
    with pytest.raises(gs.SpecificationError, match="same length"):
        polyserial(complete["age"], complete["A1"].iloc[:10])
    with pytest.raises(gs.DataValidationError, match="non-integer"):
        polyserial(complete["A1"], complete["neuro"])                 # x and y swapped
    with pytest.raises(gs.SpecificationError, match="one variable"):
        polyserial(complete[["age", "consc"]], complete["A1"])
    with pytest.raises(gs.DataValidationError, match="single value"):
        polyserial(np.ones(50), np.arange(50) % 3)
    with pytest.raises(gs.DataValidationError, match="single observed category"):
        polyserial(np.arange(50.0), np.ones(50))
    with pytest.raises(gs.DataValidationError, match=r"polyserial\(method='psych'\): the codes run from"):
        polyserial(np.arange(50.0), np.where(np.arange(50) % 2, 1.0, 1e12), method="psych")


def test_inputs_not_modified_and_missing_pairs_dropped(data):
    before = data.copy()
    _quiet(gs.polychoric, data, ordered=ORD)
    _quiet(gs.polychoric, data, ordered=ORD, method="psych")
    x, y = data["consc"].copy(), data["A4"].copy()
    with pytest.warns(gs.DataWarning, match="left out"):
        one = polyserial(x, y)
    pd.testing.assert_frame_equal(data, before)
    pd.testing.assert_series_equal(x, data["consc"])
    both = x.notna() & y.notna()
    assert one.n_obs == int(both.sum()) and one.n_dropped == int((~both).sum())
    assert one.rho == pytest.approx(_quiet(polyserial, x[both], y[both]).rho, abs=1e-15)


def test_result_contracts(mixed, complete):
    pc, _ = mixed
    d = pc.to_dict()
    json.dumps(d)
    assert d["continuous"] == CONT and set(d["continuous_moments"]["columns"]) == {"variable", "mean", "variance"}
    assert repr(pc).startswith("Polychoric(rho=<DataFrame 8×8>")
    assert "<table" in pc._repr_html_()
    one = _quiet(polyserial, complete["age"], complete["A1"], method="lavaan")
    json.dumps(one.to_dict())
    assert list(one.to_frame().columns) == ["rho", "se", "n_obs", "method"]
    assert repr(one).startswith("Polyserial(rho=")
    with pytest.raises(AttributeError):
        one.rho = 0.0


def test_vectorised_over_pairs_is_fast():
    """400 continuous × ordinal pairs, n = 3,000, in one batch (lavaan: a loop of nlminb calls)."""
    import time
    rng = np.random.default_rng(5)
    f = rng.standard_normal((3000, 1))
    x = pd.DataFrame(0.6 * f + 0.8 * rng.standard_normal((3000, 40)), columns=[f"v{i}" for i in range(40)])
    ordinal = [f"v{i}" for i in range(20)]
    x[ordinal] = np.digitize(x[ordinal], [-1, 0, 1]) + 1
    t0 = time.perf_counter()
    pc = _quiet(gs.polychoric, x, ordered=ordinal)
    assert time.perf_counter() - t0 < 20
    block = pc.rho.iloc[20:, :20].to_numpy()
    assert np.abs(block - 0.36).max() < 0.1           # every pair's latent correlation is 0.6² (SE ≈ 0.02)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), r=st.floats(-0.9, 0.9), ncat=st.integers(2, 6),
       scale=st.floats(1e-3, 1e4), shift=st.floats(-1e4, 1e4))
def test_mixed_matrix_properties(seed, r, ncat, scale, shift):
    """Symmetric, unit diagonal, |ρ| ≤ 1 (polyserial ≤ 0.995); method="ml" does not change when a
    continuous variable changes unit or origin, and changes sign when it is reversed."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0, 0], [[1, r, r / 2], [r, 1, 0.3], [r / 2, 0.3, 1]], size=200)
    cuts = np.sort(rng.uniform(-1.2, 1.2, ncat - 1))
    data = pd.DataFrame({"x": z[:, 0], "a": np.digitize(z[:, 1], cuts) + 1, "b": np.digitize(z[:, 2], cuts) + 1})
    if (data[["a", "b"]].nunique() < 2).any():
        return
    one = _quiet(gs.polychoric, data, ordered=["a", "b"], method="ml", smooth=False).rho.to_numpy()
    assert np.allclose(one, one.T, atol=0) and np.all(np.diag(one) == 1) and np.all(np.abs(one) <= 1)
    assert np.all(np.abs(one[0, 1:]) <= 0.995)
    moved = data.assign(x=shift + scale * data["x"])
    two = _quiet(gs.polychoric, moved, ordered=["a", "b"], method="ml", smooth=False).rho.to_numpy()
    np.testing.assert_allclose(two, one, atol=1e-9)
    flipped = _quiet(gs.polychoric, data.assign(x=-data["x"]), ordered=["a", "b"], method="ml", smooth=False).rho
    np.testing.assert_allclose(flipped.to_numpy()[0, 1:], -one[0, 1:], atol=1e-9)
