"""Coded interviews: REFI-QDA and CSV readers, hostile archives, agreement, quotes and privacy,
and the integration of interview codes with survey gaps on the example study."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs


@pytest.fixture(scope="module")
def codes_csv(files):
    return gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])


@pytest.fixture(scope="module")
def texts():
    return {p.name: p.read_text(encoding="utf-8") for p in (gs.datasets.example_dir() / "transcripts").glob("*.txt")}


@pytest.fixture(scope="module")
def names(files):
    return pd.read_csv(files["cases"])["name"].tolist()


# ------------------------------------------------------------------------------- readers
def test_qdpx_and_csv_give_identical_segments(files, codes_csv):
    raw_qdpx = gs.read_codes(files["qdpx"], codebook=files["codebook"], pseudonymise=False)
    raw_csv = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"], pseudonymise=False)
    pd.testing.assert_frame_equal(raw_qdpx.segments, raw_csv.segments)
    from_qdpx = gs.read_codes(files["qdpx"], codebook=files["codebook"])
    # pseudonymised alike; the .qdpx's offsets move with its scrubbed transcripts (the CSV has none)
    pd.testing.assert_frame_equal(from_qdpx.segments.drop(columns=["start", "end"]), codes_csv.segments.drop(columns=["start", "end"]))
    pd.testing.assert_frame_equal(from_qdpx.codebook, codes_csv.codebook)
    assert from_qdpx.identifying == ("name",) and "name" not in from_qdpx.segments.columns
    for src, part in from_qdpx.segments.groupby("source"):  # offsets point into the scrubbed transcripts
        assert all(from_qdpx.texts[src][r.start:r.end] == r.text for r in part.itertuples())
    assert set(from_qdpx.coders) == {"coder_A", "coder_B"}


@pytest.mark.parametrize("style", ["refi", "maxqda", "nvivo", "qualcoder"])
def test_exporter_styles_round_trip(files, tmp_path, style):
    codes = gs.read_codes(files["qdpx"], codebook=files["codebook"])  # pseudonymised, with its scrubbed transcripts
    path = gs.write_qdpx(codes, tmp_path / f"{style}.qdpx", style=style)
    back = gs.read_codes(path)
    pd.testing.assert_frame_equal(back.segments, codes.segments)
    pd.testing.assert_frame_equal(back.codebook, codes.codebook)
    with zipfile.ZipFile(path) as zf:
        qde = zf.read("project.qde").decode("utf-8")
    if style == "maxqda":
        assert "urn:QDA-XML:codebook:0:4" in qde and "Cases:site" in qde
    if style == "qualcoder":
        assert "PlainTextContent" in qde and len(zf.namelist()) == 1


HAND_WRITTEN = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="t" origin="MAXQDA 24">
  <Users><User guid="U1" name="李老师"/><User guid="U2" name="张同学"/></Users>
  <CodeBook xmlns="urn:QDA-XML:codebook:0:4"><Codes>
    <Code guid="P1" name="事前准备" isCodable="false">
      <Code guid="C1" name="物资储备不足" isCodable="true"><Description>物资不够</Description></Code>
      <Code guid="C2" name="演练常态化" isCodable="true"/>
    </Code>
  </Codes></CodeBook>
  <Variables><Variable guid="V1" name="Cases:site" typeOfVariable="Text"/><Variable guid="V2" name="Cases:role" typeOfVariable="Text"/></Variables>
  <Cases>
    <Case guid="K1" name="王建国"><VariableValue><VariableRef targetGUID="V1"/><TextValue>幸福里社区</TextValue></VariableValue>
      <VariableValue><VariableRef targetGUID="V2"/><TextValue>网格员</TextValue></VariableValue><SourceRef targetGUID="S1"/></Case>
    <Case guid="K2" name="赵丽"><VariableValue><VariableRef targetGUID="V1"/><TextValue>和平社区</TextValue></VariableValue>
      <VariableValue><VariableRef targetGUID="V2"/><TextValue>居民</TextValue></VariableValue></Case>
  </Cases>
  <Sources>
    <TextSource guid="S1" name="访谈一" plainTextPath="internal://S1.txt">
      <PlainTextSelection guid="T1" name="口罩不够" startPosition="4" endPosition="8" creatingUser="U1">
        <Coding guid="G1" creatingUser="U1"><CodeRef targetGUID="C1"/></Coding>
        <Coding guid="G2" creatingUser="U2"><CodeRef targetGUID="C1"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid="S2" name="访谈二">
      <PlainTextContent>问：演练？\r\n答：每季度都演练。</PlainTextContent>
      <PlainTextSelection guid="T2" name="每季度都演练" startPosition="8" endPosition="14" creatingUser="U1">
        <Coding guid="G3" creatingUser="U1"><CodeRef targetGUID="C2"/></Coding>
        <Coding guid="G4" creatingUser="U1"><CodeRef targetGUID="K2"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid="S3" name="外部文件" plainTextPath="absolute://C:/data/x.txt"/>
    <TextSource guid="S4" name="访谈三" plainTextPath="internal://S4.txt">
      <PlainTextSelection guid="T4" name="每季度都演练" startPosition="8" endPosition="14" creatingUser="U2">
        <Coding guid="G5" creatingUser="U2"><CodeRef targetGUID="C2"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""


def _archive(path, qde: str | bytes, extra: dict[str, bytes] | None = None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde if isinstance(qde, bytes) else qde.encode("utf-8"))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_hand_written_maxqda_style_archive(tmp_path):
    """Second namespace for the CodeBook, 'Cases:' prefixes, nested codes, internal and inline
    sources, an internal file with CRLF line ends whose offsets count LF, one whose offsets count
    its BOM, two coders, a coding that assigns a source to a case, an external source that
    cannot be read."""
    path = _archive(tmp_path / "m.qdpx", HAND_WRITTEN, {"sources/S1.txt": "\ufeff回答：口罩不够用".encode("utf-8"),
                                                       "sources/S4.txt": "问：演练？\r\n答：每季度都演练。".encode("utf-8")})
    codes = gs.read_codes(path)
    seg = codes.segments
    assert list(codes.codebook["code"]) == ["事前准备", "物资储备不足", "演练常态化"]
    assert codes.codebook.set_index("code").loc["物资储备不足", "parent"] == "事前准备"
    row = seg[seg["code"] == "物资储备不足"]
    assert sorted(row["coder"]) == ["张同学", "李老师"] and set(row["text"]) == {"口罩不够"}
    assert set(row["case"]) == {"网格员-01"} and set(row["site"]) == {"幸福里社区"}  # case labels that are names: pseudonymised
    assert codes.identity_key().loc[["网格员-01", "居民-01"], "case"].tolist() == ["王建国", "赵丽"]
    drill = seg[(seg["code"] == "演练常态化") & (seg["source"] == "访谈二")].iloc[0]
    assert drill["text"] == "每季度都演练" and drill["case"] == "居民-01" and drill["role"] == "居民"
    crlf = seg[seg["source"] == "访谈三"].iloc[0]
    assert crlf["text"] == "每季度都演练" and crlf["coder"] == "张同学"
    assert any("outside the archive" in w for w in codes.warnings)
    assert any("CRLF→LF" in w for w in codes.warnings)
    assert any("BOM counted" in w for w in codes.warnings)  # the internal source's offsets count its BOM
    # the cases are named after people: pseudonymised in every output
    q = gs.quotes(codes, "物资储备不足")
    assert q["case"].tolist() == ["网格员-01"]
    assert "王建国" not in json.dumps(codes.to_dict(), ensure_ascii=False)


# ----------------------------------------------------------------------- hostile archives
def test_zip_slip_is_refused(tmp_path):
    path = _archive(tmp_path / "slip.qdpx", HAND_WRITTEN, {"../../etc/evil.txt": b"x"})
    with pytest.raises(gs.DataFormatError, match="escapes the archive.*zip-slip"):
        gs.read_codes(path)
    path = _archive(tmp_path / "abs.qdpx", HAND_WRITTEN, {"/tmp/evil.txt": b"x"})
    with pytest.raises(gs.DataFormatError, match="escapes the archive"):
        gs.read_codes(path)


def test_zip_bomb_is_refused(tmp_path):
    path = _archive(tmp_path / "bomb.qdpx", HAND_WRITTEN, {"sources/S1.txt": b"\0" * (8 * 2**20)})
    with pytest.raises(gs.DataFormatError, match="compression ratio .* zip bomb"):
        gs.read_codes(path)


def test_billion_laughs_and_external_entities_are_refused(tmp_path):
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{"&lol%s;" % ("" if i == 1 else i - 1) * 10}">' for i in range(1, 10))
              + ']><Project xmlns="urn:QDA-XML:project:1.0">&lol9;</Project>')
    with pytest.raises(gs.DataFormatError, match="DTD or entities.*billion laughs"):
        gs.read_codes(_archive(tmp_path / "laughs.qdpx", laughs))
    xxe = ('<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<Project xmlns="urn:QDA-XML:project:1.0"><Users><User guid="u" name="&x;"/></Users></Project>')
    with pytest.raises(gs.DataFormatError, match="DTD or entities"):
        gs.read_codes(_archive(tmp_path / "xxe.qdpx", xxe))


def test_broken_and_wrong_files(tmp_path):
    (tmp_path / "x.qdpx").write_bytes(b"not a zip")
    with pytest.raises(gs.DataFormatError, match="not a readable .qdpx"):
        gs.read_codes(tmp_path / "x.qdpx")
    with pytest.raises(gs.DataFormatError, match="no project.qde"):
        gs.read_codes(_rezip(tmp_path / "z.qdpx"))
    with pytest.raises(gs.DataFormatError, match="not well-formed"):
        gs.read_codes(_archive(tmp_path / "bad.qdpx", "<Project><Users>"))
    with pytest.raises(gs.InputFileNotFoundError):
        gs.read_codes(tmp_path / "none.qdpx")


def _rezip(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "no project here")
    return path


def test_csv_problems_are_clear(tmp_path, files):
    seg = pd.read_csv(files["segments"])
    with pytest.raises(gs.UnknownItemError, match="not in the codebook"):
        gs.read_codes(seg.assign(code="无此编码"), codebook=files["codebook"])
    with pytest.raises(gs.DataValidationError, match="end before they start"):
        gs.read_codes(seg.assign(end=0, start=5), codebook=files["codebook"])
    with pytest.raises(gs.DataValidationError, match="lack column"):
        gs.read_codes(seg.drop(columns=["coder"]))
    book = pd.read_csv(files["codebook"]).fillna("")
    with pytest.raises(gs.DataValidationError, match="polarity"):
        gs.read_codes(seg, codebook=book.assign(polarity="bad"))


# ----------------------------------------------------------------------------- agreement
def test_cohen_kappa_and_krippendorff_alpha():
    """Ten spans coded by two coders (a span neither coded is not a unit). By hand:
    agreement on spans 1, 2, 3, 5, 6, 10 → p_o = .6; marginals A (x 5, y 4, (none) 1),
    B (x 5, y 4, (none) 1) → p_e = (25 + 16 + 1)/100 = .42; κ = (.6 − .42)/(1 − .42) = .18/.58."""
    from sklearn.metrics import cohen_kappa_score
    import krippendorff

    a = ["x", "x", "x", "x", "y", "y", "y", "(none)", "y", "x"]
    b = ["x", "x", "x", "y", "y", "y", "x", "y", "(none)", "x"]
    rows = []
    for k, (ca, cb) in enumerate(zip(a, b)):
        for coder, c in (("A", ca), ("B", cb)):
            if c != "(none)":
                rows.append({"source": "s", "case": "c", "coder": coder, "code": c, "start": 10 * k, "end": 10 * k + 5, "text": "t"})
    codes = gs.read_codes(pd.DataFrame(rows))
    agr = gs.intercoder_agreement(codes, coders=("A", "B"))
    units_a, units_b = agr.units["A"].tolist(), agr.units["B"].tolist()
    assert units_a == a and units_b == b
    po = np.mean(np.array(a) == np.array(b))
    assert po == pytest.approx(0.6)
    assert agr.cohen_kappa == pytest.approx(0.18 / 0.58, abs=1e-12)
    assert agr.cohen_kappa == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    cats = {c: k for k, c in enumerate(sorted(set(a) | set(b)))}
    alpha = krippendorff.alpha(reliability_data=np.array([[cats[x] for x in a], [cats[x] for x in b]], dtype=float),
                               level_of_measurement="nominal")
    assert agr.krippendorff_alpha == pytest.approx(alpha, abs=1e-9)
    assert agr.percent_agreement == pytest.approx(po)


def test_agreement_on_the_example(codes_csv):
    from sklearn.metrics import cohen_kappa_score
    import krippendorff

    agr = gs.intercoder_agreement(codes_csv)
    u = agr.units
    assert agr.cohen_kappa == pytest.approx(cohen_kappa_score(u["coder_A"], u["coder_B"]), abs=1e-12)
    cats = {c: k for k, c in enumerate(sorted(set(u["coder_A"]) | set(u["coder_B"])))}
    alpha = krippendorff.alpha(reliability_data=np.array([[cats[x] for x in u["coder_A"]], [cats[x] for x in u["coder_B"]]], dtype=float),
                               level_of_measurement="nominal")
    assert agr.krippendorff_alpha == pytest.approx(alpha, abs=1e-9)
    assert 0.6 < agr.cohen_kappa < 0.95  # the simulator's second coder agrees 85 % of the time
    assert "(none)" in agr.unit and not agr.per_code.empty


# ------------------------------------------------------------------ matrices, co-occurrence
def test_code_matrix_and_cooccurrence(codes_csv):
    m = gs.code_matrix(codes_csv, by="site", level="dimension")
    assert set(m.to_numpy().ravel()) <= {0, 1} and m.shape[0] == 10
    counts = gs.code_matrix(codes_csv, binary=False)
    a = codes_csv.segments[codes_csv.segments["coder"] == "coder_A"]
    assert counts.to_numpy().sum() == len(a)
    co = gs.cooccurrence(codes_csv, unit="case")
    assert (co.to_numpy() == co.to_numpy().T).all()
    seg = gs.cooccurrence(codes_csv, unit="segment")
    assert np.trace(seg.to_numpy()) == len(a)
    with pytest.raises(gs.UnknownItemError):
        gs.code_matrix(codes_csv, by="nope")


# -------------------------------------------------------------------------------- privacy
@pytest.mark.slow
def test_no_interviewee_name_in_any_output_unless_asked(inst, xlsx_data, files, codes_csv, names):
    raw = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"], pseudonymise=False)
    texts_with_names = [t for t in raw.segments["text"] if any(n in t for n in names)]
    assert texts_with_names, "the example must contain names inside coded text for this test to mean anything"
    clean = gs.screen(xlsx_data, inst).clean
    dims = list(inst.importance_items)
    gaps = gs.capacity_gaps(gs.score(clean, inst)[dims], importance=gs.score_importance(clean, inst))
    outputs = [gs.joint_display(gaps, codes_csv).to_csv(), json.dumps(codes_csv.to_dict(), ensure_ascii=False)]
    for code in codes_csv.codebook["code"]:
        outputs.append(gs.quotes(codes_csv, code, n=20).to_csv())
    blob = "\n".join(outputs)
    leaked = [n for n in names if n in blob]
    assert not leaked, f"names leaked: {leaked}"
    assert not [n for n in names if n in "\n".join(gs.quotes(raw, c, n=20).to_csv() for c in raw.codebook["code"])]
    open_quotes = "\n".join(gs.quotes(raw, c, n=20, pseudonymise=False).to_csv() for c in raw.codebook["code"])
    assert any(n in open_quotes for n in names)  # only when asked


# ------------------------------------------------------------------- integration (example)
@pytest.fixture(scope="module")
def example(inst, xlsx_data):
    clean = gs.screen(xlsx_data, inst).clean
    dims = list(inst.importance_items)
    scores = gs.score(clean, inst)
    gaps = gs.capacity_gaps(scores[dims], importance=gs.score_importance(clean, inst))
    return clean, scores, gaps


def test_joint_display_ranks_and_confirms_the_planted_weak_dimensions(example, files, truth):
    clean, scores, gaps = example
    codes = gs.read_codes(files["qdpx"], codebook=files["codebook"])
    jd = gs.joint_display(gaps, codes)
    weak = set(truth["weak_dimensions"])
    assert set(jd.index[:3]) == weak
    assert (jd.loc[list(weak), "convergence"] == "confirms").all()
    assert (jd.loc[list(weak), "qualitative"] == "barrier").all()
    assert (jd.loc[list(weak), "quadrant"] == "concentrate here").all()
    assert set(jd["convergence"]) <= {"confirms", "expands", "discordant", "silent"}
    assert jd.loc["reserves", "themes"].startswith("物资储备不足")
    assert jd.loc["reserves", "quotes"].count("“") == 2
    assert "Fetters" in jd.attrs["rule"]


def test_link_codes_finds_the_planted_site_association(example, codes_csv):
    clean, scores, _ = example
    table = gs.link_codes(clean[["site"]].join(scores), codes_csv, level="site")
    pooled = table.loc["pooled"]
    assert pooled["r"] < -0.3 and pooled["p"] < 0.01 and pooled["ci_high"] < 0
    assert table.loc["psych_support", "r"] < 0 and table.loc["reserves", "r"] < 0
    assert table.loc["pooled", "n_units"] == 90


def test_capacity_gaps_with_a_target_and_by_group(example):
    clean, scores, _ = example
    t = gs.capacity_gaps(scores[["reserves", "grid"]], target=4.0)
    assert t.loc["reserves", "gap"] == pytest.approx(4.0 - scores["reserves"].mean(), rel=1e-12)
    assert t.loc["reserves", "quadrant"] == "below target"
    by = gs.capacity_gaps(clean[["gender"]].join(scores[["reserves"]]), target={"reserves": 4}, by="gender", dimensions=["reserves"])
    assert set(by.index.get_level_values(0)) == {1.0, 2.0}
    with pytest.raises(gs.SpecificationError, match="exactly one"):
        gs.capacity_gaps(scores[["reserves"]])
    with pytest.raises(gs.UnknownItemError):
        gs.capacity_gaps(scores[["reserves"]], target=4.0, dimensions=["nope"])
