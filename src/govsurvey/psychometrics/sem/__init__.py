"""Confirmatory factor analysis and structural equation models, matching lavaan 0.6.14.

``gs.cfa`` and ``gs.sem`` share one ML/MLR engine (:mod:`.engine`, :mod:`.fit`); ``cfa`` is
``sem`` restricted to a measurement model. Validity helpers (HTMT, Fornell–Larcker) and
measurement invariance build on them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsurvey._blas import small_matrix_blas
from govsurvey.data.options import choice
from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError
from govsurvey.psychometrics._input import prepare_items
from govsurvey.psychometrics.sem.fit import FitResult, fit_model
from govsurvey.psychometrics.sem.syntax import parse_model
from govsurvey.results import Result

__all__ = ["CFA", "SEM", "cfa", "fornell_larcker", "growth", "htmt", "invariance", "sem"]

FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "gfi", "agfi",
            "nfi", "aic", "bic", "loglik")
ROBUST_KEYS = ("chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor", "cfi_robust", "tli_robust", "rmsea_robust")


def _fit_dict(res: FitResult) -> dict[str, float]:
    keys = FIT_KEYS + ROBUST_KEYS + ("baseline_chisq", "baseline_df", "npar", "unrestricted_loglik", "chisq_shift",
                                      "baseline_chisq_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled")
    return {k: float(res.fit[k]) for k in keys if k in res.fit}


def _common(res: FitResult, model: str) -> dict[str, Any]:
    """The fields every :class:`SEM` result shares."""
    info = res.extra["missing"]
    return {"fit": _fit_dict(res), "estimates": _estimates_table(res), "n_obs": res.n_obs, "estimator": res.estimator,
            "groups": tuple(res.groups), "converged": res.converged, "model": model, "warnings": tuple(res.warnings),
            "missing": info["method"], "n_dropped": int(info.get("n_dropped", 0)),
            "n_incomplete": int(info.get("n_incomplete", 0))}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class SEM(Result):
    """A fitted structural equation model (see :func:`sem`)."""

    fit: dict[str, float]
    estimates: pd.DataFrame
    n_obs: int
    estimator: str
    groups: tuple[str, ...]
    converged: bool
    model: str
    warnings: tuple[str, ...] = ()
    missing: str = "listwise"
    n_dropped: int = 0
    n_incomplete: int = 0

    def to_frame(self) -> pd.DataFrame:
        return self.estimates

    def __repr__(self) -> str:
        f = self.fit
        how = f", missing='fiml', incomplete={self.n_incomplete}" if self.missing == "fiml" else ""
        return (f"{type(self).__name__}(n={self.n_obs}{how}, estimator={self.estimator!r}, chisq={f['chisq']:.3f}, df={f['df']:.0f}, "
                f"cfi={f['cfi']:.3f}, tli={f['tli']:.3f}, rmsea={f['rmsea']:.3f}, srmr={f['srmr']:.3f})")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class CFA(SEM):
    """A fitted confirmatory factor model (see :func:`cfa`)."""

    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    reliability: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.loadings


def _table(res: FitResult, cols: list[str], keep=None, rename: dict[str, str] | None = None) -> pd.DataFrame:
    """A DataFrame of the estimates' columns ``cols`` (rows where ``keep(op)``), built once from lists."""
    src = res.columns
    rows = np.arange(len(src["op"])) if keep is None else np.array([k for k, op in enumerate(src["op"]) if keep(op)], dtype=int)
    rename = rename or {}
    out = {}
    for c in cols:
        if c in _NUMERIC:       # float columns as arrays: no per-value type inference
            out[rename.get(c, c)] = np.asarray(src[c], dtype=float)[rows] if len(rows) else np.zeros(0)
        else:
            out[rename.get(c, c)] = [src[c][k] for k in rows]
    return pd.DataFrame(out)


_NUMERIC = frozenset({"estimate", "se", "z", "p", "std_all", "std_se"})


def _estimates_table(res: FitResult) -> pd.DataFrame:
    cols = ["lhs", "op", "rhs"] + (["group"] if len(res.groups) > 1 else []) + ["label", "estimate", "se", "z", "p", "std_all", "std_se"]
    return _table(res, cols)


