"""Studies: one YAML spec → read → screen → score (later issues add models and reports).

A study spec (``analyses/*.yaml``)::

    name: example
    title: {zh: ..., en: ...}
    instrument: ../instruments/community_phe_survey.yaml   # relative to the spec file
    data:
      path: ../data/responses.xlsx
      sheet: null            # optional: encoding, sheet, id_column, mapping
    screening: {min_seconds: null, straightline: true, duplicates: true, mahalanobis_p: null}
    scoring: {method: mean, min_valid: 0.8}
    language: zh
    seed: 20261124
"""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from govsurvey.data import read_responses, sha256_file, write_atomic, write_text_atomic
from govsurvey.errors import InputFileNotFoundError, SpecificationError
from govsurvey.instrument import Instrument, load_instrument
from govsurvey.results import Result, to_jsonable
from govsurvey.scoring import score
from govsurvey.screening import Screening, screen

__all__ = ["Study", "StudyResults"]

log = logging.getLogger(__name__)

SPEC_KEYS = {"name", "title", "instrument", "data", "screening", "scoring", "language", "seed", "description"}
DATA_KEYS = {"path", "encoding", "sheet", "id_column", "mapping"}
SCREEN_KEYS = {"min_seconds", "time_column", "attention", "straightline", "duplicates", "mahalanobis_p",
               "max_missing", "speed_ratio", "min_block"}
SCORE_KEYS = {"method", "min_valid", "higher_order"}
PACKAGES = ("govsurvey", "numpy", "pandas", "scipy", "pyreadstat", "openpyxl", "pyyaml")


def _check_keys(section: str, given: Any, allowed: set[str], spec: str) -> dict:
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise SpecificationError(f"{spec}: {section} must be a mapping, got {type(given).__name__}.")
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise SpecificationError(
            f"{spec}: unknown key(s) under {section}: {', '.join(map(str, unknown))}. Allowed: {', '.join(sorted(allowed))}."
        )
    return dict(given)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Study:
    """A validated study specification. Build it with :meth:`Study.from_yaml`."""

    name: str
    title: dict[str, str]
    instrument_path: Path
    data: dict[str, Any]
    screening: dict[str, Any]
    scoring: dict[str, Any]
    language: str = "zh"
    seed: int | None = None
    spec_path: Path | None = None
    spec: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Study":
        p = Path(path)
        if not p.exists():
            raise InputFileNotFoundError(f"Study spec {p} does not exist. Check the path.")
        try:
            spec = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
        except yaml.YAMLError as exc:
            raise SpecificationError(f"Study spec {p} is not valid YAML: {exc}. Fix: check indentation and quoting.") from None
        if not isinstance(spec, dict):
            raise SpecificationError(f"Study spec {p} must be a mapping (name:, instrument:, data: ...).")
        _check_keys("the top level", spec, SPEC_KEYS, str(p))
        for req in ("name", "instrument", "data"):
            if req not in spec:
                raise SpecificationError(f"Study spec {p} has no {req!r}. Fix: add {req}: (see analyses/example.yaml).")
        data = spec["data"] if isinstance(spec["data"], dict) else {"path": spec["data"]}
        data = _check_keys("data", data, DATA_KEYS, str(p))
        if "path" not in data:
            raise SpecificationError(f"Study spec {p}: data needs a path.")
        base = p.resolve().parent
        data["path"] = (base / str(data["path"])).resolve()
        language = spec.get("language", "zh")
        seed = spec.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise SpecificationError(f"Study spec {p}: seed must be a whole number, got {seed!r}.")
        title = spec.get("title") or {language: str(spec["name"])}
        if isinstance(title, str):
            title = {language: title}
        return cls(
            name=str(spec["name"]), title=dict(title), instrument_path=(base / str(spec["instrument"])).resolve(),
            data=data, screening=_check_keys("screening", spec.get("screening"), SCREEN_KEYS, str(p)),
            scoring=_check_keys("scoring", spec.get("scoring"), SCORE_KEYS, str(p)),
            language=str(language), seed=seed, spec_path=p.resolve(), spec=spec,
        )

    def run(self, progress=None) -> "StudyResults":
        """Run the study. ``progress(step: str)`` is called before each step, if given."""
        step = progress or (lambda s: None)
        step("instrument")
        inst = load_instrument(self.instrument_path)
        if self.language not in inst.languages:
            raise SpecificationError(f"language={self.language!r} is not one of the instrument's languages {list(inst.languages)}.")
        step("read")
        opts = {k: v for k, v in self.data.items() if k != "path"}
        data = read_responses(self.data["path"], inst, **opts)
        step("screen")
        screening = screen(data, inst, **self.screening)
        step("score")
        scores = score(screening.clean, inst, **self.scoring)
        return StudyResults(study=self, instrument=inst, data=data, screening=screening, scores=scores,
                            provenance=_provenance(self, data))


