"""Moments of files too large for memory, read in chunks (Parquet row groups, CSV chunks)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from govsurvey.data import checks
from govsurvey.errors import DataFormatError, InputFileNotFoundError, UnknownItemError
from govsurvey.moments import Moments

__all__ = ["moments_from_file"]


def moments_from_file(path: str | Path, columns: Sequence[str], *, chunk_rows: int = 100_000, encoding: str | None = None) -> Moments:
    """One pass over a Parquet or CSV file in bounded memory (``chunk_rows`` rows at a time).

    Folders, FIFOs and devices are refused, and so is a file wider than
    :data:`govsurvey.data.checks.MAX_COLUMNS` columns (checked from its header).

    Examples
    --------
    >>> import govsurvey as gs, pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.parquet"
    >>> pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 4, 7]}).to_parquet(path)
    >>> gs.data.moments_from_file(path, ["a", "b"]).n
    3
    """
    p = Path(path)
    if not p.exists():
        raise InputFileNotFoundError(f"{p} does not exist. Check the path (relative paths start from {Path.cwd()}).")
    checks.check_regular_file(p)
    cols = list(columns)
    if p.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        import numpy as np

        try:
            # no pre-buffering and a small read buffer: memory stays at a few batches, whatever the file size
            pf = pq.ParquetFile(p, pre_buffer=False, memory_map=False, buffer_size=1 << 20)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError
            raise DataFormatError(f"{p} is not a readable Parquet file ({exc}). Fix: re-write it with pandas or pyarrow.") from None
        checks.check_column_count(len(pf.schema_arrow.names), str(p))
        missing = [c for c in cols if c not in pf.schema_arrow.names]
        if missing:
            raise UnknownItemError(f"{p} has no column(s) {', '.join(missing)}.")

        def arrays():
            for batch in pf.iter_batches(batch_size=chunk_rows, columns=cols):
                x = np.column_stack([batch.column(k).to_numpy(zero_copy_only=False).astype(float, copy=False) for k in range(len(cols))])
                del batch
                yield x

        return Moments.from_chunks(arrays(), cols)
    if p.suffix.lower() in (".csv", ".tsv"):
        import pandas as pd

        sep = "\t" if p.suffix.lower() == ".tsv" else ","
        _check_csv_header(p, sep, encoding or "utf-8-sig")
        try:
            reader = pd.read_csv(p, sep=sep, usecols=cols, chunksize=chunk_rows, encoding=encoding or "utf-8-sig")
            return Moments.from_chunks(reader, cols)
        except ValueError as exc:
            if "Usecols" in str(exc) or "usecols" in str(exc):
                raise UnknownItemError(f"{p} lacks some of the columns {cols}.") from None
            raise DataFormatError(f"{p} cannot be read as CSV: {exc}. Fix: check the delimiter, quoting and encoding=.") from None
    raise DataFormatError(f"moments_from_file reads .parquet, .csv or .tsv, not {p.suffix!r}. Fix: convert the file to Parquet or CSV.")


def _check_csv_header(p: Path, sep: str, encoding: str) -> None:
    """Count the header's fields (one record, read lazily) before pandas parses the file."""
    import csv

    try:
        with open(p, encoding=encoding, newline="") as fh:
            header = next(csv.reader(fh, delimiter=sep), [])
    except (csv.Error, UnicodeDecodeError, LookupError) as exc:
        raise DataFormatError(f"{p}: the header line cannot be read ({exc}). Fix: check the delimiter, quoting and encoding=.") from None
    checks.check_column_count(len(header), str(p))
