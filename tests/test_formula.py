"""Model formulas: a grammar, not eval. Attacks are refused before anything runs; the design
matrices equal patsy's (names, order, values) on safe formulas; Chinese names and levels work."""

from __future__ import annotations

import builtins
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import govsurvey as gs
from govsurvey.models.formula import design_matrices, parse_formula, quote_name

SRC = Path(__file__).resolve().parents[1] / "src" / "govsurvey"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 240
    site = rng.integers(0, 12, n)
    effect = rng.standard_normal(12)[site]
    d = pd.DataFrame({
        "y": rng.standard_normal(n) + effect, "x": rng.uniform(1, 3, n) + 0.5 * (effect > 0), "w": rng.standard_normal(n), "z": rng.standard_normal(n),
        "a": rng.choice(list("abc"), n), "b": rng.choice(list("pq"), n), "role": rng.choice([1.0, 2.0, 3.0], n),
        "参与度": rng.standard_normal(n) + effect, "site": site, "等级": rng.choice(["低", "中", "高"], n), "a b": rng.standard_normal(n),
        "class": rng.standard_normal(n), "flag": rng.random(n) > 0.5,
    })
    d["grp"] = pd.Categorical(rng.choice(["hi", "lo", "mid"], n), categories=["lo", "mid", "hi"])
    d["y"] += d["x"] + (d["等级"] == "高") * 1.5 - (d["等级"] == "中") * 0.5
    return d


# --------------------------------------------------------------------------- (a) attacks
ATTACKS = [
    'y ~ np.lib._npyio_impl.os.system("\\164\\157\\165\\143\\150 /tmp/x")',
    'y ~ np.lib._npyio_impl.os.system("\\164\\157\\165\\143\\150 pwned")',
    'y ~ x + np.lib._npyio_impl.os.system("touch pwned")',
    '__import__("os").system("touch pwned") ~ x',
    'y ~ __import__("os").system("touch pwned")',
    'y ~ __import__("os")',
    "y ~ os.system",
    "y ~ a.b.c",
    "y ~ x.__class__.__mro__",
    'y ~ (lambda: __import__("os").system("touch pwned"))()',
    "y ~ lambda: 1",
    'y ~ x + "touch pwned"',
    "y ~ 'abc'",
    "y ~ ().__class__",
    "y ~ ().__class__.__bases__[0].__subclasses__()",
    'y ~ getattr(x, "__class__")',
    'y ~ getattr(__builtins__, "eval")("1")',
    "y ~ x\\n",
    'y ~ Q("\\x41")',
    'y ~ C(x, Treatment("\\u4f4e"))',
    'y ~ eval("__import__(\'os\').system(\'touch pwned\')")',
    'y ~ exec("import os")',
    'y ~ I(open("pwned", "w"))',
    "y ~ x[0]",
    "y ~ I(x)[0]",
    "y ~ log(x).real",
    "y ~ C(x, Sum)",
    "y ~ C(x, levels=[1, 2])",
    'y ~ C(x, Treatment(reference=__import__("os")))',
    "y ~ I(x if x else x)",
    "y ~ [x for x in y]",
    "y ~ {x}",
    "y ~ x @ w",
    "y ~ x; import os",
    'y ~ f"{x}"',
    "y ~ x % 2",
    "y ~ I(x % 2)",
    'y ~ np.log(x)',
    "y ~ numpy.exp(x)",
]


@pytest.fixture
def guarded(frame, tmp_path, monkeypatch):
    """Run in an empty directory, with eval/exec/os.system/subprocess set to fail loudly (after
    one safe fit of each model, so that their lazy imports — which use exec — are done)."""
    data = frame.assign(yb=(frame["y"] > 0).astype(int))
    gs.regress("y ~ x", data), gs.logistic("yb ~ x", data), gs.ordinal("role ~ x", data)
    gs.multilevel("y ~ x", data, groups="site")
    monkeypatch.chdir(tmp_path)

    def forbidden(*args, **kwargs):
        raise AssertionError(f"code execution attempted: {args!r}")

    for target, name in [(builtins, "eval"), (builtins, "exec"), (os, "system"), (os, "popen"), (subprocess, "Popen")]:
        monkeypatch.setattr(target, name, forbidden)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("formula", ATTACKS)
