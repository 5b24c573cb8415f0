"""Issue 14, "Nothing lost, nothing leaked": interviewees' names by every route, strict
codebook/cases parsing and hostile .qdpx archives.

The privacy tests build interviews that carry all six routes by which names leaked — names as
case labels, a source file and a document named after a person, a ``真实姓名`` column, an
``identifying=`` given as a string, a code memo naming a person, and text with 何书记 /
何 秀英 / 秀英 — and scan every output for every form of every name."""

from __future__ import annotations

import json
import os
import struct
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import govsurvey as gs

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

# every form that must not survive: names, their other forms, a phone number and an address
SECRETS = ["何秀英", "秀英", "何书记", "何 秀英", "张建国", "建国", "张主任", "王丽", "王阿姨", "13812345678", "幸福路12号"]
T1 = "受访者：何秀英。何书记说物资不够。何 秀英补充：秀英也觉得口罩不够。"
T2 = "张建国说：预案都是纸上的。建国说演练走过场。张主任也这么看。"
T3 = "王阿姨说：物资堆在活动室里，也没有台账。王丽还说，13812345678 是何秀英的电话。"

QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="t" origin="hostile">
  <Users><User guid="U1" name="coder_A"/><User guid="U2" name="coder_B"/></Users>
  <CodeBook><Codes>
    <Code guid="C1" name="物资储备不足" isCodable="true"><Description>何秀英最先提到; dimension: reserves; polarity: barrier</Description></Code>
    <Code guid="C2" name="预案流于形式" isCodable="true"><Description>见张建国的访谈; dimension: plans; polarity: barrier</Description></Code>
  </Codes></CodeBook>
  <Variables>
    <Variable guid="V1" name="真实姓名" typeOfVariable="Text"/><Variable guid="V2" name="role" typeOfVariable="Text"/>
    <Variable guid="V3" name="site" typeOfVariable="Text"/><Variable guid="V4" name="住处" typeOfVariable="Text"/>
    <Variable guid="V5" name="手机" typeOfVariable="Text"/>
  </Variables>
  <Cases>
    <Case guid="K1" name="何秀英">{K1}<SourceRef targetGUID="S1"/></Case>
    <Case guid="K2" name="I02 张建国">{K2}<SourceRef targetGUID="S2"/></Case>
    <Case guid="K3" name="王丽">{K3}<SourceRef targetGUID="S3"/></Case>
  </Cases>
  <Sources>
    <TextSource guid="S1" name="何秀英访谈记录.txt" plainTextPath="internal://S1.txt">{sel1}</TextSource>
    <TextSource guid="S2" name="I02 张建国"><PlainTextContent>{t2}</PlainTextContent>{sel2}</TextSource>
    <TextSource guid="S3" name="I03.txt" plainTextPath="internal://S3.txt">{sel3}
      <PlainTextSelection guid="X9" startPosition="0" endPosition="3" creatingUser="U1">
        <Coding guid="X9C" creatingUser="U1"><CodeRef targetGUID="NO-SUCH-CODE"/></Coding></PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""


def _values(**by_guid: str) -> str:
    return "".join(f'<VariableValue><VariableRef targetGUID="{g}"/><TextValue>{v}</TextValue></VariableValue>'
                   for g, v in by_guid.items())


def _selection(text: str, part: str, code: str, sel: str) -> str:
    start = text.index(part)
    out = f'<PlainTextSelection guid="{sel}" startPosition="{start}" endPosition="{start + len(part)}" creatingUser="U1">'
    for coder in ("U1", "U2"):
        out += f'<Coding guid="{sel}{coder}" creatingUser="{coder}"><CodeRef targetGUID="{code}"/></Coding>'
    return out + "</PlainTextSelection>"


