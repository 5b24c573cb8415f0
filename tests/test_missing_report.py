"""gs.missing_report: pattern and per-item tables, EM estimates and Little's (1988) MCAR test.

Reference values: tests/reference/values/fiml.json, key "little", made by
tests/reference/r/make_fiml_reference.R (R 4.2.2, lavaan 0.6-14's EM tightened to 1e-12; the
test written out from Little's paper) on tests/reference/data/{hs,poldem}_{mcar,mar}.csv.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import govsurvey as gs

REF = Path(__file__).resolve().parent / "reference"
LITTLE = json.loads((REF / "values" / "fiml.json").read_text(encoding="utf-8"))["little"]
HS_ITEMS = [f"x{i}" for i in range(1, 10)]
DATASETS = {"hs_mcar": HS_ITEMS, "hs_mar": HS_ITEMS, "poldem_mcar": None, "poldem_mar": None}


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / f"{name}.csv")


def report(data, items=None) -> gs.MissingReport:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        return gs.missing_report(data, items=items)


@pytest.fixture(scope="module")
def hs_mcar() -> pd.DataFrame:
    return load("hs_mcar")


# ---------------------------------------------------------------------------------------------
# against R


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_little_and_em_match_the_r_reference(name):
    ref = LITTLE[name]
    data = load(name)
    items = DATASETS[name] or list(data.columns)
    out = report(data, DATASETS[name])
    p = len(items)
    assert list(out.em_mean.index) == items
    # statistic and p: rel 1e-6 / abs 1e-8 (EM run to 1e-12 on both sides; observed ~1e-13)
    assert out.little.statistic == pytest.approx(ref["statistic"], rel=1e-6)
    assert out.little.df == ref["df"]
    assert out.little.p_value == pytest.approx(ref["p"], rel=0, abs=1e-8)
    assert out.little.n_patterns == ref["n_patterns"]
    np.testing.assert_allclose(out.em_mean.to_numpy(), ref["mu"], rtol=0, atol=1e-8)
    sigma = np.array(ref["sigma"]).reshape(p, p, order="F")             # R: column-major
    np.testing.assert_allclose(out.em_cov.loc[items, items].to_numpy(), sigma, rtol=0, atol=1e-8)
    assert out.n_empty == 0 and out.n_cases == len(data)


def test_mar_data_reject_mcar_and_mcar_data_do_not():
    assert report(load("hs_mar"), HS_ITEMS).little.p_value < 1e-4
    assert report(load("hs_mcar"), HS_ITEMS).little.p_value > 0.05


def little_by_loop(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> tuple[float, int, int]:
    """Little's d² pattern by pattern, as in the R script (an independent check of the batch)."""
    observed = ~np.isnan(x)
    d2, df, k = 0.0, -x.shape[1], 0
    for mask in np.unique(observed, axis=0):
        if not mask.any():
            continue
        rows = (observed == mask).all(axis=1)
        dev = x[rows][:, mask].mean(axis=0) - mu[mask]
        d2 += rows.sum() * dev @ np.linalg.solve(sigma[np.ix_(mask, mask)], dev)
        df += int(mask.sum())
        k += 1
    return d2, df, k


@pytest.mark.parametrize("name", ["hs_mar", "poldem_mcar"])
def test_the_batched_statistic_equals_a_loop_over_patterns(name):
    data = load(name)
    out = report(data, DATASETS[name])
    x = data[list(out.em_mean.index)].to_numpy(dtype=float)
    d2, df, k = little_by_loop(x, out.em_mean.to_numpy(), out.em_cov.to_numpy())
    assert out.little.statistic == pytest.approx(d2, rel=1e-10)
    assert (out.little.df, out.little.n_patterns) == (df, k)


# ---------------------------------------------------------------------------------------------
# tables


def test_pattern_table_counts_order_and_flags(hs_mcar):
    out = report(hs_mcar, HS_ITEMS)
    pat = out.patterns
    assert list(pat.columns) == HS_ITEMS + ["n", "pct", "n_observed", "complete"]
    assert pat["n"].sum() == len(hs_mcar) == out.n_cases
    assert pat["pct"].sum() == pytest.approx(100.0)
    assert (np.diff(pat["n"].to_numpy()) <= 0).all(), "most frequent pattern first"
    assert list(pat.index) == list(range(1, len(pat) + 1))
    assert not pat[HS_ITEMS].duplicated().any()
    assert set(np.unique(pat[HS_ITEMS].to_numpy())) <= {0, 1}
    assert (pat["n_observed"] == pat[HS_ITEMS].sum(axis=1)).all()
    assert (pat["complete"] == (pat["n_observed"] == len(HS_ITEMS))).all()
    assert pat["complete"].sum() == 1
    # the counts are the data's: recount every pattern with pandas
    observed = hs_mcar[HS_ITEMS].notna().astype(int)
    counts = observed.value_counts()
    for _, row in pat.iterrows():
        assert counts[tuple(int(v) for v in row[HS_ITEMS])] == row["n"]
    assert pat.loc[pat["complete"], "n"].item() == out.n_complete == int(hs_mcar[HS_ITEMS].notna().all(axis=1).sum())
    assert len(pat) == out.little.n_patterns == LITTLE["hs_mcar"]["n_patterns"]


