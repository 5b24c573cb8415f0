"""Content validity from expert ratings."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from govsurvey.errors import DataValidationError, SpecificationError
from govsurvey.psychometrics._input import warn
from govsurvey.results import Result

__all__ = ["ContentValidity", "content_validity"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ContentValidity(Result):
    """Content validity indices (see :func:`content_validity`)."""

    items: pd.DataFrame
    s_cvi_ave: float
    s_cvi_ua: float
    n_experts: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.items


def content_validity(ratings: pd.DataFrame) -> ContentValidity:
    """Item- and scale-level content validity indices (Lynn, 1986; Polit, Beck & Owen, 2007).

    Parameters
    ----------
    ratings
        Experts × items, relevance rated 1–4 (1 not relevant … 4 highly relevant).

    Returns
    -------
    ContentValidity
        ``items``: ``n_agree`` (experts rating 3 or 4), ``i_cvi`` (n_agree / N), ``pc``
        (chance agreement C(N, A)·0.5^N) and ``kappa`` (modified kappa (I-CVI − pc)/(1 − pc));
        ``s_cvi_ave`` (mean I-CVI) and ``s_cvi_ua`` (share of items all experts rate 3–4).
        I-CVI ≥ .78 with six or more experts, and S-CVI/Ave ≥ .90, are the usual standards.

    Examples
    --------
    >>> import pandas as pd, govsurvey as gs
    >>> r = pd.DataFrame({"Q1": [4, 3, 4, 4, 3, 2], "Q2": [4, 4, 4, 4, 4, 4]})
    >>> cv = gs.content_validity(r)
    >>> round(float(cv.items.loc["Q1", "kappa"]), 2), cv.s_cvi_ua
    (0.82, 0.5)
    """
    if not isinstance(ratings, pd.DataFrame):
        raise SpecificationError(f"ratings must be a DataFrame of experts × items, got {type(ratings).__name__}.")
    if ratings.shape[0] < 2 or ratings.shape[1] < 1:
        raise DataValidationError("content_validity needs at least two experts (rows) and one item (column).")
    values = ratings.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() | ~values.isin([1, 2, 3, 4])
    if bad.to_numpy().any():
        where = [(str(i), str(c)) for i, c in zip(*np.nonzero(bad.to_numpy()))][:5]
        raise DataValidationError(
            f"Ratings must be whole numbers 1–4 with no gaps; problems at (row, column) {where}. Fix: complete or correct the ratings."
        )
    msgs: list[str] = []
    n = values.shape[0]
    if n < 3:
        warn(msgs, f"Only {n} experts: content validity indices need at least 3 (Lynn, 1986).")
    agree = (values >= 3).sum(axis=0)
    i_cvi = agree / n
    pc = agree.map(lambda a: math.comb(n, int(a)) * 0.5**n)
    kappa = (i_cvi - pc) / (1 - pc)
    items = pd.DataFrame({"n_agree": agree.astype(int), "i_cvi": i_cvi, "pc": pc, "kappa": kappa})
    items.index.name = "item"
    return ContentValidity(items=items, s_cvi_ave=float(i_cvi.mean()), s_cvi_ua=float((i_cvi == 1).mean()), n_experts=n,
                           warnings=tuple(msgs))
