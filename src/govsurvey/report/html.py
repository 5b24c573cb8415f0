"""Small HTML renderings: result objects in notebooks and the screening/scoring summary page.

Every user-supplied string passes through :func:`html.escape`; numbers are rounded only here.
"""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["render_frame", "render_result", "format_value", "render_report", "table_layout"]

# Print layout of tables (A4, margins 15 mm each side; the template's @media print):
TEXT_WIDTH_PT = {"portrait": 500.0, "landscape": 745.0}   # text block less a little slack, in pt
FONT_PT = {"normal": 8.0, "compact": 7.0}                   # table font sizes in print
PAD_EM = {"normal": 1.0, "compact": 0.6}                    # left + right cell padding, in em
WRAP_EM = 10.0            # a long-text column (quotes, item wording) is assumed wrapped to this width
NOWRAP_EM = 7.0           # columns no wider than this are kept on one line ("印证", "0.44", "< .001")
SMALL_TABLE_LINES = 16    # tables up to this many lines (wrapped cells counted) are kept on one page


def format_value(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}f}"
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else ""
    return str(value)


def render_frame(frame: pd.DataFrame, *, caption: str | None = None, digits: int = 3, max_rows: int = 200) -> str:
    """A DataFrame as an escaped HTML table (first ``max_rows`` rows)."""
    shown = frame.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [shown.index.name or ""] + list(shown.columns))
    columns = [shown.iloc[:, k].tolist() for k in range(shown.shape[1])]  # per column: no dtype upcasting
    rows = []
    for r, idx in enumerate(shown.index):
        cells = "".join(f"<td>{html.escape(format_value(col[r], digits))}</td>" for col in columns)
        rows.append(f"<tr><th>{html.escape(str(idx))}</th>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    more = (f"<p class='more'>… {frame.shape[0] - max_rows} more rows</p>" if frame.shape[0] > max_rows else "")
    return f"<table class='gs-table'>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def render_result(result: Any) -> str:
    """A result object: its scalar fields as a list, each table as an HTML table."""
    parts = [f"<div class='gs-result'><strong>{html.escape(type(result).__name__)}</strong><ul>"]
    tables = []
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, pd.DataFrame):
            tables.append(render_frame(value, caption=f.name, max_rows=50))
        elif isinstance(value, pd.Series):
            tables.append(render_frame(value.to_frame(), caption=f.name, max_rows=50))
        else:
            parts.append(f"<li>{html.escape(f.name)}: {html.escape(format_value(value))}</li>")
    parts.append("</ul>")
    return "".join(parts) + "".join(tables) + "</div>"


def render_report(results, *, media: str = "screen") -> str:
    """The full study report as one self-contained HTML page (figures inline as SVG,
    no external requests; every user string escaped by the template engine)."""
    from importlib import resources

    import jinja2

    from govsurvey.report.document import Heading, build_document, xml_safe

    doc = xml_safe(build_document(results))
    sections = [{"id": section.id, "title": section.title, "blocks": [_block(b) for b in section.blocks],
                 "headings": [{"id": b.id, "text": b.text} for b in section.blocks if isinstance(b, Heading)]}
                for section in doc.sections]
    template_text = resources.files("govsurvey.report").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["typeset"] = typeset
    template = env.from_string(template_text)
    zh = doc.lang == "zh"
    return template.render(doc=doc, sections=sections, toc_title="目录" if zh else "Contents", table_word="表" if zh else "Table",
                           figure_word="图" if zh else "Figure", fix_word="修改建议：" if zh else "Fix: ", media=media,
                           print_font=_print_font() if media == "print" else "", nowrap_css=_nowrap_css(sections))


def typeset(text: str):
    """Escape ``text`` for HTML and set statistics as APA does
    (:func:`govsurvey.report.document.stat_segments`): Latin statistic symbols in italics, an
    expression such as "F(3, 596) = 2.26" or a CI "[.025, .095]" never broken across lines.

    >>> str(typeset("p < .001, F(3, 596) = 2.26 <x>"))
    '<span class="stat"><i>p</i> &lt; .001</span>, <span class="stat"><i>F</i>(3, 596) = 2.26</span> &lt;x&gt;'
    """
    from markupsafe import Markup

    from govsurvey.report.document import stat_segments

    parts, open_span = [], False
    for kind, piece in stat_segments(str(text)):
        esc = html.escape(piece, quote=False)
        if kind == "symbol":
            parts.append(f'<span class="stat"><i>{esc}</i>')
            open_span = True
        elif kind == "stat":
            parts.append(esc + "</span>" if open_span else f'<span class="stat">{esc}</span>')
            open_span = False
        else:
            parts.append(esc)
    return Markup("".join(parts))


