"""The analyses a study spec can name: options, run function and report section of each,
registered in the order a report presents them.

Each ``run`` is pure: it reads :class:`~govsurvey.study.registry.Inputs` and its options and
returns a result object; errors are :class:`~govsurvey.errors.GovsurveyError` s that the study
runner records without stopping the other analyses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

import govsurvey as gs
from govsurvey.errors import DataValidationError, GovsurveyError, SpecificationError, UnknownItemError
from govsurvey.evaluation.index import index_indicators
from govsurvey.report.sections import evaluation, measurement, mixed, results
from govsurvey.results import Result
from govsurvey.scoring import score_importance
from govsurvey.study.options import option, suggest
from govsurvey.study.registry import Analysis, Inputs, register

__all__ = ["ReliabilityStep", "EFAStep", "CommonMethod", "Validity", "Invariance", "Descriptives", "Evaluation",
           "EvaluationOptions"]

_frozen = dataclasses.dataclass(frozen=True)
_result = dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
CONSTRUCTS_DOC = "Constructs to analyse (default: {})."


def _constructs(inst, names, default: list[str], what: str) -> list[str]:
    """Construct names checked against the instrument (default when None)."""
    if names is None:
        return default
    unknown = [n for n in names if n not in inst.constructs]
    if unknown:
        raise UnknownItemError(f"{what}: {', '.join(map(repr, unknown))} is not a construct of the instrument. "
                               f"Fix: {suggest(unknown[0], list(inst.constructs))}use one of {', '.join(inst.constructs)}.")
    return list(names)


def _columns(frame: pd.DataFrame, names, what: str) -> None:
    """Every name must be a column of the analysis frame (background variables and scores)."""
    for n in names:
        if n not in frame.columns:
            raise UnknownItemError(f"{what}: {n!r} is not a background variable or construct score. "
                                   f"Fix: {suggest(n, list(map(str, frame.columns)))}use one of {', '.join(map(str, frame.columns))}.")


def _formula_caption(formula: str, name) -> str:
    """A formula's outcome and predictors by their labels: "居民参与 ← 能力, 信任, 身份"
    (``name`` maps a column to its label; the raw formula if it does not parse)."""
    from govsurvey.models.formula import parse_formula

    try:
        f = parse_formula(formula)
    except GovsurveyError:     # a caption never fails a report; the analysis reports its own error
        return formula
    zh = getattr(name, "zh", False)
    sep = "、" if zh else ", "
    outcome = sep.join(map(name, f.outcome_variables))
    rest = [v for v in f.variables if v not in f.outcome_variables]
    if not rest:
        return outcome
    return f"{outcome}（预测变量：{sep.join(map(name, rest))}）" if zh else f"{outcome} (predictors: {sep.join(map(name, rest))})"


# ------------------------------------------------------------------ reliability
@_frozen
class ReliabilityOptions:
    constructs: tuple[str, ...] | None = option(None, kind="names", doc=CONSTRUCTS_DOC.format("every first-order construct"))
    n_boot: int = option(0, kind="int", low=0, high=100_000, doc="Bootstrap resamples for α's CI (0: Feldt's analytic CI).")
    ordinal: bool = option(False, kind="bool", doc="Also report ordinal α and ω from polychoric correlations (Likert items).")


@_result
class ReliabilityStep(Result):
    """Reliability and item analysis per construct."""

    reliability: dict
    item_analysis: dict
    totals: dict = dataclasses.field(default_factory=dict)   # higher-order construct → reliability of all its items
    ordinal: dict = dataclasses.field(default_factory=dict)         # construct → OrdinalReliability (ordinal=True)
    ordinal_totals: dict = dataclasses.field(default_factory=dict)  # higher-order construct → OrdinalReliability


def run_reliability(inp: Inputs, o: ReliabilityOptions) -> ReliabilityStep:
    inst = inp.instrument
    rel, items = {}, {}
    for c in _constructs(inst, o.constructs, inst.first_order, "reliability"):
        ids = inst.items_of(c)
        if len(ids) >= 2:
            rel[c] = gs.reliability(inp.keyed[ids], n_boot=o.n_boot, seed=inp.seed)
            items[c] = gs.item_analysis(inp.keyed[ids])
    if not rel:
        raise DataValidationError("reliability: no construct has two or more items. Fix: name constructs with several items.")
    # a total α for each higher-order construct whose dimensions were all analysed (the scores
    # models use): never one α pooled over unrelated scales
    totals = {h: gs.reliability(inp.keyed[inst.items_of(h)], seed=inp.seed) for h in inst.higher_order
              if all(c in rel for c in inst.descendants(h) if c in inst.first_order)}
    # ordinal α/ω (Zumbo et al., 2007) from the polychoric matrix, beside the Pearson-based ones
    ordinal = {c: gs.ordinal_reliability(inp.keyed[inst.items_of(c)]) for c in rel} if o.ordinal else {}
    ordinal_totals = {h: gs.ordinal_reliability(inp.keyed[inst.items_of(h)]) for h in totals} if o.ordinal else {}
    return ReliabilityStep(reliability=rel, item_analysis=items, totals=totals, ordinal=ordinal, ordinal_totals=ordinal_totals)


# -------------------------------------------------------------------------- efa
@_frozen
class EFAOptions:
    constructs: tuple[str, ...] | None = option(None, kind="names", doc=CONSTRUCTS_DOC.format("every top-level construct"))
    n_factors: int | None = option(None, kind="int", low=1, high=200, doc="Factors to extract (default: eigenvalues > 1, as SPSS).")
    method: str = option("pc", kind="choice", choices=("pc", "minres", "ml", "pa"), doc="Extraction: pc (SPSS's principal components), minres, ml or pa.")
    rotation: str = option("varimax", kind="choice", choices=("varimax", "oblimin", "promax", "promax_stats", "promax_spss", "none"),
                          doc="Rotation (promax: psych::fa's Kaiser-normalised promax; promax_stats: stats::promax as psych::principal; promax_spss: SPSS's variant).")
    n_iter: int = option(50, kind="int", low=1, high=10_000, doc="Random data sets for parallel analysis.")


@_result
class EFAStep(Result):
    """KMO, Bartlett's test, parallel analysis and the EFA of the chosen constructs' items."""

    kmo: Any
    bartlett: Any
    parallel: Any
    efa: Any
    constructs: tuple[str, ...]


def run_efa(inp: Inputs, o: EFAOptions) -> EFAStep:
    inst = inp.instrument
    names = _constructs(inst, o.constructs, [n for n, c in inst.constructs.items() if c.parent is None], "efa")
    ids = list(dict.fromkeys(i for n in names for i in inst.items_of(n)))
    if o.n_factors is not None and o.n_factors > len(ids):
        raise DataValidationError(f"efa: n_factors={o.n_factors} but the constructs {', '.join(names)} have only {len(ids)} items. "
                                  "Fix: extract fewer factors than items.")
    x = inp.keyed[ids]
    return EFAStep(kmo=gs.kmo(x), bartlett=gs.bartlett(x), parallel=gs.parallel_analysis(x, n_iter=o.n_iter, seed=inp.seed),
                   efa=gs.efa(x, o.n_factors, method=o.method, rotation=o.rotation), constructs=tuple(names))


# ----------------------------------------------------------------------- harman
@_frozen
class HarmanOptions:
    constructs: tuple[str, ...] | None = option(None, kind="names", doc=CONSTRUCTS_DOC.format("every construct item"))
    threshold: float = option(0.40, kind="float", low=0.05, high=0.95, doc="Share of variance above which the first factor flags common-method bias.")


def run_harman(inp: Inputs, o: HarmanOptions):
    inst = inp.instrument
    ids = (inst.construct_items if o.constructs is None else
           list(dict.fromkeys(i for n in _constructs(inst, o.constructs, [], "harman") for i in inst.items_of(n))))
    return gs.harman_test(inp.keyed[ids], threshold=o.threshold)


# ---------------------------------------------------------------- common method
@_frozen
class CommonMethodOptions:
    harman: bool = option(True, kind="bool", doc="Harman's single-factor test (first unrotated factor's share of variance).")
    clf: bool = option(True, kind="bool", doc="The common-latent-factor (ULMC) comparison: the CFA with and without an equal-loading "
                                              "method factor (ΔCFI/ΔTLI > .10 or ΔRMSEA/ΔSRMR > .05 flags serious bias).")
    marker: str | None = option(None, kind="name", doc="A marker item or variable, theoretically unrelated to the constructs, for "
                                                       "Lindell & Whitney's correction of the construct scores' correlations.")
    constructs: tuple[str, ...] | None = option(None, kind="names", doc=CONSTRUCTS_DOC.format("every first-order construct"))
    threshold: float = option(0.40, kind="float", low=0.05, high=0.95, doc="Harman: share of variance above which the first factor flags bias.")
    rank: str = option("smallest", kind="choice", choices=("smallest", "second_smallest"),
                       doc="Marker: the smallest or second-smallest positive marker correlation as r_M.")
    estimator: str = option("ML", kind="choice", choices=("ML", "MLR"), doc="CLF: ML, or MLR (robust indices, scaled Δχ²).")
    missing: str = option("auto", kind="choice", choices=("auto", "fiml", "listwise"),
                          doc="CLF: auto (FIML when a modelled item has missing values), fiml or listwise.")


@_result
class CommonMethod(Result):
    """Common-method checks: Harman's test, the common-latent-factor comparison, the marker correction."""

    constructs: tuple[str, ...]
    harman: Any = None
    clf: Any = None
    marker: Any = None


