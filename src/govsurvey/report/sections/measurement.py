"""Report sections of the measurement analyses: reliability, EFA, common-method bias, CFA,
validity, invariance. Cut-offs cited: α ≥ .70 (Nunnally, 1978); KMO ≥ .60 (Kaiser, 1974); CFI/TLI ≥ .95,
RMSEA ≤ .06, SRMR ≤ .08 (Hu & Bentler, 1999); CR ≥ .70, AVE ≥ .50 (Fornell & Larcker, 1981);
HTMT < .85 (Henseler et al., 2015); ΔCFI ≥ −.01 (Cheung & Rensvold, 2002); common-method factor:
ΔCFI/ΔTLI > .10 or ΔRMSEA/ΔSRMR > .05 flags serious bias (周浩 & 龙立荣, 2004), method variance
against the 25 % median of Williams, Cote & Buckley (1989); marker correction (Lindell & Whitney, 2001)."""

from __future__ import annotations

import math

import numpy as np

import pandas as pd

from govsurvey.psychometrics.sem.fit import ORDINAL_ESTIMATORS
from govsurvey.report.document import Paragraph, fmt, fmt_p, p_eq, sample_note, stat_eq

__all__ = ["reliability", "efa", "harman", "common_method", "cfa", "validity", "invariance"]


def reliability(ctx, res, options) -> list:
    t, label = ctx.t, ctx.label
    ordinal, ordinal_totals = getattr(res, "ordinal", {}), getattr(res, "ordinal_totals", {})
    ci, mean_r = ctx.text("95% 置信区间", "95% CI"), ctx.text("平均 r", "Mean r")
    oa, ow = ctx.text("有序 α", "Ordinal α"), ctx.text("有序 ω", "Ordinal ω")

    def row(name: str, r, o) -> dict:
        out = {t["construct"]: name, t["items"]: fmt(r.n_items), "n": fmt(r.n_obs), "α": fmt(r.alpha, bounded=True),
               ci: f"[{fmt(r.alpha_ci[0], bounded=True)}, {fmt(r.alpha_ci[1], bounded=True)}]",
               "ω": fmt(r.omega_total, bounded=True), "λ6": fmt(r.lambda6, bounded=True), mean_r: fmt(r.average_r, bounded=True)}
        if ordinal:   # ordinal α/ω beside the Pearson-based ones (Zumbo, Gadermann & Zeisser, 2007)
            out |= {oa: fmt(o.alpha if o else None, bounded=True), ow: fmt(o.omega_total if o else None, bounded=True)}
        return out

    rows = [row(label(c), r, ordinal.get(c)) for c, r in res.reliability.items()]
    rows += [row(ctx.text(f"{label(h)}（总量表）", f"{label(h)} (total)"), total, ordinal_totals.get(h))
             for h, total in getattr(res, "totals", {}).items()]
    note = ctx.text("α 的置信区间为 Feldt 区间；n 为该维度题项均有作答的人数；λ6 为 Guttman λ6，平均 r 为题项间平均相关。",
                    "CIs for α are Feldt intervals; n counts respondents who answered every item of the construct; λ6 is "
                    "Guttman's λ6, mean r the average inter-item correlation.")
    if ordinal:
        note += ctx.text("有序 α 与有序 ω 由题项间的多分格相关矩阵计算（Zumbo, Gadermann & Zeisser, 2007），"
                         "反映潜在连续反应的信度，适用于李克特题项。",
                         " Ordinal α and ω are computed from the polychoric correlation matrix of the items (Zumbo, "
                         "Gadermann & Zeisser, 2007); they describe the latent continuous responses of Likert items.")
    blocks: list = [ctx.table(ctx.text("各维度信度", "Reliability by construct"), rows, note=note)]
    blocks.append(Paragraph(_reliability_sentence(ctx, res, getattr(res, "totals", {}))))
    blocks.extend(_item_analysis(ctx, res))
    return blocks


def _reliability_sentence(ctx, res, totals: dict) -> str:
    label = ctx.label
    alphas = [r.alpha for r in res.reliability.values()]
    low = [label(c) for c, r in res.reliability.items() if r.alpha < 0.70]
    lo, hi = fmt(min(alphas), bounded=True), fmt(max(alphas), bounded=True)
    whole = "".join(ctx.text(f"{label(h)}总量表 α = {fmt(r.alpha, bounded=True)}。", f"The {label(h)} total scale has "
                             f"α = {fmt(r.alpha, bounded=True)}. ") for h, r in totals.items())
    if ctx.zh:
        lead = (f"各维度 Cronbach's α 在 {lo}–{hi} 之间，均达到 .70 的常用标准（Nunnally, 1978）。" if not low else
                f"各维度 Cronbach's α 在 {lo}–{hi} 之间；{'、'.join(low)}低于 .70（Nunnally, 1978），其测量一致性需谨慎解释。")
    else:
        lead = (f"Cronbach's α ranges from {lo} to {hi} and reaches the conventional .70 for every construct (Nunnally, 1978). " if not low else
                f"Cronbach's α ranges from {lo} to {hi}; it is below .70 (Nunnally, 1978) for {', '.join(low)}, whose scores need care. ")
    ordinal = getattr(res, "ordinal", {})
    if ordinal:   # ordinal α/ω (Zumbo, Gadermann & Zeisser, 2007): their range beside Cronbach's α
        def span(values) -> str:
            values = [v for v in values if not math.isnan(v)]
            a, b = (fmt(min(values), bounded=True), fmt(max(values), bounded=True)) if values else ("—", "—")
            return a if a == b else f"{a}–{b}"
        oa, ow = span(o.alpha for o in ordinal.values()), span(o.omega_total for o in ordinal.values())
        whole += ctx.text(f"基于多分格相关的有序 α 为 {oa}，有序 ω 为 {ow}（Zumbo, Gadermann & Zeisser, 2007）。",
                          f"Computed from polychoric correlations, ordinal α is {oa} and ordinal ω {ow} "
                          "(Zumbo, Gadermann & Zeisser, 2007). ")
    return lead + whole


