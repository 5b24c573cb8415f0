"""Expert files (govsurvey.data.experts): the bundled Delphi and AHP files read as the methods
take them, labels and ids alike, CSV (UTF-8, GBK) and Excel, the AHP matrix layout equal to the
long one, and every bad file refused with its file, row and column — all problems at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.data.experts import instrument_names

FILES = gs.datasets.example_files()


@pytest.fixture(scope="module")
def inst():
    return gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))


@pytest.fixture(scope="module")
def delphi_table():
    return pd.read_csv(FILES["delphi"], encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def ahp_table():
    return pd.read_csv(FILES["ahp"], encoding="utf-8-sig", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------ Delphi
def test_the_bundled_delphi_file(inst):
    panel = gs.read_delphi(FILES["delphi"], inst)
    assert list(panel.ratings) == [1, 2] and len(panel.experts) == 15
    assert panel.indicators[:3] == ("pre_event", "during_event", "post_event") and "psych_support" in panel.indicators
    r1 = panel.ratings[1]
    assert r1.shape == (15, 12) and r1.index.name == "expert" and r1.index[0] == "E01"
    assert set(panel.familiarity) <= {"很熟悉", "熟悉", "一般"}
    assert list(panel.basis.columns) == ["实践经验", "理论分析", "参考国内外文献", "直观感觉"]
    res = gs.delphi(panel.ratings, familiarity=panel.familiarity, basis=panel.basis)
    last = res.rounds[res.rounds["round"] == 2]
    assert last["keep"].all() and not res.rounds.set_index(["round", "indicator"]).loc[(1, "training"), "keep"]
    assert res.kendall_w["w"].is_monotonic_increasing and (res.kendall_w["p"] < 0.001).all()
    assert res.authority_mean >= 0.7


def test_labels_ids_csv_gbk_and_excel_read_alike(tmp_path, inst, delphi_table):
    ref = gs.read_delphi(FILES["delphi"], inst)
    _, aliases = instrument_names(inst)
    by_id = delphi_table.rename(columns={k: v for k, v in aliases.items() if k in delphi_table.columns})
    by_id.to_csv(tmp_path / "ids.csv", index=False, encoding="gbk")
    delphi_table.to_excel(tmp_path / "labels.xlsx", index=False)
    for path in (tmp_path / "ids.csv", tmp_path / "labels.xlsx"):
        other = gs.read_delphi(path, inst)
        assert other.indicators == ref.indicators and other.experts == ref.experts
        for r in (1, 2):
            pd.testing.assert_frame_equal(other.ratings[r], ref.ratings[r])
        pd.testing.assert_series_equal(other.familiarity, ref.familiarity)
    plain = gs.read_delphi(FILES["delphi"])                                   # no instrument: the headers as written
    assert plain.indicators[:2] == ("事前准备能力", "事中响应能力")


def test_a_delphi_file_without_rounds_or_authority(tmp_path):
    pd.DataFrame({"专家": ["A", "B", "C"], "x1": [5, 4, 5], "x2": ["3", "", "4"]}).to_csv(tmp_path / "d.csv", index=False)
    panel = gs.read_delphi(tmp_path / "d.csv")
    assert list(panel.ratings) == [1] and panel.familiarity is None and panel.basis is None
    assert np.isnan(panel.ratings[1].loc["B", "x2"])
    pd.DataFrame({"expert": ["A", "A"], "round": ["第1轮", "round 2"], "x": [5, 4]}).to_csv(tmp_path / "r.csv", index=False)
    assert list(gs.read_delphi(tmp_path / "r.csv").ratings) == [1, 2]


def test_an_unknown_indicator_column_is_named_with_the_closest_name(tmp_path, inst, delphi_table):
    bad = delphi_table.rename(columns={"应急物资储备": "应急物资储存", "心理支持": "职务"})
    bad.to_csv(tmp_path / "experts.csv", index=False)
    with pytest.raises(gs.UnknownItemError) as err:
        gs.read_delphi(tmp_path / "experts.csv", inst)
    text = str(err.value)
    assert "experts.csv has 2 problem(s)" in text and "column '应急物资储存' is not an indicator" in text
    assert "column '应急物资储存' is not an indicator (did you mean '应急物资储备'?)" in text
    assert "column '职务' is not an indicator" in text and "Fix:" in text


def test_bad_delphi_cells_are_all_reported_with_row_and_column(tmp_path, inst, delphi_table):
    bad = delphi_table.copy()
    bad.loc[2, "应急物资储备"] = "高"           # file row 4
    bad.loc[5, "轮次"] = "first"                # file row 7
    bad.loc[22, "专家编号"] = ""                 # file row 24
    bad.loc[20, "专家编号"] = bad.loc[21, "专家编号"]   # a second row of E22's expert in round 2 (rows 22 and 23)
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(gs.DataValidationError) as err:
        gs.read_delphi(tmp_path / "bad.csv", inst)
    text = str(err.value)
    assert "bad.csv has 4 problem(s)" in text
    assert "row 4, column '应急物资储备': '高' is not a rating" in text
    assert "row 7, column '轮次': 'first' is not a round number" in text
    assert "row 24, column '专家编号': no expert id" in text
    assert "row 23, column '专家编号': expert E07 appears again in round 2 (first in row 22)" in text


def test_missing_expert_column_is_a_format_error(tmp_path):
    pd.DataFrame({"name": ["A"], "x": [5]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(gs.DataFormatError, match="d.csv has no column for expert"):
        gs.read_delphi(tmp_path / "d.csv")


# ------------------------------------------------------------------ AHP
def test_the_bundled_ahp_file(inst):
    j = gs.read_ahp(FILES["ahp"], inst)
    assert j.nodes == ("capacity", "pre_event", "during_event", "post_event") and j.experts == tuple(f"E0{k}" for k in range(1, 6))
    m = j.matrices["pre_event"]["E04"]
    assert list(m.index) == ["plans", "reserves", "warning", "training"]
    assert m.loc["plans", "training"] == pytest.approx(1 / 3) and m.loc["training", "plans"] == pytest.approx(3)
    np.testing.assert_allclose(m.to_numpy() * m.to_numpy().T, 1.0, rtol=1e-12)
    assert len(j.table) == 5 * (3 + 6 + 3 + 1) and j.table["file_row"].min() == 2
    with pytest.warns(gs.DataWarning, match="node 'pre_event', expert E04: CR = "):
        res = gs.ahp(j.matrices)
    bad = res.consistency[~res.consistency["consistent"]]
    assert list(zip(bad["node"], bad["expert"])) == [("pre_event", "E04")]
    assert set(res.consistency["expert"]) == {*j.experts, "AIJ"}
    assert list(res.global_weights.index) == ["plans", "reserves", "warning", "training", "response", "information", "grid",
                                              "recovery", "psych_support"]


def test_matrix_layout_and_rounded_reciprocals_equal_the_long_layout(tmp_path, inst, ahp_table):
    long = gs.read_ahp(FILES["ahp"], inst)
    rows = []
    for (expert, node), part in ahp_table.groupby(["专家编号", "判断矩阵"], sort=False):
        crit = list(dict.fromkeys([*part["行指标"], *part["列指标"]]))
        for r in crit:
            row = {"专家": expert, "节点": node, "指标": r}
            for c in crit:
                hit = part[(part["行指标"] == r) & (part["列指标"] == c)]["判断值"]
                back = part[(part["行指标"] == c) & (part["列指标"] == r)]["判断值"]
                row[c] = "1" if r == c else hit.iloc[0] if len(hit) else (f"{1 / eval_fraction(back.iloc[0]):.3f}" if len(back) else "")
            rows.append(row)
    matrix = pd.DataFrame(rows).fillna("")
    matrix.to_excel(tmp_path / "matrix.xlsx", index=False)
    other = gs.read_ahp(tmp_path / "matrix.xlsx", inst)
    assert other.layout == "matrix" and other.nodes == long.nodes
    for node in long.matrices:
        for expert in long.matrices[node]:
            pd.testing.assert_frame_equal(other.matrices[node][expert], long.matrices[node][expert], rtol=1e-12)


def eval_fraction(text: str) -> float:
    num, _, den = text.partition("/")
    return float(num) / float(den or 1)


def _write(tmp_path, rows, name="ahp.csv") -> object:
    frame = pd.DataFrame(rows, columns=["expert", "node", "row", "col", "value"])
    frame.to_csv(tmp_path / name, index=False)
    return tmp_path / name


GOOD = [("E1", "post_event", "recovery", "psych_support", "2"),
        ("E1", "capacity", "pre_event", "during_event", "2"), ("E1", "capacity", "pre_event", "post_event", "3"),
        ("E1", "capacity", "during_event", "post_event", "3/2")]


def test_a_division_by_zero_is_refused_with_its_row_and_column(tmp_path, inst):
    path = _write(tmp_path, [*GOOD[:3], ("E1", "capacity", "during_event", "post_event", "1/0")])
    with pytest.raises(gs.DataValidationError, match=r"(?s)ahp.csv has \d problem.*row 5, column 'value': '1/0' divides by zero"):
        gs.read_ahp(path, inst)


def test_non_reciprocal_pairs_are_refused_and_rounded_ones_kept(tmp_path, inst):
    ok = gs.read_ahp(_write(tmp_path, [*GOOD, ("E1", "capacity", "post_event", "pre_event", "0.33")]), inst)
    assert ok.matrices["capacity"]["E1"].loc["pre_event", "post_event"] == 3.0          # the integer judgement is kept
    assert ok.matrices["capacity"]["E1"].loc["post_event", "pre_event"] == pytest.approx(1 / 3, rel=1e-15)
    path = _write(tmp_path, [*GOOD, ("E1", "capacity", "post_event", "pre_event", "3")])
    with pytest.raises(gs.DataValidationError) as err:
        gs.read_ahp(path, inst)
    assert ("row 6, column 'value': expert E1, node 'capacity': [pre_event, post_event] = 3 (row 4) and "
            "[post_event, pre_event] = 3 are not reciprocal (their product is 9, not 1)") in str(err.value)


def test_unknown_node_and_criterion_names_suggest_the_closest(tmp_path, inst):
    path = _write(tmp_path, [*GOOD, ("E1", "pre_evnt", "plans", "reserves", "2"), ("E1", "post_event", "recovery", "psych", "2")])
    with pytest.raises(gs.UnknownItemError) as err:
        gs.read_ahp(path, inst)
    text = str(err.value)
    assert "row 6: node 'pre_evnt' is not a node of the index system (did you mean 'pre_event'?)" in text
    assert "row 7: 'psych' is not a criterion of node 'post_event'" in text and "recovery, psych_support" in text


def test_missing_pairs_diagonals_and_bad_values_all_at_once(tmp_path, inst):
    rows = [("E1", "capacity", "pre_event", "during_event", "2"), ("E1", "capacity", "pre_event", "pre_event", "2"),
            ("E1", "capacity", "during_event", "post_event", "abc"), ("E1", "post_event", "recovery", "psych_support", "-2"),
            ("E1", "post_event", "recovery", "psych_support", "2")]
    with pytest.raises(gs.DataValidationError) as err:
        gs.read_ahp(_write(tmp_path, rows), inst)
    text = str(err.value)
    assert "row 3, column 'value': the diagonal cell [pre_event, pre_event] of expert E1, node 'capacity' is 2" in text
    assert "row 4, column 'value': 'abc' is not a judgement" in text
    assert "row 5, column 'value': '-2' is not a positive number" in text
    assert "expert E1, node 'capacity': no judgement for [pre_event, post_event]" in text


def test_without_an_instrument_names_are_taken_as_written(tmp_path):
    j = gs.read_ahp(_write(tmp_path, [("甲", "目标", "A", "B", "3"), ("甲", "目标", "A", "C", "5"), ("甲", "目标", "B", "C", "2")]))
    assert j.nodes == ("目标",) and list(j.matrices["目标"]["甲"].index) == ["A", "B", "C"]
    assert gs.ahp(j.matrices).weights.round(4).to_dict() == {"A": 0.6483, "B": 0.2297, "C": 0.122}
