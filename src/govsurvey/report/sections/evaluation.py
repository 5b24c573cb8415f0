"""Report section of the evaluation index system (评价指标体系), in three subsections:

* building the index system (指标体系构建): the construct tree, the Delphi rounds with the
  response rate (专家积极系数), the screening of each indicator (and why one that failed a round
  was kept after re-rating), Kendall's W over all indicators and within each level, and each
  expert's authority Ca, Cs, Cr with the scoring tables used;
* the weights (权重确定): the AHP consistency check (with the judgement furthest from an
  inconsistent matrix's weights, and whether that matrix entered the group aggregate), the
  objective and combined weights, the hierarchy figure;
* the results (综合评价结果): the capacity index per community (TOPSIS closeness, relative among
  the units) with bootstrap intervals, shortfalls and the interviewees' barrier talk, the ranking
  under other weightings, and the fuzzy comprehensive evaluation set beside the index.

Conventions cited: the Delphi method (Dalkey & Helmer, 1963); Kendall's W (Kendall & Babington
Smith, 1939); the authority tables of the Chinese Delphi literature (曾光, 1994; 王春枝, 斌,
2011) with Cr ≥ 0.70; AHP with CR ≤ 0.10 (Saaty, 1980; CR is not bounded by 1, so it keeps its leading zero) and the AIJ/AIP aggregations (Forman &
Peniwati, 1998); the entropy weight method (Shannon, 1948; Zeleny, 1982); CRITIC (Diakoulaki,
Mavrotas & Papayannakis, 1995); TOPSIS (Hwang & Yoon, 1981) with vector normalisation; grey
relational analysis (Deng, 1982); the bootstrap (Efron & Tibshirani, 1993); fuzzy comprehensive
evaluation (Zadeh, 1965; 汪培庄, 1983) with the weighted-average operator M(·,⊕). A unit-level
correlation over a dozen communities is reported as a description, never as a test of a
population. Every comparison in a sentence (≥ or >, rising or falling) is derived from the
numbers it states.
"""

from __future__ import annotations

import math

import pandas as pd

from govsurvey.evaluation.delphi import AUTHORITY_MIN
from govsurvey.evaluation.fuzzy import BORDERLINE_MARGIN
from govsurvey.evaluation.index import BARRIER_RULE, MIN_ASSOCIATION_UNITS, WEIGHTINGS
from govsurvey.evaluation.ranking import MIN_UNIT_N
from govsurvey.report.document import Heading, Paragraph, fmt, fmt_p, p_eq
from govsurvey.report.sections.results import ci_text, in_sentence

__all__ = ["evaluation"]

METHOD_NAMES = {"topsis": ("TOPSIS 相对贴近度 C", "TOPSIS closeness C"), "weighted_sum": ("加权综合得分", "weighted score"),
                "grey": ("灰色关联度", "grey relational grade")}
OBJECTIVE_NAMES = {"entropy": ("熵权法", "entropy"), "critic": ("CRITIC 法", "CRITIC")}
LEVEL_WORDS = {"zh": ("一级指标", "二级指标", "三级指标", "四级指标"),
               "en": ("First level", "Second level", "Third level", "Fourth level")}
LEVEL_SHORT = {"zh": ("一级", "二级", "三级", "四级"), "en": ("1st", "2nd", "3rd", "4th")}
SUBSECTIONS = {"system": ("指标体系构建", "Building the index system"), "weights": ("权重确定", "Weights"),
               "results": ("综合评价结果", "Evaluation results")}
BASIS_EN = {"实践经验": "practical experience", "理论分析": "theoretical analysis", "参考国内外文献": "literature",
            "直观感觉": "intuition"}
LEVEL_EN = {"大": "high", "中": "medium", "小": "low"}
#: How a Spearman ρ between two rankings of the same units is worded (a reading, not a test).
AGREEMENT_WORDS = ((0.8, "高度一致", "closely agree"), (0.5, "大体一致", "broadly agree"),
                   (-1.0, "差异较大", "differ considerably"))
INDENT = {"zh": "\u3000\u3000", "en": "\u2003\u2003"}     # not collapsed by HTML or Word
NBSP = "\u00a0"


def _cr(op: str, value: str) -> str:
    """"CR ≤ 0.10" kept on one line (no-break spaces: CR is not among the typeset statistics)."""
    return f"CR{NBSP}{op}{NBSP}{value}"


def _w(ctx, pair: tuple[str, str]) -> str:
    return pair[0 if ctx.zh else 1]


def _join(ctx, parts) -> str:
    return ctx.text("、", ", ").join(parts)


def _and(ctx, parts: list[str]) -> str:
    """"a、b 与 c" / "a, b and c"."""
    parts = list(parts)
    if len(parts) < 2:
        return "".join(parts)
    return ctx.text("、".join(parts[:-1]) + "与" + parts[-1], ", ".join(parts[:-1]) + " and " + parts[-1])


def _name(ctx, node: str) -> str:
    """A construct's label; an item id as it is."""
    return ctx.label(node)


def _unit(ctx, options, value) -> str:
    return ctx.group_label(options.unit, value)


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def _units(ctx, options) -> str:
    """The unit's label as a plural noun inside a sentence: "社区（村）" / "communities (villages)"."""
    label = ctx.var_label(options.unit)
    if ctx.zh:
        return label
    head, _, rest = in_sentence(ctx, label).partition(" (")
    words = head.split(" ")
    out = " ".join([*words[:-1], _plural(words[-1])])
    if rest.endswith(")"):
        inner = rest[:-1].split(" ")
        out += " (" + " ".join([*inner[:-1], _plural(inner[-1])]) + ")"
    return out


def _cmp(value: float, bound: float) -> str:
    """The relation of a shown value to a bound, decided on the numbers: "≥", ">", "<" (values
    equal to within 1e-9 are equal)."""
    if abs(value - bound) <= 1e-9:
        return "="
    return ">" if value > bound else "<"


def _judgement(a: float) -> str:
    """An AHP judgement as written: 3, 1/3."""
    return f"{a:.4g}" if a >= 1 else f"1/{1 / a:.4g}"


# ------------------------------------------------------------------ the section
def evaluation(ctx, ev, options) -> list:
    blocks: list = [Paragraph(_overview(ctx, ev)),
                    Heading(_w(ctx, SUBSECTIONS["system"]), "evaluation-system"), Paragraph(_system_methods(ctx, ev))]
    if ev.delphi is not None:
        blocks += _delphi(ctx, ev, options)
    blocks += [Heading(_w(ctx, SUBSECTIONS["weights"]), "evaluation-weights"), Paragraph(_weights_methods(ctx, ev, options))]
    if ev.ahp is not None:
        blocks += _ahp(ctx, ev)
    blocks += _weights(ctx, ev, options)
    blocks += [Heading(_w(ctx, SUBSECTIONS["results"]), "evaluation-results"), Paragraph(_index_methods(ctx, ev, options))]
    blocks += _ranking(ctx, ev, options)
    blocks += _sensitivity(ctx, ev, options)
    if ev.fuzzy is not None:
        blocks += _fuzzy(ctx, ev, options)
    return blocks


def _overview(ctx, ev) -> str:
    """What the three subsections report, naming the methods used."""
    idx = ev.index
    method = next((k for k in ("entropy", "critic") if k in idx.weights_method), None)
    weights_zh = [x for x in ("层次分析法" if ev.ahp is not None else "", _w(ctx, OBJECTIVE_NAMES[method]) if method else "") if x]
    weights_en = [x for x in ("the AHP" if ev.ahp is not None else "", "entropy weights" if method == "entropy" else
                              "CRITIC weights" if method == "critic" else "") if x]
    index = {"topsis": ("TOPSIS 能力指数", "a TOPSIS capacity index"), "weighted_sum": ("加权综合得分", "a weighted score"),
             "grey": ("灰色关联度", "grey relational grades")}[idx.method]
    zh = ("本节依次报告评价指标体系的构建" + ("（德尔菲法）" if ev.delphi is not None else "") + "、指标权重的确定"
          + (f"（{'与'.join(weights_zh)}）" if weights_zh else "（等权）") + f"和综合评价结果（{index[0]}"
          + ("与模糊综合评价" if ev.fuzzy is not None else "") + "）。")
    en = ("This section reports how the index system was built" + (" (a Delphi consultation)" if ev.delphi is not None else "")
          + ", how the indicators were weighted" + (f" ({' and '.join(weights_en)})" if weights_en else " (equally)")
          + f", and the results ({index[1]}" + (" and a fuzzy comprehensive evaluation" if ev.fuzzy is not None else "") + ").")
    return ctx.text(zh, en)


