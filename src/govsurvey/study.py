"""Studies: one YAML spec → read → screen → score → measurement → models → interviews → reports.

A study spec (``analyses/*.yaml``; paths relative to the spec file)::

    name: example
    title: {zh: ..., en: ...}
    instrument: ../instruments/community_phe_survey.yaml
    data: {path: ../data/responses.xlsx}          # encoding, sheet, id_column, mapping optional
    screening: {straightline: true, duplicates: true}
    scoring: {method: mean, min_valid: 0.8}
    interviews: {path: ../data/interviews.qdpx, codebook: ../data/codebook.csv}
    analyses:
      reliability: true                            # item analysis + reliability per construct
      efa: {constructs: [capacity], n_factors: 9, method: pc, rotation: varimax}
      cfa: {model: instrument, estimator: MLR}     # or a lavaan model string
      validity: true                               # CR, AVE, HTMT, Fornell–Larcker
      invariance: {group: gender, constructs: [trust]}
      descriptives: {by: role}
      compare_groups: [{dv: participation, group: role}]
      regressions: [{formula: "participation ~ capacity + trust"}]
      multilevel: [{formula: "capacity ~ 1", groups: site}]
      mediation: [{x: capacity, m: trust, y: participation, n_boot: 2000}]
      moderation: [{x: capacity, w: trust, y: participation}]
      capacity_gaps: {importance: true}            # or {target: 4}
      joint_display: true
      link_codes: {level: site}
    language: zh
    formats: [html, pdf, docx, json]
    seed: 20261124
"""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
import warnings as _warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from govsurvey.data import read_codes, read_responses, sha256_file, write_atomic, write_text_atomic
from govsurvey.errors import InputFileNotFoundError, SpecificationError
from govsurvey.instrument import Instrument, load_instrument
from govsurvey.results import Result, to_jsonable
from govsurvey.scoring import reverse_code, score, score_importance
from govsurvey.screening import Screening, screen

__all__ = ["Study", "StudyResults", "FORMATS"]

log = logging.getLogger(__name__)

SPEC_KEYS = {"name", "title", "instrument", "data", "screening", "scoring", "interviews", "analyses", "language",
             "formats", "seed", "description", "authors"}
DATA_KEYS = {"path", "encoding", "sheet", "id_column", "mapping"}
SCREEN_KEYS = {"min_seconds", "time_column", "attention", "straightline", "duplicates", "mahalanobis_p",
               "max_missing", "speed_ratio", "min_block"}
SCORE_KEYS = {"method", "min_valid", "higher_order"}
INTERVIEW_KEYS = {"path", "codebook", "cases", "identifying"}
ANALYSES = {"reliability", "efa", "cfa", "validity", "invariance", "descriptives", "correlations", "compare_groups",
            "regressions", "multilevel", "mediation", "moderation", "capacity_gaps", "joint_display", "link_codes",
            "agreement", "harman"}
FORMATS = ("html", "pdf", "docx", "json")
PACKAGES = ("govsurvey", "numpy", "pandas", "scipy", "statsmodels", "pingouin", "pyreadstat", "openpyxl", "pyyaml",
            "matplotlib", "jinja2", "weasyprint", "python-docx")


def _check_keys(section: str, given: Any, allowed: set[str], spec: str) -> dict:
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise SpecificationError(f"{spec}: {section} must be a mapping, got {type(given).__name__}.")
    unknown = sorted(map(str, set(given) - allowed))
    if unknown:
        raise SpecificationError(
            f"{spec}: unknown key(s) under {section}: {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}."
        )
    return dict(given)