@small_matrix_blas
def sem(data: pd.DataFrame, model: str, *, estimator: str = "ML", group: str | None = None,
        group_equal: tuple[str, ...] | list[str] = (), meanstructure: bool | None = None,
        missing: str = "listwise", ordered: bool | list[str] | None = None, parameterization: str = "delta") -> SEM:
    """Fit a structural equation model written in lavaan syntax, as ``lavaan::sem``.

    Parameters
    ----------
    data
        One row per respondent; the model's observed variables as columns (complete cases
        are used; how many were left out is reported in ``warnings``).
    model
        lavaan syntax: ``=~`` measurement, ``~`` regressions, ``~~`` (residual) covariances,
        ``~ 1`` intercepts, labels (``a*x``), fixed values (``1*x``), freed markers
        (``NA*x``), ``:=`` defined effects (e.g. ``ind := a*b``) and ``a == b`` equalities.
    estimator
        ``"ML"`` (expected-information standard errors) or ``"MLR"`` (Huber–White robust
        standard errors, Yuan–Bentler scaled χ² and robust CFI/TLI/RMSEA, as lavaan/Mplus).
    group, group_equal
        Multi-group models and equality constraints across groups
        (``"loadings"``, ``"intercepts"``, ``"residuals"``, ``"lv.variances"``, …).
    meanstructure
        Model the means (observed intercepts free, latent means 0). Default (None), as
        lavaan: when the model has an intercept statement (``x ~ 1``) or ``group`` is given.
    missing
        ``"listwise"`` (complete cases; how many were left out is in ``n_dropped`` and the
        warnings) or ``"fiml"`` (alias ``"ml"``, lavaan's ``missing = "ml"``): full-information
        maximum likelihood over every case with at least one observed model variable — χ²
        against the saturated model estimated by EM, SEs from the observed information,
        SRMR from the EM moments, robust CFI/TLI/RMSEA corrected for missing data (Zhang &
        Savalei, 2020), all as lavaan 0.6 reports them; with ``estimator="MLR"`` sandwich SEs
        and the Yuan–Bentler scaled χ². Cases missing an exogenous observed covariate are left
        out (fixed.x, as lavaan). FIML implies a mean structure. ``n_incomplete`` counts the
        cases used with some value missing.
    ordered
        Ordinal indicators (Likert items): ``True`` (every observed variable) or their names,
        as lavaan's ``ordered=``. The model is then fitted to polychoric correlations and
        thresholds by ``estimator="WLSMV"`` (the default then; ``"DWLS"``: the same without
        the scaled test's name; ``"ULSMV"``: unweighted), delta parameterization, robust SEs,
        the scaled-shifted χ² (``chisq_scaled``) and robust CFI/TLI/RMSEA (lavaan 0.6.14's
        catML versions); thresholds appear as ``item | t1`` rows of ``estimates``. Complete
        cases; every observed variable must be ordered. ``parameterization``: ``"delta"``
        (latent responses of unit variance, lavaan's default) or ``"theta"`` (their residual
        variances fixed at 1) — the same fit, other scales.

        With ``group=`` the groups are identified as Wu & Estabrook (2016) and
        ``semTools::measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")`` set
        them up — factor variances 1 and means 0 in the first group, thresholds, latent-response
        intercepts and scaling factors (``item ~*~ item`` rows) as the step requires — and
        ``group_equal`` must be one of that sequence's steps: ``[]``, ``["thresholds"]``,
        ``["thresholds", "loadings"]``, ``["thresholds", "loadings", "intercepts"]``
        (:func:`invariance` runs them all). This is **not** what ``lavaan::cfa(group.equal=)``
        fits without measEq.syntax (a marker loading, lavaan's own rules for what to free), so
        the χ² of constrained steps differs from such a call; it equals lavaan's fit of the
        measEq.syntax model.

    Returns
    -------
    SEM
        ``fit`` (chisq, df, pvalue, cfi, tli, rmsea and its 90 % CI, srmr, gfi, agfi, nfi,
        aic, bic, loglik; under MLR also chisq_scaled, cfi_robust, tli_robust,
        rmsea_robust) and ``estimates`` (lhs, op, rhs, label, estimate, se, z, p, std_all,
        std_se), defined effects included.

    Notes
    -----
    Defaults follow lavaan's ``sem()``: the first loading of each factor is fixed to 1,
    residual and latent variances are free, exogenous latent variables covary, so do
    regression outcomes that are no indicator and predict nothing else, and exogenous
    observed covariates are fixed at their sample values (``fixed.x``). An intercept
    statement (``x ~ 1``) adds a mean structure, not a regression. Standardized SEs and the SEs of defined
    parameters use the delta method.

    References
    ----------
    Rosseel (2012), lavaan, *J. Stat. Softw.* 48(2); Yuan & Bentler (2000); Brosseau-Liard &
    Savalei (2014) for the robust CFI.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> model = '''
    ... trust =~ TG1 + TG2 + TG3 + TG4
    ... willingness =~ PW1 + PW2 + PW3
    ... reserves =~ RS1 + RS2 + RS3 + RS4
    ... trust ~ a*reserves
    ... willingness ~ b*trust + reserves
    ... indirect := a*b
    ... '''
    >>> fit = gs.sem(data, model)
    >>> bool(fit.estimates.query("op == ':='")["estimate"].iloc[0] > 0)
    True
    """
    res = fit_model(data, model, estimator=estimator, group=group, group_equal=group_equal, meanstructure=meanstructure,
                    missing=missing, ordered=ordered, parameterization=parameterization)
    return SEM(**_common(res, model))


