"""Study specs: strict YAML → a validated :class:`Study`.

Every key at every depth is checked against its section's options (the analyses' options come
from the registry); every problem in the file is reported at once with its line and, for a
misspelt key, the closest valid one. Nothing is read or computed before the whole spec passes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from govsurvey.data.yamlfile import line_of, load_yaml_file
from govsurvey.errors import InputFileNotFoundError, SpecificationError
from govsurvey.results import to_jsonable
from govsurvey.study.options import Problems, check_options, option, spec_problems, suggest
from govsurvey.study.registry import REGISTRY

__all__ = ["Study", "FORMATS", "ENCODINGS", "SECTIONS", "MAX_SPEC_BYTES", "analysis_files"]

FORMATS = ("html", "pdf", "docx", "json")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5", "utf-16", "utf-16-le", "utf-16-be", "cp936", "latin-1", "cp1252")
MAX_SPEC_BYTES = 1_000_000
_frozen = dataclasses.dataclass(frozen=True)


@_frozen
class TopOptions:
    name: str = option(kind="name", doc="A short name of the study (used in file names and logs).")
    title: Any = option(None, kind="text", doc="The report's title: a text, or one per language {zh: ..., en: ...}.")
    instrument: str = option(kind="path", doc="The instrument YAML or XLSForm, relative to the spec file.")
    language: str = option("zh", kind="choice", choices=("zh", "en"), doc="The report's language.")
    formats: tuple[str, ...] = option(FORMATS, kind="names", doc=f"Outputs to write: some of {', '.join(FORMATS)}.")
    seed: int | None = option(None, kind="int", low=0, high=2**32 - 1, doc="Seed of every random procedure (bootstraps, parallel analysis).")
    description: Any = option(None, kind="text", doc="Free text about the study (kept in results.json).")
    authors: tuple[str, ...] | None = option(None, kind="names", doc="Authors (kept in results.json).")


@_frozen
class DataOptions:
    path: str = option(kind="path", doc="The responses (.csv .tsv .xlsx .sav .dta .parquet, or a 问卷星 export), relative to the spec.")
    encoding: str | None = option(None, kind="choice", choices=ENCODINGS, doc="Text encoding of a CSV (detected when omitted).")
    sheet: str | None = option(None, kind="str", doc="Excel sheet name (default: the first sheet).")
    id_column: str | None = option(None, kind="name", doc="Column of respondent ids (default: detected, else row numbers).")
    mapping: dict | None = option(None, kind="mapping", doc="Column renames {column in the file: question id}.")
    answers: str = option("auto", kind="choice", choices=("auto", "labels", "codes"),
                          doc="How numbers in answer columns are read when a scale's labels are numbers too: auto (decided from the file), labels or codes.")


@_frozen
class ScreeningOptions:
    min_seconds: float | None = option(None, kind="float", low=0, high=1e6, doc="Completion time below which a respondent is a speeder.")
    time_column: str | None = option(None, kind="name", doc="Column of completion seconds (default _seconds, 问卷星's 所用时间).")
    attention: Any = option(None, kind="answers", doc="false turns the attention rule off; a mapping {item: answer} overrides the instrument's checks.")
    straightline: Any = option(True, kind="number_or_bool", low=0.5, high=1, doc="Flag straight-lining (a share in (0.5, 1]: flag when one answer covers that share).")
    duplicates: bool = option(True, kind="bool", doc="Flag exact duplicate responses.")
    near_duplicates: Any = option(True, kind="number_or_bool", low=0.5, high=1,
                                  doc="Flag near-duplicate submissions: true (a share of 0.95), a share in [0.5, 1] of the construct "
                                      "items both answered that must agree (with the same IP or device; 1 − (1 − share)/2 without), or false.")
    mahalanobis_p: float | None = option(None, kind="float", low=1e-12, high=0.5, doc="Flag multivariate outliers at this p (off by default).")
    max_missing: float = option(0.2, kind="float", low=0, high=1, doc="Largest share of construct items a respondent may leave empty.")
    speed_ratio: float = option(1 / 3, kind="float", low=0, high=1, doc="Without min_seconds: speeders are below this share of the median time.")
    min_block: int = option(8, kind="int", low=2, high=10_000, doc="Smallest block of Likert items checked for straight-lining.")


@_frozen
class ScoringOptions:
    method: str = option("mean", kind="choice", choices=("mean", "sum"), doc="Construct scores as item means or sums.")
    min_valid: float = option(0.8, kind="float", low=0, high=1, doc="Share of a construct's items a respondent needs for a score.")
    higher_order: str = option("items", kind="choice", choices=("items", "dimensions"), doc="Higher-order scores from all items or from the dimension scores.")


@_frozen
class InterviewOptions:
    path: str = option(kind="path", doc="A REFI-QDA project (.qdpx) or a CSV of coded segments, relative to the spec.")
    codebook: str | None = option(None, kind="path", doc="A CSV mapping codes to instrument dimensions and polarity (barrier/facilitator).")
    cases: str | None = option(None, kind="path", doc="A CSV of case variables (case, site, role, ...) for a segments CSV.")
    identifying: tuple[str, ...] | None = option(None, kind="names", doc="More case variables that identify people, added to those recognised by name (姓名, 受访人, name, phone, 电话, 身份证 …); never written to outputs.")


SECTIONS = {"data": DataOptions, "screening": ScreeningOptions, "scoring": ScoringOptions, "interviews": InterviewOptions}


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
        return f"Study({self.name!r}, analyses={list(self.analyses)}, formats={list(self.formats)})"

    def run(self, progress=None):
        """Run the study: every analysis it can, failures recorded in the results
        (``StudyResults.failures``) instead of raised. ``progress(step)`` is called before
        each step (see :func:`govsurvey.study.run.steps`)."""
        from govsurvey.study.run import run_study

        return run_study(self, progress)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Study":
        """Read and check a study spec (see the README's "Study specs" for every key).

        Examples
        --------
        >>> import govsurvey as gs
        >>> from pathlib import Path
        >>> study = gs.Study.from_yaml(Path(gs.__file__).parents[2] / "analyses" / "example.yaml")
        >>> study.analyses["efa"].n_factors, study.seed
        (9, 20261124)
        """
        p = Path(path)
        if not p.exists():
            raise InputFileNotFoundError(f"Study spec {p} does not exist. Check the path.")
        return cls.from_dict(_read(p), base=p.resolve().parent, source=str(p))

    @classmethod
    def from_dict(cls, spec: Any, *, base: str | Path = ".", source: str = "the study spec") -> "Study":
        """Check a spec already parsed (paths are relative to ``base``)."""
        problems = spec_problems(source)
        if not isinstance(spec, dict):
            raise SpecificationError(f"Study spec {source} must be a mapping (name:, instrument:, data: ...), got {type(spec).__name__}.")
        top_raw = {k: v for k, v in spec.items() if k not in SECTIONS and k != "analyses"}
        if hasattr(spec, "key_lines"):
            top_raw = _keep_lines(spec, top_raw)
        top = check_options(TopOptions, top_raw, "top level", problems)
        if "data" not in spec:
            problems.add(line_of(spec), "data", "the spec has no data: section.", "add data: {path: responses.xlsx}.")
        sections = {name: _section(spec, name, problems) for name in SECTIONS}
        analyses = _analyses(spec.get("analyses"), line_of(spec, "analyses"), bool(spec.get("interviews")), problems)
        if top is not None:
            bad = [f for f in top.formats if f not in FORMATS]
            if bad:
                problems.add(line_of(spec, "formats"), "formats", f"unknown format(s) {', '.join(bad)}.",
                             f"{suggest(bad[0], FORMATS)}use some of {', '.join(FORMATS)}.")
        if top is not None:
            _check_files(Path(base).resolve(), top, sections, spec, problems)
            _check_analysis_files(Path(base).resolve(), spec.get("analyses"), problems)
        problems.raise_if_any()
        return cls._build(top, sections, analyses, Path(base).resolve(), spec, source)

    @classmethod
    def _build(cls, top: TopOptions, sections: dict, analyses: dict, base: Path, spec: dict, source: str) -> "Study":
        def resolve(section: dict, keys: tuple[str, ...]) -> dict:
            return {k: ((base / v).resolve() if k in keys and v is not None else v) for k, v in section.items()}

        title = top.title or top.name
        title = {top.language: title} if isinstance(title, str) else dict(title)
        spec_path = Path(source).resolve() if Path(source).is_file() else None
        return cls(name=top.name, title=title, instrument_path=(base / top.instrument).resolve(),
                   data=resolve(sections["data"], ("path",)), screening=sections["screening"], scoring=sections["scoring"],
                   interviews=resolve(sections["interviews"], ("path", "codebook", "cases")),
                   analyses={k: _resolve_paths(v, base) for k, v in analyses.items()},
                   language=top.language, formats=tuple(top.formats), seed=top.seed, spec_path=spec_path, spec=to_jsonable(spec))


def _path_fields(options: Any) -> list[str]:
    """The options of kind ``path`` (input files of an analysis) that are set."""
    return [f.name for f in dataclasses.fields(options) if f.metadata.get("kind") == "path" and getattr(options, f.name)]


def _resolve_paths(options: Any, base: Path) -> Any:
    """An analysis' options (or a list analysis' tuple of them) with file paths made absolute from ``base``."""
    if isinstance(options, tuple):
        return tuple(_resolve_paths(o, base) for o in options)
    if options is None or not dataclasses.is_dataclass(options):
        return options
    return dataclasses.replace(options, **{name: (base / getattr(options, name)).resolve() for name in _path_fields(options)})


def analysis_files(analyses: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, path) of every input file the analyses name (options of kind ``path``), e.g.
    ``("analyses.evaluation.ahp", Path(...))``."""
    out = []
    for key, options in analyses.items():
        many = isinstance(options, tuple)
        for k, o in enumerate(options if many else (options,)):
            if o is not None and dataclasses.is_dataclass(o):
                where = f"analyses.{key}" + (f"[{k}]" if many else "")
                out += [(f"{where}.{name}", getattr(o, name)) for name in _path_fields(o)]
    return out


