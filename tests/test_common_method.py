"""Common-method variance: the common-latent-factor (ULMC) comparison against lavaan 0.6-14
(tests/reference/values/ordinal.json, key ``clf``, made by tests/reference/r/make_ordinal_reference.R
on HolzingerSwineford1939), Lindell & Whitney's marker correction computed by hand, bad input,
and the ``common_method`` study analysis with its report section in Chinese and English."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import govsurvey as gs
from govsurvey.psychometrics.common_method import CLF_RULE, clf_model
from govsurvey.report.document import Paragraph, Table, build_document
from govsurvey.study import REGISTRY, Study

ROOT = Path(__file__).resolve().parent
REF = json.loads((ROOT / "reference" / "values" / "ordinal.json").read_text(encoding="utf-8"))["clf"]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
EXAMPLE = gs.datasets.example_dir()


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(ROOT / "reference" / "data" / "HolzingerSwineford1939.csv")


@pytest.fixture(scope="module")
def hs_clf(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.HeywoodCaseWarning)     # lavaan's CLF solution is improper too (see below)
        return gs.clf_test(hs, HS_MODEL)


# ------------------------------------------------------------------ lavaan reference
def test_reference_model_is_the_one_fitted():
    assert REF["model"].startswith(HS_MODEL + "\nmethod =~ m*x1 + m*x2")
    assert clf_model(HS_MODEL) == HS_MODEL + "\nmethod =~ " + " + ".join(f"1*x{i}" for i in range(1, 10)) + \
        "\nmethod ~~ 0*visual + 0*textual + 0*speed"


@pytest.mark.parametrize("which", ["trait", "clf"])
def test_fit_measures_match_lavaan(hs_clf, which):
    fit = getattr(hs_clf, which).fit
    for key, expected in REF[which].items():
        # fitMeasures(): lavaan 0.6-14, full precision; tolerance 1e-5 relative (the brief's 1e-5)
        assert fit[key] == pytest.approx(expected, rel=1e-5, abs=1e-7), key


def test_differences_and_method_loadings_match_lavaan(hs_clf):
    t, c = REF["trait"], REF["clf"]
    assert hs_clf.chisq_diff == pytest.approx(t["chisq"] - c["chisq"], rel=1e-5)          # anova(fit_clf, fit_trait)
    assert hs_clf.df_diff == 1.0
    assert hs_clf.p_diff == pytest.approx(stats.chi2.sf(t["chisq"] - c["chisq"], 1), rel=1e-4)
    for k in ("cfi", "tli", "rmsea", "srmr"):
        assert getattr(hs_clf, f"delta_{k}") == pytest.approx(c[k] - t[k], abs=1e-6), k
    loads = hs_clf.method_loadings
    assert list(loads["item"]) == [f"x{i}" for i in range(1, 10)]
    # standardizedSolution(fit_clf) est.std of method =~ x1..x9; 1e-4 absolute on loadings
    np.testing.assert_allclose(loads["std_all"].to_numpy(), REF["method_loading_std"], atol=1e-4, rtol=0)
    assert (loads["estimate"] == 1.0).all()                                          # equal loadings
    assert hs_clf.method_share == pytest.approx(np.mean(np.square(REF["method_loading_std"])), abs=1e-4)


def test_hs_verdict_and_improper_solution(hs_clf):
    """HS: the CLF improves CFI by .033 — below the .10 rule — and its solution is improper
    (visual–speed correlation beyond −1, as lavaan's), which the result says."""
    assert not hs_clf.flagged and hs_clf.improper
    assert any("improper solution" in w for w in hs_clf.warnings)
    assert hs_clf.method_share > 0.25          # above Williams et al.'s median: the report says so
    assert CLF_RULE == {"cfi": 0.10, "tli": 0.10, "rmsea": 0.05, "srmr": 0.05}


def test_result_contract(hs_clf):
    frame = hs_clf.to_frame()
    assert list(frame.index) == ["trait", "clf"] and frame.loc["clf", "df_diff"] == 1
    d = json.loads(json.dumps(hs_clf.to_dict()))
    assert d["delta_cfi"] == hs_clf.delta_cfi and "fit" in d["clf"]
    assert repr(hs_clf) == repr(hs_clf) and "CLFTest(n=301" in repr(hs_clf)
    with pytest.raises(AttributeError):
        hs_clf.flagged = True


def test_mlr_uses_satorra_bentler_difference(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.HeywoodCaseWarning)
        res = gs.clf_test(hs, HS_MODEL, estimator="MLR")
    t0, t1 = res.trait.fit, res.clf.fit
    cd = (t0["df"] * t0["chisq_scaling_factor"] - t1["df"] * t1["chisq_scaling_factor"]) / (t0["df"] - t1["df"])
    assert res.chisq_diff == pytest.approx((t0["chisq"] - t1["chisq"]) / cd, rel=1e-12)
    assert res.delta_cfi == pytest.approx(t1["cfi_robust"] - t0["cfi_robust"], rel=1e-12)


# ------------------------------------------------------------------ Lindell & Whitney
def _worked_example() -> pd.DataFrame:
    rng = np.random.default_rng(20010101)
    n = 60
    method = rng.normal(size=n)
    trait = rng.normal(size=n)
    return pd.DataFrame({"a": trait + 0.4 * method + rng.normal(size=n), "b": trait + 0.4 * method + rng.normal(size=n),
                         "c": 0.3 * trait + 0.4 * method + rng.normal(size=n), "m": 0.4 * method + rng.normal(size=n)})


@pytest.mark.parametrize("rank, position", [("smallest", 0), ("second_smallest", 1)])
def test_marker_correction_by_hand(rank, position):
    data = _worked_example()
    res = gs.marker_test(data, "m", ["a", "b", "c"], rank=rank)
    x = data.to_numpy()
    n = len(x)
    r = np.corrcoef(x, rowvar=False)
    marker_r = r[3, :3]
    assert (marker_r > 0).sum() >= 2                           # the worked example has two or more positive marker r's
    r_m = np.sort(marker_r[marker_r > 0])[position]
    assert res.r_m == pytest.approx(r_m, abs=1e-14)
    for row in res.table.itertuples():
        i, j = "abc".index(row.var1), "abc".index(row.var2)
        r_ij = r[i, j]
        r_a = (r_ij - r_m) / (1 - r_m)
        t_a = r_a / math.sqrt((1 - r_a**2) / (n - 3))
        p_a = 2 * stats.t.sf(abs(t_a), n - 3)
        t = r_ij * math.sqrt((n - 2) / (1 - r_ij**2))
        assert row.r == pytest.approx(r_ij, abs=1e-14)
        assert row.p == pytest.approx(2 * stats.t.sf(abs(t), n - 2), rel=1e-10)
        assert row.r_adjusted == pytest.approx(r_a, abs=1e-14)
        assert row.t_adjusted == pytest.approx(t_a, rel=1e-12)
        assert row.p_adjusted == pytest.approx(p_a, rel=1e-10)
        assert row.significant_adjusted == (p_a < 0.05)
    assert len(res.table) == 3 and res.n_obs == n and res.n_dropped == 0
    assert res.n_significant_adjusted == int(res.table["significant_adjusted"].sum())
    assert res.n_significant_adjusted <= res.n_significant


def test_marker_without_positive_correlations_is_not_corrected():
    data = _worked_example().assign(m=lambda d: -d["a"] - d["b"] - d["c"] + np.random.default_rng(1).normal(size=len(d)))
    with pytest.warns(gs.DataWarning, match="correlates positively with none"):
        res = gs.marker_test(data, "m", ["a", "b", "c"])
    assert res.r_m == 0.0
    np.testing.assert_allclose(res.table["r_adjusted"], res.table["r"], rtol=0, atol=0)


def test_marker_listwise_deletion_is_reported():
    data = _worked_example()
    data.iloc[:5, 0] = np.nan
    with pytest.warns(gs.DataWarning, match="5 rows with missing values"):
        res = gs.marker_test(data, "m", ["a", "b", "c"])
    assert res.n_obs == 55 and res.n_dropped == 5


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda d: gs.marker_test(d, "q9", ["a", "b"]), gs.UnknownItemError, r"marker='q9' is not a column"),
    (lambda d: gs.marker_test(d, "m", ["a", "m", "b"]), gs.DataValidationError, r"the marker 'm' is one of the substantive variables"),
    (lambda d: gs.marker_test(d, "m", ["a", "zz"]), gs.UnknownItemError, r"variables= names 1 column\(s\) not in the data: zz"),
    (lambda d: gs.marker_test(d, "m", ["a"]), gs.DataValidationError, r"at least two substantive variables"),
    (lambda d: gs.marker_test(d, "m", ["a", "b"], rank="largest"), gs.SpecificationError, r"rank='largest'"),
    (lambda d: gs.clf_test(d, "method =~ a + b + c"), gs.SpecificationError, r"already has a variable named 'method'"),
    (lambda d: gs.clf_test(d, "a ~~ b"), gs.SpecificationError, r"needs a measurement model"),
    (lambda d: gs.clf_test(d, "f =~ a + b + c", estimator="WLSMV"), gs.SpecificationError, r"estimator='WLSMV'"),
])
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call(_worked_example())