def _reliability(res: FitResult) -> pd.DataFrame:
    """CR (semTools ``omega``), AVE (mean squared standardized loading) and semTools ``avevar``."""
    m, theta = res.model, res.theta
    est = res.columns
    ov = set(m.pt.ov)
    # each group's first-order factors and their items, with the items' standardized loadings
    # (a higher-order factor measured by other factors has no CR/AVE of its own)
    blocks: dict[tuple[int, str], tuple[list[str], list[float]]] = {}
    gpos = {name: g for g, name in enumerate(res.groups)}
    for gname, op, lhs, rhs, v in zip(est["group"], est["op"], est["lhs"], est["rhs"], est["std_all"]):
        if op == "=~" and rhs in ov:
            items, std = blocks.setdefault((gpos[gname], lhs), ([], []))
            items.append(rhs)
            std.append(v)
    multi = len(res.groups) > 1
    parts = []
    for g in range(len(res.groups)):
        factors = [f for f in m.pt.lv if (g, f) in blocks]
        if not factors:
            continue
        a, s = m.matrices(theta, g)[:2]
        # Z: item × factor membership; Λ: the loadings in those cells (all factors at once)
        z = np.zeros((m.p, len(factors)))
        for c, f in enumerate(factors):
            z[[m.idx[i] for i in blocks[(g, f)][0]], c] = 1.0
        fpos = [m.idx[f] for f in factors]
        lam = a[: m.p][:, fpos] * z
        psi = s[fpos, fpos]
        theta_ov = s[: m.p, : m.p]
        common = lam.sum(axis=0) ** 2 * psi
        true_item = (lam**2).sum(axis=0) * psi
        theta_sum = np.einsum("ic,ij,jc->c", z, theta_ov, z)          # Σ of each block of residual (co)variances
        parts.append({
            "group": [res.groups[g]] * len(factors), "factor": factors,
            "cr": common / (common + theta_sum),
            "ave": np.array([np.mean(np.square(blocks[(g, f)][1])) for f in factors]),
            "avevar": true_item / (true_item + np.diag(theta_ov) @ z),
            "n_items": np.array([len(blocks[(g, f)][0]) for f in factors], dtype=int),
        })
    cols = {c: (np.concatenate([pt[c] for pt in parts]) if parts else np.zeros(0, dtype=int if c == "n_items" else float))
            for c in ("cr", "ave", "avevar", "n_items")}
    factor_names = [f for pt in parts for f in pt["factor"]]
    if multi:
        index = pd.MultiIndex.from_arrays([[x for pt in parts for x in pt["group"]], factor_names], names=["group", "factor"])
    else:
        index = pd.Index(factor_names, name="factor", dtype=None if factor_names else object)
    return pd.DataFrame(cols, index=index)


