"""Layout of the printed and the on-screen report, checked on the rendered output.

PDF: the words and their boxes come from Poppler's ``pdftotext -bbox-layout`` and the ink from
``pdftoppm`` (pdfplumber and PyMuPDF are not dependencies); every check is skipped when Poppler
is absent. HTML: measured in headless Chromium (skipped when it is absent).

The facts checked: no text beyond a page's margins (no table wider than the page, no column
lost); every "表 N" caption on the page where its table starts, every "图 N" caption on the
page of its figure; no page less than 15 % filled except the last page of a chapter; a table
too wide for portrait set on an A4 landscape page; no HTML table wider than its container.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import itertools
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_report import EXAMPLE, _chromium, _spec

import govsurvey as gs
from govsurvey.study import Study

pytestmark = pytest.mark.slow          # full study runs / report rendering: `-m "not slow"` skips them

MM = 72 / 25.4                     # points per millimetre
SIDE_MARGIN = 15 * MM              # the template's @page margins (left and right, portrait and landscape)
FOOTER = 20 * MM                   # bottom margin, where the page number sits
SLACK = 1.5                        # pt
MIN_FILL = 0.15
DPI = 36

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                   reason="Poppler's pdftotext/pdftoppm are not installed (bash scripts/dev test installs them)")


@dataclasses.dataclass
class Row:
    """Words on one baseline of a page (pdftotext splits a line at wide spaces; rows rejoin them)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclasses.dataclass
class Page:
    number: int
    width: float
    height: float
    rows: list[Row]
    ink: list[float]               # y (pt) of every pixel row with ink, top to bottom

    def body_rows(self) -> list[Row]:
        """Rows above the footer (the page number)."""
        return [r for r in self.rows if r.y0 < self.height - FOOTER + 2]


# ------------------------------------------------------------------ reading the PDF
def _rows(page_el) -> list[Row]:
    words = [(float(w.get("yMin")), float(w.get("xMin")), float(w.get("xMax")), float(w.get("yMax")), w.text or "")
             for w in page_el.iter() if w.tag.endswith("word")]
    rows: list[list] = []
    for w in sorted(words):
        if rows and abs(rows[-1][0][0] - w[0]) < 1.5:
            rows[-1].append(w)
        else:
            rows.append([w])
    out = []
    for r in rows:
        r.sort(key=lambda w: w[1])
        out.append(Row(x0=r[0][1], y0=min(w[0] for w in r), x1=max(w[2] for w in r), y1=max(w[3] for w in r),
                       text=" ".join(w[4] for w in r)))
    return out


def _ink_rows(png: Path, height_pt: float) -> list[float]:
    from PIL import Image

    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    scale = height_pt / height
    return [y * scale for y in range(height) if sum(pixels[x, y] < 200 for x in range(0, width, 2)) >= 2]


def read_pdf(pdf: Path, work: Path) -> list[Page]:
    box = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    root = ET.fromstring(box)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(work / "p")], check=True)
    images = sorted(work.glob("p-*.png"))
    pages = [el for el in root.iter() if el.tag.endswith("page")]
    assert len(images) == len(pages)
    return [Page(number=k + 1, width=float(el.get("width")), height=float(el.get("height")), rows=_rows(el),
                 ink=_ink_rows(img, float(el.get("height")))) for k, (el, img) in enumerate(zip(pages, images))]


def find_caption(pages: list[Page], word: str, number: int, text: str) -> tuple[Page, Row]:
    """The page and row of caption "<word> <number>　<text>" (matched on its first characters)."""
    start = re.sub(r"\s+", "", text)[:6]
    for page in pages:
        for row in page.rows:
            if re.sub(r"\s+", "", row.text).startswith(f"{word}{number}{start}"):
                return page, row
    raise AssertionError(f"caption {word} {number} {text!r} not found in the PDF")


