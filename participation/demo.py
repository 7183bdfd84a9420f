"""Demo data of participation: fictional councils, members, démarches, charter and cycle."""

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from cvu.models import Action, Instance, Organisation, Reunion
from quartiers.models import Qpv

from .models import (
    BesoinFormation,
    Charte,
    ConseilCitoyen,
    CycleQualification,
    Demarche,
    Engagement,
    Evaluation,
    Inscription,
    Membre,
    PointEtape,
    PresenceMembre,
    SessionFormation,
    TypeParticipation,
    VerificationCharte,
)

PRENOMS_F = ["Amina", "Claire", "Fatou", "Julie", "Nadia", "Sophie", "Yasmine", "Lucie", "Inès"]
PRENOMS_H = ["Karim", "Thomas", "Mamadou", "Lucas", "Youssef", "Paul", "Hugo", "Samir", "Marc"]
NOMS = ["Fictif", "Exemple", "Démo", "Essai", "Modèle", "Témoin", "Prototype", "Maquette"]
ENGAGEMENTS = [
    "Un cadre clair : objet, calendrier et marges de manœuvre annoncés dès le départ",
    "La participation éclaire réellement la décision",
    "Une information accessible à tous",
    "L'inclusion de tous les publics, notamment les moins entendus",
    "Un retour aux participants sur ce qui a été décidé",
    "Une évaluation partagée de chaque démarche",
    "Une clause de revoyure de la charte",
]
DEMARCHES = [
    ("Diagnostic en marchant de la Petite-Hollande", "diagnostic_marchant", "commune"),
    ("Budget participatif des Buis", "budget_participatif", "commune"),
    ("Concertation sur le réaménagement de la place", "concertation", "bailleur"),
    ("Co-construction du programme de la fête de quartier", "co_construction", "association"),
    ("Consultation sur les horaires du centre social", "consultation", "association"),
    ("Atelier de projet des Batteries du Parc", "co_construction", "pma"),
    ("Réunion publique NPNRU", "information", "pma"),
    ("Marche exploratoire de femmes", "diagnostic_marchant", "conseil_citoyen"),
    ("Consultation jeunesse", "consultation", "commune"),
    ("Concertation sur les cheminements piétons", "concertation", "bailleur"),
]
SESSIONS = [
    "Le rôle du conseil citoyen dans le contrat de ville",
    "Animer une réunion d'habitants",
    "Comprendre le budget de la politique de la ville",
    "Prendre la parole en comité de pilotage",
    "Mener un diagnostic en marchant",
    "Évaluer une action avec les habitants",
]


