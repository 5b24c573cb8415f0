"""Start-up stays light (issue 20): `import govsurvey` loads no heavy library — its public names
are imported on first use (PEP 562) — so the command line answers at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "statsmodels", "pingouin", "matplotlib", "weasyprint", "docx")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_import_govsurvey_loads_no_heavy_library():
    assert _loaded_after("import govsurvey") == []


def test_the_command_line_module_loads_no_heavy_library():
    assert _loaded_after("import govsurvey.cli") == []


def test_public_names_resolve_on_first_use_and_are_listed():
    import govsurvey as gs

    for name in gs.__all__:
        assert getattr(gs, name) is not None, name
    assert "cfa" in dir(gs) and gs.integration.CONVERGENCE_RULE
    with pytest.raises(AttributeError, match="no attribute 'cfaa'"):
        gs.cfaa       # noqa: B018 — a misspelling is an AttributeError, not a silent None
