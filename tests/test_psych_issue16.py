"""Issue 16 against psych 2.2.9 (R 4.2.2, Debian 12's r-cran-psych): tests/reference/values/issue16_psych.json,
made by tests/reference/r/make_issue16_psych_reference.R.

Tolerances, per quantity:
- closed forms from the pairwise correlations (KMO, Bartlett χ² and p, alpha, Feldt bounds,
  the correlations themselves): rel 1e-6 — the same arithmetic as R, to rounding;
- principal axis run to convergence (min.err = 1e-10) and the promax rotations applied to it or
  to principal components: abs 1e-6 — the same deterministic fixed point and formulas;
- minres EFA, omega and one-factor omega total from the pairwise correlations: abs 1e-4 —
  psych's minres is L-BFGS-B stopped at its default tolerance, ~1e-5 from the optimum (as in
  tests/reference/test_psych.py), and oblimin stops at GPArotation's eps 1e-5.
Factors are aligned by label and sign before comparing.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs

HERE = Path(__file__).resolve().parent / "reference"
REF = json.loads((HERE / "values" / "issue16_psych.json").read_text(encoding="utf-8"))
PW = REF["pairwise"]
# 0-based rows of the R script's seq(3, 301, 7) etc.
NA_ROWS = {"x1": range(2, 301, 7), "x4": range(4, 301, 11), "x6": range(1, 301, 13), "x8": range(6, 301, 17), "x9": range(0, 301, 19)}
ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hs_items() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "HolzingerSwineford1939.csv")[ITEMS]


@pytest.fixture(scope="module")
def gappy(hs_items) -> pd.DataFrame:
    x = hs_items.copy()
    for item, rows in NA_ROWS.items():
        x.loc[list(rows), item] = np.nan
    return x


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _matrix(columns: list[dict]) -> tuple[list[str], np.ndarray]:
    items = list(columns[0])
    return items, np.array([[col[i] for col in columns] for i in items])


def _aligned(loadings: pd.DataFrame, ref_columns: list[dict]) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray]:
    """Our loadings matched to the reference's factors (by absolute congruence) and signs."""
    items, ref = _matrix(ref_columns)
    ours = loadings.loc[items].to_numpy()
    perm: list[int] = []
    for j in range(ref.shape[1]):
        free = [c for c in range(ours.shape[1]) if c not in perm]
        perm.append(max(free, key=lambda c: abs(ours[:, c] @ ref[:, j])))
    signs = np.array([np.sign(ours[:, c] @ ref[:, j]) or 1.0 for j, c in enumerate(perm)])
    return ours[:, perm] * signs, ref, perm, signs


def _check_efa(fit, ref: dict, atol: float) -> None:
    ours, expected, perm, signs = _aligned(fit.loadings, ref["loadings"])
    np.testing.assert_allclose(ours, expected, atol=atol, rtol=0)
    for item, h2 in ref.get("communalities", {}).items():
        assert fit.communalities[item] == pytest.approx(h2, abs=atol)
    if ref.get("Phi"):
        phi = fit.phi.to_numpy()[np.ix_(perm, perm)] * np.outer(signs, signs)
        np.testing.assert_allclose(phi, np.array(ref["Phi"]), atol=atol, rtol=0)


# ---- 1. pairwise conventions -------------------------------------------------------------

def test_pairwise_data_is_what_r_saw(gappy):
    assert len(gappy) == PW["n_rows"] and int(gappy.notna().all(axis=1).sum()) == PW["n_complete"]


def test_kmo_pairwise(gappy):
    """psych::KMO(Xm): cor(x, use='pairwise'). rel 1e-6."""
    k = _quiet(gs.kmo, gappy, missing="pairwise")
    assert k.overall == pytest.approx(PW["kmo"]["overall"], rel=1e-6)
    for item, msa in PW["kmo"]["per_item"].items():
        assert k.per_item[item] == pytest.approx(msa, rel=1e-6)


def test_bartlett_pairwise_uses_every_row(gappy):
    """psych::cortest.bartlett(Xm): R = cor(x, use='pairwise'), n = nrow(x) = 301. rel 1e-6."""
    b = _quiet(gs.bartlett, gappy, missing="pairwise")
    ref = PW["bartlett"]
    assert b.chi2 == pytest.approx(ref["chisq"], rel=1e-6)
    assert b.p_value == pytest.approx(ref["p_value"], rel=1e-6) if ref["p_value"] > 0 else b.p_value == 0
    assert b.df == ref["df"] and b.n_obs == ref["n"] == 301
    assert "301 rows" in b.n_obs_rule and "191 complete" in b.n_obs_rule
    listwise = _quiet(gs.bartlett, gappy)
    assert listwise.n_obs == PW["n_complete"] and "complete rows" in listwise.n_obs_rule


def test_efa_minres_oblimin_pairwise(gappy):
    """psych::fa(Xm, 3, fm='minres', rotate='oblimin'). abs 1e-4 (L-BFGS-B and GPArotation stops)."""
    fit = _quiet(gs.efa, gappy, 3, method="minres", rotation="oblimin", missing="pairwise")
    _check_efa(fit, PW["efa_minres_oblimin"], 1e-4)
    assert fit.n_obs == PW["efa_minres_oblimin"]["n_obs"] == 301 and "nrow" in fit.n_obs_rule


