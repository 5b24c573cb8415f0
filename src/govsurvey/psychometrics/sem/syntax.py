"""Parse lavaan model syntax into statements.

Supported: ``=~`` (measurement), ``~`` (regression), ``~~`` (variance/covariance),
``~ 1`` (intercept: a statement of its own, op ``~1``, as lavaan's parser makes it), ``:=``
(defined parameter), ``==`` (equality of two labels); several variables on the left
(``x1 + x2 ~ 0.5*1`` is one statement per variable); modifiers ``label*``, ``1*`` (fixed),
``NA*`` (free), ``start(v)*``, ``equal("f=~x2")*`` (equal to another parameter, named by a
label or by ``lhs op rhs``), and per-group vectors ``c(...)*``, ``start(c(...))*``;
comments after ``#`` or ``!``; statements on separate lines or separated by ``;``, and
formulas continued across lines after a trailing or leading ``+``. Nonlinear and inequality
constraints are refused (ModelSyntaxError).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from typing import Any

from govsurvey.errors import ModelSyntaxError

__all__ = ["Constraint", "Defined", "Statement", "Term", "parse_model"]

_NAME = r"(?:[^\W\d]|\.)[\w.]*"        # letters of any script (数字思维能力, x1), digits, _ and .
_OPS = ("=~", "~~", ":=", "==", "~")


@dataclasses.dataclass(frozen=True)
class Term:
    var: str
    fixed: tuple[float | None, ...] | None = None   # per group (or one value for all); None = free
    label: tuple[str | None, ...] | None = None
    start: tuple[float | None, ...] | None = None   # per group (or one value for all)
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
    """Split at the leftmost operator outside parentheses and quotes (``equal("f=~x2")`` holds one)."""
    depth, quote = 0, ""
    for idx, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and idx > 0:
            op = next((o for o in (":=", "=~", "~~", "==", "~", "<", ">") if line.startswith(o, idx)), None)
            if op in ("<", ">"):
                raise ModelSyntaxError(
                    f"Model line {k}: inequality constraints ({op}) are nonlinear constraints, which are not supported: {line!r}. "
                    "Fix: drop the constraint, or fit the model in lavaan."
                )
            if op is not None:
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
    m = re.fullmatch(r"start\((.*)\)", token)
    if m:
        kind, val = _value(m.group(1), k)
        if kind == "fixed":
            return "start", (val,)
        if kind == "vector" and all(kk in ("fixed", "free") for kk, _ in val):
            return "start", tuple(vv if kk == "fixed" else None for kk, vv in val)
        raise ModelSyntaxError(f"Model line {k}: start() takes a number or c(numbers), got {token!r}. Fix: e.g. start(0.8) or start(c(0.8, 1.2)).")
    m = re.fullmatch(r"equal\(\s*[\"']([^\"']+)[\"']\s*\)", token)
    if m:
        return "label", re.sub(r"\s+", "", m.group(1))
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
        raise ModelSyntaxError(f"Model line {k}: {var!r} is not a variable name. Fix: names start with a letter (any script, e.g. 数字能力 or q1) and use letters, digits, _ or '.'.")
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


def _statements(lhs: str, op: str, rhs: str, k: int) -> list[Statement]:
    """One formula as statements: one per variable on the left (``x1 + x2 ~ 1``), and for ``~``
    the intercept term ``1`` split off as its own ``~1`` statement (lavaan's op: an intercept
    does not make its variable a regression outcome)."""
    lhs_names = [v.strip() for v in lhs.split("+")]
    for v in lhs_names:
        if not re.fullmatch(_NAME, v):
            raise ModelSyntaxError(f"Model line {k}: {v!r} on the left of {op} is not a variable name. Fix: names start with a letter (any script, e.g. 数字能力 or q1) and use letters, digits, _ or '.'.")
    if not rhs:
        raise ModelSyntaxError(f"Model line {k}: nothing on the right of {op}. Fix: complete the formula.")
    terms = tuple(_term(t, k) for t in _split_terms(rhs))
    if op in ("=~", "~~") and any(t.var == "1" for t in terms):
        raise ModelSyntaxError(f"Model line {k}: '1' cannot be on the right of {op}. Fix: write intercepts as 'x ~ 1'.")
    out = []
    for v in lhs_names:
        if op == "~":
            ones = tuple(t for t in terms if t.var == "1")
            rest = tuple(t for t in terms if t.var != "1")
            if rest:
                out.append(Statement(lhs=v, op="~", terms=rest, line=k))
            if ones:
                out.append(Statement(lhs=v, op="~1", terms=ones, line=k))
        else:
            out.append(Statement(lhs=v, op=op, terms=terms, line=k))
    return out


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
                raise ModelSyntaxError(
                    f"Model line {k}: {line!r} is a nonlinear equality constraint, which is not supported (only a == b of two labels is). "
                    "Fix: write the constraint as equal labels, drop it, or fit the model in lavaan."
                )
            constraints.append(Constraint(lhs, rhs, k))
            continue
        statements.extend(_statements(lhs, op, rhs, k))
    if not statements:
        raise ModelSyntaxError("The model has no =~, ~ or ~~ statement.")
    return tuple(statements), tuple(defined), tuple(constraints)