# ------------------------------------------------------------------ 1. the index system and the Delphi
def _system_methods(ctx, ev) -> str:
    """The construct tree as the index system; the Delphi method, rule, W and authority, cited."""
    h = ev.index.hierarchy
    n1, n2, n3 = (int((h["level"] == k).sum()) for k in (1, 2, 3))
    goal = in_sentence(ctx, _name(ctx, ev.index.construct))
    zh = [f"以问卷的构念层级为评价指标体系：目标层为{goal}，下设 {n1} 个一级指标" + (f"、{n2} 个二级指标" if n2 else "")
          + (f"、{n3} 个三级指标（题项）" if n3 else "") + "。"]
    levels = [f"{n1} first-level", *([f"{n2} second-level"] if n2 else []), *([f"{n3} third-level (items)"] if n3 else [])]
    listed = levels[0] if len(levels) == 1 else ", ".join(levels[:-1]) + " and " + levels[-1]
    en = [f"The evaluation index system is the questionnaire's construct tree: the goal is {goal}, with {listed} indicators."]
    if ev.delphi is not None:
        d = ev.delphi
        rounds, m = len(d.kendall_w), int(d.positive["returned"].max())
        zh.append(f"采用德尔菲法（Dalkey & Helmer, 1963）开展 {rounds} 轮专家咨询（{m} 名专家），以重要性评分的{_rule_text(ctx, d, True)}"
                  "为指标保留标准；以肯德尔和谐系数（Kendall's W；Kendall & Babington Smith, 1939）检验专家意见的协调程度，"
                  "以权威系数 Cr = (Ca + Cs)/2 评价专家的权威程度。")
        en.append(f"A {rounds}-round Delphi consultation (Dalkey & Helmer, 1963) of {m} experts kept indicators with "
                  f"{_rule_text(ctx, d, True)}; Kendall's coefficient of concordance W (Kendall & Babington Smith, 1939) "
                  "measured the experts' agreement and the authority coefficient Cr = (Ca + Cs)/2 their authority.")
        zh_t, en_t = _authority_tables(d)
        zh.append(zh_t)
        en.append(en_t)
    return "".join(zh) if ctx.zh else " ".join(en)


def _rule_text(ctx, d, first: bool = False) -> str:
    """The screening rule in words: "均值（M）≥ 3.5 且变异系数（CV = SD/M）≤ 0.25"."""
    words = {"mean_min": ("均值（M）≥ " if first else "M ≥ ", "mean (M) ≥ " if first else "M ≥ "),
             "sd_max": ("标准差（SD）≤ " if first else "SD ≤ ", "SD ≤ "),
             "cv_max": ("变异系数（CV = SD/M）≤ " if first else "CV ≤ ",
                        "coefficient of variation (CV = SD/M) ≤ " if first else "CV ≤ "),
             "full_score_min": ("满分比 ≥ ", "full-score share ≥ ")}
    parts = [_w(ctx, words[k]) + f"{v:g}" for k, v in d.rule.items()]
    if not parts:
        return ctx.text("（无筛选条件，全部保留）", "no screening condition (every indicator kept)")
    zh = parts[0] + "".join((" 且 " if x[:1].isascii() else " 且") + x for x in parts[1:])
    return ctx.text(zh + " ", " and ".join(parts))


def _table_text(table: dict, zh: bool) -> str:
    """A label → coefficient table in the report's language: "很熟悉 1.0、熟悉 0.8 …"."""
    cjk = [k for k in table if any("\u4e00" <= ch <= "\u9fff" for ch in k)]
    keys = (cjk or list(table)) if zh else ([k for k in table if k not in cjk] or list(table))
    return ("、" if zh else ", ").join(f"{k} {_coef(table[k])}" for k in keys)


def _coef(v: float) -> str:
    """A coefficient of a scoring table as printed: 1.0, 0.8, 0.05."""
    text = f"{v:g}"
    return text if "." in text or "e" in text else text + ".0"


def _authority_tables(d) -> tuple[str, str]:
    """Which tables coded Cs and Ca (the module's, as the experts' answers were labels), cited."""
    if d.authority.empty:
        return "", ""
    cite = "（曾光, 1994；王春枝, 斌, 2011）"
    zh, en = [], []
    if d.familiarity_table is not None:
        zh.append(f"熟悉程度系数 Cs：{_table_text(d.familiarity_table, True)}")
        en.append(f"familiarity Cs: {_table_text(d.familiarity_table, False)}")
    if d.basis_table is not None:
        levels = list(next(iter(d.basis_table.values())))
        zh.append(f"判断依据系数 Ca 为四项判断依据按其对判断的影响程度（{'/'.join(levels)}）所得系数之和：" + "、".join(
            f"{b} {'/'.join(_coef(v) for v in t.values())}" for b, t in d.basis_table.items()))
        en.append(f"judgement basis Ca, the sum over the four bases of their influence ({'/'.join(LEVEL_EN.get(x, x) for x in levels)}): "
                  + ", ".join(f"{BASIS_EN.get(b, b)} {'/'.join(_coef(v) for v in t.values())}" for b, t in d.basis_table.items()))
    if not zh:
        return ("Ca 与 Cs 由德尔菲文件直接以系数给出。", "Ca and Cs were given as coefficients in the Delphi file.")
    return ("Ca、Cs 按国内德尔菲研究常用的量化表赋值" + cite + "：" + "；".join(zh) + "。",
            "Ca and Cs were scored with the tables customary in Chinese Delphi studies (曾光, 1994; 王春枝, 斌, 2011): "
            + "; ".join(en) + ".")


def _level_of(d, indicator) -> int | None:
    groups = d.groups or {}
    level = groups.get(indicator)
    return int(level) if isinstance(level, (int, float)) and not isinstance(level, bool) else None


def _level_word(ctx, level, short: bool = False) -> str:
    words = (LEVEL_SHORT if short else LEVEL_WORDS)[ctx.lang]
    return words[level - 1] if isinstance(level, int) and 1 <= level <= len(words) else str(level)


def _delphi(ctx, ev, options) -> list:
    """One table per round (as Delphi studies print them; each short enough to stay on one page),
    the concordance, the authority table and the sentences."""
    d = ev.delphi
    levels = bool(d.groups)
    note = ctx.text(f"保留标准：{_rule_text(ctx, d).strip()}（CV = SD/M）；满分比为给出最高分（{d.scale[1]:g} 分）的专家比例。",
                    f"Kept: {_rule_text(ctx, d)} (CV = SD/M); full score: share of experts giving the highest rating "
                    f"({d.scale[1]:g}).")
    if levels:
        note += ctx.text("层级：一级或二级指标。", " Level: first- or second-level indicator.")
    blocks = []
    rounds = list(dict.fromkeys(d.rounds["round"]))
    for r in rounds:
        rows = []
        for _, x in d.rounds[d.rounds["round"] == r].iterrows():
            row = {ctx.text("指标", "Indicator"): _name(ctx, x["indicator"])}
            if levels:
                level = _level_of(d, x["indicator"])
                row[ctx.text("层级", "Level")] = _level_word(ctx, level, short=True) if level else "—"
            row.update({"n": fmt(int(x["n"])), "M": fmt(x["mean"], 2), "SD": fmt(x["sd"], 2), "CV": fmt(x["cv"], 3),
                        ctx.text("满分比", "Full score"): f"{100 * x['full_score']:.1f}%",
                        ctx.text("保留", "Kept"): ctx.text("是", "Yes") if x["keep"] else ctx.text("否", "No")})
            rows.append(row)
        caption = (ctx.text(f"德尔菲专家咨询第 {r} 轮指标评分与筛选", f"Delphi round {r}: indicator ratings and screening")
                   if len(rounds) > 1 else ctx.text("德尔菲专家咨询指标评分与筛选", "Delphi consultation: indicator ratings and screening"))
        blocks.append(ctx.table(caption, rows, note=note))
    blocks.append(_kendall_table(ctx, d))
    if not d.authority.empty and d.authority["cr"].notna().any():
        blocks.append(_authority_table(ctx, d))
    blocks.append(Paragraph(_delphi_sentence(ctx, ev)))
    return blocks


def _kendall_table(ctx, d):
    scope = ctx.text("指标范围", "Scope")
    groups = d.kendall_w_groups
    rows = []
    for r in d.kendall_w.itertuples(index=False):
        parts = [(ctx.text("全部指标", "All"), r)]
        if len(groups):
            parts += [(_level_word(ctx, int(g.group)) if _is_level(g.group) else str(g.group), g)
                      for g in groups[groups["round"] == r.round].itertuples(index=False)]
        for k, (what, x) in enumerate(parts):
            rows.append({ctx.text("轮次", "Round"): str(r.round) if k == 0 else "", scope: what,
                         ctx.text("专家数 m", "Experts m"): fmt(int(x.m)), ctx.text("指标数 n", "Indicators n"): fmt(int(x.n)),
                         "W": fmt(x.w, 3, bounded=True), "χ²": fmt(x.chi2, 2), "df": fmt(int(x.df)), "p": fmt_p(x.p)})
    note = ctx.text("肯德尔和谐系数 W 经同分校正；m 为专家数，n 为参与排序的指标数；χ² = m(n − 1)W，自由度 n − 1。",
                    "Kendall's W with the tie correction; m experts ranking n indicators; χ² = m(n − 1)W on n − 1 df.")
    if len(groups):
        note += ctx.text("“全部指标”将一、二级指标一并排序，各层级的 W 只在该层指标内排序。",
                         " All: first- and second-level indicators ranked together; a level's W ranks only that level's "
                         "indicators.")
    return ctx.table(ctx.text("专家意见协调程度（肯德尔和谐系数）", "Concordance of the experts (Kendall's W)"), rows, note=note)


def _is_level(group) -> bool:
    return isinstance(group, (int, float)) and not isinstance(group, bool) and float(group).is_integer()


