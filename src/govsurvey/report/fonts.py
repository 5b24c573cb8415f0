"""Finding a CJK font the way the system finds fonts: fontconfig first, matplotlib's font list after.

WeasyPrint (through Pango) and matplotlib both need a font that has Chinese glyphs. Any such
font will do — WenQuanYi (which the project's set-up installs), Noto Sans CJK, Source Han Sans,
Droid Sans Fallback, SimHei… — so fonts are chosen by what they cover, not by a list of names:

1. ``fc-list :lang=zh`` (fontconfig's own coverage test), in the order ``fc-match :lang=zh``
   would choose when that match covers Chinese, else sans-serif faces before monospaced ones;
2. without fontconfig's tools (Windows, a bare macOS), every font matplotlib knows, kept when
   its character map covers :data:`SAMPLE`.

The answer is cached for the process; :func:`cjk_font.cache_clear` forgets it (after
installing a font).

Examples
--------
>>> from govsurvey.report.fonts import cjk_font
>>> font = cjk_font()
>>> font is None or font.path.exists()
True
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["INSTALL_HINT", "SAMPLE", "FontInfo", "cjk_font", "covers"]

log = logging.getLogger(__name__)

SAMPLE = "中文测试表图"
"""Characters a usable CJK font must have."""

INSTALL_HINT = ("run bash scripts/dev example, which installs fonts-wqy-microhei (or: sudo apt-get install fonts-wqy-microhei; "
                "on other systems install Noto Sans CJK SC)")
"""How to get a CJK font, for messages."""

_PREFERRED = re.compile(r"wenquanyi|wqy|noto sans cjk|noto sans sc|source han sans|sourcehan|microsoft yahei|pingfang|simhei|heiti",
                        re.IGNORECASE)
_FC_FORMAT = "%{file}\t%{family[0]}\t%{index}\t%{style[0]}\n"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FontInfo:
    """An installed font with Chinese glyphs: its file, family name (as CSS and matplotlib
    name it), face index inside a .ttc collection, and which finder found it."""

    path: Path
    family: str
    index: int = 0
    source: str = "fontconfig"

    def __str__(self) -> str:
        return f"{self.family} ({self.path})"


@functools.cache
def cjk_font() -> FontInfo | None:
    """The CJK font reports use, or ``None`` when the system has none (cached)."""
    font = _from_fontconfig() if shutil.which("fc-list") else None
    if font is None:
        font = _from_matplotlib()
    if font is None:
        log.debug("No CJK font found by fontconfig or matplotlib.")
    else:
        log.debug("CJK font: %s, found by %s.", font, font.source)
    return font


def covers(path: str | Path, text: str = SAMPLE, index: int = 0) -> bool:
    """Whether the font file ``path`` (face ``index`` of a collection) has a glyph for every
    character of ``text``; False when the file cannot be read as a font."""
    try:
        from fontTools.ttLib import TTFont  # matplotlib depends on fontTools
    except ImportError:                           # pragma: no cover - kept for a trimmed install
        return _covers_ft2font(path, text)
    try:
        with TTFont(str(path), fontNumber=index, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # noqa: BLE001 - fontTools raises many types for files it cannot parse
        return False
    return all(ord(c) in cmap for c in text)


def _covers_ft2font(path: str | Path, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(c)) for c in text)


def _fc(*args: str) -> list[list[str]]:
    """Rows of a fontconfig query, tab-separated fields ([] when the tool fails)."""
    try:
        run = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split("\t") for line in run.stdout.splitlines() if line.count("\t") == 3]


def _from_fontconfig() -> FontInfo | None:
    """fontconfig's fonts that cover Chinese, its own best match first when that covers it."""
    rows = _fc("fc-list", "--format", _FC_FORMAT, ":lang=zh")
    if not rows:
        return None
    best = _fc("fc-match", "--format", _FC_FORMAT, ":lang=zh")
    best_key = tuple(best[0][:3]) if best else None

    def rank(row: list[str]) -> tuple:
        file, family, _, style = row
        return (tuple(row[:3]) != best_key, "mono" in family.lower(), style.lower() not in ("regular", "book", "medium", ""),
                not _PREFERRED.search(family), family, file)

    for file, family, index, _ in sorted(rows, key=rank):
        face = int(index) if index.isdigit() else 0
        if Path(file).is_file() and covers(file, index=face):
            return FontInfo(path=Path(file), family=family, index=face, source="fontconfig")
    return None


def _from_matplotlib() -> FontInfo | None:
    """A font matplotlib knows whose character map covers :data:`SAMPLE` (likely names first)."""
    try:
        from matplotlib import font_manager
    except ImportError:                           # pragma: no cover - matplotlib is a dependency
        return None
    entries = {(e.fname, e.name) for e in font_manager.fontManager.ttflist}
    ranked = sorted(entries, key=lambda e: (not _PREFERRED.search(e[1]) and not _PREFERRED.search(Path(e[0]).name),
                                            "mono" in e[1].lower(), e[1], e[0]))
    for fname, name in ranked:
        if covers(fname):
            return FontInfo(path=Path(fname), family=name, index=0, source="matplotlib")
    return None
