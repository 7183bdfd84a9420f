"""Demo territory data: sectors over the QPV communes and fictional indicator values."""

import random
from datetime import date
from decimal import Decimal

from django.db import transaction

from .models import Commune, Indicateur, Observation, Qpv, Secteur, ValeurIndicateur

DEMO_SOURCE = "Valeur de démonstration (fictive)"
DEMO_YEARS = range(2017, 2024)

# One sector per commune with a QPV, each with its neighbouring communes.
DEMO_SECTEURS = [
    ("Montbéliard", ["25388", "25170", "25540"]),
    ("Audincourt", ["25031", "25230", "25526"]),
    ("Valentigney", ["25580", "25367", "25043"]),
    ("Bethoncourt", ["25057", "25054", "25082"]),
    ("Sochaux", ["25547", "25228", "25614"]),
    ("Grand-Charmont", ["25284", "25428", "25188"]),
]

# Plausible starting points and yearly drifts, so the fictional series look like QPV data.
DEMO_PROFILES = {
    "population": (3500, 2500, Decimal("-0.01"), 0),
    "part_moins_25": (38, 6, Decimal("0.002"), 1),
    "taux_pauvrete": (42, 8, Decimal("0.005"), 1),
    "revenu_median_uc": (12500, 1500, Decimal("0.015"), 0),
    "familles_monoparentales": (28, 6, Decimal("0.01"), 1),
    "taux_emploi": (45, 6, Decimal("0.004"), 1),
    "demandeurs_emploi": (420, 200, Decimal("-0.02"), 0),
    "logements_sociaux": (70, 20, Decimal("0"), 1),
}

DEMO_OBSERVATIONS = [
    (
        "Fermeture de la supérette du quartier",
        "Les habitants signalent la fermeture de la seule supérette ; le bailleur étudie "
        "l'installation d'un marché hebdomadaire. (Observation fictive de démonstration.)",
    ),
    (
        "Hausse de la fréquentation du centre social",
        "Le centre social observe une hausse des inscriptions aux ateliers parents-enfants. "
        "(Observation fictive de démonstration.)",
    ),
]


def demo_secteurs(*, users: dict) -> list[Secteur]:
    secteurs = []
    for number, (nom, codes) in enumerate(DEMO_SECTEURS, 1):
        secteur, _ = Secteur.objects.update_or_create(
            nom=f"Secteur {nom}",
            defaults={
                "chef_projet": users[f"cdp{number}"],
                "backup": users[f"cdp{number % 6 + 1}"],
            },
        )
        Commune.objects.filter(code_insee__in=codes).update(secteur=secteur)
        secteurs.append(secteur)
    return secteurs


def demo_valeurs(*, qpvs) -> int:
    """Fictional values for each QPV over several years, marked as demo values."""
    indicateurs = {i.code: i for i in Indicateur.objects.filter(code__in=DEMO_PROFILES)}
    existing = set(
        ValeurIndicateur.objects.filter(qpv__in=qpvs).values_list(
            "indicateur_id", "qpv_id", "annee"
        )
    )
    new = []
    for qpv in qpvs:
        rng = random.Random(f"{qpv.geographie}-{qpv.nom}")
        for code, (base, spread, drift, places) in DEMO_PROFILES.items():
            indicateur = indicateurs.get(code)
            if indicateur is None:
                continue
            start = Decimal(base + rng.uniform(-spread, spread))
            for offset, annee in enumerate(DEMO_YEARS):
                if (indicateur.pk, qpv.pk, annee) in existing:
                    continue
                noise = Decimal(str(rng.uniform(-0.01, 0.01)))
                valeur = start * (1 + drift * offset + noise)
                new.append(
                    ValeurIndicateur(
                        indicateur=indicateur,
                        qpv=qpv,
                        annee=annee,
                        valeur=round(valeur, places),
                        source=DEMO_SOURCE,
                        est_demo=True,
                    )
                )
    ValeurIndicateur.objects.bulk_create(new)
    return len(new)


def demo_observations(*, qpvs, users: dict) -> None:
    for qpv in qpvs:
        secteur = Secteur.objects.filter(communes__qpvs=qpv).select_related("chef_projet").first()
        auteur = secteur.chef_projet if secteur else users["service"]
        for offset, (titre, texte) in enumerate(DEMO_OBSERVATIONS):
            Observation.objects.get_or_create(
                qpv=qpv,
                titre=titre,
                defaults={
                    "texte": texte,
                    "date": date(2026, 9 + offset, 15),
                    "auteur": auteur,
                },
            )


@transaction.atomic
def demo_territoire(*, users: dict) -> None:
    demo_secteurs(users=users)
    qpvs = list(Qpv.objects.filter(geographie=Qpv.Geographie.G2024))
    demo_valeurs(qpvs=qpvs)
    demo_observations(qpvs=qpvs, users=users)
