"""Study specs: strict loading (every wrong key or value named with its line), YAML bombs,
the registry of analyses (a toy analysis added from a test), partial failures, the README's
spec reference, and function sizes of the study and report code."""

from __future__ import annotations

import re

import ast
import dataclasses
import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import govsurvey as gs
from govsurvey.cli import app
from govsurvey.study import REGISTRY, Analysis, Study, register, unregister
from govsurvey.study.options import option

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = gs.datasets.example_dir()
runner = CliRunner()


def _write_spec(folder: Path, analyses: str, *, extra: str = "", instrument: Path | None = None, data: Path | None = None) -> Path:
    inst = instrument or gs.datasets.instrument_path("community_phe_survey")
    body = (f"name: t\ninstrument: {inst}\ndata: {data or EXAMPLE / 'survey.sav'}\n"
            f"interviews: {{path: {EXAMPLE / 'interviews.qdpx'}, codebook: {EXAMPLE / 'interview_codebook.csv'}}}\n")
    body += "".join(line for line in ("seed: 3\n", "formats: [json, html]\n") if not extra.startswith(line.split(":")[0] + ":"))
    body += f"{extra}analyses:\n{analyses}"
    path = folder / "spec.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ strict specs
def test_typos_in_spec_and_instrument_are_all_named_with_lines_and_suggestions(tmp_path):
    inst_dir = tmp_path / "instruments"
    shutil.copytree(gs.datasets.instruments_dir(), inst_dir)
    part = inst_dir / "participation.yaml"
    part.write_text(part.read_text(encoding="utf-8").replace("reverse: true", "revers: true", 1), encoding="utf-8")
    spec = _write_spec(tmp_path, "  efa: {n_factor: 2, rotaton: promax}\n", instrument=inst_dir / "community_phe_survey.yaml")
    with pytest.raises(gs.SpecificationError) as err:
        Study.from_yaml(spec)
    text = str(err.value)
    assert "has 3 problems" in text
    assert "line 8 (analyses.efa.n_factor): unknown key 'n_factor'. Fix: did you mean 'n_factors'?" in text
    assert "line 8 (analyses.efa.rotaton): unknown key 'rotaton'. Fix: did you mean 'rotation'?" in text
    assert "participation.yaml, line " in text and "unknown key 'revers' in an item. Fix: did you mean 'reverse'?" in text


