"""Render the example study's report in Chinese and English into reports/gallery/ (HTML, PDF,
DOCX, and the PDF's pages as PNG images when Poppler's pdftoppm is installed), for a
maintainer to look at. Run through `bash scripts/dev gallery`; the folder is not committed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

import govsurvey as gs
from govsurvey.study import Study

ROOT = Path(__file__).resolve().parents[1]


def spec_in(language: str, folder: Path) -> Path:
    """The example spec with absolute paths and the report language set."""
    source = Path(gs.datasets.example_spec_path())
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    base = source.parent
    spec["instrument"] = str((base / spec["instrument"]).resolve())
    spec["data"]["path"] = str((base / spec["data"]["path"]).resolve())
    spec["interviews"] = {k: str((base / v).resolve()) for k, v in spec["interviews"].items()}
    spec["language"] = language
    path = folder / f"spec_{language}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def main() -> int:
    out = ROOT / "reports" / "gallery"
    with tempfile.TemporaryDirectory() as tmp:
        for language in ("zh", "en"):
            target = out / language
            written = Study.from_yaml(spec_in(language, Path(tmp))).run().write(target)
            pdf = written.get("pdf")
            if pdf and shutil.which("pdftoppm"):
                pages = target / "pages"
                shutil.rmtree(pages, ignore_errors=True)
                pages.mkdir()
                subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(pages / "page")], check=True)
            print(f"==> {language}: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
