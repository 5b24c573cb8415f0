"""The results and mixed-methods sections of the report: what a thesis chapter shows.

The example study is run once per language; its Document model (not the HTML) is walked,
analysis by analysis, to check that Chinese text carries no code identifiers, that numbers
are formatted as APA asks and equal the result objects, and that the content a chapter needs
(post-hoc tests, reference categories, interpretation sentences) is there.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.report.document import Paragraph, SectionContext, Table, build_document, fmt, stat_eq
from govsurvey.report.sections import mixed as mixed_sections
from govsurvey.report.sections import results as result_sections
from govsurvey.study import Study

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

EXAMPLE = gs.datasets.example_dir()
RESULT_KEYS = ("descriptives", "correlations", "compare_groups[0]", "compare_groups[1]", "regressions[0]", "regressions[1]",
               "multilevel[0]", "mediation[0]", "moderation[0]")
MIXED_KEYS = ("capacity_gaps", "code_matrix", "agreement", "joint_display", "link_codes")


def _spec(folder, language: str):
    spec = {
        "name": "sections", "title": {"zh": "测试研究", "en": "Test study"},
        "instrument": str(gs.datasets.instrument_path("community_phe_survey")),
        "data": {"path": str(EXAMPLE / "wjx_text_export.xlsx")},
        "interviews": {"path": str(EXAMPLE / "interviews.qdpx"), "codebook": str(EXAMPLE / "interview_codebook.csv")},
        "analyses": {
            "descriptives": {"by": "role"}, "correlations": True,
            "compare_groups": [{"dv": "participation", "group": "role"}, {"dv": "capacity", "group": "gender"}],
            "regressions": [{"formula": "participation ~ capacity + trust + C(role)", "robust": "HC3"},
                            {"formula": "participation ~ trust + C(role, Treatment(2))"}],
            "multilevel": [{"formula": "capacity ~ 1", "groups": "site"}],
            "mediation": [{"x": "capacity", "m": "trust", "y": "participation", "n_boot": 300}],
            "moderation": [{"x": "capacity", "w": "trust", "y": "participation"}],
            "capacity_gaps": {"importance": True}, "code_matrix": True, "agreement": True, "joint_display": True,
            "link_codes": {"level": "site"},
        },
        "formats": ["json"], "seed": 7, "language": language,
    }
    path = folder / f"spec_{language}.yaml"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sections")
    return {lang: Study.from_yaml(_spec(folder, lang)).run() for lang in ("zh", "en")}


def _outcome(res, key):
    return next(o for o in res.outcomes if o.key == key)


def _blocks(res, key) -> list:
    """The blocks one analysis contributes to the report."""
    o = _outcome(res, key)
    assert o.failure is None, o.failure
    return o.analysis.section(SectionContext(res), o.result, o.options)


def _texts(blocks) -> list[str]:
    """Every string a reader sees in these blocks: paragraphs, captions, notes, headers, cells."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Paragraph):
            out.append(b.text)
        elif isinstance(b, Table):
            out += [b.caption, b.note, *map(str, b.frame.columns), *b.frame.to_numpy().ravel().tolist()]
        elif hasattr(b, "caption"):
            out.append(b.caption)
    return out


def _tables(blocks) -> list[Table]:
    return [b for b in blocks if isinstance(b, Table)]


def _num(cell: str) -> float:
    return float(cell.replace("−", "-").replace("< ", ""))


CODE_WORDS = ("C(", "[T.", "c_prime", "eta_sq", "omega_sq", "cohen_d", "hedges_g", "statistic", "nan", "NaN", "None", "<bound",
              "welch_anova", "p_tukey", "Intercept", "x:w", "concentrate here", "keep up", "possible overkill", "confirms",
              "expands", "estimate", "term", "effect", "anova", "df =")
RAW_NAMES = ("role", "gender", "site", "capacity", "trust", "participation", "dimension", "pooled")