def _read(p: Path) -> Any:
    return load_yaml_file(p, noun="Study spec", error=SpecificationError, max_bytes=MAX_SPEC_BYTES,
                          bomb_fix="write the spec out without YAML aliases (*name); a study spec is a few dozen lines.")


def _check_files(base: Path, top: TopOptions, sections: dict, spec: dict, problems: Problems) -> None:
    """Input files must exist, and the instrument's own problems are reported with the spec's."""
    from govsurvey.errors import GovsurveyError
    from govsurvey.instrument import load_instrument

    files = [("instrument", top.instrument, line_of(spec, "instrument"))]
    files += [(f"{name}.{key}", sections[name].get(key), line_of(spec, name)) for name, keys in
              (("data", ("path",)), ("interviews", ("path", "codebook", "cases"))) for key in keys]
    for where, rel, line in files:
        if rel is not None and not (base / rel).is_file():
            problems.add(line, where, f"the file {rel!r} does not exist (looked in {base}).", "check the path; it is relative to the spec file.")
    path = base / top.instrument
    if path.is_file():
        try:
            load_instrument(path)
        except GovsurveyError as exc:
            lines = str(exc).splitlines()      # "Instrument X has N problems:" then "  - ..." per problem
            if len(lines) > 1:
                problems.messages.extend(m.strip().removeprefix("- ") for m in lines[1:])
            else:
                problems.messages.append(str(exc))


