"""Model formulas, parsed by a small grammar and never evaluated as Python.

A formula such as ``"participation ~ trust * C(role, Treatment(\\"居民\\")) + log(age)"`` is
split into tokens, parsed by recursive descent into factors and terms (the same term algebra
as R and patsy), and its design matrices are built from columns computed here. Nothing in the
formula text is ever handed to ``eval``: anything outside the grammar below is a
:class:`~govsurvey.errors.SpecificationError` that names the offending part and its position.

Grammar
-------
::

    formula   := expr "~" expr
    expr      := unary (("+" | "-") unary)*
    unary     := ("+" | "-") unary | product
    product   := interact (("*" | "/") interact)*
    interact  := power (":" power)*
    power     := atom ("**" atom)*
    atom      := "(" expr ")" | "0" | "1" | NUMBER (only after **) | factor
    factor    := NAME | Q("name") | C(column [, Treatment([reference=]literal)])
               | f(arithmetic) for f in log exp sqrt center standardize scale I
    arithmetic:= numbers, columns, + - * / **, unary ±, parentheses, and the functions above

The design matrices are built by patsy's programmatic interface (``Term`` of ``LookupFactor``
over pre-computed columns), so coding, column names and column order are patsy's.
"""

from __future__ import annotations

import dataclasses
import difflib
import keyword
import operator
import re
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.errors import DataValidationError, SpecificationError, UnknownItemError, preview

__all__ = ["Formula", "parse_formula", "design_matrices", "quote_name", "TRANSFORMS"]

TRANSFORMS = ("log", "exp", "sqrt", "center", "standardize", "scale")
_ALLOWED = ("allowed: column names, Q(\"name\"), C(x), C(x, Treatment(\"level\")), I(arithmetic) and "
            + ", ".join(TRANSFORMS) + "; operators ~ + - * / : ** and parentheses")