def captions(html_text: str, kind: str) -> list[tuple[int, str]]:
    """(number, caption) of every table ("caption") or figure ("figcaption") in the report's HTML."""
    pattern = (r'<p class="caption"[^>]*>(?:表|Table) (\d+)　(.*?)</p>' if kind == "table"
               else r"<figcaption>(?:图|Figure) (\d+)　(.*?)</figcaption>")
    return [(int(n), html_lib.unescape(t)) for n, t in re.findall(pattern, html_text, flags=re.DOTALL)]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The example-like report (as tests/test_report.py builds it), PDF and HTML only."""
    folder = tmp_path_factory.mktemp("layout")
    spec = _spec(folder, instrument=gs.datasets.instrument_path("community_phe_survey"), data=EXAMPLE / "wjx_text_export.xlsx",
                 formats=("html", "pdf"), n_boot=100)
    paths = Study.from_yaml(spec).run().write(folder / "out")
    return paths, folder


@pytest.fixture(scope="module")
def pdf_pages(built):
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("Poppler's pdftotext/pdftoppm are not installed (bash scripts/dev test installs them)")
    paths, folder = built
    work = folder / "pages"
    work.mkdir()
    return read_pdf(paths["pdf"], work)


@pytest.fixture(scope="module")
def report_html(built) -> str:
    return built[0]["html"].read_text(encoding="utf-8")


# ------------------------------------------------------------------ PDF checks
def check_margins(pages: list[Page]) -> None:
    for page in pages:
        outside = [r.text for r in page.rows if r.x1 > page.width - SIDE_MARGIN + SLACK or r.x0 < SIDE_MARGIN - SLACK]
        assert not outside, f"page {page.number}: text beyond the margins (a table wider than the page?): {outside[:3]}"


@needs_poppler
def test_no_text_beyond_the_margins(pdf_pages):
    check_margins(pdf_pages)


@needs_poppler
def test_table_captions_are_on_the_page_where_the_table_starts(pdf_pages, report_html):
    tables = captions(report_html, "table")
    assert len(tables) >= 10
    for number, text in tables:
        page, cap = find_caption(pdf_pages, "表", number, text)
        below = [r for r in page.body_rows() if r.y0 > cap.y1 - 0.5]
        assert below and below[0].y0 - cap.y1 < 30, f"表 {number} is the last line of page {page.number}: its table starts overleaf"


@needs_poppler
def test_figure_captions_are_on_the_page_of_their_figure(pdf_pages, report_html):
    figures = captions(report_html, "figure")
    assert len(figures) >= 4
    for number, text in figures:
        page, cap = find_caption(pdf_pages, "图", number, text)
        above = [y for y in page.ink if cap.y0 - 40 < y < cap.y0 - 2]
        assert above, f"图 {number} on page {page.number} has no figure above it (figure and caption split)"


def _fill(page: Page) -> float:
    top, bottom = 15 * MM, page.height - FOOTER
    body = [y for y in page.ink if top - 5 < y < bottom]
    return 0.0 if not body else (max(body) - top) / (bottom - top)


@needs_poppler
def test_no_nearly_empty_page_except_at_a_chapter_end(pdf_pages, report_html):
    chapters = [html_lib.unescape(t) for t in re.findall(r'<section id="[^"]+"><h2>(.*?)</h2>', report_html)]
    assert len(chapters) >= 5
    for page, following in itertools.pairwise(pdf_pages):
        if _fill(page) >= MIN_FILL:
            continue
        first = following.body_rows()[0].text.replace(" ", "") if following.body_rows() else ""
        assert any(first.startswith(c.replace(" ", "")) for c in chapters), (
            f"page {page.number} is {_fill(page):.0%} filled and the next page does not start a chapter ({first!r})")


# ------------------------------------------------------------------ a wide table on a landscape page
def _wide_document():
    import pandas as pd

    from govsurvey.report.document import (
        Document,
        Figure,
        Heading,
        Paragraph,
        Section,
        Table,
    )

    cols = ["维度", *(str(k) for k in range(1, 25))]
    wide = pd.DataFrame([[f"维度名称{k}", *(["−.41**"] * 24)] for k in range(12)], columns=cols)
    long = pd.DataFrame({"题项": [f"Q{k}" for k in range(80)], "题目": ["社区在突发事件中能及时发布信息"] * 80, "M": ["3.90"] * 80})

    def fig():
        import matplotlib.pyplot as plt

        f, ax = plt.subplots(figsize=(6, 3))
        ax.plot([0, 1], [0, 1])
        return f

    blocks = [Heading("小节", "h1"), Paragraph("一段说明文字。" * 20), Table("宽表：24 列", wide, "注：仅为版式测试。", 1),
              Paragraph("宽表之后的文字。" * 10), Table("长表：80 行", long, "", 2), Figure("一幅图", fig, 1)]
    return Document(title="版式测试", subtitle="", lang="zh", sections=[Section("s1", "第一章", blocks)])


@needs_poppler
def test_a_table_too_wide_for_portrait_gets_a_landscape_page(built, tmp_path, monkeypatch):
    from govsurvey.report import document
    from govsurvey.report.html import table_layout
    from govsurvey.report.pdf import write_pdf

    doc = _wide_document()
    table = doc.sections[0].blocks[2]
    assert table_layout(list(table.frame.columns), table.frame.to_numpy().tolist())["layout"] == "wide"
    monkeypatch.setattr(document, "build_document", lambda results: doc)
    pdf = write_pdf(None, tmp_path / "wide.pdf")
    pages = read_pdf(pdf, tmp_path)
    check_margins(pages)
    page, cap = find_caption(pages, "表", 1, "宽表：24 列")
    assert page.width > page.height, f"表 1 (24 columns) is on a portrait page ({page.width:.0f} × {page.height:.0f} pt)"
    assert any(r.text.startswith("24") or r.text.endswith("24") for r in page.rows if r.y0 < cap.y1 + 30)
    long_pages = {p.number for p in pages if any(r.text.startswith("Q") for r in p.rows)}
    assert len(long_pages) >= 2 and all(any(r.text.startswith("题项") for r in pages[n - 1].rows) for n in long_pages), \
        "a table over several pages repeats its header row on each"


# ------------------------------------------------------------------ HTML in Chromium
MEASURE = """<script>
window.addEventListener("load", () => {
  const out = [];
  for (const t of document.querySelectorAll("table")) {
    const box = t.parentElement.clientWidth, w = t.getBoundingClientRect().width;
    if (w > box + 1) out.push({table: t.getAttribute("aria-labelledby"), width: w, container: box});
  }
  const page = {scroll: document.documentElement.scrollWidth, window: window.innerWidth};
  document.body.setAttribute("data-layout", JSON.stringify({wide: out, page: page, tables: document.querySelectorAll("table").length}));
});
</script>"""


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (bash scripts/dev test installs it; CI has it)")
@pytest.mark.parametrize("width", [1280, 1024])
def test_no_html_table_is_wider_than_its_container(built, tmp_path, width):
    paths, _ = built
    text = paths["html"].read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)   # let the measuring script run
    page = tmp_path / "measure.html"
    page.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},1600",
           "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()]
    dom = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120).stdout
    found = re.search(r"data-layout=\"(.*?)\"", dom)
    assert found, dom[-500:]
    layout = json.loads(html_lib.unescape(found.group(1)))
    assert layout["tables"] >= 10
    assert not layout["wide"], f"tables wider than their container at {width}px: {layout['wide'][:3]}"
    assert layout["page"]["scroll"] <= layout["page"]["window"], f"the page scrolls sideways at {width}px: {layout['page']}"
