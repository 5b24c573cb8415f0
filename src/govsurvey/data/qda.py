"""Coded interviews from QDA software: REFI-QDA ``.qdpx`` projects and CSV exports.

A ``.qdpx`` is untrusted input. It is read in memory (nothing is extracted to disk); the
archive is refused when an entry name could escape a folder (absolute paths, ``..``), when
it has too many entries, when any entry or the whole archive would decompress beyond the
limits, or when an entry's compression ratio suggests a zip bomb; reads are bounded whatever
the headers claim. XML is parsed with defusedxml, so DTDs, entity expansion (billion
laughs) and external entities are refused.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import io
import os
import re
import uuid
import warnings as _warnings
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

from govsurvey.data.checks import check_regular_file
from govsurvey.data.encoding import decode_bytes
from govsurvey.data.files import write_atomic
from govsurvey.errors import (
    DataFormatError,
    DataValidationError,
    DataWarning,
    SpecificationError,
)
from govsurvey.qualitative.coded import (
    CODEBOOK_COLUMNS,
    SEGMENT_COLUMNS,
    CodedInterviews,
    build_interviews,
)
from govsurvey.qualitative.privacy import pseudonymise as _pseudonymise

__all__ = ["LIMITS", "read_codes", "write_identity_key", "write_qdpx"]

LIMITS = {
    "entries": 20_000,             # files in the archive
    "entry_bytes": 100 * 2**20,    # one decompressed entry
    "total_bytes": 500 * 2**20,    # all decompressed entries
    "ratio": 200,                  # decompressed / compressed, for entries over 1 MiB
    "code_depth": 100,             # nesting of the code tree
}
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError, KeyError)
_FIX_ARCHIVE = ("Fix: export the project again from the QDA program (File > Export > REFI-QDA project), "
                "or re-zip it with standard compression and no password.")
NS = "urn:QDA-XML:project:1.0"
VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _kids(el, name: str):
    return [c for c in el if _local(c.tag) == name]


def _all(el, name: str):
    return [c for c in el.iter() if _local(c.tag) == name]


def _text(el) -> str:
    return (el.text or "").strip() if el is not None else ""


class _SafeZip:
    def __init__(self, path: Path) -> None:
        try:
            self.zf = zipfile.ZipFile(path)
        except (*_ZIP_ERRORS, UnicodeDecodeError) as exc:
            raise DataFormatError(f"{path} is not a readable .qdpx (zip) archive ({exc}). {_FIX_ARCHIVE}") from None
        infos = self.zf.infolist()
        if len(infos) > LIMITS["entries"]:
            raise DataFormatError(f"{path} has {len(infos)} entries (limit {LIMITS['entries']}); refused as a possible zip bomb.")
        total = 0
        for info in infos:
            name = info.filename
            parts = re.split(r"[\\/]+", name)
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise DataFormatError(f"{path} contains an entry whose path escapes the archive ({name!r}); refused as hostile (zip-slip).")
            if info.file_size > LIMITS["entry_bytes"]:
                raise DataFormatError(f"{path}: entry {name!r} would decompress to {info.file_size:,} bytes (limit {LIMITS['entry_bytes']:,}); refused.")
            if info.file_size > 2**20 and info.compress_size and info.file_size / info.compress_size > LIMITS["ratio"]:
                raise DataFormatError(f"{path}: entry {name!r} has compression ratio {info.file_size / info.compress_size:,.0f}:1; refused as a possible zip bomb.")
            total += info.file_size
        if total > LIMITS["total_bytes"]:
            raise DataFormatError(f"{path} would decompress to {total:,} bytes (limit {LIMITS['total_bytes']:,}); refused.")
        self.names = {i.filename: i for i in infos}
        self.path = path
        self.read_total = 0

    def read(self, name: str) -> bytes:
        info = self.names[name]
        limit = LIMITS["entry_bytes"]
        if info.flag_bits & 0x1:
            raise DataFormatError(f"{self.path}: entry {name!r} is encrypted (password-protected); govsurvey reads only "
                                  f"unencrypted projects. {_FIX_ARCHIVE}")
        try:
            with self.zf.open(info) as fh:  # headers can lie: never read more than the limit
                data = fh.read(limit + 1)
        except NotImplementedError as exc:
            raise DataFormatError(f"{self.path}: entry {name!r} uses a compression method Python cannot read "
                                  f"(type {info.compress_type}, e.g. Deflate64: {exc}). {_FIX_ARCHIVE}") from None
        except _ZIP_ERRORS as exc:
            raise DataFormatError(f"{self.path}: entry {name!r} is damaged ({type(exc).__name__}: {exc}; a bad CRC or a "
                                  f"size header that does not match the data). {_FIX_ARCHIVE}") from None
        if len(data) > limit:
            raise DataFormatError(f"{self.path}: entry {name!r} decompresses beyond {limit:,} bytes; refused as a possible zip bomb.")
        self.read_total += len(data)
        if self.read_total > LIMITS["total_bytes"]:
            raise DataFormatError(f"{self.path}: decompressed content exceeds {LIMITS['total_bytes']:,} bytes; refused.")
        return data

    def find(self, ref: str) -> str | None:
        ref = ref.replace("\\", "/")
        candidates = [ref, f"sources/{ref}", f"Sources/{ref}"]
        lower = {n.lower(): n for n in self.names}
        for c in candidates:
            if c in self.names:
                return c
            if c.lower() in lower:
                return lower[c.lower()]
        base = ref.rsplit("/", 1)[-1].lower()
        hits = [n for n in self.names if n.lower().endswith("/" + base) or n.lower() == base]
        return hits[0] if len(hits) == 1 else None


def _parse_xml(data: bytes, where: str):
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DataFormatError(
            f"{where}: the XML declares a DTD or entities ({type(exc).__name__}); refused, since entity expansion "
            "(billion laughs) and external entities are attacks. Fix: export the project again from the QDA program."
        ) from None
    except ET.ParseError as exc:
        raise DataFormatError(f"{where} is not well-formed XML ({exc}). Fix: export the project again.") from None


def _decode_text(raw: bytes, name: str) -> tuple[str, bool]:
    text, _ = decode_bytes(raw, name=name)
    return text.lstrip("\ufeff"), raw.startswith(b"\xef\xbb\xbf") or text.startswith("\ufeff")


# --- where a selection's positions point ------------------------------------------------------
# REFI-QDA 1.5 §10.2 counts "the first and the last character (Unicode codepoint) in the file",
# from 0; every exporter writes the end exclusive. Exporters differ in what they count:
#   NVivo (Windows 12.6, Mac 12.7): UTF-16 code units of the plain-text file as stored (a CRLF is
#     two units, an emoji outside the BMP two, the UTF-8 BOM none). On the three public NVivo
#     projects in shared/realworld/qdpx 691 of 697 selections start and end on a word boundary
#     counted so, against 167 counted in code points.
#   QualCoder: code points (it slices Python strings: ``fulltext[pos0:pos1]``).
#   ATLAS.ti, MAXQDA, Transana and others: the specification's code points; where selections
#     carry their text (MAXQDA writes its first 30 characters as ``name``), that text decides.
_UNITS = {"nvivo": "utf16"}
_LABELS = {("codepoint", "stored"): "code points", ("codepoint", "lf"): "code points, CRLF→LF",
           ("codepoint", "crlf"): "code points, LF→CRLF",
           ("utf16", "stored"): "UTF-16 code units", ("utf16", "lf"): "UTF-16 code units, CRLF→LF",
           ("utf16", "crlf"): "UTF-16 code units, LF→CRLF"}


def _exporter(root) -> str:
    """The exporting program, from the project's ``origin`` or, failing that, its traces."""
    origin = (root.get("origin") or "").casefold()
    for key in ("nvivo", "maxqda", "atlas.ti", "qualcoder", "transana", "quirkos", "govsurvey"):
        if key in origin:
            return key
    if any(_local(el.tag) == "CodeBook" and "codebook" in el.tag.casefold() for el in root):
        return "maxqda"  # MAXQDA nests its CodeBook in urn:QDA-XML:codebook:0:4
    return ""


