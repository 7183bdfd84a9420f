"""core.pdf: the one WeasyPrint helper, which resolves static files locally and never goes online."""

import logging
import shutil
import subprocess
import urllib.request
from unittest import mock

import pytest
from django.utils import timezone

from core.pdf import LocalStaticFetcher, html_to_pdf, render_pdf
from tests.pdf_checks import assert_tagged_pdf


def pdf_text(content: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (paquet poppler-utils) est absent : texte du PDF non vérifiable")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def test_render_pdf_gives_a_pdf_with_the_shared_header_and_page_numbers():
    produit_le = timezone.make_aware(timezone.datetime(2026, 3, 2, 9, 30))
    content = render_pdf("pdf/_base.html", {"produit_le": produit_le, "auteur": "Élise Éditrice"})
    assert content.startswith(b"%PDF")
    assert_tagged_pdf(content)
    text = pdf_text(content)
    # The header and footer come from static/css/pdf.css, so the stylesheet was fetched locally.
    assert "Pays de Montbéliard Agglomération – direction cohésion sociale" in text
    assert "Édité le 2 mars 2026 à 09:30" in text
    assert "par Élise Éditrice" in text
    assert "page 1 sur 1" in text


def test_fetcher_serves_static_files_from_disk():
    response = LocalStaticFetcher().fetch("file:///static/css/pdf.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


def test_fetcher_falls_back_to_static_root_for_collected_names(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "pdf.0123abcd.css").write_text("body { color: red; }")
    response = LocalStaticFetcher().fetch("file:///static/css/pdf.0123abcd.css")
    assert response.read() == b"body { color: red; }"


@pytest.mark.parametrize(
    "url",
    [
        "http://exemple.fr/logo.png",
        "https://exemple.fr/style.css",
        "ftp://exemple.fr/fichier.pdf",
        "file:///static/../../etc/passwd",
        "file:///static/css/absent.css",
    ],
)
def test_fetcher_refuses_network_urls_and_unknown_static_files(url):
    with mock.patch.object(urllib.request.OpenerDirector, "open") as network:
        with pytest.raises(ValueError):
            LocalStaticFetcher().fetch(url)
    network.assert_not_called()


def test_fetcher_hands_data_urls_to_weasyprint():
    response = LocalStaticFetcher().fetch("data:text/plain;base64,Qm9uam91cg==")
    assert response.read() == b"Bonjour"


def test_a_network_image_is_skipped_without_any_request(caplog):
    html = '<p>Carte</p><img src="http://exemple.fr/carte.png" alt="carte">'
    with mock.patch.object(urllib.request.OpenerDirector, "open") as network:
        with caplog.at_level(logging.ERROR, logger="weasyprint"):
            content = html_to_pdf(html)
    assert content.startswith(b"%PDF")
    network.assert_not_called()
    assert "Ressource refusée dans un PDF" in caplog.text