def _marker_frame(inp: Inputs, marker: str, names: list[str], items: list[str]) -> pd.DataFrame:
    """The constructs' scores and the marker (an item, a background variable or another score)."""
    inst = inp.instrument
    inside = [n for n in names if marker == n or marker in inst.descendants(n)] if marker in inst.constructs else []
    if marker in items or inside:
        what = "an item of a construct" if marker in items else "the score of a construct"
        raise DataValidationError(f"common_method: marker={marker!r} is {what} being checked ({', '.join(names[:5])}"
                                  f"{' …' if len(names) > 5 else ''}); a marker must lie outside the model and be theoretically "
                                  "unrelated to its constructs. Fix: name an item or variable outside them, or leave it out of constructs.")
    if marker in inp.frame.columns:
        column = inp.frame[marker]
    elif marker in inp.keyed.columns and marker in {q.id for q in inst.questions}:
        column = inp.keyed[marker]
    else:
        known = [*map(str, inp.frame.columns), *(q.id for q in inst.questions)]
        raise UnknownItemError(f"common_method: marker={marker!r} is neither an item of the instrument nor a background variable or "
                               f"construct score. Fix: {suggest(marker, known)}name one of them.")
    return inp.frame[[n for n in names if n in inp.frame.columns]].assign(**{marker: column})