@dataclasses.dataclass(frozen=True)
class _Counting:
    """One way of counting positions in a text: ``unit`` (code points or UTF-16 code units),
    line ends (``stored``, ``lf``: a CRLF counts as one, ``crlf``: a lone LF counts as two) and
    whether a BOM is counted; :meth:`to_text` takes such positions to code points of ``text``."""

    text: str
    unit: str = "codepoint"
    newline: str = "stored"
    bom: bool = False

    @property
    def label(self) -> str:
        return _LABELS[(self.unit, self.newline)] + (", BOM counted" if self.bom else "")

    @functools.cached_property
    def _ends(self):
        cp = np.frombuffer(self.text.encode("utf-32-le"), dtype=np.uint32)
        width = np.ones(len(cp), dtype=np.int64)
        if self.unit == "utf16":
            width += cp > 0xFFFF
        if self.newline != "stored" and len(cp):
            cr, lf = cp == 13, cp == 10
            cr_of_crlf = np.append(cr[:-1] & lf[1:], False)
            lone_lf = lf & ~np.insert(cr[:-1], 0, False)
            width -= cr_of_crlf if self.newline == "lf" else 0
            width += lone_lf if self.newline == "crlf" else 0
        return np.concatenate([[0], np.cumsum(width)])

    def identity(self) -> bool:
        return self.unit == "codepoint" and self.newline == "stored" and not self.bom

    def to_text(self, start: int, end: int) -> tuple[int, int, bool]:
        """(start, end) in code points of the text, and whether both positions were exact (not
        inside a character, not before the start or beyond the end of the text)."""
        (a, exact_a), (b, exact_b) = self._index(start - self.bom, False), self._index(end - self.bom, True)
        return a, max(a, b), exact_a and exact_b

    def _index(self, pos: int, is_end: bool) -> tuple[int, bool]:
        n = len(self.text)
        if pos < 0:
            return 0, False
        if self.identity():
            return min(pos, n), pos <= n
        ends = self._ends
        i = int(np.searchsorted(ends, pos, side="left"))
        if i > n:
            return n, False
        if ends[i] == pos:
            return i, True
        return (i if is_end else i - 1), False  # inside a character: take all of it


def _countings(text: str, had_bom: bool, exporter: str) -> list[_Counting]:
    """The exporter's counting first, then the others tried when selections carry their text."""
    first = _UNITS.get(exporter, "codepoint")
    units = [first, "utf16" if first == "codepoint" else "codepoint"]
    newlines = ["stored"] + (["lf"] if "\r\n" in text else ["crlf"] if "\n" in text else [])
    out = [_Counting(text, u, nl) for u in units for nl in newlines]
    if had_bom:
        out += [dataclasses.replace(c, bom=True) for c in list(out)]
    return out


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\ufeff", "")).strip()


