"""`govsurvey run` on the property suite's hostile tables: every run ends in outputs with
failures marked (exit 1), a clear error (exit 2), or success (exit 0) — never a traceback and
never the CLI's "Internal error" safety net."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from govsurvey.cli import app
from test_properties_api import hostile_frames

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

runner = CliRunner()

INSTRUMENT = textwrap.dedent("""
    name: hostile
    version: "1"
    languages: [zh, en]
    title: {zh: 敌意问卷, en: Hostile}
    scales:
      agree5:
        type: likert
        min: 1
        max: 5
        labels:
          zh: {1: 非常不同意, 2: 不同意, 3: 一般, 4: 同意, 5: 非常同意}
          en: {1: Strongly disagree, 2: Disagree, 3: Neutral, 4: Agree, 5: Strongly agree}
    constructs:
      a:
        label: {zh: 甲, en: A}
        scale: agree5
        items:
          - {id: x1, text: {zh: 题一, en: One}}
          - {id: x2, text: {zh: 题二, en: Two}, reverse: true}
      b:
        label: {zh: 乙, en: B}
        scale: agree5
        items:
          - {id: x3, text: {zh: 题三, en: Three}}
          - {id: x4, text: {zh: 题四, en: Four}}
      c:
        label: {zh: 丙, en: C}
        scale: agree5
        items:
          - {id: x5, text: {zh: 题五, en: Five}}
          - {id: x6, text: {zh: 题六, en: Six}}
    demographics:
      - {id: g, type: text, text: {zh: 组, en: Group}}
""")

SPEC = textwrap.dedent("""
    name: hostile
    instrument: inst.yaml
    data: data.csv
    screening: {straightline: false, duplicates: false}
    analyses:
      reliability: {n_boot: 0}
      efa: {n_factors: 3, n_iter: 5}
      harman: true
      cfa: true
      validity: true
      descriptives: {by: g}
      correlations: true
      compare_groups: [{dv: a, group: g}]
      regressions: [{formula: "c ~ a + b + C(g)"}]
      multilevel: [{formula: "c ~ a", groups: g}]
      mediation: [{x: a, m: b, y: c, n_boot: 100}]
      moderation: [{x: a, w: b, y: c}]
      capacity_gaps: {target: 4}
    formats: [json]
    seed: 1
""")


@st.composite
def survey_frames(draw) -> pd.DataFrame:
    """Mostly ordinary survey data (three correlated two-item scales and a group) with a few
    hostile touches: missing answers, a constant item, an out-of-range code, odd groups."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.sampled_from([5, 12, 40, 150]))
    f = rng.standard_normal((n, 1)) + 0.6 * rng.standard_normal((n, 3))
    raw = np.repeat(f, 2, axis=1) + rng.standard_normal((n, 6))
    frame = pd.DataFrame(np.clip(np.round(3 + raw), 1, 5), columns=[f"x{j}" for j in range(1, 7)])
    for touch in draw(st.lists(st.sampled_from(["nan", "constant", "out_of_range", "one_group", "none_group", "huge_group"]), max_size=3)):
        col = f"x{draw(st.integers(1, 6))}"
        if touch == "nan":
            frame.loc[rng.random(n) < 0.3, col] = np.nan
        elif touch == "constant":
            frame[col] = 3.0
        elif touch == "out_of_range":
            frame.loc[0, col] = 9.0
    groups = draw(st.sampled_from([["甲", "乙"], ["甲", "乙", "丙"], ["甲"], ["甲", None], [f"g{k}" for k in range(n)]]))
    frame["g"] = [groups[i % len(groups)] for i in rng.permutation(n)]
    return frame


@settings(max_examples=40)
@given(frame=st.one_of(hostile_frames(min_cols=6, max_cols=6, group=True), survey_frames()))
def test_govsurvey_run_never_ends_in_a_bare_exception(tmp_path_factory, frame):
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "inst.yaml").write_text(INSTRUMENT, encoding="utf-8")
    (folder / "spec.yaml").write_text(SPEC, encoding="utf-8")
    frame.to_csv(folder / "data.csv", index=False)
    result = runner.invoke(app, ["run", str(folder / "spec.yaml"), "--out", str(folder / "out")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Internal error" not in result.output and "Traceback" not in result.output, result.output
    if result.exit_code in (0, 1):
        data = json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
        assert (result.exit_code == 1) == bool(data["failed"])
        for failure in data["failed"]:
            assert failure["error"] != "AnalysisError", failure       # a bare exception inside an analysis
            assert failure["message"], failure
    else:
        assert "Error" in result.output
