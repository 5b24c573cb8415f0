"""Report sections of the models: descriptives, correlations, group comparisons, regression,
multilevel models, mediation and moderation.

Every number goes through the formatting helpers of :mod:`govsurvey.report.document`; every
name shown is a label (construct labels, background questions' short labels and value labels),
never a column name or a model term. Interpretation sentences state the numbers they read and
the convention they use: |skewness| < 2 and |kurtosis| < 7 (West, Finch & Curran, 1995);
Cohen's (1988) small/medium/large effects (d .20/.50/.80, η² .01/.06/.14); design effect
1 + (m̄ − 1)·ICC > 2 (Muthén & Satorra, 1995); mediation types after Zhao, Lynch & Chen (2010).
Cross-sectional data support statements of association only, and the sentences say no more.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from govsurvey.report.document import Paragraph, fmt, fmt_p, p_eq, sample_note, stat_eq

__all__ = ["descriptives", "correlations", "compare_groups", "regression", "multilevel", "mediation", "moderation",
           "ci_text", "term_label", "in_sentence"]

TESTS = {"t": ("独立样本 t 检验", "independent-samples t test"), "welch": ("Welch t 检验", "Welch's t test"),
         "anova": ("单因素方差分析", "one-way ANOVA"), "welch_anova": ("Welch 方差分析", "Welch's ANOVA"),
         "mannwhitney": ("Mann–Whitney U 检验", "Mann–Whitney U test"), "kruskal": ("Kruskal–Wallis H 检验", "Kruskal–Wallis H test"),
         "chi2": ("χ² 检验", "χ² test")}
# effect-size column → (symbol, digits, bounded, CI columns)
EFFECTS = {"cohen_d": ("Cohen's d", 2, False, ("d_ci_low", "d_ci_high")), "hedges_g": ("Hedges' g", 2, False, None),
           "eta_sq": ("η²", 3, True, ("eta_sq_ci_low", "eta_sq_ci_high")), "omega_sq": ("ω²", 3, True, None),
           "rank_biserial": (("秩二列相关 r", "rank-biserial r"), 2, True, None), "epsilon_sq": ("ε²", 3, True, None), "cramers_v": ("Cramér's V", 3, True, None)}
SIZE_CUTS = {"cohen_d": (0.2, 0.5, 0.8), "eta_sq": (0.01, 0.06, 0.14)}           # Cohen (1988)
SIZE_WORDS = {"zh": ("微弱（未达小效应）", "较小", "中等", "较大"), "en": ("negligible", "small", "medium", "large")}
CI_METHODS = {"percentile bootstrap": ("百分位 Bootstrap", "percentile bootstrap"),
              "bias-corrected bootstrap": ("偏差校正 Bootstrap", "bias-corrected bootstrap"), "Monte Carlo": ("蒙特卡洛", "Monte Carlo")}
_CAT = re.compile(r"^(C\(.*\))\[T\.(.*)\]$")


def ci_text(low: float, high: float, digits: int = 3, bounded: bool = False) -> str:
    """A confidence interval as "[.025, .095]" / "[−0.20, 0.12]"."""
    return f"[{fmt(low, digits, bounded=bounded)}, {fmt(high, digits, bounded=bounded)}]"


def _join(ctx, parts: list[str]) -> str:
    return ctx.text("、", ", ").join(parts)


def _lower(text: str) -> str:
    """A label inside an English sentence: "Role in the community" → "role in the community"
    (acronyms such as "ICT use" keep their capitals)."""
    return text[:1].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text


def in_sentence(ctx, text: str) -> str:
    """A label as it reads inside an English sentence (lower case, APA 7); Chinese unchanged."""
    return text if ctx.zh else _lower(text)


def _vl(ctx, var) -> str:
    """A variable's short label (constructs and background questions alike)."""
    return ctx.var_label(var) if hasattr(ctx, "var_label") else ctx.label(var)


# --------------------------------------------------------------------------- model terms
def _categoricals(formula: str) -> dict[str, tuple[str, object]]:
    """``C(...)`` factor text → (variable, reference level or None) of a model formula."""
    from govsurvey.models.formula import Categorical, parse_formula

    try:
        parsed = parse_formula(formula)
    except Exception:                 # a formula the study already fitted; a label is all we need here
        return {}
    return {f.text: (f.var.name, f.reference) for term in parsed.terms for f in term if isinstance(f, Categorical)}


def term_label(ctx, term: str, cats: dict[str, tuple[str, object]]) -> str:
    """A model term as a reader sees it: "截距", a construct's label, "身份：社区干部" for a
    dummy of ``C(role)``, and "信任 × 身份：社区干部" for an interaction."""
    parts = []
    for part in str(term).split(":"):
        m = _CAT.match(part)
        if part == "Intercept":
            parts.append(ctx.text("截距", "Intercept"))
        elif m and m.group(1) in cats:
            var = cats[m.group(1)][0]
            parts.append(f"{_vl(ctx, var)}{ctx.text('：', ': ')}{ctx.group_label(var, m.group(2))}")
        else:
            parts.append(_vl(ctx, part))
    return " × ".join(parts)