@pytest.mark.parametrize("analyses, extra, match", [
    ("  compare_groups: [{group: gender}]\n", "", r"analyses.compare_groups\[0\]\): the option 'dv' is missing"),
    ("  regressions: [{robust: HC3}]\n", "", r"the option 'formula' is missing"),
    ("  multilevel: [{formula: 'capacity ~ 1'}]\n", "", r"the option 'groups' is missing"),
    ("  mediation: [{x: capacity, y: trust}]\n", "", r"the option 'm' is missing"),
    ("  invariance: true\n", "", r"analyses.invariance\): the option 'group' is missing"),
    ("  reliability: true\n", "formats: 5\n", r"formats=5 must be a name or a list of names"),
    ("  reliability: true\n", "formats: [html, word]\n", r"unknown format\(s\) word.*use some of html, pdf, docx, json"),
    ("  reliability: true\n", "title: 5\n", r"title=5 must be a text or \{zh: ..., en: ...\}"),
    ("  reliability: true\n", "title: [ab, cd]\n", r"title=\['ab', 'cd'\] must be a text"),
    ("  reliability: true\n", "title: {zh: 研究, cn: 研究}\n", r"title=.* has a text in 'cn', which is not a report language \(zh, en\)"),
    ("  mediation: [{x: capacity, m: trust, y: participation, n_boot: many}]\n", "", r"n_boot='many' must be a whole number from 100 to 100_000 \(text is not a number\). Fix: write n_boot: 5000"),
    ("  mediation: [{x: capacity, m: trust, y: participation, n_boot: 1e12}]\n", "", r"n_boot='1e12' must be a whole number between 100 and 100,000 \(YAML read '1e12' as text: write it with a dot and a sign, e.g. 1.0e\+12, or in full\)"),
    ("  mediation: [{x: capacity, m: trust, y: participation, n_boot: 1.0e+12}]\n", "", r"n_boot=1000000000000.0 must be a whole number from 100 to 100_000"),
    ("  reliability: {n_boot: 2.5}\n", "", r"n_boot=2.5 must be a whole number from 0 to 100_000 \(2.5 has a fractional part\)"),
    ("  reliability: true\n", "language: fr\n", r"language='fr' must be one of zh, en"),
    ("  efa: {n_factors: 1000}\n", "", r"n_factors=1000 must be a whole number from 1 to 200"),
    ("  efa: {rotation: quartimax}\n", "", r"rotation='quartimax' must be one of varimax, oblimin, promax, promax_stats, promax_spss, none \(did you mean 'varimax'\?\)\. Fix: write rotation: varimax"),
    ("  efa: {n_iter: .nan}\n", "", r"n_iter=nan must be a whole number from 1 to 10000 \(NaN and infinity are not allowed\)"),
    ("  cfa: {estimator: GLS}\n", "", r"estimator='GLS' must be one of ML, MLR, WLSMV, DWLS, ULSMV"),
    ("  efa: {method: minre}\n", "", r"method='minre' must be one of pc, minres, ml, pa \(did you mean 'minres'\?\)"),
    ("  descriptives: {by: true}\n", "", r"by=True must be a name"),
    ("  validity: true\n", "", r"validity needs the cfa analysis.*add cfa:"),
    ("  joint_display: true\n", "", r"joint_display needs the capacity_gaps analysis"),
    ("  relability: true\n", "", r"unknown analysis 'relability'. Fix: did you mean 'reliability'\?"),
    ("  regressions: []\n", "", r"analyses.regressions\): the list is empty"),
    ("  reliability: yes please\n", "", r"must be true or a mapping of options"),
    ("  reliability: true\n", "seed: -1\n", r"seed=-1 must be a whole number from 0 to 4_294_967_295"),
    ("  reliability: true\n", "seed: 1.5\n", r"seed=1.5 must be a whole number .*fractional part"),
    ("  reliability: true\n", "screening: {max_missing: 2}\n", r"max_missing=2 must be a number from 0 to 1"),
    ("  reliability: true\n", "scoring: {method: median}\n", r"method='median' must be one of mean, sum"),
    ("  reliability: true\n", "scoring: {min_valid: '0.8'}\n", r"min_valid='0.8' must be a number between 0 and 1 \(YAML read '0.8' as text: write it without quotes\)"),
])
def test_wrong_spec_values_name_the_key_and_what_is_allowed(tmp_path, analyses, extra, match):
    spec = _write_spec(tmp_path, analyses, extra=extra)
    with pytest.raises(gs.SpecificationError, match=match):
        Study.from_yaml(spec)


