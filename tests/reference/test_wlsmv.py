"""Ordinal CFA (``ordered=``, WLSMV, delta parameterization) against lavaan 0.6-14:
``values/ordinal.json`` made by ``r/make_ordinal_reference.R`` on psych's bfi (25 items,
6 categories, 2,436 complete cases) and HolzingerSwineford1939 cut into 4 categories.
Tolerances as issue 18 states them: estimates, SEs and thresholds 1e-4; χ², scaled χ², df and
robust CFI/TLI/RMSEA 1e-4 (relative to max(1, |value|))."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs

HERE = Path(__file__).parent
REF = json.loads((HERE / "values" / "ordinal.json").read_text(encoding="utf-8"))
KEYS = {"chisq": "chisq", "df": "df", "pvalue": "pvalue", "chisq.scaled": "chisq_scaled", "pvalue.scaled": "pvalue_scaled",
        "chisq.scaling.factor": "chisq_scaling_factor", "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df",
        "baseline.chisq.scaled": "baseline_chisq_scaled", "cfi": "cfi", "tli": "tli", "cfi.scaled": "cfi_scaled",
        "tli.scaled": "tli_scaled", "cfi.robust": "cfi_robust", "tli.robust": "tli_robust", "rmsea": "rmsea",
        "rmsea.scaled": "rmsea_scaled", "rmsea.robust": "rmsea_robust", "srmr": "srmr", "npar": "npar"}


def _data(name: str) -> pd.DataFrame:
    if name == "hs":
        return pd.read_csv(HERE / "data" / "hs_ordinal.csv")
    return pd.read_csv(HERE / "data" / "bfi.csv")[REF["items"]].dropna()


@pytest.fixture(scope="module", params=["hs", "bfi"])
def case(request):
    name = request.param
    return name, gs.cfa(_data(name), REF["wlsmv"]["models"][name], ordered=True), REF["wlsmv"][name]


def test_fit_measures_match_lavaan(case):
    name, fit, ref = case
    assert fit.estimator == "WLSMV" and fit.n_obs == ref["nobs"]
    for key, ours in KEYS.items():
        assert fit.fit[ours] == pytest.approx(ref["fit"][key], rel=1e-4, abs=1e-6), (name, key)


def test_estimates_ses_and_thresholds_match_lavaan(case):
    name, fit, ref = case
    theirs = pd.DataFrame(ref["estimates"])
    theirs = theirs[~theirs.op.isin(["~*~", "~1"])]            # scaling factors (1) and intercepts/means (0): fixed, not shown
    merged = fit.estimates.merge(theirs, on=["lhs", "op", "rhs"], how="outer", suffixes=("", "_r"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", ["lhs", "op", "rhs"]]
    np.testing.assert_allclose(merged["estimate"], merged["est"], atol=1e-4)
    np.testing.assert_allclose(merged["se"], merged["se_r"].fillna(0), atol=1e-4)
    np.testing.assert_allclose(merged["std_all"], merged["std_all_r"], atol=1e-4)
    assert (merged["op"] == "|").sum() == sum(1 for lab in ref["estimates"]["op"] if lab == "|")


def test_residual_variances_are_one_minus_r2(case):
    name, fit, ref = case
    est = fit.estimates
    resid = est[(est.op == "~~") & (est.lhs == est.rhs) & est.lhs.isin(list(ref["r2"]))].set_index("lhs")["estimate"]
    for item, r2 in ref["r2"].items():
        assert resid[item] == pytest.approx(1 - r2, abs=1e-4)


def test_ordinal_options_are_checked():
    data = _data("hs")
    model = REF["wlsmv"]["models"]["hs"]
    with pytest.raises(gs.SpecificationError, match="ordered"):
        gs.cfa(data, model, estimator="WLSMV")
    with pytest.raises(gs.SpecificationError, match="must be ordered"):
        gs.cfa(data, model, ordered=["x1", "x2"])
    with pytest.raises(gs.SpecificationError, match="complete cases"):
        gs.cfa(data, model, ordered=True, missing="fiml")
    with pytest.raises(gs.SpecificationError, match="Wu & Estabrook"):      # groups: the sequence's steps only
        gs.cfa(data, model, ordered=True, group="school", group_equal=["intercepts"])
    with pytest.raises(gs.SpecificationError, match="estimator"):
        gs.cfa(data, model, ordered=True, estimator="wlsmv")


@pytest.mark.slow
def test_study_spec_cfa_ordered_runs_wlsmv_and_the_report_says_so(tmp_path):
    """``cfa: {ordered: true}`` in a study: WLSMV on complete cases, the table note names the
    estimator and N, GFI/AGFI are not claimed (not defined for WLSMV)."""
    from example_spec import example_spec

    from govsurvey.report.document import Table, build_document
    from govsurvey.study import Study

    path = example_spec(tmp_path, {"cfa": {"model": "instrument", "constructs": ["trust", "satisfaction", "reserves"],
                                           "ordered": True}, "validity": True})
    results = Study.from_yaml(path).run()
    assert not results.failures
    cfa = results.analyses["cfa"]
    assert cfa.estimator == "WLSMV" and cfa.n_obs + cfa.n_dropped == results.frame.shape[0]
    table = next(b for s in build_document(results).sections for b in s.blocks if isinstance(b, Table) and b.caption == "验证性因子分析拟合指标")
    assert "WLSMV" in table.note and f"N = {cfa.n_obs}" in table.note
    assert table.frame.loc[0, "GFI"] == "—" and table.frame.loc[0, "χ²"] == f"{cfa.fit['chisq_scaled']:.2f}"


def test_theta_parameterization_matches_lavaan():
    """parameterization="theta" (residual variances of the latent responses fixed at 1): the same
    fit as delta, estimates, SEs and standardized values on lavaan's theta scale."""
    ref = REF["wlsmv"]["hs_theta"]
    fit = gs.cfa(_data("hs"), REF["wlsmv"]["models"]["hs"], ordered=True, parameterization="theta")
    for key, ours in KEYS.items():
        assert fit.fit[ours] == pytest.approx(ref["fit"][key], rel=1e-4, abs=1e-6), key
    theirs = pd.DataFrame(ref["estimates"])
    merged = fit.estimates.merge(theirs[~theirs.op.isin(["~*~", "~1"])], on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(fit.estimates)
    np.testing.assert_allclose(merged["estimate"], merged["est"], atol=1e-4)
    np.testing.assert_allclose(merged["se"], merged["se_r"].fillna(0), atol=1e-4)
    np.testing.assert_allclose(merged["std_all"], merged["std_all_r"], atol=1e-4)
    with pytest.raises(gs.SpecificationError, match="parameterization"):
        gs.cfa(_data("hs"), REF["wlsmv"]["models"]["hs"], ordered=True, parameterization="Theta")


def test_structural_paths_with_ordered_indicators_match_lavaan():
    """gs.sem with regressions among factors and a defined indirect effect, ordered indicators
    (lavaan's sem(..., ordered=, estimator="WLSMV") on HS in 4 categories)."""
    ref = REF["wlsmv"]["hs_sem"]
    fit = gs.sem(_data("hs"), REF["wlsmv"]["models"]["hs_sem"], ordered=True)
    for key, ours in KEYS.items():
        assert fit.fit[ours] == pytest.approx(ref["fit"][key], rel=1e-4, abs=1e-6), key
    theirs = pd.DataFrame(ref["estimates"])
    theirs = theirs[~theirs.op.isin(["~*~", "~1"])].copy()
    ours = fit.estimates.copy()
    ours.loc[ours.op == ":=", "rhs"] = ""
    theirs.loc[theirs.op == ":=", "rhs"] = ""
    merged = ours.merge(theirs, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(ours) == len(theirs)
    np.testing.assert_allclose(merged["estimate"], merged["est"], atol=1e-4)
    np.testing.assert_allclose(merged["se"], merged["se_r"].fillna(0), atol=1e-4)
    paths = merged[merged.op == "~"]
    np.testing.assert_allclose(paths["std_all"], paths["std_all_r"], atol=1e-4)
