"""Word (.docx) as Chinese universities ask for a thesis: defined styles, three-line tables
(三线表) with captions Word can number, figures at 300 dpi, page numbers.

The layout follows the most common rules in Chinese university thesis guides
(学位论文撰写规范), which also match Word's own "普通" page set-up:

* Page: A4, margins top/bottom 2.54 cm and left/right 3.17 cm (text width 14.66 cm);
  header 1.5 cm, footer 1.75 cm; centred page number in the footer (小五).
* Body (style Normal, paragraphs in Body Text): 宋体 for Chinese, Times New Roman for Latin
  text, 小四 (12 pt), 1.5 line spacing (多倍行距 1.5 — the other common rule, a fixed 20 pt,
  clips inline pictures), first line indented two characters, justified.
* Headings: 黑体 / Times New Roman bold, black — chapter (Heading 1) 三号 16 pt centred on a new
  page, section (Heading 2) 四号 14 pt, Heading 3 小四 12 pt; title 二号 22 pt.
* Captions (style Caption): 宋体 五号 (10.5 pt), centred; 表 caption above its table (kept
  with it), 图 caption below its figure. The number is a SEQ field (``SEQ 表``, ``SEQ 图``;
  ``SEQ Table``, ``SEQ Figure`` in English), so Word builds 图表目录 and cross-references.
* Tables: three-line, 五号 text (小五 when a table would not fit otherwise), header row repeated
  on every page, rows not split across pages, numbers centred and text left. Column widths
  come from the longest text in each column (a CJK character counts as two Latin ones; a
  header may wrap onto two lines), fill the text width, and columns too wide to fit are
  narrowed to a common width first. The layout is fixed (not Word's own autofit, which lets
  unbreakable strings such as SHA-256 hashes push a table past the margin). A table whose
  numeric columns alone are wider than the page is set on a landscape page (横排表).
  Table notes (style Table Note): 小五 under the table.
* Figures: PNG at 300 dpi, no wider than the text width (no taller than 80 % of the text
  height).

The file is reproducible: fixed core-properties dates and fixed ZIP entry times.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from pathlib import Path

from govsurvey.data.files import write_atomic

__all__ = ["DPI", "TEXT_WIDTH_CM", "column_widths", "set_three_line", "write_docx"]

PAGE_CM = (21.0, 29.7)                      # A4
MARGINS_CM = {"top": 2.54, "bottom": 2.54, "left": 3.17, "right": 3.17}
TEXT_WIDTH_CM = PAGE_CM[0] - MARGINS_CM["left"] - MARGINS_CM["right"]      # 14.66 cm
TEXT_HEIGHT_CM = PAGE_CM[1] - MARGINS_CM["top"] - MARGINS_CM["bottom"]     # 24.62 cm, the width of a landscape page
DPI = 300
LATIN, SONG, HEI = "Times New Roman", "宋体", "黑体"
TWIPS_PER_CM = 1440 / 2.54
CELL_PAD = 57                               # left and right cell margin, twips (0.1 cm)
_NUMERIC = re.compile(r"^[\d\s.,:;%*+\-−–—<>≤≥=()\[\]/✓✗†‡]*$")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _border(cell_or_tbl_pr, edges: dict[str, int]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    cell = cell_or_tbl_pr.tag.endswith("tcPr")
    borders = OxmlElement("w:tcBorders" if cell else "w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        size = edges.get(edge, 0)
        el.set(qn("w:val"), "single" if size else "nil")
        if size:
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    for old in cell_or_tbl_pr.findall(borders.tag):
        cell_or_tbl_pr.remove(old)
    later = (("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark") if cell
             else ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription"))
    cell_or_tbl_pr.insert_element_before(borders, *later)   # schema order: Word rejects misplaced elements


def set_three_line(table) -> None:
    """Top and bottom rules 1.5 pt, a 0.75 pt rule under the header, no vertical lines."""
    _border(table._tbl.tblPr, {"top": 12, "bottom": 12})
    for cell in table.rows[0].cells:
        _border(cell._tc.get_or_add_tcPr(), {"top": 12, "bottom": 6})


# --------------------------------------------------------------------------- document


def write_docx(results, path: str | Path) -> Path:
    """The study report as a Word document (A4, thesis styles, 三线表 tables, captions, figures)."""
    import datetime as _dt

    import docx

    from govsurvey.report.document import build_document, xml_safe

    doc = xml_safe(build_document(results))
    d = docx.Document()
    _styles(d)
    _page(d.sections[0], landscape=False)
    d.add_heading(doc.title, level=0)
    d.add_paragraph(doc.subtitle, style="Subtitle")
    zh = doc.lang == "zh"
    _add_contents(d, doc, zh)
    _add_page_numbers(d)
    for section in doc.sections:
        d.add_heading(section.title, level=1)
        for b in section.blocks:
            _add_block(d, b, zh)
    d.core_properties.author = "govsurvey"
    d.core_properties.title = doc.title
    fixed = _dt.datetime(2000, 1, 1)
    d.core_properties.created = d.core_properties.modified = fixed  # reproducible files
    d.core_properties.revision = 1
    return write_atomic(path, lambda p: p.write_bytes(_reproducible_zip(d)))


def _reproducible_zip(d) -> bytes:
    """The package with every ZIP entry dated 1980-01-01 (python-docx stamps the current time)."""
    raw = io.BytesIO()
    d.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _page(section, *, landscape: bool) -> None:
    """A4 with the thesis margins; landscape pages turn the margins with the paper."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    m = MARGINS_CM
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    short, long = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    if landscape:
        section.top_margin, section.bottom_margin = Cm(m["left"]), Cm(m["right"])
        section.left_margin, section.right_margin = Cm(m["top"]), Cm(m["bottom"])
    else:
        section.top_margin, section.bottom_margin = Cm(m["top"]), Cm(m["bottom"])
        section.left_margin, section.right_margin = Cm(m["left"]), Cm(m["right"])
    section.header_distance, section.footer_distance = Cm(1.5), Cm(1.75)


