from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.formsets import check_counts

from .. import figures, rights
from ..forms_evaluation import CalculQpvForm, IndicateurResultatFormSet, ValeurResultatFormSet
from ..models import Action, ContratDeVille, IndicateurResultat, NoeudStrategie
from ..models.actions import ZERO


def contrat_list(request: HttpRequest) -> HttpResponse:
    contrats = ContratDeVille.objects.visible_to(request.user).prefetch_related("signataires")
    return render(request, "cvu/contrat_list.html", {"contrats": contrats})


def _tree(nodes, amounts) -> list[dict]:
    """Nested nodes, each with its own amounts plus those of its descendants."""
    by_parent = defaultdict(list)
    for node in nodes:
        by_parent[node.parent_id].append(node)

    def build(node):
        children = [build(child) for child in by_parent[node.pk]]
        own = amounts.get(node.pk, {"demande": Decimal(0), "vote": Decimal(0), "nb": 0})
        return {
            "node": node,
            "children": children,
            "own": own,
            "vote": own["vote"] + sum(c["vote"] for c in children),
            "demande": own["demande"] + sum(c["demande"] for c in children),
        }

    return [build(root) for root in by_parent[None]]


def contrat_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contrat = get_object_or_404(
        ContratDeVille.objects.visible_to(request.user).prefetch_related("signataires"), pk=pk
    )
    years = list(range(contrat.annee_debut, contrat.annee_fin + 1))
    try:
        annee = int(request.GET.get("annee", ""))
    except ValueError:
        annee = None
    if annee not in years:
        annee = None
    # An action serving two objectives counts under each: the page says so. Voted amounts are
    # counted as everywhere else (cvu.figures: a refused or withdrawn dossier votes nothing).
    totals, amounts, sans_objectif = figures.par_objectif(contrat, annee=annee)
    nodes = list(NoeudStrategie.objects.filter(contrat=contrat))
    actions = Action.objects.filter(contrat=contrat)
    if annee:
        actions = actions.filter(Q(annee=annee) | Q(annee__lte=annee, annee_fin__gte=annee))
    context = {
        "contrat": contrat,
        "tree": _tree(nodes, amounts),
        "years": years,
        "annee": annee,
        "totals": totals,
        "nb_actions": actions.count(),
        "sans_objectif": sans_objectif,
    }
    return render(request, "cvu/contrat_detail.html", context)


# ---------------------------------------------------------------- evaluation of an objective


def _get_objectif(request: HttpRequest, pk: int) -> NoeudStrategie:
    return get_object_or_404(
        NoeudStrategie.objects.visible_to(request.user).select_related("contrat", "parent__parent"),
        pk=pk,
        niveau=NoeudStrategie.Niveau.OBJECTIF,
    )


@require_GET
def objectif_evaluation(request: HttpRequest, pk: int) -> HttpResponse:
    """An objective's evaluation page: its result indicators (baseline, 2030 target, values,
    progress) and, per year of the contract, the money voted and paid on its actions, how many
    were funded and whom their bilans say they reached."""
    objectif = _get_objectif(request, pk)
    contrat = objectif.contrat
    actions = Action.objects.filter(objectifs=objectif)
    indicateurs = list(
        objectif.indicateurs_resultat.select_related("indicateur_qpv").prefetch_related("valeurs")
    )
    for indicateur in indicateurs:
        indicateur.liste = indicateur.mesures()
        indicateur.derniere = indicateur.liste[-1] if indicateur.liste else None
        indicateur.progres = indicateur.progression(
            indicateur.derniere.valeur if indicateur.derniere else None
        )
    amounts = figures.par_annee(actions)
    reached = figures.beneficiaires_par_exercice(actions)
    years = []
    for year in range(contrat.annee_debut, contrat.annee_fin + 1):
        money = amounts.get(year, {})
        years.append(
            {
                "annee": year,
                "vote": money.get("vote", ZERO),
                "verse": money.get("verse", ZERO),
                "nb_financees": money.get("nb_financees", 0),
                "beneficiaires": reached.get(year),
            }
        )
    context = {
        "objectif": objectif,
        "contrat": contrat,
        "indicateurs": indicateurs,
        "annees": years,
        "total_vote": sum((y["vote"] for y in years), ZERO),
        "total_verse": sum((y["verse"] for y in years), ZERO),
        "nb_actions": actions.count(),
        "indicateurs_actions": figures.indicateurs_actions(actions),
        "can_edit": rights.is_manager(request.user),
    }
    return render(request, "cvu/objectif_evaluation.html", context)


def _frame_formset_page(request, formset, objectif, template, context, message, form=None):
    """A page of the chef de service's that edits one formset of the evaluation frame (and a
    form beside it, saved with it or not at all), then returns to the objective's evaluation
    page."""
    rights.require_manager(request.user)
    check_counts(formset, can_add=True)
    if request.method == "POST" and all([formset.is_valid(), form is None or form.is_valid()]):
        with transaction.atomic():
            if form is not None:
                form.save()
            formset.save()
        messages.success(request, message)
        return redirect("cvu:objectif_evaluation", pk=objectif.pk)
    return render(
        request,
        template,
        {"objectif": objectif, "formset": formset, "form": form, **context},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def objectif_indicateurs(request: HttpRequest, pk: int) -> HttpResponse:
    """The chef de service sets an objective's result indicators (three at most)."""
    objectif = _get_objectif(request, pk)
    data = request.POST if request.method == "POST" else None
    formset = IndicateurResultatFormSet(data, instance=objectif, prefix="ind")
    return _frame_formset_page(
        request,
        formset,
        objectif,
        "cvu/objectif_indicateurs.html",
        {},
        "Indicateurs de résultat enregistrés.",
    )


@require_http_methods(["GET", "POST"])
def indicateur_valeurs(request: HttpRequest, pk: int) -> HttpResponse:
    """The chef de service enters a result indicator's value for each year measured."""
    indicateur = get_object_or_404(
        IndicateurResultat.objects.visible_to(request.user).select_related("objectif__contrat"),
        pk=pk,
    )
    data = request.POST if request.method == "POST" else None
    formset = ValeurResultatFormSet(data, instance=indicateur, prefix="val")
    return _frame_formset_page(
        request,
        formset,
        indicateur.objectif,
        "cvu/indicateur_valeurs.html",
        {"indicateur": indicateur},
        f"Valeurs de « {indicateur} » enregistrées.",
        form=CalculQpvForm(data, instance=indicateur, prefix="calc"),
    )
