"""Mediation (simple and parallel, with covariates; vectorised bootstrap) and moderation
(centering, simple slopes, Johnson–Neyman)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey.data.options import MAX_BOOT, choice, real_number, seed_value, whole_number
from govsurvey.errors import DataValidationError, SpecificationError
from govsurvey.models._frame import model_frame
from govsurvey.psychometrics._input import warn
from govsurvey.resampling import MIN_BOOT_N, resample_counts
from govsurvey.results import Result

__all__ = ["Mediation", "mediation", "bootstrap_paths", "Moderation", "moderation"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Mediation(Result):
    """A mediation analysis (see :func:`mediation`)."""

    table: pd.DataFrame
    n: int
    n_dropped: int
    n_boot: int
    ci_level: float
    ci_method: str
    seed: int | None
    x: str
    m: tuple[str, ...]
    y: str
    covariates: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    missing: str = "listwise"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def __repr__(self) -> str:
        ind = self.table.loc["indirect"]
        return (f"Mediation({self.x} → {', '.join(self.m)} → {self.y}, n={self.n}, indirect={ind['estimate']:.4f} "
                f"[{ind['ci_low']:.4f}, {ind['ci_high']:.4f}], {self.ci_method})")


def bootstrap_paths(z: np.ndarray, n_med: int, n_cov: int, *, n_boot: int, seed: int | None, chunk: int | None = None) -> np.ndarray:
    """Bootstrap the path coefficients of a (parallel) mediation model, all resamples at once.

    ``z`` columns: 1, x, covariates (n_cov), mediators (n_med), y. Each resample is a vector
    of multinomial counts w; its cross-product matrix ZᵀWZ comes from one matrix product
    ``W @ [z_i z_iᵀ]`` (upper triangle) and every regression is a batched solve of its normal
    equations. Chunks of about 10⁵ counts keep the work in cache and bound memory.
    Returns an array (n_boot × (2·n_med + 1)): a_1..a_k, b_1..b_k, c′.
    """
    rng = np.random.default_rng(seed)
    n, q = z.shape
    chunk = chunk or max(8, 100_000 // n)
    iu = np.triu_indices(q)
    pairs = z[:, iu[0]] * z[:, iu[1]]
    pred_a = list(range(0, 2 + n_cov))                   # 1, x, covariates
    pred_y = pred_a + list(range(2 + n_cov, 2 + n_cov + n_med))
    ycol = q - 1
    out = np.empty((n_boot, 2 * n_med + 1))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        upper = resample_counts(rng, n, b) @ pairs
        c = np.empty((b, q, q))
        c[:, iu[0], iu[1]] = upper
        c[:, iu[1], iu[0]] = upper
        for j in range(n_med):
            mcol = 2 + n_cov + j
            coef = _solve_batch(c[:, pred_a][:, :, pred_a], c[:, pred_a, mcol])
            out[start:start + b, j] = coef[:, 1]
        coef = _solve_batch(c[:, pred_y][:, :, pred_y], c[:, pred_y, ycol])
        out[start:start + b, n_med:2 * n_med] = coef[:, 2 + n_cov:]
        out[start:start + b, 2 * n_med] = coef[:, 1]
    return out


def _solve_batch(a: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve a stack of normal equations; a resample whose design is singular (it drew one
    value of a predictor for every case) gets NaN coefficients instead of failing the batch."""
    try:
        return np.linalg.solve(a, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        eig = np.linalg.eigvalsh(a)
        ok = eig[:, 0] > 1e-12 * np.maximum(eig[:, -1], 1e-300)
        out = np.full(rhs.shape, np.nan)
        if ok.any():
            out[ok] = np.linalg.solve(a[ok], rhs[ok][..., None])[..., 0]
        return out


def _interval(draws: np.ndarray, estimate: float, level: float, method: str) -> tuple[float, float]:
    alpha = 1 - level
    if method == "percentile":
        lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    else:  # bias-corrected (Efron, 1982)
        prop = np.mean(draws < estimate) + 0.5 * np.mean(draws == estimate)
        prop = min(max(prop, 1 / (len(draws) + 1)), 1 - 1 / (len(draws) + 1))
        z0 = stats.norm.ppf(prop)
        zl, zh = stats.norm.ppf(alpha / 2), stats.norm.ppf(1 - alpha / 2)
        lo, hi = np.quantile(draws, [stats.norm.cdf(2 * z0 + zl), stats.norm.cdf(2 * z0 + zh)])
    return float(lo), float(hi)


def mediation(
    data: pd.DataFrame,
    *,
    x: str,
    m: str | Sequence[str],
    y: str,
    covariates: Sequence[str] = (),
    n_boot: int = 5000,
    ci: float = 0.95,
    seed: int | None = None,
    ci_method: str | None = None,
    missing: str = "listwise",
) -> Mediation:
    """Simple or parallel mediation with covariates (Hayes' PROCESS model 4).

    Point estimates, standard errors and p values are those of the path model fitted by
    maximum likelihood, as ``lavaan::sem("m ~ a*x; y ~ b*m + cp*x; ind := a*b")`` reports
    them (delta-method SE for indirect effects; with parallel mediators their residuals
    covary). Confidence intervals come from a nonparametric bootstrap of all paths —
    percentile (default) or bias-corrected (``ci_method="bc"``) — computed for all resamples
    together; the same ``seed`` gives the same interval. ``ci_method="monte_carlo"`` draws
    ``n_boot`` parameter vectors from the estimates' asymptotic normal distribution instead
    (Preacher & Selig, 2012).

    ``missing="fiml"`` (alias ``"ml"``) fits the path model by full-information ML
    (:func:`govsurvey.sem`): cases missing the mediator or the outcome are kept; cases missing
    ``x`` or a covariate are left out (the model is conditional on them, as lavaan's fixed.x).
    The bootstrap would refit FIML on every resample, so intervals are Monte Carlo then
    (the default; asking for ``"percentile"`` or ``"bc"`` is an error).

    Returns
    -------
    Mediation
        ``table`` indexed ``a``, ``b``, ``c_prime``, ``indirect``, ``total`` (with several
        mediators also ``a_<m>``, ``b_<m>``, ``indirect_<m>``): ``estimate``, ``se``, ``z``,
        ``p``, ``ci_low``, ``ci_high``; ``n`` cases used, ``n_dropped`` left out, ``missing``.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> scores = gs.score(gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean, inst)
    >>> med = gs.mediation(scores, x="information", m="trust", y="participation", n_boot=1000, seed=1)
    >>> bool(med.table.loc["indirect", "ci_low"] > 0)
    True
    >>> fiml = gs.mediation(scores, x="information", m="trust", y="participation", missing="fiml", seed=1)
    >>> fiml.ci_method, fiml.n >= med.n
    ('Monte Carlo', True)

    References
    ----------
    Hayes (2022), *Introduction to Mediation, Moderation, and Conditional Process Analysis*,
    3rd ed.; Preacher & Selig (2012), *Commun. Methods Meas.* 6(2); Enders (2010) for FIML.
    """
    from govsurvey.psychometrics.sem.fit import missing_option

    mediators = (m,) if isinstance(m, str) else tuple(m)
    covs = tuple(covariates)
    missing = missing_option(missing)
    ci_method = _ci_method(ci_method, missing)
    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95, where="mediation")
    n_boot = whole_number(n_boot, "n_boot", low=0, high=MAX_BOOT, where="mediation")
    seed = seed_value(seed, where="mediation")
    names = _mediation_names(x, mediators, y, covs)
    mf = model_frame(data, names, what="mediation", numeric=names, min_n=len(names) + 3,
                     complete_on=[x, *covs] if missing == "fiml" else None)
    msgs = [mf.note()] if mf.note() else []
    alias = {name: f"v{k}" for k, name in enumerate(names)}
    frame = mf.data.rename(columns=alias)
    res = _fit_named(frame, _mediation_model(alias, x, mediators, y, covs), missing, alias)
    msgs += res.warnings
    n_used = res.n_obs
    rows = _effect_rows(mediators)
    est = res.estimates.set_index("label")
    table = pd.DataFrame({name: est.loc[lab, ["estimate", "se", "z", "p"]] for name, lab in rows.items()}).T.astype(float)
    table["ci_low"] = np.nan
    table["ci_high"] = np.nan
    if n_boot > 0:
        if n_used < MIN_BOOT_N:
            raise DataValidationError(f"mediation: an interval needs at least {MIN_BOOT_N} {'complete ' if missing == 'listwise' else ''}"
                                      f"cases; there are "
                                      f"{n_used}. Fix: collect more responses, or use n_boot=0 for the delta-method SEs alone.")
        if ci_method == "monte_carlo":
            series = _monte_carlo_effects(res, len(mediators), n_boot, seed)
        else:
            z = np.column_stack([np.ones(mf.n), frame[alias[x]], *(frame[alias[c]] for c in covs),
                                 *(frame[alias[v]] for v in mediators), frame[alias[y]]])
            series = _boot_effects(bootstrap_paths(z.astype(float), len(mediators), len(covs), n_boot=n_boot, seed=seed),
                                   len(mediators))
        _check_draws(series["indirect"], n_boot, msgs)
        series = {name: series[lab] for name, lab in rows.items()}
        bounds = {name: _interval(d[np.isfinite(d)], float(table.at[name, "estimate"]), ci, ci_method)
                  for name, d in series.items()}
        table["ci_low"] = [bounds[name][0] for name in table.index]
        table["ci_high"] = [bounds[name][1] for name in table.index]
    table.index.name = "effect"
    return Mediation(table=table, n=n_used, n_dropped=mf.n_dropped + int(res.extra["missing"].get("n_dropped", 0)),
                     n_boot=n_boot, ci_level=ci, ci_method=_CI_NAMES[ci_method] if n_boot else "none", seed=seed, x=x,
                     m=mediators, y=y, covariates=covs, warnings=tuple(msgs), missing=missing)