def _authority_table(ctx, d):
    a = d.authority
    rows = [{ctx.text("专家", "Expert"): str(e), ctx.text("判断依据 Ca", "Basis Ca"): fmt(r["ca"], 2),
             ctx.text("熟悉程度 Cs", "Familiarity Cs"): fmt(r["cs"], 2), ctx.text("权威系数 Cr", "Authority Cr"): fmt(r["cr"], 3)}
            for e, r in a.iterrows()]
    note = ctx.text(f"Cr = (Ca + Cs)/2；Cr ≥ {AUTHORITY_MIN:.2f} 视为专家权威程度较高。Ca、Cs 的赋值见正文。",
                    f"Cr = (Ca + Cs)/2; Cr ≥ {AUTHORITY_MIN:.2f} is read as sufficient authority. The scoring of Ca and Cs is "
                    "given in the text.")
    return ctx.table(ctx.text("专家权威系数", "The experts' authority coefficients"), rows, note=note)


def _delphi_sentence(ctx, ev) -> str:
    d = ev.delphi
    parts = [_response_sentence(ctx, d), _screening_sentence(ctx, d), _kendall_sentence(ctx, d), _authority_sentence(ctx, d)]
    if ev.excluded:
        names = _join(ctx, [_name(ctx, i) for i in ev.excluded])
        again = ev.ahp is not None
        parts.append(ctx.text(f"末轮未保留的{names}未纳入能力指数" + ("，其余指标的 AHP 权重重新归一化。" if again else "。"),
                              f"{names} (not kept in the last round) {'is' if len(ev.excluded) == 1 else 'are'} left out of the "
                              "index" + ("; the AHP weights of the others are rescaled to sum to 1." if again else ".")))
    return ctx.text("", " ").join(x for x in parts if x)


def _response_sentence(ctx, d) -> str:
    """Questionnaires returned per round and, with the number sent, the positive coefficient."""
    pos = d.positive
    known = pos["sent"].notna()
    parts_zh, parts_en = [], []
    for r in pos.itertuples(index=False):
        if pd.notna(r.sent):
            parts_zh.append(f"第 {r.round} 轮发放 {int(r.sent)} 份、回收 {int(r.returned)} 份（专家积极系数 {100 * r.rate:.1f}%）")
            parts_en.append(f"round {r.round}, {int(r.returned)} of {int(r.sent)} (positive coefficient {100 * r.rate:.1f}%)")
        else:
            parts_zh.append(f"第 {r.round} 轮回收 {int(r.returned)} 份")
            parts_en.append(f"round {r.round}, {int(r.returned)}")
    zh = "专家咨询问卷" + "，".join(parts_zh)
    en = "Questionnaires returned: " + "; ".join(parts_en)
    if not known.all():
        zh += "；德尔菲文件只列出作答的专家，未给出各轮发放数" + ("，相应轮次" if known.any() else "，") + "专家积极系数（回收数/发放数）无法计算"
        en += ("; the Delphi file lists only the experts who answered and the number sent is not given, so the positive "
               "coefficient (returned/sent) is unknown" + (" for the other rounds" if known.any() else ""))
    elif len(pos) > 1:
        zh += "；第 2 轮起以上一轮回函的专家为发放对象"
        en += "; from round 2 on, the questionnaire went to the experts who returned the round before"
    return ctx.text(zh + "。", en + ".")


def _failed_conditions(ctx, d, r) -> list[str]:
    """The rule's conditions a round's indicator row fails, with its value: "CV = 0.270 > 0.25"."""
    out = []
    checks = {"mean_min": ("mean", "M", "<", 2), "sd_max": ("sd", "SD", ">", 2), "cv_max": ("cv", "CV", ">", 3),
              "full_score_min": ("full_score", ctx.text("满分比", "full-score share"), "<", 3)}
    for key, bound in d.rule.items():
        column, symbol, sign, digits = checks[key]
        value = float(r[column])
        fails = value < bound if sign == "<" else value > bound
        if fails or math.isnan(value):
            out.append(f"{symbol} = {fmt(value, digits)} {sign} {bound:g}")
    return out


def _screening_sentence(ctx, d) -> str:
    """Which indicators each round did not keep, and why; those kept after re-rating in a later round."""
    rounds = list(dict.fromkeys(d.rounds["round"]))
    by = {r: d.rounds[d.rounds["round"] == r].set_index("indicator") for r in rounds}
    zh, en = [], []
    for k, r in enumerate(rounds):
        part = by[r]
        out = part.index[~part["keep"].astype(bool)]
        if not len(out):
            zh.append(f"第 {r} 轮各指标均达到保留标准")
            en.append(f"round {r} kept every indicator")
            continue
        items_zh, items_en = [], []
        for ind in out:
            why = "，".join(_failed_conditions(ctx, d, part.loc[ind]))
            later = [(q, by[q].loc[ind]) for q in rounds[k + 1:] if ind in by[q].index]
            name = _name(ctx, ind)
            text_zh = f"{name}（{why}）"
            text_en = f"{in_sentence(ctx, name)} ({why})"
            if later:
                q, row = later[-1]
                kept = bool(row["keep"])
                stats = ctx.text("，", ", ").join(_values(ctx, d, row))
                gap = " " if stats[:1].isascii() else ""
                text_zh += f"，在第 {q} 轮经专家重新评分后{gap}{stats}，" + ("达到标准，予以保留" if kept else "仍未达到标准")
                text_en += f"; re-rated in round {q} ({stats}), " + ("kept" if kept else "still not kept")
            items_zh.append(text_zh)
            items_en.append(text_en)
        zh.append(f"第 {r} 轮未达保留标准的指标为" + "；".join(items_zh))
        en.append(f"round {r} did not keep " + "; ".join(items_en))
    en_text = "; ".join(en)
    return ctx.text("；".join(zh) + "。", en_text[:1].upper() + en_text[1:] + ".")


def _values(ctx, d, r) -> list[str]:
    """A round's values of the quantities the rule tests: "CV = 0.189"."""
    shown = {"mean_min": ("mean", "M", 2), "sd_max": ("sd", "SD", 2), "cv_max": ("cv", "CV", 3),
             "full_score_min": ("full_score", ctx.text("满分比", "full-score share"), 3)}
    return [f"{shown[k][1]} = {fmt(float(r[shown[k][0]]), shown[k][2])}" for k in d.rule]


def _kendall_sentence(ctx, d) -> str:
    """W by round (all indicators, then within each level), and what its change says."""
    kw = d.kendall_w
    w = [f"W = {fmt(r['w'], 3, bounded=True)}" + ctx.text(f"（{p_eq(r['p'])}）", f" ({p_eq(r['p'])})") for _, r in kw.iterrows()]
    if len(kw) == 1:
        zh = f"全部指标的肯德尔和谐系数为 {w[0]}。"
        en = f"Kendall's W over all indicators: {w[0]}."
    else:
        first, last = float(kw["w"].iloc[0]), float(kw["w"].iloc[-1])
        change = _cmp(last, first)
        trend_zh = {">": "升至", "<": "降至", "=": "保持为"}[change]
        trend_en = {">": "rose", "<": "fell", "=": "stayed"}[change]
        zh = (f"全部指标的肯德尔和谐系数由第 {kw['round'].iloc[0]} 轮的 {w[0]}{trend_zh}第 {kw['round'].iloc[-1]} 轮的 {w[-1]}"
              + {">": "，专家意见的协调程度随轮次提高", "<": "，专家意见的协调程度有所下降", "=": ""}[change])
        en = (f"Kendall's W over all indicators {trend_en} from {w[0]} in round {kw['round'].iloc[0]} to {w[-1]} in round "
              f"{kw['round'].iloc[-1]}" + {">": ": the experts agreed more as the rounds went on",
                                            "<": ": the experts agreed less in the later round", "=": ""}[change])
        if len(kw) > 2:
            zh += f"（各轮依次为 {'、'.join(w)}）"
            en += f" (by round: {', '.join(w)})"
        zh += "。"
        en += "."
    g = d.kendall_w_groups
    if len(g):
        last_round = kw["round"].iloc[-1]
        final = g[g["round"] == last_round]
        items = [f"{_level_word(ctx, int(r.group)) if _is_level(r.group) else r.group} W = {fmt(r.w, 3, bounded=True)}"
                 for r in final.itertuples(index=False)]
        zh += f"在各层级内分别计算，第 {last_round} 轮{'、'.join(items)}。"
        en += f" Within each level, round {last_round}: " + ", ".join(in_sentence(ctx, x) for x in items) + "."
    significant = bool((kw["p"] < 0.05).all())
    if significant:
        zh += "χ² 检验显著只说明专家的评分排序并非随机，并不表示一致程度高，W 的数值本身才反映一致程度。"
        en += (" A significant χ² says only that the experts' rankings are not random, not that they agree closely: W "
               "itself measures the agreement.")
    return ctx.text(zh, en)


