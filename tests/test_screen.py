"""Screening: the planted careless respondents of the example, each rule, and bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs

RULE_OF = {"speeder": "speeder", "straightline": "straightline", "attention": "attention", "duplicate": "duplicate"}


@pytest.fixture(scope="module")
def result(inst, xlsx_data):
    return gs.screen(xlsx_data, inst)


def test_every_planted_respondent_is_found(result, truth):
    """Acceptance: every planted speeder, straight-liner, duplicate and attention failure is
    flagged by its rule, and no clean respondent is excluded."""
    for kind, ids in truth["planted"].items():
        assert len(ids) > 0
        flagged = result.flags.loc[ids, RULE_OF[kind]]
        assert flagged.all(), f"{kind}: missed {flagged[~flagged].index.tolist()}"
    planted = {i for ids in truth["planted"].values() for i in ids}
    assert set(result.excluded.index) == planted
    assert not set(result.excluded.index) & set(truth["clean_ids"])
    assert result.clean.shape[0] == truth["n_clean"]


def test_duplicates_keep_the_first_submission(result, truth):
    fc = result.failure_cases[result.failure_cases["rule"] == "duplicate"]
    got = {str(r): v for r, v in zip(fc["respondent"], fc["value"])}
    assert got == truth["duplicate_of"]
    assert all(type(v) is int for v in got.values())  # ids stay ids
    assert "duplicate of respondent 6;" in result.excluded.loc[9, "reason"] + ";"
    assert all(int(orig) in result.clean.index for orig in truth["duplicate_of"].values())


def test_result_shapes_and_log(result, xlsx_data):
    assert list(result.flags.columns) == ["out_of_range", "too_many_missing", "speeder", "straightline", "attention", "duplicate",
                                          "near_duplicate"]
    assert result.flags.index.equals(xlsx_data.index)
    assert list(result.failure_cases.columns) == ["respondent", "column", "rule", "value"]
    assert result.summary.loc["total", "n_flagged"] == 640
    assert result.summary.loc["retained", "n_flagged"] == 600
    assert result.thresholds["speeder"]["seconds"] == pytest.approx(np.nanmedian(xlsx_data["_seconds"]) / 3)
    assert set(result.excluded.columns) == {"rules", "reason"}
    some = result.excluded.index[0]
    assert result.excluded.loc[some, "reason"]
    assert repr(result).startswith("Screening(total=640, excluded=40")
    assert "<table" in result._repr_html_()
    import json

    json.dumps(result.to_dict())


def test_input_is_untouched(inst, xlsx_data):
    before = xlsx_data.copy()
    gs.screen(xlsx_data, inst)
    pd.testing.assert_frame_equal(before, xlsx_data)


def _frame(n=30, seed=1):
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(rng.integers(1, 6, size=(n, 3)).astype(float), columns=["A1", "A2", "A3"],
                        index=pd.RangeIndex(1, n + 1, name="respondent"))
    data["gender"] = rng.integers(1, 3, size=n).astype(float)
    return data


def test_every_failure_is_reported_at_once(mini):
    data = _frame()
    data.loc[2, "A1"] = 6
    data.loc[2, "A2"] = 0
    data.loc[5, "gender"] = 3
    data.loc[7, ["A1", "A2", "A3"]] = np.nan
    res = gs.screen(data, mini, straightline=False)
    fc = res.failure_cases
    oor = fc[fc["rule"] == "out_of_range"]
    assert sorted(zip(oor["respondent"], oor["column"], oor["value"])) == [(2, "A1", 6.0), (2, "A2", 0.0), (5, "gender", 3.0)]
    assert fc[fc["rule"] == "too_many_missing"]["respondent"].tolist() == [7]
    assert set(res.excluded.index) >= {2, 5, 7}
    assert "speeder: no completion-time column" in res.notes[0]


def test_min_seconds_time_column_and_mahalanobis(inst, files, truth):
    sav = gs.read_responses(files["sav"], inst)
    res = gs.screen(sav, inst, time_column="duration", min_seconds=120)
    assert res.flags.loc[truth["planted"]["speeder"], "speeder"].all()
    assert res.thresholds["speeder"] == {"seconds": 120.0, "rule": "min_seconds"}
    maha = gs.screen(sav, inst, time_column="duration", mahalanobis_p=0.001)
    assert "mahalanobis" in maha.flags.columns
    # the random responders (attention failures) are far from the centroid
    hits = maha.flags.loc[truth["planted"]["attention"], "mahalanobis"].mean()
    clean_rate = maha.flags.loc[truth["clean_ids"], "mahalanobis"].mean()
    assert hits > 0.5 and clean_rate < 0.05


def test_attention_override_and_off(inst, xlsx_data, truth):
    off = gs.screen(xlsx_data, inst, attention=False)
    assert "attention" not in off.flags.columns
    custom = gs.screen(xlsx_data, inst, attention={"AC1": 5})
    assert custom.flags["attention"].sum() > 500
    with pytest.raises(gs.UnknownItemError, match="attention= names item"):
        gs.screen(xlsx_data, inst, attention={"ZZ9": 1})


def test_straightline_share(mini):
    data = _frame(40)
    data.loc[3, ["A1", "A2", "A3"]] = 4.0
    res = gs.screen(data, mini, min_block=3)
    assert res.flags.loc[3, "straightline"]
    res_share = gs.screen(data, mini, min_block=3, straightline=0.6)
    assert res_share.flags["straightline"].sum() >= res.flags["straightline"].sum()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"max_missing": 2}, "max_missing=2"), ({"min_seconds": -1}, "min_seconds=-1"),
     ({"mahalanobis_p": 0.9}, "mahalanobis_p=0.9"), ({"straightline": 0.2}, "straightline=0.2"),
     ({"min_block": 1}, "min_block=1"), ({"time_column": "nope"}, "time_column='nope'")],
)
def test_bad_arguments(mini, kwargs, match):
    with pytest.raises(gs.GovsurveyError, match=match):
        gs.screen(_frame(), mini, **kwargs)


def test_bad_data(mini):
    with pytest.raises(gs.UnknownItemError, match="None of the construct items"):
        gs.screen(pd.DataFrame({"x": [1, 2]}), mini)
    with pytest.raises(gs.DataValidationError, match="no rows"):
        gs.screen(_frame().iloc[:0], mini)
    text = _frame()
    text["A1"] = text["A1"].astype(object)
    text.loc[1, "A1"] = "同意"
    with pytest.raises(gs.DataValidationError, match="non-numeric values: 同意"):
        gs.screen(text, mini)
    singular = _frame(40)
    singular["A2"] = singular["A1"]
    with pytest.raises(gs.DataValidationError, match="singular"):
        gs.screen(singular, mini, mahalanobis_p=0.001, straightline=False)


def test_a_skipped_speeder_rule_is_said_as_a_warning(mini):
    import numpy as np
    import pandas as pd

    data = pd.DataFrame({"A1": [1, 2, 3, 4, 5, 3], "A2": [2, 2, 3, 4, 4, 3], "A3": [5, 4, 3, 2, 1, 3], "gender": [1, 2, 1, 2, 1, 2]},
                        dtype=float)
    with pytest.warns(gs.DataWarning, match="speeder: no completion-time column.*rule not run"):
        result = gs.screen(data, mini, straightline=False)
    assert any(n.startswith("speeder:") for n in result.notes) and np.all(result.clean.index == data.index)