_CI_NAMES = {"percentile": "percentile bootstrap", "bc": "bc bootstrap", "monte_carlo": "Monte Carlo"}


def _fit_named(frame: pd.DataFrame, model: str, missing: str, alias: dict[str, str]):
    """fit_model on the aliased frame; an error's message names the user's columns, not the aliases."""
    import re

    from govsurvey.errors import GovsurveyError
    from govsurvey.psychometrics.sem.fit import fit_model

    back = {v: k for k, v in alias.items()}
    try:
        return fit_model(frame, model, missing=missing)
    except GovsurveyError as err:
        text = re.sub(r"\bv\d+\b", lambda m: str(back.get(m.group(0), m.group(0))), str(err))
        raise type(err)(f"mediation: {text}") from None


def _ci_method(value: str | None, missing: str) -> str:
    if value is None:
        return "monte_carlo" if missing == "fiml" else "percentile"
    method = choice(value, "ci_method", ("percentile", "bc", "monte_carlo"), where="mediation")
    if missing == "fiml" and method != "monte_carlo":
        raise SpecificationError(f"mediation: ci_method={method!r} would refit the FIML model on every bootstrap resample, "
                                 "which is not offered. Fix: use ci_method='monte_carlo' (the default with missing='fiml'), "
                                 "or missing='listwise' for a bootstrap on the complete cases.")
    return method