def _reference_note(ctx, terms, cats: dict[str, tuple[str, object]]) -> str:
    """Which level each categorical predictor is compared with: "参照组：身份 = 社区居民"."""
    notes = []
    for text, (var, ref) in cats.items():
        levels = {m.group(2) for t in terms for p in str(t).split(":") if (m := _CAT.match(p)) and m.group(1) == text}
        if ref is None and var in ctx.res.frame:
            col = ctx.res.frame[var].dropna()
            cands = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.unique(), key=str)
            rest = [c for c in cands if str(c) not in levels]
            ref = rest[0] if rest else None
        if ref is not None:
            notes.append(f"{_vl(ctx, var)} = {ctx.group_label(var, ref)}")
    if not notes:
        return ""
    return ctx.text("类别变量以虚拟变量进入模型，参照组：", "Categorical predictors are dummy-coded; reference: ") + \
        ctx.text("；", "; ").join(notes)


# --------------------------------------------------------------------------- descriptives
def descriptives(ctx, d, options) -> list:
    t = ctx.t
    rows = [{t["construct"]: ctx.label(v), "n": fmt(r["n"], 0), "M": fmt(r["mean"], 2), "SD": fmt(r["sd"], 2),
             ctx.text("偏度", "Skewness"): fmt(r["skew"], 2), ctx.text("偏度标准误", "SE (skewness)"): fmt(r["se_skew"], 2),
             ctx.text("峰度", "Kurtosis"): fmt(r["kurtosis"], 2), ctx.text("峰度标准误", "SE (kurtosis)"): fmt(r["se_kurtosis"], 2)}
            for v, r in d.table.iterrows()]
    note = ctx.text("偏度与峰度为偏差校正的 G1、G2（与 SPSS 一致），峰度为超额峰度（正态分布为 0）。",
                    "Skewness and kurtosis are the bias-corrected G1 and G2 (as SPSS reports them); kurtosis is excess kurtosis (0 for a normal distribution).")
    missing = int(d.table["missing"].max()) if "missing" in d.table else 0
    if missing:
        note += ctx.text(f"n 为各维度的有效得分数（最多缺失 {missing} 个）。", f" n is the number of valid scores (at most {missing} missing).")
    blocks: list = [ctx.table(ctx.text("各维度得分描述统计", "Descriptive statistics of construct scores"), rows, note=note),
                    Paragraph(_describe_sentence(ctx, d.table))]
    if d.by:
        blocks.extend(_by_group(ctx, d))
    return blocks


def _describe_sentence(ctx, table: pd.DataFrame) -> str:
    tab = table.dropna(subset=["mean"])
    hi, lo = tab["mean"].idxmax(), tab["mean"].idxmin()
    sk, ku = tab["skew"].dropna(), tab["kurtosis"].dropna()
    ok = bool((sk.abs() < 2).all() and (ku.abs() < 7).all())
    rng = lambda s: (fmt(s.min(), 2), fmt(s.max(), 2))
    (s0, s1), (k0, k1) = rng(sk), rng(ku)
    return ctx.text(
        f"各维度均值介于 {fmt(tab['mean'].min(), 2)}（{ctx.label(lo)}）与 {fmt(tab['mean'].max(), 2)}（{ctx.label(hi)}）之间。"
        f"偏度介于 {s0} 与 {s1} 之间，峰度介于 {k0} 与 {k1} 之间，"
        + ("均在 |偏度| < 2、|峰度| < 7 的范围内（West, Finch, & Curran, 1995），未见严重偏离正态分布。" if ok else
           "部分维度超出 |偏度| < 2、|峰度| < 7 的范围（West, Finch, & Curran, 1995），基于正态假设的估计需谨慎，宜报告稳健或 Bootstrap 结果。"),
        f"Construct means range from {fmt(tab['mean'].min(), 2)} ({ctx.label(lo)}) to {fmt(tab['mean'].max(), 2)} ({ctx.label(hi)}). "
        f"Skewness ranges from {s0} to {s1} and kurtosis from {k0} to {k1}, "
        + ("all within |skewness| < 2 and |kurtosis| < 7 (West, Finch, & Curran, 1995): no severe departure from normality." if ok else
           "with some outside |skewness| < 2 and |kurtosis| < 7 (West, Finch, & Curran, 1995): estimates that assume normality "
           "should be read with care, alongside robust or bootstrap results."))


def _by_group(ctx, d) -> list:
    """M and SD of every construct per group of ``by`` (value labels, n per group), and the
    score distribution of the first construct by group."""
    by, bt = d.by, d.by_table
    groups = list(dict.fromkeys(bt.index.get_level_values(0)))
    rows = []
    for v in d.table.index:
        row = {ctx.t["construct"]: ctx.label(v)}
        for g in groups:
            r = bt.loc[(g, v)] if (g, v) in bt.index else None
            name = ctx.group_label(by, g)
            row[f"{name} M"] = fmt(r["mean"], 2) if r is not None else "—"
            row[f"{name} SD"] = fmt(r["sd"], 2) if r is not None else "—"
        rows.append(row)
    sizes = [f"{ctx.group_label(by, g)} {_n_range(bt.xs(g, level=0)['n'])}" for g in groups]
    note = ctx.text("各组人数 n：", "Group sizes n: ") + ctx.text("，", ", ").join(sizes) + ctx.text("。", ".")
    byl = _vl(ctx, by)
    blocks: list = [ctx.table(ctx.text(f"各维度得分按{byl}分组的描述统计", f"Construct scores by {byl}"), rows, note=note)]
    first = [c for c in list(ctx.inst.importance_items)[:1] or list(d.table.index)[:1] if c in ctx.res.frame]
    labels = ctx.inst.scales[ctx.inst.question(by).scale].labels.get(ctx.lang, {}) if by in {q.id for q in ctx.inst.questions} else {}
    groups_words = {float(k): v for k, v in labels.items()}
    for col in first:
        words = {"ylabel": ctx.label(col), "xlabel": byl, "groups": groups_words}
        blocks.append(ctx.figure(ctx.text(f"{ctx.label(col)}得分分布（按{byl}）", f"{ctx.label(col)} scores by {byl}"),
                                 lambda col=col, words=words: ctx.figures().distributions(ctx.res.frame, col, by, words)))
    return blocks


