from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import govsurvey as gs
from instrument_texts import MINIMAL

# Hypothesis: derandomized by default, so CI runs exactly the cases a developer ran;
# HYPOTHESIS_PROFILE=explore draws fresh cases (and more of them) to look for new failures.
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def inst() -> gs.Instrument:
    return gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))


@pytest.fixture(scope="session")
def files() -> dict[str, Path]:
    return gs.datasets.example_files()


@pytest.fixture(scope="session")
def truth(files) -> dict:
    return json.loads(files["truth"].read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def xlsx_data(inst, files):
    return gs.read_responses(files["xlsx"], inst)


@pytest.fixture
def write_yaml(tmp_path):
    """Write a small instrument YAML into tmp_path and return its path."""

    def _write(body: str, name: str = "inst.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
        return path

    return _write





@pytest.fixture
def mini(write_yaml) -> gs.Instrument:
    return gs.load_instrument(write_yaml(MINIMAL))


def pytest_collection_modifyitems(config, items):
    """Doctests (the docstrings' examples, most of which load the bundled study) count as slow:
    ``-m "not slow"`` leaves them out of the quick loop; CI runs them."""
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            item.add_marker(pytest.mark.slow)
