"""Read survey responses from the files researchers have, and map them onto an instrument."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.data import checks
from govsurvey.data import wenjuanxing as wjx
from govsurvey.data.encoding import decode_bytes
from govsurvey.data.files import sha256_file
from govsurvey.data.writers import restore_cell
from govsurvey.errors import (
    DataFormatError,
    DataValidationError,
    InputFileNotFoundError,
    SpecificationError,
    UnknownItemError,
    UnmappedAnswerError,
    preview,
)
from govsurvey.instrument.model import Instrument, Scale, normalize_text

__all__ = ["read_responses", "read_table", "ANSWER_MODES"]

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".sav", ".zsav", ".dta", ".parquet")
ID_NAMES = ("respondent", "respondent_id", "id", "ID", "Id", "编号", "序号", "答卷编号")
ANSWER_MODES = ("auto", "labels", "codes")
"""How answers that are numbers are read when a scale's labels are numbers other than their
codes (``0, 1, 2, 3次及以上`` coded 1–4): decided from the file (``"auto"``), or read as
option text (``"labels"``) or as option numbers (``"codes"``)."""
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None) -> tuple[pd.DataFrame, dict]:
    """Read a file into a raw table (cells as read) and a dict of facts about it.

    Folders, FIFOs and devices are refused before anything is opened; a table wider than
    :data:`govsurvey.data.checks.MAX_COLUMNS` is refused from its header, and an ``.xlsx``
    whose parts or cells exceed the limits in :mod:`govsurvey.data.checks` before it is loaded.

    Examples
    --------
    >>> import govsurvey as gs
    >>> raw, info = read_table(gs.datasets.example_files()["csv"])
    >>> info["format"], raw.shape[0]
    ('csv', 640)
    """
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"Data file {path} does not exist. Check the path (relative paths start from {Path.cwd()}).")
    checks.check_regular_file(path)
    try:
        return _read_table(path, encoding, sheet)
    except MemoryError:
        raise DataFormatError(f"{path} is too large to read into memory ({path.stat().st_size:,} bytes). "
                              "Fix: split the file, or keep only the survey's columns.") from None


def _read_table(path: Path, encoding: str | None, sheet: str | int | None) -> tuple[pd.DataFrame, dict]:
    suffix = path.suffix.lower()
    info: dict[str, Any] = {"path": str(path), "format": suffix.lstrip(".")}
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_text_table(path, encoding, info)
    if suffix in (".xlsx", ".xlsm"):
        checks.check_xlsx(path)
        try:
            frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object, engine="openpyxl")
        except ValueError as exc:
            if "Worksheet" in str(exc) or "not found" in str(exc):
                raise DataFormatError(f"{path} has no sheet {sheet!r}. Fix: pass sheet= with one of its sheet names.") from None
            raise DataFormatError(f"{path} cannot be read as Excel: {exc}. Fix: open and re-save it in Excel, or export CSV.") from None
        except MemoryError:
            raise
        except Exception as exc:  # openpyxl raises zipfile/KeyError/etc. on broken files
            raise DataFormatError(f"{path} is not a readable .xlsx workbook ({type(exc).__name__}: {exc}). Fix: open and re-save it in Excel, or export CSV.") from None
        checks.check_column_count(frame.shape[1], str(path))
        return frame, info
    if suffix in (".sav", ".zsav", ".dta"):
        return _read_stats_file(path, suffix, info)
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            checks.check_column_count(len(pq.read_schema(path).names), str(path))
            frame = pd.read_parquet(path)
        except DataFormatError:
            raise
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError
            raise DataFormatError(f"{path} is not a readable Parquet file ({exc}). Fix: re-write it with pandas or pyarrow.") from None
        return frame, info
    raise DataFormatError(
        f"Cannot read {path}: files ending {suffix or '(none)'!r} are not supported. "
        f"Fix: give one of {', '.join(SUFFIXES)}, or a pandas DataFrame."
    )


def _read_text_table(path: Path, encoding: str | None, info: dict) -> tuple[pd.DataFrame, dict]:
    """CSV/TSV: decode, check the header (width, repeated names), then parse every cell as text."""
    suffix = path.suffix.lower()
    text, used = decode_bytes(path.read_bytes(), encoding=encoding, name=str(path))
    info["encoding"] = used
    sep = "\t" if suffix == ".tsv" or (suffix == ".txt" and "\t" in text.split("\n", 1)[0]) else ","
    kind = "TSV" if sep == "\t" else "CSV"
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    except csv.Error as exc:
        raise DataFormatError(f"{path}: the header line cannot be read as {kind} ({exc}). Fix: check the delimiter and quoting.") from None
    checks.check_column_count(len(header), str(path))
    _check_unique_headers(header, str(path))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataFormatError(f"{path} cannot be read as {kind}: {str(exc).strip()}. Fix: check the delimiter and quoting.") from None
    return frame.astype(object), info


def _read_stats_file(path: Path, suffix: str, info: dict) -> tuple[pd.DataFrame, dict]:
    import pyreadstat

    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    try:
        _, head = reader(str(path), metadataonly=True)
        checks.check_column_count(head.number_columns or 0, str(path))
        frame, meta = reader(str(path), user_missing=False)
    except DataFormatError:
        raise
    except Exception as exc:  # pyreadstat raises its own ReadstatError and OSError
        raise DataFormatError(f"{path} is not a readable {suffix} file ({exc}). Fix: re-save it from SPSS/Stata.") from None
    info["value_labels"] = dict(meta.variable_value_labels or {})
    info["column_labels"] = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    info["user_missing"] = {k: v for k, v in (getattr(meta, "missing_ranges", None) or {}).items()}
    return frame, info


def _check_unique_headers(headers: list, where: str) -> None:
    """Headers must be unique once surrounding spaces are stripped (counted in one pass)."""
    counts = Counter(str(h).strip() for h in headers)
    dup = [h for h, n in counts.items() if n > 1]
    if dup:
        raise DataFormatError(f"{where} has repeated column headers: {preview(sorted(dup))}. "
                              "Fix: give every column a unique header.")


def read_responses(
    source: str | Path | pd.DataFrame,
    instrument: Instrument | None = None,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    id_column: str | None = None,
    mapping: Mapping[str, str] | None = None,
    strict: bool = False,
    answers: str | Mapping[str, str] = "auto",
) -> pd.DataFrame:
    """Read responses and map them onto an instrument.

    Parameters
    ----------
    source
        A path (``.csv .tsv .xlsx .sav .dta .parquet``) or a DataFrame. Never modified.
        Folders, FIFOs and devices are refused; so are files over the limits in
        :mod:`govsurvey.data.checks` (columns, ``.xlsx`` cell and part sizes).
    instrument
        When given, columns are matched to questions by id, by question text (any language,
        ignoring punctuation and spacing; Wenjuanxing ``N、题干`` and matrix headers are
        understood) or by ``mapping``; answers become codes through the scale labels (see
        Notes); missing codes become NaN.
    encoding
        For CSV/TSV; detected when omitted (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030).
    sheet
        Excel sheet name or position (default: the first).
    id_column
        Column holding the respondent id. Default: Wenjuanxing ``序号`` (or ``答卷编号``), or
        a column named ``respondent``/``id``/``编号``; otherwise respondents are numbered from 1.
        Whole-number ids become int64; ids too long for int64 stay text, digit for digit.
    mapping
        Column header → question id, for columns that cannot be matched by id or text.
    strict
        Raise instead of warning when a column matches no question or a question has no column.
    answers
        ``"auto"`` (default), ``"labels"`` or ``"codes"``, or a mapping question id → one of
        them: how to read an answer that is a number when its scale has a label that is a
        different number (see Notes).

    Returns
    -------
    DataFrame
        Index ``respondent``; one column per matched question (instrument order, codes as
        float, text questions as strings), then Wenjuanxing meta columns (``_seconds``,
        ``_submitted``, ``_ip``, ``_channel``), then unmatched columns under their own
        headers. ``df.attrs["govsurvey"]`` records the source, its SHA-256, the format,
        the encoding, the column matches, what was left unmatched and, under
        ``number_answers``, how each column with number labels was read and why.
        Out-of-range codes are kept, for :func:`govsurvey.screen` to report.

    Raises
    ------
    UnmappedAnswerError
        A text answer matches no label of its question's scale (all of them are listed).
    DataValidationError
        A column's number answers could be option text or option numbers and nothing in the
        file tells which, or the column holds evidence of both.
    UnknownItemError
        ``mapping`` or ``id_column`` name a column or question that does not exist.
    EncodingDetectionError, DataFormatError, InputFileNotFoundError

    Notes
    -----
    An answer is looked up in its scale's labels first — as written, then (for text that is
    not a number) ignoring spaces, punctuation and case, but only where that folding leaves
    a single code — and only then read as a number (a code). Labels that fold together are
    refused when the instrument is loaded.

    When a scale's labels are numbers other than their codes (``0, 1, 2, 3次及以上`` coded
    1–4), an answer ``1`` is either the option text "1" (code 2, option-text export) or the
    option number 1 (code 1, option-number export). The column's own answers decide: a
    value only a label explains (``3次及以上``, or ``0``, which is no code) means option
    text; a value only a code explains (``4``, or ``-3``) means option numbers. A column
    with neither is decided by the rest of the file (the other labelled columns all text,
    or all numbers), with a logged warning; a column with both, or one the file cannot
    decide, is an error asking for ``answers=``. Numeric SPSS/Stata variables hold codes.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> df = gs.read_responses(gs.datasets.example_files()["xlsx"], inst)
    >>> df.loc[1, "gender"] in (1.0, 2.0)
    True
    """
    raw, info = _load(source, encoding, sheet)
    is_wjx = wjx.is_wenjuanxing(list(raw.columns))
    info["wenjuanxing"] = is_wjx
    id_col = _id_column_name(raw, id_column, is_wjx)
    raw.index = _respondent_index(raw, id_col)
    meta = wjx.convert_meta(raw, skip=id_col) if is_wjx else pd.DataFrame(index=raw.index)
    skip_cols = set(wjx.META_COLUMNS) if is_wjx else set()
    if id_col is not None:
        skip_cols.add(id_col)
    if instrument is None:
        out = raw.drop(columns=[c for c in raw.columns if c in skip_cols])
        out = pd.concat([out, meta], axis=1)
        out.attrs["govsurvey"] = info
        return out
    modes = _answer_modes(answers, instrument)
    headers = wjx.parse_headers(list(raw.columns)) if is_wjx else [wjx.HeaderInfo(c, None, (c,)) for c in raw.columns]
    matches = _match_columns(raw, headers, instrument, mapping or {}, skip_cols, info)
    unmatched = _report_matches(raw, matches, skip_cols, instrument, strict, info)
    columns = _convert_all(raw, matches, instrument, info, is_wjx, modes)
    out = pd.DataFrame(columns, index=raw.index)
    out = pd.concat([out, meta, raw[unmatched]], axis=1)
    out.index.name = "respondent"
    out.attrs["govsurvey"] = info
    return out


def _load(source: str | Path | pd.DataFrame, encoding: str | None, sheet: str | int | None) -> tuple[pd.DataFrame, dict]:
    """The raw table (a copy for a DataFrame) with stripped, unique headers, and its facts."""
    if isinstance(source, pd.DataFrame):
        checks.check_column_count(source.shape[1], "The DataFrame")
        raw = source.copy()
        info: dict[str, Any] = {"path": None, "format": "dataframe"}
    else:
        path = Path(source)
        raw, info = read_table(path, encoding=encoding, sheet=sheet)
        info["sha256"] = sha256_file(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    _check_unique_headers(list(raw.columns), info.get("path") or "The DataFrame")
    if raw.shape[0] == 0:
        raise DataValidationError(f"The data ({info.get('path') or 'DataFrame'}) have no rows. Fix: check the file and sheet.")
    return raw, info


def _answer_modes(answers: str | Mapping[str, str], instrument: Instrument) -> dict[str, str]:
    """``answers=`` as question id → mode (questions not named: ``"auto"``)."""
    if isinstance(answers, str):
        given = {q.id: answers for q in instrument.questions}
    elif isinstance(answers, Mapping):
        unknown = [str(k) for k in answers if k not in {q.id for q in instrument.questions}]
        if unknown:
            raise UnknownItemError(f"answers= names question(s) not in instrument {instrument.name!r}: {preview(unknown)}. "
                                   "Fix: use the instrument's question ids.")
        given = {str(k): v for k, v in answers.items()}
    else:
        raise SpecificationError(f"answers={answers!r} must be 'auto', 'labels' or 'codes', or a mapping of question id "
                                 "to one of them. Fix: e.g. answers={'visits': 'labels'}.")
    bad = {k: v for k, v in given.items() if v not in ANSWER_MODES}
    if bad:
        k, v = next(iter(bad.items()))
        raise SpecificationError(f"answers= gives {v!r} for {k}; allowed are 'auto', 'labels' (answers are option text) "
                                 "and 'codes' (answers are option numbers). Fix: use one of them.")
    return given


def _report_matches(raw: pd.DataFrame, matches: dict, skip_cols: set, instrument: Instrument, strict: bool, info: dict) -> list[str]:
    """Record (and warn about, or with ``strict`` refuse) columns and questions left unmatched."""
    used = set(matches.values())
    unmatched = [c for c in raw.columns if c not in matches and c not in skip_cols]
    missing_questions = [q.id for q in instrument.questions if q.id not in used]
    info.update(matched=dict(matches), unmatched_columns=unmatched, missing_questions=missing_questions)
    if strict and (unmatched or missing_questions):
        raise DataValidationError(
            (f"{len(unmatched)} column(s) match no question: {preview(unmatched)}. " if unmatched else "")
            + (f"{len(missing_questions)} question(s) have no column: {preview(missing_questions)}. " if missing_questions else "")
            + "Fix: pass mapping={'column header': 'item_id'}, correct the instrument text, or use strict=False."
        )
    if unmatched:
        log.warning("%d column(s) match no question of %s and are kept as they are: %s",
                    len(unmatched), instrument.name, preview(unmatched))
    if missing_questions:
        log.warning("%d question(s) of %s have no column in the data: %s", len(missing_questions), instrument.name, preview(missing_questions))
    return unmatched


def _id_column_name(raw: pd.DataFrame, id_column: str | None, is_wjx: bool) -> str | None:
    if id_column is not None:
        if id_column not in raw.columns:
            raise UnknownItemError(f"id_column={id_column!r} is not a column of the data. Columns include: {preview(list(raw.columns))}. "
                                   "Fix: give the header exactly as in the file.")
        return id_column
    names = ("序号", "答卷编号") if is_wjx else ID_NAMES
    return next((n for n in names if n in raw.columns), None)


def _respondent_index(raw: pd.DataFrame, col: str | None) -> pd.Index:
    """Ids from ``col``: int64 when every id is a whole number that fits, else text (stripped)."""
    if col is None:
        return pd.RangeIndex(1, raw.shape[0] + 1, name="respondent")
    values = raw[col]
    blank = [k + 1 for k, v in enumerate(values) if _blank(v)]
    if blank:
        raise DataValidationError(f"Respondent id column {col!r} has empty cells in rows {preview(blank)}. "
                                  "Fix: fill them or pass id_column= with another column.")
    ints = [_whole_number(v) for v in values]
    if all(n is not None for n in ints):
        if all(-(2**63) <= n < 2**63 for n in ints):
            ids = pd.Index(np.array(ints, dtype=np.int64), name="respondent")
        else:  # beyond int64: keep every digit, as text
            ids = pd.Index([v.strip() if isinstance(v, str) else str(n) for v, n in zip(values, ints)], dtype=object, name="respondent")
    else:
        ids = pd.Index([str(v).strip() for v in values], dtype=object, name="respondent")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise DataValidationError(
            f"Respondent id column {col!r} repeats ids: {preview(sorted(set(dup.tolist()), key=str))}. "
            "Fix: make ids unique, or pass id_column= naming a unique column."
        )
    return ids


def _whole_number(v: Any) -> int | None:
    """``v`` as an exact Python int when it is a whole number (``7``, ``7.0``, ``'007'``), else None."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if math.isfinite(v) and float(v).is_integer() else None
    if isinstance(v, str) and _INT.match(v.strip()):
        return int(v.strip().split(".", 1)[0])
    return None


