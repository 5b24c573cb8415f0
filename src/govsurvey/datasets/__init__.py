"""Bundled instruments and the example study (a deterministic simulator and its output)."""

from __future__ import annotations

from pathlib import Path

from govsurvey.errors import InputFileNotFoundError, UnknownItemError

__all__ = ["instruments_dir", "instrument_path", "example_dir", "example_files", "example_spec_path", "simulate_study",
           "write_example_study"]


def instruments_dir() -> Path:
    """The folder of bundled instruments (the repository's ``instruments/``).

    An installed wheel carries them as ``govsurvey/bundled_instruments/``; a source checkout
    (editable install) reads the repository's ``instruments/`` folder itself.
    """
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "bundled_instruments", package.parents[1] / "instruments"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise InputFileNotFoundError(
        f"govsurvey's bundled instruments are missing (looked in {package / 'bundled_instruments'}). "
        "Fix: reinstall govsurvey (pip install --force-reinstall govsurvey)."
    )


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
    (coded interviews), ``cases`` (interviewee variables, real names included: they are
    identifying), ``qdpx`` (the same coding as a REFI-QDA project), ``truth`` (the model it
    was drawn from), ``delphi`` and ``ahp`` (the expert files of the evaluation index system:
    two Delphi rounds of 15 experts and 5 experts' AHP judgement matrices, see
    :mod:`govsurvey.datasets.experts`)."""
    d = example_dir()
    return {
        "xlsx": d / "wjx_text_export.xlsx",
        "csv": d / "wjx_number_export_gbk.csv",
        "sav": d / "survey.sav",
        "segments": d / "interview_segments.csv",
        "codebook": d / "interview_codebook.csv",
        "cases": d / "interview_cases.csv",
        "qdpx": d / "interviews.qdpx",
        "truth": d / "truth.json",
        "delphi": d / "experts_delphi.csv",
        "ahp": d / "experts_ahp.csv",
    }


def example_spec_path() -> Path:
    """Path of the example study's spec, ready for ``gs.Study.from_yaml`` or ``govsurvey run``.

    An installed wheel carries it as ``govsurvey/datasets/example.yaml`` (generated from the
    repository's ``analyses/example.yaml`` by :mod:`govsurvey.datasets.spec`, with its paths
    pointing into the installed package); a source checkout (editable install) gives the
    repository's ``analyses/example.yaml`` itself. Either way its relative paths resolve to the
    bundled instrument and :func:`example_files`.

    Examples
    --------
    >>> import govsurvey as gs
    >>> study = gs.Study.from_yaml(gs.datasets.example_spec_path())
    >>> study.name, study.data["path"] == gs.datasets.example_files()["xlsx"]
    ('example', True)
    """
    from govsurvey.datasets.spec import INSTALLED_NAME, SOURCE_PATH

    package = Path(__file__).resolve().parents[1]
    installed, source = Path(__file__).resolve().parent / INSTALLED_NAME, package.parents[1] / SOURCE_PATH
    if (package / "bundled_instruments").is_dir() and installed.is_file():
        return installed
    if source.is_file():
        return source
    raise InputFileNotFoundError(
        f"govsurvey's example study spec is missing (looked for {installed} and {source}). "
        "Fix: reinstall govsurvey (pip install --force-reinstall govsurvey)."
    )


def __getattr__(name: str):  # lazy: the simulator imports numpy/pandas writers
    if name in ("simulate_study", "write_example_study"):
        from govsurvey.datasets import simulate

        return getattr(simulate, name)
    raise AttributeError(name)