def run_common_method(inp: Inputs, o: CommonMethodOptions) -> CommonMethod:
    inst = inp.instrument
    if not (o.harman or o.clf or o.marker):
        raise SpecificationError("common_method: harman and clf are false and no marker is given, so there is nothing to check. "
                                 "Fix: set harman: true or clf: true, or name a marker.")
    names = _constructs(inst, o.constructs, inst.first_order, "common_method")
    items = list(dict.fromkeys(i for n in names for i in inst.items_of(n)))
    frame = _marker_frame(inp, o.marker, names, items) if o.marker else None
    harman = gs.harman_test(inp.keyed[items], threshold=o.threshold) if o.harman else None
    clf = None
    if o.clf:
        model = inst.cfa_model(names if o.constructs else None)
        clf = gs.clf_test(inp.keyed, model, estimator=o.estimator, missing=_missing_method(inp.keyed, model, o.missing))
    marker = (gs.marker_test(frame, o.marker, [n for n in names if n in frame.columns], rank=o.rank) if o.marker else None)
    return CommonMethod(constructs=tuple(names), harman=harman, clf=clf, marker=marker)


# -------------------------------------------------------------------------- cfa
@_frozen
class CFAOptions:
    model: str = option("instrument", kind="model", doc="'instrument' (one factor per construct) or a lavaan model string.")
    constructs: tuple[str, ...] | None = option(None, kind="names", doc="With model: instrument, the constructs to model (default: every first-order construct).")
    estimator: str = option("ML", kind="choice", choices=("ML", "MLR", "WLSMV", "DWLS", "ULSMV"),
                            doc="ML, MLR (robust: scaled χ², robust CFI/TLI/RMSEA), or with ordered: WLSMV (default then), DWLS, ULSMV.")
    missing: str = option("auto", kind="choice", choices=("auto", "fiml", "listwise"),
                          doc="auto: full-information ML (FIML) when a modelled item has missing values, else ML on all cases; "
                              "fiml; or listwise (complete cases only).")
    ordered: bool = option(False, kind="bool", doc="Treat the items as ordinal (Likert): WLSMV on polychoric correlations, "
                                                    "complete cases.")


def _missing_method(data: pd.DataFrame, model: str, choice: str) -> str:
    """``auto`` → ``fiml`` when a variable the model names has a missing value, ``listwise``
    otherwise (the same fit as FIML without missing values, with expected-information SEs)."""
    if choice != "auto":
        return choice
    from govsurvey.psychometrics.sem.fit import observed_variables
    from govsurvey.psychometrics.sem.syntax import parse_model

    names = set(observed_variables(parse_model(model)[0]))
    cols = [c for c in data.columns if c in names]
    return "fiml" if bool(data[cols].isna().to_numpy().any()) else "listwise"


def _cfa_model(inp: Inputs, o: CFAOptions) -> str:
    if o.model != "instrument":
        return o.model
    return inp.instrument.cfa_model(_constructs(inp.instrument, o.constructs, None, "cfa") if o.constructs else None)


def run_cfa(inp: Inputs, o: CFAOptions):
    model = _cfa_model(inp, o)
    if o.ordered:
        if o.missing == "fiml" or o.estimator == "MLR":
            raise DataValidationError("cfa: ordered items are fitted by WLSMV on complete cases; FIML and MLR are for continuous "
                                      "items. Fix: drop missing: fiml / estimator: MLR, or ordered: true.")
        return gs.cfa(inp.keyed, model, estimator="WLSMV" if o.estimator == "ML" else o.estimator, ordered=True)
    if o.estimator not in ("ML", "MLR"):
        raise DataValidationError(f"cfa: estimator {o.estimator} is for ordered items. Fix: add ordered: true, or use ML/MLR.")
    return gs.cfa(inp.keyed, model, estimator=o.estimator, missing=_missing_method(inp.keyed, model, o.missing))


# --------------------------------------------------------------------- validity
@_frozen
class ValidityOptions:
    pass


@_result
class Validity(Result):
    """Convergent and discriminant validity of the CFA: CR and AVE, HTMT, Fornell–Larcker."""

    reliability: pd.DataFrame
    htmt: pd.DataFrame
    fornell_larcker: pd.DataFrame


def run_validity(inp: Inputs, o: ValidityOptions) -> Validity:
    fit = inp.results["cfa"]
    return Validity(reliability=fit.reliability, htmt=gs.htmt(inp.keyed, fit.model), fornell_larcker=gs.fornell_larcker(fit))


# ------------------------------------------------------------------- invariance
@_frozen
class InvarianceOptions:
    group: str = option(kind="name", doc="The background variable defining the groups (e.g. gender).")
    constructs: tuple[str, ...] | None = option(None, kind="names", doc="Constructs in the model (default: every first-order construct).")
    model: str | None = option(None, kind="model", doc="A lavaan model instead of the instrument's.")
    estimator: str = option("ML", kind="choice", choices=("ML", "MLR", "WLSMV", "DWLS", "ULSMV"),
                            doc="ML, or MLR (Satorra–Bentler scaled Δχ², robust CFI/RMSEA, as lavTestLRT); with ordered: "
                                "WLSMV (default then), DWLS, ULSMV.")
    missing: str = option("auto", kind="choice", choices=("auto", "fiml", "listwise"),
                          doc="auto: full-information ML (FIML) when a modelled item has missing values, else ML on all cases; "
                              "fiml; or listwise (complete cases only).")
    ordered: bool = option(False, kind="bool", doc="Treat the items as ordinal (Likert): configural, thresholds, metric and scalar "
                           "models by WLSMV following Wu & Estabrook (2016), Satorra (2000) Δχ² (complete cases).")