_FIX_NAME = "write Q(\"name\") for a column whose name has spaces, dots or other symbols, or is a Python keyword"
_MAX_TERMS = 10_000
_OPS = ("**", "~", "+", "-", "*", "/", ":", "(", ")", ",", "=")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FULLWIDTH = dict(zip("（）～＋－＊：，“”‘’", "()~+-*:,\"\"''"))
_CHAR_HINT = {
    ".": "attribute access (np.log, a.b) is not allowed. Fix: write log(x), not np.log(x); " + _FIX_NAME,
    "\\": "backslashes (escape sequences) are not allowed. Fix: type the characters themselves, e.g. Q(\"参与度\")",
    "[": "subscripts are not allowed. Fix: " + _FIX_NAME,
    "|": "random effects are not written in the formula. Fix: use groups= and random_slopes= of gs.multilevel",
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Tok:
    kind: str   # NAME, NUMBER, STRING, OP or END
    text: str
    pos: int


def _fail(text: str, pos: int, what: str, fix: str = "") -> SpecificationError:
    fix = fix or f"{_ALLOWED}; {_FIX_NAME}"
    return SpecificationError(f"formula {text!r}, character {pos + 1}: {what}. Fix: {fix}.")


# --------------------------------------------------------------------------- tokens
def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isidentifier():
            j = i + 1
            while j < len(text) and ("a" + text[j]).isidentifier():
                j += 1
            toks.append(_Tok("NAME", text[i:j], i))
            i = j
        elif ch in "\"'":
            i = _string(text, i, toks)
        elif (m := _NUMBER.match(text, i)) and not (ch == "." and toks and toks[-1].kind in ("NAME", "STRING", "NUMBER")):
            if m.end() < len(text) and (("a" + text[m.end()]).isidentifier() or text[m.end()] == "."):
                raise _fail(text, m.end(), f"{text[i:m.end() + 1]!r} is neither a number nor a name",
                            "put an operator between a number and a name; " + _FIX_NAME)
            toks.append(_Tok("NUMBER", m.group(), i))
            i = m.end()
        elif (op := "**" if text.startswith("**", i) else ch) in _OPS:
            toks.append(_Tok("OP", op, i))
            i += len(op)
        else:
            raise _bad_char(text, i)
    toks.append(_Tok("END", "", len(text)))
    return toks


def _string(text: str, i: int, toks: list[_Tok]) -> int:
    quote, j = text[i], i + 1
    while j < len(text) and text[j] != quote:
        if text[j] in "\\\r\n":
            raise _bad_char(text, j) if text[j] == "\\" else _fail(text, j, "a line break inside a quoted name is not allowed")
        j += 1
    if j == len(text):
        raise _fail(text, i, "a quote that is never closed", f"close it: Q({quote}name{quote})")
    toks.append(_Tok("STRING", text[i:j + 1], i))
    return j + 1


def _bad_char(text: str, i: int) -> SpecificationError:
    ch = text[i]
    if ch in _FULLWIDTH:
        return _fail(text, i, f"the full-width character {ch!r} is not allowed", f"type the ASCII {_FULLWIDTH[ch]!r} instead")
    hint = _CHAR_HINT.get(ch) or _CHAR_HINT.get({"]": "["}.get(ch, ""))
    if hint:
        what, fix = hint.split(". Fix: ")
        return _fail(text, i, f"{ch!r} — {what}", fix)
    return _fail(text, i, f"the character {ch!r} is not part of the formula grammar")


# --------------------------------------------------------------------------- factors
@dataclasses.dataclass(frozen=True, slots=True)
class Var:
    """A column: ``name`` in the data, ``text`` as written (``x`` or ``Q("a b")``)."""

    name: str
    text: str

    def variables(self) -> list[str]:
        return [self.name]


@dataclasses.dataclass(frozen=True, slots=True)
class Num:
    text: str

    def variables(self) -> list[str]:
        return []


@dataclasses.dataclass(frozen=True, slots=True)
class Arith:
    """Arithmetic: a binary (``left op right``), unary (``op right``), parenthesised (``op`` "()")
    or function (``op`` a transform or ``I``) node."""

    op: str
    right: Any
    left: Any = None

    @property
    def text(self) -> str:
        if self.op == "()":
            return f"({self.right.text})"
        if self.op in TRANSFORMS or self.op == "I":
            return f"{self.op}({self.right.text})"
        return f"{self.left.text} {self.op} {self.right.text}" if self.left is not None else f"{self.op}{self.right.text}"

    def variables(self) -> list[str]:
        return (self.left.variables() if self.left is not None else []) + self.right.variables()


@dataclasses.dataclass(frozen=True, slots=True)
class Categorical:
    """``C(var)`` or ``C(var, Treatment(...))``; ``reference`` is the literal's value."""

    var: Var
    contrast: str | None = None          # "Treatment(...)" as written, normalized
    reference: str | float | None = None
    reference_text: str | None = None

    @property
    def text(self) -> str:
        return f"C({self.var.text}, {self.contrast})" if self.contrast else f"C({self.var.text})"

    def variables(self) -> list[str]:
        return [self.var.name]


@dataclasses.dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula: the outcome factor, the right-hand terms (tuples of factors, in
    formula order as patsy evaluates them) and whether there is an intercept."""

    text: str
    outcome: Any
    terms: tuple[tuple[Any, ...], ...]
    intercept: bool

    @property
    def outcome_variables(self) -> list[str]:
        return list(dict.fromkeys(self.outcome.variables()))

    @property
    def plain_outcome(self) -> str | None:
        """The outcome column when the left side is a bare column, else None."""
        return self.outcome.name if isinstance(self.outcome, Var) else None

    @property
    def variables(self) -> list[str]:
        """Every column the formula uses, the outcome's first, each once."""
        names = self.outcome.variables() + [v for term in self.terms for f in term for v in f.variables()]
        return list(dict.fromkeys(names))

    def factors(self) -> list[Any]:
        return list(dict.fromkeys([self.outcome] + [f for term in self.terms for f in term]))

    def check_columns(self, data: pd.DataFrame) -> None:
        """Raise :class:`UnknownItemError` naming the columns not in ``data`` (with the closest
        column name as a suggestion)."""
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"formula {self.text!r}: data must be a pandas DataFrame, got {type(data).__name__}.")
        known = [str(c) for c in data.columns]
        unknown = [v for v in self.variables if v not in data.columns]
        if unknown:
            close = {v: difflib.get_close_matches(v, known, n=1, cutoff=0.6) for v in unknown}
            hint = "; ".join(f"did you mean {c[0]!r} for {v!r}?" for v, c in close.items() if c)
            raise UnknownItemError(
                f"formula {self.text!r} names column(s) not in the data: {preview(unknown)}. "
                f"Fix: check the spelling{' (' + hint + ')' if hint else ''}; wrap names with special characters as Q(\"name\")."
            )


