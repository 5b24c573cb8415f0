"""Reading responses: formats, encodings, Wenjuanxing layouts, label mapping and bad data."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.data.wenjuanxing import parse_duration, parse_headers


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_three_formats_give_the_same_item_matrix(inst, files):
    """Acceptance: the Wenjuanxing xlsx (option text), the GBK CSV (option numbers) and the
    SPSS .sav (value labels, user-missing 99) are read into one identical item matrix."""
    before = {k: _sha(files[k]) for k in ("xlsx", "csv", "sav")}
    frames = {k: gs.read_responses(files[k], inst) for k in ("xlsx", "csv", "sav")}
    questions = [q.id for q in inst.questions]
    ref = frames["xlsx"][questions]
    assert ref.shape == (640, len(questions))
    for k in ("csv", "sav"):
        pd.testing.assert_frame_equal(frames[k][questions], ref, check_dtype=True)
    assert frames["csv"].attrs["govsurvey"]["encoding"] in ("gb18030", "gbk")
    assert frames["xlsx"].attrs["govsurvey"]["wenjuanxing"]
    assert not frames["xlsx"].attrs["govsurvey"]["unmatched_columns"]
    assert {k: _sha(files[k]) for k in before} == before  # inputs untouched


def test_example_matches_the_simulator_exactly(inst, xlsx_data):
    study = gs.datasets.simulate_study()
    sim = study["responses"]
    questions = [q.id for q in inst.questions]
    expected = sim[questions].copy()
    expected.index = expected.index.rename("respondent")
    got = xlsx_data[questions]
    for q in questions:
        if inst.scale_of(q).type == "text":
            assert got[q].tolist() == expected[q].astype("string").tolist()
        else:
            np.testing.assert_array_equal(got[q].to_numpy(), expected[q].to_numpy(dtype=float))
    np.testing.assert_array_equal(xlsx_data["_seconds"].to_numpy(), sim["_seconds"].to_numpy())


def test_missing_answers_become_nan_in_every_format(inst, files, truth):
    xlsx = gs.read_responses(files["xlsx"], inst)
    n_missing = int(xlsx[[i.id for i in inst.items]].isna().sum().sum())
    assert n_missing > 0  # the simulator plants sparse non-response: (空) / -3 / user-missing 99
    for k in ("csv", "sav"):
        other = gs.read_responses(files[k], inst)
        assert int(other[[i.id for i in inst.items]].isna().sum().sum()) == n_missing


def test_wenjuanxing_meta_columns(xlsx_data):
    assert xlsx_data.index.name == "respondent"
    assert xlsx_data.index[0] == 1
    assert xlsx_data["_seconds"].dtype == float
    assert pd.api.types.is_datetime64_any_dtype(xlsx_data["_submitted"])
    assert xlsx_data["_ip"].notna().all()


@pytest.mark.parametrize(
    "value, seconds",
    [("425秒", 425.0), ("7分5秒", 425.0), ("1小时2分", 3720.0), (" 90 ", 90.0), (12, 12.0), ("", np.nan), ("abc", np.nan)],
)
def test_parse_duration(value, seconds):
    got = parse_duration(value)
    assert (np.isnan(got) and np.isnan(seconds)) or got == seconds


def test_wenjuanxing_header_styles():
    heads = parse_headers(["序号", "所用时间", "1、您的性别：", "2、题干—第一行", "2、第二行", "第三行",
                           "3、(另一题干)—甲", "3、(另一题干)—乙"])
    by = {h.column: h for h in heads}
    assert by["1、您的性别："].number == 1 and "您的性别：" in by["1、您的性别："].candidates
    assert by["2、题干—第一行"].candidates[0] == "第一行"
    assert by["2、第二行"].number == 2 and "第二行" in by["2、第二行"].candidates
    assert by["第三行"].number == 2 and by["第三行"].group_size == 3
    assert by["3、(另一题干)—乙"].candidates[0] == "乙"


def _small_frame(inst):
    return pd.DataFrame({
        "序号": [1, 2, 3],
        "提交答卷时间": ["2026/5/1 10:00:00", "2026/5/1 10:05:00", "2026/5/1 10:09:00"],
        "所用时间": ["300秒", "280秒", "35秒"],
        "1、您的性别：": ["男", "女", "女"],
        "2、请评价—本社区制定了针对突发公共卫生事件的应急预案": ["非常同意", "比较同意", "一般"],
        "社区应急预案明确了各方职责分工和处置流程": ["比较同意", "(跳过)", "非常不同意"],
    })


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(inst, tmp_path, encoding):
    path = tmp_path / "wjx.csv"
    path.write_bytes(_small_frame(inst).to_csv(index=False).encode(encoding))
    df = gs.read_responses(path, inst)
    assert df["gender"].tolist() == [1.0, 2.0, 2.0]
    assert df["PL1"].tolist() == [5.0, 4.0, 3.0]
    assert df["PL2"].iloc[0] == 4.0 and np.isnan(df["PL2"].iloc[1])
    assert df["_seconds"].tolist() == [300.0, 280.0, 35.0]


def test_wrong_encoding_is_named(inst, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(_small_frame(inst).to_csv(index=False).encode("gbk"))
    with pytest.raises(gs.EncodingDetectionError, match=r"is not valid utf-8 .*decodes as gb18030.*Fix: pass encoding='gb18030'"):
        gs.read_responses(path, inst, encoding="utf-8")
    with pytest.raises(gs.EncodingDetectionError, match="not an encoding Python knows"):
        gs.read_responses(path, inst, encoding="klingon")


def test_binary_file_is_not_text(inst, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes([0x80, 0xFF, 0x00, 0x81, 0x0A]) * 50)
    with pytest.raises(gs.EncodingDetectionError, match="not UTF-8, GBK or GB18030.*Fix: re-save it as UTF-8"):
        gs.read_responses(path, inst)


def test_text_that_maps_to_no_label_is_listed(inst, tmp_path):
    frame = _small_frame(inst)
    frame.loc[1, "2、请评价—本社区制定了针对突发公共卫生事件的应急预案"] = "很同意"
    frame.loc[2, "1、您的性别："] = "其他"
    path = tmp_path / "bad.xlsx"
    frame.to_excel(path, index=False)
    with pytest.raises(gs.UnmappedAnswerError) as info:
        gs.read_responses(path, inst)
    msg = str(info.value)
    assert "2 answer text(s) match no label" in msg
    assert "PL1" in msg and "'很同意'" in msg and "gender" in msg and "'其他'" in msg
    assert "Fix: add the text as a label of scale(s)" in msg


def test_option_with_fill_in_maps_to_the_option(write_yaml):
    from instrument_texts import MINIMAL

    body = MINIMAL.replace("zh: {1: 男, 2: 女}", "zh: {1: 男, 2: 女, 3: 其他}").replace("en: {1: Male, 2: Female}", "en: {1: Male, 2: Female, 3: Other}")
    inst = gs.load_instrument(write_yaml(body))
    df = gs.read_responses(pd.DataFrame({"性别": ["男", "其他〖不愿透露〗"]}), inst)
    assert df["gender"].tolist() == [1.0, 3.0]


def test_unknown_columns_and_mapping(inst, tmp_path):
    frame = _small_frame(inst)
    frame["您对社区工作有何建议"] = ["无", "多宣传", ""]
    df = gs.read_responses(frame, inst)
    assert df.attrs["govsurvey"]["unmatched_columns"] == ["您对社区工作有何建议"]
    assert "您对社区工作有何建议" in df.columns  # kept, not guessed
    with pytest.raises(gs.DataValidationError, match="1 column\\(s\\) match no question: 您对社区工作有何建议.*Fix: pass mapping="):
        gs.read_responses(frame, inst, strict=True)
    with pytest.raises(gs.UnknownItemError, match="mapping= names 1 column\\(s\\) not in the data: Q99"):
        gs.read_responses(frame, inst, mapping={"Q99": "PL1"})
    with pytest.raises(gs.UnknownItemError, match="question id\\(s\\) not in instrument"):
        gs.read_responses(frame, inst, mapping={"您对社区工作有何建议": "XX9"})
    renamed = frame.rename(columns={"1、您的性别：": "sex"})
    df = gs.read_responses(renamed, inst, mapping={"sex": "gender"})
    assert df["gender"].tolist() == [1.0, 2.0, 2.0]


def test_out_of_range_codes_are_kept_for_screening_and_refused_by_scoring(inst):
    frame = pd.DataFrame({"id": [1, 2], "PL1": [5, 7], "PL2": [4, 4], "PL3": [3, 3], "PL4": [2, 0]})
    df = gs.read_responses(frame, inst)
    assert df["PL1"].tolist() == [5.0, 7.0]
    with pytest.raises(gs.OutOfRangeError, match=r"2 value\(s\) lie outside.*PL1=7 \(respondent 2\).*Fix: run gs.screen"):
        gs.score(df, inst, constructs=["plans"])
    with pytest.raises(gs.OutOfRangeError):
        gs.reverse_code(df, inst)


def test_matching_by_id_is_case_insensitive_and_text_in_english(inst):
    frame = pd.DataFrame({"pl1": [1, 2], "The community regularly organises emergency drills for residents": [3, 4]})
    df = gs.read_responses(frame, inst)
    assert df["PL1"].tolist() == [1.0, 2.0] and df["PL3"].tolist() == [3.0, 4.0]
    assert df.index.tolist() == [1, 2]


def test_other_formats_round_trip(inst, xlsx_data, tmp_path):
    q = ["PL1", "PL2", "RS4", "gender", "site"]
    sub = xlsx_data[q].head(50)
    sub.reset_index().to_parquet(tmp_path / "d.parquet")
    sub.reset_index().to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    import pyreadstat

    stata = sub.reset_index().rename(columns={"respondent": "id"})
    stata["site"] = stata["site"].astype(str)
    pyreadstat.write_dta(stata, str(tmp_path / "d.dta"))
    for name in ("d.parquet", "d.tsv", "d.dta"):
        back = gs.read_responses(tmp_path / name, inst)
        pd.testing.assert_frame_equal(back[q], sub, check_dtype=False, check_index_type=False)


def test_spss_value_labels_that_disagree_are_refused(inst, tmp_path):
    import pyreadstat

    df = pd.DataFrame({"id": [1.0, 2.0], "PL1": [1.0, 5.0]})
    path = tmp_path / "reversed.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={"PL1": {1.0: "非常同意", 5.0: "非常不同意"}})
    with pytest.raises(gs.DataValidationError, match=r"codes its labels differently from scale 'agree5'.*Fix: recode"):
        gs.read_responses(path, inst)


def test_bad_files_and_ids(inst, tmp_path):
    with pytest.raises(gs.InputFileNotFoundError, match="does not exist"):
        gs.read_responses(tmp_path / "none.csv", inst)
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(gs.DataFormatError, match="not supported"):
        gs.read_responses(tmp_path / "x.pdf", inst)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(gs.DataFormatError, match="not a readable .xlsx"):
        gs.read_responses(tmp_path / "broken.xlsx", inst)
    (tmp_path / "broken.sav").write_bytes(b"garbage")
    with pytest.raises(gs.DataFormatError, match="not a readable .sav"):
        gs.read_responses(tmp_path / "broken.sav", inst)
    with pytest.raises(gs.DataValidationError, match="repeats ids: 1"):
        gs.read_responses(pd.DataFrame({"id": [1, 1], "PL1": [1, 2]}), inst)
    with pytest.raises(gs.UnknownItemError, match="id_column='who'"):
        gs.read_responses(pd.DataFrame({"id": [1, 2], "PL1": [1, 2]}), inst, id_column="who")
    with pytest.raises(gs.DataValidationError, match="no rows"):
        gs.read_responses(pd.DataFrame({"PL1": []}), inst)


def test_dataframe_source_is_not_modified(inst):
    frame = _small_frame(inst)
    copy = frame.copy()
    gs.read_responses(frame, inst)
    pd.testing.assert_frame_equal(frame, copy)


def test_ambiguous_text_needs_a_mapping(write_yaml):
    from instrument_texts import MINIMAL

    body = MINIMAL.replace("{id: A2, text: {zh: 题二, en: Item two}}", "{id: A2, text: {zh: 题一, en: Item one again}}")
    inst = gs.load_instrument(write_yaml(body))
    with pytest.raises(gs.DataValidationError, match="matches several questions by text \\(A1, A2\\)"):
        gs.read_responses(pd.DataFrame({"题一": [1, 2]}), inst)