def _agrees(claimed: str, cut: str) -> bool:
    """Whether a selection's stored text (its ``name``) is the text cut at its positions, or the
    start of it (MAXQDA stores the first 30 characters; some tools end such a name with …)."""
    c, t = _normalised(claimed), _normalised(cut)
    if c == t:
        return True
    stem = re.sub(r"(\.\.\.|…)$", "", c).rstrip()
    return bool(stem) and t.startswith(stem)


def _choose_counting(text: str, had_bom: bool, exporter: str, claims: list[tuple[int, int, str]]) -> tuple[_Counting, int]:
    """The counting to use for one source and how many stored selection texts agree with it:
    the exporter's, unless the selections' own texts agree better with another."""
    options = _countings(text, had_bom, exporter)
    best, best_score = options[0], -1
    for option in options:
        score = 0
        for start, end, claimed in claims:
            a, b, _ = option.to_text(start, end)
            score += _agrees(claimed, text[a:b])
        if score > best_score:
            best, best_score = option, score
        if claims and best_score == len(claims):
            break
    return best, max(best_score, 0)


def _code_row(c, parent: str) -> dict[str, str]:
    desc = _text(next(iter(_kids(c, "Description")), None))
    dim = re.search(r"dimension\s*[:：]\s*([^\s;；]+)", desc)
    pol = re.search(r"polarity\s*[:：]\s*([^\s;；]+)", desc)
    memo = re.sub(r"[;；]?\s*(dimension|polarity)\s*[:：]\s*[^\s;；]+", "", desc).strip().strip(";；").strip()
    return {"code": c.get("name") or c.get("guid"), "parent": parent, "description": memo,
            "dimension": dim.group(1) if dim else "", "polarity": pol.group(1) if pol else ""}


def _codebook(root, path: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The code tree in depth-first order (iteratively: no recursion on untrusted nesting)."""
    rows, by_guid = [], {}
    limit = LIMITS["code_depth"]
    for book in _all(root, "CodeBook"):
        for codes in _kids(book, "Codes"):
            stack = [(c, "", 1) for c in reversed(_kids(codes, "Code"))]
            while stack:
                c, parent, depth = stack.pop()
                if depth > limit:
                    raise DataFormatError(f"{path}: the code tree is nested more than {limit} levels deep (at code "
                                          f"{c.get('name')!r}); refused as malformed or hostile. Fix: flatten the code "
                                          "system in the QDA program and export the project again.")
                row = _code_row(c, parent)
                by_guid[c.get("guid")] = row["code"]
                rows.append(row)
                stack.extend((k, row["code"], depth + 1) for k in reversed(_kids(c, "Code")))
    return rows, by_guid


def _source_text(src, sname: str, arch: _SafeZip, path: Path, warnings: list[str]) -> tuple[str | None, bool]:
    """A TextSource's text (inline, or an archive member) and whether it had a BOM; None if unreadable."""
    inline = next(iter(_kids(src, "PlainTextContent")), None)
    if inline is not None:
        return (inline.text or "").lstrip("\ufeff"), (inline.text or "").startswith("\ufeff")
    ref = src.get("plainTextPath") or ""
    if ref.startswith("internal://"):
        member = arch.find(ref[len("internal://"):])
    elif "://" in ref or ref.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", ref):
        warnings.append(f"Source {sname!r} is stored outside the archive ({ref}); its text was not read.")
        return None, False
    else:
        member = arch.find(ref)
    if member is not None:
        return _decode_text(arch.read(member), f"{path}:{member}")
    if ref.startswith("internal://"):
        warnings.append(f"Source {sname!r}: {ref} is missing from the archive; its segments have no text.")
    return None, False


_MAX_NAMED = 10  # segments named one by one in a source's warnings; the rest are counted


def _variable_values(el, variables: Mapping[str, str], where: str, warnings: list[str]) -> dict[str, Any]:
    """The VariableValues of a case or source; a reference to no declared Variable is warned
    about and skipped (never turned into a variable named after the reference)."""
    out = {}
    for vv in _kids(el, "VariableValue"):
        ref = next(iter(_kids(vv, "VariableRef")), None)
        target = ref.get("targetGUID") if ref is not None else None
        if target not in variables:
            what = f"a VariableRef to {target!r}" if target else "no VariableRef"
            warnings.append(f"{where}: a VariableValue has {what}, which names no <Variable> of the project; its value "
                            "was skipped. Fix: export the project again with its variables (attributes), or add the "
                            "variable with cases=.")
            continue
        out[variables[target]] = next((_text(x) for x in vv if _local(x.tag) in VALUE_TAGS), "")
    return out


def _read_qdpx(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, str], list[str]]:
    arch = _SafeZip(path)
    qde = next((n for n in arch.names if n.lower().endswith("project.qde")), None) or next(
        (n for n in arch.names if n.lower().endswith(".qde")), None)
    if qde is None:
        raise DataFormatError(f"{path} has no project.qde; it is not a REFI-QDA project. Fix: export as REFI-QDA (.qdpx).")
    root = _parse_xml(arch.read(qde), f"{path}:{qde}")
    if _local(root.tag) != "Project":
        raise DataFormatError(f"{path}: project.qde does not start with a <Project> element.")
    warnings: list[str] = []
    code_rows, code_by_guid = _codebook(root, path)
    variables = {v.get("guid"): re.sub(r"^(Cases?|Documents?)\s*:\s*", "", v.get("name") or "") or v.get("guid")
                 for v in _all(root, "Variable") if v.get("guid")}
    cases: dict[str, dict] = {}
    case_of_source: dict[str, str] = {}
    case_guids: dict[str, str] = {}
    for case in _all(root, "Case"):
        name = case.get("name") or case.get("guid")
        case_guids[case.get("guid")] = name
        cases[name] = _variable_values(case, variables, f"Case {name!r}", warnings)
        for sref in _kids(case, "SourceRef"):
            case_of_source[sref.get("targetGUID")] = name
    project = {"users": {u.get("guid"): u.get("name") or u.get("guid") for u in _all(root, "User")},
               "codes": code_by_guid, "case_guids": case_guids, "exporter": _exporter(root)}
    seg_rows, texts = [], {}
    for src in _all(root, "TextSource"):
        sname = src.get("name") or src.get("guid")
        text, had_bom = _source_text(src, sname, arch, path, warnings)
        if text is not None:
            texts[sname] = text
        case_name = _case_of(src, sname, case_of_source, case_guids)
        src_vars = _variable_values(src, variables, f"Source {sname!r}", warnings)
        if src_vars:
            known = cases.setdefault(case_name, {})
            known.update({k: v for k, v in src_vars.items() if k not in known})
        seg_rows += _source_segments(src, sname, case_name, text, had_bom, project, path, warnings)
    if not seg_rows:
        warnings.append(f"{path.name} holds no coded text selections (a codebook-only or empty project); the "
                        "interviews have no segments.")
    segs = pd.DataFrame(seg_rows, columns=SEGMENT_COLUMNS)
    case_frame = pd.DataFrame.from_dict(cases, orient="index")
    case_frame.index.name = "case"
    return segs, pd.DataFrame(code_rows, columns=CODEBOOK_COLUMNS), case_frame, texts, warnings