# --------------------------------------------------------------------------- styles


def _fonts(rpr, latin: str = LATIN, east: str = SONG) -> None:
    """Explicit Latin and East Asian fonts on a run-properties element, without the theme
    fonts (``w:asciiTheme`` …), which Word would otherwise use in their place."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr, font in (("ascii", latin), ("hAnsi", latin), ("cs", latin), ("eastAsia", east)):
        rfonts.set(qn(f"w:{attr}"), font)


def _style(d, name: str, *, size: float, east: str = SONG, bold: bool = False, align=None, before: float = 0,
           after: float = 0, line: float = 1.0, indent: bool = False, base: str = "Normal"):
    """Set (or add) a paragraph style: fonts, size, black, alignment, spacing, indentation."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    try:
        style = d.styles[name]
    except KeyError:
        style = d.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = d.styles[base]
    _fonts(style.element.get_or_add_rPr(), LATIN, east)
    font = style.font
    font.size, font.bold, font.italic = Pt(size), bold, False
    font.color.rgb = RGBColor(0, 0, 0)
    fmt = style.paragraph_format
    fmt.alignment, fmt.space_before, fmt.space_after, fmt.line_spacing = align, Pt(before), Pt(after), line
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:pBdr")):      # the template's Title has a blue rule
        ppr.remove(old)
    if indent:                                  # 首行缩进 2 字符
        fmt.first_line_indent = Pt(2 * size)
        ppr.find(qn("w:ind")).set(qn("w:firstLineChars"), "200")
    return style


