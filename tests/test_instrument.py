"""Instruments: loading, the contract's accessors, validation messages, XLSForm round trip."""

from __future__ import annotations

import re

import pytest

import govsurvey as gs
from instrument_texts import MINIMAL


def test_bundled_instrument_contract(inst):
    assert inst.name == "community_phe_survey"
    assert inst.languages == ("zh", "en")
    assert inst.items_of("reserves") == ["RS1", "RS2", "RS3", "RS4"]
    assert inst.items_of("post_event") == ["RC1", "RC2", "RC3", "PS1", "PS2", "PS3"]
    assert len(inst.items_of("capacity")) == 33
    assert inst.reverse_keyed == ["PL4", "RS4", "MW4", "IR4", "PW3"]
    assert inst.constructs["plans"].parent == "pre_event"
    assert inst.constructs["capacity"].children == ("pre_event", "during_event", "post_event")
    item = inst.question("PL4")
    assert item.reverse and item.construct == "plans" and item.scale == "agree5"
    assert set(item.text) == {"zh", "en"}
    assert inst.importance_items["reserves"] == "IMP_RS"
    assert inst.attention_checks == {"AC1": 1}
    # every capacity dimension has 3–5 items and an importance rating
    for dim in inst.descendants("capacity"):
        if not inst.constructs[dim].children:
            assert 3 <= len(inst.items_of(dim)) <= 5
            assert dim in inst.importance_items


def test_every_bundled_file_loads_and_says_it_is_a_template():
    for path in sorted(gs.datasets.instruments_dir().glob("*.yaml")):
        inst = gs.load_instrument(path)
        text = path.read_text(encoding="utf-8")
        assert "not a validated published scale" in text or "adaptable template" in text, path
        assert set(inst.notice) == {"zh", "en"}, path


def test_cfa_model_syntax(inst):
    model = inst.cfa_model()
    assert model.splitlines()[1] == "reserves =~ RS1 + RS2 + RS3 + RS4"
    assert len(model.splitlines()) == len(inst.first_order)
    higher = inst.cfa_model(["pre_event"]).splitlines()
    assert higher[-1] == "pre_event =~ plans + reserves + warning + training"
    assert higher[0] == "plans =~ PL1 + PL2 + PL3 + PL4"
    with pytest.raises(gs.UnknownItemError, match="not a construct"):
        inst.cfa_model(["nonsense"])


def test_codebook(inst):
    cb = inst.codebook("en")
    assert cb.loc["RS4", "reverse"]
    assert cb.loc["RS1", "construct_label"] == "Emergency material reserves"
    assert cb.loc["gender", "labels"] == "1=Male; 2=Female"
    with pytest.raises(gs.UnknownItemError, match="Language 'fr'"):
        inst.codebook("fr")


@pytest.mark.parametrize(
    "old, new, pattern",
    [
        # unknown scale
        ("    scale: agree5\n    items:", "    scale: agree7\n    items:", r"line 19 .*scale 'agree7' is not defined.*Fix: define it"),
        # duplicate item id
        ("{id: A2, text: {zh: 题二", "{id: A1, text: {zh: 题二", r"line 20 .*id 'A1' is used twice.*Fix: give every"),
        # missing language
        ("{id: A2, text: {zh: 题二, en: Item two}}", "{id: A2, text: {zh: 题二}}",
         r"line 20 \(constructs.a.items\[1\].text\): item 'A2' has no text in language 'en'.*Fix: add en:"),
        # unknown top-level key
        ("title: {zh", "titel: x\ntitle: {zh", r"line 4 .*unknown top-level key 'titel'.*check the spelling"),
        # missing scale labels for a language
        ("      en: {1: Strongly disagree, 2: Disagree, 3: Neutral, 4: Agree, 5: Strongly agree}\n", "",
         r"scale 'agree5' has no labels in language 'en'"),
        # unknown parent
        ("    scale: agree5\n    items:", "    parent: nowhere\n    scale: agree5\n    items:", r"parent 'nowhere' is not a construct"),
        # label outside the range
        ("5: 非常同意}", "5: 非常同意, 7: 超级同意}", r"label code 7 is outside 1–5"),
        # missing code inside the range
        ("missing: [99]", "missing: [3]", r"missing code 3 lies inside the valid range"),
    ],
)
def test_bad_instruments_name_problem_line_and_fix(write_yaml, old, new, pattern):
    assert old in MINIMAL
    path = write_yaml(MINIMAL.replace(old, new, 1))
    with pytest.raises(gs.InstrumentError) as info:
        gs.load_instrument(path)
    message = str(info.value)
    assert str(path.name) in message
    assert re.search(pattern, message, re.S), message