def _match_columns(raw, headers, instrument: Instrument, mapping: Mapping[str, str], skip_cols: set, info: dict) -> dict[str, str]:
    known_ids = {q.id for q in instrument.questions}
    bad_cols = [c for c in mapping if c not in raw.columns]
    if bad_cols:
        raise UnknownItemError(f"mapping= names {len(bad_cols)} column(s) not in the data: {preview(bad_cols)}. Fix: use the headers exactly as in the file.")
    bad_ids = [v for v in mapping.values() if v not in known_ids]
    if bad_ids:
        raise UnknownItemError(f"mapping= names {len(bad_ids)} question id(s) not in instrument {instrument.name!r}: {preview(bad_ids)}.")
    text_index: dict[str, list[str]] = {}
    for q in instrument.questions:
        for text in q.text.values():
            key = normalize_text(text)
            if key and q.id not in text_index.setdefault(key, []):
                text_index[key].append(q.id)
    lower_ids = {qid.lower(): qid for qid in known_ids}
    labels = info.get("column_labels") or {}
    matches: dict[str, str] = {}
    for h in headers:
        col = h.column
        if col in skip_cols:
            continue
        if col in mapping:
            matches[col] = mapping[col]
            continue
        if col in known_ids or col.lower() in lower_ids:
            matches[col] = col if col in known_ids else lower_ids[col.lower()]
            continue
        candidates = list(h.candidates)
        if labels.get(col):
            candidates.append(str(labels[col]))
        for cand in candidates:
            hits = text_index.get(normalize_text(cand), [])
            if len(hits) > 1:
                raise DataValidationError(
                    f"Column {col!r} matches several questions by text ({', '.join(hits)}). Fix: pass mapping={{{col!r}: '<id>'}}."
                )
            if hits:
                matches[col] = hits[0]
                break
    seen: dict[str, str] = {}
    for col, qid in matches.items():
        if qid in seen:
            raise DataValidationError(
                f"Question {qid!r} matches two columns: {seen[qid]!r} and {col!r}. Fix: pass mapping= for the right one, or drop the other column."
            )
        seen[qid] = col
    return matches


