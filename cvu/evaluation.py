"""The mid-term evaluation's figures, gathered once for its page and its PDF: money voted and
paid per year and per axe over the years evaluated, result indicators against their baseline and
target, what the bilans say they reached, proposals decided and commitments kept."""

from collections import Counter

from django.db.models import Prefetch

from . import figures
from .models import (
    Action,
    EngagementSignataire,
    EvaluationMiParcours,
    NoeudStrategie,
    PropositionReorientation,
    ValeurResultat,
)
from .models.actions import ZERO


def default_annee(contrat) -> int:
    """The middle of the contract: 2027 for 2024–2030."""
    return (contrat.annee_debut + contrat.annee_fin + 1) // 2


def _below(nodes) -> dict[int, list[int]]:
    children: dict[int | None, list[int]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node.pk)

    def walk(pk):
        return [pk] + [n for child in children.get(pk, []) for n in walk(child)]

    return {node.pk: walk(node.pk) for node in nodes}


def _money(actions, years) -> dict:
    per_year = figures.par_annee(actions)
    return {
        "vote": sum((per_year.get(y, {}).get("vote", ZERO) for y in years), ZERO),
        "verse": sum((per_year.get(y, {}).get("verse", ZERO) for y in years), ZERO),
    }


def strategie(contrat, *, avant: int) -> list:
    """The contract's strategy tree (in order), with its result indicators' values before the
    year `avant`."""
    return list(
        NoeudStrategie.objects.filter(contrat=contrat).prefetch_related(
            Prefetch(
                "indicateurs_resultat__valeurs",
                queryset=ValeurResultat.objects.filter(annee__lt=avant).order_by("annee"),
            )
        )
    )


def resultats(nodes, *, avant: int) -> list[dict]:
    """Per objective with result indicators: each one's latest measure before `avant` and its
    progress from the baseline towards the target."""
    objectifs = []
    for node in nodes:
        indicateurs = list(node.indicateurs_resultat.all())
        if not indicateurs:
            continue
        for indicateur in indicateurs:
            mesures = indicateur.mesures(avant=avant)
            indicateur.derniere = mesures[-1] if mesures else None
            indicateur.progres = indicateur.progression(
                indicateur.derniere.valeur if indicateur.derniere else None
            )
        objectifs.append({"objectif": node, "indicateurs": indicateurs})
    return objectifs


def mi_parcours(contrat) -> dict:
    evaluation = EvaluationMiParcours.objects.filter(contrat=contrat).first()
    annee = evaluation.annee if evaluation else default_annee(contrat)
    years = list(range(contrat.annee_debut, annee))
    actions = Action.objects.filter(contrat=contrat)
    per_year = figures.par_annee(actions)
    reached = figures.beneficiaires_par_exercice(actions)
    annees = [
        {
            "annee": year,
            "vote": per_year.get(year, {}).get("vote", ZERO),
            "verse": per_year.get(year, {}).get("verse", ZERO),
            "nb_financees": per_year.get(year, {}).get("nb_financees", 0),
            "beneficiaires": reached.get(year),
            "nb_bilans": (reached.get(year) or {}).get("nb_bilans", 0),
        }
        for year in years
    ]
    nodes = strategie(contrat, avant=annee)
    below = _below(nodes)
    axes = [
        {
            "axe": node,
            **_money(actions.filter(objectifs__in=below[node.pk]).distinct(), years),
        }
        for node in nodes
        if node.niveau == NoeudStrategie.Niveau.AXE
    ]
    objectifs = resultats(nodes, avant=annee)
    statuts = Counter(
        EngagementSignataire.objects.filter(contrat=contrat).values_list("statut", flat=True)
    )
    return {
        "contrat": contrat,
        "evaluation": evaluation,
        "annee": annee,
        "periode": (years[0], years[-1]) if years else None,
        "annees": annees,
        "total_vote": sum((y["vote"] for y in annees), ZERO),
        "total_verse": sum((y["verse"] for y in annees), ZERO),
        "nb_bilans": sum((y["beneficiaires"] or {}).get("nb_bilans", 0) for y in annees),
        "axes": axes,
        "objectifs": objectifs,
        "propositions": list(
            PropositionReorientation.objects.filter(contrat=contrat)
            .exclude(issue="")
            .select_related("decision__reunion__instance")
        ),
        "propositions_ouvertes": PropositionReorientation.objects.filter(
            contrat=contrat, issue=""
        ).count(),
        "engagements": [
            (label, statuts[value])
            for value, label in EngagementSignataire.Statut.choices
            if statuts[value]
        ],
    }