def _n_range(n: pd.Series) -> str:
    lo, hi = int(n.min()), int(n.max())
    return str(hi) if lo == hi else f"{lo}–{hi}"


# --------------------------------------------------------------------------- correlations
def correlations(ctx, cr, options) -> list:
    blocks: list = [ctx.figure(ctx.text("维度间相关", "Correlations between constructs"),
                               lambda: ctx.figures().correlation_heatmap(cr.r, ctx.names))]
    rows = []
    for i, (v, r) in enumerate(cr.to_frame().iterrows()):
        row = {ctx.t["construct"]: f"{i + 1}. {ctx.label(v)}", "M": fmt(r["M"], 2), "SD": fmt(r["SD"], 2)}
        for j, w in enumerate(cr.r.columns):
            val, p = r[w], cr.p.loc[v, w]
            row[str(j + 1)] = "—" if i == j else "" if pd.isna(val) else fmt(val, 2, bounded=True) + ("**" if p < 0.01 else "*" if p < 0.05 else "")
        rows.append(row)
    n = cr.n.to_numpy()
    n_text = _n_range(pd.Series(n[~np.eye(len(n), dtype=bool)] if len(n) > 1 else n.ravel()))
    method = ctx.text("Pearson 相关", "Pearson correlations") if cr.method == "pearson" else ctx.text("Spearman 等级相关", "Spearman rank correlations")
    sep = ctx.text("；", "; ")
    note = f"{method}{sep}n = {n_text}" + ctx.text("（成对删除）", " (pairwise deletion)") + f"{sep}* p < .05, ** p < .01"
    blocks.append(ctx.table(ctx.text("均值、标准差与相关系数", "Means, SDs and correlations"), rows, note=note))
    blocks.append(Paragraph(_correlation_sentence(ctx, cr)))
    return blocks


def _correlation_sentence(ctx, cr) -> str:
    mask = np.tril(np.ones(cr.r.shape, dtype=bool), k=-1)
    r, p = cr.r.to_numpy()[mask], cr.p.to_numpy()[mask]
    keep = ~np.isnan(r)
    r, p = r[keep], p[keep]
    if not len(r):
        return ""
    sig = int((p < 0.05).sum())
    pos, neg = int(((p < 0.05) & (r > 0)).sum()), int(((p < 0.05) & (r < 0)).sum())
    lo, hi = fmt(r.min(), 2, bounded=True), fmt(r.max(), 2, bounded=True)
    return ctx.text(
        f"{len(r)} 对维度间的相关系数介于 {lo} 与 {hi} 之间，其中 {sig} 对在 .05 水平上显著"
        + (f"（正相关 {pos} 对，负相关 {neg} 对）。" if pos and neg else "，且均为正相关。" if pos else "，且均为负相关。" if neg else "。") +
        "相关仅反映共变关系，不说明因果方向。",
        f"The {len(r)} correlations between constructs range from r = {lo} to {hi}; {sig} are significant at .05 "
        + (f"({pos} positive, {neg} negative). " if pos and neg else "(all positive). " if pos else "(all negative). " if neg else ". ") +
        "Correlations show covariation, not the direction of any effect.")


# --------------------------------------------------------------------------- group comparisons
def _test_text(ctx, g) -> str:
    """The test by name and its statistic in APA form: "单因素方差分析，F(3, 596) = 12.44, p < .001"."""
    name = TESTS.get(g.test, (g.test, g.test))[0 if ctx.zh else 1]
    if g.test in ("t", "welch"):
        stat = stat_eq("t", g.statistic, g.df2)
    elif g.test in ("anova", "welch_anova"):
        stat = stat_eq("F", g.statistic, (g.df1, g.df2))
    elif g.test == "mannwhitney":
        stat = stat_eq("U", g.statistic)
    elif g.test == "kruskal":
        stat = stat_eq("H", g.statistic, g.df1)
    else:
        stat = stat_eq("χ²", g.statistic, g.df1) + f", N = {g.n}"
    return f"{name}{ctx.text('，', ', ')}{stat}, {p_eq(g.p_value)}"


def _effect_text(ctx, es: pd.Series) -> str:
    """Effect sizes by their symbols with CIs: "η² = .059, 95% CI [.025, .095], ω² = .054"."""
    parts = []
    for key, (sym, digits, bounded, cis) in EFFECTS.items():
        if key not in es or pd.isna(es[key]):
            continue
        sym = sym if isinstance(sym, str) else sym[0 if ctx.zh else 1]
        text = f"{sym} = {fmt(es[key], digits, bounded=bounded)}"
        if cis and all(c in es for c in cis) and not (pd.isna(es[cis[0]]) or pd.isna(es[cis[1]])):
            text += f", 95% CI {ci_text(es[cis[0]], es[cis[1]], digits, bounded)}"
        parts.append(text)
    return ", ".join(parts)


