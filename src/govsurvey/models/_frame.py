"""Model frames: the columns a model uses, checked, with listwise deletion that is reported."""

from __future__ import annotations

import dataclasses

import pandas as pd

from govsurvey.data.checks import check_finite_values, check_unique_columns
from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError
from govsurvey.models.formula import parse_formula

__all__ = ["ModelFrame", "model_frame", "formula_variables", "levels_in_order"]


@dataclasses.dataclass(frozen=True)
class ModelFrame:
    data: pd.DataFrame
    n: int
    n_dropped: int
    dropped: dict[str, int]   # column → rows it made incomplete
    empty_levels: dict[str, list[str]] = dataclasses.field(default_factory=dict)   # categorical column → unused levels

    def note(self) -> str | None:
        notes = []
        if self.n_dropped:
            parts = ", ".join(f"{c}: {k}" for c, k in self.dropped.items() if k)
            notes.append(f"{self.n_dropped} of {self.n + self.n_dropped} rows had missing values and were left out "
                         f"(listwise; missing by column — {parts}).")
        for c, levels in self.empty_levels.items():
            notes.append(f"Level(s) {', '.join(levels)} of {c!r} have no cases here and were left out.")
        return " ".join(notes) or None


def formula_variables(formula: str, data: pd.DataFrame) -> list[str]:
    """Columns a model formula uses, the outcome's first, each once (see
    :mod:`govsurvey.models.formula` for the grammar; nothing in it is evaluated).

    Raises :class:`SpecificationError` for text outside the grammar and
    :class:`UnknownItemError` for columns not in ``data``.

    >>> import pandas as pd
    >>> formula_variables('y ~ x * C(g) + Q("a b")', pd.DataFrame(columns=["y", "x", "g", "a b"]))
    ['y', 'x', 'g', 'a b']
    """
    parsed = parse_formula(formula)
    parsed.check_columns(data)
    return parsed.variables


def model_frame(data: pd.DataFrame, columns: list[str], *, what: str, numeric: list[str] | None = None,
                min_n: int = 3, complete_on: list[str] | None = None) -> ModelFrame:
    """The model's columns (numeric ones converted and checked), rows with a missing value in
    ``complete_on`` (default: every column) left out and counted."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}.")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise UnknownItemError(f"{what}: column(s) not in the data: {', '.join(missing)}.")
    check_unique_columns(data, columns, what)
    frame = data[list(dict.fromkeys(columns))].copy()
    for c in numeric if numeric is not None else []:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s):
            frame[c] = s.astype(float)
            continue
        if not pd.api.types.is_numeric_dtype(s):
            conv = pd.to_numeric(s, errors="coerce")
            bad = s[conv.isna() & s.notna()]
            if len(bad):
                raise DataValidationError(
                    f"{what}: {c!r} has non-numeric values ({', '.join(map(repr, sorted(set(map(str, bad)))[:5]))}). "
                    "Fix: recode it, or mark it categorical with C(name) in the formula."
                )
            frame[c] = conv
        check_finite_values(frame[c].to_numpy(dtype=float)[:, None], [c], what)
    dropped = {c: int(frame[c].isna().sum()) for c in frame.columns}
    complete = frame.dropna(subset=complete_on)
    n_dropped = frame.shape[0] - complete.shape[0]
    if complete.shape[0] < min_n:
        raise DataValidationError(f"{what}: only {complete.shape[0]} {'complete ' if complete_on is None else ''}rows; "
                                  f"at least {min_n} are needed.")
    empty: dict[str, list[str]] = {}
    for c in complete.columns:
        if isinstance(complete[c].dtype, pd.CategoricalDtype):
            unused = [str(v) for v in complete[c].cat.categories if not (complete[c] == v).any()]
            if unused:      # an empty group: no cases, so no contrast, mean or variance to estimate
                complete = complete.assign(**{c: complete[c].cat.remove_unused_categories()})
                empty[str(c)] = unused
    return ModelFrame(data=complete, n=int(complete.shape[0]), n_dropped=int(n_dropped), dropped=dropped, empty_levels=empty)


def levels_in_order(series: pd.Series) -> list:
    """The distinct non-missing values of ``series`` in the order models use them.

    A pandas Categorical (ordered or not) keeps its own category order, as an R factor keeps
    its levels — ``Low < Medium < High`` stays so and is never sorted to High, Low, Medium;
    categories with no cases are left out. Any other column's values are sorted (numbers
    ascending, text alphabetically).

    >>> import pandas as pd
    >>> levels_in_order(pd.Series(pd.Categorical(["High", "Low", "Medium"], categories=["Low", "Medium", "High"])))
    ['Low', 'Medium', 'High']
    >>> levels_in_order(pd.Series(["b", "a", None, "b"]))
    ['a', 'b']
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    values = list(pd.unique(series.dropna()))
    try:
        return sorted(values)
    except TypeError:       # mixed types in an object column: group by type, then sort
        return sorted(values, key=lambda v: (str(type(v)), v))
