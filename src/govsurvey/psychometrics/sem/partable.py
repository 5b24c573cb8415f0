"""The parameter table: user statements plus lavaan's defaults for ``cfa()``/``sem()``.

Defaults reproduced: the first loading of each factor fixed to 1 (auto.fix.first);
variances of every variable free (auto.var); covariances among exogenous latent variables
free (auto.cov.lv.x) and among "pure" endogenous variables — regression outcomes that are
no indicator and predict nothing (auto.cov.y); exogenous observed covariates' (co)variances
and means fixed at their sample values (fixed.x), unless the user names them in a ``~~`` or
``~1`` statement; with a mean structure, observed intercepts free and latent means fixed at
0 (``growth()``: the reverse) — latent means freed in groups 2.. when intercepts are held
equal. An intercept statement (``x ~ 1``) makes no regression outcome (see :func:`var_names`). Labels shared
by rows (also across groups) make them one parameter; ``group_equal`` does the same for
loadings, intercepts, residuals, lv.variances, lv.covariances, regressions or means.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from govsurvey.errors import ModelSyntaxError
from govsurvey.psychometrics.sem.syntax import Constraint, Defined, Statement

__all__ = ["GROUP_EQUAL", "ParTable", "Row", "VarNames", "build_partable", "n_moments", "var_names"]

GROUP_EQUAL = ("loadings", "intercepts", "residuals", "residual.covariances", "lv.variances", "lv.covariances",
               "regressions", "means")


@dataclasses.dataclass
class Row:
    lhs: str
    op: str
    rhs: str
    group: int
    free: bool
    value: float | None = None      # fixed value (None until filled for fixed.x / starts)
    label: str | None = None
    start: float | None = None
    user: bool = True
    exo_fixed: bool = False         # fixed.x row (value from sample statistics)
    par: int = -1                   # index into the free-parameter vector (shared by equal rows)


@dataclasses.dataclass
class ParTable:
    rows: list[Row]
    ov: list[str]                   # observed variables in model order
    lv: list[str]
    ov_x: list[str]                 # exogenous observed covariates (fixed.x)
    n_groups: int
    meanstructure: bool
    n_free: int
    defined: list[Defined]
    labels: dict[str, int]          # label → free parameter index
    notes: list[str] = dataclasses.field(default_factory=list)   # warnings for the user

    def free_rows(self) -> list[Row]:
        return [r for r in self.rows if r.free]


def n_moments(pt: ParTable) -> int:
    """The sample moments a model of ``pt`` is fitted to: (co)variances and (with a mean
    structure) means of the observed variables, less those of the fixed.x covariates, per group."""
    p, nx = len(pt.ov), len(pt.ov_x)
    per = p * (p + 1) // 2 - nx * (nx + 1) // 2
    if pt.meanstructure:
        per += p - nx
    return per * pt.n_groups


def _ordered(seq):
    return list(dict.fromkeys(seq))


@dataclasses.dataclass(frozen=True)
class VarNames:
    """lavaan's names of a model's variables (``lav_partable_vnames``).

    eqs_y / eqs_x: left / right of ``~``; v_ind: right of ``=~``. ``ov_x`` — exogenous observed
    covariates: regressors that are no latent variable, no indicator and no outcome, and are
    not named in a user ``~~`` or ``~1`` statement (those are random). ``lv_x``: latent
    variables that are neither indicators nor outcomes. ``y`` — the variables whose residual
    covariances are free by default (auto.cov.y): latent then observed outcomes that are no
    indicator and predict nothing. Intercepts (``~1``) make nothing an outcome.
    """

    ov: list[str]
    lv: list[str]
    ov_x: list[str]
    lv_x: list[str]
    y: list[str]
    random_x: list[str]     # regressors freed by a user ~~ / ~1 statement (lavaan warns)


def var_names(statements: list[Statement], *, fixed_x: bool = True) -> VarNames:
    lv = _ordered(s.lhs for s in statements if s.op == "=~")
    lv_set = set(lv)
    eqs_y = _ordered(s.lhs for s in statements if s.op == "~")
    eqs_x = _ordered(t.var for s in statements if s.op == "~" for t in s.terms)
    v_ind = _ordered(t.var for s in statements if s.op == "=~" for t in s.terms)
    ov_ind = [v for v in v_ind if v not in lv_set]
    ov_y = [v for v in eqs_y if v not in lv_set and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lv_set and v not in ov_ind and v not in ov_y]
    extra = _ordered([s.lhs for s in statements if s.op in ("~~", "~1")]
                     + [t.var for s in statements if s.op == "~~" for t in s.terms])
    ov_first = ov_ind + ov_y + ov_x
    ov = _ordered(ov_first + [v for v in extra if v not in lv_set])
    user_named = set(extra)
    random_x = [v for v in ov_x if v in user_named]
    ov_x = [v for v in ov_x if v not in user_named] if fixed_x else []
    not_y = set(v_ind) | set(eqs_x)
    lv_x = [f for f in lv if f not in set(v_ind) and f not in set(eqs_y)]
    y = [f for f in lv if f in set(eqs_y) and f not in not_y] + [v for v in ov if v in set(eqs_y) and v not in not_y and v not in lv_set]
    return VarNames(ov=ov, lv=lv, ov_x=ov_x, lv_x=lv_x, y=y, random_x=random_x)


def _user_rows(statements: list[Statement], g: int, n_groups: int, auto_fix_first: bool) -> list[Row]:
    """Group g's rows of the user's statements, modifiers resolved for the group (a ``c(...)``
    vector holds one value per group); the first loading of each factor fixed to 1 unless the
    user set it (auto.fix.first)."""
    def mod(term, kind):
        val = getattr(term, kind)
        if val is None:
            return None
        if len(val) == 1:
            return val[0]
        if len(val) != n_groups:
            raise ModelSyntaxError(
                f"A c(...) modifier on {term.var!r} has {len(val)} values for {n_groups} group(s). Fix: give one value per group."
            )
        return val[g]

    rows: list[Row] = []
    first_seen: set[str] = set()
    seen: set[tuple[str, str, str]] = set()
    for s in statements:
        for t in s.terms:
            lhs, op, rhs = s.lhs, s.op, ("" if s.op == "~1" else t.var)
            key = (lhs, op, rhs) if op != "~~" else (lhs, op, rhs) if (rhs, op, lhs) not in seen else (rhs, op, lhs)
            if key in seen:
                continue        # lavaan ignores duplicated elements (with a warning)
            seen.add(key)
            fixed, label = mod(t, "fixed"), mod(t, "label")
            free = fixed is None
            if op == "=~" and lhs not in first_seen:
                first_seen.add(lhs)
                if auto_fix_first and fixed is None and not t.free_forced:     # (a label does not free it, as lavaan)
                    free, fixed = False, 1.0
            rows.append(Row(lhs, op, rhs, g, free, fixed, label, mod(t, "start")))
    return rows


def _default_rows(names: VarNames, user: list[Row], g: int, *, meanstructure: bool, int_ov_free: bool,
                  int_lv_free: bool) -> list[Row]:
    """Group g's default rows (``lav_partable_flat``) not set by the user's rows: variances;
    covariances of exogenous latent variables, of auto.cov.y outcomes and (fixed) of the fixed.x
    covariates; with a mean structure intercepts and latent means."""
    have = {(r.lhs, r.op, r.rhs) for r in user} | {(r.rhs, r.op, r.lhs) for r in user if r.op == "~~"}
    out: list[Row] = []
    ov_x = set(names.ov_x)

    def add(lhs: str, op: str, rhs: str, free: bool = True, value: float | None = None, exo: bool = False) -> None:
        if (lhs, op, rhs) in have or (op == "~~" and (rhs, op, lhs) in have):
            return
        have.add((lhs, op, rhs))
        out.append(Row(lhs, op, rhs, g, free, value, None, None, user=False, exo_fixed=exo))

    for v in names.ov:
        add(v, "~~", v, free=v not in ov_x, exo=v in ov_x)
    for f in names.lv:
        add(f, "~~", f)
    for pairs, exo in ((names.lv_x, False), (names.y, False), (names.ov_x, True)):
        for i, a in enumerate(pairs):
            for b in pairs[i + 1:]:
                add(a, "~~", b, free=not exo, exo=exo)
    if meanstructure:
        for v in names.ov:
            if v in ov_x:
                add(v, "~1", "", free=False, exo=True)
            else:
                add(v, "~1", "", free=int_ov_free, value=None if int_ov_free else 0.0)
        for f in names.lv:
            add(f, "~1", "", free=int_lv_free, value=None if int_lv_free else 0.0)
    return out


def build_partable(
    statements: list[Statement],
    defined: list[Defined],
    constraints: list[Constraint],
    *,
    observed: list[str],
    n_groups: int = 1,
    meanstructure: bool = False,
    group_equal: tuple[str, ...] = (),
    fixed_x: bool = True,
    auto_fix_first: bool = True,
    int_ov_free: bool = True,
    int_lv_free: bool = False,
) -> ParTable:
    """The parameter table of lavaan's ``cfa()``/``sem()`` (``growth()``: ``int_ov_free=False,
    int_lv_free=True``) for the parsed model; see the module docstring for the defaults."""
    bad = [g for g in group_equal if g not in GROUP_EQUAL]
    if bad:
        raise ModelSyntaxError(f"group_equal has unknown entries {bad}. Fix: use some of {', '.join(GROUP_EQUAL)}.")
    names = var_names(statements, fixed_x=fixed_x)
    lv, ov, ov_x = names.lv, names.ov, names.ov_x
    observed_set = set(observed)
    unknown = [v for v in ov if v not in observed_set]
    if unknown:
        raise ModelSyntaxError(
            f"The model names variable(s) not in the data: {', '.join(unknown[:5])}. "
            "Fix: check the spelling, or define them as latent variables with =~."
        )
    rows: list[Row] = []
    for g in range(n_groups):
        user = _user_rows(statements, g, n_groups, auto_fix_first)
        rows.extend(user)
        rows.extend(_default_rows(names, user, g, meanstructure=meanstructure, int_ov_free=int_ov_free,
                                  int_lv_free=int_lv_free or (g > 0 and "intercepts" in group_equal)))

    # a label shared with a fixed row fixes every row that carries it at that value (lavaan:
    # "f =~ m*x1 + m*x2" fixes x1's loading at 1 by auto.fix.first, so x2's is 1 too)
    fixed_label = {r.label: r.value for r in rows if r.label is not None and not r.free and r.value is not None}
    for r in rows:
        if r.free and r.label in fixed_label:
            r.free, r.value = False, fixed_label[r.label]
    # equality: labels (a label may name another parameter as lhs-op-rhs: equal("f=~x2")),
    # group.equal, == constraints
    key_of: dict[int, Any] = {}
    used = {r.label for r in rows if r.label is not None}
    for idx, r in enumerate(rows):
        if not r.free:
            continue
        if r.label is not None:
            key_of[idx] = ("label", r.label)
            continue
        default = f"{r.lhs}{r.op}{r.rhs}" + ("" if r.group == 0 else f".g{r.group + 1}")
        if default in used:
            key_of[idx] = ("label", default)
            continue
        kind = {"=~": "loadings", "~": "regressions"}.get(r.op)
        if r.op == "~1":
            kind = "intercepts" if r.lhs in ov else "means"
        elif r.op == "~~":
            if r.lhs in lv and r.rhs in lv:
                kind = "lv.variances" if r.lhs == r.rhs else "lv.covariances"
            else:
                kind = "residuals" if r.lhs == r.rhs else "residual.covariances"
        if n_groups > 1 and kind in group_equal:
            key_of[idx] = ("eq", r.lhs, r.op, r.rhs)
        else:
            key_of[idx] = ("row", idx)
    alias: dict[Any, Any] = {}
    for c in constraints:
        a, b = ("label", c.left), ("label", c.right)
        known = {k for k in key_of.values()}
        for side in (a, b):
            if side not in known:
                raise ModelSyntaxError(f"Model line {c.line}: label {side[1]!r} in the constraint is not used in the model.")
        alias[b] = a
    labels: dict[str, int] = {}
    index: dict[Any, int] = {}
    for idx, r in enumerate(rows):
        if not r.free:
            continue
        key = key_of[idx]
        key = alias.get(key, key)
        if key not in index:
            index[key] = len(index)
        r.par = index[key]
        if r.label is not None:
            labels[r.label] = r.par
    for k, lab in alias.items():
        labels[k[1]] = index[lab]
    for d in defined:
        if d.name in labels:
            raise ModelSyntaxError(f"Model line {d.line}: defined parameter {d.name!r} reuses a label.")
    notes = []
    if names.random_x:
        notes.append(f"The model has (co)variance or intercept formulas for the covariate(s) {', '.join(names.random_x[:5])}; "
                     "they are treated as random (free parameters), not fixed at their sample values, as lavaan does.")
    return ParTable(rows=rows, ov=ov, lv=lv, ov_x=ov_x, n_groups=n_groups, meanstructure=meanstructure,
                    n_free=len(index), defined=defined, labels=labels, notes=notes)
