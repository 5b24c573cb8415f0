"""Word (.docx): three-line (三线表 / APA) tables with captions, figures, interpretation text."""

from __future__ import annotations

import io
from pathlib import Path

from govsurvey.data.files import write_atomic

__all__ = ["write_docx", "set_three_line"]


def _border(cell_or_tbl_pr, edges: dict[str, int]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:tcBorders" if cell_or_tbl_pr.tag.endswith("tcPr") else "w:tblBorders")
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
    cell_or_tbl_pr.append(borders)


def set_three_line(table) -> None:
    """Top and bottom rules 1.5 pt, a 0.75 pt rule under the header, no vertical lines."""
    _border(table._tbl.tblPr, {"top": 12, "bottom": 12})
    for cell in table.rows[0].cells:
        _border(cell._tc.get_or_add_tcPr(), {"top": 12, "bottom": 6})


def write_docx(results, path: str | Path) -> Path:
    """The study report as a Word document (A4, 三线表 tables, captions, figures)."""
    import datetime as _dt

    import docx
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    from govsurvey.report.document import build_document, xml_safe

    doc = xml_safe(build_document(results))
    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    for sec in d.sections:
        sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    d.add_heading(doc.title, level=0)
    d.add_paragraph(doc.subtitle)
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
    return write_atomic(path, lambda p: d.save(str(p)))


def _field(paragraph, instruction: str, shown: list[str] | None = None) -> None:
    """A Word field (TOC, PAGE) whose current result is ``shown`` (one line each) until Word
    updates it; the document asks Word to update fields when it opens."""
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
    instr.text = instruction
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

    d.add_heading("目录" if zh else "Contents", level=1)
    lines = []
    for section in doc.sections:
        lines.append(section.title)
        lines.extend("　　" + b.text for b in section.blocks if isinstance(b, Heading))
    _field(d.add_paragraph(), r'TOC \o "1-2" \h \z \u', lines)
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    d.settings.element.append(update)


def _add_page_numbers(d) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    footer = d.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE", ["1"])


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
    ppr.append(borders)
    shading = OxmlElement("w:shd")
    for key, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shading.set(qn(key), value)
    ppr.append(shading)


def _add_block(d, b, zh: bool) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, RGBColor

    from govsurvey.report.document import Failed, Figure, Heading, Paragraph, Table
    from govsurvey.report.figures import png

    if isinstance(b, Heading):
        d.add_heading(b.text, level=2)
    elif isinstance(b, Paragraph):
        d.add_paragraph(b.text)
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
        d.add_picture(io.BytesIO(png(b.make())), width=Cm(15))
        d.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cap = d.add_paragraph(f"{'图' if zh else 'Figure'} {b.number}　{b.caption}", style="Caption")
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _add_table(d, b, zh: bool) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    cap = d.add_paragraph(f"{'表' if zh else 'Table'} {b.number}　{b.caption}", style="Caption")
    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    frame = b.frame
    table = d.add_table(rows=frame.shape[0] + 1, cols=frame.shape[1])
    for j, c in enumerate(frame.columns):
        table.cell(0, j).text = str(c)
        for run in table.cell(0, j).paragraphs[0].runs:
            run.bold = True
    values = frame.to_numpy()
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            table.cell(i + 1, j).text = str(values[i, j])
    for row in table.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9)
    set_three_line(table)
    if b.note:
        note = d.add_paragraph(("注：" if zh else "Note. ") + b.note)
        for run in note.runs:
            run.font.size = Pt(8)
