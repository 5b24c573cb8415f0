"""The registry of analyses a study spec can name.

One entry per analysis: its options (a frozen dataclass of :func:`~govsurvey.study.options.option`
fields), its ``run`` function (pure: the study's inputs and the options in, a result out) and
its report ``section`` (tables, figures and sentences). Spec validation, result keys (= spec
keys), ``results.json``, the report's contents and the CLI's progress steps all read this
mapping, in its order — so adding an analysis is one :func:`register` call, its section and
its tests.

Examples
--------
>>> from govsurvey.study.registry import REGISTRY
>>> list(REGISTRY)[:3]
['reliability', 'efa', 'harman']
>>> REGISTRY["validity"].needs
('cfa',)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pandas as pd

__all__ = ["Analysis", "Inputs", "REGISTRY", "register", "unregister", "CHAPTERS", "INPUT_SECTIONS"]

CHAPTERS = ("measurement", "results", "mixed", "evaluation")
INPUT_SECTIONS = ("interviews",)      # spec sections an analysis may need besides other analyses


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """What every analysis may read: the instrument, the screened and scored data, the coded
    interviews (or None), the seed and language, and the results of the analyses it needs."""

    instrument: Any
    screening: Any
    scores: pd.DataFrame
    keyed: pd.DataFrame          # retained responses, reverse-keyed items recoded
    frame: pd.DataFrame          # background variables + construct scores
    codes: Any = None
    seed: int | None = None
    language: str = "zh"
    results: dict[str, Any] = dataclasses.field(default_factory=dict)
    scoring: dict[str, Any] = dataclasses.field(default_factory=dict)     # the spec's scoring: options


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """One analysis a spec can name.

    ``run(inputs, options) -> result``; ``section(ctx, result, options) -> list of blocks``
    (see :mod:`govsurvey.report.document`); ``many``: the spec gives a list of option sets
    (``regressions: [{formula: ...}, ...]``); ``needs``: analyses (earlier in the registry)
    or spec sections (``interviews``) it reads; ``caption(options)``: a few words naming what
    this option set is about, shown in its heading, the failure summary and the report."""

    name: str
    title: dict[str, str]
    doc: str
    options: type
    run: Callable[[Inputs, Any], Any]
    section: Callable[[Any, Any, Any], list]
    chapter: str
    many: bool = False
    needs: tuple[str, ...] = ()
    example: str = "true"
    caption: Callable[..., str] | None = None      # what one option set is about: caption(options, name=str), name labels a column


REGISTRY: dict[str, Analysis] = {}


def register(entry: Analysis) -> Analysis:
    """Add an analysis (after the ones it needs). Returns the entry."""
    if entry.name in REGISTRY:
        raise ValueError(f"analysis {entry.name!r} is registered already")
    if entry.chapter not in CHAPTERS:
        raise ValueError(f"chapter must be one of {CHAPTERS}, got {entry.chapter!r}")
    if not dataclasses.is_dataclass(entry.options):
        raise ValueError(f"{entry.name}: options must be a dataclass")
    for need in entry.needs:
        if need not in REGISTRY and need not in INPUT_SECTIONS:
            raise ValueError(f"{entry.name} needs {need!r}, which is neither an earlier analysis nor one of {INPUT_SECTIONS}")
    REGISTRY[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove an analysis (tests that register toy entries clean up with this)."""
    REGISTRY.pop(name, None)
