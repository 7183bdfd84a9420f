"""The call for projects, end to end: import, instruction, committee, notification, bilan."""

import html
import io
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cvu import aap, dauphin
from cvu.dauphin import guess_mapping, plan_import, read_table
from cvu.digest import digest_for
from cvu.models import (
    Action,
    AppelAProjets,
    AvisFinanceur,
    Bilan,
    DecisionComite,
    Financement,
    Instruction,
    TransitionStatut,
)
from tests.cvu.aap_factories import (
    SIRET_ASSO,
    SIRET_CS,
    AppelFactory,
    ComiteFactory,
    EnveloppeFactory,
    siret,
    table,
)
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory
from tests.pdf_checks import assert_tagged_pdf

pytestmark = pytest.mark.django_db
S = Action.Statut

HEADERS = [
    "N° dossier",
    "Raison sociale",
    "N° SIRET",
    "Intitulé de l'action",
    "Exercice",
    "Montant sollicité État",
    "Montant sollicité PMA",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads (kept import files, Cerfa) go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path


def dauphin_file(*rows, headers=HEADERS, fmt="xlsx") -> bytes:
    return table([headers, *rows], fmt=fmt)


GOOD_ROWS = [
    [
        "2026-001",
        "Centre social Petite-Hollande",
        SIRET_CS,
        "Accompagnement scolaire",
        2026,
        12000,
        8000,
    ],
    ["2026-002", "Association Les Buis", SIRET_ASSO, "Jardins partagés", 2026, "3 500,50 €", None],
]


def mapping_for(appel, data=None):
    data = data or dauphin_file(*GOOD_ROWS)
    parsed = read_table(data)
    return parsed, guess_mapping(parsed.headers, [e.financeur for e in appel.enveloppes.all()])


def post_mapping(mapping: dict) -> dict:
    return {key: "" if value is None else str(value) for key, value in mapping.items()}


def import_through_pages(client, appel, data, name="dauphin.xlsx"):
    """Upload, then preview with the guessed mapping, then confirm; returns the last response."""
    url = reverse("cvu:aap_import", args=[appel.pk])
    response = client.post(url, {"fichier": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    token = response.context["token"]
    mapping = response.context["mapping_form"].initial
    preview = client.post(url, {"token": token, "apercu": "1", **post_mapping(mapping)})
    assert preview.context["plan"].ok, [line.errors for line in preview.context["plan"].lignes]
    return client.post(url, {"token": token, "confirmer": "1", **post_mapping(mapping)})


def text_of(response) -> str:
    """The page's text, entities decoded and narrow or non-breaking spaces as plain spaces."""
    text = html.unescape(response.content.decode())
    return text.replace("\u202f", " ").replace("\xa0", " ")


page = text_of


def pdf_text(data: bytes) -> str:
    return (
        subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
        )
        .stdout.decode()
        .replace("\u202f", " ")
        .replace("\xa0", " ")
    )


# ---------------------------------------------------------------- the whole cycle


def test_full_cycle_from_import_to_solde(
    client, manager, editor, appel, porteurs, qpv, etat, pma, media
):
    client.force_login(manager)
    response = import_through_pages(client, appel, dauphin_file(*GOOD_ROWS))
    assert response.status_code == 302
    dossier = Action.objects.get(numero_dauphin="2026-001")
    assert dossier.appel == appel and dossier.statut == S.DEPOSE
    assert {f.financeur: f.montant_demande for f in dossier.financements.all()} == {
        etat: Decimal("12000.00"),
        pma: Decimal("8000.00"),
    }
    dossier.referent = editor
    dossier.save()
    dossier.qpvs.set([qpv])

    # Instruction by the referent chef de projet, with a co-funder's opinion.
    client.force_login(editor)
    url = reverse("cvu:dossier_instruction", args=[dossier.pk])
    lines = list(dossier.financements.order_by("financeur__nom"))
    data = {
        **{f"{key}_note": "3" for key in ("objectifs", "qpv", "public", "capacite", "faisabilite")},
        "budget_note": "2",
        "budget_commentaire": "Budget serré mais réaliste",
        "avis": "favorable",
        "synthese": "Action utile",
        "avis-TOTAL_FORMS": "1",
        "avis-INITIAL_FORMS": "0",
        "avis-0-financeur": str(pma.pk),
        "avis-0-avis": "reserve",
        "avis-0-commentaire": "Réduire le budget",
        "prop-TOTAL_FORMS": str(len(lines)),
        "prop-INITIAL_FORMS": str(len(lines)),
        **{f"prop-{i}-id": str(line.pk) for i, line in enumerate(lines)},
        "prop-0-montant_propose": "12 000",
        "prop-1-montant_propose": "6 000,00",
        "terminer": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.statut == S.INSTRUIT
    assert dossier.instruction.total == 17
    assert AvisFinanceur.objects.get(action=dossier).avis == "reserve"

    # The committee, by the chef de service.
    client.force_login(manager)
    response = client.post(
        reverse("cvu:comite_create", args=[appel.pk]),
        {"date": "2026-03-15", "lieu": "Hôtel d'agglomération", "dossiers": [dossier.pk]},
    )
    comite = appel.comites.get()
    assert response.status_code == 302
    page = client.get(comite.get_absolute_url())
    assert page.status_code == 200
    line_etat = dossier.financements.get(financeur=etat)
    line_pma = dossier.financements.get(financeur=pma)
    response = client.post(
        comite.get_absolute_url(),
        {
            f"sens_{dossier.pk}": "programme",
            f"commentaire_{dossier.pk}": "Retenu",
            f"vote_{line_etat.pk}": "12 000",
            f"vote_{line_pma.pk}": "5 500,50",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    dossier.refresh_from_db()
    assert dossier.statut == S.PROGRAMME
    line_pma.refresh_from_db()
    assert line_pma.montant_vote == Decimal("5500.50")
    assert DecisionComite.objects.get(comite=comite, action=dossier).sens == "programme"

    # Notification letter, then the cycle goes on on the dossier's page.
    client.force_login(editor)
    response = client.get(reverse("cvu:dossier_notification", args=[dossier.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert_tagged_pdf(response.content)
    text = pdf_text(response.content)
    assert "12 000,00 €" in text and "5 500,50 €" in text and "17 500,50 €" in text
    assert "30 juin 2027" in text
    statut_url = reverse("cvu:dossier_statut", args=[dossier.pk])
    client.post(statut_url, {"vers": "notifie"})
    dossier.refresh_from_db()
    assert dossier.statut == S.NOTIFIE and dossier.date_limite_bilan == date(2027, 6, 30)
    client.post(statut_url, {"vers": "en_cours"})

    # The bilan, with the Cerfa and the realised budget per funder.
    response = client.post(
        reverse("cvu:dossier_bilan", args=[dossier.pk]),
        {
            "recu_le": "2027-05-02",
            "rapport": "120 enfants accompagnés",
            "cout_realise": "18 000",
            f"realise_{line_etat.pk}": "12 000",
            f"realise_{line_pma.pk}": "5 000",
            "fichier": SimpleUploadedFile("cerfa-15059.pdf", b"%PDF-1.4 bilan"),
            "ind-TOTAL_FORMS": "0",
            "ind-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    dossier.refresh_from_db()
    assert dossier.statut == S.BILAN_RECU
    bilan = Bilan.objects.get(action=dossier)
    assert bilan.cerfa.nom == "cerfa-15059.pdf"
    assert bilan.lignes.get(financement=line_pma).montant_realise == Decimal("5000.00")
    client.post(statut_url, {"vers": "solde"})
    dossier.refresh_from_db()
    assert dossier.statut == S.SOLDE
    steps = list(TransitionStatut.objects.filter(action=dossier).values_list("vers", flat=True))
    assert steps == [
        "en_instruction",
        "instruit",
        "programme",
        "notifie",
        "en_cours",
        "bilan_attendu",
        "bilan_recu",
        "solde",
    ]
    assert all(t.par_id for t in TransitionStatut.objects.filter(action=dossier))
    page = client.get(dossier.get_absolute_url())
    assert "Historique du cycle" in text_of(page)


# ---------------------------------------------------------------- the workflow


@pytest.fixture
def dossier(appel, editor, qpv, etat):
    action = ActionFactory(
        contrat=appel.contrat, appel=appel, referent=editor, qpvs=[qpv], numero_dauphin="D-1"
    )
    FinancementFactory(action=action, financeur=etat, montant_demande=Decimal("10000.00"))
    return action


def test_skipping_a_step_is_refused_with_the_next_possible_steps(dossier, editor):
    with pytest.raises(ValidationError) as error:
        aap.change_status(dossier, S.NOTIFIE, user=editor)
    message = error.value.messages[0]
    assert "« Déposé » ne peut pas passer à « Notifié »" in message
    assert "« En instruction »" in message and "« Retiré »" in message
    assert not TransitionStatut.objects.exists()


def test_going_back_needs_a_justified_reopening_by_the_chef_de_service(dossier, editor, manager):
    aap.change_status(dossier, S.EN_INSTRUCTION, user=editor)
    with pytest.raises(ValidationError, match="réouverture motivée par le chef de service"):
        aap.change_status(dossier, S.DEPOSE, user=editor)
    with pytest.raises(ValidationError, match="motif de la réouverture"):
        aap.change_status(dossier, S.DEPOSE, user=manager)
    transition = aap.change_status(dossier, S.DEPOSE, user=manager, motif="Pièces manquantes")
    assert transition.derogation and transition.motif == "Pièces manquantes"
    dossier.refresh_from_db()
    assert dossier.statut == S.DEPOSE


def test_instruit_needs_a_complete_grid(dossier, editor):
    aap.change_status(dossier, S.EN_INSTRUCTION, user=editor)
    Instruction.objects.create(action=dossier, objectifs_note=3, avis="favorable")
    with pytest.raises(ValidationError, match="six critères"):
        aap.change_status(dossier, S.INSTRUIT, user=editor)


def test_withdrawal_only_before_notification(dossier, editor):
    aap.change_status(dossier, S.RETIRE, user=editor)
    dossier.refresh_from_db()
    assert dossier.statut == S.RETIRE
    dossier.statut = S.NOTIFIE
    dossier.save()
    with pytest.raises(ValidationError, match="ne peut pas passer à « Retiré »"):
        aap.change_status(dossier, S.RETIRE, user=editor)


def test_chef_de_projet_cannot_programme_nor_touch_another_sector(dossier, editor, outsider):
    dossier.statut = S.INSTRUIT
    dossier.save()
    with pytest.raises(PermissionDenied, match="décidée en comité"):
        aap.change_status(dossier, S.PROGRAMME, user=editor)
    with pytest.raises(PermissionDenied):
        aap.change_status(dossier, S.RETIRE, user=outsider)


def test_status_page_refuses_a_skip_with_a_french_message(client, dossier, editor):
    client.force_login(editor)
    response = client.post(
        reverse("cvu:dossier_statut", args=[dossier.pk]), {"vers": "solde"}, follow=True
    )
    assert "ne peut pas passer à « Soldé »" in page(response)
    dossier.refresh_from_db()
    assert dossier.statut == S.DEPOSE


def test_status_change_by_another_sector_is_403(client, dossier, outsider):
    client.force_login(outsider)
    response = client.post(reverse("cvu:dossier_statut", args=[dossier.pk]), {"vers": "retire"})
    assert response.status_code == 403


def test_action_form_cannot_bypass_the_cycle(client, dossier, editor):
    from tests.cvu.test_actions import _form_data

    client.force_login(editor)
    data = _form_data(dossier, statut="solde", date_limite_bilan="2027-09-30")
    response = client.post(reverse("cvu:action_update", args=[dossier.pk]), data)
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.statut == S.DEPOSE  # the posted status is ignored
    assert dossier.date_limite_bilan is None  # the deadline is the chef de service's


def test_new_dossier_of_a_call_must_start_depose(client, editor, appel, qpv, etat):
    from tests.cvu.test_actions import _form_data

    action = ActionFactory(contrat=appel.contrat, qpvs=[qpv], referent=editor)
    FinancementFactory(action=action, financeur=etat)
    data = _form_data(action, appel=appel.pk, statut="programme")
    client.force_login(editor)
    response = client.post(reverse("cvu:action_update", args=[action.pk]), data)
    assert "commence « Déposé »" in page(response)
    data["statut"] = "depose"
    assert client.post(reverse("cvu:action_update", args=[action.pk]), data).status_code == 302
    action.refresh_from_db()
    assert action.appel == appel


def test_action_list_filters_late_bilans_and_calls(client, manager, dossier, appel, editor):
    late = _late_dossier(dossier.porteur, appel, editor)
    client.force_login(manager)
    response = client.get(reverse("cvu:action_list"), {"bilan": "en_retard"})
    assert late.titre in page(response) and dossier.titre not in page(response)
    response = client.get(reverse("cvu:action_list"), {"appel": appel.pk})
    assert dossier.titre in page(response) and late.titre not in page(response)


# ---------------------------------------------------------------- bilans and conventions


def _late_dossier(porteur, appel, editor):
    return ActionFactory(
        contrat=appel.contrat,
        porteur=porteur,
        annee=2025,
        appel=None,
        referent=editor,
        statut=S.EN_COURS,
        date_limite_bilan=timezone.localdate() - timedelta(days=1),
        titre="Ancienne action",
    )


def test_late_bilan_blocks_programming_unless_chef_de_service_overrides(
    dossier, manager, appel, editor
):
    _late_dossier(dossier.porteur, appel, editor)
    dossier.statut = S.INSTRUIT
    dossier.save()
    dossier.financements.update(montant_vote=Decimal("8000.00"))
    with pytest.raises(ValidationError, match="n'a pas rendu le bilan de « Ancienne action »"):
        aap.change_status(dossier, S.PROGRAMME, user=manager)
    transition = aap.change_status(
        dossier, S.PROGRAMME, user=manager, motif="Bilan annoncé pour la semaine prochaine"
    )
    assert transition.derogation


def test_late_bilan_in_committee_needs_a_reason(client, dossier, manager, appel, editor):
    _late_dossier(dossier.porteur, appel, editor)
    dossier.statut = S.INSTRUIT
    dossier.save()
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier])
    line = dossier.financements.get()
    client.force_login(manager)
    data = {f"sens_{dossier.pk}": "programme", f"vote_{line.pk}": "5000"}
    response = client.post(comite.get_absolute_url(), data)
    assert response.status_code == 200
    assert "indiquez le motif de la dérogation" in page(response)
    dossier.refresh_from_db()
    line.refresh_from_db()
    assert dossier.statut == S.INSTRUIT and line.montant_vote is None  # nothing half-saved
    response = client.post(
        comite.get_absolute_url(), {**data, f"derogation_{dossier.pk}": "Bilan reçu oralement"}
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.statut == S.PROGRAMME


def test_above_23000_euros_a_convention_is_required(dossier, editor, etat):
    dossier.statut = S.NOTIFIE
    dossier.save()
    dossier.financements.update(montant_vote=Decimal("20000.00"))
    # A second grant from the same funder to the same porteur the same year adds up.
    other = ActionFactory(contrat=dossier.contrat, porteur=dossier.porteur, statut=S.EN_COURS)
    FinancementFactory(action=other, financeur=etat, montant_demande=5000, montant_vote=5000)
    assert aap.conventions_required(dossier) == [(f"{etat.nom} 2026", Decimal("25000.00"))]
    with pytest.raises(ValidationError, match="convention est obligatoire"):
        aap.change_status(dossier, S.EN_COURS, user=editor)
    aap.change_status(dossier, S.CONVENTIONNE, user=editor)
    dossier.refresh_from_db()
    aap.change_status(dossier, S.EN_COURS, user=editor)


def test_bilan_recu_needs_the_bilan(dossier, editor):
    dossier.statut = S.BILAN_ATTENDU
    dossier.save()
    with pytest.raises(ValidationError, match="Saisissez d'abord le bilan"):
        aap.change_status(dossier, S.BILAN_RECU, user=editor)


# ---------------------------------------------------------------- envelopes and committee


def test_envelope_arithmetic_is_exact(appel, etat, pma, porteurs):
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("33333.33")]
    for amount in amounts:
        action = ActionFactory(contrat=appel.contrat, appel=appel, statut=S.PROGRAMME)
        FinancementFactory(
            action=action, financeur=etat, montant_demande=amount, montant_vote=amount
        )
    refused = ActionFactory(contrat=appel.contrat, appel=appel, statut=S.REFUSE)
    FinancementFactory(action=refused, financeur=etat, montant_demande=999, montant_vote=999)
    lines = {line.financeur: line for line in aap.envelopes(appel)}
    assert lines[etat].vote == Decimal("33333.63")
    assert lines[etat].reste == Decimal("16666.37")
    assert lines[etat].demande == Decimal("34332.63")
    assert lines[pma].vote == Decimal("0") and lines[pma].reste == Decimal("30000.00")


def test_overrun_is_shown_and_needs_confirmation(client, manager, appel, etat, dossier):
    dossier.statut = S.INSTRUIT
    dossier.save()
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier])
    line = dossier.financements.get()
    client.force_login(manager)
    data = {f"sens_{dossier.pk}": "programme", f"vote_{line.pk}": "60 000"}
    response = client.post(comite.get_absolute_url(), data)
    assert response.status_code == 200
    html = text_of(response)
    assert "Dépassement d'enveloppe" in html and "10 000,00" in html
    line.refresh_from_db()
    assert line.montant_vote is None
    response = client.post(comite.get_absolute_url(), {**data, "confirmer": "on"})
    assert response.status_code == 302
    assert DecisionComite.objects.get().depassement_confirme


def test_committee_refuses_negative_and_non_numeric_amounts(client, manager, appel, dossier):
    dossier.statut = S.INSTRUIT
    dossier.save()
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier])
    line = dossier.financements.get()
    client.force_login(manager)
    for value, message in (("-5", "ne peut pas être négatif"), ("abc", "n'est pas un nombre")):
        response = client.post(
            comite.get_absolute_url(), {f"sens_{dossier.pk}": "programme", f"vote_{line.pk}": value}
        )
        assert message in page(response)
        assert f'value="{value}"' in page(response)  # what was typed is kept
    dossier.refresh_from_db()
    assert dossier.statut == S.INSTRUIT


def test_committee_data_attributes_are_not_localised_for_large_ids(client, manager, appel):
    """The live envelope script matches funders (and funding lines) by id: "1234-" for the
    funder's envelope without a line, not "1 234"."""
    big = OrganisationFactory(pk=1234, nom="Grand financeur")
    EnveloppeFactory(appel=appel, financeur=big, montant=Decimal("1000.00"))
    dossier = ActionFactory(contrat=appel.contrat, appel=appel, statut=S.INSTRUIT, pk=2345)
    FinancementFactory(action=dossier, financeur=big, montant_demande=Decimal("500.00"))
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier])
    client.force_login(manager)
    page = client.get(comite.get_absolute_url()).content.decode()
    assert page.count('data-financeur="1234-"') == 3  # envelopes table, remainders, vote input
    assert 'data-dossier="2345"' in page
    assert "1\u202f234" not in page and "2\u202f345" not in page


def test_committee_page_is_read_only_for_chef_de_projet(client, editor, appel, dossier):
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier])
    client.force_login(editor)
    assert client.get(comite.get_absolute_url()).status_code == 200
    assert client.post(comite.get_absolute_url(), {}).status_code == 403