def _mediation_names(x: str, mediators: tuple[str, ...], y: str, covs: tuple[str, ...]) -> list[str]:
    if not mediators:
        raise SpecificationError("mediation needs at least one mediator (m=).")
    names = [x, *mediators, y, *covs]
    if len(set(names)) != len(names):
        raise SpecificationError("x, m, y and covariates must be different columns.")
    return names


def _mediation_model(alias: dict[str, str], x: str, mediators: tuple[str, ...], y: str, covs: tuple[str, ...]) -> str:
    """lavaan syntax of PROCESS model 4 with labels a<j>, b<j>, cp and defined ind<j>, indirect, total."""
    X, Y, Ms, Cs = alias[x], alias[y], [alias[v] for v in mediators], [alias[c] for c in covs]
    lines = [f"{mj} ~ a{j}*{X}" + "".join(f" + {c}" for c in Cs) for j, mj in enumerate(Ms)]
    lines.append(f"{Y} ~ cp*{X}" + "".join(f" + b{j}*{mj}" for j, mj in enumerate(Ms)) + "".join(f" + {c}" for c in Cs))
    lines += [f"{Ms[j]} ~~ {Ms[k]}" for j in range(len(Ms)) for k in range(j + 1, len(Ms))]
    lines += [f"ind{j} := a{j}*b{j}" for j in range(len(Ms))]
    lines.append("indirect := " + " + ".join(f"a{j}*b{j}" for j in range(len(Ms))))
    lines.append("total := cp + " + " + ".join(f"a{j}*b{j}" for j in range(len(Ms))))
    return "\n".join(lines)