def _item_analysis(ctx, res) -> list:
    t, label = ctx.t, ctx.label
    citc, aid = ctx.text("校正项总相关", "Corrected item–total r"), ctx.text("删除该题后 α", "α if item deleted")
    cr = ctx.text("临界比 t", "Critical ratio t")
    rows = [{t["construct"]: label(c) if k == 0 else "", t["item"]: item, "M": fmt(row["mean"], 2), "SD": fmt(row["sd"], 2),
             citc: fmt(row["r_drop"], bounded=True), aid: fmt(row["alpha_if_deleted"], bounded=True), cr: fmt(row["cr_t"], 2),
             "p": fmt_p(row["cr_p"])}
            for c, table in res.item_analysis.items() for k, (item, row) in enumerate(table.iterrows())]
    weak = [i for table in res.item_analysis.values() for i, row in table.iterrows() if row["r_drop"] < 0.30]
    raise_alpha = [i for c, table in res.item_analysis.items() for i, row in table.iterrows()
                   if row["alpha_if_deleted"] > res.reliability[c].alpha + 0.005]
    nonsig = [i for table in res.item_analysis.values() for i, row in table.iterrows() if not row["cr_p"] < 0.05]
    note = ctx.text("临界比为高分组（前 27%）与低分组（后 27%）的 Welch t 检验。",
                    "Critical ratio: Welch's t between the top and bottom 27 % of total scores.")
    if ctx.zh:
        text = (f"项目分析：{'所有题项的校正项总相关均不低于 .30' if not weak else '校正项总相关低于 .30 的题项：' + '、'.join(weak)}；"
                f"{'删除任一题项均不会明显提高所属维度的 α' if not raise_alpha else '删除后 α 会提高的题项：' + '、'.join(raise_alpha)}；"
                f"{'各题项临界比均显著（p < .05），区分度良好' if not nonsig else '临界比不显著的题项：' + '、'.join(nonsig)}。")
    else:
        text = (f"Item analysis: {'every corrected item–total r is at least .30' if not weak else 'corrected item–total r below .30 for ' + ', '.join(weak)}; "
                f"{'deleting no item would raise its construct α noticeably' if not raise_alpha else 'α would rise without ' + ', '.join(raise_alpha)}; "
                f"{'every critical ratio is significant (p < .05)' if not nonsig else 'the critical ratio is not significant for ' + ', '.join(nonsig)}.")
    return [ctx.table(ctx.text("项目分析（校正项总相关、删除该题后 α、临界比）", "Item analysis (corrected item–total r, α if deleted, "
                               "critical ratio)"), rows, note=note), Paragraph(text)]


METHODS = {"zh": {"pc": "主成分法", "minres": "最小残差法", "ml": "最大似然法", "pa": "主轴因子法", "varimax": "最大方差正交旋转",
                  "oblimin": "斜交（oblimin）旋转", "promax": "Promax 斜交旋转", "promax_stats": "Promax 斜交旋转",
                  "promax_spss": "Promax 斜交旋转（SPSS）", "none": "未旋转"},
           "en": {"pc": "principal components", "minres": "minimum residual", "ml": "maximum likelihood", "pa": "principal axis",
                  "varimax": "varimax rotation", "oblimin": "oblimin rotation", "promax": "promax rotation",
                  "promax_stats": "promax rotation", "promax_spss": "promax rotation (SPSS)", "none": "no rotation"}}


def _factor_names(ctx, loadings) -> dict[str, str]:
    """Each factor named after the construct most of its salient items (|λ| ≥ .40, largest on
    this factor) belong to — "F1 信任" — or F1 alone when no construct has a majority."""
    names = {}
    owner = {i: q.construct for q in ctx.inst.items for i in [q.id]}
    for k, f in enumerate(loadings.columns):
        mine = [i for i in loadings.index if abs(loadings.loc[i, f]) >= 0.40 and abs(loadings.loc[i, f]) == loadings.loc[i].abs().max()]
        counts = pd.Series([owner.get(str(i)) for i in mine], dtype=object).value_counts()
        tag = f"F{k + 1}"
        names[f] = f"{tag} {ctx.label(counts.index[0])}" if len(counts) and counts.iloc[0] * 2 > len(mine) else tag
    return names