@small_matrix_blas
def growth(data: pd.DataFrame, model: str, *, estimator: str = "ML", group: str | None = None,
           group_equal: tuple[str, ...] | list[str] = (), missing: str = "listwise") -> SEM:
    """A latent growth model, as ``lavaan::growth``: :func:`sem` with a mean structure in which
    the observed intercepts are fixed at 0 and the latent (growth-factor) means are free.

    Examples
    --------
    >>> import numpy as np, pandas as pd, govsurvey as gs
    >>> rng = np.random.default_rng(1)
    >>> level, slope = rng.normal(5, 1, 400), rng.normal(0.5, 0.3, 400)
    >>> data = pd.DataFrame({f"t{k + 1}": level + k * slope + rng.normal(0, 0.5, 400) for k in range(4)})
    >>> fit = gs.growth(data, "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4")
    >>> means = fit.estimates.query("op == '~1' and lhs in ('i', 's')").set_index("lhs")["estimate"]
    >>> bool(abs(means["i"] - 5) < 0.2 and abs(means["s"] - 0.5) < 0.1)
    True
    """
    res = fit_model(data, model, estimator=estimator, group=group, group_equal=group_equal, growth=True, missing=missing)
    return SEM(**_common(res, model))


@small_matrix_blas
def cfa(data: pd.DataFrame, model: str, *, estimator: str = "ML", group: str | None = None,
        group_equal: tuple[str, ...] | list[str] = (), meanstructure: bool | None = None,
        missing: str = "listwise", ordered: bool | list[str] | None = None, parameterization: str = "delta") -> CFA:
    """Confirmatory factor analysis, as ``lavaan::cfa`` — :func:`sem` restricted to a measurement model.

    Returns a :class:`CFA` with ``fit`` (as :func:`sem`), ``loadings`` (factor, item,
    estimate, se, z, p, std_all, std_se), ``factor_correlations`` (the standardized latent
    covariances) and ``reliability`` (index factor: ``cr`` — composite reliability,
    semTools' omega; ``ave`` — average variance extracted, the mean squared standardized
    loading of Fornell & Larcker; ``avevar`` — semTools' variant). ``meanstructure`` as in
    :func:`sem` (default: when the model has intercept statements or groups). ``ordered=``
    with ``group=`` follows Wu & Estabrook's identification (see :func:`sem`), not
    ``lavaan::cfa(group.equal=)``'s own.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> fit = gs.cfa(data, inst.cfa_model(["pre_event"]))  # a second-order model: pre_event over four dimensions
    >>> fit.fit["cfi"] > 0.9
    True
    """
    parsed = parse_model(model)
    statements = parsed[0]
    if not any(s.op == "=~" for s in statements):
        raise SpecificationError("cfa() needs at least one measurement statement (f =~ x1 + x2 + x3).")
    lv = {s.lhs for s in statements if s.op == "=~"}
    for s in statements:
        if s.op == "~" and not (s.lhs in lv and all(t.var in lv for t in s.terms)):
            raise SpecificationError(
                f"cfa() takes a measurement model, but line {s.line} regresses {s.lhs} on observed variables. Fix: use gs.sem for structural paths."
            )
    res = fit_model(data, model, estimator=estimator, group=group, group_equal=group_equal, meanstructure=meanstructure,
                    parsed=parsed, missing=missing, ordered=ordered, parameterization=parameterization)
    est = res.columns
    cols = (["group"] if len(res.groups) > 1 else []) + ["lhs", "rhs", "estimate", "se", "z", "p", "std_all", "std_se"]
    loadings = _table(res, cols, keep=lambda op: op == "=~", rename={"lhs": "factor", "rhs": "item"})
    corr_frames = []
    lvs = res.pt.lv
    pos = {f: k for k, f in enumerate(lvs)}
    factor_index = pd.Index(lvs)
    for gname in res.groups:
        mat = np.eye(len(lvs))
        for g, op, lhs, rhs, v in zip(est["group"], est["op"], est["lhs"], est["rhs"], est["std_all"]):
            if op == "~~" and g == gname and lhs in pos and rhs in pos and lhs != rhs:
                mat[pos[lhs], pos[rhs]] = mat[pos[rhs], pos[lhs]] = v
        corr_frames.append(pd.DataFrame(mat, index=factor_index.view(), columns=factor_index.view()))
    if len(res.groups) > 1:
        corr = pd.concat(corr_frames, keys=list(res.groups), names=["group", "factor"])
    else:
        corr = corr_frames[0]
        corr.index.name = "factor"
    return CFA(**_common(res, model), loadings=loadings, factor_correlations=corr, reliability=_reliability(res))


