"""The one PDF helper: a Django template rendered by WeasyPrint, without any network access.

PDF templates extend `pdf/_base.html` (A4 pages, PMA header, "page X sur Y" footer).
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


def _static_prefix() -> str:
    path = urlsplit(settings.STATIC_URL).path
    return "/" + path.strip("/") + "/"


def _static_file(relative: str) -> Path | None:
    """The file behind a static URL: the finders in development and tests, STATIC_ROOT after
    collectstatic (where manifest storage's hashed names live)."""
    if not relative or ".." in Path(relative).parts or relative.startswith("/"):
        return None
    found = finders.find(relative)
    if found:
        return Path(found)
    if settings.STATIC_ROOT:
        root = Path(settings.STATIC_ROOT).resolve()
        path = (root / relative).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    return None


class LocalStaticFetcher(URLFetcher):
    """Serves static files from disk, hands data: and file: URLs to WeasyPrint, refuses the rest.

    A worker thus needs no HTTP to load `{% static %}` stylesheets and images, and a PDF never
    makes a network request, whatever URL ends up in a template.
    """

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"}, timeout=1)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        prefix = _static_prefix()
        if parts.path.startswith(prefix):
            path = _static_file(unquote(parts.path.removeprefix(prefix)))
            if path is None:
                raise ValueError(f"Fichier statique introuvable pour le PDF : {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        if parts.scheme in ("data", "file"):
            return super().fetch(url, headers)
        raise ValueError(f"Ressource refusée dans un PDF (pas d'accès réseau) : {url}")


def html_document(html: str):
    """The laid-out WeasyPrint document of an HTML string (its pages, then its PDF)."""
    return HTML(string=html, base_url="file:///", url_fetcher=LocalStaticFetcher()).render()


def write_pdf(document) -> bytes:
    """A tagged PDF (PDF/UA-1): structure tree, reading order, the title and language of the
    HTML (<title>, <html lang="fr">), so that screen readers can read it; text stays text."""
    return document.write_pdf(pdf_variant="pdf/ua-1")


def html_to_pdf(html: str) -> bytes:
    return write_pdf(html_document(html))


def render_pdf(template_name: str, context: dict) -> bytes:
    """Renders a template to PDF bytes; `produit_le` (now) is added unless given."""
    context = {"produit_le": timezone.localtime(), **context}
    return html_to_pdf(render_to_string(template_name, context))


def html_to_pdf_pages(html: str) -> tuple[bytes, int]:
    """The PDF of an HTML string, with its number of pages."""
    document = html_document(html)
    return write_pdf(document), len(document.pages)
