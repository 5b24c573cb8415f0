"""PDF through WeasyPrint from the same HTML, typeset for print (A4, page numbers, CJK font)."""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
from pathlib import Path

from govsurvey.data.files import write_atomic
from govsurvey.errors import ReportError
from govsurvey.report import fonts

__all__ = ["write_pdf", "pdf_unavailable"]

log = logging.getLogger(__name__)


def _refuse(url: str) -> ReportError:
    return ReportError(f"The report tried to fetch {url!r}; reports never load external resources.")


def _inline_only_fetcher():
    """A URL fetcher for WeasyPrint that resolves only ``data:`` URIs — the PNG tiles matplotlib
    embeds in SVG heatmaps and colour bars — and refuses everything else (no network, no files).

    Refusing ``data:`` too (as an earlier version did) made WeasyPrint log "Failed to render SVG
    image" and leave those figures' images out of the PDF."""
    import weasyprint

    if hasattr(weasyprint, "URLFetcher"):          # WeasyPrint's fetcher class (newer releases)
        class InlineOnly(weasyprint.URLFetcher):
            def fetch(self, url, headers=None):
                if not url.startswith("data:"):
                    raise _refuse(url)
                return super().fetch(url, headers)

        return InlineOnly(allowed_protocols={"data"})

    def fetch(url: str, *args, **kwargs):         # older releases: a function
        if not url.startswith("data:"):
            raise _refuse(url)
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch


def pdf_unavailable() -> str | None:
    """Why a PDF cannot be made on this machine (a message ending in a fix), or ``None`` when it can:
    WeasyPrint with its Pango library, and a CJK font (:func:`govsurvey.report.fonts.cjk_font`)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: Pango/fontconfig libraries missing
        return (f"PDF output needs WeasyPrint and the Pango library ({exc}). Fix: run the project's set-up (bash scripts/dev example), "
                "which installs them, or drop 'pdf' from formats.")
    font = fonts.cjk_font()
    if font is None or (font.source != "fontconfig" and shutil.which("fc-list")):
        # WeasyPrint finds fonts through fontconfig: a font only matplotlib knows is no use to it
        return f"No CJK font is installed, so Chinese text cannot be typeset. Fix: {fonts.INSTALL_HINT}, then run again."
    return None


def write_pdf(results, path: str | Path) -> Path:
    """The report as a PDF at ``path`` (written atomically: nothing is left half-written).

    Raises :class:`~govsurvey.errors.ReportError` when WeasyPrint or a CJK font is missing
    (see :func:`pdf_unavailable`). WeasyPrint's warnings go to the log, not the terminal
    (see :func:`_weasyprint_to_log`)."""
    reason = pdf_unavailable()
    if reason is not None:
        raise ReportError(reason)
    import weasyprint

    from govsurvey.report.html import render_report

    html = render_report(results, media="print")
    with _weasyprint_to_log():
        document = weasyprint.HTML(string=html, url_fetcher=_inline_only_fetcher(), media_type="print")
        return write_atomic(path, lambda p: document.write_pdf(str(p), uncompressed_pdf=False))


class _HoldWarnings(logging.Filter):
    """Keeps WeasyPrint's warnings back (they are counted and logged by govsurvey at INFO/DEBUG);
    its errors pass on to the usual handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        self.held.append(record)
        return False


@contextlib.contextmanager
def _weasyprint_to_log():
    """WeasyPrint logs a warning for every SVG presentation attribute it ignores (~850 lines per
    report: "Ignored `fill: #ffffff` at 1:1, unknown property."). They go to govsurvey's log
    instead of the terminal: one line per kind of warning with its count at INFO (``govsurvey
    run -v``), every warning at DEBUG (``-vv``). Errors (an image that failed) pass unchanged."""
    logger = logging.getLogger("weasyprint")
    hold = _HoldWarnings()
    logger.addFilter(hold)
    try:
        yield
    finally:
        logger.removeFilter(hold)
        _log_held(hold.held)


def _log_held(records: list[logging.LogRecord]) -> None:
    if not records:
        return
    kinds: dict[str, list[str]] = {}
    for r in records:
        message = r.getMessage()
        kind = re.sub(r" at \d+:\d+", "", re.sub(r"`([\w-]+):[^`]*`", r"`\1: …`", message))   # by property
        kinds.setdefault(kind, []).append(message)
        log.debug("WeasyPrint: %s", message)
    log.info("WeasyPrint: %d warning(s) while typesetting the PDF (harmless unless the PDF looks wrong):", len(records))
    for n, (kind, messages) in enumerate(sorted(kinds.items(), key=lambda kv: -len(kv[1]))):
        if n == 8:
            log.info("  … %d more kinds (govsurvey run -vv lists every warning).", len(kinds) - n)
            break
        log.info("  %5d × %s", len(messages), kind)
