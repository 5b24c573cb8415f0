"""Report sections of the mixed-methods analyses: capacity gaps, the interview code matrix,
intercoder agreement, the joint display and the site-level link of codes with scores.

Quadrant and convergence names, the joint display's rule and every sentence are written in
the report's language here (the results carry English keys). Conventions cited: the
importance–performance map of Martilla & James (1977); κ bands of Landis & Koch (1977);
the joint display after Fetters, Curry & Creswell (2013).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from govsurvey.integration.gaps import DEFAULT_TOLERANCE
from govsurvey.report.document import Paragraph, fmt, fmt_p, p_eq
from govsurvey.report.sections.results import ci_text, in_sentence

__all__ = ["capacity_gaps", "code_matrix", "agreement", "joint_display", "link_codes", "QUADRANT_NAMES", "CONVERGENCE_NAMES"]

QUADRANT_NAMES = {
    "concentrate here": ("重点改进区", "Concentrate here"), "keep up the good work": ("继续保持区", "Keep up the good work"),
    "low priority": ("低优先区", "Low priority"), "possible overkill": ("过度投入区", "Possible overkill"),
    "below target": ("低于目标", "Below target"), "at or above target": ("达到目标", "At or above target"),
}
CONVERGENCE_NAMES = {"confirms": ("印证", "Confirms"), "expands": ("拓展", "Expands"), "discordant": ("不一致", "Discordant"),
                     "silent": ("未涉及", "Silent")}
QUALITATIVE_NAMES = {"barrier": ("以障碍为主", "mostly barriers"), "facilitator": ("以促进为主", "mostly facilitators"),
                     "mixed": ("障碍与促进并存", "mixed"), "none": ("未提及", "not raised")}
RULE = (
    "量化信号：差距（重要性 − 表现，或目标 − 表现）显著大于 0（p < .05），且相对其他维度较大——差距高于各维度差距的中位数，"
    "或表现均值位于各维度表现的最低三分之一（不高于其 1/3 分位数）——的维度视为短板；分组分析时在组内比较，仅一个维度时差距显著即可。"
    "重要性—表现象限与之并列报告，不参与判定。质性信号：在提及该维度的受访者中，提及障碍类代码者的比例 ≥ 2/3 为"
    "“以障碍为主”，≤ 1/3 为“以促进为主”，介于两者之间为“障碍与促进并存”。整合判断：未涉及（无受访者提及该维度）；"
    "印证（短板且以障碍为主，或非短板且以促进为主）；拓展（障碍与促进并存，对数字作出补充和限定）；不一致（短板而以促进为主，"
    "或非短板而以障碍为主）。参照 Fetters, Curry 与 Creswell（2013）。",
    "Quantitative signal: a dimension falls short when its gap (importance − performance, or target − performance) is "
    "significantly above 0 (p < .05) and large relative to the other dimensions: above the median gap of the "
    "dimensions, or with mean performance in their lowest third (at or below the 1/3 quantile). Dimensions are compared "
    "within each group; a single dimension falls short on a significant gap alone. The importance–performance quadrant "
    "is reported beside this decision and does not enter it. Qualitative signal: among interviewees who raised the "
    "dimension, the share raising a barrier code — mostly barriers if ≥ 2/3, mostly facilitators if ≤ 1/3, mixed in "
    "between. Convergence: silent (no interviewee raised the dimension); confirms (a shortfall with mostly barriers, or no shortfall with mostly facilitators); "
    "expands (mixed themes, which qualify the numbers); discordant (a shortfall with mostly facilitators, or no shortfall with "
    "mostly barriers). After Fetters, Curry and Creswell (2013).",
)
SHORTFALL_NOTE = (
    "短板：差距显著大于 0（p < .05），且差距高于各维度差距的中位数或表现居各维度最低三分之一；象限不参与判定。",
    "Shortfall: a gap significantly above 0 (p < .05) that is above the median gap, or with performance in the "
    "lowest third of the dimensions; the quadrant does not enter it.",
)
SHORTFALL_REASONS = {"large_gap": ("差距高于中位数", "gap above median"),
                     "low_performance": ("表现居后 1/3", "performance in lowest third")}
BORDERLINE = ("（临界）", " (borderline)")


def _name(ctx, table: dict, key) -> str:
    if not isinstance(key, str):
        return "—"
    pair = table.get(key)
    return pair[0 if ctx.zh else 1] if pair else key


def _true(value) -> bool:
    """A flag of the results (numpy or Python bool) as a bool; missing or anything else is False."""
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _quadrant(ctx, r) -> str:
    """The quadrant's name, marked borderline when a mean lies within the tolerance band of an axis."""
    name = _name(ctx, QUADRANT_NAMES, r["quadrant"])
    return name + BORDERLINE[0 if ctx.zh else 1] if _true(r.get("quadrant_borderline")) else name