def efa(ctx, res, options) -> list:
    k, b, e, pa = res.kmo, res.bartlett, res.efa, res.parallel
    explained = e.variance.iloc[2, -1]
    how = f"{METHODS[ctx.lang].get(e.method, e.method)}{ctx.text('，', ', ')}{METHODS[ctx.lang].get(e.rotation, e.rotation)}"
    scope = ("、" if ctx.zh else ", ").join(ctx.label(c) for c in res.constructs)
    n_items = len(e.loadings.index)
    if ctx.zh:
        text = (f"对{scope}的 {n_items} 个题项进行探索性因子分析。"
                f"KMO = {fmt(k.overall, bounded=True)}{'，高于 .60 的标准（Kaiser, 1974）' if k.overall >= 0.6 else '，低于 .60（Kaiser, 1974），不宜做因子分析'}；"
                f"Bartlett 球形检验 {stat_eq('χ²', b.chi2, b.df)}，{p_eq(b.p_value)}。平行分析建议保留 {pa.n_factors} 个因子；"
                f"本报告提取 {e.n_factors} 个因子（{how}），累计解释方差 {explained:.1%}。")
    else:
        text = (f"An exploratory factor analysis of the {n_items} items of {scope}: "
                f"KMO = {fmt(k.overall, bounded=True)}{', above the .60 threshold (Kaiser, 1974)' if k.overall >= 0.6 else ', below .60 (Kaiser, 1974): the items are not suited to factor analysis'}; "
                f"Bartlett's test {stat_eq('χ²', b.chi2, b.df)}, {p_eq(b.p_value)}. Parallel analysis suggests {pa.n_factors} factors; "
                f"{e.n_factors} were extracted ({how}), explaining {explained:.1%} of the variance.")
    t = ctx.t
    words = {"observed": t["observed"], "simulated": t["simulated"], "factor": t["factor"], "eigenvalue": t["eigenvalue"]}
    names = _factor_names(ctx, e.loadings)
    renamed = e.loadings.rename(columns=names)
    blocks: list = [Paragraph(text), _variance_table(ctx, e, names),
                    ctx.figure(ctx.text("碎石图与平行分析", "Scree plot with parallel analysis"),
                               lambda: ctx.figures().scree(e, pa, words)),
                    ctx.figure(t["loadings"], lambda: ctx.figures().loadings_heatmap(renamed, {"title": ""}))]
    loads = e.loadings
    order = sorted(loads.index, key=lambda i: (int(np.argmax(loads.loc[i].abs().to_numpy())), -loads.loc[i].abs().max()))
    lo = loads.loc[order].map(lambda v: fmt(v, 2, bounded=True) if abs(v) >= 0.3 else "")
    lo.columns = [names[c] for c in lo.columns]
    lo.insert(0, ctx.text("共同度", "h²"), e.communalities.loc[order].map(lambda v: fmt(v, 2, bounded=True)))
    lo.index = [str(i) for i in lo.index]
    lo = lo.reset_index().rename(columns={"index": t["item"]})
    dropped = len(ctx.res.frame) - e.n_obs
    note = sample_note(ctx, e.n_obs, "listwise", dropped, None) + ctx.text(
        "；|λ| < .30 未显示；题项按所属因子排列；因子以其多数题项所属维度命名。",
        "; |λ| < .30 not shown; items sorted by factor; factors named after the construct most of their items belong to.")
    blocks.append(ctx.num.t(ctx.text("探索性因子分析旋转后载荷", "EFA rotated loadings"), lo.astype(str), note=note))
    return blocks


def _variance_table(ctx, e, names: dict):
    """SPSS's "total variance explained": initial eigenvalues and the rotated sums of squared
    loadings of the extracted factors, with % of variance and cumulative %."""
    p = len(e.loadings.index)
    eig = np.asarray(e.eigenvalues, dtype=float)[: e.n_factors]
    rows = []
    for j, f in enumerate(e.loadings.columns):
        rows.append({ctx.text("因子", "Factor"): names[f], ctx.text("初始特征根", "Initial eigenvalue"): fmt(eig[j], 2),
                     ctx.text("方差 %", "% of variance"): fmt(100 * eig[j] / p, 2),
                     ctx.text("累计 %", "Cumulative %"): fmt(100 * eig[: j + 1].sum() / p, 2),
                     ctx.text("旋转后平方和", "Rotated SS loadings"): fmt(e.variance.iloc[0][f], 2),
                     ctx.text("旋转后方差 %", "Rotated % of variance"): fmt(100 * e.variance.iloc[1][f], 2),
                     ctx.text("旋转后累计 %", "Rotated cumulative %"): fmt(100 * e.variance.iloc[2][f], 2)})
    return ctx.table(ctx.text("总方差解释", "Total variance explained"), rows,
                     note=ctx.text(f"初始特征根为 {p} 个题项相关矩阵的特征根。", f"Initial eigenvalues of the {p} items' correlation matrix."))


def harman(ctx, h, options) -> list:
    """The deprecated ``harman`` analysis: the sentence alone (``common_method`` adds a table)."""
    return [Paragraph(_harman_sentence(ctx, h))]


def _harman_sentence(ctx, h) -> str:
    if ctx.zh:
        return (f"Harman 单因子检验：第一个未旋转因子解释 {h.first_factor_share:.1%} 的方差，{'低于' if not h.flagged else '超过'} {h.threshold:.0%} 的经验标准"
                f"{'，共同方法偏差不明显' if not h.flagged else '，可能存在共同方法偏差'}（Podsakoff 等, 2003）。")
    return (f"Harman's single-factor test: the first unrotated factor explains {h.first_factor_share:.1%} of the variance, "
            f"{'below' if not h.flagged else 'above'} the {h.threshold:.0%} rule of thumb (Podsakoff et al., 2003).")


