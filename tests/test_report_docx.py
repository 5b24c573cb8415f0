"""The Word report as Chinese universities want a thesis: styles, three-line tables with
widths from their content, SEQ-numbered captions, 300 dpi figures within the text width,
page numbers, reproducible bytes (report/docx.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.report.docx import DPI, TEXT_WIDTH_CM, column_widths
from govsurvey.study import Study

docx = pytest.importorskip("docx")
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

EXAMPLE = gs.datasets.example_dir()
TEXT_WIDTH = Cm(TEXT_WIDTH_CM)
TWIPS_EMU = 635


def _spec(folder: Path, language: str, analyses: dict) -> Path:
    spec = {"name": "t", "title": {"zh": "测试研究", "en": "Test study"},
            "instrument": str(gs.datasets.instrument_path("community_phe_survey")),
            "data": {"path": str(EXAMPLE / "wjx_text_export.xlsx")}, "analyses": analyses,
            "formats": ["docx"], "seed": 7, "language": language}
    path = folder / "spec.yaml"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One Chinese study (tables, a wide correlation table, figures) and a small English one."""
    out = {}
    for lang, analyses in (("zh", {"reliability": True, "descriptives": {"by": "role"}, "correlations": True,
                                   "capacity_gaps": {"importance": True}}),
                           ("en", {"reliability": True, "capacity_gaps": {"importance": True}})):
        folder = tmp_path_factory.mktemp(f"docx-{lang}")
        results = Study.from_yaml(_spec(folder, lang, analyses)).run()
        path = results.to_docx(folder / "report.docx")
        out[lang] = (results, path, docx.Document(str(path)))
    return out


def _body_by_section(d):
    """(element, section) for every paragraph and table of the body, in order."""
    k = 0
    for el in d.element.body.iterchildren():
        yield el, d.sections[min(k, len(d.sections) - 1)]
        if el.tag == qn("w:p") and el.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            k += 1


def _instr(el) -> str:
    return " ".join(t.text or "" for t in el.iter(qn("w:instrText")))


def _text_width(section) -> int:
    return section.page_width - section.left_margin - section.right_margin


def test_normal_style_is_songti_and_times_new_roman_12pt_at_1_5_lines(report):
    d = report["zh"][2]
    normal = d.styles["Normal"]
    fonts = normal.element.rPr.rFonts
    assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:hAnsi")) == "Times New Roman"
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    assert not [a for a in fonts.attrib if a.endswith(("Theme", "theme"))]   # theme fonts would win
    assert normal.font.size == Pt(12) and normal.paragraph_format.line_spacing == 1.5
    defaults = d.styles.element.find(qn("w:docDefaults")).find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert defaults.get(qn("w:eastAsia")) == "宋体" and defaults.get(qn("w:asciiTheme")) is None
    body = d.styles["Body Text"]
    assert body.paragraph_format.first_line_indent == Pt(24)


@pytest.mark.parametrize(("name", "size"), [("Title", 22), ("Heading 1", 16), ("Heading 2", 14), ("Heading 3", 12)])
def test_headings_are_black_heiti_bold(report, name, size):
    style = report["zh"][2].styles[name]
    color = style.element.rPr.find(qn("w:color"))
    assert color.get(qn("w:val")) == "000000" and color.get(qn("w:themeColor")) is None
    fonts = style.element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "黑体" and fonts.get(qn("w:ascii")) == "Times New Roman"
    assert fonts.get(qn("w:asciiTheme")) is None and fonts.get(qn("w:eastAsiaTheme")) is None
    assert style.font.bold and style.font.size == Pt(size)
    assert style.element.pPr.find(qn("w:pBdr")) is None       # no blue rule under the title


def test_caption_and_note_styles(report):
    d = report["zh"][2]
    caption = d.styles["Caption"]
    assert caption.font.size == Pt(10.5) and not caption.font.bold
    assert caption.element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    assert caption.element.rPr.find(qn("w:color")).get(qn("w:themeColor")) is None
    assert caption.paragraph_format.alignment == 1                      # centred
    assert d.styles["Table Text"].font.size == Pt(10.5) and d.styles["Table Note"].font.size == Pt(9)


def test_a4_with_thesis_margins_and_a_centred_page_number(report):
    d = report["zh"][2]
    first = d.sections[0]
    cm = [round(v.cm, 2) for v in (first.page_width, first.page_height, first.top_margin, first.bottom_margin,
                                   first.left_margin, first.right_margin)]
    assert cm == [21.0, 29.7, 2.54, 2.54, 3.17, 3.17]
    footer = first.footer.paragraphs[0]
    assert "PAGE" in _instr(footer._p) and footer.style.paragraph_format.alignment == 1
    for section in d.sections[1:]:
        assert section.footer.is_linked_to_previous         # landscape pages keep the page numbers


