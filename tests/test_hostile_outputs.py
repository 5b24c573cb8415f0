"""Output folders: never an input replaced, never a half-written or mixed folder, one run at a
time, nothing temporary left behind by a killed run, operating-system errors as clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import govsurvey as gs
from govsurvey.cli import app
from govsurvey.data.outputs import LOCK, MANIFEST
from govsurvey.study import Study

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

EXAMPLE = gs.datasets.example_dir()
runner = CliRunner()


def _spec(folder: Path, data: Path, formats: str = "[json, html]") -> Path:
    path = folder / "spec.yaml"
    path.write_text(f"name: t\ninstrument: {gs.datasets.instrument_path('community_phe_survey')}\ndata: {data}\n"
                    f"analyses: {{reliability: true}}\nformats: {formats}\nseed: 1\n", encoding="utf-8")
    return path


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("res")
    return Study.from_yaml(_spec(folder, EXAMPLE / "survey.sav")).run()


def test_run_refuses_an_out_folder_whose_output_names_are_its_inputs(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    data = proj / "exclusions.csv"
    shutil.copy(EXAMPLE / "survey.sav", proj / "x.sav")
    gs.read_responses(proj / "x.sav", gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))).to_csv(data)
    before = _hash(data)
    result = runner.invoke(app, ["run", str(_spec(tmp_path, data)), "--out", str(proj)])
    assert result.exit_code == 2, result.output
    assert "would replace the input" in " ".join(result.output.split()) and "exclusions.csv" in result.output
    assert _hash(data) == before and not (proj / "results.json").exists() and not (proj / MANIFEST).exists()


def test_a_link_to_an_input_is_refused_too(tmp_path, results):
    out = tmp_path / "out"
    out.mkdir()
    data_link = out / "scores.csv"
    os.symlink(results.study.data["path"], data_link)
    before = _hash(Path(results.study.data["path"]))
    with pytest.raises(gs.ReportError, match="would replace the input"):
        results.write_outputs(out)
    assert _hash(Path(results.study.data["path"])) == before and data_link.is_symlink()


def test_score_never_writes_over_its_input(tmp_path, files):
    data = tmp_path / "scores.csv"
    shutil.copy(files["csv"], data)
    before = _hash(data)
    inst = str(gs.datasets.instrument_path("community_phe_survey"))
    result = runner.invoke(app, ["score", inst, str(data), "--out", str(data)])
    assert result.exit_code == 2 and "would replace the input" in " ".join(result.output.split()) and _hash(data) == before
    result = runner.invoke(app, ["score", inst, str(data)])          # the default: a new file beside the data
    assert result.exit_code == 0, result.output
    assert _hash(data) == before and (tmp_path / "scores_scores.csv").exists()


def test_a_second_run_into_the_same_folder_is_refused_while_one_writes(tmp_path, results):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK).write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename, "run": "x"}), encoding="utf-8")
    with pytest.raises(gs.ReportError, match=r"Another govsurvey run \(process \d+\) is writing into"):
        results.write_outputs(out)
    assert sorted(p.name for p in out.iterdir()) == [LOCK]


def test_what_a_killed_run_left_is_cleaned_up(tmp_path, results):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    (out / LOCK).write_text(json.dumps({"pid": int(dead), "host": os.uname().nodename}), encoding="utf-8")
    (out / f".govsurvey-staging-{dead}-abc").mkdir()
    (out / f".govsurvey-staging-{dead}-abc" / "report.html").write_text("half")
    (out / ".govsurvey-tmp-report.pdf-x1y2.pdf").write_bytes(b"%PDF half")
    (out / "mine.txt").write_text("not govsurvey's")
    paths, failures = results.write_outputs(out)
    assert not failures
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "mine.txt", *(p.name for p in paths.values())])


def test_the_folder_holds_one_runs_consistent_set(tmp_path, results, monkeypatch):
    """A format that fails in a later run removes that format's file of the earlier run; the
    manifest names the run, its files (with hashes) and what failed."""
    out = tmp_path / "out"
    first, _ = results.write_outputs(out, formats=("json", "html", "docx"))
    assert {"json", "html", "docx"} <= set(first)
    from govsurvey.report import docx as docx_writer

    def broken(res, path):
        raise gs.ReportError("Word output failed. Fix: none.")

    monkeypatch.setattr(docx_writer, "write_docx", broken)
    paths, failures = results.write_outputs(out, formats=("json", "html", "docx"))
    assert [f.key for f in failures] == ["output docx"] and not (out / "report.docx").exists()
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["failed_outputs"] == ["docx"] and set(manifest["files"]) == {p.name for p in paths.values()}
    for name, digest in manifest["files"].items():
        assert _hash(out / name) == digest


@pytest.mark.parametrize("case", ["out_is_a_file", "out_under_a_file", "output_name_is_a_folder"])
def test_operating_system_errors_are_clear(tmp_path, results, case):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    out = {"out_is_a_file": blocker, "out_under_a_file": blocker / "out", "output_name_is_a_folder": tmp_path / "out"}[case]
    if case == "output_name_is_a_folder":
        (out / "results.json").mkdir(parents=True)
    with pytest.raises(gs.ReportError, match="Fix:"):
        results.write_outputs(out)
    assert blocker.read_text() == "a file"


def test_control_characters_in_user_strings_do_not_break_word(tmp_path, results):
    """A title with control characters (from a spec or a data file) is written without them,
    with a warning naming where they were."""
    import dataclasses

    import docx

    study = dataclasses.replace(results.study, title={"zh": "社区\x07研究\x1b标题"})
    res = dataclasses.replace(results, study=study)
    with pytest.warns(gs.DataWarning, match="control character"):
        path = res.to_docx(tmp_path / "r.docx")
    assert "社区研究标题" in "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


@pytest.mark.parametrize("which", ["spec", "instrument"])
def test_a_pipe_as_spec_or_instrument_is_refused_at_once(tmp_path, which):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(gs.SpecificationError if which == "spec" else gs.InstrumentError, match="not a regular file"):
        (Study.from_yaml if which == "spec" else gs.load_instrument)(fifo)


def test_csv_outputs_neutralise_formula_cells(tmp_path, results):
    """Respondent ids such as =HYPERLINK(...) are written as text ('=...), never as live formulas."""
    import dataclasses

    ids = [f"=HYPERLINK(\"http://x\",\"{i}\")" if i % 2 else f"@SUM(A{i})" for i in range(len(results.scores))]
    res = dataclasses.replace(results, scores=results.scores.set_axis(ids))
    paths, failures = res.write_outputs(tmp_path / "out", formats=("json",))
    text = paths["scores"].read_text(encoding="utf-8-sig")
    rows = text.splitlines()[1:]
    assert rows and all(row.startswith(("'=", "\"'=", "'@")) for row in rows), rows[:3]


def test_kill_9_mid_run_leaves_the_previous_set_and_the_next_run_cleans_up(tmp_path):
    """A run killed while it computes and writes leaves the folder as the previous run left it
    (plus its staging folder and lock); the next run removes those and writes a complete set."""
    import signal
    import time

    spec = _spec(tmp_path, EXAMPLE / "survey.sav", formats="[json, html, docx, pdf]")
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(spec), "--out", str(out)]).exit_code == 0
    before = {p.name: _hash(p) for p in out.iterdir() if p.is_file()}
    proc = subprocess.Popen([sys.executable, "-m", "govsurvey.cli", "run", str(spec), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.name.startswith(".govsurvey-staging-") for p in out.iterdir()):
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = {p.name: _hash(p) for p in out.iterdir() if p.is_file() and not p.name.startswith(".govsurvey")}
    assert after == before                                   # nothing of the killed run was moved in
    assert runner.invoke(app, ["run", str(spec), "--out", str(out)]).exit_code == 0
    assert not [p.name for p in out.iterdir() if p.name.startswith(".govsurvey")]
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) | {MANIFEST} == {p.name for p in out.iterdir()}


@pytest.mark.parametrize("err, says", [(28, "the disk is full"), (13, "no permission to write there"), (30, "read-only file system")])
def test_disk_full_and_unwritable_folders_are_clear_errors(tmp_path, results, monkeypatch, err, says):
    """ENOSPC, EACCES and EROFS while the outputs are moved in (root ignores permissions, so the
    operating system's answer is simulated): a ReportError saying what happened, nothing half-done."""
    import errno

    from govsurvey.data import outputs

    assert err in (errno.ENOSPC, errno.EACCES, errno.EROFS)

    def refuse(src, dst):
        raise OSError(err, os.strerror(err), str(dst))

    monkeypatch.setattr(outputs.os, "replace", refuse)
    with pytest.raises(gs.ReportError, match=f"Cannot write outputs into .*{says}"):
        results.write_outputs(tmp_path / "out", formats=("json",))
    monkeypatch.undo()
    assert not (tmp_path / "out" / LOCK).exists() and not list((tmp_path / "out").glob(".govsurvey-staging-*"))
