"""Property-based suite over the public API: hostile tables in, a valid result or a clear error out.

Each case draws a table with some of: NaN, ±inf, huge and tiny values, negative values, strings
and numeric strings, booleans, nullable integers, constant columns, duplicated column names, a
single row, more items than rows, non-unique or string indexes — mixed with ordinary Likert
columns that share a factor, so that valid inputs (and the checks on their results) are drawn
too. Every call must either

- return a result whose headline statistics are finite and in range (or flagged in the result's
  ``warnings``), or
- raise a ``gs.GovsurveyError`` whose message names the problem,

never a bare KeyError, IndexError, LinAlgError, ZeroDivisionError, a numpy/pandas error or a
silent NaN. ``test_the_suite_ran_10000_cases`` (last in this file) checks how many cases ran.

Hypothesis runs derandomized (the "ci" profile in conftest.py), so CI sees the same cases as a
developer; ``HYPOTHESIS_PROFILE=explore`` draws fresh ones.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import govsurvey as gs

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

RAN: Counter[str] = Counter()
N_TARGET = 10_000
NAMES = ["x1", "x2", "x3", "x4", "x5", "x6"]
KINDS = ["likert"] * 8 + ["continuous", "constant", "huge", "tiny", "negative", "strings", "numeric_strings",
                          "bool", "nullable", "inf", "nan_heavy", "all_nan"]


@st.composite
def hostile_frames(draw, *, min_cols: int = 1, max_cols: int = 6, group: bool = False, binary_y: bool = False) -> pd.DataFrame:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.sampled_from([1, 2, 3, 4, 6, 10, 25, 60, 150, 150]))
    k = draw(st.integers(min_cols, max_cols))
    names = NAMES[:k]
    if k >= 2 and draw(st.integers(0, 9)) == 0:
        names = names[:-1] + [names[0]]                       # a duplicated column name
    factor = rng.standard_normal(n)
    cols: list[Any] = []
    for _ in names:
        kind = draw(st.sampled_from(KINDS))
        base = 0.7 * factor + 0.7 * rng.standard_normal(n)
        likert = np.clip(np.round(3 + 1.2 * base), 1, 5)
        if kind == "likert":
            col: Any = likert
        elif kind == "continuous":
            col = base * 10
        elif kind == "constant":
            col = np.full(n, 3.0)
        elif kind == "huge":
            col = base * 1e200
        elif kind == "tiny":
            col = base * 1e-200
        elif kind == "negative":
            col = -likert * 1000
        elif kind == "strings":
            col = np.where(rng.random(n) < 0.3, "abc", likert.astype(int).astype(str)).astype(object)
        elif kind == "numeric_strings":
            col = likert.astype(int).astype(str).astype(object)
        elif kind == "bool":
            col = base > 0
        elif kind == "nullable":
            col = pd.array(np.where(rng.random(n) < 0.2, None, likert.astype(int)), dtype="Int64")
        elif kind == "inf":
            col = likert.copy()
            col[rng.integers(0, n)] = draw(st.sampled_from([np.inf, -np.inf]))
        elif kind == "nan_heavy":
            col = np.where(rng.random(n) < 0.6, np.nan, likert)
        else:
            col = np.full(n, np.nan)
        if kind in ("likert", "continuous") and draw(st.integers(0, 3)) == 0:
            col = np.where(rng.random(n) < 0.1, np.nan, col)     # a few missing answers
        cols.append(col)
    frame = pd.DataFrame(dict(enumerate(cols)))
    frame.columns = names
    if group:
        levels = draw(st.sampled_from([["a", "b"], ["a", "b", "c"], ["a"], ["a", "b", None]]))
        frame["g"] = [levels[i % len(levels)] for i in rng.permutation(n)]
    if binary_y:
        kind = draw(st.sampled_from(["logit", "logit", "separated", "constant"]))
        if kind == "logit":
            frame["y"] = (factor + rng.standard_normal(n) > 0).astype(float)
        elif kind == "separated":
            frame["y"] = (factor > 0).astype(float)
            frame["x1"] = factor if "x1" in frame.columns else factor
        else:
            frame["y"] = 1.0
    index = draw(st.sampled_from(["range", "duplicated", "strings"]))
    if index == "duplicated":
        frame.index = [i % 3 for i in range(n)]
    elif index == "strings":
        frame.index = [f"r{i}" for i in range(n)]
    return frame


def _finite(*values: float) -> bool:
    return all(isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(float(v)) for v in values)


def _frame_finite(frame: pd.DataFrame, columns: list[str] | None = None) -> bool:
    sub = frame if columns is None else frame[columns]
    return bool(np.isfinite(sub.to_numpy(dtype=float)).all())


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[[pd.DataFrame], Any]
    check: Callable[[Any, pd.DataFrame], None]
    strategy: Any = None
    examples: int = 400


def _items(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if c.startswith("x")]] if frame.columns.is_unique else frame


def _warned(res: Any) -> bool:
    return bool(getattr(res, "warnings", ()))


def check_reliability(res, frame):
    assert _finite(res.alpha, *res.alpha_ci, res.average_r)
    assert _finite(res.alpha_std, res.split_half) or _warned(res)
    assert res.alpha_ci[0] <= res.alpha + 1e-12 and res.alpha <= res.alpha_ci[1] + 1e-12
    assert res.n_obs >= 2 and res.n_items >= 2
    assert _finite(res.lambda6) or _warned(res)
    assert _finite(res.omega_total) or res.n_items < 3 or _warned(res)
    assert res.items.index.is_unique


def check_item_analysis(res, frame):
    assert _frame_finite(res, ["mean", "sd"])
    assert (res["sd"] > 0).all()


def check_kmo(res, frame):
    assert _finite(res.overall) and 0 <= res.overall <= 1
    assert np.isfinite(res.per_item.to_numpy(dtype=float)).all()


def check_bartlett(res, frame):
    assert _finite(res.chi2, res.p_value) and res.chi2 >= 0 and 0 <= res.p_value <= 1 and res.df >= 1


def check_efa(res, frame):
    assert _frame_finite(res.loadings)
    assert _frame_finite(res.communalities.to_frame() if isinstance(res.communalities, pd.Series) else res.communalities)


def check_omega(res, frame):
    assert _finite(res.omega_total) or _warned(res)
    assert not math.isfinite(res.omega_h) or -1e-9 <= res.omega_h <= res.omega_total + 1e-9


def check_parallel(res, frame):
    assert isinstance(res.n_factors, int) and res.n_factors >= 0
    assert _frame_finite(res.table.select_dtypes("number"))


def check_harman(res, frame):
    assert _finite(res.first_factor_share) and 0 <= res.first_factor_share <= 1


def _one_factor(frame: pd.DataFrame) -> str:
    cols = [c for c in dict.fromkeys(frame.columns) if c.startswith("x")][:4]
    return "f =~ " + " + ".join(cols)


def _two_factors(frame: pd.DataFrame) -> str:
    cols = [c for c in dict.fromkeys(frame.columns) if c.startswith("x")]
    return f"f1 =~ {' + '.join(cols[:3])}\nf2 =~ {' + '.join(cols[3:6])}"


def check_cfa(res, frame):
    assert res.converged or _warned(res)
    assert _finite(res.fit["chisq"], res.fit["df"], res.fit["rmsea"], res.fit["srmr"]) and res.fit["chisq"] > -1e-6
    assert np.isfinite(res.loadings["estimate"].to_numpy(dtype=float)).all()
    se = res.loadings["se"].to_numpy(dtype=float)
    assert np.isfinite(se).all() or _warned(res)


def check_htmt(res, frame):
    values = res.to_numpy(dtype=float)
    assert np.isfinite(values[~np.eye(len(res), dtype=bool)]).all()


def check_moments(res, frame):
    assert res.n >= 0
    if res.n >= 2:
        assert np.isfinite(res.cov.to_numpy(dtype=float)).all()


def check_describe(res, frame):
    assert isinstance(res, pd.DataFrame) and len(res) >= 1
    numeric = res.select_dtypes("number")
    assert not np.isinf(numeric.to_numpy(dtype=float)).any()


def check_correlations(res, frame):
    r = res.r.to_numpy(dtype=float)
    finite = r[np.isfinite(r)]
    assert (np.abs(finite) <= 1 + 1e-9).all()


def check_compare(res, frame):
    assert _finite(res.statistic, res.p_value) and 0 <= res.p_value <= 1


def check_regress(res, frame):
    assert _frame_finite(res.table, ["b"]) and _finite(res.r2) and -1e-9 <= res.r2 <= 1 + 1e-9 and res.n >= 2


def check_logistic(res, frame):
    assert _frame_finite(res.table, ["b"])


def check_multilevel(res, frame):
    assert _frame_finite(res.fixed, ["b"]) and _finite(res.var_residual) and res.var_groups >= 0


def check_mediation(res, frame):
    assert _frame_finite(res.table, ["estimate"])
    assert np.isfinite(res.table[["ci_low", "ci_high"]].to_numpy(dtype=float)).all()


def check_moderation(res, frame):
    assert _frame_finite(res.table, ["b"])


def check_gaps(res, frame):
    assert _frame_finite(res, ["mean", "gap"])


def check_content_validity(res, frame):
    assert _finite(res.s_cvi_ave) and 0 <= res.s_cvi_ave <= 1


def _ratings(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:, : max(1, frame.shape[1])]


CASES = [
    Case("reliability", lambda f: gs.reliability(_items(f)), check_reliability, examples=500),
    Case("reliability pairwise", lambda f: gs.reliability(_items(f), missing="pairwise"), check_reliability),
    Case("reliability bootstrap", lambda f: gs.reliability(_items(f), n_boot=30, seed=1), check_reliability, examples=300),
    Case("item_analysis", lambda f: gs.item_analysis(_items(f)), check_item_analysis),
    Case("kmo", lambda f: gs.kmo(_items(f)), check_kmo),
    Case("bartlett", lambda f: gs.bartlett(_items(f)), check_bartlett),
    Case("efa minres", lambda f: gs.efa(_items(f), 1), check_efa, examples=500),
    Case("efa pc varimax", lambda f: gs.efa(_items(f), 2, method="pc", rotation="varimax"), check_efa),
    Case("efa ml oblimin", lambda f: gs.efa(_items(f), 2, method="ml"), check_efa, examples=300),
    Case("omega", lambda f: gs.omega(_items(f), 2), check_omega, examples=300),
    Case("parallel_analysis", lambda f: gs.parallel_analysis(_items(f), n_iter=3, seed=1), check_parallel, examples=250),
    Case("harman_test", lambda f: gs.harman_test(_items(f)), check_harman, examples=300),
    Case("cfa", lambda f: gs.cfa(f, _one_factor(f)), check_cfa, examples=500),
    Case("cfa two factors MLR", lambda f: gs.cfa(f, _two_factors(f), estimator="MLR"), check_cfa, examples=300),
    Case("htmt", lambda f: gs.htmt(f, _two_factors(f)), check_htmt, examples=300),
    Case("Moments", lambda f: gs.Moments.from_frame(f), check_moments),
    Case("describe", lambda f: gs.describe(f), check_describe),
    Case("describe by group", lambda f: gs.describe(f, by="g"), check_describe, strategy=hostile_frames(group=True)),
    Case("correlations", lambda f: gs.correlations(f), check_correlations),
    Case("compare_groups", lambda f: gs.compare_groups(f, "x1", "g"), check_compare, strategy=hostile_frames(group=True)),
    Case("regress", lambda f: gs.regress("x1 ~ x2 + x3", f), check_regress, strategy=hostile_frames(min_cols=3)),
    Case("regress HC3", lambda f: gs.regress("x1 ~ x2 + C(g)", f, robust="HC3"), check_regress,
         strategy=hostile_frames(min_cols=2, group=True), examples=300),
    Case("logistic", lambda f: gs.logistic("y ~ x1 + x2", f), check_logistic, strategy=hostile_frames(min_cols=2, binary_y=True)),
    Case("ordinal", lambda f: gs.ordinal("x1 ~ x2", f), check_logistic, strategy=hostile_frames(min_cols=2), examples=150),
    Case("multilevel", lambda f: gs.multilevel("x1 ~ x2", f, groups="g"), check_multilevel,
         strategy=hostile_frames(min_cols=2, group=True)),
    Case("mediation", lambda f: gs.mediation(f, x="x1", m="x2", y="x3", n_boot=50, seed=1), check_mediation,
         strategy=hostile_frames(min_cols=3)),
    Case("moderation", lambda f: gs.moderation(f, x="x1", w="x2", y="x3"), check_moderation, strategy=hostile_frames(min_cols=3)),
    Case("capacity_gaps", lambda f: gs.capacity_gaps(_items(f), target=4.0), check_gaps),
    Case("content_validity", lambda f: gs.content_validity(_ratings(f)), check_content_validity),
]


def _call(case: Case, frame: pd.DataFrame) -> Any:
    """Run one case: a result, or None after a GovsurveyError with a real message."""
    before = frame.copy(deep=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = case.call(frame)
    except gs.GovsurveyError as exc:
        message = str(exc)
        assert len(message) >= 25, f"{case.name}: {type(exc).__name__} with a weak message {message!r}"
        return None
    finally:
        pd.testing.assert_frame_equal(frame, before)     # the input is never modified
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_public_api_on_hostile_tables(case: Case):
    strategy = case.strategy if case.strategy is not None else hostile_frames()

    @given(frame=strategy)
    def run(frame):
        RAN[case.name] += 1
        result = _call(case, frame)
        if result is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.check(result, frame)

    from hypothesis import settings

    settings(max_examples=case.examples)(run)()


def test_the_suite_ran_10000_cases():
    if len(RAN) < len(CASES):
        pytest.skip("run the whole module to count its cases")
    total = sum(RAN.values())
    assert total >= N_TARGET, f"only {total} generated cases ran: {dict(RAN)}"
