"""Thesis figures: CFA and path diagrams, the IPA map — every value drawn, labels legible
(no two text boxes overlap, none leaves the canvas), deterministic SVG, PNG at 300 dpi."""

from __future__ import annotations

import struct
from collections import Counter

import numpy as np
import pytest

import govsurvey as gs
from govsurvey.report import figures as F

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
QUADRANTS = {"performance": "表现（均值）", "importance": "重要性（均值）", "concentrate": "重点改进区", "keep": "继续保持区",
             "low_priority": "低优先区", "overkill": "过度投入区"}


@pytest.fixture(scope="module")
def data(inst):
    clean = gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean
    return gs.reverse_code(clean, inst)


@pytest.fixture(scope="module")
def names(inst):
    return {k: c.label["zh"] for k, c in inst.constructs.items()}


@pytest.fixture(scope="module")
def fit3(inst, data):
    return gs.cfa(data, inst.cfa_model(["trust", "satisfaction", "reserves"]))


@pytest.fixture(scope="module")
def scores(inst, data):
    return gs.score(data, inst)


@pytest.fixture(scope="module")
def med(scores):
    return gs.mediation(scores, x="information", m="trust", y="participation", n_boot=200, seed=1)


def texts(fig):
    """The texts drawn: titles, labels, annotations and the tick labels inside the view."""
    from matplotlib.text import Text

    fig.canvas.draw()
    hidden = set()
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            hidden |= {id(t.label1) for t in axis.get_major_ticks() if not lo - 1e-9 <= t.get_loc() <= hi + 1e-9}
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def strings(fig) -> Counter:
    return Counter(t.get_text() for t in texts(fig))


def assert_legible(fig):
    """No two text boxes overlap (by more than half a pixel) and all lie inside the canvas."""
    shown = texts(fig)
    boxes = [t.get_window_extent() for t in shown]
    canvas = fig.bbox
    for t, b in zip(shown, boxes):
        assert b.x0 >= canvas.x0 - 0.5 and b.y0 >= canvas.y0 - 0.5 and b.x1 <= canvas.x1 + 0.5 and b.y1 <= canvas.y1 + 0.5, \
            f"{t.get_text()!r} leaves the figure"
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            ox, oy = min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)
            assert ox <= 0.5 or oy <= 0.5, f"{shown[i].get_text()!r} overlaps {shown[j].get_text()!r}"


def test_coefficients_are_formatted_as_in_apa_style():
    assert [F.coef(v) for v in (0.7149, -0.3, 1.0, 0.004)] == [".71", "\u2212.30", "1.00", ".00"]
    assert F.coef(0.4635, leading_zero=True) == "0.46"
    assert [F.stars(p) for p in (0.0004, 0.004, 0.04, 0.2, float("nan"))] == ["***", "**", "*", "", ""]


def test_cfa_diagram_draws_every_loading_item_factor_and_correlation(fit3, names):
    fig = F.cfa_diagram(fit3, names)
    shown = strings(fig)
    expected = Counter(F.coef(v) for v in fit3.loadings["std_all"])
    r = fit3.factor_correlations
    expected.update(F.coef(r.iloc[i, j]) for i in range(len(r)) for j in range(i + 1, len(r)))
    assert not expected - shown, "loading or correlation missing"
    assert set(fit3.loadings["item"]) | {names[f] for f in r.index} | {f"e{k}" for k in range(1, 12)} <= set(shown)
    assert_legible(fig)


def test_each_loading_label_sits_on_its_own_arrow(fit3, names):
    """The value label nearest the line from an item box to its factor's oval is that item's loading."""
    shown = texts(F.cfa_diagram(fit3, names))
    centre = {t.get_text(): np.array(t.get_window_extent().get_points().mean(axis=0)) for t in shown}
    values = [t for t in shown if t.get_text().startswith(".")]
    for _, row in fit3.loadings.iterrows():
        item, factor = centre[row["item"]], centre[names[row["factor"]]]

        def distance(t, item=item, factor=factor):
            c = np.array(t.get_window_extent().get_points().mean(axis=0))
            u = np.clip(np.dot(c - item, factor - item) / np.dot(factor - item, factor - item), 0, 1)
            return np.linalg.norm(item + u * (factor - item) - c)

        assert min(values, key=distance).get_text() == F.coef(row["std_all"])