def demo_participation(*, users: dict) -> None:
    rng = random.Random(2026)
    # The service's target for young members (no 16-25 share per QPV in the demo indicators).
    type_cc, _ = TypeParticipation.objects.get_or_create(
        nom="Conseil citoyen", defaults={"part_jeunes_cible": 15}
    )
    TypeParticipation.objects.get_or_create(
        nom="Table de quartier", defaults={"sieges": 15, "siege_unique": False}
    )
    associations = list(Organisation.objects.filter(type="association")[:10])
    conseils = []
    for n, qpv in enumerate(Qpv.objects.filter(geographie="2024").prefetch_related("communes")):
        commune = qpv.communes.first()
        conseil, created = ConseilCitoyen.objects.get_or_create(
            nom=f"Conseil citoyen {qpv.nom}",
            defaults={
                "type": type_cc,
                "commune": commune,
                "arrete_date": date(2016, 3, 1) if n % 2 else None,
            },
        )
        conseil.qpvs.set([qpv])
        conseils.append(conseil)
        if not created:
            continue
        size = rng.randint(8, 20)
        # Some councils lean on men or on non-residents, so the badges differ.
        women_share = [0.5, 0.3, 0.55, 0.45][n % 4]
        for m in range(size):
            femme = rng.random() < women_share
            acteur = associations and m >= size * 0.6
            Membre.objects.create(
                conseil=conseil,
                prenom=rng.choice(PRENOMS_F if femme else PRENOMS_H),
                nom=f"{rng.choice(NOMS)}-{n}{m}",
                college="acteurs" if acteur else "habitants",
                organisation=rng.choice(associations) if acteur else None,
                genre="femme" if femme else "homme",
                tranche_age=rng.choice(["moins_25", "25_39", "40_59", "40_59", "60_plus"]),
                resident_qpv=rng.random() < (0.4 if n % 3 == 2 else 0.85),
                designation=rng.choice(["tirage", "volontaire", "volontaire", "designe"]),
                mandat_debut=date(2024, 9, 1),
                statut="actif" if m < size - 1 else "demissionnaire",
                mandat_fin=None if m < size - 1 else date(2025, 6, 30),
                base_legale="mission_publique",
            )
    steering = Reunion.objects.filter(
        statut="tenue", instance__in=Instance.objects.filter(sieges_conseil_citoyen=True)
    )
    if not PresenceMembre.objects.exists():
        for reunion in steering:
            for conseil in conseils:
                if rng.random() < 0.6:
                    membre = conseil.membres.filter(statut="actif").order_by("?").first()
                    if membre:
                        PresenceMembre.objects.create(
                            reunion=reunion, membre=membre, statut="present"
                        )
    copil = Instance.objects.filter(type__nom="Comité de pilotage").first()
    for version, adopted, commitments in [
        ("2017", date(2017, 6, 15), ENGAGEMENTS[:5]),
        ("2025", date(2025, 3, 20), ENGAGEMENTS),
    ]:
        charte, created = Charte.objects.get_or_create(
            version=version,
            defaults={
                "date_adoption": adopted,
                "instance_adoption": copil,
                "texte": "Texte de démonstration de la charte de la participation de PMA.",
            },
        )
        if created:
            Engagement.objects.bulk_create(
                [
                    Engagement(charte=charte, ordre=i, libelle=t)
                    for i, t in enumerate(commitments, 1)
                ]
            )
    current = Charte.objects.first()
    chefs = [users[f"cdp{n}"] for n in range(1, 7)]
    for n, (titre, type_, initiateur) in enumerate(DEMARCHES):
        conseil = conseils[n % len(conseils)] if conseils else None
        demarche, created = Demarche.objects.get_or_create(
            titre=titre,
            defaults={
                "type": type_,
                "initiateur": initiateur,
                "date_debut": date(2025, 1 + n, 10),
                "statut": ["en_cours", "terminee", "envisagee"][n % 3],
                "role_pma": ["suivi", "accompagnement", "tiers_mediateur"][n % 3],
                "referent": chefs[n % 6],
                "description": "Démarche fictive de démonstration.",
            },
        )
        if not created:
            continue
        if conseil:
            demarche.communes.set([conseil.commune])
            demarche.qpvs.set(conseil.qpvs.all())
        demarche.actions.set(
            Action.objects.filter(annee=2025, tags__nom="Participation citoyenne").order_by("pk")[
                n : n + 1
            ]
        )
        for k in range(rng.randint(1, 3)):
            PointEtape.objects.create(
                demarche=demarche,
                date=date(2025, 2 + n, 1) + timedelta(days=30 * k),
                texte="Point d'étape fictif : participation des habitants et suites données.",
                auteur=chefs[n % 6],
            )
        if current:
            VerificationCharte.objects.bulk_create(
                [
                    VerificationCharte(
                        demarche=demarche,
                        engagement=e,
                        appreciation=rng.choice(["respecte", "respecte", "partiel", "non", "na"]),
                    )
                    for e in current.engagements.all()
                ]
            )
    cycle, created = CycleQualification.objects.get_or_create(
        annee=2026, defaults={"titre": "Cycle de qualification 2026"}
    )
    if created:
        cycle.partenaires.set(Organisation.objects.filter(type="etat")[:1])
        for conseil in conseils[:4]:
            BesoinFormation.objects.create(
                cycle=cycle, conseil=conseil, besoin="Mieux connaître le fonctionnement du contrat."
            )
        today = timezone.localdate()
        for n, theme in enumerate(SESSIONS):
            day = date(2026, 2 + 2 * n, 14) if 2 + 2 * n <= 12 else date(2026, 12, 5)
            session = SessionFormation.objects.create(
                cycle=cycle,
                theme=theme,
                capacite=20,
                lieu="Maison de quartier",
                intervenant="Trajectoire Ressources",
                date=timezone.make_aware(datetime.combine(day, time(18, 0))),
            )
            invited = Membre.objects.filter(statut="actif").order_by("?")[: rng.randint(10, 22)]
            past = day < today
            Inscription.objects.bulk_create(
                [
                    Inscription(
                        session=session,
                        membre=m,
                        presence=rng.choice(["present", "present", "excuse", "absent"])
                        if past
                        else "invite",
                    )
                    for m in invited
                ]
            )
            if past:
                Evaluation.objects.bulk_create(
                    [
                        Evaluation(session=session, note=rng.randint(3, 5), commentaire="")
                        for _ in range(rng.randint(3, 8))
                    ]
                )
