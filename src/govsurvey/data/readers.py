"""Read survey responses from the files researchers have, and map them onto an instrument."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
import re
import warnings
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
from govsurvey.instrument import odk
from govsurvey.errors import (
    DataFormatError,
    DataValidationError,
    DataWarning,
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
ID_NAMES = ("respondent", "respondent_id", "respondent id", "id", "resp_id", "seq", "编号", "序号", "答卷编号")
"""Headers or SPSS variable labels (any case) that mark the respondent id column, in this order."""
ANSWER_MODES = ("auto", "labels", "codes")
"""How answers that are numbers are read when a scale's labels are numbers other than their
codes (``0, 1, 2, 3次及以上`` coded 1–4): decided from the file (``"auto"``), or read as
option text (``"labels"``) or as option numbers (``"codes"``)."""
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None,
               allow_repeated: bool = False) -> tuple[pd.DataFrame, dict]:
    """Read a file into a raw table (cells as read) and a dict of facts about it.

    Folders, FIFOs and devices are refused before anything is opened; a table wider than
    :data:`govsurvey.data.checks.MAX_COLUMNS` is refused from its header, and an ``.xlsx``
    whose parts or cells exceed the limits in :mod:`govsurvey.data.checks` before it is loaded.
    A header that occurs twice (after stripping spaces) in any format is a
    :class:`DataFormatError`; with ``allow_repeated=True`` the repeats are kept as ``X.1``,
    ``X.2`` with a :class:`DataWarning`. SPSS/Stata facts: ``value_labels``,
    ``column_labels``, ``user_missing`` (per variable, ``values`` and ``ranges``) and
    ``out_of_range_dates`` (cells read as missing).

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
        frame, info = _read_table(path, encoding, sheet, allow_repeated)
    except MemoryError:
        raise DataFormatError(f"{path} is too large to read into memory ({path.stat().st_size:,} bytes). "
                              "Fix: split the file, or keep only the survey's columns.") from None
    frame.columns = _unique_headers(list(frame.columns), str(path), allow_repeated)
    return frame, info


def _read_table(path: Path, encoding: str | None, sheet: str | int | None, allow_repeated: bool) -> tuple[pd.DataFrame, dict]:
    suffix = path.suffix.lower()
    info: dict[str, Any] = {"path": str(path), "format": suffix.lstrip(".")}
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_text_table(path, encoding, info, allow_repeated)
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, sheet, info), info
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


def _read_excel(path: Path, sheet: str | int | None, info: dict) -> pd.DataFrame:
    """The sheet with its header row exactly as written (pandas would rename a repeated
    header ``X.1``; the repeat is checked by the caller); an empty header cell is ``Unnamed: j``."""
    checks.check_xlsx(path)
    try:
        cells = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object, engine="openpyxl", header=None)
    except ValueError as exc:
        if "Worksheet" in str(exc) or "not found" in str(exc):
            raise DataFormatError(f"{path} has no sheet {sheet!r}. Fix: pass sheet= with one of its sheet names.") from None
        raise DataFormatError(f"{path} cannot be read as Excel: {exc}. Fix: open and re-save it in Excel, or export CSV.") from None
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises zipfile/KeyError/etc. on broken files
        raise DataFormatError(f"{path} is not a readable .xlsx workbook ({type(exc).__name__}: {exc}). Fix: open and re-save it in Excel, or export CSV.") from None
    checks.check_column_count(cells.shape[1], str(path))
    if cells.shape[0] == 0:
        return pd.DataFrame()
    header = [f"Unnamed: {j}" if _blank(h) else (str(int(h)) if isinstance(h, float) and h.is_integer() else str(h))
              for j, h in enumerate(cells.iloc[0])]
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame


def _read_text_table(path: Path, encoding: str | None, info: dict, allow_repeated: bool) -> tuple[pd.DataFrame, dict]:
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
    header = _unique_headers(header, str(path), allow_repeated, warn=False)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataFormatError(f"{path} cannot be read as {kind}: {str(exc).strip()}. Fix: check the delimiter and quoting.") from None
    if allow_repeated and len(header) == frame.shape[1]:
        frame.columns = [str(h).strip() for h in next(csv.reader(io.StringIO(text), delimiter=sep), [])]
    return frame.astype(object), info