def _size_word(ctx, es: pd.Series) -> str:
    for key, cuts in SIZE_CUTS.items():
        if key in es and not pd.isna(es[key]):
            return SIZE_WORDS[ctx.lang][int(np.searchsorted(cuts, abs(float(es[key])), side="right"))]
    return ""


def compare_groups(ctx, g, o) -> list:
    dv, grp = _vl(ctx, o.dv), _vl(ctx, o.group)
    es = g.effect_size.iloc[0]
    stat, eff = _test_text(ctx, g), _effect_text(ctx, es)
    blocks: list = []
    rows = _group_rows(ctx, g, o)
    if rows:
        note = ctx.text("；", "; ").join(x for x in (sample_note(ctx, g.n, "listwise", g.n_dropped, None), stat, eff, _levene_text(ctx, g)) if x)
        blocks.append(ctx.table(ctx.text(f"{dv}在不同{grp}间的比较", f"{dv} by {grp}"), rows, note=note))
    sig = g.p_value < 0.05
    size = _size_word(ctx, es)
    size_zh = f"，按 Cohen（1988）的标准效应量{size}" if size else ""
    size_en = f"; a {size} effect by Cohen's (1988) benchmarks" if size else ""
    blocks.append(Paragraph(ctx.text(
        f"{dv}在不同{grp}之间{'存在显著差异' if sig else '未发现显著差异'}（{stat}；{eff}）{size_zh}。",
        f"{dv} {'differs significantly' if sig else 'does not differ significantly'} by {_lower(grp)} "
        f"({stat}; {eff}){size_en}.")))
    if sig and g.posthoc is not None and len(g.posthoc):
        blocks.extend(_posthoc(ctx, g, o))
    return blocks


def _group_rows(ctx, g, o) -> list[dict]:
    grp = _vl(ctx, o.group)
    gt = g.groups
    if g.test == "chi2":
        return [{grp: ctx.group_label(o.group, lv), **{ctx.group_label(o.dv, c): fmt(int(r[c]), 0) for c in gt.columns}}
                for lv, r in gt.iterrows()]
    if "mean" not in gt:
        return []
    return [{grp: ctx.group_label(o.group, lv), "n": fmt(int(r["n"]), 0), "M": fmt(r["mean"], 2), "SD": fmt(r["sd"], 2)}
            for lv, r in gt.iterrows()]


def _levene_text(ctx, g) -> str:
    if not g.levene or g.test not in ("t", "welch", "anova", "welch_anova"):
        return ""
    k = len(g.groups)
    return ctx.text("Levene 方差齐性检验（基于中位数）", "Levene's test (median-centred)") + " " + \
        stat_eq("F", g.levene["statistic"], (k - 1, g.n - k)) + f", {p_eq(g.levene['p_value'])}"


def _posthoc(ctx, g, o) -> list:
    """Pairwise comparisons (Tukey HSD or Games–Howell) with labels, the mean difference, its
    SE, adjusted p, the simultaneous 95% CI and Hedges' g."""
    ph = g.posthoc
    tukey = any(c in ph for c in ("p_tukey", "p-tukey"))
    pcol = next(c for c in ("p_tukey", "p-tukey", "pval", "p_unc", "p-unc") if c in ph)
    name = "Tukey HSD" if tukey else "Games–Howell"
    rows, sig = [], []
    for _, r in ph.iterrows():
        pair = f"{ctx.group_label(o.group, r['A'])} − {ctx.group_label(o.group, r['B'])}"
        rows.append({ctx.text("比较", "Comparison"): pair, ctx.text("均值差", "Mean difference"): fmt(r["diff"], 2), "SE": fmt(r["se"], 3),
                     "p": fmt_p(r[pcol]), "95% CI": ci_text(r["ci_low"], r["ci_high"], 2), "Hedges' g": fmt(r.get("hedges"), 2)})
        if r[pcol] < 0.05:
            sig.append(f"{pair}{ctx.text('（', ' (')}{ctx.text('均值差', 'difference')} = {fmt(r['diff'], 2)}, {p_eq(r[pcol])}{ctx.text('）', ')')}")
    note = ctx.text(f"{name} 事后比较；p 值与 95% 置信区间已按多重比较校正（学生化极差分布）。",
                    f"{name} comparisons; p values and 95% CIs are adjusted for multiple comparisons (studentized range).")
    grp = _vl(ctx, o.group)
    blocks: list = [ctx.table(ctx.text(f"{_vl(ctx, o.dv)}的事后两两比较（{name}）", f"Pairwise comparisons of {_vl(ctx, o.dv)} ({name})"),
                              rows, note=note)]
    blocks.append(Paragraph(ctx.text(
        f"{name} 事后比较显示，" + (f"以下{grp}组间差异显著：" + "；".join(sig) + "；其余组间差异不显著。" if sig else "没有一对组间差异达到显著水平。"),
        f"{name} comparisons show " + ("significant differences between " + "; ".join(sig) + "; the other pairs do not differ significantly."
                                       if sig else "no pair of groups differing significantly."))))
    return blocks


# --------------------------------------------------------------------------- regression
def _outcome(formula: str) -> str:
    return formula.split("~", 1)[0].strip()


