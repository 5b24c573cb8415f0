"""link_codes when the survey and the interviews spell the units differently; clear errors
instead of bare exceptions in link_codes, joint_display and capacity_gaps."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.qualitative.coded import SEGMENT_COLUMNS, build_interviews
from instrument_texts import MINIMAL


@pytest.fixture(scope="module")
def codes(files):
    return gs.read_codes(files["segments"], codebook=files["codebook"], cases=files["cases"])


@pytest.fixture(scope="module")
def named(inst, xlsx_data):
    """Scores with the site as the community's name, as the interviews have it."""
    clean = gs.screen(xlsx_data, inst).clean
    return clean[["site"]].join(gs.score(clean, inst))


@pytest.fixture(scope="module")
def sites(named) -> list[str]:
    return sorted(named["site"].dropna().unique())


@pytest.fixture(scope="module")
def reference(named, codes):
    return gs.link_codes(named, codes, level="site")


@pytest.fixture
def site_labels(write_yaml, sites) -> dict:
    """The choice labels of a ``site`` question coded 1–12, read through the Instrument API."""
    choices = ", ".join(f"{k}: {name}" for k, name in enumerate(sites, start=1))
    body = MINIMAL + f"""  - id: site
    type: select_one
    text: {{zh: 社区, en: Community}}
    choices:
      zh: {{{choices}}}
      en: {{{choices}}}
"""
    inst = gs.load_instrument(write_yaml(body))
    return inst.scales[inst.question("site").scale].labels["zh"]


def _coded(named: pd.DataFrame, sites: list[str], as_type=int) -> pd.DataFrame:
    code = {name: as_type(k) for k, name in enumerate(sites, start=1)}
    return named.assign(site=[code[s] for s in named["site"]])


