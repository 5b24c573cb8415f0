"""Report section of the evaluation index system (评价指标体系): the methods paragraph, the
Delphi rounds and concordance, the AHP consistency check, the weights with the hierarchy
figure, the capacity index per community beside its shortfalls and interview evidence, and
the fuzzy comprehensive evaluation.

Conventions cited: CR < .10 (Saaty, 1980) with Saaty's random index; the AIJ aggregation
(Forman & Peniwati, 1998); the Delphi keep rule and authority Cr ≥ 0.7; Kendall's W; the
entropy weight method; CRITIC (Diakoulaki, Mavrotas & Papayannakis, 1995); TOPSIS (Hwang &
Yoon, 1981); grey relational analysis (Deng, 1982); fuzzy comprehensive evaluation with the
weighted-average operator M(·,⊕). A unit-level correlation over a dozen communities is
reported as a description, never as a test of a population.
"""

from __future__ import annotations

import math

import pandas as pd

from govsurvey.evaluation.delphi import AUTHORITY_MIN
from govsurvey.evaluation.index import BARRIER_RULE, MIN_ASSOCIATION_UNITS
from govsurvey.report.document import Paragraph, fmt, fmt_p, p_eq
from govsurvey.report.sections.results import ci_text, in_sentence

__all__ = ["evaluation"]

METHOD_NAMES = {"topsis": ("TOPSIS 相对贴近度", "TOPSIS closeness"), "weighted_sum": ("加权综合得分", "weighted score"),
                "grey": ("灰色关联度", "grey relational grade")}
OBJECTIVE_NAMES = {"entropy": ("熵权法", "entropy"), "critic": ("CRITIC 法", "CRITIC")}
LEVEL_WORDS = {"zh": ("一级指标", "二级指标", "三级指标", "四级指标"),
               "en": ("First level", "Second level", "Third level", "Fourth level")}


def _w(ctx, pair: tuple[str, str]) -> str:
    return pair[0 if ctx.zh else 1]


def _join(ctx, parts) -> str:
    return ctx.text("、", ", ").join(parts)


def _name(ctx, node: str) -> str:
    """A construct's label; an item id as it is."""
    return ctx.label(node)


def _unit(ctx, options, value) -> str:
    return ctx.group_label(options.unit, value)


# ------------------------------------------------------------------ the section
def evaluation(ctx, ev, options) -> list:
    blocks: list = [Paragraph(_methods(ctx, ev, options))]
    if ev.delphi is not None:
        blocks += _delphi(ctx, ev, options)
    if ev.ahp is not None:
        blocks += _ahp(ctx, ev)
    blocks += _weights(ctx, ev, options)
    blocks += _ranking(ctx, ev, options)
    if ev.fuzzy is not None:
        blocks += _fuzzy(ctx, ev, options)
    return blocks


