"""Small HTML renderings: result objects in notebooks and the screening/scoring summary page.

Every user-supplied string passes through :func:`html.escape`; numbers are rounded only here.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["render_frame", "render_result", "format_value", "render_report"]


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
    template = env.from_string(template_text)
    zh = doc.lang == "zh"
    return template.render(doc=doc, sections=sections, toc_title="目录" if zh else "Contents", table_word="表" if zh else "Table",
                           figure_word="图" if zh else "Figure", fix_word="修改建议：" if zh else "Fix: ", media=media)


def _block(b) -> dict:
    """One document block as the template's plain dict."""
    from govsurvey.report.document import Failed, Figure, Heading, Paragraph, Table
    from govsurvey.report.figures import svg

    if isinstance(b, Heading):
        return {"kind": "h3", "text": b.text, "id": b.id}
    if isinstance(b, Paragraph):
        return {"kind": "p", "text": b.text}
    if isinstance(b, Table):
        return {"kind": "table", "number": b.number, "caption": b.caption, "note": b.note,
                "columns": list(b.frame.columns), "rows": b.frame.to_numpy().tolist()}
    if isinstance(b, Figure):
        return {"kind": "figure", "number": b.number, "caption": b.caption, "svg": svg(b.make(), prefix=f"fig{b.number}")}
    if isinstance(b, Failed):
        return {"kind": "failed", "title": b.title, "error": b.error, "message": b.message, "fix": b.fix}
    raise TypeError(f"unknown report block {type(b).__name__}")