def quote_name(name: str) -> str:
    """``name`` as a formula factor: bare when it is an identifier, else ``Q("name")``.

    >>> quote_name("trust"), quote_name("class"), quote_name("a b")
    ('trust', 'Q("class")', 'Q("a b")')
    """
    name = str(name)
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    if '"' not in name and "\\" not in name:
        return f'Q("{name}")'
    if "'" not in name and "\\" not in name:
        return f"Q('{name}')"
    raise SpecificationError(f"The column name {name!r} has both kinds of quote (or a backslash), so a formula cannot "
                             "name it. Fix: rename the column.")


# --------------------------------------------------------------------------- parser
@dataclasses.dataclass(frozen=True, slots=True)
class _Node:
    kind: str       # + - * / : ** neg pos ZERO ONE NUMBER FACTOR
    pos: int
    args: tuple = ()
    value: Any = None


class _Parser:
    """Recursive descent over the tokens; formula operators bind as in patsy/R
    (``+ -`` < ``* /`` < ``:`` < ``**``), arithmetic inside functions as in Python."""

    def __init__(self, text: str):
        self.text, self.toks, self.i = text, _tokenize(text), 0

    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        self.i += 1
        return self.toks[self.i - 1]

    def accept(self, *ops: str) -> _Tok | None:
        tok = self.peek()
        return self.take() if tok.kind == "OP" and tok.text in ops else None

    def expect(self, op: str, why: str) -> _Tok:
        return self.accept(op) or self.unexpected(f"'{op}' {why}")

    def unexpected(self, expected: str):
        tok = self.peek()
        if tok.kind == "STRING":
            raise _fail(self.text, tok.pos, f"the quoted text {tok.text} is not allowed here (quotes go only in Q(\"name\") and "
                        "Treatment(\"level\"))")
        if tok.kind == "NAME" and keyword.iskeyword(tok.text):
            raise _keyword(self.text, tok)
        shown = "the end of the formula" if tok.kind == "END" else repr(tok.text)
        raise _fail(self.text, tok.pos, f"{shown} where {expected} was expected")

    def formula(self) -> tuple[_Node, _Node]:
        if not any(t.kind == "OP" and t.text == "~" for t in self.toks):
            raise SpecificationError(f"formula={self.text!r} has no '~'. Fix: write it as 'y ~ x1 + x2'.")
        if self.peek().text == "~":
            raise _fail(self.text, self.peek().pos, "nothing before '~'", "name the outcome first: 'y ~ x1 + x2'")
        lhs = self.expr()
        self.expect("~", "between the outcome and the predictors")
        if self.peek().kind == "END":
            raise _fail(self.text, self.peek().pos, "nothing after '~'",
                        "list the predictors, or write 'y ~ 1' for the mean alone")
        rhs = self.expr()
        if self.peek().kind != "END":
            self.unexpected("an operator (+ - * / : **)")
        return lhs, rhs

    def expr(self) -> _Node:
        node = self.unary()
        while tok := self.accept("+", "-"):
            node = _Node(tok.text, tok.pos, (node, self.unary()))
        return node

    def unary(self) -> _Node:
        if tok := self.accept("+", "-"):
            return _Node("pos" if tok.text == "+" else "neg", tok.pos, (self.unary(),))
        return self.level(("*", "/"))

    def level(self, ops: tuple[str, ...]) -> _Node:
        sub = {("*", "/"): (":",), (":",): ("**",)}.get(ops)
        node = self.level(sub) if sub else self.atom()
        while tok := self.accept(*ops):
            node = _Node(tok.text, tok.pos, (node, self.level(sub) if sub else self.atom()))
        return node

    def atom(self) -> _Node:
        tok = self.peek()
        if self.accept("("):
            node = self.expr()
            self.expect(")", f"to close the '(' at character {tok.pos + 1}")
            return node
        if tok.kind == "NUMBER":
            self.take()
            return _Node({"0": "ZERO", "1": "ONE"}.get(tok.text, "NUMBER"), tok.pos, value=tok.text)
        if tok.kind == "NAME":
            return _Node("FACTOR", tok.pos, value=self.factor())
        return self.unexpected("a column name, a function or '('")

    # ---------------------------------------------------------------- factors
    def factor(self):
        tok = self.take()
        if not (self.peek().kind == "OP" and self.peek().text == "("):
            if keyword.iskeyword(tok.text):
                raise _keyword(self.text, tok)
            return Var(tok.text, tok.text)
        self.take()
        if tok.text == "Q":
            name = self.peek()
            if name.kind != "STRING":
                self.unexpected("one quoted column name, as in Q(\"参与度\"),")
            self.take()
            self.expect(")", "after the quoted name in Q(...)")
            return Var(name.text[1:-1], f"Q({name.text})")
        if tok.text == "C":
            return self.categorical()
        if tok.text in TRANSFORMS or tok.text == "I":
            arg = self.arith()
            self.expect(")", f"to close {tok.text}(")
            return Arith(tok.text, arg)
        raise _fail(self.text, tok.pos, f"the function {tok.text!r} is not allowed", _ALLOWED)

    def categorical(self) -> Categorical:
        tok = self.peek()
        var = self.factor() if tok.kind == "NAME" else None
        if not isinstance(var, Var):
            raise _fail(self.text, tok.pos, "C() must name one column", "write C(role) or C(Q(\"角色\"))")
        if not self.accept(","):
            self.expect(")", "to close C(")
            return Categorical(var)
        tok = self.peek()
        if not (tok.kind == "NAME" and tok.text == "Treatment" and self.peek(1).text == "("):
            raise _fail(self.text, tok.pos, f"{tok.text or 'nothing'!r} as the coding of C() is not available",
                        "only treatment (dummy) coding is available: C(x) or C(x, Treatment(\"reference level\"))")
        self.take(), self.take()
        kw = "reference=" if self.peek().text == "reference" and self.peek(1).text == "=" else ""
        if kw:
            self.take(), self.take()
        lit = self.take() if self.peek().kind in ("STRING", "NUMBER") else None
        if lit is None and kw:
            self.unexpected("a quoted level or a number after reference=")
        self.expect(")", "to close Treatment( (the level must be one quoted text or one number)")
        self.expect(")", "to close C(")
        if lit is None:
            return Categorical(var, "Treatment()")
        value = lit.text[1:-1] if lit.kind == "STRING" else float(lit.text)
        return Categorical(var, f"Treatment({kw}{lit.text})", value, lit.text)

    def arith(self):
        node = self.a_prod()
        while tok := self.accept("+", "-"):
            node = Arith(tok.text, self.a_prod(), left=node)
        return node

    def a_prod(self):
        node = self.a_unary()
        while tok := self.accept("*", "/"):
            node = Arith(tok.text, self.a_unary(), left=node)
        return node

    def a_unary(self):
        if tok := self.accept("+", "-"):
            return Arith(tok.text, self.a_unary())
        base = self.a_atom()
        return Arith("**", self.a_unary(), left=base) if self.accept("**") else base

    def a_atom(self):
        tok = self.peek()
        if self.accept("("):
            inner = self.arith()
            self.expect(")", f"to close the '(' at character {tok.pos + 1}")
            return Arith("()", inner)
        if tok.kind == "NUMBER":
            return Num(self.take().text)
        if tok.kind == "NAME":
            node = self.factor()
            if isinstance(node, Categorical):
                raise _fail(self.text, tok.pos, "C() inside arithmetic is not allowed", "use C(x) as a term of its own")
            return node
        return self.unexpected("a number, a column or '(' (inside I() and transforms only + - * / ** apply)")


