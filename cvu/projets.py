"""A projet de quartier as the page and its PDF show it: stakes and priorities as written, and
what the data holds for the QPV (actions under each priority, démarches, schemes, indicators,
commitments, proposals). One function for both, so that they show the same figures."""

from decimal import Decimal

from django.db.models import Max, Q

from quartiers.models import ValeurIndicateur

from . import figures
from .models import (
    Action,
    BeneficiairesQpv,
    DispositifConnexe,
    EngagementSignataire,
    NoeudStrategie,
    ProjetQuartier,
    PropositionReorientation,
)
from .models.projets import PRIORITES_MAX, PRIORITES_MIN


def _descendants(contrat) -> dict[int, list[int]]:
    """Each node of the contract's tree with every node below it."""
    children: dict[int | None, list[int]] = {}
    nodes = NoeudStrategie.objects.filter(contrat=contrat).values_list("pk", "parent_id")
    for pk, parent_id in nodes:
        children.setdefault(parent_id, []).append(pk)

    def below(pk):
        found = [pk]
        for child in children.get(pk, []):
            found += below(child)
        return found

    return {pk: below(pk) for pk, _parent in nodes}


def dossier(contrat, qpv) -> dict:
    from participation.models import Demarche  # participation's models import cvu's.

    projet = (
        ProjetQuartier.objects.filter(contrat=contrat, qpv=qpv)
        .prefetch_related("priorites__objectif")
        .first()
    )
    actions = Action.objects.filter(contrat=contrat, qpvs=qpv)
    priorites = []
    if projet is not None:
        below = _descendants(contrat)
        for priorite in projet.priorites.all():
            rows = list(
                figures.with_amounts(
                    actions.filter(objectifs__in=below.get(priorite.objectif_id, [])).distinct()
                )
                .select_related("porteur")
                .order_by("-annee", "titre")
            )
            priorites.append(
                {
                    "priorite": priorite,
                    "actions": rows,
                    "vote": sum((a.total_vote or Decimal(0) for a in rows), Decimal(0)),
                }
            )
    latest = set(
        ValeurIndicateur.objects.filter(qpv=qpv)
        .values("indicateur")
        .annotate(annee=Max("annee"))
        .values_list("indicateur", "annee")
    )
    indicateurs = [
        valeur
        for valeur in ValeurIndicateur.objects.filter(qpv=qpv).select_related("indicateur")
        if (valeur.indicateur_id, valeur.annee) in latest
    ]
    nb = len(priorites)
    return {
        "contrat": contrat,
        "qpv": qpv,
        "projet": projet,
        "priorites": priorites,
        "complet": projet is not None and PRIORITES_MIN <= nb <= PRIORITES_MAX,
        "priorites_min": PRIORITES_MIN,
        "priorites_max": PRIORITES_MAX,
        "totals": figures.totals(actions),
        "nb_actions": actions.count(),
        "beneficiaires": figures.beneficiaires_par_qpv(
            BeneficiairesQpv.objects.filter(qpv=qpv, bilan__action__contrat=contrat),
            "bilan__exercice",
        ),
        "demarches": list(Demarche.objects.filter(qpvs=qpv).order_by("-date_debut", "titre")),
        "dispositifs": list(
            DispositifConnexe.objects.filter(Q(qpvs=qpv) | Q(communes__in=qpv.communes.all()))
            .distinct()
            .order_by("nom")
        ),
        "indicateurs": sorted(
            indicateurs, key=lambda v: (v.indicateur.ordre, v.indicateur.libelle)
        ),
        "engagements": list(
            EngagementSignataire.objects.filter(contrat=contrat, qpvs=qpv).select_related(
                "signataire"
            )
        ),
        "propositions": list(
            PropositionReorientation.objects.filter(contrat=contrat, qpvs=qpv).select_related(
                "auteur"
            )
        ),
    }