@small_matrix_blas
def htmt(data: pd.DataFrame, model: str, *, method: str = "htmt2") -> pd.DataFrame:
    """Heterotrait–monotrait ratio of correlations, as ``semTools::htmt`` (0.5-6 defaults).

    ``method="htmt2"`` (semTools' default) uses geometric means of the absolute
    correlations (Roemer, Schuberth & Henseler, 2021); ``"htmt"`` the arithmetic means of
    Henseler, Ringle & Sarstedt (2015). Values below .85 (strict) or .90 (liberal) support
    discriminant validity.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> h = gs.htmt(data, inst.cfa_model(["trust", "satisfaction"]))
    >>> bool(0 < h.loc["trust", "satisfaction"] < 0.9)
    True
    """
    method = choice(method, "method", ("htmt2", "htmt"), where="htmt")
    statements, _, _ = parse_model(model)
    factors: dict[str, list[str]] = {}
    for s in statements:
        if s.op == "=~":
            factors.setdefault(s.lhs, []).extend(t.var for t in s.terms)
    if len(factors) < 2:
        raise SpecificationError("htmt needs at least two factors (two =~ statements).")
    names = list(dict.fromkeys(v for vs in factors.values() for v in vs))
    absent = [v for v in names if v not in list(data.columns)]
    if absent:
        raise UnknownItemError(f"htmt: the model names column(s) not in the data: {', '.join(absent[:5])}.")
    prepared = prepare_items(data[names], what="htmt")
    r = np.abs(prepared.cor)
    pos = {v: k for k, v in enumerate(prepared.names)}
    fl = list(factors)

    def mean_block(a: list[str], b: list[str], same: bool) -> float:
        ia, ib = [pos[v] for v in a], [pos[v] for v in b]
        block = r[np.ix_(ia, ib)]
        values = block[~np.eye(len(ia), dtype=bool)] if same else block.ravel()
        if values.size == 0:
            raise SpecificationError("htmt needs at least two indicators per factor.")
        if method == "htmt2":
            if (values <= 0).any():
                raise DataValidationError("htmt2 needs non-zero correlations (it averages their logarithms). Fix: use method='htmt'.")
            return float(np.exp(np.log(values).mean()))
        return float(values.mean())

    within = {f: mean_block(factors[f], factors[f], True) for f in fl}
    out = pd.DataFrame(np.eye(len(fl)), index=fl, columns=fl)
    for i, a in enumerate(fl):
        for b in fl[i + 1:]:
            out.loc[a, b] = out.loc[b, a] = mean_block(factors[a], factors[b], False) / math.sqrt(within[a] * within[b])
    out.index.name = "factor"
    return out


def fornell_larcker(fit: CFA) -> pd.DataFrame:
    """The Fornell–Larcker table: √AVE on the diagonal, factor correlations below and above.

    Discriminant validity holds for a factor when its √AVE exceeds its correlations with
    every other factor (Fornell & Larcker, 1981); ``attrs["passes"]`` says so per factor.
    """
    if not isinstance(fit, CFA):
        raise SpecificationError(f"fornell_larcker takes the result of gs.cfa, got {type(fit).__name__}.")
    if len(fit.groups) > 1:
        raise SpecificationError("fornell_larcker needs a single-group CFA. Fix: fit gs.cfa without group=.")
    corr = fit.factor_correlations.copy()
    sq = np.sqrt(fit.reliability["ave"])
    for f in corr.index:
        corr.loc[f, f] = sq[f]
    passes = {f: bool(all(sq[f] > abs(corr.loc[f, g]) for g in corr.columns if g != f)) for f in corr.index}
    corr.attrs["passes"] = passes
    return corr


def _step_warnings(pairs: list[tuple[str, str]]) -> list[str]:
    """The models' warnings once each, prefixed by the steps that gave them ("configural, metric: …")."""
    steps: dict[str, list[str]] = {}
    for name, message in pairs:
        steps.setdefault(message, []).append(name)
    return [f"{', '.join(dict.fromkeys(names))}: {message}" for message, names in steps.items()]


_ORDINAL_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "chisq_scaled", "pvalue_scaled", "chisq_scaling_factor",
                 "chisq_shift", "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust")