# ------------------------------------------------------------------ study spec and report
def _spec(folder: Path, analyses: str, language: str = "zh") -> Path:
    inst = gs.datasets.instrument_path("community_phe_survey")
    path = folder / f"spec_{language}.yaml"
    path.write_text(f"name: t\ninstrument: {inst}\ndata: {EXAMPLE / 'survey.sav'}\nseed: 3\nlanguage: {language}\n"
                    f"formats: [json]\nanalyses:\n{analyses}", encoding="utf-8")
    return path


CM = "  common_method: {constructs: [trust, satisfaction, awareness], marker: years}\n"


@pytest.fixture(scope="module")
def study_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cm")
    return {lang: Study.from_yaml(_spec(folder, CM, lang)).run() for lang in ("zh", "en")}


@pytest.mark.slow
def test_study_runs_common_method(study_runs):
    res = study_runs["zh"]
    assert not res.failures
    step = res.analyses["common_method"]
    assert step.constructs == ("trust", "satisfaction", "awareness")
    assert step.harman is not None and step.clf is not None and step.marker is not None
    assert step.clf.df_diff == 1 and step.clf.trait.n_obs == step.clf.n_obs
    assert set(step.marker.table["var1"]) | set(step.marker.table["var2"]) == {"trust", "satisfaction", "awareness"}
    d = json.loads(json.dumps(res.to_dict(), default=str))
    assert d["analyses"]["common_method"]["clf"]["delta_cfi"] == step.clf.delta_cfi