def common_method(ctx, res, options) -> list:
    """Harman's test, the common-latent-factor comparison (rule: ΔCFI/ΔTLI > .10 or ΔRMSEA/ΔSRMR
    > .05 flags serious bias, as Chinese theses cite 周浩 & 龙立荣, 2004; method variance against
    Williams et al.'s 1989 25 % median) and the marker correction (Lindell & Whitney, 2001)."""
    blocks: list = []
    if res.harman is not None:
        h = res.harman
        rows = [{ctx.text("题项数", "Items"): fmt(len(h.eigenvalues)), ctx.text("特征根大于 1 的因子数", "Eigenvalues > 1"): fmt(h.n_eigen_gt1),
                 ctx.text("第一个因子解释的方差", "Variance explained by the first factor"): f"{fmt(100 * h.first_factor_share, 2)}%",
                 ctx.text("判断标准", "Criterion"): f"< {h.threshold:.0%}"}]
        how = ctx.text("主轴因子法" if h.method == "pa" else "主成分法", "principal axis" if h.method == "pa" else "principal components")
        blocks += [ctx.table(ctx.text("Harman 单因子检验", "Harman's single-factor test"), rows,
                             note=ctx.text(f"对全部题项做未旋转的探索性因子分析（{how}，提取一个因子）。",
                                           f"Unrotated exploratory factor analysis of all items ({how}, one factor).")),
                   Paragraph(_harman_sentence(ctx, h))]
    if res.clf is not None:
        blocks += _clf_blocks(ctx, res.clf)
    if res.marker is not None:
        blocks += _marker_blocks(ctx, res.marker)
    return blocks


def _clf_blocks(ctx, c) -> list:
    robust = c.estimator == "MLR"
    rows = []
    for name, fit in ((ctx.text("特质模型", "Trait model"), c.trait.fit), (ctx.text("特质 + 共同方法因子模型", "Trait + method factor"), c.clf.fit)):
        first = fit is c.trait.fit
        rows.append({ctx.text("模型", "Model"): name, "χ²": fmt(fit["chisq_scaled" if robust else "chisq"], 2), "df": fmt(fit["df"], 0),
                     "CFI": fmt(fit["cfi_robust" if robust else "cfi"], bounded=True), "TLI": fmt(fit["tli_robust" if robust else "tli"], bounded=True),
                     "RMSEA": fmt(fit["rmsea_robust" if robust else "rmsea"], bounded=True), "SRMR": fmt(fit["srmr"], bounded=True),
                     "Δχ²": "—" if first else fmt(c.chisq_diff, 2), "Δdf": "—" if first else fmt(c.df_diff, 0),
                     "p": "—" if first else fmt_p(c.p_diff), "ΔCFI": "—" if first else fmt(c.delta_cfi, bounded=True),
                     "ΔTLI": "—" if first else fmt(c.delta_tli, bounded=True), "ΔRMSEA": "—" if first else fmt(c.delta_rmsea, bounded=True),
                     "ΔSRMR": "—" if first else fmt(c.delta_srmr, bounded=True)})
    note = sample_note(ctx, c.n_obs, c.clf.missing, c.clf.n_dropped, c.clf.n_incomplete) + ctx.text(
        "；共同方法因子负荷于全部题项，载荷相等，且与特质因子不相关；Δ 为加入方法因子后减去加入前的值。判断标准：ΔCFI 或 ΔTLI > .10、"
        "ΔRMSEA 或 ΔSRMR 降低超过 .05 表示存在严重的共同方法偏差（周浩, 龙立荣, 2004；Podsakoff 等, 2003）",
        "; the method factor loads on every item with equal loadings and is uncorrelated with the trait factors; Δ is the "
        "method-factor model minus the trait model. Rule: an improvement of CFI or TLI by more than .10, or of RMSEA or SRMR "
        "by more than .05, indicates serious common-method bias (周浩 & 龙立荣, 2004; Podsakoff et al., 2003)")
    if robust:
        note += ctx.text("；MLR：稳健 χ²、CFI、TLI、RMSEA，Δχ² 为 Satorra–Bentler（2001）校正差异检验",
                         "; MLR: scaled χ², robust CFI, TLI and RMSEA; Δχ² is the Satorra–Bentler (2001) scaled difference test")
    caption = ctx.text("共同方法因子检验（控制未测单一方法潜因子法）", "Common latent method factor (ULMC) comparison")
    return [ctx.table(caption, rows, note=note + ctx.text("。", ".")), Paragraph(_clf_sentence(ctx, c))]