def _read_stats_file(path: Path, suffix: str, info: dict) -> tuple[pd.DataFrame, dict]:
    """SPSS/Stata: user-missing values become NaN (and are reported); dates out of range are
    read as missing with a :class:`DataWarning` naming the cells."""
    import pyreadstat

    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    try:
        _, head = reader(str(path), metadataonly=True, user_missing=True)
        checks.check_column_count(head.number_columns or 0, str(path))
    except DataFormatError:
        raise
    except Exception as exc:  # pyreadstat raises its own ReadstatError and OSError
        raise DataFormatError(f"{path} is not a readable {suffix} file ({exc}). Fix: re-save it from SPSS/Stata, "
                              "or check that the file is complete (not cut off in a download).") from None
    try:
        frame, meta = reader(str(path), user_missing=False)
    except Exception as exc:  # pyreadstat: ReadstatError, or a date it cannot convert
        frame, meta = _read_raw_dates(path, reader, exc, info)
    info["value_labels"] = dict(meta.variable_value_labels or {})
    info["column_labels"] = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    info["user_missing"] = _user_missing(head)
    return frame, info


_SPSS_EPOCH = 12_219_379_200.0  # seconds from 1582-10-14 (SPSS's day 0) to 1970-01-01
_NS_LIMIT = 9.2e9  # seconds from 1970 that pandas timestamps (nanoseconds) hold: years 1678-2261
_DATE_FORMATS = re.compile(r"^(DATE|ADATE|EDATE|JDATE|SDATE|QYR|MOYR|WKYR|DATETIME|YMDHMS|%td|%tc)", re.IGNORECASE)


def _read_raw_dates(path: Path, reader, first: Exception, info: dict) -> tuple[pd.DataFrame, Any]:
    """Re-read with dates as numbers when pyreadstat could not convert one; convert them here,
    out-of-range cells as missing (a DataWarning names them). Other failures are errors."""
    fail = DataFormatError(f"{path} is not a readable {path.suffix} file ({first}). Fix: re-save it from SPSS/Stata, "
                           "or check that the file is complete (not cut off in a download).")
    if path.suffix.lower() == ".dta":
        raise fail from None
    try:
        frame, meta = reader(str(path), user_missing=False, disable_datetime_conversion=True)
    except Exception:  # the same ReadstatError: not a date problem
        raise fail from None
    bad: list[str] = []
    for col, fmt in (meta.original_variable_types or {}).items():
        if not pd.api.types.is_numeric_dtype(frame[col].dtype):
            continue
        if re.match(r"^(TIME|DTIME|MTIME)", str(fmt), re.IGNORECASE):
            frame[col] = pd.to_timedelta(frame[col], unit="s")
            continue
        if not _DATE_FORMATS.match(str(fmt)):
            continue
        secs = frame[col].astype(float) - _SPSS_EPOCH
        inside = secs.abs() < _NS_LIMIT
        stamps = pd.to_datetime(secs.where(inside), unit="s").astype("datetime64[ns]")
        out = secs.notna() & ~inside
        bad += [f"{col} row {k + 1} ({v:.6g} s after 1582-10-14)" for k, v in zip(np.flatnonzero(out), frame[col][out])]
        is_day = re.match(r"^(DATE|ADATE|EDATE|JDATE|SDATE)\d", str(fmt), re.IGNORECASE) is not None
        frame[col] = stamps.dt.date.where(stamps.notna(), None) if is_day else stamps
    if not bad:
        raise fail from None
    info["out_of_range_dates"] = bad
    warnings.warn(f"{path}: {len(bad)} date value(s) out of the readable range (years 1678-2261) are read as missing: "
                  f"{preview(bad, 5)}. Fix: correct them in SPSS if they are typing errors.", DataWarning, stacklevel=4)
    return frame, meta


def _user_missing(meta: Any) -> dict[str, dict[str, list]]:
    """SPSS user-missing declarations per variable: single ``values`` and ``ranges`` [lo, hi]."""
    out: dict[str, dict[str, list]] = {}
    for col, declared in (getattr(meta, "missing_ranges", None) or {}).items():
        entry = out.setdefault(col, {"values": [], "ranges": []})
        for r in declared:
            lo, hi = r.get("lo"), r.get("hi")
            (entry["values"].append(lo) if lo == hi else entry["ranges"].append([lo, hi]))
    for col, values in (getattr(meta, "missing_user_values", None) or {}).items():
        out.setdefault(col, {"values": [], "ranges": []})["values"].extend(v for v in values if v not in out[col]["values"])
    return out