def regression(ctx, r, o) -> list:
    cats = _categoricals(r.formula)
    stat = "z" if r.robust and r.robust_df == "normal" else "t"
    rows = [{ctx.text("预测变量", "Predictor"): term_label(ctx, term, cats), "b": fmt(x.b), "SE": fmt(x.se),
             "β": fmt(x.beta, 3), stat: fmt(x.t, 2), "p": fmt_p(x.p), "95% CI": ci_text(x.ci_low, x.ci_high),
             "VIF": fmt(x.vif, 2)} for term, x in r.table.iterrows()]
    y = _vl(ctx, _outcome(r.formula))
    fit = f"R² = {fmt(r.r2, 3, bounded=True)}, {ctx.text('调整后 R²', 'adjusted R²')} = {fmt(r.adj_r2, 3, bounded=True)}, " \
          f"{stat_eq('F', r.f, (r.df_model, r.df_resid))}, {p_eq(r.f_pvalue)}"
    robust = ctx.text(f"标准误为 {r.robust} 异方差稳健标准误", f"{r.robust} heteroscedasticity-robust standard errors") if r.robust else ""
    parts = [sample_note(ctx, r.n, "listwise", r.n_dropped, None), fit, robust,
             ctx.text("b 为非标准化系数，β 为标准化系数", "b unstandardized, β standardized coefficients"),
             _reference_note(ctx, r.table.index, cats)]
    blocks: list = [ctx.table(ctx.text(f"{y}的多元回归分析", f"Multiple regression of {_lower(y)}"), rows,
                              note=ctx.text("；", "; ").join(x for x in parts if x))]
    blocks.append(Paragraph(_regression_sentence(ctx, r, cats, y, fit)))
    return blocks


def _regression_sentence(ctx, r, cats, y: str, fit: str) -> str:
    tab = r.table.drop(index="Intercept", errors="ignore")
    sig = tab[tab["p"] < 0.05]
    def one(term, x) -> str:
        beta = f"β = {fmt(x.beta, 2)}, " if not pd.isna(x.beta) else ""
        return f"{in_sentence(ctx, term_label(ctx, term, cats))}{ctx.text('（', ' (')}b = {fmt(x.b, 2)}, {beta}{p_eq(x.p)}{ctx.text('）', ')')}"
    pos = [one(t, x) for t, x in sig.iterrows() if x.b > 0]
    neg = [one(t, x) for t, x in sig.iterrows() if x.b < 0]
    rest = [in_sentence(ctx, term_label(ctx, t, cats)) for t in tab.index if t not in sig.index]
    share = f"{r.r2:.1%}"
    zh = f"模型解释了{y} {share} 的变异（{fit}）。"
    en = f"The model accounts for {share} of the variance in {_lower(y)} ({fit}). "
    if pos:
        zh += "在控制其他变量后，" + "、".join(pos) + f"与{y}显著正相关"
        en += "Holding the other predictors constant, " + ", ".join(pos) + f" {'is' if len(pos) == 1 else 'are'} positively associated with it"
    if neg:
        zh += ("；" if pos else "在控制其他变量后，") + "、".join(neg) + f"与{y}显著负相关"
        en += ("; " if pos else "Holding the other predictors constant, ") + ", ".join(neg) + " negatively"
    zh += ("。" if pos or neg else "没有预测变量达到显著水平。") + (f"{'、'.join(rest)}的系数不显著。" if rest and (pos or neg) else "")
    en += ("." if pos or neg else "No predictor is significant.") + (f" The coefficients of {', '.join(rest)} are not significant." if rest and (pos or neg) else "")
    if any(_CAT.match(p) for t in sig.index for p in str(t).split(":")):
        zh += "类别变量的系数是与参照组相比的均值差异。"
        en += " Coefficients of categories are differences from the reference category."
    return ctx.text(zh + "横截面数据只能说明关联，不能据此推断因果。", en + " Cross-sectional data show associations, not causes.")


