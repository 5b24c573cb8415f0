from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import govsurvey as gs
from instrument_texts import MINIMAL


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
