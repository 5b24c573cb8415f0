"""Hostile inputs for the functions added with issue 16 (missing_report, FIML, polychoric,
ordinal reliability, ordered CFA, clf_test, marker_test, frequencies, FIML mediation): each bad
input gives a GovsurveyError naming the problem, or a result with a warning; inputs unchanged."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.errors import DataValidationError, DataWarning, NotPositiveDefiniteError, OutOfRangeError, SpecificationError

RNG = np.random.default_rng(1)
N = 300
F = RNG.standard_normal(N)
CONT = pd.DataFrame({f"q{j}": 0.7 * F + 0.7 * RNG.standard_normal(N) for j in range(1, 7)})
ORD = pd.DataFrame({f"q{j}": np.digitize(0.7 * F + 0.7 * RNG.standard_normal(N), [-1.5, -0.5, 0.5, 1.5]) + 1
                    for j in range(1, 7)})
MODEL = "F =~ q1 + q2 + q3\nG =~ q4 + q5 + q6"


def _planned(d):
    d = d.astype(float)
    d.loc[: N // 2, "q1"] = np.nan
    d.loc[N // 2:, "q2"] = np.nan
    return d


def _with(d, **cols):
    d = d.copy()
    for k, v in cols.items():
        d[k] = v
    return d


ERRORS = [
    # (label, call, data, error class, message fragment)
    ("fiml planned missingness", lambda d: gs.cfa(d, MODEL, missing="fiml"), _planned(CONT), DataValidationError, "never observed together (q1 & q2)"),
    ("sem fiml planned missingness", lambda d: gs.sem(d, MODEL + "\nG ~ F", missing="fiml"), _planned(CONT), DataValidationError, "never observed together"),
    ("clf fiml planned missingness", lambda d: gs.clf_test(d, MODEL, missing="fiml"), _planned(CONT), DataValidationError, "never observed together"),
    ("fiml all-NaN column", lambda d: gs.cfa(d, MODEL, missing="fiml"), _with(CONT, q1=np.nan), DataValidationError, "variable(s) q1 have fewer than two"),
    ("fiml constant column", lambda d: gs.cfa(d, MODEL, missing="fiml"), _with(CONT, q1=3.0), DataValidationError, "q1 have the same value"),
    ("fiml duplicate item", lambda d: gs.cfa(d, MODEL, missing="fiml"), _with(CONT, q2=CONT["q1"]), NotPositiveDefiniteError, "saturated covariance matrix"),
    ("mediation fiml constant names column", lambda d: gs.mediation(d, x="q1", m="q2", y="q3", missing="fiml", n_boot=50, seed=1),
     _with(CONT, q1=3.0), DataValidationError, "q1 have the same value"),
    ("mediation fiml duplicate names columns", lambda d: gs.mediation(d, x="q1", m="q2", y="q3", missing="fiml", n_boot=50, seed=1),
     _with(CONT, q2=CONT["q1"]), NotPositiveDefiniteError, "q2, q3, q1"),
    ("polychoric codes 1e12 (psych)", lambda d: gs.ordinal_reliability(d), ORD * 1e12, DataValidationError, "recode the items to 1, 2"),
    ("polychoric codes 1e-12", lambda d: gs.polychoric(d), ORD * 1e-12, DataValidationError, "non-integer values"),
    ("ordinal_reliability codes 1e-12", lambda d: gs.ordinal_reliability(d), ORD * 1e-12, DataValidationError, "non-integer values"),
    ("polychoric 30 categories", lambda d: gs.polychoric(d), _with(ORD, q1=np.arange(N) % 30), DataValidationError, "more than 10 distinct"),
    ("polychoric single category", lambda d: gs.polychoric(d), _with(ORD, q1=3), DataValidationError, "single observed category"),
    ("marker_test duplicated columns", lambda d: gs.marker_test(d, "q1"), CONT.set_axis(["q1", "q1", "q3", "q4", "q5", "q6"], axis=1),
     DataValidationError, "appear more than once"),
    ("marker_test inf", lambda d: gs.marker_test(d, "q1"), _with(CONT, q2=CONT["q2"].mask(CONT.index == 0, np.inf)), DataValidationError, "'q2' contains infinite values"),
    ("marker_test text substantive", lambda d: gs.marker_test(d, "q1", ["q2", "q3"]), _with(CONT, q3="x"), DataValidationError, "non-numeric values"),
    ("marker_test constant marker", lambda d: gs.marker_test(d, "q1"), _with(CONT, q1=1.0), DataValidationError, "q1 is constant"),
    ("missing_report planned missingness", lambda d: gs.missing_report(d), _planned(CONT), DataValidationError, "never observed together"),
]


@pytest.mark.parametrize("label, call, data, error, fragment", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_gives_a_clear_error_and_leaves_data_alone(label, call, data, error, fragment):
    before = copy.deepcopy(data)
    with pytest.raises(error, match=None) as info:
        call(data)
    assert fragment in str(info.value)
    assert "Fix" in str(info.value)
    pd.testing.assert_frame_equal(data, before)


def test_polychoric_huge_codes_lavaan_gives_the_same_rho_without_memory_blowup():
    base = gs.polychoric(ORD).rho
    with pytest.warns(DataWarning, match="empty categories"):
        huge = gs.polychoric(ORD * 10**12).rho
    np.testing.assert_allclose(huge.to_numpy(), base.to_numpy(), rtol=1e-12)


def test_ordinal_reliability_two_items_warns_that_omega_is_nan():
    with pytest.warns(DataWarning, match="omega_total is NaN"):
        rel = gs.ordinal_reliability(ORD[["q1", "q2"]])
    assert np.isnan(rel.omega_total) and any("omega_total is NaN" in w for w in rel.warnings)


@pytest.mark.parametrize("data, fragment", [
    (_with(ORD, q2=ORD["q1"]), "not positive definite"),
    (ORD.iloc[:15], "free parameters"),
], ids=["perfectly correlated items", "n below parameters"])
def test_ordered_cfa_warns_on_untrustworthy_input(data, fragment):
    with pytest.warns(DataWarning, match=fragment):
        fit = gs.cfa(data, MODEL, ordered=True)
    assert any(fragment in w for w in fit.warnings)


@pytest.mark.parametrize("shift", [0, -1, -11], ids=["codes 0..4", "codes 1..5 minus 1", "negative codes"])
def test_polychoric_does_not_depend_on_coding(shift):
    base = gs.polychoric(ORD).rho.to_numpy()
    np.testing.assert_allclose(gs.polychoric(ORD - 1 + shift).rho.to_numpy(), base, rtol=1e-12)


def test_nullable_int_and_index_are_fine_for_fiml_and_polychoric():
    d = ORD.astype("Int64").mask(RNG.random(ORD.shape) < 0.05, pd.NA).set_axis(np.arange(1000, 1000 + N))
    before = d.copy(deep=True)
    with pytest.warns(DataWarning):
        pc = gs.polychoric(d)
    assert pc.n_obs < N and not pc.rho.isna().any().any()
    fit = gs.cfa(d, MODEL, missing="fiml")
    assert fit.n_obs == N
    pd.testing.assert_frame_equal(d, before)


# ------------------------------------------------------------------ frequencies
@pytest.fixture(scope="module")
def survey():
    inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    return inst, gs.read_responses(gs.datasets.example_files()["csv"], inst)


@pytest.mark.parametrize("change, kwargs, error, fragment", [
    (lambda d: d.to_numpy(), {}, SpecificationError, "must be a pandas DataFrame"),
    (lambda d: d, {"lang": "xx"}, SpecificationError, "lang='xx'"),
    (lambda d: _with(d, gender=d["gender"] == 1), {}, OutOfRangeError, "True/False"),
    (lambda d: _with(d, gender="x"), {}, OutOfRangeError, "not codes of its scale"),
    (lambda d: _with(d, gender=d["gender"] * 1e12), {}, OutOfRangeError, "not codes of its scale"),
    (lambda d: _with(d, gender=-d["gender"]), {}, OutOfRangeError, "-1.0"),
    (lambda d: _with(d, gender=d["gender"].mask(np.arange(len(d)) == 0, np.inf)), {}, OutOfRangeError, "inf"),
    (lambda d: pd.concat([d[["gender"]], d[["gender"]]], axis=1), {}, DataValidationError, "more than once"),
], ids=["ndarray", "unknown lang", "bool", "text", "huge", "negative", "inf", "duplicated column"])
def test_frequencies_bad_input(survey, change, kwargs, error, fragment):
    inst, data = survey
    d = change(data)
    with pytest.raises(error) as info:
        gs.frequencies(d, inst, columns=["gender"], **kwargs)
    assert fragment in str(info.value)


def test_frequencies_instrument_none_and_string_columns(survey):
    inst, data = survey
    with pytest.raises(SpecificationError, match="instrument must be an Instrument"):
        gs.frequencies(data, None, columns=["gender"])
    assert gs.frequencies(data, inst, columns="gender").equals(gs.frequencies(data, inst, columns=["gender"]))


@pytest.mark.parametrize("rows", [slice(0, 0), slice(None)], ids=["empty frame", "all-NaN column"])
def test_frequencies_no_answers_warns(survey, rows):
    inst, data = survey
    d = data.iloc[rows].copy()
    d["gender"] = np.nan
    with pytest.warns(DataWarning, match="no answers"):
        gs.frequencies(d, inst, columns=["gender"])
