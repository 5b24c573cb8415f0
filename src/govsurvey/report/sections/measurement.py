"""Report sections of the measurement analyses: reliability, EFA, Harman, CFA, validity,
invariance. Cut-offs cited: α ≥ .70 (Nunnally, 1978); KMO ≥ .60 (Kaiser, 1974); CFI/TLI ≥ .95,
RMSEA ≤ .06, SRMR ≤ .08 (Hu & Bentler, 1999); CR ≥ .70, AVE ≥ .50 (Fornell & Larcker, 1981);
HTMT < .85 (Henseler et al., 2015); ΔCFI ≥ −.01 (Cheung & Rensvold, 2002)."""

from __future__ import annotations

import math

import numpy as np

from govsurvey.report.document import Paragraph, fmt, fmt_p, sample_note

__all__ = ["reliability", "efa", "harman", "cfa", "validity", "invariance"]


def reliability(ctx, res, options) -> list:
    t, label = ctx.t, ctx.label
    rows = [{t["construct"]: label(c), t["items"]: fmt(r.n_items), "α": fmt(r.alpha), "95% CI": f"[{fmt(r.alpha_ci[0])}, {fmt(r.alpha_ci[1])}]",
             "ω": fmt(r.omega_total), "λ6": fmt(r.lambda6), "r̄": fmt(r.average_r)} for c, r in res.reliability.items()]
    blocks: list = [ctx.table(ctx.text("各维度信度", "Reliability by construct"), rows)]
    alphas = [r.alpha for r in res.reliability.values()]
    low = [label(c) for c, r in res.reliability.items() if r.alpha < 0.70]
    span = ctx.text(f" α 的范围为 {min(alphas):.3f}–{max(alphas):.3f}。", f"α ranges from {min(alphas):.3f} to {max(alphas):.3f}.")
    if ctx.zh:
        lead = ("各维度 Cronbach's α 均达到 0.70 的常用标准（Nunnally, 1978）。" if not low else
                f"{'、'.join(low)} 的 α 低于 0.70（Nunnally, 1978），其测量一致性需谨慎解释。")
    else:
        lead = ("Cronbach's α reaches the conventional .70 for every construct (Nunnally, 1978). " if not low else
                f"α is below .70 (Nunnally, 1978) for {', '.join(low)}; interpret those scores with care. ")
    blocks.append(Paragraph(lead + span))
    rows = [{t["construct"]: label(c), t["item"]: item, "M": fmt(row["mean"], 2), "SD": fmt(row["sd"], 2), "r_drop": fmt(row["r_drop"]),
             "α-if-deleted": fmt(row["alpha_if_deleted"]), "CR t": fmt(row["cr_t"], 2), "p": fmt_p(row["cr_p"])}
            for c, table in res.item_analysis.items() for item, row in table.iterrows()]
    blocks.append(ctx.table(ctx.text("项目分析（校正项总相关、删除后 α、临界比值）",
                                     "Item analysis (corrected item–total r, α if deleted, critical ratio)"), rows))
    return blocks


def efa(ctx, res, options) -> list:
    t = ctx.t
    k, b, e, pa = res.kmo, res.bartlett, res.efa, res.parallel
    explained = e.variance.iloc[2, -1]
    if ctx.zh:
        text = (f"KMO = {k.overall:.3f}{'，高于 0.60 的标准（Kaiser, 1974）' if k.overall >= 0.6 else '，低于 0.60（Kaiser, 1974），不宜做因子分析'}；"
                f"Bartlett 球形检验 χ²({b.df}) = {b.chi2:.2f}，p {fmt_p(b.p_value)}。平行分析建议保留 {pa.n_factors} 个因子；"
                f"本报告提取 {e.n_factors} 个因子（{e.method}，{e.rotation} 旋转），累计解释方差 {explained:.1%}。")
    else:
        text = (f"KMO = {k.overall:.3f}{', above the .60 threshold (Kaiser, 1974)' if k.overall >= 0.6 else ', below .60 (Kaiser, 1974): the items are not suited to factor analysis'}; "
                f"Bartlett's test χ²({b.df}) = {b.chi2:.2f}, p {fmt_p(b.p_value)}. Parallel analysis suggests {pa.n_factors} factors; "
                f"{e.n_factors} were extracted ({e.method}, {e.rotation}), explaining {explained:.1%} of the variance.")
    words = {"observed": t["observed"], "simulated": t["simulated"], "factor": t["factor"], "eigenvalue": t["eigenvalue"]}
    blocks: list = [Paragraph(text),
                    ctx.figure(ctx.text("碎石图与平行分析", "Scree plot with parallel analysis"),
                               lambda: ctx.figures().scree(e, pa, words)),
                    ctx.figure(t["loadings"], lambda: ctx.figures().loadings_heatmap(e.loadings, {"title": ""}))]
    lo = e.loadings.map(lambda v: fmt(v, 2) if abs(v) >= 0.3 else "")
    lo.insert(0, "h²", e.communalities.map(lambda v: fmt(v, 2)))
    lo.index = [str(i) for i in lo.index]
    lo = lo.reset_index().rename(columns={"index": t["item"]})
    blocks.append(ctx.num.t(ctx.text("探索性因子分析载荷（|λ| < .30 未显示）", "EFA loadings (|λ| < .30 not shown)"), lo.astype(str)))
    return blocks