def _authority_sentence(ctx, d) -> str:
    cr = d.authority["cr"].dropna() if len(d.authority) else pd.Series(dtype=float)
    if not len(cr) or math.isnan(d.authority_mean):
        return ""
    bound = f"{AUTHORITY_MIN:.2f}"
    mean_rel = _cmp(d.authority_mean, AUTHORITY_MIN)
    low, high = float(cr.min()), float(cr.max())
    min_rel = _cmp(low, AUTHORITY_MIN)
    below = int((cr < AUTHORITY_MIN - 1e-9).sum())
    mean_sign = {">": ">", "=": "=", "<": "<"}[mean_rel]
    if below:
        each_zh = f"其中 {below} 名专家低于 {bound}"
        each_en = f"{below} {'expert is' if below == 1 else 'experts are'} below {bound}"
    else:
        each_zh = f"均 {'≥' if min_rel == '=' else '>'} {bound}"
        each_en = f"all {'≥' if min_rel == '=' else '>'} {bound}"
    zh = (f"专家权威系数 Cr 均值为 {fmt(d.authority_mean, 3)}（{mean_sign} {bound}），各专家 Cr 为 {fmt(low, 3)}–{fmt(high, 3)}，"
          f"{each_zh}，" + ("专家组的权威程度较高。" if mean_rel != "<" and not below else "专家权威程度需审慎看待。"))
    en = (f"The experts' mean authority Cr = {fmt(d.authority_mean, 3)} ({mean_sign} {bound}); individual Cr ranges from "
          f"{fmt(low, 3)} to {fmt(high, 3)}, {each_en}" + (": the panel is authoritative enough." if mean_rel != "<" and not below
                                                             else ": the panel's authority calls for caution."))
    return ctx.text(zh, en)


# ------------------------------------------------------------------ 2. weights
def _weights_methods(ctx, ev, options) -> str:
    """The AHP (cited), the objective weights (the matrix they come from, its normalisation) and
    the combination formula."""
    zh, en = [], []
    if ev.ahp is not None:
        c = ev.ahp.consistency
        k = max(1, c.loc[c["expert"].map(lambda e: e != "AIJ"), "expert"].nunique())
        zh.append(f"采用层次分析法（AHP；Saaty, 1980）由 {k} 名专家对各层指标两两比较、构造判断矩阵，以一致性比率（CR）≤{NBSP}0.10 为可接受标准，"
                  + ("以判断矩阵的几何平均集结专家意见（AIJ；Forman & Peniwati, 1998）" if ev.ahp.aggregate == "AIJ" else
                     "以各专家权重向量的几何平均集结专家意见（AIP；Forman & Peniwati, 1998）") + "，得到主观权重 s。")
        en.append(f"With the analytic hierarchy process (AHP; Saaty, 1980), {k} experts compared the indicators of each level "
                  "pairwise; judgement matrices were acceptable at a consistency ratio (CR) of at most 0.10 and aggregated by the "
                  "geometric mean of the " + ("judgements (AIJ; Forman & Peniwati, 1998)" if ev.ahp.aggregate == "AIJ" else
                                              "experts' priorities (AIP; Forman & Peniwati, 1998)") + ", giving the expert weights s.")
    z, e = _objective_sentence(ctx, ev, options)
    zh.append(z)
    en.append(e)
    return "".join(zh) if ctx.zh else " ".join(en)


def _objective_sentence(ctx, ev, options) -> tuple[str, str]:
    idx = ev.index
    obj = idx.weights["objective"].notna().all()
    method = next((k for k in ("entropy", "critic") if k in idx.weights_method), None)
    if not obj:
        if ev.ahp is None:
            return ("未提供专家权重文件，也未计算客观权重，各指标等权。",
                    "Without expert weights or objective weights, the indicators are weighted equally.")
        return "指标权重即 AHP 全局权重。", "The weights are the AHP global weights."
    units = _units(ctx, options)
    n_units, n_ind = idx.n_units, len(idx.weights)
    matrix_zh = f"以各{units}在各指标上的均值构成决策矩阵（{n_units} 个{units} × {n_ind} 个指标），经极差标准化"
    matrix_en = f"from the decision matrix of means, {n_units} {units} by {n_ind} indicators, min–max normalised"
    if method == "entropy":
        zh = (f"以熵权法（Shannon, 1948；Zeleny, 1982）计算客观权重 o：{matrix_zh}后计算各指标的信息熵 e，"
              "o 与 1 − e 成正比（各社区间差异越大的指标，熵越小、权重越高）。")
        en = (f"Objective weights o come from the entropy weight method (Shannon, 1948; Zeleny, 1982), {matrix_en}: o is "
              "proportional to 1 − e, e being an indicator's entropy (the more an indicator differs between the units, the "
              "lower its entropy and the higher its weight).")
    else:
        zh = (f"以 CRITIC 法（Diakoulaki, Mavrotas, & Papayannakis, 1995）计算客观权重 o：{matrix_zh}后，以各指标的标准差"
              "（对比强度）与其同其他指标的冲突性（1 − 相关系数之和）之积确定权重。")
        en = (f"Objective weights o come from CRITIC (Diakoulaki, Mavrotas, & Papayannakis, 1995), {matrix_en}: an "
              "indicator's standard deviation (contrast) times its conflict with the others (the sum of 1 − r).")
    if ev.ahp is None:
        return "未提供专家权重文件，" + zh + "指标权重即客观权重。", "Without an expert weights file, the weights are objective only. " + en
    if idx.combine == "multiplicative":
        zh += "主观权重与客观权重按乘法合成为组合权重：w = s·o / Σ s·o。"
        en += " The combined weights are their normalised product, w = s·o / Σ s·o."
    elif idx.combine == "additive":
        zh += f"主观权重与客观权重线性加权为组合权重：w = α s + (1 − α) o，α = {fmt(idx.alpha, 2)}。"
        en += f" The combined weights are w = α s + (1 − α) o with α = {fmt(idx.alpha, 2)}."
    return zh, en


def _ahp(ctx, ev) -> list:
    a = ev.ahp
    first = ~a.consistency["node"].duplicated()
    rows = []
    for k, r in a.consistency.iterrows():
        order2 = int(r["n"]) <= 2
        rows.append({ctx.text("判断矩阵", "Matrix"): _name(ctx, r["node"]) if first[k] else "", ctx.text("专家", "Expert"): _expert(ctx, r["expert"]),
                     ctx.text("阶数 n", "n"): fmt(int(r["n"])), ctx.text("最大特征根", "λmax"): fmt(r["lambda_max"], 3),
                     "CI": fmt(r["ci"], 3), "RI": fmt(r["ri"], 2),
                     ctx.text("一致性比率（CR）", "Consistency ratio (CR)"): "—" if order2 else fmt(r["cr"], 3),
                     ctx.text("一致性", "Consistent"): (ctx.text("恒一致", "Always") if order2 else
                                                      ctx.text("通过", "Yes") if r["consistent"] else ctx.text("未通过", "No"))})
    table = ctx.text("RI 取 Saaty（1980）的平均随机一致性指标" if a.random_index == "saaty1980" else
                     "RI 取 Saaty（2005）的平均随机一致性指标" if a.random_index == "saaty2005" else "RI 为自定义的随机一致性指标",
                     "RI: Saaty's (1980) random index" if a.random_index == "saaty1980" else
                     "RI: Saaty's (2005) random index" if a.random_index == "saaty2005" else "RI: a custom random index table")
    note = ctx.text(f"CI = (最大特征根 − n)/(n − 1)，CR = CI/RI，{table}；CR ≤ 0.10 视为判断矩阵具有满意的一致性（Saaty, 1980）。"
                    "二阶判断矩阵恒为完全一致（CI = 0，RI = 0，CR 无定义，记为“—”）。"
                    + ("“群组”为各专家判断矩阵的几何平均（AIJ）。" if a.aggregate == "AIJ" else ""),
                    f"CI = (λmax − n)/(n − 1), CR = CI/RI; {table}. A matrix is acceptably consistent at CR ≤ 0.10 (Saaty, 1980). "
                    "Matrices of order 2 are always consistent (CI = 0 and RI = 0, so CR is undefined: —)."
                    + (" Group: the element-wise geometric mean of the experts' matrices (AIJ)." if a.aggregate == "AIJ" else ""))
    return [ctx.table(ctx.text("AHP 判断矩阵一致性检验", "Consistency of the AHP judgement matrices"), rows, note=note),
            Paragraph(_ahp_sentence(ctx, a))]


def _expert(ctx, e) -> str:
    if e is None:
        return "—"
    return ctx.text("群组（AIJ）", "Group (AIJ)") if e == "AIJ" else str(e)