def test_reverse_key_on_non_likert_item(write_yaml):
    body = MINIMAL + """
  - id: note
    type: text
    reverse: true
    text: {zh: 备注, en: Note}
"""
    with pytest.raises(gs.InstrumentError, match=r"line 32 \(demographics\[1\].reverse\): a demographic question cannot be reverse-keyed"):
        gs.load_instrument(write_yaml(body))
    nominal = MINIMAL.replace("    missing: [99]\n", "    missing: [99]\n  kind:\n    type: nominal\n    labels: {zh: {1: 甲, 2: 乙}, en: {1: x, 2: y}}\n")
    nominal = nominal.replace("{id: A3, text: {zh: 题三, en: Item three}, reverse: true}",
                              "{id: A3, text: {zh: 题三, en: Item three}, reverse: true, scale: kind}")
    with pytest.raises(gs.InstrumentError, match=r"reverse-keyed but its scale 'kind' is nominal, which has no order.*Fix: remove reverse"):
        gs.load_instrument(write_yaml(nominal))


def test_every_problem_is_reported_at_once(write_yaml):
    body = MINIMAL.replace("{id: A2, text: {zh: 题二, en: Item two}}", "{id: A1, text: {zh: 题二}}")
    body = body.replace("    scale: agree5\n    items:", "    scale: agree9\n    items:")
    with pytest.raises(gs.InstrumentError) as info:
        gs.load_instrument(write_yaml(body))
    assert "3 problems" in str(info.value)


def test_yaml_syntax_error_and_duplicate_key(write_yaml):
    with pytest.raises(gs.InstrumentError, match=r"line \d+, column \d+ is not valid YAML"):
        gs.load_instrument(write_yaml(MINIMAL.replace("title: {zh: 小问卷, en: Mini}", "title: {zh: 小问卷, en: Mini")))
    with pytest.raises(gs.InstrumentError, match=r"key 'version' appears twice"):
        gs.load_instrument(write_yaml(MINIMAL.replace('version: "1"', 'version: "1"\nversion: "2"')))


def test_construct_cycle_and_missing_include(write_yaml):
    body = MINIMAL.replace("  a:\n    label: {zh: 甲, en: A}\n", "  top:\n    label: {zh: 顶, en: Top}\n    parent: a\n  a:\n    label: {zh: 甲, en: A}\n    parent: top\n")
    with pytest.raises(gs.InstrumentError, match="cycle"):
        gs.load_instrument(write_yaml(body))
    with pytest.raises(gs.InstrumentError, match=r"file 'nope.yaml' does not exist"):
        gs.load_instrument(write_yaml(MINIMAL + "include: [nope.yaml]\n"))


def test_missing_file_and_wrong_type(tmp_path):
    with pytest.raises(gs.InputFileNotFoundError, match="does not exist"):
        gs.load_instrument(tmp_path / "none.yaml")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(gs.InstrumentError, match="not supported"):
        gs.load_instrument(tmp_path / "x.json")


def test_errors_inherit_builtins():
    assert issubclass(gs.UnknownItemError, KeyError)
    assert issubclass(gs.InstrumentError, ValueError)
    assert issubclass(gs.EncodingDetectionError, UnicodeError)
    assert issubclass(gs.InputFileNotFoundError, FileNotFoundError)
    assert str(gs.UnknownItemError("plain message")) == "plain message"