def test_tables_are_three_line_with_repeated_header_rows_and_fitted_widths(report):
    d = report["zh"][2]
    tables = [(el, sec) for el, sec in _body_by_section(d) if el.tag == qn("w:tbl")]
    assert len(tables) == len(d.tables) >= 5
    for tbl, section in tables:
        table = docx.table.Table(tbl, d._body)
        borders = {el.tag.split("}")[1]: el.get(qn("w:val")) for el in tbl.tblPr.find(qn("w:tblBorders"))}
        assert borders["top"] == borders["bottom"] == "single"
        assert borders["insideV"] == borders["insideH"] == borders["left"] == borders["right"] == "nil"
        head = {el.tag.split("}")[1]: el.get(qn("w:val")) for el in table.rows[0].cells[0]._tc.tcPr.find(qn("w:tcBorders"))}
        assert head["bottom"] == "single"
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
        assert all(row._tr.trPr.find(qn("w:tblHeader")) is None for row in table.rows[1:])
        grid = [int(g.get(qn("w:w"))) for g in tbl.tblGrid.findall(qn("w:gridCol"))]
        tblw = tbl.tblPr.find(qn("w:tblW"))
        assert tblw.get(qn("w:type")) == "dxa" and int(tblw.get(qn("w:w"))) == sum(grid)
        assert sum(grid) * TWIPS_EMU <= _text_width(section)
        assert [c.width for c in table.rows[0].cells] == [g * TWIPS_EMU for g in grid]   # w:tcW
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"


def test_correlation_table_widths_follow_content_and_numbers_are_centred(report):
    d = report["zh"][2]
    table = next(t for t in d.tables if t.rows[0].cells[-1].text == "14")
    widths = [int(g.get(qn("w:w"))) for g in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert len(set(widths)) > 1 and widths[0] > widths[-1]          # the label column is widest
    assert table.rows[2].cells[3].paragraphs[0].alignment == 1       # ".36**" centred
    assert table.rows[2].cells[0].paragraphs[0].alignment == 0       # "2. 应急物资储备" left
    section = next(sec for el, sec in _body_by_section(d) if el is table._tbl)
    assert section.page_width > section.page_height                 # 17 columns: a landscape page


def test_every_table_has_a_seq_caption_above_kept_with_it(report):
    for lang, word in (("zh", "表"), ("en", "Table")):
        d = report[lang][2]
        for k, table in enumerate(d.tables, start=1):
            cap = table._tbl.getprevious()
            para = docx.text.paragraph.Paragraph(cap, d._body)
            assert para.style.name == "Caption" and para.paragraph_format.keep_with_next
            assert _instr(cap).split()[:2] == ["SEQ", word]
            assert para.text.startswith(f"{word} {k}")                 # the number shown until Word updates


def test_figures_fit_the_text_width_at_300_dpi_with_captions_below(report):
    from PIL import Image

    for lang, word in (("zh", "图"), ("en", "Figure")):
        d = report[lang][2]
        assert d.inline_shapes
        for k, shape in enumerate(d.inline_shapes, start=1):
            assert 0 < shape.width <= TEXT_WIDTH
            rid = shape._inline.graphic.graphicData.pic.blipFill.blip.embed
            image = Image.open(io.BytesIO(d.part.related_parts[rid].blob))
            dpi = image.size[0] / (shape.width / 914400)
            assert DPI * 0.97 <= dpi <= DPI * 1.5, dpi                   # ~300 dpi as printed
            assert round(image.info["dpi"][0]) == DPI
            para = shape._inline.getparent().getparent().getparent()    # drawing → run → paragraph
            assert para.pPr.find(qn("w:keepNext")) is not None
            cap = docx.text.paragraph.Paragraph(para.getnext(), d._body)
            assert cap.style.name == "Caption" and _instr(cap._p).split()[:2] == ["SEQ", word]
            assert cap.text.startswith(f"{word} {k}")


def test_docx_bytes_are_reproducible(report, tmp_path):
    results, path, _ = report["en"]
    again = results.to_docx(tmp_path / "again.docx")
    assert again.read_bytes() == path.read_bytes()


def test_column_widths_count_cjk_double_and_fit_the_text():
    frame = pd.DataFrame({"维度": ["应急预案与演练"], "name": ["abcdefg"], "r": [".36"]})
    assert 10**6 - 3 <= sum(column_widths(frame, 10**6)) <= 10**6        # narrow tables fill the text width
    assert sum(column_widths(frame, 1000)) <= 1000                          # wide ones are squeezed into it
    free = column_widths(pd.DataFrame({"维度": ["应急预案与演练"], "name": ["aaaaaaa"]}), 10**6)
    assert free[0] - free[1] == (14 - 7) * 105                         # 7 CJK = 14 half-ems vs 7
    long = pd.DataFrame({"quote": ["很长的一段访谈引语" * 20], "label": ["维度名称较长的标签" * 2], "p": ["< .001"]})
    widths = column_widths(long, 8311)
    assert sum(widths) <= 8311 and widths[0] > widths[1] > widths[2]