def _methods(ctx, ev, options) -> str:
    """What was done, with the citations a thesis' methods section needs."""
    idx = ev.index
    h = idx.hierarchy
    n1, n2, n3 = (int((h["level"] == k).sum()) for k in (1, 2, 3))
    goal = in_sentence(ctx, _name(ctx, idx.construct))
    zh = [f"以问卷的构念层级为评价指标体系：目标层为{goal}，下设 {n1} 个一级指标" + (f"、{n2} 个二级指标" if n2 else "")
          + (f"、{n3} 个三级指标（题项）" if n3 else "") + "。"]
    levels = [f"{n1} first-level", *([f"{n2} second-level"] if n2 else []), *([f"{n3} third-level (items)"] if n3 else [])]
    listed = levels[0] if len(levels) == 1 else ", ".join(levels[:-1]) + " and " + levels[-1]
    en = [f"The evaluation index system is the questionnaire's construct tree: the goal is {goal}, with {listed} indicators."]
    if ev.delphi is not None:
        d = ev.delphi
        rounds, m = len(d.kendall_w), int(d.kendall_w["m"].max())
        rule = d.rule
        zh.append(f"采用德尔菲法开展 {rounds} 轮专家咨询（{m} 名专家），以重要性均值 ≥ {rule.get('mean_min', 0):g} 且变异系数 ≤ "
                  f"{rule.get('cv_max', 0):g} 为指标保留标准，以 Kendall 协调系数 W 检验专家意见的协调程度，以权威系数 Cr = (Ca + Cs)/2 "
                  "评价专家的权威程度。")
        en.append(f"A {rounds}-round Delphi consultation of {m} experts kept indicators with mean importance ≥ "
                  f"{rule.get('mean_min', 0):g} and coefficient of variation ≤ {rule.get('cv_max', 0):g}; Kendall's W measured "
                  "the experts' concordance and Cr = (Ca + Cs)/2 their authority.")
    if ev.ahp is not None:
        c = ev.ahp.consistency
        k = max(1, c.loc[c["expert"].map(lambda e: e != "AIJ"), "expert"].nunique())
        zh.append(f"采用层次分析法（AHP；Saaty, 1980）由 {k} 名专家对各层指标两两比较、构造判断矩阵，以一致性比率 CR < .10 为可接受标准，"
                  + ("以判断矩阵的几何平均集结专家意见（AIJ；Forman & Peniwati, 1998）。" if ev.ahp.aggregate == "AIJ" else
                     "以各专家权重向量的几何平均集结专家意见（AIP；Forman & Peniwati, 1998）。"))
        en.append(f"With the analytic hierarchy process (AHP; Saaty, 1980), {k} experts compared the indicators of each level "
                  "pairwise; judgement matrices were acceptable at CR < .10 and aggregated by the geometric mean of the "
                  + ("judgements (AIJ; Forman & Peniwati, 1998)." if ev.ahp.aggregate == "AIJ" else
                     "experts' priorities (AIP; Forman & Peniwati, 1998)."))
    zh.append(_weights_sentence(ctx, ev, zh=True))
    en.append(_weights_sentence(ctx, ev, zh=False))
    zh.append(_index_sentence(ctx, idx, zh=True))
    en.append(_index_sentence(ctx, idx, zh=False))
    return "".join(zh) if ctx.zh else " ".join(en)


def _weights_sentence(ctx, ev, *, zh: bool) -> str:
    idx = ev.index
    obj = idx.weights["objective"].notna().all()
    method = next((k for k in ("entropy", "critic") if k in idx.weights_method), None)
    if ev.ahp is None and not obj:
        return "未提供专家权重文件，各指标等权。" if zh else "Without expert weights, the indicators are weighted equally."
    cite = {"entropy": ("以熵权法计算客观权重", "entropy weights"),
            "critic": ("以 CRITIC 法（Diakoulaki, Mavrotas, & Papayannakis, 1995）计算客观权重",
                       "CRITIC weights (Diakoulaki, Mavrotas, & Papayannakis, 1995)")}
    if ev.ahp is None:
        return (f"未提供专家权重文件，仅{cite[method][0]}（按社区均值矩阵）。" if zh else
                f"Without an expert weights file, the weights are objective only: {cite[method][1]} from the communities' means.")
    if not obj:
        return "指标权重即 AHP 全局权重。" if zh else "The weights are the AHP global weights."
    how = (("乘法合成", "multiplicatively (w = s·o / Σ s·o)") if idx.combine == "multiplicative" else
           (f"线性加权（α = {fmt(idx.alpha, 2)}）", f"additively (w = α s + (1 − α) o, α = {fmt(idx.alpha, 2)})"))
    return (f"在 AHP 主观权重之外，{cite[method][0]}，二者{how[0]}为组合权重。" if zh else
            f"The AHP weights (s) were combined with {cite[method][1]} (o) from the communities' means {how[1]}.")


def _index_sentence(ctx, idx, *, zh: bool) -> str:
    what = {"topsis": ("采用 TOPSIS 法（Hwang & Yoon, 1981）计算各社区与正负理想解的相对贴近度，作为能力指数（0–1）",
                       "The capacity index is the TOPSIS closeness to the ideal community (0–1; Hwang & Yoon, 1981)"),
            "weighted_sum": ("以各维度均值按量表全距换算为 0–100 后加权求和，作为能力指数",
                             "The capacity index is the weighted sum of the dimension means rescaled to 0–100 by the "
                             "questionnaire's range"),
            "grey": ("采用灰色关联分析（Deng, 1982）计算各社区与理想序列的灰色关联度，作为能力指数",
                     "The capacity index is the grey relational grade with the ideal community (Deng, 1982)")}[idx.method]
    boot = ""
    if idx.n_boot:
        boot = (f"；以社区内分层 Bootstrap（{idx.n_boot} 次重抽样，重算客观权重）估计指数的 95% 置信区间与排名区间" if zh else
                f"; stratified Bootstrap resampling of respondents within communities ({idx.n_boot} resamples, objective "
                "weights recomputed in each) gives 95% intervals of the index and of the ranks")
    return (what[0] + boot + "。") if zh else (what[1] + boot + ".")


