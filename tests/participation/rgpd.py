"""Shared setup of the RGPD tests: a council in the editor's sector, one in another sector."""

from datetime import date

from participation.models import ConseilCitoyen, Membre, TypeParticipation
from tests.quartiers.factories import CommuneFactory


def conseil_in(commune, nom="Conseil citoyen de la Chiffogne") -> ConseilCitoyen:
    type_, _ = TypeParticipation.objects.get_or_create(nom="Conseil citoyen")
    return ConseilCitoyen.objects.create(nom=nom, type=type_, commune=commune)


def conseil_elsewhere(outsider) -> ConseilCitoyen:
    """A council of the outsider's sector, which the editor does not follow."""
    commune = CommuneFactory(code_insee="25118", nom="Champvallon", secteur=outsider.secteurs.get())
    return conseil_in(commune, nom="Conseil citoyen Champvallon")


def membre(conseil, n=0, **fields) -> Membre:
    data = {
        "prenom": f"Prénom{n}",
        "nom": f"Nom{n}",
        "college": "habitants",
        "genre": "femme",
        "tranche_age": "40_59",
        "resident_qpv": True,
        "designation": "volontaire",
        "mandat_debut": date(2025, 1, 1),
        "base_legale": "mission_publique",
    }
    data.update(fields)
    return Membre.objects.create(conseil=conseil, **data)


MEMBRE_POST = {
    "college": "habitants",
    "genre": "femme",
    "tranche_age": "40_59",
    "resident_qpv": "on",
    "designation": "tirage",
    "mandat_debut": "2025-01-01",
    "statut": "actif",
    "base_legale": "mission_publique",
}