def _unique_headers(headers: list, where: str, allow_repeated: bool, *, warn: bool = True) -> list[str]:
    """Headers stripped of surrounding spaces; a repeated one is an error, or with
    ``allow_repeated`` renamed ``X.1``, ``X.2`` (with a :class:`DataWarning` when ``warn``)."""
    names = [str(h).strip() for h in headers]
    counts = Counter(names)
    dup = [h for h, n in counts.items() if n > 1]
    if not dup:
        return names
    if not allow_repeated:
        raise DataFormatError(f"{where} has repeated column headers: {preview(sorted(dup))}. A repeated question is "
                              "ambiguous, so it is not read. Fix: give every column a unique header (rename the "
                              "repeat in the file), or pass allow_repeated=True to keep the repeats as 'header.1'.")
    seen: Counter = Counter()
    taken = set(names)
    out = []
    for h in names:
        if seen[h]:
            k = seen[h]
            while f"{h}.{k}" in taken:
                k += 1
            out.append(f"{h}.{k}")
            taken.add(out[-1])
        else:
            out.append(h)
        seen[h] += 1
    if warn:
        warnings.warn(f"{where} repeats column header(s) {preview(sorted(dup))}; kept (allow_repeated=True) with the "
                      "repeats renamed 'header.1', 'header.2'. Check which column is the real question.", DataWarning, stacklevel=4)
    return out


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
    allow_repeated: bool = False,
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
        the first column whose header or SPSS variable label is one of :data:`ID_NAMES`
        (``respondent``, ``id``, ``resp_id``, ``seq``, ``编号``, ``序号``…, any case); the
        column used is ``attrs["govsurvey"]["id_column"]``. Without one, respondents are
        numbered from 1 and a note in ``attrs["govsurvey"]["notes"]`` says so. Whole-number
        ids become int64; ids too long for int64 stay text, digit for digit.
    mapping
        Column header → question id, for columns that cannot be matched by id or text.
    strict
        Raise instead of warning when a column matches no question or a question has no column.
    answers
        ``"auto"`` (default), ``"labels"`` or ``"codes"``, or a mapping question id → one of
        them: how to read an answer that is a number when its scale has a label that is a
        different number (see Notes).
    allow_repeated
        A header that occurs twice is an error (a repeated question is ambiguous); with
        ``True`` the repeats are kept as ``header.1``… with a :class:`DataWarning`.

    Returns
    -------
    DataFrame
        Index ``respondent``; one column per matched question (instrument order, codes as
        float, text questions as strings), then Wenjuanxing meta columns (``_seconds``,
        ``_submitted``, ``_ip``, ``_channel``), then unmatched columns under their own
        headers. ``df.attrs["govsurvey"]`` records the source, its SHA-256, the format,
        the encoding, the column matches, what was left unmatched and, under
        ``number_answers``, how each column with number labels was read and why; also
        ``id_column`` and ``time_column`` (the columns found, or None), ``meta_columns``
        (column → ``_seconds``/``_submitted``/``_ip``…: Wenjuanxing headers, SPSS variable
        labels such as 所用时间, and completion-time names ``duration``, ``答题时长``,
        ``测评时长``…), ``number_units`` (answers read as numbers after dropping a unit such
        as ``岁``), ``user_missing`` (SPSS) and ``notes``.
        Out-of-range codes are kept, for :func:`govsurvey.screen` to report.

    Raises
    ------
    UnmappedAnswerError
        A text answer matches no label of its question's scale, or an answer to a number
        question is not a number even without its unit (all of them are listed).
    DataValidationError
        A column's number answers could be option text or option numbers and nothing in the
        file tells which, or the column holds evidence of both.
    UnknownItemError
        ``mapping`` or ``id_column`` name a column or question that does not exist.
    DataFormatError
        The file cannot be read, or repeats a header (without ``allow_repeated``).
    EncodingDetectionError, InputFileNotFoundError

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
    decide, is an error asking for ``answers=``. Numeric SPSS/Stata variables hold codes;
    string variables with value labels are read through their labels, and a text question
    gets the label of a labelled code. ``(空)`` and ``(跳过)`` are no answer in every
    question type. Number questions accept units and full-width digits (``45岁``, ``４５``).

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> df = gs.read_responses(gs.datasets.example_files()["xlsx"], inst)
    >>> df.loc[1, "gender"] in (1.0, 2.0)
    True
    """
    raw, info = _load(source, encoding, sheet, allow_repeated)
    modes = _answer_modes(answers, instrument) if instrument is not None else {}
    meta, skip_cols, is_wjx = _meta_and_ids(raw, info, instrument, id_column, mapping or {})
    if instrument is None:
        out = raw.drop(columns=[c for c in raw.columns if c in skip_cols])
        out = pd.concat([out, meta], axis=1)
        out.attrs["govsurvey"] = info
        return out
    raw = odk.expand_select_multiple(odk.odk_columns(raw, instrument), instrument)   # ODK/Kobo export layouts
    headers = wjx.parse_headers(list(raw.columns)) if is_wjx else [wjx.HeaderInfo(c, None, (c,)) for c in raw.columns]
    matches = _match_columns(raw, headers, instrument, mapping or {}, skip_cols, info)
    unmatched = _report_matches(raw, matches, skip_cols, instrument, strict, info)
    columns = _convert_all(raw, matches, instrument, info, is_wjx, modes)
    out = pd.DataFrame(columns, index=raw.index)
    out = pd.concat([out, meta, raw[unmatched]], axis=1)
    out.index.name = "respondent"
    out.attrs["govsurvey"] = info
    return out


def _load(source: str | Path | pd.DataFrame, encoding: str | None, sheet: str | int | None,
          allow_repeated: bool) -> tuple[pd.DataFrame, dict]:
    """The raw table (a copy for a DataFrame) with stripped, unique headers, and its facts."""
    if isinstance(source, pd.DataFrame):
        checks.check_column_count(source.shape[1], "The DataFrame")
        raw = source.copy()
        info: dict[str, Any] = {"path": None, "format": "dataframe"}
        raw.columns = _unique_headers(list(raw.columns), "The DataFrame", allow_repeated)
    else:
        path = Path(source)
        raw, info = read_table(path, encoding=encoding, sheet=sheet, allow_repeated=allow_repeated)
        info["sha256"] = sha256_file(path)
    info.setdefault("notes", [])
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


def _meta_and_ids(raw: pd.DataFrame, info: dict, instrument: Instrument | None, id_column: str | None,
                  mapping: Mapping[str, str]) -> tuple[pd.DataFrame, set, bool]:
    """Find the respondent id and the meta columns (time, submission, IP); index ``raw`` by
    the ids. Returns the converted meta columns, the columns not to match, and whether the
    file is a Wenjuanxing download (by headers, or by its SPSS variable labels)."""
    labels = info.get("column_labels") or {}
    is_wjx = wjx.is_wenjuanxing(list(raw.columns), labels)
    info["wenjuanxing"] = is_wjx
    questions = {q.id for q in instrument.questions} if instrument is not None else set()
    taken = questions | set(mapping)
    id_col = _id_column_name(raw, id_column, labels, taken)
    roles = wjx.meta_roles(list(raw.columns), labels, wenjuanxing=is_wjx, exclude=sorted(taken | {id_col} - {None}))
    info["id_column"] = id_col
    info["meta_columns"] = {c: r for c, (r, _) in roles.items()}
    info["time_column"] = next((c for c, (r, _) in roles.items() if r == "_seconds"), None)
    if id_col is None:
        info["notes"].append("No respondent id column was found (no header or SPSS label "
                             f"{', '.join(ID_NAMES)}); respondents are numbered 1..{raw.shape[0]} in file order. "
                             "Pass id_column= to use one.")
    if info["time_column"] is None:
        info["notes"].append(f"No completion-time column was found (looked for {', '.join(wjx.TIME_NAMES[:-1])} "
                             "as header or SPSS label), so there is no _seconds for the speeder rule.")
    raw.index = _respondent_index(raw, id_col)
    meta = wjx.convert_meta(raw, skip=id_col, roles=roles)
    skip_cols = {c for c, (_, consumed) in roles.items() if consumed}
    if id_col is not None:
        skip_cols.add(id_col)
    return meta, skip_cols, is_wjx


def _id_column_name(raw: pd.DataFrame, id_column: str | None, labels: Mapping[str, Any], taken: set) -> str | None:
    """``id_column``, else the first column whose header, then SPSS label, is an id name."""
    if id_column is not None:
        if id_column not in raw.columns:
            raise UnknownItemError(f"id_column={id_column!r} is not a column of the data. Columns include: {preview(list(raw.columns))}. "
                                   "Fix: give the header exactly as in the file.")
        return id_column
    free = [c for c in raw.columns if c not in taken]
    for name in ID_NAMES:
        for col in free:
            if col.lower() == name:
                return col
    for name in ID_NAMES:
        for col in free:
            if str(labels.get(col) or "").strip().lower() == name:
                return col
    return None


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
    exact_index, text_index = _text_indexes(instrument)
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
        qid = _match_text(col, candidates, exact_index, text_index)
        if qid is not None:
            matches[col] = qid
    seen: dict[str, str] = {}
    for col, qid in matches.items():
        if qid in seen:
            raise DataValidationError(
                f"Question {qid!r} matches two columns: {seen[qid]!r} and {col!r}. Fix: pass mapping= for the right one, or drop the other column."
            )
        seen[qid] = col
    return matches


def _text_indexes(instrument: Instrument) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Question texts (every language) → ids: as written (stripped), and folded."""
    exact: dict[str, list[str]] = {}
    folded: dict[str, list[str]] = {}
    for q in instrument.questions:
        for text in q.text.values():
            for index, key in ((exact, str(text).strip()), (folded, normalize_text(text))):
                if key and q.id not in index.setdefault(key, []):
                    index[key].append(q.id)
    return exact, folded


