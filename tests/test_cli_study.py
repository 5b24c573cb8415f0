"""The CLI and the study runner: outputs, provenance, idempotence and error exits."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import govsurvey as gs
from govsurvey.cli import app
from govsurvey.study import Study

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _input_hashes() -> dict[str, str]:
    """Every file the example study reads: the spec, the instruments, the survey and interview files."""
    paths = [ROOT / "analyses" / "example.yaml", *sorted((ROOT / "instruments").rglob("*")),
             *sorted(gs.datasets.example_dir().rglob("*"))]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _no_network(*args, **kwargs):
    raise AssertionError(f"network access attempted: {args[:2]}")


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """The README's main job, once: the full example study through the CLI — with every socket
    connection and name lookup turned into a failure, so the run proves it needs no network."""
    import socket

    out = tmp_path_factory.mktemp("example")
    (out / "mine.txt").write_text("not govsurvey's")
    hashes = _input_hashes()
    before = hashes[str(gs.datasets.example_files()["xlsx"].relative_to(ROOT))]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket.socket, "connect_ex", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        mp.setattr(socket, "getaddrinfo", _no_network)
        result = runner.invoke(app, ["run", str(ROOT / "analyses" / "example.yaml"), "--out", str(out)])
    return out, result, before, hashes


def test_inputs_are_never_modified(example_run):
    out, result, _, hashes = example_run
    assert result.exit_code == 0, result.output
    assert len(hashes) >= 8
    assert _input_hashes() == hashes


def test_no_interviewee_name_in_any_output_file(example_run, files):
    """Interviewees' real names (the cases file's name column) appear in no file the study wrote."""
    import shutil
    import subprocess
    import zipfile

    out, result, _, _ = example_run
    assert result.exit_code == 0, result.output
    names = [n for n in pd.read_csv(files["cases"])["name"].dropna().astype(str) if len(n) >= 2]
    assert names
    texts = {}
    for path in out.iterdir():
        if path.name == "mine.txt":
            continue
        if path.suffix in (".html", ".json", ".csv"):
            texts[path.name] = path.read_text(encoding="utf-8")
        elif path.suffix == ".docx":
            with zipfile.ZipFile(path) as z:
                texts[path.name] = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
        elif path.suffix == ".pdf" and shutil.which("pdftotext"):
            texts[path.name] = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert {"report.html", "results.json", "report.docx", "scores.csv"} <= set(texts)
    leaked = {name: [n for n in names if n in text] for name, text in texts.items()}
    assert not any(leaked.values()), f"real names in outputs: {leaked}"


def test_the_package_has_no_network_code():
    """No module of the package imports a network client (the run above also blocks sockets)."""
    import re

    pattern = re.compile(r"^\s*(import|from)\s+(socket|urllib\.request|http\.client|requests|httpx|aiohttp|ftplib|smtplib)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "src" / "govsurvey").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders, offenders


def test_run_example_study(example_run, files):
    out, result, before, _ = example_run
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
    assert not list(out.glob(".govsurvey-tmp-*")) and not list(out.glob(".govsurvey-staging-*"))  # nothing temporary left
    assert not (out / ".govsurvey.lock").exists()
    manifest = json.loads((out / "govsurvey-manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"report.html", "report.pdf", "report.docx", "results.json", "scores.csv",
                                      "exclusions.csv", "failure_cases.csv"}


def test_study_results_api(example_run):
    out, _, _, _ = example_run
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    spec = Study.from_yaml(ROOT / "analyses" / "example.yaml")
    assert spec.seed == 20261124 and "cfa" in spec.analyses
    desc = data["descriptives"]
    index = desc["index"]
    n = desc["data"][index.index("reserves")][desc["columns"].index("n")]
    assert 580 <= n <= 600  # min_valid 0.75: one missing item of four is prorated
    analyses = data["analyses"]
    for key in ("reliability", "cfa", "efa", "capacity_gaps", "joint_display", "link_codes", "mediation", "correlations", "code_matrix"):
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
    [("name: x\n", "the option 'instrument' is missing"),
     ("name: x\ninstrument: a.yaml\ndata: d.csv\nscreening: {speed: 1}\n", r"line 4 \(screening.speed\): unknown key 'speed'"),
     ("name: x\ninstrument: a.yaml\ndata: d.csv\ncolour: red\n", r"line 4 \(top level.colour\): unknown key 'colour'"),
     ("name: x\ninstrument: a.yaml\ndata: d.csv\nseed: abc\n", "seed='abc' must be a whole number"),
     ("[1, 2", "not valid YAML")],
)
def test_bad_study_specs(tmp_path, body, match):
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(gs.SpecificationError, match=match):
        Study.from_yaml(path)
