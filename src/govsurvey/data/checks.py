"""Checks shared by every stage: on numeric values, and on input files before they are read.

The input-file limits are module-level constants. A file over a limit is refused with an
error naming the limit; for a trusted file, raise the limit by setting the constant here
(e.g. ``govsurvey.data.checks.MAX_COLUMNS = 50_000``) before reading.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pandas as pd

from govsurvey.errors import (
    DataFormatError,
    DataValidationError,
    GovsurveyError,
    InputFileNotFoundError,
    UnknownItemError,
    preview,
)

__all__ = ["MAX_ABS", "MIN_ABS", "MAX_COLUMNS", "MAX_CELL_CHARS", "MAX_XLSX_PART_BYTES", "check_finite_values",
           "check_unique_columns", "numeric_columns", "check_regular_file", "check_column_count", "check_xlsx"]

MAX_COLUMNS = 20_000
"""Most columns a data file may have (checked from the header before the body is parsed)."""
MAX_CELL_CHARS = 1_000_000
"""Most characters in one cell (or shared string) of an ``.xlsx`` workbook."""
MAX_XLSX_PART_BYTES = 200_000_000
"""Most bytes one part of an ``.xlsx`` workbook (a sheet, the shared strings) may unpack to."""

# Squares and cross-products of values beyond this overflow double precision (max ≈ 1.8e308)
# once summed over cases, so variances, covariances and sums of squares become inf or NaN.
MAX_ABS = 1e150
# ... and squares of values all below this underflow to zero, so the variance vanishes.
MIN_ABS = 1e-150


def check_finite_values(x: np.ndarray, names: Sequence[str], what: str) -> None:
    """Raise :class:`DataValidationError` for ±inf, for values so large that second moments
    overflow, or for a column whose values are all so small (but not all zero) that they
    underflow. ``x`` is cases × variables (NaN allowed: missing); ``names`` label the columns."""
    if x.size == 0:
        return
    with np.errstate(invalid="ignore"):
        peak = np.nanmax(np.abs(x), axis=0, initial=0.0)
    tiny = (peak > 0) & (peak < MIN_ABS)
    if np.all(peak <= MAX_ABS) and not tiny.any():
        return
    for name, col, top in zip(names, x.T, peak):
        if np.isinf(col).any():
            raise DataValidationError(f"{what}: {str(name)!r} contains infinite values. Fix: correct or blank them.")
    if tiny.any():
        j = int(np.argmax(tiny))
        raise DataValidationError(
            f"{what}: {str(names[j])!r} has no value larger than {peak[j]:.3g} in magnitude; their squares underflow to zero "
            "in double precision, so its variance cannot be computed. Fix: rescale the variable (e.g. multiply by a power "
            "of ten) or correct the data."
        )
    j = int(np.argmax(peak))
    raise DataValidationError(
        f"{what}: {str(names[j])!r} has values as large as {peak[j]:.3g}; their squares overflow double precision, so "
        "variances and covariances cannot be computed. Fix: rescale the variable (e.g. divide by a power of ten) or "
        "correct the data."
    )


def numeric_columns(data: pd.DataFrame, columns: Sequence[str] | None, what: str, *, allow_bool: bool,
                    check_dtype: bool = True) -> list:
    """The columns a statistic uses: ``columns``, or every numeric one (booleans only with
    ``allow_bool``). Unknown, duplicated or (with ``check_dtype``) non-numeric names, or none at
    all, are errors; without ``check_dtype`` the caller converts text columns itself."""
    if columns is None:
        dtypes = [(c, t) for c, t in zip(data.columns, data.dtypes)]
        cols = list(dict.fromkeys(c for c, t in dtypes
                                  if pd.api.types.is_numeric_dtype(t) and (allow_bool or not pd.api.types.is_bool_dtype(t))))
    else:
        cols = list(columns)
        missing = [str(c) for c in cols if c not in data.columns]
        if missing:
            raise UnknownItemError(f"{what}: column(s) not in the data: {', '.join(missing)}.")
    check_unique_columns(data, cols, what)
    bad = [str(c) for c in cols if check_dtype and not pd.api.types.is_numeric_dtype(data[c].dtype)]
    if bad:
        raise DataValidationError(f"{what}: column(s) {', '.join(bad)} are not numeric. Fix: pass numeric columns (scores or codes).")
    if not cols:
        raise DataValidationError(
            f"{what}: the data have no numeric columns (columns: {preview([str(c) for c in data.columns])}). "
            "Fix: read the responses with their instrument so answers become codes, or convert the columns to numbers."
        )
    return cols


def check_unique_columns(data: pd.DataFrame, columns: Sequence, what: str) -> None:
    """Raise :class:`DataValidationError` when a name in ``columns`` labels more than one column
    of ``data`` (pandas then returns a table where a column is expected)."""
    if data.columns.is_unique:
        return
    repeated = set(data.columns[data.columns.duplicated()])
    dup = [str(c) for c in dict.fromkeys(columns) if c in repeated]
    if dup:
        raise DataValidationError(f"{what}: column name(s) {', '.join(dup)} appear more than once, so it is ambiguous which "
                                  "to use. Fix: rename or drop the duplicated columns.")


def check_regular_file(path: Path, noun: str = "Data file", error: type[GovsurveyError] = DataFormatError) -> None:
    """Refuse a path that is not a regular file (a folder, FIFO, device or socket) before it is
    opened: reading a FIFO waits forever and a device such as ``/dev/zero`` never ends.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_regular_file(pathlib.Path(tempfile.mkdtemp()))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    govsurvey.errors.DataFormatError: Data file ... is a folder, not a file. Fix: name the file inside it.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputFileNotFoundError(f"{noun} {path} does not exist. Fix: check the path.") from None
    except (OSError, ValueError) as exc:      # ValueError: a NUL byte in the path
        raise error(f"{noun} {path!r} cannot be opened ({getattr(exc, 'strerror', None) or exc}). "
                    "Fix: check the path and its permissions.") from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise error(f"{noun} {path} is a folder, not a file. Fix: name the file inside it.")
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a special file")
    raise error(f"{noun} {path} is {kind}, not a regular file, so govsurvey does not read it (reading a FIFO waits for a "
                "writer forever, a device never ends). Fix: save the data to an ordinary file and give its path.")