def _section_text(doc) -> list[str]:
    out = []
    for section in doc.sections:
        for b in section.blocks:
            if isinstance(b, Table):
                out += [b.caption, b.note, *map(str, b.frame.columns), *map(str, b.frame.to_numpy().ravel())]
            elif isinstance(b, Paragraph):
                out.append(b.text)
    return out


def test_report_section_in_chinese_and_english(study_runs):
    zh = " ".join(_section_text(build_document(study_runs["zh"])))
    for phrase in ("Harman 单因子检验", "共同方法因子检验（控制未测单一方法潜因子法）", "周浩, 龙立荣, 2004",
                   "标签变量法（Lindell & Whitney, 2001）", "校正后仍显著", "rM = ", "ΔCFI", "ΔSRMR"):
        assert phrase in zh, phrase
    assert "未发现严重的共同方法偏差" in zh or "存在较严重的共同方法偏差" in zh
    # these three constructs share no method variance (ψ_M ≤ 0), which the report says instead of a share
    assert study_runs["zh"].analyses["common_method"].clf.method_variance <= 0
    assert "方法因子的方差不为正" in zh and "not positive" in " ".join(_section_text(build_document(study_runs["en"])))
    en = " ".join(_section_text(build_document(study_runs["en"])))
    for phrase in ("Harman's single-factor test", "Common latent method factor (ULMC) comparison",
                   "Marker-variable correction (Lindell & Whitney, 2001)", "Significant after correction", "周浩 & 龙立荣, 2004"):
        assert phrase in en, phrase


@pytest.mark.parametrize("marker, error, match", [
    ("TG1", "DataValidationError", r"marker='TG1' is an item of a construct being checked"),
    ("trust", "DataValidationError", r"marker='trust' is the score of a construct being checked"),
    ("yeers", "UnknownItemError", r"marker='yeers' is neither an item.*did you mean 'years'\?"),
])
def test_marker_inside_the_model_or_unknown_is_a_failure(tmp_path, marker, error, match):
    spec = _spec(tmp_path, f"  common_method: {{constructs: [trust, satisfaction], clf: false, marker: {marker}}}\n")
    res = Study.from_yaml(spec).run()
    (fail,) = res.failures
    text = f"{fail.message} Fix: {fail.fix}"
    assert fail.error == error and re.search(match, text), text


def test_nothing_to_check_and_deprecated_harman(tmp_path):
    res = Study.from_yaml(_spec(tmp_path, "  common_method: {harman: false, clf: false}\n  harman: true\n")).run()
    assert [f.key for f in res.failures] == ["common_method"] and "nothing to check" in res.failures[0].message
    assert res.analyses["harman"].first_factor_share > 0                   # the old key runs as before
    assert "Deprecated" in REGISTRY["harman"].doc and "common_method" in REGISTRY["harman"].doc
