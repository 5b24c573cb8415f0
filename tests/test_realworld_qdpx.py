"""Real REFI-QDA projects (../shared/realworld/qdpx) and synthetic ones with emoji, CJK, CRLF
and BOM: every quote is the source text at the exporter's positions.

The truth is the project XML itself, parsed here independently with xml.etree. NVivo counts
UTF-16 code units of the plain-text file as stored (BOM stripped, CRLF as two units); the
REFI-QDA specification (and QualCoder, ATLAS.ti) count code points.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

import govsurvey as gs

REAL = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "qdpx"
PROJECTS = sorted(REAL.glob("*.qdpx")) if REAL.is_dir() else []
NS = "{urn:QDA-XML:project:1.0}"
needs_real = pytest.mark.skipif(not PROJECTS, reason=f"real-world REFI-QDA projects not found at {REAL}")


def _truth(path: Path) -> tuple[str, list[dict]]:
    """(origin, selections with the source text at their positions) straight from the archive."""
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        names = {n.lower(): n for n in zf.namelist()}
        out = []
        for src in root.iter(f"{NS}TextSource"):
            ref = (src.get("plainTextPath") or "").split("://", 1)[-1].lower()
            member = names.get(f"sources/{ref}")
            raw = zf.read(member).decode("utf-8") if member else ""
            text = raw.removeprefix("\ufeff")
            nvivo = "nvivo" in (root.get("origin") or "").lower()
            units = text.encode("utf-16-le")
            for sel in src.iter(f"{NS}PlainTextSelection"):
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                quote = units[2 * a: 2 * b].decode("utf-16-le") if nvivo else text[a:b]
                out.append({"source": src.get("name"), "start": a, "end": b, "text": quote, "full": text})
    return root.get("origin") or "", out


def _read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        return gs.read_codes(path, **kw)


@needs_real
@pytest.mark.parametrize("path", PROJECTS, ids=[p.name for p in PROJECTS])
def test_every_real_project_reads_and_quotes_the_source(path):
    origin, truth = _truth(path)
    codes = _read(path, pseudonymise=False)
    seg = codes.segments
    assert set(seg["source"]) <= {t["source"] for t in truth}
    expected = {(t["source"], t["text"]) for t in truth}
    assert {(r.source, r.text) for r in seg.itertuples()} <= expected
    for r in seg.itertuples():  # offsets are code points into the transcript kept with the interviews
        assert codes.texts[r.source][r.start:r.end] == r.text
    if "NVivo" in origin:
        assert len(seg) > 90 and seg["text"].str.len().gt(0).all()
        assert {t["text"] for t in truth} == set(seg["text"])
    else:  # the ATLAS.ti projects: a codebook only, or empty
        assert len(seg) == 0


@needs_real
@pytest.mark.parametrize("path", PROJECTS, ids=[p.name for p in PROJECTS])
def test_every_real_project_reads_pseudonymised_with_consistent_offsets(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codes = gs.read_codes(path)
    assert all(issubclass(w.category, gs.GovsurveyWarning) for w in caught)
    for r in codes.segments.itertuples():
        assert codes.texts[r.source][r.start:r.end] == r.text


@needs_real
def test_nvivo_quotes_are_not_cut_mid_word():
    """Counted in UTF-16 units, 691 of the 697 NVivo selections start and end on a word
    boundary (the rest were selected so in NVivo); counted in code points only 167 do."""
    for path in (p for p in PROJECTS if "nvivo" in p.name):
        codes = _read(path, pseudonymise=False)
        seg, ok = codes.segments, 0
        for r in seg.itertuples():
            full = codes.texts[r.source]
            left = r.start == 0 or not (full[r.start - 1].isalnum() and full[r.start].isalnum())
            right = r.end >= len(full) or not (full[r.end - 1].isalnum() and full[r.end].isalnum())
            ok += left and right
        assert ok / len(seg) > 0.98, path.name
        assert not seg["text"].str.contains(r"\n\d+\r?\n20\d\d").any(), path.name  # never runs into the next comment


@needs_real
def test_codebook_only_project_keeps_its_codebook():
    path = REAL / "ponte__target-atlas-project.qdpx"
    with pytest.warns(gs.DataWarning, match="no coded text selections"):
        codes = gs.read_codes(path)
    assert "2022-05-10T02:05:59Z 19e4dce" in set(codes.codebook["code"])
    assert codes.codebook.set_index("code").loc["2022-02-11T10:39:25Z cdbfd92", "parent"] == "Commits"


# --- synthetic projects ------------------------------------------------------------------------

TEXT = "\ufeff答：口罩😷不够用\r\n问：演练？🙂\r\n答：每季度都演练。"


def _project(path: Path, origin: str, text: str, selections: list[tuple[int, int, str]], *,
             variables: str = '<Variable guid="V1" name="site" typeOfVariable="Text"/>', value_ref: str = "V1",
             value: str = "幸福里") -> Path:
    sels = "".join(
        f'<PlainTextSelection guid="S{k}" name="{name}" startPosition="{a}" endPosition="{b}" creatingUser="U1">'
        f'<Coding guid="C{k}" creatingUser="U1"><CodeRef targetGUID="K1"/></Coding></PlainTextSelection>'
        for k, (a, b, name) in enumerate(selections))
    qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="t" origin="{origin}">'
           '<Users><User guid="U1" name="coder_A"/></Users>'
           '<CodeBook><Codes><Code guid="K1" name="物资" isCodable="true"/></Codes></CodeBook>'
           f'<Variables>{variables}</Variables>'
           '<Cases><Case guid="CA" name="I01"><VariableValue><VariableRef targetGUID="' + value_ref + '"/>'
           f'<TextValue>{value}</TextValue></VariableValue><SourceRef targetGUID="D1"/></Case></Cases>'
           f'<Sources><TextSource guid="D1" name="访谈一" plainTextPath="internal://D1.txt">{sels}</TextSource></Sources>'
           '</Project>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        zf.writestr("sources/D1.txt", text.encode("utf-8"))
    return path


def _u16(text: str, piece: str) -> tuple[int, int]:
    body = text.lstrip("\ufeff")
    a = len(body[: body.index(piece)].encode("utf-16-le")) // 2
    return a, a + len(piece.encode("utf-16-le")) // 2


def _cp(text: str, piece: str) -> tuple[int, int]:
    body = text.lstrip("\ufeff")
    return body.index(piece), body.index(piece) + len(piece)


@pytest.mark.parametrize("piece", ["口罩😷不够用", "演练？🙂", "每季度都演练"])
def test_nvivo_positions_count_utf16_units(tmp_path, piece):
    path = _project(tmp_path / "n.qdpx", "NVivo for Windows 12.6", TEXT, [(*_u16(TEXT, piece), "")])
    codes = _read(path, pseudonymise=False)
    assert codes.segments["text"].tolist() == [piece]
    r = codes.segments.iloc[0]
    assert codes.texts["访谈一"][r.start:r.end] == piece


@pytest.mark.parametrize("origin", ["ATLAS.ti for Windows 23.2.3.27778", "QualCoder 3.5", ""])
def test_spec_positions_count_code_points(tmp_path, origin):
    path = _project(tmp_path / "a.qdpx", origin, TEXT, [(*_cp(TEXT, "演练？🙂"), ""), (*_cp(TEXT, "每季度都演练"), "")])
    assert _read(path, pseudonymise=False).segments["text"].tolist() == ["演练？🙂", "每季度都演练"]


def test_maxqda_name_is_checked_not_used(tmp_path):
    long = "答：每季度都演练。" * 5
    text = "问：演练？🙂\n" + long
    a, b = _cp(text, long)
    path = _project(tmp_path / "m.qdpx", "MAXQDA 2022", text, [(a, b, long[:30]), (0, 2, "完全不同的文字")])
    with pytest.warns(gs.DataWarning, match=r"selection S1 \(0–2\) stores '完全不同的文字'"):
        codes = gs.read_codes(path, pseudonymise=False)
    assert codes.segments["text"].tolist() == ["问：", long]  # the transcript's text, not the 30-character name
    assert any("S1" in w for w in codes.warnings) and not any("S0" in w for w in codes.warnings)


def test_maxqda_names_reveal_utf16_counting(tmp_path):
    text = "🙂🙂🙂 开场\n答：口罩😷不够用，手套也不够。"
    piece = "口罩😷不够用，手套也不够。"
    a, b = _u16(text, piece)
    path = _project(tmp_path / "m.qdpx", "MAXQDA 24", text, [(a, b, piece)])
    with pytest.warns(gs.DataWarning, match="UTF-16 code units"):
        codes = gs.read_codes(path, pseudonymise=False)
    assert codes.segments["text"].tolist() == [piece]


def test_positions_beyond_the_text_are_warned_and_clipped(tmp_path):
    path = _project(tmp_path / "n.qdpx", "NVivo for Mac 12.7.0", "短文本", [(1, 99, "")])
    with pytest.warns(gs.DataWarning, match="beyond the end"):
        codes = gs.read_codes(path, pseudonymise=False)
    assert codes.segments["text"].tolist() == ["文本"]


def test_pseudonymised_offsets_follow_the_scrubbed_text(tmp_path):
    text = "\ufeff何秀英说：口罩😷不够用。\r\n何书记说：每季度都演练。"
    path = _project(tmp_path / "n.qdpx", "NVivo for Windows 12.6", text,
                    [(*_u16(text, "口罩😷不够用"), ""), (*_u16(text, "何书记说：每季度都演练"), "")],
                    variables='<Variable guid="V1" name="姓名" typeOfVariable="Text"/>', value="何秀英")
    raw = _read(path, pseudonymise=False)
    assert raw.segments["text"].tolist() == ["口罩😷不够用", "何书记说：每季度都演练"]
    codes = _read(path)
    for r in codes.segments.itertuples():
        assert codes.texts[r.source][r.start:r.end] == r.text
    assert "何" not in "".join(codes.segments["text"]) and codes.segments["text"].iloc[0] == "口罩😷不够用"


def test_unresolved_variable_reference_is_warned_not_invented(tmp_path):
    path = _project(tmp_path / "v.qdpx", "NVivo for Windows 12.6", TEXT, [(*_u16(TEXT, "演练？🙂"), "")], value_ref="x")
    with pytest.warns(gs.DataWarning, match="VariableRef to 'x'.*names no <Variable>"):
        codes = gs.read_codes(path, pseudonymise=False)
    assert "x" not in codes.cases.columns and "x" not in codes.segments.columns


def test_segment_csv_with_other_column_names(tmp_path):
    files = gs.datasets.example_files()
    table = pd.read_csv(files["segments"]).rename(columns={"case": "participant", "source": "interview_id"})
    path = tmp_path / "segments.csv"
    table.to_csv(path, index=False)
    with pytest.raises(gs.DataValidationError, match=r"lack column\(s\) source, case.*found interview_id, participant"
                                                     r".*closest matches: source: interview_id; case: participant.*columns="):
        gs.read_codes(path)
    codes = gs.read_codes(path, columns={"case": "participant", "source": "interview_id"}, codebook=files["codebook"])
    assert len(codes.segments) == len(table)
    with pytest.raises(gs.DataValidationError, match="closest: participant"):
        gs.read_codes(path, columns={"case": "partcipant"})
    with pytest.raises(gs.SpecificationError, match="keys must be among"):
        gs.read_codes(path, columns={"participant": "case"})
    assert list(table.columns[:2]) != ["source", "case"]  # the input was not touched