def check_column_count(n_columns: int, where: str, error: type[GovsurveyError] = DataFormatError) -> None:
    """Refuse a table with more than :data:`MAX_COLUMNS` columns (before its body is parsed).

    >>> check_column_count(3, "x.csv")
    """
    if n_columns > MAX_COLUMNS:
        raise error(
            f"{where} has {n_columns:,} columns; govsurvey reads at most {MAX_COLUMNS:,} (the limit MAX_COLUMNS in "
            "govsurvey.data.checks). Fix: keep only the survey's columns (split the file), or for a trusted file "
            "raise govsurvey.data.checks.MAX_COLUMNS."
        )


def check_xlsx(path: Path, error: type[GovsurveyError] = DataFormatError) -> None:
    """Refuse an ``.xlsx`` workbook that would exhaust memory when loaded: a part (sheet, shared
    strings, styles) unpacking to more than :data:`MAX_XLSX_PART_BYTES`, a cell or shared string
    over :data:`MAX_CELL_CHARS` characters, a cell beyond column :data:`MAX_COLUMNS`, or XML
    with a DTD (entity expansion). The sheets are streamed, never held in memory whole.

    A file that is not a zip archive is left for the Excel reader to report.

    >>> import govsurvey as gs
    >>> check_xlsx(gs.datasets.example_files()["xlsx"])
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        for member in archive.infolist():
            if member.file_size > MAX_XLSX_PART_BYTES:
                raise error(
                    f"{path}: the workbook part {member.filename} unpacks to {member.file_size:,} bytes, more than the "
                    f"{MAX_XLSX_PART_BYTES:,} govsurvey reads (the limit MAX_XLSX_PART_BYTES in govsurvey.data.checks). "
                    "Fix: split the data over several files or export CSV; for a trusted file raise the limit."
                )
        for member in archive.infolist():
            name = member.filename
            if name.endswith(".xml") and (name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"):
                _scan_xml(archive, member, path, error)


class _XmlScan:
    """Counts characters per cell (``c``) or shared string (``si``) as the XML streams past."""

    def __init__(self, where: str, error: type[GovsurveyError]) -> None:
        self.where, self.error = where, error
        self.inside = 0
        self.chars = 0
        self.ref = ""

    def start(self, name: str, attrs: dict) -> None:
        local = name.rsplit(":", 1)[-1]
        if local in ("c", "si"):
            if not self.inside:
                self.chars = 0
                self.ref = attrs.get("r", "") if local == "c" else "a shared string"
                if self.ref and local == "c":
                    self._column(self.ref)
            self.inside += 1
        elif not self.inside:
            self.chars = 0

    def end(self, name: str) -> None:
        if name.rsplit(":", 1)[-1] in ("c", "si"):
            self.inside -= 1

    def text(self, data: str) -> None:
        self.chars += len(data)
        if self.chars > MAX_CELL_CHARS:
            what = f"cell {self.ref}" if self.inside and self.ref != "a shared string" else (self.ref or "text")
            raise self.error(
                f"{self.where}: {what} holds more than {MAX_CELL_CHARS:,} characters (the limit MAX_CELL_CHARS in "
                "govsurvey.data.checks). Fix: shorten or delete that cell in Excel, or export CSV; for a trusted "
                "file raise the limit."
            )

    def _column(self, ref: str) -> None:
        col = 0
        for ch in ref:
            if not ("A" <= ch <= "Z"):
                break
            col = col * 26 + ord(ch) - 64
            if col > MAX_COLUMNS:
                check_column_count(col, f"{self.where} (cell {ref})", self.error)


def _refuse_dtd(*_args) -> None:
    raise _DtdError()


class _DtdError(Exception):
    pass


def _scan_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path, error: type[GovsurveyError]) -> None:
    where = f"{path} ({member.filename})"
    scan = _XmlScan(where, error)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    try:
        with archive.open(member) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _DtdError:
        raise error(f"{where} declares a DTD, which workbooks do not use and which can expand entities without "
                    "bound. Fix: re-save the file in Excel.") from None
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError,
            NotImplementedError) as exc:  # corrupt, encrypted or oddly compressed parts
        raise error(f"{where} is not a readable .xlsx part ({type(exc).__name__}: {exc}). "
                    "Fix: open and re-save the file in Excel, or export CSV.") from None
