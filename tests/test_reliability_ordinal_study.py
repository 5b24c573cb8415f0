"""``reliability: {ordinal: true}`` in a study spec: ordinal α and ω (Zumbo, Gadermann & Zeisser,
2007) from polychoric correlations beside the Pearson-based coefficients, labelled as such."""

from __future__ import annotations

import re

import pytest

import govsurvey as gs
from govsurvey.report.document import Paragraph, Table, build_document, fmt
from govsurvey.study import Study
from example_spec import example_spec

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

CAPTION = {"zh": "各维度信度", "en": "Reliability by construct"}
COLUMNS = {"zh": ("有序 α", "有序 ω"), "en": ("Ordinal α", "Ordinal ω")}


def _run(tmp_path, reliability: dict, language: str = "zh"):
    """The example study with only the reliability analysis."""
    results = Study.from_yaml(example_spec(tmp_path, {"reliability": reliability}, language=language)).run()
    assert not results.failures
    return results, build_document(results)


def _blocks(doc, kind):
    return [b for s in doc.sections for b in s.blocks if isinstance(b, kind)]


def _table(doc, language: str) -> Table:
    return next(b for b in _blocks(doc, Table) if b.caption == CAPTION[language])


@pytest.fixture(scope="module")
def ordinal_zh(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("ord"), {"constructs": ["trust", "satisfaction"], "ordinal": True})


def test_ordinal_alpha_equals_ordinal_reliability_on_the_same_items(ordinal_zh):
    results, _ = ordinal_zh
    step = results.analyses["reliability"]
    assert list(step.ordinal) == ["trust", "satisfaction"] == list(step.reliability)
    keyed = gs.reverse_code(results.screening.clean, results.instrument)
    for c, ours in step.ordinal.items():
        with pytest.warns(gs.DataWarning):          # listwise deletion and sparse cross-tables, as in the study
            theirs = gs.ordinal_reliability(keyed[results.instrument.items_of(c)])
        assert ours.alpha == pytest.approx(theirs.alpha, rel=1e-12)
        assert ours.omega_total == pytest.approx(theirs.omega_total, rel=1e-12)
        assert ours.n_items == step.reliability[c].n_items
        assert ours.alpha != pytest.approx(step.reliability[c].alpha, abs=1e-6)   # not the Pearson α again


def test_report_table_has_ordinal_columns_note_and_sentence(ordinal_zh):
    results, doc = ordinal_zh
    step = results.analyses["reliability"]
    table = _table(doc, "zh")
    oa, ow = COLUMNS["zh"]
    assert list(table.frame.columns[-2:]) == [oa, ow]
    rows = list(step.ordinal.values())
    assert list(table.frame[oa]) == [fmt(o.alpha, bounded=True) for o in rows]
    assert list(table.frame[ow]) == [fmt(o.omega_total, bounded=True) for o in rows]
    assert "多分格相关" in table.note and "Zumbo, Gadermann & Zeisser, 2007" in table.note
    sentence = next(p.text for p in _blocks(doc, Paragraph) if "Cronbach's α" in p.text)
    lo, hi = min(o.alpha for o in rows), max(o.alpha for o in rows)
    assert f"有序 α 为 {fmt(lo, bounded=True)}–{fmt(hi, bounded=True)}" in sentence
    # the Chinese text adds no English words beyond symbols and the cited authors
    words = re.findall(r"[A-Za-z][A-Za-z']*", table.note + sentence)
    assert set(words) <= {"Cronbach's", "Feldt", "Guttman", "Nunnally", "Zumbo", "Gadermann", "Zeisser", "n", "r"}


def test_english_report_labels_the_ordinal_columns(tmp_path):
    results, doc = _run(tmp_path, {"constructs": ["trust", "satisfaction"], "ordinal": True}, "en")
    table = _table(doc, "en")
    oa, ow = COLUMNS["en"]
    assert table.frame.loc[0, oa] == fmt(results.analyses["reliability"].ordinal["trust"].alpha, bounded=True)
    assert ow in table.frame.columns and "polychoric" in table.note


def test_higher_order_totals_get_ordinal_coefficients_too(tmp_path):
    results, doc = _run(tmp_path, {"ordinal": True})
    step = results.analyses["reliability"]
    assert step.totals and list(step.ordinal_totals) == list(step.totals)
    h, total = next(iter(step.ordinal_totals.items()))
    assert total.n_items == step.totals[h].n_items
    table = _table(doc, "zh")
    row = table.frame.iloc[len(step.reliability)]                       # first total row follows the constructs
    assert row["有序 α"] == fmt(total.alpha, bounded=True) and row["有序 ω"] == fmt(total.omega_total, bounded=True)


def test_default_has_no_ordinal_columns(tmp_path):
    results, doc = _run(tmp_path, {"constructs": ["trust", "satisfaction"]})
    step = results.analyses["reliability"]
    assert step.ordinal == {} and step.ordinal_totals == {}
    table = _table(doc, "zh")
    assert not set(COLUMNS["zh"]) & set(table.frame.columns)
    assert "多分格相关" not in table.note