def _match_text(col: str, candidates: list[str], exact_index: dict, text_index: dict) -> str | None:
    """The question a header names: a text equal to the header wins over one equal only once
    spaces and punctuation are dropped (two questions may differ by one comma)."""
    for index, fold in ((exact_index, lambda t: str(t).strip()), (text_index, normalize_text)):
        for cand in candidates:
            hits = index.get(fold(cand), [])
            if len(hits) > 1:
                raise DataValidationError(
                    f"Column {col!r} matches several questions by text ({', '.join(hits)}): their texts are the same"
                    f"{'' if index is exact_index else ' once spaces and punctuation are dropped'}. "
                    f"Fix: pass mapping={{{col!r}: '<id>'}}, or make the question texts differ."
                )
            if hits:
                return hits[0]
    return None


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
    units: list = dataclasses.field(default_factory=list)


def _convert_all(raw: pd.DataFrame, matches: dict, instrument: Instrument, info: dict, is_wjx: bool,
                 modes: dict[str, str]) -> dict[str, pd.Series]:
    """Every matched question's column as codes (or text); unmapped answers are one error."""
    extra_missing = set(wjx.SKIP_CODES) if is_wjx else set()
    native = info.get("format") in ("sav", "zsav", "dta")
    by_id = {v: k for k, v in matches.items()}
    read: dict[str, _Cells | pd.Series] = {}
    for q in instrument.questions:
        if q.id not in by_id:
            continue
        col = by_id[q.id]
        scale = instrument.scales[q.scale]
        _check_value_labels(info, col, q.id, scale)
        values = _through_value_labels(raw[col], info, scale) if native else raw[col]
        if scale.type == "text":
            read[q.id] = _read_text(values, scale)
            continue
        codes_only = native and pd.api.types.is_numeric_dtype(values.dtype)
        read[q.id] = _read_cells(values, scale, extra_missing, wjx.SKIP_TEXTS, codes_only)
    _raise_unmapped([(qid, by_id[qid], c.bad) for qid, c in read.items() if isinstance(c, _Cells)], instrument)
    info["number_units"] = {qid: {"answers": c.units[2], "example": c.units[0], "respondent": c.units[1]}
                            for qid, c in read.items() if isinstance(c, _Cells) and c.units}
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


