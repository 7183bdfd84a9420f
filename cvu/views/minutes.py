from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..minutes import reunion_request_pdf
from ..models import Reunion


def _get(request: HttpRequest, pk: int) -> Reunion:
    return get_object_or_404(Reunion.objects.visible_to(request.user), pk=pk)


def _fragment(request: HttpRequest, reunion: Reunion) -> HttpResponse:
    can_edit = Reunion.objects.editable_by(request.user).filter(pk=reunion.pk).exists()
    return render(
        request, "cvu/includes/_reunion_pdf.html", {"reunion": reunion, "can_edit": can_edit}
    )


@require_POST
def build(request: HttpRequest, pk: int) -> HttpResponse:
    reunion = _get(request, pk)
    if not Reunion.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("Seul l'organisateur produit le compte rendu.")
    reunion_request_pdf(reunion=reunion)
    if request.htmx:
        return _fragment(request, reunion)
    messages.success(request, "Le compte rendu PDF est en préparation.")
    return redirect(reunion)


def status(request: HttpRequest, pk: int) -> HttpResponse:
    return _fragment(request, _get(request, pk))


def download(request: HttpRequest, pk: int) -> FileResponse:
    reunion = _get(request, pk)
    if not reunion.cr_pdf:
        raise Http404("Le compte rendu PDF n'a pas encore été produit.")
    filename = f"compte-rendu-{reunion.debut:%Y-%m-%d}.pdf"
    return FileResponse(
        reunion.cr_pdf.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/pdf",
    )
