"""The SEM engine's analytic derivatives against central differences, and its failure modes.

The estimates themselves are checked against lavaan in tests/reference/test_lavaan.py; here we
check the pieces that make them fast: the exact observed Hessian (Newton steps) and the analytic
Jacobian of the standardized solution (delta-method std SEs). Tolerance: 1e-7 relative to the
largest entry — central differences with h = 1e-6 are accurate to about 1e-9 here.
"""

from __future__ import annotations

from pathlib import Path

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
        numeric = m.numeric_hessian(theta)       # central differences of the analytic gradient
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


# ------------------------------------------------------------------ fast paths against plain definitions
@pytest.mark.parametrize("name", list(MODELS))
def test_fast_matrices_and_implied_moments_match_the_general_forms(data, name):
    """matrices() fills A, S, m from precomputed cells (as batch_matrices does), and implied()
    uses B = I + A where A² = 0 (first-order measurement models) instead of inverting I − A."""
    model, kw = MODELS[name]
    res = fit_model(data, model, **kw)
    m = res.model
    rng = np.random.default_rng(2)
    thetas = res.theta * (1 + 0.1 * rng.standard_normal((3, len(res.theta))))
    for g in range(len(m.groups)):
        a_b, s_b, m_b = m.batch_matrices(thetas, g)
        for k, theta in enumerate(thetas):
            a, s, mm = m.matrices(theta, g)
            assert np.array_equal(a, a_b[k]) and np.array_equal(s, s_b[k]) and np.array_equal(mm, m_b[k])
            imp = m.implied(theta, g)
            b = np.linalg.inv(np.eye(m.v) - a)
            np.testing.assert_allclose(imp["B"], b, atol=1e-12)
            np.testing.assert_allclose(imp["total"], b @ s @ b.T, atol=1e-12)
    assert m.index[0]["_nilpotent"] == (name in ("cfa", "equality labels", "fixed latent variances", "mean structure",
                                                 "two groups, equal loadings"))


@pytest.mark.parametrize("name", [k for k in MODELS if k not in ("mean structure", "two groups, equal loadings")])
def test_newton_parts_give_the_objective_and_first_order_terms(data, name):
    model, kw = MODELS[name]
    res = fit_model(data, model, **kw)
    m = res.model
    theta = res.theta * 1.03
    f, grad, info, hess = m._newton_parts(theta)
    f1, grad1, info1, hess1 = m._newton_parts(theta, second_order=False)
    assert f == pytest.approx(m.objective(theta), rel=1e-12) and f1 == f
    np.testing.assert_allclose(grad1, grad, atol=1e-14)
    np.testing.assert_allclose(info1, info, atol=1e-14)
    assert hess1 is None and hess is not None
    bad = theta.copy()
    bad[[r.par for r in m.pt.rows if r.free and r.op == "~~" and r.lhs == r.rhs][:3]] = -5.0   # Σ not positive definite
    assert m._newton_parts(bad)[0] == np.inf and m.objective(bad) == np.inf


