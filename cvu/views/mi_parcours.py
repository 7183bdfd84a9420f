"""The contract's mid-term evaluation: the figures gathered for it, the chef de service's
record (councils' opinions, conclusions, decisions, adoption) and its PDF built by the worker."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import evaluation, rights
from ..forms_evaluation import MiParcoursForm
from ..models import ContratDeVille, EvaluationMiParcours


def _contrat(request: HttpRequest, pk: int) -> ContratDeVille:
    return get_object_or_404(ContratDeVille.objects.visible_to(request.user), pk=pk)


def mi_parcours(request: HttpRequest, pk: int) -> HttpResponse:
    contrat = _contrat(request, pk)
    context = {**evaluation.mi_parcours(contrat), "can_edit": rights.is_manager(request.user)}
    return render(request, "cvu/mi_parcours.html", context)


@require_http_methods(["GET", "POST"])
def mi_parcours_update(request: HttpRequest, pk: int) -> HttpResponse:
    rights.require_manager(request.user)
    contrat = _contrat(request, pk)
    record = EvaluationMiParcours.objects.filter(contrat=contrat).first() or EvaluationMiParcours(
        contrat=contrat, annee=evaluation.default_annee(contrat)
    )
    form = MiParcoursForm(request.POST if request.method == "POST" else None, instance=record)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Évaluation à mi-parcours enregistrée.")
        return redirect("cvu:mi_parcours", pk=contrat.pk)
    return render(
        request,
        "cvu/mi_parcours_form.html",
        {"contrat": contrat, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def mi_parcours_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from reporting import rapports
    from reporting.models import Rapport

    contrat = _contrat(request, pk)
    rapport = rapports.rapport_request(
        type=Rapport.Type.MI_PARCOURS,
        titre=f"Évaluation à mi-parcours – {contrat.nom}",
        parametres={"contrat": contrat.pk},
        user=request.user,
    )
    messages.success(
        request, "Le document est en préparation : il s'affiche ici dès qu'il est prêt."
    )
    return redirect(rapport)
