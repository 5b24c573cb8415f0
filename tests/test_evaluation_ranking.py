"""TOPSIS and grey relational analysis: against pymcdm 1.4's TOPSIS (vector normalisation), a
plain-loop grey relational analysis written here (pymcdm has none) and small examples by hand;
the stratified bootstrap against a per-resample loop over the same draws with pymcdm; weights,
cost indicators, by= and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.evaluation.ranking import grey_relational, topsis
from govsurvey.evaluation.weights import entropy_weights, objective_weights

pymcdm = pytest.importorskip("pymcdm")
from pymcdm.methods import TOPSIS as PymcdmTOPSIS  # noqa: E402
from pymcdm.normalizations import vector_normalization  # noqa: E402


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(1, 5, size=(10, 6)), columns=[f"x{j}" for j in range(6)],
                     index=pd.Index([f"社区{u}" for u in range(10)], name="community"))
    x["x5"] = rng.uniform(50, 400, size=10)
    return x


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    """12 communities × 30 five-point items × 600 respondents (50 per community)."""
    rng = np.random.default_rng(2026)
    n_units, n_items, per = 12, 30, 50
    site = np.repeat([f"c{u:02d}" for u in range(n_units)], per)
    level = rng.normal(scale=0.5, size=(n_units, n_items))[np.repeat(np.arange(n_units), per)]
    codes = np.clip(np.rint(3 + level + rng.normal(size=(n_units * per, n_items))), 1, 5)
    return pd.DataFrame(codes, columns=[f"q{j:02d}" for j in range(n_items)]).assign(site=site)


WEIGHTS = pd.Series({"x0": 0.1, "x1": 0.2, "x2": 0.15, "x3": 0.25, "x4": 0.1, "x5": 0.2})


# ------------------------------------------------------------------ TOPSIS
@pytest.mark.parametrize("cost", [[], ["x1"], ["x1", "x5"]])
def test_topsis_against_pymcdm(units, cost):
    # pymcdm turns a cost column into 1 − r under vector normalisation and then takes max/min; govsurvey keeps r and
    # takes min for cost (Hwang & Yoon). 1 − r is a reflection, so every distance and the closeness are the same.
    res = topsis(units, WEIGHTS, cost=cost)
    types = np.array([-1 if c in cost else 1 for c in units.columns])
    theirs = PymcdmTOPSIS(vector_normalization)(units.to_numpy(dtype=float), WEIGHTS.to_numpy(), types)
    np.testing.assert_allclose(res.closeness.to_numpy(), theirs, rtol=0, atol=1e-10)
    order = PymcdmTOPSIS(vector_normalization).rank(theirs)     # pymcdm: 1 = best
    np.testing.assert_array_equal(res.rank.to_numpy(), order.astype(int))


def test_topsis_by_hand():
    # Two units, two benefit indicators, equal weights: x = [[3, 4], [4, 3]] → r = x/5; v = r/2.
    # best = (0.4, 0.4), worst = (0.3, 0.3); both units are 0.1 from best and worst in one coordinate → C = 0.5.
    # Three units: x = [[1, 1], [2, 2], [3, 3]] → r_j = x_j/√14; D⁺ of unit 1 = √2 · (2/√14)/2, D⁻ = 0 → C = 0.
    res = topsis(pd.DataFrame({"a": [3.0, 4.0], "b": [4.0, 3.0]}, index=["P", "Q"]))
    np.testing.assert_allclose(res.closeness, [0.5, 0.5], rtol=0, atol=1e-15)
    assert res.rank.tolist() == [1, 1]                              # ties share the smaller rank
    res = topsis(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]}))
    np.testing.assert_allclose(res.table["d_best"], [math.sqrt(2) / math.sqrt(14), math.sqrt(2) / 2 / math.sqrt(14), 0],
                               rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.closeness, [0.0, 0.5, 1.0], rtol=0, atol=1e-15)
    assert res.weights_method == "equal" and res.weights.tolist() == [0.5, 0.5]


def test_topsis_tables(units):
    res = topsis(units, WEIGHTS, cost=["x5"])
    assert list(res.table.columns) == ["d_best", "d_worst", "closeness", "rank"]
    assert res.to_frame() is res.table and res.table.index.name == "community"
    assert res.ideal.loc["x5", "best"] == res.weighted["x5"].min()
    assert res.ideal.loc["x0", "best"] == res.weighted["x0"].max()
    np.testing.assert_allclose(res.weighted, res.normalized * WEIGHTS, rtol=0, atol=1e-15)
    assert repr(res) == repr(topsis(units, WEIGHTS, cost=["x5"]))
    assert "TOPSIS(n_units=10, indicators=6" in repr(res)


def test_topsis_objective_weights_by_name(units):
    res = topsis(units, "entropy", cost=["x5"])
    np.testing.assert_allclose(res.weights, entropy_weights(units, cost=["x5"]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.closeness, topsis(units, entropy_weights(units, cost=["x5"]), cost=["x5"]).closeness,
                               rtol=0, atol=1e-15)
    assert res.weights_method == "entropy"
    # a result with a weights Series is accepted as it is
    np.testing.assert_allclose(topsis(units, objective_weights(units, "critic")).closeness, topsis(units, "critic").closeness,
                               rtol=0, atol=1e-15)


def test_weights_checked(units):
    with pytest.raises(gs.UnknownItemError, match=r"no weight for 1 indicator\(s\): x5.*not in the data: y"):
        topsis(units, WEIGHTS.drop("x5").rename({"x4": "y"}).reindex(["x0", "x1", "x2", "x3", "y", "x4"]).fillna(0.1))
    with pytest.raises(gs.DataValidationError, match="negative"):
        topsis(units, WEIGHTS.replace(0.25, -0.25))
    with pytest.warns(gs.DataWarning, match="rescaled"):
        res = topsis(units, WEIGHTS * 10)
    np.testing.assert_allclose(res.closeness, topsis(units, WEIGHTS).closeness, rtol=0, atol=1e-12)
    with pytest.raises(gs.SpecificationError, match="weights='ahp'"):
        topsis(units, "ahp")
    with pytest.raises(gs.SpecificationError, match="Series"):
        topsis(units, [0.2] * 6)


# ------------------------------------------------------------------ grey relational analysis
def gra_loop(x: np.ndarray, w: np.ndarray, cost: list[bool], rho: float) -> tuple[np.ndarray, np.ndarray]:
    """A straightforward grey relational analysis, one cell at a time (Deng's formula, ideal reference)."""
    n, m = x.shape
    z = np.empty_like(x)
    for j in range(m):
        lo, hi = min(x[:, j]), max(x[:, j])
        for i in range(n):
            z[i, j] = (hi - x[i, j]) / (hi - lo) if cost[j] else (x[i, j] - lo) / (hi - lo)
    ref = [max(z[:, j]) for j in range(m)]
    delta = [[abs(ref[j] - z[i, j]) for j in range(m)] for i in range(n)]
    d_min = min(min(row) for row in delta)
    d_max = max(max(row) for row in delta)
    xi = np.array([[(d_min + rho * d_max) / (delta[i][j] + rho * d_max) for j in range(m)] for i in range(n)])
    grade = np.array([sum(w[j] * xi[i, j] for j in range(m)) for i in range(n)])
    return xi, grade


@pytest.mark.parametrize("rho", [0.5, 0.3, 1.0])
def test_grey_relational_against_loop(units, rho):
    cost = ["x2", "x5"]
    res = grey_relational(units, WEIGHTS, rho=rho, cost=cost)
    xi, grade = gra_loop(units.to_numpy(), WEIGHTS.to_numpy(), [c in cost for c in units.columns], rho)
    np.testing.assert_allclose(res.coefficients.to_numpy(), xi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.grade.to_numpy(), grade, rtol=0, atol=1e-12)
    assert res.rank.tolist() == pd.Series(grade).rank(ascending=False, method="min").astype(int).tolist()
    assert res.delta_min == 0.0 and res.delta_max == 1.0       # min–max with the ideal reference


def test_grey_relational_by_hand():
    # x1 = (1, 2, 3), x2 = (3, 1, 2) → normalised (0, ½, 1) and (1, 0, ½); reference (1, 1); Δ = 1 − x';
    # Δmin = 0, Δmax = 1, ξ = 0.5/(Δ + 0.5): x1 → (1/3, 1/2, 1), x2 → (1, 1/3, 1/2); weights (0.7, 0.3).
    x = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "x2": [3.0, 1.0, 2.0]}, index=["A", "B", "C"])
    res = grey_relational(x, {"x1": 0.7, "x2": 0.3})
    np.testing.assert_allclose(res.coefficients.to_numpy(), [[1 / 3, 1], [1 / 2, 1 / 3], [1, 1 / 2]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.grade, [0.7 / 3 + 0.3, 0.35 + 0.1, 0.7 + 0.15], rtol=0, atol=1e-15)
    assert res.rank.tolist() == [2, 3, 1] and res.reference_kind == "ideal"     # 0.533, 0.45, 0.85


def test_grey_relational_references():
    x = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "x2": [3.0, 1.0, 2.0]}, index=["A", "B", "C"])
    # a unit as the reference: Δ = |x'_B − x'|; B itself has ξ = 1 everywhere.
    res = grey_relational(x, reference="B")
    assert res.grade["B"] == 1.0 and res.reference_kind == "unit"
    # target values in the data's units: (3, 3) normalises to (1, 1), the ideal series.
    np.testing.assert_allclose(grey_relational(x, reference=pd.Series({"x1": 3, "x2": 3})).grade, grey_relational(x).grade,
                               rtol=0, atol=1e-15)
    # (2, 2) normalises to (½, ½): Δ = |½ − x'| = x1 (½, 0, ½), x2 (½, ½, 0); Δmax = ½ → ξ = 0.25/(Δ + 0.25)
    np.testing.assert_allclose(grey_relational(x, reference={"x1": 2, "x2": 2}).grade,
                               [(1 / 3 + 1 / 3) / 2, (1 + 1 / 3) / 2, (1 / 3 + 1) / 2], rtol=0, atol=1e-15)
    with pytest.raises(gs.UnknownItemError, match="reference='Z'"):
        grey_relational(x, reference="Z")
    with pytest.raises(gs.UnknownItemError, match="x2"):
        grey_relational(x, reference={"x1": 2})
    with pytest.raises(gs.SpecificationError, match="rho=0"):
        grey_relational(x, rho=0)