def _as_list(value: Any, section: str, spec: str) -> list[dict]:
    if value in (None, False):
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, dict) for i in items):
        raise SpecificationError(f"{spec}: analyses.{section} must be a mapping or a list of mappings.")
    return items


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Study:
    """A validated study specification. Build it with :meth:`Study.from_yaml`."""

    name: str
    title: dict[str, str]
    instrument_path: Path
    data: dict[str, Any]
    screening: dict[str, Any]
    scoring: dict[str, Any]
    interviews: dict[str, Any]
    analyses: dict[str, Any]
    language: str = "zh"
    formats: tuple[str, ...] = FORMATS
    seed: int | None = None
    spec_path: Path | None = None
    spec: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Study({self.name!r}, analyses={sorted(self.analyses)}, formats={list(self.formats)})"

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
        base = p.resolve().parent
        data = spec["data"] if isinstance(spec["data"], dict) else {"path": spec["data"]}
        data = _check_keys("data", data, DATA_KEYS, str(p))
        if "path" not in data:
            raise SpecificationError(f"Study spec {p}: data needs a path.")
        data["path"] = (base / str(data["path"])).resolve()
        interviews = _check_keys("interviews", spec.get("interviews"), INTERVIEW_KEYS, str(p))
        for key in ("path", "codebook", "cases"):
            if key in interviews and interviews[key] is not None:
                interviews[key] = (base / str(interviews[key])).resolve()
        if interviews and "path" not in interviews:
            raise SpecificationError(f"Study spec {p}: interviews needs a path (a .qdpx or a CSV of coded segments).")
        analyses = _check_keys("analyses", spec.get("analyses"), ANALYSES, str(p))
        if any(k in analyses for k in ("joint_display", "link_codes", "agreement")) and not interviews:
            raise SpecificationError(f"Study spec {p}: joint_display, link_codes and agreement need an interviews: section.")
        language = str(spec.get("language", "zh"))
        if language not in ("zh", "en"):
            raise SpecificationError(f"Study spec {p}: language must be 'zh' or 'en', got {language!r}.")
        formats = spec.get("formats", list(FORMATS))
        if isinstance(formats, str):
            formats = [formats]
        bad = [f for f in formats if f not in FORMATS]
        if bad:
            raise SpecificationError(f"Study spec {p}: unknown format(s) {bad}. Use some of {', '.join(FORMATS)}.")
        seed = spec.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise SpecificationError(f"Study spec {p}: seed must be a whole number, got {seed!r}.")
        title = spec.get("title") or {language: str(spec["name"])}
        if isinstance(title, str):
            title = {language: title}
        return cls(
            name=str(spec["name"]), title=dict(title), instrument_path=(base / str(spec["instrument"])).resolve(),
            data=data, screening=_check_keys("screening", spec.get("screening"), SCREEN_KEYS, str(p)),
            scoring=_check_keys("scoring", spec.get("scoring"), SCORE_KEYS, str(p)), interviews=interviews,
            analyses=analyses, language=language, formats=tuple(formats), seed=seed, spec_path=p.resolve(), spec=spec,
        )

    # ------------------------------------------------------------------- run
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
        keyed = reverse_code(screening.clean, inst)
        background = [q.id for q in inst.demographics if q.id in screening.clean.columns]
        frame = screening.clean[background].join(scores)
        notes: list[str] = []
        out: dict[str, Any] = {}
        a = self.analyses
        seed = self.seed
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            step("measurement")
            self._measurement(inst, keyed, frame, a, out, seed)
            step("models")
            self._models(inst, frame, a, out, seed)
            step("interviews")
            self._mixed(inst, screening, scores, frame, a, out)
        for w in caught:
            if issubclass(w.category, Warning) and w.category.__module__.startswith("govsurvey"):
                text = str(w.message)
                if text not in notes:
                    notes.append(text)
        return StudyResults(study=self, instrument=inst, data=data, screening=screening, scores=scores, frame=frame,
                            analyses=out, notes=tuple(notes), provenance=_provenance(self, data))

    def _measurement(self, inst: Instrument, keyed: pd.DataFrame, frame: pd.DataFrame, a: dict, out: dict, seed) -> None:
        import govsurvey as gs

        if a.get("reliability"):
            rel, items = {}, {}
            for c in inst.first_order:
                ids = inst.items_of(c)
                if len(ids) >= 2:
                    rel[c] = gs.reliability(keyed[ids], seed=seed)
                    items[c] = gs.item_analysis(keyed[ids])
            out["reliability"] = rel
            out["item_analysis"] = items
        if a.get("efa"):
            spec = a["efa"] if isinstance(a["efa"], dict) else {}
            names = spec.get("constructs") or [n for n, c in inst.constructs.items() if c.parent is None]
            ids = list(dict.fromkeys(i for n in names for i in inst.items_of(n)))
            x = keyed[ids]
            out["kmo"] = gs.kmo(x)
            out["bartlett"] = gs.bartlett(x)
            out["parallel"] = gs.parallel_analysis(x, n_iter=int(spec.get("n_iter", 50)), seed=seed)
            out["efa"] = gs.efa(x, spec.get("n_factors"), method=spec.get("method", "pc"), rotation=spec.get("rotation", "varimax"))
            out["efa_constructs"] = names
        if a.get("harman"):
            out["harman"] = gs.harman_test(keyed[inst.construct_items])
        if a.get("cfa"):
            spec = a["cfa"] if isinstance(a["cfa"], dict) else {}
            model = spec.get("model", "instrument")
            if model == "instrument":
                model = inst.cfa_model(spec.get("constructs"))
            out["cfa"] = gs.cfa(keyed, model, estimator=spec.get("estimator", "ML"))
            if a.get("validity"):
                out["htmt"] = gs.htmt(keyed, model)
                out["fornell_larcker"] = gs.fornell_larcker(out["cfa"])
        if a.get("invariance"):
            spec = a["invariance"]
            group = spec.get("group")
            if not group:
                raise SpecificationError("analyses.invariance needs group: (a background variable such as gender).")
            model = spec.get("model") or inst.cfa_model(spec.get("constructs"))
            out["invariance"] = gs.invariance(keyed, model, group)
            out["invariance_group"] = group

    def _models(self, inst: Instrument, frame: pd.DataFrame, a: dict, out: dict, seed) -> None:
        import govsurvey as gs

        if a.get("descriptives"):
            spec = a["descriptives"] if isinstance(a["descriptives"], dict) else {}
            score_cols = list(inst.constructs)
            out["descriptives"] = gs.describe(frame, columns=score_cols)
            if spec.get("by"):
                out["descriptives_by"] = gs.describe(frame, columns=score_cols, by=spec["by"])
                out["descriptives_by_name"] = spec["by"]
        if a.get("correlations") or a.get("descriptives"):
            spec = a.get("correlations") if isinstance(a.get("correlations"), dict) else {}
            cols = spec.get("columns") or [c for c in inst.first_order if c in frame.columns]
            out["correlations"] = gs.correlations(frame, columns=cols, method=spec.get("method", "pearson"))
        out["compare_groups"] = [(s, gs.compare_groups(frame, s["dv"], s["group"], test=s.get("test", "auto")))
                                 for s in _as_list(a.get("compare_groups"), "compare_groups", "spec")]
        out["regressions"] = [(s, gs.regress(s["formula"], frame, robust=s.get("robust"))) for s in _as_list(a.get("regressions"), "regressions", "spec")]
        out["multilevel"] = [(s, gs.multilevel(s["formula"], frame, groups=s["groups"], reml=s.get("reml", True)))
                             for s in _as_list(a.get("multilevel"), "multilevel", "spec")]
        out["mediation"] = [(s, gs.mediation(frame, x=s["x"], m=s["m"], y=s["y"], covariates=s.get("covariates", ()),
                                             n_boot=int(s.get("n_boot", 5000)), seed=seed))
                            for s in _as_list(a.get("mediation"), "mediation", "spec")]
        out["moderation"] = [(s, gs.moderation(frame, x=s["x"], w=s["w"], y=s["y"], covariates=s.get("covariates", ())))
                             for s in _as_list(a.get("moderation"), "moderation", "spec")]

    def _mixed(self, inst: Instrument, screening: Screening, scores: pd.DataFrame, frame: pd.DataFrame, a: dict, out: dict) -> None:
        import govsurvey as gs

        if a.get("capacity_gaps"):
            spec = a["capacity_gaps"] if isinstance(a["capacity_gaps"], dict) else {"importance": True}
            dims = list(inst.importance_items) or inst.first_order
            if spec.get("target") is not None:
                out["gaps"] = gs.capacity_gaps(scores[dims], target=spec["target"])
            else:
                out["gaps"] = gs.capacity_gaps(scores[dims], importance=score_importance(screening.clean, inst))
        if self.interviews:
            iv = self.interviews
            codes = read_codes(iv["path"], codebook=iv.get("codebook"), cases=iv.get("cases"), identifying=iv.get("identifying"))
            out["codes"] = codes
            out["code_matrix"] = gs.code_matrix(codes, by="site" if "site" in codes.segments.columns else "case", level="dimension")
            if len(codes.coders) >= 2:
                out["agreement"] = gs.intercoder_agreement(codes)
            if a.get("joint_display") and "gaps" in out:
                out["joint_display"] = gs.joint_display(out["gaps"], codes)
            if a.get("link_codes"):
                spec = a["link_codes"] if isinstance(a["link_codes"], dict) else {}
                out["link_codes"] = gs.link_codes(frame, codes, level=spec.get("level", "site"))