def _assert_same(table: pd.DataFrame, reference: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(table, reference)
    pd.testing.assert_frame_equal(table.attrs["cells"], reference.attrs["cells"])


# ------------------------------------------------------------------------- matching units
@pytest.mark.slow
def test_numeric_sites_with_the_instruments_labels_give_the_named_result(named, sites, codes, reference, site_labels):
    assert set(site_labels.values()) == set(sites) and all(isinstance(k, int) for k in site_labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gs.errors.DataWarning)
        table = gs.link_codes(_coded(named, sites), codes, level="site", labels=site_labels)
    _assert_same(table, reference)
    assert table.attrs["warnings"] == []


@pytest.mark.parametrize("as_type", [float, str, np.int64, lambda k: f" {k} "])
def test_codes_match_whatever_their_type(named, sites, codes, reference, as_type):
    labels = {k: name for k, name in enumerate(sites, start=1)}
    _assert_same(gs.link_codes(_coded(named, sites, as_type), codes, labels=labels), reference)
    str_keys = {str(k): name for k, name in labels.items()}
    _assert_same(gs.link_codes(_coded(named, sites, as_type), codes, labels=str_keys), reference)


def test_codes_on_the_interview_side_map_through_the_same_labels(named, sites, codes, reference):
    code = {name: k for k, name in enumerate(sites, start=1)}
    cases = codes.cases.assign(site=codes.cases["site"].map(code))
    coded_talk = build_interviews(codes.segments[SEGMENT_COLUMNS], codes.codebook, cases.reset_index(),
                                  identifying=codes.identifying)
    table = gs.link_codes(named, coded_talk, labels={k: name for name, k in code.items()})
    _assert_same(table, reference)
    # both sides coded alike need no labels
    assert gs.link_codes(_coded(named, sites), coded_talk)["r"].equals(reference["r"])


def test_no_common_unit_lists_both_sides_and_the_fix(named, sites, codes):
    with pytest.raises(gs.DataValidationError) as info:
        gs.link_codes(_coded(named, sites), codes, level="site")
    msg = str(info.value)
    assert "Survey: 1, 2, 3, 4 and 8 more" in msg
    assert "interviews: '" in msg and any(name in msg for name in sites)
    assert "labels=" in msg and "recode" in msg
    with pytest.raises(gs.DataValidationError, match="labels= given did not turn"):
        gs.link_codes(_coded(named, sites), codes, labels={99: "nowhere"})


def test_partial_match_proceeds_with_a_warning(named, sites, codes, reference):
    interviewed = sorted(set(codes.segments["site"].dropna()))
    gone = interviewed[0]
    with pytest.warns(gs.errors.DataWarning, match=rf"1 of {len(interviewed)} interviewed site.*{gone}"):
        table = gs.link_codes(named[named["site"] != gone], codes)
    assert len(table.attrs["warnings"]) == 1 and gone in table.attrs["warnings"][0]
    assert gone not in set(table.attrs["cells"].index)
    assert (table["n_units"].drop("pooled") == reference["n_units"].drop("pooled") // 10 * 9).all()


# ------------------------------------------------------------- other odd inputs: clear errors
def test_link_codes_odd_inputs(named, codes):
    no_site = build_interviews(codes.segments[SEGMENT_COLUMNS], codes.codebook,
                               codes.cases.assign(site=np.nan).reset_index(), identifying=codes.identifying)
    cases = [
        (lambda: gs.link_codes(named, no_site), gs.DataValidationError, "no interviewee has a value of the case variable 'site'"),
        (lambda: gs.link_codes(named, codes, dimensions=[]), gs.SpecificationError, "dimensions= is empty"),
        (lambda: gs.link_codes(named, codes, dimensions=["nope"]), gs.UnknownItemError, "not in scores: nope"),
        (lambda: gs.link_codes(named, codes, level="street"), gs.UnknownItemError, "level='street'"),
        (lambda: gs.link_codes(named.assign(role=1), codes, level="role"), gs.DataValidationError, "no role of the interviews"),
        (lambda: gs.link_codes(named, codes, labels=[("1", "a")]), gs.SpecificationError, "labels= must map"),
        (lambda: gs.link_codes(named, codes, ci=2), gs.SpecificationError, "ci=2"),
        (lambda: gs.link_codes(named, codes, polarity="barier"), gs.SpecificationError, "did you mean 'barrier'"),
        (lambda: gs.link_codes(named.to_numpy(), codes), gs.SpecificationError, "scores must be a DataFrame"),
        (lambda: gs.link_codes(named, codes.segments), gs.SpecificationError, "codes must be coded interviews"),
        (lambda: gs.link_codes(named.assign(reserves="高"), codes), gs.DataValidationError, "non-numeric values"),
        (lambda: gs.link_codes(named[["site", "age"]] if "age" in named else named[["site"]], codes),
         gs.DataValidationError, "no codebook dimension matches a score column"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_a_dimension_without_codes_is_nan_with_a_warning(named, codes):
    with pytest.warns(gs.errors.DataWarning, match="no facilitator code for dimension 'trust'"):
        table = gs.link_codes(named, codes, dimensions=["reserves", "trust"], polarity="facilitator")
    assert np.isnan(table.loc["trust", "r"]) and not np.isnan(table.loc["reserves", "r"])
    with pytest.warns(gs.errors.DataWarning) as record:
        few = gs.link_codes(named[named["site"].isin(sorted(set(codes.segments["site"]))[:3])], codes)
    assert any("each dimension needs at least 4" in str(w.message) for w in record)
    assert any("7 of 10 interviewed site" in str(w.message) for w in record)
    assert few["r"].drop("pooled").isna().all()


def test_joint_display_and_capacity_gaps_odd_inputs(named, codes):
    gaps = gs.capacity_gaps(named[["reserves", "grid"]], target=4.0)
    by_site = gs.capacity_gaps(named[["site", "reserves"]], target=4.0, by="site", dimensions=["reserves"])
    cases = [
        (lambda: gs.joint_display(gaps.iloc[:0], codes), gs.DataValidationError, "gaps has no dimension"),
        (lambda: gs.joint_display(gaps.drop(columns="p"), codes), gs.UnknownItemError, "lack column"),
        (lambda: gs.joint_display(gaps.to_dict(), codes), gs.SpecificationError, "gaps must be"),
        (lambda: gs.joint_display(gaps, codes, n_quotes=-1), gs.SpecificationError, "n_quotes=-1"),
        (lambda: gs.joint_display(by_site.rename(index=lambda v: f"x{v}", level=0), codes, by="site"),
         gs.DataValidationError, "no group of gaps matches"),
        (lambda: gs.joint_display(gaps, codes, by="nope"), gs.SpecificationError, "needs gaps from capacity_gaps"),
        (lambda: gs.capacity_gaps(named[["reserves"]], target=4.0, by="nope"), gs.UnknownItemError, "by='nope'"),
        (lambda: gs.capacity_gaps(named[["reserves"]], target=4.0, by=[1, 2]), gs.SpecificationError, "one value per respondent"),
        (lambda: gs.capacity_gaps(named[["reserves"]].assign(g=np.nan), target=4.0, by="g", dimensions=["reserves"]),
         gs.DataValidationError, "no group"),
        (lambda: gs.capacity_gaps(named[["reserves", "grid"]], target={"reserves": 4}), gs.UnknownItemError,
         "no value for 'grid'"),
        (lambda: gs.capacity_gaps(named[["reserves"]], target="4"), gs.SpecificationError, "target='4'"),
        (lambda: gs.capacity_gaps(named[["reserves"]], target=4.0, ci="0.95"), gs.SpecificationError, "ci='0.95'"),
        (lambda: gs.capacity_gaps(named[["reserves"]], importance=[[1]]), gs.SpecificationError, "importance= must be"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    assert gs.joint_display(gaps, codes, n_quotes=np.int64(0))["quotes"].eq("").all()
    per_site = gs.joint_display(by_site, codes, by="site")
    assert set(per_site.index.get_level_values(0)) == set(codes.segments["site"])
