"""PDF reports: request one, watch it being built, download it, retry a failure."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.editable import CONTENT_TYPE as DOCX
from core.lists import paginate
from core.views import stored_file
from cvu import rights

from . import rapports
from .forms import REPORT_FORMS, current_contract
from .models import Rapport

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _get(request: HttpRequest, pk: int) -> Rapport:
    """404 for a report the user may not see (someone else's, unless chef de service)."""
    return get_object_or_404(
        Rapport.objects.visible_to(request.user).select_related("demande_par"), pk=pk
    )


def _may_retry(request: HttpRequest, rapport: Rapport) -> bool:
    """The requester or the chef de service; the direction reads others' reports, no more."""
    return rapport.demande_par_id == request.user.pk or request.user.sees_everything_as_manager


def _forms(user, data=None, bound_type: str | None = None) -> dict:
    """One parameter form per report type; only the submitted one is bound."""
    contrat = current_contract()
    year = timezone.localdate().year
    initial = {}
    if contrat is not None:
        annee = min(max(contrat.annee_debut, year), contrat.annee_fin)
        initial["programmation"] = {"contrat": contrat, "annee": annee}
    return {
        key: form_class(
            data if key == bound_type else None, prefix=key, initial=initial.get(key), user=user
        )
        for key, form_class in REPORT_FORMS.items()
    }


@require_http_methods(["GET", "POST"])
def rapport_list(request: HttpRequest) -> HttpResponse:
    """The reports the user asked for (all of them for the chef de service), and a form per
    report type."""
    bound = request.POST.get("type") if request.method == "POST" else None
    if bound is not None and bound not in REPORT_FORMS:
        raise Http404("Type de rapport inconnu.")
    forms = _forms(request.user, request.POST, bound)
    if bound is not None:
        form = forms[bound]
        if form.is_valid():
            titre, parametres = form.describe()
            rapport = rapports.rapport_request(
                type=bound, titre=titre, parametres=parametres, user=request.user
            )
            messages.success(
                request, "Rapport demandé : vous pouvez quitter cette page, il vous attendra ici."
            )
            return redirect(rapport)
    queryset = Rapport.objects.requested_by(request.user).select_related("demande_par")
    page = paginate(request, queryset)
    status = 400 if bound is not None else 200
    return render(
        request,
        "reporting/rapport_list.html",
        {
            "page_obj": page,
            "forms": [
                (key, Rapport.Type(key).label, form, key == (bound or "participation"))
                for key, form in forms.items()
            ],
            "bound": bound,
        },
        status=status,
    )


@require_GET
def rapport_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    template = (
        "reporting/includes/_rapport_statut.html"
        if request.htmx
        else "reporting/rapport_detail.html"
    )
    context = {"rapport": rapport, "can_retry": _may_retry(request, rapport)}
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # a cached fragment never shows as a page
    return response


@require_POST
def rapport_retry(request: HttpRequest, pk: int) -> HttpResponse:
    rapport = _get(request, pk)
    rights.require(
        _may_retry(request, rapport), "Seul le demandeur ou le chef de service relance ce rapport."
    )
    if rapport.retryable:
        rapports.rapport_retry(rapport=rapport)
        messages.success(request, "Le rapport est relancé.")
    else:
        messages.info(request, "Ce rapport n'est pas en échec : rien à relancer.")
    return redirect(rapport)


@require_GET
def rapport_download(request: HttpRequest, pk: int) -> FileResponse:
    rapport = _get(request, pk)
    if rapport.statut != Rapport.Statut.PRET or not rapport.fichier:
        raise Http404("Ce rapport n'est pas encore prêt.")
    if rapport.is_export:
        name = rapport.parametres.get("nom", "export")
        filename = f"{name}-{rapport.created_at:%Y-%m-%d}-{rapport.pk}.{rapport.extension}"
    else:
        filename = f"{rapport.type}-{rapport.created_at:%Y-%m-%d}-{rapport.pk}.pdf"
    return stored_file(
        rapport.fichier,
        name=filename,
        content_type=CONTENT_TYPES[rapport.extension],
        missing="Le fichier de ce rapport a été supprimé : relancez-le.",
    )


@require_GET
def rapport_annexe(request: HttpRequest, pk: int) -> FileResponse:
    """The Excel annex of a big bilan de programmation, to whoever may read the report."""
    rapport = _get(request, pk)
    if rapport.statut != Rapport.Statut.PRET or not rapport.annexe:
        raise Http404("Ce rapport n'a pas d'annexe prête.")
    return stored_file(
        rapport.annexe,
        name=f"{rapport.type}-{rapport.created_at:%Y-%m-%d}-{rapport.pk}-annexe.xlsx",
        content_type=CONTENT_TYPES["xlsx"],
        missing="L'annexe de ce rapport a été supprimée : relancez-le.",
    )


@require_GET
def rapport_modifiable(request: HttpRequest, pk: int) -> FileResponse:
    """The editable document (.docx) built with the PDF, to whoever may read the report."""
    rapport = _get(request, pk)
    if rapport.statut != Rapport.Statut.PRET or not rapport.modifiable:
        raise Http404("Ce rapport n'a pas de version modifiable prête.")
    return stored_file(
        rapport.modifiable,
        name=f"{rapport.type}-{rapport.created_at:%Y-%m-%d}-{rapport.pk}.docx",
        content_type=DOCX,
        missing="La version modifiable de ce rapport a été supprimée : relancez-le.",
    )
