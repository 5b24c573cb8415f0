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

A workbook from ODK, KoBoToolbox or SurveyCTO reads too:

- groups are structure; a group is a construct when the form says so (``govsurvey::role`` =
  construct or ``govsurvey::construct`` = yes) or when it directly holds a select_one on a Likert
  list (see :func:`_likert_split`); those select_one questions are its items, every other
  question is a background (demographic) question;
- select_one, integer, decimal, text are read as before; select_multiple (with its list), rank,
  range, date, time, datetime, geopoint/geotrace/geoshape, image/audio/video/file, barcode,
  acknowledge, calculate, hidden, start/end/today are background questions (``Item.type``);
  notes and device/user metadata (deviceid, phonenumber, username, audit, ...) are dropped with
  a :class:`~govsurvey.errors.DataWarning`; a repeat (or a loop) is refused, naming it;
- choice ``name`` or SurveyCTO ``value``; word names (``yes``/``no``) get codes 1..k in sheet
  order and are kept (``Scale.names``), so answers written as names map to the codes;
- ``label::English (en)``, ``label:English``, ``label::中文 (zh)``, ``label::zh`` map to codes
  (bracketed code, a code, or a known language name); a plain ``label`` is the settings'
  ``default_language``, else zh when the texts hold Chinese characters, else en; a missing
  translation takes the first language's text (with a DataWarning);
- reading stops after 1,000 empty rows, so sheets formatted to row 1,048,576 read in a blink.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from govsurvey.data.checks import check_regular_file, check_xlsx
from govsurvey.data.files import write_atomic
from govsurvey.data.writers import restore_cell, safe_cell
from govsurvey.data.yamlfile import YamlMap as _Map
from govsurvey.data.yamlfile import YamlSeq as _Seq
from govsurvey.errors import DataWarning, InputFileNotFoundError, InstrumentError
from govsurvey.instrument.loader import parse_instrument
from govsurvey.instrument.model import BACKGROUND_TYPES, Instrument

__all__ = ["write_xlsform", "read_xlsform", "language_code"]

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
        "required", "constraint", "parameters", "govsurvey::role", "govsurvey::reverse", "govsurvey::dimension", "govsurvey::expected"]
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
        if q.type is not None:
            row["required"] = "no"
            row["type"] = f"select_multiple {sc.name}" if q.type == "select_multiple" else q.type
            if q.type == "range":
                row["parameters"] = " ".join(f"{k}={_num(v)}" for k, v in (("start", sc.min), ("end", sc.max)) if v is not None)
        elif sc.type in ("likert", "ordinal", "nominal"):
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
        "govsurvey::code", "govsurvey::scale_type", "govsurvey::missing", "govsurvey::missing_text"]
    choices = _choice_rows(instrument, langs)

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


# ------------------------------------------------------------------ reading
BLANK_RUN = 1000
"""Reading a sheet stops after this many consecutive empty rows: sheets formatted down to row
1,048,576 hold a million empty rows that need not be walked."""

METADATA_TYPES = {"deviceid", "subscriberid", "simserial", "phonenumber", "username", "email", "audit",
                  "text audit", "start-geopoint", "caseid", "comments", "background-audio", "csv-external",
                  "xml-external", "instanceid", "audio audit", "speed violations count", "speed violations list",
                  "speed violations audit", "sensor_statistic", "sensor_stream", "note"}
"""Pure metadata (device and user identifiers, audit logs) and display-only notes: dropped, with a note."""
ALIASES = {"int": "integer", "string": "text", "select one": "select_one", "select1": "select_one",
           "select all that apply": "select_multiple", "select multiple": "select_multiple",
           "select_one_external": "select_one", "begin group": "begin_group", "end group": "end_group",
           "begin repeat": "begin_repeat", "end repeat": "end_repeat", "begin loop": "begin_repeat",
           "end loop": "end_repeat", "uri:deviceid": "deviceid", "phone number": "phone number",
           "trigger": "acknowledge", "gps": "geopoint", "photo": "image", "add note prompt": "note"}
