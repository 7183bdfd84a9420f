from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.views import stored_file

from .. import conventions, services
from ..forms import DocumentForm
from ..models import Document
from .actions import _get_action


def _get_document(request: HttpRequest, pk: int, *, write: bool = False) -> Document:
    document = get_object_or_404(Document.objects.select_related("action"), pk=pk)
    _get_action(request, document.action_id, write=write)  # 404 / 403 like its action
    return document


@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    action = _get_action(request, pk, write=True)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["fichier"]
        try:
            content_type = services.check_upload(upload, max_size=form.max_size)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            services.document_add(
                action=action, upload=upload, user=request.user, content_type=content_type
            )
            messages.success(request, f"Document « {upload.name} » ajouté.")
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect(f"{action.get_absolute_url()}#documents")


def document_download(request: HttpRequest, pk: int) -> FileResponse:
    document = _get_document(request, pk)
    return stored_file(
        document.fichier,
        name=document.nom,
        content_type=document.content_type,
        missing=f"Le fichier du document « {document.nom} » est introuvable : déposez-le à "
        "nouveau.",
    )


@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    document = _get_document(request, pk, write=True)
    if conventions.holds(document):
        messages.error(
            request,
            f"« {document.nom} » est la convention du dossier ou son exemplaire signé : il reste "
            "au dossier.",
        )
        return redirect(f"{document.action.get_absolute_url()}#documents")
    if request.method == "POST":
        services.document_delete(document=document)
        messages.success(request, f"Document « {document.nom} » supprimé.")
        return redirect(f"{document.action.get_absolute_url()}#documents")
    return render(request, "cvu/document_confirm_delete.html", {"document": document})
