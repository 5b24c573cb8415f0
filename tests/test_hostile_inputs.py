"""Hostile inputs to the readers and writers (issue 14, "nothing lost, nothing leaked").

Answers that could silently get the wrong code, cells that a spreadsheet would run as
formulas, small files that would exhaust memory or time, and ids that overflow int64.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.data import checks
from govsurvey.data.writers import (
    QuestionBlock,
    neutralise_cells,
    restore_cell,
    safe_cell,
    write_wenjuanxing,
)

# ---------------------------------------------------------------- 1. labels before numbers

TIMES = """
name: times
version: "1"
languages: [zh]
title: {zh: 次数}
scales:
  agree5:
    type: likert
    min: 1
    max: 5
    labels:
      zh: {1: 非常不同意, 2: 不同意, 3: 一般, 4: 同意, 5: 非常同意}
  times:
    type: ordinal
    min: 1
    max: 4
    labels:
      zh: {1: "0", 2: "1", 3: "2", 4: "3次及以上"}
constructs:
  a:
    label: {zh: 甲}
    scale: agree5
    items:
      - {id: A1, text: {zh: 题一}}
demographics:
  - {id: visits, type: select_one, scale: times, text: {zh: 就诊次数}}
"""


@pytest.fixture
def times(write_yaml) -> gs.Instrument:
    return gs.load_instrument(write_yaml(TIMES))


def test_number_labels_are_read_as_labels_when_the_column_has_option_text(times):
    df = gs.read_responses(pd.DataFrame({"就诊次数": ["0", "1", "2", "3次及以上", "1"]}), times)
    assert df["visits"].tolist() == [1.0, 2.0, 3.0, 4.0, 2.0]
    assert df.attrs["govsurvey"]["number_answers"]["visits"]["read_as"] == "labels"


def test_number_labels_are_read_as_codes_when_the_column_has_option_numbers(times):
    df = gs.read_responses(pd.DataFrame({"就诊次数": [1, 2, 4, 3, 1]}), times)
    assert df["visits"].tolist() == [1.0, 2.0, 4.0, 3.0, 1.0]
    assert df.attrs["govsurvey"]["number_answers"]["visits"]["read_as"] == "codes"


def test_an_ambiguous_column_is_an_error_not_a_guess(times):
    frame = pd.DataFrame({"就诊次数": ["1", "2", "1"]})
    with pytest.raises(gs.DataValidationError, match=r"visits.*could be option text or option numbers.*Fix: pass answers="):
        gs.read_responses(frame, times)
    assert gs.read_responses(frame, times, answers="labels")["visits"].tolist() == [2.0, 3.0, 2.0]
    assert gs.read_responses(frame, times, answers={"visits": "codes"})["visits"].tolist() == [1.0, 2.0, 1.0]
    with pytest.raises(gs.SpecificationError, match="answers="):
        gs.read_responses(frame, times, answers="guess")


def test_the_files_other_columns_decide_and_say_so(times, caplog):
    frame = pd.DataFrame({"题一": ["非常同意", "一般", "同意"], "就诊次数": ["1", "2", "1"]})
    with caplog.at_level(logging.WARNING, logger="govsurvey.data.readers"):
        df = gs.read_responses(frame, times)
    assert df["visits"].tolist() == [2.0, 3.0, 2.0]
    assert "visits" in caplog.text and "option text" in caplog.text
    codes = pd.DataFrame({"题一": [5, 3, 4], "就诊次数": ["1", "2", "1"]})
    assert gs.read_responses(codes, times)["visits"].tolist() == [1.0, 2.0, 1.0]


def test_a_column_with_both_kinds_of_evidence_is_an_error(times):
    frame = pd.DataFrame({"就诊次数": ["0", "4", "1"]})  # 0 is only a label, 4 only a code
    with pytest.raises(gs.DataValidationError, match=r"visits.*both.*'0'.*4"):
        gs.read_responses(frame, times)


def test_wenjuanxing_number_layout_round_trips_with_number_labels(times, tmp_path):
    data = pd.DataFrame({"A1": [5.0, 3.0, 1.0], "visits": [2.0, 1.0, 4.0], "_seconds": [60.0, 70.0, 80.0]},
                        index=pd.Index([1, 2, 3]))
    blocks = [QuestionBlock(1, ("A1",)), QuestionBlock(2, ("visits",))]
    for layout in ("text", "number"):
        path = write_wenjuanxing(data, times, tmp_path / f"{layout}.xlsx", blocks, layout=layout)
        back = gs.read_responses(path, times)
        assert back["visits"].tolist() == [2.0, 1.0, 4.0], layout


def test_labels_that_collide_after_normalising_are_an_instrument_error(write_yaml):
    body = TIMES.replace('{1: "0", 2: "1", 3: "2", 4: "3次及以上"}', '{1: "0次", 2: "1-2次", 3: "12次", 4: "13次及以上"}')
    with pytest.raises(gs.InstrumentError, match=r"times.*'1-2次'.*'12次'.*line \d+") as info:
        gs.load_instrument(write_yaml(body))
    assert "Fix:" in str(info.value)


def test_exact_label_wins_and_normalised_match_only_when_unambiguous(write_yaml):
    body = TIMES.replace('{1: "0", 2: "1", 3: "2", 4: "3次及以上"}', '{1: "0次", 2: "1-2次", 3: "3-5次", 4: "6次及以上"}')
    inst = gs.load_instrument(write_yaml(body))
    df = gs.read_responses(pd.DataFrame({"就诊次数": ["1－2次", "3 - 5 次", "6次及以上", "0次"]}), inst)
    assert df["visits"].tolist() == [2.0, 3.0, 4.0, 1.0]


def test_a_scale_built_in_code_with_colliding_labels_reads_exact_labels_only():
    from govsurvey.instrument.model import Scale

    sc = Scale(name="s", type="nominal", labels={"zh": {1: "1-2次", 2: "12次"}})
    exact, normalised, _ = sc.label_lookup()
    assert exact["1-2次"] == 1 and exact["12次"] == 2
    assert "12次" not in normalised  # ambiguous after normalising: only exact matches count


# ---------------------------------------------------------------- 2. formula injection


@pytest.mark.parametrize("value, expected", [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'=x", "''=x"), ("abc", "abc"), ("", ""), (-3, -3), (1.5, 1.5), (None, None),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
    assert restore_cell(safe_cell(value)) == value


def test_neutralise_cells_covers_index_and_headers_and_leaves_the_input():
    frame = pd.DataFrame({"=bad": ["=HYPERLINK(\"http://x\")", "ok"], "n": [-1, 2]},
                         index=pd.Index(["@id", "2"], name="respondent"))
    before = frame.copy()
    out = neutralise_cells(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == ["'=bad", "n"]
    assert out.index.tolist() == ["'@id", "2"] and out.index.name == "respondent"
    assert out["'=bad"].tolist() == ["'=HYPERLINK(\"http://x\")", "ok"]
    assert out["n"].tolist() == [-1, 2]


def test_wenjuanxing_writer_neutralises_ids_and_text(write_yaml, tmp_path):
    from instrument_texts import MINIMAL

    body = MINIMAL.replace("demographics:\n", "demographics:\n  - {id: note, type: text, text: {zh: 备注, en: Note}}\n")
    inst = gs.load_instrument(write_yaml(body))
    data = pd.DataFrame({"note": ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd"], "A1": [1.0, 2.0]},
                        index=pd.Index(["=1+1", "-2"]))
    blocks = [QuestionBlock(1, ("A1",)), QuestionBlock(2, ("note",))]
    path = write_wenjuanxing(data, inst, tmp_path / "w.csv", blocks)
    text = path.read_text(encoding="utf-8-sig")
    assert "\n'=1+1," in text and "\n'-2," in text and "'=HYPERLINK" in text and "'+cmd" in text
    xlsx = write_wenjuanxing(data, inst, tmp_path / "w.xlsx", blocks)
    ws = openpyxl.load_workbook(xlsx).active
    kinds = {c.data_type for row in ws.iter_rows() for c in row if c.value is not None}
    assert "f" not in kinds


def test_xlsform_writes_no_live_formula_and_reads_the_text_back(write_yaml, tmp_path):
    from instrument_texts import MINIMAL

    evil = '=HYPERLINK("http://evil.example","点我")'
    inst = gs.load_instrument(write_yaml(MINIMAL.replace("{zh: 题一, en: Item one}", "{zh: '" + evil + "', en: '+Item one'}")))
    path = inst.to_xlsform(tmp_path / "form.xlsx")
    wb = openpyxl.load_workbook(path)
    formulas = [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    back = gs.load_instrument(path)
    assert back.question("A1").text == {"zh": evil, "en": "+Item one"}


# ---------------------------------------------------------------- 3. resource bombs


def _bounded(call, seconds: float = 10.0):
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it takes too long."""
    box: dict = {}

    def run():
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_at_once(tmp_path, times):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    with pytest.raises(gs.DataFormatError, match=r"not a regular file.*FIFO.*Fix:"):
        _bounded(lambda: gs.read_responses(fifo, times))
    with pytest.raises(gs.DataFormatError, match="not a regular file"):
        _bounded(lambda: gs.data.moments_from_file(fifo, ["a"]))
    yaml_fifo = tmp_path / "fifo.yaml"
    os.mkfifo(yaml_fifo)
    with pytest.raises(gs.InstrumentError, match="not a regular file"):
        _bounded(lambda: gs.load_instrument(yaml_fifo))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_refused(tmp_path, times):
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    with pytest.raises(gs.DataFormatError, match=r"not a regular file.*device"):
        _bounded(lambda: gs.read_responses(link, times))
    with pytest.raises(gs.DataFormatError, match="not a regular file"):
        _bounded(lambda: gs.data.read_table(link))