# ---------------------------------------------------------------- the Dauphin import


def test_mapping_is_guessed_from_dauphin_headers(appel, etat, pma):
    parsed, mapping = mapping_for(appel)
    assert mapping["numero"] == 0 and mapping["porteur"] == 1 and mapping["siret"] == 2
    assert mapping["titre"] == 3 and mapping["annee"] == 4
    # The Préfecture's column is found through its type, "État".
    assert mapping[f"financeur_{etat.pk}"] == 5 and mapping[f"financeur_{pma.pk}"] == 6


def test_reimport_updates_instead_of_duplicating(appel, porteurs, etat, pma):
    parsed, mapping = mapping_for(appel)
    aap_plan = plan_import(table=parsed, mapping=mapping, appel=appel)
    from cvu.dauphin import apply_import

    apply_import(plan=aap_plan, appel=appel)
    assert Action.objects.filter(appel=appel).count() == 2
    rows = [list(GOOD_ROWS[0]), list(GOOD_ROWS[1])]
    rows[0][5] = 13000
    parsed = read_table(dauphin_file(*rows))
    second = plan_import(table=parsed, mapping=mapping, appel=appel)
    assert second.updated == 1 and second.unchanged == 1 and second.created == 0
    history = Action.history.count(), Financement.history.count()
    apply_import(plan=second, appel=appel)
    # Only the changed amount is written: no history for the unchanged dossier.
    assert (Action.history.count(), Financement.history.count()) == (history[0], history[1] + 1)
    assert Action.objects.filter(appel=appel).count() == 2
    assert Financement.objects.get(
        action__numero_dauphin="2026-001", financeur=etat
    ).montant_demande == Decimal("13000.00")
    assert Financement.objects.filter(action__appel=appel).count() == 3