@_result
class Invariance(Result):
    """Configural, metric and scalar invariance across ``group``."""

    table: pd.DataFrame
    group: str
    constructs: tuple[str, ...] = ()      # the factors of the model tested
    n_by_group: dict = dataclasses.field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table


def run_invariance(inp: Inputs, o: InvarianceOptions) -> Invariance:
    _columns(inp.keyed, [o.group], "invariance")
    model = o.model or inp.instrument.cfa_model(_constructs(inp.instrument, o.constructs, None, "invariance") if o.constructs else None)
    missing = _missing_method(inp.keyed, model, o.missing)
    from govsurvey.psychometrics.sem.syntax import parse_model

    factors = tuple(dict.fromkeys(st.lhs for st in parse_model(model)[0] if st.op == "=~"))
    counts = inp.keyed[o.group].value_counts(sort=False).sort_index()
    if o.ordered:
        if o.missing == "fiml" or o.estimator == "MLR":
            raise DataValidationError("invariance: ordered items are fitted by WLSMV on complete cases; FIML and MLR are for "
                                      "continuous items. Fix: drop missing: fiml / estimator: MLR, or ordered: true.")
        table = gs.invariance(inp.keyed, model, o.group, estimator="WLSMV" if o.estimator == "ML" else o.estimator, ordered=True)
    elif o.estimator not in ("ML", "MLR"):
        raise DataValidationError(f"invariance: estimator {o.estimator} is for ordered items. Fix: add ordered: true, or use ML/MLR.")
    else:
        table = gs.invariance(inp.keyed, model, o.group, estimator=o.estimator, missing=missing)
    return Invariance(table=table, group=o.group,
                      constructs=factors, n_by_group={str(k): int(v) for k, v in counts.items()})


# ----------------------------------------------------------------- descriptives
@_frozen
class DescriptivesOptions:
    by: str | None = option(None, kind="name", doc="A background variable to describe the scores by (adds a distribution figure).")


@_result
class Descriptives(Result):
    """Descriptive statistics of every construct score (and by group)."""

    table: pd.DataFrame
    by: str | None = None
    by_table: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.table


def run_descriptives(inp: Inputs, o: DescriptivesOptions) -> Descriptives:
    cols = [c for c in inp.instrument.constructs if c in inp.frame.columns]
    if o.by is not None:
        _columns(inp.frame, [o.by], "descriptives")
    return Descriptives(table=gs.describe(inp.frame, columns=cols), by=o.by,
                        by_table=gs.describe(inp.frame, columns=cols, by=o.by) if o.by else None)


@_frozen
class CorrelationOptions:
    columns: tuple[str, ...] | None = option(None, kind="names", doc="Scores to correlate (default: every first-order construct).")
    method: str = option("pearson", kind="choice", choices=("pearson", "spearman"), doc="pearson or spearman.")


def run_correlations(inp: Inputs, o: CorrelationOptions):
    cols = list(o.columns) if o.columns else [c for c in inp.instrument.first_order if c in inp.frame.columns]
    _columns(inp.frame, cols, "correlations")
    return gs.correlations(inp.frame, columns=cols, method=o.method)


# ------------------------------------------------------------- models (lists)
@_frozen
class CompareOptions:
    dv: str = option(kind="name", doc="The score compared (a construct).")
    group: str = option(kind="name", doc="The background variable defining the groups.")
    test: str = option("auto", kind="choice", choices=("auto", "t", "welch", "anova", "welch_anova", "mannwhitney", "kruskal", "chi2"),
                       doc="The test (auto: t/Welch or ANOVA/Welch ANOVA by Levene's test).")


def run_compare(inp: Inputs, o: CompareOptions):
    _columns(inp.frame, [o.dv, o.group], "compare_groups")
    return gs.compare_groups(inp.frame, o.dv, o.group, test=o.test)


@_frozen
class RegressionOptions:
    formula: str = option(kind="formula", doc="outcome ~ predictors; C(x) for categories, Q(\"名称\") for odd names.")
    robust: str | None = option(None, kind="choice", choices=("HC3", "HC0", "HC1", "HC2"), doc="Robust standard errors (HC3 recommended).")
    robust_df: str = option("residual", kind="choice", choices=("residual", "normal"),
                            doc="With robust SEs: t on the residual df (as lm + coeftest and SPSS) or the normal distribution.")


def run_regression(inp: Inputs, o: RegressionOptions):
    return gs.regress(o.formula, inp.frame, robust=o.robust, robust_df=o.robust_df)


@_frozen
class MultilevelOptions:
    formula: str = option(kind="formula", doc="Fixed effects, e.g. capacity ~ 1 (the null model, for the ICC).")
    groups: str = option(kind="name", doc="The grouping variable (e.g. site).")
    reml: bool = option(True, kind="bool", doc="REML (true) or ML (false) estimation.")


def run_multilevel(inp: Inputs, o: MultilevelOptions):
    _columns(inp.frame, [o.groups], "multilevel")
    return gs.multilevel(o.formula, inp.frame, groups=o.groups, reml=o.reml)


