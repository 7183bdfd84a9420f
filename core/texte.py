"""Formatted free text written by agents (the annual report's chapters): Markdown, the plain-text
convention their word processors and e-mails already know (**gras**, *italique*, lists with
« - » or « 1. », a blank line between paragraphs), turned into HTML by Python-Markdown and
cleaned by nh3 (the maintained HTML sanitiser): only paragraphs, emphasis and lists survive, so
the same HTML is safe on a page, in a PDF and in an editable document (core.editable)."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li"}
AIDE = (
    "Mise en forme : **gras**, *italique*, listes en commençant les lignes par « - » ou « 1. », "
    "une ligne vide entre deux paragraphes."
)


def en_html(texte: str) -> SafeString:
    html = markdown.markdown(texte or "", extensions=["sane_lists", "nl2br"])
    return mark_safe(nh3.clean(html, tags=TAGS, attributes={}))  # noqa: S308 - cleaned by nh3
