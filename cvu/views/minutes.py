"""The compte rendu of a meeting: request its build, poll its status, download the PDF or the
editable document built with it."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.editable import CONTENT_TYPE as DOCX
from core.views import stored_file

from ..minutes import etat, reunion_request_pdf
from ..models import Reunion


def _get_reunion(request: HttpRequest, pk: int) -> Reunion:
    return get_object_or_404(Reunion.objects.visible_to(request.user), pk=pk)


def _fragment(request: HttpRequest, reunion: Reunion) -> HttpResponse:
    can_edit = Reunion.objects.editable_by(request.user).filter(pk=reunion.pk).exists()
    return render(
        request,
        "cvu/includes/_reunion_pdf.html",
        {"reunion": reunion, "can_edit": can_edit, **etat(reunion)},
    )


@require_POST
def build(request: HttpRequest, pk: int) -> HttpResponse:
    reunion = _get_reunion(request, pk)
    reunion_request_pdf(reunion=reunion, user=request.user)  # 403 for a read-only user
    if request.htmx:
        return _fragment(request, reunion)
    messages.success(request, "Le compte rendu PDF est en préparation ; il sera bientôt prêt.")
    return redirect(reunion)


@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    return _fragment(request, _get_reunion(request, pk))


@require_GET
def download(request: HttpRequest, pk: int, extension: str = "pdf") -> FileResponse:
    """The compte rendu as a PDF, or as the editable .docx built with it."""
    reunion = _get_reunion(request, pk)
    version = etat(reunion)["compte_rendu_pret"]
    stored = None
    if version is not None:
        stored = version.modifiable if extension == "docx" else version.fichier
    if not stored:
        raise Http404("Le compte rendu n'a pas encore été produit dans ce format.")
    return stored_file(
        stored,
        name=f"compte-rendu-{timezone.localtime(reunion.debut):%Y-%m-%d}.{extension}",
        content_type=DOCX if extension == "docx" else "application/pdf",
        missing="Le fichier du compte rendu est introuvable.",
    )
