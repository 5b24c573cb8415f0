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
import warnings
import zipfile
from pathlib import Path

import pandas as pd
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
    assert "E04 对事前准备能力的判断矩阵 CR = 0.158 > 0.10" in text.replace("\u00a0", " ")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_section_tables_equal_the_results(studies, lang):
    results, doc, _ = studies[lang]
    ev = results.analyses["evaluation"]
    tables = list(_tables(doc).values())
    assert len(tables) == 9
    delphi1, delphi2, kendall, authority, ahp, weights, ranking, sensitivity, fuzzy = tables
    # Delphi: one table per round, one row per indicator, means and CVs as computed
    delphi = pd.concat([delphi1.frame, delphi2.frame], ignore_index=True)
    assert [delphi1.frame.shape[0], delphi2.frame.shape[0]] == ev.delphi.rounds.groupby("round").size().tolist()
    assert delphi["M"].tolist() == [fmt(v, 2) for v in ev.delphi.rounds["mean"]]
    assert delphi["CV"].tolist() == [fmt(v, 3) for v in ev.delphi.rounds["cv"]]
    overall = kendall.frame[kendall.frame.iloc[:, 1] == ("全部指标" if lang == "zh" else "All")]
    assert overall["W"].tolist() == [fmt(v, 3, bounded=True) for v in ev.delphi.kendall_w["w"]]
    assert overall["p"].tolist() == [fmt_p(v) for v in ev.delphi.kendall_w["p"]]
    within = kendall.frame[kendall.frame.iloc[:, 1] != ("全部指标" if lang == "zh" else "All")]
    assert within["W"].tolist() == [fmt(v, 3, bounded=True) for v in ev.delphi.kendall_w_groups["w"]]
    assert len(within) == 4 and "m" in kendall.note and "n" in kendall.note
    # authority: one row per expert, Cr as computed
    assert authority.frame.iloc[:, -1].tolist() == [fmt(v, 3) for v in ev.delphi.authority["cr"]]
    # AHP: CR per node and expert ("—" for matrices of order 2, where CR is undefined), the criterion cited
    cr = ahp.frame["一致性比率（CR）" if lang == "zh" else "Consistency ratio (CR)"]
    c = ev.ahp.consistency
    assert cr.tolist() == ["—" if n <= 2 else fmt(v, 3) for n, v in zip(c["n"], c["cr"])]
    assert (c["n"] <= 2).sum() == 6 and "Saaty" in ahp.note and "0.10" in ahp.note
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
    people = "受访者数" if lang == "zh" else "Interviewees"
    assert ranking.frame[people].tolist() == [str(int(v)) for v in t["n_interviewees"]]
    # sensitivity: the weighting used, then each other one with its ρ
    s = ev.index.sensitivity
    assert len(sensitivity.frame) == len(s) + 1
    assert sensitivity.frame.iloc[1:, 3].tolist() == [fmt(v, 3, bounded=True) for v in s["rho"]]
    # fuzzy: ranked by score, membership of the whole sample in the last row
    assert len(fuzzy.frame) == 13 and fuzzy.frame.iloc[-1, 1] == ("全体" if lang == "zh" else "All")
    member = [c for c in fuzzy.frame.columns if c.startswith("隶属度：" if lang == "zh" else "μ: ")]
    assert len(member) == 5
    assert fuzzy.frame[member].iloc[-1].tolist() == [fmt(v, 3) for v in ev.fuzzy.vector.loc["(all)"]]
    scores = ev.fuzzy.score.drop(index="(all)").sort_values(ascending=False, kind="stable")
    assert fuzzy.frame.iloc[:-1, 0].tolist() == [str(r) for r in scores.rank(ascending=False, method="min").astype(int)]