LANGUAGE_CODES = {
    "english": "en", "chinese": "zh", "中文": "zh", "汉语": "zh", "简体中文": "zh", "mandarin": "zh",
    "spanish": "es", "español": "es", "espanol": "es", "french": "fr", "français": "fr", "francais": "fr",
    "german": "de", "deutsch": "de", "swahili": "sw", "kiswahili": "sw", "amharic": "am", "tigrinya": "ti",
    "tigirigna": "ti", "oromo": "om", "oromiffa": "om", "afaan oromoo": "om", "portuguese": "pt",
    "português": "pt", "arabic": "ar", "russian": "ru", "hindi": "hi", "bengali": "bn", "bangla": "bn",
    "urdu": "ur", "nepali": "ne", "japanese": "ja", "korean": "ko", "vietnamese": "vi", "indonesian": "id",
    "thai": "th", "turkish": "tr", "italian": "it", "dutch": "nl", "somali": "so", "hausa": "ha",
    "yoruba": "yo", "igbo": "ig", "kinyarwanda": "rw", "burmese": "my", "khmer": "km", "lao": "lo",
    "tagalog": "tl", "filipino": "fil", "persian": "fa", "farsi": "fa", "pashto": "ps", "dari": "prs",
    "ukrainian": "uk", "polish": "pl", "tamil": "ta", "telugu": "te", "hebrew": "he", "greek": "el",
}
_CODE_IN_NAME = re.compile(r"\(\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\s*\)\s*$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MISSING_WORDS = re.compile(r"don.?t know|do not know|refus|not applicable|^n/?a$|prefer not|no answer|"
                            r"不知道|拒绝|不适用|weiß nicht|keine angabe|no sé|no sabe|ne sais pas", re.IGNORECASE)


def _choice_rows(instrument: Instrument, langs: list[str]) -> list[dict[str, Any]]:
    """The choices sheet: one row per code of every categorical scale, missing codes last.

    ``name`` is the choice name (a word such as ``yes`` when the scale keeps names, else the
    code); ``govsurvey::code`` the code, so a re-read gives the same codes.
    """
    rows: list[dict[str, Any]] = []
    for sc in instrument.scales.values():
        if sc.type not in ("likert", "ordinal", "nominal"):
            continue
        missing = {_num(m) for m in sc.missing}
        codes = sorted(({c for per in sc.labels.values() for c in per} | set(sc.codes)) - missing)
        for k, code in enumerate(codes):
            rows.append({"list_name": sc.name, "name": sc.names.get(code, code), "govsurvey::code": code,
                         "govsurvey::scale_type": sc.type,
                         **{f"label::{lg}": sc.labels.get(lg, {}).get(code, str(code)) for lg in langs},
                         "govsurvey::missing_text": "|".join(sc.missing_text) if k == 0 and sc.missing_text else None})
        for m in sorted(missing):
            rows.append({"list_name": sc.name, "name": sc.names.get(m, m), "govsurvey::code": m,
                         "govsurvey::scale_type": sc.type, "govsurvey::missing": "yes",
                         **{f"label::{lg}": sc.labels.get(lg, {}).get(m, "(missing)") for lg in langs}})
    return rows


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, str):
        v = restore_cell(v.strip()).strip()
        return v or None
    return v


def _rows(ws) -> list[tuple[int, dict[str, Any]]]:
    """The sheet's rows as (row number, {header: value}), up to its last non-empty row.

    Only the columns up to the last header are read, and reading stops after
    :data:`BLANK_RUN` empty rows in a row, so formatting to row 1,048,576 costs nothing.
    """
    it = ws.iter_rows(values_only=True)
    first = next(it, None)
    if first is None:
        return []
    header = [str(h).strip() if h is not None else "" for h in first]
    while header and not header[-1]:
        header.pop()
    if not header:
        return []
    out: list[tuple[int, dict[str, Any]]] = []
    blank = 0
    for k, row in enumerate(ws.iter_rows(min_row=2, max_col=len(header), values_only=True), start=2):
        record = {h: _cell(v) for h, v in zip(header, row) if h}
        if not any(v is not None for v in record.values()):
            blank += 1
            if blank >= BLANK_RUN:
                break
            continue
        blank = 0
        out.append((k, record))
    return out


