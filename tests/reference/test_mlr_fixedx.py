"""MLR with fixed.x covariates and on saturated models, against lavaan 0.6-14
(``r/make_mlr_fixedx_reference.R``). With fixed.x the unrestricted model's trace leaves out
the covariates' own moments (lavaan's conditional H1): before, the scaled χ² of a MIMIC or a
path model with covariates was wrong (e.g. 2.80 instead of 7.03) with no warning; a saturated
model (df = 0) ended in a ZeroDivisionError. Tolerances: fit measures rtol 1e-5, estimates
rtol 1e-5 and SEs rtol 1e-4 (lavaan's nlminb stopping)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import govsurvey as gs

HERE = Path(__file__).parent
REF = json.loads((HERE / "values" / "mlr_fixedx.json").read_text(encoding="utf-8"))
DATA = {"hs": pd.read_csv(HERE / "data" / "HolzingerSwineford1939.csv"), "pd": pd.read_csv(HERE / "data" / "PoliticalDemocracy.csv")}
KEYS = ("chisq", "df", "npar", "chisq_scaled", "chisq_scaling_factor", "baseline_chisq", "baseline_chisq_scaled", "cfi_scaled",
        "tli_scaled", "cfi_robust", "tli_robust", "rmsea_robust")


@pytest.mark.parametrize("name", list(REF["fits"]))
def test_mlr_fit_measures_and_estimates(name):
    ref = REF["fits"][name]
    fit = gs.sem(DATA[ref["data"]], ref["model"], estimator="MLR")
    for key in KEYS:
        theirs = ref["fit"][key.replace("_", ".")]
        if theirs is None:                                   # lavaan: NA for a saturated model
            assert math.isnan(fit.fit[key]), key
        elif abs(theirs) < 1e-9:
            assert abs(fit.fit[key]) < 1e-9, key
        else:
            assert fit.fit[key] == pytest.approx(theirs, rel=1e-5), key
    ours = fit.estimates.set_index(["lhs", "op", "rhs"])
    for lhs, op, rhs, est, se in zip(*(ref["estimates"][k] for k in ("lhs", "op", "rhs", "est", "se"))):
        row = ours.loc[(lhs, op, rhs)]
        assert row["estimate"] == pytest.approx(est, rel=1e-5, abs=1e-6), (lhs, op, rhs)
        if se:
            assert row["se"] == pytest.approx(se, rel=1e-4), (lhs, op, rhs)
