"""The package list in pyproject.toml covers every subpackage, so wheels are complete."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    src = ROOT / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in (src / "govsurvey").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(found - listed)}"
    assert "govsurvey.bundled_instruments" in listed
    assert config["tool"]["setuptools"]["package-dir"]["govsurvey.bundled_instruments"] == "instruments"


API_NAMES = """load_instrument read_responses screen reverse_code score item_analysis reliability kmo bartlett
parallel_analysis efa omega cfa sem htmt fornell_larcker invariance harman_test content_validity describe correlations
compare_groups regress hierarchical_regression logistic ordinal multilevel mediation moderation read_codes code_matrix
cooccurrence intercoder_agreement quotes capacity_gaps joint_display link_codes Study StudyResults Moments""".split()


def test_the_public_api_names_of_the_contract_exist():
    import govsurvey as gs

    missing = [n for n in API_NAMES if not hasattr(gs, n) or n not in gs.__all__]
    assert not missing, missing
    assert callable(gs.Study.from_yaml) and callable(gs.StudyResults.to_html)


README = ROOT / "README.md"


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block of the README, in order."""
    import re

    return re.findall(r"^```([\w+-]*)\n(.*?)^```", text, re.S | re.M)


def test_every_python_snippet_in_the_readme_runs_as_written(tmp_path):
    """Every ```python block of the README, in order, in one fresh interpreter (the blocks build on
    each other, as in one session). The interpreter starts in an empty folder, not the repository,
    so the snippets can only reach the example through gs.datasets — as a pip-installed user would."""
    import subprocess
    import sys

    blocks = _fenced_blocks(README.read_text(encoding="utf-8"))
    python = [body for lang, body in blocks if lang == "python"]
    # No Python hidden from this test under another tag, and no placeholder "..." left in code.
    assert {lang for lang, _ in blocks} <= {"python", "bash", ""}, {lang for lang, _ in blocks}
    assert len(python) >= 6
    assert not [b for b in python if "..." in b], "a README Python block still has a literal '...'"
    script = tmp_path / "readme_snippets.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + "\n".join(python), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (work / "reports" / "example" / "report.html").is_file()
    assert (work / "reports" / "example" / "results.json").is_file()


def test_the_readme_command_lines_name_real_files_and_commands(tmp_path, monkeypatch):
    """Shell blocks are not run whole (they install system packages), but what they name must be
    true: scripts/dev's subcommands, files relative to the repository root, and the `govsurvey
    validate` / `score` lines, which are run here (score writing into tmp_path)."""
    import shlex

    from typer.testing import CliRunner

    from govsurvey.cli import app

    text = README.read_text(encoding="utf-8")
    assert "work today" not in text and "问卷星下载" not in text and "project.qdpx" not in text
    lines = [line.split("  #")[0].strip() for lang, body in _fenced_blocks(text) if lang == "bash"
             for line in body.splitlines() if line.strip()]
    dev = (ROOT / "scripts" / "dev").read_text(encoding="utf-8")
    monkeypatch.chdir(ROOT)
    ran = set()
    for line in lines:
        words = shlex.split(line)
        if words[:2] == ["bash", "scripts/dev"]:
            assert f"  {words[2]})" in dev, line
            continue
        assert words[0] == "govsurvey", line
        for word in words[2:]:
            if "/" in word and not word.startswith("$(") and not word.endswith("/"):
                assert (ROOT / word).is_file(), f"README names {word}, which does not exist"
        if words[1] in ("validate", "score"):
            args = [str(tmp_path / "scores.csv") if w == "scores.csv" else w for w in words[1:]]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, (line, result.output[-2000:])
            ran.add(words[1])
        else:
            assert words[1] == "run" and "--out" in words, line
    assert ran == {"validate", "score"}
    assert (tmp_path / "scores.csv").is_file()


# --- the example study's spec, for a source checkout and for an installed wheel -----------------

def test_the_shipped_example_spec_is_generated_from_analyses_example_yaml():
    from govsurvey.datasets.spec import INSTALLED_NAME, installed_spec_text

    shipped = ROOT / "src" / "govsurvey" / "datasets" / INSTALLED_NAME
    expected = installed_spec_text((ROOT / "analyses" / "example.yaml").read_text(encoding="utf-8"))
    assert shipped.read_text(encoding="utf-8") == expected, (
        "src/govsurvey/datasets/example.yaml is out of date with analyses/example.yaml: "
        "run python -m govsurvey.datasets.spec")


def test_the_rewrite_refuses_an_input_outside_the_bundled_folders():
    import pytest

    from govsurvey.datasets.spec import installed_spec_text
    from govsurvey.errors import SpecificationError

    with pytest.raises(SpecificationError, match="line 2 .*elsewhere/x.csv"):
        installed_spec_text("name: x\ndata: ../elsewhere/x.csv\n")


