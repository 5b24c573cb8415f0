"""Reports: HTML, PDF, Word and JSON from a study spec; determinism; escaping; Chromium."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import govsurvey as gs
from govsurvey.study import Study

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = gs.datasets.example_dir()
HOSTILE_LABEL = '<script>alert("label")</script></table>我相信社区居委会'
HOSTILE_QUOTE = '<script>alert("quote")</script></table>社区没有专门的仓库，物资堆在活动室里，也没有台账，真出事的时候根本找不到东西。'


def _spec(folder: Path, *, instrument: Path, data: Path, segments: Path | None = None, formats=("html", "pdf", "docx", "json"),
          n_boot: int = 300) -> Path:
    interviews = {"path": str(segments or EXAMPLE / "interviews.qdpx"), "codebook": str(EXAMPLE / "interview_codebook.csv")}
    if segments:
        interviews["cases"] = str(EXAMPLE / "interview_cases.csv")
    spec = {
        "name": "t", "title": {"zh": "测试研究", "en": "Test study"}, "instrument": str(instrument), "data": {"path": str(data)},
        "interviews": interviews,
        "analyses": {"reliability": True, "cfa": {"model": "instrument", "constructs": ["trust", "satisfaction", "reserves"]},
                     "validity": True, "descriptives": {"by": "role"}, "correlations": True, "code_matrix": True, "compare_groups": [{"dv": "trust", "group": "gender"}],
                     "mediation": [{"x": "capacity", "m": "trust", "y": "participation", "n_boot": n_boot}],
                     "capacity_gaps": {"importance": True}, "joint_display": True, "link_codes": {"level": "site"}},
        "formats": list(formats), "seed": 7, "language": "zh",
    }
    path = folder / "spec.yaml"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    spec = _spec(folder, instrument=gs.datasets.instrument_path("community_phe_survey"), data=EXAMPLE / "wjx_text_export.xlsx")
    results = Study.from_yaml(spec).run()
    paths = results.write(folder / "out")
    return results, paths


def test_all_four_files_and_sections(report):
    results, paths = report
    for fmt in ("html", "pdf", "docx", "json"):
        assert paths[fmt].exists() and paths[fmt].stat().st_size > 1000, fmt
    html = paths["html"].read_text(encoding="utf-8")
    for section in ("样本与筛查", "测量质量", "研究结果", "混合方法", "附录"):
        assert section in html
    assert "<svg" in html and "表 1" in html and "图 1" in html
    # self-contained: no external resource is referenced
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "Content-Security-Policy" in html


def test_each_figure_is_drawn_once_for_all_formats(report, tmp_path, monkeypatch):
    """HTML, PDF and Word come from one built document: every figure is drawn once (issue 20)."""
    from govsurvey.report import document, figures

    results, _ = report
    calls = []
    real = figures.render_once
    monkeypatch.setattr(figures, "render_once", lambda make: calls.append(1) or real(make))
    monkeypatch.setattr(document, "_LAST_BUILT", [])          # a fresh run: nothing built yet
    results.to_html(tmp_path / "r.html")
    results.to_docx(tmp_path / "r.docx")
    results.to_pdf(tmp_path / "r.pdf")
    n_figures = sum(isinstance(b, document.Figure) for s in document.build_document(results).sections for b in s.blocks)
    assert n_figures >= 3 and len(calls) == n_figures


def test_results_json_is_reproducible(tmp_path):
    spec = _spec(tmp_path, instrument=gs.datasets.instrument_path("community_phe_survey"), data=EXAMPLE / "survey.sav", formats=("json",))
    a = Study.from_yaml(spec).run().write(tmp_path / "a")["json"].read_bytes()
    b = Study.from_yaml(spec).run().write(tmp_path / "b")["json"].read_bytes()
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    data = json.loads(a)
    assert data["provenance"]["seed"] == 7 and "mediation" in data["analyses"]
    assert data["analyses"]["mediation"][0]["result"]["n_boot"] == 300


def test_docx_has_three_line_tables_and_captions(report):
    import docx
    from docx.oxml.ns import qn

    _, paths = report
    d = docx.Document(str(paths["docx"]))
    captions = [p.text for p in d.paragraphs if p.style.name == "Caption"]
    assert any(c.startswith("表 1") for c in captions) and any(c.startswith("图 1") for c in captions)
    assert len(d.tables) >= 5 and d.inline_shapes
    for table in d.tables:
        borders = table._tbl.tblPr.find(qn("w:tblBorders"))
        vals = {el.tag.split("}")[1]: el.get(qn("w:val")) for el in borders}
        assert vals["top"] == "single" and vals["bottom"] == "single"
        assert vals["insideV"] == "nil" and vals["left"] == "nil" and vals["insideH"] == "nil"
        head = table.rows[0].cells[0]._tc.tcPr.find(qn("w:tcBorders"))
        assert {el.tag.split("}")[1]: el.get(qn("w:val")) for el in head}["bottom"] == "single"


@pytest.mark.skipif(shutil.which("pdffonts") is None or shutil.which("pdftotext") is None,
                    reason="Poppler's pdffonts/pdftotext are not installed (bash scripts/dev test installs them)")
def test_pdf_embeds_a_cjk_font_and_chinese_extracts(report):
    _, paths = report
    fonts = subprocess.run(["pdffonts", str(paths["pdf"])], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if re.search(r"WenQuanYi|Noto.*CJK|SourceHan|Han ?Sans", line)]
    assert cjk and all(" yes " in line for line in cjk), fonts
    text = subprocess.run(["pdftotext", str(paths["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    for section in ("样本与筛查", "测量质量", "研究结果", "混合方法", "附录", "测试研究"):
        assert section in text
    assert re.search(r"\b1 / \d+", text)  # page numbers


def test_hostile_strings_are_escaped_in_html_and_intact_in_pdf_and_docx(tmp_path):
    import docx
    import pandas as pd

    inst_dir = tmp_path / "instruments"
    shutil.copytree(gs.datasets.instruments_dir(), inst_dir)
    ts = inst_dir / "trust_satisfaction.yaml"
    quoted = '"' + HOSTILE_LABEL.replace('"', '\\"') + '"'  # a YAML double-quoted scalar
    ts.write_text(ts.read_text(encoding="utf-8").replace("我相信社区居委会在突发事件中会维护居民的利益", quoted), encoding="utf-8")
    seg = pd.read_csv(EXAMPLE / "interview_segments.csv")
    first = seg.index[seg["code"] == "物资储备不足"][0]
    seg.loc[first, "text"] = HOSTILE_QUOTE
    seg_path = tmp_path / "segments.csv"
    seg.to_csv(seg_path, index=False)
    spec = _spec(tmp_path, instrument=inst_dir / "community_phe_survey.yaml", data=EXAMPLE / "survey.sav", segments=seg_path,
                 formats=("html", "pdf", "docx"), n_boot=100)
    paths = Study.from_yaml(spec).run().write(tmp_path / "out")
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script>" not in html and "alert(" in html
    assert "&lt;script&gt;alert(&#34;label&#34;)&lt;/script&gt;&lt;/table&gt;" in html
    assert "&lt;script&gt;alert(&#34;quote&#34;)&lt;/script&gt;&lt;/table&gt;" in html
    body = "\n".join(p.text for p in docx.Document(str(paths["docx"])).paragraphs)
    cells = "\n".join(c.text for t in docx.Document(str(paths["docx"])).tables for r in t.rows for c in r.cells)
    assert HOSTILE_LABEL in cells and '<script>alert("quote")</script></table>' in cells + body
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(paths["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
        assert '<script>alert("label")</script></table>' in text.replace("\n", "")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (bash scripts/dev test installs it; CI has it)")
def test_html_opens_in_headless_chromium(report, tmp_path):
    _, paths = report
    shot = tmp_path / "report.png"
    common = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
              "--enable-logging=stderr", "--v=0", "--window-size=1200,2400"]
    url = paths["html"].resolve().as_uri()
    run = subprocess.run(common + [f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, run.stderr[-2000:]
    problems = [line for line in run.stderr.splitlines() if re.search(r"CONSOLE|Uncaught|Refused to (load|connect)", line)]
    assert not problems, problems
    dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    for section in ('id="sample"', 'id="measurement"', 'id="results"', 'id="mixed"', 'id="appendix"'):
        assert section in dom


def test_english_report(tmp_path):
    spec = _spec(tmp_path, instrument=gs.datasets.instrument_path("community_phe_survey"), data=EXAMPLE / "survey.sav",
                 formats=("html",), n_boot=100)
    text = spec.read_text(encoding="utf-8").replace('"language": "zh"', '"language": "en"')
    spec.write_text(text, encoding="utf-8")
    html = Study.from_yaml(spec).run().write(tmp_path / "out")["html"].read_text(encoding="utf-8")
    for section in ("Sample and screening", "Measurement", "Results", "Mixed methods", "Appendix", "Bentler, 1999"):
        assert section in html
    assert 'lang="en"' in html and "Table 1" in html


def test_pdf_without_a_cjk_font_is_a_clear_error(report, tmp_path, monkeypatch, caplog):
    """No CJK font: to_pdf raises with the fix; a run whose spec only defaulted to pdf writes every
    other output and skips the PDF with one warning; a spec that names pdf in formats: gets a failure."""
    import dataclasses
    import logging

    from govsurvey.report import fonts

    results, _ = report
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    with pytest.raises(gs.ReportError, match="No CJK font is installed.*Fix: run bash scripts/dev example.*fonts-wqy-microhei"):
        results.to_pdf(tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()  # nothing half-written

    study = dataclasses.replace(results.study, formats=gs.study.FORMATS,
                                spec={k: v for k, v in results.study.spec.items() if k != "formats"})
    with caplog.at_level(logging.WARNING):
        paths = dataclasses.replace(results, study=study).write(tmp_path / "default")
    assert {"html", "docx", "json", "scores", "exclusions", "failure_cases"} <= set(paths) and "pdf" not in paths
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "report.pdf" in r.getMessage()]
    assert len(warned) == 1 and "No CJK font is installed" in warned[0] and "fonts-wqy-microhei" in warned[0], warned
    manifest = json.loads((tmp_path / "default" / "govsurvey-manifest.json").read_text(encoding="utf-8"))
    assert manifest["skipped_outputs"] == ["pdf"] and manifest["failed_outputs"] == []

    paths, failures = results.write_outputs(tmp_path / "named")     # the spec's formats: names pdf
    assert [f.key for f in failures] == ["output pdf"] and "No CJK font" in failures[0].message
    assert {"html", "docx", "json", "scores"} <= set(paths)


def test_pdf_renders_the_images_inside_svg_figures(report, tmp_path, caplog):
    """matplotlib embeds heatmap tiles and colour bars in SVG as data: URIs; the PDF fetcher
    must resolve those (and only those), or WeasyPrint drops the images with a logged error."""
    import logging

    from govsurvey.report.pdf import _inline_only_fetcher

    results, paths = report
    assert "data:image/png;base64," in paths["html"].read_text(encoding="utf-8")   # the case is exercised
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        results.to_pdf(tmp_path / "again.pdf")
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, failures[:3]
    fetcher = _inline_only_fetcher()
    fetch = fetcher.fetch if hasattr(fetcher, "fetch") else fetcher
    for url in ("https://example.org/x.png", "file:///etc/passwd", "//example.org/x.png"):
        with pytest.raises((gs.ReportError, ValueError)):
            fetch(url)


def test_cfa_uses_fiml_when_items_are_missing_and_the_report_says_so(report):
    """Study default (missing: auto): the example data have missing answers, so the CFA keeps
    every respondent by FIML, and the table note gives N and how many had gaps (issue 16)."""
    results, paths = report
    cfa = results.analyses["cfa"]
    assert cfa.missing == "fiml" and cfa.n_incomplete > 0 and cfa.n_dropped == 0
    assert cfa.n_obs == results.frame.shape[0]
    html = re.sub(r"<[^>]+>", "", paths["html"].read_text(encoding="utf-8"))     # (statistics are set in spans)
    assert f"N = {cfa.n_obs}（完全信息最大似然 FIML：{cfa.n_incomplete} 个含缺失值的案例全部保留）" in html
    med = results.analyses["mediation"][0][1]
    assert f"N = {med.n}" in html
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["analyses"]["cfa"]["missing"] == "fiml"


def test_missing_auto_is_listwise_without_missing_values():
    from govsurvey.study.analyses import _missing_method

    import pandas as pd
    data = pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, None, 2], "c": [1.0, 2, 3], "d": [2.0, 1, 3]})
    assert _missing_method(data, "f =~ a + c + d", "auto") == "listwise"
    assert _missing_method(data, "f =~ a + b + c", "auto") == "fiml"
    assert _missing_method(data, "f =~ a + b + c", "listwise") == "listwise"