def test_captions_figures_and_the_association_sentence(studies):
    results, doc, _ = studies["zh"]
    assert list(_tables(doc)) == ["德尔菲专家咨询第 1 轮指标评分与筛选", "德尔菲专家咨询第 2 轮指标评分与筛选",
                                  "专家意见协调程度（肯德尔和谐系数）", "专家权威系数",
                                  "AHP 判断矩阵一致性检验", "评价指标体系及权重", "各社区（村）能力指数、排名与短板维度",
                                  "不同赋权方案下各社区（村）排名的稳健性", "各社区（村）模糊综合评价结果"]
    figures = [b.caption for b in _section(doc).blocks if isinstance(b, Figure)]
    assert figures == ["评价指标体系层次结构与权重", "各社区（村）能力指数及其 95% 置信区间"]
    row = results.analyses["evaluation"].index.association.loc["barrier_share"]
    text = " ".join(b.text for b in _section(doc).blocks if isinstance(b, Paragraph))
    assert f"ρ = {fmt(row['rho'], 3, bounded=True)}" in text and "Spearman" in text and "不宜作统计推断" in text
    for cite in ("Saaty, 1980", "Hwang & Yoon, 1981", "Kendall", "熵权法", "Forman & Peniwati, 1998", "Dalkey & Helmer, 1963",
                 "Kendall & Babington Smith, 1939", "Shannon, 1948", "Efron & Tibshirani, 1993", "Zadeh, 1965", "汪培庄, 1983",
                 "曾光, 1994"):
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
    assert captions == ["评价指标体系及权重", "各社区（村）能力指数、排名与短板维度", "不同赋权方案下各社区（村）排名的稳健性"]
    assert "95% CI" not in _tables(doc)[captions[1]].frame.columns
    assert list(ev.index.sensitivity.index) == ["equal"]          # the objective weights are the ones used


def test_an_indicator_the_delphi_does_not_keep_is_left_out(tmp_path):
    spec = _spec(tmp_path, "zh")
    delphi = (tmp_path / "experts" / "delphi.csv")
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
    ranking = _tables(doc)["各社区（村）能力指数、排名与短板维度"].frame
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


# ------------------------------------------------------------------ the examiner's points, from the numbers
def _paragraphs(doc) -> str:
    return " ".join(b.text for b in _section(doc).blocks if isinstance(b, Paragraph))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_chapter_has_three_subsections_with_unique_ids(studies, lang):
    from govsurvey.report.document import Heading

    _, doc, _ = studies[lang]
    heads = [b for b in _section(doc).blocks if isinstance(b, Heading)]
    ours = [h for h in heads if h.id.startswith("evaluation-") and h.id != "evaluation-analysis"]
    assert [h.id for h in ours] == ["evaluation-system", "evaluation-weights", "evaluation-results"]
    # the analysis' own heading does not reuse the chapter's id (one id per HTML element)
    assert "evaluation-analysis" in [h.id for h in heads] and "evaluation" not in [h.id for h in heads]
    assert [h.text for h in ours] == (["指标体系构建", "权重确定", "综合评价结果"] if lang == "zh" else
                                      ["Building the index system", "Weights", "Evaluation results"])
    ids = [h.id for s in doc.sections for h in s.blocks if isinstance(h, Heading)]
    assert len(set(ids)) == len(ids)


def test_delphi_reporting_is_derived_from_the_results(studies):
    results, doc, _ = studies["zh"]
    d = results.analyses["evaluation"].delphi
    text = _paragraphs(doc)
    # no number sent in the file or the spec: said so, the returns given
    assert d.positive["sent"].isna().all() and "专家积极系数（回收数/发放数）无法计算" in text
    assert "第 1 轮回收 15 份，第 2 轮回收 15 份" in text
    # the indicator that failed round 1 and was kept after re-rating, with its numbers
    r1 = d.rounds[(d.rounds["round"] == 1) & (d.rounds["indicator"] == "training")].iloc[0]
    r2 = d.rounds[(d.rounds["round"] == 2) & (d.rounds["indicator"] == "training")].iloc[0]
    assert not r1["keep"] and r2["keep"]
    assert (f"培训与宣传教育（CV = {fmt(r1['cv'], 3)} > 0.25），在第 2 轮经专家重新评分后 M = {fmt(r2['mean'], 2)}，"
            f"CV = {fmt(r2['cv'], 3)}，达到标准，予以保留") in text
    # W rose: said so; W within each level reported; the authority wording from the minimum
    w = d.kendall_w["w"].tolist()
    assert w[1] > w[0] and f"由第 1 轮的 W = {fmt(w[0], 3, bounded=True)}" in text and "升至第 2 轮" in text
    assert "专家意见的协调程度随轮次提高" in text
    assert d.authority["cr"].min() == pytest.approx(0.70, abs=1e-12) and "均 ≥ 0.70" in text and "高于 0.7" not in text
    for cite in ("曾光, 1994", "王春枝, 斌, 2011", "很熟悉 1.0", "实践经验 0.5/0.4/0.3"):
        assert cite in text, cite
    delphi_table = pd.concat([_tables(doc)[f"德尔菲专家咨询第 {r} 轮指标评分与筛选"].frame for r in (1, 2)])
    assert delphi_table["层级"].tolist() == ["一级" if d.groups[i] == 1 else "二级" for i in d.rounds["indicator"]]


