"""Typed options for study specs: each option is a dataclass field that knows its kind,
range, choices and documentation, so one checker validates every section of a spec and the
README's spec reference is generated from the same fields.

Examples
--------
>>> import dataclasses
>>> from govsurvey.study.options import option, check_options, spec_problems
>>> @dataclasses.dataclass(frozen=True)
... class Demo:
...     n_boot: int = option(1000, kind="int", low=0, high=100_000, doc="Bootstrap resamples.")
...     method: str = option("mean", kind="choice", choices=("mean", "sum"), doc="How to combine items.")
>>> problems = spec_problems("spec.yaml")
>>> check_options(Demo, {"n_boot": 200}, "analyses.demo", problems)
Demo(n_boot=200, method='mean')
>>> check_options(Demo, {"methd": "sum"}, "analyses.demo", problems) is None
True
>>> print(problems.messages[0])
spec.yaml (analyses.demo.methd): unknown key 'methd'. Fix: did you mean 'method'? analyses.demo takes n_boot, method.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from govsurvey.data.options import real_number, shown, whole_number
from govsurvey.data.yamlfile import Problems, line_of
from govsurvey.errors import SpecificationError

__all__ = ["option", "REQUIRED", "Problems", "spec_problems", "check_options", "check_value", "suggest", "option_rows", "KINDS"]

REQUIRED = object()
LANGUAGES = ("zh", "en")
KINDS = ("bool", "int", "float", "str", "choice", "names", "name", "formula", "model", "mapping", "path", "text",
         "number_or_bool", "answers")
_KIND_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a text",
               "choice": "one of", "names": "a name or a list of names", "name": "a name", "formula": "a formula (y ~ x1 + x2)",
               "model": "'instrument' or a lavaan model", "mapping": "a mapping of names to texts", "path": "a file path",
               "text": "a text, or one text per language ({zh: ..., en: ...})", "number_or_bool": "true, false or a number",
               "answers": "true, false or a mapping of check item to expected answer"}


def option(default: Any = REQUIRED, *, kind: str, doc: str, low: float | None = None, high: float | None = None,
           choices: Sequence[Any] | None = None, none_ok: bool | None = None) -> Any:
    """A dataclass field for a spec option (``default=REQUIRED`` makes it required).

    ``low``/``high`` bound numbers (inclusive); ``choices`` lists allowed values; ``none_ok``
    (default: when the default is None) admits ``null``."""
    if kind not in KINDS:
        raise ValueError(f"unknown option kind {kind!r}")
    meta = {"kind": kind, "doc": doc, "low": low, "high": high, "choices": tuple(choices) if choices else None,
            "none_ok": (default is None) if none_ok is None else none_ok, "required": default is REQUIRED}
    if default is REQUIRED:
        return dataclasses.field(default=None, metadata=meta)
    if isinstance(default, (list, dict, set)):
        raise ValueError("use tuples or None as option defaults")
    return dataclasses.field(default=default, metadata=meta)


def spec_problems(path: str) -> Problems:
    """A collector of a study spec's problems (raises :class:`SpecificationError`)."""
    return Problems(path, noun="Study spec", error=SpecificationError)


