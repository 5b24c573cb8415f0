"""Figures for reports: one consistent style, CJK labels that render, deterministic SVG.

Each function takes result objects and returns a matplotlib Figure; :func:`svg` and
:func:`png` serialise it. SVG text is drawn as paths (no font needed in the viewer), comments
are stripped (labels are user strings), and the hash salt and metadata are fixed so the same
inputs give the same bytes.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = [
    "cfa_diagram",
    "cfa_loadings",
    "cjk_font_path",
    "code_heatmap",
    "coef",
    "correlation_heatmap",
    "distributions",
    "index_hierarchy",
    "index_intervals",
    "ipa",
    "joint_figure",
    "loadings_heatmap",
    "mediation_diagram",
    "path_diagram",
    "png",
    "repel_labels",
    "scree",
    "setup",
    "stars",
    "svg",
]

PALETTE = ["#1f5a8c", "#c0392b", "#2e8b57", "#d68910", "#6c3483", "#5d6d7e"]


def cjk_font_path() -> str | None:
    """Path of the CJK font reports use (:func:`govsurvey.report.fonts.cjk_font`: fontconfig
    first, matplotlib's font list after), or ``None`` when none is installed."""
    from govsurvey.report.fonts import cjk_font

    font = cjk_font()
    return str(font.path) if font is not None else None


@lru_cache(maxsize=1)
def setup() -> str:
    """Configure matplotlib once; return the font family used for labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from govsurvey.report.fonts import INSTALL_HINT, cjk_font

    family = "DejaVu Sans"
    font = cjk_font()
    if font is not None:
        font_manager.fontManager.addfont(str(font.path))
        known = {f.name for f in font_manager.fontManager.ttflist}
        family = font.family if font.family in known else font_manager.FontProperties(fname=str(font.path)).get_name()
    else:
        log.warning("No CJK font found: Chinese labels will not render. Fix: %s.", INSTALL_HINT)
    plt.rcParams.update({
        "font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False, "svg.hashsalt": "govsurvey",
        "svg.fonttype": "path", "figure.dpi": 100, "savefig.dpi": 150, "axes.spines.top": False,
        "axes.spines.right": False, "axes.titlesize": 11, "axes.labelsize": 10, "font.size": 9,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    })
    return family


def _safe(text: object) -> str:
    """A user string as a matplotlib label: no mathtext, no line-breaking surprises."""
    return str(text).replace("$", r"\$").replace("\n", " ")


def svg(fig, prefix: str = "") -> str:
    """The figure as inline SVG; with ``prefix`` every id (and reference to it) is made
    unique, so several figures can share one HTML document."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "govsurvey"}, bbox_inches="tight")
    plt.close(fig)
    return svg_markup(buf.getvalue(), prefix)


def render_once(make) -> dict:
    """Draw a figure once and keep what every format needs: the SVG text (HTML, PDF) and a
    300-dpi PNG (Word); see :class:`~govsurvey.report.document.Figure`."""
    import matplotlib.pyplot as plt

    fig = make()
    try:
        text = io.StringIO()
        fig.savefig(text, format="svg", metadata={"Date": None, "Creator": "govsurvey"}, bbox_inches="tight")
        data = io.BytesIO()
        fig.savefig(data, format="png", dpi=300, metadata={"Software": None}, bbox_inches="tight")
    finally:
        plt.close(fig)
    return {"svg": text.getvalue(), "png300": data.getvalue()}


def svg_markup(text: str, prefix: str = "") -> str:
    """Saved SVG as inline markup: declarations, comments and metadata dropped; with ``prefix``
    every id (and reference to it) made unique."""
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    if prefix:
        text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
        text = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', text)
        text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    return text


def png(fig, dpi: int | None = None) -> bytes:
    """The figure as PNG; ``dpi=300`` for Word and print (default: ``savefig.dpi``, 150)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _fig(w=6.4, h=3.6):
    setup()
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(w, h))


def scree(efa, parallel, labels) -> object:
    fig, ax = _fig()
    k = np.arange(1, len(efa.eigenvalues) + 1)
    ax.plot(k, efa.eigenvalues, "o-", label=labels["observed"])
    if parallel is not None:
        ax.plot(parallel.table.index, parallel.table["pc_simulated"], "--", color=PALETTE[1], label=labels["simulated"])
    ax.axhline(1, color="#999", lw=0.8)
    ax.set_xlabel(labels["factor"])
    ax.set_ylabel(labels["eigenvalue"])
    ax.legend(frameon=False)
    return fig


def loadings_heatmap(loadings: pd.DataFrame, labels) -> object:
    import seaborn as sns

    fig, ax = _fig(6.4, max(3.0, 0.22 * len(loadings) + 1))
    sns.heatmap(loadings.astype(float), cmap="RdBu_r", center=0, vmin=-1, vmax=1, ax=ax, cbar_kws={"shrink": 0.6},
                yticklabels=[_safe(i) for i in loadings.index], xticklabels=[_safe(c) for c in loadings.columns])
    ax.set_ylabel("")
    ax.set_title(labels["title"])
    return fig


def cfa_loadings(loadings: pd.DataFrame, labels) -> object:
    fig, ax = _fig(6.4, max(3.0, 0.2 * len(loadings) + 1))
    order = loadings.sort_values(["factor", "item"], kind="stable")
    y = np.arange(len(order))
    factors = list(dict.fromkeys(order["factor"]))
    colors = {f: PALETTE[k % len(PALETTE)] for k, f in enumerate(factors)}
    ax.barh(y, order["std_all"], color=[colors[f] for f in order["factor"]])
    ax.set_yticks(y, [_safe(f"{f} · {i}") for f, i in zip(order["factor"], order["item"])])
    ax.invert_yaxis()
    ax.axvline(0.5, color="#999", lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    ax.set_xlabel(labels["xlabel"])
    return fig


def correlation_heatmap(r: pd.DataFrame, names: dict[str, str]) -> object:
    import seaborn as sns

    fig, ax = _fig(6.4, 5.2)
    mask = np.triu(np.ones(r.shape, dtype=bool), k=1)
    ticks = [_safe(names.get(c, c)) for c in r.columns]
    sns.heatmap(r.astype(float), mask=mask, cmap="RdBu_r", center=0, vmin=-1, vmax=1, annot=r.shape[0] <= 12, fmt=".2f",
                annot_kws={"size": 6}, ax=ax, xticklabels=ticks, yticklabels=ticks, cbar_kws={"shrink": 0.6})
    return fig


def distributions(frame: pd.DataFrame, column: str, by: str | None, labels) -> object:
    import seaborn as sns

    fig, ax = _fig()
    data = frame[[column] + ([by] if by else [])].dropna()
    if by:
        data = data.assign(**{by: data[by].map(lambda v: _safe(labels.get("groups", {}).get(v, v)))})
        sns.boxplot(data=data, x=by, y=column, ax=ax, color="#d6e4f0")
    else:
        sns.histplot(data[column], ax=ax, bins=20)
    ax.set_ylabel(_safe(labels["ylabel"]))
    ax.set_xlabel(_safe(labels.get("xlabel", "")))
    return fig


def ipa(gaps: pd.DataFrame, names: dict[str, str], labels) -> object:
    """Importance–performance map (Martilla & James, 1977): dimensions as points, the grand
    means as dashed lines, the four quadrants named from ``labels`` (``concentrate``, ``keep``,
    ``low_priority``, ``overkill``; the last two fall back to English) and axis titles from
    ``performance`` and ``importance``. Point labels are pushed apart (:func:`repel_labels`) so
    none overlaps another, a point, a quadrant name or the axes edge."""
    setup()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    x, y = gaps["mean"].astype(float), gaps["importance"].astype(float)
    ax.scatter(x, y, color=PALETTE[0], s=18, zorder=3)
    ax.axvline(x.mean(), color="#999", lw=0.8, ls="--")
    ax.axhline(y.mean(), color="#999", lw=0.8, ls="--")
    ax.set_xlim(*_padded(x, 0.12))
    ax.set_ylim(*_padded(y, 0.2))
    ax.set_xlabel(_safe(labels["performance"]))
    ax.set_ylabel(_safe(labels["importance"]))
    corners = [("concentrate", None, 0.02, 0.98, "left", "top"), ("keep", None, 0.98, 0.98, "right", "top"),
               ("low_priority", "Low priority", 0.02, 0.02, "left", "bottom"),
               ("overkill", "Possible overkill", 0.98, 0.02, "right", "bottom")]
    quadrants = [ax.text(cx, cy, _safe(labels[key] if default is None else labels.get(key, default)), transform=ax.transAxes,
                         ha=ha, va=va, fontsize=8, color=PALETTE[1] if key == "concentrate" else "#555")
                 for key, default, cx, cy, ha, va in corners]
    texts = [ax.annotate(_safe(names.get(dim, dim)), (x[dim], y[dim]), xytext=(4, 3), textcoords="offset points", fontsize=8)
             for dim in gaps.index]
    fig.canvas.draw()
    fig.set_layout_engine("none")     # freeze the axes so measured label boxes stay valid
    points = [_point_box(ax, px, py) for px, py in zip(x, y)]
    repel_labels(texts, [*points, *(q.get_window_extent() for q in quadrants)], ax.get_window_extent().padded(-2))
    _leaders(ax, texts)
    return fig


def _padded(v: pd.Series, frac: float) -> tuple[float, float]:
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - frac * span, hi + frac * span


def _point_box(ax, px: float, py: float, r: float = 4.0):
    from matplotlib.transforms import Bbox

    cx, cy = ax.transData.transform((px, py))
    return Bbox([[cx - r, cy - r], [cx + r, cy + r]])


def repel_labels(texts: list, obstacles: list, bounds, *, pad: float = 1.5, iterations: int = 400) -> None:
    """Move annotation labels apart until no two boxes, and no box and fixed obstacle, overlap.

    Boxes are measured once with the figure's renderer (display units), then pushed apart
    along the axis of least overlap — half each for two labels, all of it for a label on an
    obstacle — and kept inside ``bounds``; ties go by order, so the result is deterministic.
    The labels must be ``Annotation`` objects placed with ``textcoords="offset points"``.
    """
    if not texts:
        return
    fig = texts[0].figure
    renderer = fig.canvas.get_renderer()
    box = np.array([t.get_window_extent(renderer).padded(pad).extents for t in texts])
    fixed = np.array([b.extents for b in obstacles]).reshape(-1, 4)
    shift = np.zeros((len(texts), 2))
    lim = np.array(bounds.extents)
    for _ in range(iterations):
        moved = _repel_step(box, shift, fixed)
        cur = box + np.tile(shift, 2)
        shift[:, 0] += np.maximum(lim[0] - cur[:, 0], 0) - np.maximum(cur[:, 2] - lim[2], 0)
        shift[:, 1] += np.maximum(lim[1] - cur[:, 1], 0) - np.maximum(cur[:, 3] - lim[3], 0)
        if not moved:
            break
    scale = 72.0 / fig.dpi
    for t, (dx, dy) in zip(texts, shift):
        ox, oy = t.xyann
        t.xyann = (ox + dx * scale, oy + dy * scale)


def _repel_step(box: np.ndarray, shift: np.ndarray, fixed: np.ndarray) -> bool:
    moved = False
    for i in range(len(box)):
        a = box[i] + np.tile(shift[i], 2)
        others = [(box[j] + np.tile(shift[j], 2), j) for j in range(len(box)) if j != i] + [(f, None) for f in fixed]
        for b, j in others:
            ox = min(a[2], b[2]) - max(a[0], b[0])
            oy = min(a[3], b[3]) - max(a[1], b[1])
            if ox <= 0 or oy <= 0:
                continue
            step = np.zeros(2)
            axis = 1 if oy <= ox else 0
            sign = 1.0 if (a[axis] + a[axis + 2]) > (b[axis] + b[axis + 2]) or \
                ((a[axis] + a[axis + 2]) == (b[axis] + b[axis + 2]) and (j is None or i < j)) else -1.0
            step[axis] = sign * ((oy if axis else ox) + 0.5) * (1.0 if j is None else 0.5)
            shift[i] += step
            if j is not None:
                shift[j] -= step
            a = box[i] + np.tile(shift[i], 2)
            moved = True
    return moved


def _leaders(ax, texts: list, far: float = 10.0) -> None:
    """A thin line from a point to its label when the label was pushed away from it."""
    scale = ax.figure.dpi / 72.0
    for t in texts:
        dx, dy = (t.xyann[0] - 4) * scale, (t.xyann[1] - 3) * scale
        if np.hypot(dx, dy) < far:
            continue
        bb = t.get_window_extent()
        px, py = ax.transData.transform(t.xy)
        qx, qy = min(max(px, bb.x0), bb.x1), min(max(py, bb.y0), bb.y1)
        (x0, y0), (x1, y1) = ax.transData.inverted().transform([(px, py), (qx, qy)])
        ax.plot([x0, x1], [y0, y1], color="#888", lw=0.5, zorder=2)


def code_heatmap(matrix: pd.DataFrame, names: dict[str, str], labels) -> object:
    import seaborn as sns

    fig, ax = _fig(6.4, max(3.0, 0.3 * len(matrix) + 1))
    sns.heatmap(matrix.astype(float), cmap="Blues", ax=ax, cbar=False, annot=True, fmt=".0f",
                xticklabels=[_safe(names.get(c, c)) for c in matrix.columns], yticklabels=[_safe(i) for i in matrix.index])
    ax.set_ylabel(labels["unit"])
    ax.set_xlabel("")
    return fig


def joint_figure(display: pd.DataFrame, names: dict[str, str], labels) -> object:
    fig, ax1 = _fig(6.4, 3.8)
    dims = list(display.index)
    x = np.arange(len(dims))
    ax1.bar(x - 0.2, display["gap"], width=0.4, color=PALETTE[0], label=labels["gap"])
    ax1.set_ylabel(labels["gap"])
    ax2 = ax1.twinx()
    ax2.bar(x + 0.2, display["barrier_share_of_raised"].fillna(0), width=0.4, color=PALETTE[1], label=labels["barrier"])
    ax2.set_ylim(0, 1)
    ax2.set_ylabel(labels["barrier"])
    ax2.spines["right"].set_visible(True)
    ax1.set_xticks(x, [_safe(names.get(d, d)) for d in dims], rotation=45, ha="right")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, frameon=False, loc="upper right")
    return fig


# ------------------------------------------------------------------ path diagrams
# Diagrams are drawn on one axes covering the whole figure in inches (x right, y up), so
# node sizes follow the measured label text and nothing is placed outside the canvas.
ROW = 0.36          # vertical pitch of indicator boxes, inches
GAP = 1.15          # from indicator boxes to factor ovals, inches
LINE = {"color": "#333", "lw": 0.8}


@dataclass(frozen=True, slots=True)
class _Node:
    x: float
    y: float
    w: float
    h: float
    shape: str      # "box", "oval" or "circle"

    def edge(self, tx: float, ty: float) -> tuple[float, float]:
        """The point where the line from the centre toward (tx, ty) leaves the node."""
        dx, dy = tx - self.x, ty - self.y
        if dx == 0 and dy == 0:
            return self.x, self.y
        if self.shape == "box":
            t = min(self.w / 2 / abs(dx) if dx else np.inf, self.h / 2 / abs(dy) if dy else np.inf)
        else:
            t = 1 / np.hypot(dx / (self.w / 2), dy / (self.h / 2))
        return self.x + t * dx, self.y + t * dy


def coef(value: float, *, leading_zero: bool = False) -> str:
    """A coefficient with two decimals, as in APA style: standardized values (bounded by 1)
    without the leading zero (.71, −.30), others with it; a real minus sign."""
    text = f"{value:.2f}"
    if not leading_zero and abs(value) < 1 and text not in ("1.00", "-1.00"):
        text = text.replace("0.", ".", 1)
    return text.replace("-", "\u2212")


def stars(p: float) -> str:
    """Significance stars: * p < .05, ** p < .01, *** p < .001 (none for a fixed or missing p)."""
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


@lru_cache(maxsize=512)
def _text_size(text: str, size: float) -> tuple[float, float]:
    """Width and height of a label in inches (glyph outlines of the report font)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    ext = TextPath((0, 0), text, size=size, prop=FontProperties(family=[setup(), "DejaVu Sans"])).get_extents()
    return ext.width / 72, max(ext.height, 0.7 * size) / 72


def _canvas(w: float, h: float):
    setup()
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(w, h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    ax.set_axis_off()
    return fig, ax


def _draw_node(ax, node: _Node, text: str, size: float) -> None:
    from matplotlib.patches import Ellipse, Rectangle

    if node.shape == "box":
        patch = Rectangle((node.x - node.w / 2, node.y - node.h / 2), node.w, node.h, fc="white", ec="#333", lw=0.9)
    else:
        patch = Ellipse((node.x, node.y), node.w, node.h, fc="#eef3f8" if node.shape == "oval" else "white", ec="#333", lw=0.9)
    ax.add_patch(patch)
    ax.text(node.x, node.y, _safe(text), ha="center", va="center", fontsize=size, zorder=4)


def _arrow(ax, a: _Node, b: _Node, *, both: bool = False, path=None):
    """A straight arrow from node a to node b (or along ``path``), touching their outlines."""
    from matplotlib.patches import FancyArrowPatch

    style = "<|-|>,head_length=4,head_width=2" if both else "-|>,head_length=5,head_width=2.2"
    if path is not None:
        arrow = FancyArrowPatch(path=path, arrowstyle=style, mutation_scale=1, shrinkA=0, shrinkB=0, **LINE)
        ax.add_patch(arrow)
        return None
    p, q = a.edge(b.x, b.y), b.edge(a.x, a.y)
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle=style, mutation_scale=1, shrinkA=0, shrinkB=0, **LINE))
    return p, q