# ------------------------------------------------------------------ Delphi
def _delphi(ctx, ev, options) -> list:
    d = ev.delphi
    first = ~d.rounds["round"].duplicated()
    rows = [{ctx.text("轮次", "Round"): str(r["round"]) if first[k] else "", ctx.text("指标", "Indicator"): _name(ctx, r["indicator"]),
             "n": fmt(int(r["n"])), "M": fmt(r["mean"], 2), "SD": fmt(r["sd"], 2), "CV": fmt(r["cv"], 3),
             ctx.text("满分比", "Full score"): f"{100 * r['full_score']:.1f}%",
             ctx.text("保留", "Kept"): ctx.text("是", "Yes") if r["keep"] else ctx.text("否", "No")} for k, r in d.rounds.iterrows()]
    rule = d.rule
    note = ctx.text(f"保留标准：均值 ≥ {rule.get('mean_min', 0):g} 且变异系数（CV = SD/M）≤ {rule.get('cv_max', 0):g}；满分比为给出最高分"
                    f"（{d.scale[1]:g} 分）的专家比例。",
                    f"Kept: mean ≥ {rule.get('mean_min', 0):g} and coefficient of variation (CV = SD/M) ≤ {rule.get('cv_max', 0):g}; "
                    f"full score: share of experts giving the highest rating ({d.scale[1]:g}).")
    kw = [{ctx.text("轮次", "Round"): str(r.round), ctx.text("专家数", "Experts"): fmt(int(r.m)),
           ctx.text("指标数", "Indicators"): fmt(int(r.n)), "W": fmt(r.w, 3, bounded=True), "χ²": fmt(r.chi2, 2),
           "df": fmt(int(r.df)), "p": fmt_p(r.p)} for r in d.kendall_w.itertuples(index=False)]
    kw_note = ctx.text("Kendall 协调系数 W 经同分校正；χ² = m(n − 1)W，自由度 n − 1。",
                       "Kendall's W with the tie correction; χ² = m(n − 1)W on n − 1 df.")
    return [ctx.table(ctx.text("德尔菲专家咨询各轮指标评分与筛选", "Delphi rounds: indicator ratings and screening"), rows, note=note),
            ctx.table(ctx.text("专家意见协调程度（Kendall 协调系数）", "Concordance of the experts (Kendall's W)"), kw, note=kw_note),
            Paragraph(_delphi_sentence(ctx, ev, options))]


def _delphi_sentence(ctx, ev, options) -> str:
    d = ev.delphi
    rounds = d.rounds
    parts_zh, parts_en = [], []
    for r, part in rounds.groupby("round", sort=False):
        out = [_name(ctx, i) for i in part.loc[~part["keep"].astype(bool), "indicator"]]
        parts_zh.append(f"第 {r} 轮" + (f"未达保留标准的指标为{_join(ctx, out)}" if out else "各指标均达到保留标准"))
        parts_en.append(f"round {r} " + (f"did not keep {', '.join(in_sentence(ctx, o) for o in out)}" if out else "kept every indicator"))
    w = [f"W = {fmt(r['w'], 3, bounded=True)}" + ctx.text(f"（{p_eq(r['p'])}）", f" ({p_eq(r['p'])})") for _, r in d.kendall_w.iterrows()]
    cr = d.authority["cr"].dropna() if len(d.authority) else pd.Series(dtype=float)
    zh = "；".join(parts_zh) + "。各轮 Kendall 协调系数依次为 " + "、".join(w) + "。"
    en = "; ".join(parts_en).capitalize() + ". Kendall's W by round: " + ", ".join(w) + "."
    if len(cr) and not math.isnan(d.authority_mean):
        ok = d.authority_mean >= AUTHORITY_MIN
        zh += (f"专家权威系数 Cr 均值为 {fmt(d.authority_mean, 3)}（各专家 {fmt(cr.min(), 2)}–{fmt(cr.max(), 2)}），"
               + ("高于" if ok else "低于") + f" {AUTHORITY_MIN:g} 的一般要求。")
        en += (f" The experts' mean authority Cr = {fmt(d.authority_mean, 3)} (range {fmt(cr.min(), 2)}–{fmt(cr.max(), 2)}) is "
               + ("above" if ok else "below") + f" the usual {AUTHORITY_MIN:g}.")
    if ev.excluded:
        names = _join(ctx, [_name(ctx, i) for i in ev.excluded])
        again = ev.ahp is not None
        zh += f"末轮未保留的{names}未纳入能力指数" + ("，其余指标的 AHP 权重重新归一化。" if again else "。")
        en += (f" {names} (not kept in the last round) {'is' if len(ev.excluded) == 1 else 'are'} left out of the index"
               + ("; the AHP weights of the others are rescaled to sum to 1." if again else "."))
    return ctx.text(zh, en)