def _ahp_sentence(ctx, a) -> str:
    """How many matrices are consistent; each inconsistent one with its furthest judgement, and
    whether it entered the group aggregate — as findings."""
    c = a.consistency
    own = c[c["expert"].map(lambda e: e != "AIJ")]
    checked = own[own["n"] > 2]
    order2 = len(own) - len(checked)
    bad = checked[~checked["consistent"].astype(bool)]
    group = c[c["expert"] == "AIJ"]
    zh = f"{len(checked)} 个三阶及以上的专家判断矩阵中，" + (f"{len(checked) - len(bad)} 个的 {_cr('≤', '0.10')}" if len(bad)
                                                   else f"CR 均 ≤{NBSP}0.10")
    en = (f"Of the {len(checked)} experts' matrices of order 3 or more, "
          + (f"{len(checked) - len(bad)} have {_cr('≤', '0.10')}" if len(bad) else f"all have {_cr('≤', '0.10')}"))
    if order2:
        zh += f"（另有 {order2} 个二阶矩阵恒一致）"
        en += f" (the other {order2}, of order 2, are always consistent)"
    zh += "。"
    en += "."
    several = c["expert"].map(lambda e: e is not None).any() and len(own["expert"].unique()) > 1
    for _, r in bad.iterrows():
        who, node = _expert(ctx, r["expert"]), _name(ctx, r["node"])
        pair = ""
        if isinstance(r.get("worst_row"), str):
            row, col = _name(ctx, r["worst_row"]), _name(ctx, r["worst_col"])
            pair_zh = (f"其中偏离其权重最远的判断为“{row}相对{col} = {_judgement(r['worst_judgement'])}”，而该矩阵权重所隐含的比值约为 "
                       f"{fmt(r['worst_implied'], 2)}")
            pair_en = (f"; its judgement furthest from its own weights is {in_sentence(ctx, row)} against {in_sentence(ctx, col)} "
                       f"= {_judgement(r['worst_judgement'])}, where the weights imply {fmt(r['worst_implied'], 2)}")
            pair = ctx.text(pair_zh, pair_en)
        if several and a.aggregate == "AIJ":
            kept_zh, kept_en = "该矩阵按 AIJ 纳入了群组判断矩阵的几何平均", "this matrix was kept in the group's AIJ geometric mean"
        elif several:
            kept_zh, kept_en = "该专家的权重向量按 AIP 参与了集结", "this expert's priorities entered the AIP aggregate"
        else:
            kept_zh, kept_en = "权重即据此矩阵计算", "the weights rest on this matrix"
        gap = " " if who[-1:].isascii() else ""
        zh += f"{who}{gap}对{node}的判断矩阵 {_cr('=', fmt(r['cr'], 3))}{NBSP}>{NBSP}0.10，" + (pair + "；" if pair else "") + kept_zh + "。"
        en += (f" The matrix of {who} for {in_sentence(ctx, node)} has {_cr('=', fmt(r['cr'], 3))}{NBSP}>{NBSP}0.10"
               + pair + f"; {kept_en}.")
    if len(group):
        ok = bool(group[group["n"] > 2]["consistent"].all())
        worst = group[group["n"] > 2]["cr"].max() if (group["n"] > 2).any() else math.nan
        if ok:
            zh += f"集结后的判断矩阵 CR 均 ≤{NBSP}0.10（最大为 {fmt(worst, 3)}），据此得到的权重具有满意的一致性。"
            en += (f" The aggregated matrices all have {_cr('≤', '0.10')} (at most {fmt(worst, 3)}), so the weights rest on consistent "
                   "judgements.")
        else:
            zh += f"集结后的判断矩阵仍有 {_cr('>', '0.10')} 者，据此得到的权重一致性不足。"
            en += f" An aggregated matrix still has {_cr('>', '0.10')}: the weights rest on inconsistent judgements."
    return ctx.text(zh, en)


def _weights(ctx, ev, options) -> list:
    idx = ev.index
    h = idx.hierarchy
    local = ev.ahp.local.set_index("criterion") if ev.ahp is not None else None
    method = next((k for k in ("entropy", "critic") if k in idx.weights_method), None)
    depth = int(h["level"].max())
    rows = []
    for node, r in _tree_order(h).iterrows():
        level = int(r["level"])
        row = {ctx.text("指标", "Indicator"): INDENT[ctx.lang] * (level - 1) + _name(ctx, node)}
        if depth > 1:
            row[ctx.text("层级", "Level")] = _level_word(ctx, level, short=True)
        if local is not None:
            hit = local.loc[node] if node in local.index else None
            row[ctx.text("AHP 局部权重", "AHP local")] = fmt(hit["local_weight"], 3) if hit is not None else "—"
            row[ctx.text("AHP 全局权重", "AHP global")] = fmt(hit["global_weight"], 3) if hit is not None else "—"
        if method is not None:
            row[ctx.text(f"{_w(ctx, OBJECTIVE_NAMES[method])}权重", "Entropy weight" if method == "entropy" else "CRITIC weight")] = \
                fmt(r["objective"], 3)
        row[ctx.text("组合权重", "Combined weight") if (local is not None and method) else ctx.text("权重", "Weight")] = fmt(r["weight"], 3)
        rows.append(row)
    leaves = LEVEL_WORDS[ctx.lang][depth - 1]
    combined = local is not None and method is not None
    note = ctx.text(("组合权重与" if combined else "") + (f"{_w(ctx, OBJECTIVE_NAMES[method])}权重" if method else "权重")
                    + f"均在全部 {len(idx.weights)} 个{leaves}上归一化（和为 1），上级指标的权重为其下级指标之和。"
                    + ("AHP 局部权重为在上级指标内的权重，AHP 全局权重为局部权重沿层级之积。" if local is not None else ""),
                    ("Combined and " if combined else "") + ("objective weights" if method else "Weights")
                    + f" sum to 1 over the {len(idx.weights)} {leaves.lower().replace(' ', '-')} indicators; a higher-level indicator's weight is "
                    "the sum of those below it." + (" AHP local: the weight within the parent; AHP global: the product of the "
                                                    "local weights down the hierarchy." if local is not None else ""))
    note = note[:1].upper() + note[1:]
    if ev.excluded:
        left = _join(ctx, [_name(ctx, i) for i in ev.excluded])
        note += ctx.text(f"德尔菲末轮未保留的{left}不在指数中。", f" Not in the index (not kept by the Delphi's last round): {left}.")
    names = {n: _name(ctx, n) for n in [idx.construct, *h.index]}
    what = ctx.text("组合权重" if combined else "权重", "combined weights" if combined else "weights")
    fig_note = ctx.text(f"框内数字为{what}（{leaves}合计为 1）。",
                        f"Numbers: {what} (summing to 1 over the {leaves.lower().replace(' ', '-')} indicators).")
    return [ctx.table(ctx.text("评价指标体系及权重", "The evaluation index system and its weights"), rows, note=note),
            ctx.figure(ctx.text("评价指标体系层次结构与权重", "Hierarchy of the evaluation index system with weights"),
                       lambda: ctx.figures().index_hierarchy(h, idx.construct, names, {"note": fig_note}))]


def _tree_order(h: pd.DataFrame) -> pd.DataFrame:
    """The hierarchy's rows depth first: each node followed by the nodes below it."""
    order: list = []

    def visit(parent):
        for node in h.index[h["parent"] == parent]:
            order.append(node)
            visit(node)

    for top in h.index[h["level"] == 1]:
        order.append(top)
        visit(top)
    return h.loc[order]


# ------------------------------------------------------------------ 3. results: the index
def _index_methods(ctx, ev, options) -> str:
    idx = ev.index
    units = _units(ctx, options)
    what = {"topsis": (f"采用 TOPSIS 法（Hwang & Yoon, 1981）计算能力指数：将{units} × 指标均值矩阵按指标作向量归一化（各值除以该指标"
                       f"全部取值平方和的平方根），乘以指标权重后求各{units}与正、负理想解的欧氏距离 D⁺、D⁻，以能力指数（相对贴近度 "
                       f"C = D⁻/(D⁺ + D⁻)，取值 0–1）衡量综合表现。C 衡量的是一个{units}在本次 {idx.n_units} 个{units}中离最好表现有多近，"
                       f"指数低只表示在这些{units}中相对靠后，并不表示其能力在绝对意义上低",
                       f"The capacity index is the TOPSIS closeness C (Hwang & Yoon, 1981): the matrix of the means of the {units} "
                       "on the indicators is vector-normalised, each value divided by the square root of its indicator's sum of "
                       "squares over all units; it is weighted, and C = D⁻/(D⁺ + D⁻), between 0 and 1, from the Euclidean "
                       f"distances to the ideal and the anti-ideal. C says how close a unit comes to the best of these "
                       f"{idx.n_units} {units}: a low index means low among them, not low capacity in any absolute sense"),
            "weighted_sum": ("以各维度均值按量表全距换算为 0–100 后加权求和，作为能力指数",
                             "The capacity index is the weighted sum of the dimension means rescaled to 0–100 by the "
                             "questionnaire's range"),
            "grey": (f"采用灰色关联分析（Deng, 1982）计算各{units}与理想序列的灰色关联度，作为能力指数；关联度是{units}之间的相对比较，"
                     "指数低不表示其能力在绝对意义上低",
                     f"The capacity index is the grey relational grade with the ideal unit (Deng, 1982), relative among the "
                     f"{units}: a low grade is low among them, not low capacity in any absolute sense")}[idx.method]
    zh, en = what
    if idx.n_boot:
        fixed = "ahp" in idx.weights_method or "given" in idx.weights_method
        objective = idx.weights["objective"].notna().all()
        zh += (f"。以{units}内分层 Bootstrap（Efron & Tibshirani, 1993；{idx.n_boot} 次重抽样）估计指数的 95% 百分位置信区间与排名区间："
               f"每次在各{units}内有放回地重抽受访者，重算{units}均值" + ("与客观权重" if objective else "") + "及指数"
               + ("；AHP 主观权重保持不变，区间不含专家权重的不确定性" if fixed else ""))
        en += (f". Stratified bootstrap resampling (Efron & Tibshirani, 1993; {idx.n_boot} resamples) of respondents within "
               f"{units} gives 95% percentile intervals of the index and of the ranks: each resample recomputes the means of the "
               f"{units}" + (", the objective weights" if objective else "") + " and the index"
               + ("; the expert (AHP) weights are held fixed, so their uncertainty is not in the intervals" if fixed else ""))
    return ctx.text(zh + "。", en + ".")