def test_the_full_cfa_stays_legible_in_panels(inst, data, names):
    fit = gs.cfa(data, inst.cfa_model())
    fig = F.cfa_diagram(fit, names, {"note": "注：因子间相关系数见表 4-6。"})
    shown = strings(fig)
    assert fit.loadings["factor"].nunique() == 14 and len(fit.loadings) == 49
    assert not Counter(F.coef(v) for v in fit.loadings["std_all"]) - shown
    assert set(fit.loadings["item"]) | {names[f] for f in fit.loadings["factor"]} <= set(shown)
    width, height = fig.get_size_inches()
    assert height < 12 and width < 10          # two panels, not one 18-inch column
    assert_legible(fig)


def test_ipa_labels_never_overlap_and_quadrants_come_from_labels(inst, names):
    clean = gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean
    dims = list(inst.importance_items)
    gaps = gs.capacity_gaps(gs.score(clean, inst)[dims], importance=gs.score_importance(clean, inst))
    fig = F.ipa(gaps, names, QUADRANTS)
    shown = set(strings(fig))
    assert set(QUADRANTS.values()) | {names[d] for d in dims} <= shown
    assert not any(any(c.isascii() and c.isalpha() for c in s) for s in shown), "English text in a Chinese figure"
    assert_legible(fig)


def test_ipa_repels_labels_of_points_on_top_of_each_other(names):
    import pandas as pd

    gaps = pd.DataFrame({"mean": [3.0, 3.0, 3.0, 3.01, 4.0], "importance": [4.0, 4.0, 4.0, 4.01, 3.5]},
                        index=["plans", "reserves", "warning", "training", "grid"])
    fig = F.ipa(gaps, names, {"performance": "P", "importance": "I", "concentrate": "C", "keep": "K"})
    assert {"Low priority", "Possible overkill"} <= set(strings(fig))      # English fallbacks
    assert_legible(fig)


def test_mediation_diagram_shows_a_b_c_prime_and_the_total_effect(med, names):
    fig = F.mediation_diagram(med, names)
    t = med.table

    def tag(row):
        return F.coef(t.loc[row, "estimate"], leading_zero=True) + F.stars(t.loc[row, "p"])

    shown = set(strings(fig))
    assert {f"a = {tag('a')}", f"b = {tag('b')}", f"c\u2032 = {tag('c_prime')} (c = {tag('total')})"} <= shown
    assert {names["information"], names["trust"], names["participation"]} <= shown
    assert_legible(fig)


def test_parallel_mediation_and_path_diagrams_are_legible(scores, names):
    med2 = gs.mediation(scores, x="information", m=["trust", "satisfaction"], y="participation", n_boot=200, seed=1)
    fig = F.mediation_diagram(med2, names, {"note": "注：* p < .05，** p < .01，*** p < .001。"})
    assert {"a1 = " + F.coef(med2.table.loc["a_trust", "estimate"], leading_zero=True) + "***"} <= set(strings(fig))
    assert_legible(fig)
    for model in ("trust ~ information\nsatisfaction ~ information + trust\nparticipation ~ trust + information + satisfaction",
                  "trust ~ information + grid\nparticipation ~ trust + information + satisfaction"):
        est = gs.sem(scores, model).estimates
        fig = F.path_diagram(est, names)
        reg = est[est["op"] == "~"]
        expected = Counter(F.coef(v) + F.stars(p) for v, p in zip(reg["std_all"], reg["p"]))
        assert not expected - strings(fig)
        assert_legible(fig)


def test_path_diagram_never_runs_an_arrow_through_a_node(scores, names):
    est = gs.sem(scores, "trust ~ information\nsatisfaction ~ information + trust\n"
                         "participation ~ trust + information + satisfaction").estimates
    ys = {t.get_text(): t.get_window_extent().y0 for t in texts(F.path_diagram(est, names))}
    assert ys[names["trust"]] != ys[names["information"]] != ys[names["satisfaction"]]


def test_svg_is_deterministic_and_png_honours_dpi(fit3, med, names):
    for build in (lambda: F.cfa_diagram(fit3, names), lambda: F.mediation_diagram(med, names)):
        assert F.svg(build()) == F.svg(build())

    def width(png: bytes) -> int:
        return struct.unpack(">I", png[16:20])[0]

    low, high = width(F.png(F.mediation_diagram(med, names))), width(F.png(F.mediation_diagram(med, names), dpi=300))
    assert np.isclose(high / low, 2.0, rtol=0.02)
