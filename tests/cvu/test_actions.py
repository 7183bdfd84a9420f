import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from cvu.models import Action, Document, Financement
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory
from tests.quartiers.factories import CommuneFactory, QpvFactory

pytestmark = pytest.mark.django_db


def _form_data(action, **overrides):
    """The action form as the browser posts it, with its financing line."""
    line = action.financements.get() if action.pk else None
    data = {
        "titre": action.titre,
        "contrat": action.contrat_id,
        "programme": "",
        "porteur": action.porteur_id,
        "annee": "2026",
        "annee_fin": "",
        "statut": "depose",
        "numero_dauphin": action.numero_dauphin,
        "referent": action.referent_id or "",
        "qpvs": [q.pk for q in action.qpvs.all()],
        "objectifs": [o.pk for o in action.objectifs.all()],
        "theme": "",
        "public_vise": "Collégiens",
        "cout_total": "10 000,00 €",
        "description": "",
        "resultats_attendus": "",
        "loaded_at": action.updated_at.isoformat(),
        "fin-TOTAL_FORMS": "1",
        "fin-INITIAL_FORMS": "1",
        "fin-0-id": line.pk,
        "fin-0-financeur": line.financeur_id,
        "fin-0-annee": "2026",
        "fin-0-montant_demande": "6 000",
        "fin-0-montant_vote": "5 000",
        "fin-0-montant_verse": "",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------- permissions


def test_querysets_per_role(action, editor, outsider, reader, manager):
    assert list(Action.objects.editable_by(editor)) == [action]
    assert not Action.objects.editable_by(outsider).exists()
    assert not Action.objects.editable_by(reader).exists()
    assert list(Action.objects.editable_by(manager)) == [action]
    for user in (editor, outsider, reader, manager):
        assert list(Action.objects.visible_to(user)) == [action]


def test_referent_edits_even_outside_their_sector(outsider, contrat):
    action = ActionFactory(contrat=contrat, referent=outsider)
    assert list(Action.objects.editable_by(outsider)) == [action]


def test_anonymous_is_sent_to_login(client, action):
    response = client.get(action.get_absolute_url())
    assert response.status_code == 302
    assert "/comptes/connexion/" in response["Location"]


def test_unknown_action_is_404(client, reader):
    client.force_login(reader)
    assert client.get("/actions/987654/").status_code == 404


@pytest.mark.parametrize("persona", ["reader", "outsider"])
def test_read_only_users_see_but_cannot_edit(client, action, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(action.get_absolute_url()).status_code == 200
    assert client.get(f"/actions/{action.pk}/modifier/").status_code == 403
    assert client.post(f"/actions/{action.pk}/modifier/", _form_data(action)).status_code == 403
    assert client.post(f"/actions/{action.pk}/supprimer/").status_code == 403
    assert Action.objects.filter(pk=action.pk).exists()


def test_direction_cannot_create(client, reader):
    client.force_login(reader)
    assert client.get("/actions/nouvelle/").status_code == 403


# ------------------------------------------------------------- detail


def test_detail_shows_financing_plan_totals_and_warning(client, reader, action, etat):
    FinancementFactory(
        action=action, financeur=OrganisationFactory(nom="PMA"), montant_demande=2000
    )
    client.force_login(reader)
    html = client.get(action.get_absolute_url()).content.decode()
    assert "Préfecture du Doubs – BOP 147" in html
    assert "8\u202f000,00\u00a0€" in html  # requested total
    assert "ne couvrent pas le coût total" in html
    assert "Modifier" not in html


# ------------------------------------------------------------- create and edit


def test_editor_creates_an_action_with_financing_lines(client, editor, contrat, qpv, etat):
    porteur = OrganisationFactory(nom="Association Les Buis")
    client.force_login(editor)
    data = {
        "titre": "Chantier éducatif jeunes",
        "contrat": contrat.pk,
        "porteur": porteur.pk,
        "annee": "2026",
        "statut": "depose",
        "referent": editor.pk,
        "qpvs": [qpv.pk],
        "cout_total": "12 000",
        "fin-TOTAL_FORMS": "2",
        "fin-INITIAL_FORMS": "0",
        "fin-0-financeur": etat.pk,
        "fin-0-annee": "2026",
        "fin-0-montant_demande": "8 000,50 €",
        "fin-1-financeur": porteur.pk,
        "fin-1-annee": "2026",
        "fin-1-montant_demande": "3999,50",
        "ind-TOTAL_FORMS": "1",
        "ind-INITIAL_FORMS": "0",
        "ind-0-libelle": "Jeunes accompagnés",
        "ind-0-cible": "25",
    }
    response = client.post("/actions/nouvelle/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    action = Action.objects.get()
    assert action.referent == editor
    assert Financement.objects.filter(action=action).totals()["demande"] == Decimal("12000.00")
    assert action.indicateurs.get().cible == 25
    assert action.history.get().history_user == editor


def test_creating_outside_the_sector_is_refused_and_nothing_is_saved(
    client, outsider, contrat, qpv, etat
):
    # The outsider picks a QPV of another sector and is not made referent: refused.
    client.force_login(outsider)
    data = {
        "titre": "Hors secteur",
        "contrat": contrat.pk,
        "porteur": etat.pk,
        "annee": "2026",
        "statut": "depose",
        "qpvs": [qpv.pk],
        "referent": "",
        "cout_total": "100",
        "fin-TOTAL_FORMS": "0",
        "fin-INITIAL_FORMS": "0",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    response = client.post("/actions/nouvelle/", data)
    assert response.status_code == 400
    assert "ne relèverait plus de votre secteur" in response.content.decode()
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fin-0-montant_demande": "abc"}, "n&#x27;est pas un nombre valide"),
        ({"fin-0-montant_demande": "-5"}, "Un montant ne peut pas être négatif."),
        ({"cout_total": "-1"}, "Un montant ne peut pas être négatif."),
        ({"annee": "2031"}, "L&#x27;exercice doit être compris dans la période du contrat"),
        ({"titre": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_changes(
    client, editor, action, overrides, message
):
    client.force_login(editor)
    response = client.post(f"/actions/{action.pk}/modifier/", _form_data(action, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'value="Collégiens"' in response.content.decode()  # the user's input is kept
    line = action.financements.get()
    assert (line.montant_demande, line.montant_vote) == (Decimal("6000.00"), Decimal("5000.00"))
    assert Action.objects.get(pk=action.pk).public_vise == ""


def test_a_paid_amount_posted_on_the_action_form_is_ignored(client, manager, action):
    """Paid amounts come only from payments (cvu.payments, tests/cvu/test_versements.py)."""
    client.force_login(manager)
    data = _form_data(action, **{"fin-0-montant_verse": "6 000"})
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 302
    assert action.financements.get().montant_verse == 0


def test_two_lines_for_the_same_funder_and_year_are_refused(client, editor, action, etat):
    client.force_login(editor)
    data = _form_data(
        action,
        **{
            "fin-TOTAL_FORMS": "2",
            "fin-1-financeur": etat.pk,
            "fin-1-annee": "2026",
            "fin-1-montant_demande": "10",
        },
    )
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 400
    assert "Corrigez les données en double" in response.content.decode()


def test_editor_changes_the_financing_plan_and_history_keeps_it(client, editor, action):
    client.force_login(editor)
    data = _form_data(action, **{"fin-0-montant_demande": "6 500"})
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 302
    assert action.financements.get().montant_demande == Decimal("6500.00")
    html = client.get(action.get_absolute_url()).content.decode()
    assert "montant demandé" in html
    assert "<del>6\u202f000,00\xa0€</del> → 6\u202f500,00\xa0€" in html


def test_stale_edit_warns_and_keeps_the_other_persons_changes(client, editor, manager, action):
    stale = _form_data(action, public_vise="Mon public")
    stale["loaded_at"] = (action.updated_at - timedelta(seconds=5)).isoformat()
    other = Action.objects.get(pk=action.pk)
    other.titre = "Titre changé par le chef de service"
    other._history_user = manager
    other.save()
    client.force_login(editor)
    response = client.post(f"/actions/{action.pk}/modifier/", stale)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Quelqu'un a enregistré cette action pendant que vous la modifiiez" in html
    assert "Titre changé par le chef de service" in html
    assert Action.objects.get(pk=action.pk).titre == "Titre changé par le chef de service"
    # Confirming with the refreshed form saves.
    refreshed = _form_data(Action.objects.get(pk=action.pk), public_vise="Mon public")
    assert client.post(f"/actions/{action.pk}/modifier/", refreshed).status_code == 302


def test_delete_asks_then_deletes(client, editor, action):
    client.force_login(editor)
    assert "Supprimer l'action ?" in client.get(f"/actions/{action.pk}/supprimer/").content.decode()
    assert client.post(f"/actions/{action.pk}/supprimer/").status_code == 302
    assert not Action.objects.exists()
    assert not Financement.objects.exists()


# ------------------------------------------------------------- list, filters, export


@pytest.fixture
def several(action, contrat, commune, outsider, etat):
    other_commune = CommuneFactory(nom="Audincourt", secteur=outsider.secteurs.get())
    other_qpv = QpvFactory(nom="Champs-Montants", communes=[other_commune])
    caf = OrganisationFactory(nom="CAF du Doubs", type="caf")
    second = ActionFactory(contrat=contrat, titre="Permanence d'accès aux droits", qpvs=[other_qpv])
    FinancementFactory(action=second, financeur=caf, montant_demande=1000, montant_vote=800)
    third = ActionFactory(contrat=contrat, titre="Fête de quartier", annee=2025, statut="solde")
    FinancementFactory(action=third, financeur=etat, annee=2025, montant_demande=300)
    return action, second, third


def _titles(response):
    return sorted(a.titre for a in response.context["page_obj"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Atelier d'aide aux devoirs", "Fête de quartier", "Permanence d'accès aux droits"]),
        ({"search": "devoirs"}, ["Atelier d'aide aux devoirs"]),
        ({"search": "00012345"}, ["Atelier d'aide aux devoirs"]),
        ({"search": "centre social"}, ["Atelier d'aide aux devoirs"]),
        ({"annee": "2025"}, ["Fête de quartier"]),
        ({"statut": ["solde"]}, ["Fête de quartier"]),
        ({"commune": "COMMUNE"}, ["Atelier d'aide aux devoirs"]),
        ({"financeur": "CAF"}, ["Permanence d'accès aux droits"]),
        ({"objectif": "AXE"}, ["Atelier d'aide aux devoirs"]),
        ({"referent": "EDITOR"}, ["Atelier d'aide aux devoirs"]),
    ],
)
def test_list_filters(client, reader, several, commune, editor, axe, params, expected):
    from cvu.models import Organisation

    replace = {
        "COMMUNE": commune.pk,
        "CAF": Organisation.objects.get(nom="CAF du Doubs").pk,
        "AXE": axe.pk,
        "EDITOR": editor.pk,
    }
    params = {k: replace.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    client.force_login(reader)
    assert _titles(client.get("/actions/", params)) == expected


def test_list_totals_follow_the_filters(client, reader, several):
    client.force_login(reader)
    totals = client.get("/actions/").context["totals"]
    assert (totals["demande"], totals["vote"]) == (Decimal("7300.00"), Decimal("5800.00"))
    totals = client.get("/actions/", {"annee": "2026"}).context["totals"]
    assert (totals["demande"], totals["vote"]) == (Decimal("7000.00"), Decimal("5800.00"))


def test_list_sorts_by_voted_amount(client, reader, several):
    client.force_login(reader)
    response = client.get("/actions/", {"ordre": "-vote"})
    assert [a.titre for a in response.context["page_obj"]][0] == "Atelier d'aide aux devoirs"


def test_htmx_request_gets_the_table_fragment_only(client, reader, several):
    client.force_login(reader)
    response = client.get("/actions/", {"search": "fête"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Fête de quartier" in html
    assert "<html" not in html
    assert response["Vary"].endswith("HX-Request") or "HX-Request" in response["Vary"]


def test_export_xlsx_has_french_headers_and_real_numbers(client, reader, several):
    client.force_login(reader)
    response = client.get("/actions/", {"annee": "2026", "export": "xlsx", "ordre": "titre"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["Exercice", "Fin (pluriannuel)", "Intitulé", "Porteur"]
    assert sheet.max_row == 3
    row = {h: c.value for h, c in zip(headers, sheet[2], strict=True)}
    assert row["Intitulé"] == "Atelier d'aide aux devoirs"
    assert row["Montant demandé (€)"] == 6000
    assert row["Montant voté (€)"] == 5000
    assert isinstance(row["Coût total (€)"], int | float)


def test_export_csv_uses_the_same_filters(client, reader, several):
    client.force_login(reader)
    response = client.get("/actions/", {"search": "fête", "export": "csv"})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2
    assert "Fête de quartier" in lines[1]
    assert ";300,00;" in lines[1]


# ------------------------------------------------------------- documents


def test_editor_uploads_a_pdf_and_readers_download_it(
    client, editor, reader, action, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    upload = SimpleUploadedFile("bilan.pdf", b"%PDF-1.7 contenu", content_type="application/pdf")
    response = client.post(f"/actions/{action.pk}/documents/", {"fichier": upload})
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.nom, document.uploaded_by) == ("bilan.pdf", editor)
    client.force_login(reader)
    response = client.get(f"/actions/documents/{document.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 contenu"
    assert client.post(f"/actions/documents/{document.pk}/supprimer/").status_code == 403


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.exe", b"MZ", "Ce type de fichier n&#x27;est pas accepté"),
        ("faux.pdf", b"<html>", "Le contenu du fichier ne correspond pas à son extension .pdf."),
    ],
)
def test_disallowed_uploads_are_refused(
    client, editor, action, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    response = client.post(
        f"/actions/{action.pk}/documents/",
        {"fichier": SimpleUploadedFile(name, content)},
        follow=True,
    )
    assert message in response.content.decode()
    assert not Document.objects.exists()


def test_oversized_upload_is_refused(client, editor, action, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DOCUMENT_MAX_SIZE = 10
    client.force_login(editor)
    upload = SimpleUploadedFile("gros.pdf", b"%PDF-" + b"x" * 100)
    response = client.post(f"/actions/{action.pk}/documents/", {"fichier": upload}, follow=True)
    assert "la limite est de" in response.content.decode()
    assert not Document.objects.exists()


def test_document_of_an_invisible_action_is_404(client, db):
    client.force_login(__import__("tests.comptes.factories", fromlist=["x"]).UserFactory())
    assert client.get("/actions/documents/999/").status_code == 404
