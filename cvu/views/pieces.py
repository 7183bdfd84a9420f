"""The porteur's administrative pieces: upload, download, delete."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.views import stored_file

from .. import pieces, rights, services
from ..forms_pieces import PieceForm
from ..models import Organisation, PieceOrganisation


def _get_piece(request: HttpRequest, pk: int, *, write: bool = False) -> PieceOrganisation:
    return rights.get_visible(
        request.user, PieceOrganisation.objects.select_related("organisation"), pk, write=write
    )


def _section_url(organisation: Organisation) -> str:
    return f"{organisation.get_absolute_url()}#pieces"


@require_POST
def piece_upload(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = rights.get_visible(request.user, Organisation.objects, pk, write=True)
    form = PieceForm(
        request.POST, request.FILES, instance=PieceOrganisation(organisation=organisation)
    )
    if form.is_valid():
        upload = form.cleaned_data["fichier"]
        try:
            content_type = services.check_upload(upload, max_size=form.max_size)
            piece = pieces.piece_add(
                organisation=organisation,
                upload=upload,
                user=request.user,
                content_type=content_type,
                type=form.cleaned_data["type"],
                date_piece=form.cleaned_data["date_piece"],
                date_expiration=form.cleaned_data["date_expiration"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"Pièce « {piece.get_type_display()} » ajoutée ({piece.nom})."
            )
    else:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label} : {' '.join(errors)}" if label else " ".join(errors))
    return redirect(_section_url(organisation))


def piece_download(request: HttpRequest, pk: int) -> FileResponse:
    piece = _get_piece(request, pk)
    return stored_file(
        piece.fichier,
        name=piece.nom,
        content_type=piece.content_type,
        missing=f"Le fichier de la pièce « {piece.nom} » est introuvable : déposez-le à nouveau.",
    )


@require_http_methods(["GET", "POST"])
def piece_delete(request: HttpRequest, pk: int) -> HttpResponse:
    piece = _get_piece(request, pk, write=True)
    if request.method == "POST":
        pieces.piece_delete(piece=piece, user=request.user)
        messages.success(request, f"Pièce « {piece.get_type_display()} » ({piece.nom}) supprimée.")
        return redirect(_section_url(piece.organisation))
    return render(request, "cvu/piece_confirm_delete.html", {"piece": piece})