def _qde() -> str:
    cases = {"{K1}": _values(V1="何秀英", V2="cadre", V3="建设社区", V4="幸福路12号", V5="13812345678"),
             "{K2}": _values(V1="张建国", V2="grid_worker", V3="花园社区"), "{K3}": _values(V2="resident", V3="花园社区")}
    text = QDE
    for k, v in cases.items():
        text = text.replace(k, v)
    return (text.replace("{t2}", T2)
            .replace("{sel1}", _selection(T1, "何书记说物资不够。何 秀英补充：秀英也觉得口罩不够", "C1", "T1"))
            .replace("{sel2}", _selection(T2, "张建国说：预案都是纸上的。建国说演练走过场。张主任也这么看", "C2", "T2"))
            .replace("{sel3}", _selection(T3, "王阿姨说：物资堆在活动室里，也没有台账。王丽还说，13812345678 是何秀英的电话", "C1", "T3")))


@pytest.fixture(scope="module")
def hostile_qdpx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("qdpx") / "何秀英等访谈.qdpx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", _qde().encode("utf-8"))
        zf.writestr("sources/S1.txt", T1.encode("utf-8"))
        zf.writestr("sources/S3.txt", T3.encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("csv")
    rows = []
    for source, case, text, part, code in [
        ("何秀英访谈记录.txt", "何秀英", T1, "何书记说物资不够。何 秀英补充：秀英也觉得口罩不够", "物资储备不足"),
        ("I02 张建国", "I02 张建国", T2, "张建国说：预案都是纸上的。建国说演练走过场。张主任也这么看", "预案流于形式"),
        ("I03.txt", "王丽", T3, "王阿姨说：物资堆在活动室里，也没有台账。王丽还说，13812345678 是何秀英的电话", "物资储备不足"),
    ]:
        start = text.index(part)
        rows += [{"source": source, "case": case, "coder": coder, "code": code, "start": start, "end": start + len(part),
                  "text": part} for coder in ("coder_A", "coder_B")]
    pd.DataFrame(rows).to_csv(folder / "segments.csv", index=False)
    pd.DataFrame({"code": ["物资储备不足", "预案流于形式"], "parent": ["", ""], "description": ["何秀英最先提到", "见张建国的访谈"],
                  "dimension": ["reserves", "plans"], "polarity": ["barrier", "barrier"]}).to_csv(folder / "codebook.csv", index=False)
    pd.DataFrame({"case": ["何秀英", "I02 张建国", "王丽"], "受访人": ["何秀英", "张建国", ""], "Interviewee name": ["何秀英", "", "王丽"],
                  "role": ["cadre", "grid_worker", "resident"], "site": ["建设社区", "花园社区", "花园社区"],
                  "住处": ["幸福路12号", "", ""], "手机": ["13812345678", "", ""]}).to_csv(folder / "cases.csv", index=False)
    return {"segments": folder / "segments.csv", "codebook": folder / "codebook.csv", "cases": folder / "cases.csv"}


def _read_both(hostile_qdpx, hostile_csv):
    with pytest.warns(gs.DataWarning, match="unknown code"):
        from_qdpx = gs.read_codes(hostile_qdpx, identifying="住处")
    from_csv = gs.read_codes(hostile_csv["segments"], codebook=hostile_csv["codebook"], cases=hostile_csv["cases"],
                             identifying="住处")
    return {"qdpx": from_qdpx, "csv": from_csv}


def _gaps() -> pd.DataFrame:
    return pd.DataFrame({"gap": [0.8, 0.3], "ci_low": [0.5, -0.1], "ci_high": [1.1, 0.7], "p": [0.001, 0.2],
                         "quadrant": ["concentrate here", "keep up"]}, index=pd.Index(["reserves", "plans"], name="dimension"))


def _leaks(blob: str) -> list[str]:
    return [s for s in SECRETS if s in blob]


def _dump(obj) -> str:
    return json.dumps(obj.to_dict(), ensure_ascii=False) + repr(obj) + obj.to_frame().to_csv()


def test_the_raw_input_does_carry_every_route(hostile_qdpx, hostile_csv):
    """Without pseudonymisation the names are there, so the scans below mean something."""
    raw = gs.read_codes(hostile_csv["segments"], codebook=hostile_csv["codebook"], cases=hostile_csv["cases"], pseudonymise=False)
    blob = raw.segments.to_csv() + raw.codebook.to_csv() + raw.cases.to_csv()
    assert set(_leaks(blob)) == set(SECRETS)
    with zipfile.ZipFile(hostile_qdpx) as zf:
        assert "何秀英访谈记录.txt" in zf.read("project.qde").decode("utf-8")


@pytest.mark.parametrize("variant", ["qdpx", "csv"])
def test_no_name_in_any_result(hostile_qdpx, hostile_csv, variant):
    codes = _read_both(hostile_qdpx, hostile_csv)[variant]
    assert codes.pseudonymised and not _leaks(codes.segments.to_csv() + codes.cases.to_csv() + codes.codebook.to_csv())
    assert "真实姓名" not in codes.cases.columns and "住处" not in codes.cases.columns and "手机" not in codes.cases.columns
    outputs = [_dump(codes), json.dumps(dict(codes.texts), ensure_ascii=False), codes.origin, " ".join(codes.warnings)]
    for by in ("case", "site"):
        outputs.append(gs.code_matrix(codes, by=by).to_csv())
    outputs += [gs.cooccurrence(codes).to_csv(), gs.cooccurrence(codes, unit="case").to_csv()]
    for code in list(codes.codebook["code"]) + ["reserves"]:
        outputs.append(gs.quotes(codes, code, n=5).to_csv())
        outputs.append(gs.quotes(codes, code, n=5, pseudonymise=False).to_csv())  # nothing left to reveal
    agreement = gs.intercoder_agreement(codes)
    outputs += [_dump(agreement), agreement.units.to_csv()]
    outputs.append(gs.joint_display(_gaps(), codes).to_csv())
    blob = "\n".join(outputs)
    assert not _leaks(blob), _leaks(blob)
    assert "社区干部-01" in blob and "网格员-01" in blob and "居民-01" in blob


def test_every_form_of_a_name_is_replaced(hostile_qdpx, hostile_csv):
    codes = _read_both(hostile_qdpx, hostile_csv)["qdpx"]
    text = " ".join(codes.segments["text"])
    assert "[社区干部-01]补充：[社区干部-01]也觉得" in text  # 何 秀英 and the given name 秀英
    assert "[姓名]" not in text or "何书记" not in text
    assert "[网格员-01]说：预案" in text and "[网格员-01]说演练" in text  # 张建国 and 建国
    assert "[居民-01]说：物资" in text  # 王阿姨: surname + title
    assert set(codes.codebook["description"]) == {"[社区干部-01]最先提到", "见[网格员-01]的访谈"}
    assert sorted(codes.segments["source"].unique()) == ["I02 网格员-01", "I03.txt", "社区干部-01访谈记录.txt"]
    assert codes.origin == "社区干部-01等访谈.qdpx"


def test_the_scrubbed_transcripts_keep_the_offsets(hostile_qdpx, hostile_csv):
    codes = _read_both(hostile_qdpx, hostile_csv)["qdpx"]
    for r in codes.segments.itertuples():
        assert codes.texts[r.source][r.start:r.end] == r.text


def test_identity_key_is_in_memory_and_written_only_when_asked(hostile_qdpx, hostile_csv, tmp_path):
    codes = _read_both(hostile_qdpx, hostile_csv)["qdpx"]
    key = codes.identity_key()
    assert key.loc["社区干部-01", "case"] == "何秀英" and key.loc["社区干部-01", "住处"] == "幸福路12号"
    assert key.loc["网格员-01", "sources"] == "I02 张建国"
    assert "identity" not in json.dumps(codes.to_dict(), ensure_ascii=False) and "_identity" not in repr(codes)
    key.loc["社区干部-01", "case"] = "changed"
    assert codes.identity_key().loc["社区干部-01", "case"] == "何秀英"  # a copy
    path = gs.write_identity_key(codes, tmp_path / "identity_key.csv")
    assert "何秀英" in path.read_text(encoding="utf-8-sig") and "13812345678" in path.read_text(encoding="utf-8-sig")
    raw = gs.read_codes(hostile_qdpx, pseudonymise=False)
    with pytest.raises(gs.DataValidationError, match="Fix:"):
        gs.write_identity_key(raw, tmp_path / "k.csv")


def test_identifying_is_always_added_to_the_defaults(hostile_csv):
    kw = {"codebook": hostile_csv["codebook"], "cases": hostile_csv["cases"], "pseudonymise": False}
    as_string = gs.read_codes(hostile_csv["segments"], identifying="住处", **kw)
    assert set(as_string.identifying) == {"受访人", "Interviewee name", "住处", "手机"}  # not the letters 住, 处
    as_list = gs.read_codes(hostile_csv["segments"], identifying=["住处"], **kw)
    assert as_list.identifying == as_string.identifying  # adds to name/受访人, never replaces them
    with pytest.raises(gs.SpecificationError, match="Fix:"):
        gs.read_codes(hostile_csv["segments"], identifying=3, **kw)


@pytest.mark.parametrize("column", ["姓名", "真实姓名", "受访人", "受访者", "被访者", "name", "Name", "interviewee", "Interviewee name",
                                    "participant_name", "Real Name", "phone", "电话", "手机", "联系方式", "ID card", "身份证",
                                    "address", "住址"])
def test_identifying_columns_are_recognised_in_both_languages(column):
    from govsurvey.qualitative.privacy import is_identifying

    assert is_identifying(column)


def test_scrub_covers_every_form_and_ambiguity():
    from govsurvey.qualitative.privacy import build_scrubber

    s = build_scrubber([("何秀英", "社区干部-01"), ("何文杰", "社区书记-01"), ("张建国", "网格员-01")])
    assert s("何 秀英、秀英、何秀 英和建国") == "社区干部-01、社区干部-01、社区干部-01和网格员-01"
    assert s("何书记和张主任") == "[姓名]和网格员-01"  # two people named 何: a neutral mark, not a wrong pseudonym
    assert s("Interview with Zhang") == "Interview with Zhang"


def test_latin_names_are_scrubbed_with_word_boundaries():
    from govsurvey.qualitative.privacy import build_scrubber

    s = build_scrubber([("Mary Smith", "resident-01")])
    assert s("mary  smith said; Ms. Smith agreed; Smithfield stays") == "resident-01 said; resident-01 agreed; Smithfield stays"


def test_code_heatmap_has_no_name(hostile_qdpx, hostile_csv):
    from govsurvey.report import figures

    for codes in _read_both(hostile_qdpx, hostile_csv).values():
        fig = figures.code_heatmap(gs.code_matrix(codes, by="case", level="code"), {}, {"unit": "case"})
        labels = " ".join(t.get_text() for ax in fig.axes for t in ax.get_yticklabels() + ax.get_xticklabels())
        svg = figures.svg(fig)
        assert "社区干部-01" in labels and not _leaks(labels) and not _leaks(svg)


def test_the_study_report_has_no_name(hostile_csv, tmp_path):
    """End to end: the study reads the interviews, writes HTML, JSON and Word; no name anywhere
    (Word's XML parts and core properties included)."""
    example = gs.datasets.example_dir()
    spec = {"name": "t", "instrument": str(gs.datasets.instrument_path("community_phe_survey")),
            "data": {"path": str(example / "wjx_text_export.xlsx")},
            "interviews": {"path": str(hostile_csv["segments"]), "codebook": str(hostile_csv["codebook"]),
                           "cases": str(hostile_csv["cases"]), "identifying": ["住处"]},
            "analyses": {"capacity_gaps": {"importance": True}, "code_matrix": {"by": "case"}, "agreement": True,
                         "joint_display": True},
            "formats": ["html", "json", "docx"], "seed": 1, "language": "zh"}
    results = gs.Study.from_dict(spec).run()
    results.write(tmp_path / "out")
    texts = {}
    for path in (tmp_path / "out").iterdir():
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as z:
                texts[path.name] = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith((".xml", ".rels")))
        elif path.suffix in (".html", ".json", ".csv", ".md", ".txt"):
            texts[path.name] = path.read_text(encoding="utf-8")
    assert {"report.html", "results.json", "report.docx"} <= set(texts)
    assert "社区干部-01" in texts["report.html"]
    leaked = {name: _leaks(text) for name, text in texts.items()}
    assert not any(leaked.values()), leaked


