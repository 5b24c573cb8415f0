"""Checked options: the one place that says which numbers and choices the public functions accept.

Every public function (and the study specification) checks its numeric and named options
here, so ``n_factors=np.int64(3)`` is accepted wherever ``3`` is, ``True`` is never taken
for 1, NaN and infinity never pass as a bound, and every refusal is a
:class:`~govsurvey.errors.SpecificationError` that names the option, the value given and
what is allowed.

Examples
--------
>>> import numpy as np
>>> from govsurvey.data.options import choice, real_number, seed_value, whole_number
>>> whole_number(np.int64(3), "n_factors", low=1)
3
>>> real_number(0.95, "ci", low=0, high=1, inclusive=False, what="a level")
0.95
>>> seed_value(None) is None
True
>>> choice("ml", "method", ("minres", "ml", "pa", "pc"))
'ml'
>>> choice("minre", "method", ("minres", "ml", "pa", "pc"))
Traceback (most recent call last):
...
govsurvey.errors.SpecificationError: method='minre' is not known. Fix: use one of 'minres', 'ml', 'pa', 'pc' (did you mean 'minres'?).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Collection
from typing import Any

import numpy as np

from govsurvey.errors import SpecificationError

__all__ = ["MAX_BOOT", "MAX_ITER", "MAX_SEED", "whole_number", "real_number", "seed_value", "choice", "shown"]

MAX_BOOT = 100_000          # bootstrap resamples: more only costs memory and time
MAX_ITER = 10_000           # simulated data sets (parallel analysis)
MAX_SEED = 2**32 - 1        # seeds every tool (R's set.seed, numpy's legacy RandomState) can reproduce


def shown(value: Any) -> str:
    """``repr`` of an option's value for a message; numpy scalars shown as the Python value.

    >>> shown(np.float64(0.5)), shown("ml")
    ('0.5', "'ml'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bound(x: float) -> str:
    return f"{x:,}".replace(",", "_") if isinstance(x, int) and abs(x) >= 100_000 else f"{x:g}"


def _range_text(low: float | None, high: float | None, inclusive: tuple[bool, bool]) -> str:
    lo_in, hi_in = inclusive
    if low is not None and high is not None:
        if lo_in and hi_in:
            return f" from {_bound(low)} to {_bound(high)}"
        if not lo_in and not hi_in:
            return f" between {_bound(low)} and {_bound(high)}"
        return f" in {'[' if lo_in else '('}{_bound(low)}, {_bound(high)}{']' if hi_in else ')'}"
    if low is not None:
        return f" {'≥' if lo_in else '>'} {_bound(low)}"
    if high is not None:
        return f" {'≤' if hi_in else '<'} {_bound(high)}"
    return ""


def _refuse(name: str, value: Any, what: str, rng: str, why: str, example: Any, where: str | None) -> SpecificationError:
    prefix = f"{where}: " if where else ""
    eg = f", e.g. {name}={shown(example)}" if example is not None else ""
    return SpecificationError(f"{prefix}{name}={shown(value)} must be {what}{rng}{eg}{why}.")


def _kind(value: Any) -> str:
    """Why a value is not a number at all ('' when it is a real number)."""
    if isinstance(value, (bool, np.bool_)):
        return " (True/False is not a number)"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return " (text is not a number)"
        return f" (text is not a number: write {value.strip()} without quotes)"
    if not isinstance(value, numbers.Real):
        return f" (got a {type(value).__name__})"
    return ""


def _inclusive(inclusive: bool | tuple[bool, bool]) -> tuple[bool, bool]:
    return (inclusive, inclusive) if isinstance(inclusive, bool) else (bool(inclusive[0]), bool(inclusive[1]))


def real_number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                inclusive: bool | tuple[bool, bool] = True, what: str = "a number", example: Any = None,
                where: str | None = None, none_ok: bool = False, none_means: str | None = None,
                note: str = "") -> float | None:
    """``value`` as a Python float, or a :class:`SpecificationError` naming ``name``.

    Accepts Python and numpy integers and floats; refuses bools, text, NaN, infinity and
    values outside ``low``–``high`` (``inclusive``: one bool for both ends, or a pair).
    ``None`` passes through when ``none_ok`` or ``none_means`` (what None does, said in
    the message). ``where`` (a function name) starts the message, ``note`` follows the
    allowed range (e.g. ``" (the number of items)"``) and ``example`` ends it.

    Examples
    --------
    >>> real_number(np.float32(0.25), "extreme", low=0, high=0.5, inclusive=False)
    0.25
    >>> real_number(1.5, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95)
    Traceback (most recent call last):
    ...
    govsurvey.errors.SpecificationError: ci=1.5 must be a level between 0 and 1, e.g. ci=0.95.
    """
    if value is None and (none_ok or none_means):
        return None
    incl = _inclusive(inclusive)
    rng = _range_text(low, high, incl) + note + (f" or None ({none_means})" if none_means else "")
    why = _kind(value)
    if why:
        raise _refuse(name, value, what, rng, why, example, where)
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise _refuse(name, value, what, rng, " (NaN and infinity are not allowed)", example, where)
    if (low is not None and (x < low or (x == low and not incl[0]))) or (
            high is not None and (x > high or (x == high and not incl[1]))):
        raise _refuse(name, value, what, rng, "", example, where)
    return x


