"""Psychometrics beyond the R reference values: warnings from constructed cases, bad input,
recovery of the example study's planted structure, content validity, the bootstrap."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs


def exact(cov: np.ndarray, n: int, seed: int = 0, columns=None) -> pd.DataFrame:
    """Data whose sample covariance (N divisor) is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, cov.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T
    return pd.DataFrame(z @ np.linalg.cholesky(cov).T, columns=columns or [f"v{j + 1}" for j in range(cov.shape[0])])


@pytest.fixture(scope="module")
def keyed(inst, xlsx_data):
    return gs.reverse_code(gs.screen(xlsx_data, inst).clean, inst)


# ------------------------------------------------------------------ recovery on the example
@pytest.mark.parametrize("method", ["minres", "ml", "pa"])
def test_efa_recovers_the_planted_dimensions(inst, keyed, method):
    """Every construct item loads highest on its own factor, one factor per construct."""
    fit = gs.efa(keyed[inst.construct_items], len(inst.first_order), method=method, rotation="oblimin")
    top = fit.loadings.abs().idxmax(axis=1)
    owner = {}
    for construct in inst.first_order:
        factors = top[inst.items_of(construct)]
        assert factors.nunique() == 1, (construct, factors.to_dict())
        owner[construct] = factors.iloc[0]
    assert len(set(owner.values())) == len(inst.first_order)


def test_cfa_recovers_the_planted_loadings(inst, keyed, truth):
    fit = gs.cfa(keyed, inst.cfa_model())
    assert fit.fit["cfi"] > 0.95 and fit.fit["rmsea"] < 0.05 and fit.fit["srmr"] < 0.05
    est = fit.loadings.set_index("item")["std_all"]
    planted = pd.Series(truth["model"]["item_loadings"])
    # five-point categorisation attenuates loadings a little; the pattern must follow the truth
    assert np.corrcoef(est[planted.index], planted)[0, 1] > 0.8
    assert (est[planted.index] / planted).between(0.75, 1.1).all()
    assert (fit.reliability["cr"] > 0.65).all()
    assert any("listwise" in w for w in fit.warnings)  # sparse item non-response is reported


def test_example_third_order_model_is_flagged(inst, keyed):
    """The example simulates no distinct pre/during/post level, so capacity → stage is a Heywood case."""
    with pytest.warns(gs.HeywoodCaseWarning):
        fit = gs.cfa(keyed, inst.cfa_model(["capacity"]))
    assert any("negative variance" in w for w in fit.warnings)


def test_parallel_analysis_and_kaiser_on_the_example(inst, keyed):
    pa = gs.parallel_analysis(keyed[inst.items_of("participation")], n_iter=30, seed=3)
    assert pa.n_factors == 3
    assert gs.efa(keyed[inst.items_of("participation")], method="pc", rotation="varimax").n_factors >= 2


# -------------------------------------------------------------------------------- warnings
def test_heywood_in_cfa():
    """r(a,b) = r(a,c) = .7, r(b,c) = .4 implies λ_a² = .49/.4 > 1: a negative residual variance."""
    data = exact(np.array([[1, .7, .7], [.7, 1, .4], [.7, .4, 1]]), 300, columns=list("abc"))
    with pytest.warns(gs.HeywoodCaseWarning, match="negative variance estimate"):
        fit = gs.cfa(data, "f =~ a + b + c")
    assert "Heywood" in fit.warnings[0] and "a" in fit.warnings[0]


@pytest.mark.parametrize("method", ["minres", "ml", "pa"])
def test_heywood_in_efa(method):
    r = np.full((6, 6), .3)
    np.fill_diagonal(r, 1)
    r[0, 1] = r[1, 0] = .999
    data = exact(r, 300, seed=1)
    with pytest.warns(gs.HeywoodCaseWarning, match="communality"):
        fit = gs.efa(data, 2, method=method, rotation="varimax")
    assert any("v1, v2" in w for w in fit.warnings)