def test_attacks_are_refused_before_anything_runs(formula, frame, guarded):
    for fit in (lambda f: gs.regress(f, frame), lambda f: gs.logistic(f, frame), lambda f: gs.ordinal(f, frame),
                lambda f: gs.multilevel(f, frame, groups="site")):
        with pytest.raises(gs.SpecificationError, match=r"character \d+: .* Fix: "):
            fit(formula)
    assert list(guarded.iterdir()) == []


@pytest.mark.parametrize("formula, where, part", [
    ("y ~ np.log(x)", 7, "attribute access"),
    ('y ~ __import__("os")', 5, "'__import__' is not allowed"),
    ("y ~ lambda: 1", 5, "keyword 'lambda'"),
    ('y ~ x + "abc"', 9, 'quoted text "abc"'),
    ("y ~ x\\n", 6, "backslashes"),
    ("y ~ x[0]", 6, "subscripts"),
    ('y ~ getattr(x, "y")', 5, "'getattr' is not allowed"),
    ("y ~ class", 5, 'Q("class")'),
])
def test_refusals_name_the_part_its_position_and_the_fix(formula, where, part):
    with pytest.raises(gs.SpecificationError) as err:
        parse_formula(formula)
    message = str(err.value)
    assert f"character {where}:" in message and part in message and "Fix:" in message


def test_function_refusals_list_the_allowed_functions():
    with pytest.raises(gs.SpecificationError, match=r"allowed: .*Q\(\"name\"\).*log, exp, sqrt, center, standardize, scale"):
        parse_formula("y ~ poly(x, 2)")


@given(st.text(alphabet=st.sampled_from(list('xy~+-*/:()"\'.,=[]\\ 01235QCIlogTreatment_低\n')), max_size=40))
def test_any_text_parses_or_is_a_specification_error(text):
    """Fuzz: the parser never fails with anything but a SpecificationError (and never runs code)."""
    try:
        parse_formula(text)
    except gs.SpecificationError:
        pass


# --------------------------------------------------------------------------- (b) builder = patsy
SAFE = [
    "y ~ x",
    "y ~ x + C(role)",
    "y ~ x * w",
    "y ~ C(a) * x",
    "y ~ x * C(a)",
    "y ~ C(a):C(b)",
    "y ~ C(a) * C(b) + z",
    "y ~ C(a):x - 1",
    "y ~ 0 + x + w",
    "y ~ x + w + 0",
    "y ~ -1 + C(a)",
    "y ~ (x + w + z) ** 2",
    "y ~ (C(a) + C(b) + x) ** 3",
    "y ~ a / b",
    "y ~ x / w",
    "y ~ x * w * z - x:w:z",
    "y ~ x:C(a) + C(b)",
    "y ~ C(a) + C(a):x + C(b):x",
    'y ~ C(等级, Treatment("低"))',
    'y ~ C(等级, Treatment(reference="低")) * x',
    "y ~ C(role, Treatment(2))",
    'y ~ Q("a b") + 参与度 + Q("参与度")',
    'y ~ Q("class") + Q(\'a b\')',
    "参与度 ~ 等级 + x",
    "y ~ log(x) + I(x ** 2) + I(x - 3) + sqrt(x) + exp(w)",
    "y ~ I(-x ** 2) + I(x - -w) + I((x + 1) ** 2) + I(x * -1) + I(x / 2)",
    "log(x) ~ center(w) + standardize(z) + scale(参与度)",
    "I(y * 2) ~ log(x + 1) * C(b)",
    "y ~ grp + flag + a",
    "y ~ C(grp) : w",
]


@pytest.mark.parametrize("formula", SAFE)
def test_design_matrices_equal_patsys(formula, frame):
    import patsy

    env = patsy.EvalEnvironment([{"log": np.log, "exp": np.exp, "sqrt": np.sqrt}])
    y_ref, x_ref = patsy.dmatrices(formula, frame, eval_env=env, return_type="dataframe", NA_action="raise")
    y, x = design_matrices(formula, frame)
    assert list(x.columns) == list(x_ref.columns) and list(y.columns) == list(y_ref.columns)
    np.testing.assert_allclose(x.to_numpy(), x_ref.to_numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.to_numpy(), y_ref.to_numpy(), rtol=1e-12, atol=1e-12)
    assert x.index.equals(frame.index)