def _clf_sentence(ctx, c) -> str:
    k = len(c.method_loadings)
    chi = f"{stat_eq('Δχ²', c.chisq_diff, c.df_diff)}，{p_eq(c.p_diff)}" if ctx.zh else f"{stat_eq('Δχ²', c.chisq_diff, c.df_diff)}, {p_eq(c.p_diff)}"
    d = {n: fmt(getattr(c, f"delta_{n.lower()}"), bounded=True) for n in ("CFI", "TLI", "RMSEA", "SRMR")}
    share, has_share = c.method_share, c.method_share == c.method_share
    if ctx.zh:
        text = (f"在验证性因子分析模型中加入一个负荷于全部 {k} 个题项、载荷相等且与特质因子不相关的共同方法因子后，{chi}；"
                f"ΔCFI = {d['CFI']}，ΔTLI = {d['TLI']}，ΔRMSEA = {d['RMSEA']}，ΔSRMR = {d['SRMR']}，"
                f"{'超过了' if c.flagged else '均未超过'}周浩和龙立荣（2004）所述的标准。")
        text += (f"方法因子平均解释题项方差的 {share:.1%}，{'低于' if share < 0.25 else '高于'} Williams 等（1989）报告的约 25% 的中位数。"
                 if has_share else "方法因子的方差不为正：特质因子之外，题项之间没有共同的方法方差。")
        if c.p_diff < 0.05 and not c.flagged:
            text += "Δχ² 虽然显著，但样本较大时加入任何方法因子几乎都会使 χ² 显著下降，故以拟合指数的变化为判据。"
        if c.improper:
            text += "需要注意，加入方法因子后的模型出现了不当解（负方差或因子相关超过 ±1），上述比较的参考价值有限。"
        return text + ("结果提示存在较严重的共同方法偏差，后续分析宜控制方法因子或采用标签变量法加以校正（Podsakoff 等, 2003）。" if c.flagged else
                       "据此未发现严重的共同方法偏差；但这一检验只能提示、不能排除共同方法偏差（Podsakoff 等, 2003）。")
    text = (f"Adding a common method factor that loads equally on all {k} items and is uncorrelated with the trait factors gives "
            f"{chi}; ΔCFI = {d['CFI']}, ΔTLI = {d['TLI']}, ΔRMSEA = {d['RMSEA']}, ΔSRMR = {d['SRMR']}, "
            f"{'beyond' if c.flagged else 'all within'} the cut-offs (周浩 & 龙立荣, 2004). ")
    text += (f"The method factor explains {share:.1%} of the items' variance on average, {'below' if share < 0.25 else 'above'} the "
             "median of about 25 % that Williams et al. (1989) report. " if has_share else
             "The method factor's variance is not positive: the items share no method variance beyond the traits. ")
    if c.p_diff < 0.05 and not c.flagged:
        text += "Δχ² is significant, but with large samples almost any method factor lowers χ² significantly; the change in fit indices is the criterion. "
    if c.improper:
        text += "Note that the method-factor model has an improper solution (a negative variance or a factor correlation beyond ±1), which limits this comparison. "
    return text + ("This indicates serious common-method bias: later models should control for a method factor or correct by a marker "
                   "variable (Podsakoff et al., 2003)." if c.flagged else "No serious common-method bias is indicated, though this check "
                   "can suggest but not rule out common-method bias (Podsakoff et al., 2003).")


def _marker_blocks(ctx, m) -> list:
    yes, no = ctx.text("是", "yes"), ctx.text("否", "no")
    rows = [{ctx.text("变量对", "Pair"): f"{ctx.var_label(r.var1)}–{ctx.var_label(r.var2)}", "r": fmt(r.r, bounded=True), "p": fmt_p(r.p),
             ctx.text("校正后 r", "Adjusted r"): fmt(r.r_adjusted, bounded=True), "t": fmt(r.t_adjusted, 2),
             ctx.text("校正后 p", "Adjusted p"): fmt_p(r.p_adjusted),
             ctx.text("校正后仍显著", "Significant after correction"): yes if r.significant_adjusted else no}
            for r in m.table.itertuples()]
    which = ctx.text("最小" if m.rank == "smallest" else "第二小", "smallest" if m.rank == "smallest" else "second-smallest")
    marker = ctx.var_label(m.marker)
    note = ctx.text(f"N = {m.n_obs}；标签变量：{marker}；rM = {fmt(m.r_m, bounded=True)}，为标签变量与各维度得分的{which}正相关；"
                    "校正后 rA = (r − rM)/(1 − rM)，t = rA/√((1 − rA²)/(n − 3))（Lindell & Whitney, 2001）。",
                    f"N = {m.n_obs}; marker: {marker}; rM = {fmt(m.r_m, bounded=True)}, the {which} positive correlation of the marker "
                    "with the construct scores; adjusted rA = (r − rM)/(1 − rM), t = rA/√((1 − rA²)/(n − 3)) (Lindell & Whitney, 2001).")
    caption = ctx.text("标签变量法校正后的相关系数", "Correlations corrected with a marker variable")
    lost = [f"{ctx.var_label(r.var1)}–{ctx.var_label(r.var2)}" for r in m.table.itertuples() if r.significant and not r.significant_adjusted]
    sig, total = m.n_significant_adjusted, len(m.table)
    if ctx.zh:
        text = (f"标签变量法（Lindell & Whitney, 2001）：以{marker}为标签变量，rM = {fmt(m.r_m, bounded=True)}。校正后 {total} 对相关中有 {sig} 对仍显著"
                f"（p < {fmt(m.alpha, 2, bounded=True)}）" + (f"；{'、'.join(lost)}的相关校正后不再显著，其关系可能部分来自共同方法偏差。" if lost else
                "；原本显著的相关校正后均仍显著，共同方法偏差不足以解释变量间的关系。"))
    else:
        text = (f"Marker-variable correction (Lindell & Whitney, 2001) with {marker} as the marker: rM = {fmt(m.r_m, bounded=True)}. "
                f"After correction {sig} of {total} correlations remain significant (p < {fmt(m.alpha, 2, bounded=True)})"
                + (f"; {', '.join(lost)} are no longer significant, so common-method variance may account for part of them." if lost else
                   "; every correlation significant before stays significant, so common-method variance does not explain the relations."))
    return [ctx.table(caption, rows, note=note), Paragraph(text)]


CUTOFFS = (  # index, rule, good when, citation
    ("χ²/df", "< 3", lambda v: v < 3, "Carmines & McIver, 1981"),
    ("GFI", "≥ .90", lambda v: v >= 0.90, "Jöreskog & Sörbom, 1984"),
    ("AGFI", "≥ .90", lambda v: v >= 0.90, "Jöreskog & Sörbom, 1984"),
    ("CFI", "≥ .95", lambda v: v >= 0.95, "Hu & Bentler, 1999"),
    ("TLI", "≥ .95", lambda v: v >= 0.95, "Hu & Bentler, 1999"),
    ("RMSEA", "≤ .06", lambda v: v <= 0.06, "Hu & Bentler, 1999"),
    ("SRMR", "≤ .08", lambda v: v <= 0.08, "Hu & Bentler, 1999"),
)