def _index_fmt(idx):
    """How the index is shown: TOPSIS closeness and grey grades lie in [0, 1] (three decimals, no
    leading zero, as APA sets bounded statistics); the weighted score on 0–100 with one decimal."""
    if idx.method == "weighted_sum":
        return lambda v: fmt(v, 1), lambda lo, hi: ci_text(lo, hi, 1)
    return lambda v: fmt(v, 3, bounded=True), lambda lo, hi: ci_text(lo, hi, 3, bounded=True)


def _common_shortfalls(t: pd.DataFrame) -> tuple[list[str], dict[str, list]]:
    """Dimensions that are shortfalls in every unit or all but one, and, for each, the units
    where it is not (empty when every unit)."""
    if "shortfalls" not in t:
        return [], {}
    per = {u: [x for x in str(s).split(", ") if x] for u, s in t["shortfalls"].items()}
    dims = list(dict.fromkeys(d for v in per.values() for d in v))
    n = len(per)
    common = [d for d in dims if sum(d in v for v in per.values()) >= max(n - 1, 2)] if n >= 3 else []
    return common, {d: [u for u, v in per.items() if d not in v] for d in common}


def _ranking(ctx, ev, options) -> list:
    idx = ev.index
    t = idx.table.sort_values(["rank", "index"], ascending=[True, False])
    value, interval = _index_fmt(idx)
    unit_word = ctx.var_label(options.unit)
    common, _ = _common_shortfalls(t)
    rows = []
    for u, r in t.iterrows():
        row = {ctx.text("排名", "Rank"): fmt(int(r["rank"])), unit_word: _unit(ctx, options, u), "n": fmt(int(r["n_obs"])),
               ctx.text("能力指数", "Index"): value(r["index"])}
        if "ci_low" in t:
            row["95% CI"] = interval(r["ci_low"], r["ci_high"])
            row[ctx.text("排名区间", "Rank range")] = _rank_range(r)
        if "shortfalls" in t:
            names = [_name(ctx, d) if k == 0 else in_sentence(ctx, _name(ctx, d))
                     for k, d in enumerate(x for x in str(r["shortfalls"]).split(", ") if x and x not in common)]
            row[ctx.text("其他短板维度" if common else "短板维度", "Other shortfalls" if common else "Shortfalls")] = \
                _join(ctx, names) if names else "—"
        if "n_interviewees" in t:
            row[ctx.text("受访者数", "Interviewees")] = fmt(int(r["n_interviewees"])) if pd.notna(r["n_interviewees"]) else "—"
        if "barrier_share" in t:
            row[ctx.text("访谈障碍提及比例", "Barrier share")] = fmt(r["barrier_share"], 3, bounded=True)
        if "n_confirmed" in t:
            row[ctx.text("受访者提及障碍的短板数", "Shortfalls where interviewees named a barrier")] = \
                fmt(int(r["n_confirmed"])) if r.get("n_interviewees") else "—"
        rows.append(row)
    caption = ctx.text(f"各{unit_word}能力指数、排名与短板维度", f"Capacity index by {unit_word.lower()}: ranks and shortfalls")
    blocks = [ctx.table(caption, rows, note=_ranking_note(ctx, idx, options, common)),
              ctx.figure(ctx.text(f"各{unit_word}能力指数及其 95% 置信区间", f"Capacity index by {unit_word.lower()} with 95% intervals"),
                         lambda: ctx.figures().index_intervals(idx.table, {u: _unit(ctx, options, u) for u in idx.table.index},
                                                               {"xlabel": ctx.text("能力指数", "Capacity index")})),
              Paragraph(_ranking_sentence(ctx, ev, options))]
    return blocks if "ci_low" in t else [blocks[0], blocks[2]]


def _rank_range(r) -> str:
    lo, hi = r.get("rank_low"), r.get("rank_high")
    if lo is None or pd.isna(lo):
        return "—"
    return f"{int(lo)}" if int(lo) == int(hi) else f"{int(lo)}–{int(hi)}"


def _interviewees_text(ctx, t: pd.DataFrame) -> tuple[str, str]:
    """The interviewees per unit interviewed: ("各 2 名", "2") or ("各 1–3 名", "1–3")."""
    k = t.loc[t["n_interviewees"].fillna(0) > 0, "n_interviewees"].astype(int)
    if not len(k):
        return "", ""
    if k.min() == k.max():
        return f"各 {int(k.min())} 名", f"{int(k.min())}"
    return f"各 {int(k.min())}–{int(k.max())} 名", f"{int(k.min())}–{int(k.max())}"


def _ranking_note(ctx, idx, options, common: list[str]) -> str:
    t = idx.table
    units = _units(ctx, options)
    relative = idx.method != "weighted_sum"        # TOPSIS and grey grades compare the units with one another
    note = ctx.text(f"能力指数：{_w(ctx, METHOD_NAMES[idx.method])}，越大越好"
                    + (f"，只在本次 {idx.n_units} 个{units}之间比较" if relative else "，按量表全距换算，不依赖其他单位") + "；排名 1 为最高。",
                    f"Index: {_w(ctx, METHOD_NAMES[idx.method])}, higher is better"
                    + (f", relative among these {idx.n_units} {units}" if relative else
                       ", on the questionnaire's own range (independent of the other units)") + "; rank 1 is the highest.")
    if idx.n_missing:
        note += ctx.text(f"各维度均值按受访者的有效得分计算（{idx.n_missing} 个得分因作答不足缺失）。",
                         f" Means are taken over the valid scores ({idx.n_missing} missing for too few answers).")
    if "ci_low" in t:
        fixed = "ahp" in idx.weights_method or "given" in idx.weights_method
        note += ctx.text(f"95% CI 与排名区间：{units}内分层 Bootstrap（{idx.n_boot} 次）的百分位区间" + ("，AHP 权重固定" if fixed else "") + "。",
                         f" 95% CI and rank range: percentile intervals of a stratified bootstrap ({idx.n_boot} resamples) within "
                         f"{units}" + (", the AHP weights held fixed" if fixed else "") + ".")
        few = t.index[t["n_obs"] < MIN_UNIT_N]
        if len(few):
            names = _join(ctx, [_unit(ctx, options, u) for u in few])
            note += ctx.text(f"{names}的受访者少于 {MIN_UNIT_N} 人，其区间不可靠（有界、相对的指数的百分位区间甚至可能不含点估计）。",
                             f" {names}: fewer than {MIN_UNIT_N} respondents, so the interval is unreliable (a percentile "
                             "interval of a bounded, relative index can even exclude the estimate).")
    if "shortfalls" in t:
        note += ctx.text("短板维度：在该社区内 p < .05 且差距（重要性 − 表现）> 0，且（差距高于各维度差距中位数或表现居后 1/3）的维度。",
                         " Shortfalls: dimensions with p < .05 and gap (importance − performance) > 0 within the unit, and (gap "
                         "above the median gap or performance in the lowest third).")
        if common:
            _, missing = _common_shortfalls(t)
            every = [_name(ctx, d) if k == 0 else in_sentence(ctx, _name(ctx, d))
                     for k, d in enumerate(d for d in common if not missing[d])]
            almost = [(d, missing[d]) for d in common if missing[d]]
            if every:
                note += ctx.text(f"{_join(ctx, every)}在全部 {len(t)} 个{units}均为短板",
                                 f" {_and(ctx, every)} {'is a shortfall' if len(every) == 1 else 'are shortfalls'} in all "
                                 f"{len(t)} {units}")
            for d, out in almost:
                note += ctx.text(("；" if every else "") + f"{_name(ctx, d)}在除{_join(ctx, [_unit(ctx, options, u) for u in out])}外的"
                                 f"{len(t) - len(out)} 个{units}均为短板",
                                 ("; " if every else " ") + f"{in_sentence(ctx, _name(ctx, d)) if every else _name(ctx, d)} in all "
                                 f"but {_join(ctx, [_unit(ctx, options, u) for u in out])}")
            note += ctx.text("，表中只列其他短板维度。", "; the table lists the other shortfalls.")
    if "n_interviewees" in t:
        note += ctx.text("受访者数：该社区接受访谈的人数（0 表示未做访谈）。", " Interviewees: how many people of the unit were interviewed (0: none).")
    if "barrier_share" in t:
        note += ctx.text("访谈障碍提及比例：该社区受访者提及的各维度中，以障碍类代码提及的比例；“—”表示未做访谈。",
                         " Barrier share: of the dimensions the unit's interviewees raised, the share raised with a barrier "
                         "code; —: no interviews.")
    if "n_confirmed" in t:
        each_zh, each_en = _interviewees_text(ctx, t)
        note += ctx.text(f"受访者提及障碍的短板数：短板维度中，提及该维度的受访者有 ≥ {BARRIER_RULE:.0%} 以障碍谈及的维度数；"
                         f"有访谈的{units}{each_zh}受访者，这一判断常取决于 1 名受访者，只能作为线索。",
                         f" Shortfalls where interviewees named a barrier: shortfall dimensions on which at least "
                         f"{BARRIER_RULE:.0%} of the interviewees raising them name barriers; with {each_en} interviewees in "
                         "each unit interviewed this often rests on one person, a lead rather than a confirmation.")
    return note.replace("67%", "2/3")


