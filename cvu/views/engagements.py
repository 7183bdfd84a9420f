"""Engagements des signataires: the table the COPIL reviews, each commitment's form, and the
yearly review recorded in a steering meeting."""

from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.exports import FORMATS, export_response
from core.formsets import check_counts
from quartiers.models import Qpv

from .. import rights
from ..filters import EngagementFilterSet
from ..forms_engagements import EngagementForm, RevueFormSet, RevueReunionForm
from ..models import ContratDeVille, EngagementSignataire, ValeurResultat


def _contrat(request: HttpRequest, pk: int) -> ContratDeVille:
    return get_object_or_404(ContratDeVille.objects.visible_to(request.user), pk=pk)


def _rows(contrat):
    return (
        EngagementSignataire.objects.filter(contrat=contrat)
        .select_related("signataire", "objectif", "indicateur__objectif", "revue_en__instance")
        .prefetch_related(
            Prefetch("qpvs", queryset=Qpv.objects.order_by("nom")),
            Prefetch(
                "indicateur__valeurs",
                queryset=ValeurResultat.objects.order_by("annee"),
                to_attr="mesures",
            ),
        )
    )


COLUMNS = [
    ("Signataire", lambda e: e.signataire.nom),
    ("Engagement", lambda e: e.texte),
    ("Partie de la stratégie", lambda e: str(e.objectif or "")),
    ("Quartiers", lambda e: ", ".join(q.nom for q in e.qpvs.all()) or "Tous"),
    ("Indicateur de suivi", lambda e: str(e.indicateur or "")),
    (
        "Dernière valeur",
        lambda e: e.indicateur.mesures[-1].valeur if e.indicateur and e.indicateur.mesures else "",
    ),
    ("État", lambda e: e.get_statut_display()),
    ("Constat de la dernière revue", lambda e: e.commentaire),
    ("Dernière revue en", lambda e: str(e.revue_en or "")),
    ("Prochaine revue", lambda e: e.date_revue),
]


def engagement_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The commitments of the contract's signatories, grouped by signatory, for the COPIL."""
    contrat = _contrat(request, pk)
    filterset = EngagementFilterSet(request.GET, queryset=_rows(contrat), contrat=contrat)
    rows = filterset.qs
    if request.GET.get("export") in FORMATS:
        return export_response(
            rows,
            COLUMNS,
            filename=f"engagements-signataires-{contrat.annee_debut}-{contrat.annee_fin}",
            fmt=request.GET["export"],
            request=request,
        )
    rows = list(rows)
    groups: dict = {}
    for engagement in rows:
        groups.setdefault(engagement.signataire, []).append(engagement)
    context = {
        "contrat": contrat,
        "filter": filterset,
        "groups": groups.items(),
        "count": len(rows),
        "sans_engagement": contrat.signataires.exclude(engagements__contrat=contrat).order_by(
            "nom"
        ),
        "par_statut": {
            label: sum(1 for e in rows if e.statut == value)
            for value, label in EngagementSignataire.Statut.choices
        },
        "can_edit": rights.is_manager(request.user),
    }
    return render(request, "cvu/engagement_list.html", context)


def _form_page(request, contrat, engagement):
    rights.require_manager(request.user)
    data = request.POST if request.method == "POST" else None
    form = EngagementForm(data, instance=engagement, contrat=contrat)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Engagement enregistré.")
        return redirect("cvu:engagement_list", pk=contrat.pk)
    context = {
        "contrat": contrat,
        "form": form,
        "engagement": engagement if engagement.pk else None,
    }
    return render(
        request,
        "cvu/engagement_form.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def engagement_create(request: HttpRequest, pk: int) -> HttpResponse:
    contrat = _contrat(request, pk)
    return _form_page(request, contrat, EngagementSignataire(contrat=contrat))


@require_http_methods(["GET", "POST"])
def engagement_update(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = rights.get_visible(
        request.user, EngagementSignataire.objects.select_related("contrat"), pk, write=True
    )
    return _form_page(request, engagement.contrat, engagement)


@require_http_methods(["GET", "POST"])
def engagement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = rights.get_visible(
        request.user,
        EngagementSignataire.objects.select_related("contrat", "signataire"),
        pk,
        write=True,
    )
    if request.method == "POST":
        engagement.delete()
        messages.success(request, "Engagement supprimé.")
        return redirect("cvu:engagement_list", pk=engagement.contrat_id)
    return render(request, "cvu/engagement_confirm_delete.html", {"engagement": engagement})


@require_http_methods(["GET", "POST"])
def engagement_revue(request: HttpRequest, pk: int) -> HttpResponse:
    """The chef de service records the steering meeting's review: for each commitment shown, its
    state, what was found and the next review date. Every commitment on the page is recorded as
    reviewed in that meeting."""
    rights.require_manager(request.user)
    contrat = _contrat(request, pk)
    filterset = EngagementFilterSet(request.GET, queryset=_rows(contrat), contrat=contrat)
    queryset = filterset.qs
    data = request.POST if request.method == "POST" else None
    reunion_form = RevueReunionForm(
        data, contrat=contrat, initial={"reunion": request.GET.get("reunion")}
    )
    formset = RevueFormSet(data, queryset=queryset, prefix="revue")
    check_counts(formset)
    if data is not None and reunion_form.is_valid() and formset.is_valid():
        reunion = reunion_form.cleaned_data["reunion"]
        with transaction.atomic():
            for form in formset.forms:
                engagement = form.save(commit=False)
                engagement.revue_en = reunion
                engagement.save()
        messages.success(
            request, f"Revue enregistrée : {len(formset.forms)} engagement(s), {reunion}."
        )
        return redirect("cvu:engagement_list", pk=contrat.pk)
    if data is None:
        # The next review comes a year after this one.
        proposed = timezone.localdate() + timedelta(days=365)
        for form in formset.forms:
            if form.instance.revue_due:
                form.initial["date_revue"] = proposed
    context = {
        "contrat": contrat,
        "filter": filterset,
        "reunion_form": reunion_form,
        "formset": formset,
    }
    return render(
        request,
        "cvu/engagement_revue.html",
        context,
        status=400 if data is not None else 200,
    )
