"""Every real SPSS and 问卷星/金数据 file of ../shared/realworld through the readers.

Checked against each file's own metadata (pyreadstat ``metadataonly``) and cells (openpyxl):
every file reads, or gives a GovsurveyError that names a real problem of the file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

import govsurvey as gs

REAL = Path(__file__).resolve().parents[2] / "shared" / "realworld"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"the real-world corpus is not at {REAL} (CI has it)")

SAV = sorted((REAL / "sav").glob("*.*sav")) if REAL.is_dir() else []
WJX = sorted((REAL / "wjx").glob("*.xlsx")) if REAL.is_dir() else []
PARENTING = REAL / "wjx" / "windstation__234274756_2_parenting_245_245.xlsx"
JINSHUJU = REAL / "wjx" / "windstation__test_questionnaire1.xlsx"


def _inst(folder: str, name: str) -> gs.Instrument:
    return gs.load_instrument(REAL / folder / "instruments" / f"{name}.yaml")


def _quiet_read(*args, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        return gs.read_responses(*args, **kwargs)


# ------------------------------------------------------------------ every .sav, no instrument
@pytest.mark.parametrize("path", SAV, ids=lambda p: p.name)
def test_every_sav_reads_against_its_own_metadata(path):
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True, user_missing=True)
    df = _quiet_read(path)
    info = df.attrs["govsurvey"]
    id_col = info["id_column"]
    assert set(df.columns) - {"_seconds", "_submitted", "_ip"} == set(meta.column_names) - {id_col}
    if meta.number_rows is not None:
        assert df.shape[0] == meta.number_rows
    declared = {c: len(r) for c, r in (meta.missing_ranges or {}).items()}
    assert {c: len(v["values"]) + len(v["ranges"]) for c, v in info["user_missing"].items()} == declared
    if id_col is not None:
        labels = dict(zip(meta.column_names, meta.column_labels))
        assert id_col.lower() in gs.data.readers.ID_NAMES or str(labels[id_col]).lower() in gs.data.readers.ID_NAMES
        assert df.index.is_unique
    else:
        assert any("No respondent id column" in n for n in info["notes"])
    assert (info["time_column"] is None) == ("_seconds" not in df.columns)


def test_user_missing_values_and_ranges_are_reported_and_missing():
    df = _quiet_read(REAL / "sav" / "savreaderwriter__spssio_test.sav")
    um = df.attrs["govsurvey"]["user_missing"]
    assert um["Income3"]["values"] == [999.0, 888.0, 777.0]
    assert um["Age"]["ranges"] == [[0.0, 18.0]]
    assert um["aShortStringVar"]["values"] == ["x", "y"]
    assert not df["Age"].between(0, 18).any()


def test_out_of_range_date_is_missing_with_a_warning_naming_the_cell():
    with pytest.warns(gs.DataWarning, match=r"date\.posix row 1"):
        df = gs.read_responses(REAL / "sav" / "haven__datetime.sav")
    assert pd.isna(df["date.posix"].iloc[0]) and df["date.posix"].iloc[1] == pd.Timestamp("2014-09-23 15:59:20")
    assert str(df["date"].iloc[0]) == "2014-09-22"


# ------------------------------------------------------------------ .sav with their instruments
def test_string_variable_with_value_labels_reads_through_its_labels():
    df = _quiet_read(REAL / "sav" / "savreaderwriter__Employee_data.sav", _inst("sav", "employee_data"))
    raw, _ = pyreadstat.read_sav(str(REAL / "sav" / "savreaderwriter__Employee_data.sav"))
    assert df.attrs["govsurvey"]["id_column"] == "ID"
    assert df.index.tolist() == raw["ID"].astype(int).tolist()
    assert df["GENDER"].tolist() == raw["GENDER"].map({"f": 1.0, "m": 2.0}).tolist()


def test_wenjuanxing_spss_download_is_recognised_by_its_variable_labels():
    path = REAL / "sav" / "meoweggs__data0.sav"
    raw, _ = pyreadstat.read_sav(str(path))
    df = _quiet_read(path, _inst("sav", "meoweggs_data0"))
    info = df.attrs["govsurvey"]
    assert info["wenjuanxing"] and info["id_column"] == "index" and info["time_column"] == "totalseconds"
    assert df.index.tolist() == raw["index"].astype(int).tolist()
    np.testing.assert_array_equal(df["_seconds"].to_numpy(), raw["totalseconds"].astype(float).to_numpy())
    assert df["Q6_Row1"].tolist() == raw["Q6_Row1"].tolist()
    assert not info["missing_questions"]


def test_text_question_from_sav_gets_the_label_not_the_code(tmp_path):
    spec = tmp_path / "q1.yaml"
    spec.write_text("format: 1\nname: q1\nversion: '1'\nlanguages: [zh]\ntitle: {zh: t}\n"
                    "demographics:\n- id: sex\n  type: text\n  text: {zh: 'A01.请问您的性别是? (单选)'}\n", encoding="utf-8")
    path = REAL / "sav" / "meoweggs__data0.sav"
    raw, meta = pyreadstat.read_sav(str(path))
    df = _quiet_read(path, gs.load_instrument(spec))
    assert df["sex"].tolist() == [meta.variable_value_labels["Q1"][v] for v in raw["Q1"]]


def test_columns_matched_by_spss_label():
    df = _quiet_read(REAL / "sav" / "chunpeng__Logistic.sav", _inst("sav", "chunpeng_logistic"))
    assert {"heart", "sex", "years", "cholesterol"} <= set(df.columns)


def test_reversed_codes_are_refused_naming_the_variable():
    with pytest.raises(gs.DataValidationError, match=r"'mylabl'.*1\.0='Male' \(instrument: 2\).*Fix:"):
        _quiet_read(REAL / "sav" / "pyreadstat__sample.sav", _inst("sav", "sample_reversed"))


# ------------------------------------------------------------------ 问卷星 / 金数据
@pytest.mark.parametrize("path", WJX, ids=lambda p: p.name)
def test_every_wjx_export_reads_against_its_cells(path):
    rows = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    header = [h for h in rows[0] if h is not None]
    body = [r for r in rows[1:] if any(v is not None for v in r)]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        with pytest.raises(gs.DataFormatError, match="repeated column headers: " + repeated[0]):
            gs.read_responses(path)
        with pytest.warns(gs.DataWarning, match=repeated[0]):
            df = gs.read_responses(path, allow_repeated=True)
        assert f"{repeated[0]}.1" in df.columns
    else:
        df = _quiet_read(path)
    assert df.shape[0] == len(body)
    assert df.attrs["govsurvey"]["id_column"] == "序号"
    assert df.index.tolist() == [r[0] for r in body]


def test_jinshuju_time_column_is_read_in_seconds():
    df = _quiet_read(JINSHUJU, allow_repeated=True)
    cells = list(openpyxl.load_workbook(JINSHUJU, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert df.attrs["govsurvey"]["time_column"] == "测评时长"
    assert cells[1][cells[0].index("测评时长")] == "1分" and df["_seconds"].iloc[0] == 60.0


def test_parenting_export_with_age_as_text():
    df = _quiet_read(PARENTING, _inst("wjx", "wjx_parenting_age_text"))
    info = df.attrs["govsurvey"]
    assert info["time_column"] == "所用时间" and df["_seconds"].iloc[0] == 137.0
    # two questions whose texts differ by one comma: each header goes to its own question
    assert info["matched"]["52、我给孩子制定了许多规则，并要求他/她严格遵守"] == "P52"
    assert info["matched"]["53、我给孩子制定了许多规则并要求他/她严格遵守"] == "P53"
    assert not info["missing_questions"] and not info["unmatched_columns"] and "_quiz_total" in df.columns
    assert "45岁" in set(df["age"].dropna())


def test_parenting_export_with_age_as_integer_lists_what_is_no_number():
    with pytest.raises(gs.UnmappedAnswerError) as err:
        _quiet_read(PARENTING, _inst("wjx", "wjx_parenting"))
    msg = str(err.value)
    assert "2 answer(s) are not numbers" in msg and "'80r'" in msg and "'79′′′′'" in msg
    assert "'45岁'" not in msg and "'73年'" not in msg and "'44 岁'" not in msg
    assert "correct the cell to a number" in msg and "add the text as a label" not in msg


def test_parenting_ages_with_units_become_numbers():
    inst = _inst("wjx", "wjx_parenting")
    raw = pd.read_excel(PARENTING, dtype=object)
    age = "84、您的年龄："
    raw = raw[~raw[age].isin(["80r", "79′′′′"])]
    df = _quiet_read(raw, inst)
    by_id = dict(zip(raw["序号"], raw[age]))
    got = {by_id[r]: df.loc[r, "age"] for r in df.index if isinstance(by_id[r], str)}
    assert got == {"44 岁": 44.0, "45岁": 45.0, "38岁": 38.0, "73年": 73.0}
    assert df.attrs["govsurvey"]["number_units"]["age"]["answers"] == 4


# ------------------------------------------------------------------ rules on small inputs
def test_units_full_width_digits_and_skip_texts(tmp_path):
    spec = tmp_path / "u.yaml"
    spec.write_text("format: 1\nname: u\nversion: '1'\nlanguages: [zh]\ntitle: {zh: t}\n"
                    "demographics:\n- id: n\n  type: integer\n  text: {zh: 人数}\n"
                    "- id: note\n  type: text\n  text: {zh: 建议}\n", encoding="utf-8")
    inst = gs.load_instrument(spec)
    frame = pd.DataFrame({"人数": ["３人", " 12 次", "(空)", "5元", "2小时"], "建议": ["好", "(空)", "（跳过）", 4.0, None]})
    df = _quiet_read(frame, inst)
    assert df["n"].tolist()[:2] == [3.0, 12.0] and np.isnan(df["n"].iloc[2]) and df["n"].tolist()[3:] == [5.0, 2.0]
    assert df["note"].tolist() == ["好", pd.NA, pd.NA, "4", pd.NA]
    assert frame["人数"].tolist()[0] == "３人"  # input untouched


def test_repeated_csv_header_is_an_error_or_kept_with_a_warning(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,q,q\n1,2,3\n", encoding="utf-8")
    with pytest.raises(gs.DataFormatError, match="repeated column headers: q.*allow_repeated=True"):
        gs.read_responses(path)
    with pytest.warns(gs.DataWarning, match="q"):
        df = gs.read_responses(path, allow_repeated=True)
    assert list(df.columns) == ["q", "q.1"] and df.index.tolist() == [1]


def test_id_by_name_seq_and_no_id_is_said(tmp_path):
    df = _quiet_read(pd.DataFrame({"seq": [10, 11], "a": [1, 2]}))
    assert df.attrs["govsurvey"]["id_column"] == "seq" and df.index.tolist() == [10, 11]
    df = _quiet_read(pd.DataFrame({"a": [1, 2]}))
    assert df.attrs["govsurvey"]["id_column"] is None
    assert any("numbered 1..2" in n for n in df.attrs["govsurvey"]["notes"])


# ------------------------------------------------------------------ the bundled example study
@pytest.mark.slow
def test_example_study_excludes_the_same_respondents_from_xlsx_csv_and_sav():
    inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    files = gs.datasets.example_files()
    excluded = {}
    for key in ("xlsx", "csv", "sav"):
        data = _quiet_read(files[key], inst)
        assert data.attrs["govsurvey"]["time_column"] is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gs.DataWarning)
            excluded[key] = sorted(gs.screen(data, inst).excluded.index)
    assert excluded["xlsx"] == excluded["csv"] == excluded["sav"]
    assert len(excluded["xlsx"]) == 40