def test_column_names_are_patsys(frame):
    names = lambda f: list(design_matrices(f, frame)[1].columns)  # noqa: E731
    assert names("y ~ x + C(role)") == ["Intercept", "C(role)[T.2.0]", "C(role)[T.3.0]", "x"]
    assert names("y ~ x + C(a) + C(a):x + x:w") == ["Intercept", "C(a)[T.b]", "C(a)[T.c]", "x", "C(a)[T.b]:x",
                                                     "C(a)[T.c]:x", "x:w"]
    assert names("y ~ log(x) + I(x**2) - 1") == ["log(x)", "I(x ** 2)"]


def test_term_algebra_follows_r():
    terms = lambda f: [":".join(x.text for x in t) for t in parse_formula(f).terms]  # noqa: E731
    assert terms("y ~ a * b") == ["a", "b", "a:b"]
    assert terms("y ~ a / b") == ["a", "a:b"]
    assert terms("y ~ (a + b) / c") == ["a", "b", "a:b:c"]
    assert terms("y ~ (a + b + c) ** 2") == ["a", "b", "c", "a:b", "a:c", "b:c"]
    assert terms("y ~ a * b - a") == ["b", "a:b"]
    assert terms("y ~ a + a + b:a + a:b") == ["a", "b:a"]
    assert [parse_formula(f).intercept for f in ("y ~ x - 1", "y ~ x + 0", "y ~ 0 + x", "y ~ x", "y ~ -1 + x", "y ~ 0 + x + 1")] \
        == [False, False, False, True, False, True]


def test_formula_variables_come_from_the_parse_tree():
    f = parse_formula('log(参与度) ~ C(role, Treatment("低")) * I(age - 30) + Q("a b") + center(class_)')
    assert f.variables == ["参与度", "role", "age", "a b", "class_"]
    assert f.outcome_variables == ["参与度"] and f.plain_outcome is None
    assert parse_formula("y ~ x").plain_outcome == "y"
    assert parse_formula("y ~ log").variables == ["y", "log"]      # a column may be called log


# --------------------------------------------------------------------------- (c) Chinese levels
def test_treatment_with_a_chinese_reference_level_works_in_regress(frame):
    fit = gs.regress('y ~ C(等级, Treatment("低"))', frame)
    assert list(fit.table.index) == ["Intercept", 'C(等级, Treatment("低"))[T.中]', 'C(等级, Treatment("低"))[T.高]']
    means = frame.groupby("等级")["y"].mean()
    assert fit.table.loc["Intercept", "b"] == pytest.approx(means["低"], rel=1e-10)
    assert fit.table.loc['C(等级, Treatment("低"))[T.高]', "b"] == pytest.approx(means["高"] - means["低"], rel=1e-10)
    named = gs.regress('y ~ C(等级, Treatment(reference="高")) + x', frame)
    assert 'C(等级, Treatment(reference="高"))[T.低]' in named.table.index


def test_reference_levels_are_values_not_positions(frame):
    fit = gs.regress("y ~ C(role, Treatment(3))", frame)       # the level 3.0, not the 4th level
    assert list(fit.table.index)[1:] == ["C(role, Treatment(3))[T.1.0]", "C(role, Treatment(3))[T.2.0]"]
    with pytest.raises(gs.SpecificationError, match=r"reference level \"极高\".*levels: 中, 低, 高.*Fix"):
        gs.regress('y ~ C(等级, Treatment("极高"))', frame)
    with pytest.raises(gs.SpecificationError, match=r"reference level 7"):
        gs.regress("y ~ C(role, Treatment(7))", frame)


# --------------------------------------------------------------------------- (d) odd names
def test_a_column_named_class_via_q(frame):
    fit = gs.regress('y ~ Q("class") + Q("a b")', frame)
    assert list(fit.table.index) == ["Intercept", 'Q("class")', 'Q("a b")']
    with pytest.raises(gs.SpecificationError, match=r'Q\("class"\)'):
        gs.regress("y ~ class", frame)
    steps = gs.hierarchical_regression(frame, "y", [["class"], ["a b", "参与度"]])
    assert steps.loc[2, "r2"] >= steps.loc[1, "r2"]
    assert [quote_name(n) for n in ("x", "class", "a b", 'say "hi"', "参与度")] == [
        "x", 'Q("class")', 'Q("a b")', "Q('say \"hi\"')", "参与度"]