def _shortfall(ctx, r, reasons: bool = True) -> str:
    """是／否 (Yes/No) with the criteria met, e.g. "是（差距高于中位数；表现居后 1/3）"."""
    if "shortfall" not in r:
        return "—"
    if not _true(r["shortfall"]):
        return ctx.text("否", "No")
    met = [pair[0 if ctx.zh else 1] for key, pair in SHORTFALL_REASONS.items() if _true(r.get(key))]
    why = ctx.text(f"（{'；'.join(met)}）", f" ({'; '.join(met)})") if met and reasons else ""
    return ctx.text("是", "Yes") + why


def _band_note(ctx, g: pd.DataFrame, has_imp: bool) -> str:
    """The tolerance band of the quadrant lines (capacity_gaps' ``tolerance``, kept in the result's attrs)."""
    tol = g.attrs.get("tolerance", DEFAULT_TOLERANCE)
    small = ctx.text("（小于 Cohen 的“小”效应）", " (less than Cohen's small effect)") if tol <= 0.2 else ""
    if has_imp:
        return ctx.text(f"任一轴上与分界线的距离不超过该轴受访者层面合并标准差的 {tol:g} 倍{small}者标为“临界”，其象限仅供参考。",
                        f"A dimension within {tol:g} pooled respondent SD of either line{small} is marked borderline: "
                        "its quadrant is tentative.")
    return ctx.text(f"表现均值与目标值的距离不超过表现合并标准差的 {tol:g} 倍{small}者标为“临界”。",
                    f"A mean within {tol:g} pooled respondent SD of the target{small} is marked borderline.")


def _text_or_dash(value) -> str:
    return value if isinstance(value, str) and value.strip() else "—"


