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
from functools import lru_cache

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["setup", "svg", "png", "scree", "loadings_heatmap", "cfa_loadings", "correlation_heatmap",
           "distributions", "ipa", "code_heatmap", "joint_figure", "cjk_font_path"]

PALETTE = ["#1f5a8c", "#c0392b", "#2e8b57", "#d68910", "#6c3483", "#5d6d7e"]
CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
             "Microsoft YaHei", "SimHei", "PingFang SC")


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """Path of an installed CJK font (the project's set-up installs WenQuanYi Micro Hei)."""
    from matplotlib import font_manager

    for name in CJK_FONTS:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
            if path:
                return path
        except (ValueError, RuntimeError):
            continue
    for f in font_manager.findSystemFonts():
        if re.search(r"wqy|noto.*cjk|sourcehan|simhei|msyh", f, re.I):
            return f
    return None


@lru_cache(maxsize=1)
def setup() -> str:
    """Configure matplotlib once; return the font family used for labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    family = "DejaVu Sans"
    path = cjk_font_path()
    if path:
        font_manager.fontManager.addfont(path)
        family = font_manager.FontProperties(fname=path).get_name()
    else:
        log.warning("No CJK font found: Chinese labels will not render. Run the project's set-up (scripts/dev) to install one.")
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
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    if prefix:
        text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
        text = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', text)
        text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    return text


def png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight")
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
    fig, ax = _fig(6.4, 4.8)
    x, y = gaps["mean"], gaps["importance"]
    ax.scatter(x, y, color=PALETTE[0], zorder=3)
    for dim in gaps.index:
        ax.annotate(_safe(names.get(dim, dim)), (x[dim], y[dim]), xytext=(4, 3), textcoords="offset points", fontsize=8)
    ax.axvline(x.mean(), color="#999", lw=0.8, ls="--")
    ax.axhline(y.mean(), color="#999", lw=0.8, ls="--")
    ax.set_xlabel(labels["performance"])
    ax.set_ylabel(labels["importance"])
    ax.text(0.02, 0.98, labels["concentrate"], transform=ax.transAxes, va="top", color=PALETTE[1], fontsize=8)
    ax.text(0.98, 0.98, labels["keep"], transform=ax.transAxes, va="top", ha="right", fontsize=8)
    return fig


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
