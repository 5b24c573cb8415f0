"""Outputs are written atomically: an interrupted write leaves the previous file (or nothing),
never half a file, and no temporary file behind."""

from __future__ import annotations

import pytest

from govsurvey.data.files import write_atomic, write_text_atomic


def _interrupted(exc: BaseException):
    def writer(tmp):
        tmp.write_bytes(b"half a rep")          # part of the new content is on disk ...
        raise exc                               # ... when the run dies

    return writer


@pytest.mark.parametrize("exc", [RuntimeError("renderer crashed"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_interrupted_write_keeps_the_old_file(tmp_path, exc):
    target = tmp_path / "report.html"
    target.write_text("<p>the previous report</p>", encoding="utf-8")
    with pytest.raises(type(exc)):
        write_atomic(target, _interrupted(exc))
    assert target.read_text(encoding="utf-8") == "<p>the previous report</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_interrupted_first_write_leaves_nothing(tmp_path):
    target = tmp_path / "out" / "results.json"
    with pytest.raises(RuntimeError):
        write_atomic(target, _interrupted(RuntimeError("boom")))
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []


def test_completed_write_replaces_in_one_step(tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("old", encoding="utf-8")
    write_text_atomic(target, "new,content\n")
    assert target.read_text(encoding="utf-8") == "new,content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


@pytest.mark.parametrize("kind", ["instrument", "study"])
def test_yaml_is_loaded_safely(tmp_path, kind):
    """A YAML tag that would run code under an unsafe loader is refused, and nothing runs."""
    import govsurvey as gs

    marker = tmp_path / "pwned"
    body = f'name: !!python/object/apply:os.system ["touch {marker}"]\n'
    path = tmp_path / f"{kind}.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(gs.GovsurveyError, match=rf"{kind}\.yaml"):
        if kind == "instrument":
            gs.load_instrument(path)
        else:
            gs.Study.from_yaml(path)
    assert not marker.exists()
