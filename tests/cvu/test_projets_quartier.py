"""Projets de quartier: the QPV's chef de projet writes its stakes and three to five priorities
tied to the contract's strategy; the page and the worker's PDF show the quartier's actions under
each priority with the same amounts."""

import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from cvu.models import PrioriteQuartier, ProjetQuartier
from reporting import rapports
from reporting.models import Rapport
from tests.cvu.factories import ActionFactory, ContratFactory, FinancementFactory, NoeudFactory
from tests.quartiers.factories import QpvFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contrat():
    return ContratFactory(nom="Engagements Quartiers 2030", annee_debut=2024, annee_fin=2030)


@pytest.fixture
def tree(contrat):
    axe = NoeudFactory(contrat=contrat, niveau="axe", code="1", libelle="Réussite éducative")
    return {
        "axe": axe,
        "scolarite": NoeudFactory(
            contrat=contrat, parent=axe, niveau="objectif", code="1.1", libelle="Scolarité"
        ),
        "emploi": NoeudFactory(contrat=contrat, niveau="objectif", code="3.1", libelle="Emploi"),
        "sante": NoeudFactory(contrat=contrat, niveau="objectif", code="4.1", libelle="Santé"),
    }


def _text(response) -> str:
    return response.content.decode().replace("\u202f", " ").replace("\xa0", " ")


def _url(name, contrat, qpv):
    return reverse(f"cvu:{name}", args=[contrat.pk, qpv.pk])


def _data(*priorites, enjeux="Quartier jeune, enclavé."):
    data = {
        "enjeux": enjeux,
        "priorites-TOTAL_FORMS": str(len(priorites)),
        "priorites-INITIAL_FORMS": "0",
        "priorites-MIN_NUM_FORMS": "0",
        "priorites-MAX_NUM_FORMS": "5",
    }
    for i, (libelle, objectif) in enumerate(priorites):
        data[f"priorites-{i}-ordre"] = str(i + 1)
        data[f"priorites-{i}-libelle"] = libelle
        data[f"priorites-{i}-objectif"] = objectif.pk
    return data


def test_the_chef_de_projet_of_the_qpv_writes_its_project(client, editor, contrat, tree, qpv):
    client.force_login(editor)
    page = client.get(_url("projet_quartier", contrat, qpv))
    assertContains(page, "pas encore rédigé")
    assertContains(page, "Rédiger le projet")
    response = client.post(
        _url("projet_quartier_update", contrat, qpv),
        _data(
            ("Scolarité de l'école au collège", tree["scolarite"]),
            ("Emploi des jeunes", tree["emploi"]),
            ("Accès aux soins", tree["sante"]),
        ),
    )
    assert response.status_code == 302
    projet = ProjetQuartier.objects.get()
    assert (projet.contrat, projet.qpv, projet.enjeux) == (contrat, qpv, "Quartier jeune, enclavé.")
    assert list(projet.priorites.values_list("libelle", flat=True)) == [
        "Scolarité de l'école au collège",
        "Emploi des jeunes",
        "Accès aux soins",
    ]
    listing = client.get(reverse("cvu:projet_list"))
    assertContains(listing, "3 priorités")


def test_fewer_than_three_priorities_are_saved_and_flagged(client, editor, contrat, tree, qpv):
    client.force_login(editor)
    client.post(_url("projet_quartier_update", contrat, qpv), _data(("Emploi", tree["emploi"])))
    page = client.get(_url("projet_quartier", contrat, qpv))
    assert "Un projet de quartier compte 3 à 5 priorités : 1 pour l'instant." in _text(page)
    assertContains(client.get(reverse("cvu:projet_list")), "1 priorité sur 3 à 5")


def test_six_priorities_or_an_objective_of_another_contract_are_refused(
    client, editor, contrat, tree, qpv
):
    client.force_login(editor)
    six = [(f"Priorité {n}", tree["emploi"]) for n in range(6)]
    response = client.post(_url("projet_quartier_update", contrat, qpv), _data(*six))
    assert response.status_code == 400
    assertContains(response, "Un projet de quartier a au plus 5 priorités.", status_code=400)
    autre = NoeudFactory(contrat=ContratFactory(), niveau="objectif")
    response = client.post(
        _url("projet_quartier_update", contrat, qpv), _data(("Hors contrat", autre))
    )
    assert response.status_code == 400
    assert not ProjetQuartier.objects.exists() and not PrioriteQuartier.objects.exists()


