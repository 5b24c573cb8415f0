"""`evaluation:` in a study spec: the expert files read relative to the spec, the chain run
(Delphi screening, AHP, entropy and combined weights, the capacity index per community with
bootstrap CIs, shortfalls and interview evidence, the fuzzy evaluation), and its report chapter
in Chinese and English — tables whose captions, columns and values equal the results, no code
or stray English in the Chinese text, every decimal traceable to results.json — rendered in
HTML, PDF, Word and JSON."""

from __future__ import annotations

import json
import math
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from test_report_text import ALLOWED, DENY

import govsurvey as gs
from govsurvey.report.document import Figure, Paragraph, Table, build_document, fmt, fmt_p
from govsurvey.study import Study

EXAMPLE = gs.datasets.example_dir()
EVALUATION = {"unit": "site", "delphi": "experts/delphi.csv", "ahp": "experts/ahp.csv", "objective": "entropy",
              "method": "topsis", "fuzzy": True, "n_boot": 300}


def _spec(folder: Path, language: str, evaluation: dict | None = None, formats=("json",)) -> Path:
    """A spec in ``folder`` whose expert files sit in ``folder/experts`` (paths relative to the spec)."""
    (folder / "experts").mkdir(exist_ok=True)
    shutil.copy(EXAMPLE / "experts_delphi.csv", folder / "experts" / "delphi.csv")
    shutil.copy(EXAMPLE / "experts_ahp.csv", folder / "experts" / "ahp.csv")
    spec = {"name": "ev", "title": {"zh": "评价指标体系测试", "en": "Evaluation test"},
            "instrument": str(gs.datasets.instrument_path("community_phe_survey")), "data": {"path": str(EXAMPLE / "wjx_text_export.xlsx")},
            "interviews": {"path": str(EXAMPLE / "interviews.qdpx"), "codebook": str(EXAMPLE / "interview_codebook.csv")},
            "analyses": {"capacity_gaps": True, "evaluation": EVALUATION if evaluation is None else evaluation},
            "formats": list(formats), "seed": 7, "language": language}
    path = folder / f"spec_{language}.yaml"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")     # JSON is YAML
    return path


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    out = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"ev-{lang}")
        results = Study.from_yaml(_spec(folder, lang)).run()
        out[lang] = (results, build_document(results), folder)
    return out


def _section(doc):
    return next(s for s in doc.sections if s.id == "evaluation")


def _tables(doc) -> dict[str, Table]:
    return {b.caption: b for b in _section(doc).blocks if isinstance(b, Table)}


def _texts(doc) -> list[str]:
    out = [_section(doc).title]
    for b in _section(doc).blocks:
        if isinstance(b, Table):
            out += [b.caption, b.note, *map(str, b.frame.columns), *map(str, b.frame.to_numpy().ravel())]
        elif isinstance(b, (Paragraph, Figure)):
            out.append(b.text if isinstance(b, Paragraph) else b.caption)
        else:
            out.append(getattr(b, "text", ""))
    return out


