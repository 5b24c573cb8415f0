"""Real XLSForm workbooks written by other tools (../shared/realworld/xlsform/): every one loads,
or, for a repeat, is refused naming it; each round-trips and reads an ODK/Kobo-layout data frame."""

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.instrument.odk import choice_columns, expand_select_multiple, odk_columns

ROOT = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "xlsform"
pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason="../shared/realworld is not checked out beside the project")
FORMS = sorted(p.name for p in ROOT.glob("*.xlsx")) if ROOT.is_dir() else []
REPEATS = {"fmtm__slum_assessment_survey.xlsx": "hhmemb_repeat", "pyxform__UCL_Biomass_Plot_Form.xlsx": "trees",
           "pyxform__loop.xlsx": "loop_toilet_types", "pyxform__xlsform_spec_test.xlsx": "repeat_test",
           "unhcr__demo.xlsx": "hh_rpt"}
LOADS = [f for f in FORMS if f not in REPEATS]


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DataWarning)
        return gs.load_instrument(path)


def _same(a, b):
    assert a.name == b.name and a.version == b.version and a.languages == b.languages
    assert dict(a.title) == dict(b.title)
    assert a.items == b.items
    assert a.demographics == b.demographics
    assert dict(a.scales) == dict(b.scales)
    assert dict(a.constructs) == dict(b.constructs)


def test_the_corpus_is_all_here():
    assert len(FORMS) == 15


@pytest.mark.parametrize("name", LOADS)
def test_form_loads_fast_and_round_trips(name, tmp_path):
    start = time.perf_counter()
    inst = _load(ROOT / name)
    assert time.perf_counter() - start < 2.0
    assert inst.questions
    back = _load(inst.to_xlsform(tmp_path / "again.xlsx"))
    _same(inst, back)


@pytest.mark.parametrize("name", sorted(REPEATS))
def test_repeat_is_refused_naming_it(name):
    with pytest.raises(gs.InstrumentError, match=rf"repeat '{REPEATS[name]}'.*Fix:"):
        gs.load_instrument(ROOT / name)


def test_likert_groups_become_constructs_and_other_groups_stay_structure():
    inst = _load(ROOT / "ipa__Likert_template.xlsx")
    assert inst.items_of("likert0group") == ["likert0"]
    sc = inst.scales["likert2"]
    assert sc.type == "likert" and (sc.min, sc.max) == (1, 5) and set(sc.missing) == {-999, -888}
    assert inst.scales["likert3"].type == "likert"            # labels 1..5
    assert inst.scales["yesno"].type == "nominal"
    assert inst.question("dkref").role == "demographic"        # the don't-know question beside the item
    meta = {q.id: q.type for q in inst.demographics}
    assert meta["starttime"] == "start" and meta["duration"] == "calculate"
    assert "deviceid" not in meta


def test_word_choice_names_keep_sheet_order_and_map_answers():
    inst = _load(ROOT / "correlaid__all_types_survey.xlsx")
    sc = inst.scales["yesno"]
    assert dict(sc.names) == {1: "yes", 2: "no"}
    exact, _, _ = sc.label_lookup()
    assert exact["yes"] == 1 and exact["no"] == 2 and exact["Ja"] == 1
    assert inst.languages == ("de",)                          # plain label, default_language de
    types = {q.type for q in inst.demographics}
    assert {"date", "time", "datetime", "select_multiple", "calculate", "hidden"} <= types


def test_label_columns_map_to_languages():
    assert _load(ROOT / "correlaid__testB.xlsx").languages == ("de", "en")
    assert _load(ROOT / "fmtm__simple_building_survey_wildfires.xlsx").languages == ("en", "sw", "fr", "es")
    assert _load(ROOT / "ipa__phq9_gad7.xlsx").languages == ("en", "es")   # label + label:english, default english
    assert _load(ROOT / "pyxform__group.xlsx").languages == ("en",)         # label:English (en)


def test_metadata_and_notes_are_dropped_with_a_note():
    with pytest.warns(gs.DataWarning, match=r"dropped.*deviceid"):
        gs.load_instrument(ROOT / "ipa__Likert_template.xlsx")


@pytest.mark.parametrize("name", LOADS)
def test_odk_export_layout_reads(name):
    inst = _load(ROOT / name)
    cols, values = {}, {}
    for q in inst.demographics[:12]:
        header = f"grp/{q.id}"
        if q.type == "select_multiple":
            names = list(choice_columns(inst, q.id))
            cols[header] = [" ".join(names[:2]), names[-1], None]
        else:
            cols[header] = ["a", "b", "c"]
        values[q.id] = cols[header]
    frame = pd.DataFrame(cols)
    frame["_uuid"] = ["u1", "u2", "u3"]
    before = frame.copy()
    out = expand_select_multiple(odk_columns(frame, inst), inst)
    pd.testing.assert_frame_equal(frame, before)
    for q in inst.demographics[:12]:
        if q.type == "select_multiple":
            names = list(choice_columns(inst, q.id))
            assert out[f"{q.id}/{names[0]}"].iloc[0] == 1.0 and np.isnan(out[f"{q.id}/{names[0]}"].iloc[2])
            assert q.id not in out
        else:
            assert list(out[q.id]) == values[q.id]
    assert "_uuid" in out


def test_odk_split_select_multiple_columns_and_unknown_names():
    inst = _load(ROOT / "correlaid__all_types_survey.xlsx")
    qid = next(q.id for q in inst.demographics if q.type == "select_multiple")
    names = list(choice_columns(inst, qid))
    frame = pd.DataFrame({f"g/{qid}/{names[0]}": [1, 0]})
    assert list(odk_columns(frame, inst).columns) == [f"{qid}/{names[0]}"]
    with pytest.raises(gs.DataValidationError, match=r"does not have: nonsense"):
        expand_select_multiple(pd.DataFrame({qid: ["nonsense"]}), inst)


def test_read_responses_takes_an_odk_export_of_a_real_form():
    """End to end: a Kobo/ODK export (group paths, space-separated select_multiple, word choice
    names) read with the form's instrument."""
    inst = _load(ROOT / "correlaid__all_types_survey.xlsx")
    multi = next(q for q in inst.demographics if q.type == "select_multiple")
    names = list(choice_columns(inst, multi.id))
    frame = pd.DataFrame({f"grp/{multi.id}": [" ".join(names[:2]), names[-1]], "_uuid": ["u1", "u2"]})
    data = gs.read_responses(frame, inst)
    assert data[f"{multi.id}/{names[0]}"].tolist() == [1.0, 0.0]
    assert data[f"{multi.id}/{names[-1]}"].tolist() == [0.0, 1.0]