def _provenance(study: Study, data: pd.DataFrame) -> dict[str, Any]:
    info = data.attrs.get("govsurvey", {})
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    inputs = {Path(study.instrument_path).name: sha256_file(study.instrument_path),
              Path(study.data["path"]).name: info.get("sha256") or sha256_file(study.data["path"])}
    for key in ("path", "codebook", "cases"):
        if study.interviews.get(key):
            inputs[Path(study.interviews[key]).name] = sha256_file(study.interviews[key])
    return {"inputs": inputs, "data_format": {k: info.get(k) for k in ("format", "encoding", "wenjuanxing")},
            "python": platform.python_version(), "packages": versions, "seed": study.seed,
            "spec": to_jsonable(study.spec)}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class StudyResults(Result):
    """Everything a study run produced; rendered by :mod:`govsurvey.report`."""

    study: Study
    instrument: Instrument
    data: pd.DataFrame
    screening: Screening
    scores: pd.DataFrame
    frame: pd.DataFrame
    analyses: dict[str, Any]
    notes: tuple[str, ...]
    provenance: dict[str, Any]

    def descriptives(self) -> pd.DataFrame:
        """n, mean, sd, min and max of every construct score."""
        s = self.scores
        return pd.DataFrame({"n": s.count(), "mean": s.mean(), "sd": s.std(ddof=1), "min": s.min(), "max": s.max()})

    def to_frame(self) -> pd.DataFrame:
        return self.descriptives()

    def to_dict(self) -> dict[str, Any]:
        """Every number of the run, JSON-safe and pseudonymised."""
        sc = self.screening
        analyses: dict[str, Any] = {}
        for key, value in self.analyses.items():
            if isinstance(value, list) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
                analyses[key] = [{"spec": to_jsonable(s), "result": to_jsonable(r)} for s, r in value]
            elif isinstance(value, Mapping):
                analyses[key] = {k: to_jsonable(v) for k, v in value.items()}
            else:
                analyses[key] = to_jsonable(value)
        return {
            "study": self.study.name,
            "instrument": {"name": self.instrument.name, "version": self.instrument.version},
            "screening": {"summary": to_jsonable(sc.summary), "excluded": to_jsonable(sc.excluded),
                          "failure_cases": to_jsonable(sc.failure_cases), "thresholds": to_jsonable(sc.thresholds),
                          "notes": list(sc.notes)},
            "scores": to_jsonable(self.scores),
            "descriptives": to_jsonable(self.descriptives()),
            "analyses": analyses,
            "notes": list(self.notes),
            "provenance": self.provenance,
        }

    def __repr__(self) -> str:
        return (f"StudyResults(study={self.study.name!r}, n_read={self.data.shape[0]}, "
                f"n_excluded={self.screening.n_excluded}, constructs={self.scores.shape[1]}, analyses={len(self.analyses)})")

    def to_json(self, path: str | Path) -> Path:
        return write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")

    def to_html(self, path: str | Path) -> Path:
        from govsurvey.report.html import render_report

        return write_text_atomic(path, render_report(self, media="screen"))

    def to_pdf(self, path: str | Path) -> Path:
        from govsurvey.report.pdf import write_pdf

        return write_pdf(self, path)

    def to_docx(self, path: str | Path) -> Path:
        from govsurvey.report.docx import write_docx

        return write_docx(self, path)

    def write(self, folder: str | Path, formats: tuple[str, ...] | None = None) -> dict[str, Path]:
        """Write the report formats of the spec (html, pdf, docx, json) and the score and
        screening tables into ``folder``. Files govsurvey did not write are left alone."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for fmt in formats or self.study.formats:
            paths[fmt] = getattr(self, f"to_{fmt}")(out / f"report.{fmt}" if fmt != "json" else out / "results.json")
        paths["scores"] = write_atomic(out / "scores.csv", lambda p: self.scores.to_csv(p, encoding="utf-8-sig"))
        paths["exclusions"] = write_atomic(out / "exclusions.csv", lambda p: self.screening.excluded.to_csv(p, encoding="utf-8-sig"))
        paths["failure_cases"] = write_atomic(out / "failure_cases.csv",
                                              lambda p: self.screening.failure_cases.to_csv(p, index=False, encoding="utf-8-sig"))
        return paths