def _keyword(text: str, tok: _Tok) -> SpecificationError:
    return _fail(text, tok.pos, f"the Python keyword {tok.text!r} is not allowed",
                 f"write Q(\"{tok.text}\") if a column has that name; {_ALLOWED}")


# --------------------------------------------------------------------------- term algebra (as patsy.desc)
@dataclasses.dataclass(frozen=True, slots=True)
class _Expr:
    intercept: bool
    removed: bool
    terms: tuple

    def __post_init__(self):
        seen, out = set(), []
        for term in self.terms:
            term = tuple(dict.fromkeys(term))
            if frozenset(term) not in seen:
                seen.add(frozenset(term))
                out.append(term)
        object.__setattr__(self, "terms", tuple(out))


def _interaction(left: _Expr, right: _Expr, node: _Node, text: str) -> tuple:
    if left.intercept or right.intercept:
        raise _fail(text, node.pos, f"the intercept (1) cannot be part of an interaction ({node.kind!r})",
                    "interact columns only; the intercept is added by itself (remove it with '- 1')")
    if len(left.terms) * len(right.terms) > _MAX_TERMS:
        raise _fail(text, node.pos, f"this interaction makes more than {_MAX_TERMS} terms", "interact fewer terms")
    return tuple(lt + rt for lt in left.terms for rt in right.terms)