def _ordinal_invariance(data: pd.DataFrame, model: str, group: str, *, estimator: str, missing: str, ordered: Any,
                        parameterization: str) -> pd.DataFrame:
    """Wu & Estabrook's sequence by WLSMV with Satorra (2000) difference tests (see :func:`invariance`)."""
    from govsurvey.psychometrics.sem.ordinal_groups import ROBUST_NOTE, WU_ESTABROOK_STEPS, satorra2000

    fits, rows, warns = {}, {}, []
    for name, step in WU_ESTABROOK_STEPS.items():
        res = fit_model(data, model, estimator=estimator, group=group, group_equal=step, missing=missing, ordered=ordered,
                        parameterization=parameterization)
        fits[name] = res.extra["grouped_fit"]
        rows[name] = {k: res.fit[k] for k in _ORDINAL_KEYS}
        warns.extend((name, w) for w in res.warnings if w != ROBUST_NOTE)
        used = res.extra["missing"]
    warns = _step_warnings(warns) + [ROBUST_NOTE]
    table = pd.DataFrame.from_dict(rows, orient="index")
    prev = table.shift(1)
    names = list(WU_ESTABROOK_STEPS)
    diffs = [satorra2000(fits[a], fits[b]) for a, b in zip(names, names[1:])]
    table["chisq_diff"] = [np.nan] + [d["chisq_diff"] for d in diffs]
    table["df_diff"] = table["df"] - prev["df"]
    table["p_diff"] = [np.nan] + [d["p_diff"] for d in diffs]
    for key in ("cfi", "cfi_scaled", "rmsea_scaled", "cfi_robust", "rmsea_robust"):
        table[f"delta_{key}"] = table[key] - prev[key]
    first = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "chisq_diff", "df_diff", "p_diff", "delta_cfi"]
    table = table[first + [c for c in table.columns if c not in first]]
    table.index.name = "model"
    table.attrs["warnings"] = warns
    table.attrs.update({"n_obs": used["n_used"], "n_dropped": used.get("n_dropped", 0), "missing": used["method"],
                        "estimator": "WLSMV" if estimator == "ML" else estimator, "ordered": True})
    return table


_INVARIANCE_ROBUST = ("chisq_scaled", "pvalue_scaled", "chisq_scaling_factor", "cfi_robust", "tli_robust", "rmsea_robust")


def _sb2001_scaling(table: pd.DataFrame, prev: pd.DataFrame) -> pd.Series:
    """Scaling factor of the Satorra–Bentler (2001) scaled difference test, row against the row
    before: c_d = (d₀c₀ − d₁c₁)/(d₀ − d₁), where d are the models' df, c their χ² scaling
    factors (T_ML / T_scaled), 0 the more restricted model, and c₁ = 1 when d₁ = 0; the
    scaled Δχ² is (T₀ − T₁)/c_d on d₀ − d₁ df — lavaan's ``lav_test_diff_SatorraBentler2001``,
    used by ``lavTestLRT`` (``method = "satorra.bentler.2001"``) for MLR fits."""
    c1 = prev["chisq_scaling_factor"].where(prev["df"] > 0, 1.0)
    return (table["df"] * table["chisq_scaling_factor"] - prev["df"] * c1) / (table["df"] - prev["df"])


