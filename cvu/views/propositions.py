"""Propositions de réorientation: written by a chef de projet, put on an instance's agenda,
closed by the meeting's decision."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exports import FORMATS, export_response
from core.formsets import check_counts
from core.lists import paginate
from quartiers.models import Qpv

from .. import propositions, rights
from ..filters import PropositionFilterSet
from ..forms_gouvernance import (
    DecisionPropositionForm,
    InscriptionForm,
    PropositionForm,
    SuiteFormSet,
)
from ..intentions import current_contrat
from ..models import ContratDeVille, PropositionReorientation, SuiteADonner, ValeurResultat


def _get(request: HttpRequest, pk: int, *, write: bool = False) -> PropositionReorientation:
    return rights.get_visible(
        request.user,
        PropositionReorientation.objects.select_related(
            "contrat",
            "objectif",
            "auteur",
            "decidee_par",
            "point__reunion__instance",
            "decision__reunion__instance",
        ),
        pk,
        write=write,
    )


COLUMNS = [
    ("Objet", lambda p: p.objet),
    ("Auteur", lambda p: str(p.auteur)),
    ("Créée le", lambda p: p.created_at),
    ("Partie de la stratégie", lambda p: str(p.objectif or "")),
    ("Quartiers", lambda p: ", ".join(q.nom for q in p.qpvs.all())),
    ("État", lambda p: p.etat),
    ("Réunion", lambda p: str(p.reunion or "")),
    ("Décision", lambda p: p.decision.texte if p.decision_id else ""),
]


def proposition_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        PropositionReorientation.objects.visible_to(request.user)
        .select_related(
            "objectif", "auteur", "point__reunion__instance", "decision__reunion__instance"
        )
        .prefetch_related(Prefetch("qpvs", queryset=Qpv.objects.order_by("nom")))
    )
    filterset = PropositionFilterSet(request.GET, queryset=queryset)
    if request.GET.get("export") in FORMATS:
        return export_response(
            filterset.qs,
            COLUMNS,
            filename="propositions-reorientation",
            fmt=request.GET["export"],
            request=request,
        )
    return render(
        request,
        "cvu/proposition_list.html",
        {
            "filter": filterset,
            "page_obj": paginate(request, filterset.qs),
            "can_create": rights.may_create(request.user, PropositionReorientation),
        },
    )


def proposition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposition = _get(request, pk)
    context = {
        "proposition": proposition,
        "qpvs": proposition.qpvs.order_by("nom"),
        "observations": proposition.observations.select_related("qpv", "commune"),
        "indicateurs": proposition.indicateurs.select_related("objectif").prefetch_related(
            Prefetch(
                "valeurs", queryset=ValeurResultat.objects.order_by("annee"), to_attr="mesures"
            )
        ),
        "actions": proposition.actions.select_related("porteur").prefetch_related("bilans"),
        "suites": (
            SuiteADonner.objects.filter(decision=proposition.decision_id).select_related(
                "responsable", "responsable_contact"
            )
            if proposition.decision_id
            else []
        ),
        "can_edit": rights.may_change(request.user, proposition),
        "can_decide": rights.may_decide_proposition(request.user, proposition),
    }
    return render(request, "cvu/proposition_detail.html", context)


def _form_page(request: HttpRequest, proposition: PropositionReorientation, contrat):
    data = request.POST if request.method == "POST" else None
    form = PropositionForm(data, instance=proposition, contrat=contrat)
    if request.method == "POST" and form.is_valid():
        if proposition.pk is None:
            form.instance.auteur = request.user
        saved = form.save()
        if saved.point_id:
            saved.point.texte = propositions.agenda_text(saved)
            saved.point.save(update_fields=["texte"])
        messages.success(request, "Proposition enregistrée.")
        return redirect(saved)
    context = {"form": form, "proposition": proposition if proposition.pk else None}
    return render(
        request,
        "cvu/proposition_form.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def proposition_create(request: HttpRequest) -> HttpResponse:
    rights.require_create(request.user, PropositionReorientation)
    contrat = current_contrat()
    if contrat is None:
        messages.error(request, "Créez d'abord le contrat de ville.")
        return redirect("cvu:proposition_list")
    return _form_page(request, PropositionReorientation(), contrat)


@require_http_methods(["GET", "POST"])
def proposition_update(request: HttpRequest, pk: int) -> HttpResponse:
    proposition = _get(request, pk, write=True)
    contrat = ContratDeVille.objects.get(pk=proposition.contrat_id)
    return _form_page(request, proposition, contrat)


@require_http_methods(["GET", "POST"])
def proposition_delete(request: HttpRequest, pk: int) -> HttpResponse:
    proposition = _get(request, pk, write=True)
    propositions.check_deletable(proposition, user=request.user)
    if request.method == "POST":
        propositions.supprimer(proposition, user=request.user)
        messages.success(request, "Proposition supprimée.")
        return redirect("cvu:proposition_list")
    return render(request, "cvu/proposition_confirm_delete.html", {"proposition": proposition})


@require_http_methods(["GET", "POST"])
def proposition_inscrire(request: HttpRequest, pk: int) -> HttpResponse:
    """The author chooses the upcoming meeting whose agenda the proposal joins."""
    proposition = _get(request, pk, write=True)
    reunions = rights.agenda_open_to(request.user, proposition)
    if proposition.point_id:
        reunions = reunions.exclude(pk=proposition.point.reunion_id)
    form = InscriptionForm(request.POST if request.method == "POST" else None, reunions=reunions)
    if request.method == "POST" and form.is_valid():
        reunion = form.cleaned_data["reunion"]
        propositions.inscrire(proposition, reunion, user=request.user)
        messages.success(request, f"Proposition inscrite à l'ordre du jour : {reunion}.")
        return redirect(proposition)
    context = {"proposition": proposition, "form": form, "has_choices": reunions.exists()}
    return render(
        request,
        "cvu/proposition_inscrire.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def proposition_retirer(request: HttpRequest, pk: int) -> HttpResponse:
    proposition = _get(request, pk, write=True)
    propositions.retirer(proposition, user=request.user)
    messages.success(request, "Proposition retirée de l'ordre du jour.")
    return redirect(proposition)


@require_http_methods(["GET", "POST"])
def proposition_decider(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting's organiser records its decision, and the follow-ups it calls for."""
    proposition = _get(request, pk)
    rights.require(rights.may_decide_proposition(request.user, proposition), rights.DECIDE_REFUSAL)
    reunion = proposition.point.reunion
    data = request.POST if request.method == "POST" else None
    form = DecisionPropositionForm(data)
    suites = SuiteFormSet(
        data, instance=reunion, prefix="suites", queryset=SuiteADonner.objects.none()
    )
    check_counts(suites, can_add=True)
    if request.method == "POST" and form.is_valid() and suites.is_valid():
        propositions.decider(
            proposition,
            issue=form.cleaned_data["issue"],
            texte=form.cleaned_data["texte"],
            suites=suites,
            user=request.user,
        )
        messages.success(request, "Décision enregistrée : la proposition est close.")
        return redirect(proposition)
    context = {"proposition": proposition, "reunion": reunion, "form": form, "suites": suites}
    return render(
        request,
        "cvu/proposition_decider.html",
        context,
        status=400 if request.method == "POST" else 200,
    )