def suggest(word: Any, allowed: Sequence[str]) -> str:
    """'did you mean 'x'? ' for the closest allowed word, else ''."""
    lowered = {str(a).lower(): str(a) for a in allowed}
    close = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean {lowered[close[0]]!r}? " if close else ""


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_value(value: Any, meta: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Convert ``value`` for an option described by ``meta``; return (value, problem or None).

    Numbers may be Python or numpy scalars; whole numbers must be whole; NaN and infinity are
    refused; bounds and choices are checked."""
    kind = meta["kind"]
    if value is None:
        return (None, None) if meta["none_ok"] else (None, f"must be {_describe(meta)}, not empty (null)")
    if kind == "bool":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    if kind in ("int", "float", "number_or_bool"):
        return _check_number(value, meta)
    if kind == "choice":
        if value in meta["choices"] and not isinstance(value, bool):
            return value, None
        hint = suggest(value, [str(c) for c in meta["choices"]])
        return None, f"must be one of {', '.join(map(str, meta['choices']))}" + (f" ({hint.strip()})" if hint else "")
    if kind == "names":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            return None, "must be a name or a list of names"
        return tuple(names), None
    if kind == "answers":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, dict) and value and all(isinstance(k, str) and _number(v) for k, v in value.items()):
            return dict(value), None
        return None, "must be true, false or a mapping of check item to expected answer"
    if kind == "mapping":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return None, "must be a mapping of names to texts"
        return dict(value), None
    if kind == "text":
        if isinstance(value, str) and value.strip():
            return value, None
        if isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            odd = [k for k in value if k not in LANGUAGES]
            if odd:
                hint = suggest(odd[0], LANGUAGES)
                return None, f"has a text in {odd[0]!r}, which is not a report language ({', '.join(LANGUAGES)})" + (f"; {hint.strip()}" if hint else "")
            return dict(value), None
        return None, "must be a text or {zh: ..., en: ...}"
    if not isinstance(value, str) or not value.strip():       # str, name, formula, model, path
        return None, f"must be {_describe(meta)}"
    if meta["choices"] and value not in meta["choices"]:
        return None, f"must be one of {', '.join(map(str, meta['choices']))}"
    if kind == "formula":
        from govsurvey.models.formula import parse_formula

        try:
            parse_formula(value)            # the grammar only: nothing in a formula is ever run
        except SpecificationError as exc:
            return None, str(exc)
    return value, None


def _check_number(value: Any, meta: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Numbers go through the package's one numeric validator (:mod:`govsurvey.data.options`)."""
    if meta["kind"] == "number_or_bool" and isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.strip():
        try:
            float(value)
        except ValueError:
            pass
        else:    # YAML 1.1 reads 1e12 (no dot) as text, and quoted numbers are text too
            how = "write it with a dot and a sign, e.g. 1.0e+12, or in full" if "e" in value.lower() else "write it without quotes"
            return None, f"must be {_describe(meta)} (YAML read {value!r} as text: {how})"
    check = whole_number if meta["kind"] == "int" else real_number
    try:
        return check(value, meta["name"], low=meta["low"], high=meta["high"]), None
    except SpecificationError as exc:
        return None, str(exc)


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _range(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {_num(lo)} and {_num(hi)}"
    return f"at least {_num(lo)}" if lo is not None else f"at most {_num(hi)}"


def _describe(meta: Mapping[str, Any]) -> str:
    if meta["choices"]:
        return "one of " + ", ".join(map(str, meta["choices"]))
    words = _KIND_WORDS[meta["kind"]]
    if meta["kind"] in ("int", "float", "number_or_bool") and (meta["low"] is not None or meta["high"] is not None):
        words += " " + _range(meta["low"], meta["high"])
    return words


def check_options(cls: type, raw: Any, where: str, problems: Problems, *, line: int | None = None) -> Any:
    """Validate a spec mapping against an options dataclass; return an instance, or None when
    anything is wrong (every problem is added to ``problems``)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if raw is True or raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.add(line, where, f"must be true or a mapping of options, got {raw!r}.",
                     f"write {where.split('.')[-1]}: true, or a mapping with {', '.join(fields) or 'no options'}.")
        return None
    ok, values = True, {}
    for key, value in raw.items():
        if key not in fields:
            problems.add(line_of(raw, key) or line, f"{where}.{key}", f"unknown key {key!r}.",
                         f"{suggest(key, list(fields))}{where} takes {', '.join(fields) or 'no options'}.")
            ok = False
            continue
        converted, problem = check_value(value, {**fields[key].metadata, "name": key})
        if problem:
            what, _, fix = problem.partition(" Fix: ")
            text = what if what.startswith((f"{key}=", f"{key} ")) else f"{key}={shown(value)} {what}"
            problems.add(line_of(raw, key) or line, f"{where}.{key}", text.rstrip(".") + ".", fix or _fix(key, fields[key]))
            ok = False
        else:
            values[key] = converted
    for name, f in fields.items():
        if f.metadata["required"] and name not in raw:
            problems.add(line_of(raw) or line, where, f"the option {name!r} is missing.", f"add {name}: ({f.metadata['doc']})")
            ok = False
    return cls(**values) if ok else None


def _fix(key: str, f: dataclasses.Field) -> str:
    """'write key: <a valid value> (what it means)'."""
    meta = f.metadata
    if meta["choices"]:
        example = meta["choices"][0]
    elif f.default is not None and not meta["required"]:
        example = _show(f.default)
    else:
        example = {"int": meta["low"] if meta["low"] is not None else 1, "float": meta["low"] if meta["low"] is not None else 0.5,
                   "bool": "true", "names": "[name1, name2]", "formula": "y ~ x1 + x2", "text": "{zh: ..., en: ...}"}.get(meta["kind"], "...")
        example = _num(example) if isinstance(example, (int, float)) else example
    return f"write {key}: {example} — {meta['doc'][0].lower()}{meta['doc'][1:]}"


def option_rows(cls: type) -> list[dict[str, str]]:
    """One row per option: name, kind, default and documentation (for the README reference)."""
    rows = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        default = "required" if meta["required"] else ("—" if f.default is None else _show(f.default))
        rows.append({"option": f.name, "value": _describe(meta), "default": default, "meaning": meta["doc"]})
    return rows


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