def _evaluate(node: _Node, text: str) -> _Expr:
    kind = node.kind
    if kind == "FACTOR":
        return _Expr(False, False, ((node.value,),))
    if kind in ("ZERO", "ONE"):                       # "0" removes the intercept, "1" keeps it
        return _Expr(kind == "ONE", kind == "ZERO", ())
    if kind == "NUMBER":
        raise _fail(text, node.pos, f"the number {node.value} is not allowed here", "numbers other than 0 and 1 "
                    "(intercept control) go only after ** as in (a + b) ** 2; write I(x * 2) for arithmetic")
    if kind in ("pos", "neg"):
        arg = node.args[0]
        if kind == "pos":
            return _evaluate(arg, text)
        if arg.kind in ("ZERO", "ONE"):
            return _Expr(arg.kind == "ZERO", arg.kind == "ONE", ())
        raise _fail(text, node.pos, "a minus sign before something other than 0 or 1",
                    "write 'y ~ x - 1' to drop the intercept, or I(-x) for a negated column")
    if kind in ("+", "-"):
        return _plus_minus(node, text)
    left = _evaluate(node.args[0], text)
    if kind == "**":
        return _power(left, node, text)
    right = _evaluate(node.args[1], text)
    if kind == "*":
        return _Expr(False, False, left.terms + right.terms + _interaction(left, right, node, text))
    if kind == "/":
        _interaction(left, _Expr(False, False, ()), node, text)        # the intercept cannot be nested
        combined = _Expr(False, False, (tuple(f for term in left.terms for f in term),))
        return _Expr(False, False, left.terms + _interaction(combined, right, node, text))
    return _Expr(False, False, _interaction(left, right, node, text))


def _plus_minus(node: _Node, text: str) -> _Expr:
    chain = []                      # a + b - c + …: walk the left spine without recursion
    while node.kind in ("+", "-"):
        chain.append(node)
        node = node.args[0]
    expr = _evaluate(node, text)
    for link in reversed(chain):
        expr = _add_or_remove(expr, link, text)
    return expr


