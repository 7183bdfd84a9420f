"""Issue #16, rule 4: the collectivité notifies only its own grant and informs of the other
funders' decisions « sous réserve des décisions de leurs instances » (or cites their formal act);
the service may prepare one letter per partner; the chef de service records each funder's act."""

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from core.editable import CONTENT_TYPE as DOCX
from cvu.models import Action, AppelAProjets
from cvu.models.aap import DEFAULT_LETTER
from tests.cvu.aap_factories import AppelFactory
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory
from tests.cvu.test_conventions import pdf_text
from tests.editable_checks import assert_same_text, docx_parts

pytestmark = pytest.mark.django_db

S = Action.Statut


@pytest.fixture
def dossier(contrat, editor, qpv, etat, pma):
    contrat.signataires.set([pma, etat])
    appel = AppelFactory(contrat=contrat, annee=2026, signataire="Le Président de PMA")
    action = ActionFactory(
        contrat=contrat,
        appel=appel,
        annee=2026,
        referent=editor,
        qpvs=[qpv],
        statut=S.PROGRAMME,
        titre="Jardins partagés",
        porteur=OrganisationFactory(nom="Les Buis"),
    )
    caf = OrganisationFactory(nom="CAF du Doubs", sigle="CAF", type="caf")
    for financeur, vote in ((etat, "12000"), (pma, "5500.50"), (caf, "3000")):
        FinancementFactory(
            action=action,
            financeur=financeur,
            annee=2026,
            montant_demande=Decimal(vote),
            montant_vote=Decimal(vote),
        )
    FinancementFactory(action=action, financeur=OrganisationFactory(nom="Ville"), annee=2026)
    action.caf = caf
    return action


def _letter(client, action, financeur=None) -> str:
    url = reverse("cvu:dossier_notification", args=[action.pk])
    response = client.get(url, {"financeur": financeur.pk} if financeur else {})
    assert response["Content-Type"] == "application/pdf"
    return " ".join(pdf_text(response.content).split())


def test_the_letter_comes_as_an_editable_document_with_the_pdf_text(client, editor, dossier):
    """Issue #17: the service adapts the letter in a word processor before sending it."""
    client.force_login(editor)
    url = reverse("cvu:dossier_notification", args=[dossier.pk])
    pdf = client.get(url, {"financeur": dossier.caf.pk})
    docx = client.get(
        reverse("cvu:dossier_notification_docx", args=[dossier.pk]), {"financeur": dossier.caf.pk}
    )
    assert docx["Content-Type"] == DOCX
    assert docx["Content-Disposition"].endswith('-caf.docx"')
    assert_same_text(pdf.content, docx.content)
    body, _ = docx_parts(docx.content)
    assert "notification de la subvention de CAF du Doubs" in body
    assert "3 000,00 €" in body.replace("\u202f", " ").replace("\xa0", " ")
    page = client.get(dossier.get_absolute_url()).text
    assert reverse("cvu:dossier_notification_docx", args=[dossier.pk]) in page


def test_the_collectivite_notifies_its_own_grant_and_informs_of_the_others(
    client, editor, manager, dossier, etat, pma
):
    line = dossier.financements.get(financeur=dossier.caf)
    line.acte_type, line.acte_numero, line.acte_date = (
        "deliberation",
        "CP-2026-14",
        date(2026, 4, 2),
    )
    line.save()
    client.force_login(editor)
    text = _letter(client, dossier)
    assert "notification de la subvention de Pays de Montbéliard Agglomération" in text
    assert (
        "vous notifier l'attribution par Pays de Montbéliard Agglomération d'une subvention de 5 500,50 €"
        in text
    )
    notified, informed = text.split("Pour information : décisions des autres financeurs")
    assert "5 500,50 €" in notified and "12 000,00 €" not in notified
    # (table cells wrap in the extracted text: each row read from its amount on)
    assert "2026 12 000,00 € sous réserve des décisions de" in informed
    assert informed.count("sous réserve des décisions de") == 2  # the note and the State
    assert "CAF du Doubs 2026 3 000,00 € Délibération n° CP-2026-14 du 02/04/2026" in informed
    assert "Total des financements votés 20 500,50 €" in informed
    assert "Ville" not in informed  # no vote, nothing to say
    assert "Le Président de PMA" in informed