def test_wrong_data_options_and_missing_files(tmp_path):
    body = (f"name: t\ninstrument: {gs.datasets.instrument_path('community_phe_survey')}\n"
            f"data: {{path: nowhere.csv, encoding: rot13}}\nanalyses: {{reliability: true}}\n")
    (tmp_path / "s.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(gs.SpecificationError) as err:
        Study.from_yaml(tmp_path / "s.yaml")
    assert "encoding='rot13' must be one of utf-8" in str(err.value) and "gb18030" in str(err.value)
    assert "data.path): the file 'nowhere.csv' does not exist" in str(err.value)


@pytest.mark.parametrize("content, match", [
    ("name: a\nname: b\n", r"line 2.*key 'name' appears twice \(first at line 1\)"),
    ("name: t\n" + "x:\n" + "".join("  " * (k + 1) + f"k{k}:\n" for k in range(60)), "nested more than 40 deep"),
    ("[" * 5000 + "]" * 5000, "nested more than 40 deep|exceeded maximum nesting depth"),
    ("name: t\n!!python/object/apply:os.system ['echo x']\n", "not valid YAML"),
])
def test_malformed_yaml_specs(tmp_path, content, match):
    path = tmp_path / "s.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(gs.SpecificationError, match=match):
        Study.from_yaml(path)


def test_gbk_spec_is_a_clear_error(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes("name: 研究\ntitle: 社区应急能力\n".encode("gbk"))
    with pytest.raises(gs.SpecificationError, match="is not UTF-8 text.*Fix: save the file as UTF-8"):
        Study.from_yaml(path)


@pytest.mark.parametrize("kind", ["spec", "instrument"])
def test_alias_bombs_are_refused_at_once(tmp_path, kind):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(7) + "name: t\n", encoding="utf-8")
    assert path.stat().st_size < 1000
    start = time.perf_counter()
    with pytest.raises(gs.SpecificationError if kind == "spec" else gs.InstrumentError, match="expands to more than 200,000 values"):
        (Study.from_yaml if kind == "spec" else gs.load_instrument)(path)
    assert time.perf_counter() - start < 1.0


def test_a_few_aliases_still_work_and_provenance_stays_small(tmp_path):
    """Aliases within the budget are legitimate YAML; the spec copy in results.json stays bounded."""
    spec = _write_spec(tmp_path, "  reliability: true\n", extra="description: &d 社区研究\nauthors: [*d]\n")
    study = Study.from_yaml(spec)
    assert study.spec["authors"] == ["社区研究"]


def test_numpy_scalars_are_accepted_in_specs_built_in_python(tmp_path):
    import numpy as np

    spec = {"name": "t", "instrument": str(gs.datasets.instrument_path("community_phe_survey")), "data": str(EXAMPLE / "survey.sav"),
            "seed": np.int64(5), "analyses": {"efa": {"n_factors": np.int64(3), "n_iter": np.int32(10)}, "reliability": {"n_boot": np.int16(0)}}}
    study = Study.from_dict(spec, base=tmp_path)
    assert study.seed == 5 and study.analyses["efa"].n_factors == 3 and type(study.analyses["efa"].n_factors) is int


# -------------------------------------------------------------- the registry
@dataclasses.dataclass(frozen=True)
class _ToyOptions:
    construct: str = option(kind="name", doc="The construct whose score is summarised.")
    top: int = option(3, kind="int", low=1, high=10, doc="How many highest scores to show.")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class _ToyResult(gs.Result):
    construct: str
    highest: pd.DataFrame


def _toy_run(inputs, o: _ToyOptions) -> _ToyResult:
    s = inputs.frame[o.construct].dropna().sort_values(ascending=False).head(o.top)
    return _ToyResult(construct=o.construct, highest=s.to_frame("score"))


def _toy_section(ctx, res: _ToyResult, o: _ToyOptions) -> list:
    from govsurvey.report.document import Paragraph

    rows = [{"respondent": str(i), "score": f"{v:.2f}"} for i, v in res.highest["score"].items()]
    return [ctx.table(ctx.text(f"{ctx.label(res.construct)}得分最高者", f"Highest {ctx.label(res.construct)}"), rows),
            Paragraph(ctx.text("玩具分析。", "A toy analysis."))]


@pytest.fixture
def toy_analysis():
    entry = register(Analysis(name="toy_top", title={"zh": "最高得分", "en": "Highest scores"}, doc="Top scores.",
                              options=_ToyOptions, run=_toy_run, section=_toy_section, chapter="results",
                              example="{construct: trust}"))
    try:
        yield entry
    finally:
        unregister("toy_top")


def test_a_new_analysis_needs_only_its_registry_entry(tmp_path, toy_analysis):
    spec = _write_spec(tmp_path, "  toy_top: {construct: trust, top: 4}\n")
    study = Study.from_yaml(spec)
    assert study.analyses["toy_top"] == _ToyOptions(construct="trust", top=4)
    result = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert len(data["analyses"]["toy_top"]["highest"]["index"]) == 4 and data["failed"] == []
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<a href="#toy_top">最高得分</a>' in html and "信任得分最高者" in html and "玩具分析。" in html
    with pytest.raises(gs.SpecificationError, match=r"toy_top.tpo\): unknown key 'tpo'. Fix: did you mean 'top'\?"):
        Study.from_yaml(_write_spec(tmp_path, "  toy_top: {construct: trust, tpo: 4}\n"))
    from govsurvey.study.docs import spec_reference

    assert "##### `toy_top` — Highest scores / 最高得分" in spec_reference()


def test_registry_entries_are_complete():
    for name, entry in REGISTRY.items():
        assert entry.name == name and entry.title["zh"] and entry.title["en"] and entry.doc
        assert callable(entry.run) and callable(entry.section)
        for f in dataclasses.fields(entry.options):
            assert f.metadata["doc"], (name, f.name)


# ----------------------------------------------------------- partial failures
def test_one_failing_analysis_does_not_lose_the_others(tmp_path):
    """Interview sites that match no survey site, a mediator that is not a variable, a singular
    regression: each is marked; every other analysis is computed and reported; exit status 1."""
    seg = pd.read_csv(EXAMPLE / "interview_segments.csv")
    cases = pd.read_csv(EXAMPLE / "interview_cases.csv")
    renamed = {site: f"未知社区{k}" for k, site in enumerate(sorted(cases["site"].astype(str).unique()))}
    for table in (cases, seg):
        if "site" in table:
            table["site"] = table["site"].astype(str).map(renamed)
    cases.to_csv(tmp_path / "cases.csv", index=False)
    seg.to_csv(tmp_path / "segments.csv", index=False)
    analyses = ("  reliability: true\n  capacity_gaps: true\n  link_codes: {level: site}\n  joint_display: true\n"
                "  mediation:\n    - {x: capacity, m: trust, y: participation, n_boot: 200}\n    - {x: capacity, m: resilience, y: participation}\n"
                "  regressions:\n    - {formula: 'participation ~ capacity + I(capacity * 2)'}\n    - {formula: 'participation ~ trust'}\n")
    spec = _write_spec(tmp_path, analyses, extra="formats: [json, html, docx]\n")
    text = spec.read_text(encoding="utf-8").replace(
        f"interviews: {{path: {EXAMPLE / 'interviews.qdpx'}, codebook: {EXAMPLE / 'interview_codebook.csv'}}}",
        f"interviews: {{path: {tmp_path / 'segments.csv'}, codebook: {EXAMPLE / 'interview_codebook.csv'}, cases: {tmp_path / 'cases.csv'}}}")
    spec.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Internal error" not in result.output
    assert "3 could not be computed" in result.output
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    failed = {f["key"]: f for f in data["failed"]}
    assert set(failed) == {"link_codes", "mediation[1]", "regressions[0]"}, failed
    assert failed["mediation[1]"]["error"] == "UnknownItemError" and "resilience" in failed["mediation[1]"]["message"]
    assert "未知社区" in failed["link_codes"]["message"] and failed["link_codes"]["fix"]
    assert failed["regressions[0]"]["error"] == "NotPositiveDefiniteError"
    for key in ("reliability", "capacity_gaps", "joint_display"):
        assert "failed" not in data["analyses"][key], key
    assert "result" in data["analyses"]["mediation"][0] and "failed" in data["analyses"]["mediation"][1]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.count('<div class="failed" role="alert">') == 3 and "未能计算" in html and "resilience" in html
    assert "联合展示" in html and "→ resilience →" in html
    assert re.search(r'<h3 id="regressions-0">回归分析（1）：[^<~]+（预测变量：[^<~]+）</h3>', html)   # labels, not the formula
    assert "<h3 id=\"reliability\">信度与项目分析</h3>" in html                 # one of a kind: no number
    assert "— capacity → resilience → participation (UnknownItemError)" in result.output
    _check_docx_failures(tmp_path / "out" / "report.docx")


def _check_docx_failures(path: Path) -> None:
    """Word: a TOC field listing the analyses, page numbers, and each failure as a bordered paragraph."""
    import docx
    from docx.oxml.ns import qn

    d = docx.Document(str(path))
    body = d.element.body.xml
    assert 'TOC \\o "1-2"' in body and "→ resilience →" in body
    assert "PAGE" in d.sections[0].footer._element.xml
    assert d.settings.element.find(qn("w:updateFields")) is not None
    boxed = [p for p in d.paragraphs if p._p.pPr is not None and p._p.pPr.find(qn("w:pBdr")) is not None]
    assert len(boxed) == 3 and all(p.text.startswith("未能计算（") and "修改建议：" in p.text for p in boxed)
    headings = [p.text for p in d.paragraphs if p.style.name == "Heading 2"]
    assert "回归分析（2）：居民参与（预测变量：基层政府信任）" in headings


def test_an_analysis_needing_a_failed_one_is_marked_not_computed(tmp_path, monkeypatch):
    """A bare exception inside an analysis becomes an AnalysisError naming it; what needs it is skipped."""
    def broken(inputs, o):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(REGISTRY, "cfa", dataclasses.replace(REGISTRY["cfa"], run=broken))
    spec = _write_spec(tmp_path, "  cfa: {constructs: [trust]}\n  validity: true\n  reliability: true\n")
    res = Study.from_yaml(spec).run()
    fails = {f.key: f for f in res.failures}
    assert fails["cfa"].error == "AnalysisError"
    assert "cfa failed with an unexpected ZeroDivisionError: division by zero" in fails["cfa"].message
    assert fails["validity"].error == "SkippedAnalysis" and "it needs cfa, which could not be computed" in fails["validity"].message
    assert "reliability" in res.analyses and "cfa" not in res.analyses


def test_an_output_that_cannot_be_written_leaves_the_others(tmp_path, monkeypatch):
    from govsurvey.report import pdf

    def no_pdf(results, path):
        raise gs.ReportError("PDF output needs WeasyPrint. Fix: install it.")

    monkeypatch.setattr(pdf, "write_pdf", no_pdf)
    res = Study.from_yaml(_write_spec(tmp_path, "  reliability: true\n")).run()
    with pytest.raises(gs.ReportError, match="output pdf: PDF output needs WeasyPrint"):
        res.write(tmp_path / "o", formats=("json", "pdf"))
    assert (tmp_path / "o" / "results.json").exists() and (tmp_path / "o" / "scores.csv").exists()


# ----------------------------------------------------------------- the code
def test_readme_spec_reference_is_generated_from_the_registry():
    from govsurvey.study.docs import BEGIN, END, spec_reference

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme
    shown = readme[readme.index(BEGIN):readme.index(END) + len(END)]
    assert shown == spec_reference(), "README's spec reference is stale: paste `python -m govsurvey.study.docs` into it"
    for name in REGISTRY:
        assert f"##### `{name}`" in shown


def test_no_long_functions_in_study_and_report_code():
    long = []
    for path in [*(ROOT / "src/govsurvey/study").glob("*.py"), *(ROOT / "src/govsurvey/report").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


# ----------------------------------------------------------------- formulas
PAYLOADS = [
    'participation ~ np.lib._npyio_impl.os.system("\\164\\157\\165\\143\\150 pwned")',
    'participation ~ __import__("os").system("touch pwned")',
    "participation ~ trust.__class__.__mro__",
    "participation ~ (lambda: open('pwned', 'w'))()",
    "participation ~ 'touch pwned'",
    "participation ~ eval('1')",
    "participation ~ getattr(trust, 'x')",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_in_a_spec_are_refused_before_anything_runs(tmp_path, monkeypatch, payload):
    monkeypatch.chdir(tmp_path)
    spec = _write_spec(tmp_path, f"  regressions: [{{formula: {json.dumps(payload)}}}]\n  multilevel: [{{formula: {json.dumps(payload)}, groups: site}}]\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "SpecificationError" in result.output and "analyses.regressions[0].formula" in result.output
    assert "analyses.multilevel[0].formula" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before      # nothing written, nothing created


def test_sites_coded_as_numbers_match_interview_site_names_through_the_choice_labels(tmp_path):
    """The survey stores site codes 1–12 (a select_one question); the interviews name the
    communities; link_codes matches them through the instrument's choice labels."""
    inst_dir = tmp_path / "instruments"
    shutil.copytree(gs.datasets.instruments_dir(), inst_dir)
    data = gs.read_responses(EXAMPLE / "survey.sav", gs.load_instrument(inst_dir / "community_phe_survey.yaml"))
    names = sorted(data["site"].dropna().unique())
    codes = {name: k + 1 for k, name in enumerate(names)}
    choices = ", ".join(f"{k}: {name}" for name, k in codes.items())
    demo = inst_dir / "demographics.yaml"
    demo.write_text(demo.read_text(encoding="utf-8").replace(
        "  - id: site\n    type: text\n",
        f"  - id: site\n    type: select_one\n    choices:\n      zh: {{{choices}}}\n      en: {{{choices}}}\n"), encoding="utf-8")
    coded = data.assign(site=data["site"].map(codes))
    coded.to_csv(tmp_path / "coded.csv")
    spec = _write_spec(tmp_path, "  link_codes: {level: site}\n", instrument=inst_dir / "community_phe_survey.yaml", data=tmp_path / "coded.csv")
    res = Study.from_yaml(spec).run()
    assert set(res.frame["site"].dropna()) <= set(codes.values())            # the survey side holds codes
    assert res.failures == ()
    by_name = Study.from_yaml(_write_spec(tmp_path, "  link_codes: {level: site}\n")).run()
    pd.testing.assert_frame_equal(res.analyses["link_codes"], by_name.analyses["link_codes"])


def test_mlr_invariance_and_robust_df_reach_the_report(tmp_path):
    """Under MLR the invariance table shows scaled χ², robust CFI/RMSEA and the Satorra–Bentler Δχ²
    (and says so); a regression's robust_df option reaches gs.regress."""
    spec = _write_spec(tmp_path, "  invariance: {group: gender, constructs: [trust, satisfaction], estimator: MLR}\n"
                                 "  regressions: [{formula: 'participation ~ trust', robust: HC3, robust_df: normal}]\n")
    res = Study.from_yaml(spec).run()
    assert res.failures == ()
    table = res.analyses["invariance"].table
    assert {"chisq_scaled", "cfi_robust", "delta_cfi_robust"} <= set(table.columns)
    assert res.analyses["regressions"][0][1].robust_df == "normal"
    html = res.write(tmp_path / "out")["html"].read_text(encoding="utf-8")
    assert "Satorra–Bentler（2001）校正差异检验" in html
    row = f"<td>{table.loc['metric', 'chisq_diff']:.2f}</td>"
    assert row in html
