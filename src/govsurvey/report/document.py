"""The report as a document model — sections of paragraphs, tables and figures — built once
from a study's results and rendered to HTML, PDF and Word alike.

Interpretation sentences are written from the numbers with the conventions they cite:
α ≥ .70 (Nunnally, 1978); KMO ≥ .60 (Kaiser, 1974); CFI/TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08
(Hu & Bentler, 1999); CR ≥ .70 and AVE ≥ .50 (Fornell & Larcker, 1981); HTMT < .85
(Henseler, Ringle & Sarstedt, 2015); ΔCFI ≥ −.01 (Cheung & Rensvold, 2002).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


__all__ = ["Document", "Section", "Paragraph", "Table", "Figure", "build_document", "fmt"]


@dataclasses.dataclass
class Paragraph:
    text: str


@dataclasses.dataclass
class Table:
    caption: str
    frame: pd.DataFrame          # already formatted as strings
    note: str = ""
    number: int = 0


@dataclasses.dataclass
class Figure:
    caption: str
    make: Callable[[], Any]      # returns a matplotlib figure
    number: int = 0


@dataclasses.dataclass
class Section:
    id: str
    title: str
    blocks: list
    level: int = 2


@dataclasses.dataclass
class Document:
    title: str
    subtitle: str
    lang: str
    sections: list[Section]


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v.is_integer() and abs(v) < 1e6 and digits == 0:
            return str(int(v))
        return f"{v:.{digits}f}"
    return str(value)


def fmt_p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "< .001" if p < 0.001 else f"{p:.3f}".replace("0.", ".", 1)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).astype(str)


T = {
    "zh": {
        "toc": "目录", "sample": "样本与筛查", "measure": "测量质量", "results": "研究结果", "mixed": "混合方法：能力短板与访谈解释",
        "appendix": "附录", "instrument": "问卷题项", "prov": "可复现信息", "read": "回收问卷", "excluded": "剔除", "retained": "有效问卷",
        "rule": "筛查规则", "flagged": "标记人数", "only": "仅此规则", "construct": "维度", "item": "题项", "items": "题项数",
        "notes": "分析说明", "observed": "实际特征根", "simulated": "平行分析（随机数据 95% 分位）", "factor": "因子序号",
        "eigenvalue": "特征根", "loadings": "旋转后因子载荷", "std": "标准化载荷", "performance": "表现（均值）",
        "importance": "重要性（均值）", "concentrate": "重点改进区", "keep": "继续保持区", "gap": "差距（重要性−表现）",
        "barrier": "访谈中提及障碍的比例", "unit": "社区", "score": "得分",
    },
    "en": {
        "toc": "Contents", "sample": "Sample and screening", "measure": "Measurement", "results": "Results",
        "mixed": "Mixed methods: capacity gaps and what interviews say", "appendix": "Appendix", "instrument": "Instrument",
        "prov": "Provenance", "read": "Responses read", "excluded": "Excluded", "retained": "Retained", "rule": "Rule",
        "flagged": "Flagged", "only": "Only this rule", "construct": "Construct", "item": "Item", "items": "Items",
        "notes": "Analysis notes", "observed": "Observed eigenvalues", "simulated": "Parallel analysis (95th percentile of random data)",
        "factor": "Factor", "eigenvalue": "Eigenvalue", "loadings": "Rotated loadings", "std": "Standardized loading",
        "performance": "Performance (mean)", "importance": "Importance (mean)", "concentrate": "Concentrate here",
        "keep": "Keep up the good work", "gap": "Gap (importance − performance)", "barrier": "Share of interviewees naming barriers",
        "unit": "Community", "score": "Score",
    },
}


class _Numberer:
    def __init__(self):
        self.table = 0
        self.figure = 0

    def t(self, caption, frame, note="") -> Table:
        self.table += 1
        return Table(caption, frame, note, self.table)

    def f(self, caption, make) -> Figure:
        self.figure += 1
        return Figure(caption, make, self.figure)


def build_document(res) -> Document:
    lang = res.study.language
    t = T[lang]
    inst = res.instrument
    label = lambda c: inst.constructs[c].label.get(lang, c) if c in inst.constructs else str(c)
    names = {c: label(c) for c in inst.constructs}
    num = _Numberer()
    a = res.analyses
    sections: list[Section] = []
    zh = lang == "zh"

    # ------------------------------------------------------------------ sample
    sc = res.screening
    blocks: list = []
    kept = sc.n_total - sc.n_excluded
    blocks.append(Paragraph(
        f"共回收问卷 {sc.n_total} 份，按预设规则剔除 {sc.n_excluded} 份（{sc.n_excluded / sc.n_total:.1%}），保留有效问卷 {kept} 份。"
        if zh else f"{sc.n_total} responses were read; {sc.n_excluded} ({sc.n_excluded / sc.n_total:.1%}) were excluded by the "
        f"screening rules below, leaving {kept}."))
    rows = [{t["rule"]: r, t["flagged"]: fmt(sc.summary.loc[r, "n_flagged"], 0), t["only"]: fmt(sc.summary.loc[r, "n_only"], 0)}
            for r in sc.flags.columns]
    blocks.append(num.t("筛查规则与剔除人数" if zh else "Screening rules and exclusions", _frame(rows, [t["rule"], t["flagged"], t["only"]]),
                        note="; ".join(sc.notes)))
    sections.append(Section("sample", t["sample"], blocks))

    # ------------------------------------------------------------- measurement
    blocks = []
    if "reliability" in a:
        rows = []
        for c, r in a["reliability"].items():
            rows.append({t["construct"]: label(c), t["items"]: fmt(r.n_items), "α": fmt(r.alpha), "95% CI": f"[{fmt(r.alpha_ci[0])}, {fmt(r.alpha_ci[1])}]",
                         "ω": fmt(r.omega_total), "λ6": fmt(r.lambda6), "r̄": fmt(r.average_r)})
        blocks.append(num.t("各维度信度" if zh else "Reliability by construct", _frame(rows, list(rows[0]))))
        low = [label(c) for c, r in a["reliability"].items() if r.alpha < 0.70]
        if zh:
            blocks.append(Paragraph(("各维度 Cronbach's α 均达到 0.70 的常用标准（Nunnally, 1978）。" if not low else
                                     f"{'、'.join(low)} 的 α 低于 0.70（Nunnally, 1978），其测量一致性需谨慎解释。")
                                    + f" α 的范围为 {min(r.alpha for r in a['reliability'].values()):.3f}–{max(r.alpha for r in a['reliability'].values()):.3f}。"))
        else:
            blocks.append(Paragraph(("Cronbach's α reaches the conventional .70 for every construct (Nunnally, 1978). " if not low else
                                     f"α is below .70 (Nunnally, 1978) for {', '.join(low)}; interpret those scores with care. ")
                                    + f"α ranges from {min(r.alpha for r in a['reliability'].values()):.3f} to {max(r.alpha for r in a['reliability'].values()):.3f}."))
        rows = []
        for c, table in a["item_analysis"].items():
            for item, row in table.iterrows():
                rows.append({t["construct"]: label(c), t["item"]: item, "M": fmt(row["mean"], 2), "SD": fmt(row["sd"], 2),
                             "r_drop": fmt(row["r_drop"]), "α-if-deleted": fmt(row["alpha_if_deleted"]), "CR t": fmt(row["cr_t"], 2), "p": fmt_p(row["cr_p"])})
        blocks.append(num.t("项目分析（校正项总相关、删除后 α、临界比值）" if zh else "Item analysis (corrected item–total r, α if deleted, critical ratio)",
                            _frame(rows, list(rows[0]))))
    if "efa" in a:
        k, b, e, pa = a["kmo"], a["bartlett"], a["efa"], a["parallel"]
        blocks.append(Paragraph(
            (f"KMO = {k.overall:.3f}{'，高于 0.60 的标准（Kaiser, 1974）' if k.overall >= 0.6 else '，低于 0.60（Kaiser, 1974），不宜做因子分析'}；"
             f"Bartlett 球形检验 χ²({b.df}) = {b.chi2:.2f}，p {fmt_p(b.p_value)}。平行分析建议保留 {pa.n_factors} 个因子；"
             f"本报告提取 {e.n_factors} 个因子（{e.method}，{e.rotation} 旋转），累计解释方差 {e.variance.iloc[2, -1]:.1%}。")
            if zh else
            (f"KMO = {k.overall:.3f}{', above the .60 threshold (Kaiser, 1974)' if k.overall >= 0.6 else ', below .60 (Kaiser, 1974): the items are not suited to factor analysis'}; "
             f"Bartlett's test χ²({b.df}) = {b.chi2:.2f}, p {fmt_p(b.p_value)}. Parallel analysis suggests {pa.n_factors} factors; "
             f"{e.n_factors} were extracted ({e.method}, {e.rotation}), explaining {e.variance.iloc[2, -1]:.1%} of the variance.")))
        blocks.append(num.f("碎石图与平行分析" if zh else "Scree plot with parallel analysis",
                            lambda e=e, pa=pa: _figures().scree(e, pa, {"observed": t["observed"], "simulated": t["simulated"], "factor": t["factor"], "eigenvalue": t["eigenvalue"]})))
        blocks.append(num.f(t["loadings"], lambda e=e: _figures().loadings_heatmap(e.loadings, {"title": ""})))
        lo = e.loadings.copy()
        lo = lo.map(lambda v: fmt(v, 2) if abs(v) >= 0.3 else "")
        lo.insert(0, "h²", e.communalities.map(lambda v: fmt(v, 2)))
        lo.index = [str(i) for i in lo.index]
        lo = lo.reset_index().rename(columns={"index": t["item"]})
        blocks.append(num.t(("探索性因子分析载荷（|λ| < .30 未显示）" if zh else "EFA loadings (|λ| < .30 not shown)"), lo.astype(str)))
    if "harman" in a:
        h = a["harman"]
        blocks.append(Paragraph(
            f"Harman 单因子检验：第一个未旋转因子解释 {h.first_factor_share:.1%} 的方差，{'低于' if not h.flagged else '超过'} {h.threshold:.0%} 的经验标准"
            f"{'，共同方法偏差不明显' if not h.flagged else '，可能存在共同方法偏差'}（Podsakoff 等, 2003）。" if zh else
            f"Harman's single-factor test: the first unrotated factor explains {h.first_factor_share:.1%} of the variance, "
            f"{'below' if not h.flagged else 'above'} the {h.threshold:.0%} rule of thumb (Podsakoff et al., 2003)."))
    if "cfa" in a:
        c = a["cfa"]
        f = c.fit
        good = {"CFI": f["cfi"] >= 0.95, "TLI": f["tli"] >= 0.95, "RMSEA": f["rmsea"] <= 0.06, "SRMR": f["srmr"] <= 0.08}
        robust = c.estimator == "MLR"
        rows = [{"χ²": fmt(f["chisq_scaled"] if robust else f["chisq"], 2), "df": fmt(f["df"], 0), "χ²/df": fmt((f["chisq_scaled"] if robust else f["chisq"]) / f["df"], 2),
                 "CFI": fmt(f["cfi_robust"] if robust else f["cfi"]), "TLI": fmt(f["tli_robust"] if robust else f["tli"]),
                 "RMSEA": fmt(f["rmsea_robust"] if robust else f["rmsea"]), "90% CI": f"[{fmt(f['rmsea_ci_lower'])}, {fmt(f['rmsea_ci_upper'])}]",
                 "SRMR": fmt(f["srmr"]), "GFI": fmt(f["gfi"]), "AGFI": fmt(f["agfi"])}]
        blocks.append(num.t("验证性因子分析拟合指标" if zh else "CFA fit", _frame(rows, list(rows[0])),
                            note=("MLR：稳健 χ²、CFI、TLI、RMSEA" if zh else "MLR: scaled χ², robust CFI, TLI, RMSEA") if robust else ""))
        ok = [k for k, v in good.items() if v]
        bad = [k for k, v in good.items() if not v]
        blocks.append(Paragraph(
            (f"按 Hu 和 Bentler（1999）的标准（CFI/TLI ≥ 0.95，RMSEA ≤ 0.06，SRMR ≤ 0.08），{ '、'.join(ok) if ok else '无指标' }达标"
             + (f"，{'、'.join(bad)} 未达标。" if bad else "，模型拟合良好。")) if zh else
            (f"Against Hu and Bentler's (1999) cut-offs (CFI/TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08), {', '.join(ok) or 'no index'} "
             + (f"meet them; {', '.join(bad)} do not." if bad else "meet them: the model fits well."))))
        rows = [{t["construct"]: label(r.factor), t["item"]: r.item, "λ": fmt(r.estimate), "SE": fmt(r.se), t["std"]: fmt(r.std_all), "p": fmt_p(r.p)}
                for r in c.loadings.itertuples()]
        blocks.append(num.t("标准化因子载荷" if zh else "Factor loadings", _frame(rows, list(rows[0]))))
        blocks.append(num.f("标准化因子载荷图" if zh else "Standardized loadings", lambda c=c: _figures().cfa_loadings(c.loadings, {"xlabel": t["std"]})))
        if "fornell_larcker" in a:
            rel = c.reliability
            rows = [{t["construct"]: label(fct), "CR": fmt(r.cr), "AVE": fmt(r.ave), "√AVE": fmt(math.sqrt(r.ave))} for fct, r in rel.iterrows()]
            blocks.append(num.t("组合信度与平均方差抽取量" if zh else "Composite reliability and AVE", _frame(rows, list(rows[0]))))
            low_cr = [label(x) for x in rel.index[rel["cr"] < 0.7]]
            low_ave = [label(x) for x in rel.index[rel["ave"] < 0.5]]
            ht = a["htmt"].to_numpy()
            mx = float(ht[np.triu_indices(len(ht), 1)].max())
            blocks.append(Paragraph(
                (f"收敛效度：CR {'全部 ≥ 0.70' if not low_cr else '低于 0.70 的维度：' + '、'.join(low_cr)}，AVE {'全部 ≥ 0.50' if not low_ave else '低于 0.50 的维度：' + '、'.join(low_ave)}（Fornell & Larcker, 1981）。"
                 f"区分效度：HTMT 最大值为 {mx:.3f}，{'低于' if mx < 0.85 else '高于'} 0.85（Henseler 等, 2015）。") if zh else
                (f"Convergent validity: CR {'≥ .70 for all constructs' if not low_cr else 'below .70 for ' + ', '.join(low_cr)}; AVE {'≥ .50 for all' if not low_ave else 'below .50 for ' + ', '.join(low_ave)} (Fornell & Larcker, 1981). "
                 f"Discriminant validity: the largest HTMT is {mx:.3f}, {'below' if mx < 0.85 else 'above'} .85 (Henseler et al., 2015).")))
    if "invariance" in a:
        inv = a["invariance"]
        rows = [{"model": m, "χ²": fmt(r.chisq, 2), "df": fmt(r.df, 0), "CFI": fmt(r.cfi), "RMSEA": fmt(r.rmsea), "Δχ²": fmt(r.chisq_diff, 2),
                 "Δdf": fmt(r.df_diff, 0), "p": fmt_p(r.p_diff), "ΔCFI": fmt(r.delta_cfi)} for m, r in inv.iterrows()]
        blocks.append(num.t(("测量不变性检验（按 " + str(a["invariance_group"]) + " 分组）") if zh else f"Measurement invariance across {a['invariance_group']}", _frame(rows, list(rows[0]))))
        holds = [m for m in ("metric", "scalar") if inv.loc[m, "delta_cfi"] >= -0.01]
        blocks.append(Paragraph(
            f"以 ΔCFI ≥ −0.01 为标准（Cheung & Rensvold, 2002），{('、'.join(holds) + ' 不变性成立') if holds else '度量不变性不成立'}。" if zh else
            f"With ΔCFI ≥ −.01 as the criterion (Cheung & Rensvold, 2002), {(' and '.join(holds) + ' invariance holds') if holds else 'metric invariance does not hold'}."))
    if blocks:
        sections.append(Section("measurement", t["measure"], blocks))

    # ------------------------------------------------------------------ results
    blocks = []
    if "descriptives" in a:
        d = a["descriptives"]
        rows = [{t["construct"]: label(v), "n": fmt(r.n, 0), "M": fmt(r.mean, 2), "SD": fmt(r.sd, 2), "skew": fmt(r.skew, 2), "kurtosis": fmt(r.kurtosis, 2)}
                for v, r in d.iterrows()]
        blocks.append(num.t("各维度得分描述统计" if zh else "Descriptive statistics of construct scores", _frame(rows, list(rows[0]))))
        by = a.get("descriptives_by_name")
        if by:
            first = list(inst.importance_items)[:1] or list(d.index)[:1]
            groups = {}
            q = inst.question(by) if by in {x.id for x in inst.questions} else None
            if q is not None and inst.scales[q.scale].labels.get(lang):
                groups = {float(k): v for k, v in inst.scales[q.scale].labels[lang].items()}
            for col in first:
                blocks.append(num.f((f"{label(col)}得分分布（按{by}）" if zh else f"{label(col)} by {by}"),
                                    lambda col=col, groups=groups: _figures().distributions(res.frame, col, by, {"ylabel": label(col), "xlabel": by, "groups": groups})))
    if "correlations" in a:
        cr = a["correlations"]
        blocks.append(num.f("维度间相关" if zh else "Correlations between constructs", lambda cr=cr: _figures().correlation_heatmap(cr.r, names)))
        tab = cr.to_frame()
        rows = []
        for v, r in tab.iterrows():
            row = {t["construct"]: label(v), "M": fmt(r["M"], 2), "SD": fmt(r["SD"], 2)}
            for j, w in enumerate(cr.r.columns):
                val = r[w]
                p = cr.p.loc[v, w]
                row[str(j + 1)] = "" if pd.isna(val) else fmt(val, 2) + ("**" if p < 0.01 else "*" if p < 0.05 else "")
            rows.append(row)
        blocks.append(num.t("均值、标准差与相关系数" if zh else "Means, SDs and correlations", _frame(rows, list(rows[0])), note="* p < .05, ** p < .01"))
    def group_label(var: str, value: Any) -> str:
        """A background variable's code as its label (1.0 → 网格员), else the value."""
        if var in {q.id for q in inst.questions}:
            labels = inst.scales[inst.question(var).scale].labels.get(lang, {})
            try:
                return labels.get(int(float(value)), str(value))
            except (TypeError, ValueError):
                return str(value)
        return str(value)

    for spec, g in a.get("compare_groups", []):
        gt = g.groups.reset_index()
        rows = [{str(spec["group"]): group_label(spec["group"], r.iloc[0]), "n": fmt(r["n"], 0), "M": fmt(r["mean"], 2), "SD": fmt(r["sd"], 2)}
                for _, r in gt.iterrows()] if "mean" in gt else []
        es = g.effect_size.iloc[0]
        es_text = ", ".join(f"{k} = {fmt(v)}" for k, v in es.items() if not str(k).endswith(("ci_low", "ci_high")))
        caption = (f"{label(spec['dv'])}在{spec['group']}上的差异" if zh else f"{label(spec['dv'])} by {spec['group']}")
        if rows:
            blocks.append(num.t(caption, _frame(rows, list(rows[0])), note=f"{g.test}: statistic = {fmt(g.statistic)}, df = ({fmt(g.df1, 0)}, {fmt(g.df2, 2)}), p {fmt_p(g.p_value)}; {es_text}"))
        sig = g.p_value < 0.05
        blocks.append(Paragraph(
            f"{label(spec['dv'])}在不同{spec['group']}间{'存在' if sig else '不存在'}显著差异（{g.test}，p {fmt_p(g.p_value)}；{es_text}）。" if zh else
            f"{label(spec['dv'])} {'differs' if sig else 'does not differ'} significantly by {spec['group']} ({g.test}, p {fmt_p(g.p_value)}; {es_text})."))
    for spec, r in a.get("regressions", []):
        tb = r.table
        rows = [{"term": term, "b": fmt(x.b), "SE": fmt(x.se), "β": fmt(x.beta), "t": fmt(x.t, 2), "p": fmt_p(x.p), "VIF": fmt(x.vif, 2)} for term, x in tb.iterrows()]
        blocks.append(num.t((f"回归分析：{spec['formula']}" if zh else f"Regression: {spec['formula']}"), _frame(rows, list(rows[0])),
                            note=f"n = {r.n}, R² = {fmt(r.r2)}, adj. R² = {fmt(r.adj_r2)}, F = {fmt(r.f, 2)}, p {fmt_p(r.f_pvalue)}"))
    for spec, m in a.get("multilevel", []):
        rows = [{"term": term, "b": fmt(x.b), "SE": fmt(x.se), "z": fmt(x.z, 2), "p": fmt_p(x.p)} for term, x in m.fixed.iterrows()]
        blocks.append(num.t((f"多层线性模型：{spec['formula']}（{spec['groups']}）" if zh else f"Multilevel model: {spec['formula']} ({spec['groups']})"),
                            _frame(rows, list(rows[0])), note=f"ICC = {fmt(m.icc)}, σ²(group) = {fmt(m.var_groups)}, σ²(residual) = {fmt(m.var_residual)}, groups = {m.n_groups}, n = {m.n}"))
        blocks.append(Paragraph(f"组内相关系数 ICC = {m.icc:.3f}，即 {m.icc:.1%} 的变异来自{spec['groups']}之间。" if zh else
                                f"ICC = {m.icc:.3f}: {m.icc:.1%} of the variance lies between {spec['groups']} units."))
    for spec, md in a.get("mediation", []):
        rows = [{"effect": eff, "estimate": fmt(x.estimate), "SE": fmt(x.se), "p": fmt_p(x.p), "95% CI": f"[{fmt(x.ci_low)}, {fmt(x.ci_high)}]"} for eff, x in md.table.iterrows()]
        blocks.append(num.t((f"中介效应：{label(md.x)} → {'、'.join(label(v) for v in md.m)} → {label(md.y)}" if zh else
                             f"Mediation: {label(md.x)} → {', '.join(label(v) for v in md.m)} → {label(md.y)}"), _frame(rows, list(rows[0])),
                            note=f"{md.ci_method}, {md.n_boot} resamples, seed {md.seed}"))
        ind = md.table.loc["indirect"]
        sig = ind["ci_low"] > 0 or ind["ci_high"] < 0
        blocks.append(Paragraph(
            f"间接效应为 {ind['estimate']:.3f}，95% 置信区间 [{ind['ci_low']:.3f}, {ind['ci_high']:.3f}] {'不包含' if sig else '包含'} 0，中介效应{'成立' if sig else '不显著'}。" if zh else
            f"The indirect effect is {ind['estimate']:.3f}, 95% CI [{ind['ci_low']:.3f}, {ind['ci_high']:.3f}], which {'excludes' if sig else 'includes'} zero: mediation is {'supported' if sig else 'not supported'}."))
    for spec, mo in a.get("moderation", []):
        rows = [{"term": term, "b": fmt(x.b), "SE": fmt(x.se), "t": fmt(x.t, 2), "p": fmt_p(x.p)} for term, x in mo.table.iterrows()]
        blocks.append(num.t((f"调节效应：{label(spec['w'])} 调节 {label(spec['x'])} → {label(spec['y'])}" if zh else
                             f"Moderation: {label(spec['w'])} moderating {label(spec['x'])} → {label(spec['y'])}"), _frame(rows, list(rows[0])),
                            note=f"ΔR² (interaction) = {fmt(mo.delta_r2_interaction)}"))
    if blocks:
        sections.append(Section("results", t["results"], blocks))

    # ------------------------------------------------------------------- mixed
    blocks = []
    if "gaps" in a:
        g = a["gaps"]
        has_imp = "importance" in g.columns
        rows = [{t["construct"]: label(dim), "M": fmt(r["mean"], 2), ("重要性" if zh else "Importance") if has_imp else ("目标" if zh else "Target"):
                 fmt(r["importance"] if has_imp else r["target"], 2), ("差距" if zh else "Gap"): fmt(r["gap"], 2),
                 "95% CI": f"[{fmt(r['ci_low'], 2)}, {fmt(r['ci_high'], 2)}]", "d": fmt(r["d"], 2), "p": fmt_p(r["p"]), ("象限" if zh else "Quadrant"): r["quadrant"]}
                for dim, r in g.sort_values("gap", ascending=False).iterrows()]
        blocks.append(num.t("能力差距（重要性—表现分析）" if zh else "Capacity gaps (importance–performance)", _frame(rows, list(rows[0]))))
        if has_imp:
            blocks.append(num.f("重要性—表现四分图" if zh else "Importance–performance map",
                                lambda g=g: _figures().ipa(g, names, {"performance": t["performance"], "importance": t["importance"], "concentrate": t["concentrate"], "keep": t["keep"]})))
        top = g.sort_values("gap", ascending=False).head(3)
        blocks.append(Paragraph(
            "差距最大的三个维度是" + "、".join(f"{label(d)}（{r['gap']:.2f}）" for d, r in top.iterrows()) + "。" if zh else
            "The largest gaps are in " + ", ".join(f"{label(d)} ({r['gap']:.2f})" for d, r in top.iterrows()) + "."))
    if "codes" in a:
        if "agreement" in a:
            ag = a["agreement"]
            blocks.append(Paragraph(
                f"两位编码者在 {ag.n_units} 个编码单元上的一致性：Cohen's κ = {ag.cohen_kappa:.3f}，Krippendorff's α = {ag.krippendorff_alpha:.3f}，一致率 {ag.percent_agreement:.1%}。" if zh else
                f"Two coders agreed on {ag.n_units} coding units with Cohen's κ = {ag.cohen_kappa:.3f}, Krippendorff's α = {ag.krippendorff_alpha:.3f}, agreement {ag.percent_agreement:.1%}."))
        cm = a["code_matrix"]
        blocks.append(num.f("各社区访谈涉及的维度" if zh else "Dimensions raised in interviews by community",
                            lambda cm=cm: _figures().code_heatmap(cm, names, {"unit": t["unit"]})))
    if "joint_display" in a:
        jd = a["joint_display"]
        conv_zh = {"confirms": "印证", "expands": "拓展", "discordant": "不一致", "silent": "未涉及"}
        rows = [{t["construct"]: label(d), ("差距" if zh else "Gap"): fmt(r["gap"], 2), ("障碍提及比例" if zh else "Barrier share"): fmt(r["barrier_share_of_raised"], 2),
                 ("主要主题" if zh else "Themes"): r["themes"], ("典型引语" if zh else "Quotes"): r["quotes"],
                 ("整合判断" if zh else "Convergence"): conv_zh.get(r["convergence"], r["convergence"]) if zh else r["convergence"]}
                for d, r in jd.iterrows()]
        blocks.append(num.t("联合展示：量化差距与访谈主题" if zh else "Joint display: quantitative gaps and interview themes", _frame(rows, list(rows[0])),
                            note=jd.attrs.get("rule", "")))
        blocks.append(num.f("差距与障碍提及比例" if zh else "Gaps beside the share of interviewees naming barriers",
                            lambda jd=jd: _figures().joint_figure(jd, names, {"gap": t["gap"], "barrier": t["barrier"]})))
        conf = [label(d) for d, r in jd.iterrows() if r["convergence"] == "confirms" and r["shortfall"]]
        if conf:
            blocks.append(Paragraph(("访谈印证了以下短板：" + "、".join(conf) + "。") if zh else ("Interviews confirm the shortfalls in " + ", ".join(conf) + ".")))
    if "link_codes" in a:
        lk = a["link_codes"]
        rows = [{t["construct"]: label(d) if d != "pooled" else ("合并（维度内中心化）" if zh else "pooled (within dimension)"), "n": fmt(r.n_units, 0), "r": fmt(r.r),
                 "95% CI": f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]", "p": fmt_p(r.p)} for d, r in lk.iterrows()]
        blocks.append(num.t(("访谈障碍提及率与维度得分的社区层面相关" if zh else "Site-level association of barrier talk with scores"), _frame(rows, list(rows[0]))))
        pooled = lk.loc["pooled"]
        blocks.append(Paragraph(
            f"在社区层面，访谈中提及某维度障碍越多的社区，该维度得分越{'低' if pooled['r'] < 0 else '高'}（r = {pooled['r']:.3f}，p {fmt_p(pooled['p'])}）。" if zh else
            f"At community level, more barrier talk about a dimension goes with {'lower' if pooled['r'] < 0 else 'higher'} scores on it (r = {pooled['r']:.3f}, p {fmt_p(pooled['p'])})."))
    if blocks:
        sections.append(Section("mixed", t["mixed"], blocks))

    # ----------------------------------------------------------------- appendix
    blocks = []
    cb = inst.codebook(lang).reset_index()
    rows = [{"id": r["id"], t["construct"]: r["construct_label"] or "", ("题目" if zh else "Text"): r["text"] or "", ("反向" if zh else "Reverse"): "R" if r["reverse"] else ""}
            for _, r in cb.iterrows()]
    blocks.append(num.t(t["instrument"], _frame(rows, list(rows[0]))))
    prov = res.provenance
    rows = [{("文件" if zh else "File"): k, "SHA-256": v} for k, v in prov["inputs"].items()]
    blocks.append(num.t(t["prov"], _frame(rows, list(rows[0])),
                        note=f"seed = {prov['seed']}; Python {prov['python']}; " + ", ".join(f"{k} {v}" for k, v in prov["packages"].items() if v)))
    if res.notes:
        blocks.append(Paragraph(t["notes"] + ("：" if zh else ": ") + " ".join(res.notes)))
    sections.append(Section("appendix", t["appendix"], blocks))
    title = res.study.title.get(lang) or next(iter(res.study.title.values()))
    return Document(title=title, subtitle=f"{inst.title.get(lang, inst.name)} · v{inst.version}", lang=lang, sections=sections)


def _figures():
    from govsurvey.report import figures

    return figures
