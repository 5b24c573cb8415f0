"""Read survey responses from the files researchers have, and map them onto an instrument."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.data.encoding import decode_bytes
from govsurvey.data.files import sha256_file
from govsurvey.data import wenjuanxing as wjx
from govsurvey.errors import (
    DataFormatError,
    DataValidationError,
    InputFileNotFoundError,
    UnknownItemError,
    UnmappedAnswerError,
    preview,
)
from govsurvey.instrument.model import Instrument, Scale, normalize_text

__all__ = ["read_responses", "read_table"]

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".sav", ".zsav", ".dta", ".parquet")
ID_NAMES = ("respondent", "respondent_id", "id", "ID", "Id", "编号", "序号")


def read_table(path: Path, *, encoding: str | None = None, sheet: str | int | None = None) -> tuple[pd.DataFrame, dict]:
    """Read a file into a raw table (cells as read) and a dict of facts about it."""
    suffix = path.suffix.lower()
    info: dict[str, Any] = {"path": str(path), "format": suffix.lstrip(".")}
    if suffix in (".csv", ".tsv", ".txt"):
        data = path.read_bytes()
        text, used = decode_bytes(data, encoding=encoding, name=str(path))
        info["encoding"] = used
        sep = "\t" if suffix == ".tsv" or (suffix == ".txt" and "\t" in text.split("\n", 1)[0]) else ","
        try:
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataFormatError(f"{path} cannot be read as {'TSV' if sep == chr(9) else 'CSV'}: {exc}. Fix: check the delimiter and quoting.") from None
        return frame.astype(object), info
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object, engine="openpyxl")
        except ValueError as exc:
            if "Worksheet" in str(exc) or "not found" in str(exc):
                raise DataFormatError(f"{path} has no sheet {sheet!r}. Fix: pass sheet= with one of its sheet names.") from None
            raise DataFormatError(f"{path} cannot be read as Excel: {exc}.") from None
        except Exception as exc:  # openpyxl raises zipfile/KeyError/etc. on broken files
            raise DataFormatError(f"{path} is not a readable .xlsx workbook ({type(exc).__name__}: {exc}). Fix: open and re-save it in Excel, or export CSV.") from None
        return frame, info
    if suffix in (".sav", ".zsav", ".dta"):
        import pyreadstat

        reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
        try:
            frame, meta = reader(str(path), user_missing=False)
        except Exception as exc:  # pyreadstat raises its own ReadstatError and OSError
            raise DataFormatError(f"{path} is not a readable {suffix} file ({exc}). Fix: re-save it from SPSS/Stata.") from None
        info["value_labels"] = dict(meta.variable_value_labels or {})
        info["column_labels"] = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
        info["user_missing"] = {k: v for k, v in (getattr(meta, "missing_ranges", None) or {}).items()}
        return frame, info
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError
            raise DataFormatError(f"{path} is not a readable Parquet file ({exc}).") from None
        return frame, info
    raise DataFormatError(
        f"Cannot read {path}: files ending {suffix or '(none)'!r} are not supported. "
        f"Fix: give one of {', '.join(SUFFIXES)}, or a pandas DataFrame."
    )


def read_responses(
    source: str | Path | pd.DataFrame,
    instrument: Instrument | None = None,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    id_column: str | None = None,
    mapping: Mapping[str, str] | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Read responses and map them onto an instrument.

    Parameters
    ----------
    source
        A path (``.csv .tsv .xlsx .sav .dta .parquet``) or a DataFrame. Never modified.
    instrument
        When given, columns are matched to questions by id, by question text (any language,
        ignoring punctuation and spacing; Wenjuanxing ``N、题干`` and matrix headers are
        understood) or by ``mapping``; text answers become codes through the scale labels;
        missing codes become NaN.
    encoding
        For CSV/TSV; detected when omitted (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030).
    sheet
        Excel sheet name or position (default: the first).
    id_column
        Column holding the respondent id. Default: Wenjuanxing ``序号``, or a column named
        ``respondent``/``id``/``编号``; otherwise respondents are numbered from 1.
    mapping
        Column header → question id, for columns that cannot be matched by id or text.
    strict
        Raise instead of warning when a column matches no question or a question has no column.

    Returns
    -------
    DataFrame
        Index ``respondent``; one column per matched question (instrument order, codes as
        float, text questions as strings), then Wenjuanxing meta columns (``_seconds``,
        ``_submitted``, ``_ip``, ``_channel``), then unmatched columns under their own
        headers. ``df.attrs["govsurvey"]`` records the source, its SHA-256, the format,
        the encoding, the column matches and what was left unmatched. Out-of-range codes
        are kept, for :func:`govsurvey.screen` to report.

    Raises
    ------
    UnmappedAnswerError
        A text answer matches no label of its question's scale (all of them are listed).
    UnknownItemError
        ``mapping`` or ``id_column`` name a column or question that does not exist.
    EncodingDetectionError, DataFormatError, InputFileNotFoundError

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> df = gs.read_responses(gs.datasets.example_files()["xlsx"], inst)
    >>> df.loc[1, "gender"] in (1.0, 2.0)
    True
    """
    if isinstance(source, pd.DataFrame):
        raw = source.copy()
        info: dict[str, Any] = {"path": None, "format": "dataframe"}
    else:
        path = Path(source)
        if not path.exists():
            raise InputFileNotFoundError(f"Data file {path} does not exist. Check the path (relative paths start from {Path.cwd()}).")
        if path.is_dir():
            raise DataFormatError(f"{path} is a folder, not a data file. Fix: name the file inside it.")
        raw, info = read_table(path, encoding=encoding, sheet=sheet)
        info["sha256"] = sha256_file(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    if len(set(raw.columns)) != len(raw.columns):
        dup = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
        raise DataFormatError(f"The data have repeated column headers: {preview(dup)}. Fix: give every column a unique header.")
    if raw.shape[0] == 0:
        raise DataValidationError(f"The data ({info.get('path') or 'DataFrame'}) have no rows. Fix: check the file and sheet.")

    is_wjx = wjx.is_wenjuanxing(list(raw.columns))
    info["wenjuanxing"] = is_wjx
    index = _respondent_index(raw, id_column, is_wjx)
    raw.index = index

    headers = wjx.parse_headers(list(raw.columns)) if is_wjx else [
        wjx.HeaderInfo(c, None, (c,)) for c in raw.columns
    ]
    meta = wjx.convert_meta(raw) if is_wjx else pd.DataFrame(index=raw.index)
    skip_cols = set(wjx.META_COLUMNS) if is_wjx else set()
    if id_column is not None:
        skip_cols.add(id_column)
    elif not is_wjx:
        for name in ID_NAMES:
            if name in raw.columns:
                skip_cols.add(name)
                break

    if instrument is None:
        out = raw.drop(columns=[c for c in raw.columns if c in skip_cols])
        out = pd.concat([out, meta], axis=1)
        out.attrs["govsurvey"] = info
        return out

    matches = _match_columns(raw, headers, instrument, mapping or {}, skip_cols, info)
    unmatched = [c for c in raw.columns if c not in matches and c not in skip_cols]
    missing_questions = [q.id for q in instrument.questions if q.id not in matches.values()]
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

    extra_missing = set(wjx.SKIP_CODES) if is_wjx else set()
    extra_texts = wjx.SKIP_TEXTS if is_wjx else ()
    by_id = {v: k for k, v in matches.items()}
    columns: dict[str, pd.Series] = {}
    problems: list[tuple[str, str, Any, int, list]] = []
    for q in instrument.questions:
        if q.id not in by_id:
            continue
        col = by_id[q.id]
        scale = instrument.scales[q.scale]
        _check_value_labels(info, col, q.id, scale)
        series, bad = _convert(raw[col], scale, extra_missing, extra_texts)
        columns[q.id] = series
        for value, rows in bad.items():
            problems.append((q.id, col, value, len(rows), rows))
    if problems:
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
    out = pd.DataFrame(columns, index=raw.index)
    out = pd.concat([out, meta, raw[unmatched]], axis=1)
    out.index.name = "respondent"
    out.attrs["govsurvey"] = info
    return out


def _respondent_index(raw: pd.DataFrame, id_column: str | None, is_wjx: bool) -> pd.Index:
    col = id_column
    if col is not None and col not in raw.columns:
        raise UnknownItemError(f"id_column={col!r} is not a column of the data. Columns include: {preview(list(raw.columns))}.")
    if col is None:
        if is_wjx:
            col = "序号"
        else:
            col = next((n for n in ID_NAMES if n in raw.columns), None)
    if col is None:
        return pd.RangeIndex(1, raw.shape[0] + 1, name="respondent")
    values = raw[col]
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and (numeric == np.floor(numeric)).all():
        values = numeric.astype("int64")
    else:
        values = values.astype("string").str.strip()
    if values.isna().any():
        raise DataValidationError(f"Respondent id column {col!r} has empty cells in rows {preview(list(np.flatnonzero(values.isna()) + 1))}. Fix: fill them or pass id_column= with another column.")
    dup = values[values.duplicated(keep=False)]
    if len(dup):
        raise DataValidationError(
            f"Respondent id column {col!r} repeats ids: {preview(sorted(set(dup.tolist()), key=str))}. "
            "Fix: make ids unique, or pass id_column= naming a unique column."
        )
    return pd.Index(values.to_numpy(), name="respondent")


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


def _convert(values: pd.Series, scale: Scale, extra_missing: set, extra_texts: tuple) -> tuple[pd.Series, dict]:
    """Cells → codes (float) or text; returns the series and unmapped value → respondent ids."""
    bad: dict[Any, list] = {}
    if scale.type == "text":
        out = values.map(lambda v: None if _blank(v) else str(v).strip()).astype("string")
        return out, bad
    missing = set(scale.missing) | extra_missing
    index = scale.label_index() if scale.labels or scale.missing_text else {}
    for t in extra_texts:
        index.setdefault(normalize_text(t), float("nan"))
    result = np.empty(len(values), dtype=float)
    for k, (rid, v) in enumerate(values.items()):
        if _blank(v):
            result[k] = np.nan
            continue
        num = _number(v)
        if num is None:
            text = str(v)
            if "〖" in text:  # Wenjuanxing: an option with its fill-in, 其他〖退休职工〗 → 其他
                text = text.split("〖", 1)[0]
            key = normalize_text(text)
            if key in index:
                result[k] = index[key]
                continue
            bad.setdefault(str(v).strip(), []).append(rid)
            result[k] = np.nan
            continue
        result[k] = np.nan if num in missing else num
    return pd.Series(result, index=values.index, name=values.name), bad


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
