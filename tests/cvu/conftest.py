from decimal import Decimal

import pytest

from tests.cvu.aap_factories import SIRET_ASSO, SIRET_CS, AppelFactory, EnveloppeFactory
from tests.cvu.factories import (
    ActionFactory,
    ContratFactory,
    FinancementFactory,
    NoeudFactory,
    OrganisationFactory,
)
from tests.quartiers.factories import CommuneFactory, QpvFactory, SecteurFactory


@pytest.fixture
def contrat(db):
    return ContratFactory()


@pytest.fixture
def axe(contrat):
    return NoeudFactory(contrat=contrat, code="1", libelle="Réussite éducative")


@pytest.fixture
def objectif(axe):
    return NoeudFactory(
        contrat=axe.contrat, parent=axe, niveau="objectif", code="1.1", libelle="Aide aux devoirs"
    )


@pytest.fixture
def etat(db):
    return OrganisationFactory(nom="Préfecture du Doubs – BOP 147", type="etat")


@pytest.fixture
def action(contrat, qpv, editor, etat, objectif):
    """An action of the editor's sector, with one financing line."""
    action = ActionFactory(
        contrat=contrat,
        titre="Atelier d'aide aux devoirs",
        porteur=OrganisationFactory(nom="Centre social des Buis"),
        qpvs=[qpv],
        referent=editor,
        numero_dauphin="00012345",
    )
    action.objectifs.set([objectif])
    FinancementFactory(action=action, financeur=etat, montant_demande=6000, montant_vote=5000)
    return action


@pytest.fixture
def pma(db):
    return OrganisationFactory(nom="Pays de Montbéliard Agglomération", sigle="PMA", type="epci")


@pytest.fixture
def appel(contrat, etat, pma):
    """A 2026 call with envelopes for the State (50 000 €) and PMA (30 000 €)."""
    appel = AppelFactory(contrat=contrat, nom="Appel à projets 2026")
    EnveloppeFactory(appel=appel, financeur=etat, montant=Decimal("50000.00"))
    EnveloppeFactory(appel=appel, financeur=pma, montant=Decimal("30000.00"))
    return appel


@pytest.fixture
def referentiel(contrat, qpv, etat):
    """The porteur and funders the good lines name."""
    return {
        "porteur": OrganisationFactory(nom="Compagnie des Étoiles", siret="73282932000074"),
        "pma": OrganisationFactory(
            nom="Pays de Montbéliard Agglomération", sigle="PMA", type="epci"
        ),
        "etat": etat,
    }


@pytest.fixture
def autre_qpv(db):
    """A QPV of another chef de projet's sector."""
    secteur = SecteurFactory(nom="Secteur Audincourt")
    return QpvFactory(
        nom="Les Champs-Montants",
        communes=[CommuneFactory(code_insee="25031", nom="Audincourt", secteur=secteur)],
    )


@pytest.fixture
def porteurs(db):
    """The two porteurs the Dauphin files name, with their SIRET."""
    return (
        OrganisationFactory(nom="Centre social Petite-Hollande", siret=SIRET_CS),
        OrganisationFactory(nom="Association Les Buis", siret=SIRET_ASSO),
    )