def _sheet(wb, name: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    lookup = {s.strip().lower(): s for s in wb.sheetnames}
    if name not in lookup:
        if name in ("settings", "choices"):
            return []
        raise InstrumentError(f"XLSForm {path} has no {name!r} sheet (it has {', '.join(wb.sheetnames)}). "
                              "Fix: name the sheet with the questions 'survey' (and the choice lists 'choices').")
    return _rows(wb[lookup[name]])


def _yes(v: Any) -> bool:
    return str(v).strip().lower() in ("yes", "true", "1", "y", "true()") if v is not None else False


def _mapping(line: int, **kwargs: Any) -> _Map:
    m = _Map()
    m.line = line
    for k, v in kwargs.items():
        if v is not None:
            m[k] = v
            m.key_lines[k] = line
    return m


def _seq() -> _Seq:
    s = _Seq()
    s.item_lines = []
    return s


def _int_code(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"-?\d+(?:\.0+)?", v):
        return int(float(v))
    return v


def _text(v: Any) -> str:
    v = _int_code(v)
    return str(v)


def language_code(name: str) -> str:
    """The language code of a label column's language part: by a code in brackets, a code, or a name.

    Examples
    --------
    >>> [language_code(n) for n in ["English (en)", "English(en)", "english", "中文 (zh)", "zh", "Deutsch (de)", "Tigirigna"]]
    ['en', 'en', 'en', 'zh', 'zh', 'de', 'ti']
    """
    name = str(name).strip()
    m = _CODE_IN_NAME.search(name)
    if m:
        return m.group(1).lower().replace("_", "-")
    low = name.lower()
    if low in LANGUAGE_CODES:
        return LANGUAGE_CODES[low]
    if re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?", low):
        return low
    slug = re.sub(r"[^a-z0-9]+", "_", low).strip("_")
    return slug or "und"


def _label_columns(header: list[str], settings: dict, texts: list[str]) -> dict[str, list[str]]:
    """Language code → the label columns that hold it (explicit columns first, then a plain ``label``).

    A plain ``label`` is the settings' ``default_language``; without one, ``zh`` when the texts
    hold Chinese characters, else ``en``.
    """
    out: dict[str, list[str]] = {}
    plain = None
    for h in header:
        m = re.fullmatch(r"label\s*(?:::?)\s*(.+)", h, flags=re.IGNORECASE)
        if m:
            out.setdefault(language_code(m.group(1)), []).append(h)
        elif h.strip().lower() == "label":
            plain = h
    default = settings.get("default_language")
    if plain is not None:
        if default not in (None, "", "default"):
            lg = language_code(str(default))
        elif out:
            lg = next(iter(out))
        else:
            lg = "zh" if any(_CJK.search(t) for t in texts) else "en"
        out.setdefault(lg, []).append(plain)
    if default not in (None, "", "default") and language_code(str(default)) in out:
        first = language_code(str(default))
        out = {first: out[first], **{k: v for k, v in out.items() if k != first}}
    return out


def _parse_type(t: str) -> tuple[str, str | None]:
    """(kind, choice list) of a survey ``type`` cell, with the spec's aliases and old spellings.

    >>> _parse_type("select one from yes_or_no"), _parse_type("select_multiple fruit or_other")
    (('select_one', 'yes_or_no'), ('select_multiple', 'fruit'))
    >>> _parse_type("end"), _parse_type("end group"), _parse_type("int")
    (('end', None), ('end_group', None), ('integer', None))
    """
    t = re.sub(r"\s+", " ", t.strip())
    low = t.lower()
    low = re.sub(r" (or_other|or specify other)$", "", low)
    t = t[: len(low)]
    for prefix in ("select all that apply from ", "select one from ", "select all that apply ", "select one ",
                   "select multiple ", "select_one_external "):
        if low.startswith(prefix):
            rest = t[len(prefix):].strip()
            return ("select_multiple" if "all" in prefix or "multiple" in prefix else "select_one"), rest
    if low.startswith("begin loop"):
        return "begin_repeat", None
    if low in ALIASES:
        return ALIASES[low], None
    parts = t.split(None, 1)
    kind = ALIASES.get(parts[0].lower(), parts[0].lower())
    if kind in ("select_one", "select_multiple", "rank") and len(parts) == 2:
        return kind, parts[1].strip()
    if kind in ("select_one_from_file", "select_multiple_from_file") and len(parts) == 2:
        return f"{kind} {parts[1].strip()}", None
    return (low if len(parts) > 1 and low in METADATA_TYPES else kind), None


_LIKERT_WORDS = re.compile(
    r"\b(?:agree|disagree|satisf|dissatisf|never|always|often|rarely|seldom|sometimes|not at all|extremely|very|"
    r"important|unimportant|likely|unlikely|excellent|poor|good|bad|strongly|slight|completely|neither|neutral|"
    r"nearly every|several days|acuerdo|desacuerdo|satisfech|nunca|siempre|muy|accord|satisfait|jamais|toujours|"
    r"très|stimme|zufrieden|nie|immer|sehr|schlecht|gut|ausgezeichnet|mittel)"
    r"|同意|满意|符合|从不|从未|总是|经常|偶尔|有时|非常|比较|重要|可能|很少", re.IGNORECASE)


class _Choice:
    __slots__ = ("line", "row", "name", "code", "labels")

    def __init__(self, line: int, row: dict, name: Any) -> None:
        self.line, self.row, self.name = line, row, name
        self.code: Any = None
        self.labels: dict[str, str] = {}


def _first(row: dict, cols: list[str]) -> str | None:
    for c in cols:
        if row.get(c) is not None:
            return _text(row[c])
    return None


def _fill(found: dict[str, str | None], langs: list[str], fallback: str, strict: bool, filled: list[str]) -> dict[str, str]:
    """Texts per language; a missing translation takes the first language's text (or ``fallback``)."""
    have = [found[lg] for lg in langs if found.get(lg)]
    out = {}
    for lg in langs:
        if found.get(lg):
            out[lg] = found[lg]
        elif not strict:
            out[lg] = have[0] if have else fallback
            if have:
                filled.append(lg)
    return out


def _code_choices(entries: list[_Choice]) -> dict[int, str]:
    """Give each choice its code; return the word names kept (code → name).

    ``govsurvey::code`` when the sheet has it; the names themselves when every name is a whole
    number; otherwise the sheet order 1..k, the names kept.
    """
    if any(e.row.get("govsurvey::code") is not None for e in entries):
        for e in entries:
            e.code = _int_code(e.row.get("govsurvey::code", e.name))
    elif all(isinstance(_int_code(e.name), int) and not isinstance(_int_code(e.name), bool) for e in entries):
        for e in entries:
            e.code = _int_code(e.name)
    else:
        for k, e in enumerate(entries, start=1):
            e.code = k
    return {e.code: _text(e.name) for e in entries if e.name is not None and _text(e.name) != str(e.code)}


def _likert_split(entries: list[_Choice]) -> tuple[bool, list[int]]:
    """Whether a list is a Likert scale, and its missing-like codes.

    Rule: leaving out the choices that mean no answer (a negative code, or a label such as
    "Don't know", "Refuse", "N/A", 不知道, 拒绝), at least 3 choices remain whose codes run in
    steps of one in sheet order, the no-answer codes lie outside their range, and the first and the
    last choice read as an ordered rating (agree/disagree, never/always, very poor/very good,
    not at all/nearly every day, 非常不同意/非常同意, ... in any label language) or every label is a number.
    """
    miss = [e for e in entries if isinstance(e.code, int) and (e.code < 0 or any(
        _MISSING_WORDS.search(t) for t in list(e.labels.values()) + [_text(e.name)]))]
    valid = [e for e in entries if e not in miss]
    codes = [e.code for e in valid]
    if len(valid) < 3 or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
        return False, []
    steps = {b - a for a, b in zip(codes, codes[1:])}
    if steps not in ({1}, {-1}) or any(min(codes) <= e.code <= max(codes) for e in miss):
        return False, []
    ends = [valid[0], valid[-1]]
    worded = all(any(_LIKERT_WORDS.search(t) for t in e.labels.values()) for e in ends)
    numbered = all(re.fullmatch(r"-?\d+(?:\.\d+)?", t.strip()) for e in valid for t in e.labels.values())
    return worded or numbered, [e.code for e in miss]


def _scales(choices: list, label_cols: dict[str, list[str]], langs: list[str], strict: bool,
            filled: list[str]) -> tuple[_Map, set[str]]:
    """The choice lists as scale specs, and the names of the Likert lists."""
    lists: dict[str, list[_Choice]] = {}
    for line, row in choices:
        lname = row.get("list_name", row.get("list name"))
        if lname is not None:
            lists.setdefault(_text(lname), []).append(_Choice(line, row, row.get("name", row.get("value"))))
    scales = _Map()
    scales.line = choices[0][0] if choices else 1
    likert: set[str] = set()
    for lname, entries in lists.items():
        names = _code_choices(entries)
        for e in entries:
            found = {lg: _first(e.row, label_cols.get(lg, [])) for lg in langs}
            e.labels = _fill(found, langs, _text(e.name), strict, filled)
        stype = entries[0].row.get("govsurvey::scale_type")
        flagged = [e.code for e in entries if _yes(e.row.get("govsurvey::missing"))]
        is_likert, miss = (stype in ("likert", "ordinal"), flagged) if stype else _likert_split(entries)
        stype = stype or ("likert" if is_likert else "nominal")
        labels = _mapping(entries[0].line, **{lg: _Map() for lg in langs})
        for e in entries:
            for lg, text in e.labels.items():
                if e.code not in flagged or not text.startswith("(missing"):
                    labels[lg][e.code] = text
                    labels[lg].key_lines[e.code] = e.line
        mtext = [t for e in entries for t in str(e.row.get("govsurvey::missing_text") or "").split("|") if t]
        spec = _mapping(entries[0].line, type=stype, labels=labels, missing=_Seq(miss) if miss else None,
                        missing_text=list(dict.fromkeys(mtext)) or None, names=dict(names) or None)
        valid = [e.code for e in entries if e.code not in miss and isinstance(e.code, int)]
        if stype in ("likert", "ordinal") and valid:
            spec["min"], spec["max"] = min(valid), max(valid)
            likert.add(lname)
        scales[lname] = spec
        scales.key_lines[lname] = entries[0].line
    return scales, likert


_NATIVE = ("select_one", "integer", "decimal", "text")


def _walk(survey: list, shown: str, problems: list[str], dropped: list[str]) -> tuple[list[dict], list[dict]]:
    """The groups and the questions of the survey sheet, in order; repeats are problems."""
    groups: list[dict] = []
    questions: list[dict] = []
    stack: list[dict] = []
    for line, row in survey:
        if row.get("type") is None:
            continue
        kind, lst = _parse_type(_text(row["type"]))
        name = row.get("name")
        inner = next((g for g in reversed(stack) if not g["repeat"]), None)
        if kind in ("begin_group", "begin_repeat"):
            g = {"name": _text(name) if name is not None else f"group_row{line}", "line": line, "row": row,
                 "parent": inner, "repeat": kind == "begin_repeat", "construct": False,
                 "explicit": str(row.get("govsurvey::role") or "") == "construct" or _yes(row.get("govsurvey::construct"))}
            if g["repeat"]:
                problems.append(f"{shown}, survey sheet row {line}: repeat {g['name']!r} ({_text(row['type'])}) is not supported: "
                                "govsurvey reads one answer per question and respondent, and a repeat asks its questions many times. "
                                "Fix: analyse the repeat's rows as a form of their own, or write its questions out as plain questions.")
            stack.append(g)
            groups.append(g)
            continue
        if kind in ("end_group", "end_repeat"):
            if stack:
                stack.pop()
            continue
        if any(g["repeat"] for g in stack):
            continue
        if kind in METADATA_TYPES:
            dropped.append(f"{name} ({kind})")
            continue
        if kind not in _NATIVE and kind not in BACKGROUND_TYPES and kind.split()[0] not in BACKGROUND_TYPES:
            problems.append(f"{shown}, survey sheet row {line}: question type {_text(row['type'])!r} is not an XLSForm type. "
                            "Fix: use an XLSForm type (select_one <list>, select_multiple <list>, integer, decimal, text, date, ...).")
            continue
        if kind in ("select_one", "select_multiple", "rank") and not lst:
            problems.append(f"{shown}, survey sheet row {line}: type {_text(row['type'])!r} names no choice list. "
                            f"Fix: write {kind} <list_name>.")
            continue
        questions.append({"line": line, "row": row, "name": name, "kind": kind, "list": lst, "group": inner})
    if stack:
        problems.append(f"{shown}: group(s) {', '.join(g['name'] for g in stack)} are never closed. Fix: add end_group rows.")
    return groups, questions


def _roles(groups: list[dict], questions: list[dict], likert: set[str]) -> None:
    """Decide which groups are constructs and what each question is for (in place, on the records).

    A group is a construct when the form says so (``govsurvey::role`` = construct, or a yes in
    ``govsurvey::construct``) or when it directly holds a select_one question on a Likert list
    (see :func:`_likert_split`); every other group is structure only. A construct's parent is the
    nearest enclosing group the form marks as a construct.
    """
    for q in questions:
        q["role"] = str(q["row"].get("govsurvey::role") or "") or None
        q["likert"] = q["kind"] == "select_one" and q["list"] in likert
    for g in groups:
        g["construct"] = g["explicit"] or any(q["group"] is g and q["role"] is None and q["likert"] for q in questions)
    for q in questions:
        home = q["group"]
        while home is not None and not home["construct"]:
            home = home["parent"]
        q["construct"] = home
        if q["role"] is None:
            q["role"] = "item" if (q["likert"] and home is not None and home is q["group"]) else "demographic"


def _range(text: Any) -> dict[str, Any]:
    """``min``/``max`` of a numeric question from its ``constraint`` (``. >= 16 and . <= 100``)
    or, for a range question, its ``parameters`` (``start=1 end=10``)."""
    out: dict[str, Any] = {}
    for op, value in _RANGE.findall(str(text or "")):
        out["min" if op.startswith(">") else "max"] = _num(float(value))
    return out


def _question(q: dict, texts: _Map) -> _Map:
    """One question as an instrument entry (the role decides where it goes)."""
    line, row, kind = q["line"], q["row"], q["kind"]
    spec = _mapping(line, id=_text(q["name"]) if q["name"] is not None else None, text=texts)
    if q["role"] != "demographic":
        if kind == "select_one":
            spec["scale"] = q["list"]
            spec.key_lines["scale"] = line
        return spec
    if kind in ("select_one", "select_multiple"):
        spec["type"], spec["scale"] = kind, q["list"]
    elif kind == "rank":
        spec["type"] = f"rank {q['list']}"
    elif kind == "range":
        spec["type"] = "range"
        params = dict(re.findall(r"(start|end)\s*=\s*(-?\d+(?:\.\d+)?)", str(row.get("parameters") or "")))
        spec.update({k: _num(float(params[p])) for k, p in (("min", "start"), ("max", "end")) if p in params})
    else:
        spec["type"] = kind
        if kind in ("integer", "decimal"):
            spec.update(_range(row.get("constraint")))
    return spec


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]+", "_", str(text)).strip("_")
    return s if re.match(r"[A-Za-z]", s) else f"form_{s}"