def test_who_writes_a_project(client, outsider, reader, manager, contrat, tree, qpv):
    for user in (outsider, reader):
        client.force_login(user)
        assert client.get(_url("projet_quartier", contrat, qpv)).status_code == 200
        response = client.post(
            _url("projet_quartier_update", contrat, qpv), _data(("Emploi", tree["emploi"]))
        )
        assert response.status_code == 403
    client.force_login(manager)
    response = client.post(
        _url("projet_quartier_update", contrat, qpv), _data(("Emploi", tree["emploi"]))
    )
    assert response.status_code == 302


def test_a_qpv_of_another_geography_has_no_project_in_this_contract(client, editor, contrat):
    ancien = QpvFactory(geographie="2015")
    client.force_login(editor)
    assert client.get(_url("projet_quartier", contrat, ancien)).status_code == 404


@pytest.fixture
def projet_with_actions(contrat, tree, qpv):
    """Two actions of the QPV under the education axe (one voted 1 200,50 €, one 800 €), one
    under employment, one of another quartier."""
    projet = ProjetQuartier.objects.create(contrat=contrat, qpv=qpv, enjeux="Enjeux.")
    PrioriteQuartier.objects.create(projet=projet, libelle="Réussite", objectif=tree["axe"])
    PrioriteQuartier.objects.create(projet=projet, libelle="Emploi", objectif=tree["emploi"])
    amounts = {}
    for titre, objectif, vote, qpvs in [
        ("Aide aux devoirs", tree["scolarite"], "1200.50", [qpv]),
        ("Club lecture", tree["scolarite"], "800.00", [qpv]),
        ("Chantier jeunes", tree["emploi"], "5000.00", [qpv]),
        ("Ailleurs", tree["scolarite"], "999.00", [QpvFactory()]),
    ]:
        action = ActionFactory(contrat=contrat, titre=titre, qpvs=qpvs, annee=2025)
        action.objectifs.set([objectif])
        FinancementFactory(action=action, annee=2025, montant_vote=Decimal(vote))
        amounts[titre] = Decimal(vote)
    return projet, amounts


def test_the_page_ranges_the_quartier_actions_under_each_priority(
    client, reader, contrat, qpv, projet_with_actions
):
    client.force_login(reader)
    page = client.get(_url("projet_quartier", contrat, qpv))
    text = _text(page)
    assert "Actions du quartier sous cette priorité : 2, 2 000,50 € votés" in text
    assert "Actions du quartier sous cette priorité : 1, 5 000,00 € votés" in text
    assert "Ailleurs" not in text


def test_the_pdf_is_built_by_the_worker_with_the_page_figures(
    client, reader, contrat, qpv, projet_with_actions, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(reader)
    response = client.post(_url("projet_quartier_pdf", contrat, qpv))
    rapport = Rapport.objects.get()
    assert response.status_code == 302 and response["Location"] == rapport.get_absolute_url()
    assert (rapport.type, rapport.parametres) == (
        "projet_quartier",
        {"contrat": contrat.pk, "qpv": qpv.pk},
    )
    assert rapports.build_report(rapport.pk) == "pret"
    rapport.refresh_from_db()
    text = subprocess.run(
        ["pdftotext", "-layout", rapport.fichier.path, "-"], capture_output=True, text=True
    ).stdout
    text = " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())
    assert "Projet de quartier" in text and qpv.nom in text
    assert "1. Réussite" in text and "2. Emploi" in text
    assert "2 000,50 €" in text and "5 000,00 €" in text
    assert "Ailleurs" not in text
    # The direction reads it whoever asked (no personal data in it).
    assert Rapport.Type.PROJET_QUARTIER in Rapport.SANS_DONNEES_PERSONNELLES