def test_nonconvergence_is_reported(hs_like):
    with pytest.warns(gs.ConvergenceWarning, match="did not converge"):
        fit = gs.efa(hs_like, 3, method="pa", max_iter=2)
    assert not fit.converged


def test_underidentified_model_warns():
    r = np.eye(4)
    r[0, 1] = r[1, 0] = r[2, 3] = r[3, 2] = .5
    with pytest.warns(gs.DataWarning, match="singular"):
        gs.cfa(exact(r, 200, 3, list("abcd")), "f1 =~ a + b\nf2 =~ c + d")


def test_negative_item_total_correlation_suggests_reverse_key():
    r = np.array([[1, .5, -.4], [.5, 1, -.4], [-.4, -.4, 1]])
    data = exact(r, 200, columns=["i1", "i2", "i3"])
    with pytest.warns(gs.DataWarning, match="reverse key may be missing"):
        rel = gs.reliability(data)
    assert rel.items.loc["i3", "r_drop"] < 0
    with pytest.warns(gs.DataWarning, match="i3"):
        gs.item_analysis(data)


def test_zero_variance_item_is_dropped_from_alpha_and_refused_by_efa():
    data = exact(np.array([[1, .5, .5], [.5, 1, .5], [.5, .5, 1]]), 100)
    data["flat"] = 3.0
    with pytest.warns(gs.DataWarning, match="flat has zero variance"):
        rel = gs.reliability(data)
    assert rel.n_items == 3
    with pytest.raises(gs.DataValidationError, match="zero variance.*Fix: drop them"):
        gs.efa(data, 1)


def test_too_few_cases_per_item():
    data = exact(np.eye(6) * .5 + .5, 20)
    with pytest.warns(gs.DataWarning, match="20 cases for 6 items"):
        gs.reliability(data)


def test_non_positive_definite_input_names_the_items():
    data = exact(np.eye(4) * .6 + .4, 100, columns=["a", "b", "c", "d"])
    data["e"] = data["a"] + data["b"]
    with pytest.raises(gs.NotPositiveDefiniteError, match="singular.*items involved: .*e"):
        gs.efa(data, 1)
    with pytest.raises(gs.NotPositiveDefiniteError):
        gs.kmo(data)
    with pytest.raises(gs.NotPositiveDefiniteError, match="sample covariance matrix is singular"):
        gs.cfa(data, "f =~ a + b + c + d + e")


