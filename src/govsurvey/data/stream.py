"""Moments of files too large for memory, read in chunks (Parquet row groups, CSV chunks)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from govsurvey.errors import DataFormatError, InputFileNotFoundError, UnknownItemError
from govsurvey.moments import Moments

__all__ = ["moments_from_file"]


def moments_from_file(path: str | Path, columns: Sequence[str], *, chunk_rows: int = 100_000, encoding: str | None = None) -> Moments:
    """One pass over a Parquet or CSV file in bounded memory (``chunk_rows`` rows at a time).

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
        raise InputFileNotFoundError(f"{p} does not exist.")
    cols = list(columns)
    if p.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        import numpy as np

        try:
            # no pre-buffering and a small read buffer: memory stays at a few batches, whatever the file size
            pf = pq.ParquetFile(p, pre_buffer=False, memory_map=False, buffer_size=1 << 20)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError
            raise DataFormatError(f"{p} is not a readable Parquet file ({exc}).") from None
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
        try:
            reader = pd.read_csv(p, sep=sep, usecols=cols, chunksize=chunk_rows, encoding=encoding or "utf-8-sig")
            return Moments.from_chunks(reader, cols)
        except ValueError as exc:
            if "Usecols" in str(exc) or "usecols" in str(exc):
                raise UnknownItemError(f"{p} lacks some of the columns {cols}.") from None
            raise DataFormatError(f"{p} cannot be read as CSV: {exc}.") from None
    raise DataFormatError(f"moments_from_file reads .parquet, .csv or .tsv, not {p.suffix!r}.")