# ------------------------------------------------------------------------ strict tables
def test_an_unquoted_comma_in_the_codebook_is_an_error_naming_the_line(hostile_csv, tmp_path):
    book = tmp_path / "codebook.csv"
    book.write_text("code,parent,description,dimension,polarity\n物资储备不足,,物资不够,reserves,barrier\n"
                    "预案流于形式,,纸上的预案, 走过场,plans,barrier\n", encoding="utf-8")
    with pytest.raises(gs.DataFormatError, match=r"codebook\.csv, line 3: 6 fields where the header has 5.*Fix:"):
        gs.read_codes(hostile_csv["segments"], codebook=book)


def test_a_ragged_segments_csv_is_an_error_not_a_parser_crash(tmp_path):
    seg = tmp_path / "segments.csv"
    seg.write_text("source,case,coder,code,start,end,text\nI01.txt,I01,A,x,0,3,abc\nI01.txt,I01,A,x,0,3,abc,extra,more\n",
                   encoding="utf-8")
    with pytest.raises(gs.DataFormatError, match="line 3.*Fix:"):
        gs.read_codes(seg)
    short = tmp_path / "cases.csv"
    short.write_text("case,site,role\nI01,建设社区\n", encoding="utf-8")
    with pytest.raises(gs.DataFormatError, match=r"cases\.csv, line 2: 2 fields"):
        gs.read_codes(_ok_segments(tmp_path), cases=short)