def _case_of(src, sname: str, case_of_source: dict[str, str], case_guids: Mapping[str, str]) -> str:
    """The case a source belongs to: a Case's SourceRef, a coding whose code is a Case, or its name."""
    sguid = src.get("guid")
    for sel in _kids(src, "PlainTextSelection"):  # codings that point at a case assign the source to that case
        for coding in _kids(sel, "Coding"):
            for cref in _kids(coding, "CodeRef"):
                if cref.get("targetGUID") in case_guids:
                    case_of_source.setdefault(sguid, case_guids[cref.get("targetGUID")])
    return case_of_source.get(sguid) or re.sub(r"\.[A-Za-z0-9]+$", "", sname)


def _positions(sel, sname: str, path: Path) -> tuple[int, int]:
    try:
        start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
    except (TypeError, ValueError):
        raise DataFormatError(f"{path}: selection {sel.get('guid')!r} in source {sname!r} has no valid "
                              f"startPosition/endPosition ({sel.get('startPosition')!r}, {sel.get('endPosition')!r}). "
                              "Fix: export the project again from the QDA program.") from None
    if start < 0 or end < start:
        raise DataFormatError(f"{path}: selection {sel.get('guid')!r} in source {sname!r} runs from {start} to {end}. "
                              "Fix: export the project again from the QDA program.")
    return start, end


def _source_segments(src, sname: str, case_name: str, text: str | None, had_bom: bool, project: Mapping,
                     path: Path, warnings: list[str]) -> list[dict]:
    """The coded segments of one TextSource. Positions are read as the exporter counts them
    and turned into code points of the text as stored; the segment text is always cut from the
    source, and a selection's own text (its ``name``) that disagrees is warned about."""
    selections = [(sel, *_positions(sel, sname, path)) for sel in _kids(src, "PlainTextSelection")]
    counting = None
    if text is not None and selections:
        claims = [(a, b, sel.get("name")) for sel, a, b in selections if (sel.get("name") or "").strip()]
        counting, agreeing = _choose_counting(text, had_bom, project["exporter"], claims)
        default = _countings(text, had_bom, project["exporter"])[0]
        if counting != default:
            warnings.append(f"Source {sname!r}: {agreeing} of {len(claims)} selections' own texts match the transcript "
                            f"when positions are counted as {counting.label} (not as {default.label}, the exporter's "
                            "way); that counting was used.")
    rows, disagree, inexact = [], [], []
    for sel, start, end in selections:
        claimed = sel.get("name") or ""
        if counting is not None:
            a, b, exact = counting.to_text(start, end)
            seg_text = text[a:b]
            if not exact:
                inexact.append(f"{sel.get('guid')} ({start}–{end})")
            if claimed.strip() and not _agrees(claimed, seg_text):
                disagree.append(f"selection {sel.get('guid')} ({start}–{end}) stores {claimed[:40]!r} but the "
                                f"transcript there reads {seg_text[:40]!r}")
        else:
            a, b, seg_text = start, end, claimed
        rows += _codings(sel, sname, case_name, a, b, seg_text, project, warnings)
    _segment_warnings(sname, disagree, inexact, len(selections), warnings)
    return rows


def _segment_warnings(sname: str, disagree: list[str], inexact: list[str], total: int, warnings: list[str]) -> None:
    for item in disagree[:_MAX_NAMED]:
        warnings.append(f"Source {sname!r}: {item}; the transcript's text was kept. Check the coding in the QDA program.")
    if len(disagree) > _MAX_NAMED:
        warnings.append(f"Source {sname!r}: {len(disagree) - _MAX_NAMED} more of {total} selections store a text that "
                        "disagrees with the transcript at their positions; the transcript's text was kept.")
    if inexact:
        warnings.append(f"Source {sname!r}: {len(inexact)} of {total} selections have positions inside a character or "
                        f"beyond the end of the transcript ({', '.join(inexact[:3])}{', …' if len(inexact) > 3 else ''}); "
                        "they were widened to whole characters and cut at its end. Fix: export the project again.")