# ------------------------------------------------------------------ AHP
def _expert(ctx, e) -> str:
    if e is None:
        return "—"
    return ctx.text("群组（AIJ）", "Group (AIJ)") if e == "AIJ" else str(e)


def _ahp(ctx, ev) -> list:
    a = ev.ahp
    first = ~a.consistency["node"].duplicated()
    rows = [{ctx.text("判断矩阵", "Matrix"): _name(ctx, r["node"]) if first[k] else "", ctx.text("专家", "Expert"): _expert(ctx, r["expert"]),
             ctx.text("阶数", "n"): fmt(int(r["n"])), ctx.text("最大特征根", "λmax"): fmt(r["lambda_max"], 3),
             "CI": fmt(r["ci"], 3), "RI": fmt(r["ri"], 2), "CR": fmt(r["cr"], 3),
             ctx.text("一致性", "Consistent"): ctx.text("通过", "Yes") if r["consistent"] else ctx.text("未通过", "No")}
            for k, r in a.consistency.iterrows()]
    table = ctx.text("RI 取 Saaty（1980）的平均随机一致性指标" if a.random_index == "saaty1980" else
                     "RI 取 Saaty（2005）的平均随机一致性指标" if a.random_index == "saaty2005" else "RI 为自定义的随机一致性指标",
                     "RI: Saaty's (1980) random index" if a.random_index == "saaty1980" else
                     "RI: Saaty's (2005) random index" if a.random_index == "saaty2005" else "RI: a custom random index table")
    note = ctx.text(f"CI = (最大特征根 − n)/(n − 1)，CR = CI/RI，{table}；CR < .10 视为判断矩阵具有满意的一致性（Saaty, 1980），"
                    "二阶判断矩阵恒为完全一致。" + ("“群组”为各专家判断矩阵的几何平均（AIJ）。" if a.aggregate == "AIJ" else ""),
                    f"CI = (λmax − n)/(n − 1), CR = CI/RI; {table}. A matrix is acceptably consistent at CR < .10 (Saaty, 1980); "
                    "matrices of order 2 are always consistent." + (" Group: the element-wise geometric mean of the experts' "
                                                                   "matrices (AIJ)." if a.aggregate == "AIJ" else ""))
    return [ctx.table(ctx.text("AHP 判断矩阵一致性检验", "Consistency of the AHP judgement matrices"), rows, note=note),
            Paragraph(_ahp_sentence(ctx, a))]


def _ahp_sentence(ctx, a) -> str:
    c = a.consistency
    own = c[c["expert"].map(lambda e: e != "AIJ")]
    bad = own[~own["consistent"].astype(bool)]
    group = c[c["expert"] == "AIJ"]
    items = [f"{_expert(ctx, r['expert'])}{ctx.text('对', ' on ')}{in_sentence(ctx, _name(ctx, r['node']))}"
             f"{ctx.text('（', ' (')}CR = {fmt(r['cr'], 3, bounded=True)}{ctx.text('）', ')')}" for _, r in bad.iterrows()]
    zh = f"{len(own)} 个专家判断矩阵中，" + (f"{len(bad)} 个的 CR 超过 .10：{'、'.join(items)}，宜请该专家复核后重新判断" if len(bad)
                                          else "CR 均小于 .10")
    en = f"Of {len(own)} experts' matrices, " + (f"{len(bad)} {'exceeds' if len(bad) == 1 else 'exceed'} CR = .10: {'; '.join(items)}; the expert should revisit "
                                                 "those judgements" if len(bad) else "all have CR below .10")
    if len(group):
        ok = bool(group["consistent"].all())
        zh += "；集结后的判断矩阵 " + ("CR 均小于 .10，权重可用。" if ok else "仍有 CR 超过 .10 者，权重宜慎用。")
        en += "; the aggregated matrices " + ("all have CR below .10, so the weights can be used." if ok else
                                              "include one above .10: use the weights with caution.")
    else:
        zh += "。"
        en += "."
    return ctx.text(zh, en)