def _ranking_sentence(ctx, ev, options) -> str:
    idx = ev.index
    t = idx.table.sort_values("rank")
    value, _ = _index_fmt(idx)
    unit_word = ctx.var_label(options.unit)
    units = _units(ctx, options)
    first, last = t.index[0], t.index[-1]
    zh = (f"{len(t)} 个{unit_word}中，能力指数最高的是{_unit(ctx, options, first)}（{value(t.loc[first, 'index'])}），最低的是"
          f"{_unit(ctx, options, last)}（{value(t.loc[last, 'index'])}）。")
    en = (f"Of the {len(t)} {units}, {_unit(ctx, options, first)} has the highest index "
          f"({value(t.loc[first, 'index'])}) and {_unit(ctx, options, last)} the lowest ({value(t.loc[last, 'index'])}).")
    if "rank_low" in t:
        wide = int(((t["rank_high"] - t["rank_low"]) >= 3).sum())
        zh += f"其中 {wide} 个{unit_word}的排名区间跨越 4 个及以上名次，相邻名次之间的差别不宜过度解读。" if wide else "各排名区间较窄。"
        en += (f" For {wide} of them the rank range spans four or more places: neighbouring ranks should not be over-read."
               if wide else " The rank ranges are narrow.")
    a_zh, a_en = _association_sentence(ctx, idx, options)
    return ctx.text(zh + a_zh, en + a_en)


def _association_sentence(ctx, idx, options) -> tuple[str, str]:
    """Does the index rank lowest the communities whose interviews name barriers? Stated honestly,
    with the number of interviewees and the communities without interviews."""
    a = idx.association
    if "barrier_share" not in a.index:
        return "", ""
    unit_word = ctx.var_label(options.unit)
    units = _units(ctx, options)
    t = idx.table
    r = a.loc["barrier_share"]
    n = int(r["n_units"])
    if n < 3 or math.isnan(r["rho"]):
        return (f"有访谈资料的{unit_word}只有 {n} 个，无法考察能力指数与访谈障碍提及的关系。",
                f" Only {n} {units} have interviews: too few to relate the index to barrier talk.")
    rho = f"ρ = {fmt(r['rho'], 3, bounded=True)}"
    agree, sig = r["rho"] < 0, r["p"] < 0.05
    zh = f"在有访谈资料的 {n} 个{unit_word}中，能力指数与访谈障碍提及比例的 Spearman 等级相关为 {rho}（{p_eq(r['p'])}）："
    en = f" Across the {n} {units} with interviews, Spearman's {rho} ({p_eq(r['p'])}) between the index and the barrier share: "
    if agree and sig:
        zh += "能力指数越低的社区，受访者越多地以障碍谈及各维度，访谈在社区层面印证了指数的排序"
        en += "communities with a lower index are those whose interviewees name more barriers, so the interviews bear out the ranking"
    elif agree:
        zh += "方向与预期一致（指数较低的社区，受访者谈及障碍较多），但未达显著水平，访谈既不能印证也不能否定指数的排序"
        en += ("the sign is the expected one (a lower index, more barrier talk) but the association is not significant: the "
               "interviews neither bear out nor contradict the ranking")
    else:
        zh += "方向与预期相反（指数较低的社区，受访者并未更多谈及障碍），量化与质性结果在社区层面不一致，需进一步核查"
        en += ("contrary to expectation, a lower index does not go with more barrier talk; survey and interviews disagree at "
               "this level and call for a closer look")
    each_zh, each_en = _interviewees_text(ctx, t) if "n_interviewees" in t else ("", "")
    none = [u for u in t.sort_values("rank").index if not (t.loc[u, "n_interviewees"] > 0)] if "n_interviewees" in t else []
    if n >= MIN_ASSOCIATION_UNITS:
        zh += (f"。需要注意，该相关只基于 {n} 个{unit_word}、" + (f"{each_zh}受访者" if each_zh else "少量受访者")
               + "，只能视为对排序的描述性参照，不宜作统计推断")
        en += (f". It rests on {n} {units} with " + (f"{each_en} interviewees each" if each_en else "a few interviewees each")
               + ", so it describes these communities and is no test of a population")
    else:
        zh += f"。仅 {n} 个{unit_word}，该相关不作解释"
        en += f". With {n} {units} it is not interpreted"
    if none:
        listed = [f"{_unit(ctx, options, u)}（排名第 {int(t.loc[u, 'rank'])}）" for u in none]
        listed_en = [f"{_unit(ctx, options, u)} (rank {int(t.loc[u, 'rank'])})" for u in none]
        zh += f"；{_join(ctx, listed)}未做访谈，不在其中。"
        en += f"; {_and(ctx, listed_en)} had no interviews and are not in it."
    else:
        zh += "。"
        en += "."
    return zh, en


# ------------------------------------------------------------------ 3. results: robustness to the weights
def _weighting_name(ctx, name: str, idx) -> str:
    subjective = ("AHP 主观权重", "AHP weights") if "ahp" in idx.weights_method else ("主观权重", "Expert weights")
    method = next((k for k in ("entropy", "critic") if k in idx.weights_method), None)
    objective = (("熵权法权重", "Entropy weights") if method == "entropy" else ("CRITIC 权重", "CRITIC weights")
                 if method == "critic" else ("客观权重", "Objective weights"))
    used = ("组合权重（本文所用）", "Combined weights (used)") if idx.combine else ("本文所用权重", "Weights used")
    names = {"used": _w(ctx, used),
             "subjective": ctx.text(f"仅 {subjective[0]}" if subjective[0][:1].isascii() else f"仅{subjective[0]}", f"{subjective[1]} only"),
             "objective": ctx.text(f"仅 {objective[0]}" if objective[0][:1].isascii() else f"仅{objective[0]}", f"{objective[1]} only"),
             "multiplicative": ctx.text("乘法合成 s·o / Σ s·o", "Multiplicative s·o / Σ s·o"),
             "additive": ctx.text("线性加权（α = 0.5）", "Additive (α = 0.5)"), "equal": ctx.text("等权", "Equal weights")}
    return names.get(name, name)


def _sensitivity(ctx, ev, options) -> list:
    """The ranking under the other weightings: a table and a sentence from ``index.sensitivity``."""
    idx = ev.index
    s = idx.sensitivity
    if s is None or not len(s):
        return []
    s = s.loc[[w for w in WEIGHTINGS if w in s.index]]
    unit_word = ctx.var_label(options.unit)
    units = _units(ctx, options)
    ranks = idx.sensitivity_ranks["used"]
    top, bottom = ranks.idxmin(), ranks.idxmax()
    rows = [{ctx.text("赋权方案", "Weighting"): _weighting_name(ctx, "used", idx), ctx.text("排名第一", "Ranked first"): _unit(ctx, options, top),
             ctx.text("排名末位", "Ranked last"): _unit(ctx, options, bottom), ctx.text("与所用排名的 Spearman ρ", "Spearman's ρ with the ranking used"): "—",
             ctx.text("最大名次变动", "Largest rank change"): "—"}]
    for name, r in s.iterrows():
        rows.append({ctx.text("赋权方案", "Weighting"): _weighting_name(ctx, name, idx),
                     ctx.text("排名第一", "Ranked first"): _unit(ctx, options, r["top"]),
                     ctx.text("排名末位", "Ranked last"): _unit(ctx, options, r["bottom"]),
                     ctx.text("与所用排名的 Spearman ρ", "Spearman's ρ with the ranking used"): fmt(r["rho"], 3, bounded=True),
                     ctx.text("最大名次变动", "Largest rank change"): fmt(int(r["max_shift"]))})
    note = ctx.text(f"各方案以同一决策矩阵与同一方法（{_w(ctx, METHOD_NAMES[idx.method])}）重算指数，只改变权重；ρ 为各{units}指数的 Spearman "
                    "等级相关；最大名次变动为单个社区名次变化的最大值。",
                    f"Each weighting recomputes the index from the same matrix with the same method "
                    f"({_w(ctx, METHOD_NAMES[idx.method])}), only the weights changed; ρ: Spearman's rank correlation of the "
                    f"indexes of the {units}; largest rank change: the most any one unit moves.")
    rho_min = s["rho"].min()
    worst = s["rho"].idxmin()
    top_ok, bottom_ok = bool(s["same_top"].all()), bool(s["same_bottom"].all())
    moved_bottom = [_weighting_name(ctx, w, idx) for w in s.index[~s["same_bottom"].astype(bool)]]
    moved_top = [_weighting_name(ctx, w, idx) for w in s.index[~s["same_top"].astype(bool)]]
    if len(s) == 1:
        zh = f"改用{_weighting_name(ctx, worst, idx)}时，排名与所用排名的 Spearman ρ 为 {fmt(rho_min, 3, bounded=True)}；"
        en = (f"Under {in_sentence(ctx, _weighting_name(ctx, worst, idx))} the ranking agrees with the one used to Spearman's "
              f"ρ = {fmt(rho_min, 3, bounded=True)}; ")
    else:
        zh = (f"改变赋权方案时，{len(s)} 种其他方案下的排名与所用排名的 Spearman ρ 最小为 {fmt(rho_min, 3, bounded=True)}"
              f"（{_weighting_name(ctx, worst, idx)}）；")
        en = (f"Under the {len(s)} other weightings the ranking agrees with the one used to Spearman's ρ of at least "
              f"{fmt(rho_min, 3, bounded=True)} ({in_sentence(ctx, _weighting_name(ctx, worst, idx))}); ")
    zh += f"排名第一的{_unit(ctx, options, top)}" + ("在各方案下均居首位" if top_ok else f"在{_join(ctx, moved_top)}下不再居首")
    en += f"{_unit(ctx, options, top)} is ranked first " + ("under every weighting" if top_ok else
                                                            "except under " + _and(ctx, [in_sentence(ctx, x) for x in moved_top]))
    zh += f"，排名末位的{_unit(ctx, options, bottom)}" + ("在各方案下均居末位。" if bottom_ok else f"在{_join(ctx, moved_bottom)}下不再居末位。")
    en += f", and {_unit(ctx, options, bottom)} last " + ("under every weighting." if bottom_ok else
                                                          "except under " + _and(ctx, [in_sentence(ctx, x) for x in moved_bottom]) + ".")
    if idx.n_boot and ("ahp" in idx.weights_method or "given" in idx.weights_method):
        zh += "Bootstrap 区间固定专家权重，本表从权重选择的角度补充了排序的不确定性。"
        en += " The bootstrap intervals hold the expert weights fixed; this table adds the uncertainty the choice of weights brings."
    caption = ctx.text(f"不同赋权方案下各{unit_word}排名的稳健性", f"Ranking of the {units} under other weightings")
    return [ctx.table(caption, rows, note=note), Paragraph(ctx.text(zh, en))]


