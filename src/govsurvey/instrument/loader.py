"""Load and validate instrument YAML files.

Every problem in a file is collected and reported at once, each with the file, the line,
the key path and the fix.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any


from govsurvey.data.checks import check_regular_file
from govsurvey.data.yamlfile import Problems, YamlMap, line_of, load_yaml_file
from govsurvey.errors import InputFileNotFoundError, InstrumentError
from govsurvey.instrument.model import BACKGROUND_TYPES, SCALE_TYPES, Construct, Instrument, Item, Scale, normalize_text

__all__ = ["load_instrument", "parse_instrument"]

ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
"""Background questions may carry any XLSForm (XML) name, such as ``role_project-alpha``."""
QUESTION_TYPES = ("select_one", "integer", "decimal", "text")
TOP_KEYS = {
    "format", "name", "version", "title", "languages", "source", "notice", "scales",
    "constructs", "importance", "checks", "demographics", "include",
}
MAX_INCLUDE_DEPTH = 8
# The keys each kind of entry may have; anything else (a misspelt ``revers:``) is a problem,
# never silently dropped.
ENTRY_KEYS = {
    "scale": ("type", "min", "max", "labels", "missing", "missing_text", "names", "description"),
    "construct": ("label", "parent", "scale", "items", "description"),
    "item": ("id", "text", "scale", "reverse", "description"),
    "importance": ("scale", "items", "description"),
    "importance item": ("id", "text", "dimension", "scale", "description"),
    "check": ("id", "text", "scale", "expected", "description"),
    "question": ("id", "text", "type", "choices", "scale", "missing", "min", "max", "reverse", "description"),
}
MAX_BYTES = 5_000_000


def _unknown_keys(fp: Problems, spec: Any, kind: str, where: str) -> None:
    """Report every key of ``spec`` that a ``kind`` entry does not have, with the closest valid key."""
    if not isinstance(spec, dict):
        return
    allowed = ENTRY_KEYS[kind]
    for key in spec:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            article = "an" if kind[0] in "aeiou" else "a"
            fp.add(_line(spec, key), f"{where}.{key}", f"unknown key {key!r} in {article} {kind}.",
                   f"{hint}{article.capitalize()} {kind} may have {', '.join(allowed)}.")


def _Problems(path: str, unit: str = "line") -> Problems:
    return Problems(path, noun="Instrument", error=InstrumentError, unit=unit)


_line = line_of


def _read_yaml(path: Path) -> Any:
    if not path.exists():
        raise InputFileNotFoundError(f"Instrument file {path} does not exist. Check the path (relative paths start from {Path.cwd()}).")
    check_regular_file(path, "Instrument file", InstrumentError)
    return load_yaml_file(path, noun="Instrument", error=InstrumentError, max_bytes=MAX_BYTES,
                          bomb_fix="write the instrument out without YAML aliases (*name), or split it into files joined with include:.")


def load_instrument(path: str | Path) -> Instrument:
    """Load a questionnaire from native YAML or an XLSForm workbook (``.xlsx``).

    Parameters
    ----------
    path
        A ``.yaml``/``.yml`` instrument file, or an ``.xlsx`` XLSForm with ``survey`` and
        ``choices`` sheets (``label::zh``, ``label::en`` columns).

    Returns
    -------
    Instrument
        Validated; every problem in the file is reported at once as an
        :class:`~govsurvey.errors.InstrumentError` naming the line and the fix.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> inst.reverse_keyed[:2]
    ['PL4', 'RS4']
    """
    p = Path(path)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        from govsurvey.instrument.xlsform import read_xlsform

        return read_xlsform(p)
    if p.suffix.lower() not in (".yaml", ".yml"):
        raise InstrumentError(
            f"Cannot load instrument {p}: the file type {p.suffix or '(none)'!r} is not supported. "
            "Fix: give a .yaml instrument or an .xlsx XLSForm."
        )
    return parse_instrument(_collect(p.resolve(), depth=0, chain=(), done=set()), path=str(p))


def _collect(path: Path, depth: int, chain: tuple[Path, ...], done: set[Path]) -> list[tuple[str, Any]]:
    """The file and the files it includes, depth-first, each once, as (display path, document)."""
    if path in chain:
        raise InstrumentError(f"Instrument {path} includes itself (through {' -> '.join(map(str, chain))}). Fix: remove the cycle.")
    if depth > MAX_INCLUDE_DEPTH:
        raise InstrumentError(f"Instrument {path}: includes are nested more than {MAX_INCLUDE_DEPTH} deep. Fix: flatten them.")
    doc = _read_yaml(path)
    shown = _display(path)
    if not isinstance(doc, YamlMap):
        raise InstrumentError(f"Instrument {shown} must be a YAML mapping (name:, version:, scales:, ...); it is {type(doc).__name__}.")
    docs: list[tuple[str, Any]] = []
    includes = doc.get("include") or []
    if not isinstance(includes, list):
        raise InstrumentError(f"{shown}, line {_line(doc, 'include')} (include): must be a list of file names. Fix: write include: [other.yaml].")
    for k, inc in enumerate(includes):
        target = (path.parent / str(inc)).resolve()
        if not target.exists():
            raise InstrumentError(
                f"{shown}, line {_line(includes, k)} (include[{k}]): file {inc!r} does not exist next to {path.name}. "
                "Fix: correct the name; paths are relative to the including file."
            )
        if target in done:
            continue
        docs.extend(_collect(target, depth + 1, chain + (path,), done))
    done.add(path)
    docs.append((shown, doc))
    return docs


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _texts(value: Any, languages: tuple[str, ...], probs: _Problems, line: int | None, where: str, what: str) -> dict[str, str]:
    if isinstance(value, str) and len(languages) == 1:
        return {languages[0]: value}
    if not isinstance(value, dict):
        probs.add(line, where, f"{what} must be a mapping of language to text, got {value!r}.",
                  f"write {where}: {{{', '.join(f'{lg}: ...' for lg in languages)}}}.")
        return {}
    out = {str(k): str(v) for k, v in value.items() if v is not None and str(v).strip()}
    for key in value:
        if str(key) not in languages:
            if value[key] is None and " " in str(key):       # {en: Overall, how satisfied …}: the comma ended the text
                probs.add(_line(value, key) or line, where, f"{what}: a comma inside {{...}} cut the text before {str(key)[:40]!r}.",
                          "put the text in quotes: en: \"Overall, how ...\".")
                continue
            close = difflib.get_close_matches(str(key), languages, n=1, cutoff=0.5)
            probs.add(_line(value, key) or line, f"{where}.{key}", f"{what} has text in {key!r}, which is not one of the "
                      f"instrument's languages ({', '.join(languages)}).",
                      (f"did you mean {close[0]!r}? " if close else "") + "Rename it, or add it to languages:.")
    for lg in languages:
        if lg not in out:
            probs.add(_line(value, lg) or line, where, f"{what} has no text in language {lg!r}.",
                      f"add {lg}: ... under {where} (the instrument declares languages {list(languages)}).")
    return out


def _scale(name: str, spec: Any, languages: tuple[str, ...], probs: _Problems, where: str) -> Scale | None:
    line = _line(spec)
    if not isinstance(spec, dict):
        probs.add(line, where, f"scale {name!r} must be a mapping with type, min, max and labels.", "see instruments/README.md.")
        return None
    _unknown_keys(probs, spec, "scale", where)
    stype = spec.get("type")
    if stype not in SCALE_TYPES:
        probs.add(_line(spec, "type"), f"{where}.type", f"scale type {stype!r} is not known.",
                  f"use one of {', '.join(SCALE_TYPES)}.")
        return None
    lo, hi = spec.get("min"), spec.get("max")
    if stype in ("likert", "ordinal"):
        if not isinstance(lo, int) or not isinstance(hi, int) or isinstance(lo, bool) or isinstance(hi, bool) or lo >= hi:
            probs.add(line, where, f"a {stype} scale needs whole-number min < max, got min={lo!r}, max={hi!r}.",
                      "write e.g. min: 1 and max: 5.")
            return None
    elif stype == "numeric" and (lo is not None and hi is not None and lo >= hi):
        probs.add(line, where, f"min ({lo}) must be below max ({hi}).", "correct min or max.")
    missing = spec.get("missing") or []
    if not isinstance(missing, list) or not all(isinstance(m, (int, float)) and not isinstance(m, bool) for m in missing):
        probs.add(_line(spec, "missing"), f"{where}.missing", "missing codes must be a list of numbers.", "write e.g. missing: [-2, -3, 99].")
        missing = []
    missing_text = spec.get("missing_text") or []
    labels: dict[str, dict[int, str]] = {}
    raw = spec.get("labels")
    if stype in ("likert", "ordinal", "nominal"):
        if not isinstance(raw, dict):
            probs.add(_line(spec, "labels") or line, f"{where}.labels",
                      f"a {stype} scale needs labels per language.", f"add labels: {{{languages[0]}: {{1: ..., 2: ...}}}}.")
            raw = {}
        for lg in languages:
            if lg not in raw:
                probs.add(_line(raw, lg) or _line(spec, "labels") or line, f"{where}.labels",
                          f"scale {name!r} has no labels in language {lg!r}.", f"add labels for {lg!r}.")
        for lg, per in raw.items():
            if not isinstance(per, dict):
                probs.add(_line(raw, lg), f"{where}.labels.{lg}", "labels must map codes to text.", "write 1: 非常不同意 and so on.")
                continue
            clean: dict[int, str] = {}
            for code, text in per.items():
                if not isinstance(code, int) or isinstance(code, bool):
                    probs.add(_line(per, code), f"{where}.labels.{lg}", f"label code {code!r} is not a whole number.",
                              "codes are the numbers stored in the data, e.g. 1, 2, 3.")
                    continue
                if stype != "nominal" and not (lo <= code <= hi) and code not in missing:
                    probs.add(_line(per, code), f"{where}.labels.{lg}", f"label code {code} is outside {lo}–{hi}.",
                              "correct the code, or list it under missing: if it means no answer.")
                clean[code] = str(text)
            labels[str(lg)] = clean
    _label_collisions(probs, name, raw if isinstance(raw, dict) else {}, spec, where)
    for m in missing:
        if stype in ("likert", "ordinal") and lo <= m <= hi:
            probs.add(_line(spec, "missing"), f"{where}.missing", f"missing code {m} lies inside the valid range {lo}–{hi}.",
                      "choose missing codes outside the range (e.g. 99 or -2).")
    names = spec.get("names") or {}
    if not isinstance(names, dict) or not all(isinstance(c, int) and not isinstance(c, bool) for c in names):
        probs.add(_line(spec, "names") or line, f"{where}.names", "names must map whole-number codes to choice names.",
                  "write names: {1: yes, 2: no}.")
        names = {}
    return Scale(
        name=name, type=stype,
        min=float(lo) if lo is not None else None, max=float(hi) if hi is not None else None,
        labels=labels, missing=tuple(float(m) for m in missing), missing_text=tuple(str(t) for t in missing_text),
        names={int(c): str(n) for c, n in names.items()},
    )


def _choice_scale(fp: Problems, qspec: dict, qid: str, qline: int | None, qwhere: str, item_scale: Any,
                  scales: dict[str, Scale], languages: tuple[str, ...]) -> str | None | bool:
    """The scale of a select_one/select_multiple question: its ``scale:`` or its own ``choices:``.
    False when the question must be skipped (the problem is recorded)."""
    if "scale" in qspec:
        return item_scale(fp, qspec, None, qline, qwhere)
    if not isinstance(qspec.get("choices"), dict):
        fp.add(_line(qspec, "choices") or qline, f"{qwhere}.choices", f"a {qspec.get('type')} question needs choices per language.",
               "write choices: {zh: {1: 男, 2: 女}, en: {1: Male, 2: Female}}, or scale: <name>.")
        return False
    spec = {"type": "nominal", "labels": qspec.get("choices"), "missing": qspec.get("missing", [])}
    sc = _scale(qid, spec, languages, fp, f"{qwhere}.choices")
    if sc is None:
        return False
    scales[qid] = sc
    return qid


def _label_collisions(probs: _Problems, name: str, raw: dict, spec: dict, where: str) -> None:
    """Report labels of different codes (any language, or a missing text) that read the same once
    spaces, punctuation and case are dropped: an answer could not tell them apart. A scale with
    choice names (an XLSForm list) is exempt: its answers are the names, which are unique."""
    if spec.get("names"):
        return
    seen: dict[str, tuple[str, Any, int | None]] = {}
    entries = [(code, text, _line(per, code)) for per in raw.values() if isinstance(per, dict) for code, text in per.items()]
    texts = spec.get("missing_text") or []
    entries += [("missing", t, _line(spec, "missing_text")) for t in (texts if isinstance(texts, list) else [])]
    for code, text, line in entries:
        label = str(text).strip()
        key = normalize_text(label) or label
        if key in seen and seen[key][1] != code:
            first, other, first_line = seen[key]
            probs.add(line, f"{where}.labels", f"scale {name!r}: labels {first!r} (code {other}, line {first_line}) and "
                      f"{label!r} (code {code}, line {line}) read the same once spaces and punctuation are ignored, so an "
                      "answer cannot be told apart.", "make the labels differ in letters or digits (e.g. 1至2次 and 12次).")
            continue
        seen.setdefault(key, (label, code, line))


def parse_instrument(docs: list[tuple[str, Any]], path: str | None = None, unit: str = "line") -> Instrument:
    """Validate parsed documents (the main file last, its includes first).

    ``unit`` names what the recorded positions count: YAML lines, or XLSForm sheet rows.
    """
    main_shown, main = docs[-1]
    probs = _Problems(main_shown, unit)
    file_probs = {shown: (probs if shown == main_shown else _Problems(shown, unit)) for shown, _ in docs}
    for shown, doc in docs:
        for key in doc:
            if key not in TOP_KEYS:
                file_probs[shown].add(_line(doc, key), str(key), f"unknown top-level key {key!r}.",
                                      f"use only {', '.join(sorted(TOP_KEYS))} (check the spelling).")
    for req in ("name", "version", "languages", "title"):
        if req not in main:
            probs.add(main.line, req, f"the instrument has no {req!r}.", f"add {req}: at the top of the file.")
    langs_raw = main.get("languages") or []
    if not isinstance(langs_raw, list) or not langs_raw or not all(isinstance(x, str) for x in langs_raw):
        probs.add(_line(main, "languages"), "languages", "languages must be a non-empty list of codes.", "write languages: [zh, en].")
        langs_raw = ["zh"]
    languages = tuple(langs_raw)
    for fp in file_probs.values():
        fp.raise_if_any()

    name = str(main["name"])
    if not ID_PATTERN.match(name):
        probs.add(_line(main, "name"), "name", f"name {name!r} must start with a letter and use only letters, digits and _.", "rename it, e.g. phe_capacity.")
    title = _texts(main.get("title"), languages, probs, _line(main, "title"), "title", "the title")
    notice = _texts(main["notice"], languages, probs, _line(main, "notice"), "notice", "the notice") if "notice" in main else {}

    scales: dict[str, Scale] = {}
    constructs_raw: list[tuple[str, str, Any, Any]] = []  # (file, name, spec, parent mapping)
    items: list[Item] = []
    demographics: list[Item] = []
    seen_ids: dict[str, str] = {}
    pending_importance: list[tuple[_Problems, int | None, str, str, str]] = []

    def register(fp: _Problems, qid: Any, line: int | None, where: str) -> bool:
        pattern = XML_NAME if where.startswith("demographics") else ID_PATTERN
        if not isinstance(qid, str) or not pattern.match(qid):
            fp.add(line, where, f"question id {qid!r} must start with a letter and use only letters, digits and _.",
                   "rename it, e.g. PL1 or gender.")
            return False
        if qid in seen_ids:
            fp.add(line, where, f"id {qid!r} is used twice (also at {seen_ids[qid]}).", "give every item and question a unique id.")
            return False
        seen_ids[qid] = f"{fp.path}, line {line}"
        return True

    def head(fp: _Problems, spec: Any, line: int | None, where: str, kind: str) -> tuple[str, dict[str, str]] | None:
        """Check one question entry is a mapping with a fresh id; return (id, texts)."""
        if not isinstance(spec, dict):
            fp.add(line, where, f"a {kind} must be a mapping with id and text.", "write - id: ... and text: {zh: ..., en: ...}.")
            return None
        _unknown_keys(fp, spec, kind, where)
        qid = spec.get("id")
        if not register(fp, qid, line, where):
            return None
        return qid, _texts(spec.get("text"), languages, fp, _line(spec, "text") or line, f"{where}.text", f"{kind} {qid!r}")

    # Scales first (from every file), then constructs and questions.
    for shown, doc in docs:
        fp = file_probs[shown]
        for sname, spec in (doc.get("scales") or {}).items():
            sc = _scale(str(sname), spec, languages, fp, f"scales.{sname}")
            if sc is None:
                continue
            if sname in scales and scales[sname] != sc:
                fp.add(_line(doc["scales"], sname), f"scales.{sname}",
                       f"scale {sname!r} is defined twice with different content.", "keep one definition or rename one.")
                continue
            scales[str(sname)] = sc

    def item_scale(fp: _Problems, spec: dict, default: Any, line: int | None, where: str) -> str | None:
        sname = spec.get("scale", default)
        if sname is None:
            fp.add(line, where, "the item has no scale.", "add scale: <name> to the item or to its construct.")
            return None
        if sname not in scales:
            fp.add(_line(spec, "scale") or line, f"{where}.scale", f"scale {sname!r} is not defined.",
                   f"define it under scales: or use one of {', '.join(scales) or '(none defined)'}.")
            return None
        return str(sname)

    def reverse_flag(fp: _Problems, spec: dict, sname: str | None, line: int | None, where: str) -> bool:
        rev = spec.get("reverse", False)
        if not isinstance(rev, bool):
            fp.add(_line(spec, "reverse") or line, f"{where}.reverse", f"reverse must be true or false, got {rev!r}.", "write reverse: true.")
            return False
        if rev and sname in scales and scales[sname].type not in ("likert", "ordinal"):
            fp.add(_line(spec, "reverse") or line, f"{where}.reverse",
                   f"item is reverse-keyed but its scale {sname!r} is {scales[sname].type}, which has no order to reverse.",
                   "remove reverse: true, or give the item a likert or ordinal scale.")
            return False
        return rev

    for shown, doc in docs:
        fp = file_probs[shown]
        cons = doc.get("constructs") or {}
        if not isinstance(cons, dict):
            fp.add(_line(doc, "constructs"), "constructs", "constructs must be a mapping of name to construct.", "see instruments/README.md.")
            continue
        for cname, spec in cons.items():
            where = f"constructs.{cname}"
            cline = _line(cons, cname)
            if not isinstance(spec, dict):
                fp.add(cline, where, "a construct must be a mapping with label and items (or parent).", "see instruments/README.md.")
                continue
            if not isinstance(cname, str) or not ID_PATTERN.match(cname):
                fp.add(cline, where, f"construct name {cname!r} must start with a letter and use only letters, digits and _.", "rename it.")
                continue
            if cname in seen_ids or any(c[1] == cname for c in constructs_raw):
                fp.add(cline, where, f"construct name {cname!r} is used twice or clashes with an item id.", "rename it.")
                continue
            _unknown_keys(fp, spec, "construct", where)
            label = _texts(spec.get("label"), languages, fp, _line(spec, "label") or cline, f"{where}.label", f"construct {cname!r} label")
            item_ids: list[str] = []
            raw_items = spec.get("items") or []
            if not isinstance(raw_items, list):
                fp.add(_line(spec, "items"), f"{where}.items", "items must be a list.", "write items: followed by - id: ... entries.")
                raw_items = []
            for k, ispec in enumerate(raw_items):
                iwhere = f"{where}.items[{k}]"
                iline = _line(raw_items, k)
                got = head(fp, ispec, iline, iwhere, "item")
                if got is None:
                    continue
                qid, text = got
                sname = item_scale(fp, ispec, spec.get("scale"), iline, iwhere)
                rev = reverse_flag(fp, ispec, sname, iline, iwhere)
                items.append(Item(id=qid, text=text, scale=sname or "", reverse=rev, construct=cname, role="item"))
                item_ids.append(qid)
            constructs_raw.append((shown, cname, spec, (label, tuple(item_ids), cline)))

        imp = doc.get("importance")
        if imp is not None:
            if not isinstance(imp, dict) or not isinstance(imp.get("items"), list):
                fp.add(_line(doc, "importance"), "importance", "importance must be a mapping with scale and items.",
                       "write importance: {scale: imp5, items: [{id: IMP_PL, dimension: plans, text: ...}]}.")
            else:
                _unknown_keys(fp, imp, "importance", "importance")
                for k, ispec in enumerate(imp["items"]):
                    iwhere, iline = f"importance.items[{k}]", _line(imp["items"], k)
                    got = head(fp, ispec, iline, iwhere, "importance item")
                    if got is None:
                        continue
                    qid, text = got
                    sname = item_scale(fp, ispec, imp.get("scale"), iline, iwhere)
                    dim = ispec.get("dimension")
                    pending_importance.append((fp, iline, iwhere, qid, str(dim)))
                    items.append(Item(id=qid, text=text, scale=sname or "", role="importance", dimension=str(dim)))

        checks = doc.get("checks") or []
        if not isinstance(checks, list):
            fp.add(_line(doc, "checks"), "checks", "checks must be a list of attention-check items.", "write checks: [{id: AC1, expected: 1, ...}].")
            checks = []
        for k, ispec in enumerate(checks):
            iwhere, iline = f"checks[{k}]", _line(checks, k)
            got = head(fp, ispec, iline, iwhere, "check")
            if got is None:
                continue
            qid, text = got
            sname = item_scale(fp, ispec, None, iline, iwhere)
            expected = ispec.get("expected")
            if sname and (not isinstance(expected, int) or expected not in scales[sname].codes):
                fp.add(_line(ispec, "expected") or iline, f"{iwhere}.expected",
                       f"expected answer {expected!r} is not a code of scale {sname!r}.",
                       f"give one of {list(scales[sname].codes)}.")
                expected = None
            items.append(Item(id=qid, text=text, scale=sname or "", role="check", expected=expected))

        demos = doc.get("demographics") or []
        if not isinstance(demos, list):
            fp.add(_line(doc, "demographics"), "demographics", "demographics must be a list of questions.", "write demographics: [{id: gender, type: select_one, ...}].")
            demos = []
        for k, qspec in enumerate(demos):
            qwhere, qline = f"demographics[{k}]", _line(demos, k)
            got = head(fp, qspec, qline, qwhere, "question")
            if got is None:
                continue
            qid, text = got
            qtype = qspec.get("type")
            base = str(qtype).split()[0] if isinstance(qtype, str) and qtype.strip() else None
            if qtype not in QUESTION_TYPES and (base not in BACKGROUND_TYPES and qtype not in BACKGROUND_TYPES):
                fp.add(_line(qspec, "type") or qline, f"{qwhere}.type", f"question type {qtype!r} is not known.",
                       f"use one of {', '.join(QUESTION_TYPES + BACKGROUND_TYPES)}.")
                continue
            if "reverse" in qspec and qspec["reverse"]:
                fp.add(_line(qspec, "reverse"), f"{qwhere}.reverse", "a demographic question cannot be reverse-keyed.", "remove reverse:.")
            if qtype in ("select_one", "select_multiple"):
                sname = _choice_scale(fp, qspec, qid, qline, qwhere, item_scale, scales, languages)
                if sname is False:
                    continue
            else:
                numeric = qtype in ("integer", "decimal", "range")
                scales[qid] = Scale(name=qid, type="numeric" if numeric else "text",
                                    min=qspec.get("min"), max=qspec.get("max"),
                                    missing=tuple(float(m) for m in qspec.get("missing", []) or []))
                sname = qid
            kind = None if qtype in QUESTION_TYPES else str(qtype)
            demographics.append(Item(id=qid, text=text, scale=sname or "", role="demographic", type=kind))

    # Construct tree.
    names = [c[1] for c in constructs_raw]
    parents: dict[str, str | None] = {}
    for shown, cname, spec, _ in constructs_raw:
        fp = file_probs[shown]
        parent = spec.get("parent")
        if parent is not None and parent not in names:
            fp.add(_line(spec, "parent"), f"constructs.{cname}.parent", f"parent {parent!r} is not a construct.",
                   f"use one of {', '.join(names[:8])}, or remove parent:.")
            parent = None
        parents[cname] = parent
    for cname in names:
        seen: list[str] = [cname]
        cur = parents[cname]
        while cur is not None:
            if cur in seen:
                probs.add(None, f"constructs.{cname}", f"constructs form a cycle: {' -> '.join(seen + [cur])}.", "make the parent chain end at a top construct.")
                parents[cname] = None
                break
            seen.append(cur)
            cur = parents[cur]
    constructs: dict[str, Construct] = {}
    for shown, cname, spec, (label, item_ids, cline) in constructs_raw:
        fp = file_probs[shown]
        children = tuple(n for n in names if parents[n] == cname)
        if children and item_ids:
            fp.add(cline, f"constructs.{cname}", "a construct cannot have both items and child constructs.",
                   "move its items into a child construct, or remove the parent: of its children.")
        if not children and not item_ids:
            fp.add(cline, f"constructs.{cname}", "the construct has no items and no child constructs.", "add items: or delete it.")
        constructs[cname] = Construct(name=cname, label=label, items=item_ids, parent=parents[cname], children=children)
    for fp, line, where, qid, dim in pending_importance:
        if dim not in constructs:
            fp.add(line, f"{where}.dimension", f"dimension {dim!r} is not a construct.",
                   f"use one of {', '.join(names[:8])}.")
    for shown, _ in docs:
        file_probs[shown].raise_if_any()

    # Canonical order, whatever the file layout: construct items, importance ratings, checks.
    rank = {"item": 0, "importance": 1, "check": 2}
    items.sort(key=lambda it: rank[it.role])
    return Instrument(
        name=name, version=str(main["version"]), title=title, languages=languages, scales=scales,
        constructs=constructs, items=tuple(items), demographics=tuple(demographics),
        source=dict(main.get("source") or {}), notice=notice, path=path,
    )
