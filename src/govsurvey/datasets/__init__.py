"""Bundled instruments and the example study (a deterministic simulator and its output)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from govsurvey.errors import UnknownItemError

__all__ = ["instruments_dir", "instrument_path", "example_dir", "example_files", "simulate_study", "write_example_study"]


def instruments_dir() -> Path:
    """The folder of bundled instruments (the repository's ``instruments/``)."""
    try:
        root = resources.files("govsurvey.bundled_instruments")
        path = Path(str(root))
        if path.is_dir() and any(path.glob("*.yaml")):
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    # Source checkout without an install: src/govsurvey/datasets → repository root.
    return Path(__file__).resolve().parents[3] / "instruments"


def instrument_path(name: str) -> Path:
    """Path of a bundled instrument by name, e.g. ``"community_phe_survey"``."""
    path = instruments_dir() / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in instruments_dir().glob("*.yaml"))
        raise UnknownItemError(f"No bundled instrument {name!r}. Bundled: {', '.join(known)}.")
    return path


def example_dir() -> Path:
    """The folder holding the bundled example study's data files."""
    return Path(__file__).resolve().parent / "example_study"


def example_files() -> dict[str, Path]:
    """The example study's files by format: ``xlsx`` (Wenjuanxing, option text), ``csv``
    (Wenjuanxing option numbers, GBK), ``sav`` (SPSS), ``segments`` and ``codebook``
    (coded interviews), ``truth`` (the model it was drawn from)."""
    d = example_dir()
    return {
        "xlsx": d / "wjx_text_export.xlsx",
        "csv": d / "wjx_number_export_gbk.csv",
        "sav": d / "survey.sav",
        "segments": d / "interview_segments.csv",
        "codebook": d / "interview_codebook.csv",
        "cases": d / "interview_cases.csv",
        "truth": d / "truth.json",
    }


def __getattr__(name: str):  # lazy: the simulator imports numpy/pandas writers
    if name in ("simulate_study", "write_example_study"):
        from govsurvey.datasets import simulate

        return getattr(simulate, name)
    raise AttributeError(name)