def test_the_chain_runs_with_the_expert_files_relative_to_the_spec(studies):
    results, _, folder = studies["zh"]
    assert not results.failures, results.failures
    ev = results.analyses["evaluation"]
    assert ev.delphi.kendall_w["round"].tolist() == [1, 2] and ev.excluded == ()
    assert ev.ahp.aggregate == "AIJ" and set(ev.ahp.consistency["expert"]) == {"E01", "E02", "E03", "E04", "E05", "AIJ"}
    idx = ev.index
    assert idx.weights_method == "ahp × entropy" and idx.n_units == 12 and idx.n_boot == 300 and idx.seed == 7
    assert idx.weights["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert idx.association.loc["barrier_share", "n_units"] == 10
    assert ev.fuzzy.table.shape[0] == 13 and ev.fuzzy.labels == ("很差", "较差", "一般", "较好", "很好")
    opts = results.study.analyses["evaluation"]
    assert Path(opts.ahp) == (folder / "experts" / "ahp.csv").resolve() and "ahp='ahp.csv'" in repr(opts)
    assert "delphi.csv" in results.provenance["inputs"] and "ahp.csv" in results.provenance["inputs"]
    # the same computation by hand through the public API
    inst = results.instrument
    expert = gs.ahp(gs.read_ahp(folder / "experts" / "ahp.csv", inst).matrices)
    direct = gs.capacity_index(results.screening.clean, inst, unit="site", weights=expert, objective="entropy",
                               scores=results.scores, codes=None, n_boot=300, seed=7)
    assert idx.table["index"].to_numpy() == pytest.approx(direct.table["index"].to_numpy(), rel=1e-12)
    assert idx.table["ci_low"].to_numpy() == pytest.approx(direct.table["ci_low"].to_numpy(), rel=1e-12)


def test_the_ahp_warning_is_in_the_section_not_in_the_notes(studies):
    results, doc, _ = studies["zh"]
    assert any("CR = " in w for w in results.analyses["evaluation"].ahp.warnings)
    assert not any("CR = " in n for n in results.notes)
    text = " ".join(_texts(doc))
    assert "E04对事前准备能力（CR = .158）" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_section_tables_equal_the_results(studies, lang):
    results, doc, _ = studies[lang]
    ev = results.analyses["evaluation"]
    tables = list(_tables(doc).values())
    assert len(tables) == 6
    delphi, kendall, ahp, weights, ranking, fuzzy = tables
    # Delphi: one row per round and indicator, means and CVs as computed
    assert len(delphi.frame) == len(ev.delphi.rounds)
    assert delphi.frame["M"].tolist() == [fmt(v, 2) for v in ev.delphi.rounds["mean"]]
    assert delphi.frame["CV"].tolist() == [fmt(v, 3) for v in ev.delphi.rounds["cv"]]
    assert kendall.frame["W"].tolist() == [fmt(v, 3, bounded=True) for v in ev.delphi.kendall_w["w"]]
    assert kendall.frame["p"].tolist() == [fmt_p(v) for v in ev.delphi.kendall_w["p"]]
    # AHP: CR per node and expert, the criterion cited
    assert ahp.frame["CR"].tolist() == [fmt(v, 3) for v in ev.ahp.consistency["cr"]]
    assert "Saaty" in ahp.note and ".10" in ahp.note
    # weights: combined global weights of every node, in tree order
    combined = weights.frame.iloc[:, -1].tolist()
    h = ev.index.hierarchy
    assert sorted(combined) == sorted(fmt(v, 3) for v in h["weight"])
    first = weights.frame.columns[0]
    assert weights.frame[first].iloc[0] == ("事前准备能力" if lang == "zh" else "Pre-event preparedness (reduction and readiness)")
    # ranking: by rank, index and CI as computed
    t = ev.index.table.sort_values("rank")
    assert ranking.frame.iloc[:, 0].tolist() == [str(r) for r in t["rank"]]
    index_col = "能力指数" if lang == "zh" else "Index"
    assert ranking.frame[index_col].tolist() == [fmt(v, 3, bounded=True) for v in t["index"]]
    assert ranking.frame["95% CI"].iloc[0] == f"[{fmt(t['ci_low'].iloc[0], 3, bounded=True)}, {fmt(t['ci_high'].iloc[0], 3, bounded=True)}]"
    share = "访谈障碍提及比例" if lang == "zh" else "Barrier share"
    assert ranking.frame[share].tolist() == [fmt(v, 3, bounded=True) for v in t["barrier_share"]]
    # fuzzy: membership of the whole sample in the last row
    assert len(fuzzy.frame) == 13 and fuzzy.frame.iloc[-1, 0] == ("全体" if lang == "zh" else "All")
    assert fuzzy.frame.iloc[-1, 1:6].tolist() == [fmt(v, 3) for v in ev.fuzzy.vector.loc["(all)"]]


def test_captions_figures_and_the_association_sentence(studies):
    results, doc, _ = studies["zh"]
    assert list(_tables(doc)) == ["德尔菲专家咨询各轮指标评分与筛选", "专家意见协调程度（Kendall 协调系数）", "AHP 判断矩阵一致性检验",
                                  "评价指标体系及权重", "各社区（村）能力指数、排名与访谈证据", "各社区（村）模糊综合评价结果"]
    figures = [b.caption for b in _section(doc).blocks if isinstance(b, Figure)]
    assert figures == ["评价指标体系层次结构与权重", "各社区（村）能力指数及其 95% 置信区间"]
    row = results.analyses["evaluation"].index.association.loc["barrier_share"]
    text = " ".join(b.text for b in _section(doc).blocks if isinstance(b, Paragraph))
    assert f"ρ = {fmt(row['rho'], 3, bounded=True)}" in text and "Spearman" in text and "不宜作统计推断" in text
    for cite in ("Saaty, 1980", "Hwang & Yoon, 1981", "Kendall", "熵权法", "Forman & Peniwati, 1998"):
        assert cite in text, cite
    en = " ".join(b.text for b in _section(studies["en"][1]).blocks if isinstance(b, Paragraph))
    assert "no test of a population" in en and "Spearman's ρ" in en


def test_chinese_section_has_no_code_and_no_stray_english(studies):
    results, doc, _ = studies["zh"]
    columns = {str(c) for c in results.frame.columns}
    bad = []
    for text in _texts(doc):
        if DENY.search(text):
            bad.append(("deny", DENY.search(text).group(0), text[:100]))
        for word in re.findall(r"[A-Za-zÀ-ɏ_][A-Za-z0-9À-ɏ_'’]*", text):
            if word in ALLOWED or re.fullmatch(r"[A-Z]{1,3}\d*|F\d+", word):
                continue
            if "_" in word or word in columns or re.fullmatch(r"[a-z]{3,}", word):
                bad.append(("word", word, text[:100]))
    assert not bad, bad[:20]


def test_english_section_has_no_code(studies):
    _, doc, _ = studies["en"]
    for text in _texts(doc):
        assert not re.search(r"\bnan\b|NaN|\bNone\b|[A-Za-z]+_[A-Za-z0-9_]+|object at 0x", text), text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_decimal_in_the_section_comes_from_results_json(studies, lang):
    from test_report_text import _json_values, _numbers

    results, doc, _ = studies[lang]
    import numpy as np

    values = _json_values(json.loads(json.dumps(results.to_dict(), default=str)), [])
    pool = np.unique(np.round(np.array(values + [100 * v for v in values]), 6))
    missing = []
    for table in _tables(doc).values():
        for cell in table.frame.to_numpy().ravel():
            for value, decimals in _numbers(str(cell)):
                tol = 0.5 * 10 ** -decimals + 1e-9
                lo = np.searchsorted(pool, value - tol)
                if lo >= len(pool) or pool[lo] > value + tol:
                    missing.append((table.caption, cell))
    assert not missing, missing[:10]


def test_without_expert_files_the_weights_are_objective_and_the_report_says_so(tmp_path):
    spec = _spec(tmp_path, "zh", {"unit": "site", "objective": "critic", "method": "weighted_sum", "fuzzy": False, "n_boot": 0})
    results = Study.from_yaml(spec).run()
    assert not results.failures
    ev = results.analyses["evaluation"]
    assert ev.delphi is None and ev.ahp is None and ev.fuzzy is None and ev.index.weights_method == "critic"
    doc = build_document(results)
    text = " ".join(b.text for b in _section(doc).blocks if isinstance(b, Paragraph))
    assert "未提供专家权重文件" in text and "CRITIC" in text and "Diakoulaki" in text
    captions = list(_tables(doc))
    assert captions == ["评价指标体系及权重", "各社区（村）能力指数、排名与访谈证据"]
    assert "95% CI" not in _tables(doc)[captions[1]].frame.columns


def test_an_indicator_the_delphi_does_not_keep_is_left_out(tmp_path):
    spec = _spec(tmp_path, "zh")
    delphi = (tmp_path / "experts" / "delphi.csv")
    import pandas as pd

    table = pd.read_csv(delphi, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    table.loc[table["轮次"] == "2", "心理支持"] = "2"                 # the panel rejects psychological support in round 2
    table.to_csv(delphi, index=False, encoding="utf-8-sig")
    results = Study.from_yaml(spec).run()
    assert not results.failures
    ev = results.analyses["evaluation"]
    assert ev.excluded == ("psych_support",) and "psych_support" not in ev.index.weights.index
    assert ev.index.weights["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert list(ev.index.hierarchy.query("parent == 'post_event'").index) == ["recovery"]
    assert "psych_support" not in ev.fuzzy.dimension_weights.index
    assert not any("left out" in n or "rescaled" in n for n in results.notes)       # said in the section, in Chinese
    doc = build_document(results)
    text = " ".join(b.text for b in _section(doc).blocks if isinstance(b, Paragraph))
    assert "末轮未保留的心理支持未纳入能力指数，其余指标的 AHP 权重重新归一化" in text
    assert "德尔菲末轮未保留的心理支持不在指数中" in _tables(doc)["评价指标体系及权重"].note


def test_spec_problems_name_the_key_and_the_missing_file(tmp_path):
    spec = _spec(tmp_path, "zh", {"unit": "site", "ahp": "experts/nope.csv", "method": "topsys"})
    with pytest.raises(gs.SpecificationError) as err:
        Study.from_yaml(spec)
    text = str(err.value)
    assert "analyses.evaluation.method" in text and "topsis" in text
    assert "analyses.evaluation.ahp" in text and "'experts/nope.csv' does not exist" in text


def test_a_bad_expert_file_fails_the_analysis_with_its_row(tmp_path):
    spec = _spec(tmp_path, "zh")
    bad = (tmp_path / "experts" / "ahp.csv").read_text(encoding="utf-8-sig").replace(",2\n", ",1/0\n", 1)
    (tmp_path / "experts" / "ahp.csv").write_text(bad, encoding="utf-8")
    results = Study.from_yaml(spec).run()
    (failure,) = results.failures
    assert failure.key == "evaluation" and failure.error == "DataValidationError"
    assert "ahp.csv has" in failure.message and "'1/0' divides by zero" in failure.message
    assert "capacity_gaps" in results.analyses


def test_the_result_renders_in_a_notebook(studies):
    results, _, _ = studies["en"]
    ev = results.analyses["evaluation"]
    assert "<table" in ev.index._repr_html_() and "CapacityIndex" in ev.index._repr_html_()
    assert repr(ev.index).startswith("CapacityIndex(construct='capacity'")


# ------------------------------------------------------------------ all four formats
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ev-formats")
    results = Study.from_yaml(_spec(folder, "zh", formats=("html", "pdf", "docx", "json"))).run()
    paths, failures = results.write_outputs(folder / "out")
    assert not failures, failures
    return results, paths


def test_the_section_is_in_every_format(written):
    results, paths = written
    doc = build_document(results)
    captions = list(_tables(doc))
    html = paths["html"].read_text(encoding="utf-8")
    assert "综合评价：能力指数与社区排序" in html
    for caption in captions:
        assert caption in html, caption
    assert html.count("<svg") >= 2
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    result = data["analyses"]["evaluation"]
    assert result["index"]["table"]["columns"][:3] == ["n_obs", "index", "rank"]
    assert set(result) >= {"index", "delphi", "ahp", "fuzzy", "excluded"}
    with zipfile.ZipFile(paths["docx"]) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    text = re.sub(r"<[^>]+>", "", xml)
    for caption in captions:
        assert caption in text, caption
    ranking = _tables(doc)["各社区（村）能力指数、排名与访谈证据"].frame
    for cell in ranking["95% CI"]:
        assert cell in text
    if "pdf" in paths:
        assert paths["pdf"].stat().st_size > 10_000


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None, reason="Poppler is not installed")
def test_the_pdf_section_stays_within_the_margins_with_captions_by_their_tables(written, tmp_path):
    from test_report_layout import captions, check_margins, find_caption, read_pdf

    results, paths = written
    if "pdf" not in paths:
        pytest.skip("this machine cannot make a PDF")
    pages = read_pdf(paths["pdf"], tmp_path)
    check_margins(pages)
    html = paths["html"].read_text(encoding="utf-8")
    ours = set(_tables(build_document(results)))
    for number, text in captions(html, "table"):
        if text in ours:
            page, cap = find_caption(pages, "表", number, text)
            below = [r for r in page.body_rows() if r.y0 > cap.y1 - 0.5]
            assert below and below[0].y0 - cap.y1 < 30, f"表 {number} is the last line of page {page.number}"
    figures = [n for n, text in captions(html, "figure") if "评价指标体系" in text or "置信区间" in text]
    for number in figures:
        page, cap = find_caption(pages, "图", number, dict(captions(html, "figure"))[number])
        assert [y for y in page.ink if cap.y0 - 40 < y < cap.y0 - 2], f"图 {number} has no figure above it"
    assert not math.isnan(results.analyses["evaluation"].index.table["index"].sum())