def whole_number(value: Any, name: str, *, low: int | None = None, high: int | None = None,
                 what: str = "a whole number", example: Any = None, where: str | None = None,
                 none_ok: bool = False, none_means: str | None = None, note: str = "") -> int | None:
    """``value`` as a Python int, or a :class:`SpecificationError` naming ``name``.

    Accepts Python and numpy integers, and floats without a fractional part (``3.0``, as a
    YAML file or a spreadsheet may give them); refuses bools, text, NaN, infinity, other
    floats and values outside ``low``–``high`` (both inclusive). ``None``, ``where``,
    ``note`` and ``example`` as in :func:`real_number`.

    Examples
    --------
    >>> whole_number(np.uint8(5), "n_iter", low=1, high=MAX_ITER)
    5
    >>> whole_number(2.5, "n_boot", low=0)
    Traceback (most recent call last):
    ...
    govsurvey.errors.SpecificationError: n_boot=2.5 must be a whole number ≥ 0 (2.5 has a fractional part).
    """
    if value is None and (none_ok or none_means):
        return None
    return _whole(value, name, low=low, high=high, what=what, example=example, where=where,
                  tail=note + (f" or None ({none_means})" if none_means else ""))


def _whole(value: Any, name: str, *, low: int | None, high: int | None, what: str, example: Any,
           where: str | None, tail: str = "") -> int:
    rng = _range_text(low, high, (True, True)) + tail
    why = _kind(value)
    if not why and not isinstance(value, numbers.Integral):
        x = float(value)
        if math.isnan(x) or math.isinf(x):
            why = " (NaN and infinity are not allowed)"
        elif not x.is_integer():
            why = f" ({shown(value)} has a fractional part)"
    if why:
        raise _refuse(name, value, what, rng, why, example, where)
    n = int(value)
    if (low is not None and n < low) or (high is not None and n > high):
        raise _refuse(name, value, what, rng, "", example, where)
    return n


def seed_value(value: Any, name: str = "seed", *, where: str | None = None) -> int | None:
    """A random seed: ``None`` (fresh entropy: results differ between runs) or a whole number
    from 0 to 2**32 − 1, which R's ``set.seed`` and every numpy generator reproduce.

    Examples
    --------
    >>> seed_value(np.int64(20261124))
    20261124
    >>> seed_value(-1)
    Traceback (most recent call last):
    ...
    govsurvey.errors.SpecificationError: seed=-1 must be a whole number from 0 to 4_294_967_295 or None (a random start).
    """
    if value is None:
        return None
    return _whole(value, name, low=0, high=MAX_SEED, what="a whole number", example=None, where=where,
                  tail=" or None (a random start)")


def choice(value: Any, name: str, allowed: Collection[Any], *, where: str | None = None) -> Any:
    """``value`` if it is one of ``allowed``, else a :class:`SpecificationError` that lists the
    allowed values and suggests the closest (``difflib``), e.g. ``'ML'`` for ``'ml'``.

    Examples
    --------
    >>> choice("spearman", "method", ("pearson", "spearman"))
    'spearman'
    >>> choice("ttest", "test", ("t", "welch", "anova"), where="compare_groups")
    Traceback (most recent call last):
    ...
    govsurvey.errors.SpecificationError: compare_groups: test='ttest' is not known. Fix: use one of 't', 'welch', 'anova'.
    """
    options = list(allowed)
    for option in options:  # the allowed value itself is returned (a plain str for a numpy str)
        if option is value:
            return option
        if isinstance(option, str) and isinstance(value, str) and option == value:
            return option
        if isinstance(option, numbers.Number) and isinstance(value, numbers.Number) and not isinstance(
                value, (bool, np.bool_)) and option == value:  # True == 1: a bool never stands for a number
            return option
    prefix = f"{where}: " if where else ""
    listed = ", ".join(shown(o) for o in options)
    hint = ""
    if isinstance(value, str):
        by_lower = {str(o).lower(): o for o in options if isinstance(o, str)}
        close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
        if close:
            hint = f" (did you mean {shown(by_lower[close[0]])}?)"
    raise SpecificationError(f"{prefix}{name}={shown(value)} is not known. Fix: use one of {listed}{hint}.")
