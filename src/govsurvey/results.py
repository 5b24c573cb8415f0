"""A small base for result objects.

Results are frozen, keyword-only dataclasses. Numbers are kept at full precision; rounding
happens only when a result is rendered. ``to_dict`` is JSON-safe (NaN becomes ``None``),
``__repr__`` is deterministic, and ``_repr_html_`` hands off to :mod:`govsurvey.report`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert numbers, arrays and pandas objects into plain JSON-safe Python values."""
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, pd.DataFrame):
        frame = value.copy()
        frame.columns = [str(c) for c in frame.columns]
        return {
            "index": [to_jsonable(i) for i in frame.index],
            "columns": list(frame.columns),
            "data": [[to_jsonable(v) for v in row] for row in frame.itertuples(index=False, name=None)],
        }
    if isinstance(value, pd.Series):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (int, str)):
        return value
    return str(value)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Result:
    """Base of govsurvey's result objects.

    Subclasses are declared with ``@dataclasses.dataclass(frozen=True, slots=True,
    kw_only=True, eq=False)`` and override :meth:`to_frame` where one table says it best.
    """

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-safe Python values (DataFrames as index/columns/data)."""
        return {name: to_jsonable(value) for name, value in self._fields().items()}

    def to_frame(self) -> pd.DataFrame:
        """The result's main table; by default the scalar fields as one row."""
        scalars = {
            k: v
            for k, v in self._fields().items()
            if not isinstance(v, (pd.DataFrame, pd.Series, Mapping, list, tuple, np.ndarray))
        }
        return pd.DataFrame([scalars])

    def __repr__(self) -> str:
        parts = []
        for name, value in self._fields().items():
            if isinstance(value, pd.DataFrame):
                parts.append(f"{name}=<DataFrame {value.shape[0]}×{value.shape[1]}>")
            elif isinstance(value, pd.Series):
                parts.append(f"{name}=<Series {len(value)}>")
            elif isinstance(value, float):
                parts.append(f"{name}={value:.6g}")
            elif isinstance(value, (list, tuple)) and len(value) > 6:
                parts.append(f"{name}=[{len(value)} entries]")
            else:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_html_(self) -> str:
        from govsurvey.report.html import render_result

        return render_result(self)