def _codings(sel, sname: str, case_name: str, start: int, end: int, seg_text: str, project: Mapping,
             warnings: list[str]) -> list[dict]:
    users, code_by_guid, case_guids = project["users"], project["codes"], project["case_guids"]
    rows = []
    for coding in _kids(sel, "Coding"):
        who = coding.get("creatingUser") or sel.get("creatingUser")
        coder = users.get(who, who or "unknown")
        for cref in _kids(coding, "CodeRef"):
            target = cref.get("targetGUID")
            if target in case_guids:
                continue
            if target not in code_by_guid:
                warnings.append(f"Source {sname!r}: a coding refers to an unknown code {target!r}; skipped.")
                continue
            rows.append({"source": sname, "case": case_name, "coder": coder, "code": code_by_guid[target],
                         "start": start, "end": end, "text": seg_text})
    return rows


def _regular_file(p: Path, what: str) -> Path:
    """``p`` if it is an existing regular file; a FIFO, device or folder is refused before opening."""
    check_regular_file(p, f"{what} file")
    return p


def _csv_rows(text: str, p: Path, what: str) -> pd.DataFrame:
    """A CSV/TSV parsed strictly: every row must have as many fields as the header."""
    delimiter = "\t" if p.suffix.lower() == ".tsv" or ("\t" in text.split("\n", 1)[0] and "," not in text.split("\n", 1)[0]) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise DataFormatError(f"{what} file {p} is empty. Fix: export it again with a header row.")
        header = [h.strip() for h in header]
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup:
            raise DataFormatError(f"{what} file {p}: the header names column(s) {', '.join(map(repr, dup))} twice. "
                                  "Fix: give every column a distinct name.")
        rows = []
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                raise DataFormatError(
                    f"{what} file {p}, line {reader.line_num}: {len(row)} fields where the header has {len(header)} "
                    f"({delimiter!r}-separated). A text containing a comma must be quoted. Fix: put quotes around it "
                    f'("a, b") or save the file again from Excel as "CSV UTF-8".')
            rows.append(row)
    except csv.Error as exc:
        raise DataFormatError(f"{what} file {p}, line {reader.line_num}: not valid CSV ({exc}). "
                              'Fix: save the file again from Excel as "CSV UTF-8".') from None
    return pd.DataFrame(rows, columns=header, dtype=str)


def _table(obj: Any, what: str) -> pd.DataFrame:
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame):
        return obj.copy()
    if isinstance(obj, Mapping):
        rows = [{"code": k, **(v if isinstance(v, Mapping) else {"dimension": v})} for k, v in obj.items()]
        return pd.DataFrame(rows)
    if not isinstance(obj, (str, os.PathLike)):
        raise SpecificationError(f"{what}: expected a file path, a DataFrame or a mapping, got {type(obj).__name__}. "
                                 "Fix: pass the path of the CSV or Excel file.")
    p = _regular_file(Path(obj), what)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(p, dtype=object, engine="openpyxl")
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on a damaged or fake workbook
            raise DataFormatError(f"{what} file {p} is not a readable Excel workbook ({type(exc).__name__}: {exc}). "
                                  'Fix: open it in Excel and save it again as .xlsx, or save it as "CSV UTF-8".') from None
        return frame.astype(object).where(frame.notna(), "")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataFormatError(f"{what} file {p} cannot be read ({exc}). Fix: check its permissions, or copy it locally.") from None
    text, _ = decode_bytes(raw, name=str(p))
    return _csv_rows(text.lstrip("\ufeff"), p, what)


