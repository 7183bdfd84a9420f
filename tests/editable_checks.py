"""An editable document (.docx) holds the text of the PDF built from the same template."""

import io
import re
import subprocess
from collections import Counter

from docx import Document
from docx.oxml.ns import qn

WORD = re.compile(r"\w+(?:['’]\w+)*")
# The PDF's page numbers ("page 2 sur 3") have no counterpart in the editable document.
TEXT = (qn("w:t"), qn("w:br"))  # text and line breaks, in order
PAGE_NUMBERS = re.compile(r"\bpage \d+ sur \d+\b")


def _words(text: str) -> list[str]:
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    return WORD.findall(PAGE_NUMBERS.sub(" ", text))


def docx_parts(content: bytes) -> tuple[str, str]:
    """The body's text (each paragraph, table cells included, in document order) and the text
    of the header and footer, read back with python-docx."""
    document = Document(io.BytesIO(content))
    paragraphs = [
        "".join(node.text or "" if node.tag == qn("w:t") else "\n" for node in p.iter(*TEXT))
        for p in document.element.body.iter(qn("w:p"))
    ]
    section = document.sections[0]
    running = [p.text for p in (*section.header.paragraphs, *section.footer.paragraphs)]
    return "\n".join(paragraphs), "\n".join(running)


def pdf_words(content: bytes) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return _words(text)


def assert_same_text(pdf: bytes, docx: bytes) -> None:
    """Every word of the document's body is in the PDF as many times (whose pages also repeat
    the running header and footer), and the PDF has no word the document lacks. Word order is
    not compared: pdftotext reads table cells that wrap over several lines out of order."""
    body, running = docx_parts(docx)
    in_pdf, in_docx = Counter(pdf_words(pdf)), Counter(_words(body))
    assert in_docx, "document modifiable vide"
    missing = in_docx - in_pdf
    assert not missing, f"texte du .docx absent du PDF : {sorted(missing.elements())[:12]}"
    # Numbers alone may be the page numbers of a table of contents (target-counter), which the
    # word processor computes itself.
    extra = {w for w in set(in_pdf) - set(in_docx) - set(_words(running)) if not w.isdigit()}
    assert not extra, f"texte du PDF absent du .docx : {sorted(extra)[:12]}"