ROBUST_ESTIMATORS = ("MLR", *ORDINAL_ESTIMATORS)       # estimators whose table shows the scaled χ² and robust indices


def _indices(c) -> dict[str, float]:
    f, robust = c.fit, c.estimator in ROBUST_ESTIMATORS
    chisq = f["chisq_scaled"] if robust else f["chisq"]
    nan = float("nan")
    return {"χ²": chisq, "df": f["df"], "χ²/df": chisq / f["df"] if f["df"] else nan, "GFI": f.get("gfi", nan), "AGFI": f.get("agfi", nan),
            "CFI": f["cfi_robust"] if robust else f["cfi"], "TLI": f["tli_robust"] if robust else f["tli"],
            "RMSEA": f["rmsea_robust"] if robust else f["rmsea"], "SRMR": f["srmr"]}


def cfa(ctx, c, options) -> list:
    f, robust, ix = c.fit, c.estimator in ROBUST_ESTIMATORS, _indices(c)
    rows = [{"χ²": fmt(ix["χ²"], 2), "df": fmt(ix["df"], 0), "χ²/df": fmt(ix["χ²/df"], 2), "GFI": fmt(ix["GFI"], bounded=True),
             "AGFI": fmt(ix["AGFI"], bounded=True), "CFI": fmt(ix["CFI"], bounded=True), "TLI": fmt(ix["TLI"], bounded=True),
             "RMSEA": fmt(ix["RMSEA"], bounded=True),
             ctx.text("RMSEA 90% 置信区间", "RMSEA 90% CI"): (f"[{fmt(f['rmsea_ci_lower'], bounded=True)}, {fmt(f['rmsea_ci_upper'], bounded=True)}]"
                                                           if "rmsea_ci_lower" in f and not robust else "—"),
             "SRMR": fmt(ix["SRMR"], bounded=True)}]
    note = sample_note(ctx, c.n_obs, c.missing, c.n_dropped, c.n_incomplete)
    if c.estimator == "MLR":
        note += ctx.text("；MLR：稳健 χ²、CFI、TLI、RMSEA", "; MLR: scaled χ², robust CFI, TLI, RMSEA")
    elif robust:
        note += ctx.text(f"；{c.estimator}：题项按有序变量处理，基于多分格相关矩阵估计；χ² 为均值方差校正值，CFI、TLI、RMSEA 为稳健值",
                         f"; {c.estimator}: items treated as ordinal, estimated from polychoric correlations; mean- and "
                         "variance-adjusted χ², robust CFI, TLI, RMSEA")
    if c.missing == "fiml" and robust:
        note += ctx.text("（缺失数据校正：Zhang & Savalei, 2020）", " (corrected for missing data: Zhang & Savalei, 2020)")
    blocks: list = [ctx.table(ctx.text("验证性因子分析拟合指标", "CFA fit"), rows, note=note), Paragraph(_fit_sentence(ctx, ix))]
    fixed = ctx.text("—：标记题项的载荷固定为 1，无标准误。", "—: the marker item's loading is fixed at 1 and has no SE.")
    rows = []
    for k, r in enumerate(c.loadings.itertuples()):
        free = r.se > 0
        rows.append({ctx.t["construct"]: ctx.label(r.factor) if k == 0 or c.loadings.iloc[k - 1]["factor"] != r.factor else "",
                     ctx.t["item"]: r.item, ctx.text("非标准化载荷", "Loading"): fmt(r.estimate),
                     "SE": fmt(r.se) if free else "—", ctx.t["std"]: fmt(r.std_all, bounded=True), "p": fmt_p(r.p) if free else "—"})
    blocks.append(ctx.table(ctx.text("因子载荷", "Factor loadings"), rows, note=fixed))
    many = c.factor_correlations.shape[0] > 6
    note = (ctx.text("注：图中数值为标准化载荷；因子间相关见“收敛效度与区分效度”一节的 Fornell–Larcker 表。",
                     "Note: standardized loadings; factor correlations are in the Fornell–Larcker table of the validity section.") if many else
            ctx.text("注：单向箭头上为标准化载荷，双向弧线上为因子间相关。", "Note: standardized loadings on the arrows, factor "
                     "correlations on the arcs."))
    blocks.append(ctx.figure(ctx.text("验证性因子分析模型图（标准化解）", "CFA model (standardized solution)"),
                             lambda: ctx.figures().cfa_diagram(c, ctx.names, {"note": note})))
    return blocks


def _fit_sentence(ctx, ix: dict[str, float]) -> str:
    """Every index against its cited cut-off, with its value; a miss is named, not hidden."""
    parts, misses = [], []
    for name, rule, good, cite in CUTOFFS:
        value = ix[name]
        if value != value:               # not defined for this estimator (GFI/AGFI under WLSMV)
            continue
        shown = fmt(value, 2) if name == "χ²/df" else fmt(value, bounded=True)
        parts.append(f"{name} = {shown}（{rule}，{cite}）" if ctx.zh else f"{name} = {shown} ({rule}; {cite})")
        if not good(value):
            misses.append(name)
    if ctx.zh:
        verdict = ("各项指标均达到标准，模型拟合良好。" if not misses else
                   f"{'、'.join(misses)} 未达到上述标准，其余指标达标；模型拟合{'尚可' if len(misses) <= 2 else '欠佳'}，结论需结合这些指标审慎解释。")
        return "拟合指标与判断标准：" + "；".join(parts) + "。" + verdict
    verdict = ("Every index meets its cut-off: the model fits well." if not misses else
               f"{', '.join(misses)} miss the cut-off while the others meet it; the fit is {'acceptable' if len(misses) <= 2 else 'poor'} "
               "and conclusions should weigh those indices.")
    return "Fit indices against their cut-offs: " + "; ".join(parts) + ". " + verdict