def _add_or_remove(left: _Expr, node: _Node, text: str) -> _Expr:
    right_node = node.args[1]
    if node.kind == "+":
        if right_node.kind == "ZERO":
            return _Expr(False, True, left.terms)
        right = _evaluate(right_node, text)
        if right.intercept:
            return _Expr(True, False, left.terms + right.terms)
        return _Expr(left.intercept, left.removed, left.terms + right.terms)
    if right_node.kind in ("ZERO", "ONE"):
        return _Expr(right_node.kind == "ZERO", right_node.kind == "ONE", left.terms)
    right = _evaluate(right_node, text)
    drop = {frozenset(t) for t in right.terms}
    terms = tuple(t for t in left.terms if frozenset(t) not in drop)
    return _Expr(False, True, terms) if right.intercept else _Expr(left.intercept, left.removed, terms)


def _power(left: _Expr, node: _Node, text: str) -> _Expr:
    exponent = node.args[1]
    try:
        power = int(exponent.value) if exponent.kind in ("ONE", "NUMBER") else 0
    except ValueError:
        power = 0
    if power < 1:
        raise _fail(text, node.pos, "'**' needs a positive whole number after it", "write (a + b + c) ** 2 for all "
                    "two-way interactions; use I(x ** 2) for the square of a column")
    _interaction(left, _Expr(False, False, ()), node, text)
    terms, big = left.terms, left
    for _ in range(1, min(len(left.terms), power)):
        big = _Expr(False, False, _interaction(left, big, node, text))
        terms = terms + big.terms
    return _Expr(False, False, terms)


def parse_formula(text: str) -> Formula:
    """Parse a model formula without evaluating it (the grammar is in this module's docstring).

    Examples
    --------
    >>> f = parse_formula('参与度 ~ trust * C(role, Treatment("居民")) + I(age ** 2) - 1')
    >>> f.variables, f.intercept
    (['参与度', 'trust', 'role', 'age'], False)
    >>> [":".join(x.text for x in term) for term in f.terms]
    ['trust', 'C(role, Treatment("居民"))', 'trust:C(role, Treatment("居民"))', 'I(age ** 2)']
    """
    if not isinstance(text, str):
        raise SpecificationError(f"formula must be a string such as 'y ~ x1 + x2', got {type(text).__name__}.")
    try:
        lhs, rhs = _Parser(text).formula()
        right = _evaluate(rhs, text)
        if lhs.kind != "FACTOR" or isinstance(lhs.value, Categorical):
            raise _fail(text, lhs.pos, f"the outcome {text.split('~')[0].strip()!r} is not one column",
                        "put one outcome column (or a transform of one: log(y), I(y / 10)) left of '~'")
        parsed = Formula(text=text, outcome=lhs.value, terms=right.terms, intercept=not right.removed)
        [f.text for f in parsed.factors()]            # rendering recurses too: fail here, not later
    except RecursionError:
        raise SpecificationError(f"formula {text[:60]!r}… is nested too deeply or is too long to be a model. "
                                 "Fix: write it with fewer terms and parentheses.") from None
    return parsed


# --------------------------------------------------------------------------- design matrices
_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow}
_FUNCS = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "center": lambda v: v - v.mean(),
          "standardize": lambda v: (v - v.mean()) / v.std(), "scale": lambda v: (v - v.mean()) / v.std()}