def test_ahp_inconsistency_is_reported_as_a_finding(studies):
    results, doc, _ = studies["zh"]
    c = results.analyses["evaluation"].ahp.consistency
    bad = c[(c["expert"] == "E04") & (c["node"] == "pre_event")].iloc[0]
    assert (bad["worst_row"], bad["worst_col"]) == ("plans", "training") and bad["worst_judgement"] == pytest.approx(1 / 3)
    text = _paragraphs(doc).replace("\u00a0", " ")
    assert f"“应急预案与演练相对培训与宣传教育 = 1/3”，而该矩阵权重所隐含的比值约为 {fmt(bad['worst_implied'], 2)}" in text
    assert "该矩阵按 AIJ 纳入了群组判断矩阵的几何平均" in text and "宜请" not in text
    assert "15 个三阶及以上的专家判断矩阵中，14 个的 CR ≤ 0.10（另有 5 个二阶矩阵恒一致）" in text


def test_ranking_table_and_sentences_say_what_the_interviews_can_carry(studies):
    results, doc, _ = studies["zh"]
    t = results.analyses["evaluation"].index.table
    tables = _tables(doc)
    ranking = tables["各社区（村）能力指数、排名与短板维度"]
    assert "受访者提及障碍的短板数" in ranking.frame.columns and "访谈印证的短板" not in ranking.frame.columns
    assert "2/3" in ranking.note and "各 2 名受访者" in ranking.note
    assert set(t.loc[t["n_interviewees"] > 0, "n_interviewees"]) == {2}
    # the shortfalls every community shares are said once, the others listed
    every = [d for d in ("reserves", "warning", "psych_support") if t["shortfalls"].str.contains(d).all()]
    assert len(every) == 3 and "应急物资储备、监测与预警、心理支持在全部 12 个社区（村）均为短板" in ranking.note
    assert "p < .05 且差距（重要性 − 表现）> 0，且（差距高于各维度差距中位数或表现居后 1/3）" in ranking.note
    assert not ranking.frame["其他短板维度"].str.contains("应急物资储备").any()
    text = _paragraphs(doc)
    none = t[t["n_interviewees"] == 0].sort_values("rank")
    assert list(none.index) == ["光明社区", "朝阳社区"]
    assert "光明社区（排名第 1）、朝阳社区（排名第 5）未做访谈" in text and "少数几名" not in text
    assert "并不表示其能力在绝对意义上低" in text and "AHP 主观权重保持不变" in text


def test_sensitivity_and_fuzzy_agreement_come_from_the_results(studies):
    from scipy import stats

    results, doc, _ = studies["zh"]
    ev = results.analyses["evaluation"]
    s = ev.index.sensitivity
    assert set(s.index) == {"subjective", "objective", "additive", "equal"}
    text = _paragraphs(doc)
    assert f"Spearman ρ 最小为 {fmt(s['rho'].min(), 3, bounded=True)}" in text
    top = ev.index.table["rank"].idxmin()
    assert s["same_top"].all() and f"排名第一的{top}在各方案下均居首位" in text
    a = ev.fuzzy_association.loc["fuzzy_score"]
    score = ev.fuzzy.score.drop(index="(all)")
    # scipy 1.17: spearmanr across the 12 communities; 1e-12
    assert a["rho"] == pytest.approx(stats.spearmanr(ev.index.table["index"], score.reindex(ev.index.table.index))[0], abs=1e-12)
    assert f"Spearman 等级相关为 ρ = {fmt(a['rho'], 3, bounded=True)}" in text
    fuzzy = _tables(doc)["各社区（村）模糊综合评价结果"].frame
    flags = ev.fuzzy.table.drop(index="(all)")
    shown = dict(zip(fuzzy.iloc[:-1, 1], fuzzy["评价等级"].iloc[:-1]))
    for u, r in flags.iterrows():
        assert shown[u].endswith("（边界）") == bool(r["borderline"]), u
    assert flags["borderline"].any() and "边界" in text
    assert "1（非常不同意） → 很差" in _tables(doc)["各社区（村）模糊综合评价结果"].note