def test_xlsform_round_trip(inst, tmp_path):
    path = inst.to_xlsform(tmp_path / "form.xlsx")
    back = gs.load_instrument(path)
    assert back.items == inst.items
    assert back.demographics == inst.demographics
    assert dict(back.scales) == dict(inst.scales)
    assert dict(back.constructs) == dict(inst.constructs)
    assert back.cfa_model() == inst.cfa_model()
    assert back.title == inst.title and back.notice == inst.notice


def test_xlsform_sheets_follow_the_standard(inst, tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(inst.to_xlsform(tmp_path / "form.xlsx"))
    survey = [r for r in wb["survey"].iter_rows(values_only=True)]
    header = survey[0]
    assert header[:4] == ("type", "name", "label::zh", "label::en")
    types = [r[0] for r in survey[1:]]
    assert "select_one agree5" in types and "begin_group" in types and "end_group" in types
    choices = list(wb["choices"].iter_rows(values_only=True))
    assert choices[0][:4] == ("list_name", "name", "label::zh", "label::en")
    assert ("agree5", 1, "非常不同意", "Strongly disagree") in [c[:4] for c in choices]


def test_plain_xlsform_from_another_tool(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    for row in [("type", "name", "label::zh", "label::en"),
                ("begin_group", "trust", "信任", "Trust"),
                ("select_one agree", "t1", "我信任社区", "I trust the community"),
                ("select_one agree", "t2", "社区公正", "The community is fair"),
                ("end_group", None, None, None),
                ("select_one sex", "sex", "性别", "Sex"),
                ("integer", "age", "年龄", "Age"),
                ("note", "n1", "谢谢", "Thanks")]:
        ws.append(row)
    wc = wb.create_sheet("choices")
    wc.append(("list_name", "name", "label::zh", "label::en"))
    for k, (zh, en) in enumerate([("不同意", "Disagree"), ("一般", "Neutral"), ("同意", "Agree")], start=1):
        wc.append(("agree", k, zh, en))
    wc.append(("sex", 1, "男", "Male"))
    wc.append(("sex", 2, "女", "Female"))
    ws2 = wb.create_sheet("settings")
    ws2.append(("form_title", "form_id", "version"))
    ws2.append(("信任问卷", "trust_form", "3"))
    wb.save(tmp_path / "other.xlsx")
    inst = gs.load_instrument(tmp_path / "other.xlsx")
    assert inst.items_of("trust") == ["t1", "t2"]
    assert inst.scales["agree"].type == "likert" and inst.scales["sex"].type == "nominal"
    assert [q.id for q in inst.demographics] == ["sex", "age"]


def test_xlsform_missing_label_names_row(tmp_path, inst):
    from openpyxl import load_workbook

    path = inst.to_xlsform(tmp_path / "form.xlsx")
    wb = load_workbook(path)
    ws = wb["survey"]
    ws.cell(row=4, column=4).value = None  # the English label of the first item
    wb.save(path)
    with pytest.raises(gs.InstrumentError, match=r"row 4 .*has no text in language 'en'"):
        gs.load_instrument(path)


def test_instrument_repr_is_deterministic(inst):
    assert repr(inst) == repr(gs.load_instrument(gs.datasets.instrument_path("community_phe_survey")))
    assert "<table" in inst._repr_html_()


def test_texts_in_undeclared_languages_and_comma_cut_texts_are_problems(write_yaml):
    """{en: Overall, how satisfied ...} in a flow mapping is cut at the comma by YAML: the text
    would silently lose everything after it; a typo in a language key would drop the text."""
    body = MINIMAL.replace("{zh: 题一, en: Item one}", "{zh: 题一, en: Overall, how satisfied are you}").replace(
        "{zh: 题二, en: Item two}", "{zh: 题二, eng: Item two}")
    with pytest.raises(gs.InstrumentError) as err:
        gs.load_instrument(write_yaml(body))
    text = str(err.value)
    assert "a comma inside {...} cut the text before 'how satisfied are you'" in text and 'put the text in quotes' in text
    assert "has text in 'eng', which is not one of the instrument's languages (zh, en). Fix: did you mean 'en'?" in text