def _congeneric(n_factors: int = 3, k: int = 4, seed: int = 4) -> tuple[pd.DataFrame, dict[str, float]]:
    """Data whose sample covariance is exactly a congeneric model's Σ (N divisor)."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.5, 1.2, (n_factors, k))
    phi = np.full((n_factors, n_factors), 0.3) + 0.7 * np.eye(n_factors)
    load = np.zeros((n_factors * k, n_factors))
    for f in range(n_factors):
        load[f * k:(f + 1) * k, f] = lam[f]
    theta = rng.uniform(0.3, 0.8, n_factors * k)
    sigma = load @ phi @ load.T + np.diag(theta)
    z = rng.standard_normal((500, n_factors * k))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T
    names = [f"x{f}{j}" for f in range(n_factors) for j in range(k)]
    truth = {f"x{f}{j}": lam[f, j] / lam[f, 0] for f in range(n_factors) for j in range(k)}
    return pd.DataFrame(z @ np.linalg.cholesky(sigma).T, columns=names), truth


@pytest.mark.parametrize("std_lv", [False, True])
def test_block_starts_are_near_the_solution_and_change_nothing_but_speed(monkeypatch, std_lv):
    """Congeneric blocks start from their one-factor solutions (scaled to the marker, or to a
    fixed factor variance); the fit from them equals the fit from the simple starts."""
    from govsurvey.psychometrics.sem import engine

    data, truth = _congeneric()
    lines = []
    for f in range(3):
        items = [f"x{f}{j}" for j in range(4)]
        lines.append(f"F{f} =~ " + ("NA*" if std_lv else "") + " + ".join(items))
        if std_lv:
            lines.append(f"F{f} ~~ 1*F{f}")
    model = "\n".join(lines)
    res = fit_model(data, model)
    assert res.fit["chisq"] == pytest.approx(0.0, abs=1e-8)            # S = Σ exactly: the solution is the truth
    starts = res.model.start_values()
    assert np.abs(starts - res.theta).max() < 0.1 * np.abs(res.theta).max()
    assert np.abs(starts - res.theta).max() < 0.5 * np.abs(res.model.start_values(refine=False) - res.theta).max()
    if not std_lv:
        est = res.estimates.query("op == '=~'").set_index("rhs")["estimate"]
        np.testing.assert_allclose(est.to_numpy(), [truth[i] for i in est.index], rtol=1e-6)
    monkeypatch.setattr(engine.Model, "_block_starts", lambda self, theta, g: None)
    simple = fit_model(data, model)
    np.testing.assert_allclose(res.theta, simple.theta, rtol=1e-7, atol=1e-9)


def test_models_whose_blocks_do_not_qualify_keep_the_simple_starts(data):
    """Cross-loadings and higher-order factors are left to the simple starts, and still fit; a
    two-indicator factor's starts reproduce its items' covariance (λ₁λ₂ψ = s₁₂)."""
    model = "A =~ a1 + a2 + a3 + b1\nB =~ b1 + b2 + b3\nC =~ c1 + c2\nH =~ A + B"
    res = fit_model(data, model)
    m = res.model
    starts = m.start_values()
    simple = m.start_values(refine=False)
    for r in m.pt.rows:
        if r.free and (r.lhs in ("A", "H") or r.rhs in ("A", "B", "H")) and r.op == "=~":
            assert starts[r.par] == simple[r.par], (r.lhs, r.rhs)
    lam = next(starts[r.par] for r in m.pt.rows if r.op == "=~" and r.rhs == "c2")
    psi = next(starts[r.par] for r in m.pt.rows if r.op == "~~" and r.lhs == r.rhs == "C")
    cov = m.groups[0].cov
    i, j = m.pt.ov.index("c1"), m.pt.ov.index("c2")
    assert lam * psi == pytest.approx(cov[i, j], rel=1e-12)
    assert res.converged


def test_model_data_fast_path_equals_the_general_path(data):
    """All-numeric frames go through one conversion; extra, reordered, text or nullable columns
    (the general path) must give the same estimates."""
    model = MODELS["cfa"][0]
    items = [c for c in data.columns if c != "g"]
    base = fit_model(data[items], model)
    shuffled = data[items[::-1]]
    with_text = data.assign(note="x")
    nullable = data[items].astype("Float64")
    for frame in (shuffled, with_text, nullable):
        res = fit_model(frame, model)
        np.testing.assert_allclose(res.theta, base.theta, rtol=1e-10)
    with pytest.raises(gs.DataValidationError, match="a2 are constant"):
        fit_model(data[items].assign(a2=1.0), model)
    constant_in_x = data.assign(a2=np.where(data["g"] == "x", 1.0, data["a2"]))
    with pytest.raises(gs.DataValidationError, match="a2 are constant in group 'x'"):
        fit_model(constant_in_x, model, group="g")


def test_near_singularity_bound_agrees_with_the_eigenvalues():
    from govsurvey.psychometrics.sem.fit import _nearly_singular

    rng = np.random.default_rng(8)
    outcomes = set()
    for scale in (1.0, 1e-6, 1e-9, 1e-11, 1e-13, 0.0):
        x = rng.standard_normal((80, 12))
        m = x.T @ x
        v = rng.standard_normal(12)
        m = m - (1 - scale) * np.outer(m @ v, m @ v) / (v @ m @ v)     # shrink one direction towards singular
        eig = np.linalg.eigvalsh(m)
        expected = eig.min() <= 1e-10 * np.abs(eig).max()
        try:
            inverse = np.linalg.inv(m)          # (as fit_model passes: the inverse it uses for the SEs)
        except np.linalg.LinAlgError:
            continue
        assert _nearly_singular(m, inverse) == expected, scale
        outcomes.add(bool(expected))
    assert outcomes == {True, False}


def test_defined_parameters_are_arithmetic_only_and_never_raise_math_errors():
    """`:=` admits numbers, labels, + - * / ^ and one-argument sqrt/exp/log/abs; log of a negative
    or a division by zero is NaN or inf (as in R), not a Python exception."""
    from pathlib import Path

    hs = pd.read_csv(Path(__file__).parent / "reference" / "data" / "HolzingerSwineford1939.csv")
    base = "visual =~ x1 + a*x2 + b*x3\n"
    est = gs.sem(hs, base + "r := a / (b - b)\nq := log(-a)\n").estimates.set_index("lhs")
    assert np.isinf(est.loc["r", "estimate"]) and np.isnan(est.loc["q", "estimate"])
    for bad, match in [("r := 'a'", "may use only"), ("r := sqrt()", "takes exactly one argument"),
                       ("r := sqrt(a, b)", "takes exactly one argument"), ("r := True", "may use only"), ("r := 1j", "may use only"),
                       ("r := a.__class__", "may use only"), ("r := __import__('os')", "only sqrt, exp, log and abs")]:
        with pytest.raises(gs.ModelSyntaxError, match=match):
            gs.sem(hs, base + bad)


@pytest.mark.parametrize("kw", [{}, {"meanstructure": True}, {"group": "school", "group_equal": ["loadings"]}])
def test_observed_hessian_is_exact(kw):
    """The analytic observed Hessian (closed form without means, FIML's single-pattern form
    with them) equals central differences of the analytic gradient — away from the optimum,
    where every term counts (issue 20: MLR no longer takes 2q gradient evaluations)."""
    import pandas as pd

    from govsurvey.psychometrics.sem.fit import fit_model

    hs = pd.read_csv(Path(__file__).parent / "reference" / "data" / "HolzingerSwineford1939.csv")
    res = fit_model(hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9", **kw)
    theta = res.theta + 0.01
    exact, numeric = res.model.observed_hessian(theta), res.model.numeric_hessian(theta)
    np.testing.assert_allclose(exact, numeric, atol=1e-7 * np.abs(numeric).max())


def test_h1_trace_closed_form_equals_the_kronecker_formula():
    from govsurvey.psychometrics.sem.engine import GroupData, h1_trace, h1_trace_kron

    x = np.random.default_rng(0).standard_t(5, (300, 7))
    gd = GroupData(x=x, n=300, mean=x.mean(0), cov=np.cov(x.T, bias=True))
    for ms in (True, False):
        assert h1_trace(gd, ms) == pytest.approx(h1_trace_kron(gd, ms), rel=1e-12)


def test_a_labelled_first_loading_is_still_fixed_and_its_label_fixes_the_others():
    """lavaan 0.6-14: cfa("f =~ m*x1 + m*x2 + m*x3 + m*x4", HS) has npar 5 and df 5 — the first
    loading is fixed at 1 by auto.fix.first although it is labelled, so every loading labelled m
    is 1; cfa("visual =~ a*x1 + x2 + x3 …") keeps x1's loading at 1 (label a)."""
    hs = pd.read_csv(Path(__file__).parent / "reference" / "data" / "HolzingerSwineford1939.csv")
    fit = gs.cfa(hs, "f =~ m*x1 + m*x2 + m*x3 + m*x4")
    assert fit.fit["npar"] == 5 and fit.fit["df"] == 5
    assert (fit.loadings["estimate"] == 1.0).all() and (fit.loadings["se"] == 0).all()
    fit = gs.cfa(hs, "visual =~ a*x1 + x2 + x3\ntextual =~ x4 + x5 + x6")
    first = fit.loadings.iloc[0]
    assert first["estimate"] == 1.0 and first["se"] == 0 and fit.fit["df"] == 8


def test_chinese_variable_and_factor_names_fit_as_ascii_ones():
    """问卷星 exports name columns by their question text; lavaan accepts such names, so does
    the model syntax (found on the real-file corpus): the same fit as with ASCII names."""
    import govsurvey as gs

    hs = pd.read_csv(Path(__file__).parent / "reference" / "data" / "HolzingerSwineford1939.csv")
    names = {"x1": "视觉一", "x2": "视觉二", "x3": "视觉三", "x4": "语言一", "x5": "语言二", "x6": "语言三"}
    ascii_fit = gs.cfa(hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6")
    cn_fit = gs.cfa(hs.rename(columns=names), "视觉 =~ 视觉一 + 视觉二 + 视觉三\n语言 =~ 语言一 + 语言二 + 语言三")
    assert cn_fit.fit["chisq"] == pytest.approx(ascii_fit.fit["chisq"], rel=1e-10)
    assert list(cn_fit.loadings["factor"].unique()) == ["视觉", "语言"]
    with pytest.raises(gs.ModelSyntaxError, match="any script"):
        gs.cfa(hs.rename(columns=names), "视觉 =~ 视觉一 + 视觉二（A）")
