"""Scoring: reverse keys, mean and prorated sum, min_valid, higher-order scores (closed forms)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs


def test_reverse_code_closed_form(mini):
    data = pd.DataFrame({"A1": [1.0, 2.0], "A3": [1.0, 4.0], "other": ["x", "y"]})
    out = gs.reverse_code(data, mini)
    assert out["A3"].tolist() == [5.0, 2.0]  # 1 + 5 − x
    assert out["A1"].tolist() == [1.0, 2.0]
    assert data["A3"].tolist() == [1.0, 4.0]  # input untouched


def test_mean_sum_and_prorating(mini):
    data = pd.DataFrame({"A1": [5.0, 4.0, np.nan, np.nan], "A2": [3.0, np.nan, 2.0, np.nan],
                         "A3": [1.0, 2.0, np.nan, 1.0]})
    mean = gs.score(data, mini, min_valid=0.6)["a"]
    # respondent 0: (5 + 3 + (6−1)) / 3; respondent 1: (4 + (6−2)) / 2; respondent 2: 1 of 3 < 0.6
    assert mean.iloc[0] == pytest.approx(13 / 3, rel=1e-12)
    assert mean.iloc[1] == pytest.approx(4.0, rel=1e-12)
    assert np.isnan(mean.iloc[2]) and np.isnan(mean.iloc[3])
    total = gs.score(data, mini, method="sum", min_valid=0.6)["a"]
    assert total.iloc[0] == pytest.approx(13.0) and total.iloc[1] == pytest.approx(12.0)  # prorated to 3 items
    strict = gs.score(data, mini, min_valid=1.0)["a"]
    assert strict.notna().tolist() == [True, False, False, False]


def test_higher_order_scores(inst, xlsx_data):
    clean = gs.screen(xlsx_data, inst).clean
    scores = gs.score(clean, inst)
    assert list(scores.columns) == list(inst.constructs)
    keyed = gs.reverse_code(clean, inst)
    items = inst.items_of("pre_event")
    block = keyed[items]
    expected = block.mean(axis=1).where(block.notna().sum(axis=1) >= 0.8 * len(items))
    pd.testing.assert_series_equal(scores["pre_event"], expected, check_names=False)
    dims = gs.score(clean, inst, higher_order="dimensions")
    by_dims = scores[["plans", "reserves", "warning", "training"]].mean(axis=1, skipna=False)
    pd.testing.assert_series_equal(dims["pre_event"], by_dims, check_names=False)


def test_planted_weak_dimensions_score_below_their_importance(inst, xlsx_data, truth):
    """The example's planted pattern is recovered: the weak dimensions have the lowest
    means and the largest importance–performance gaps."""
    clean = gs.screen(xlsx_data, inst).clean
    scores = gs.score(clean, inst)
    dims = [d for d in inst.descendants("capacity") if not inst.constructs[d].children]
    perf = scores[dims].mean()
    importance = pd.Series({d: clean[inst.importance_items[d]].mean() for d in dims})
    gap = importance - perf
    assert set(perf.nsmallest(3).index) == set(truth["weak_dimensions"])
    assert set(gap.nlargest(3).index) == set(truth["weak_dimensions"])
    # community-level weakness: planted weak sites score lower on reserves
    weak_sites = truth["model"]["weak_communities"]["reserves"]["sites"]
    by_site = scores["reserves"].groupby(clean["site"]).mean()
    assert by_site[weak_sites].mean() < by_site.drop(weak_sites).mean() - 0.2


def test_score_errors(mini):
    data = pd.DataFrame({"A1": [1.0], "A2": [2.0]})
    with pytest.raises(gs.UnknownItemError, match=r"score needs 1 item column\(s\) not in the data: A3.*Fix: read the data"):
        gs.score(data, mini)
    full = pd.DataFrame({"A1": [1.0], "A2": [2.0], "A3": [3.0]})
    for kwargs, match in [({"method": "median"}, "method='median'"), ({"min_valid": 0}, "min_valid=0"),
                          ({"min_valid": 1.5}, "min_valid=1.5"), ({"higher_order": "x"}, "higher_order='x'"),
                          ({"constructs": ["zzz"]}, "'zzz' is not a construct")]:
        with pytest.raises(gs.GovsurveyError, match=match):
            gs.score(full, mini, **kwargs)
    with pytest.raises(gs.DataValidationError, match="infinite"):
        gs.score(full.assign(A1=np.inf), mini)
    with pytest.raises(gs.SpecificationError, match="must be a pandas DataFrame"):
        gs.score([[1, 2, 3]], mini)