def _styles(d) -> None:
    """The thesis styles (see the module docstring for the rules they follow)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH as A
    from docx.oxml.ns import qn

    defaults = d.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(defaults)
    defaults.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    _style(d, "Normal", size=12, line=1.5)
    _style(d, "Body Text", size=12, line=1.5, indent=True, align=A.JUSTIFY)
    _style(d, "Title", size=22, east=HEI, bold=True, align=A.CENTER, before=72, after=18)
    _style(d, "Subtitle", size=14, align=A.CENTER, after=36)
    _style(d, "Heading 1", size=16, east=HEI, bold=True, align=A.CENTER, before=24, after=18, line=1.5)
    _style(d, "Heading 2", size=14, east=HEI, bold=True, align=A.LEFT, before=12, after=6, line=1.5)
    _style(d, "Heading 3", size=12, east=HEI, bold=True, align=A.LEFT, before=6, after=6, line=1.5)
    _style(d, "TOC Heading", size=16, east=HEI, bold=True, align=A.CENTER, before=24, after=18, base="Heading 1")
    _style(d, "Caption", size=10.5, align=A.CENTER, before=6, after=6)
    _style(d, "Table Text", size=10.5)
    _style(d, "Table Note", size=9, align=A.LEFT, before=3, after=12)
    _style(d, "Figure", size=12, align=A.CENTER, before=6)
    _style(d, "Footer", size=9, align=A.CENTER)
    for name in ("Heading 1", "TOC Heading"):   # each chapter on a new page (每章另起一页)
        d.styles[name].paragraph_format.page_break_before = True
    d.styles["Title"].paragraph_format.keep_with_next = True


# --------------------------------------------------------------------------- fields, contents, footer


def _field(paragraph, instruction: str, shown: list[str] | None = None) -> None:
    """A Word field (TOC, PAGE, SEQ) whose current result is ``shown`` (one line each) until
    Word updates it; the document asks Word to update fields when it opens."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    char("separate")
    for k, line in enumerate(shown or []):
        run = paragraph.add_run(line)
        if k < len(shown) - 1:
            run.add_break()
    char("end")


def _add_contents(d, doc, zh: bool) -> None:
    """目录 / Contents: a Word TOC field over headings 1–2, showing the chapters and analyses
    until Word fills in the page numbers (it is asked to update fields on opening)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from govsurvey.report.document import Heading

    d.add_paragraph("目录" if zh else "Contents", style="TOC Heading")
    lines = []
    for section in doc.sections:
        lines.append(section.title)
        lines.extend("　　" + b.text for b in section.blocks if isinstance(b, Heading))
    _field(d.add_paragraph(), r'TOC \o "1-2" \h \z \u', lines)
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    d.settings.element.append(update)


def _add_page_numbers(d) -> None:
    """A centred PAGE field in the footer (later sections, e.g. landscape pages, link to it)."""
    footer = d.sections[0].footer.paragraphs[0]
    footer.style = d.styles["Footer"]
    _field(footer, "PAGE", ["1"])


def _caption(d, word: str, number: int, text: str, zh: bool, *, above: bool):
    """"表 1　…" with the number as a SEQ field, so Word can list and cross-reference it."""
    para = d.add_paragraph(style="Caption")
    para.add_run(f"{word} ")
    _field(para, rf"SEQ {word} \* ARABIC", [str(number)])
    para.add_run(("　" if zh else ". ") + text)
    para.paragraph_format.keep_with_next = above    # a table's caption stays with the table
    para.paragraph_format.keep_together = True
    return para


# --------------------------------------------------------------------------- blocks


def _box(paragraph, colour: str = "B00020", fill: str = "FFF4F4") -> None:
    """A border and a light fill around a paragraph (the failure notice)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", colour)):
            el.set(qn(key), value)
        borders.append(el)
    ppr.insert_element_before(borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                              "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                              "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                              "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                              "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                              "w:pPrChange")
    shading = OxmlElement("w:shd")
    for key, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shading.set(qn(key), value)
    borders.addnext(shading)


def _add_block(d, b, zh: bool) -> None:
    from docx.shared import RGBColor

    from govsurvey.report.document import Failed, Figure, Heading, Paragraph, Table

    if isinstance(b, Heading):
        d.add_heading(b.text, level=2)
    elif isinstance(b, Paragraph):
        add_typeset(d.add_paragraph(style="Body Text"), b.text)
    elif isinstance(b, Failed):
        para = d.add_paragraph()
        head = para.add_run(f"{b.title}（{b.error}）" if zh else f"{b.title} ({b.error})")
        head.bold = True
        head.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
        para.add_run(("：" if zh else ": ") + b.message)
        if b.fix:
            para.add_run().add_break()
            para.add_run(("修改建议：" if zh else "Fix: ") + b.fix)
        _box(para)
    elif isinstance(b, Table):
        _add_table(d, b, zh)
    elif isinstance(b, Figure):
        _add_figure(d, b, zh)