def test_efa_pa_promax_pairwise(gappy):
    """psych::fa(Xm, 3, fm='pa', rotate='promax') with psych's min.err 0.001: the same iterations
    from the same pairwise correlations. abs 1e-6."""
    fit = _quiet(gs.efa, gappy, 3, method="pa", rotation="promax", missing="pairwise")
    _check_efa(fit, PW["efa_pa_promax"], 1e-6)


def test_omega_pairwise(gappy):
    """psych::omega(Xm, 3): omegah takes cor(m, use='pairwise'). abs 1e-4."""
    om = _quiet(gs.omega, gappy, 3, missing="pairwise")
    assert om.omega_h == pytest.approx(PW["omega3"]["omega_h"], abs=1e-4)
    assert om.omega_total == pytest.approx(PW["omega3"]["omega_tot"], abs=1e-4)


def test_reliability_pairwise_feldt_and_omega(gappy):
    """psych::alpha(Xm[, c('x4','x5','x6')]): alpha from cov(use='pairwise') (rel 1e-6), Feldt's
    interval with n = nrow(x) = 301 (rel 1e-6); psych::omega(nfactors=1) from cor(use='pairwise')
    and splitHalf's maxrb (abs 1e-4)."""
    ref = PW["alpha_textual"]
    r = _quiet(gs.reliability, gappy[["x4", "x5", "x6"]], missing="pairwise")
    assert r.alpha == pytest.approx(ref["raw_alpha"], rel=1e-6)
    assert r.alpha_std == pytest.approx(ref["std_alpha"], rel=1e-6)
    assert r.average_r == pytest.approx(ref["average_r"], rel=1e-6)
    assert r.alpha_ci[0] == pytest.approx(ref["feldt"][0], rel=1e-6)
    assert r.alpha_ci[1] == pytest.approx(ref["feldt"][1], rel=1e-6)
    assert r.n_obs == ref["feldt_n"] == 301
    assert r.lambda6 == pytest.approx(ref["G6"], abs=1e-4)
    assert r.omega_total == pytest.approx(ref["omega_total_1f"], abs=1e-4)
    assert r.split_half == pytest.approx(ref["split_half_max"], abs=1e-4)
    nine = _quiet(gs.reliability, gappy, missing="pairwise")
    assert nine.alpha == pytest.approx(PW["alpha_all9"]["raw_alpha"], rel=1e-6)
    np.testing.assert_allclose(nine.alpha_ci, PW["alpha_all9"]["feldt"], rtol=1e-6)


def test_undefined_pairwise_correlation_is_named():
    x = pd.DataFrame({"a": [1, 2, 3, 4, np.nan, np.nan, 5, 1.0], "b": [2, 2, 2, 2, 1, 3, np.nan, np.nan],
                      "c": [1, 3, 2, 4, 2, 3, 1, 2.0]})
    with pytest.raises(gs.DataValidationError, match=r"pairwise correlation of a and b .*missing='listwise'"):
        _quiet(gs.kmo, x, missing="pairwise")


# ---- 2. principal axis to convergence ----------------------------------------------------

@pytest.mark.parametrize("key, n_factors, rotation", [("none", 3, "none"), ("promax", 3, "promax"), ("one", 1, "none")])
def test_principal_axis_run_to_convergence(hs_items, key, n_factors, rotation):
    """psych::fa(X, nf, fm='pa', min.err=1e-10, max.iter=1000). abs 1e-6."""
    fit = gs.efa(hs_items, n_factors, method="pa", rotation=rotation, min_err=1e-10, max_iter=1000)
    assert fit.converged
    _check_efa(fit, REF["pa_converged"][key], 1e-6)


def test_principal_axis_default_stop_is_psychs(hs_items):
    """Without min_err: psych's 0.001, the same early stop (abs 1e-6), well away from the fixed point."""
    fit = gs.efa(hs_items, 3, method="pa", rotation="none")
    _check_efa(fit, REF["pa_converged"]["default_none"], 1e-6)
    ours, conv, _, _ = _aligned(fit.loadings, REF["pa_converged"]["none"]["loadings"])
    assert np.abs(ours - conv).max() > 1e-4


def test_min_err_is_checked(hs_items):
    with pytest.raises(gs.SpecificationError, match="min_err"):
        gs.efa(hs_items, 3, method="minres", min_err=1e-8)
    with pytest.raises(ValueError, match="min_err"):
        gs.efa(hs_items, 3, method="pa", min_err=0)


# ---- 3. promax conventions ----------------------------------------------------------------

@pytest.mark.parametrize("rotation, key", [("promax", "kaiser"), ("promax_stats", "stats"), ("promax_spss", "spss")])
def test_pca_promax_conventions(hs_items, rotation, key):
    """Three principal components of X rotated: promax = psych::kaiser(…, 'Promax') (psych::fa's),
    promax_stats = psych::principal(rotate='promax'), promax_spss = the SPSS transcription in the R
    script. abs 1e-6 (loadings, Phi)."""
    fit = gs.efa(hs_items, 3, method="pc", rotation=rotation)
    _check_efa(fit, REF["promax"][key], 1e-6)


def test_promax_conventions_differ(hs_items):
    """The choice matters at the second decimal: documented, not hidden."""
    fits = {r: gs.efa(hs_items, 3, method="pc", rotation=r).loadings for r in ("promax", "promax_stats", "promax_spss")}
    assert np.abs(fits["promax"].to_numpy() - fits["promax_stats"].to_numpy()).max() > 0.02
    assert np.abs(fits["promax"].to_numpy() - fits["promax_spss"].to_numpy()).max() > 0.01
