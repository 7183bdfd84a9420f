"""The one PDF helper: a Django template rendered by WeasyPrint, without any network access."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class LocalStaticFetcher(URLFetcher):
    """Serves /static/ files from disk and data: URLs; refuses everything else."""

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"})

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        marker = "/static/"
        if url.startswith("file:") and marker in url:
            relative = url.split(marker, 1)[1].split("?")[0]
            path = finders.find(relative) or (
                Path(settings.STATIC_ROOT) / relative if settings.STATIC_ROOT else None
            )
            if path and Path(path).is_file() and ".." not in relative:
                content_type = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, Path(path).read_bytes(), {"Content-Type": content_type}
                )
        raise ValueError(f"Ressource refusée dans un PDF : {url}")


def render_pdf(template_name: str, context: dict) -> bytes:
    html = render_to_string(template_name, context)
    return HTML(string=html, base_url="file:///", url_fetcher=LocalStaticFetcher()).write_pdf()