def test_csv_with_french_amounts(appel, porteurs, pma):
    data = dauphin_file(*GOOD_ROWS, fmt="csv")
    parsed, mapping = mapping_for(appel, data)
    plan = plan_import(table=parsed, mapping=mapping, appel=appel)
    assert plan.ok
    assert plan.lignes[0].montants[pma.pk] == Decimal("8000.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({6: "-100"}, "montant demandé à PMA : un montant ne peut pas être négatif"),
        ({6: "douze"}, "montant demandé à PMA : « douze » n'est pas un montant"),
        ({5: None, 6: "0"}, "aucun montant demandé"),
        # An unknown porteur the person unticked in the "à créer" list.
        ({2: siret("9999999999999")}, "cochez « créer » dans la liste des porteurs à créer"),
        ({2: "42424242424243"}, "SIRET « 42424242424243 »"),
        ({0: "2026-002"}, "figure plusieurs fois dans le fichier"),
        ({4: 2025}, "cet appel à projets porte sur l'exercice 2026"),
        ({3: ""}, "intitulé de l'action manquant"),
    ],
)
def test_bad_rows_get_french_errors_and_nothing_is_written(
    client, manager, appel, porteurs, change, message
):
    row = list(GOOD_ROWS[0])
    for index, value in change.items():
        row[index] = value
    data = dauphin_file(row, GOOD_ROWS[1])
    client.force_login(manager)
    url = reverse("cvu:aap_import", args=[appel.pk])
    response = client.post(url, {"fichier": SimpleUploadedFile("d.xlsx", data)})
    token, mapping = response.context["token"], response.context["mapping_form"].initial
    response = client.post(
        url, {"token": token, "confirmer": "1", "porteurs_vus": "1", **post_mapping(mapping)}
    )
    assert response.status_code == 200
    assert message in page(response)
    assert not Action.objects.filter(appel=appel).exists()