def test_the_service_prepares_a_letter_for_a_partner(client, editor, dossier, etat, pma):
    client.force_login(editor)
    text = _letter(client, dossier, etat)
    assert "notification de la subvention de Préfecture du Doubs – BOP 147" in text
    notified, informed = text.split("Pour information : décisions des autres financeurs")
    assert "12 000,00 €" in notified and "5 500,50 €" not in notified
    assert "2026 5 500,50 € sous réserve des décisions de" in informed
    assert "2026 3 000,00 € sous réserve des décisions de leurs instances" in informed
    assert "Pour Préfecture du Doubs – BOP 147" in informed
    assert "Le Président de PMA" not in text
    # A funder that voted nothing has no letter: the collectivité's is given.
    other = OrganisationFactory(nom="Inconnu")
    assert "notification de la subvention de Pays de Montbéliard" in _letter(client, dossier, other)


def test_the_dossier_page_offers_one_letter_per_funder_the_collectivite_first(
    client, editor, dossier, etat, pma
):
    client.force_login(editor)
    cycle = client.get(dossier.get_absolute_url()).context["cycle"]
    assert cycle["lettres"] == [pma, dossier.caf, etat]


@pytest.fixture
def line(dossier, etat):
    return dossier.financements.get(financeur=etat)


def test_the_chef_de_service_records_the_funders_act(client, manager, line):
    client.force_login(manager)
    url = reverse("cvu:financement_acte", args=[line.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"acte_type": "arrete", "acte_numero": " 2026-114 ", "acte_date": "2026-05-12"}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.acte == "Arrêté n° 2026-114 du 12/05/2026"
    assert line.history.latest().history_user == manager
    page = client.get(line.action.get_absolute_url()).content.decode()
    assert "Acte d'attribution : Arrêté n° 2026-114 du 12/05/2026" in page
    # Cleared with three empty fields.
    client.post(url, {"acte_type": "", "acte_numero": "", "acte_date": ""})
    line.refresh_from_db()
    assert (line.acte_type, line.acte_numero, line.acte_date, line.acte) == ("", "", None, "")


def test_an_incomplete_or_future_act_is_refused_and_nothing_is_saved(client, manager, line):
    client.force_login(manager)
    url = reverse("cvu:financement_acte", args=[line.pk])
    response = client.post(url, {"acte_type": "arrete", "acte_numero": "", "acte_date": ""})
    assert response.status_code == 400
    message = "Indiquez le type, le numéro et la date de l'acte."
    assert response.context["form"].errors == {"acte_numero": [message], "acte_date": [message]}
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        url, {"acte_type": "arrete", "acte_numero": "1", "acte_date": tomorrow.isoformat()}
    )
    assert response.context["form"].errors == {
        "acte_date": ["La date de l'acte ne peut pas être dans le futur."]
    }
    line.refresh_from_db()
    assert line.acte == ""
    # The service refuses the same, whoever calls it.
    from cvu import payments

    with pytest.raises(Exception, match="Indiquez le type, le numéro et la date"):
        payments.record_acte(line, user=manager, acte_type="arrete", acte_numero="", acte_date=None)
    with pytest.raises(Exception, match="dans le futur"):
        payments.record_acte(
            line, user=manager, acte_type="arrete", acte_numero="1", acte_date=tomorrow
        )


def test_only_managers_record_an_act(client, editor, line, reader):
    from cvu import payments

    for user in (editor, reader):
        client.force_login(user)
        url = reverse("cvu:financement_acte", args=[line.pk])
        assert client.get(url).status_code == 403
        data = {"acte_type": "arrete", "acte_numero": "1", "acte_date": "2026-01-02"}
        assert client.post(url, data).status_code == 403
        with pytest.raises(Exception, match="chef de service|droit|autoris"):
            payments.record_acte(
                line, user=user, acte_type="arrete", acte_numero="1", acte_date=date(2026, 1, 2)
            )
    line.refresh_from_db()
    assert line.acte == ""
    client.force_login(editor)
    assert "Enregistrer l'acte" not in client.get(line.action.get_absolute_url()).content.decode()


def test_calls_on_the_former_default_letter_get_the_new_one(contrat):
    migration = importlib.import_module("cvu.migrations.0011_notification_par_financeur")
    former = AppelFactory(
        contrat=contrat, annee=2025, courrier_notification=migration.FORMER_LETTER
    )
    edited = AppelFactory(contrat=contrat, annee=2024, courrier_notification="Texte $porteur.")
    migration.new_default_letter(apps, None)
    assert AppelAProjets.objects.get(pk=former.pk).courrier_notification == DEFAULT_LETTER
    assert AppelAProjets.objects.get(pk=edited.pk).courrier_notification == "Texte $porteur."
