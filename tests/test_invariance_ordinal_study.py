"""``invariance: {group: ..., ordered: true}`` in a study spec: Wu & Estabrook's sequence by
WLSMV, the report's table showing the scaled χ²/CFI/RMSEA and the Satorra (2000) Δχ²."""

from __future__ import annotations


import pytest

import govsurvey as gs
from govsurvey.report.document import Table, build_document, fmt
from govsurvey.study import Study
from example_spec import example_spec

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

def _run(tmp_path, invariance: dict, language: str):
    results = Study.from_yaml(example_spec(tmp_path, {"invariance": invariance}, language=language)).run()
    return results, build_document(results)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_ordinal_invariance_section(tmp_path, language):
    results, doc = _run(tmp_path, {"group": "gender", "constructs": ["trust", "satisfaction"], "ordered": True}, language)
    assert not results.failures
    table = results.analyses["invariance"].table
    assert list(table.index) == ["configural", "thresholds", "metric", "scalar"]
    keyed = gs.reverse_code(results.screening.clean, results.instrument)
    direct = gs.invariance(keyed, results.instrument.cfa_model(["trust", "satisfaction"]), "gender", ordered=True)
    assert table["chisq_diff"].iloc[1:].tolist() == pytest.approx(direct["chisq_diff"].iloc[1:].tolist(), rel=1e-12)
    shown = next(b for s in doc.sections for b in s.blocks if isinstance(b, Table)
                 and ("等值" in b.caption or "invariance" in b.caption.lower()))
    first_col = shown.frame.iloc[:, 0].tolist()
    assert first_col[1] == ("阈值等值" if language == "zh" else "Thresholds (equal thresholds)")
    chi = shown.frame["χ²"].tolist()
    assert chi == [fmt(v, 2) for v in table["chisq_scaled"]]          # the scaled-shifted χ², not the DWLS one
    assert ("Satorra（2000）" if language == "zh" else "Satorra (2000)") in shown.note
    assert "Wu & Estabrook" in shown.note


def test_ordered_with_mlr_is_refused(tmp_path):
    results, _ = _run(tmp_path, {"group": "gender", "constructs": ["trust"], "ordered": True, "estimator": "MLR"}, "en")
    (failure,) = results.failures
    assert failure.key == "invariance" and failure.error == "DataValidationError"
    assert "WLSMV" in failure.message
