"""Small HTML renderings: result objects in notebooks and the screening/scoring summary page.

Every user-supplied string passes through :func:`html.escape`; numbers are rounded only here.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["render_frame", "render_result", "format_value"]


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
