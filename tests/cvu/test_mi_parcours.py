"""The mid-term evaluation: figures gathered from the rows for the years before it, the chef de
service's record, and the PDF built by the worker with the page's figures."""

import re
import subprocess
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from cvu import evaluation
from cvu.figures import NOT_FUNDED
from cvu.models import (
    Bilan,
    ContratDeVille,
    EvaluationMiParcours,
    Financement,
    IndicateurResultat,
    NoeudStrategie,
    ValeurResultat,
)
from reporting import rapports
from reporting.models import Rapport
from tests.cvu.factories import ActionFactory, ContratFactory, FinancementFactory, NoeudFactory

pytestmark = pytest.mark.django_db


def _flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def _pdf_text(path) -> str:
    return _flat(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True
        ).stdout
    )


def _euros(amount: Decimal) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{' '.join(groups)},{cents} €"


@pytest.fixture
def data():
    contrat = ContratFactory(annee_debut=2024, annee_fin=2030)
    axe = NoeudFactory(contrat=contrat, niveau="axe", code="1", libelle="Réussite éducative")
    objectif = NoeudFactory(contrat=contrat, parent=axe, niveau="objectif", code="1.1")
    indicateur = IndicateurResultat.objects.create(
        objectif=objectif,
        libelle="Élèves passant en classe supérieure",
        annee_reference=2023,
        valeur_reference=Decimal(80),
        cible=Decimal(90),
    )
    ValeurResultat.objects.create(indicateur=indicateur, annee=2025, valeur=Decimal(84))
    ValeurResultat.objects.create(indicateur=indicateur, annee=2027, valeur=Decimal(99))  # after
    action = ActionFactory(contrat=contrat, annee=2024, annee_fin=2025, statut="en_cours")
    action.objectifs.set([objectif])
    FinancementFactory(action=action, annee=2024, montant_vote=Decimal("1000.10"))
    FinancementFactory(action=action, annee=2025, montant_vote=Decimal("2000.20"))
    FinancementFactory(action=action, annee=2027, montant_vote=Decimal("7777.00"))  # after
    refused = ActionFactory(contrat=contrat, annee=2025, statut="refuse")
    FinancementFactory(action=refused, annee=2025, montant_vote=Decimal("500.00"))
    Bilan.objects.create(
        action=action, exercice=2024, recu_le=date(2025, 5, 1), rapport="ok", beneficiaires=40
    )
    return {"contrat": contrat, "action": action}


def test_the_figures_cover_the_years_before_the_evaluation(data):
    figures = evaluation.mi_parcours(data["contrat"])
    assert figures["annee"] == 2027 and figures["periode"] == (2024, 2026)
    assert figures["total_vote"] == Decimal("3000.30")  # neither 2027 nor the refused dossier
    assert [row["vote"] for row in figures["annees"]] == [
        Decimal("1000.10"),
        Decimal("2000.20"),
        Decimal(0),
    ]
    assert (
        figures["nb_bilans"] == 1 and figures["annees"][0]["beneficiaires"]["beneficiaires"] == 40
    )
    assert figures["axes"][0]["vote"] == Decimal("3000.30")
    indicateur = figures["objectifs"][0]["indicateurs"][0]
    assert (indicateur.derniere.annee, indicateur.progres) == (2025, 40)


def test_the_chef_de_service_records_it_and_others_read(client, manager, editor, reader, data):
    contrat = data["contrat"]
    url = reverse("cvu:mi_parcours_update", args=[contrat.pk])
    for user in (editor, reader):
        client.force_login(user)
        assert client.get(reverse("cvu:mi_parcours", args=[contrat.pk])).status_code == 200
        assert client.post(url, {"annee": 2027}).status_code == 403
    client.force_login(manager)
    response = client.post(url, {"annee": 2027, "conclusions": "", "adoptee_le": "2027-06-30"})
    assert response.status_code == 400
    assert (
        "Rédigez les conclusions avant d&#x27;indiquer l&#x27;adoption."
        in response.content.decode()
    )
    response = client.post(
        url,
        {
            "annee": 2027,
            "conclusions": "Objectifs tenus.",
            "decisions": "Poursuivre.",
            "adoptee_le": "2027-06-30",
        },
    )
    assert response.status_code == 302
    record = EvaluationMiParcours.objects.get()
    assert (record.conclusions, record.adoptee_le) == ("Objectifs tenus.", date(2027, 6, 30))


