"""XLSForm import and export (survey, choices and settings sheets).

An XLSForm is the spreadsheet format of ODK, KoBoToolbox and SurveyCTO. govsurvey writes:

- ``survey``: ``type`` (``select_one <list>``, ``integer``, ``decimal``, ``text``,
  ``begin_group``/``end_group``), ``name``, ``label::<lang>`` per language, and its own
  columns ``govsurvey::role`` (item, importance, check, demographic, construct),
  ``govsurvey::reverse``, ``govsurvey::dimension``, ``govsurvey::expected``; constructs are
  (nested) groups, so higher-order constructs are groups of groups; numeric ranges are
  ``constraint`` expressions (``. >= 16 and . <= 100``).
- ``choices``: ``list_name``, ``name``, ``label::<lang>``, plus ``govsurvey::scale_type``,
  ``govsurvey::missing`` (``yes`` for a missing code) and ``govsurvey::missing_text``.
- ``settings``: ``form_title``, ``form_id``, ``version``, ``default_language`` and
  ``govsurvey::title::<lang>``, ``govsurvey::notice::<lang>``, ``govsurvey::citation``.

A workbook from another tool reads too: a ``select_one`` inside a group is an item of the
construct named by its innermost group; one outside any group is a demographic question;
a list of three or more consecutive whole-number codes used by items is a Likert scale.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from govsurvey.data.checks import check_regular_file, check_xlsx
from govsurvey.data.files import write_atomic
from govsurvey.data.writers import restore_cell, safe_cell
from govsurvey.data.yamlfile import YamlMap as _Map
from govsurvey.data.yamlfile import YamlSeq as _Seq
from govsurvey.errors import InputFileNotFoundError, InstrumentError
from govsurvey.instrument.loader import parse_instrument
from govsurvey.instrument.model import Instrument

__all__ = ["write_xlsform", "read_xlsform"]

IGNORED_TYPES = {"note", "calculate", "start", "end", "today", "deviceid", "phonenumber", "username", "simserial",
                 "subscriberid", "audit", "hidden", "begin_repeat", "end_repeat", "begin repeat", "end repeat"}
_RANGE = re.compile(r"\.\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)")


def _num(x: float | None) -> Any:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else float(x)


def write_xlsform(instrument: Instrument, path: str | Path) -> Path:
    """Write ``instrument`` to ``path`` as an XLSForm workbook (atomically).

    Every cell goes through :func:`govsurvey.data.writers.safe_cell`, so a text such as
    ``=HYPERLINK(...)`` is stored as text (``'=HYPERLINK(...)``), never as a live formula;
    :func:`read_xlsform` takes the ``'`` off again.
    """
    from openpyxl import Workbook

    langs = list(instrument.languages)
    survey_cols = ["type", "name"] + [f"label::{lg}" for lg in langs] + [
        "required", "constraint", "govsurvey::role", "govsurvey::reverse", "govsurvey::dimension", "govsurvey::expected"]
    rows: list[dict[str, Any]] = []
    open_groups: list[str] = []

    def path_of(construct: str | None) -> list[str]:
        chain: list[str] = []
        while construct is not None:
            chain.insert(0, construct)
            construct = instrument.constructs[construct].parent
        return chain

    def move_to(target: list[str]) -> None:
        common = 0
        while common < min(len(open_groups), len(target)) and open_groups[common] == target[common]:
            common += 1
        while len(open_groups) > common:
            rows.append({"type": "end_group", "name": open_groups.pop()})
        for name in target[common:]:
            c = instrument.constructs[name]
            rows.append({"type": "begin_group", "name": name, "govsurvey::role": "construct",
                         **{f"label::{lg}": c.label.get(lg) for lg in langs}})
            open_groups.append(name)

    def question_row(q) -> dict[str, Any]:
        sc = instrument.scales[q.scale]
        row: dict[str, Any] = {"name": q.id, "required": "yes", "govsurvey::role": q.role,
                               **{f"label::{lg}": q.text.get(lg) for lg in langs}}
        if sc.type in ("likert", "ordinal", "nominal"):
            row["type"] = f"select_one {sc.name}"
        elif sc.type == "numeric":
            row["type"] = "integer" if all(v is None or float(v).is_integer() for v in (sc.min, sc.max)) else "decimal"
            bounds = [f". >= {_num(sc.min)}"] if sc.min is not None else []
            bounds += [f". <= {_num(sc.max)}"] if sc.max is not None else []
            row["constraint"] = " and ".join(bounds) or None
            row["required"] = "no"
        else:
            row["type"] = "text"
            row["required"] = "no"
        if q.reverse:
            row["govsurvey::reverse"] = "yes"
        if q.dimension:
            row["govsurvey::dimension"] = q.dimension
        if q.expected is not None:
            row["govsurvey::expected"] = q.expected
        return row

    for q in instrument.items:
        move_to(path_of(q.construct) if q.role == "item" else [])
        rows.append(question_row(q))
    move_to([])
    for q in instrument.demographics:
        rows.append(question_row(q))

    choice_cols = ["list_name", "name"] + [f"label::{lg}" for lg in langs] + [
        "govsurvey::scale_type", "govsurvey::missing", "govsurvey::missing_text"]
    choices: list[dict[str, Any]] = []
    for sc in instrument.scales.values():
        if sc.type not in ("likert", "ordinal", "nominal"):
            continue
        codes = sorted({c for per in sc.labels.values() for c in per} | set(sc.codes))
        first = True
        for code in codes:
            choices.append({"list_name": sc.name, "name": code, "govsurvey::scale_type": sc.type,
                            **{f"label::{lg}": sc.labels.get(lg, {}).get(code, str(code)) for lg in langs},
                            "govsurvey::missing_text": "|".join(sc.missing_text) if first and sc.missing_text else None})
            first = False
        for m in sc.missing:
            choices.append({"list_name": sc.name, "name": _num(m), "govsurvey::scale_type": sc.type,
                            "govsurvey::missing": "yes", **{f"label::{lg}": "(missing)" for lg in langs}})

    settings = {"form_title": instrument.title.get(langs[0]), "form_id": instrument.name,
                "version": instrument.version, "default_language": langs[0],
                "govsurvey::languages": " ".join(langs)}
    for lg in langs:
        settings[f"govsurvey::title::{lg}"] = instrument.title.get(lg)
        if instrument.notice.get(lg):
            settings[f"govsurvey::notice::{lg}"] = instrument.notice.get(lg)
    if instrument.source.get("citation"):
        settings["govsurvey::citation"] = str(instrument.source["citation"])

    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(survey_cols)
    for r in rows:
        ws.append([safe_cell(r.get(c)) for c in survey_cols])
    wc = wb.create_sheet("choices")
    wc.append(choice_cols)
    for r in choices:
        wc.append([safe_cell(r.get(c)) for c in choice_cols])
    wset = wb.create_sheet("settings")
    wset.append(list(settings))
    wset.append([safe_cell(v) for v in settings.values()])
    return write_atomic(path, lambda p: wb.save(p))


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, str):
        v = restore_cell(v.strip()).strip()
        return v or None
    return v


def _sheet(wb, name: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    lookup = {s.lower(): s for s in wb.sheetnames}
    if name not in lookup:
        if name == "settings":
            return []
        raise InstrumentError(f"XLSForm {path} has no {name!r} sheet (it has {', '.join(wb.sheetnames)}). Fix: name the sheets survey and choices.")
    rows = list(wb[lookup[name]].iter_rows(values_only=True))
    if not rows:
        return []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    out = []
    for k, row in enumerate(rows[1:], start=2):
        record = {h: _cell(v) for h, v in zip(header, row) if h}
        if any(v is not None for v in record.values()):
            out.append((k, record))
    return out


def _yes(v: Any) -> bool:
    return str(v).strip().lower() in ("yes", "true", "1", "y") if v is not None else False


def _mapping(line: int, **kwargs: Any) -> _Map:
    m = _Map()
    m.line = line
    for k, v in kwargs.items():
        if v is not None:
            m[k] = v
            m.key_lines[k] = line
    return m


def _int_code(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"-?\d+", v):
        return int(v)
    return v


def read_xlsform(path: str | Path) -> Instrument:
    """Read an XLSForm workbook as an :class:`Instrument` (validated like a YAML file)."""
    from openpyxl import load_workbook

    p = Path(path)
    if not p.exists():
        raise InputFileNotFoundError(f"XLSForm {p} does not exist. Check the path.")
    check_regular_file(p, "XLSForm", InstrumentError)
    check_xlsx(p, InstrumentError)
    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException on broken files
        raise InstrumentError(f"{p} is not a readable .xlsx workbook ({type(exc).__name__}). Fix: re-save it in Excel as .xlsx.") from None
    try:
        survey = _sheet(wb, "survey", p)
        choices = _sheet(wb, "choices", p)
        settings_rows = _sheet(wb, "settings", p)
    finally:
        wb.close()
    settings = settings_rows[0][1] if settings_rows else {}
    header = set().union(*(r.keys() for _, r in survey)) if survey else set()
    langs = [h.split("::", 1)[1] for h in sorted(header) if h.lower().startswith("label::")]
    if settings.get("govsurvey::languages"):
        langs = str(settings["govsurvey::languages"]).split()
    label_key = {lg: f"label::{lg}" for lg in langs}
    if not langs:
        lg = str(settings.get("default_language") or "zh")
        langs, label_key = [lg], {lg: "label"}
    shown = str(p)

    def texts(row: dict, line: int) -> _Map:
        return _mapping(line, **{lg: row.get(key) for lg, key in label_key.items()})

    # Scales from the choices sheet.
    lists: dict[str, dict[str, Any]] = {}
    for line, row in choices:
        name = row.get("list_name")
        if name is None:
            continue
        entry = lists.setdefault(str(name), {"line": line, "codes": [], "labels": {lg: _Map() for lg in langs},
                                             "missing": [], "missing_text": [], "type": row.get("govsurvey::scale_type")})
        code = _int_code(row.get("name"))
        if _yes(row.get("govsurvey::missing")):
            entry["missing"].append(code)
            continue
        if row.get("govsurvey::missing_text"):
            entry["missing_text"].extend(str(row["govsurvey::missing_text"]).split("|"))
        entry["codes"].append(code)
        for lg, key in label_key.items():
            if row.get(key) is not None:
                entry["labels"][lg][code] = str(row[key])
                entry["labels"][lg].key_lines[code] = line
    used_by_items: set[str] = set()
    group_depth = 0
    for _, row in survey:
        t = str(row.get("type") or "").strip()
        if t in ("begin_group", "begin group"):
            group_depth += 1
        elif t in ("end_group", "end group"):
            group_depth -= 1
        elif t.startswith("select_one ") and group_depth > 0:
            used_by_items.add(t.split(None, 1)[1])
    scales = _Map()
    scales.line = choices[0][0] if choices else 1
    for name, e in lists.items():
        codes = e["codes"]
        ints = [c for c in codes if isinstance(c, int)]
        stype = e["type"]
        if stype is None:
            consecutive = len(ints) == len(codes) >= 3 and sorted(ints) == list(range(min(ints), max(ints) + 1))
            stype = "likert" if consecutive and name in used_by_items else "nominal"
        spec = _mapping(e["line"], type=stype, labels=_mapping(e["line"], **e["labels"]),
                        missing=_Seq(e["missing"]) if e["missing"] else None,
                        missing_text=list(dict.fromkeys(e["missing_text"])) or None)
        if stype in ("likert", "ordinal") and ints:
            spec["min"], spec["max"] = min(ints), max(ints)
        scales[name] = spec
        scales.key_lines[name] = e["line"]

    constructs = _Map()
    constructs.line = 1
    importance_items = _Seq()
    importance_items.item_lines = []
    checks = _Seq()
    checks.item_lines = []
    demographics = _Seq()
    demographics.item_lines = []
    stack: list[str] = []
    problems: list[str] = []
    for line, row in survey:
        t = str(row.get("type") or "").strip()
        name = row.get("name")
        base = t.split(None, 1)[0] if t else ""
        if base in ("begin_group", "begin"):
            if t in ("begin repeat", "begin_repeat"):
                problems.append(f"{shown}, row {line}: repeat groups are not supported. Fix: flatten the repeat into plain questions.")
                continue
            cname = str(name)
            spec = _mapping(line, label=texts(row, line), parent=stack[-1] if stack else None)
            spec["items"] = _Seq()
            spec["items"].item_lines = []
            if cname in constructs:
                problems.append(f"{shown}, row {line}: group {cname!r} appears twice. Fix: rename one.")
            constructs[cname] = spec
            constructs.key_lines[cname] = line
            stack.append(cname)
            continue
        if base in ("end_group", "end"):
            if stack:
                stack.pop()
            continue
        if not t or base in IGNORED_TYPES:
            continue
        role = str(row.get("govsurvey::role") or ("item" if stack else "demographic"))
        q = _mapping(line, id=name, text=texts(row, line))
        if base == "select_one":
            parts = t.split(None, 1)
            if len(parts) < 2:
                problems.append(f"{shown}, row {line}: type {t!r} names no choice list. Fix: write select_one <list_name>.")
                continue
            q["scale"] = parts[1]
            q.key_lines["scale"] = line
        elif base in ("integer", "decimal", "text"):
            if role != "demographic":
                problems.append(f"{shown}, row {line}: a {base} question inside group {stack[-1] if stack else ''!r} cannot be a construct item. "
                                "Fix: give items a select_one list, or move the question out of the group.")
                continue
        else:
            problems.append(f"{shown}, row {line}: question type {t!r} is not supported. Fix: use select_one, integer, decimal or text.")
            continue
        if _yes(row.get("govsurvey::reverse")):
            q["reverse"] = True
            q.key_lines["reverse"] = line
        if role == "item":
            constructs[stack[-1]]["items"].append(q)
            constructs[stack[-1]]["items"].item_lines.append(line)
        elif role == "importance":
            q["dimension"] = row.get("govsurvey::dimension")
            importance_items.append(q)
            importance_items.item_lines.append(line)
        elif role == "check":
            q["expected"] = _int_code(row.get("govsurvey::expected"))
            checks.append(q)
            checks.item_lines.append(line)
        else:
            q["type"] = base
            if base in ("integer", "decimal"):
                for op, value in _RANGE.findall(str(row.get("constraint") or "")):
                    num = float(value)
                    num = int(num) if num.is_integer() else num
                    q["min" if op.startswith(">") else "max"] = num
            demographics.append(q)
            demographics.item_lines.append(line)
    if stack:
        problems.append(f"{shown}: group(s) {', '.join(stack)} are never closed. Fix: add end_group rows.")
    if problems:
        raise InstrumentError(f"XLSForm {shown} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))

    # Constructs without items but with children are higher-order; drop empty item lists.
    for spec in constructs.values():
        if not spec["items"]:
            del spec["items"]
    doc = _mapping(1, name=settings.get("form_id"), version=str(settings.get("version") or "1"),
                   languages=list(langs),
                   title=_mapping(1, **{lg: settings.get(f"govsurvey::title::{lg}") or settings.get("form_title") for lg in langs}),
                   scales=scales, constructs=constructs)
    notice = {lg: settings.get(f"govsurvey::notice::{lg}") for lg in langs if settings.get(f"govsurvey::notice::{lg}")}
    if notice:
        doc["notice"] = _mapping(1, **notice)
    if settings.get("govsurvey::citation"):
        doc["source"] = {"citation": settings["govsurvey::citation"]}
    if importance_items:
        doc["importance"] = _mapping(importance_items.item_lines[0], items=importance_items)
    if checks:
        doc["checks"] = checks
    if demographics:
        doc["demographics"] = demographics
    if doc.get("name") is None:
        raise InstrumentError(f"XLSForm {shown} has no form_id in its settings sheet. Fix: add a settings sheet with form_id (the instrument name).")
    return parse_instrument([(shown, doc)], path=shown, unit="row")
