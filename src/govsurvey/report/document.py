"""The report as a document model — sections of headings, paragraphs, tables and figures —
built once from a study's results and rendered to HTML, PDF and Word alike.

The sample section and the appendix are written here; every analysis brings its own section
(:mod:`govsurvey.report.sections`), called in the order of the study's analyses, each under
a heading with the analysis' title. An analysis that could not be computed gets a marked
block with its error message instead.

Interpretation sentences are written from the numbers with the conventions they cite:
α ≥ .70 (Nunnally, 1978); KMO ≥ .60 (Kaiser, 1974); CFI/TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08
(Hu & Bentler, 1999); CR ≥ .70 and AVE ≥ .50 (Fornell & Larcker, 1981); HTMT < .85
(Henseler, Ringle & Sarstedt, 2015); ΔCFI ≥ −.01 (Cheung & Rensvold, 2002).
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


__all__ = ["Document", "Section", "Heading", "Paragraph", "Table", "Figure", "Failed", "SectionContext", "build_document",
           "xml_safe", "fmt", "fmt_p", "p_eq", "fmt_df", "stat_eq", "est_or_fixed", "sample_note", "MINUS",
           "stat_segments"]

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclasses.dataclass
class Heading:
    text: str
    id: str


@dataclasses.dataclass
class Failed:
    """An analysis that could not be computed: what, the error's class, message and fix."""

    title: str
    error: str
    message: str
    fix: str


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
    # the figure drawn once (SVG and 300-dpi PNG), shared by the copies xml_safe makes and by
    # every format written from one built document
    rendered: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def outputs(self) -> dict:
        """The SVG text and PNG bytes, drawn on first use (:func:`figures.render_once`)."""
        if not self.rendered:
            from govsurvey.report.figures import render_once

            self.rendered.update(render_once(self.make))
        return self.rendered


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


MINUS = "\u2212"


def fmt(value: Any, digits: int = 3, *, bounded: bool = False) -> str:
    """A number as a report shows it (APA 7 / GB/T 7714-friendly): ``digits`` decimals, the
    minus sign "−", "—" for a missing value; ``bounded`` statistics (|x| ≤ 1: r, α, CFI,
    standardized loadings, p) without the leading zero (".607", "−.445")."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"
    if isinstance(value, (int, np.integer)):
        return str(int(value)).replace("-", MINUS)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isinf(v):
            return "∞" if v > 0 else MINUS + "∞"
        if v.is_integer() and abs(v) < 1e6 and digits == 0:
            return str(int(v)).replace("-", MINUS)
        text = f"{v:.{digits}f}"
        if text.startswith("-") and float(text) == 0:        # −0.000 → 0.000
            text = text[1:]
        if bounded and abs(v) < 1:
            text = text.replace("0.", ".", 1)
        return text.replace("-", MINUS)
    return str(value)


def fmt_p(p: float) -> str:
    """A p value for a table cell: ".607", "< .001", "—"."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "< .001" if p < 0.001 else f"{p:.3f}".replace("0.", ".", 1)


def p_eq(p: float) -> str:
    """A p value in a sentence: "p = .607", "p < .001"."""
    cell = fmt_p(p)
    return f"p {cell}" if cell.startswith("<") else f"p = {cell}"


def fmt_df(df: float) -> str:
    """Degrees of freedom: whole numbers as such, fractional (Welch) ones with two decimals."""
    return fmt(df, 0) if float(df).is_integer() else fmt(df, 2)


def stat_eq(symbol: str, value: float, df: Any = None, digits: int = 2) -> str:
    """A test statistic in APA form: "t(598) = 2.31", "F(3, 312.44) = 12.44", "χ²(24) = 85.31"."""
    dfs = "" if df is None else "(" + ", ".join(fmt_df(d) for d in (df if isinstance(df, (tuple, list)) else (df,))) + ")"
    return f"{symbol}{dfs} = {fmt(value, digits)}"


def est_or_fixed(estimate: float, se: float, free: bool, digits: int = 3) -> tuple[str, str]:
    """An estimate and its SE, or the fixed value and "—" for a parameter fixed by the model
    (a marker loading: 1.000, —)."""
    return fmt(estimate, digits), (fmt(se, digits) if free else "—")


