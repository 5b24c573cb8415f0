"""Report sections of the mixed-methods analyses: capacity gaps, the interview code matrix,
intercoder agreement, the joint display and the site-level link of codes with scores."""

from __future__ import annotations

from govsurvey.report.document import Paragraph, fmt, fmt_p

__all__ = ["capacity_gaps", "code_matrix", "agreement", "joint_display", "link_codes"]

CONVERGENCE_ZH = {"confirms": "印证", "expands": "拓展", "discordant": "不一致", "silent": "未涉及"}


def capacity_gaps(ctx, g, options) -> list:
    t, label = ctx.t, ctx.label
    has_imp = "importance" in g.columns
    ref = ctx.text("重要性", "Importance") if has_imp else ctx.text("目标", "Target")
    rows = [{t["construct"]: label(dim), "M": fmt(r["mean"], 2), ref: fmt(r["importance"] if has_imp else r["target"], 2),
             ctx.text("差距", "Gap"): fmt(r["gap"], 2), "95% CI": f"[{fmt(r['ci_low'], 2)}, {fmt(r['ci_high'], 2)}]",
             "d": fmt(r["d"], 2), "p": fmt_p(r["p"]), ctx.text("象限", "Quadrant"): r["quadrant"]}
            for dim, r in g.sort_values("gap", ascending=False).iterrows()]
    blocks: list = [ctx.table(ctx.text("能力差距（重要性—表现分析）", "Capacity gaps (importance–performance)"), rows)]
    if has_imp:
        words = {"performance": t["performance"], "importance": t["importance"], "concentrate": t["concentrate"], "keep": t["keep"]}
        blocks.append(ctx.figure(ctx.text("重要性—表现四分图", "Importance–performance map"),
                                 lambda: ctx.figures().ipa(g, ctx.names, words)))
    top = g.sort_values("gap", ascending=False).head(3)
    blocks.append(Paragraph(ctx.text(
        "差距最大的三个维度是" + "、".join(f"{label(d)}（{r['gap']:.2f}）" for d, r in top.iterrows()) + "。",
        "The largest gaps are in " + ", ".join(f"{label(d)} ({r['gap']:.2f})" for d, r in top.iterrows()) + ".")))
    return blocks


def code_matrix(ctx, cm, options) -> list:
    return [ctx.figure(ctx.text("各社区访谈涉及的维度", "Dimensions raised in interviews by community"),
                       lambda: ctx.figures().code_heatmap(cm, ctx.names, {"unit": ctx.t["unit"]}))]


def agreement(ctx, ag, options) -> list:
    return [Paragraph(ctx.text(
        f"两位编码者在 {ag.n_units} 个编码单元上的一致性：Cohen's κ = {ag.cohen_kappa:.3f}，Krippendorff's α = {ag.krippendorff_alpha:.3f}，"
        f"一致率 {ag.percent_agreement:.1%}。",
        f"Two coders agreed on {ag.n_units} coding units with Cohen's κ = {ag.cohen_kappa:.3f}, Krippendorff's α = "
        f"{ag.krippendorff_alpha:.3f}, agreement {ag.percent_agreement:.1%}."))]


def joint_display(ctx, jd, options) -> list:
    label, t = ctx.label, ctx.t
    rows = [{t["construct"]: label(d), ctx.text("差距", "Gap"): fmt(r["gap"], 2),
             ctx.text("障碍提及比例", "Barrier share"): fmt(r["barrier_share_of_raised"], 2),
             ctx.text("主要主题", "Themes"): r["themes"], ctx.text("典型引语", "Quotes"): r["quotes"],
             ctx.text("整合判断", "Convergence"): CONVERGENCE_ZH.get(r["convergence"], r["convergence"]) if ctx.zh else r["convergence"]}
            for d, r in jd.iterrows()]
    blocks: list = [ctx.table(ctx.text("联合展示：量化差距与访谈主题", "Joint display: quantitative gaps and interview themes"), rows,
                              note=jd.attrs.get("rule", "")),
                    ctx.figure(ctx.text("差距与障碍提及比例", "Gaps beside the share of interviewees naming barriers"),
                               lambda: ctx.figures().joint_figure(jd, ctx.names, {"gap": t["gap"], "barrier": t["barrier"]}))]
    conf = [label(d) for d, r in jd.iterrows() if r["convergence"] == "confirms" and r["shortfall"]]
    if conf:
        blocks.append(Paragraph(ctx.text("访谈印证了以下短板：" + "、".join(conf) + "。", "Interviews confirm the shortfalls in " + ", ".join(conf) + ".")))
    return blocks


def link_codes(ctx, lk, options) -> list:
    label = ctx.label
    pooled_name = ctx.text("合并（维度内中心化）", "pooled (within dimension)")
    rows = [{ctx.t["construct"]: label(d) if d != "pooled" else pooled_name, "n": fmt(r.n_units, 0), "r": fmt(r.r),
             "95% CI": f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]", "p": fmt_p(r.p)} for d, r in lk.iterrows()]
    blocks: list = [ctx.table(ctx.text("访谈障碍提及率与维度得分的社区层面相关", "Site-level association of barrier talk with scores"), rows)]
    if "pooled" in lk.index and lk.loc["pooled", "r"] == lk.loc["pooled", "r"]:
        pooled = lk.loc["pooled"]
        lower = pooled["r"] < 0
        blocks.append(Paragraph(ctx.text(
            f"在社区层面，访谈中提及某维度障碍越多的社区，该维度得分越{'低' if lower else '高'}（r = {pooled['r']:.3f}，p {fmt_p(pooled['p'])}）。",
            f"At community level, more barrier talk about a dimension goes with {'lower' if lower else 'higher'} scores on it "
            f"(r = {pooled['r']:.3f}, p {fmt_p(pooled['p'])}).")))
    return blocks