@dataclasses.dataclass
class _Cells:
    """One column read against its scale, before number answers are settled.

    ``ambiguous`` maps a row position to (code if the answer is option text, code if it is an
    option number); ``as_text``/``as_codes`` keep the first answer only one reading explains,
    with counts."""

    codes: np.ndarray
    ambiguous: dict[int, tuple[float, float]]
    as_text: list
    as_codes: list
    bad: dict[str, list]


def _convert_all(raw: pd.DataFrame, matches: dict, instrument: Instrument, info: dict, is_wjx: bool,
                 modes: dict[str, str]) -> dict[str, pd.Series]:
    """Every matched question's column as codes (or text); unmapped answers are one error."""
    extra_missing = set(wjx.SKIP_CODES) if is_wjx else set()
    extra_texts = wjx.SKIP_TEXTS if is_wjx else ()
    native = info.get("format") in ("sav", "zsav", "dta")
    by_id = {v: k for k, v in matches.items()}
    read: dict[str, _Cells | pd.Series] = {}
    for q in instrument.questions:
        if q.id not in by_id:
            continue
        col = by_id[q.id]
        scale = instrument.scales[q.scale]
        _check_value_labels(info, col, q.id, scale)
        if scale.type == "text":
            read[q.id] = raw[col].map(lambda v: None if _blank(v) else str(v).strip()).astype("string")
            continue
        codes_only = native and pd.api.types.is_numeric_dtype(raw[col].dtype)
        read[q.id] = _read_cells(raw[col], scale, extra_missing, extra_texts, codes_only)
    _raise_unmapped([(qid, by_id[qid], c.bad) for qid, c in read.items() if isinstance(c, _Cells)], instrument)
    file_text = sorted(qid for qid, c in read.items() if isinstance(c, _Cells) and c.as_text)
    file_codes = sorted(qid for qid, c in read.items() if isinstance(c, _Cells) and c.as_codes)
    decisions: dict[str, dict] = {}
    columns: dict[str, pd.Series] = {}
    for qid, cells in read.items():
        if isinstance(cells, _Cells):
            if cells.ambiguous:
                decisions[qid] = _settle(qid, by_id[qid], cells, modes.get(qid, "auto"), file_text, file_codes)
            cells = pd.Series(cells.codes, index=raw.index, name=by_id[qid])
        columns[qid] = cells
    info["number_answers"] = decisions
    return columns


