"""PDF through WeasyPrint from the same HTML, typeset for print (A4, page numbers, CJK font)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from govsurvey.data.files import write_atomic
from govsurvey.errors import ReportError

__all__ = ["write_pdf"]


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


def write_pdf(results, path: str | Path) -> Path:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango/fontconfig libraries missing
        raise ReportError(
            f"PDF output needs WeasyPrint and the Pango library ({exc}). Fix: run the project's set-up (bash scripts/dev example), "
            "which installs them, or drop 'pdf' from formats."
        ) from None
    from govsurvey.report.figures import cjk_font_path
    from govsurvey.report.html import render_report

    if cjk_font_path() is None:
        raise ReportError("No CJK font is installed, so Chinese text cannot be typeset. Fix: run bash scripts/dev example, "
                          "which installs fonts-wqy-microhei, or install a Noto CJK font.")
    html = render_report(results, media="print")
    with _quiet_css_warnings():
        document = weasyprint.HTML(string=html, url_fetcher=_inline_only_fetcher(), media_type="print")
        return write_atomic(path, lambda p: document.write_pdf(str(p), uncompressed_pdf=False))


@contextlib.contextmanager
def _quiet_css_warnings():
    """WeasyPrint logs a warning for every SVG presentation attribute it ignores (~1,500 lines
    per report: "Ignored `fill: #ffffff`"); only its errors are worth a user's screen."""
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
