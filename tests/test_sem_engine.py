"""The SEM engine's analytic derivatives against central differences, and its failure modes.

The estimates themselves are checked against lavaan in tests/reference/test_lavaan.py; here we
check the pieces that make them fast: the exact observed Hessian (Newton steps) and the analytic
Jacobian of the standardized solution (delta-method std SEs). Tolerance: 1e-7 relative to the
largest entry — central differences with h = 1e-6 are accurate to about 1e-9 here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.psychometrics.sem.fit import _std_jacobian, _std_jacobian_numeric, fit_model


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 800
    f = rng.multivariate_normal([0, 0, 0], [[1, .4, .3], [.4, 1, .5], [.3, .5, 1]], size=n)
    cols = {}
    for j, name in enumerate("abc"):
        for k in range(1, 5):
            lam = 0.5 + 0.1 * k
            cols[f"{name}{k}"] = lam * f[:, j] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    cols["a1"] += 0.3 * cols["b1"]          # some misfit, so S ≠ Σ̂ and the Hessian ≠ the information
    frame = pd.DataFrame(cols)
    frame["g"] = np.where(np.arange(n) % 2 == 0, "x", "y")
    return frame


MODELS = {
    "cfa": ("A =~ a1 + a2 + a3 + a4\nB =~ b1 + b2 + b3 + b4\nC =~ c1 + c2 + c3 + c4", {}),
    "sem with observed predictor and residual covariance": (
        "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nC =~ c1 + c2 + c3\nB ~ A\nC ~ B + A + a4\na1 ~~ b1\nb4 ~ c4", {}),
    "equality labels": ("A =~ a1 + l*a2 + l*a3\nB =~ b1 + b2 + b3\nA ~~ B", {}),
    "fixed latent variances": ("A =~ NA*a1 + a2 + a3\nB =~ NA*b1 + b2 + b3\nA ~~ 1*A\nB ~~ 1*B", {}),
    "mean structure": ("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", {"meanstructure": True}),
    "two groups, equal loadings": ("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", {"group": "g", "group_equal": ("loadings", "intercepts")}),
}


@pytest.mark.parametrize("name", [k for k in MODELS if k not in ("mean structure", "two groups, equal loadings")])
def test_analytic_hessian_matches_central_differences(data, name):
    model, kw = MODELS[name]
    res = fit_model(data, model, **kw)
    m = res.model
    rng = np.random.default_rng(0)
    for theta in (res.theta, res.theta * (1 + 0.05 * rng.standard_normal(len(res.theta)))):
        grad, info, hess = m.hessian(theta)
        grad0, info0 = m.gradient_and_info(theta)
        numeric = m.observed_hessian(theta)
        np.testing.assert_allclose(grad, grad0, atol=1e-12)
        np.testing.assert_allclose(info, info0, atol=1e-12)
        assert np.abs(hess - numeric).max() <= 1e-7 * np.abs(numeric).max()
        assert np.abs(hess - info).max() > 1e-4      # the check is not vacuous: misfit makes them differ


@pytest.mark.parametrize("name", list(MODELS))
def test_analytic_std_jacobian_matches_central_differences(data, name):
    model, kw = MODELS[name]
    res = fit_model(data, model, **kw)
    analytic = _std_jacobian(res.model, res.theta)
    numeric = _std_jacobian_numeric(res.model, res.theta)
    assert np.array_equal(np.isfinite(analytic), np.isfinite(numeric))
    both = np.isfinite(analytic)
    assert np.abs(analytic - numeric)[both].max() <= 1e-7 * max(1.0, np.abs(numeric[both]).max())


def test_newton_reaches_the_same_optimum_as_fisher_scoring(data):
    model, _ = MODELS["sem with observed predictor and residual covariance"]
    res = fit_model(data, model)
    theta, info = res.model.fit(newton=False)
    assert info["converged"]
    np.testing.assert_allclose(theta, res.theta, rtol=1e-7, atol=1e-9)
    assert res.extra["iterations"] < info["iterations"]


def test_diverging_fit_raises_convergence_error(monkeypatch, data):
    from govsurvey.psychometrics.sem import engine

    real_fit = engine.Model.fit
    monkeypatch.setattr(engine.Model, "fit", lambda self, *a, **k: real_fit(self, max_iter=2))
    monkeypatch.setattr(engine.Model, "_block_starts", lambda self, theta, g: None)   # the simple (far) starts
    with pytest.raises(gs.ConvergenceError, match="did not converge in 2 iterations .* Fix:"):
        gs.cfa(data, MODELS["cfa"][0])


def test_duplicated_model_columns_are_refused(data):
    dup = pd.concat([data[["a1", "a2", "a3"]], data[["a1"]]], axis=1)
    with pytest.raises(gs.DataValidationError, match="a1 appear more than once"):
        gs.cfa(dup, "A =~ a1 + a2 + a3")