# ------------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def hs_like():
    r = np.full((9, 9), .15)
    for block in range(3):
        idx = slice(3 * block, 3 * block + 3)
        r[idx, idx] = .55
    np.fill_diagonal(r, 1)
    return exact(r, 300, seed=7, columns=[f"x{i}" for i in range(1, 10)])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda d: gs.efa(d, 3, method="alpha"), gs.SpecificationError, "method='alpha' is not known"),
        (lambda d: gs.efa(d, 3, rotation="quartimax"), gs.SpecificationError, "rotation='quartimax'"),
        (lambda d: gs.efa(d, 8), gs.SpecificationError, "too many for 9 items"),
        (lambda d: gs.efa(d, 0), gs.SpecificationError, "n_factors=0"),
        (lambda d: gs.reliability(d, ci=95), gs.SpecificationError, "ci=95"),
        (lambda d: gs.reliability(d, missing="mean"), gs.SpecificationError, "missing='mean'"),
        (lambda d: gs.item_analysis(d, extreme=0.6), gs.SpecificationError, "extreme=0.6"),
        (lambda d: gs.parallel_analysis(d, n_iter=0), gs.SpecificationError, "n_iter=0"),
        (lambda d: gs.omega(d, 0), gs.SpecificationError, "n_factors=0"),
        (lambda d: gs.harman_test(d, method="ml"), gs.SpecificationError, "method='ml'"),
        (lambda d: gs.cfa(d, "f =~ x1 + x2 + nope"), gs.UnknownItemError, "not in the data: nope"),
        (lambda d: gs.cfa(d, "f =~ x1 + x2 + x3\nf => x4"), gs.ModelSyntaxError, "line 2"),
        (lambda d: gs.cfa(d, "f =~ x1 + x2\nf ~~ x1"), gs.ModelSyntaxError, None),
        (lambda d: gs.cfa(d, ""), gs.ModelSyntaxError, "empty"),
        (lambda d: gs.cfa(d, "f =~ x1 + x2 + x3", estimator="WLSMV"), gs.SpecificationError, "estimator='WLSMV'"),
        (lambda d: gs.cfa(d, "f =~ x1 + x2 + x3\nx4 ~ x5"), gs.SpecificationError, "use gs.sem"),
        (lambda d: gs.cfa(d, "f =~ x1 + x2 + x3", group_equal=("loadings",)), gs.SpecificationError, "needs group="),
        (lambda d: gs.cfa(d, "f =~ x1 + x2 + x3", group="nope"), gs.UnknownItemError, "nope"),
        (lambda d: gs.sem(d, "f =~ x1 + x2 + x3\nind := a*b"), gs.ModelSyntaxError, "not a parameter label"),
        (lambda d: gs.sem(d, "f =~ x1 + x2 + x3\nx1 ~~ x2\nx1 > 0"), gs.ModelSyntaxError, "inequality"),
        (lambda d: gs.htmt(d, "f =~ x1 + x2 + x3"), gs.SpecificationError, "at least two factors"),
        (lambda d: gs.fornell_larcker(gs.sem(d, "f =~ x1 + x2 + x3")), gs.SpecificationError, "result of gs.cfa"),
        (lambda d: gs.invariance(d.assign(g=1), "f =~ x1 + x2 + x3", "g"), gs.DataValidationError, "1 level"),
        (lambda d: gs.efa(d.assign(x1=d["x1"].astype(str).where(d.index > 0, "同意")), 3), gs.DataValidationError, "non-numeric"),
        (lambda d: gs.efa(d.iloc[:2], 1), gs.DataValidationError, "complete cases"),
        (lambda d: gs.efa(d[["x1", "x2"]], 1), gs.DataValidationError, "at least 3 items"),
        (lambda d: gs.reliability(d.assign(x1=np.inf)), gs.DataValidationError, "infinite"),
        (lambda d: gs.reliability(d.to_numpy()[:, 0]), gs.SpecificationError, "2-D"),
    ],
)
def test_bad_input_gives_clear_errors(hs_like, call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            call(hs_like)


# ------------------------------------------------------------------------- content validity
@pytest.mark.parametrize(
    "n, agree, i_cvi, pc, kappa",
    # Polit, Beck & Owen (2007), Res. Nurs. Health 30:459, Table 4 (rounded to 2–3 places)
    [(3, 3, 1.00, .125, 1.00), (3, 2, .67, .375, .47), (5, 4, .80, .156, .76), (6, 5, .83, .094, .82),
     (9, 7, .78, .070, .76), (9, 8, .89, .018, .89)],
)
def test_content_validity_against_polit_beck_owen(n, agree, i_cvi, pc, kappa):
    ratings = pd.DataFrame({"item": [4] * agree + [1] * (n - agree)})
    cv = gs.content_validity(ratings)
    row = cv.items.loc["item"]
    assert row["i_cvi"] == pytest.approx(i_cvi, abs=0.005)
    assert row["pc"] == pytest.approx(pc, abs=0.0005)
    assert row["kappa"] == pytest.approx(kappa, abs=0.005)
    assert row["pc"] == pytest.approx(math.comb(n, agree) * 0.5**n, rel=1e-12)


def test_content_validity_scale_indices_and_errors():
    ratings = pd.DataFrame({"Q1": [4, 4, 3, 4], "Q2": [4, 2, 3, 4], "Q3": [3, 3, 4, 4]})
    cv = gs.content_validity(ratings)
    assert cv.s_cvi_ave == pytest.approx((1 + .75 + 1) / 3)
    assert cv.s_cvi_ua == pytest.approx(2 / 3)
    with pytest.raises(gs.DataValidationError, match="1–4"):
        gs.content_validity(ratings.replace(2, 5))
    with pytest.raises(gs.DataValidationError, match="1–4"):
        gs.content_validity(ratings.astype(float).where(ratings != 2))
    with pytest.warns(gs.DataWarning, match="Only 2 experts"):
        gs.content_validity(ratings.iloc[:2])


# -------------------------------------------------------------------------------- bootstrap
def test_bootstrap_alpha_is_reproducible_and_vectorised_correctly(hs_like):
    from govsurvey.psychometrics.reliability import alpha_from_cov, bootstrap_alpha

    items = hs_like[["x1", "x2", "x3"]]
    a = gs.reliability(items, n_boot=500, seed=11)
    b = gs.reliability(items, n_boot=500, seed=11)
    assert a.alpha_ci == b.alpha_ci and a.ci_method.startswith("percentile bootstrap")
    assert a.alpha_ci[0] < a.alpha < a.alpha_ci[1]
    feldt = gs.reliability(items).alpha_ci
    assert abs(a.alpha_ci[0] - feldt[0]) < 0.05 and abs(a.alpha_ci[1] - feldt[1]) < 0.05
    assert a.omega_ci[0] < a.omega_total < a.omega_ci[1]  # omega's interval from the same batched resamples
    # the batched computation equals alpha of each resample formed explicitly
    from govsurvey.resampling import resample_counts

    x = items.to_numpy()
    boots = bootstrap_alpha(x, n_boot=5, seed=3)
    counts = resample_counts(np.random.default_rng(3), len(x), 5)
    assert (counts.sum(axis=1) == len(x)).all()
    for b_, c in zip(boots, counts):
        resample = np.repeat(x, c, axis=0)
        assert b_ == pytest.approx(alpha_from_cov(np.cov(resample.T)), rel=1e-10)


def test_results_are_json_safe_and_render(hs_like):
    import json

    for result in (gs.reliability(hs_like[["x1", "x2", "x3"]]), gs.efa(hs_like, 3), gs.kmo(hs_like), gs.bartlett(hs_like),
                   gs.cfa(hs_like, "a =~ x1 + x2 + x3\nb =~ x4 + x5 + x6"), gs.omega(hs_like, 3),
                   gs.harman_test(hs_like), gs.parallel_analysis(hs_like, n_iter=5, seed=1)):
        json.dumps(result.to_dict())
        assert "<table" in result._repr_html_() or "<li>" in result._repr_html_()
        assert repr(result) == repr(result)
        assert isinstance(result.to_frame(), pd.DataFrame)


@pytest.mark.parametrize("nf", [1, 3])
def test_minres_newton_reaches_the_lbfgs_solution(hs_like, nf):
    """fit_minres takes Newton steps on the analytic Hessian; L-BFGS-B (the fallback) must find
    the same uniquenesses (to its own tolerance, ~1e-8)."""
    from govsurvey.psychometrics import factor

    r = hs_like.corr().to_numpy()
    start = np.clip(1 - factor.smc(r), factor.LOWER, 1.0)
    newton = factor._minres_newton(r, nf, start)
    assert newton is not None

    def f(psi):
        vals, vecs = np.linalg.eigh(r - np.diag(psi))
        vals, vecs = vals[::-1], vecs[:, ::-1]
        return 0.5 * float((vals[nf:] ** 2).sum()), -((vecs[:, nf:] ** 2) * vals[nf:]).sum(axis=1)

    lbfgs, converged, _ = factor._minimize_psi(f, start)
    assert converged
    np.testing.assert_allclose(newton, lbfgs, atol=1e-7)


def test_minres_falls_back_to_lbfgs_where_newton_stops(hs_like):
    """Two factors for three-factor data: the Hessian is not positive definite along Newton's
    path, so fit_minres must fall back to L-BFGS-B and still converge."""
    from govsurvey.psychometrics import factor

    r = hs_like.corr().to_numpy()
    assert factor._minres_newton(r, 2, np.clip(1 - factor.smc(r), factor.LOWER, 1.0)) is None
    loadings, info = factor.fit_minres(r, 2)
    assert info["converged"] and info["iterations"] > 0


def test_reliability_when_standardized_items_cancel():
    """Found by the property suite: correlations that sum to zero make ΣR = 0, so standardized
    alpha and split-half are undefined — NaN with a warning, not ±inf; a constant total is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rel = gs.reliability(pd.DataFrame({"x1": [3.0, 2, 2], "x2": [1.0, 1, 3], "x3": [2.0, 3, 2]}))
    assert rel.alpha == pytest.approx(-7.5)
    assert math.isnan(rel.alpha_std) and math.isnan(rel.split_half)
    assert any("standardized items sum to a constant" in w for w in rel.warnings)
    with pytest.raises(gs.DataValidationError, match="scale total does not vary"):
        gs.reliability(pd.DataFrame({"x1": [1.0, 2, 3, 4], "x2": [4.0, 3, 2, 1]}))


# ------------------------------------------------------------------ fast paths against plain definitions
def _random_correlations(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    mats = []
    for _ in range(count):
        k = int(rng.integers(3, 12))
        n = int(rng.integers(k + 5, 300))
        lam = rng.uniform(-0.2, 0.9, k)
        x = rng.normal(size=(n, 1)) * lam + rng.normal(size=(n, k)) * np.sqrt(np.clip(1 - lam**2, 0.1, None))
        mats.append(np.corrcoef(x.T))
    return mats


def test_one_factor_uls_is_the_minres_solution():
    """Newton in loading space (omega's one-factor fit) reaches psych's minres stationary point
    wherever it returns; where it does not, reliability falls back to the bounded minres."""
    from govsurvey.psychometrics import factor

    rng = np.random.default_rng(5)
    solved = 0
    for r in _random_correlations(rng, 200):
        l = factor.one_factor_uls(r)
        if l is None or (l**2).max() >= 1 - factor.LOWER:
            continue
        solved += 1
        reference, info = factor.fit_minres(r, 1)
        tol = 1e-9 if info["iterations"] == 0 else 1e-6      # Newton minres, or L-BFGS-B's tolerance
        np.testing.assert_allclose(l, reference[:, 0], atol=tol)
    assert solved > 150
    assert factor.one_factor_uls(np.eye(2)) is None                  # two items: one factor is not identified
    assert factor.one_factor_uls(np.eye(4)) is None                  # nothing in common


def test_alpha_if_deleted_and_split_half_match_their_definitions():
    import importlib
    import itertools

    rel = importlib.import_module("govsurvey.psychometrics.reliability")
    rng = np.random.default_rng(9)
    for r in _random_correlations(rng, 30):
        k = r.shape[0]
        cov = r * np.outer(s := rng.uniform(0.5, 2, k), s)
        by_deletion = [rel.alpha_from_cov(np.delete(np.delete(cov, i, 0), i, 1)) for i in range(k)]
        np.testing.assert_allclose(rel._alpha_if_deleted(cov), by_deletion, rtol=1e-12, atol=1e-12)
        m = k // 2
        splits = list(itertools.islice(itertools.combinations(range(k), m), math.ceil(math.comb(k, m) / 2)))
        brute = max(4 * r[np.ix_(list(a), [j for j in range(k) if j not in a])].sum() / r.sum() for a in splits)
        assert rel.split_half_max(r) == pytest.approx(brute, rel=1e-12)


def test_item_tables_reuse_labels_without_sharing_them():
    """reliability and kmo label their tables with the caller's column Index (no re-encoding of
    the names); renaming a result's index must not rename the caller's columns."""
    frame = exact(np.full((4, 4), 0.4) + 0.6 * np.eye(4), 200)
    before = frame.copy()
    table = gs.reliability(frame).items
    assert list(table.index) == list(frame.columns) and table.index.name == "item" and frame.columns.name is None
    table.index.name = "changed"
    per = gs.kmo(frame).per_item
    per.index.name = "changed"
    assert frame.columns.name is None
    pd.testing.assert_frame_equal(frame, before)
    values = gs.psychometrics._input.prepare_items(frame, what="t").values
    values[:] = 0.0                                                  # a copy, never a view of the frame
    pd.testing.assert_frame_equal(frame, before)
    ints = gs.reliability(pd.DataFrame({1: frame["v1"], 2: frame["v2"], 3: frame["v3"]})).items
    assert list(ints.index) == ["1", "2", "3"]                       # non-text labels are named as text


def test_small_matrix_blas_limits_and_restores_threads():
    from threadpoolctl import threadpool_info

    from govsurvey._blas import small_matrix_blas

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    outside = blas_threads()

    @small_matrix_blas
    def inside(x, fail=False):
        if fail:
            raise RuntimeError("boom")
        return blas_threads()

    assert set(inside(np.zeros((10, 3)))) <= {1}
    assert blas_threads() == outside
    with pytest.raises(RuntimeError):
        inside(np.zeros((10, 3)), fail=True)
    assert blas_threads() == outside
    assert inside(np.zeros((200_000, 25))) == outside            # a large pass keeps every thread


def test_smc_and_kmo_decide_singularity_as_the_eigenvalues_do():
    """smc and kmo settle "clearly positive definite" by a trace bound (λ_min ≥ 1/tr R⁻¹) and ask
    the eigenvalues otherwise; the decision must equal the eigenvalue criterion."""
    from govsurvey.psychometrics._input import smc

    rng = np.random.default_rng(21)
    outcomes = set()
    for shrink in (1.0, 1e-3, 1e-8, 1e-11, 1e-13, 0.0):
        x = rng.standard_normal((60, 6))
        x[:, 5] = x[:, :5] @ rng.uniform(0.2, 1, 5) + np.sqrt(shrink) * rng.standard_normal(60)
        r = np.corrcoef(x.T)
        eig = np.linalg.eigvalsh(r)
        singular = not eig.min() > 1e-12 * max(1.0, eig.max())
        outcomes.add(singular)
        if singular:
            with pytest.raises(gs.NotPositiveDefiniteError):
                smc(r)
        else:
            np.testing.assert_allclose(smc(r), 1 - 1 / np.diag(np.linalg.inv(r)), rtol=1e-10)
        frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(6)])
        if eig.min() > 1e-10 * max(1.0, eig.max()):
            assert 0 < gs.kmo(frame).overall < 1
        elif eig.min() < 1e-13:
            with pytest.raises(gs.NotPositiveDefiniteError, match="x5"):
                gs.kmo(frame)
    assert outcomes == {True, False}


def test_bootstrap_draws_in_small_batches_give_the_same_resamples(monkeypatch):
    """Counts are drawn a few resamples at a time (small temporaries the allocator reuses); the
    random stream is sequential, so any batch size gives the same resamples."""
    from govsurvey import resampling

    x = np.random.default_rng(3).normal(size=(700, 4))
    runs = []
    for cells in (700, 4_000, 10**9):             # one resample per batch, a few, the whole chunk
        monkeypatch.setattr(resampling, "DRAW_CELLS", cells)
        runs.append(np.concatenate(list(resampling.bootstrap_covariances(x, n_boot=120, seed=5, chunk=50))))
    for other in runs[1:]:
        np.testing.assert_allclose(other, runs[0], rtol=1e-12, atol=1e-15)
    assert runs[0].shape == (120, 4, 4)