# --------------------------------------------------------------------------- multilevel
def multilevel(ctx, m, o) -> list:
    cats = _categoricals(m.formula)
    rows = [{ctx.text("固定效应", "Fixed effect"): term_label(ctx, term, cats), "b": fmt(x.b), "SE": fmt(x.se), "z": fmt(x.z, 2),
             "p": fmt_p(x.p), "95% CI": ci_text(x.ci_low, x.ci_high)} for term, x in m.fixed.iterrows()]
    unit = _vl(ctx, o.groups)
    mbar = m.n / m.n_groups if m.n_groups else float("nan")
    icc = m.icc_null if not pd.isna(m.icc_null) else m.icc
    deff = 1 + (mbar - 1) * icc
    parts = [sample_note(ctx, m.n, "listwise", m.n_dropped, None),
             ctx.text(f"{m.n_groups} 个{unit}，平均每组 {fmt(mbar, 1)} 人", f"{m.n_groups} {_lower(unit)} units, {fmt(mbar, 1)} cases each on average"),
             ctx.text("组间方差", "between-group variance") + f" σ²u = {fmt(m.var_groups)}",
             ctx.text("组内（残差）方差", "residual variance") + f" σ²e = {fmt(m.var_residual)}",
             f"ICC = {fmt(m.icc, 3, bounded=True)}", ctx.text("REML 估计", "REML estimates") if m.reml else ctx.text("ML 估计", "ML estimates"),
             _reference_note(ctx, m.fixed.index, cats)]
    y = _vl(ctx, _outcome(m.formula))
    blocks: list = [ctx.table(ctx.text(f"{y}的多层线性模型（{unit}层面随机截距）", f"Multilevel model of {_lower(y)} (random intercept of {_lower(unit)})"),
                              rows, note=ctx.text("；", "; ").join(x for x in parts if x))]
    matters = deff > 2 or icc >= 0.05
    blocks.append(Paragraph(ctx.text(
        f"空模型的组内相关系数 ICC = {fmt(icc, 3, bounded=True)}，即{y}约 {icc:.1%} 的变异位于{unit}之间。"
        f"平均每个{unit} {fmt(mbar, 1)} 人，设计效应 = 1 + (m̄ − 1) × ICC = {fmt(deff, 2)}。"
        + ("设计效应大于 2（Muthén & Satorra, 1995）或 ICC ≥ .05，嵌套结构不可忽略：按简单随机样本计算的标准误会被低估，宜采用多层模型或聚类稳健标准误。"
           if matters else "设计效应不超过 2（Muthén & Satorra, 1995）且 ICC < .05，嵌套结构对标准误的影响有限。"),
        f"The intraclass correlation of the null model is ICC = {fmt(icc, 3, bounded=True)}: about {icc:.1%} of the variance in "
        f"{_lower(y)} lies between {_lower(unit)} units. With {fmt(mbar, 1)} cases per unit on average, the design effect is "
        f"1 + (m̄ − 1) × ICC = {fmt(deff, 2)}. "
        + ("A design effect above 2 (Muthén & Satorra, 1995) or an ICC of .05 or more means the clustering cannot be ignored: "
           "standard errors computed as for a simple random sample would be too small, so multilevel models or cluster-robust "
           "standard errors are called for." if matters else
           "With a design effect of 2 or less (Muthén & Satorra, 1995) and ICC < .05, clustering affects the standard errors little."))))
    single = [o for o in ctx.res.outcomes if o.analysis.name in ("regressions", "mediation", "moderation", "compare_groups")]
    if matters and single:
        blocks.append(Paragraph(ctx.text(
            "需要说明的是，本章的差异分析、回归、中介与调节分析均为单层模型，没有对这一嵌套结构建模，其标准误可能偏小、"
            "p 值偏乐观；相关结论应审慎解读，正式研究宜改用多层模型或聚类稳健标准误（社区数较少时后者也不稳定）。",
            "Note that the group comparisons, regressions, mediation and moderation in this chapter are single-level models "
            "that do not model this clustering; their standard errors may be too small and their p values optimistic. Read "
            "them with care; a final analysis should use multilevel models or cluster-robust standard errors (the latter are "
            "unstable with few clusters).")))
    return blocks


# --------------------------------------------------------------------------- mediation
def _effect_name(ctx, eff: str, md) -> str:
    """A mediation table row by its path name: a 路径（X → M）, 直接效应 c′, 间接效应, 总效应 c."""
    x, y = ctx.label(md.x), ctx.label(md.y)
    key, _, med = eff.partition("_") if eff not in ("c_prime",) else (eff, "", "")
    m = ctx.label(med) if med else (ctx.label(md.m[0]) if len(md.m) == 1 else "")
    names = {"a": ctx.text(f"a 路径（{x} → {m}）", f"a path ({x} → {m})"), "b": ctx.text(f"b 路径（{m} → {y}）", f"b path ({m} → {y})"),
             "c_prime": ctx.text("直接效应 c′", "Direct effect c′"), "total": ctx.text("总效应 c", "Total effect c"),
             "indirect": ctx.text(f"间接效应（经{m}）", f"Indirect effect (via {m})") if med else ctx.text(
                 "间接效应 a × b" if len(md.m) == 1 else "总间接效应", "Indirect effect a × b" if len(md.m) == 1 else "Total indirect effect")}
    return names.get(key, eff)


def mediation(ctx, md, o) -> list:
    rows = [{ctx.text("效应", "Effect"): _effect_name(ctx, eff, md), ctx.text("估计值", "Estimate"): fmt(x.estimate), "SE": fmt(x.se),
             "p": fmt_p(x.p), f"{md.ci_level:.0%} CI": ci_text(x.ci_low, x.ci_high)} for eff, x in md.table.iterrows()]
    mnames = _join(ctx, [ctx.label(v) for v in md.m])
    caption = ctx.text(f"中介效应分析：{ctx.label(md.x)} → {mnames} → {ctx.label(md.y)}",
                       f"Mediation: {ctx.label(md.x)} → {mnames} → {ctx.label(md.y)}")
    method = CI_METHODS.get(md.ci_method, (md.ci_method, md.ci_method))[0 if ctx.zh else 1]
    draws = ctx.text(f"{md.n_boot} 次抽样", f"{md.n_boot} draws") if md.ci_method == "Monte Carlo" else ctx.text(
        f"{md.n_boot} 次重抽样", f"{md.n_boot} resamples")
    parts = [sample_note(ctx, md.n, md.missing, md.n_dropped, None), ctx.text("非标准化系数", "unstandardized coefficients"),
             ctx.text(f"置信区间：{method}，{draws}，随机种子 {md.seed}", f"CIs: {method}, {draws}, seed {md.seed}")]
    if md.covariates:
        parts.append(ctx.text("控制变量：", "covariates: ") + _join(ctx, [_vl(ctx, c) for c in md.covariates]))
    blocks: list = [ctx.table(caption, rows, note=ctx.text("；", "; ").join(x for x in parts if x))]
    if hasattr(ctx.figures(), "mediation_diagram"):
        words = {"note": ctx.text("非标准化系数；括号内为总效应 c；* p < .05，** p < .01，*** p < .001",
                                  "Unstandardized coefficients; total effect c in parentheses; * p < .05, ** p < .01, *** p < .001")}
        blocks.append(ctx.figure(ctx.text("中介模型路径图", "Mediation model"),
                                 lambda: ctx.figures().mediation_diagram(md, ctx.names, words)))
    blocks.append(Paragraph(_mediation_sentence(ctx, md, method, draws)))
    return blocks