def _check_analysis_files(base: Path, raw: Any, problems: Problems) -> None:
    """Every file an analysis names (an expert file, …) must exist, relative to the spec — read
    from the spec as written, so a missing file is reported even when another option is wrong."""
    if not isinstance(raw, dict):
        return
    for key, value in raw.items():
        entry = REGISTRY.get(key)
        if entry is None:
            continue
        fields = [f.name for f in dataclasses.fields(entry.options) if f.metadata.get("kind") == "path"]
        sets = value if isinstance(value, list) else [value]
        for k, options in enumerate(sets):
            if not isinstance(options, dict):
                continue
            where = f"analyses.{key}" + (f"[{k}]" if isinstance(value, list) else "")
            for name in fields:
                rel = options.get(name)
                if isinstance(rel, str) and rel.strip() and not (base / rel).is_file():
                    problems.add(line_of(options, name) or line_of(raw, key), f"{where}.{name}",
                                 f"the file {rel!r} does not exist (looked in {base}).", "check the path; it is relative to the spec file.")


def _keep_lines(spec: Any, sub: dict) -> dict:
    """A sub-mapping of a :class:`YamlMap` that keeps its keys' lines."""
    from govsurvey.data.yamlfile import YamlMap

    out = YamlMap()
    out.line = spec.line
    for k, v in sub.items():
        out[k] = v
        out.key_lines[k] = spec.key_lines.get(k)
    return out