@_frozen
class MediationOptions:
    x: str = option(kind="name", doc="The predictor.")
    m: tuple[str, ...] = option(kind="names", doc="The mediator(s); several run in parallel.")
    y: str = option(kind="name", doc="The outcome.")
    covariates: tuple[str, ...] = option((), kind="names", doc="Covariates of every path.")
    n_boot: int = option(5000, kind="int", low=100, high=100_000, doc="Bootstrap resamples (Monte Carlo draws with fiml) for the CIs.")
    missing: str = option("listwise", kind="choice", choices=("listwise", "fiml"),
                          doc="listwise (complete cases, bootstrap CIs) or fiml (every case with x and the covariates; Monte Carlo CIs).")


def run_mediation(inp: Inputs, o: MediationOptions):
    _columns(inp.frame, [o.x, *o.m, o.y, *o.covariates], "mediation")
    m = o.m[0] if len(o.m) == 1 else list(o.m)
    return gs.mediation(inp.frame, x=o.x, m=m, y=o.y, covariates=list(o.covariates), n_boot=o.n_boot, seed=inp.seed,
                        missing=o.missing)


@_frozen
class ModerationOptions:
    x: str = option(kind="name", doc="The predictor.")
    w: str = option(kind="name", doc="The moderator.")
    y: str = option(kind="name", doc="The outcome.")
    covariates: tuple[str, ...] = option((), kind="names", doc="Covariates.")


def run_moderation(inp: Inputs, o: ModerationOptions):
    _columns(inp.frame, [o.x, o.w, o.y, *o.covariates], "moderation")
    return gs.moderation(inp.frame, x=o.x, w=o.w, y=o.y, covariates=list(o.covariates))


# ------------------------------------------------------------------------ mixed
@_frozen
class GapOptions:
    importance: bool = option(True, kind="bool", doc="Compare performance with the instrument's importance ratings.")
    target: float | None = option(None, kind="float", low=-1e6, high=1e6, doc="A target score instead of importance ratings.")


def run_gaps(inp: Inputs, o: GapOptions):
    inst = inp.instrument
    dims = list(inst.importance_items) or inst.first_order
    if o.target is not None:
        return gs.capacity_gaps(inp.scores[dims], target=o.target)
    if not o.importance or not inst.importance_items:
        raise DataValidationError("capacity_gaps: the instrument has no importance ratings to compare with. "
                                  "Fix: give target: (e.g. 4), or add importance: items to the instrument.")
    return gs.capacity_gaps(inp.scores[dims], importance=score_importance(inp.screening.clean, inst))


@_frozen
class CodeMatrixOptions:
    by: str | None = option(None, kind="name", doc="Case variable for the rows (default: site when the interviews have it, else case).")
    level: str = option("dimension", kind="choice", choices=("dimension", "parent", "code"), doc="Columns: instrument dimensions, parent themes or codes.")


def run_code_matrix(inp: Inputs, o: CodeMatrixOptions):
    by = o.by or ("site" if "site" in inp.codes.segments.columns else "case")
    return gs.code_matrix(inp.codes, by=by, level=o.level)


@_frozen
class AgreementOptions:
    pass


def run_agreement(inp: Inputs, o: AgreementOptions):
    if len(inp.codes.coders) < 2:
        raise DataValidationError(f"agreement: the interviews have one coder ({', '.join(inp.codes.coders)}); agreement needs two. "
                                  "Fix: export the project with both coders' codings, or remove agreement.")
    return gs.intercoder_agreement(inp.codes)


@_frozen
class JointOptions:
    pass


def run_joint(inp: Inputs, o: JointOptions):
    return gs.joint_display(inp.results["capacity_gaps"], inp.codes)


@_frozen
class LinkOptions:
    level: str = option("site", kind="name", doc="Case variable shared by respondents and interviewees.")


def run_link(inp: Inputs, o: LinkOptions):
    _columns(inp.frame, [o.level], "link_codes")
    return gs.link_codes(inp.frame, inp.codes, level=o.level, labels=_choice_labels(inp, o.level))


def _choice_labels(inp: Inputs, qid: str) -> dict | None:
    """The instrument's labels of a background question's codes, in the report's language."""
    inst = inp.instrument
    if qid not in {q.id for q in inst.questions}:
        return None
    labels = inst.scales[inst.question(qid).scale].labels
    return labels.get(inp.language) or next(iter(labels.values()), None)


