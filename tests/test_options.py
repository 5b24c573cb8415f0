"""Numeric and named options of the public API, checked by one validator (govsurvey.data.options).

For every option touched: a numpy scalar gives the same result as the Python number; bools,
NaN, infinity, text, fractions (for whole numbers) and values out of range are refused with
a SpecificationError that names the option and the value given.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.data import options
from govsurvey.results import to_jsonable


@pytest.fixture(scope="module")
def ctx(files):
    rng = np.random.default_rng(11)
    n = 240
    factors = rng.standard_normal((n, 3))
    items = pd.DataFrame(np.repeat(factors, 3, axis=1) * 0.8 + rng.standard_normal((n, 9)) * 0.6,
                         columns=[f"x{i}" for i in range(1, 10)])
    x = rng.standard_normal(n)
    m = 0.5 * x + rng.standard_normal(n)
    y = 0.4 * m + 0.2 * x + rng.standard_normal(n)
    frame = pd.DataFrame({"x": x, "m": m, "y": y, "g2": np.repeat(["a", "b"], n // 2), "g3": np.tile(["a", "b", "c"], n // 3)})
    codes = gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])
    sites = sorted(set(codes.segments["site"]))
    scores = pd.DataFrame({"site": np.tile(sites, 12), "reserves": rng.uniform(1, 5, 12 * len(sites)),
                           "grid": rng.uniform(1, 5, 12 * len(sites))})
    gaps = gs.capacity_gaps(scores[["reserves", "grid"]], target=4.0)
    return SimpleNamespace(items=items, frame=frame, codes=codes, scores=scores, gaps=gaps)


@pytest.fixture(scope="module")
def mini_data():
    rng = np.random.default_rng(3)
    return pd.DataFrame({"A1": rng.integers(1, 6, 60).astype(float), "A2": rng.integers(1, 6, 60).astype(float),
                         "A3": rng.integers(1, 6, 60).astype(float), "gender": rng.integers(1, 3, 60).astype(float),
                         "_seconds": rng.uniform(5, 600, 60)},
                        index=pd.RangeIndex(1, 61, name="respondent"))


MODEL = "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6"

NOT_NUMBERS = [True, np.bool_(False), float("nan"), np.float64("inf"), "1", None, [1]]
NOT_WHOLE = NOT_NUMBERS + [2.5, np.float32(1.5)]

# name, option, call(ctx, mini, data, value), (numpy value, the same as Python), refused values
TABLE = [
    ("reliability", "n_boot", lambda c, v: gs.reliability(c.items[["x1", "x2", "x3"]], n_boot=v, seed=1),
     (np.int64(60), 60), NOT_WHOLE + [-1, 100_001]),
    ("reliability", "ci", lambda c, v: gs.reliability(c.items[["x1", "x2", "x3"]], ci=v),
     (np.float32(0.5), 0.5), NOT_NUMBERS + [0, 1, 95]),
    ("reliability", "seed", lambda c, v: gs.reliability(c.items[["x1", "x2", "x3"]], n_boot=60, seed=v),
     (np.uint32(7), 7), NOT_WHOLE[:4] + ["7", 2.5, -1, 2**32]),
    ("efa", "n_factors", lambda c, v: gs.efa(c.items, v), (np.int64(3), 3), NOT_WHOLE[:5] + [2.5, 0, 10]),
    ("efa", "method", lambda c, v: gs.efa(c.items, 3, method=v), (np.str_("ml"), "ml"), ["ML", "mle", None, True, 1]),
    ("efa", "rotation", lambda c, v: gs.efa(c.items, 3, rotation=v), (np.str_("varimax"), "varimax"), ["Varimax", None, 0]),
    ("efa", "max_iter", lambda c, v: gs.efa(c.items, 3, method="pa", max_iter=v), (np.int16(40), 40), NOT_WHOLE[:5] + [0, 2.5]),
    ("omega", "n_factors", lambda c, v: gs.omega(c.items, v), (np.int64(3), 3), NOT_WHOLE + [0, 10]),
    ("parallel_analysis", "n_iter", lambda c, v: gs.parallel_analysis(c.items, n_iter=v, seed=2),
     (np.int64(10), 10), NOT_WHOLE + [0, 10_001]),
    ("parallel_analysis", "seed", lambda c, v: gs.parallel_analysis(c.items, n_iter=10, seed=v),
     (np.int64(2), 2), NOT_WHOLE[:4] + ["2", -1, 2**32]),
    ("parallel_analysis", "quantile", lambda c, v: gs.parallel_analysis(c.items, n_iter=10, seed=2, quantile=v),
     (np.float64(0.9), 0.9), NOT_NUMBERS + [0, 1]),
    ("item_analysis", "extreme", lambda c, v: gs.item_analysis(c.items, extreme=v),
     (np.float16(0.25), 0.25), NOT_NUMBERS + [0, 0.5, 0.6]),
    ("harman_test", "method", lambda c, v: gs.harman_test(c.items, method=v), (np.str_("pc"), "pc"), ["PA", "ml", None]),
    ("harman_test", "threshold", lambda c, v: gs.harman_test(c.items, threshold=v), (np.float64(0.5), 0.5),
     NOT_NUMBERS + [0, 1.5]),
    ("cfa", "estimator", lambda c, v: gs.cfa(c.items, MODEL, estimator=v), (np.str_("MLR"), "MLR"), ["ml", "wlsmv", None]),
    ("htmt", "method", lambda c, v: gs.htmt(c.items, MODEL, method=v), (np.str_("htmt"), "htmt"), ["HTMT", None]),
    ("mediation", "n_boot", lambda c, v: gs.mediation(c.frame, x="x", m="m", y="y", n_boot=v, seed=1),
     (np.int64(50), 50), NOT_WHOLE + [-1, 100_001]),
    ("mediation", "ci", lambda c, v: gs.mediation(c.frame, x="x", m="m", y="y", n_boot=50, seed=1, ci=v),
     (np.float64(0.9), 0.9), NOT_NUMBERS + [0, 1]),
    ("mediation", "seed", lambda c, v: gs.mediation(c.frame, x="x", m="m", y="y", n_boot=50, seed=v),
     (np.int32(5), 5), NOT_WHOLE[:4] + ["5", -1, 2**32, 1.5]),
    ("mediation", "ci_method", lambda c, v: gs.mediation(c.frame, x="x", m="m", y="y", n_boot=50, seed=1, ci_method=v),
     (np.str_("bc"), "bc"), ["bca", "Monte Carlo"]),
    ("moderation", "ci", lambda c, v: gs.moderation(c.frame, x="x", w="m", y="y", ci=v), (np.float64(0.9), 0.9),
     NOT_NUMBERS + [0, 1]),
    ("compare_groups", "test", lambda c, v: gs.compare_groups(c.frame, "y", "g2", test=v), (np.str_("welch"), "welch"),
     ["ttest", "Welch", None, True]),
    ("compare_groups", "posthoc", lambda c, v: gs.compare_groups(c.frame, "y", "g3", test="anova", posthoc=v),
     (np.str_("tukey"), "tukey"), ["Tukey", "bonferroni", True]),
    ("compare_groups", "ci", lambda c, v: gs.compare_groups(c.frame, "y", "g2", ci=v), (np.float64(0.9), 0.9),
     NOT_NUMBERS + [0, 1]),
    ("correlations", "method", lambda c, v: gs.correlations(c.frame[["x", "m", "y"]], method=v),
     (np.str_("spearman"), "spearman"), ["kendall", "Pearson", None]),
    ("capacity_gaps", "ci", lambda c, v: gs.capacity_gaps(c.scores[["reserves"]], target=4.0, ci=v),
     (np.float64(0.9), 0.9), NOT_NUMBERS + [0, 1]),
    ("link_codes", "ci", lambda c, v: gs.link_codes(c.scores, c.codes, ci=v), (np.float64(0.9), 0.9), NOT_NUMBERS + [0, 1]),
    ("joint_display", "n_quotes", lambda c, v: gs.joint_display(c.gaps, c.codes, n_quotes=v), (np.int64(1), 1),
     NOT_WHOLE + [-1, 101]),
]

# the same for functions that need the mini instrument: call(mini, data, value)
MINI_TABLE = [
    ("score", "method", lambda i, d, v: gs.score(d, i, method=v), (np.str_("sum"), "sum"), ["median", "Mean", None]),
    ("score", "min_valid", lambda i, d, v: gs.score(d, i, min_valid=v), (np.float64(0.5), 0.5), NOT_NUMBERS + [0, 1.5]),
    ("score", "higher_order", lambda i, d, v: gs.score(d, i, higher_order=v), (np.str_("dimensions"), "dimensions"),
     ["item", None]),
    ("screen", "max_missing", lambda i, d, v: gs.screen(d, i, max_missing=v), (np.float64(0.3), 0.3), NOT_NUMBERS[:5] + [2, -0.1]),
    ("screen", "speed_ratio", lambda i, d, v: gs.screen(d, i, speed_ratio=v), (np.float32(0.25), 0.25), NOT_NUMBERS[:5] + [2]),
    ("screen", "min_seconds", lambda i, d, v: gs.screen(d, i, min_seconds=v), (np.int64(10), 10), NOT_NUMBERS[:5] + [-1]),
    ("screen", "mahalanobis_p", lambda i, d, v: gs.screen(d, i, mahalanobis_p=v), (np.float64(0.001), 0.001),
     NOT_NUMBERS[:5] + [0, 0.9]),
    ("screen", "straightline", lambda i, d, v: gs.screen(d, i, min_block=3, straightline=v), (np.float64(0.9), 0.9),
     [float("nan"), "yes", None, 0.2, 1.5]),
    ("screen", "straightline", lambda i, d, v: gs.screen(d, i, min_block=3, straightline=v), (np.bool_(False), False), []),
    ("screen", "min_block", lambda i, d, v: gs.screen(d, i, min_block=v), (np.int64(3), 3), NOT_WHOLE + [1]),
]


def _fingerprint(result) -> str:
    return json.dumps(to_jsonable(result), sort_keys=True, default=str)


def _ids(table):
    return [f"{name}-{option}" for name, option, *_ in table]


def _refused(call, option: str, value) -> None:
    with pytest.raises(gs.SpecificationError) as info:
        call(value)
    msg = str(info.value)
    shown = options.shown(value)
    assert f"{option}={shown}" in msg or f"{option}={shown[:40]}" in msg, msg
    assert re.search(r"must be|is not known", msg), msg


@pytest.mark.parametrize("name, option, call, same, refused", TABLE, ids=_ids(TABLE))
def test_numeric_and_named_options(ctx, name, option, call, same, refused):
    numpy_value, python_value = same
    assert _fingerprint(call(ctx, numpy_value)) == _fingerprint(call(ctx, python_value))
    for value in refused:
        _refused(lambda v: call(ctx, v), option, value)


@pytest.mark.parametrize("name, option, call, same, refused", MINI_TABLE, ids=_ids(MINI_TABLE))
def test_options_of_scoring_and_screening(mini, mini_data, name, option, call, same, refused):
    numpy_value, python_value = same
    assert _fingerprint(call(mini, mini_data, numpy_value)) == _fingerprint(call(mini, mini_data, python_value))
    for value in refused:
        _refused(lambda v: call(mini, mini_data, v), option, value)


def test_messages_name_the_range_and_suggest_a_choice(ctx):
    with pytest.raises(gs.SpecificationError, match=r"n_boot=100001 must be a whole number from 0 to 100_000"):
        gs.reliability(ctx.items, n_boot=100_001)
    with pytest.raises(gs.SpecificationError, match=r"seed=-1 must be a whole number from 0 to 4_294_967_295 or None"):
        gs.mediation(ctx.frame, x="x", m="m", y="y", seed=-1)
    with pytest.raises(gs.SpecificationError, match=r"n_factors=10 must be a whole number from 1 to 9 \(the number of items\)"):
        gs.omega(ctx.items, 10)
    with pytest.raises(gs.SpecificationError, match=r"estimator='ml' is not known.*did you mean 'ML'"):
        gs.cfa(ctx.items, MODEL, estimator="ml")
    with pytest.raises(gs.SpecificationError, match=r"method='minre' is not known.*'minres', 'ml', 'pa', 'pc'.*did you mean 'minres'"):
        gs.efa(ctx.items, 3, method="minre")
    with pytest.raises(gs.SpecificationError, match=r"n_iter=2\.5 must be a whole number .*fractional part"):
        gs.parallel_analysis(ctx.items, n_iter=2.5)
    with pytest.raises(gs.SpecificationError, match=r"ci=True must be a level between 0 and 1.*True/False is not a number"):
        gs.reliability(ctx.items, ci=True)
    with pytest.raises(gs.SpecificationError, match=r"extreme='0.27'.*write 0.27 without quotes"):
        gs.item_analysis(ctx.items, extreme="0.27")


def test_whole_floats_and_numpy_values_come_back_as_python_numbers():
    assert options.whole_number(3.0, "n") == 3 and type(options.whole_number(np.int64(3), "n")) is int
    assert type(options.real_number(np.float32(0.5), "x")) is float
    assert options.seed_value(None) is None and options.seed_value(np.uint64(2**32 - 1)) == 2**32 - 1
    assert type(options.choice(np.str_("ml"), "method", ("ml", "pa"))) is str
    assert options.real_number(None, "x", none_ok=True) is None
    assert options.whole_number(None, "n", none_means="all") is None
    with pytest.raises(gs.SpecificationError, match="x=None must be a number"):
        options.real_number(None, "x")
    with pytest.raises(gs.SpecificationError, match=r"x=0 must be a number in \(0, 1\]"):
        options.real_number(0, "x", low=0, high=1, inclusive=(False, True))
    assert options.real_number(1, "x", low=0, high=1, inclusive=(False, True)) == 1.0