def design_matrices(formula: Formula | str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outcome and design matrices of ``formula`` on ``frame`` (complete rows), as
    patsy names and orders them — but built from columns computed here.

    Treatment (dummy) coding, the first level (sorted, or a pandas Categorical's order) the
    reference unless ``Treatment(...)`` names another; a categorical whose lower-order margin
    is absent from the formula gets full dummy coding (R's and patsy's full-rank rule).
    ``center``, ``standardize`` and ``scale`` use the mean and SD (n divisor, as patsy) of
    the rows in ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 2, 4, 3, 5], "x": [1.0, 2, 3, 4, 5], "等级": ["低", "高", "中", "低", "高"]})
    >>> y, x = design_matrices('y ~ x + C(等级, Treatment("低")) + I(x ** 2)', d)
    >>> list(x.columns)
    ['Intercept', 'C(等级, Treatment("低"))[T.中]', 'C(等级, Treatment("低"))[T.高]', 'x', 'I(x ** 2)']
    """
    import patsy

    f = formula if isinstance(formula, Formula) else parse_formula(formula)
    f.check_columns(frame)
    data, factors = {}, {}
    for factor in f.factors():
        data[factor.text], factors[factor] = _factor(factor, frame, f.text)
    lhs = [patsy.Term([factors[f.outcome]])]
    rhs = [patsy.INTERCEPT] * f.intercept + [patsy.Term([factors[x] for x in term]) for term in f.terms]
    try:
        builders = patsy.design_matrix_builders([lhs, rhs], lambda: iter([data]), 0, NA_action="raise")
        y, x = patsy.build_design_matrices(builders, data, NA_action="raise", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise SpecificationError(f"formula {f.text!r} cannot be built: {str(exc).splitlines()[0]} Fix: check the types "
                                 "of the columns it uses (C() for categories, numbers for arithmetic).") from None
    return y, x


def _factor(factor, frame: pd.DataFrame, text: str):
    """The values of one factor and patsy's lookup of them (no evaluation)."""
    import patsy

    if isinstance(factor, Var):
        return frame[factor.name], patsy.LookupFactor(factor.text)
    if isinstance(factor, Categorical):
        series = frame[factor.var.name]
        contrast = None if factor.reference is None else patsy.Treatment(reference=_reference_level(factor, series, text))
        return series, patsy.LookupFactor(factor.text, force_categorical=True, contrast=contrast)
    with np.errstate(all="ignore"):
        values = _arith(factor, frame, text)
    bad = ~np.isfinite(values)
    if bad.any():
        rows = [str(i) for i in frame.index[bad]]
        raise DataValidationError(
            f"formula {text!r}: {factor.text} is not a finite number in {int(bad.sum())} row(s) ({preview(rows)}). "
            "Fix: log needs values > 0 and sqrt values >= 0 (e.g. log(x + 1)); standardize needs a column that varies."
        )
    return pd.Series(values, index=frame.index), patsy.LookupFactor(factor.text)


def _arith(node, frame: pd.DataFrame, text: str) -> np.ndarray:
    if isinstance(node, Num):
        return np.full(len(frame), float(node.text))
    if isinstance(node, Var):
        s = frame[node.name]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise DataValidationError(f"formula {text!r}: {node.name!r} is used in arithmetic or a transform but is not "
                                      f"numeric (dtype {s.dtype}). Fix: recode it to numbers, or use C({node.text}) for "
                                      "a categorical predictor.")
        return s.to_numpy(dtype=float, na_value=np.nan)
    value = _arith(node.right, frame, text)
    if node.left is not None:
        return _BINARY[node.op](_arith(node.left, frame, text), value)
    if node.op == "-":
        return -value
    return _FUNCS[node.op](value) if node.op in _FUNCS else value      # "+", "()" and I() pass through


def _reference_level(factor: Categorical, series: pd.Series, text: str):
    """The level of ``series`` that ``Treatment(...)`` names (a literal, never an index)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = list(series.cat.categories)
    else:
        levels = list(pd.unique(series.dropna()))
    for level in levels:
        numeric = isinstance(level, (int, float, np.integer, np.floating)) and not isinstance(level, (bool, np.bool_))
        if str(level) in (factor.reference, factor.reference_text):
            return level
        try:
            if numeric and float(level) == float(factor.reference):
                return level
        except ValueError:
            pass
    shown = [str(v) for v in levels] if isinstance(series.dtype, pd.CategoricalDtype) else sorted(map(str, levels))
    raise SpecificationError(
        f"formula {text!r}: {factor.contrast} names the reference level {factor.reference_text}, which "
        f"{factor.var.name!r} does not have in the rows used (its levels: {preview(shown)}). "
        "Fix: name one of those levels."
    )