def validity(ctx, v, options) -> list:
    rel, label = v.reliability, ctx.label
    rows = [{ctx.t["construct"]: label(fct), "CR": fmt(r.cr, bounded=True), "AVE": fmt(r.ave, bounded=True),
             "√AVE": fmt(math.sqrt(r.ave), bounded=True) if r.ave >= 0 else "—"} for fct, r in rel.iterrows()]
    blocks: list = [ctx.table(ctx.text("组合信度与平均方差抽取量", "Composite reliability and AVE"), rows)]
    blocks.append(Paragraph(_convergent_sentence(ctx, rel)))
    fl = v.fornell_larcker
    if len(fl) > 1:
        names = [label(x) for x in fl.index]
        frows = [{ctx.t["construct"]: names[i], **{str(j + 1): (fmt(fl.iloc[i, j], bounded=True) if j <= i else "")
                                                  for j in range(len(fl))}} for i in range(len(fl))]
        blocks.append(ctx.table(ctx.text("区分效度（Fornell–Larcker 准则）", "Discriminant validity (Fornell–Larcker)"), frows,
                                note=ctx.text("对角线为 √AVE，其下为因子间相关；列号对应行序。",
                                              "The diagonal holds √AVE, below it the factor correlations; columns follow the rows.")))
    ht = v.htmt
    if len(ht) > 1:
        hrows = [{ctx.t["construct"]: label(ht.index[i]), **{str(j + 1): (fmt(ht.iloc[i, j], bounded=True) if j < i else "")
                                                         for j in range(len(ht) - 1)}} for i in range(len(ht))]
        blocks.append(ctx.table(ctx.text("异质—单质比率（HTMT）", "Heterotrait–monotrait ratios (HTMT)"), hrows,
                                note=ctx.text("HTMT < .85 表示区分效度良好（Henseler 等, 2015）；列号对应行序。",
                                              "HTMT < .85 indicates discriminant validity (Henseler et al., 2015); columns follow the rows.")))
    blocks.append(Paragraph(_discriminant_sentence(ctx, v)))
    return blocks


def _convergent_sentence(ctx, rel) -> str:
    label = ctx.label
    low_cr = [label(x) for x in rel.index[rel["cr"] < 0.7]]
    low_ave = [label(x) for x in rel.index[rel["ave"] < 0.5]]
    rescued = [label(x) for x in rel.index[(rel["ave"] < 0.5) & (rel["cr"] >= 0.6)]]
    if ctx.zh:
        text = (f"收敛效度：CR {'均 ≥ .70' if not low_cr else '低于 .70 的维度：' + '、'.join(low_cr)}；"
                f"AVE {'均 ≥ .50' if not low_ave else '低于 .50 的维度：' + '、'.join(low_ave)}（Fornell & Larcker, 1981）。")
        if low_ave:
            who = "这些维度" if len(rescued) == len(low_ave) else "其中" + "、".join(rescued)
            text += (f"{who}的 CR 均不低于 .60，按 Fornell 和 Larcker（1981）的说法收敛效度尚可接受，但题项共享的方差不足一半，宜在讨论中说明。"
                     if rescued else "")
            text += "" if len(rescued) == len(low_ave) else "其余 AVE 偏低的维度收敛效度不足。"
        return text
    text = (f"Convergent validity: CR {'≥ .70 for every construct' if not low_cr else 'below .70 for ' + ', '.join(low_cr)}; "
            f"AVE {'≥ .50 for every construct' if not low_ave else 'below .50 for ' + ', '.join(low_ave)} (Fornell & Larcker, 1981). ")
    if low_ave:
        who = "all of them" if len(rescued) == len(low_ave) else ", ".join(rescued)
        text += (f"For {who} CR ≥ .60, which Fornell and Larcker (1981) accept as adequate convergent validity, "
                 "though the items share less than half their variance — worth saying in the discussion. " if rescued else "")
        text += "" if len(rescued) == len(low_ave) else "The other constructs with low AVE lack convergent validity."
    return text


def _discriminant_sentence(ctx, v) -> str:
    label, fl = ctx.label, v.fornell_larcker
    ht = v.htmt.to_numpy()
    mx = float(ht[np.triu_indices(len(ht), 1)].max()) if len(ht) > 1 else float("nan")
    fails = [f"{label(fl.index[i])}–{label(fl.index[j])}" for i in range(len(fl)) for j in range(i)
             if abs(fl.iloc[i, j]) >= min(fl.iloc[i, i], fl.iloc[j, j])]
    if mx != mx:
        return ""
    ok = mx < 0.85
    if ctx.zh:
        head = f"区分效度：HTMT 最大值为 {fmt(mx, bounded=True)}，{'低于' if ok else '高于'} .85（Henseler 等, 2015）；"
        if not fails:
            return head + "各维度的 √AVE 均大于其与其他维度的相关（Fornell & Larcker, 1981），两项准则均支持区分效度。"
        return head + (f"但 {'、'.join(fails)} 的相关不小于其 √AVE，未满足 Fornell–Larcker 准则。"
                       + ("以对区分效度更敏感的 HTMT 为主要判据（Henseler 等, 2015），区分效度尚可接受，上述维度对宜在讨论中说明。" if ok
                          else "两项准则均显示区分效度不足。"))
    head = f"Discriminant validity: the largest HTMT is {fmt(mx, bounded=True)}, {'below' if ok else 'above'} .85 (Henseler et al., 2015); "
    if not fails:
        return head + "every √AVE exceeds the construct's correlations with the others (Fornell & Larcker, 1981): both criteria support it."
    return head + (f"but {', '.join(fails)} correlate at least as highly as their √AVE, failing the Fornell–Larcker criterion. "
                   + ("Taking the more sensitive HTMT as the criterion (Henseler et al., 2015), discriminant validity is acceptable; "
                      "those pairs deserve a word in the discussion." if ok else "Both criteria show a lack of discriminant validity."))