@pytest.mark.parametrize("key", RESULT_KEYS + MIXED_KEYS)
def test_chinese_sections_show_no_code(studies, key):
    for text in _texts(_blocks(studies["zh"], key)):
        for word in CODE_WORDS:
            assert word not in text, (key, word, text)
        for name in RAW_NAMES:
            assert not re.search(rf"(?<![A-Za-z_]){name}(?![A-Za-z_])", text), (key, name, text)
        assert not re.search(r"\b[a-z]+_[a-z]+\b", text), (key, text)       # snake_case identifiers


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_numbers_follow_apa(studies, lang):
    texts = [t for key in RESULT_KEYS + MIXED_KEYS for t in _texts(_blocks(studies[lang], key))]
    for text in texts:
        assert not re.search(r"(?<![\w'])p \.", text), text                        # "p .607" without "=" or "<"
        assert not re.search(r"(?<![\w'])p = <", text), text
        assert not re.search(r"(R²|η²|ω²|ICC|κ|α|(?<![\w'])r|(?<![\w'])p) = −?0\.\d", text), text   # bounded: no leading zero
        assert not re.search(r"(^|[\s(\[,=])-\d", text), text                  # the minus sign is "−"
        assert not re.search(r"[tF]\(\d+\.0+[,)]", text), text                     # whole df without decimals


def test_english_sections_show_no_code(studies):
    for key in RESULT_KEYS + MIXED_KEYS:
        for text in _texts(_blocks(studies["en"], key)):
            for word in ("C(", "[T.", "c_prime", "eta_sq", "cohen_d", "statistic =", "nan", "None", "<bound", "x:w", "Intercept ×"):
                assert word not in text, (key, word, text)


def test_compare_groups_names_the_test_and_gives_posthoc(studies):
    res = studies["zh"]
    g = _outcome(res, "compare_groups[0]").result
    assert g.test == "anova" and g.p_value < 0.05 and g.posthoc is not None
    blocks = _blocks(res, "compare_groups[0]")
    text = " ".join(_texts(blocks))
    assert "单因素方差分析" in text and stat_eq("F", g.statistic, (g.df1, g.df2)) in text and re.search(r"F\(3, \d+\) = ", text)
    assert f"η² = {fmt(g.effect_size['eta_sq'].iloc[0], 3, bounded=True)}" in text
    post = [t for t in _tables(blocks) if "事后" in t.caption]
    assert len(post) == 1 and len(post[0].frame) == len(g.posthoc)
    first = post[0].frame.iloc[0]
    assert first.iloc[0] == "社区居民 − 社区干部"
    assert _num(first["均值差"]) == pytest.approx(g.posthoc["diff"].iloc[0], abs=0.005)
    lo, hi = (_num(v) for v in first["95% CI"].strip("[]").split(", "))
    assert lo < g.posthoc["diff"].iloc[0] < hi
    groups = _tables(blocks)[0].frame
    assert list(groups.iloc[:, 0]) == ["社区居民", "社区干部", "网格员", "志愿者"]
    assert [_num(m) for m in groups["M"]] == pytest.approx(list(g.groups["mean"]), abs=0.005)


def test_welch_t_is_a_t_with_fractional_df(studies):
    res = studies["zh"]
    g = _outcome(res, "compare_groups[1]").result
    blocks = _blocks(res, "compare_groups[1]")
    text = " ".join(_texts(blocks))
    assert g.test == "welch" and "Welch t 检验" in text and f"t({fmt(g.df2, 2)})" in text and f"F(1, {fmt(g.df2, 2)})" not in text
    assert "Cohen's d" in text and "未发现显著差异" in text and not _tables(blocks)[1:]     # no post-hoc table
    en = " ".join(_texts(_blocks(studies["en"], "compare_groups[1]")))
    assert "Welch's t test" in en and "does not differ significantly" in en