# ------------------------------------------------------------------ weights and hierarchy
def _weights(ctx, ev, options) -> list:
    idx = ev.index
    h = idx.hierarchy
    local = ev.ahp.local.set_index("criterion") if ev.ahp is not None else None
    method = next((k for k in ("entropy", "critic") if k in idx.weights_method), None)
    depth = int(h["level"].max())
    words = LEVEL_WORDS[ctx.lang]
    rows = []
    for node, r in _tree_order(h).iterrows():
        row = {words[k]: (_name(ctx, node) if int(r["level"]) == k + 1 else "") for k in range(depth)}
        if local is not None:
            hit = local.loc[node] if node in local.index else None
            row[ctx.text("AHP 局部权重", "AHP local")] = fmt(hit["local_weight"], 3) if hit is not None else "—"
            row[ctx.text("AHP 全局权重", "AHP global")] = fmt(hit["global_weight"], 3) if hit is not None else "—"
        if method is not None:
            row[ctx.text(f"{_w(ctx, OBJECTIVE_NAMES[method])}权重", f"{_w(ctx, OBJECTIVE_NAMES[method]).capitalize()} weight"
                         if method == "entropy" else "CRITIC weight")] = fmt(r["objective"], 3)
        row[ctx.text("组合权重", "Combined weight") if (local is not None and method) else ctx.text("权重", "Weight")] = fmt(r["weight"], 3)
        rows.append(row)
    note = ctx.text("组合权重与客观权重为全局权重（各指标权重之和为 1），上级指标的权重为其下级指标之和；AHP 局部权重为在上级指标内的权重。",
                    "Objective and combined weights are global (summing to 1 over the indicators); a higher-level indicator's "
                    "weight is the sum of those below it; the AHP local weight is the weight within its parent.")
    if ev.excluded:
        left = _join(ctx, [_name(ctx, i) for i in ev.excluded])
        note += ctx.text(f"德尔菲末轮未保留的{left}不在指数中。", f" Not in the index (not kept by the Delphi's last round): {left}.")
    names = {n: _name(ctx, n) for n in [idx.construct, *h.index]}
    fig_note = ctx.text("框内数字为全局权重。", "Numbers: global weights.")
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


# ------------------------------------------------------------------ ranking
def _index_fmt(idx):
    """How the index is shown: TOPSIS closeness and grey grades lie in [0, 1] (three decimals, no
    leading zero, as APA sets bounded statistics); the weighted score on 0–100 with one decimal."""
    if idx.method == "weighted_sum":
        return lambda v: fmt(v, 1), lambda lo, hi: ci_text(lo, hi, 1)
    return lambda v: fmt(v, 3, bounded=True), lambda lo, hi: ci_text(lo, hi, 3, bounded=True)


