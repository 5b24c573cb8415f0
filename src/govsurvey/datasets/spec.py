"""The example study's spec for an installed govsurvey.

The one source of truth is the repository's ``analyses/example.yaml``, whose paths are relative
to ``analyses/`` (``../instruments/…``, ``../src/govsurvey/datasets/example_study/…``). An
installed wheel has neither folder: the instruments are ``govsurvey/bundled_instruments/`` and
the example files ``govsurvey/datasets/example_study/``. The wheel therefore ships
``govsurvey/datasets/example.yaml``, the same spec with those two path prefixes rewritten
(:func:`installed_spec_text`); ``tests/test_packaging.py`` checks the shipped file equals the
rewrite of the current ``analyses/example.yaml`` and that both specs describe the same study.

After editing ``analyses/example.yaml``, regenerate the shipped copy from the repository root::

    python -m govsurvey.datasets.spec
"""

from __future__ import annotations

from pathlib import Path

from govsurvey.errors import InputFileNotFoundError, SpecificationError

__all__ = ["INSTALLED_NAME", "SOURCE_PATH", "installed_spec_text", "write_installed_spec"]

#: The shipped copy, beside this module (``govsurvey/datasets/example.yaml``).
INSTALLED_NAME = "example.yaml"
#: The source of truth, relative to the repository root.
SOURCE_PATH = Path("analyses") / "example.yaml"

#: Path prefixes in ``analyses/example.yaml`` → the same files seen from ``govsurvey/datasets/``.
REWRITES = (("../src/govsurvey/datasets/", ""), ("../instruments/", "../bundled_instruments/"))

HEADER = """\
# GENERATED from the repository's analyses/example.yaml by `python -m govsurvey.datasets.spec`:
# do not edit by hand. Paths are relative to this file in an installed govsurvey
# (govsurvey/datasets/ beside govsurvey/bundled_instruments/); find it with
#   python -c "import govsurvey as gs; print(gs.datasets.example_spec_path())"
"""


def installed_spec_text(source: str) -> str:
    """The text of ``analyses/example.yaml`` with its paths pointing into the installed package.

    The source's leading comment is replaced by a header saying where the copy comes from; every
    other line is kept, with the prefixes in :data:`REWRITES` rewritten. A path the rewrite does
    not cover (``../`` anywhere else) is a :class:`~govsurvey.errors.SpecificationError`, so a
    new input file outside the bundled folders cannot silently break the installed copy.
    """
    lines = source.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    out = []
    for number, line in enumerate(lines, 1):
        for old, new in REWRITES:
            line = line.replace(old, new)
        if "../" in line.replace("../bundled_instruments/", ""):
            raise SpecificationError(
                f"{SOURCE_PATH} line {number} refers to a file outside instruments/ and the example study's "
                f"folder: {line.strip()!r}. Fix: keep the example's inputs in src/govsurvey/datasets/example_study/ "
                "(or instruments/), which the wheel ships."
            )
        out.append(line)
    return HEADER + "".join(out)


def write_installed_spec(root: str | Path | None = None) -> Path:
    """Regenerate ``src/govsurvey/datasets/example.yaml`` from ``<root>/analyses/example.yaml``
    (``root``: the repository, by default the checkout this module lives in)."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[3]
    source = root / SOURCE_PATH
    if not source.is_file():
        raise InputFileNotFoundError(
            f"{source} does not exist. Fix: run this from a source checkout of govsurvey (the installed "
            "package already carries the generated spec)."
        )
    target = Path(__file__).resolve().parent / INSTALLED_NAME
    target.write_text(installed_spec_text(source.read_text(encoding="utf-8")), encoding="utf-8", newline="\n")
    return target


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    print(write_installed_spec())