def capacity_gaps(ctx, g, options) -> list:
    t, label = ctx.t, ctx.label
    has_imp = "importance" in g.columns
    ref = ctx.text("重要性（均值）", "Importance (mean)") if has_imp else ctx.text("目标值", "Target")
    rows = [{t["construct"]: label(dim), ctx.text("表现（均值）", "Performance (mean)"): fmt(r["mean"], 2),
             ref: fmt(r["importance"] if has_imp else r["target"], 2), ctx.text("差距", "Gap"): fmt(r["gap"], 2),
             "95% CI": ci_text(r["ci_low"], r["ci_high"], 2), "t": fmt(r["t"], 2), "p": fmt_p(r["p"]), "d": fmt(r["d"], 2),
             ctx.text("象限", "Quadrant"): _quadrant(ctx, r), ctx.text("短板", "Shortfall"): _shortfall(ctx, r)}
            for dim, r in g.sort_values("gap", ascending=False).iterrows()]
    note = ctx.text("差距 = 重要性 − 表现（配对 t 检验）；d = 差距均值 / 差距标准差（配对数据的 Cohen's d）；象限以各维度重要性均值与表现均值的总平均为分界"
                    "（Martilla & James, 1977）。" if has_imp else "差距 = 目标值 − 表现（单样本 t 检验）；d = 差距均值 / 差距标准差。",
                    "Gap = importance − performance (paired t test); d = mean gap / SD of the gap (Cohen's d for paired data); quadrants split at the grand "
                    "means of importance and performance across dimensions (Martilla & James, 1977)." if has_imp else
                    "Gap = target − performance (one-sample t test); d = mean gap / SD of the gap.")
    note += ctx.text("", " ") + _band_note(ctx, g, has_imp) + ctx.text("", " ") + SHORTFALL_NOTE[0 if ctx.zh else 1]
    n = _n_span(g["n"]) if "n" in g else ""
    if n:
        note = f"n = {n}{ctx.text('；', '; ')}{note}"
    blocks: list = [ctx.table(ctx.text("能力差距（重要性—表现分析）", "Capacity gaps (importance–performance analysis)"), rows, note=note)]
    if has_imp:
        words = {"performance": ctx.text("表现（均值）", "Performance (mean)"), "importance": ctx.text("重要性（均值）", "Importance (mean)"),
                 "concentrate": _name(ctx, QUADRANT_NAMES, "concentrate here"), "keep": _name(ctx, QUADRANT_NAMES, "keep up the good work"),
                 "low_priority": _name(ctx, QUADRANT_NAMES, "low priority"), "overkill": _name(ctx, QUADRANT_NAMES, "possible overkill")}
        blocks.append(ctx.figure(ctx.text("重要性—表现四分图", "Importance–performance map"),
                                 lambda: ctx.figures().ipa(g, ctx.names, words)))
    blocks.append(Paragraph(_gap_sentence(ctx, g, has_imp)))
    return blocks


def _n_span(n: pd.Series) -> str:
    lo, hi = int(n.min()), int(n.max())
    return str(hi) if lo == hi else f"{lo}–{hi}"


def _gap_sentence(ctx, g: pd.DataFrame, has_imp: bool) -> str:
    label = lambda d: in_sentence(ctx, ctx.label(d))
    top = g.sort_values("gap", ascending=False).head(3)
    sig = g[(g["p"] < 0.05) & (g["gap"] > 0)]
    items = [f"{label(d)}{ctx.text('（', ' (')}{ctx.text('差距', 'gap')} = {fmt(r['gap'], 2)}, 95% CI {ci_text(r['ci_low'], r['ci_high'], 2)}"
             f"{ctx.text('）', ')')}" for d, r in top.iterrows()]
    zh = f"{len(g)} 个维度中有 {len(sig)} 个的差距显著大于 0（p < .05）。差距最大的是" + "、".join(items) + "。"
    en = f"Of {len(g)} dimensions, {len(sig)} have a gap significantly above zero (p < .05). The largest gaps are in " + "; ".join(items) + "."
    if "shortfall" in g.columns:
        zh, en = _shortfall_sentence(g, label, zh, en)
    if has_imp:
        focus = [label(d) + (BORDERLINE[0 if ctx.zh else 1] if _true(r.get("quadrant_borderline")) else "")
                 for d, r in g.iterrows() if r["quadrant"] == "concentrate here"]
        if focus:
            zh += "位于重点改进区（重要性高于平均而表现低于平均）的维度是" + "、".join(focus) + "。"
            en += " In the 'concentrate here' quadrant (importance above and performance below the average) lie " + ", ".join(focus) + "."
    return ctx.text(zh, en)


def _shortfall_sentence(g: pd.DataFrame, label, zh: str, en: str) -> tuple[str, str]:
    """The dimensions that fall short (capacity_gaps' ``shortfall``), largest gap first, appended in both languages."""
    short = [label(d) for d, r in g.sort_values("gap", ascending=False).iterrows() if _true(r["shortfall"])]
    if not short:
        return (zh + "按短板判定规则（见表注），没有维度构成短板。",
                en + " By the shortfall rule (table note), no dimension falls short.")
    return (zh + "按短板判定规则（见表注），构成短板的是" + "、".join(short) + "，应作为能力建设的优先方向。",
            en + " By the shortfall rule (table note), " + ", ".join(short) + (" falls" if len(short) == 1 else " fall")
            + " short: the first candidates for capacity building.")