INVARIANCE = {"zh": {"configural": "形态等值", "thresholds": "阈值等值", "metric": "弱等值（载荷相等）",
                     "scalar": "强等值（载荷、截距相等）"},
              "en": {"configural": "Configural", "thresholds": "Thresholds (equal thresholds)", "metric": "Metric (equal loadings)",
                     "scalar": "Scalar (equal loadings and intercepts)"}}


def _invariance_columns(table) -> tuple[str, str, str, str, str]:
    """χ², CFI, RMSEA and ΔCFI columns the table reports: ordinal (WLSMV) the scaled ones, MLR the
    robust ones, ML the plain ones."""
    if table.attrs.get("ordered"):
        return "chisq_scaled", "cfi_scaled", "rmsea_scaled", "delta_cfi_scaled", "ordinal"
    if "cfi_robust" in table.columns:
        return "chisq_scaled", "cfi_robust", "rmsea_robust", "delta_cfi_robust", "robust"
    return "chisq", "cfi", "rmsea", "delta_cfi", "ml"


def invariance(ctx, inv, options) -> list:
    """Configural/metric/scalar table; under MLR the robust CFI/RMSEA, the Satorra–Bentler scaled
    Δχ² and the robust ΔCFI (lavaan's lavTestLRT and fitMeasures)."""
    table = inv.table
    chisq, cfi, rmsea, dcfi, kind = _invariance_columns(table)
    names = INVARIANCE[ctx.lang]
    rows = [{ctx.text("模型", "Model"): names.get(m, m), "χ²": fmt(r[chisq], 2), "df": fmt(r["df"], 0),
             "CFI": fmt(r[cfi], bounded=True), "RMSEA": fmt(r[rmsea], bounded=True), "Δχ²": fmt(r["chisq_diff"], 2),
             "Δdf": fmt(r["df_diff"], 0), "p": fmt_p(r["p_diff"]), "ΔCFI": fmt(r[dcfi], bounded=True),
             "ΔRMSEA": fmt(r[rmsea] - prev, bounded=True) if prev == prev else "—"}
            for (m, r), prev in zip(table.iterrows(), [float("nan")] + list(table[rmsea].iloc[:-1]))]
    note = sample_note(ctx, table.attrs.get("n_obs"), table.attrs.get("missing", "listwise"), table.attrs.get("n_dropped", 0), None)
    if kind == "ordinal":
        note += ctx.text("；题项按有序分类变量处理，WLSMV 估计（多分格相关）：χ²、CFI、RMSEA 为均值方差校正值；Δχ² 为 Satorra（2000）"
                         "校正差异检验；依次约束阈值、载荷、截距（Wu & Estabrook, 2016）",
                         "; items treated as ordinal, WLSMV on polychoric correlations: mean- and variance-adjusted χ², CFI "
                         "and RMSEA; Δχ² is the Satorra (2000) scaled difference test; thresholds, then loadings, then "
                         "intercepts constrained (Wu & Estabrook, 2016)")
    elif kind == "robust":
        note += ctx.text("；MLR：稳健 χ²、CFI、RMSEA；Δχ² 为 Satorra–Bentler（2001）校正差异检验", "; MLR: scaled χ², robust CFI and "
                         "RMSEA; Δχ² is the Satorra–Bentler (2001) scaled difference test")
    group = ctx.var_label(inv.group)
    what = ("、" if ctx.zh else ", ").join(ctx.label(c) for c in getattr(inv, "constructs", ()))
    sizes = ("、" if ctx.zh else ", ").join(f"{ctx.group_label(inv.group, k)} n = {v}" for k, v in getattr(inv, "n_by_group", {}).items())
    if sizes:
        note += ctx.text(f"；各组人数：{sizes}", f"; group sizes: {sizes}")
    caption = ctx.text(f"{what}的测量等值性检验（按{group}分组）" if what else f"测量等值性检验（按{group}分组）",
                       f"Measurement invariance of {what} across {group}" if what else f"Measurement invariance across {group}")
    blocks: list = [ctx.table(caption, rows, note=note)]
    holds = []                                   # each step holds only if the ones before it do
    for m in (m for m in ("thresholds", "metric", "scalar") if m in table.index):
        if not table.loc[m, dcfi] >= -0.01:
            break
        holds.append(names[m])
    blocks.append(Paragraph(ctx.text(
        f"以 ΔCFI ≥ −.01 为标准（Cheung & Rensvold, 2002），{('、'.join(holds) + '成立') if holds else '弱等值不成立'}。",
        f"With ΔCFI ≥ −.01 as the criterion (Cheung & Rensvold, 2002), {(' and '.join(holds) + ' invariance holds') if holds else 'metric invariance does not hold'}.")))
    return blocks