# ------------------------------------------------------------------- evaluation
@_frozen
class EvaluationOptions:
    unit: str = option("site", kind="name", doc="The background variable naming each respondent's unit (community): the units "
                                                 "evaluated and ranked.")
    construct: str | None = option(None, kind="name", doc="The goal of the index system (default: the construct above the "
                                                          "importance-rated dimensions, e.g. capacity); its construct tree is the hierarchy.")
    level: str = option("dimensions", kind="choice", choices=("dimensions", "items"),
                        doc="The indicators: the goal's dimensions (construct scores) or its items.")
    delphi: str | None = option(None, kind="path", doc="A Delphi file (CSV/Excel: expert, round, familiarity, basis, one column per "
                                                       "indicator; see Expert files), relative to the spec. Indicators its last round "
                                                       "does not keep are left out of the index.")
    ahp: str | None = option(None, kind="path", doc="An AHP file (CSV/Excel: judgement matrices per expert and node, nodes named as "
                                                    "the instrument's constructs or their labels; see Expert files), relative to the "
                                                    "spec: the expert weights. Without it the weights are objective only.")
    aggregate: str = option("AIJ", kind="choice", choices=("AIJ", "AIP"),
                            doc="How the AHP experts are combined: AIJ (geometric mean of the judgements) or AIP (of the priorities).")
    mean_min: float = option(3.5, kind="float", low=0, high=100, doc="Delphi: keep an indicator whose mean importance is at least this …")
    cv_max: float = option(0.25, kind="float", low=0, high=10, doc="Delphi: … and whose coefficient of variation is at most this.")
    sent: int | None = option(None, kind="int", low=1, high=10_000,
                              doc="Delphi: how many experts the first round's questionnaire was sent to, for the experts' positive "
                                  "coefficient (returned / sent). The Delphi file lists the experts who answered, so it cannot say "
                                  "this; each later round counts as sent to the experts who returned the round before (the usual "
                                  "design). Without it the report gives the numbers returned and says the rate is unknown.")
    objective: str = option("entropy", kind="choice", choices=("entropy", "critic", "none"),
                            doc="Objective weights from the units' means: entropy, CRITIC (Diakoulaki et al., 1995), or none.")
    combine: str = option("multiplicative", kind="choice", choices=("multiplicative", "additive"),
                          doc="Expert (s) and objective (o) weights combined as s·o/Σs·o (multiplicative) or α·s + (1 − α)·o (additive).")
    alpha: float = option(0.5, kind="float", low=0, high=1, doc="The expert share α of the additive combination.")
    method: str = option("topsis", kind="choice", choices=("topsis", "weighted_sum", "grey"),
                         doc="The index: TOPSIS closeness (0–1), a weighted sum on the questionnaire's scale (0–100) or the "
                             "grey relational grade.")
    fuzzy: bool = option(True, kind="bool", doc="Also a fuzzy comprehensive evaluation of every unit (membership from the items' "
                                                 "answer shares, the index's weights).")
    n_boot: int = option(1000, kind="int", low=0, high=100_000,
                         doc="Stratified bootstrap resamples (respondents within units) for the index's CIs; 0 for none.")

    def __repr__(self) -> str:      # file names only: an absolute path depends on the machine
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        shown.update({k: Path(v).name for k in ("delphi", "ahp") if (v := shown[k]) is not None})
        return "EvaluationOptions(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


@_result
class Evaluation(Result):
    """The evaluation index system: Delphi screening, AHP weights, the capacity index per unit, its fuzzy evaluation."""

    index: Any
    delphi: Any = None
    ahp: Any = None
    fuzzy: Any = None
    excluded: tuple[str, ...] = ()         # indicators the Delphi's last round did not keep
    # Spearman's ρ between the capacity index and the fuzzy score across the units (row "fuzzy_score":
    # n_units, rho, p); None without the fuzzy evaluation
    fuzzy_association: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.index.table


# warnings the evaluation section presents in the report's language (kept in the results' warnings
# fields); any other warning reaches the report's analysis notes as usual
PRESENTED = (re.compile(r"^ahp: node .* CR = "), re.compile(r"^capacity_index: \d+ answer\(s\) are missing"),
             re.compile(r"^capacity_index: indicator\(s\) .* are left out of the index"),
             re.compile(r"^capacity_index: the subjective weights of the indicators in the index sum to"))


@contextlib.contextmanager
def _presented_in_section():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if not any(p.match(str(w.message)) for p in PRESENTED):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def run_evaluation(inp: Inputs, o: EvaluationOptions) -> Evaluation:
    with _presented_in_section():
        return _evaluation(inp, o)


def _evaluation(inp: Inputs, o: EvaluationOptions) -> Evaluation:
    inst = inp.instrument
    if o.construct is not None:
        _constructs(inst, [o.construct], [], "evaluation")
    _columns(inp.frame, [o.unit], "evaluation")
    _, indicators = index_indicators(inst, o.construct, level=o.level)
    delphi = None
    if o.delphi:
        panel = gs.read_delphi(o.delphi, inst)
        delphi = gs.delphi(panel.ratings, familiarity=panel.familiarity, basis=panel.basis,
                           rule={"mean_min": o.mean_min, "cv_max": o.cv_max}, sent=_sent(panel.ratings, o.sent),
                           groups=_levels(inst, o.construct, panel.indicators))
    excluded = _not_kept(delphi, indicators)
    ahp = gs.ahp(gs.read_ahp(o.ahp, inst).matrices, aggregate=o.aggregate) if o.ahp else None
    index = gs.capacity_index(inp.screening.clean, inst, unit=o.unit, construct=o.construct, level=o.level, weights=ahp,
                              objective=None if o.objective == "none" else o.objective, combine=o.combine, alpha=o.alpha,
                              method=o.method, scores=_mean_scores(inp, o.level), exclude=excluded, codes=inp.codes,
                              labels=_choice_labels(inp, o.unit), n_boot=o.n_boot, seed=inp.seed)
    fuzzy = _fuzzy(inp, o, index) if o.fuzzy else None
    return Evaluation(index=index, delphi=delphi, ahp=ahp, fuzzy=fuzzy, excluded=tuple(excluded),
                      fuzzy_association=_fuzzy_association(index, fuzzy))


def _sent(ratings: dict, first: int | None) -> dict | None:
    """Questionnaires sent per round: ``first`` in round 1, then the experts who returned the round
    before (unknown for a round more experts returned than that)."""
    if first is None:
        return None
    returned = [int(frame.notna().any(axis=1).sum()) for frame in ratings.values()]
    sent = [first] + [prev if now <= prev else None for prev, now in zip(returned, returned[1:])]
    return dict(zip(ratings, sent))