def code_matrix(ctx, cm, options) -> list:
    unit = ctx.var_label(cm.index.name) if cm.index.name else ctx.t["unit"]
    blocks: list = [ctx.figure(ctx.text("各社区访谈涉及的维度", "Dimensions raised in interviews by community"),
                               lambda: ctx.figures().code_heatmap(cm, ctx.names, {"unit": unit}))]
    values = cm.to_numpy(dtype=float)
    if values.size:
        absent = [f"{in_sentence(ctx, ctx.label(c))}{ctx.text('（', ' (')}{_join(ctx, [str(i) for i in cm.index[cm[c] == 0]])}{ctx.text('）', ')')}"
                  for c in cm.columns if (cm[c] == 0).any()]
        zh = f"{len(cm)} 个{unit}的访谈涉及 {int((values.sum(axis=0) > 0).sum())} 个维度。"
        en = f"The interviews of the {len(cm)} units ({in_sentence(ctx, unit)}) raise {int((values.sum(axis=0) > 0).sum())} dimensions."
        if absent:
            zh += "未被提及的组合为：" + "；".join(absent) + "。"
            en += " Not raised: " + "; ".join(absent) + "."
        blocks.append(Paragraph(ctx.text(zh, en)))
    return blocks


def _join(ctx, parts: list[str]) -> str:
    return ctx.text("、", ", ").join(parts)


KAPPA_BANDS = ((0.20, "轻微一致", "slight"), (0.40, "一般一致", "fair"), (0.60, "中等一致", "moderate"), (0.80, "高度一致", "substantial"),
               (1.01, "几乎完全一致", "almost perfect"))


def _kappa_band(ctx, k: float) -> str:
    if pd.isna(k) or k < 0:
        return ctx.text("差于随机一致", "poor")
    return next(zh if ctx.zh else en for cut, zh, en in KAPPA_BANDS if k <= cut)


def agreement(ctx, ag, options) -> list:
    coders = tuple(getattr(ag, "coders", ()) or ("A", "B"))
    rows = [{ctx.text("代码", "Code"): str(code), "κ": fmt(r["kappa"], 2, bounded=True),
             ctx.text("一致率", "Agreement"): f"{r['agreement']:.1%}", f"n ({coders[0]})": fmt(int(r["n_coder_A"]), 0),
             f"n ({coders[1]})": fmt(int(r["n_coder_B"]), 0)} for code, r in ag.per_code.iterrows()] if len(ag.per_code) else []
    low = [str(c) for c, r in ag.per_code.iterrows() if not pd.isna(r["kappa"]) and r["kappa"] < 0.60] if len(ag.per_code) else []
    band = _kappa_band(ctx, ag.cohen_kappa)
    zh = (f"两位编码者在 {ag.n_units} 个编码单元上的一致性为 Cohen's κ = {fmt(ag.cohen_kappa, 3, bounded=True)}，Krippendorff's α = "
          f"{fmt(ag.krippendorff_alpha, 3, bounded=True)}，一致率 {ag.percent_agreement:.1%}；按 Landis 与 Koch（1977）的标准属“{band}”。")
    en = (f"Two coders agreed on {ag.n_units} coding units with Cohen's κ = {fmt(ag.cohen_kappa, 3, bounded=True)}, Krippendorff's "
          f"α = {fmt(ag.krippendorff_alpha, 3, bounded=True)} and {ag.percent_agreement:.1%} agreement: {band} agreement by "
          f"Landis and Koch's (1977) bands.")
    if low:
        zh += "κ 低于 .60 的代码（" + "、".join(low) + "）宜复核编码说明后重新编码。"
        en += " Codes with κ below .60 (" + ", ".join(low) + ") call for a review of their definitions and recoding."
    blocks: list = [Paragraph(ctx.text(zh, en))]
    if rows:
        blocks.append(ctx.table(ctx.text("各代码的编码者间一致性", "Intercoder agreement by code"), rows,
                                note=ctx.text("n 为各编码者使用该代码的次数；只有一位编码者使用或极少使用的代码，κ 不稳定。",
                                              "n: times each coder applied the code; κ is unstable for codes applied rarely or by one coder only.")))
    return blocks


