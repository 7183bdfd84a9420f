"""Editable documents: what a PDF template renders, written as a Word file (.docx).

The PDF and the editable document come from the same Django template (`pdf/_base.html` and its
children), so they hold the same text in the same order: the HTML is read with lxml and written
through python-docx's API (headings, paragraphs with bold / italic / line breaks, bulleted and
numbered lists, tables with merged cells), the running header and footer of the PDF becoming the
document's header and footer. Agents then correct the document in their word processor
(LibreOffice, Word) before it is final.
"""

import io
import re

from django.template.loader import render_to_string
from django.utils import timezone
from docx import Document
from docx.shared import Cm, Pt
from lxml import html as lxml_html

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
# The PDF's running header and footer (pdf/_base.html), repeated on every page there.
HEADER, FOOTER = {"entete-gauche", "entete-droite"}, {"pied-gauche"}
SKIPPED = {"style", "script", "head", "title", "meta", "link"}
BLOCKS = {
    "p",
    "ul",
    "ol",
    "table",
    "div",
    "section",
    "nav",
    "article",
    "header",
    "footer",
    *HEADINGS,
}
SPACES = re.compile(r"\s+")


def render_docx(template_name: str, context: dict) -> bytes:
    """Renders a PDF template to .docx bytes; `produit_le` (now) is added unless given."""
    context = {"produit_le": timezone.localtime(), **context}
    return html_to_docx(render_to_string(template_name, context))


def html_to_docx(html: str) -> bytes:
    tree = lxml_html.document_fromstring(html)
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4, like the PDFs
    for margin in ("left_margin", "right_margin"):
        setattr(section, margin, Cm(2))
    document.styles["Normal"].font.size = Pt(10)
    document.core_properties.title = (tree.findtext(".//title") or "").strip()
    document.core_properties.language = tree.get("lang", "fr")
    header, footer = [], []
    for element in tree.body:
        classes = set((element.get("class") or "").split())
        if classes & HEADER:
            header.append(_text(element))
        elif classes & FOOTER:
            footer.append(_text(element))
        else:
            _block(document, element, cover=False)
    if header:
        section.header.paragraphs[0].text = " – ".join(header)
    if footer:
        section.footer.paragraphs[0].text = " – ".join(footer)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _text(element) -> str:
    """The element's text on one line, a line break (<br>) becoming a space."""
    for br in element.iter("br"):
        br.tail = " " + (br.tail or "")
    return SPACES.sub(" ", element.text_content()).strip()


def _block(document, element, *, cover: bool) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in SKIPPED or not tag:
        return
    classes = set((element.get("class") or "").split())
    if tag in HEADINGS:
        text = _text(element)
        if text:
            document.add_heading(text, level=0 if cover and tag == "h1" else HEADINGS[tag])
    elif tag in ("ul", "ol"):
        style = "List Bullet" if tag == "ul" else "List Number"
        for item in element.iterchildren("li"):
            _inline(document.add_paragraph(style=style), item)
    elif tag == "table":
        _table(document, element)
    elif tag == "p" or not any(
        isinstance(child.tag, str) and child.tag in BLOCKS for child in element
    ):
        if _text(element):  # a paragraph, or a div holding only text
            paragraph = document.add_paragraph()
            if "decale" in classes:  # the letter's address and signature, on the right
                paragraph.paragraph_format.left_indent = Cm(9)
            _inline(paragraph, element)
    else:  # a container (section, div, nav): its blocks in order
        if element.text and element.text.strip():
            document.add_paragraph(_squash(element.text))
        for child in element:
            _block(document, child, cover=cover or "couverture" in classes)
            if child.tail and child.tail.strip():
                document.add_paragraph(_squash(child.tail))


def _squash(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def _inline(paragraph, element) -> None:
    """The element's text into runs: bold, italic and line breaks kept, spaces collapsed as a
    browser does."""
    pieces: list[tuple[str, bool, bool]] = []  # (text, bold, italic); "\n" is a line break

    def walk(node, bold: bool, italic: bool) -> None:
        if node.text:
            pieces.append((node.text, bold, italic))
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "br":
                pieces.append(("\n", bold, italic))
            elif tag and tag not in SKIPPED:
                walk(child, bold or tag in ("strong", "b", "th"), italic or tag in ("em", "i"))
            if child.tail:
                pieces.append((child.tail, bold, italic))

    walk(element, element.tag == "th", False)
    text_so_far = ""
    for text, bold, italic in pieces:
        if text == "\n":
            paragraph.add_run().add_break()
            text_so_far = ""
            continue
        text = SPACES.sub(" ", text)
        if not text_so_far or text_so_far.endswith(" "):
            text = text.lstrip()
        if not text:
            continue
        run = paragraph.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        text_so_far += text
    if paragraph.runs:  # no trailing space at the end of the paragraph
        last = paragraph.runs[-1]
        last.text = last.text.rstrip()


def _table(document, element) -> None:
    rows = element.xpath(".//tr")
    width = max(
        (sum(int(cell.get("colspan", 1)) for cell in row.xpath("./th|./td")) for row in rows),
        default=0,
    )
    if not width:
        return
    table = document.add_table(rows=0, cols=width)
    table.style = "Table Grid"
    for row in rows:
        cells = table.add_row().cells
        column = 0
        for cell in row.xpath("./th|./td"):
            span = int(cell.get("colspan", 1))
            target = cells[column]
            if span > 1:
                target = target.merge(cells[column + span - 1])
            _inline(target.paragraphs[0], cell)
            column += span