def test_regression_labels_terms_and_states_reference(studies):
    res = studies["zh"]
    r = _outcome(res, "regressions[0]").result
    table = _tables(_blocks(res, "regressions[0]"))[0]
    rows = table.frame.set_index("预测变量")
    assert "截距" in rows.index and "基层政府信任" in rows.index
    dummies = [i for i in rows.index if "：" in i]
    assert {d.split("：")[1] for d in dummies} == {"社区干部", "网格员", "志愿者"}
    assert "参照组" in table.note and "社区居民" in table.note
    assert _num(rows.loc["基层政府信任", "b"]) == pytest.approx(r.table.loc["trust", "b"], abs=5e-4)
    assert _num(rows.loc["基层政府信任", "β"]) == pytest.approx(r.table.loc["trust", "beta"], abs=5e-4)
    assert stat_eq("F", r.f, (r.df_model, r.df_resid)) in table.note and re.search(r"F\(5, \d+\) = ", table.note)
    para = " ".join(b.text for b in _blocks(res, "regressions[0]") if isinstance(b, Paragraph))
    assert f"R² = {fmt(r.r2, 3, bounded=True)}" in para and "显著正相关" in para and "因果" in para
    # an explicit Treatment() reference: the cadres are the reference, residents a dummy
    t2 = _tables(_blocks(res, "regressions[1]"))[0]
    assert "社区干部" in t2.note.split("参照组")[1] and any(i.endswith("社区居民") for i in t2.frame["预测变量"])


def test_multilevel_design_effect(studies):
    res = studies["zh"]
    m = _outcome(res, "multilevel[0]").result
    para = " ".join(b.text for b in _blocks(res, "multilevel[0]") if isinstance(b, Paragraph))
    deff = 1 + (m.n / m.n_groups - 1) * m.icc_null
    assert f"ICC = {fmt(m.icc_null, 3, bounded=True)}" in para and f"设计效应 = 1 + (m̄ − 1) × ICC = {fmt(deff, 2)}" in para
    assert "Muthén & Satorra" in para and ("不可忽略" in para) == (deff > 2 or m.icc_null >= 0.05)


def test_mediation_paths_and_zhao_type(studies):
    res = studies["zh"]
    md = _outcome(res, "mediation[0]").result
    blocks = _blocks(res, "mediation[0]")
    rows = _tables(blocks)[0].frame.set_index("效应")
    assert [i.split("（")[0].split(" ")[0] for i in rows.index] == ["a", "b", "直接效应", "间接效应", "总效应"]
    assert _num(rows.iloc[3]["估计值"]) == pytest.approx(md.table.loc["indirect", "estimate"], abs=5e-4)
    para = blocks[-1].text
    share = md.table.loc["indirect", "estimate"] / md.table.loc["total", "estimate"]
    assert "互补型中介" in para and f"{share:.1%}" in para and "Zhao, Lynch 与 Chen（2010）" in para and "因果" in para
    en = _blocks(studies["en"], "mediation[0]")[-1].text
    assert "complementary mediation" in en and "indirect effect is" in en


@pytest.mark.parametrize(("ind", "direct", "kind"), [
    ((0.1, 0.05, 0.2), (0.3, 0.1, 0.5), "complementary"), ((0.1, 0.05, 0.2), (-0.3, -0.5, -0.1), "competitive"),
    ((0.1, 0.05, 0.2), (0.1, -0.1, 0.3), "indirect-only"), ((0.1, -0.05, 0.2), (0.3, 0.1, 0.5), "direct-only"),
    ((0.1, -0.05, 0.2), (0.1, -0.1, 0.3), "no-effect")])
def test_zhao_lynch_chen_types(ind, direct, kind):
    row = lambda e: pd.Series({"estimate": e[0], "ci_low": e[1], "ci_high": e[2]})
    assert result_sections._mediation_type(row(ind), row(direct)) == kind


def test_moderation_terms_slopes_and_johnson_neyman(studies):
    res = studies["zh"]
    mo = _outcome(res, "moderation[0]").result
    blocks = _blocks(res, "moderation[0]")
    coef, slopes = _tables(blocks)[:2]
    terms = list(coef.frame["预测变量"])
    assert "社区突发公共卫生事件应对能力 × 基层政府信任" in terms and "截距" in terms
    assert _num(coef.frame.set_index("预测变量").loc[terms[3], "b"]) == pytest.approx(mo.table.loc["x:w", "b"], abs=5e-4)
    assert len(slopes.frame) == 3 and "低（均值 − 1 SD）" in slopes.frame.iloc[:, 0].tolist()
    assert [_num(v) for v in slopes.frame["简单斜率"]] == pytest.approx(list(mo.simple_slopes["slope"]), abs=5e-4)
    para = blocks[-1].text
    assert "ΔR² = " in para and "Johnson–Neyman" in para and ("不显著" in para) == (mo.table.loc["x:w", "p"] >= 0.05)