def _effect_rows(mediators: tuple[str, ...]) -> dict[str, str]:
    """Table row → model label."""
    single = len(mediators) == 1
    rows: dict[str, str] = {}
    for j, med in enumerate(mediators):
        rows["a" if single else f"a_{med}"] = f"a{j}"
        rows["b" if single else f"b_{med}"] = f"b{j}"
    rows["c_prime"] = "cp"
    if not single:
        rows.update({f"indirect_{med}": f"ind{j}" for j, med in enumerate(mediators)})
    rows["indirect"] = "indirect"
    rows["total"] = "total"
    return rows


def _effects(a: np.ndarray, b: np.ndarray, cp: np.ndarray) -> dict[str, np.ndarray]:
    out = {f"a{j}": a[:, j] for j in range(a.shape[1])} | {f"b{j}": b[:, j] for j in range(a.shape[1])}
    out |= {f"ind{j}": a[:, j] * b[:, j] for j in range(a.shape[1])}
    out["cp"] = cp
    out["indirect"] = (a * b).sum(axis=1)
    out["total"] = cp + out["indirect"]
    return out


def _boot_effects(draws: np.ndarray, k: int) -> dict[str, np.ndarray]:
    return _effects(draws[:, :k], draws[:, k:2 * k], draws[:, 2 * k])


def _monte_carlo_effects(res, k: int, n_draws: int, seed: int | None) -> dict[str, np.ndarray]:
    """Effects of ``n_draws`` parameter vectors from N(θ̂, V̂) (Preacher & Selig, 2012)."""
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(res.theta, res.vcov, size=n_draws, method="cholesky" if _pd(res.vcov) else "eigh")
    idx = res.pt.labels
    a = draws[:, [idx[f"a{j}"] for j in range(k)]]
    b = draws[:, [idx[f"b{j}"] for j in range(k)]]
    return _effects(a, b, draws[:, idx["cp"]])