def _excludes_zero(row) -> bool:
    return bool(row["ci_low"] > 0 or row["ci_high"] < 0)


def _mediation_type(ind, direct) -> str:
    """Zhao, Lynch & Chen (2010): complementary, competitive, indirect-only, direct-only, no-effect."""
    si, sd = _excludes_zero(ind), _excludes_zero(direct)
    if si and sd:
        return "complementary" if ind["estimate"] * direct["estimate"] > 0 else "competitive"
    return "indirect-only" if si else ("direct-only" if sd else "no-effect")


MEDIATION_TYPES = {
    "complementary": ("互补型中介（部分中介）：间接效应与直接效应均显著且方向相同", "complementary mediation (partial mediation): indirect and direct effects are both significant and point the same way"),
    "competitive": ("竞争型中介：间接效应与直接效应均显著但方向相反", "competitive mediation: indirect and direct effects are both significant but point in opposite directions"),
    "indirect-only": ("仅间接效应中介（完全中介）：间接效应显著而直接效应不显著", "indirect-only mediation (full mediation): the indirect effect is significant and the direct effect is not"),
    "direct-only": ("仅直接效应、无中介：直接效应显著而间接效应不显著", "direct-only non-mediation: the direct effect is significant and the indirect effect is not"),
    "no-effect": ("无效应、无中介：间接效应与直接效应均不显著", "no-effect non-mediation: neither the indirect nor the direct effect is significant"),
}


def _mediation_sentence(ctx, md, method: str, draws: str) -> str:
    tab, lvl = md.table, f"{md.ci_level:.0%}"
    ind, direct, total = tab.loc["indirect"], tab.loc["c_prime"], tab.loc["total"]
    kind = _mediation_type(ind, direct)
    x, y = in_sentence(ctx, ctx.label(md.x)), in_sentence(ctx, ctx.label(md.y))
    m = _join(ctx, [in_sentence(ctx, ctx.label(v)) for v in md.m])
    same = ind["estimate"] * total["estimate"] > 0 and kind in ("complementary", "indirect-only")
    share = ind["estimate"] / total["estimate"] if same and total["estimate"] else float("nan")
    ex_i, ex_d = _excludes_zero(ind), _excludes_zero(direct)
    zh = (f"{method}（{draws}）显示，{x}经{m}对{y}的间接效应为 {fmt(ind['estimate'])}，{lvl} CI {ci_text(ind['ci_low'], ind['ci_high'])} "
          f"{'不包含' if ex_i else '包含'} 0；直接效应 c′ = {fmt(direct['estimate'])}，{lvl} CI {ci_text(direct['ci_low'], direct['ci_high'])} "
          f"{'不包含' if ex_d else '包含'} 0；总效应 c = {fmt(total['estimate'])}。按 Zhao, Lynch 与 Chen（2010）的分类，"
          f"结果属于{MEDIATION_TYPES[kind][0]}")
    en = (f"The {method} ({draws}) puts the indirect effect of {x} on {y} via {m} at {fmt(ind['estimate'])}, {lvl} CI "
          f"{ci_text(ind['ci_low'], ind['ci_high'])}, which {'excludes' if ex_i else 'includes'} zero; the direct effect is c′ = "
          f"{fmt(direct['estimate'])}, {lvl} CI {ci_text(direct['ci_low'], direct['ci_high'])}, which {'excludes' if ex_d else 'includes'} "
          f"zero; the total effect is c = {fmt(total['estimate'])}. Following Zhao, Lynch and Chen (2010), this is {MEDIATION_TYPES[kind][1]}")
    if not pd.isna(share):
        zh += f"，间接效应占总效应的 {share:.1%}"
        en += f"; the indirect effect is {share:.1%} of the total effect"
    return ctx.text(zh + "。横截面数据只能说明该中介模型与数据相容，不能据此确定变量间的因果顺序。",
                    en + ". Cross-sectional data can show that the mediation model is consistent with the data, not that the causal order is right.")


# --------------------------------------------------------------------------- moderation
def _moderation_term(ctx, term: str, o) -> str:
    x, w = ctx.label(o.x), ctx.label(o.w)
    centred = ctx.text("（中心化）", " (centred)")
    return {"Intercept": ctx.text("截距", "Intercept"), "x": x + centred, "w": w + centred, "x:w": f"{x} × {w}"}.get(term, _vl(ctx, term))


def moderation(ctx, mo, o) -> list:
    x, w, y = ctx.label(o.x), ctx.label(o.w), ctx.label(o.y)
    df = mo.n - len(mo.table)
    rows = [{ctx.text("预测变量", "Predictor"): _moderation_term(ctx, term, o) if mo.centered else _moderation_term(ctx, term, o).replace(
             ctx.text("（中心化）", " (centred)"), ""), "b": fmt(r.b), "SE": fmt(r.se), "t": fmt(r.t, 2), "p": fmt_p(r.p),
             "95% CI": ci_text(r.ci_low, r.ci_high)} for term, r in mo.table.iterrows()]
    parts = [sample_note(ctx, mo.n, "listwise", mo.n_dropped, None), f"R² = {fmt(mo.r2, 3, bounded=True)}",
             ctx.text("交互项带来的", "interaction") + f" ΔR² {_r2(mo.delta_r2_interaction)}",
             ctx.text("自变量与调节变量已均值中心化", "predictor and moderator mean-centred") if mo.centered else ""]
    caption = ctx.text(f"调节效应分析：{w}对{x}与{y}关系的调节", f"Moderation: {w} moderating the association of {x} with {y}")
    blocks: list = [ctx.table(caption, rows, note=ctx.text("；", "; ").join(p for p in parts if p))]
    blocks.append(_slopes_table(ctx, mo, o))
    blocks.append(Paragraph(_moderation_sentence(ctx, mo, o, df)))
    return blocks


