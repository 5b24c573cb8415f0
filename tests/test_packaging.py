"""The package list in pyproject.toml covers every subpackage, so wheels are complete."""

from __future__ import annotations

import tomllib
from pathlib import Path

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


def test_every_python_snippet_in_the_readme_runs_as_written(tmp_path):
    """The README's Python blocks, in order, in one fresh interpreter started at the repository
    root (as a reader would paste them after `bash scripts/dev example`)."""
    import re
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    blocks = re.findall(r"```python\n(.*?)```", (root / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    script = tmp_path / "readme_snippets.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + "\n".join(blocks), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], cwd=root, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