def _levels(inst, construct: str | None, indicators) -> dict:
    """Each Delphi indicator's level below the goal (1: the goal's children, 2: theirs, …; an item one
    below its construct); indicators outside the goal's tree are left out."""
    root, _ = index_indicators(inst, construct)
    items = {q.id for q in inst.questions}
    out = {}
    for name in indicators:
        if name not in inst.constructs and name not in items:
            continue
        node, depth = (inst.question(name).construct, 1) if name not in inst.constructs else (name, 0)
        while node is not None and node != root:
            node, depth = inst.constructs[node].parent, depth + 1
        if node == root:
            out[name] = depth
    return out


def _fuzzy_association(index, fuzzy) -> pd.DataFrame | None:
    """Spearman's ρ of the index with the fuzzy score across the units (a description of these units)."""
    if fuzzy is None:
        return None
    from scipy import stats

    both = pd.DataFrame({"index": index.table["index"], "score": fuzzy.score.drop(index="(all)")}).astype(float).dropna()
    ok = len(both) >= 3 and both["index"].nunique() > 1 and both["score"].nunique() > 1
    rho, p = (float(v) for v in stats.spearmanr(both["index"], both["score"])) if ok else (float("nan"), float("nan"))
    return pd.DataFrame({"n_units": [len(both)], "rho": [rho], "p": [p]}, index=pd.Index(["fuzzy_score"], name="with"))


def _not_kept(delphi, indicators: list[str]) -> list[str]:
    """The index's indicators that the Delphi's last round rated and did not keep."""
    if delphi is None:
        return []
    rounds = delphi.rounds
    last = rounds.loc[rounds["round"] == rounds["round"].iloc[-1]]
    dropped = set(last.loc[~last["keep"].astype(bool), "indicator"].astype(str))
    return [i for i in indicators if i in dropped]


def _mean_scores(inp: Inputs, level: str) -> pd.DataFrame | None:
    """The study's construct scores when they are item means (the index reads them on the item scale)."""
    if level != "dimensions" or inp.scoring.get("method", "mean") != "mean":
        return None
    return inp.scores


GRADES = {"zh": ("很差", "较差", "一般", "较好", "很好"), "en": ("Very poor", "Poor", "Fair", "Good", "Very good")}


def _fuzzy(inp: Inputs, o: EvaluationOptions, index) -> Any:
    """Fuzzy comprehensive evaluation of each unit with the index's weights (two levels: items within dimensions)."""
    inst, w = inp.instrument, index.weights
    if o.level == "dimensions":
        items, item_w, dim_w = [i for d in w.index for i in inst.items_of(d)], None, w["weight"]
    else:
        items, item_w, dim_w = list(w.index), w["weight"], None
    codes = {inst.scale_of(i).codes for i in items}
    grades = GRADES.get(inp.language)
    levels = dict(zip(next(iter(codes)), grades)) if len(codes) == 1 and len(next(iter(codes))) == 5 and grades else None
    return gs.fuzzy_evaluation(inp.screening.clean[[*items, o.unit]], inst, item_w, by=o.unit, levels=levels,
                               dimension_weights=dim_w, lang=inp.language)


def _t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


