"""One BLAS thread for statistics on item-level matrices.

OpenBLAS hands even small products (a 60 × 625 by 625 × 60 information matrix, a 2,436 × 5
cross-product) to its thread pool. On a laptop or a 2-core runner the threads' wake-up and
hand-off cost more than the arithmetic, and erratically so: the psych::bfi five-factor CFA
took 17 ms on one thread and 40 ms (up to 110 ms) on two. Psychometric functions therefore run
with one BLAS thread unless the data pass they start with is large enough to gain from more
(n·p² ≥ 10⁸, e.g. 160,000 responses to 25 items); :class:`govsurvey.Moments` and the models
keep every thread for their passes over big data.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

LARGE_PASS = 1e8   # n·p² above which the data pass itself benefits from BLAS threads
_blas_libs: list[Any] | None = None


def _get_blas_libs() -> list[Any]:
    """The loaded BLAS libraries' threadpoolctl controllers (found once, on first use)."""
    global _blas_libs
    if _blas_libs is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_libs = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
        except Exception as exc:  # pragma: no cover - threadpoolctl missing or a BLAS it cannot inspect
            log.debug("BLAS thread control unavailable: %s", exc)
            _blas_libs = []
    return _blas_libs


def _large(data: Any) -> bool:
    shape = getattr(data, "shape", None)
    if not shape or len(shape) != 2:
        return False
    n, p = shape
    return float(n) * float(p) * float(p) >= LARGE_PASS


def small_matrix_blas(fn: F) -> F:
    """Run ``fn`` with one BLAS thread unless its first argument is a large data table.

    The libraries' thread counts are read and set directly (what ``threadpoolctl``'s
    ``limit`` context does, at a third of its cost per call) and restored afterwards.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        libs = _get_blas_libs()
        if not libs or (args and _large(args[0])):
            return fn(*args, **kwargs)
        changed = []
        for lib in libs:
            n = lib.get_num_threads()
            if n != 1:
                lib.set_num_threads(1)
                changed.append((lib, n))
        try:
            return fn(*args, **kwargs)
        finally:
            for lib, n in changed:
                lib.set_num_threads(n)

    return wrapper  # type: ignore[return-value]