def test_unknown_columns_suggest_the_closest_name(frame):
    with pytest.raises(gs.UnknownItemError, match=r"not in the data: 参与.*did you mean '参与度'"):
        gs.regress("y ~ 参与", frame)
    with pytest.raises(gs.UnknownItemError, match=r"not in the data: nope\. Fix: check the spelling;"):
        gs.multilevel("y ~ nope", frame, groups="site")


def test_transforms_of_bad_values_and_text_columns_are_data_errors(frame):
    with pytest.raises(gs.DataValidationError, match=r"log\(w\) is not a finite number .* Fix: "):
        gs.regress("y ~ log(w)", frame)
    with pytest.raises(gs.DataValidationError, match=r"'a' is used in arithmetic .* C\(a\)"):
        gs.regress("y ~ I(a * 2)", frame)


def test_logistic_and_ordinal_need_a_column_as_outcome(frame):
    data = frame.assign(yb=(frame["y"] > frame["y"].median()).astype(int))
    assert "C(b)[T.q]" in gs.logistic("yb ~ x + C(b)", data).table.index
    with pytest.raises(gs.SpecificationError, match="must be a column"):
        gs.logistic("log(x) ~ w", data)
    with pytest.raises(gs.SpecificationError, match="must be a column"):
        gs.ordinal("I(role * 2) ~ w", data)


def test_multilevel_with_transforms_and_chinese_names(frame):
    fit = gs.multilevel('参与度 ~ C(等级, Treatment("低")) + I(x ** 2)', frame, groups="site")
    assert list(fit.fixed.index) == ["Intercept", 'C(等级, Treatment("低"))[T.中]', 'C(等级, Treatment("低"))[T.高]',
                                     "I(x ** 2)"]
    logged = gs.multilevel("log(x) ~ w", frame, groups="site")
    assert 0 <= logged.icc_null < 1


def test_moments_take_quoted_names_but_only_plain_sums(frame):
    m = gs.Moments.from_frame(frame, ["y", "x", "a b"])
    fit = gs.regress('y ~ x + Q("a b")', m)
    ref = gs.regress('y ~ x + Q("a b")', frame)
    assert list(fit.table.index) == list(ref.table.index)
    np.testing.assert_allclose(fit.table["b"], ref.table["b"], rtol=1e-9)
    for bad in ("y ~ x * w", "y ~ log(x)", "y ~ x - 1", "y ~ C(a)"):
        with pytest.raises(gs.SpecificationError, match="plain sums"):
            gs.regress(bad, m)


# --------------------------------------------------------------------------- (e) no eval in the package
FORBIDDEN = re.compile(
    r"(?<![\w.])(eval|exec|compile)\s*\(|\bbuiltins\.(eval|exec|compile)\b|(?<!\w)dmatri(x|ces)\s*\(|patsy\.dmatrices"
    r"|EvalFactor|EvalEnvironment|literal_eval|from_formula|incr_dbuilders?\s*\("
)


def test_no_string_evaluation_anywhere_in_the_package():
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if FORBIDDEN.search(line):
                hits.append(f"{path.relative_to(SRC)}:{k}: {line.strip()}")
    assert not hits, "string evaluation found:\n" + "\n".join(hits)


def test_the_forbidden_pattern_catches_what_it_should():
    for bad in ("eval(x)", "y = exec(code)", "compile(src, 'f', 'exec')", "patsy.dmatrices(f, d)", "patsy.dmatrix(f, d)",
                "dmatrices(f, d)", "patsy.EvalFactor('x')", "EvalEnvironment.capture()", "ast.literal_eval(s)",
                "builtins.eval", "ModelDesc.from_formula(f)"):
        assert FORBIDDEN.search(bad), bad
    for fine in ("_eval(node)", "_eval_defined(pt)", "re.compile(r'x')", 'ast.parse(e, mode="eval")', "self.evaluate(x)"):
        assert not FORBIDDEN.search(fine), fine


@pytest.mark.slow
def test_huge_or_deep_formulas_are_specification_errors_not_crashes():
    assert len(parse_formula("y ~ " + " + ".join(f"x{i}" for i in range(3000))).terms) == 3000
    for text in ("y ~ " + "(" * 3000 + "x" + ")" * 3000, "y ~ " + "- " * 5000 + "1", "y ~ I(" + "+".join(["x"] * 5000) + ")",
                 "y ~ (" + "+".join(f"x{i}" for i in range(30)) + ") ** 30"):
        with pytest.raises(gs.SpecificationError, match="Fix:"):
            parse_formula(text)
