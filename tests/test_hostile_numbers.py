"""Hostile numbers (issue 14): large offsets, entirely missing items, screening that
excludes everyone and huge numbers of groups must give the right numbers or a
GovsurveyError that says what is wrong and how to fix it — never a silent wrong number or a
bare exception from numpy/scipy.

Shift invariance is the yardstick for precision: ``x + c`` and ``x`` (the same floats
shifted exactly, so the comparison is between identical data) must give the same skewness,
kurtosis, correlations and covariances to ~1e-9 relative.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey._numeric import centre, decreasing_root
from govsurvey.moments import Moments

SHIFT_REL = 1e-9      # statistics of exactly shifted data: rounding of the deviations only


def _same(a, b, rel):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rel, atol=0)


@pytest.fixture(scope="module")
def offset_frame():
    """Skewed, correlated data near 1e14 (where a double resolves 1/64) and the identical data
    shifted to 0 (the subtraction is exact)."""
    rng = np.random.default_rng(14)
    a = rng.gamma(2.0, 1.0, 400)
    b = 0.6 * a + rng.normal(0, 1, 400)
    shifted = pd.DataFrame({"a": a, "b": b}) + 1e14
    return shifted, shifted - 1e14


# ------------------------------------------------------------------ 1. large offsets
def test_centre_is_exact_for_offsets():
    x = np.array([[1e14 + 1, 7.0], [1e14 + 2, 8.0], [1e14 + 4, 9.0]])
    _, dev = centre(x)
    _same(dev, [[-4 / 3, -1], [-1 / 3, 0], [5 / 3, 1]], 1e-14)
    assert x[0, 0] == 1e14 + 1        # the input is not modified


def test_describe_skew_kurtosis_shift_invariant(offset_frame):
    shifted, base = offset_frame
    a, b = gs.describe(shifted), gs.describe(base)
    _same(a[["sd", "skew", "kurtosis"]], b[["sd", "skew", "kurtosis"]], SHIFT_REL)
    np.testing.assert_allclose(a["mean"] - 1e14, b["mean"], rtol=0, atol=0.02)   # the mean itself is stored to 1/64


def test_describe_matches_scipy_on_ordinary_data():
    from scipy import stats

    x = np.random.default_rng(3).gamma(2.0, 1.0, 50)
    d = gs.describe(pd.DataFrame({"x": x})).loc["x"]
    _same([d["skew"], d["kurtosis"]], [stats.skew(x, bias=False), stats.kurtosis(x, bias=False)], 1e-12)


def test_correlations_shift_invariant(offset_frame):
    shifted, base = offset_frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no NearConstantInputWarning from scipy
        a, b = gs.correlations(shifted), gs.correlations(base)
    _same(a.r, b.r, SHIFT_REL)
    _same(a.p.iloc[0, 1], b.p.iloc[0, 1], 1e-6)
    _same(a.sds, b.sds, SHIFT_REL)


def test_correlations_match_scipy_on_ordinary_data():
    from scipy import stats

    rng = np.random.default_rng(5)
    x = rng.normal(size=30)
    y = x + rng.normal(size=30)
    c = gs.correlations(pd.DataFrame({"x": x, "y": y}))
    ref = stats.pearsonr(x, y)
    _same([c.r.loc["x", "y"], c.p.loc["x", "y"]], [ref[0], ref[1]], 1e-12)


@pytest.mark.parametrize("chunk_rows", [1_000_000, 37])
def test_moments_shift_invariant(offset_frame, chunk_rows):
    shifted, base = offset_frame
    a = Moments.from_frame(shifted, chunk_rows=chunk_rows)
    b = Moments.from_frame(base, chunk_rows=chunk_rows)
    _same(a.cov, b.cov, SHIFT_REL)
    np.testing.assert_allclose(a.mean - 1e14, b.mean, rtol=0, atol=0.02)


@pytest.fixture(scope="module")
def likert():
    rng = np.random.default_rng(8)
    f = rng.normal(size=(300, 1))
    raw = np.clip(np.round(3 + f @ np.full((1, 6), 0.9) + rng.normal(size=(300, 6))), 1, 5)
    return pd.DataFrame(raw, columns=[f"q{j}" for j in range(1, 7)])


@pytest.mark.parametrize("shift", [1e8, 1e12, 1e14])
def test_psychometrics_shift_invariant(likert, shift):
    """Integer codes + shift are exact floats: every statistic must equal the unshifted one."""
    moved = likert + shift
    a, b = gs.reliability(moved), gs.reliability(likert)
    _same([a.alpha, a.alpha_std, a.omega_total, a.lambda6], [b.alpha, b.alpha_std, b.omega_total, b.lambda6], 1e-9)
    _same(gs.kmo(moved).per_item, gs.kmo(likert).per_item, 1e-9)
    _same(gs.efa(moved, 1).loadings, gs.efa(likert, 1).loadings, 1e-6)
    _same(gs.reliability(Moments.from_frame(moved, chunk_rows=50)).alpha, b.alpha, 1e-9)


@pytest.mark.parametrize("shift", [1e8, 1e14])
def test_pairwise_and_cfa_shift_invariant(likert, shift):
    gappy = likert.copy()
    gappy.iloc[::7, 2] = np.nan
    _same(gs.reliability(gappy + shift, missing="pairwise").alpha, gs.reliability(gappy, missing="pairwise").alpha, 1e-9)
    model = "f =~ q1 + q2 + q3 + q4 + q5 + q6"
    a, b = gs.cfa(likert + shift, model), gs.cfa(likert, model)
    _same(a.estimates["estimate"], b.estimates["estimate"], 1e-8)
    _same(a.fit["chisq"], b.fit["chisq"], 1e-8)


def test_near_constant_is_not_constant_at_large_offset(likert):
    """Variance 1e-4 around 1e8 is real variance, not rounding (the old absolute threshold said 'zero variance')."""
    small = likert * 0.01 + 1e8
    _same(gs.reliability(small).alpha, gs.reliability(likert).alpha, 1e-6)


def test_constant_item_still_detected_at_offset(likert):
    data = likert + 1e8
    data["q6"] = 1e8 + 3
    with pytest.warns(gs.DataWarning, match="q6 has zero variance"):
        res = gs.reliability(data)
    assert res.n_items == 5
    with pytest.raises(gs.DataValidationError, match="q6.*zero variance"):
        gs.kmo(data)
    with pytest.raises(gs.DataValidationError, match="q6.*zero variance"):
        gs.kmo(Moments.from_frame(data, chunk_rows=50))


# ------------------------------------------------------------------ 3. entirely missing items
@pytest.mark.parametrize("fn", [gs.reliability, gs.kmo, gs.bartlett, lambda d: gs.efa(d, 1)])
def test_all_missing_item_is_named(likert, fn):
    data = likert.copy()
    data["q4"] = np.nan
    with pytest.raises(gs.DataValidationError, match=r"q4.*no answers.*Fix: drop"):
        fn(data)


def test_all_missing_item_pairwise_is_named(likert):
    data = likert.copy()
    data["q2"] = np.nan
    with pytest.raises(gs.DataValidationError, match=r"q2.*no answers.*Fix"):
        gs.reliability(data, missing="pairwise")


def test_columns_that_empty_listwise_deletion_are_named(likert):
    data = likert.copy()
    data.loc[data.index[::2], "q3"] = np.nan
    data.loc[data.index[1::2], "q5"] = np.nan
    with pytest.raises(gs.DataValidationError, match=r"0 complete cases.*q3.*q5.*Fix") as info:
        gs.reliability(data)
    assert "missing='pairwise'" in str(info.value)


def test_moments_all_missing_column_is_named(likert):
    data = likert.copy()
    data["q4"] = np.nan
    with pytest.raises(gs.DataValidationError, match=r"q4.*Fix"):
        Moments.from_frame(data)
    with pytest.raises(gs.DataValidationError, match=r"q4.*Fix"):
        Moments.from_frame(data, chunk_rows=50)


# ------------------------------------------------------------------ 4. screening that excludes everyone
@pytest.fixture(scope="module")
def survey():
    inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    return inst, gs.read_responses(gs.datasets.example_files()["sav"], inst)


def test_min_seconds_infinite_is_refused(survey):
    inst, data = survey
    with pytest.raises(gs.SpecificationError, match="min_seconds"):
        gs.screen(data, inst, min_seconds=float("inf"), time_column="duration")


def test_screen_warns_when_everyone_is_excluded(survey):
    inst, data = survey
    with pytest.warns(gs.DataWarning, match=r"excluded all .*speeder.*min_seconds"):
        res = gs.screen(data, inst, min_seconds=1e300, time_column="duration")
    assert res.clean.shape[0] == 0
    assert any("excluded all" in note for note in res.notes)


def test_screen_does_not_warn_normally(survey):
    inst, data = survey
    with warnings.catch_warnings():
        warnings.simplefilter("error", gs.DataWarning)
        gs.screen(data, inst)


# ------------------------------------------------------------------ 5. many groups, noncentral CIs
@pytest.mark.parametrize("n_groups", [800, 1500])
def test_compare_groups_many_groups(n_groups):
    rng = np.random.default_rng(n_groups)
    data = pd.DataFrame({"y": rng.normal(size=3 * n_groups), "g": np.repeat(np.arange(n_groups), 3)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        res = gs.compare_groups(data, "y", "g", test="anova", posthoc=None)
    eff = res.effect_size.iloc[0]
    lo, hi = eff["eta_sq_ci_low"], eff["eta_sq_ci_high"]
    if np.isnan(lo) or np.isnan(hi):
        assert any("interval" in w for w in res.warnings)
    else:
        assert 0 <= lo <= hi <= 1


def test_compare_groups_ci_unbracketable_warns(monkeypatch):
    """When the noncentral F CDF fails (NaN), the CI is NaN with a warning, not a scipy ValueError."""
    from scipy import stats

    monkeypatch.setattr(stats.ncf, "cdf", lambda *a, **k: np.nan)
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"y": rng.normal(size=30) + np.repeat([0.0, 1, 2], 10), "g": np.repeat(["a", "b", "c"], 10)})
    with pytest.warns(gs.DataWarning, match="interval"):
        res = gs.compare_groups(data, "y", "g", test="anova", posthoc=None)
    assert np.isnan(res.effect_size.loc[0, "eta_sq_ci_high"])
    assert np.isfinite(res.effect_size.loc[0, "eta_sq"])


def test_decreasing_root():
    assert decreasing_root(lambda x: 5.0 - x, start=1.0) == pytest.approx(5.0, abs=1e-9)
    assert decreasing_root(lambda x: -1.0, start=1.0) == 0.0           # below target already at 0
    assert np.isnan(decreasing_root(lambda x: np.nan, start=1.0))
    # NaN beyond 100: the root at 10 is still found from a far start
    assert decreasing_root(lambda x: 10.0 - x if x < 100 else np.nan, start=1000.0) == pytest.approx(10.0, abs=1e-9)
    assert np.isnan(decreasing_root(lambda x: 1.0, start=1.0))          # no sign change anywhere
