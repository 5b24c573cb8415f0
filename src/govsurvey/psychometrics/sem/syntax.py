"""Parse lavaan model syntax into statements.

Supported: ``=~`` (measurement), ``~`` (regression), ``~~`` (variance/covariance),
``~ 1`` (intercept), ``:=`` (defined parameter), ``==`` (equality of two labels);
modifiers ``label*``, ``1*`` (fixed), ``NA*`` (free), ``start(v)*``, ``c(...)*`` (per group);
comments after ``#`` or ``!``; statements on separate lines or separated by ``;``, and
formulas continued across lines after a trailing or leading ``+``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from typing import Any

from govsurvey.errors import ModelSyntaxError

__all__ = ["Term", "Statement", "parse_model", "Defined", "Constraint"]

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"
_OPS = ("=~", "~~", ":=", "==", "~")


@dataclasses.dataclass(frozen=True)
class Term:
    var: str
    fixed: tuple[float | None, ...] | None = None   # per group (or one value for all); None = free
    label: tuple[str | None, ...] | None = None
    start: float | None = None
    free_forced: bool = False  # NA*


@dataclasses.dataclass(frozen=True)
class Statement:
    lhs: str
    op: str
    terms: tuple[Term, ...]
    line: int


@dataclasses.dataclass(frozen=True)
class Defined:
    name: str
    expr: str
    tree: Any
    line: int


@dataclasses.dataclass(frozen=True)
class Constraint:
    left: str
    right: str
    line: int


def _strip_comments(text: str) -> list[tuple[int, str]]:
    lines = []
    for k, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0].strip()
        for part in line.split(";"):
            if part.strip():
                lines.append((k, part.strip()))
    # join continuation lines
    joined: list[tuple[int, str]] = []
    for k, line in lines:
        if joined and (joined[-1][1].endswith(("+", "*", "=~", "~", "~~")) or line.startswith("+")):
            joined[-1] = (joined[-1][0], joined[-1][1] + " " + line)
        else:
            joined.append((k, line))
    return joined


def _split_op(line: str, k: int) -> tuple[str, str, str]:
    for op in (":=", "=~", "~~", "==", "~", "<", ">"):
        idx = line.find(op)
        if idx > 0:
            if op in ("<", ">"):
                raise ModelSyntaxError(f"Model line {k}: inequality constraints ({op}) are not supported: {line!r}.")
            return line[:idx].strip(), op, line[idx + len(op):].strip()
    raise ModelSyntaxError(
        f"Model line {k}: {line!r} has no lavaan operator. Fix: use =~ (measurement), ~ (regression), ~~ (covariance), := or ==."
    )


def _split_terms(rhs: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in rhs:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "+" and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def _value(token: str, k: int) -> tuple[str, Any]:
    token = token.strip()
    if token.upper() == "NA":
        return "free", None
    try:
        return "fixed", float(token)
    except ValueError:
        pass
    m = re.fullmatch(r"start\(\s*([-+0-9.eE]+)\s*\)", token)
    if m:
        return "start", float(m.group(1))
    m = re.fullmatch(r"c\((.*)\)", token)
    if m:
        parts = [p.strip() for p in m.group(1).split(",")]
        kinds = [_value(p, k) for p in parts]
        return "vector", kinds
    if re.fullmatch(_NAME, token):
        return "label", token.strip('"').strip("'")
    m = re.fullmatch(r"[\"']([^\"']+)[\"']", token)
    if m:
        return "label", m.group(1)
    raise ModelSyntaxError(f"Model line {k}: cannot read the modifier {token!r}. Fix: use a number, NA, a label, start(v) or c(...).")


def _term(text: str, k: int) -> Term:
    parts = [p.strip() for p in text.split("*")]
    var = parts[-1]
    if not (re.fullmatch(_NAME, var) or var == "1"):
        raise ModelSyntaxError(f"Model line {k}: {var!r} is not a variable name. Fix: names start with a letter and use letters, digits, _ or '.'.")
    fixed = label = None
    start = None
    free_forced = False
    for mod in parts[:-1]:
        kind, val = _value(mod, k)
        if kind == "free":
            free_forced = True
        elif kind == "fixed":
            fixed = (val,)
        elif kind == "start":
            start = val
        elif kind == "label":
            label = (val,)
        else:  # vector: per group values, each fixed / NA / label
            fx, lb = [], []
            for kk, vv in val:
                fx.append(vv if kk == "fixed" else None)
                lb.append(vv if kk == "label" else None)
            if any(v is not None for v in fx):
                fixed = tuple(fx)
            if any(v is not None for v in lb):
                label = tuple(lb)
    return Term(var=var, fixed=fixed, label=label, start=start, free_forced=free_forced)


_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant, ast.Add, ast.Sub, ast.Mult,
            ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Call)
FUNCTIONS = {"sqrt", "exp", "log", "abs"}


def _check_expr(expr: str, k: int) -> Any:
    try:
        tree = ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise ModelSyntaxError(f"Model line {k}: the defined expression {expr!r} is not valid arithmetic.") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (isinstance(node, ast.Constant) and (
                isinstance(node.value, bool) or not isinstance(node.value, (int, float)))):
            raise ModelSyntaxError(f"Model line {k}: {expr!r} may use only + - * / ^, numbers, labels and sqrt/exp/log/abs.")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise ModelSyntaxError(f"Model line {k}: only sqrt, exp, log and abs may be called in {expr!r}.")
        if isinstance(node, ast.Call) and (len(node.args) != 1 or node.keywords):
            raise ModelSyntaxError(f"Model line {k}: {node.func.id}() takes exactly one argument in {expr!r}.")
    return tree


def parse_model(model: str) -> tuple[list[Statement], list[Defined], list[Constraint]]:
    """Parse lavaan syntax; raise ModelSyntaxError naming the line.

    The parse of a model text is remembered (its pieces are frozen), so re-fitting the same
    model — the usual way of working: drop an item, re-run — parses it once.
    """
    if not isinstance(model, str) or not model.strip():
        raise ModelSyntaxError("The model is empty. Fix: give lavaan syntax such as 'f1 =~ x1 + x2 + x3'.")
    statements, defined, constraints = _parse(model)
    return list(statements), list(defined), list(constraints)


@functools.lru_cache(maxsize=128)
def _parse(model: str) -> tuple[tuple[Statement, ...], tuple[Defined, ...], tuple[Constraint, ...]]:
    statements, defined, constraints = [], [], []
    for k, line in _strip_comments(model):
        lhs, op, rhs = _split_op(line, k)
        if op == ":=":
            if not re.fullmatch(_NAME, lhs):
                raise ModelSyntaxError(f"Model line {k}: {lhs!r} is not a valid name for a defined parameter.")
            defined.append(Defined(name=lhs, expr=rhs, tree=_check_expr(rhs, k), line=k))
            continue
        if op == "==":
            if not (re.fullmatch(_NAME, lhs) and re.fullmatch(_NAME, rhs)):
                raise ModelSyntaxError(f"Model line {k}: only equality of two labels (a == b) is supported, got {line!r}.")
            constraints.append(Constraint(lhs, rhs, k))
            continue
        if not re.fullmatch(_NAME, lhs):
            raise ModelSyntaxError(f"Model line {k}: {lhs!r} on the left of {op} is not a variable name.")
        if not rhs:
            raise ModelSyntaxError(f"Model line {k}: nothing on the right of {op}.")
        terms = tuple(_term(t, k) for t in _split_terms(rhs))
        if op == "=~" and any(t.var == "1" for t in terms):
            raise ModelSyntaxError(f"Model line {k}: '1' cannot be an indicator.")
        statements.append(Statement(lhs=lhs, op=op, terms=terms, line=k))
    if not statements:
        raise ModelSyntaxError("The model has no =~, ~ or ~~ statement.")
    return tuple(statements), tuple(defined), tuple(constraints)