def _read_cells(values: pd.Series, scale: Scale, extra_missing: set, extra_texts: tuple, codes_only: bool) -> _Cells:
    """Cells → codes (float); number answers that a label reads differently are left pending."""
    exact, folded, numbers = scale.label_lookup() if scale.labels or scale.missing_text else ({}, {}, {})
    for t in extra_texts:
        exact.setdefault(t, float("nan"))
        folded.setdefault(normalize_text(t), float("nan"))
    missing = set(scale.missing) | extra_missing
    valid = {float(c) for c in scale.codes} | missing
    out = _Cells(np.full(len(values), np.nan), {}, [], [], {})
    for k, (rid, v) in enumerate(values.items()):
        if _blank(v):
            continue
        num = _number(v)
        if num is None:
            code = _lookup_text(str(v), exact, folded)
            if code is None:
                out.bad.setdefault(str(v).strip(), []).append(rid)
            else:
                out.codes[k] = code
                if not math.isnan(code):
                    _note(out.as_text, v, rid)
            continue
        as_code = np.nan if num in missing else num
        as_label = None if codes_only else exact.get(str(v).strip(), numbers.get(num))
        if as_label is None or _same(as_label, as_code):
            out.codes[k] = as_code
            if as_label is None and num in valid and (exact or numbers):
                _note(out.as_codes, v, rid)
        elif num not in valid:  # no code, so only the label explains it
            out.codes[k] = as_label
            _note(out.as_text, v, rid)
        else:
            out.ambiguous[k] = (float(as_label), float(as_code))
    return out