# ------------------------------------------------------------------ by= and the bootstrap
def test_by_equals_unit_means(survey):
    means = survey.groupby("site").mean()
    np.testing.assert_allclose(topsis(survey, by="site").closeness, topsis(means).closeness, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grey_relational(survey, by="site").grade, grey_relational(means).grade, rtol=0, atol=1e-12)
    assert topsis(survey, by="site").n_obs == 600


def loop_bootstrap(survey: pd.DataFrame, n_boot: int, seed: int, weights: str | None) -> np.ndarray:
    """The same stratified resamples drawn one by one — each unit's respondents drawn with replacement in the
    order govsurvey draws them (per unit, n_u uniform indices per resample) — and pymcdm's TOPSIS on each."""
    rng = np.random.default_rng(seed)
    items = [c for c in survey.columns if c != "site"]
    groups = [g[items].to_numpy() for _, g in survey.groupby("site")]
    draws = [rng.integers(0, len(g), size=(n_boot, len(g))) for g in groups]
    out = np.empty((n_boot, len(groups)))
    for b in range(n_boot):
        means = pd.DataFrame([g[d[b]].mean(axis=0) for g, d in zip(groups, draws)], columns=items)
        w = np.full(len(items), 1 / len(items)) if weights is None else entropy_weights(means).to_numpy()
        out[b] = PymcdmTOPSIS(vector_normalization)(means.to_numpy(), w, np.ones(len(items)))
    return out