def _slope_at(ctx, at: str, o) -> str:
    return {"mean - 1 SD": ctx.text("低（均值 − 1 SD）", "Low (mean − 1 SD)"), "mean": ctx.text("中（均值）", "Mean"),
            "mean + 1 SD": ctx.text("高（均值 + 1 SD）", "High (mean + 1 SD)")}.get(at, at.replace(f"{o.w} = ", f"{ctx.label(o.w)} = "))


def _slopes_table(ctx, mo, o):
    w = ctx.label(o.w)
    rows = [{ctx.text(f"{w}水平", f"Level of {w}"): _slope_at(ctx, at, o), ctx.text(f"{w}取值", f"Value of {w}"): fmt(r["w"], 2),
             ctx.text("简单斜率", "Simple slope"): fmt(r["slope"]), "SE": fmt(r["se"]), "t": fmt(r["t"], 2), "p": fmt_p(r["p"]),
             "95% CI": ci_text(r["ci_low"], r["ci_high"])} for at, r in mo.simple_slopes.iterrows()]
    return ctx.table(ctx.text(f"{ctx.label(o.x)}对{ctx.label(o.y)}的简单斜率", f"Simple slopes of {ctx.label(o.x)} on {ctx.label(o.y)}"),
                     rows, note=ctx.text(f"{w}取原始量尺上的值。", f"Values of {w} on its original scale."))


def _jn_text(ctx, mo, o) -> str:
    """The Johnson–Neyman region of significance, against the moderator's observed range."""
    w, x = in_sentence(ctx, ctx.label(o.w)), in_sentence(ctx, ctx.label(o.x))
    jn = mo.johnson_neyman
    if not len(jn):
        always = mo.simple_slopes["p"].lt(0.05).all()
        return ctx.text(f"Johnson–Neyman 分析：{w}的任何取值下该斜率都{'显著' if always else '不显著'}。",
                        f"Johnson–Neyman: the slope is {'significant' if always else 'not significant'} at every value of {w}.")
    bounds = " 与 ".join(fmt(v, 2) for v in jn["w"]) if ctx.zh else " and ".join(fmt(v, 2) for v in jn["w"])
    where = jn["significant_where"].iloc[0]
    inside = all(not v for v in jn["within_range"])
    span = ctx.text("（均在观测范围之外，即在全部观测值上", " (both outside the observed range, so across all observed values") if inside else ""
    if ctx.zh:
        region = "之间" if where == "between" else "之外"
        tail = f"{span}{'斜率均显著' if where == 'between' else '斜率均不显著'}）" if inside else ""
        return f"Johnson–Neyman 分析显示，当{w}位于 {bounds} {region}时，{x}的斜率在 .05 水平上显著{tail}。"
    region = "between" if where == "between" else "outside"
    tail = f"{span} the slope is {'significant' if where == 'between' else 'not significant'})" if inside else ""
    return f"Johnson–Neyman: the slope of {x} is significant at .05 where {w} lies {region} {bounds}{tail}."


def _moderation_sentence(ctx, mo, o, df: int) -> str:
    x, w, y = (in_sentence(ctx, ctx.label(v)) for v in (o.x, o.w, o.y))
    r = mo.table.loc["x:w"]
    sig = r["p"] < 0.05
    head = f"b = {fmt(r['b'])}, {stat_eq('t', r['t'], df)}, {p_eq(r['p'])}, ΔR² {_r2(mo.delta_r2_interaction)}"
    ss = mo.simple_slopes
    levels = _join(ctx, [_slope_at(ctx, at, o) if ctx.zh else _lower(_slope_at(ctx, at, o)) for at in ss.index])
    values = _join(ctx, [f"{fmt(s['slope'])}{ctx.text('（', ' (')}{p_eq(s['p'])}{ctx.text('）', ')')}" for _, s in ss.iterrows()])
    return ctx.text(
        f"交互项“{x} × {w}”的系数 {head}，{w}的调节作用{'显著' if sig else '不显著'}。在{w}处于{levels}水平时，"
        f"{x}对{y}的简单斜率分别为 {values}。" + _jn_text(ctx, mo, o) + ("" if sig else "由于交互项不显著，各水平间斜率的差异不宜解读。"),
        f"The interaction {x} × {w} has {head}: the moderation by {w} is {'significant' if sig else 'not significant'}. "
        f"The simple slopes of {x} on {y} at {levels} levels of {w} are {values}. " + _jn_text(ctx, mo, o)
        + ("" if sig else " As the interaction is not significant, the differences between these slopes should not be interpreted."))


def _r2(value: float) -> str:
    """"= .012", or "< .001" for a positive value that rounds to zero."""
    return "< .001" if 0 <= value < 0.0005 else "= " + fmt(value, 3, bounded=True)