def test_package_data_ships_the_example_spec_and_files():
    from fnmatch import fnmatch

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["govsurvey"]
    src = ROOT / "src" / "govsurvey"
    files = [src / "datasets" / "example.yaml", *(p for p in (src / "datasets" / "example_study").rglob("*") if p.is_file())]
    unshipped = [str(f.relative_to(src)) for f in files if not any(fnmatch(f.relative_to(src).as_posix(), pat) for pat in patterns)]
    assert not unshipped, f"add to [tool.setuptools.package-data] govsurvey: {unshipped}"


def test_example_spec_path_in_a_checkout_is_analyses_example_yaml():
    import govsurvey as gs

    assert gs.datasets.example_spec_path() == ROOT / "analyses" / "example.yaml"


def _installed_layout(tmp_path: Path) -> Path:
    """govsurvey/datasets and govsurvey/bundled_instruments as a wheel lays them out."""
    import shutil

    import govsurvey as gs

    package = tmp_path / "site-packages" / "govsurvey"
    (package / "datasets").mkdir(parents=True)
    shutil.copy2(ROOT / "src" / "govsurvey" / "datasets" / "example.yaml", package / "datasets" / "example.yaml")
    shutil.copytree(gs.datasets.example_dir(), package / "datasets" / "example_study")
    (package / "bundled_instruments").mkdir()
    for path in (ROOT / "instruments").glob("*.yaml"):
        shutil.copy2(path, package / "bundled_instruments" / path.name)
    return package / "datasets" / "example.yaml"


def test_the_installed_spec_describes_the_same_study_as_analyses_example_yaml(tmp_path):
    import govsurvey as gs

    source = gs.Study.from_yaml(ROOT / "analyses" / "example.yaml")
    installed = gs.Study.from_yaml(_installed_layout(tmp_path))
    for field in ("name", "title", "screening", "scoring", "language", "formats", "seed"):
        assert getattr(installed, field) == getattr(source, field), field
    assert repr(installed.analyses) == repr(source.analyses)
    assert str(installed.instrument_path).startswith(str(tmp_path))
    assert repr(gs.load_instrument(installed.instrument_path)) == repr(gs.load_instrument(source.instrument_path))
    for section in ("data", "interviews"):
        a, b = getattr(source, section), getattr(installed, section)
        assert a.keys() == b.keys()
        for key, value in a.items():
            if isinstance(value, Path):
                assert str(b[key]).startswith(str(tmp_path)) and b[key].read_bytes() == value.read_bytes(), (section, key)
            else:
                assert b[key] == value, (section, key)


def test_the_installed_spec_runs(tmp_path):
    """A cheap part of the example study from the installed layout: data, instrument and
    interviews all read through the installed spec's paths."""
    import yaml

    import govsurvey as gs

    path = _installed_layout(tmp_path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["analyses"] = {"reliability": True, "descriptives": {"by": "role"}, "capacity_gaps": {"importance": True},
                        "code_matrix": True, "joint_display": True}
    spec["formats"] = ["json"]
    results = gs.Study.from_dict(spec, base=path.parent, source=str(path)).run()
    assert not results.failures, results.failures
    assert len(results.scores) == 600
    written = results.write(tmp_path / "out")
    assert written["json"].is_file()


def test_a_built_wheel_carries_the_example_and_runs_its_spec(tmp_path):
    """Build the wheel, unpack it as pip would install it, and find and load the example spec
    from there in a fresh interpreter (the repository not on the path)."""
    import os
    import subprocess
    import sys
    import zipfile

    import pytest

    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=300)
    if build.returncode != 0 and any(s in build.stderr for s in ("NewConnectionError", "No matching distribution",
                                                                  "Could not find a version", "Network is unreachable")):
        pytest.skip(f"pip cannot fetch the build backend here: {build.stderr.strip().splitlines()[-1]}")
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("govsurvey-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("govsurvey/datasets/example.yaml", "govsurvey/datasets/spec.py",
                 "govsurvey/datasets/example_study/wjx_text_export.xlsx", "govsurvey/datasets/example_study/interviews.qdpx",
                 "govsurvey/datasets/example_study/interview_codebook.csv",
                 "govsurvey/bundled_instruments/community_phe_survey.yaml", "govsurvey/bundled_instruments/scales.yaml"):
        assert name in names, name
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    check = (
        "import govsurvey as gs, sys; from pathlib import Path\n"
        f"site = Path({str(site)!r})\n"
        "assert Path(gs.__file__).is_relative_to(site), gs.__file__\n"
        "p = gs.datasets.example_spec_path()\n"
        "assert p == site / 'govsurvey' / 'datasets' / 'example.yaml', p\n"
        "s = gs.Study.from_yaml(p)\n"
        "assert s.data['path'] == gs.datasets.example_files()['xlsx'], s.data\n"
        "assert s.instrument_path == gs.datasets.instrument_path('community_phe_survey'), s.instrument_path\n"
        "assert s.instrument_path.is_relative_to(site) and s.interviews['path'].is_relative_to(site)\n"
        "print(len(s.analyses))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