@pytest.mark.parametrize("weights", [None, "entropy"])
def test_bootstrap_against_a_loop_over_resamples(survey, weights):
    n_boot = 200
    res = topsis(survey, weights, by="site", n_boot=n_boot, seed=5, ci=0.9)
    loop = loop_bootstrap(survey, n_boot, 5, weights)
    lo, hi = np.quantile(loop, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(res.table["ci_low"], lo, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.table["ci_high"], hi, rtol=0, atol=1e-10)
    assert res.n_boot_failed == 0


def test_bootstrap_full_size_reproducible_and_contains_estimate(survey):
    # 12 units × 30 indicators × 600 respondents, 2,000 resamples: vectorised, this runs in well under a second.
    res = topsis(survey, "entropy", by="site", n_boot=2000, seed=42)
    again = topsis(survey, "entropy", by="site", n_boot=2000, seed=42)
    pd.testing.assert_frame_equal(res.table, again.table)
    t = res.table
    assert list(t.columns) == ["d_best", "d_worst", "closeness", "rank", "ci_low", "ci_high", "rank_low", "rank_high"]
    assert ((t["ci_low"] <= t["closeness"]) & (t["closeness"] <= t["ci_high"])).all()
    assert ((t["rank_low"] <= t["rank"]) & (t["rank"] <= t["rank_high"])).all()
    assert not topsis(survey, "entropy", by="site", n_boot=2000, seed=43).table["ci_low"].equals(t["ci_low"])
    g = grey_relational(survey, "critic", by="site", n_boot=2000, seed=42).table
    assert ((g["ci_low"] <= g["grade"]) & (g["grade"] <= g["ci_high"])).all()


def test_bootstrap_with_missing_answers(survey):
    d = survey.copy()
    rng = np.random.default_rng(0)
    holes = rng.random(size=(len(d), 30)) < 0.05
    d.iloc[:, :30] = d.iloc[:, :30].mask(holes)
    with pytest.warns(gs.DataWarning, match="available-case"):
        res = topsis(d, by="site", n_boot=300, seed=1)
    np.testing.assert_allclose(res.closeness, topsis(d.groupby("site").mean()).closeness, rtol=0, atol=1e-12)
    assert res.table[["ci_low", "ci_high"]].notna().all().all()


def test_bootstrap_degenerate_resamples_are_counted():
    # Two units whose respondents all answer alike except one: resamples that miss that respondent leave every
    # unit identical, where the closeness is undefined (0/0); those resamples are left out and counted.
    d = pd.DataFrame({"a": [3.0] * 10 + [3.0] * 9 + [4.0], "b": [2.0] * 20, "site": ["A"] * 10 + ["B"] * 10})
    with pytest.warns(gs.DataWarning) as caught:
        res = topsis(d, by="site", n_boot=500, seed=3)
    assert any("b have the same value for every unit" in str(w.message) for w in caught)
    assert any("resamples the closeness is undefined" in str(w.message) for w in caught)
    assert 0 < res.n_boot_failed < 500
    assert any("undefined" in w for w in res.warnings)


def test_bootstrap_needs_units_and_checks_options(units, survey):
    with pytest.raises(gs.SpecificationError, match="needs respondent-level data with by="):
        topsis(units, n_boot=100)
    with pytest.raises(gs.SpecificationError, match="n_boot=-1"):
        topsis(survey, by="site", n_boot=-1)
    with pytest.raises(gs.SpecificationError, match="ci=95"):
        topsis(survey, by="site", n_boot=10, ci=95)
    small = survey.groupby("site").head(6)
    with pytest.warns(gs.DataWarning, match="fewer than 10 respondents"):
        topsis(small, by="site", n_boot=20, seed=1)


def test_units_of_very_few_respondents_get_an_unreliable_interval_warning(survey):
    """1–4 respondents: the percentile interval of a bounded, relative index is unreliable (it can
    exclude the point estimate); the warning names the units with their n, for TOPSIS and GRA."""
    tiny = pd.concat([survey[survey["site"] == "c00"].head(2), survey[survey["site"] != "c00"]])
    for method in (topsis, grey_relational):
        with pytest.warns(gs.DataWarning, match=r"c00 \(n = 2\) have fewer than 5 respondents, so their intervals are "
                                                r"unreliable.*can even exclude the point estimate") as caught:
            res = method(tiny, by="site", n_boot=50, seed=1)
        assert not any("fewer than 10" in str(w.message) for w in caught)      # only the stronger warning for c00
        assert any("fewer than 5" in w for w in res.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        topsis(survey, by="site", n_boot=20, seed=1)                             # 50 each: no warning


def test_inputs_are_not_modified(survey, units):
    before_s, before_u, before_w = survey.copy(deep=True), units.copy(deep=True), WEIGHTS.copy()
    topsis(survey, "critic", by="site", n_boot=50, seed=1, cost=["q01"])
    grey_relational(units, WEIGHTS, cost=["x5"], reference="社区3")
    pd.testing.assert_frame_equal(survey, before_s)
    pd.testing.assert_frame_equal(units, before_u)
    pd.testing.assert_series_equal(WEIGHTS, before_w)


def test_bad_data(units):
    with pytest.raises(gs.UnknownItemError, match="cost="):
        topsis(units, cost=["x9"])
    with pytest.raises(gs.DataValidationError, match="at least 2 units"):
        topsis(units.iloc[:1])
    with pytest.warns(gs.DataWarning, match="a, b have the same value"), \
            pytest.raises(gs.DataValidationError, match="same values on every indicator"):
        topsis(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0]}))
    dup = units.copy()
    dup.index = ["u"] * len(dup)
    with pytest.raises(gs.DataValidationError, match="more than once"):
        grey_relational(dup)