def _add_figure(d, b, zh: bool) -> None:
    """The figure centred, at most the text width (and 80 % of the text height), caption below."""
    from docx.shared import Cm

    data = b.outputs()["png300"]
    px_w, px_h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")   # IHDR
    width_cm = min(px_w / DPI * 2.54, TEXT_WIDTH_CM)
    height_cm = width_cm * px_h / px_w
    if height_cm > 0.8 * TEXT_HEIGHT_CM:
        width_cm, height_cm = width_cm * 0.8 * TEXT_HEIGHT_CM / height_cm, 0.8 * TEXT_HEIGHT_CM
    para = d.add_paragraph(style="Figure")
    para.paragraph_format.keep_with_next = True       # the figure stays with its caption
    para.add_run().add_picture(io.BytesIO(data), width=Cm(width_cm), height=Cm(height_cm))
    _caption(d, "图" if zh else "Figure", b.number, b.caption, zh, above=False)


# --------------------------------------------------------------------------- tables


def _units(text: str) -> float:
    """Width of a text in half-em units: CJK and full-width characters count two, Latin
    letters roughly as wide as in Times New Roman (capitals, m and w wider; i, l, t, f, r,
    punctuation and spaces narrower)."""
    def width(ch: str) -> float:
        if unicodedata.east_asian_width(ch) in "WF":
            return 2.0
        if ch in "mwMW":
            return 1.6
        if ch.isupper():
            return 1.4
        return 0.6 if ch in "iljtfr.,;:'! " else 1.0
    return sum(width(ch) for ch in text)


def _header_units(text: str) -> float:
    """A header (bold, hence a tenth wider) of more than four CJK characters may wrap onto
    two lines, but not inside a Latin word."""
    units = 1.1 * _units(text)
    if units <= 8:
        return units
    words = re.findall(r"[^\s\u3000-\u9fff\uff00-\uffef]+", text)
    return max([units / 2] + [1.1 * _units(w) for w in words])


def _natural(frame, size: float) -> tuple[list[int], list[bool]]:
    """Each column's natural width in twips at ``size`` pt — its longest cell (the header may
    wrap onto two lines) plus the cell margins — and whether it holds numbers."""
    natural, numeric = [], []
    for j, column in enumerate(frame.columns):
        cells = [str(v) for v in frame.iloc[:, j]]
        units = max([_header_units(str(column))] + [_units(c) for c in cells])
        natural.append(math.ceil(units * size * 10) + 2 * CELL_PAD + 20)   # a half-em is size·10 twips
        numeric.append(all(_NUMERIC.match(c) for c in cells))
    return natural, numeric


def column_widths(frame, text_width: int, size: float = 10.5) -> list[int]:
    """Column widths in twips for a table of strings, filling ``text_width``.

    Tables narrower than the text are widened to it, the extra shared equally. In wider
    tables, columns narrower than an equal share of what the others leave keep their natural
    width (numbers do not wrap); the wider ones share the rest in proportion to the square
    root of their natural widths, so long quotations get more room than short labels.
    """
    natural, _ = _natural(frame, size)
    total = sum(natural)
    if total <= text_width:
        extra = (text_width - total) // max(len(natural), 1)
        return [w + extra for w in natural]
    remaining, cap = text_width, 0.0
    for k, w in enumerate(sorted(natural)):
        cap = remaining / (len(natural) - k)
        if w > cap:
            break
        remaining -= w
    wide = [w for w in natural if w > cap]
    weight = sum(math.sqrt(w) for w in wide)
    return [w if w <= cap else int(remaining * math.sqrt(w) / weight) for w in natural]


def _twips(cm: float) -> int:
    return int(cm * TWIPS_PER_CM)


def _layout(frame) -> tuple[float, bool]:
    """Font size and orientation of a table: 五号 if it fits the text width, else 小五; a
    landscape page (五号 again if it fits there) when its numeric columns, which should not
    wrap, leave less than eight CJK characters a line for each text column."""
    portrait, landscape = _twips(TEXT_WIDTH_CM), _twips(TEXT_HEIGHT_CM)
    if sum(_natural(frame, 10.5)[0]) <= portrait:
        return 10.5, False
    natural, numeric = _natural(frame, 9)
    least = sum(w if num else min(w, 16 * 9 * 10 + 2 * CELL_PAD) for w, num in zip(natural, numeric))
    if least <= portrait:
        return 9, False
    return (10.5 if sum(_natural(frame, 10.5)[0]) <= landscape else 9), True