def test_per_variable_counts(hs_mcar):
    out = report(hs_mcar, HS_ITEMS)
    v = out.variables
    assert list(v.index) == HS_ITEMS and list(v.columns) == ["n_missing", "pct_missing", "n_observed"]
    assert v["n_missing"].tolist() == hs_mcar[HS_ITEMS].isna().sum().tolist()
    assert v["n_observed"].tolist() == hs_mcar[HS_ITEMS].notna().sum().tolist()
    np.testing.assert_allclose(v["pct_missing"], 100 * hs_mcar[HS_ITEMS].isna().mean().to_numpy(), rtol=1e-15)
    frame = out.to_frame()
    assert list(frame.columns) == ["n_missing", "pct_missing", "n_observed", "em_mean", "em_sd"]
    np.testing.assert_allclose(frame["em_sd"] ** 2, np.diag(out.em_cov), rtol=1e-14)


def test_default_items_are_the_numeric_columns():
    data = pd.DataFrame({"a": [1.0, 2, np.nan, 4, 5, 3], "b": [2, 1, 3, 5, np.nan, 4], "site": list("uvwxyz"),
                         "flag": [True, False] * 3, "c": pd.array([1, 3, 2, pd.NA, 5, 4], dtype="Int64")})
    out = report(data)
    assert list(out.variables.index) == ["a", "b", "c"]
    assert out.variables["n_missing"].tolist() == [1, 1, 1]
    assert math.isfinite(out.little.statistic) and out.little.df == 3 + 2 * 3 - 3


# ---------------------------------------------------------------------------------------------
# special cases


