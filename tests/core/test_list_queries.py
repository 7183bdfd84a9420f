"""Every list answers in the same number of queries whatever the number of rows: measured with
one batch of data, then with four, as the chef de service and as a chef de projet."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cvu.models import DispositifConnexe
from participation.models import ConseilCitoyen, CycleQualification, TypeParticipation
from tests.cvu.aap_factories import AppelFactory, ComiteFactory
from tests.cvu.factories import (
    ActionFactory,
    ContratFactory,
    FinancementFactory,
    OrganisationFactory,
    ProgrammeFactory,
)
from tests.cvu.governance_factories import InstanceFactory, ReunionFactory, SuiteADonnerFactory
from tests.participation.rgpd import membre

pytestmark = pytest.mark.django_db

LISTS = [
    "/actions/",
    "/actions/?annee=2026&ordre=-demande",
    "/actions/?annee=2026&financeur={financeur}",
    "/actions/?export=xlsx",
    "/actions/?annee=2026&export=csv",
    "/actions/programmes/",
    "/organisations/",
    "/organisations/?role=porteur",
    "/organisations/?export=xlsx",
    "/instances/",
    "/instances/dispositifs/",
    "/instances/dispositifs/?type=pre&search=dispositif",
    "/instances/dispositifs/?export=xlsx",
    "/reunions/?vue=liste",
    "/suivis/",
    "/appels-a-projets/",
    "/appels-a-projets/{appel}/",
    "/appels-a-projets/{appel}/?export=xlsx",
    "/appels-a-projets/{appel}/?search=a&statut=depose&referent=aucun",
    "/appels-a-projets/comites/{comite}/?filtre=tous",
    "/quartiers/",
    "/participation/",
    "/participation/?secteur=mien&search=conseil",
    "/participation/?export=csv",
    "/participation/demarches/",
    "/participation/cycles/",
    "/participation/cycles/?search=cycle",
    "/participation/cycles/?export=xlsx",
]


@pytest.fixture
def world(qpv, editor):
    contrat = ContratFactory()
    appel = AppelFactory(contrat=contrat)
    comite = ComiteFactory(appel=appel)
    financeur = OrganisationFactory(type="etat", nom="Préfecture")
    return {
        "contrat": contrat,
        "appel": appel,
        "comite": comite,
        "financeur": financeur,
        "type_conseil": TypeParticipation.objects.create(nom="Conseil citoyen"),
    }


def grow(world, qpv, editor, batches: int) -> None:
    """Adds batches of rows to every list: actions with lines, porteurs, programmes, calls,
    instances, meetings, follow-ups, councils with a member, schemes and training cycles."""
    for n in range(batches):
        for year in (2025, 2026):
            action = ActionFactory(
                contrat=world["contrat"],
                appel=world["appel"],
                annee=year,
                referent=editor,
                porteur=OrganisationFactory(),
                qpvs=[qpv],
            )
            FinancementFactory(action=action, financeur=world["financeur"], annee=year)
            FinancementFactory(action=action, annee=year)
            world["comite"].dossiers.add(action)
        ProgrammeFactory(contrat=world["contrat"], nom=f"Programme {n}")
        AppelFactory(annee=2000 + n)
        reunion = ReunionFactory(instance=InstanceFactory(communes=[qpv.communes.first()]))
        SuiteADonnerFactory(reunion=reunion, responsable=editor)
        conseil = ConseilCitoyen.objects.create(
            nom=f"Conseil citoyen {n}", type=world["type_conseil"], commune=qpv.communes.first()
        )
        conseil.qpvs.add(qpv)
        membre(conseil, n)
        dispositif = DispositifConnexe.objects.create(
            nom=f"Dispositif {n}", type="pre", mode="coherence"
        )
        dispositif.communes.add(qpv.communes.first())
        cycle = CycleQualification.objects.create(
            annee=2000 + CycleQualification.objects.count(), titre=f"Cycle {n}"
        )
        cycle.partenaires.add(OrganisationFactory())


def count_queries(client, url: str) -> int:
    client.get(url)  # warm-up: session, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.mark.parametrize("role", ["manager", "editor"])
def test_lists_cost_the_same_queries_at_two_sizes(client, request, world, qpv, editor, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    urls = [
        url.format(
            financeur=world["financeur"].pk, appel=world["appel"].pk, comite=world["comite"].pk
        )
        for url in LISTS
    ]
    grow(world, qpv, editor, 1)
    small = {url: count_queries(client, url) for url in urls}
    grow(world, qpv, editor, 3)
    large = {url: count_queries(client, url) for url in urls}
    assert large == small
