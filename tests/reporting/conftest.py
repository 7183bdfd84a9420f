"""A small, hand-computed contract for the dashboard and the reports."""

from datetime import date
from decimal import Decimal

import pytest

from cvu import payments
from cvu.models import Versement
from tests.cvu.aap_factories import AppelFactory, EnveloppeFactory
from tests.cvu.factories import (
    ActionFactory,
    ContratFactory,
    FinancementFactory,
    NoeudFactory,
    OrganisationFactory,
)
from tests.quartiers.factories import CommuneFactory, QpvFactory


@pytest.fixture
def data(editor, secteur, commune, qpv):
    """Two 2026 actions, one of them in two axes and two QPVs, one 2025 action."""
    contrat = ContratFactory()
    axe1 = NoeudFactory(contrat=contrat, code="1", libelle="Éducation")
    axe2 = NoeudFactory(contrat=contrat, code="2", libelle="Emploi")
    o1 = NoeudFactory(contrat=contrat, parent=axe1, niveau="objectif", code="1.1")
    orientation = NoeudFactory(contrat=contrat, parent=axe2, niveau="orientation", code="2.1")
    o2 = NoeudFactory(contrat=contrat, parent=orientation, niveau="objectif", code="2.1.1")
    autre_commune = CommuneFactory(code_insee="25031", nom="Audincourt")
    qpv2 = QpvFactory(nom="Les Champs-Montants", communes=[autre_commune])
    etat = OrganisationFactory(nom="Préfecture", sigle="État", type="etat")
    pma = OrganisationFactory(nom="PMA", type="epci")
    x = ActionFactory(contrat=contrat, titre="X", qpvs=[qpv, qpv2], statut="programme")
    x.objectifs.set([o1, o2])
    paid = FinancementFactory(
        action=x, financeur=etat, montant_demande=Decimal("1000.10"), montant_vote=Decimal("900.05")
    )
    Versement.objects.create(
        financement=paid,
        nature=Versement.Nature.AVANCE,
        montant=Decimal("100.00"),
        date_versement=date(2026, 3, 2),
        numero_mandat="M-2026-0001",
    )
    payments.refresh_paid(paid)
    FinancementFactory(action=x, financeur=pma, montant_demande=Decimal("500.00"))
    y = ActionFactory(contrat=contrat, titre="Y", qpvs=[qpv], statut="en_cours")
    y.objectifs.set([o1])
    FinancementFactory(
        action=y, financeur=etat, montant_demande=Decimal("200.20"), montant_vote=Decimal("200.20")
    )
    z = ActionFactory(contrat=contrat, titre="Z", annee=2025, qpvs=[qpv2])
    FinancementFactory(action=z, financeur=etat, annee=2025, montant_demande=Decimal("9999"))
    appel = AppelFactory(contrat=contrat)
    EnveloppeFactory(appel=appel, financeur=etat, montant=Decimal("5000.00"))
    return {
        "contrat": contrat,
        "axes": (axe1, axe2),
        "qpvs": (qpv, qpv2),
        "communes": (commune, autre_commune),
        "etat": etat,
        "pma": pma,
        "actions": (x, y, z),
    }