def _nowrap_css(sections: list[dict]) -> str:
    """CSS keeping each table's short columns on one line (``white-space: nowrap`` by column
    position), so cells stay plain ``<td>`` elements. Only digits enter it: safe in <style>."""
    rules = []
    for s in sections:
        for b in s["blocks"]:
            if b["kind"] == "table" and any(b["nowrap"]):
                cols = [k + 1 for k, keep in enumerate(b["nowrap"]) if keep]
                rules.append(",".join(f"#table-{int(b['number'])} :is(td, th):nth-child({k})" for k in cols))
    return "".join(f"{r} {{ white-space: nowrap; }}\n" for r in rules)


def _print_font() -> str:
    """The CJK font found on this machine as a CSS family name (quoted, followed by a comma),
    placed first in the PDF's font list so any installed CJK font is used; '' when none."""
    from govsurvey.report import fonts

    font = fonts.cjk_font()
    family = re.sub(r"[^\w \-]", "", font.family) if font is not None else ""
    return f'"{family}", ' if family.strip() else ""


def _block(b) -> dict:
    """One document block as the template's plain dict."""
    from govsurvey.report.document import Failed, Figure, Heading, Paragraph, Table
    from govsurvey.report.figures import svg_markup

    if isinstance(b, Heading):
        return {"kind": "h3", "text": b.text, "id": b.id}
    if isinstance(b, Paragraph):
        return {"kind": "p", "text": b.text}
    if isinstance(b, Table):
        columns, rows = [str(c) for c in b.frame.columns], b.frame.to_numpy().tolist()
        return {"kind": "table", "number": b.number, "caption": b.caption, "note": b.note,
                "columns": columns, "rows": rows, **table_layout(columns, rows)}
    if isinstance(b, Figure):
        return {"kind": "figure", "number": b.number, "caption": b.caption, "svg": svg_markup(b.outputs()["svg"], prefix=f"fig{b.number}")}
    if isinstance(b, Failed):
        return {"kind": "failed", "title": b.title, "error": b.error, "message": b.message, "fix": b.fix}
    raise TypeError(f"unknown report block {type(b).__name__}")


def _em(text: str) -> float:
    """Rough (slightly generous) width of ``text`` in em: CJK (wide) characters 1, digits 0.55,
    stops and commas 0.3, other characters 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 if c.isdigit() else 0.3 if c in ".,:;" else 0.6
               for c in text)


def table_layout(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    """How a table is set in print, from its column count and the length of its contents.

    Returns ``layout``: "normal" (8 pt), "compact" (7 pt, tight padding) when the normal table
    would be wider than the portrait text block, "wide" (7 pt on an A4 landscape page) when
    even the compact one would be; ``nowrap``: per column, whether it is short enough to keep
    on one line; ``small``: whether the table (its rows, wrapped long cells counted in lines)
    is short enough to keep on one page, with its caption, rather than split.

    Examples
    --------
    >>> table_layout(["维度", "M", "SD"], [["信任", "3.91", "0.70"]])["layout"]
    'normal'
    >>> table_layout(["维度", "M", "SD", *map(str, range(1, 14))], [["信息发布与宣传引导"] + [".41**"] * 15])["layout"]
    'compact'
    >>> table_layout(["维度", *map(str, range(1, 25))], [["信息发布与宣传引导"] + ["−.41**"] * 24])["layout"]
    'wide'
    """
    widths = [max([_em(c)] + [_em(str(r[k])) for r in rows]) for k, c in enumerate(columns)]
    nowrap = [k == 0 or w <= NOWRAP_EM for k, w in enumerate(widths)]
    natural = [w if keep else min(w, WRAP_EM) for w, keep in zip(widths, nowrap)]

    def width_pt(style: str) -> float:
        return sum(w + PAD_EM[style] for w in natural) * FONT_PT[style]

    if width_pt("normal") <= TEXT_WIDTH_PT["portrait"]:
        layout = "normal"
    elif width_pt("compact") <= TEXT_WIDTH_PT["portrait"]:
        layout = "compact"
    else:
        layout = "wide"
    wrapped = [k for k, keep in enumerate(nowrap) if not keep]
    lines = sum(max([1.0] + [-(-_em(str(r[k])) // WRAP_EM) for k in wrapped]) for r in rows)
    return {"layout": layout, "nowrap": nowrap, "small": lines <= SMALL_TABLE_LINES}