def _through_value_labels(values: pd.Series, info: dict, scale: Scale) -> pd.Series:
    """An SPSS/Stata column as answers: a string variable with value labels through its labels
    (``'f'`` → ``'Female'``); for a text question a labelled code as its label, and other
    whole numbers without ``.0``. A new Series; the column itself is not changed."""
    labels = (info.get("value_labels") or {}).get(values.name) or {}
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    if not numeric and labels:
        return values.map(lambda v: labels.get(v, labels.get(v.strip(), v) if isinstance(v, str) else v))
    if numeric and scale.type == "text":
        def as_text(v: Any) -> Any:
            if _blank(v):
                return None
            if v in labels:
                return labels[v]
            return str(int(v)) if float(v).is_integer() else str(v)
        return values.map(as_text).astype(object)
    return values


def _read_text(values: pd.Series, scale: Scale) -> pd.Series:
    """A text question's answers as strings; blanks, ``(空)``/``(跳过)`` and the scale's
    missing texts are missing; whole numbers lose a ``.0`` an Excel cell gave them."""
    missing = set(wjx.SKIP_TEXTS) | {str(t).strip() for t in scale.missing_text}

    def one(v: Any) -> str | None:
        if _blank(v):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        text = str(v).strip()
        return None if text in missing else text
    return values.map(one).astype("string")


