"""Property tests: random bad input gives a result or a GovsurveyError, never a bare crash."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govsurvey as gs

CELL = st.one_of(
    st.integers(-5, 105).map(float), st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -0.0, 2.5]),
    st.sampled_from(["同意", "非常同意", "", " ", "abc", "N/A", "(跳过)", "3"]), st.none(),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def frames(draw):
    n = draw(st.integers(1, 12))
    cols = draw(st.lists(st.sampled_from(["A1", "A2", "A3", "gender", "zz"]), min_size=1, max_size=6))
    data = {f"{c}" if cols.count(c) == 1 else f"{c}": [draw(CELL) for _ in range(n)] for c in cols}
    index = draw(st.one_of(st.just(list(range(1, n + 1))), st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return pd.DataFrame(data, index=index)


def _ok_or_govsurvey_error(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except gs.GovsurveyError as exc:
        assert str(exc) and len(str(exc)) > 20
        return None


@SETTINGS
@given(frame=frames())
def test_read_screen_score_never_crash(mini, frame):
    data = _ok_or_govsurvey_error(lambda: gs.read_responses(frame, mini))
    if data is None:
        return
    res = _ok_or_govsurvey_error(lambda: gs.screen(data, mini, min_block=2))
    if res is not None:
        assert res.flags.shape[0] == data.shape[0]
        assert res.clean.shape[0] + res.excluded.shape[0] == data.shape[0]
    scores = _ok_or_govsurvey_error(lambda: gs.score(data, mini))
    if scores is not None:
        values = scores.to_numpy(dtype=float)
        assert np.all(np.isnan(values) | ((values >= 1) & (values <= 5)))


@SETTINGS
@given(raw=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".xlsx", ".sav", ".parquet", ".dta"]))
def test_random_bytes_in_any_format(mini, tmp_path, raw, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(raw)
    _ok_or_govsurvey_error(lambda: gs.read_responses(path, mini))


@SETTINGS
@given(text=st.text(max_size=300), enc=st.sampled_from(["utf-8", "gbk", "gb18030", "utf-16", "latin-1"]))
def test_random_text_in_odd_encodings(mini, tmp_path, text, enc):
    try:
        raw = ("A1,A2\n" + text).encode(enc)
    except UnicodeEncodeError:
        return
    path = tmp_path / "t.csv"
    path.write_bytes(raw)
    _ok_or_govsurvey_error(lambda: gs.read_responses(path, mini))


MUTATIONS = [
    ("version: \"1\"\n", ""), ("likert", "likret"), ("min: 1", "min: five"), ("max: 5", "max: 1"),
    ("zh: 题一", "zh: [题一]"), ("languages: [zh, en]", "languages: zh"), ("items:", "itemz:"),
    ("reverse: true", "reverse: maybe"), ("type: select_one", "type: radio"), ("id: A2", "id: 2A"),
    ("    scale: agree5\n", ""), ("{id: A1, text: {zh: 题一, en: Item one}}", "- A1"), ("name: mini", "name: [x"),
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4, unique=True))
def test_instrument_mutations_give_instrument_errors(write_yaml, picks):
    from instrument_texts import MINIMAL

    body = MINIMAL
    for old, new in picks:
        body = body.replace(old, new, 1)
    path = write_yaml(body)
    if body == MINIMAL:
        return
    try:
        gs.load_instrument(path)
    except gs.InstrumentError as exc:
        assert path.name in str(exc)