def test_unreadable_or_wrong_type_files(client, manager, appel):
    client.force_login(manager)
    url = reverse("cvu:aap_import", args=[appel.pk])
    response = client.post(url, {"fichier": SimpleUploadedFile("d.ods", b"x")})
    assert "au format .xlsx ou .csv" in page(response)
    response = client.post(url, {"fichier": SimpleUploadedFile("d.xlsx", b"PK\x03\x04broken")})
    assert "n'a pas pu être lu" in page(response)


def test_import_is_for_the_chef_de_service(client, editor, appel):
    client.force_login(editor)
    assert client.get(reverse("cvu:aap_import", args=[appel.pk])).status_code == 403


# ---------------------------------------------------------------- the call's pages


def test_reversed_dates_are_refused(client, manager, contrat):
    client.force_login(manager)
    response = client.post(
        reverse("cvu:aap_create"),
        {
            "nom": "AAP 2027",
            "contrat": contrat.pk,
            "annee": 2027,
            "date_ouverture": "2026-11-30",
            "date_cloture": "2026-10-01",
            "statut": "en_preparation",
            "courrier_notification": "Bonjour $porteur",
            "signataire": "Le Président",
            "env-TOTAL_FORMS": "1",
            "env-INITIAL_FORMS": "0",
            "env-0-financeur": "",
            "env-0-montant": "",
        },
    )
    assert response.status_code == 200
    assert "La clôture du dépôt doit suivre son ouverture" in page(response)
    assert not AppelAProjets.objects.exists()