def _lookup_text(text: str, exact: dict, folded: dict) -> float | None:
    """A text answer's code: the label as written, then as a writer neutralised it, then folded."""
    if "〖" in text:  # Wenjuanxing: an option with its fill-in, 其他〖退休职工〗 → 其他
        text = text.split("〖", 1)[0]
    text = text.strip()
    for key in (text, restore_cell(text)):
        if key in exact:
            return exact[key]
    return folded.get(normalize_text(text))


def _note(evidence: list, value: Any, rid: Any) -> None:
    if evidence:
        evidence[2] += 1
    else:
        evidence.extend([value, rid, 1])


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _settle(qid: str, col: str, cells: _Cells, mode: str, file_text: list, file_codes: list) -> dict:
    """Read the pending number answers of one column as option text or option numbers."""
    n = len(cells.ambiguous)
    if mode != "auto":
        because = f"answers={mode!r}"
    elif cells.as_text and cells.as_codes:
        t, c = cells.as_text, cells.as_codes
        raise DataValidationError(
            f"Column {col!r} ({qid}) holds both option text and option numbers: {t[0]!r} (respondent {t[1]}, "
            f"{t[2]} answer(s)) is only a label of its scale, {c[0]!r} (respondent {c[1]}, {c[2]} answer(s)) only a code; "
            f"so its {n} answer(s) that are label numbers cannot be read. Fix: correct the column, or pass "
            f"answers={{{qid!r}: 'labels'}} (option text) or answers={{{qid!r}: 'codes'}} (option numbers)."
        )
    elif cells.as_text or cells.as_codes:
        mode = "labels" if cells.as_text else "codes"
        ev = cells.as_text or cells.as_codes
        because = f"the column's answer {ev[0]!r} (respondent {ev[1]}) is only a {'label' if cells.as_text else 'code'}"
    elif bool(file_text) != bool(file_codes):
        mode = "labels" if file_text else "codes"
        others = file_text or file_codes
        because = f"the file's other labelled columns ({preview(others, 3)}) hold option {'text' if file_text else 'numbers'}"
        log.warning("Column %r (%s): %d answer(s) that are numbers could be option text or option numbers; read as option "
                    "%s because %s. Pass answers={%r: 'labels' or 'codes'} to decide otherwise.",
                    col, qid, n, "text" if mode == "labels" else "numbers", because, qid)
    else:
        raise DataValidationError(
            f"Column {col!r} ({qid}): {n} answer(s) could be option text or option numbers (its scale has labels that are "
            "numbers other than their codes) and nothing in the file tells which. Fix: pass answers="
            f"{{{qid!r}: 'labels'}} if the file holds option text (按选项文本), or answers={{{qid!r}: 'codes'}} if it "
            "holds option numbers (按选项序号)."
        )
    pick = 0 if mode == "labels" else 1
    for k, pair in cells.ambiguous.items():
        cells.codes[k] = pair[pick]
    return {"read_as": mode, "answers": n, "because": because}


