"""The CLI and the study runner: outputs, provenance, idempotence and error exits."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import govsurvey as gs
from govsurvey.cli import app
from govsurvey.study import Study

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """The README's main job, once: the full example study through the CLI."""
    out = tmp_path_factory.mktemp("example")
    (out / "mine.txt").write_text("not govsurvey's")
    before = hashlib.sha256(gs.datasets.example_files()["xlsx"].read_bytes()).hexdigest()
    result = runner.invoke(app, ["run", str(ROOT / "analyses" / "example.yaml"), "--out", str(out)])
    return out, result, before


def test_run_example_study(example_run, files):
    out, result, before = example_run
    assert result.exit_code == 0, result.output
    assert "excluded 40" in result.output
    for name in ("report.html", "report.pdf", "report.docx", "results.json", "scores.csv", "exclusions.csv", "failure_cases.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "mine.txt").read_text() == "not govsurvey's"  # files it did not write are left alone
    assert hashlib.sha256(files["xlsx"].read_bytes()).hexdigest() == before  # input untouched
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["provenance"]["inputs"]["wjx_text_export.xlsx"] == before
    assert data["provenance"]["seed"] == 20261124
    assert data["provenance"]["packages"]["pandas"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "样本与筛查" in html and "应急物资储备" in html and "联合展示" in html
    assert not list(out.glob(".*.tmp*"))  # no temporary files left behind


def test_study_results_api(example_run):
    out, _, _ = example_run
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    spec = Study.from_yaml(ROOT / "analyses" / "example.yaml")
    assert spec.seed == 20261124 and "cfa" in spec.analyses
    desc = data["descriptives"]
    index = desc["index"]
    n = desc["data"][index.index("reserves")][desc["columns"].index("n")]
    assert 580 <= n <= 600  # min_valid 0.75: one missing item of four is prorated
    analyses = data["analyses"]
    for key in ("reliability", "cfa", "efa", "gaps", "joint_display", "link_codes", "mediation"):
        assert key in analyses, key
    assert repr(spec).startswith("Study('example'")


def test_validate_and_score_commands(tmp_path, files):
    inst_path = gs.datasets.instrument_path("community_phe_survey")
    result = runner.invoke(app, ["validate", str(inst_path), "--data", str(files["csv"])])
    assert result.exit_code == 0, result.output
    assert "Data OK" in result.output and "Wenjuanxing" in result.output
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["score", str(inst_path), str(files["xlsx"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("respondent,capacity")


def test_cli_errors_exit_2_with_the_message(tmp_path, files):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nlanguages: [zh]\ntitle: {zh: x}\nconstructs:\n  a:\n    label: {zh: a}\n    items:\n      - {id: A1, text: {zh: t}, scale: nope}\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "scale 'nope' is not defined" in result.output
    result = runner.invoke(app, ["validate", str(gs.datasets.instrument_path("community_phe_survey")),
                                 "--data", str(files["csv"]), "--encoding", "utf-8"])
    assert result.exit_code == 2 and "encoding" in result.output


@pytest.mark.parametrize(
    "body, match",
    [("name: x\n", "has no 'instrument'"),
     ("name: x\ninstrument: a.yaml\ndata: d.csv\nscreening: {speed: 1}\n", "unknown key\\(s\\) under screening: speed"),
     ("name: x\ninstrument: a.yaml\ndata: d.csv\ncolour: red\n", "unknown key\\(s\\) under the top level: colour"),
     ("name: x\ninstrument: a.yaml\ndata: d.csv\nseed: abc\n", "seed must be a whole number"),
     ("[1, 2", "not valid YAML")],
)
def test_bad_study_specs(tmp_path, body, match):
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(gs.SpecificationError, match=match):
        Study.from_yaml(path)