_STAT = re.compile(r"(?<![A-Za-z0-9_\u00C0-\u024F])(SD|SE|p|F|t|r|z|d|g|b|n|N|M|W|β|ρ|R²|χ²|η²|ω²|ΔR²|Δχ²)"
                   r"(\([^()<>]{1,24}\))?( ?)(=|<|>|≤|≥)( ?)([−-]?\d*\.?\d+%?)|\[[−-]?\d*\.?\d+, [−-]?\d*\.?\d+\]")
ITALIC_SYMBOLS = frozenset({"SD", "SE", "p", "F", "t", "r", "z", "d", "g", "b", "n", "N", "M", "W"})


def stat_segments(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (kind, piece) for typesetting statistics as APA does: "text" (plain),
    "symbol" (a Latin statistic symbol: italic), "stat" (the rest of a statistical expression
    or a CI, not to be broken across lines). Greek symbols stay upright.

    >>> stat_segments("so F(3, 596) = 2.26")
    [('text', 'so '), ('symbol', 'F'), ('stat', '(3, 596) = 2.26')]
    """
    out, pos = [], 0
    for m in _STAT.finditer(text):
        if m.start() > pos:
            out.append(("text", text[pos:m.start()]))
        if m.group(1) is None:                                   # a CI
            out.append(("stat", m.group(0)))
        elif m.group(1) in ITALIC_SYMBOLS:
            out += [("symbol", m.group(1)), ("stat", m.group(0)[len(m.group(1)):])]
        else:
            out.append(("stat", m.group(0)))
        pos = m.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


def sample_note(ctx, n: int | None, missing: str, n_dropped: int, n_incomplete: int | None) -> str:
    """How many cases an analysis used and how missing values were handled, for a table note:
    "N = 600 (FIML: 122 cases with missing values kept)", "N = 478 (listwise deletion: 122 cases
    with missing values left out)", "N = 600"."""
    if n is None:
        return ""
    head = f"N = {n}"
    dropped = ctx.text(f"，{n_dropped} 个案例未纳入", f"; {n_dropped} cases left out") if n_dropped else ""
    if missing == "fiml":
        kept = (ctx.text(f"：{n_incomplete} 个含缺失值的案例全部保留", f": {n_incomplete} cases with missing values kept")
                if n_incomplete else "")
        return head + ctx.text(f"（完全信息最大似然 FIML{kept}{dropped}）", f" (full-information ML{kept}{dropped})")
    if n_dropped:
        return head + ctx.text(f"（列删除：{n_dropped} 个含缺失值的案例未纳入）",
                               f" (listwise deletion: {n_dropped} cases with missing values left out)")
    return head


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).astype(str)


T = {
    "zh": {
        "toc": "目录", "sample": "样本与筛查", "measure": "测量质量", "results": "研究结果", "mixed": "混合方法：能力短板与访谈解释",
        "evaluation": "综合评价：能力指数与社区排序",
        "appendix": "附录", "instrument": "问卷题项", "prov": "可复现信息", "read": "回收问卷", "excluded": "剔除", "retained": "有效问卷",
        "rule": "筛查规则", "flagged": "标记人数", "only": "仅此规则", "construct": "维度", "item": "题项", "items": "题项数",
        "notes": "分析说明", "observed": "实际特征根", "simulated": "平行分析（随机数据 95% 分位）", "factor": "因子序号",
        "eigenvalue": "特征根", "loadings": "旋转后因子载荷", "std": "标准化载荷", "performance": "表现（均值）",
        "importance": "重要性（均值）", "concentrate": "重点改进区", "keep": "继续保持区", "low_priority": "低优先区",
        "overkill": "过度投入区", "gap": "差距（重要性−表现）",
        "barrier": "访谈中提及障碍的比例", "unit": "社区", "score": "得分",
    },
    "en": {
        "toc": "Contents", "sample": "Sample and screening", "measure": "Measurement", "results": "Results",
        "mixed": "Mixed methods: capacity gaps and what interviews say", "evaluation": "Evaluation index: capacity by community",
        "appendix": "Appendix", "instrument": "Instrument",
        "prov": "Provenance", "read": "Responses read", "excluded": "Excluded", "retained": "Retained", "rule": "Rule",
        "flagged": "Flagged", "only": "Only this rule", "construct": "Construct", "item": "Item", "items": "Items",
        "notes": "Analysis notes", "observed": "Observed eigenvalues", "simulated": "Parallel analysis (95th percentile of random data)",
        "factor": "Factor", "eigenvalue": "Eigenvalue", "loadings": "Rotated loadings", "std": "Standardized loading",
        "performance": "Performance (mean)", "importance": "Importance (mean)", "concentrate": "Concentrate here",
        "keep": "Keep up the good work", "low_priority": "Low priority", "overkill": "Possible overkill",
        "gap": "Gap (importance − performance)", "barrier": "Share of interviewees naming barriers",
        "unit": "Community", "score": "Score",
    },
}