def test_a_folder_is_refused(tmp_path, times):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(gs.DataFormatError, match="folder"):
        gs.read_responses(tmp_path / "d.csv", times)
    with pytest.raises(gs.DataFormatError, match="folder"):
        gs.data.read_table(tmp_path / "d.csv")


_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         '</Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
       '<sheet name="survey" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '</Relationships>')


def _xlsx(path: Path, cells: str) -> Path:
    """A minimal workbook whose one sheet holds ``cells`` (row XML), built with zipfile."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData>{cells}</sheetData></worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_a_small_xlsx_is_read_by_the_minimal_builder(tmp_path, times):
    path = _xlsx(tmp_path / "ok.xlsx", '<row r="1">' + _inline("A1", "就诊次数") + '</row><row r="2">' + _inline("A2", "3次及以上") + "</row>")
    assert gs.read_responses(path, times)["visits"].tolist() == [4.0]


def test_an_xlsx_with_a_huge_cell_is_refused_before_loading(tmp_path, times):
    big = "x" * (checks.MAX_CELL_CHARS + 10)
    path = _xlsx(tmp_path / "bomb.xlsx", '<row r="1">' + _inline("A1", "就诊次数") + '</row><row r="2">' + _inline("A2", big) + "</row>")
    assert path.stat().st_size < 100_000
    with pytest.raises(gs.DataFormatError, match=r"A2.*more than 1,000,000 characters.*MAX_CELL_CHARS") as info:
        _bounded(lambda: gs.read_responses(path, times))
    assert "Fix:" in str(info.value)
    with pytest.raises(gs.InstrumentError, match="MAX_CELL_CHARS"):
        _bounded(lambda: gs.load_instrument(path))


def test_an_xlsx_whose_sheet_unpacks_too_large_is_refused_unread(tmp_path, times, monkeypatch):
    monkeypatch.setattr(checks, "MAX_XLSX_PART_BYTES", 1_000_000)
    rows = "".join(f'<row r="{k}">' + _inline(f"A{k}", "1") + "</row>" for k in range(1, 30_001))
    path = _xlsx(tmp_path / "big.xlsx", rows)
    with pytest.raises(gs.DataFormatError, match=r"xl/worksheets/sheet1.xml unpacks to [\d,]+ bytes.*MAX_XLSX_PART_BYTES.*Fix:"):
        gs.read_responses(path, times)


def test_an_xlsx_with_a_cell_beyond_the_column_limit_is_refused(tmp_path, times):
    path = _xlsx(tmp_path / "wide.xlsx", '<row r="1">' + _inline("A1", "x") + _inline("ZZZZ1", "y") + "</row>")
    with pytest.raises(gs.DataFormatError, match=r"column.*MAX_COLUMNS"):
        gs.read_responses(path, times)


def test_an_xlsx_with_a_doctype_is_refused(tmp_path, times):
    path = tmp_path / "dtd.xlsx"
    _xlsx(path, "")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/sharedStrings.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><sst><si><t>&a;</t></si></sst>')
    with pytest.raises(gs.DataFormatError, match="DTD"):
        gs.read_responses(path, times)


def test_a_csv_with_a_million_columns_is_refused_from_its_header(tmp_path, times):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{k}" for k in range(1_000_000)) + "\n" + ",".join("1" for _ in range(1_000_000)) + "\n")
    start = time.perf_counter()
    with pytest.raises(gs.DataFormatError, match=r"1,000,000 columns.*MAX_COLUMNS.*Fix:"):
        gs.read_responses(path, times)
    assert time.perf_counter() - start < 5


def test_headers_that_collide_after_stripping_are_found_in_linear_time(tmp_path, times):
    path = tmp_path / "dups.csv"
    heads = [f"{' ' * (k % 2)}h{k // 2}" for k in range(19_000)]  # 'h0', ' h0', 'h1', ' h1', ...
    path.write_text(",".join(heads) + "\n" + ",".join("1" for _ in heads) + "\n")
    start = time.perf_counter()
    with pytest.raises(gs.DataFormatError, match=r"repeated column headers: h0, h1.*and 9495 more"):
        gs.read_responses(path, times)
    assert time.perf_counter() - start < 5


# ---------------------------------------------------------------- 4. long ids


@pytest.mark.parametrize("column", ["id", "序号"])
def test_ids_beyond_int64_stay_text(tmp_path, times, column):
    ids = ["12345678901234567890", "18446744073709551615", "9223372036854775808"]
    frame = pd.DataFrame({column: ids, "所用时间": ["1秒"] * 3, "就诊次数": ["3次及以上"] * 3})
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    df = gs.read_responses(path, times)
    assert df.index.tolist() == ids


def test_long_ids_within_int64_are_exact(times):
    ids = ["123456789012345678", "123456789012345679"]  # equal as float64
    df = gs.read_responses(pd.DataFrame({"id": ids, "就诊次数": ["0", "0"]}), times)
    assert df.index.tolist() == [123456789012345678, 123456789012345679]
    assert df.index.dtype == np.int64


def test_uint64_ids_do_not_wrap(times):
    ids = np.array([2**63, 2**63 + 1], dtype=np.uint64)
    df = gs.read_responses(pd.DataFrame({"id": ids, "就诊次数": ["0", "0"]}), times)
    assert df.index.tolist() == [str(2**63), str(2**63 + 1)]


def test_wenjuanxing_response_number_is_an_id(times):
    frame = pd.DataFrame({"答卷编号": ["98765432109876543210", "98765432109876543211"], "所用时间": ["5秒", "6秒"],
                          "就诊次数": ["0", "1"]})
    df = gs.read_responses(frame, times)
    assert df.index.tolist() == ["98765432109876543210", "98765432109876543211"]
    assert df["visits"].tolist() == [1.0, 2.0]


@pytest.mark.slow
def test_a_small_xlsx_with_a_500_mb_cell_is_refused_within_10_s_and_1_gb(tmp_path):
    """The original bomb: a ~0.5 MB workbook whose one inline cell unpacks to 500 MB (it aborted
    the process with std::bad_alloc). Read in a fresh interpreter, measured: < 10 s, < 1 GB."""
    import subprocess
    import sys

    path = tmp_path / "bomb.xlsx"
    _xlsx(path, "")
    head = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("xl/workbook.xml", _WB),
                           ("xl/_rels/workbook.xml.rels", _WB_RELS)):
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            block = b"x" * (1 << 20)
            for _ in range(500):
                sheet.write(block)
            sheet.write(b"</t></is></c></row></sheetData></worksheet>")
    assert path.stat().st_size < 2_000_000
    code = ("import govsurvey as gs, resource, sys\n"
            "try:\n    gs.read_responses(sys.argv[1])\nexcept gs.GovsurveyError as exc:\n    print(type(exc).__name__, exc)\n"
            "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    peak_kb = int(run.stdout.rsplit("peak_kb", 1)[-1])
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("DataFormatError") and "Fix:" in run.stdout, run.stdout
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert peak_kb < 1_000_000, f"peak {peak_kb / 1e6:.2f} GB"
