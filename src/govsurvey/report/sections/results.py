"""Report sections of the models: descriptives, correlations, group comparisons, regression,
multilevel models, mediation and moderation."""

from __future__ import annotations

import pandas as pd

from govsurvey.report.document import Paragraph, fmt, fmt_p, sample_note

__all__ = ["descriptives", "correlations", "compare_groups", "regression", "multilevel", "mediation", "moderation"]


def descriptives(ctx, d, options) -> list:
    t, label = ctx.t, ctx.label
    rows = [{t["construct"]: label(v), "n": fmt(r["n"], 0), "M": fmt(r["mean"], 2), "SD": fmt(r["sd"], 2),
             "skew": fmt(r["skew"], 2), "kurtosis": fmt(r["kurtosis"], 2)} for v, r in d.table.iterrows()]
    blocks: list = [ctx.table(ctx.text("各维度得分描述统计", "Descriptive statistics of construct scores"), rows)]
    by = d.by
    if by:
        inst = ctx.inst
        first = list(inst.importance_items)[:1] or list(d.table.index)[:1]
        groups = {}
        if by in {x.id for x in inst.questions} and inst.scales[inst.question(by).scale].labels.get(ctx.lang):
            groups = {float(k): v for k, v in inst.scales[inst.question(by).scale].labels[ctx.lang].items()}
        for col in first:
            words = {"ylabel": label(col), "xlabel": by, "groups": groups}
            blocks.append(ctx.figure(ctx.text(f"{label(col)}得分分布（按{by}）", f"{label(col)} by {by}"),
                                     lambda col=col, words=words: ctx.figures().distributions(ctx.res.frame, col, by, words)))
    return blocks


def correlations(ctx, cr, options) -> list:
    blocks: list = [ctx.figure(ctx.text("维度间相关", "Correlations between constructs"),
                               lambda: ctx.figures().correlation_heatmap(cr.r, ctx.names))]
    rows = []
    for v, r in cr.to_frame().iterrows():
        row = {ctx.t["construct"]: ctx.label(v), "M": fmt(r["M"], 2), "SD": fmt(r["SD"], 2)}
        for j, w in enumerate(cr.r.columns):
            val, p = r[w], cr.p.loc[v, w]
            row[str(j + 1)] = "" if pd.isna(val) else fmt(val, 2) + ("**" if p < 0.01 else "*" if p < 0.05 else "")
        rows.append(row)
    blocks.append(ctx.table(ctx.text("均值、标准差与相关系数", "Means, SDs and correlations"), rows, note="* p < .05, ** p < .01"))
    return blocks


def compare_groups(ctx, g, o) -> list:
    gt = g.groups.reset_index()
    rows = [{str(o.group): ctx.group_label(o.group, r.iloc[0]), "n": fmt(r["n"], 0), "M": fmt(r["mean"], 2), "SD": fmt(r["sd"], 2)}
            for _, r in gt.iterrows()] if "mean" in gt else []
    es = g.effect_size.iloc[0]
    es_text = ", ".join(f"{k} = {fmt(v)}" for k, v in es.items() if not str(k).endswith(("ci_low", "ci_high")))
    dv = ctx.label(o.dv)
    blocks: list = []
    if rows:
        note = f"{g.test}: statistic = {fmt(g.statistic)}, df = ({fmt(g.df1, 0)}, {fmt(g.df2, 2)}), p {fmt_p(g.p_value)}; {es_text}"
        blocks.append(ctx.table(ctx.text(f"{dv}在{o.group}上的差异", f"{dv} by {o.group}"), rows, note=note))
    sig = g.p_value < 0.05
    blocks.append(Paragraph(ctx.text(
        f"{dv}在不同{o.group}间{'存在' if sig else '不存在'}显著差异（{g.test}，p {fmt_p(g.p_value)}；{es_text}）。",
        f"{dv} {'differs' if sig else 'does not differ'} significantly by {o.group} ({g.test}, p {fmt_p(g.p_value)}; {es_text}).")))
    return blocks