def test_descriptives_moments_and_groups(studies):
    res = studies["zh"]
    d = _outcome(res, "descriptives").result
    tables = _tables(_blocks(res, "descriptives"))
    main = tables[0].frame.set_index("维度")
    assert {"偏度", "偏度标准误", "峰度", "峰度标准误"} <= set(main.columns)
    assert _num(main.loc["应急物资储备", "偏度"]) == pytest.approx(d.table.loc["reserves", "skew"], abs=0.005)
    by = tables[1]
    assert "社区居民 M" in by.frame.columns and "志愿者 SD" in by.frame.columns and "社区居民" in by.note


def test_correlations_table_and_sentence(studies):
    res = studies["zh"]
    cr = _outcome(res, "correlations").result
    blocks = _blocks(res, "correlations")
    table = _tables(blocks)[0].frame
    cell = table.iloc[1]["1"]
    assert cell.rstrip("*") == fmt(cr.r.iloc[1, 0], 2, bounded=True) and cell.startswith(".")
    assert "介于" in blocks[-1].text and "因果" in blocks[-1].text


def test_mixed_sections_translate_result_keys(studies):
    res = studies["zh"]
    gaps = _tables(_blocks(res, "capacity_gaps"))[0].frame
    assert {q.removesuffix("（临界）") for q in gaps["象限"]} <= {"重点改进区", "继续保持区", "低优先区", "过度投入区"}
    gap_result = _outcome(res, "capacity_gaps").result.sort_values("gap", ascending=False)
    assert [q.endswith("（临界）") for q in gaps["象限"]] == gap_result["quadrant_borderline"].tolist()
    assert [s.startswith("是") for s in gaps["短板"]] == gap_result["shortfall"].tolist()
    assert set(gaps["短板"]) <= {"否", "是（差距高于中位数）", "是（表现居后 1/3）", "是（差距高于中位数；表现居后 1/3）"}
    jd_blocks = _blocks(res, "joint_display")
    jd = _tables(jd_blocks)[0]
    assert set(jd.frame["整合判断"]) <= set(v[0] for v in mixed_sections.CONVERGENCE_NAMES.values())
    assert set(jd.frame["短板"]) <= {"是", "否"}
    assert "量化信号" in jd.note and "Fetters" in jd.note and "Quantitative" not in jd.note
    assert "中位数" in jd.note and "不参与判定" in jd.note and "重点改进区" not in jd.note
    en = _tables(_blocks(studies["en"], "capacity_gaps"))[0].frame
    assert "Concentrate here" in set(en["Quadrant"])
    assert any(q.endswith(" (borderline)") for q in en["Quadrant"]) and "Yes (gap above median; performance in lowest third)" in set(en["Shortfall"])


def test_link_codes_says_pooled_cells_are_not_independent(studies):
    res = studies["zh"]
    lk = _outcome(res, "link_codes").result
    blocks = _blocks(res, "link_codes")
    table = _tables(blocks)[0].frame
    assert _num(table.iloc[-1]["r"]) == pytest.approx(lk.loc["pooled", "r"], abs=5e-4)
    assert "并不相互独立" in blocks[-1].text and "偏乐观" in blocks[-1].text
    assert "not independent" in _blocks(studies["en"], "link_codes")[-1].text


def test_whole_document_builds_in_both_languages(studies):
    for lang, res in studies.items():
        doc = build_document(res)
        ids = [s.id for s in doc.sections]
        assert "results" in ids and "mixed" in ids, lang
        assert not any(type(b).__name__ == "Failed" for s in doc.sections for b in s.blocks), lang
