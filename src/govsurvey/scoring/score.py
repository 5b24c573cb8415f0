"""Reverse-code and score responses by an instrument's constructs."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from govsurvey.data.checks import check_finite_values
from govsurvey.data.options import choice, real_number
from govsurvey.errors import DataValidationError, OutOfRangeError, SpecificationError, UnknownItemError, preview
from govsurvey.instrument.model import Instrument

__all__ = ["reverse_code", "score", "check_codes", "item_frame", "score_importance"]


def item_frame(data: pd.DataFrame, instrument: Instrument, ids: Iterable[str], *, what: str = "scoring") -> pd.DataFrame:
    """The named item columns as float, with clear errors for absent or non-numeric columns."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}. Fix: read it with gs.read_responses.")
    ids = list(ids)
    absent = [i for i in ids if i not in data.columns]
    if absent:
        where = f" Check {instrument.path}." if instrument.path else ""
        raise UnknownItemError(
            f"{what} needs {len(absent)} item column(s) not in the data: {preview(absent)}.{where} "
            "Fix: read the data with gs.read_responses(path, instrument) so columns carry item ids, or pass mapping=."
        )
    out = {}
    for i in ids:
        col = data[i]
        if isinstance(col, pd.DataFrame):
            raise DataValidationError(f"Column {i!r} appears more than once in the data. Fix: keep one.")
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            converted = pd.to_numeric(col, errors="coerce")
            bad = col[converted.isna() & col.notna()]
            if len(bad):
                raise DataValidationError(
                    f"Item {i!r} has non-numeric values: {preview(sorted(set(map(str, bad.tolist()))))} "
                    f"(respondent {preview(bad.index.tolist(), 3)}). Fix: read the data with the instrument so labels become codes."
                )
            col = converted
        values = col.astype(float)
        check_finite_values(values.to_numpy()[:, None], [i], "score")
        out[i] = values
    return pd.DataFrame(out, index=data.index)


def check_codes(items: pd.DataFrame, instrument: Instrument) -> None:
    """Raise :class:`OutOfRangeError` listing every cell outside its scale's codes."""
    bad = []
    for col in items.columns:
        scale = instrument.scale_of(col)
        values = items[col]
        if scale.type in ("likert", "ordinal", "nominal"):
            ok = values.isna() | values.isin([float(c) for c in scale.codes])
        elif scale.type == "numeric":
            ok = values.isna() | (
                (values >= (scale.min if scale.min is not None else -np.inf))
                & (values <= (scale.max if scale.max is not None else np.inf))
            )
        else:
            continue
        for rid, v in values[~ok].items():
            bad.append((col, rid, v))
    if bad:
        shown = "; ".join(f"{c}={v:g} (respondent {r})" for c, r, v in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise OutOfRangeError(
            f"{len(bad)} value(s) lie outside their scale's codes: {shown}{more}. "
            "Fix: run gs.screen(data, instrument) and score .clean, or correct the data."
        )


def reverse_code(data: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Reverse-keyed items as (scale min + scale max − x); other columns unchanged.

    Reverse-keyed items absent from ``data`` are skipped (score a subset freely); values
    outside the scale raise :class:`OutOfRangeError` rather than being reversed into
    nonsense.

    Examples
    --------
    >>> import pandas as pd, govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> gs.reverse_code(pd.DataFrame({"PL4": [1.0, 5.0]}), inst)["PL4"].tolist()
    [5.0, 1.0]
    """
    ids = [i for i in instrument.reverse_keyed if isinstance(data, pd.DataFrame) and i in data.columns]
    items = item_frame(data, instrument, ids, what="reverse_code")
    check_codes(items, instrument)
    out = data.copy()
    for i in ids:
        sc = instrument.scale_of(i)
        out[i] = sc.min + sc.max - items[i]
    return out


def score(
    data: pd.DataFrame,
    instrument: Instrument,
    *,
    method: str = "mean",
    min_valid: float = 0.8,
    constructs: Iterable[str] | None = None,
    higher_order: str = "items",
) -> pd.DataFrame:
    """Construct scores, one column per construct (higher-order constructs included).

    Parameters
    ----------
    data
        Responses with item-id columns (raw keying: reverse keys are applied here).
    method
        ``"mean"`` (the item mean) or ``"sum"`` (prorated: the item mean × the number of items,
        so a respondent with one missing item is not scored lower).
    min_valid
        The share of a construct's items that must be present, in (0, 1]; else the score is NaN.
    constructs
        Which constructs to score (default: all, in instrument order).
    higher_order
        ``"items"``: a higher-order score is computed over all items of its children (as
        :meth:`Instrument.items_of`); ``"dimensions"``: the mean of its children's scores,
        weighting each dimension equally.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.read_responses(gs.datasets.example_files()["sav"], inst)
    >>> scores = gs.score(gs.screen(data, inst).clean, inst)
    >>> bool(scores["reserves"].dropna().between(1, 5).all())
    True
    """
    method = choice(method, "method", ("mean", "sum"), where="score")
    min_valid = real_number(min_valid, "min_valid", low=0, high=1, inclusive=(False, True), what="a share", example=0.8,
                            where="score")
    higher_order = choice(higher_order, "higher_order", ("items", "dimensions"), where="score")
    names = list(instrument.constructs) if constructs is None else list(constructs)
    for n in names:
        instrument._construct(n)  # raises UnknownItemError with the known names
    needed = list(dict.fromkeys(i for n in names for i in instrument.items_of(n)))
    items = item_frame(data, instrument, needed, what="score")
    check_codes(items, instrument)
    keyed = reverse_code(items, instrument)

    def one(ids: list[str]) -> pd.Series:
        block = keyed[ids]
        present = block.notna().sum(axis=1)
        mean = block.mean(axis=1, skipna=True)
        mean[present < min_valid * len(ids) - 1e-9] = np.nan
        return mean * len(ids) if method == "sum" else mean

    out: dict[str, pd.Series] = {}

    def compute(name: str) -> pd.Series:
        if name in out:
            return out[name]
        c = instrument.constructs[name]
        if c.children and higher_order == "dimensions":
            kids = pd.concat([compute(ch) for ch in c.children], axis=1)
            s = kids.sum(axis=1, min_count=kids.shape[1]) if method == "sum" else kids.mean(axis=1, skipna=False)
        else:
            s = one(instrument.items_of(name))
        out[name] = s
        return s

    for n in names:
        compute(n)
    return pd.DataFrame({n: out[n] for n in names}, index=data.index)


def score_importance(data: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """The importance ratings of the instrument's dimensions, one column per dimension
    (``importance:`` items), ready for :func:`govsurvey.capacity_gaps`.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> clean = gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean
    >>> list(gs.score_importance(clean, inst).columns)[:2]
    ['plans', 'reserves']
    """
    mapping = instrument.importance_items
    if not mapping:
        raise UnknownItemError(f"Instrument {instrument.name!r} declares no importance items. Fix: add an importance: section.")
    items = item_frame(data, instrument, list(mapping.values()), what="score_importance")
    check_codes(items, instrument)
    return pd.DataFrame({dim: items[item] for dim, item in mapping.items()}, index=data.index)