def invariance(data: pd.DataFrame, model: str, group: str, *, estimator: str = "ML", missing: str = "listwise",
               ordered: bool | list[str] | None = None, parameterization: str = "delta") -> pd.DataFrame:
    """Measurement invariance across ``group``: configural, metric (equal loadings) and
    scalar (equal loadings and intercepts) models, as ``lavaan::cfa(group=, group.equal=)``
    with ``anova()`` difference tests.

    Columns: chisq, df, pvalue, cfi, tli, rmsea, srmr, then against the previous row
    chisq_diff, df_diff, p_diff and delta_cfi (ΔCFI ≥ −.01 is the usual criterion; Cheung &
    Rensvold, 2002).

    With ``estimator="MLR"``, ``chisq_diff`` is the Satorra–Bentler (2001) scaled difference
    (``diff_scaling_factor`` its c_d) and ``p_diff`` its p, as ``lavaan::lavTestLRT`` reports
    for MLR fits (the plain ML difference is not χ²-distributed under non-normality); the
    table adds each model's chisq_scaled, pvalue_scaled, chisq_scaling_factor, cfi_robust,
    tli_robust, rmsea_robust, and delta_cfi_robust and delta_rmsea_robust against the row
    before. ``chisq``, ``cfi``, ``tli`` and ``rmsea`` stay the ML (unscaled) values.

    ``missing="fiml"`` fits every model by full-information ML (as :func:`sem`); the table's
    ``attrs`` hold ``n_obs``, ``n_dropped`` and ``missing`` (the method used).

    ``ordered=True`` (or the list of items) treats the items as ordinal and follows Wu &
    Estabrook (2016) as ``semTools::measEq.syntax(ID.fac = "std.lv", ID.cat =
    "Wu.Estabrook.2016")`` sets it up, each model fitted by WLSMV (or ``estimator="DWLS"``/
    ``"ULSMV"``): rows configural, thresholds (equal thresholds; intercepts and scaling
    factors — residual variances under ``parameterization="theta"`` — free but in the first
    group), metric (+ equal loadings; latent variances free) and scalar (+ equal intercepts;
    latent means free). ``chisq``/``cfi``/``tli``/``rmsea`` are the DWLS values; the table adds
    the scaled-shifted ``chisq_scaled`` (with its p and scaling factor), ``cfi_scaled``,
    ``tli_scaled``, ``rmsea_scaled`` and the robust (catML) ``cfi_robust``, ``tli_robust``,
    ``rmsea_robust``; ``chisq_diff`` is the Satorra (2000) scaled-shifted difference test
    lavaan's ``lavTestLRT`` reports for WLSMV, and ``delta_cfi_scaled``, ``delta_rmsea_scaled``,
    ``delta_cfi_robust``, ``delta_rmsea_robust`` the changes against the row before. Robust
    indices are NaN once thresholds are constrained (lavaan 0.6-14 gives none there either), so
    the report compares the scaled ones, which lavaan gives for every row.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> data = gs.reverse_code(gs.screen(gs.read_responses(gs.datasets.example_files()["sav"], inst), inst).clean, inst)
    >>> table = gs.invariance(data, inst.cfa_model(["trust"]), "gender")
    >>> list(table.index)
    ['configural', 'metric', 'scalar']
    """
    if group not in data.columns:
        raise UnknownItemError(f"group={group!r} is not a column of the data.")
    levels = data[group].dropna().unique()
    if len(levels) < 2:
        raise DataValidationError(f"group={group!r} has {len(levels)} level(s); invariance needs at least two groups.")
    if ordered is not None and ordered is not False:
        return _ordinal_invariance(data, model, group, estimator=estimator, missing=missing, ordered=ordered,
                                   parameterization=parameterization)
    rows, warns = {}, []
    keys = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr") + (_INVARIANCE_ROBUST if estimator == "MLR" else ())
    for name, eq in (("configural", ()), ("metric", ("loadings",)), ("scalar", ("loadings", "intercepts"))):
        res = fit_model(data, model, estimator=estimator, group=group, group_equal=eq, missing=missing)
        rows[name] = {k: res.fit[k] for k in keys}
        warns.extend((name, w) for w in res.warnings)
        used = res.extra["missing"]
    table = pd.DataFrame.from_dict(rows, orient="index")
    prev = table.shift(1)
    table["df_diff"] = table["df"] - prev["df"]
    if estimator == "MLR":
        table["diff_scaling_factor"] = _sb2001_scaling(table, prev)
        table["chisq_diff"] = (table["chisq"] - prev["chisq"]) / table["diff_scaling_factor"]
        warns.extend(f"{name}: the scaling factor of the Satorra–Bentler difference test is negative ({cd:.4g}), so the "
                     "scaled Δχ² is not interpretable. Fix: report the ΔCFI/ΔRMSEA, or a strictly positive test "
                     "(Satorra & Bentler, 2010)." for name, cd in table["diff_scaling_factor"].items() if cd < 0)
    else:
        table["chisq_diff"] = table["chisq"] - prev["chisq"]
    table["p_diff"] = [np.nan] + [float(stats.chi2.sf(c, d)) for c, d in zip(table["chisq_diff"][1:], table["df_diff"][1:])]
    table["delta_cfi"] = table["cfi"] - prev["cfi"]
    if estimator == "MLR":
        table["delta_cfi_robust"] = table["cfi_robust"] - prev["cfi_robust"]
        table["delta_rmsea_robust"] = table["rmsea_robust"] - prev["rmsea_robust"]
    first = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "chisq_diff", "df_diff", "p_diff", "delta_cfi"]
    table = table[first + [c for c in table.columns if c not in first]]
    table.index.name = "model"
    table.attrs["warnings"] = _step_warnings(warns)
    table.attrs.update({"n_obs": used["n_used"], "n_dropped": used.get("n_dropped", 0), "missing": used["method"]})
    return table
