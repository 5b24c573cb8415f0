"""The study summary page (HTML): sample and screening flow, exclusions, construct scores, provenance."""

from __future__ import annotations

import html
import json


from govsurvey.report.html import render_frame

__all__ = ["render_summary"]

TEXT = {
    "zh": {"flow": "样本与筛查流程", "rules": "筛查规则", "excluded": "剔除记录", "scores": "构念得分描述统计",
           "prov": "可复现信息", "notes": "说明", "total": "回收问卷", "retained": "有效问卷", "excl": "剔除",
           "thresholds": "筛查阈值", "construct": "构念"},
    "en": {"flow": "Sample and screening flow", "rules": "Screening rules", "excluded": "Exclusion log",
           "scores": "Construct scores", "prov": "Provenance", "notes": "Notes", "total": "Responses read",
           "retained": "Retained", "excl": "Excluded", "thresholds": "Thresholds", "construct": "Construct"},
}
CSS = """body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table.gs-table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
table.gs-table caption{text-align:left;font-weight:bold;margin-bottom:.3rem}
table.gs-table thead tr{border-top:2px solid #000;border-bottom:1px solid #000}
table.gs-table tbody tr:last-child{border-bottom:2px solid #000}
table.gs-table td,table.gs-table th{padding:.25rem .7rem;text-align:right}
table.gs-table th:first-child{text-align:left}
pre{background:#f6f6f6;padding:.7rem;overflow:auto;font-size:.8rem}"""


def render_summary(results) -> str:
    lang = results.study.language if results.study.language in TEXT else "en"
    t = TEXT[lang]
    inst = results.instrument
    sc = results.screening
    title = results.study.title.get(lang) or next(iter(results.study.title.values()))
    desc = results.descriptives()
    desc.index = [f"{inst.constructs[c].label.get(lang, c)} ({c})" for c in desc.index]
    desc.index.name = t["construct"]
    summary = sc.summary.copy()
    parts = [
        "<!DOCTYPE html>",
        f"<html lang='{html.escape(lang)}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(inst.title.get(lang, inst.name))} (v{html.escape(inst.version)})</p>",
        f"<h2>{t['flow']}</h2>",
        f"<p>{t['total']}: {sc.n_total} → {t['excl']}: {sc.n_excluded} → {t['retained']}: {sc.n_total - sc.n_excluded}</p>",
        render_frame(summary, caption=t["rules"], digits=0),
        f"<h3>{t['thresholds']}</h3><pre>{html.escape(json.dumps(sc.thresholds, ensure_ascii=False, indent=1, default=str))}</pre>",
    ]
    if sc.notes:
        parts.append(f"<h3>{t['notes']}</h3><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in sc.notes) + "</ul>")
    parts += [
        render_frame(sc.excluded, caption=t["excluded"], max_rows=500),
        f"<h2>{t['scores']}</h2>",
        render_frame(desc, caption=t["scores"], digits=2),
        f"<h2>{t['prov']}</h2><pre>{html.escape(json.dumps(results.provenance, ensure_ascii=False, indent=1, sort_keys=True))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