def read_codes(
    source: str | Path | pd.DataFrame,
    *,
    codebook: str | Path | pd.DataFrame | Mapping | None = None,
    cases: str | Path | pd.DataFrame | None = None,
    identifying: str | Sequence[str] | None = None,
    pseudonymise: bool = True,
    columns: Mapping[str, str] | None = None,
) -> CodedInterviews:
    """Read coded interview segments, pseudonymised as they enter.

    Parameters
    ----------
    source
        A REFI-QDA project (``.qdpx``, as MAXQDA, NVivo, ATLAS.ti and QualCoder export), a
        CSV (or Excel) of coded segments with columns source, case, coder, code, start, end,
        text (case variables such as site and role may follow), or such a DataFrame.
    codebook
        Codes with parent, description, ``dimension`` (the instrument construct a code speaks
        to) and ``polarity`` (barrier / facilitator): a CSV/Excel file, a DataFrame, or a
        mapping ``{code: {"dimension": ..., "polarity": ...}}``. For a ``.qdpx`` it completes
        or overrides the project's codebook.
    cases
        Case variables (site, role, …; one row per case) to add.
    identifying
        A case variable, or a list of them, that identifies a person, in addition to those
        always recognised by name (姓名, 真实姓名, 受访人, 受访者, 被访者, name, interviewee,
        participant name, real name, phone/电话/手机/联系方式, id card/身份证, address/住址, …).
    pseudonymise
        Replace, once and here, every identifying trace (see
        :func:`govsurvey.qualitative.pseudonymise`): cases become role + number (网格员-03),
        identifying variables are dropped, and every form of a known name (何秀英, 何 秀英,
        何书记, 秀英) is replaced in texts, source and document names and memos. The key back to
        the real names stays in memory (``codes.identity_key()``) and is written only by
        :func:`write_identity_key`. ``False`` keeps the data as exported.
    columns
        For a segments table whose columns are named otherwise: ``{govsurvey name: the file's
        column}``, e.g. ``columns={"case": "participant", "source": "interview_id"}``.

    Notes
    -----
    Positions in a ``.qdpx`` are read as the exporter (the project's ``origin``) counts them:
    NVivo counts UTF-16 code units (an emoji is two, a CRLF two, the BOM none); QualCoder,
    ATLAS.ti, MAXQDA and others the REFI-QDA specification's code points. Where selections
    carry their own text (MAXQDA's 30-character ``name``), the counting that text agrees with is
    used. Segment texts are always cut from the transcript; ``start``/``end`` are code-point
    offsets into ``codes.texts`` (moved with the names when pseudonymised).

    Warnings
    --------
    Problems met while reading (codings of unknown codes, offsets that do not match the
    text, sources outside the archive) are emitted as ``gs.DataWarning`` and kept in the
    result's ``warnings``.

    Examples
    --------
    >>> import govsurvey as gs
    >>> files = gs.datasets.example_files()
    >>> codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
    >>> sorted(codes.coders)
    ['coder_A', 'coder_B']
    >>> codes.segments["case"].iloc[0], "name" in codes.cases.columns
    ('社区干部-01', False)

    A segments table with other column names:

    >>> import pandas as pd
    >>> table = pd.read_csv(files["segments"]).rename(columns={"case": "participant", "source": "interview_id"})
    >>> gs.read_codes(table, columns={"case": "participant", "source": "interview_id"}).segments.columns[:2].tolist()
    ['source', 'case']
    """
    if not isinstance(pseudonymise, bool):
        raise SpecificationError(f"pseudonymise={pseudonymise!r} must be True or False.")
    segs, book, case_frame, texts, warnings, origin = _read_source(source)
    if origin.lower().endswith(".qdpx") and columns is not None:
        raise SpecificationError(f"columns= maps the columns of a segments table; {origin} is a REFI-QDA project, whose "
                                 "parts have fixed names. Fix: leave columns= out for a .qdpx.")
    segs = _map_columns(segs, columns, origin if origin != "dataframe" else "the segments DataFrame")
    book = _merge_codebook(book, _table(codebook, "Codebook"))
    more_cases = _table(cases, "Cases")
    if more_cases is not None:
        if "case" not in more_cases.columns:
            raise DataValidationError(f"The cases table needs a 'case' column; it has {', '.join(map(str, more_cases.columns[:5]))}. "
                                      "Fix: name the column that holds the case labels 'case'.")
        more_cases = more_cases.set_index("case")
        more_cases.index = more_cases.index.astype(str)
        case_frame = more_cases if case_frame is None or not len(case_frame) else case_frame.combine_first(more_cases)
    if case_frame is None or not len(case_frame):
        var_cols = [c for c in segs.columns if c not in SEGMENT_COLUMNS]
        case_frame = segs[["case"] + var_cols].drop_duplicates("case").set_index("case") if var_cols else None
    codes = build_interviews(segs, book, case_frame, identifying=identifying, texts=texts, origin=origin, warnings=warnings)
    asked = (identifying,) if isinstance(identifying, str) else tuple(identifying or ())
    absent = [c for c in asked if c not in codes.identifying]
    if absent:
        codes = dataclasses.replace(codes, warnings=(*codes.warnings, (
            f"identifying= names {', '.join(map(repr, absent))}, not a case variable of the interviews; nothing was "
            f"dropped for it. Fix: use one of {', '.join(map(str, codes.cases.columns[:8])) or 'the case variables'}.")))
    if pseudonymise:
        codes = _pseudonymise(codes)
    for text in codes.warnings:
        _warnings.warn(text, DataWarning, stacklevel=2)
    return codes


def _read_source(source: Any) -> tuple:
    """(segments, codebook, cases, texts, warnings, origin) from a .qdpx, a table file or a DataFrame."""
    if isinstance(source, pd.DataFrame):
        return source.copy(), None, None, {}, [], "dataframe"
    if not isinstance(source, (str, os.PathLike)):
        raise SpecificationError(f"read_codes: source must be a .qdpx or CSV path or a DataFrame, got {type(source).__name__}.")
    p = _regular_file(Path(source), "Coded-segments")
    if p.suffix.lower() == ".qdpx":
        segs, book, case_frame, texts, warnings = _read_qdpx(p)
        return segs, book, case_frame, texts, warnings, p.name
    if p.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm"):
        return _table(p, "Coded-segments"), None, None, {}, [], p.name
    raise DataFormatError(f"Cannot read coded segments from {p.suffix or 'a file without extension'} ({p.name}). "
                          "Fix: give a .qdpx or a CSV.")


_COLUMNS_HINT = {"source": "interview_id", "case": "participant", "coder": "coder_name", "code": "code_label",
                 "start": "offset_start", "end": "offset_end", "text": "quote"}
_SYNONYMS = {  # what other tools and people call govsurvey's segment columns
    "source": ("interview", "document", "doc", "file", "transcript", "source", "文档", "文件", "访谈"),
    "case": ("participant", "respondent", "interviewee", "person", "case", "受访", "被访", "个案", "对象"),
    "coder": ("coder", "user", "annotator", "rater", "编码员", "编码者"),
    "code": ("code", "label", "node", "tag", "category", "编码", "代码", "类属"),
    "start": ("start", "begin", "offset", "起始", "开始"),
    "end": ("end", "stop", "结束", "终止"),
    "text": ("text", "quote", "segment", "excerpt", "content", "文本", "内容", "引文"),
}


def _closest(wanted: str, found: Sequence[str]) -> list[str]:
    """Columns of the file that may hold govsurvey's column ``wanted``: known synonyms first."""
    free = [c for c in found if c not in SEGMENT_COLUMNS]
    hits = [c for c in free if any(w in c.casefold() for w in _SYNONYMS[wanted])]
    return list(dict.fromkeys(hits + difflib.get_close_matches(wanted, free, n=2, cutoff=0.6)))[:3]