def _themes(ctx, value) -> str:
    """"物资储备不足 (15); 物资调配及时 (2)" in the report's punctuation."""
    if not isinstance(value, str) or not value.strip():
        return "—"
    return re.sub(r" \((\d+)\)", r"（\1）", value).replace("; ", "；") if ctx.zh else value


def joint_display(ctx, jd, options) -> list:
    label, t = ctx.label, ctx.t
    rows = [{t["construct"]: label(d), ctx.text("差距", "Gap"): fmt(r["gap"], 2),
             ctx.text("短板", "Shortfall"): _shortfall(ctx, r, reasons=False),
             ctx.text("障碍提及比例", "Barrier share"): fmt(r["barrier_share_of_raised"], 2, bounded=True),
             ctx.text("主要主题（提及人数）", "Themes (interviewees)"): _themes(ctx, r["themes"]),
             ctx.text("典型引语", "Quotes"): _text_or_dash(r.get("quotes")),
             ctx.text("整合判断", "Convergence"): _name(ctx, CONVERGENCE_NAMES, r["convergence"])}
            for d, r in jd.iterrows()]
    note = ctx.text("障碍提及比例：提及该维度的受访者中提及障碍类代码者的比例。", "Barrier share: of the interviewees who raised the dimension, "
                    "the share who raised a barrier code. ") + RULE[0 if ctx.zh else 1]
    blocks: list = [ctx.table(ctx.text("联合展示：量化差距与访谈主题", "Joint display: quantitative gaps and interview themes"), rows, note=note),
                    ctx.figure(ctx.text("差距与障碍提及比例", "Gaps beside the share of interviewees naming barriers"),
                               lambda: ctx.figures().joint_figure(jd, ctx.names, {"gap": t["gap"], "barrier": t["barrier"]}))]
    blocks.append(Paragraph(_joint_sentence(ctx, jd)))
    return blocks


def _joint_sentence(ctx, jd: pd.DataFrame) -> str:
    label = lambda d: in_sentence(ctx, ctx.label(d))
    groups = {
        "short_conf": [label(d) for d, r in jd.iterrows() if r["convergence"] == "confirms" and r["shortfall"]],
        "ok_conf": [label(d) for d, r in jd.iterrows() if r["convergence"] == "confirms" and not r["shortfall"]],
        "expands": [label(d) for d, r in jd.iterrows() if r["convergence"] == "expands"],
        "discordant": [label(d) for d, r in jd.iterrows() if r["convergence"] == "discordant"],
        "silent": [label(d) for d, r in jd.iterrows() if r["convergence"] == "silent"],
    }
    words = {"short_conf": ("访谈印证了以下短板：{}", "Interviews confirm the shortfalls in {}"),
             "ok_conf": ("访谈同样印证了{}并非短板（以促进因素为主）", "they also confirm that {} are not shortfalls (mostly facilitators)"),
             "expands": ("在{}上，受访者既谈障碍也谈促进，对量化结果作出补充和限定", "on {}, interviewees name barriers and facilitators alike, qualifying the numbers"),
             "discordant": ("{}的量化与质性结果不一致，需进一步核查", "on {}, survey and interviews disagree and call for a closer look"),
             "silent": ("访谈未涉及{}", "interviews do not raise {}")}
    parts = [words[k][0 if ctx.zh else 1].format(_join(ctx, v)) for k, v in groups.items() if v]
    if not parts:
        return ""
    text = ctx.text("；", "; ").join(parts)
    return text + ctx.text("。", ".") if ctx.zh else text[:1].upper() + text[1:] + "."