def _raise_unmapped(per_column: list[tuple[str, str, dict]], instrument: Instrument) -> None:
    problems = [(qid, col, value, len(rows), rows) for qid, col, bad in per_column for value, rows in bad.items()]
    if not problems:
        return
    lines = [
        f"{qid} (column {col!r}): {value!r} in {count} row(s), e.g. respondent {preview(rows, 3)}"
        for qid, col, value, count, rows in problems[:8]
    ]
    more = f"\n  … and {len(problems) - 8} more" if len(problems) > 8 else ""
    scales = sorted({instrument.question(p[0]).scale for p in problems})
    raise UnmappedAnswerError(
        f"{len(problems)} answer text(s) match no label of their scale:\n  " + "\n  ".join(lines) + more
        + f"\nFix: add the text as a label of scale(s) {', '.join(scales)} in {instrument.path or 'the instrument'}, "
        "list it under missing_text: if it means no answer, or correct the data."
    )


def _blank(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _number(v: Any) -> float | None:
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return None if math.isinf(f) else f
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return None if math.isinf(f) or math.isnan(f) else f


def _check_value_labels(info: dict, col: str, qid: str, scale: Scale) -> None:
    """SPSS/Stata value labels must agree with the instrument's codes (a reversed scale is caught)."""
    labels = (info.get("value_labels") or {}).get(col)
    if not labels or not scale.labels:
        return
    index = scale.label_index()
    clashes = []
    for code, text in labels.items():
        expected = index.get(normalize_text(text))
        if expected is not None and not (isinstance(expected, float) and math.isnan(expected)) and float(expected) != float(code):
            clashes.append(f"{code}={text!r} (instrument: {int(expected)})")
    if clashes:
        raise DataValidationError(
            f"Column {col!r} ({qid}) codes its labels differently from scale {scale.name!r}: {preview(clashes, 3)}. "
            "Fix: recode the variable to the instrument's codes, or correct the scale."
        )
