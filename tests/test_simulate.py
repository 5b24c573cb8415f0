"""The example-study simulator: determinism and the truth it records."""

from __future__ import annotations

import pandas as pd
import pytest

import govsurvey as gs


def test_same_seed_same_study_different_seed_different_study():
    a = gs.datasets.simulate_study(seed=7, n_clean=120)
    b = gs.datasets.simulate_study(seed=7, n_clean=120)
    c = gs.datasets.simulate_study(seed=8, n_clean=120)
    pd.testing.assert_frame_equal(a["responses"], b["responses"])
    pd.testing.assert_frame_equal(a["segments"], b["segments"])
    assert a["truth"] == b["truth"]
    assert not a["responses"].equals(c["responses"])


def test_truth_describes_the_study(truth):
    assert truth["n_clean"] == 600
    assert truth["n_total"] == 600 + sum(len(v) for v in truth["planted"].values())
    assert len({s["site"] for s in truth["model"]["communities"]}) == 12
    loadings = truth["model"]["item_loadings"]
    assert min(loadings.values()) >= 0.6 and max(loadings.values()) <= 0.85


def test_interviews_are_consistent(files):
    segments = pd.read_csv(files["segments"])
    codebook = pd.read_csv(files["codebook"])
    assert segments["case"].nunique() == 20
    assert set(segments["code"]) <= set(codebook["code"])
    for _, seg in segments.head(40).iterrows():
        text = (files["segments"].parent / "transcripts" / seg["source"]).read_text(encoding="utf-8")
        assert text[seg["start"]:seg["end"]] == seg["text"]
    # barrier codes concentrate where capacity is weak: reserves barriers outnumber facilitators
    reserves = segments[(segments["coder"] == "coder_A") & segments["code"].isin(["物资储备不足", "物资调配及时"])]
    assert (reserves["code"] == "物资储备不足").sum() > (reserves["code"] == "物资调配及时").sum()


@pytest.mark.slow
def test_write_example_study(tmp_path, inst):
    names = gs.datasets.write_example_study(tmp_path, seed=3)
    for path in names.values():
        assert path.exists()
    a = gs.read_responses(names["xlsx"], inst)
    b = gs.read_responses(names["csv"], inst)
    q = [x.id for x in inst.questions]
    pd.testing.assert_frame_equal(a[q], b[q])