def test_english_wording(studies):
    results, doc, _ = studies["en"]
    text = _paragraphs(doc)
    notes = " ".join(b.note for b in _section(doc).blocks if isinstance(b, Table))
    assert "Of the 12 communities (villages)," in text and "Of the 12 units" not in text
    assert "Bootstrap" not in text + notes and "bootstrap" in text
    assert ") (" not in text and "Confirmed" not in notes
    assert "pre-event preparedness (reduction and readiness) has CR\u00a0=\u00a00.158" in text


def test_sent_gives_the_positive_coefficient(tmp_path):
    spec = _spec(tmp_path, "zh", {**EVALUATION, "sent": 18, "n_boot": 0, "fuzzy": False})
    results = Study.from_yaml(spec).run()
    assert not results.failures
    pos = results.analyses["evaluation"].delphi.positive
    assert pos["sent"].tolist() == [18, 15] and pos["rate"].tolist() == pytest.approx([15 / 18, 1.0], abs=1e-15)
    text = _paragraphs(build_document(results))
    assert "第 1 轮发放 18 份、回收 15 份（专家积极系数 83.3%），第 2 轮发放 15 份、回收 15 份（专家积极系数 100.0%）" in text
    assert "第 2 轮起以上一轮回函的专家为发放对象" in text
    bad = _spec(tmp_path, "zh", {**EVALUATION, "sent": 0})
    with pytest.raises(gs.SpecificationError, match=r"analyses\.evaluation\.sent"):
        Study.from_yaml(bad)


class _Ctx:
    """The little of a section context the wording helpers use."""

    def __init__(self, lang: str) -> None:
        self.lang, self.zh = lang, lang == "zh"

    def text(self, zh: str, en: str) -> str:
        return zh if self.zh else en


@pytest.mark.parametrize("ca, expected_zh, expected_en", [
    ({"E1": 0.6, "E2": 0.9}, "均 ≥ 0.70", "all ≥ 0.70"),            # minimum Cr = (0.6 + 0.8)/2 = 0.70
    ({"E1": 0.7, "E2": 0.9}, "均 > 0.70", "all > 0.70"),
    ({"E1": 0.4, "E2": 1.0}, "其中 1 名专家低于 0.70", "1 expert is below 0.70"),
])
def test_authority_wording_follows_the_numbers(ca, expected_zh, expected_en):
    from govsurvey.report.sections.evaluation import _authority_sentence

    x = pd.DataFrame({"a": [5, 4], "b": [3, 4]}, index=["E1", "E2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = gs.delphi(x, familiarity={"E1": 0.8, "E2": 0.8}, basis=ca)
    assert expected_zh in _authority_sentence(_Ctx("zh"), d)
    assert expected_en in _authority_sentence(_Ctx("en"), d)


def test_a_falling_w_is_called_falling():
    from govsurvey.report.sections.evaluation import _kendall_sentence

    agree = pd.DataFrame({"a": [5, 5, 5, 5], "b": [4, 4, 4, 3], "c": [1, 2, 1, 2]}, index=list("ABCD"))
    split = pd.DataFrame({"a": [5, 1, 5, 2], "b": [4, 4, 1, 3], "c": [1, 5, 2, 5]}, index=list("ABCD"))
    d = gs.delphi({1: agree, 2: split}, rule={})
    assert d.kendall_w["w"].iloc[1] < d.kendall_w["w"].iloc[0]
    assert "降至" in _kendall_sentence(_Ctx("zh"), d) and "有所下降" in _kendall_sentence(_Ctx("zh"), d)
    assert "fell from" in _kendall_sentence(_Ctx("en"), d)
