"""Demo data of the annual report: the 2025 report of the 2024–2030 contract, being consulted."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from cvu.models import ContratDeVille
from participation.models import ConseilCitoyen

from . import annuel
from .models import ChapitreRapport, Consultation, RapportAnnuel

CHAPITRES = {
    ChapitreRapport.Type.PERSPECTIVES: (
        "Pour 2026, le service propose de :\n\n"
        "- concentrer l'appel à projets sur la **réussite éducative** et l'emploi des jeunes ;\n"
        "- développer les conventions pluriannuelles d'objectifs ;\n"
        "- associer les conseils citoyens au comité de programmation."
    ),
    ChapitreRapport.Type.DROIT_COMMUN: (
        "Les signataires ont précisé leurs engagements de droit commun dans les quartiers "
        "(voir le tableau des engagements). La mobilisation de *France Travail* reste à suivre."
    ),
}


def demo_rapport_annuel(*, users: dict) -> None:
    contrat = ContratDeVille.objects.filter(annee_debut=2024).first()
    if contrat is None or RapportAnnuel.objects.filter(contrat=contrat, annee=2025).exists():
        return
    communes = list(annuel.communes_du_contrat(contrat))
    rapport = annuel.demarrer(
        contrat=contrat, annee=2025, communes_dsu=communes[:3], user=users["service"]
    )
    for type_, texte in CHAPITRES.items():
        rapport.chapitres.filter(type=type_).update(texte=texte, modifie_par=users["service"])
    for commune in communes[:2]:
        chef = commune.secteur.chef_projet if commune.secteur else users["service"]
        rapport.chapitres.filter(type="commune", commune=commune).update(
            texte=f"En 2025, {commune.nom} a soutenu les associations de ses quartiers "
            "prioritaires : **accompagnement scolaire**, animations de proximité et *chantiers "
            "éducatifs* l'été.",
            modifie_par=chef,
        )
    today = timezone.localdate()
    sent = today - timedelta(days=40)
    conseils = list(ConseilCitoyen.objects.filter(commune__in=communes).order_by("nom")[:2])
    for n, conseil in enumerate(conseils):
        Consultation.objects.create(
            rapport=rapport,
            conseil_citoyen=conseil,
            envoye_le=sent,
            echeance=sent + relativedelta(months=1),
            avis="observations" if n == 0 else "",
            avis_recu_le=sent + timedelta(days=20) if n == 0 else None,
            texte="Le conseil souhaite que les actions pour les jeunes filles soient renforcées."
            if n == 0
            else "",
        )
    if communes:
        Consultation.objects.create(
            rapport=rapport,
            commune=communes[0],
            envoye_le=today - timedelta(days=5),
            echeance=today - timedelta(days=5) + relativedelta(months=1),
        )