def harman(ctx, h, options) -> list:
    if ctx.zh:
        text = (f"Harman 单因子检验：第一个未旋转因子解释 {h.first_factor_share:.1%} 的方差，{'低于' if not h.flagged else '超过'} {h.threshold:.0%} 的经验标准"
                f"{'，共同方法偏差不明显' if not h.flagged else '，可能存在共同方法偏差'}（Podsakoff 等, 2003）。")
    else:
        text = (f"Harman's single-factor test: the first unrotated factor explains {h.first_factor_share:.1%} of the variance, "
                f"{'below' if not h.flagged else 'above'} the {h.threshold:.0%} rule of thumb (Podsakoff et al., 2003).")
    return [Paragraph(text)]


def cfa(ctx, c, options) -> list:
    f, robust = c.fit, c.estimator == "MLR"
    chisq = f["chisq_scaled"] if robust else f["chisq"]
    rows = [{"χ²": fmt(chisq, 2), "df": fmt(f["df"], 0), "χ²/df": fmt(chisq / f["df"], 2) if f["df"] else "—",
             "CFI": fmt(f["cfi_robust"] if robust else f["cfi"]), "TLI": fmt(f["tli_robust"] if robust else f["tli"]),
             "RMSEA": fmt(f["rmsea_robust"] if robust else f["rmsea"]), "90% CI": f"[{fmt(f['rmsea_ci_lower'])}, {fmt(f['rmsea_ci_upper'])}]",
             "SRMR": fmt(f["srmr"]), "GFI": fmt(f["gfi"]), "AGFI": fmt(f["agfi"])}]
    note = sample_note(ctx, c.n_obs, c.missing, c.n_dropped, c.n_incomplete)
    if robust:
        note += ctx.text("；MLR：稳健 χ²、CFI、TLI、RMSEA", "; MLR: scaled χ², robust CFI, TLI, RMSEA")
    if c.missing == "fiml" and robust:
        note += ctx.text("（缺失数据校正：Zhang & Savalei, 2020）", " (corrected for missing data: Zhang & Savalei, 2020)")
    blocks: list = [ctx.table(ctx.text("验证性因子分析拟合指标", "CFA fit"), rows, note=note), Paragraph(_fit_sentence(ctx, f))]
    rows = [{ctx.t["construct"]: ctx.label(r.factor), ctx.t["item"]: r.item, "λ": fmt(r.estimate), "SE": fmt(r.se),
             ctx.t["std"]: fmt(r.std_all), "p": fmt_p(r.p)} for r in c.loadings.itertuples()]
    blocks.append(ctx.table(ctx.text("标准化因子载荷", "Factor loadings"), rows))
    blocks.append(ctx.figure(ctx.text("标准化因子载荷图", "Standardized loadings"),
                             lambda: ctx.figures().cfa_loadings(c.loadings, {"xlabel": ctx.t["std"]})))
    return blocks


def _fit_sentence(ctx, f) -> str:
    good = {"CFI": f["cfi"] >= 0.95, "TLI": f["tli"] >= 0.95, "RMSEA": f["rmsea"] <= 0.06, "SRMR": f["srmr"] <= 0.08}
    ok = [k for k, v in good.items() if v]
    bad = [k for k, v in good.items() if not v]
    if ctx.zh:
        return (f"按 Hu 和 Bentler（1999）的标准（CFI/TLI ≥ 0.95，RMSEA ≤ 0.06，SRMR ≤ 0.08），{'、'.join(ok) if ok else '无指标'}达标"
                + (f"，{'、'.join(bad)} 未达标。" if bad else "，模型拟合良好。"))
    return (f"Against Hu and Bentler's (1999) cut-offs (CFI/TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08), {', '.join(ok) or 'no index'} "
            + (f"meet them; {', '.join(bad)} do not." if bad else "meet them: the model fits well."))