for _entry in (
    Analysis(name="reliability", title=_t("信度与项目分析", "Reliability and item analysis"), options=ReliabilityOptions,
             run=run_reliability, section=measurement.reliability, chapter="measurement",
             doc="Cronbach's α (CI), ω, λ6 and item analysis (corrected item–total r, α if deleted, critical ratio) per construct."),
    Analysis(name="efa", title=_t("探索性因子分析", "Exploratory factor analysis"), options=EFAOptions, run=run_efa,
             section=measurement.efa, chapter="measurement", example="{constructs: [capacity], n_factors: 9}",
             doc="KMO, Bartlett's test, parallel analysis and an EFA with loadings table and scree plot."),
    Analysis(name="harman", title=_t("共同方法偏差检验", "Common-method bias"), options=HarmanOptions, run=run_harman,
             section=measurement.harman, chapter="measurement",
             doc="Harman's single-factor test. Deprecated: superseded by `common_method` (`common_method: {harman: true, clf: false}` "
                 "gives the same test); kept so that existing specs run unchanged."),
    Analysis(name="common_method", title=_t("共同方法偏差检验", "Common-method bias"), options=CommonMethodOptions,
             run=run_common_method, section=measurement.common_method, chapter="measurement",
             example="{harman: true, clf: true}",
             doc="Harman's single-factor test, the common-latent-factor (ULMC) comparison of the CFA with and without an "
                 "equal-loading method factor (Δχ², ΔCFI, ΔTLI, ΔRMSEA, ΔSRMR, method variance share), and, with a marker, "
                 "Lindell & Whitney's (2001) corrected correlations of the construct scores."),
    Analysis(name="cfa", title=_t("验证性因子分析", "Confirmatory factor analysis"), options=CFAOptions, run=run_cfa,
             section=measurement.cfa, chapter="measurement", example="{model: instrument, estimator: MLR}",
             doc="CFA (ML or MLR): fit indices, standardized loadings."),
    Analysis(name="validity", title=_t("收敛效度与区分效度", "Convergent and discriminant validity"), options=ValidityOptions,
             run=run_validity, section=measurement.validity, chapter="measurement", needs=("cfa",),
             doc="CR, AVE, HTMT and the Fornell–Larcker criterion of the CFA model."),
    Analysis(name="invariance", title=_t("测量不变性", "Measurement invariance"), options=InvarianceOptions, run=run_invariance,
             section=measurement.invariance, chapter="measurement", example="{group: gender}", caption=lambda o, name=str: name(o.group),
             doc="Configural, metric and scalar invariance across groups (Δχ², ΔCFI)."),
    Analysis(name="descriptives", title=_t("描述统计", "Descriptive statistics"), options=DescriptivesOptions,
             run=run_descriptives, section=results.descriptives, chapter="results", example="{by: role}",
             doc="n, M, SD, skewness and kurtosis of every construct score."),
    Analysis(name="correlations", title=_t("相关分析", "Correlations"), options=CorrelationOptions, run=run_correlations,
             section=results.correlations, chapter="results", doc="Means, SDs and correlations of construct scores, with a heatmap."),
    Analysis(name="compare_groups", title=_t("差异分析", "Group comparisons"), options=CompareOptions, run=run_compare,
             section=results.compare_groups, chapter="results", many=True, example="[{dv: participation, group: role}]",
             caption=lambda o, name=str: f"{name(o.dv)}（按{name(o.group)}）" if getattr(name, "zh", False) else f"{name(o.dv)} by {name(o.group)}",
             doc="t tests, ANOVA (Welch when variances differ) or rank tests, with effect sizes."),
    Analysis(name="regressions", title=_t("回归分析", "Regression"), options=RegressionOptions, run=run_regression,
             section=results.regression, chapter="results", many=True, example="[{formula: \"participation ~ capacity + trust\"}]",
             caption=lambda o, name=str: _formula_caption(o.formula, name),
             doc="OLS regressions with standardized β, VIF and optional robust SEs."),
    Analysis(name="multilevel", title=_t("多层线性模型", "Multilevel models"), options=MultilevelOptions, run=run_multilevel,
             section=results.multilevel, chapter="results", many=True, example="[{formula: \"capacity ~ 1\", groups: site}]",
             caption=lambda o, name=str: (f"{_formula_caption(o.formula, name)}（按{name(o.groups)}分层）" if getattr(name, "zh", False)
                                         else f"{_formula_caption(o.formula, name)}, nested in {name(o.groups)}"),
             doc="Linear mixed models (random intercepts) with the ICC."),
    Analysis(name="mediation", title=_t("中介效应", "Mediation"), options=MediationOptions, run=run_mediation,
             section=results.mediation, chapter="results", many=True, example="[{x: capacity, m: trust, y: participation}]",
             caption=lambda o, name=str: f"{name(o.x)} → {' + '.join(map(name, o.m))} → {name(o.y)}",
             doc="Indirect effects with bootstrap CIs."),
    Analysis(name="moderation", title=_t("调节效应", "Moderation"), options=ModerationOptions, run=run_moderation,
             section=results.moderation, chapter="results", many=True, example="[{x: capacity, w: trust, y: participation}]",
             caption=lambda o, name=str: f"{name(o.x)} × {name(o.w)} → {name(o.y)}",
             doc="Interaction models with simple slopes."),
    Analysis(name="capacity_gaps", title=_t("能力差距", "Capacity gaps"), options=GapOptions, run=run_gaps,
             section=mixed.capacity_gaps, chapter="mixed", doc="Importance–performance (or target) gaps per dimension."),
    Analysis(name="code_matrix", title=_t("访谈编码矩阵", "Interview code matrix"), options=CodeMatrixOptions, run=run_code_matrix,
             section=mixed.code_matrix, chapter="mixed", needs=("interviews",), doc="Which dimensions each community's interviewees raised."),
    Analysis(name="agreement", title=_t("编码者一致性", "Intercoder agreement"), options=AgreementOptions, run=run_agreement,
             section=mixed.agreement, chapter="mixed", needs=("interviews",), doc="Cohen's κ and Krippendorff's α of two coders."),
    Analysis(name="joint_display", title=_t("联合展示", "Joint display"), options=JointOptions, run=run_joint,
             section=mixed.joint_display, chapter="mixed", needs=("capacity_gaps", "interviews"),
             doc="Gaps beside interview themes and quotes, with a convergence judgement."),
    Analysis(name="link_codes", title=_t("访谈与得分的关联", "Interview codes and scores"), options=LinkOptions, run=run_link,
             section=mixed.link_codes, chapter="mixed", needs=("interviews",), example="{level: site}",
             doc="Site-level correlation of barrier talk with scores."),
    Analysis(name="evaluation", title=_t("评价指标体系与社区能力指数", "Evaluation index system and capacity index"), options=EvaluationOptions, run=run_evaluation,
             section=evaluation.evaluation, chapter="evaluation",
             example="{unit: site, delphi: experts_delphi.csv, ahp: experts_ahp.csv, objective: entropy}",
             doc="The instrument's construct tree as an evaluation index system: Delphi screening (Kendall's W, authority), AHP "
                 "weights (CR per expert and node), objective (entropy or CRITIC) and combined weights, a capacity index per "
                 "unit (TOPSIS, weighted sum or grey relational grade) with bootstrap CIs and ranks, each unit's shortfall "
                 "dimensions and — with interviews — its interviewees' barrier share and Spearman's ρ between index and "
                 "barrier share; a fuzzy comprehensive evaluation per unit."),
):
    register(_entry)