def _section(spec: dict, name: str, problems: Problems) -> dict:
    """One input section checked against its options; a bare string for data: is its path."""
    raw = spec.get(name)
    if raw is None or raw is False:
        return {}
    if name in ("data", "interviews") and isinstance(raw, str):
        raw = {"path": raw}
    opts = check_options(SECTIONS[name], raw, name, problems, line=line_of(spec, name))
    if opts is None:      # still check that the files it names exist
        return {k: v for k, v in raw.items() if k in ("path", "codebook", "cases") and isinstance(v, str)} if isinstance(raw, dict) else {}
    given = raw if isinstance(raw, dict) else {}
    return {f.name: getattr(opts, f.name) for f in dataclasses.fields(opts) if f.name in given}


def _analyses(raw: Any, line: int | None, has_interviews: bool, problems: Problems) -> dict[str, Any]:
    """analyses: each key a registered analysis, its value checked against its options."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(line, "analyses", f"analyses must be a mapping of analysis names to options, got {raw!r}.",
                     "write analyses: then one analysis per line, e.g. reliability: true.")
        return {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        entry = REGISTRY.get(key)
        where, at = f"analyses.{key}", line_of(raw, key) or line
        if entry is None:
            problems.add(at, where, f"unknown analysis {key!r}.", f"{suggest(key, list(REGISTRY))}the analyses are {', '.join(REGISTRY)}.")
        elif value is False or value is None:
            continue
        elif entry.many:
            items = value if isinstance(value, list) else [value]
            checked = [check_options(entry.options, item, f"{where}[{k}]", problems, line=line_of(items, k) or at)
                       for k, item in enumerate(items)]
            if not items:
                problems.add(at, where, "the list is empty.", f"give at least one, e.g. {key}: {entry.example}, or remove it.")
            out[key] = tuple(checked)
        else:
            out[key] = check_options(entry.options, value, where, problems, line=at)
    for key in out:
        for need in REGISTRY[key].needs:
            if need == "interviews" and not has_interviews:
                problems.add(line_of(raw, key), f"analyses.{key}", f"{key} needs an interviews: section (the coded interviews).",
                             "add interviews: {path: interviews.qdpx, codebook: codebook.csv}, or remove " + key + ".")
            elif need != "interviews" and need not in out:
                problems.add(line_of(raw, key), f"analyses.{key}", f"{key} needs the {need} analysis, which the spec does not run.",
                             f"add {need}: {REGISTRY[need].example} under analyses, or remove {key}.")
    return out