def _ok_segments(tmp_path: Path) -> Path:
    path = tmp_path / "ok.csv"
    path.write_text("source,case,coder,code,start,end,text\nI01.txt,I01,A,x,0,3,abc\n", encoding="utf-8")
    return path


def test_a_codebook_xlsx_that_is_not_a_workbook_is_a_data_format_error(tmp_path):
    fake = tmp_path / "codebook.xlsx"
    fake.write_bytes(b"code,dimension\nx,reserves\n")
    with pytest.raises(gs.DataFormatError, match="not a readable Excel workbook.*Fix:"):
        gs.read_codes(_ok_segments(tmp_path), codebook=fake)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("role", ["source", "codebook", "cases"])
def test_a_fifo_or_device_is_refused_at_once(tmp_path, role):
    fifo = tmp_path / ("pipe.qdpx" if role == "source" else "pipe.csv")
    os.mkfifo(fifo)
    args = {"source": fifo} if role == "source" else {"source": _ok_segments(tmp_path), role: fifo}
    started = time.monotonic()
    with pytest.raises(gs.DataFormatError, match="FIFO.*not a regular file.*Fix:"):
        gs.read_codes(**args)
    assert time.monotonic() - started < 5
    if Path("/dev/zero").exists():
        with pytest.raises(gs.DataFormatError, match="device"):
            gs.read_codes(_ok_segments(tmp_path), codebook="/dev/zero")