def _ranking(ctx, ev, options) -> list:
    idx = ev.index
    t = idx.table.sort_values(["rank", "index"], ascending=[True, False])
    value, interval = _index_fmt(idx)
    unit_word = ctx.var_label(options.unit)
    rows = []
    for u, r in t.iterrows():
        row = {ctx.text("排名", "Rank"): fmt(int(r["rank"])), unit_word: _unit(ctx, options, u), "n": fmt(int(r["n_obs"])),
               ctx.text("能力指数", "Index"): value(r["index"])}
        if "ci_low" in t:
            row["95% CI"] = interval(r["ci_low"], r["ci_high"])
            row[ctx.text("排名区间", "Rank range")] = _rank_range(r)
        if "shortfalls" in t:
            names = [_name(ctx, d) if k == 0 else in_sentence(ctx, _name(ctx, d))
                     for k, d in enumerate(x for x in str(r["shortfalls"]).split(", ") if x)]
            row[ctx.text("短板维度", "Shortfalls")] = _join(ctx, names) if names else "—"
        if "barrier_share" in t:
            row[ctx.text("访谈障碍提及比例", "Barrier share")] = fmt(r["barrier_share"], 3, bounded=True)
        if "n_confirmed" in t:
            row[ctx.text("访谈印证的短板", "Confirmed")] = fmt(int(r["n_confirmed"])) if r["n_interviewees"] else "—"
        rows.append(row)
    blocks = [ctx.table(ctx.text(f"各{unit_word}能力指数、排名与访谈证据", f"Capacity index by {unit_word.lower()}: ranks and interview evidence"),
                        rows, note=_ranking_note(ctx, idx)),
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


def _ranking_note(ctx, idx) -> str:
    t = idx.table
    note = ctx.text(f"能力指数：{_w(ctx, METHOD_NAMES[idx.method])}，越大越好；排名 1 为最高。",
                    f"Index: {_w(ctx, METHOD_NAMES[idx.method])}, higher is better; rank 1 is the highest.")
    if idx.n_missing:
        note += ctx.text(f"各维度均值按受访者的有效得分计算（{idx.n_missing} 个得分因作答不足缺失）。",
                         f" Means are taken over the valid scores ({idx.n_missing} missing for too few answers).")
    if "ci_low" in t:
        note += ctx.text(f"95% CI 与排名区间来自社区内分层 Bootstrap（{idx.n_boot} 次）。",
                         f" 95% CI and rank range: stratified Bootstrap within communities ({idx.n_boot} resamples).")
    if "shortfalls" in t:
        note += ctx.text("短板维度：在该社区内差距（重要性 − 表现）显著大于 0，且高于各维度差距中位数或表现居后 1/3 的维度。",
                         " Shortfalls: dimensions whose gap (importance − performance) within the community is significantly "
                         "above 0 and above the median gap, or with performance in the lowest third.")
    if "barrier_share" in t:
        note += ctx.text("访谈障碍提及比例：该社区受访者提及的各维度中，以障碍类代码提及的比例；“—”表示该社区未做访谈。",
                         " Barrier share: of the dimensions the community's interviewees raised, the share raised with a "
                         "barrier code; — : no interviews there.")
    if "n_confirmed" in t:
        note += ctx.text(f"访谈印证的短板：提及该维度的受访者中提及障碍者 ≥ {BARRIER_RULE:.0%} 的短板维度数。",
                         f" Confirmed: shortfalls on which at least {BARRIER_RULE:.0%} of the interviewees raising them name barriers.")
    return note.replace("67%", "2/3")


def _ranking_sentence(ctx, ev, options) -> str:
    idx = ev.index
    t = idx.table.sort_values("rank")
    value, _ = _index_fmt(idx)
    unit_word = ctx.var_label(options.unit)
    first, last = t.index[0], t.index[-1]
    zh = (f"{len(t)} 个{unit_word}中，能力指数最高的是{_unit(ctx, options, first)}（{value(t.loc[first, 'index'])}），最低的是"
          f"{_unit(ctx, options, last)}（{value(t.loc[last, 'index'])}）。")
    en = (f"Of the {len(t)} units, {_unit(ctx, options, first)} has the highest index "
          f"({value(t.loc[first, 'index'])}) and {_unit(ctx, options, last)} the lowest ({value(t.loc[last, 'index'])}).")
    if "rank_low" in t:
        wide = int(((t["rank_high"] - t["rank_low"]) >= 3).sum())
        zh += f"其中 {wide} 个{unit_word}的排名区间跨越 4 个及以上名次，相邻名次之间的差别不宜过度解读。" if wide else "各排名区间较窄。"
        en += (f" For {wide} of them the rank range spans four or more places: neighbouring ranks should not be over-read."
               if wide else " The rank ranges are narrow.")
    a_zh, a_en = _association_sentence(ctx, idx, unit_word)
    return ctx.text(zh + a_zh, en + a_en)


def _association_sentence(ctx, idx, unit_word: str) -> tuple[str, str]:
    """Does the index rank lowest the communities whose interviews name barriers? Stated honestly."""
    a = idx.association
    if "barrier_share" not in a.index:
        return "", ""
    r = a.loc["barrier_share"]
    n = int(r["n_units"])
    if n < 3 or math.isnan(r["rho"]):
        return (f"有访谈资料的{unit_word}只有 {n} 个，无法考察能力指数与访谈障碍提及的关系。",
                f" Only {n} units have interviews: too few to relate the index to barrier talk.")
    rho = f"ρ = {fmt(r['rho'], 3, bounded=True)}"
    agree, sig = r["rho"] < 0, r["p"] < 0.05
    zh = f"在有访谈资料的 {n} 个{unit_word}中，能力指数与访谈障碍提及比例的 Spearman 等级相关为 {rho}（{p_eq(r['p'])}）："
    en = f" Across the {n} units with interviews, Spearman's {rho} ({p_eq(r['p'])}) between the index and the barrier share: "
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
    zh += (f"。需要注意，该相关只基于 {n} 个{unit_word}、每个{unit_word}少数几名受访者，只能视为对排序的描述性参照，不宜作统计推断。"
           if n >= MIN_ASSOCIATION_UNITS else f"。仅 {n} 个{unit_word}，该相关不作解释。")
    en += (f". It rests on {n} units with a few interviewees each, so it describes these communities and is no test of a "
           "population." if n >= MIN_ASSOCIATION_UNITS else f". With {n} units it is not interpreted.")
    return zh, en


# ------------------------------------------------------------------ fuzzy comprehensive evaluation
def _fuzzy(ctx, ev, options) -> list:
    fz = ev.fuzzy
    unit_word = ctx.var_label(options.unit)
    order = [u for u in ev.index.table.sort_values("rank").index if u in fz.table.index]
    table = fz.table.loc[[*order, *(u for u in fz.table.index if u not in order)]]     # as the ranking, the whole sample last
    rows = []
    for u, r in table.iterrows():
        label = ctx.text("全体", "All") if u == "(all)" else _unit(ctx, options, u)
        row = {unit_word: label, **{str(level): fmt(r[level], 3) for level in fz.labels}}
        row[ctx.text("评价等级", "Grade")] = str(r["grade"]) + (ctx.text("（并列）", " (tied)") if bool(r["tied"]) else "")
        row[ctx.text("综合得分", "Score")] = fmt(r["score"], 3)
        rows.append(row)
    codes = "、".join(f"{c:g}" for c in fz.scores) if ctx.zh else ", ".join(f"{c:g}" for c in fz.scores)
    note = ctx.text(f"隶属度为各题项在各等级上的作答比例；两级模糊综合评价（维度内题项等权，维度间为组合权重），加权平均型算子 M(·,⊕)；"
                    f"评价等级按最大隶属度原则；综合得分为隶属度向量与等级分值（{codes}）的加权和。",
                    f"Membership: the share of answers in each category per item; two-level evaluation (items equally weighted "
                    f"within dimensions, dimensions by the index weights) with the weighted-average operator M(·,⊕); grade by "
                    f"maximum membership; score: the membership vector weighted by the grades' values ({codes}).")
    best = fz.table.drop(index="(all)").sort_values("score", ascending=False)
    zh = (f"模糊综合评价显示，全体样本的评价等级为“{fz.table.loc['(all)', 'grade']}”（综合得分 {fmt(fz.table.loc['(all)', 'score'], 3)}）；"
          f"综合得分最高的是{_unit(ctx, options, best.index[0])}，最低的是{_unit(ctx, options, best.index[-1])}，与能力指数的排序可相互参照。")
    en = (f"The fuzzy comprehensive evaluation grades the whole sample '{fz.table.loc['(all)', 'grade']}' (score "
          f"{fmt(fz.table.loc['(all)', 'score'], 3)}); {_unit(ctx, options, best.index[0])} scores highest and "
          f"{_unit(ctx, options, best.index[-1])} lowest, to be read beside the index ranking.")
    return [ctx.table(ctx.text(f"各{unit_word}模糊综合评价结果", f"Fuzzy comprehensive evaluation by {unit_word.lower()}"), rows, note=note),
            Paragraph(ctx.text(zh, en))]
