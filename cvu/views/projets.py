"""Projets de quartier: one per QPV of the contract, written by the QPV's chef de projet, shown
with what the data holds for the quartier, and printed as a PDF by the worker."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.formsets import check_counts
from quartiers.models import Qpv

from .. import projets, rights
from ..forms_projets import PrioriteFormSet, ProjetQuartierForm
from ..intentions import current_contrat
from ..models import ContratDeVille, ProjetQuartier


def _scope(request: HttpRequest, contrat_pk: int, qpv_pk: int):
    contrat = get_object_or_404(ContratDeVille.objects.visible_to(request.user), pk=contrat_pk)
    qpv = get_object_or_404(
        Qpv.objects.visible_to(request.user).filter(geographie=contrat.geographie), pk=qpv_pk
    )
    return contrat, qpv


def _may_write(user, qpv) -> bool:
    """The chef de service, or the chef de projet whose sector holds the QPV."""
    return rights.is_manager(user) or rights.may_change(user, qpv)


def projet_list(request: HttpRequest) -> HttpResponse:
    """The QPVs of the current contract (or ?contrat=) and where their projects stand."""
    contrats = ContratDeVille.objects.visible_to(request.user)
    contrat = None
    if request.GET.get("contrat", "").isdigit():
        contrat = contrats.filter(pk=request.GET["contrat"]).first()
    contrat = contrat or current_contrat()
    rows = []
    if contrat is not None:
        written = {
            p.qpv_id: p
            for p in ProjetQuartier.objects.filter(contrat=contrat).prefetch_related("priorites")
        }
        for qpv in (
            Qpv.objects.filter(geographie=contrat.geographie)
            .prefetch_related("communes")
            .order_by("nom")
        ):
            projet = written.get(qpv.pk)
            rows.append(
                {"qpv": qpv, "projet": projet, "nb": len(projet.priorites.all()) if projet else 0}
            )
    context = {"contrat": contrat, "contrats": contrats, "rows": rows}
    return render(request, "cvu/projet_list.html", context)


def projet_quartier(request: HttpRequest, contrat_pk: int, qpv_pk: int) -> HttpResponse:
    contrat, qpv = _scope(request, contrat_pk, qpv_pk)
    context = {**projets.dossier(contrat, qpv), "can_edit": _may_write(request.user, qpv)}
    return render(request, "cvu/projet_quartier.html", context)


@require_http_methods(["GET", "POST"])
def projet_quartier_update(request: HttpRequest, contrat_pk: int, qpv_pk: int) -> HttpResponse:
    contrat, qpv = _scope(request, contrat_pk, qpv_pk)
    rights.require(
        _may_write(request.user, qpv),
        "Le projet de ce quartier est rédigé par son chef de projet ou le chef de service.",
    )
    projet = ProjetQuartier.objects.filter(contrat=contrat, qpv=qpv).first() or ProjetQuartier(
        contrat=contrat, qpv=qpv
    )
    data = request.POST if request.method == "POST" else None
    form = ProjetQuartierForm(data, instance=projet)
    priorites = PrioriteFormSet(
        data, instance=projet, prefix="priorites", form_kwargs={"contrat": contrat}
    )
    check_counts(priorites, can_add=True)
    if data is not None and form.is_valid() and priorites.is_valid():
        with transaction.atomic():
            saved = form.save()
            priorites.instance = saved
            for priorite_form in priorites.forms:
                if priorite_form.has_changed() and not priorite_form.cleaned_data.get("DELETE"):
                    priorite_form.instance.projet = saved
                    priorite_form.instance.full_clean()
            priorites.save()
        messages.success(request, f"Projet de quartier de {qpv.nom} enregistré.")
        return redirect(saved)
    context = {"contrat": contrat, "qpv": qpv, "form": form, "priorites": priorites}
    return render(
        request,
        "cvu/projet_quartier_form.html",
        context,
        status=400 if data is not None else 200,
    )


@require_POST
def projet_quartier_pdf(request: HttpRequest, contrat_pk: int, qpv_pk: int) -> HttpResponse:
    """Queues the "fiche projet de quartier" PDF; the reports page follows its build."""
    from reporting import rapports
    from reporting.models import Rapport

    contrat, qpv = _scope(request, contrat_pk, qpv_pk)
    rapport = rapports.rapport_request(
        type=Rapport.Type.PROJET_QUARTIER,
        titre=f"Projet de quartier – {qpv.nom} ({contrat.nom})",
        parametres={"contrat": contrat.pk, "qpv": qpv.pk},
        user=request.user,
    )
    messages.success(
        request, "La fiche est en préparation : elle s'affiche ici dès qu'elle est prête."
    )
    return redirect(rapport)