CHAPTER_TITLES = {"measurement": "measure", "results": "results", "mixed": "mixed", "evaluation": "evaluation"}
FAILED_WORDS = {"zh": ("未能计算", "错误", "修改建议"), "en": ("Could not be computed", "Error", "Fix")}


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


class SectionContext:
    """What a report section needs besides its result: the language and its terms, construct
    labels, table and figure numbering, the instrument and the whole study's results."""

    def __init__(self, res) -> None:
        self.res = res
        self.lang = res.study.language
        self.zh = self.lang == "zh"
        self.t = T[self.lang]
        self.inst = res.instrument
        self.names = {c: self.label(c) for c in self.inst.constructs}
        self.num = _Numberer()

    def label(self, construct: Any) -> str:
        """A construct's label in the report's language (the name itself for anything else)."""
        c = self.inst.constructs.get(construct) if isinstance(construct, str) else None
        return c.label.get(self.lang, construct) if c is not None else str(construct)

    def text(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    def var_label(self, var: Any) -> str:
        """A variable's short label: a construct's label, or a question's text without the
        questionnaire's address ("您的性别" → "性别", "Your gender" → "Gender"), else the name."""
        if isinstance(var, str) and var in self.inst.constructs:
            return self.label(var)
        if isinstance(var, str) and var in {q.id for q in self.inst.questions}:
            text = self.inst.question(var).text.get(self.lang) or next(iter(self.inst.question(var).text.values()), var)
            text = re.sub(r"^(您所在的|您在|您的|您|Your |your )", "", text.strip()).rstrip("？?：:")
            if self.zh and "的" in text and len(text.rsplit("的", 1)[1]) >= 2:     # 社区中的身份 → 身份
                text = text.rsplit("的", 1)[1]
            return text[:1].upper() + text[1:] if not self.zh else text
        return str(var)

    def group_label(self, var: str, value: Any) -> str:
        """A background variable's code as its label (1.0 → 网格员), else the value."""
        if var in {q.id for q in self.inst.questions}:
            labels = self.inst.scales[self.inst.question(var).scale].labels.get(self.lang, {})
            try:
                return labels.get(int(float(value)), str(value))
            except (TypeError, ValueError):
                return str(value)
        return str(value)

    def table(self, caption: str, rows: list[dict], note: str = "") -> Table:
        return self.num.t(caption, _frame(rows, list(rows[0]) if rows else []), note=note)

    def figure(self, caption: str, make: Callable[[], Any]) -> Figure:
        return self.num.f(caption, make)

    @staticmethod
    def figures():
        from govsurvey.report import figures

        return figures


_LAST_BUILT: list = []        # [(results, document)]: the last results object reported, and its document


def build_document(res) -> Document:
    """The report of a study's results: sample, one chapter per group of analyses, appendix.
    Built once per results object (the last one is kept), so the HTML, PDF and Word written
    from it share its tables and its figures, each drawn once."""
    if _LAST_BUILT and _LAST_BUILT[0][0] is res:
        return _LAST_BUILT[0][1]
    doc = _build_document(res)
    _LAST_BUILT[:] = [(res, doc)]
    return doc


def _build_document(res) -> Document:
    ctx = SectionContext(res)
    sections = [_sample(ctx)]
    counts = Counter(o.analysis.name for o in res.outcomes)
    for chapter, key in CHAPTER_TITLES.items():
        blocks: list = []
        for outcome in res.outcomes:
            if outcome.analysis.chapter == chapter:
                blocks.extend(_outcome_blocks(ctx, outcome, counts[outcome.analysis.name]))
        if blocks:
            sections.append(Section(chapter, ctx.t[key], blocks))
    sections.append(_appendix(ctx))
    title = res.study.title.get(ctx.lang) or next(iter(res.study.title.values()))
    inst = res.instrument
    return Document(title=title, subtitle=f"{inst.title.get(ctx.lang, inst.name)} · v{inst.version}", lang=ctx.lang, sections=sections)


def _outcome_blocks(ctx: SectionContext, outcome, count: int) -> list:
    """A heading (the analysis' title, its number among several, what it is about), then the
    analysis' own blocks, or the marked failure."""
    title = outcome.analysis.title.get(ctx.lang) or outcome.analysis.name
    if outcome.index is not None and count > 1:
        title += ctx.text(f"（{outcome.index + 1}）", f" ({outcome.index + 1})")
    about = outcome.analysis.caption(outcome.options, _Namer(ctx)) if outcome.analysis.caption and outcome.options is not None else ""
    if about:
        title += ctx.text("：", ": ") + about
    hid = outcome.key.replace("[", "-").replace("]", "")
    if hid in CHAPTER_TITLES or hid in ("sample", "appendix"):        # a chapter has that id already
        hid += "-analysis"
    blocks: list = [Heading(title, hid)]
    if outcome.failure is not None:
        f = outcome.failure
        blocks.append(Failed(FAILED_WORDS[ctx.lang][0], f.error, f.message, f.fix))
    else:
        blocks.extend(outcome.analysis.section(ctx, outcome.result, outcome.options))
    return blocks


RULES = {
    "zh": {"out_of_range": "超出量表范围", "too_many_missing": "缺答过多", "speeder": "作答过快", "straightline": "直线作答",
           "attention": "注意力检测题未通过", "duplicate": "重复提交", "near_duplicate": "近似重复", "mahalanobis": "多元离群值"},
    "en": {"out_of_range": "Out of range", "too_many_missing": "Too many missing answers", "speeder": "Too fast",
           "straightline": "Straight-lining", "attention": "Failed attention check", "duplicate": "Duplicate submission",
           "near_duplicate": "Near-duplicate", "mahalanobis": "Multivariate outlier"},
}


class _Namer:
    """A column's label in the report's language, for analysis captions (``zh`` tells them
    which punctuation to use)."""

    def __init__(self, ctx: SectionContext) -> None:
        self.ctx, self.zh = ctx, ctx.zh

    def __call__(self, var: Any) -> str:
        return self.ctx.var_label(var)


def percent(part: float, whole: float, digits: int = 1) -> str:
    """A percentage rounded half up, as readers check it by hand (40/640 → 6.3%, not 6.2%)."""
    from decimal import ROUND_HALF_UP, Decimal

    if not whole:
        return "—"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{value}%"


def _sample(ctx: SectionContext) -> Section:
    sc, t = ctx.res.screening, ctx.t
    kept = sc.n_total - sc.n_excluded
    share = percent(sc.n_excluded, sc.n_total)
    blocks: list = [Paragraph(ctx.text(
        f"共回收问卷 {sc.n_total} 份，按预设规则剔除 {sc.n_excluded} 份（{share}），保留有效问卷 {kept} 份，有效回收率 {percent(kept, sc.n_total)}。",
        f"{sc.n_total} responses were read; {sc.n_excluded} ({share}) were excluded by the screening rules below, leaving {kept} "
        f"({percent(kept, sc.n_total)})."))]
    rules = RULES[ctx.lang]
    rows = [{t["rule"]: rules.get(r, r), t["flagged"]: fmt(sc.summary.loc[r, "n_flagged"], 0), t["only"]: fmt(sc.summary.loc[r, "n_only"], 0)}
            for r in sc.flags.columns]
    note = ctx.text("一份问卷可能同时触发多条规则；“仅此规则”为只因该规则被剔除的份数。",
                    "A response can trigger several rules; 'only this rule' counts responses excluded by that rule alone.")
    blocks.append(ctx.num.t(ctx.text("筛查规则与剔除人数", "Screening rules and exclusions"),
                            _frame(rows, [t["rule"], t["flagged"], t["only"]]), note=note))
    blocks.extend(_demographics(ctx))
    return Section("sample", t["sample"], blocks)


def _demographics(ctx: SectionContext) -> list:
    """The sample description table (样本基本特征) from :func:`govsurvey.frequencies`."""
    from govsurvey.models.describe import frequencies

    frame = ctx.res.frame
    table = frequencies(frame, ctx.inst, lang=ctx.lang)
    if table.empty:
        return []
    rows, seen = [], set()
    var_h, cat_h = ctx.text("变量", "Variable"), ctx.text("类别", "Category")
    for (var, cat), r in table.iterrows():
        first = var not in seen
        seen.add(var)
        if r["n_distinct"] == r["n_distinct"] and r["n_distinct"] is not None:
            cat = ctx.text(f"{int(r['n_distinct'])} 个不同取值", f"{int(r['n_distinct'])} distinct values")
        elif cat == "missing":
            cat = ctx.text("未作答", "No answer")
        rows.append({var_h: ctx.var_label(var) if first else "", cat_h: cat, "n": fmt(int(r["n"])), "%": fmt(r["percent"], 1)})
    n = len(frame)
    return [ctx.table(ctx.text("样本基本特征", "Sample characteristics"), rows,
                      note=ctx.text(f"N = {n}；百分比以该题作答人数为分母。", f"N = {n}; percentages of those who answered."))]


def _appendix(ctx: SectionContext) -> Section:
    t, res = ctx.t, ctx.res
    cb = ctx.inst.codebook(ctx.lang).reset_index()
    roles = {"demographic": ctx.text("基本信息", "Background"), "importance": ctx.text("重要性评价", "Importance rating"),
             "check": ctx.text("注意力检测题", "Attention check"), "attention": ctx.text("注意力检测题", "Attention check")}
    rows = [{ctx.text("题号", "ID"): r["id"],
             t["construct"]: r["construct_label"] if isinstance(r["construct_label"], str) else roles.get(r["role"], ctx.text("其他", "Other")),
             ctx.text("题目", "Text"): r["text"] if isinstance(r["text"], str) else "",
             ctx.text("反向计分", "Reverse-keyed"): ctx.text("是", "Yes") if r["reverse"] is True else ""} for _, r in cb.iterrows()]
    blocks: list = [ctx.table(t["instrument"], rows)]
    prov = res.provenance
    rows = [{ctx.text("文件", "File"): k, "SHA-256": v} for k, v in prov["inputs"].items()]
    blocks.append(ctx.table(t["prov"], rows, note=f"seed = {prov['seed']}; Python {prov['python']}; "
                            + ", ".join(f"{k} {v}" for k, v in prov["packages"].items() if v)))
    if res.notes:
        blocks.append(Paragraph(t["notes"] + ctx.text("：", ": ") + " ".join(res.notes)))
    return Section("appendix", t["appendix"], blocks)


def xml_safe(doc: Document) -> Document:
    """The document without characters XML cannot carry (control characters from a spec or a
    data file), which Word, PDF and HTML writers would choke on; a DataWarning names where."""
    from govsurvey.errors import DataWarning

    found: list[str] = []

    def clean(text: Any, where: str) -> Any:
        if isinstance(text, str) and _CONTROL.search(text):
            found.append(where)
            return _CONTROL.sub("", text)
        return text

    def block(b: Any, where: str) -> Any:
        if isinstance(b, Table):
            frame = b.frame.map(lambda v: clean(v, f"{where} (table {b.number})"))
            frame.columns = [clean(c, f"{where} (table {b.number} header)") for c in frame.columns]
            return dataclasses.replace(b, caption=clean(b.caption, where), note=clean(b.note, where), frame=frame)
        changes = {f.name: clean(getattr(b, f.name), where) for f in dataclasses.fields(b) if isinstance(getattr(b, f.name), str)}
        return dataclasses.replace(b, **changes)

    sections = [dataclasses.replace(s, title=clean(s.title, s.id), blocks=[block(b, s.id) for b in s.blocks]) for s in doc.sections]
    out = dataclasses.replace(doc, title=clean(doc.title, "title"), subtitle=clean(doc.subtitle, "subtitle"), sections=sections)
    if found:
        warnings.warn(f"Removed control characters (invisible bytes such as \\x07 that XML cannot carry) from the report's "
                      f"{', '.join(dict.fromkeys(found))}. Fix: clean those texts in the spec, instrument or data.",
                      DataWarning, stacklevel=2)
    return out