def _open(p: Path) -> tuple[list, list, dict]:
    from openpyxl import load_workbook

    if not p.exists():
        raise InputFileNotFoundError(f"XLSForm {p} does not exist. Check the path.")
    check_regular_file(p, "XLSForm", InstrumentError)
    check_xlsx(p, InstrumentError)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # openpyxl: unparsable headers/footers, unknown extensions
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
    lower = lambda rows: [(k, {h.lower(): v for h, v in r.items()}) for k, r in rows]  # noqa: E731
    settings = lower(settings_rows)[0][1] if settings_rows else {}
    return lower(survey), lower(choices), settings


def _languages(survey: list, choices: list, settings: dict) -> tuple[list[str], dict[str, list[str]], bool]:
    """(languages, label columns per language, strict): a govsurvey-written form is strict."""
    header = list(dict.fromkeys(h for _, r in survey + choices for h in r))
    if settings.get("govsurvey::languages"):
        langs = str(settings["govsurvey::languages"]).split()
        return langs, {lg: [f"label::{lg.lower()}"] for lg in langs}, True
    sample = [str(r.get("label")) for _, r in survey[:200] + choices[:200] if r.get("label")]
    cols = _label_columns(header, settings, sample)
    if not cols:
        lg = language_code(str(settings.get("default_language") or "zh"))
        cols = {lg: []}
    return list(cols), cols, False