def _map_columns(segs: pd.DataFrame, columns: Mapping[str, str] | None, where: str) -> pd.DataFrame:
    """The segment table with its columns renamed as ``columns`` ({govsurvey name: file column})
    says; every column govsurvey needs must then be there, else a message that shows how."""
    if columns is not None:
        if not isinstance(columns, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
            raise SpecificationError(f"columns={columns!r} must map govsurvey's column names to the file's, e.g. "
                                     "columns={'case': 'participant', 'source': 'interview_id'}.")
        wrong = [k for k in columns if k not in SEGMENT_COLUMNS]
        if wrong:
            raise SpecificationError(f"columns= names {', '.join(map(repr, wrong))}, not a column govsurvey reads; its keys "
                                     f"must be among {', '.join(SEGMENT_COLUMNS)} (values: the file's column names). "
                                     "Fix: write columns={'govsurvey name': 'column in the file'}.")
        absent = [v for v in columns.values() if v not in segs.columns]
        if absent:
            near = {v: difflib.get_close_matches(v, [str(c) for c in segs.columns], n=3, cutoff=0.6) for v in absent}
            hints = "; ".join(f"{v!r}" + (f" (closest: {', '.join(near[v])})" if near[v] else "") for v in absent)
            raise DataValidationError(f"In {where}, columns= names column(s) not there: {hints}. The file has "
                                      f"{_listing(segs.columns)}. Fix: use the file's own column names as columns= values.")
        segs = segs.rename(columns={v: k for k, v in columns.items()})
    missing = [c for c in SEGMENT_COLUMNS if c not in segs.columns]
    if missing:
        found = [str(c) for c in segs.columns]
        near = {m: _closest(m, found) for m in missing}
        closest = "; ".join(f"{m}: {', '.join(near[m])}" for m in missing if near[m]) or "none"
        example = ", ".join(f"{m!r}: {(near[m] or [_COLUMNS_HINT[m]])[0]!r}" for m in missing)
        raise DataValidationError(
            f"Coded segments in {where} lack column(s) {', '.join(missing)}. They need {', '.join(SEGMENT_COLUMNS)}; "
            f"found {_listing(segs.columns)}; closest matches: {closest}. Fix: rename them in the file, or map the "
            f"file's columns with read_codes(..., columns={{{example}}}).")
    return segs


def _listing(columns, limit: int = 12) -> str:
    names = [str(c) for c in columns]
    return ", ".join(names[:limit]) + (f", … ({len(names)} in all)" if len(names) > limit else "") if names else "no columns"


def _merge_codebook(book: pd.DataFrame | None, extra: pd.DataFrame | None) -> pd.DataFrame | None:
    """The project's codebook completed or overridden by ``extra`` (non-empty cells win)."""
    if extra is None:
        return book
    if "code" not in extra.columns:
        raise DataValidationError(f"The codebook needs a 'code' column; it has {', '.join(map(str, extra.columns[:5]))}. "
                                  "Fix: name the column that holds the code names 'code'.")
    extra = extra.astype(object).where(extra.notna(), "")
    extra["code"] = extra["code"].astype(str)
    if book is None or not len(book):
        return extra
    merged = book.set_index("code")
    new = [c for c in dict.fromkeys(extra["code"]) if c not in merged.index]
    merged = pd.concat([merged, pd.DataFrame("", index=pd.Index(new, name="code"), columns=merged.columns)]) if new else merged
    for col in CODEBOOK_COLUMNS[1:]:
        if col in extra.columns:
            given = extra.drop_duplicates("code", keep="last").set_index("code")[col]
            given = given[given.astype(str).str.strip() != ""]
            merged.loc[given.index, col] = given.to_numpy()
    return merged.reset_index()


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "govsurvey:" + ":".join(parts))).upper()