def _provenance(study: Study, data: pd.DataFrame) -> dict[str, Any]:
    info = data.attrs.get("govsurvey", {})
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "inputs": {
            Path(study.instrument_path).name: sha256_file(study.instrument_path),
            Path(study.data["path"]).name: info.get("sha256") or sha256_file(study.data["path"]),
        },
        "data_format": {k: info.get(k) for k in ("format", "encoding", "wenjuanxing")},
        "python": platform.python_version(),
        "packages": versions,
        "seed": study.seed,
        "spec": to_jsonable({k: v for k, v in study.spec.items()}),
    }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class StudyResults(Result):
    """Everything a study run produced."""

    study: Study
    instrument: Instrument
    data: pd.DataFrame
    screening: Screening
    scores: pd.DataFrame
    provenance: dict[str, Any]

    def descriptives(self) -> pd.DataFrame:
        """n, mean, sd, min and max of every construct score."""
        s = self.scores
        return pd.DataFrame({"n": s.count(), "mean": s.mean(), "sd": s.std(ddof=1), "min": s.min(), "max": s.max()})

    def to_frame(self) -> pd.DataFrame:
        return self.descriptives()

    def to_dict(self) -> dict[str, Any]:
        sc = self.screening
        return {
            "study": self.study.name,
            "instrument": {"name": self.instrument.name, "version": self.instrument.version},
            "screening": {"summary": to_jsonable(sc.summary), "excluded": to_jsonable(sc.excluded),
                          "failure_cases": to_jsonable(sc.failure_cases), "thresholds": to_jsonable(sc.thresholds),
                          "notes": list(sc.notes)},
            "scores": to_jsonable(self.scores),
            "descriptives": to_jsonable(self.descriptives()),
            "provenance": self.provenance,
        }

    def __repr__(self) -> str:
        return (f"StudyResults(study={self.study.name!r}, n_read={self.data.shape[0]}, "
                f"n_excluded={self.screening.n_excluded}, constructs={self.scores.shape[1]})")

    def to_json(self, path: str | Path) -> Path:
        return write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n")

    def to_html(self, path: str | Path) -> Path:
        from govsurvey.report.summary import render_summary

        return write_text_atomic(path, render_summary(self))

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write the results into ``folder``: report.html, results.json, scores.csv,
        exclusions.csv, failure_cases.csv. Other files in the folder are left alone."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "html": self.to_html(out / "report.html"),
            "json": self.to_json(out / "results.json"),
            "scores": write_atomic(out / "scores.csv", lambda p: self.scores.to_csv(p, encoding="utf-8-sig")),
            "exclusions": write_atomic(out / "exclusions.csv", lambda p: self.screening.excluded.to_csv(p, encoding="utf-8-sig")),
            "failure_cases": write_atomic(out / "failure_cases.csv",
                                          lambda p: self.screening.failure_cases.to_csv(p, index=False, encoding="utf-8-sig")),
        }
        return paths