def test_letter_with_unknown_variable_is_refused(client, manager, contrat, etat):
    client.force_login(manager)
    response = client.post(
        reverse("cvu:aap_create"),
        {
            "nom": "AAP 2027",
            "contrat": contrat.pk,
            "annee": 2027,
            "date_ouverture": "2026-10-01",
            "date_cloture": "2026-11-30",
            "statut": "ouvert",
            "courrier_notification": "Bonjour $destinataire",
            "signataire": "Le Président",
            "env-TOTAL_FORMS": "1",
            "env-INITIAL_FORMS": "0",
            "env-0-financeur": str(etat.pk),
            "env-0-montant": "-10",
        },
    )
    html = text_of(response)
    assert "Variable(s) inconnue(s) : $destinataire" in html
    assert "ne peut pas être négatif" in html


def test_create_call_with_envelopes(client, manager, contrat, etat):
    client.force_login(manager)
    response = client.post(
        reverse("cvu:aap_create"),
        {
            "nom": "AAP 2027",
            "contrat": contrat.pk,
            "annee": 2027,
            "date_ouverture": "2026-10-01",
            "date_cloture": "2026-11-30",
            "statut": "ouvert",
            "courrier_notification": "Bonjour $porteur",
            "signataire": "Le Président",
            "env-TOTAL_FORMS": "1",
            "env-INITIAL_FORMS": "0",
            "env-0-financeur": str(etat.pk),
            "env-0-montant": "120 000,00",
        },
    )
    assert response.status_code == 302
    assert AppelAProjets.objects.get().enveloppes.get().montant == Decimal("120000.00")