def regression(ctx, r, o) -> list:
    rows = [{"term": term, "b": fmt(x.b), "SE": fmt(x.se), "β": fmt(x.beta), "t": fmt(x.t, 2), "p": fmt_p(x.p), "VIF": fmt(x.vif, 2)}
            for term, x in r.table.iterrows()]
    note = f"{sample_note(ctx, r.n, 'listwise', r.n_dropped, None)}, R² = {fmt(r.r2)}, adj. R² = {fmt(r.adj_r2)}, F = {fmt(r.f, 2)}, p {fmt_p(r.f_pvalue)}"
    return [ctx.table(ctx.text(f"回归分析：{o.formula}", f"Regression: {o.formula}"), rows, note=note)]


def multilevel(ctx, m, o) -> list:
    rows = [{"term": term, "b": fmt(x.b), "SE": fmt(x.se), "z": fmt(x.z, 2), "p": fmt_p(x.p)} for term, x in m.fixed.iterrows()]
    note = (f"ICC = {fmt(m.icc)}, σ²(group) = {fmt(m.var_groups)}, σ²(residual) = {fmt(m.var_residual)}, "
            f"groups = {m.n_groups}, n = {m.n}")
    return [ctx.table(ctx.text(f"多层线性模型：{o.formula}（{o.groups}）", f"Multilevel model: {o.formula} ({o.groups})"), rows, note=note),
            Paragraph(ctx.text(f"组内相关系数 ICC = {m.icc:.3f}，即 {m.icc:.1%} 的变异来自{o.groups}之间。",
                               f"ICC = {m.icc:.3f}: {m.icc:.1%} of the variance lies between {o.groups} units."))]


def mediation(ctx, md, o) -> list:
    label = ctx.label
    rows = [{"effect": eff, "estimate": fmt(x.estimate), "SE": fmt(x.se), "p": fmt_p(x.p), "95% CI": f"[{fmt(x.ci_low)}, {fmt(x.ci_high)}]"}
            for eff, x in md.table.iterrows()]
    caption = ctx.text(f"中介效应：{label(md.x)} → {'、'.join(label(v) for v in md.m)} → {label(md.y)}",
                       f"Mediation: {label(md.x)} → {', '.join(label(v) for v in md.m)} → {label(md.y)}")
    draws = ctx.text(f"{md.n_boot} 次抽样", f"{md.n_boot} draws") if md.ci_method == "Monte Carlo" else ctx.text(
        f"{md.n_boot} 次重抽样", f"{md.n_boot} resamples")
    note = f"{sample_note(ctx, md.n, md.missing, md.n_dropped, None)}; {md.ci_method}, {draws}, seed {md.seed}"
    blocks: list = [ctx.table(caption, rows, note=note)]
    ind = md.table.loc["indirect"]
    sig = ind["ci_low"] > 0 or ind["ci_high"] < 0
    blocks.append(Paragraph(ctx.text(
        f"间接效应为 {ind['estimate']:.3f}，95% 置信区间 [{ind['ci_low']:.3f}, {ind['ci_high']:.3f}] {'不包含' if sig else '包含'} 0，中介效应{'成立' if sig else '不显著'}。",
        f"The indirect effect is {ind['estimate']:.3f}, 95% CI [{ind['ci_low']:.3f}, {ind['ci_high']:.3f}], which {'excludes' if sig else 'includes'} zero: "
        f"mediation is {'supported' if sig else 'not supported'}.")))
    return blocks


def moderation(ctx, mo, o) -> list:
    label = ctx.label
    rows = [{"term": term, "b": fmt(x.b), "SE": fmt(x.se), "t": fmt(x.t, 2), "p": fmt_p(x.p)} for term, x in mo.table.iterrows()]
    caption = ctx.text(f"调节效应：{label(o.w)} 调节 {label(o.x)} → {label(o.y)}", f"Moderation: {label(o.w)} moderating {label(o.x)} → {label(o.y)}")
    return [ctx.table(caption, rows, note=f"{sample_note(ctx, mo.n, 'listwise', mo.n_dropped, None)}; "
                                         f"ΔR² (interaction) = {fmt(mo.delta_r2_interaction)}")]