def read_xlsform(path: str | Path) -> Instrument:
    """Read an XLSForm workbook (govsurvey's own, or ODK/KoBoToolbox/SurveyCTO's) as an :class:`Instrument`.

    See the module notes for the rules: which groups are constructs, how choice names become
    codes, how label columns map to languages and what each question type becomes. Device
    metadata and notes are dropped with a :class:`~govsurvey.errors.DataWarning`; a repeat is
    an :class:`~govsurvey.errors.InstrumentError` naming it.
    """
    p = Path(path)
    survey, choices, settings = _open(p)
    shown = str(p)
    langs, label_cols, strict = _languages(survey, choices, settings)
    filled: list[str] = []
    scales, likert = _scales(choices, label_cols, langs, strict, filled)
    problems: list[str] = []
    dropped: list[str] = []
    groups, questions = _walk(survey, shown, problems, dropped)
    if problems:
        raise InstrumentError(f"XLSForm {shown} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    _roles(groups, questions, likert)

    def texts(row: dict, line: int, fallback: str) -> _Map:
        found = {lg: _first(row, label_cols.get(lg, [])) for lg in langs}
        return _mapping(line, **_fill(found, langs, fallback, strict, filled))

    doc = _document(p, settings, langs, scales, groups, questions, texts)
    _notes(shown, dropped, filled, langs)
    return parse_instrument([(shown, doc)], path=shown, unit="row")


def _document(p: Path, settings: dict, langs: list[str], scales: _Map, groups: list[dict], questions: list[dict], texts) -> _Map:
    """The instrument document (as a YAML file would give it) from the decided records."""
    constructs = _Map()
    constructs.line = 1
    for g in groups:
        if g["construct"]:
            parent = g["parent"]
            while parent is not None and not (parent["construct"] and parent["explicit"]):
                parent = parent["parent"]
            spec = _mapping(g["line"], label=texts(g["row"], g["line"], g["name"]), parent=parent["name"] if parent else None)
            spec["items"] = _seq()
            constructs[g["name"]] = spec
            constructs.key_lines[g["name"]] = g["line"]
    parts = {"importance": _seq(), "check": _seq(), "demographic": _seq()}
    for q in questions:
        spec = _question(q, texts(q["row"], q["line"], _text(q["name"])))
        if _yes(q["row"].get("govsurvey::reverse")):
            spec["reverse"] = True
            spec.key_lines["reverse"] = q["line"]
        if q["role"] == "item" and q["construct"] is not None:
            target = constructs[q["construct"]["name"]]["items"]
        else:
            target = parts.get(q["role"], parts["demographic"])
            if q["role"] == "importance":
                spec["dimension"] = q["row"].get("govsurvey::dimension")
            elif q["role"] == "check":
                spec["expected"] = _int_code(q["row"].get("govsurvey::expected"))
        target.append(spec)
        target.item_lines.append(q["line"])
    for spec in constructs.values():
        if not spec["items"]:
            del spec["items"]
    title = {lg: settings.get(f"govsurvey::title::{lg.lower()}") or settings.get("form_title") or settings.get("form_id") or p.stem
             for lg in langs}
    doc = _mapping(1, name=_slug(settings.get("form_id") or p.stem), version=_text(settings.get("version") or "1"),
                   languages=list(langs), title=_mapping(1, **{lg: _text(t) for lg, t in title.items()}),
                   scales=scales, constructs=constructs)
    notice = {lg: settings.get(f"govsurvey::notice::{lg.lower()}") for lg in langs if settings.get(f"govsurvey::notice::{lg.lower()}")}
    if notice:
        doc["notice"] = _mapping(1, **notice)
    if settings.get("govsurvey::citation"):
        doc["source"] = {"citation": settings["govsurvey::citation"]}
    if parts["importance"]:
        doc["importance"] = _mapping(parts["importance"].item_lines[0], items=parts["importance"])
    for key, part in (("checks", parts["check"]), ("demographics", parts["demographic"])):
        if part:
            doc[key] = part
    return doc


def _notes(shown: str, dropped: list[str], filled: list[str], langs: list[str]) -> None:
    if dropped:
        warnings.warn(DataWarning(
            f"XLSForm {shown}: {len(dropped)} row(s) dropped, as they hold no answers govsurvey reads (notes) or only "
            f"device/user metadata: {', '.join(dropped[:8])}{', …' if len(dropped) > 8 else ''}. "
            "Nothing to fix; their columns in the data are left unread."), stacklevel=3)
    if filled:
        counts = {lg: filled.count(lg) for lg in langs if lg in filled}
        warnings.warn(DataWarning(
            f"XLSForm {shown}: {len(filled)} label(s) have no translation ({', '.join(f'{lg}: {n}' for lg, n in counts.items())}); "
            f"the text in {langs[0]!r} (or the name) stands in. Fix: fill the label columns to have every text translated."),
            stacklevel=3)