def _row_properties(table) -> None:
    """Header row repeated on every page (w:tblHeader); no row split across pages (w:cantSplit)."""
    from docx.oxml import OxmlElement

    for k, row in enumerate(table.rows):
        trpr = row._tr.get_or_add_trPr()
        trpr.insert_element_before(OxmlElement("w:cantSplit"), "w:trHeight", "w:tblHeader", "w:tblCellSpacing",
                                   "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")
        if k == 0:
            trpr.insert_element_before(OxmlElement("w:tblHeader"), "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins",
                                       "w:del", "w:trPrChange")


def _table_properties(table, widths: list[int]) -> None:
    """Centred, fixed layout, total width (w:tblW), grid columns (w:gridCol), narrow cell margins."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Twips

    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False            # fixed layout: the widths below, computed from the content
    tblpr = table._tbl.tblPr
    tblw = tblpr.find(qn("w:tblW"))
    tblw.set(qn("w:type"), "dxa")
    tblw.set(qn("w:w"), str(sum(widths)))
    margins = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(CELL_PAD))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tblpr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    for column, width in zip(table.columns, widths):
        column.width = Twips(width)


def _fill(table, frame, widths: list[int], numeric: list[bool], size: float) -> None:
    """Cell texts in style Table Text, header bold, numbers centred and text left, each cell's
    width (w:tcW) set."""
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, Twips

    rows = [[str(c) for c in frame.columns]] + [[str(v) for v in row] for row in frame.to_numpy()]
    for i, (row, texts) in enumerate(zip(table.rows, rows)):
        for j, (cell, text) in enumerate(zip(row.cells, texts)):
            cell.width = Twips(widths[j])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            para = cell.paragraphs[0]
            para.style = table.part.document.styles["Table Text"]
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER if numeric[j] else WD_ALIGN_PARAGRAPH.LEFT
            run = para.add_run(text)
            run.bold = i == 0 or None
            if size != 10.5:
                run.font.size = Pt(size)


def _landscape_section(d) -> None:
    """A landscape section from here on — or from the headings just above, so that they
    do not stay behind alone on the portrait page."""
    from docx.enum.section import WD_SECTION
    from docx.oxml.ns import qn

    body = d.element.body
    headings = []
    for el in reversed([c for c in body.iterchildren() if c.tag in (qn("w:p"), qn("w:tbl"))]):
        style = el.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        if style is None or not style.get(qn("w:val")).startswith("Heading"):
            break
        headings.append(el)
    section = d.add_section(WD_SECTION.NEW_PAGE)
    if headings:
        headings[-1].addprevious(body[-2])      # the paragraph that ends the portrait section
    _page(section, landscape=True)


def _add_table(d, b, zh: bool) -> None:
    """Caption above (kept with the table), the three-line table, the note below; a table too
    wide for a portrait page gets a landscape page of its own."""
    from docx.enum.section import WD_SECTION

    frame = b.frame
    size, landscape = _layout(frame)
    if landscape:
        _landscape_section(d)
    width = _twips(TEXT_HEIGHT_CM if landscape else TEXT_WIDTH_CM)
    widths = column_widths(frame, width, size)
    _caption(d, "表" if zh else "Table", b.number, b.caption, zh, above=True)
    table = d.add_table(rows=frame.shape[0] + 1, cols=frame.shape[1])
    _table_properties(table, widths)
    _fill(table, frame, widths, _natural(frame, size)[1], size)
    _row_properties(table)
    set_three_line(table)
    add_typeset(d.add_paragraph(style="Table Note"), (("注：" if zh else "Note. ") + b.note) if b.note else "")
    if landscape:
        _page(d.add_section(WD_SECTION.NEW_PAGE), landscape=False)


def add_typeset(paragraph, text: str) -> None:
    """``text`` as runs, statistics set as APA does: Latin statistic symbols italic, no line
    break inside an expression ("F(3, 596) = 2.26", a CI) — its spaces non-breaking."""
    from govsurvey.report.document import stat_segments

    for kind, piece in stat_segments(text):
        run = paragraph.add_run(piece.replace(" ", "\u00a0") if kind != "text" else piece)
        if kind == "symbol":
            run.italic = True
