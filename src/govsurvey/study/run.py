"""Running a study: read → screen → score → every analysis of the spec, in registry order.

An analysis that fails is recorded (which analysis, the error's class, message and fix) and
the run goes on; analyses that need it are recorded as not computed, with the reason.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
import warnings as _warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from govsurvey.data import read_codes, read_responses, sha256_file, write_atomic, write_text_atomic
from govsurvey.data.outputs import OutputFolder, check_not_inputs, os_error
from govsurvey.data.writers import neutralise_cells
from govsurvey.errors import AnalysisError, GovsurveyError, SpecificationError
from govsurvey.instrument import Instrument, load_instrument
from govsurvey.qualitative import scrub
from govsurvey.results import Result, to_jsonable
from govsurvey.scoring import reverse_code, score
from govsurvey.screening import Screening, screen
from govsurvey.study.registry import REGISTRY, Analysis, Inputs
from govsurvey.study.spec import Study, analysis_files

__all__ = ["run_study", "StudyResults", "Outcome", "Failure", "steps"]

log = logging.getLogger(__name__)
PACKAGES = ("govsurvey", "numpy", "pandas", "scipy", "statsmodels", "pingouin", "pyreadstat", "openpyxl", "pyyaml",
            "matplotlib", "jinja2", "weasyprint", "python-docx")
INPUT_STEPS = ("instrument", "read", "screen", "score")


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """What could not be computed (``key``: the analysis, with [k] for the k-th of a list) and why."""

    key: str
    error: str
    message: str
    fix: str
    about: str = ""          # what the option set is about (a formula, x → m → y), when the analysis says

    @classmethod
    def from_exception(cls, key: str, exc: BaseException, about: str = "") -> "Failure":
        text = str(exc)
        message, _, fix = text.partition(" Fix: ")
        return cls(key=key, error=type(exc).__name__, message=message.strip(), fix=fix.strip(), about=about)

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """One analysis (or one entry of a list analysis) of a run: its options and its result or failure."""

    analysis: Analysis
    key: str
    index: int | None
    options: Any
    result: Any = None
    failure: Failure | None = None

    @property
    def about(self) -> str:
        """What this option set is about (the analysis' caption of its options), or ''."""
        return self.analysis.caption(self.options) if self.analysis.caption and self.options is not None else ""


def steps(study: Study) -> list[str]:
    """The progress steps of a run, in order (the CLI's progress bar)."""
    return [*INPUT_STEPS, *(["interviews"] if study.interviews else []), *study.analyses, "write"]


def run_study(study: Study, progress: Callable[[str], None] | None = None) -> "StudyResults":
    """Run every analysis of ``study``; failures are recorded in the results, never raised."""
    step = progress or (lambda s: None)
    step("instrument")
    inst = load_instrument(study.instrument_path)
    if study.language not in inst.languages:
        raise SpecificationError(f"language={study.language!r} is not one of the instrument's languages {list(inst.languages)}. "
                                 f"Fix: set language: {inst.languages[0]} in the spec, or add {study.language} texts to the instrument.")
    step("read")
    data = read_responses(study.data["path"], inst, **{k: v for k, v in study.data.items() if k != "path"})
    step("screen")
    screening = screen(data, inst, **study.screening)
    step("score")
    scores = score(screening.clean, inst, **study.scoring)
    keyed = reverse_code(screening.clean, inst)
    background = [q.id for q in inst.demographics if q.id in screening.clean.columns]
    failed: dict[str, Failure] = {}
    outcomes: list[Outcome] = []
    notes: list[str] = []
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        codes = _read_interviews(study, step, failed)       # its warnings (codings dropped ...) reach the report
        inputs = Inputs(instrument=inst, screening=screening, scores=scores, keyed=keyed, codes=codes, seed=study.seed,
                        frame=screening.clean[background].join(scores), language=study.language, scoring=dict(study.scoring))
        for name, entry in REGISTRY.items():
            if name in study.analyses:
                step(name)
                outcomes.extend(_run_entry(entry, study.analyses[name], inputs, failed))
    for w in caught:
        if w.category.__module__.startswith("govsurvey") and str(w.message) not in notes:
            notes.append(str(w.message))
    interview_failure = (failed["interviews"],) if "interviews" in failed else ()
    return StudyResults(study=study, instrument=inst, data=data, screening=screening, scores=scores, frame=inputs.frame,
                        outcomes=tuple(outcomes), input_failures=interview_failure, notes=tuple(notes),
                        provenance=_provenance(study, data, codes))


def _read_interviews(study: Study, step: Callable[[str], None], failed: dict[str, Failure]):
    if not study.interviews:
        return None
    step("interviews")
    iv = study.interviews
    try:
        return read_codes(iv["path"], codebook=iv.get("codebook"), cases=iv.get("cases"), identifying=iv.get("identifying"))
    except GovsurveyError as exc:
        failed["interviews"] = Failure.from_exception("interviews", exc)
        return None


def _run_entry(entry: Analysis, options: Any, inputs: Inputs, failed: dict[str, Failure]) -> list[Outcome]:
    """Run one analysis (each entry of a list analysis on its own); record failures."""
    many = entry.many
    out = []
    for k, opts in enumerate(options if many else (options,)):
        key = f"{entry.name}[{k}]" if many else entry.name
        about = entry.caption(opts) if entry.caption else ""
        missing = [n for n in entry.needs if n in failed]
        if missing:
            reason = f"it needs {missing[0]}, which could not be computed ({failed[missing[0]].message})"
            failure = Failure(key=key, error="SkippedAnalysis", message=f"{key} was not computed: {reason}.",
                              fix=failed[missing[0]].fix or f"fix {missing[0]} first.", about=about)
            out.append(Outcome(entry, key, k if many else None, opts, failure=failure))
            continue
        try:
            result = entry.run(inputs, opts)
        except GovsurveyError as exc:
            out.append(Outcome(entry, key, k if many else None, opts, failure=Failure.from_exception(key, exc, about)))
        except Exception as exc:  # noqa: BLE001 - one analysis must not lose the others; the error is reported, not hidden
            log.debug("analysis %s failed", key, exc_info=True)
            wrapped = AnalysisError(f"{key} failed with an unexpected {type(exc).__name__}: {exc}. Fix: check this analysis' "
                                    "options and the variables it uses; if they look right, report this with the spec.")
            out.append(Outcome(entry, key, k if many else None, opts, failure=Failure.from_exception(key, wrapped, about)))
        else:
            out.append(Outcome(entry, key, k if many else None, opts, result=result))
    if not many:
        inputs.results[entry.name] = out[0].result
        if out[0].failure is not None:
            failed[entry.name] = out[0].failure
    else:
        inputs.results[entry.name] = tuple(o.result for o in out)
    return out


def _provenance(study: Study, data: pd.DataFrame, codes=None) -> dict[str, Any]:
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
        if study.interviews.get(key):      # a project file may be named after an interviewee: scrubbed like the texts
            name = Path(study.interviews[key]).name
            inputs[scrub(name, codes) if codes is not None else name] = sha256_file(study.interviews[key])
    for _, path in analysis_files(study.analyses):      # expert files and other inputs of analyses
        if Path(path).is_file():
            name = Path(path).name
            inputs[scrub(name, codes) if codes is not None else name] = sha256_file(path)
    return {"inputs": inputs, "data_format": {k: info.get(k) for k in ("format", "encoding", "wenjuanxing")},
            "python": platform.python_version(), "packages": versions, "seed": study.seed,
            "spec": _scrubbed(study.spec, codes) if codes is not None else study.spec}


def _scrubbed(value: Any, codes) -> Any:
    """The spec's copy with every text scrubbed of the interviewees' names (a project file may be
    named after one)."""
    if isinstance(value, str):
        return scrub(value, codes)
    if isinstance(value, dict):
        return {k: _scrubbed(v, codes) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, codes) for v in value]
    return value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class StudyResults(Result):
    """Everything a study run produced; rendered by :mod:`govsurvey.report`.

    ``analyses`` maps each spec key to its result (a list analysis to a list of
    ``(options, result)`` pairs); ``failures`` lists what could not be computed and why."""

    study: Study
    instrument: Instrument
    data: pd.DataFrame
    screening: Screening
    scores: pd.DataFrame
    frame: pd.DataFrame
    outcomes: tuple[Outcome, ...]
    input_failures: tuple[Failure, ...]
    notes: tuple[str, ...]
    provenance: dict[str, Any]

    @property
    def analyses(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for o in self.outcomes:
            if o.failure is not None:
                continue
            if o.analysis.many:
                out.setdefault(o.analysis.name, []).append((o.options, o.result))
            else:
                out[o.analysis.name] = o.result
        return out

    @property
    def failures(self) -> tuple[Failure, ...]:
        return self.input_failures + tuple(o.failure for o in self.outcomes if o.failure is not None)

    def raise_if_failed(self) -> "StudyResults":
        """Raise :class:`~govsurvey.errors.AnalysisError` listing every failure, for scripts that
        want all or nothing; return the results unchanged when nothing failed."""
        if self.failures:
            lines = "\n  - ".join(f"{f.key} ({f.error}): {f.message}" + (f" Fix: {f.fix}" if f.fix else "") for f in self.failures)
            raise AnalysisError(f"{len(self.failures)} analysis(es) of study {self.study.name!r} could not be computed:\n  - {lines}")
        return self

    def descriptives(self) -> pd.DataFrame:
        """n, mean, sd, min and max of every construct score."""
        s = self.scores
        return pd.DataFrame({"n": s.count(), "mean": s.mean(), "sd": s.std(ddof=1), "min": s.min(), "max": s.max()})

    def sample(self) -> pd.DataFrame:
        """The sample description table: n and % per category of the background questions
        (:func:`govsurvey.frequencies`, labels in the report's language)."""
        from govsurvey.models.describe import frequencies

        return frequencies(self.frame, self.instrument, lang=self.study.language)

    def to_frame(self) -> pd.DataFrame:
        return self.descriptives()

    def to_dict(self) -> dict[str, Any]:
        """Every number of the run, JSON-safe and pseudonymised; failed analyses under ``failed``."""
        sc = self.screening
        analyses: dict[str, Any] = {}
        for o in self.outcomes:
            body = {"failed": o.failure.to_dict()} if o.failure is not None else {"result": to_jsonable(o.result)}
            if o.analysis.many:
                analyses.setdefault(o.analysis.name, []).append({"spec": to_jsonable(dataclasses.asdict(o.options)), **body})
            else:
                analyses[o.analysis.name] = body.get("result", body)
        return {
            "study": self.study.name,
            "instrument": {"name": self.instrument.name, "version": self.instrument.version},
            "screening": {"summary": to_jsonable(sc.summary), "excluded": to_jsonable(sc.excluded),
                          "failure_cases": to_jsonable(sc.failure_cases), "thresholds": to_jsonable(sc.thresholds),
                          "notes": list(sc.notes)},
            "scores": to_jsonable(self.scores),
            "descriptives": to_jsonable(self.descriptives()),
            "sample": to_jsonable(self.sample().reset_index()),
            "analyses": analyses,
            "failed": [f.to_dict() for f in self.failures],
            "notes": list(self.notes),
            "provenance": self.provenance,
        }

    def __repr__(self) -> str:
        return (f"StudyResults(study={self.study.name!r}, n_read={self.data.shape[0]}, n_excluded={self.screening.n_excluded}, "
                f"constructs={self.scores.shape[1]}, analyses={len(self.outcomes)}, failed={len(self.failures)})")

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

    def write_outputs(self, folder: str | Path, formats: tuple[str, ...] | None = None) -> tuple[dict[str, Path], list[Failure]]:
        """Write every output it can into ``folder``; return the paths and what could not be written.

        The files are written into a staging folder and moved in together, with
        ``govsurvey-manifest.json`` naming the run and its files (see
        :mod:`govsurvey.data.outputs`); an output path that is one of the run's inputs is
        refused before anything is written, and a second run into the same folder is refused
        while this one writes.

        A PDF that this machine cannot make (no CJK font, no WeasyPrint) is skipped with one
        logged warning when the PDF came only from the default formats; when the spec's
        ``formats:`` or the ``formats`` argument names pdf, it is a failure like any other
        output's. Either way every other output is written."""
        out = Path(folder)
        kinds, skipped = self._formats_to_write(formats)
        names = {fmt: "results.json" if fmt == "json" else f"report.{fmt}" for fmt in kinds}
        names.update(scores="scores.csv", exclusions="exclusions.csv", failure_cases="failure_cases.csv")
        check_not_inputs([out / n for n in names.values()], self._input_paths())
        failures: list[Failure] = []
        with OutputFolder(out, inputs=self._input_paths()) as staged:
            for kind, name in names.items():
                try:
                    self._write_one(kind, staged.staging / name)
                except GovsurveyError as exc:
                    failures.append(Failure.from_exception(f"output {kind}", exc))
                except OSError as exc:
                    failures.append(Failure.from_exception(f"output {kind}", os_error(exc, out)))
            written = staged.commit({"study": self.study.name, "govsurvey": self.provenance["packages"].get("govsurvey"),
                                     "inputs": self.provenance["inputs"], "seed": self.study.seed,
                                     "failed_analyses": [f.key for f in self.failures],
                                     "failed_outputs": [f.key.removeprefix("output ") for f in failures],
                                     "skipped_outputs": skipped})
        by_name = {name: kind for kind, name in names.items()}
        return {by_name[name]: path for name, path in written.items()}, failures

    def _formats_to_write(self, formats: tuple[str, ...] | None) -> tuple[tuple[str, ...], list[str]]:
        """The formats to write and those skipped: a PDF only defaulted to (no ``formats``
        argument, no ``formats:`` in the spec) is skipped, with one warning, when this machine
        cannot make one."""
        kinds = tuple(formats or self.study.formats)
        demanded = formats is not None or "formats" in (self.study.spec or {})
        if "pdf" not in kinds or demanded:
            return kinds, []
        from govsurvey.report.pdf import pdf_unavailable

        reason = pdf_unavailable()
        if reason is None:
            return kinds, []
        written = ", ".join(k for k in kinds if k != "pdf")
        log.warning("report.pdf was not written (%s and the CSV tables were): %s To skip the PDF without this warning, "
                    "list formats: [%s] in the spec.", written, reason, written)
        return tuple(k for k in kinds if k != "pdf"), ["pdf"]

    def _write_one(self, kind: str, path: Path) -> Path:
        tables = {"scores": (self.scores, True), "exclusions": (self.screening.excluded, True),
                  "failure_cases": (self.screening.failure_cases, False)}
        if kind in tables:
            frame, index = tables[kind]       # cells starting with = + - @ neutralised (CSV injection)
            return write_atomic(path, lambda p: neutralise_cells(frame).to_csv(p, index=index, encoding="utf-8-sig"))
        return getattr(self, f"to_{kind}")(path)

    def _input_paths(self) -> list[Path]:
        study = self.study
        paths = [study.spec_path, study.instrument_path, study.data.get("path"),
                 *(study.interviews.get(k) for k in ("path", "codebook", "cases")), *(p for _, p in analysis_files(study.analyses))]
        return [Path(p) for p in paths if p is not None]

    def write(self, folder: str | Path, formats: tuple[str, ...] | None = None) -> dict[str, Path]:
        """Write the report formats of the spec (html, pdf, docx, json) and the score and
        screening tables into ``folder``. Files govsurvey did not write are left alone. An
        output that cannot be written raises :class:`~govsurvey.errors.ReportError` after
        the others are written; a PDF the spec did not ask for by name is skipped with a
        logged warning when this machine cannot make one (see :meth:`write_outputs`)."""
        from govsurvey.errors import ReportError

        paths, failures = self.write_outputs(folder, formats)
        if failures:
            raise ReportError("; ".join(f"{f.key}: {f.message}" for f in failures) + ". Fix: " + failures[0].fix)
        return paths
