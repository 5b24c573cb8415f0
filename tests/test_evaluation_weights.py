"""Objective weights (entropy, CRITIC) and combined weights: against pymcdm 1.4 (an independent
implementation, on the same normalisation convention — see the comments), a 3 × 3 example
computed by hand, cost indicators, constant indicators, by= aggregation and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.evaluation.weights import combine_weights, critic_weights, entropy_weights, objective_weights

pymcdm_weights = pytest.importorskip("pymcdm.weights")


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.uniform(1, 5, size=(12, 8)), columns=[f"x{j}" for j in range(8)],
                     index=pd.Index([f"社区{u}" for u in range(12)], name="community"))
    x["x3"] = rng.uniform(100, 900, size=12)       # another scale: normalisation makes it comparable
    return x


@pytest.fixture(scope="module")
def respondents() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    site = np.repeat(list("ABCDE"), [30, 25, 40, 35, 20])
    shift = pd.Series({"A": 0.0, "B": 0.4, "C": -0.3, "D": 0.8, "E": 0.2})[site].to_numpy()
    codes = np.clip(np.rint(3 + shift[:, None] + rng.normal(size=(len(site), 4))), 1, 5)
    return pd.DataFrame(codes, columns=["q1", "q2", "q3", "q4"]).assign(site=site)


# ------------------------------------------------------------------ a 3 × 3 example by hand
HAND = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "x2": [2.0, 2.0, 5.0], "x3": [4.0, 1.0, 2.0]}, index=["A", "B", "C"])


def test_entropy_by_hand():
    # Normalised (x3 a cost indicator): x1 → (0, 1/2, 1), x2 → (0, 0, 1), x3 → ((4−4)/3, (4−1)/3, (4−2)/3) = (0, 1, 2/3).
    # p_ij = x'_ij / Σ_i x'_ij: x1 (0, 1/3, 2/3), x2 (0, 0, 1), x3 (0, 3/5, 2/5); e_j = −Σ p ln p / ln 3 with 0 ln 0 = 0.
    e1 = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3)) / math.log(3)
    e2 = 0.0
    e3 = -(3 / 5 * math.log(3 / 5) + 2 / 5 * math.log(2 / 5)) / math.log(3)
    d = np.array([1 - e1, 1 - e2, 1 - e3])
    res = objective_weights(HAND, "entropy", cost=["x3"])
    np.testing.assert_allclose(res.table["entropy"], [e1, e2, e3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.table["divergence"], d, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.weights, d / d.sum(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.normalized.to_numpy(), [[0, 0, 0], [0.5, 0, 1], [1, 1, 2 / 3]], rtol=0, atol=1e-15)
    assert res.table["type"].tolist() == ["benefit", "benefit", "cost"]
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-15)
    assert res.weights.index.name == "indicator" and res.weights.name == "weight"


def test_entropy_shift_by_hand():
    # shift 0.01: x1 → (0.01, 0.51, 1.01), Σ = 1.53; x2 → (0.01, 0.01, 1.01), Σ = 1.03; x3 → (0.01, 1.01, 0.67+0.01/…).
    s = 0.01
    cols = [np.array([0, 0.5, 1]) + s, np.array([0, 0, 1]) + s, np.array([0, 1, 2 / 3]) + s]
    e = [-sum(v / c.sum() * math.log(v / c.sum()) for v in c) / math.log(3) for c in cols]
    d = 1 - np.array(e)
    np.testing.assert_allclose(entropy_weights(HAND, cost="x3", shift=s), d / d.sum(), rtol=0, atol=1e-12)


def test_critic_by_hand():
    # min–max normalised columns (no cost): z1 = (0, 1/2, 1), z2 = (0, 0, 1), z3 = (1, 0, 1/3).
    z = np.array([[0, 0, 1], [0.5, 0, 0], [1, 1, 1 / 3]])
    sd = np.array([math.sqrt(sum((v - c.mean()) ** 2 for v in c) / 2) for c in z.T])   # ddof = 1
    r = np.array([[sum((a - ca.mean()) * (b - cb.mean()) for a, b in zip(ca, cb))
                   / math.sqrt(sum((a - ca.mean()) ** 2 for a in ca) * sum((b - cb.mean()) ** 2 for b in cb))
                   for cb in z.T] for ca in z.T])
    conflict = (1 - r).sum(axis=1)
    c = sd * conflict
    res = objective_weights(HAND, "critic")
    np.testing.assert_allclose(res.table["sd"], sd, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.table["conflict"], conflict, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.table["information"], c, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.weights, c / c.sum(), rtol=0, atol=1e-12)


# ------------------------------------------------------------------ against pymcdm
def test_critic_against_pymcdm(units):
    # pymcdm.weights.critic_weights: min–max normalisation (all columns as benefit), std ddof=1,
    # Pearson correlations, C = std · Σ(1 − r) — the same convention as govsurvey without cost=.
    ours = critic_weights(units)
    theirs = pymcdm_weights.critic_weights(units.to_numpy(dtype=float))
    np.testing.assert_allclose(ours.to_numpy(), theirs, rtol=0, atol=1e-10)


def test_critic_cost_against_pymcdm(units):
    # pymcdm's CRITIC ignores criterion types; govsurvey reverses cost indicators in the normalisation, so
    # pymcdm on govsurvey's normalised matrix (min–max of a [0, 1] column with 0 and 1 is the identity) must agree.
    res = objective_weights(units, "critic", cost=["x1", "x3"])
    theirs = pymcdm_weights.critic_weights(res.normalized.to_numpy())
    np.testing.assert_allclose(res.weights.to_numpy(), theirs, rtol=0, atol=1e-10)
    # A cost indicator's correlations with the others change sign, so its weight differs from the benefit case.
    assert not np.allclose(res.weights, critic_weights(units))


@pytest.mark.parametrize("shift", [0.0001, 0.01])
def test_entropy_against_pymcdm(units, shift):
    # pymcdm.weights.entropy_weights takes p = x/Σx on the matrix given (no min–max; values must be > 0).
    # govsurvey's shifted variant is p = (x' + s)/Σ(x' + s) on the min–max matrix x', so pymcdm on
    # x' + s (no zeros) is the same computation.
    res = objective_weights(units, "entropy", cost=["x2"], shift=shift)
    theirs = pymcdm_weights.entropy_weights(res.normalized.to_numpy() + shift)
    np.testing.assert_allclose(res.weights.to_numpy(), theirs, rtol=0, atol=1e-10)


def test_entropy_unshifted_checked_by_a_loop(units):
    # Without the shift every min–max column has a 0, which pymcdm 1.4's entropy_weights refuses (its
    # sum_normalization needs values > 0); govsurvey uses 0·ln 0 = 0. Checked by a plain loop instead.
    res = objective_weights(units, "entropy")
    z = res.normalized.to_numpy()
    e = []
    for col in z.T:
        p = col / col.sum()
        e.append(-sum(v * math.log(v) for v in p if v > 0) / math.log(len(col)))
    d = 1 - np.array(e)
    np.testing.assert_allclose(res.weights.to_numpy(), d / d.sum(), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="positive"):
        pymcdm_weights.entropy_weights(z)


# ------------------------------------------------------------------ constant indicators, by=, inputs
def test_constant_indicator_gets_zero_weight_and_a_warning(units):
    x = units.assign(flat=3.0)
    for method in ("entropy", "critic"):
        with pytest.warns(gs.DataWarning, match="flat"):
            res = objective_weights(x, method)
        assert res.weights["flat"] == 0.0
        assert any("flat" in w for w in res.warnings)
        # the constant indicator is as if absent: the other weights are those without it
        np.testing.assert_allclose(res.weights.drop("flat"), objective_weights(units, method).weights, rtol=0, atol=1e-12)
        if method == "critic":
            assert np.isnan(res.table.loc["flat", "conflict"])


def test_all_constant_is_an_error():
    x = pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        with pytest.raises(gs.DataValidationError, match="no indicator varies"):
            entropy_weights(x)


def test_by_aggregates_respondents_to_unit_means(respondents):
    means = respondents.groupby("site").mean()
    for fn in (entropy_weights, critic_weights):
        np.testing.assert_allclose(fn(respondents, by="site"), fn(means), rtol=0, atol=1e-12)
    # by= as a Series (not a column): every column is an indicator
    series = respondents["site"]
    np.testing.assert_allclose(entropy_weights(respondents.drop(columns="site"), by=series), entropy_weights(means),
                               rtol=0, atol=1e-12)
    res = objective_weights(respondents, by="site")
    assert res.n_units == 5 and res.n_obs == len(respondents)
    assert res.normalized.index.name == "site"


def test_missing_answers_give_available_case_means(respondents):
    d = respondents.copy()
    d.loc[[0, 5, 40], "q2"] = np.nan
    with pytest.warns(gs.DataWarning, match="3 answer"):
        ours = entropy_weights(d, by="site")
    np.testing.assert_allclose(ours, entropy_weights(d.groupby("site").mean()), rtol=0, atol=1e-12)


def test_inputs_are_not_modified(respondents, units):
    before_r, before_u = respondents.copy(deep=True), units.copy(deep=True)
    objective_weights(respondents, "critic", cost=["q1"], by="site")
    entropy_weights(units, cost=["x1"], shift=0.01)
    pd.testing.assert_frame_equal(respondents, before_r)
    pd.testing.assert_frame_equal(units, before_u)


# ------------------------------------------------------------------ bad input
def test_unknown_cost_names_listed(units):
    with pytest.raises(gs.UnknownItemError, match=r"2 indicator\(s\) not in the data: nope, gone"):
        entropy_weights(units, cost=["x1", "nope", "gone"])


def test_text_column_refused(units):
    with pytest.raises(gs.DataValidationError, match="name.*not numeric.*by="):
        entropy_weights(units.assign(name="x"))


def test_missing_unit_values_refused(units):
    x = units.copy()
    x.iloc[2, 1] = np.nan
    with pytest.raises(gs.DataValidationError, match="社区2: x1"):
        critic_weights(x)


def test_unknown_by_and_bad_options(units, respondents):
    with pytest.raises(gs.UnknownItemError, match="by='street'"):
        entropy_weights(respondents, by="street")
    with pytest.raises(gs.SpecificationError, match="method='topsis'"):
        objective_weights(units, "topsis")
    with pytest.raises(gs.SpecificationError, match="shift=-1"):
        entropy_weights(units, shift=-1)
    with pytest.raises(gs.SpecificationError, match="entropy method only"):
        objective_weights(units, "critic", shift=0.01)
    with pytest.raises(gs.SpecificationError, match="DataFrame"):
        entropy_weights(units.to_numpy())
    with pytest.raises(gs.DataValidationError, match="at least two indicators"):
        critic_weights(units[["x0"]])


def test_result_contract(units):
    res = objective_weights(units, "critic")
    assert res.to_frame() is res.table
    assert list(res.table.columns) == ["type", "min", "max", "sd", "conflict", "information", "weight"]
    assert repr(res) == repr(objective_weights(units, "critic"))
    assert repr(res).startswith("ObjectiveWeights(method='critic', n_units=12, n_obs=12, indicators=8, weights={x0: ")
    d = res.to_dict()
    assert d["method"] == "critic" and len(d["weights"]) == 8
    with pytest.raises(AttributeError):
        res.method = "entropy"


# ------------------------------------------------------------------ combined weights
def test_combine_multiplicative_and_additive():
    s = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    o = pd.Series({"c": 0.1, "a": 0.3, "b": 0.6})       # another order: aligned by label
    prod = np.array([0.5 * 0.3, 0.3 * 0.6, 0.2 * 0.1])
    np.testing.assert_allclose(combine_weights(s, o), prod / prod.sum(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(combine_weights(s, o, method="additive", alpha=0.7),
                               [0.7 * 0.5 + 0.3 * 0.3, 0.7 * 0.3 + 0.3 * 0.6, 0.7 * 0.2 + 0.3 * 0.1], rtol=0, atol=1e-15)
    assert combine_weights(s, o).index.tolist() == ["a", "b", "c"]


def test_combine_accepts_results_and_dicts(units):
    obj = objective_weights(units, "entropy")
    ahp = {c: 1 / 8 for c in units.columns}
    np.testing.assert_allclose(combine_weights(ahp, obj), obj.weights, rtol=0, atol=1e-15)


def test_combine_mismatch_listed_and_rescaling_warned():
    s = pd.Series({"a": 0.5, "b": 0.5})
    with pytest.raises(gs.UnknownItemError, match=r"no weight for 1 indicator\(s\): b.*not in the data: z"):
        combine_weights(s, pd.Series({"a": 0.5, "z": 0.5}))
    with pytest.warns(gs.DataWarning, match="sum to 2"):
        out = combine_weights(pd.Series({"a": 1.0, "b": 1.0}), s, method="additive")
    np.testing.assert_allclose(out, [0.5, 0.5], rtol=0, atol=1e-15)
    with pytest.raises(gs.DataValidationError, match="negative"):
        combine_weights(pd.Series({"a": -0.5, "b": 1.5}), s)
    with pytest.raises(gs.SpecificationError, match="alpha=1.5"):
        combine_weights(s, s, method="additive", alpha=1.5)
    with pytest.raises(gs.DataValidationError, match="positive weight in both"):
        combine_weights(pd.Series({"a": 1.0, "b": 0.0}), pd.Series({"a": 0.0, "b": 1.0}))