def _read_cells(values: pd.Series, scale: Scale, extra_missing: set, extra_texts: tuple, codes_only: bool) -> _Cells:
    """Cells → codes (float); number answers that a label reads differently are left pending.
    In a number question an answer with a unit (``45岁``) is read as its number."""
    exact, folded, numbers = scale.label_lookup() if scale.labels or scale.missing_text else ({}, {}, {})
    for t in extra_texts:
        exact.setdefault(t, float("nan"))
        folded.setdefault(normalize_text(t), float("nan"))
    missing = set(scale.missing) | extra_missing
    valid = {float(c) for c in scale.codes} | missing
    number_question = not scale.is_categorical
    out = _Cells(np.full(len(values), np.nan), {}, [], [], {})
    for k, (rid, v) in enumerate(values.items()):
        if _blank(v):
            continue
        num = _number(v)
        if num is None and number_question and str(v).strip() not in exact:
            num = wjx.parse_number(v)
            if num is not None:
                _note(out.units, v, rid)
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
    """One error listing every answer that is no label (or, in a number question, no number),
    with a fix that fits each kind of question."""
    problems = [(qid, col, value, len(rows), rows) for qid, col, bad in per_column for value, rows in bad.items()]
    if not problems:
        return
    lines = [
        f"{qid} (column {col!r}): {value!r} in {count} row(s), e.g. respondent {preview(rows, 3)}"
        for qid, col, value, count, rows in problems[:8]
    ]
    more = f"\n  … and {len(problems) - 8} more" if len(problems) > 8 else ""
    where = instrument.path or "the instrument"
    kinds = {instrument.question(p[0]).scale: instrument.scales[instrument.question(p[0]).scale].is_categorical for p in problems}
    labelled = sorted(s for s, cat in kinds.items() if cat)
    numbers = sorted(s for s, cat in kinds.items() if not cat)
    fixes = []
    if labelled:
        fixes.append(f"add the text as a label of scale(s) {', '.join(labelled)} in {where}, list it under "
                     "missing_text: if it means no answer, or correct the data")
    if numbers:
        fixes.append(f"for number question(s) (scale(s) {', '.join(numbers)}): correct the cell to a number in the data "
                     f"(units such as {'/'.join(wjx.NUMBER_UNITS[:4])} and full-width digits are read already), or list "
                     f"the text under missing_text: of the scale in {where} if it means no answer")
    what = "answer text(s) match no label of their scale" if not numbers else (
        "answer(s) are not numbers" if not labelled else "answer(s) match no label of their scale or are not numbers")
    raise UnmappedAnswerError(f"{len(problems)} {what}:\n  " + "\n  ".join(lines) + more + "\nFix: " + "; ".join(fixes) + ".")


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
        if isinstance(code, str):  # a string variable: its labels are read as answer texts
            continue
        expected = index.get(normalize_text(text))
        if expected is not None and not (isinstance(expected, float) and math.isnan(expected)) and float(expected) != float(code):
            clashes.append(f"{code}={text!r} (instrument: {int(expected)})")
    if clashes:
        raise DataValidationError(
            f"Column {col!r} ({qid}) codes its labels differently from scale {scale.name!r}: {preview(clashes, 3)}. "
            "Fix: recode the variable to the instrument's codes, or correct the scale."
        )
