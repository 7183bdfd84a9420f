"""The TFPB abatement's yearly programme (landlord × QPV × axis, planned then done) and the
adultes-relais posts (employer, QPV, convention, renewal) beside the generic scheme."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from cvu.models import ActionTFPB, DispositifConnexe, PosteAdulteRelais
from tests.cvu.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tfpb():
    return DispositifConnexe.objects.create(nom="Abattement TFPB", type="tfpb", mode="coherence")


@pytest.fixture
def relais():
    return DispositifConnexe.objects.create(
        nom="Adultes-relais", type="adultes_relais", mode="information"
    )


@pytest.fixture
def bailleur():
    return OrganisationFactory(nom="Habitat du Pays", type="bailleur")


def _management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _flat(response) -> str:
    return response.content.decode().replace("\u202f", " ").replace("\xa0", " ")


def test_the_chef_de_service_enters_a_year_of_the_tfpb_programme(
    client, manager, reader, tfpb, bailleur, qpv
):
    client.force_login(manager)
    url = reverse("cvu:dispositif_tfpb", args=[tfpb.pk]) + "?annee=2025"
    data = {
        **_management("tfpb", 2),
        "tfpb-0-bailleur": bailleur.pk,
        "tfpb-0-qpv": qpv.pk,
        "tfpb-0-axe": "entretien",
        "tfpb-0-libelle": "Sur-entretien des halls",
        "tfpb-0-montant_prevu": "12 000,50",
        "tfpb-0-montant_realise": "10 000",
        "tfpb-1-bailleur": bailleur.pk,
        "tfpb-1-qpv": qpv.pk,
        "tfpb-1-axe": "animation",
        "tfpb-1-libelle": "Fête des voisins",
        "tfpb-1-montant_prevu": "3 000",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert set(ActionTFPB.objects.values_list("annee", flat=True)) == {2025}
    client.force_login(reader)
    page = _flat(client.get(tfpb.get_absolute_url() + "?annee=2025"))
    assert "Sur-entretien des halls" in page and "15 000,50 €" in page and "10 000,00 €" in page
    other_year = _flat(client.get(tfpb.get_absolute_url() + "?annee=2026"))
    assert "Sur-entretien des halls" not in other_year
    assert "Aucune action enregistrée pour 2026." in other_year


def test_a_row_of_another_year_is_not_reached_from_this_year(client, manager, tfpb, bailleur, qpv):
    other = ActionTFPB.objects.create(
        dispositif=tfpb,
        annee=2024,
        bailleur=bailleur,
        qpv=qpv,
        axe="entretien",
        libelle="Ancienne",
        montant_prevu=Decimal(100),
    )
    client.force_login(manager)
    url = reverse("cvu:dispositif_tfpb", args=[tfpb.pk]) + "?annee=2025"
    data = {
        **_management("tfpb", 1, initial=1),
        "tfpb-0-id": other.pk,
        "tfpb-0-bailleur": bailleur.pk,
        "tfpb-0-qpv": qpv.pk,
        "tfpb-0-axe": "entretien",
        "tfpb-0-libelle": "Réécrite",
        "tfpb-0-montant_prevu": "1",
    }
    assert client.post(url, data).status_code == 400
    other.refresh_from_db()
    assert (other.libelle, other.annee) == ("Ancienne", 2024)


def test_a_landlord_row_needs_a_landlord_and_a_2024_qpv(client, manager, tfpb, qpv):
    not_a_landlord = OrganisationFactory(type="association")
    client.force_login(manager)
    url = reverse("cvu:dispositif_tfpb", args=[tfpb.pk])
    data = {
        **_management("tfpb", 1),
        "tfpb-0-bailleur": not_a_landlord.pk,
        "tfpb-0-qpv": qpv.pk,
        "tfpb-0-axe": "entretien",
        "tfpb-0-libelle": "X",
        "tfpb-0-montant_prevu": "1",
    }
    assert client.post(url, data).status_code == 400
    assert not ActionTFPB.objects.exists()


@pytest.mark.parametrize("role", ["editor", "reader"])
def test_only_who_edits_the_scheme_enters_its_programme(client, request, role, tfpb, relais):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("cvu:dispositif_tfpb", args=[tfpb.pk])).status_code == 403
    assert client.get(reverse("cvu:dispositif_postes", args=[relais.pk])).status_code == 403
    page = client.get(tfpb.get_absolute_url())
    assertNotContains(page, "Saisir le programme")


def test_the_pages_belong_to_their_kind_of_scheme(client, manager, tfpb, relais):
    client.force_login(manager)
    assert client.get(reverse("cvu:dispositif_tfpb", args=[relais.pk])).status_code == 404
    assert client.get(reverse("cvu:dispositif_postes", args=[tfpb.pk])).status_code == 404


def test_adultes_relais_posts_and_their_renewal(client, manager, relais, bailleur, qpv):
    today = timezone.localdate()
    client.force_login(manager)
    url = reverse("cvu:dispositif_postes", args=[relais.pk])
    rows = [
        ("Médiation de proximité", today + timedelta(days=120)),
        ("Accès aux droits", today + timedelta(days=600)),
    ]
    data = _management("postes", len(rows))
    for i, (mission, fin) in enumerate(rows):
        data.update(
            {
                f"postes-{i}-employeur": bailleur.pk,
                f"postes-{i}-qpv": qpv.pk,
                f"postes-{i}-mission": mission,
                f"postes-{i}-convention_debut": (fin - timedelta(days=1095)).isoformat(),
                f"postes-{i}-convention_fin": fin.isoformat(),
                f"postes-{i}-pourvu": "on",
                f"postes-{i}-renouvellement": "",
            }
        )
    assert client.post(url, data).status_code == 302
    page = client.get(relais.get_absolute_url())
    assertContains(page, "à renouveler", count=1)
    soon = PosteAdulteRelais.objects.get(mission="Médiation de proximité")
    assert soon.a_renouveler
    soon.renouvellement = PosteAdulteRelais.Renouvellement.ACCORDE
    soon.save()
    assertNotContains(client.get(relais.get_absolute_url()), "à renouveler")


def test_a_convention_ending_before_it_starts_is_refused(client, manager, relais, bailleur, qpv):
    client.force_login(manager)
    data = {
        **_management("postes", 1),
        "postes-0-employeur": bailleur.pk,
        "postes-0-qpv": qpv.pk,
        "postes-0-mission": "Médiation",
        "postes-0-convention_debut": "2026-01-01",
        "postes-0-convention_fin": "2025-01-01",
        "postes-0-pourvu": "on",
    }
    response = client.post(reverse("cvu:dispositif_postes", args=[relais.pk]), data)
    assert response.status_code == 400
    assertContains(response, "La convention doit finir après son début.", status_code=400)
    assert not PosteAdulteRelais.objects.exists()
