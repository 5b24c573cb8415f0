"""The bundled example study's spec with only the analyses a test asks for (paths made
absolute, interviews left out), written into a test's folder."""

from __future__ import annotations

from pathlib import Path

import yaml

SOURCE = Path(__file__).resolve().parents[1] / "analyses" / "example.yaml"


def example_spec(folder: Path, analyses: dict, *, language: str | None = None) -> Path:
    spec = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    spec["instrument"] = str((SOURCE.parent / spec["instrument"]).resolve())
    spec["data"]["path"] = str((SOURCE.parent / spec["data"]["path"]).resolve())
    spec.pop("interviews")
    if language is not None:
        spec["language"] = language
    spec["analyses"] = analyses
    path = folder / f"spec_{language or spec.get('language', 'zh')}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path