# ------------------------------------------------------------------ 3. results: fuzzy comprehensive evaluation
def _scale_text(ctx, fz) -> tuple[str, str]:
    """The answer codes with the questionnaire's labels, mapped to the grades: "1（非常不同意）→ 很差"."""
    items = [i for i in fz.weights.index if i in {q.id for q in ctx.inst.questions}]
    if not items:
        return "", ""
    scales = {ctx.inst.scale_of(i).name for i in items}
    if len(scales) != 1:
        return "", ""
    sc = ctx.inst.scale_of(items[0])
    labels = sc.labels.get(ctx.lang, {})
    pairs = [f"{c:g}" + (ctx.text(f"（{labels[c]}）", f" ({in_sentence(ctx, labels[c])})") if c in labels else "") + f" → {g}"
             for c, g in zip(fz.levels, fz.labels)]
    return "、".join(pairs), ", ".join(pairs)


def _fuzzy(ctx, ev, options) -> list:
    fz = ev.fuzzy
    unit_word = ctx.var_label(options.unit)
    units = _units(ctx, options)
    table = fz.table.drop(index="(all)")
    score_rank = table["score"].rank(ascending=False, method="min").astype(int)
    index_rank = ev.index.table["rank"]
    order = [*score_rank.sort_values(kind="stable").index, "(all)"]
    member = ctx.text("隶属度：", "μ: ")          # "Membership: " would push the English table onto a landscape page
    rows = []
    for u in order:
        r = fz.table.loc[u]
        row = {ctx.text("排名", "Rank"): fmt(int(score_rank[u])) if u in score_rank.index else "—",
               unit_word: ctx.text("全体", "All") if u == "(all)" else _unit(ctx, options, u)}
        row.update({f"{member}{level}": fmt(r[level], 3) for level in fz.labels})
        grade = str(r["grade"])
        if bool(r["tied"]):
            grade += ctx.text("（并列）", " (tied)")
        elif bool(r.get("borderline", False)):
            grade += ctx.text("（边界）", " (borderline)")
        row[ctx.text("评价等级", "Grade")] = grade
        row[ctx.text("综合得分", "Score")] = fmt(r["score"], 3)
        row[ctx.text("能力指数排名", "Index rank")] = fmt(int(index_rank[u])) if u in index_rank.index else "—"
        rows.append(row)
    codes = "、".join(f"{c:g}" for c in fz.scores) if ctx.zh else ", ".join(f"{c:g}" for c in fz.scores)
    scale_zh, scale_en = _scale_text(ctx, fz)
    margin = fmt(BORDERLINE_MARGIN, 2, bounded=True)
    note = ctx.text((f"评语集：问卷作答 {scale_zh}。" if scale_zh else "")
                    + f"隶属度为各题项在各评语上的作答比例；两级模糊综合评价（维度内题项等权，维度间取能力指数的权重），加权平均型算子 M(·,⊕)；"
                    f"评价等级按最大隶属度原则，“边界”表示最大与次大隶属度之差 < {margin}，该等级由极小的差距决定；"
                    f"综合得分为隶属度向量与等级分值（{codes}）的加权和，排名按综合得分。",
                    (f"Evaluation set: answers {scale_en}. " if scale_en else "")
                    + "μ: membership, the share of answers in each grade per item; two-level evaluation (items equally weighted "
                    "within dimensions, dimensions by the index weights) with the weighted-average operator M(·,⊕); grade by "
                    f"maximum membership, borderline when the two largest memberships differ by less than {margin}; score: the "
                    f"membership vector weighted by the grades' values ({codes}), ranked.")
    return [ctx.table(ctx.text(f"各{unit_word}模糊综合评价结果", f"Fuzzy comprehensive evaluation by {unit_word.lower()}"), rows, note=note),
            Paragraph(_fuzzy_sentence(ctx, ev, options, table, units))]


def _fuzzy_sentence(ctx, ev, options, table: pd.DataFrame, units: str) -> str:
    fz = ev.fuzzy
    overall = fz.table.loc["(all)"]
    best = table.sort_values("score", ascending=False)
    hi, lo = best.index[0], best.index[-1]
    zh = (f"模糊综合评价（Zadeh, 1965；汪培庄, 1983）显示，全体样本的评价等级为“{overall['grade']}”（综合得分 {fmt(overall['score'], 3)}）；"
          f"综合得分最高的是{_unit(ctx, options, hi)}（{fmt(best.loc[hi, 'score'], 3)}），最低的是{_unit(ctx, options, lo)}"
          f"（{fmt(best.loc[lo, 'score'], 3)}）。")
    en = (f"The fuzzy comprehensive evaluation (Zadeh, 1965) grades the whole sample '{overall['grade']}' (score "
          f"{fmt(overall['score'], 3)}); {_unit(ctx, options, hi)} scores highest ({fmt(best.loc[hi, 'score'], 3)}) and "
          f"{_unit(ctx, options, lo)} lowest ({fmt(best.loc[lo, 'score'], 3)}).")
    grades = table["grade"].astype(str).unique()
    if len(grades) == 1:
        zh += f"全部 {len(table)} 个{units}的等级均为“{grades[0]}”，最大隶属度原则在{units}之间几乎没有区分，综合得分更能反映差异。"
        en += (f" All {len(table)} {units} get the grade '{grades[0]}': maximum membership hardly tells them apart, and the "
               "score shows the differences better.")
    edge = table[table["borderline"].astype(bool) & ~table["tied"].astype(bool)] if "borderline" in table else table.iloc[:0]
    if len(edge):
        items_zh, items_en = [], []
        for u, r in edge.iterrows():
            vec = r[list(fz.labels)].astype(float).sort_values(ascending=False)
            g1, b1, g2, b2 = vec.index[0], vec.iloc[0], vec.index[1], vec.iloc[1]
            items_zh.append(f"{_unit(ctx, options, u)}（{g1} {fmt(b1, 3)}，{g2} {fmt(b2, 3)}）")
            items_en.append(f"{_unit(ctx, options, u)} ({g1} {fmt(b1, 3)}, {g2} {fmt(b2, 3)})")
        zh += f"{_join(ctx, items_zh)}的最大与次大隶属度之差 < {fmt(BORDERLINE_MARGIN, 2, bounded=True)}，其等级属边界情形。"
        en += (f" For {_and(ctx, items_en)} the two largest memberships differ by less than "
               f"{fmt(BORDERLINE_MARGIN, 2, bounded=True)}: a borderline grade.")
    assoc = ev.fuzzy_association
    if assoc is not None and "fuzzy_score" in assoc.index and not math.isnan(assoc.loc["fuzzy_score", "rho"]):
        r = assoc.loc["fuzzy_score"]
        word = next(w for w in AGREEMENT_WORDS if r["rho"] >= w[0])
        relative = {"topsis": ("TOPSIS", "TOPSIS"), "grey": ("灰色关联分析", "grey relational analysis")}.get(ev.index.method)
        zh += (f"{int(r['n_units'])} 个{units}的综合得分与能力指数的 Spearman 等级相关为 ρ = {fmt(r['rho'], 3, bounded=True)}，"
               f"两种方法的排序{word[1]}" + (f"；二者的差别在于{relative[0]}只在{units}之间相对比较，而模糊综合评价依据作答在各等级上的分布"
                                           if relative else "") + "。")
        en += (f" Across the {int(r['n_units'])} {units}, Spearman's ρ = {fmt(r['rho'], 3, bounded=True)} between the score and "
               f"the capacity index: the two rankings {word[2]}" + (f"; {relative[1]} compares the {units} with one another, while "
                                                                    "the fuzzy evaluation reads the spread of the answers over "
                                                                    "the grades" if relative else "") + ".")
    return ctx.text(zh, en)