@pytest.mark.parametrize("role", ["editor", "reader"])
def test_only_the_chef_de_service_prepares_calls(client, request, role, appel):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("cvu:aap_create")).status_code == 403
    assert client.get(reverse("cvu:aap_update", args=[appel.pk])).status_code == 403
    assert client.get(reverse("cvu:comite_create", args=[appel.pk])).status_code == 403


def test_direction_reads_everything_and_changes_nothing(client, reader, dossier, appel):
    client.force_login(reader)
    for name, args in (
        ("cvu:aap_list", []),
        ("cvu:aap_detail", [appel.pk]),
        ("cvu:dossier_instruction", [dossier.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 200
    assert client.post(reverse("cvu:dossier_instruction", args=[dossier.pk]), {}).status_code == 403
    assert (
        client.post(
            reverse("cvu:dossier_statut", args=[dossier.pk]), {"vers": "retire"}
        ).status_code
        == 403
    )


def test_programming_table_export(client, manager, appel, dossier, etat, pma):
    import io

    from openpyxl import load_workbook

    dossier.financements.update(montant_vote=Decimal("7500.25"))
    client.force_login(manager)
    response = client.get(reverse("cvu:aap_detail", args=[appel.pk]), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    headers = rows[0]
    assert f"{etat.nom} demandé" in headers and "PMA voté" in headers
    row = dict(zip(headers, rows[1], strict=False))
    assert row[f"{etat.nom} voté"] == 7500.25 and row["PMA demandé"] is None


def test_mes_dossiers_lists_mine_only(client, editor, outsider, dossier):
    client.force_login(editor)
    assert dossier.titre in text_of(client.get(reverse("cvu:mes_dossiers")))
    client.force_login(outsider)
    assert dossier.titre not in text_of(client.get(reverse("cvu:mes_dossiers")))


# ---------------------------------------------------------------- digest


def test_digest_lists_my_dossiers_and_nobody_elses(dossier, editor, outsider, appel, etat):
    today = timezone.localdate()
    late = ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        referent=editor,
        statut=S.EN_COURS,
        date_limite_bilan=today - timedelta(days=3),
        titre="Bilan oublié",
    )
    soon = ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        referent=editor,
        statut=S.BILAN_ATTENDU,
        date_limite_bilan=today + timedelta(days=20),
        titre="Bilan proche",
    )
    convention = ActionFactory(
        contrat=appel.contrat, appel=appel, referent=editor, statut=S.NOTIFIE
    )
    FinancementFactory(action=convention, financeur=etat, montant_demande=30000, montant_vote=30000)
    ComiteFactory(appel=appel, date=today + timedelta(days=10))
    mine = digest_for(editor)
    assert mine["a_instruire"] == [dossier]
    assert mine["bilans_en_retard"] == [late] and mine["bilans_proches"] == [soon]
    assert mine["conventions"] == [convention]
    assert len(mine["comites"]) == 1
    theirs = digest_for(outsider)
    assert not any(
        theirs[key]
        for key in ("a_instruire", "bilans_en_retard", "bilans_proches", "conventions", "comites")
    )


# ---------------------------------------------------------------- query counts


def _many(appel, count, etat, pma):
    for _ in range(count):
        action = ActionFactory(contrat=appel.contrat, appel=appel, statut=S.INSTRUIT)
        FinancementFactory(action=action, financeur=etat, montant_demande=1000)
        FinancementFactory(action=action, financeur=pma, montant_demande=500)
    return appel


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_call_and_committee_pages_query_counts_do_not_grow(client, manager, appel, etat, pma):
    client.force_login(manager)
    comite = ComiteFactory(appel=appel)
    _many(appel, 10, etat, pma)
    comite.dossiers.set(appel.dossiers.all())
    small = (
        _queries(client, appel.get_absolute_url()),
        _queries(client, comite.get_absolute_url()),
    )
    _many(appel, 90, etat, pma)
    comite.dossiers.set(appel.dossiers.all())
    large = (
        _queries(client, appel.get_absolute_url()),
        _queries(client, comite.get_absolute_url()),
    )
    assert small == large
    # The call page: 19 queries and the data's version (core.versions); far fewer once cached.
    assert small[0] <= 20 and small[1] < 25


def test_dossier_pages_query_counts_do_not_grow(client, editor, appel, dossier, etat, pma):
    client.force_login(editor)
    urls = [
        reverse("cvu:mes_dossiers"),
        reverse("cvu:dossier_instruction", args=[dossier.pk]),
        dossier.get_absolute_url(),
    ]
    small = [_queries(client, url) for url in urls]
    for n in range(30):
        other = ActionFactory(
            contrat=appel.contrat, appel=appel, referent=editor, porteur=dossier.porteur
        )
        FinancementFactory(action=other, financeur=pma, montant_demande=100)
        AvisFinanceur.objects.create(
            action=dossier, financeur=OrganisationFactory(), avis="favorable"
        ) if n < 5 else None
        TransitionStatut.objects.create(
            action=dossier, de="depose", vers="en_instruction", par=editor
        )
    large = [_queries(client, url) for url in urls]
    assert small == large


def test_postponed_and_refused_dossiers_get_no_vote(client, manager, appel, dossier, etat):
    other = ActionFactory(contrat=appel.contrat, appel=appel, statut=S.INSTRUIT)
    other_line = FinancementFactory(action=other, financeur=etat, montant_demande=4000)
    dossier.statut = S.INSTRUIT
    dossier.save()
    comite = ComiteFactory(appel=appel)
    comite.dossiers.set([dossier, other])
    line = dossier.financements.get()
    client.force_login(manager)
    response = client.post(
        comite.get_absolute_url(),
        {
            f"sens_{dossier.pk}": "ajourne",
            f"vote_{line.pk}": "60 000",  # typed, but postponed: no vote, no overrun
            f"sens_{other.pk}": "refuse",
            f"vote_{other_line.pk}": "4 000",
        },
    )
    assert response.status_code == 302
    line.refresh_from_db()
    other_line.refresh_from_db()
    assert line.montant_vote is None and other_line.montant_vote is None
    assert set(Action.objects.values_list("statut", flat=True)) == {S.AJOURNE, S.REFUSE}


def test_digest_queries_do_not_grow_with_dossiers(editor, appel, etat):
    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            digest_for(editor)
        return len(context.captured_queries)

    def notified(n):
        for _ in range(n):
            action = ActionFactory(
                contrat=appel.contrat, appel=appel, referent=editor, statut=S.NOTIFIE
            )
            FinancementFactory(action=action, financeur=etat, montant_demande=1, montant_vote=1)

    notified(1)
    small = count()
    notified(10)
    assert count() == small


def test_chef_de_service_assigns_a_referent_to_imported_dossiers(client, manager, editor, appel):
    dossiers = [ActionFactory(contrat=appel.contrat, appel=appel) for _ in range(3)]
    other_call = ActionFactory(
        contrat=appel.contrat, appel=AppelFactory(contrat=appel.contrat, annee=2025)
    )
    client.force_login(manager)
    page = client.get(appel.get_absolute_url()).content.decode()
    assert "3 sans référent" in page
    url = reverse("cvu:aap_assign", args=[appel.pk])
    response = client.post(
        url, {"referent": editor.pk, "dossiers": [dossiers[0].pk, dossiers[1].pk, other_call.pk]}
    )
    assert response.status_code == 302
    assert {a.pk for a in Action.objects.filter(referent=editor)} == {
        dossiers[0].pk,
        dossiers[1].pk,
    }
    assert Action.history.filter(id=dossiers[0].pk, referent=editor).exists()  # kept in history
    client.post(url, {"referent": "", "dossiers": [dossiers[2].pk]}, follow=True)
    assert Action.objects.get(pk=dossiers[2].pk).referent is None
    # The referent can now instruct them.
    client.force_login(editor)
    instruction = reverse("cvu:dossier_instruction", args=[dossiers[0].pk])
    assert "Consultation" not in client.get(instruction).content.decode()
    assert (
        client.post(url, {"referent": editor.pk, "dossiers": [dossiers[2].pk]}).status_code == 403
    )


def messy_dauphin_workbook() -> bytes:
    """A Dauphin export as people keep it: title, blank line, French amounts, a formula, a
    script cell, a repeated number, a total row and a column nobody maps."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Export Dauphin – appel 2026"])
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append([*HEADERS, "Commentaire interne"])
    sheet.append(
        ["2026-001", "Centre social", SIRET_CS, "Accompagnement", 2026, "12.000 €", "4 500,00", "x"]
    )
    sheet.append(["2026-002", "Les Buis", SIRET_ASSO, "=1+1", 2026, "1 000", None, None])
    sheet.cell(row=5, column=4).data_type = "s"  # the text '=1+1', not a formula
    sheet.append(["2026-001", "Centre social", SIRET_CS, "Doublon", 2026, "1 000", None, None])
    sheet.append([])
    sheet.append(["2026-003", "Les Buis", SIRET_ASSO, "Jardins", 2026, "=F4+F5", "800", None])
    sheet.append(["TOTAL", None, None, None, None, "=SUM(F4:F8)", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_messy_dauphin_workbook_then_reimport_changes_nothing(appel, porteurs, etat, pma):
    from cvu.dauphin import apply_import

    data = messy_dauphin_workbook()
    parsed, mapping = mapping_for(appel, data)
    assert parsed.header_line == 3 and parsed.total_lines == [9] and parsed.blank_lines == [7]
    assert dauphin.ignored(parsed, mapping) == ["Commentaire interne"]

    plan = plan_import(table=parsed, mapping=mapping, appel=appel)

    errors = {ligne.numero: ligne.errors for ligne in plan.lignes}
    assert errors[4] == []
    assert plan.lignes[0].montants == {etat.pk: Decimal("12000.00"), pma.pk: Decimal("4500.00")}
    assert errors[5] == [
        "intitulé de l'action : « =1+1 » commence par « = » : un nom ne peut pas commencer par "
        "= + - ou @ (formule de tableur refusée)"
    ]
    assert errors[6] == [
        "le n° de dossier 2026-001 figure plusieurs fois dans le fichier : la ligne 4 est "
        "gardée, cette répétition est refusée"
    ]
    # The formula has no cached value in the file: refused, never taken for an empty cell.
    assert errors[8] == [
        "montant demandé à Préfecture du Doubs – BOP 147 : formule « =F4+F5 » sans valeur "
        "calculée : ouvrez le fichier dans votre tableur, enregistrez-le, puis déposez-le à nouveau"
    ]

    keep = [row for row in parsed.rows if row[0] == 4]
    parsed.rows = keep
    apply_import(plan=plan_import(table=parsed, mapping=mapping, appel=appel), appel=appel)
    assert Action.objects.filter(appel=appel).count() == 1
    history = Action.history.count(), Financement.history.count()

    again = plan_import(table=parsed, mapping=mapping, appel=appel)
    assert again.unchanged == 1 and again.created == again.updated == 0
    apply_import(plan=again, appel=appel)
    assert (Action.history.count(), Financement.history.count()) == history


@pytest.mark.parametrize("data", [b"PK\x03\x04" + bytes(range(256)) * 4, bytes(range(256)) * 8])
def test_random_or_protected_bytes_give_a_french_message(client, manager, appel, data):
    client.force_login(manager)
    url = reverse("cvu:aap_import", args=[appel.pk])
    response = client.post(url, {"fichier": SimpleUploadedFile("d.xlsx", data)})
    assert response.status_code == 200
    assert "n'a pas pu être lu" in page(response) or "ni un classeur Excel" in page(response)


def test_the_call_page_counts_the_dossiers_financed_outside_the_call(client, manager, appel):
    """The year's dossiers outside the call (no call, or another one) are counted from the
    same read as the statuses: the call's own and another year's actions are not."""
    own = ActionFactory(contrat=appel.contrat, appel=appel, annee=appel.annee)
    FinancementFactory(action=own, annee=appel.annee)
    loose = ActionFactory(contrat=appel.contrat, appel=None, annee=appel.annee - 2)
    FinancementFactory(action=loose, annee=appel.annee)  # financed that year, outside the call
    other_call = AppelFactory(contrat=appel.contrat, annee=appel.annee - 1, nom="Appel 2025")
    multi_year = ActionFactory(
        contrat=appel.contrat, appel=other_call, annee=appel.annee - 1, annee_fin=appel.annee
    )
    ActionFactory(contrat=appel.contrat, appel=None, annee=appel.annee - 3)  # not of the year
    client.force_login(manager)
    response = client.get(appel.get_absolute_url())
    assert response.context["nb_hors_appel"] == 2
    assert {loose.pk, multi_year.pk} < set(
        response.context["page_obj"].paginator.object_list.values_list("pk", flat=True)
    )
    assert "dont 2 actions financées hors appel à projets" in page(response)


def test_the_call_page_filters_and_pages_its_dossiers(client, manager, appel):
    """One list pattern (issue 14): a FilterSet (search, status, without referent) and the
    shared pagination, on the call's dossiers."""
    from core.lists import PAGE_SIZE

    porteur = OrganisationFactory(nom="Maison pour tous")
    for n in range(PAGE_SIZE + 3):
        ActionFactory(
            contrat=appel.contrat,
            appel=appel,
            titre=f"Dossier {n:03}",
            statut=S.DEPOSE if n % 2 else S.EN_INSTRUCTION,
            porteur=porteur if n == 7 else OrganisationFactory(),
            referent=None if n % 3 else manager,
        )
    client.force_login(manager)
    url = appel.get_absolute_url()
    with CaptureQueriesContext(connection) as queries:
        page_1 = client.get(url)
    assert len(page_1.context["dossiers"]) == PAGE_SIZE
    # Unfiltered, the pages and the dossiers outside the call are counted from the year's
    # figures, not by counts of their own.
    assert page_1.context["page_obj"].paginator.count == PAGE_SIZE + 3
    assert page_1.context["nb_dossiers"] == PAGE_SIZE + 3
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    assert len(counts) == 1, counts  # the call's dossiers without referent
    invalid = client.get(url, {"statut": "inconnu", "page": 2}).context["page_obj"]
    assert invalid.paginator.count == PAGE_SIZE + 3
    assert len(invalid.object_list) == 3
    assert len(client.get(url, {"page": 2}).context["dossiers"]) == 3
    found = client.get(url, {"search": "maison pour"}).context["dossiers"]
    assert [a.titre for a in found] == ["Dossier 007"]
    deposes = client.get(url, {"statut": S.DEPOSE, "page": 1}).context["page_obj"]
    assert deposes.paginator.count == (PAGE_SIZE + 3) // 2
    sans = client.get(url, {"referent": "aucun"}).context["page_obj"].paginator.count
    assert sans == sum(1 for n in range(PAGE_SIZE + 3) if n % 3)