def test_input_is_not_modified(hs_mcar):
    data = hs_mcar.copy()
    data["c"] = pd.array([1, None] * (len(data) // 2) + [2] * (len(data) % 2), dtype="Int64")
    before = data.copy(deep=True)
    report(data, HS_ITEMS + ["c"])
    report(data)
    pd.testing.assert_frame_equal(data, before)


def test_no_missing_values():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    with pytest.warns(gs.DataWarning, match="no missing values"):
        out = gs.missing_report(data)
    assert (out.little.statistic, out.little.df, out.little.n_patterns) == (0.0, 0, 1)
    assert math.isnan(out.little.p_value)
    assert any("not defined without missing data" in w for w in out.warnings)
    assert out.n_complete == out.n_cases == 50 and out.n_empty == 0
    assert len(out.patterns) == 1 and bool(out.patterns["complete"].iloc[0])
    np.testing.assert_allclose(out.em_mean, data.mean(), rtol=1e-10)
    np.testing.assert_allclose(out.em_cov, data.cov(ddof=0), rtol=1e-9)
    assert json.dumps(out.to_dict())          # NaN p becomes null


def test_cases_with_every_item_missing_are_counted_and_left_out(hs_mcar):
    empty = pd.DataFrame(np.nan, index=[1000, 1001, 1002], columns=hs_mcar.columns)
    data = pd.concat([hs_mcar, empty])
    base = report(hs_mcar, HS_ITEMS)
    with pytest.warns(gs.DataWarning, match="3 of 304 cases have every item missing"):
        out = gs.missing_report(data, HS_ITEMS)
    assert out.n_empty == 3 and out.n_cases == len(hs_mcar) + 3
    assert out.little.statistic == pytest.approx(base.little.statistic, rel=1e-12)
    assert (out.little.df, out.little.n_patterns, out.little.n_obs) == (base.little.df, base.little.n_patterns, len(hs_mcar))
    pat = out.patterns
    assert pat["n"].sum() == out.n_cases
    empty_row = pat[pat["n_observed"] == 0]
    assert len(empty_row) == 1 and empty_row["n"].item() == 3
    assert out.variables["n_missing"].tolist() == (base.variables["n_missing"] + 3).tolist()


def test_result_conventions(hs_mcar):
    out = report(hs_mcar, HS_ITEMS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.n_cases = 0
    assert isinstance(out, gs.Result) and isinstance(out.little, gs.LittleTest)
    d = json.loads(json.dumps(out.to_dict()))
    assert d["little"]["df"] == 384 and d["n_cases"] == 301
    assert repr(out) == repr(report(hs_mcar, HS_ITEMS))
    assert repr(out).startswith("MissingReport(variables=<DataFrame 9×3>, patterns=<DataFrame 57×13>, n_cases=301")
    html = out._repr_html_()
    assert "MissingReport" in html and "LittleTest(statistic=393.866" in html
    assert out.little.to_frame().columns.tolist() == ["statistic", "df", "p_value", "n_patterns", "n_obs"]


# ---------------------------------------------------------------------------------------------
# errors


def test_unknown_item(hs_mcar):
    with pytest.raises(gs.UnknownItemError, match="2 column.*not in the data: x10, q3") as err:
        gs.missing_report(hs_mcar, ["x1", "x10", "q3"])
    assert isinstance(err.value, KeyError) and "Fix:" in str(err.value)


def test_text_column():
    data = pd.DataFrame({"a": [1.0, 2, np.nan, 4], "b": ["agree", "disagree", None, "agree"]})
    with pytest.raises(gs.DataValidationError, match=r"column\(s\) b are not numeric.*Fix:") as err:
        gs.missing_report(data, ["a", "b"])
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("bad, error, pattern", [
    ("not a frame", gs.SpecificationError, "must be a pandas DataFrame"),
    ([], gs.SpecificationError, "items= is empty"),
    ("x1", gs.SpecificationError, "must be a list of column names"),
    (["x1", "x1"], gs.SpecificationError, "x1 more than once"),
])
def test_bad_arguments(hs_mcar, bad, error, pattern):
    with pytest.raises(error, match=pattern):
        if bad == "not a frame":
            gs.missing_report(hs_mcar.to_numpy())
        else:
            gs.missing_report(hs_mcar, bad)


def test_degenerate_items_are_refused_with_their_names():
    rng = np.random.default_rng(2)
    base = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    base.iloc[::5, 0] = np.nan
    constant = base.assign(k=np.where(np.arange(40) % 3, 4.0, np.nan))
    with pytest.raises(gs.DataValidationError, match="item\\(s\\) k have the same value"):
        gs.missing_report(constant)
    single = base.assign(s=[7.0] + [np.nan] * 39)
    with pytest.raises(gs.DataValidationError, match="s have fewer than two observed values"):
        gs.missing_report(single)
    apart = base.assign(u=np.where(np.arange(40) < 20, 1.0 + np.arange(40), np.nan),
                        v=np.where(np.arange(40) >= 20, 1.0 + np.arange(40) % 7, np.nan))
    with pytest.raises(gs.DataValidationError, match="never observed together \\(u & v\\)"):
        gs.missing_report(apart)
    total = base.assign(t=base["b"] + base["c"])                 # complete items: singular at once
    with pytest.raises(gs.NotPositiveDefiniteError, match="singular.*Fix:"):
        gs.missing_report(total)
    total = base.assign(t=base["a"] + base["b"])                 # missing with a: EM creeps towards it
    with pytest.raises((gs.NotPositiveDefiniteError, gs.ConvergenceError), match="singular.*Fix:"):
        gs.missing_report(total)
    with pytest.raises(gs.DataValidationError, match="every case has every item missing"):
        gs.missing_report(pd.DataFrame({"a": [np.nan] * 3, "b": [np.nan] * 3}))
    with pytest.raises(gs.DataValidationError, match="infinite"):
        gs.missing_report(base.assign(a=np.r_[np.inf, base["a"].to_numpy()[1:]]))


def test_an_item_named_like_a_pattern_column_is_refused():
    data = pd.DataFrame({"n": [1.0, 2, np.nan, 4], "b": [2.0, np.nan, 1, 3]})
    with pytest.raises(gs.SpecificationError, match="rename"):
        gs.missing_report(data)


# ---------------------------------------------------------------------------------------------
# properties


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_permuting_rows_or_columns_changes_nothing(seed):
    data = load("poldem_mar")
    rng = np.random.default_rng(seed)
    base = report(data)
    rows = report(data.iloc[rng.permutation(len(data))])
    assert rows.little.statistic == pytest.approx(base.little.statistic, rel=1e-9)
    assert (rows.little.df, rows.little.n_patterns) == (base.little.df, base.little.n_patterns)
    pd.testing.assert_frame_equal(rows.patterns, base.patterns)
    cols = list(rng.permutation(data.columns))
    perm = report(data, cols)
    assert perm.little.statistic == pytest.approx(base.little.statistic, rel=1e-9)
    np.testing.assert_allclose(perm.em_cov.loc[cols, cols], base.em_cov.loc[cols, cols], rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(30, 200), p=st.integers(2, 6),
       rate=st.floats(0.02, 0.3))
def test_mcar_data_give_a_finite_statistic_on_the_right_df(seed, n, p, rate):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) + rng.normal(size=p)
    x[rng.random((n, p)) < rate] = np.nan
    x[0] = rng.normal(size=p)                   # every pair observed together at least once
    x[1] = rng.normal(size=p)
    out = report(pd.DataFrame(x, columns=[f"v{j}" for j in range(p)]))
    pat = out.patterns[out.patterns["n_observed"] > 0]
    assert out.little.df == int(pat["n_observed"].sum()) - p
    assert out.little.n_patterns == len(pat)
    assert out.patterns["n"].sum() == n
    if out.little.df > 0:
        assert math.isfinite(out.little.statistic) and out.little.statistic >= 0
        assert 0 <= out.little.p_value <= 1
    else:
        assert out.little.statistic == 0 and math.isnan(out.little.p_value)