def write_qdpx(codes: CodedInterviews, path: str | Path, *, texts: Mapping[str, str] | None = None, style: str = "refi",
               include_identifying: bool = False) -> Path:
    """Write a REFI-QDA project (``.qdpx``) from coded interviews, atomically.

    ``style`` mimics exporters: ``"refi"`` (sources as ``internal://`` files), ``"maxqda"``
    (the CodeBook in a second namespace, ``Cases:`` variable prefixes), ``"nvivo"`` (code
    descriptions and a Set), ``"qualcoder"`` (inline ``PlainTextContent``). Dimension and
    polarity are written into each code's Description as ``dimension: …; polarity: …``.
    Identifying case variables are left out unless ``include_identifying``.
    """
    if style not in ("refi", "maxqda", "nvivo", "qualcoder"):
        raise SpecificationError(f"style={style!r} must be 'refi', 'maxqda', 'nvivo' or 'qualcoder'.")
    if texts is not None and codes.pseudonymised:
        raise SpecificationError("write_qdpx: texts= would put the original transcripts (with their names) beside "
                                 "pseudonymised interviews whose offsets point into the scrubbed ones. Fix: leave texts= out "
                                 "(the scrubbed transcripts read with the project are used), or read with pseudonymise=False.")
    texts = dict(texts or codes.texts)
    seg = codes.segments
    missing = sorted(set(seg["source"]) - set(texts))
    if missing:
        raise DataValidationError(f"write_qdpx needs the text of every source; missing: {', '.join(missing[:5])}.")
    ET.register_namespace("", NS)
    q = lambda t: f"{{{NS}}}{t}"
    root = ET.Element(q("Project"), {"name": "govsurvey export", "origin": "govsurvey", "creatingUserGUID": _guid("user", "govsurvey")})
    users = ET.SubElement(root, q("Users"))
    for coder in sorted(seg["coder"].unique()):
        ET.SubElement(users, q("User"), {"guid": _guid("user", coder), "name": coder})
    cb_ns = "urn:QDA-XML:codebook:0:4" if style == "maxqda" else NS
    cbq = lambda t: f"{{{cb_ns}}}{t}"
    book = ET.SubElement(root, cbq("CodeBook"))
    codes_el = ET.SubElement(book, cbq("Codes"))
    elements: dict[str, ET.Element] = {}
    cb = codes.codebook
    pending = list(cb.itertuples())
    placed: set[str] = set()
    while pending:
        progressed = False
        for r in list(pending):
            if r.parent and r.parent not in placed:
                continue
            parent_el = elements[r.parent] if r.parent else codes_el
            el = ET.SubElement(parent_el, cbq("Code"), {"guid": _guid("code", r.code), "name": r.code, "isCodable": "true"})
            desc = "; ".join(x for x in [r.description, f"dimension: {r.dimension}" if r.dimension else "",
                                         f"polarity: {r.polarity}" if r.polarity else ""] if x)
            if desc:
                ET.SubElement(el, cbq("Description")).text = desc
            elements[r.code] = el
            placed.add(r.code)
            pending.remove(r)
            progressed = True
        if not progressed:
            raise DataValidationError("The codebook's parent links form a cycle or name missing parents.")
    var_cols = [c for c in codes.cases.columns if include_identifying or c not in codes.identifying]
    variables = ET.SubElement(root, q("Variables"))
    prefix = "Cases:" if style == "maxqda" else ""
    for c in var_cols:
        ET.SubElement(variables, q("Variable"), {"guid": _guid("var", c), "name": f"{prefix}{c}", "typeOfVariable": "Text"})
    cases_el = ET.SubElement(root, q("Cases"))
    sources_of = seg.groupby("case")["source"].unique().to_dict()
    for case, row in codes.cases.iterrows():
        el = ET.SubElement(cases_el, q("Case"), {"guid": _guid("case", str(case)), "name": str(case)})
        for c in var_cols:
            if pd.notna(row[c]) and str(row[c]) != "":
                vv = ET.SubElement(el, q("VariableValue"))
                ET.SubElement(vv, q("VariableRef"), {"targetGUID": _guid("var", c)})
                ET.SubElement(vv, q("TextValue")).text = str(row[c])
        for src in sorted(sources_of.get(case, [])):
            ET.SubElement(el, q("SourceRef"), {"targetGUID": _guid("source", src)})
    sources = ET.SubElement(root, q("Sources"))
    files: dict[str, bytes] = {}
    for src in sorted(texts):
        attrs = {"guid": _guid("source", src), "name": src}
        if style != "qualcoder":
            attrs["plainTextPath"] = f"internal://{_guid('source', src)}.txt"
            files[f"sources/{_guid('source', src)}.txt"] = texts[src].encode("utf-8")
        el = ET.SubElement(sources, q("TextSource"), attrs)
        if style == "qualcoder":
            ET.SubElement(el, q("PlainTextContent")).text = texts[src]
        part = seg[seg["source"] == src]
        for (start, end), group in part.groupby(["start", "end"], sort=True):
            sel = ET.SubElement(el, q("PlainTextSelection"), {
                "guid": _guid("sel", src, str(start), str(end)), "name": texts[src][start:end],
                "startPosition": str(start), "endPosition": str(end),
                "creatingUser": _guid("user", group["coder"].iloc[0])})
            for r in group.itertuples():
                coding = ET.SubElement(sel, q("Coding"), {"guid": _guid("coding", src, str(start), r.coder, r.code),
                                                          "creatingUser": _guid("user", r.coder)})
                ET.SubElement(coding, q("CodeRef"), {"targetGUID": _guid("code", r.code)})
    if style == "nvivo":
        sets = ET.SubElement(root, q("Sets"))
        s = ET.SubElement(sets, q("Set"), {"guid": _guid("set", "all"), "name": "All interviews"})
        ET.SubElement(s, q("Description")).text = "Exported set"
        for src in sorted(texts):
            ET.SubElement(s, q("MemberSource"), {"targetGUID": _guid("source", src)})
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("project.qde", xml)
            for name, data in sorted(files.items()):
                zf.writestr(name, data)

    return write_atomic(path, write)


def write_identity_key(codes: CodedInterviews, path: str | Path) -> Path:
    """Write the key from pseudonyms back to real names (case label, identifying variables,
    source names) to ``path`` as a CSV (UTF-8 with BOM, for Excel), atomically.

    This is the only place real names are written: keep the file apart from the results
    (and out of shared folders). The key exists only for interviews pseudonymised by
    :func:`read_codes` in this session.

    Examples
    --------
    >>> import tempfile, govsurvey as gs
    >>> files = gs.datasets.example_files()
    >>> codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = gs.write_identity_key(codes, Path(tmp) / "identity_key.csv")
    ...     "何秀英" in path.read_text(encoding="utf-8-sig")
    True
    """
    if not isinstance(codes, CodedInterviews):
        raise SpecificationError(f"write_identity_key: codes must be coded interviews (gs.read_codes), got {type(codes).__name__}.")
    if not codes.pseudonymised:
        raise DataValidationError("write_identity_key: these interviews were not pseudonymised, so there is no key. "
                                  "Fix: read them with gs.read_codes(...) (pseudonymise=True, the default).")
    text = codes.identity_key().reset_index().to_csv(index=False)
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8-sig"))