def validity(ctx, v, options) -> list:
    rel, label = v.reliability, ctx.label
    rows = [{ctx.t["construct"]: label(fct), "CR": fmt(r.cr), "AVE": fmt(r.ave), "√AVE": fmt(math.sqrt(r.ave)) if r.ave >= 0 else "—"}
            for fct, r in rel.iterrows()]
    blocks: list = [ctx.table(ctx.text("组合信度与平均方差抽取量", "Composite reliability and AVE"), rows)]
    low_cr = [label(x) for x in rel.index[rel["cr"] < 0.7]]
    low_ave = [label(x) for x in rel.index[rel["ave"] < 0.5]]
    ht = v.htmt.to_numpy()
    mx = float(ht[np.triu_indices(len(ht), 1)].max()) if len(ht) > 1 else float("nan")
    if ctx.zh:
        text = (f"收敛效度：CR {'全部 ≥ 0.70' if not low_cr else '低于 0.70 的维度：' + '、'.join(low_cr)}，AVE {'全部 ≥ 0.50' if not low_ave else '低于 0.50 的维度：' + '、'.join(low_ave)}（Fornell & Larcker, 1981）。"
                + (f"区分效度：HTMT 最大值为 {mx:.3f}，{'低于' if mx < 0.85 else '高于'} 0.85（Henseler 等, 2015）。" if mx == mx else ""))
    else:
        text = (f"Convergent validity: CR {'≥ .70 for all constructs' if not low_cr else 'below .70 for ' + ', '.join(low_cr)}; AVE {'≥ .50 for all' if not low_ave else 'below .50 for ' + ', '.join(low_ave)} (Fornell & Larcker, 1981). "
                + (f"Discriminant validity: the largest HTMT is {mx:.3f}, {'below' if mx < 0.85 else 'above'} .85 (Henseler et al., 2015)." if mx == mx else ""))
    blocks.append(Paragraph(text))
    return blocks


def invariance(ctx, inv, options) -> list:
    """Configural/metric/scalar table; under MLR the robust CFI/RMSEA, the Satorra–Bentler scaled
    Δχ² and the robust ΔCFI (lavaan's lavTestLRT and fitMeasures)."""
    table = inv.table
    robust = "cfi_robust" in table.columns
    cfi, rmsea, dcfi = ("cfi_robust", "rmsea_robust", "delta_cfi_robust") if robust else ("cfi", "rmsea", "delta_cfi")
    rows = [{"model": m, "χ²": fmt(r["chisq_scaled"] if robust else r["chisq"], 2), "df": fmt(r["df"], 0), "CFI": fmt(r[cfi]),
             "RMSEA": fmt(r[rmsea]), "Δχ²": fmt(r["chisq_diff"], 2), "Δdf": fmt(r["df_diff"], 0), "p": fmt_p(r["p_diff"]),
             "ΔCFI": fmt(r[dcfi])} for m, r in table.iterrows()]
    note = sample_note(ctx, table.attrs.get("n_obs"), table.attrs.get("missing", "listwise"), table.attrs.get("n_dropped", 0), None)
    if robust:
        note += ctx.text("；MLR：稳健 χ²、CFI、RMSEA；Δχ² 为 Satorra–Bentler（2001）校正差异检验", "; MLR: scaled χ², robust CFI and "
                         "RMSEA; Δχ² is the Satorra–Bentler (2001) scaled difference test")
    blocks: list = [ctx.table(ctx.text(f"测量不变性检验（按 {inv.group} 分组）", f"Measurement invariance across {inv.group}"), rows, note=note)]
    holds = [m for m in ("metric", "scalar") if table.loc[m, dcfi] >= -0.01]
    blocks.append(Paragraph(ctx.text(
        f"以 ΔCFI ≥ −0.01 为标准（Cheung & Rensvold, 2002），{('、'.join(holds) + ' 不变性成立') if holds else '度量不变性不成立'}。",
        f"With ΔCFI ≥ −.01 as the criterion (Cheung & Rensvold, 2002), {(' and '.join(holds) + ' invariance holds') if holds else 'metric invariance does not hold'}.")))
    return blocks