def link_codes(ctx, lk, options) -> list:
    label = ctx.label
    pooled_name = ctx.text("合并（维度内中心化）", "Pooled (centred within dimension)")
    rows = [{ctx.t["construct"]: label(d) if d != "pooled" else pooled_name, ctx.text("单元数", "Units"): fmt(int(r.n_units), 0),
             "r": fmt(r.r, 3, bounded=True), "95% CI": ci_text(r.ci_low, r.ci_high, 3, bounded=True), "p": fmt_p(r.p),
             "ρ": fmt(r.rho, 3, bounded=True) if "rho" in lk else "—"} for d, r in lk.iterrows()]
    level = getattr(options, "level", None) or lk.attrs.get("level", "site")
    unit = ctx.var_label(level)
    note = ctx.text(f"单位为{unit}：每个单元格为一个{unit}在一个维度上的访谈障碍提及率与问卷平均得分；r 为 Pearson 相关（Fisher z 置信区间），ρ 为 Spearman 等级相关。",
                    f"Units are {unit.lower()}: each cell pairs one unit's rate of barrier talk on a dimension with its mean survey score; "
                    f"r is Pearson's (Fisher-z CI), ρ Spearman's rank correlation.")
    blocks: list = [ctx.table(ctx.text(f"访谈障碍提及率与维度得分的{unit}层面相关", f"Unit-level association of barrier talk with scores ({unit.lower()})"),
                              rows, note=note)]
    blocks.append(Paragraph(_link_sentence(ctx, lk, unit)))
    return blocks


def _link_sentence(ctx, lk: pd.DataFrame, unit: str) -> str:
    dims = lk.drop(index="pooled", errors="ignore")
    sig = dims[dims["p"] < 0.05]
    n = _n_span(dims["n_units"]) if len(dims) else "—"
    zh = (f"在单个维度上，每个相关只基于 {n} 个{unit}，置信区间很宽；{len(dims)} 个维度中有 {len(sig)} 个达到 .05 显著水平"
          + (f"（{_join(ctx, [f'{ctx.label(d)} r = {fmt(r.r, 2, bounded=True)}' for d, r in sig.iterrows()])}）" if len(sig) else "")
          + "，考虑到多重比较，应视为探索性结果。")
    en = (f"Within single dimensions each correlation rests on {n} units and its CI is wide; {len(sig)} of {len(dims)} reach .05"
          + (f" ({', '.join(f'{in_sentence(ctx, ctx.label(d))} r = {fmt(r.r, 2, bounded=True)}' for d, r in sig.iterrows())})" if len(sig) else "")
          + ", which, given the number of tests, is exploratory.")
    if "pooled" in lk.index and not pd.isna(lk.loc["pooled", "r"]):
        p = lk.loc["pooled"]
        lower = p["r"] < 0
        zh += (f"将各维度在维度内中心化后合并（{int(p['n_units'])} 个单元格），访谈中提及障碍越多的{unit}，该维度得分越{'低' if lower else '高'}"
               f"（r = {fmt(p['r'], 3, bounded=True)}，95% CI {ci_text(p['ci_low'], p['ci_high'], 3, bounded=True)}，{p_eq(p['p'])}）。"
               f"但同一{unit}的不同维度来自相同的受访者与访谈，这些单元格并不相互独立，该 p 值与置信区间因而偏乐观，只宜作描述性参考。")
        en += (f" Pooled across dimensions after centring within each ({int(p['n_units'])} cells), more barrier talk goes with "
               f"{'lower' if lower else 'higher'} scores (r = {fmt(p['r'], 3, bounded=True)}, 95% CI "
               f"{ci_text(p['ci_low'], p['ci_high'], 3, bounded=True)}, {p_eq(p['p'])}). The cells of one unit come from the same "
               f"respondents and interviews, so they are not independent: this p value and CI are too optimistic and the pooled r is descriptive only.")
    return ctx.text(zh, en)