# ---------------------------------------------------------------------- hostile archives
def _zip_bytes(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytearray:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return bytearray(buf.getvalue())


def _patch_headers(data: bytearray, *, local_offset: int, central_offset: int, fmt: str, value: int) -> bytearray:
    """Set a field in every local (PK\\3\\4) and central (PK\\1\\2) header."""
    for sig, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        k = data.find(sig)
        while k >= 0:
            if offset >= 0:
                struct.pack_into(fmt, data, k + offset, value)
            k = data.find(sig, k + 4)
    return data


def _project() -> bytes:
    return _qde().encode("utf-8")


def test_a_bad_crc_is_a_data_format_error(tmp_path):
    data = _zip_bytes({"project.qde": _project()})
    k = data.find(b"<Project")
    data[k + 1] = ord("Q")  # the stored bytes no longer match their CRC
    path = tmp_path / "crc.qdpx"
    path.write_bytes(bytes(data))
    with pytest.raises(gs.DataFormatError, match="damaged.*Fix:"):
        gs.read_codes(path)


def test_a_lying_size_header_is_a_data_format_error(tmp_path):
    data = _zip_bytes({"project.qde": _project()}, zipfile.ZIP_DEFLATED)
    data = _patch_headers(data, local_offset=22, central_offset=24, fmt="<I", value=100)  # uncompressed size: 100
    path = tmp_path / "size.qdpx"
    path.write_bytes(bytes(data))
    with pytest.raises(gs.DataFormatError, match="Fix:"):
        gs.read_codes(path)


def test_deflate64_is_a_data_format_error(tmp_path):
    data = _patch_headers(_zip_bytes({"project.qde": _project()}, zipfile.ZIP_DEFLATED),
                          local_offset=8, central_offset=10, fmt="<H", value=9)
    path = tmp_path / "d64.qdpx"
    path.write_bytes(bytes(data))
    with pytest.raises(gs.DataFormatError, match="compression method.*Deflate64.*Fix:"):
        gs.read_codes(path)


def test_an_encrypted_entry_is_a_data_format_error(tmp_path):
    data = _patch_headers(_zip_bytes({"project.qde": _project()}), local_offset=6, central_offset=8, fmt="<H", value=1)
    path = tmp_path / "enc.qdpx"
    path.write_bytes(bytes(data))
    with pytest.raises(gs.DataFormatError, match="encrypted.*Fix:"):
        gs.read_codes(path)


def _codebook_project(codes_xml: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="t">'
            f"<CodeBook><Codes>{codes_xml}</Codes></CodeBook>"
            '<Sources><TextSource guid="S1" name="s"><PlainTextContent>abcdef</PlainTextContent>'
            '<PlainTextSelection guid="T1" startPosition="0" endPosition="3"><Coding guid="G1">'
            '<CodeRef targetGUID="C0"/></Coding></PlainTextSelection></TextSource></Sources></Project>').encode()


def test_a_3000_deep_code_tree_is_a_data_format_error(tmp_path):
    deep = "".join(f'<Code guid="C{k}" name="c{k}">' for k in range(3000)) + "</Code>" * 3000
    path = tmp_path / "deep.qdpx"
    path.write_bytes(bytes(_zip_bytes({"project.qde": _codebook_project(deep)}, zipfile.ZIP_DEFLATED)))
    with pytest.raises(gs.DataFormatError, match="nested more than 100 levels.*Fix:"):
        gs.read_codes(path)


def test_a_deep_csv_codebook_is_ordered_without_recursion(tmp_path):
    n = 3000
    book = pd.DataFrame({"code": [f"c{k}" for k in range(n)], "parent": [""] + [f"c{k}" for k in range(n - 1)]})
    seg = pd.DataFrame({"source": ["s"], "case": ["I01"], "coder": ["A"], "code": ["c0"], "start": [0], "end": [1], "text": ["a"]})
    codes = gs.read_codes(seg, codebook=book)
    assert codes.codebook["code"].tolist() == book["code"].tolist()


def test_20000_codes_read_in_linear_time(tmp_path):
    flat = "".join(f'<Code guid="C{k}" name="code {k}"><Code guid="D{k}" name="sub {k}"/></Code>' for k in range(10_000))
    path = tmp_path / "many.qdpx"
    path.write_bytes(bytes(_zip_bytes({"project.qde": _codebook_project(flat)}, zipfile.ZIP_DEFLATED)))
    started = time.monotonic()
    codes = gs.read_codes(path)
    elapsed = time.monotonic() - started
    assert len(codes.codebook) == 20_000 and codes.codebook["code"].iloc[:3].tolist() == ["code 0", "sub 0", "code 1"]
    assert elapsed < 10, f"20,000 codes took {elapsed:.1f} s"


def test_read_warnings_are_data_warnings_and_kept(hostile_qdpx):
    with pytest.warns(gs.DataWarning) as caught:
        codes = gs.read_codes(hostile_qdpx)
    messages = [str(w.message) for w in caught if issubclass(w.category, gs.DataWarning)]
    assert any("unknown code 'NO-SUCH-CODE'" in m for m in messages)
    assert set(messages) <= set(codes.warnings) and codes.warnings


def test_pseudonymising_twice_or_on_a_subset_changes_nothing(files):
    from govsurvey.integration.gaps import codes_subset
    from govsurvey.qualitative.privacy import pseudonymise

    codes = gs.read_codes(files["qdpx"], codebook=files["codebook"])
    again = pseudonymise(codes)
    pd.testing.assert_frame_equal(again.segments, codes.segments)
    pd.testing.assert_frame_equal(again.identity_key(), codes.identity_key())
    site = codes.segments["site"].iloc[-1]
    sub = codes_subset(codes, codes.segments["site"] == site)  # rebuilt without the key, as joint_display(by=) does
    assert set(pseudonymise(sub).segments["case"]) == set(codes.segments.loc[codes.segments["site"] == site, "case"])


def test_write_qdpx_refuses_original_transcripts_beside_pseudonymised_codes(files, tmp_path):
    codes = gs.read_codes(files["qdpx"], codebook=files["codebook"])
    raw_texts = {p.name: p.read_text(encoding="utf-8") for p in (gs.datasets.example_dir() / "transcripts").glob("*.txt")}
    with pytest.raises(gs.SpecificationError, match="original transcripts.*Fix:"):
        gs.write_qdpx(codes, tmp_path / "x.qdpx", texts=raw_texts)


def test_inputs_are_not_modified(hostile_csv):
    seg = pd.read_csv(hostile_csv["segments"], dtype=str, keep_default_na=False)
    cases = pd.read_csv(hostile_csv["cases"], dtype=str, keep_default_na=False)
    before = (seg.copy(), cases.copy())
    gs.read_codes(seg, codebook={"物资储备不足": "reserves", "预案流于形式": "plans"}, cases=cases)
    pd.testing.assert_frame_equal(seg, before[0])
    pd.testing.assert_frame_equal(cases, before[1])


def test_an_unknown_identifying_name_is_a_warning(hostile_csv):
    with pytest.warns(gs.DataWarning, match="identifying= names 'phon'.*Fix:"):
        gs.read_codes(hostile_csv["segments"], cases=hostile_csv["cases"], identifying=["phon"])


def test_a_path_with_a_nul_byte_is_a_govsurvey_error(tmp_path):
    with pytest.raises(gs.GovsurveyError):
        gs.read_codes(str(tmp_path / "a\0b.csv"))


def test_read_warnings_reach_the_study_report(hostile_qdpx, tmp_path):
    """Codings the reader had to drop are said in the report's notes and results.json, not only on a console."""
    example = gs.datasets.example_dir()
    spec = {"name": "t", "instrument": str(gs.datasets.instrument_path("community_phe_survey")),
            "data": {"path": str(example / "survey.sav")}, "interviews": {"path": str(hostile_qdpx)},
            "analyses": {"code_matrix": {"by": "case"}}, "formats": ["json", "html"], "seed": 1}
    results = gs.Study.from_dict(spec).run()
    assert any("unknown code 'NO-SUCH-CODE'" in note for note in results.notes)
    paths = results.write(tmp_path / "out")
    assert "NO-SUCH-CODE" in paths["html"].read_text(encoding="utf-8")
    assert any("NO-SUCH-CODE" in n for n in json.loads(paths["json"].read_text(encoding="utf-8"))["notes"])
    for path in paths.values():                  # the project's file name (何秀英等访谈.qdpx) is scrubbed too
        if path.suffix in (".html", ".json", ".csv"):
            assert not _leaks(path.read_text(encoding="utf-8-sig")), path.name