def test_the_year_lies_within_the_contract(data):
    record = EvaluationMiParcours(contrat=data["contrat"], annee=2024)
    with pytest.raises(ValidationError):
        record.full_clean()


def test_the_pdf_holds_the_page_figures(client, reader, data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(reader)
    client.post(reverse("cvu:mi_parcours_pdf", args=[data["contrat"].pk]))
    rapport = Rapport.objects.get(type="mi_parcours")
    assert rapports.build_report(rapport.pk) == "pret"
    rapport.refresh_from_db()
    text = _pdf_text(rapport.fichier.path)
    assert "Évaluation à mi-parcours" in text and "Années évaluées : 2024 à 2026" in text
    assert "3 000,30 €" in text and "1 000,10 €" in text and "7 777,00 €" not in text
    assert "40 % du chemin vers la cible" in text


def test_on_the_demo_data_the_figures_are_those_of_the_rows(client, manager, settings, tmp_path):
    """The page and the PDF, on the demo, show non-empty figures recomputed here from the
    financing lines and the bilans."""
    settings.MEDIA_ROOT = tmp_path
    call_command("load_territoire", stdout=StringIO())
    call_command("seed_demo", "--force", stdout=StringIO())
    contrat = ContratDeVille.objects.get(annee_debut=2024)
    rows = Financement.objects.filter(
        action__contrat=contrat, annee__in=[2024, 2025, 2026], montant_vote__isnull=False
    ).exclude(action__statut__in=NOT_FUNDED)
    expected_vote = sum((line.montant_vote for line in rows), Decimal(0))
    expected_verse = sum(
        (
            line.montant_verse
            for line in Financement.objects.filter(
                action__contrat=contrat, annee__in=[2024, 2025, 2026]
            )
        ),
        Decimal(0),
    )
    expected_bilans = Bilan.objects.filter(
        action__contrat=contrat, exercice__in=[2024, 2025, 2026]
    ).count()
    assert expected_vote > 0 and expected_verse > 0 and expected_bilans > 0
    client.force_login(manager)
    page = _flat(client.get(reverse("cvu:mi_parcours", args=[contrat.pk])).content.decode())
    assert _euros(expected_vote) in page and _euros(expected_verse) in page
    client.post(reverse("cvu:mi_parcours_pdf", args=[contrat.pk]))
    rapport = Rapport.objects.get(type="mi_parcours")
    assert rapports.build_report(rapport.pk) == "pret"
    rapport.refresh_from_db()
    text = _pdf_text(rapport.fichier.path)
    assert _euros(expected_vote) in text and _euros(expected_verse) in text
    assert f"Total {_euros(expected_vote)} {_euros(expected_verse)} {expected_bilans}" in text
    # The evaluation page of the demo's busiest objective with a result indicator: its 2024 row
    # (actions funded, voted, paid, bilans, beneficiaries) recomputed from the rows.
    objectif = max(
        NoeudStrategie.objects.filter(contrat=contrat, indicateurs_resultat__isnull=False),
        key=lambda node: node.actions.count(),
    )
    lines = Financement.objects.filter(action__objectifs=objectif, annee=2024).exclude(
        action__statut__in=NOT_FUNDED
    )
    voted = [line for line in lines if line.montant_vote is not None]
    bilans = Bilan.objects.filter(action__objectifs=objectif, exercice=2024)
    reached = sum(bilan.beneficiaires or 0 for bilan in bilans)
    assert voted and bilans and reached
    row = (
        f"2024 {len({line.action_id for line in voted})} "
        f"{_euros(sum((line.montant_vote for line in voted), Decimal(0)))} "
        f"{_euros(sum((line.montant_verse for line in lines), Decimal(0)))} "
        f"{bilans.count()} {_euros(Decimal(reached)).removesuffix(',00 €')}"
    )
    page = client.get(reverse("cvu:objectif_evaluation", args=[objectif.pk])).content.decode()
    assert row in _flat(re.sub(r"<[^>]+>", " ", page))
