"""Every GovsurveyError subclass is raised by a real call here, with its message checked.

``test_every_error_class_is_raised_by_a_test`` fails when a new subclass appears without an
entry in TRIGGERS, so the table stays complete. Messages must name the problem and, where the
user can act, say "Fix:".
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey import errors


def _likert(n: int = 60, k: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    return pd.DataFrame({f"x{j + 1}": np.clip(np.round(3 + f + rng.standard_normal(n)), 1, 5) for j in range(k)})


def _instrument_error(ctx):
    path = ctx.tmp / "broken.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    gs.load_instrument(path)


def _unknown_item(ctx):
    gs.cfa(_likert(), "f =~ x1 + x2 + nosuchitem")


def _data_format(ctx):
    path = ctx.tmp / "fake.xlsx"
    path.write_bytes(b"this is not a spreadsheet" * 20)
    gs.read_responses(path, ctx.mini)


def _encoding(ctx):
    path = ctx.tmp / "gbk.csv"
    path.write_bytes("A1,A2,A3\n同意,同意,一般\n".encode("gbk"))
    gs.read_responses(path, ctx.mini, encoding="utf-8")


def _data_validation(ctx):
    frame = _likert()
    frame["x2"] = frame["x2"].astype(object)
    frame.loc[3, "x2"] = "n/a"
    gs.reliability(frame)


def _unmapped(ctx):
    gs.read_responses(pd.DataFrame({"A1": ["同意", "很同意"], "A2": ["一般", "一般"], "A3": ["同意", "同意"]}), ctx.mini)


def _out_of_range(ctx):
    gs.score(pd.DataFrame({"A1": [1.0, 7.0], "A2": [2.0, 3.0], "A3": [4.0, 4.0]}), ctx.mini)


def _file_not_found(ctx):
    gs.read_responses(ctx.tmp / "no_such_file.csv", ctx.mini)


def _specification(ctx):
    gs.reliability(_likert(), ci=1.5)


def _not_positive_definite(ctx):
    frame = _likert()
    frame["x5"] = frame["x1"] + frame["x2"]      # a sum of two other items
    gs.kmo(frame)


def _convergence(ctx):
    from govsurvey.psychometrics.sem import engine

    real_fit = engine.Model.fit
    with mock.patch.object(engine.Model, "fit", lambda self, *a, **k: real_fit(self, max_iter=1)):
        gs.cfa(_likert(200, 6), "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6")


def _model_syntax(ctx):
    gs.cfa(_likert(), "f =~ x1 + + x2")


def _report(ctx):
    from govsurvey.report.pdf import _inline_only_fetcher

    fetcher = _inline_only_fetcher()
    (fetcher.fetch if hasattr(fetcher, "fetch") else fetcher)("https://example.org/tracker.png")


def _analysis(ctx):
    from govsurvey.study import Study

    example = gs.datasets.example_dir()
    spec = {"name": "t", "instrument": str(gs.datasets.instrument_path("community_phe_survey")), "data": str(example / "survey.sav"),
            "analyses": {"mediation": [{"x": "capacity", "m": "resilience", "y": "trust", "n_boot": 100}]}}
    Study.from_dict(spec, base=ctx.tmp).run().raise_if_failed()


# error class → (a call that raises it, the message it must carry)
TRIGGERS = {
    errors.InstrumentError: (_instrument_error, r"broken\.yaml"),
    errors.UnknownItemError: (_unknown_item, r"nosuchitem.*Fix:"),
    errors.DataFormatError: (_data_format, r"fake\.xlsx"),
    errors.EncodingDetectionError: (_encoding, r"not valid utf-8.*Fix: pass encoding="),
    errors.DataValidationError: (_data_validation, r"'x2' has non-numeric values \('n/a'\).*Fix:"),
    errors.UnmappedAnswerError: (_unmapped, r"(?s)'很同意'.*Fix: add the text as a label"),
    errors.OutOfRangeError: (_out_of_range, r"A1.*7.*Fix:"),
    errors.InputFileNotFoundError: (_file_not_found, r"no_such_file\.csv does not exist"),
    errors.SpecificationError: (_specification, r"ci=1\.5 must be a level between 0 and 1"),
    errors.NotPositiveDefiniteError: (_not_positive_definite, r"singular.*items involved: .*x5.*Fix: drop redundant items"),
    errors.ConvergenceError: (_convergence, r"did not converge in 1 iterations .*Fix: check the items' correlations"),
    errors.ModelSyntaxError: (_model_syntax, r"line 1"),
    errors.AnalysisError: (_analysis, r"mediation\[0\] \(UnknownItemError\): mediation: 'resilience' is not .* Fix: use one of"),
    errors.ReportError: (_report, r"tried to fetch 'https://example\.org/tracker\.png'; reports never load external resources"),
}


@pytest.fixture
def ctx(tmp_path, mini):
    return SimpleNamespace(tmp=Path(tmp_path), mini=mini)


@pytest.mark.parametrize("error", list(TRIGGERS), ids=[e.__name__ for e in TRIGGERS])
def test_error_is_raised_with_a_message_that_names_the_problem(ctx, error):
    trigger, pattern = TRIGGERS[error]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # data warnings on the way are not the point here
        with pytest.raises(error, match=pattern) as info:
            trigger(ctx)
    assert type(info.value) is error or issubclass(type(info.value), error)
    assert len(str(info.value)) >= 30


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def test_every_error_class_is_raised_by_a_test():
    defined = {c for c in _subclasses(errors.GovsurveyError) if c.__module__ == "govsurvey.errors"}
    assert defined == set(TRIGGERS), f"add a trigger for {sorted(c.__name__ for c in defined - set(TRIGGERS))}"
    for cls in defined:
        assert getattr(gs, cls.__name__) is cls, f"{cls.__name__} is not exported as gs.{cls.__name__}"
        assert issubclass(cls, (ValueError, KeyError, RuntimeError, FileNotFoundError, UnicodeError)), cls


def _frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


_rng = np.random.default_rng(5)
_n = 40
_x = _rng.standard_normal(_n)
_y = _x + _rng.standard_normal(_n)

# The bad inputs the hardening pass added checks for, each with the message a user sees.
BAD_INPUTS = [
    ("huge values", lambda: gs.reliability(_likert().assign(x2=lambda d: d["x2"] * 1e200)),
     gs.DataValidationError, r"'x2' has values as large as .*overflow double precision.*Fix: rescale"),
    ("tiny values", lambda: gs.regress("y ~ x", _frame(y=_y, x=_x * 1e-200)),
     gs.DataValidationError, r"'x' has no value larger than .*underflow.*Fix: rescale"),
    ("inf in a group comparison", lambda: gs.compare_groups(_frame(y=np.r_[_y[:-1], np.inf], g=["a", "b"] * 20), "y", "g"),
     gs.DataValidationError, r"'y' contains infinite values"),
    ("constant outcome", lambda: gs.regress("y ~ x", _frame(y=np.ones(_n), x=_x)),
     gs.DataValidationError, r"outcome 'y' has the same value \(1\) in every used row"),
    ("intercept-only design", lambda: gs.regress("y ~ C(g)", _frame(y=_y, g=["a"] * _n)),
     gs.DataValidationError, r"no predictor in 'y ~ C\(g\)' varies"),
    ("HC3 with a leverage-1 row", lambda: gs.regress("y ~ C(g)", _frame(y=_y, g=["a"] * (_n - 1) + ["b"]), robust="HC3"),
     gs.DataValidationError, r"leverage 1.*Fix: merge rare categories or use robust='HC1'"),
    ("Welch ANOVA with a flat group", lambda: gs.compare_groups(
        _frame(y=np.r_[_y[:30], np.full(10, 2.0)], g=["a", "b", "c"] * 10 + ["d"] * 10), "y", "g", test="welch_anova"),
     gs.DataValidationError, r"does not vary in group\(s\) d.*Fix: use test='kruskal'"),
    ("exact multilevel fit", lambda: gs.multilevel("y ~ C(k)", _frame(y=[1.0, 2, 3, 1, 2, 3], k=list("abcabc"), g=list("aabbcc")), groups="g"),
     gs.DataValidationError, r"reproduce the outcome exactly"),
    ("uncorrelated items in KMO", lambda: gs.kmo(_frame(x1=[0.0, 0, 1, 1] * 5, x2=[4.0, 3, 4, 3] * 5)),
     gs.DataValidationError, r"x1, x2 are uncorrelated with every other item.*undefined"),
    ("bootstrap with too few cases", lambda: gs.reliability(_likert(8), n_boot=100, seed=1),
     gs.DataValidationError, r"at least 10 complete cases; there are 8"),
    ("text scores in capacity_gaps", lambda: gs.capacity_gaps(_frame(a=["3", "4", "high"]), target=4.0, dimensions=["a"]),
     gs.DataValidationError, r"'a' has non-numeric values \(high\). Fix: pass numeric scores"),
    ("separation in an ordinal model", lambda: gs.ordinal("y ~ x", _frame(y=[1.0, 1, 2, 2, 3, 3] * 3, x=[1.0, 1, 2, 2, 3, 3] * 3)),
     gs.DataValidationError, r"separate the outcome categories perfectly"),
    ("duplicated columns in Moments", lambda: gs.Moments.from_frame(pd.DataFrame(np.ones((3, 2)), columns=["x", "x"])),
     gs.DataValidationError, r"x appear more than once"),
]


@pytest.mark.parametrize("call, error, pattern", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_inputs_of_the_hardening_pass(call, error, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=pattern):
            call()