def _tag(ax, x: float, y: float, text: str, size: float = 7.5) -> None:
    """A coefficient label on a line, with a white background that interrupts the line."""
    ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=5,
            bbox={"boxstyle": "square,pad=0.12", "fc": "white", "ec": "none"})


def _arc(ax, x: float, y1: float, y2: float, depth: float, side: float, text: str) -> None:
    """A curved double-headed arrow between two nodes stacked in a column (correlation),
    bulging ``depth`` inches to the ``side`` (+1 right, −1 left), labelled at its apex."""
    from matplotlib.path import Path

    d = side * depth
    path = Path([(x, y1), (x + d, y1), (x + d, y2), (x, y2)], [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    _arrow(ax, None, None, both=True, path=path)
    _tag(ax, x + 0.75 * d, (y1 + y2) / 2, text, 7)


def cfa_diagram(fit, names: dict[str, str], labels: dict | None = None, *, residuals: bool = True,
                correlations: bool | None = None, max_rows: int = 26) -> object:
    """CFA path diagram as in AMOS figures of a thesis: factors as ovals named from ``names``,
    indicators as boxes, arrows labelled with the standardized loadings (``std_all``), error
    terms e1, e2, … as small circles (``residuals=False`` leaves them out) and the factor
    correlations as curved double-headed arrows on the right.

    Factors are stacked in a column, each level with the mean of its items, so the height
    grows with the number of items. With more than six factors the correlations (k(k−1)/2
    arcs) are left out by default (``correlations=True`` forces them) — report them in a
    table — and a long model is split into side-by-side panels of at most ``max_rows`` items.
    ``labels["note"]``, if given, is printed under the diagram (e.g. where the correlations
    are reported). Second-order loadings are not drawn.
    """
    labels = labels or {}
    factors = list(dict.fromkeys(fit.loadings["factor"]))
    lo = fit.loadings[~fit.loadings["item"].isin(factors)]
    groups = [lo[lo["factor"] == f] for f in factors]
    show_r = len(factors) <= 6 if correlations is None else bool(correlations)
    panels = [list(range(len(factors)))] if show_r else _split_panels([len(g) for g in groups], max_rows)
    iw = max(_text_size(_safe(i), 8)[0] for i in lo["item"]) + 0.24
    fw = max(0.9, max(_text_size(_safe(names.get(f, f)), 9)[0] for f in factors) * 1.2 + 0.35)
    left = 0.55 if residuals else 0.1
    arcs = 0.75 * _arc_depth(len(factors) - 1) + 0.35 if show_r and len(factors) > 1 else 0.1
    panel_w = left + iw + GAP + fw + arcs
    rows = [sum(len(groups[k]) for k in p) + 0.4 * (len(p) - 1) for p in panels]
    note = _safe(labels["note"]) if labels.get("note") else ""
    bottom = 0.45 if note else 0.15
    fig, ax = _canvas(panel_w * len(panels) + 0.2 * (len(panels) - 1), max(rows) * ROW + 0.15 + bottom)
    top = max(rows) * ROW + bottom
    for n, panel in enumerate(panels):
        nodes = _cfa_panel(ax, n * (panel_w + 0.2), top, [groups[k] for k in panel], names,
                           (left, iw, fw), residuals, sum(len(groups[k]) for p in panels[:n] for k in p))
        if show_r:
            _correlation_arcs(ax, nodes, fit.factor_correlations)
    if note:
        ax.text(0.1, 0.15, note, ha="left", va="bottom", fontsize=8)
    return fig


def _split_panels(sizes: list[int], max_rows: int) -> list[list[int]]:
    """Consecutive factors in panels of about equal item counts, each at most ``max_rows``
    where possible (a factor is never split)."""
    n = max(1, -(-sum(sizes) // max_rows))
    target = sum(sizes) / n
    panels: list[list[int]] = [[]]
    done = 0
    for k, size in enumerate(sizes):
        if panels[-1] and len(panels) < n and done + size / 2 > target * len(panels):
            panels.append([])
        panels[-1].append(k)
        done += size
    return panels


def _arc_depth(span: int) -> float:
    return 0.3 + 0.42 * (span - 1)


def _cfa_panel(ax, x0: float, top: float, groups: list, names: dict, dims: tuple, residuals: bool, first: int) -> dict:
    """One column of factors with their items (and error circles) to the left; returns the
    factor nodes by name."""
    left, iw, fw = dims
    ix, fx = x0 + left + iw / 2, x0 + left + iw + GAP + fw / 2
    y, count, nodes = top - ROW / 2, first, {}
    for g in groups:
        ys = y - ROW * np.arange(len(g))
        factor = _Node(fx, float(ys.mean()), fw, 0.5, "oval")
        _draw_node(ax, factor, names.get(g["factor"].iloc[0], g["factor"].iloc[0]), 9)
        nodes[g["factor"].iloc[0]] = factor
        for yi, (_, row) in zip(ys, g.iterrows()):
            count += 1
            item = _Node(ix, float(yi), iw, 0.26, "box")
            _draw_node(ax, item, row["item"], 8)
            (px, py), (qx, qy) = _arrow(ax, factor, item)
            _tag(ax, qx + 0.3 * (px - qx), qy + 0.3 * (py - qy), coef(row["std_all"]))
            if residuals:
                err = _Node(x0 + 0.25, float(yi), 0.3, 0.24, "circle")
                _draw_node(ax, err, f"e{count}", 6.5)
                _arrow(ax, err, item)
        y -= ROW * (len(g) + 0.4)
    return nodes


def _correlation_arcs(ax, nodes: dict, r: pd.DataFrame) -> None:
    names = list(nodes)
    x = max(n.x + n.w / 2 for n in nodes.values())
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            if a in r.index and b in r.columns and np.isfinite(r.loc[a, b]):
                _arc(ax, x, nodes[a].y, nodes[b].y, _arc_depth(j - i), 1.0, coef(float(r.loc[a, b])))


def _box(x: float, y: float, text: str, shape: str = "box", size: float = 9) -> _Node:
    w, h = _text_size(_safe(text), size)
    return _Node(x, y, w + (0.36 if shape == "box" else 0.5), max(0.42, h + 0.24), shape)


def mediation_diagram(med, names: dict[str, str], labels: dict | None = None) -> object:
    """The mediation model as the classic triangle: X bottom left, Y bottom right, the
    mediator(s) above; arrows labelled a, b and c′ with the (unstandardized) estimates and
    stars (* p < .05, ** p < .01, *** p < .001), the total effect c in parentheses after c′.
    Parallel mediators are stacked above one another (a1, b1, a2, b2, …); covariates are
    not drawn. ``labels["note"]`` replaces the star legend printed under the diagram."""
    labels = labels or {}
    t = med.table
    k = len(med.m)
    x_node, y_node = _box(0, 0, names.get(med.x, med.x)), _box(0, 0, names.get(med.y, med.y))
    meds = [_box(0, 0, names.get(m, m)) for m in med.m]
    width = max(5.6, x_node.w + y_node.w + max(n.w for n in meds) + 2.4)
    note = _safe(labels.get("note", "* p < .05, ** p < .01, *** p < .001"))
    base = 0.75 if note else 0.45
    height = base + 1.25 + 0.85 * (k - 1) + 0.45
    fig, ax = _canvas(width, height)
    x_node = _Node(0.1 + x_node.w / 2, base, x_node.w, x_node.h, "box")
    y_node = _Node(width - 0.1 - y_node.w / 2, base, y_node.w, y_node.h, "box")
    for node, v in ((x_node, med.x), (y_node, med.y)):
        _draw_node(ax, node, names.get(v, v), 9)

    def tagged(row: str) -> str:
        return coef(float(t.loc[row, "estimate"]), leading_zero=True) + stars(float(t.loc[row, "p"]))

    for i, (m, node) in enumerate(zip(med.m, meds)):
        node = _Node(width / 2, base + 1.25 + 0.85 * (k - 1 - i), node.w, node.h, "box")
        _draw_node(ax, node, names.get(m, m), 9)
        sub = "" if k == 1 else str(i + 1)
        for a, b, row, sign in ((x_node, node, "a" if k == 1 else f"a_{m}", -1), (node, y_node, "b" if k == 1 else f"b_{m}", 1)):
            (px, py), (qx, qy) = _arrow(ax, a, b)
            _tag(ax, (px + qx) / 2, (py + qy) / 2, f"{'ab'[sign > 0]}{sub} = {tagged(row)}", 8.5)
    (px, py), (qx, qy) = _arrow(ax, x_node, y_node)
    _tag(ax, (px + qx) / 2, py, f"c\u2032 = {tagged('c_prime')} (c = {tagged('total')})", 8.5)
    if note:
        ax.text(0.1, 0.12, note, ha="left", va="bottom", fontsize=8)
    return fig


def path_diagram(estimates: pd.DataFrame, names: dict[str, str], labels: dict | None = None, *,
                 standardized: bool = True) -> object:
    """Structural (path) model of a ``gs.sem`` parameter table (``lhs``, ``op``, ``rhs``,
    ``estimate``, ``p``, ``std_all``): latent variables (left side of ``=~``) as ovals,
    observed variables as boxes, regressions (``~``) as arrows from left to right labelled
    with the standardized (``standardized=False``: unstandardized) coefficient and stars,
    covariances between variables of one column as curved double-headed arrows. Indicators
    of latent variables are not drawn (see :func:`cfa_diagram`). ``labels["note"]``
    replaces the star legend under the diagram."""
    labels = labels or {}
    est = estimates.reset_index(drop=True)
    reg = est[est["op"] == "~"]
    latent = set(est.loc[est["op"] == "=~", "lhs"])
    layers = _layers(list(dict.fromkeys([*reg["rhs"], *reg["lhs"]])), reg)
    shapes = {v: _box(0, 0, names.get(v, v), "oval" if v in latent else "box") for layer in layers for v in layer}
    col_w = max(n.w for n in shapes.values()) + 1.7
    cov = est[(est["op"] == "~~") & (est["lhs"] != est["rhs"]) & est["lhs"].isin(shapes) & est["rhs"].isin(shapes)]
    margin = 0.2 + (0.75 * _arc_depth(max(len(layers[0]) - 1, 1)) + 0.3 if len(cov) else 0)
    note = _safe(labels.get("note", "* p < .05, ** p < .01, *** p < .001"))
    base = 0.7 if note else 0.3
    nodes = _path_positions(layers, shapes, reg, col_w, margin)
    low, high = min(n.y for n in nodes.values()), max(n.y for n in nodes.values())
    nodes = {v: _Node(n.x, n.y - low + base + 0.5, n.w, n.h, n.shape) for v, n in nodes.items()}
    fig, ax = _canvas(margin + col_w * (len(layers) - 1) + max(n.w for n in shapes.values()) + 0.2, base + high - low + 1.2)
    for v, n in nodes.items():
        _draw_node(ax, n, names.get(v, v), 9)
    value = "std_all" if standardized and "std_all" in est.columns else "estimate"
    placed = [(n.x - n.w / 2, n.y - n.h / 2, n.x + n.w / 2, n.y + n.h / 2) for n in nodes.values()]
    for _, row in cov.iterrows():
        _covariance(ax, nodes, layers, row["lhs"], row["rhs"], coef(float(row[value]), leading_zero=not standardized), placed)
    for _, row in reg.iterrows():
        text = coef(float(row[value]), leading_zero=not standardized) + stars(float(row["p"]))
        (px, py), (qx, qy) = _arrow(ax, nodes[row["rhs"]], nodes[row["lhs"]])
        _place_tag(ax, (px, py), (qx, qy), text, placed)
    if note:
        ax.text(0.1, 0.12, note, ha="left", va="bottom", fontsize=8)
    return fig


def _path_positions(layers: list, shapes: dict, reg: pd.DataFrame, col_w: float, margin: float) -> dict:
    """Node centres: columns by layer, rows centred; a node that an arrow skipping its
    column would run through is moved up (odd columns) or down (even columns) one row."""
    col = {v: c for c, layer in enumerate(layers) for v in layer}
    ys = {v: (len(layer) - 1) / 2 - r for layer in layers for r, v in enumerate(layer)}
    for c in range(1, len(layers) - 1):
        for v in layers[c]:
            hit = any(col[u] < c < col[w] and abs(ys[u] + (ys[w] - ys[u]) * (c - col[u]) / (col[w] - col[u]) - ys[v]) < 0.4
                      for u, w in zip(reg["rhs"], reg["lhs"]))
            if hit:
                ys[v] += 1.0 if c % 2 else -1.0
    return {v: _Node(margin + shapes[v].w / 2 + col[v] * col_w, ys[v], shapes[v].w, shapes[v].h, shapes[v].shape) for v in col}


def _layers(variables: list[str], reg: pd.DataFrame) -> list[list[str]]:
    """Columns of a path model: each variable one right of its furthest predictor; within
    a column, ordered by the mean row of the predictors (fewer crossings)."""
    depth = dict.fromkeys(variables, 0)
    for _ in variables:
        for lhs, rhs in zip(reg["lhs"], reg["rhs"]):
            depth[lhs] = max(depth[lhs], depth[rhs] + 1)
    layers = [[v for v in variables if depth[v] == d] for d in range(max(depth.values()) + 1)]
    for d in range(1, len(layers)):
        row = {v: r for r, v in enumerate(layers[d - 1])}
        key = {v: np.mean([row[p] for p in reg.loc[reg["lhs"] == v, "rhs"] if p in row] or [len(row)]) for v in layers[d]}
        layers[d].sort(key=lambda v: key[v])
    return layers


def _covariance(ax, nodes: dict, layers: list, a: str, b: str, text: str, placed: list) -> None:
    col = next((k for k, layer in enumerate(layers) if a in layer and b in layer), None)
    if col is None:       # variables in different columns: a gentle curve between them
        from matplotlib.patches import FancyArrowPatch

        na, nb = nodes[a], nodes[b]
        ax.add_patch(FancyArrowPatch((na.x, na.y - na.h / 2), (nb.x, nb.y - nb.h / 2), connectionstyle="arc3,rad=0.25",
                                     arrowstyle="<|-|>,head_length=4,head_width=2", mutation_scale=1, **LINE))
        _place_tag(ax, (na.x, na.y - na.h / 2), (nb.x, nb.y - nb.h / 2), text, placed)
        return
    side = -1.0 if col == 0 else 1.0
    column = [nodes[v] for v in layers[col]]
    x = min(n.x - n.w / 2 for n in column) if side < 0 else max(n.x + n.w / 2 for n in column)
    span = abs(layers[col].index(a) - layers[col].index(b))
    _arc(ax, x, nodes[a].y, nodes[b].y, _arc_depth(span), side, text)
    w, h = _text_size(text, 7)
    cx, cy = x + side * 0.75 * _arc_depth(span), (nodes[a].y + nodes[b].y) / 2
    placed.append((cx - w / 2 - 0.03, cy - h / 2 - 0.03, cx + w / 2 + 0.03, cy + h / 2 + 0.03))


def _place_tag(ax, p: tuple, q: tuple, text: str, placed: list, size: float = 8.5) -> None:
    """Label a line at the first of a few positions along it where the label box hits no
    node and no label placed before (the middle if none is free)."""
    w, h = _text_size(text, size)
    w, h = w / 2 + 0.04, h / 2 + 0.04
    spots = [(p[0] + f * (q[0] - p[0]), p[1] + f * (q[1] - p[1])) for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)]
    free = [(x, y) for x, y in spots if all(x + w <= b[0] or x - w >= b[2] or y + h <= b[1] or y - h >= b[3] for b in placed)]
    x, y = (free or spots)[0]
    placed.append((x - w, y - h, x + w, y + h))
    _tag(ax, x, y, text, size)


# ------------------------------------------------------------------ evaluation index
def _elbow(ax, a: _Node, b: _Node) -> None:
    """A tree connector from the right edge of ``a`` to the left edge of ``b`` (horizontal,
    vertical, horizontal), as hierarchy diagrams in theses are drawn."""
    x0, x1 = a.x + a.w / 2, b.x - b.w / 2
    mid = x0 + 0.45 * (x1 - x0)
    ax.plot([x0, mid, mid, x1], [a.y, a.y, b.y, b.y], **LINE, solid_capstyle="butt")


def _wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` inches: at spaces when it has them
    (English), else between characters (Chinese); a single long word stays whole."""
    parts = text.split(" ") if " " in text else list(text)
    sep = " " if " " in text else ""
    lines: list[str] = []
    for part in parts:
        trial = f"{lines[-1]}{sep}{part}" if lines else part
        if lines and _text_size(trial, size)[0] > width:
            lines.append(part)
        else:
            lines[-1:] = [trial]
    return lines


def _hier_box(ax, x: float, y: float, w: float, h: float, lines: list[str], weight: str | None, size: float, *,
              fill: str, color: str = "black", dashed: bool = False) -> _Node:
    """A box with its (wrapped) label and, below it, the weight in red."""
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, fc=fill, ec="#333" if fill != PALETTE[0] else fill, lw=0.9,
                           ls="--" if dashed else "-"))
    step = size * 1.25 / 72
    n = len(lines) + (weight is not None)
    for k, line in enumerate(lines):
        ax.text(x, y + (n - 1) / 2 * step - k * step, line, ha="center", va="center", fontsize=size, color=color, zorder=4)
    if weight is not None:
        ax.text(x, y - (n - 1) / 2 * step, weight, ha="center", va="center", fontsize=size - 1, color=PALETTE[1], zorder=4)
    return _Node(x, y, w, h, "box")


def index_hierarchy(hierarchy: pd.DataFrame, root: str, names: dict[str, str], labels: dict | None = None) -> object:
    """The evaluation index system as a left-to-right tree: the goal, its first-level
    indicators (stages) and their second-level indicators (dimensions), each box with its label
    (wrapped to at most ~1.9 in, so the tree fits a page's text width) and, below it, its weight
    (``hierarchy["weight"]``: the weight the index uses — the combined weight when expert and
    objective weights are combined, normalised over the indicators, a higher node's the sum
    below it — three decimals). ``labels["note"]`` is printed under the tree and should say which
    weight that is; ``labels["excluded"]`` lists nodes drawn with a dashed outline.
    Deeper levels (items) are summarised by their dimension."""
    labels, size = labels or {}, 9
    rows = hierarchy[hierarchy["level"] <= 2]
    first = [n for n in rows.index if rows.loc[n, "level"] == 1]
    kids = {s: [n for n in rows.index if rows.loc[n, "parent"] == s] for s in first}
    leaves = [k for s in first for k in (kids[s] or [s])]
    text = {n: _wrap(_safe(names.get(n, n)), 1.9, size) for n in rows.index}
    top_lines = _wrap(_safe(names.get(root, root)), 1.5, size + 1)
    line = size * 1.25 / 72
    box_h = {n: (len(text[n]) + 1) * line + 0.16 for n in rows.index}
    widths = {n: max(_text_size(t, size)[0] for t in text[n]) + 0.3 for n in rows.index}
    rw = max(_text_size(t, size + 1)[0] for t in top_lines) + 0.3
    sw, lw = max(widths[n] for n in first), max([widths[n] for n in leaves if n not in first] or [0.0])
    pitch, gap = max(box_h[n] for n in leaves) + 0.1, 0.45
    note = _safe(labels.get("note", ""))
    bottom = 0.45 if note else 0.15
    fig, ax = _canvas(0.3 + rw + gap + sw + (gap + lw if lw else 0), bottom + len(leaves) * pitch + 0.1)
    y = {n: bottom + (len(leaves) - k - 0.5) * pitch for k, n in enumerate(leaves)}
    y.update({s: float(np.mean([y[k] for k in kids[s]])) for s in first if kids[s]})
    xs = {1: 0.15 + rw + gap + sw / 2, 2: 0.15 + rw + gap + sw + gap + lw / 2}
    top = _hier_box(ax, 0.15 + rw / 2, float(np.mean([y[s] for s in first])), rw, len(top_lines) * line + 0.3, top_lines,
                    None, size + 1, fill=PALETTE[0], color="white")
    excluded = set(labels.get("excluded", ()))
    stage = {}
    for n in sorted(rows.index, key=lambda n: int(rows.loc[n, "level"])):       # stages before their dimensions
        level = int(rows.loc[n, "level"])
        node = _hier_box(ax, xs[level], y[n], sw if level == 1 else lw, box_h[n], text[n], f"{float(rows.loc[n, 'weight']):.3f}",
                         size, fill="#eef3f8" if level == 1 else "white", dashed=n in excluded)
        stage[n] = node
        _elbow(ax, top if level == 1 else stage[rows.loc[n, "parent"]], node)
    if note:
        ax.text(0.15, 0.12, note, ha="left", va="bottom", fontsize=8)
    return fig


def index_intervals(table: pd.DataFrame, units: dict, labels) -> object:
    """Each unit's index (a point) with its bootstrap interval (a line), best at the top;
    ``units`` maps a unit to its label, ``labels["xlabel"]`` names the axis."""
    order = table.sort_values("index", ascending=True)
    fig, ax = _fig(6.4, max(2.4, 0.32 * len(order) + 0.9))
    yv = np.arange(len(order))
    if {"ci_low", "ci_high"} <= set(order.columns):
        ax.hlines(yv, order["ci_low"].astype(float), order["ci_high"].astype(float), color="#888", lw=1.2)
    ax.plot(order["index"].astype(float), yv, "o", color=PALETTE[0], ms=5)
    ax.set_yticks(yv, [_safe(units.get(u, u)) for u in order.index])
    ax.set_xlabel(_safe(labels["xlabel"]))
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    return fig
