"""The parameter table: user statements plus lavaan's defaults for ``cfa()``/``sem()``.

Defaults reproduced: the first loading of each factor fixed to 1 (auto.fix.first);
variances of every variable free (auto.var); covariances among exogenous latent variables
free (auto.cov.lv.x) and among "pure" endogenous variables — dependent variables that
predict nothing (auto.cov.y); exogenous observed covariates' (co)variances and means fixed
at their sample values (fixed.x); with a mean structure, observed intercepts free and
latent means fixed at 0 — freed in groups 2.. when intercepts are held equal. Labels shared
by rows (also across groups) make them one parameter; ``group_equal`` does the same for
loadings, intercepts, residuals, lv.variances, lv.covariances, regressions or means.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from govsurvey.errors import ModelSyntaxError
from govsurvey.psychometrics.sem.syntax import Constraint, Defined, Statement

__all__ = ["Row", "ParTable", "build_partable", "GROUP_EQUAL"]

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

    def free_rows(self) -> list[Row]:
        return [r for r in self.rows if r.free]


def _ordered(seq):
    return list(dict.fromkeys(seq))


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
) -> ParTable:
    bad = [g for g in group_equal if g not in GROUP_EQUAL]
    if bad:
        raise ModelSyntaxError(f"group_equal has unknown entries {bad}. Fix: use some of {', '.join(GROUP_EQUAL)}.")
    lv = _ordered(s.lhs for s in statements if s.op == "=~")
    names_in_model = _ordered(
        [t.var for s in statements for t in s.terms if t.var != "1"] + [s.lhs for s in statements]
    )
    observed_set = set(observed)
    unknown = [v for v in names_in_model if v not in lv and v not in observed_set]
    if unknown:
        raise ModelSyntaxError(
            f"The model names variable(s) not in the data: {', '.join(unknown[:5])}. "
            "Fix: check the spelling, or define them as latent variables with =~."
        )
    # observed variables in lavaan's order: indicators first, then other observed names
    ov = _ordered([t.var for s in statements if s.op == "=~" for t in s.terms if t.var not in lv]
                  + [v for v in names_in_model if v not in lv])
    dependents = {s.lhs for s in statements if s.op == "~"} | {t.var for s in statements if s.op == "=~" for t in s.terms}
    predictors = {t.var for s in statements if s.op == "~" for t in s.terms if t.var != "1"}
    indicators = {t.var for s in statements if s.op == "=~" for t in s.terms}
    ov_x = [v for v in ov if v in predictors and v not in dependents and v not in indicators] if fixed_x else []
    # an ov_x that appears in a user ~~ statement with a free parameter is not fixed
    regressed = {s.lhs for s in statements if s.op == "~"}
    lv_x = [f for f in lv if f not in dependents and f not in regressed]
    pure_y = [v for v in ov + lv if v in regressed and v not in predictors]

    rows: list[Row] = []
    for g in range(n_groups):
        def mod(term, kind):
            val = getattr(term, kind)
            if val is None:
                return None
            if len(val) == 1:
                return val[0]
            if len(val) != n_groups:
                raise ModelSyntaxError(f"A c(...) modifier on {term.var!r} has {len(val)} values for {n_groups} groups.")
            return val[g]

        first_seen: set[str] = set()
        for s in statements:
            for t in s.terms:
                if s.op == "~" and t.var == "1":
                    op, lhs, rhs = "~1", s.lhs, ""
                else:
                    op, lhs, rhs = s.op, s.lhs, t.var
                fixed = mod(t, "fixed")
                label = mod(t, "label")
                free = fixed is None
                if op == "=~" and lhs not in first_seen:
                    first_seen.add(lhs)
                    if auto_fix_first and fixed is None and not t.free_forced and label is None:
                        free, fixed = False, 1.0
                rows.append(Row(lhs, op, rhs, g, free, fixed, label, t.start))
        have = {(r.lhs, r.op, r.rhs) for r in rows if r.group == g} | {(r.rhs, r.op, r.lhs) for r in rows if r.group == g and r.op == "~~"}

        def add(lhs, op, rhs, free=True, value=None, exo=False):
            if (lhs, op, rhs) in have or (op == "~~" and (rhs, op, lhs) in have):
                return
            have.add((lhs, op, rhs))
            rows.append(Row(lhs, op, rhs, g, free, value, None, None, user=False, exo_fixed=exo))

        for v in ov:
            add(v, "~~", v, free=v not in ov_x, exo=v in ov_x)
        for f in lv:
            add(f, "~~", f)
        for i, a in enumerate(lv_x):
            for b in lv_x[i + 1:]:
                add(a, "~~", b)
        for i, a in enumerate(ov_x):
            for b in ov_x[i + 1:]:
                add(a, "~~", b, free=False, exo=True)
        for i, a in enumerate(pure_y):
            for b in pure_y[i + 1:]:
                add(a, "~~", b)
        if meanstructure:
            for v in ov:
                add(v, "~1", "", free=v not in ov_x, exo=v in ov_x)
            for f in lv:
                free_mean = g > 0 and "intercepts" in group_equal
                add(f, "~1", "", free=free_mean, value=None if free_mean else 0.0)

    # equality: labels, group.equal, == constraints
    key_of: dict[int, Any] = {}
    for idx, r in enumerate(rows):
        if not r.free:
            continue
        if r.label is not None:
            key_of[idx] = ("label", r.label)
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
    return ParTable(rows=rows, ov=ov, lv=lv, ov_x=ov_x, n_groups=n_groups, meanstructure=meanstructure,
                    n_free=len(index), defined=defined, labels=labels)
