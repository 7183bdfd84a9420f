"""Big list exports, built by the worker as generated files (the reports' mechanism).

`core.exports.export_response` hands an export of more than EXPORT_ASYNC_THRESHOLD rows to
`queue_export`: it records a Rapport of type « export » holding the list's path and query
string, queues it like a PDF report and sends the user to its page, which shows the progress
and then the download link. The worker (`build_export`) calls the same list view again, as the
same user and with the same filters, inside `core.exports.building`, so the file has exactly the
rows the immediate export would have had.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import resolve
from django_htmx.middleware import HtmxDetails

from core import exports

from .models import Rapport

LABELS = {"csv": "CSV", "xlsx": "Excel"}


def queue_export(request: HttpRequest, *, fmt: str, filename: str, total: int) -> HttpResponse:
    from . import rapports  # rapports imports this module

    query = request.GET.copy()
    query["export"] = fmt
    query.pop("page", None)
    rapport = rapports.rapport_request(
        type=Rapport.Type.EXPORT,
        titre=f"Export {LABELS[fmt]} « {filename} » ({total} lignes)",
        parametres={
            "chemin": request.path,
            "requete": query.urlencode(),
            "format": fmt,
            "nom": filename,
            "lignes": total,
        },
        user=request.user,
    )
    messages.info(
        request,
        f"{total} lignes : l'export est préparé en arrière-plan. Le lien de téléchargement "
        "apparaîtra sur cette page, que vous pouvez quitter et retrouver dans « Rapports ».",
    )
    return redirect(rapport)


def build_export(rapport: Rapport) -> tuple[bytes, str]:
    """The file of a queued export and its name, made by the list view itself."""
    parametres = rapport.parametres
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = parametres["chemin"]
    request.GET = QueryDict(parametres["requete"])
    request.META = {"REQUEST_METHOD": "GET", "QUERY_STRING": parametres["requete"]}
    request.user = rapport.demande_par
    request.htmx = HtmxDetails(request)
    match = resolve(parametres["chemin"])

    def progress(done: int) -> None:
        Rapport.objects.filter(pk=rapport.pk).update(progression=done)

    with exports.building(progress):
        response = match.func(request, *match.args, **match.kwargs)
    disposition = response.get("Content-Disposition", "")
    if response.status_code != 200 or not disposition.startswith("attachment"):
        raise ValueError(f"la liste a répondu {response.status_code} au lieu d'un fichier")
    name = disposition.split('filename="', 1)[1].rstrip('"')
    return response.content, name