def _pd(mat: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(mat)
        return True
    except np.linalg.LinAlgError:
        return False


def _check_draws(indirect: np.ndarray, n_boot: int, msgs: list[str]) -> None:
    bad = ~np.isfinite(indirect)
    if bad.any():
        warn(msgs, f"{int(bad.sum())} bootstrap resamples were degenerate and were left out.")
    if bad.mean() > 0.5:
        raise DataValidationError(f"mediation: {int(bad.sum())} of {n_boot} bootstrap resamples had a predictor without "
                                  "variance, so the interval would rest on a few resamples. Fix: collect more responses.")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Moderation(Result):
    """A moderation analysis (see :func:`moderation`)."""

    table: pd.DataFrame
    simple_slopes: pd.DataFrame
    johnson_neyman: pd.DataFrame
    r2: float
    delta_r2_interaction: float
    n: int
    n_dropped: int
    centered: bool
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def __repr__(self) -> str:
        row = self.table.loc["x:w"]
        return f"Moderation(n={self.n}, interaction b={row['b']:.4f}, p={row['p']:.3g}, r2={self.r2:.4f})"


def moderation(
    data: pd.DataFrame,
    *,
    x: str,
    w: str,
    y: str,
    covariates: Sequence[str] = (),
    center: bool = True,
    ci: float = 0.95,
) -> Moderation:
    """Moderation by an interaction term (Hayes' PROCESS model 1): y = b0 + b1·x + b2·w + b3·x·w (+ covariates).

    ``center=True`` mean-centres x and w first (the interaction is unchanged; b1 and b2
    become effects at the mean of the other). ``simple_slopes`` gives the effect of x at
    w = mean − 1 SD, mean, mean + 1 SD (at each value for a binary w) with SE, t, p and CI;
    ``johnson_neyman`` the values of w (on its original scale) where the effect of x crosses
    significance, solved from (b1 + b3·w)² = t²·Var(b1 + b3·w) (Johnson & Neyman, 1936).
    ``table`` rows are named ``Intercept``, ``x``, ``w``, ``x:w`` and the covariates.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> scores = gs.score(gs.screen(gs.read_responses(gs.datasets.example_files()["xlsx"], inst), inst).clean, inst)
    >>> mod = gs.moderation(scores, x="capacity", w="trust", y="participation")
    >>> list(mod.simple_slopes.index)
    ['mean - 1 SD', 'mean', 'mean + 1 SD']
    """
    import statsmodels.api as sm

    ci = real_number(ci, "ci", low=0, high=1, inclusive=False, what="a level", example=0.95, where="moderation")
    covs = tuple(covariates)
    names = [x, w, y, *covs]
    if len(set(names)) != len(names):
        raise SpecificationError("x, w, y and covariates must be different columns.")
    mf = model_frame(data, names, what="moderation", numeric=names, min_n=len(names) + 3)
    msgs = [mf.note()] if mf.note() else []
    d = mf.data
    xm, wm = (d[x].mean(), d[w].mean()) if center else (0.0, 0.0)
    xv, wv = d[x] - xm, d[w] - wm
    design = pd.DataFrame({"Intercept": 1.0, "x": xv, "w": wv, "x:w": xv * wv, **{c: d[c] for c in covs}}, index=d.index)
    fit = sm.OLS(d[y], design).fit()
    reduced = sm.OLS(d[y], design.drop(columns="x:w")).fit()
    conf = fit.conf_int(alpha=1 - ci)
    table = pd.DataFrame({"b": fit.params, "se": fit.bse, "t": fit.tvalues, "p": fit.pvalues, "ci_low": conf[0], "ci_high": conf[1]})
    table.index.name = "term"
    vc = fit.cov_params()
    b1, b3 = fit.params["x"], fit.params["x:w"]
    v11, v13, v33 = vc.loc["x", "x"], vc.loc["x", "x:w"], vc.loc["x:w", "x:w"]
    tcrit = stats.t.ppf(0.5 + ci / 2, fit.df_resid)
    values = np.sort(d[w].unique())
    if len(values) <= 2:
        points = {f"{w} = {v:g}": float(v) for v in values}
    else:
        sd = d[w].std(ddof=1)
        mean = d[w].mean()
        points = {"mean - 1 SD": mean - sd, "mean": mean, "mean + 1 SD": mean + sd}
    rows = []
    for label, wval in points.items():
        wc = wval - wm
        slope = b1 + b3 * wc
        se = np.sqrt(v11 + 2 * wc * v13 + wc**2 * v33)
        t = slope / se
        rows.append({"at": label, "w": wval, "slope": slope, "se": se, "t": t, "p": 2 * stats.t.sf(abs(t), fit.df_resid),
                     "ci_low": slope - tcrit * se, "ci_high": slope + tcrit * se})
    slopes = pd.DataFrame(rows).set_index("at")
    # Johnson–Neyman: roots of a·u² + b·u + c = 0 in the centred scale u = w − w̄
    qa, qb, qc = b3**2 - tcrit**2 * v33, 2 * (b1 * b3 - tcrit**2 * v13), b1**2 - tcrit**2 * v11
    jn_rows = []
    if len(values) > 2:
        disc = qb**2 - 4 * qa * qc
        if disc >= 0 and qa != 0:
            for root in sorted({(-qb - np.sqrt(disc)) / (2 * qa), (-qb + np.sqrt(disc)) / (2 * qa)}):
                wval = root + wm
                jn_rows.append({"w": wval, "slope": b1 + b3 * root, "within_range": bool(d[w].min() <= wval <= d[w].max()),
                                "significant_where": "outside" if qa > 0 else "between"})
        if not jn_rows:
            msgs.append("Johnson–Neyman: the effect of x is " + ("significant" if qc > 0 else "not significant") + " at every value of w.")
    else:
        msgs.append("Johnson–Neyman intervals need a continuous moderator; simple slopes are given at each value of w.")
    jn = pd.DataFrame(jn_rows, columns=["w", "slope", "within_range", "significant_where"])
    return Moderation(table=table, simple_slopes=slopes, johnson_neyman=jn, r2=float(fit.rsquared),
                      delta_r2_interaction=float(fit.rsquared - reduced.rsquared), n=mf.n, n_dropped=mf.n_dropped,
                      centered=center, warnings=tuple(msgs))
