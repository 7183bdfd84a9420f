import html
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from pytest_django.asserts import assertContains, assertNotContains

from core import previews
from core.html_forms import form_data
from cvu import imports
from cvu.models import Action, Financement
from tests.cvu.factories import ActionFactory, FinancementFactory

URL = reverse("cvu:action_import")
HEADERS = [column.header for column in imports.COLUMNS]
SIRET = "73282932000074"


def line(**values) -> dict:
    """A good line of the file, by header; keyword arguments replace cells."""
    row = {
        "Contrat": "2024-2030",
        "Exercice": 2026,
        "Intitulé": "Atelier théâtre au collège",
        "Porteur": "Compagnie des Étoiles",
        "N° Dauphin": "2026-001",
        "QPV": "Chiffogne",
        "Commune(s)": "Montbéliard",
        "Statut": "Programmé",
        "Coût total": "12 000,00 €",
        "Financeur": "Préfecture du Doubs – BOP 147",
        "Montant demandé": "6 000",
        "Montant voté": 5000,
    }
    row.update(values)
    return row


def cdp_line(**values) -> dict:
    """A good line for a chef de projet: no committee status, no voted amount."""
    return line(**{"Statut": "Déposé", "Montant voté": None, **values})


def xlsx(*rows: dict, headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Actions"
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "actions.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=imports.XLSX_CONTENT_TYPE)


def page(response) -> str:
    """The response's text with HTML entities decoded, to search French messages in it."""
    return html.unescape(response.content.decode())


def submit(client, response, button: str = "confirmer", **changes):
    """Posts the import page's form as a browser would (columns, ticks), with `button`."""
    data = form_data(response.content.decode(), "data-import-form")
    return client.post(URL, {**data, button: "", **changes})


def plan_for(*rows: dict, user) -> imports.ImportPlan:
    return imports.action_import_plan(rows=imports.read_rows(xlsx(*rows)), user=user)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# ---------------------------------------------------------------- good files


def test_good_file_creates_actions_and_financing_lines(client, manager, referentiel, qpv):
    data = xlsx(
        line(),
        line(**{"Financeur": "PMA", "Montant demandé": "3 000,50 €", "Montant voté": None}),
        line(**{"Intitulé": "Chantier jeunes", "N° Dauphin": None, "Coût total": 8000}),
    )
    client.force_login(manager)

    response = client.post(URL, {"fichier": upload(data)})

    assert response.status_code == 200
    assert "Actions : 2 à créer, 0 à mettre à jour, 0 inchangée(s)." in response.text
    assert Action.objects.count() == 0

    response = submit(client, response)

    assert response.status_code == 302
    assert response["Location"] == reverse("cvu:action_list")
    theatre = Action.objects.get(numero_dauphin="2026-001")
    assert theatre.porteur == referentiel["porteur"]
    assert theatre.statut == Action.Statut.PROGRAMME
    assert theatre.cout_total == Decimal("12000.00")
    assert list(theatre.qpvs.all()) == [qpv]
    assert theatre.referent is None
    assert theatre.history.first().history_user == manager
    lines = {f.financeur.sigle or f.financeur.nom: f for f in theatre.financements.all()}
    assert lines["PMA"].montant_demande == Decimal("3000.50")
    assert lines["PMA"].montant_vote is None
    assert lines["Préfecture du Doubs – BOP 147"].montant_vote == Decimal("5000.00")
    assert all(f.annee == 2026 for f in lines.values())
    chantier = Action.objects.get(titre="Chantier jeunes")
    assert chantier.numero_dauphin == ""
    assert chantier.financements.count() == 1
    assert Financement.objects.count() == 3


def test_chef_de_projet_becomes_referent_of_created_actions(editor, referentiel):
    plan = plan_for(cdp_line(), user=editor)

    imports.action_import_apply(plan=plan, user=editor)

    assert Action.objects.get().referent == editor


def test_reimport_is_idempotent(manager, referentiel):
    rows = [line(), line(**{"Financeur": "PMA", "Montant demandé": 3000})]
    imports.action_import_apply(plan=plan_for(*rows, user=manager), user=manager)

    plan = plan_for(*rows, user=manager)
    imports.action_import_apply(plan=plan, user=manager)

    assert [(row.action, row.financement) for row in plan.rows] == [
        (imports.UNCHANGED, imports.UNCHANGED),
        (imports.CONTINUED, imports.UNCHANGED),
    ]
    assert Action.objects.count() == 1
    assert Financement.objects.count() == 2
    assert Action.history.count() == 1


def test_reimport_updates_the_action_found_by_dauphin_number(manager, referentiel):
    imports.action_import_apply(plan=plan_for(line(), user=manager), user=manager)

    plan = plan_for(
        line(**{"Intitulé": "Atelier théâtre (2e édition)", "Coût total": "15000", "Statut": ""}),
        user=manager,
    )
    imports.action_import_apply(plan=plan, user=manager)

    assert plan.rows[0].action == imports.UPDATE
    assert plan.rows[0].changes == ["intitulé", "coût total"]
    action = Action.objects.get()
    assert action.titre == "Atelier théâtre (2e édition)"
    assert action.cout_total == Decimal("15000.00")
    assert action.statut == Action.Statut.PROGRAMME  # An empty cell keeps the recorded value.


def test_reimport_without_dauphin_finds_the_action_by_title_porteur_and_year(
    manager, referentiel, contrat
):
    existing = ActionFactory(
        contrat=contrat, titre="Atelier théâtre au collège", porteur=referentiel["porteur"]
    )
    FinancementFactory(action=existing, financeur=referentiel["etat"], montant_demande=1000)

    plan = plan_for(
        line(**{"N° Dauphin": None, "Intitulé": "ATELIER THEATRE au collège"}), user=manager
    )
    imports.action_import_apply(plan=plan, user=manager)

    assert plan.rows[0].financement == imports.UPDATE
    assert Action.objects.get() == existing
    assert existing.financements.get().montant_demande == Decimal("6000.00")


def test_french_number_formats_and_accented_names(manager, referentiel):
    plan = plan_for(
        line(
            **{
                "Porteur": "COMPAGNIE DES ETOILES",
                "QPV": "chiffogne",
                "Commune(s)": "montbeliard",
                "Statut": "programme",
                "Coût total": "1 200,50 €",
                "Montant demandé": "1200.5",
                "Montant voté": 1000.25,
                "Montant versé": "1.000,25",
            }
        ),
        user=manager,
    )
    imports.action_import_apply(plan=plan, user=manager)

    action = Action.objects.get()
    assert action.cout_total == Decimal("1200.50")
    assert action.porteur == referentiel["porteur"]
    financement = action.financements.get()
    assert financement.montant_demande == Decimal("1200.50")
    assert financement.montant_vote == Decimal("1000.25")
    assert financement.montant_verse == Decimal("1000.25")


def test_siret_finds_the_porteur_even_under_another_name(manager, referentiel):
    plan = plan_for(
        line(**{"Porteur": "Cie des Étoiles", "SIRET porteur": "732 829 320 00074"}), user=manager
    )

    assert plan.ok
    assert plan.actions[0].action.porteur == referentiel["porteur"]


# ---------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"Montant demandé": "abc"}, "Montant demandé : « abc » n'est pas un"),
        ({"Coût total": "-50"}, "Coût total : un montant ne peut pas être négatif"),
        ({"SIRET porteur": "73282932000075"}, "SIRET porteur : La clé de contrôle"),
        ({"SIRET porteur": "1234"}, "SIRET porteur : Un SIREN compte 9 chiffres"),
        ({"QPV": "Planoise"}, "QPV : QPV « Planoise » hors du territoire"),
        ({"Commune(s)": "Sochaux"}, "Commune(s) : commune « Sochaux » hors du territoire"),
        ({"Financeur": "Mécène"}, "financeur inconnu « Mécène »"),
        ({"Contrat": "2015-2023"}, "contrat inconnu « 2015-2023 »"),
        ({"Exercice": 2031}, "l'exercice 2031 est hors de la période du contrat"),
        ({"Exercice": "deux mille"}, "Exercice : « deux mille » n'est pas une année"),
        ({"Statut": "Accepté"}, "statut inconnu « Accepté »"),
        ({"Montant versé": 6000}, "Le montant versé dépasse le montant voté."),
        ({"Financeur": None}, "montant sans financeur"),
    ],
)
def test_bad_cells_give_french_errors_with_the_line_number(manager, referentiel, values, error):
    plan = plan_for(
        line(Intitulé="Bonne action", **{"N° Dauphin": "1"}), line(**values), user=manager
    )

    assert not plan.ok
    assert plan.rows[0].errors == []
    assert any(message.startswith(f"ligne 3 : {error}") for message in plan.errors), plan.errors


def test_qpv_outside_the_communes_given_is_an_error(manager, referentiel, autre_qpv):
    plan = plan_for(line(**{"QPV": "Chiffogne; Les Champs-Montants"}), user=manager)

    assert plan.errors == [
        "ligne 2 : le QPV « Les Champs-Montants » n'est pas situé dans : Montbéliard"
    ]


def test_duplicate_dauphin_number_for_two_actions_is_an_error(manager, referentiel):
    plan = plan_for(line(), line(**{"Intitulé": "Autre action"}), user=manager)

    assert plan.errors == [
        "ligne 3 : le n° Dauphin « 2026-001 » de l'exercice 2026 est déjà utilisé ligne 2 pour "
        "une autre action"
    ]


def test_same_funder_twice_for_one_action_is_an_error(manager, referentiel):
    plan = plan_for(line(), line(), user=manager)

    assert plan.errors == [
        "ligne 3 : le financeur « Préfecture du Doubs – BOP 147 » figure déjà ligne 2 pour "
        "cette action"
    ]


def test_file_with_errors_writes_nothing_and_shows_errors_per_line(
    client, manager, referentiel, media
):
    data = xlsx(line(), line(**{"Financeur": "Mécène", "N° Dauphin": "2"}))
    client.force_login(manager)

    response = client.post(URL, {"fichier": upload(data)})

    assertContains(response, "<li>ligne 3 : financeur inconnu « Mécène »</li>", html=True)
    assertNotContains(response, 'name="confirmer"')
    # The file is kept for the columns to be read otherwise, until cancelled or expired.
    assert response.context["token"]
    response = submit(client, response)  # a forged "confirmer" changes nothing
    assert response.status_code == 200
    assert Action.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("actions.ods", b"Contrat;Exercice\n", "Déposez un classeur Excel au format .xlsx"),
        ("actions.csv", b"Contrat;Exercice\n", "aucune ligne sous la ligne d'en-tête"),
        ("actions.xlsx", b"not a zip file", "n'a pas pu être lu comme un classeur Excel"),
        (
            "actions.xlsx",
            xlsx({"Titre": "x", "Montant": 5}, headers=["Titre", "Montant"]),
            "Colonne(s) obligatoire(s) absente(s) ou non reconnue(s) : « Contrat », « Exercice », "
            "« Intitulé », « Porteur »",
        ),
        ("actions.xlsx", xlsx(), "aucune ligne sous la ligne d'en-tête"),
    ],
)
def test_bad_uploads_are_refused_with_a_french_error(client, manager, name, data, error):
    client.force_login(manager)

    response = client.post(URL, {"fichier": upload(data, name)})

    assert response.status_code == 200
    assert error in page(response)
    assert response.context["plan"] is None


def test_oversized_upload_is_refused(client, manager, settings, referentiel):
    settings.IMPORT_MAX_SIZE = 1000
    client.force_login(manager)

    response = client.post(URL, {"fichier": upload(xlsx(line()))})

    assert "la limite est de" in page(response)
    assert response.context["plan"] is None


# Bytes that happen to form a table are read to the end, funders' names included (a query).
@pytest.mark.django_db
@hypothesis_settings(max_examples=50)
@given(st.binary(max_size=300))
def test_reading_any_bytes_never_crashes(data):
    try:
        imports.read_rows(data)
    except ValidationError:
        pass


# ---------------------------------------------------------------- preview and confirmation


def test_preview_writes_nothing_and_keeps_the_file_for_its_uploader(
    client, manager, referentiel, media
):
    client.force_login(manager)

    response = client.post(URL, {"fichier": upload(xlsx(line()))})

    assert Action.objects.count() == Financement.objects.count() == 0
    token = response.context["token"]
    assert previews.ACTIONS.names() == [f"imports-apercus/actions/{manager.pk}-{token}.xlsx"]
    assertContains(response, f'<input type="hidden" name="token" value="{token}">', html=True)
    assert "création" in response.text


def test_cancel_deletes_the_kept_file(client, manager, referentiel, media):
    client.force_login(manager)
    response = client.post(URL, {"fichier": upload(xlsx(line()))})

    response = submit(client, response, "annuler")

    assert response.status_code == 302
    assert previews.ACTIONS.names() == []
    assert Action.objects.count() == 0


@pytest.mark.parametrize("token", ["../../settings", "0" * 31, "A" * 32, ""])
def test_forged_token_finds_no_file(client, manager, token):
    client.force_login(manager)

    response = client.post(URL, {"token": token, "confirmer": ""}, follow=True)

    assert "Ce fichier n'est plus disponible" in page(response)
    assert Action.objects.count() == 0


def test_another_user_cannot_confirm_my_file(client, manager, referentiel):
    client.force_login(manager)
    response = client.post(URL, {"fichier": upload(xlsx(line()))})
    other = type(manager).objects.create_user("autre-service@pma.test", role="chef_service")
    client.force_login(other)

    response = submit(client, response)
    response = client.get(response["Location"])

    assert "Ce fichier n'est plus disponible" in page(response)
    assert Action.objects.count() == 0


def test_confirm_checks_again_and_writes_nothing_if_the_last_line_fails(
    client, manager, referentiel
):
    data = xlsx(line(), line(**{"Intitulé": "Chantier", "N° Dauphin": "2", "Financeur": "PMA"}))
    client.force_login(manager)
    response = client.post(URL, {"fichier": upload(data)})
    referentiel["pma"].delete()  # Between preview and confirmation, a funder disappears.

    response = submit(client, response)

    assert response.status_code == 200
    assert "Rien n'a été enregistré" in page(response)
    assert "ligne 3 : financeur inconnu « PMA »" in page(response)
    assert Action.objects.count() == Financement.objects.count() == 0


def test_confirmation_form_carries_its_csrf_token(manager, referentiel):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    upload_csrf = csrf.search(client.get(URL).text).group(1)

    response = client.post(
        URL, {"fichier": upload(xlsx(line())), "csrfmiddlewaretoken": upload_csrf}
    )
    data = form_data(response.text, "data-import-form")
    assert data["csrfmiddlewaretoken"] == csrf.search(response.text).group(1)
    response = client.post(URL, {**data, "confirmer": ""})

    assert response.status_code == 302
    assert Action.objects.count() == 1


def test_two_lines_for_one_recorded_action_are_an_error(manager, referentiel, contrat):
    ActionFactory(
        contrat=contrat, titre="Atelier théâtre au collège", porteur=referentiel["porteur"]
    )

    plan = plan_for(line(**{"N° Dauphin": None}), line(**{"Financeur": "PMA"}), user=manager)

    assert plan.errors == ["ligne 3 : cette ligne désigne la même action que la ligne 2"]
    assert plan.rows[1].action == ""


def test_apply_is_one_transaction(manager, referentiel, monkeypatch):
    """The actions are inserted, then the financing lines fail: nothing stays."""
    plan = plan_for(line(), line(**{"Intitulé": "Chantier", "N° Dauphin": "2"}), user=manager)
    original = imports.bulk_create_with_history

    def fail_on_lines(objs, model, **kwargs):
        if model is Financement:
            assert Action.objects.count() == 2  # the actions went in first
            raise RuntimeError("panne")
        return original(objs, model, **kwargs)

    monkeypatch.setattr(imports, "bulk_create_with_history", fail_on_lines)

    with pytest.raises(RuntimeError):
        imports.action_import_apply(plan=plan, user=manager)

    assert Action.objects.count() == Financement.objects.count() == 0


def test_apply_refuses_a_plan_with_errors(manager, referentiel):
    plan = plan_for(line(), line(**{"Financeur": "Mécène", "N° Dauphin": "2"}), user=manager)

    with pytest.raises(ValidationError):
        imports.action_import_apply(plan=plan, user=manager)

    assert Action.objects.count() == 0


# ---------------------------------------------------------------- permissions


def test_chef_de_projet_outside_sector_is_refused_per_cdp_line(editor, referentiel, autre_qpv):
    plan = plan_for(
        cdp_line(),
        cdp_line(**{"N° Dauphin": "2", "QPV": "Les Champs-Montants", "Commune(s)": None}),
        cdp_line(**{"N° Dauphin": "3", "QPV": None, "Commune(s)": None}),
        user=editor,
    )

    assert plan.errors == [
        "ligne 3 : hors de votre secteur : QPV « Les Champs-Montants »",
        "ligne 4 : hors de votre secteur : indiquez au moins un QPV de votre secteur",
    ]


def test_chef_de_projet_sets_no_committee_status_nor_voted_or_paid_amount(editor, referentiel):
    plan = plan_for(line(**{"Montant versé": 100}), user=editor)

    assert plan.rows[0].errors == [
        "Statut : « Programmé » est une décision du comité, seul le chef de service l'enregistre",
    ]
    plan = plan_for(cdp_line(**{"Montant voté": 5000, "Montant versé": 100}), user=editor)

    assert plan.rows[0].errors == [
        "Montant voté : réservé au chef de service, il ne peut pas être saisi par votre import",
        "Montant versé : réservé au chef de service, il ne peut pas être saisi par votre import",
    ]


def test_chef_de_projet_cannot_update_another_sectors_action(
    editor, outsider, referentiel, autre_qpv, contrat
):
    ActionFactory(contrat=contrat, numero_dauphin="2026-001", qpvs=[autre_qpv], referent=outsider)

    plan = plan_for(cdp_line(), user=editor)

    assert plan.errors[0].startswith("ligne 2 : hors de votre secteur : l'action enregistrée")


def test_manager_may_import_anywhere(manager, referentiel, autre_qpv):
    plan = plan_for(line(**{"QPV": "Les Champs-Montants", "Commune(s)": "25031"}), user=manager)

    assert plan.ok


def test_direction_gets_403(client, reader, referentiel):
    client.force_login(reader)

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"fichier": upload(xlsx(line()))}).status_code == 403
    assert client.get(reverse("cvu:action_import_template")).status_code == 403
    assert Action.objects.count() == 0


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/comptes/" in response["Location"]


def test_page_shows_the_form_and_the_template_link(client, editor):
    client.force_login(editor)

    response = client.get(URL)

    assert response.status_code == 200
    assert reverse("cvu:action_import_template") in response.text
    assert 'enctype="multipart/form-data"' in response.text
    assert "<script>" not in response.text


# ---------------------------------------------------------------- template and command


def test_template_opens_with_openpyxl_and_documents_the_columns(client, editor):
    client.force_login(editor)

    response = client.get(reverse("cvu:action_import_template"))

    assert response["Content-Type"] == imports.XLSX_CONTENT_TYPE
    assert "modele-import-actions.xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Actions", "Aide"]
    sheet = workbook["Actions"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.max_row == 2
    aide = [row[0] for row in workbook["Aide"].iter_rows(values_only=True)]
    assert set(HEADERS) <= set(aide)
    assert "Règles" in aide


def test_template_example_line_is_read_back(referentiel):
    rows = imports.read_rows(imports.template_workbook())

    assert [number for number, _ in rows] == [2]
    assert rows[0][1]["titre"] == "Atelier d'écriture au collège"


def test_command_dry_run_prints_the_preview_and_writes_nothing(manager, referentiel, tmp_path):
    path = tmp_path / "actions.xlsx"
    path.write_bytes(xlsx(line()))
    out = io.StringIO()

    call_command("import_actions", str(path), user="SERVICE@pma.test", dry_run=True, stdout=out)

    assert "ligne 2 : « Atelier théâtre au collège » ; action : création" in out.getvalue()
    assert "rien n'a été enregistré" in out.getvalue()
    assert Action.objects.count() == 0


def test_command_applies_the_file(manager, referentiel, tmp_path):
    path = tmp_path / "actions.xlsx"
    path.write_bytes(xlsx(line(), line(**{"Financeur": "PMA", "Montant demandé": 100})))
    out = io.StringIO()

    call_command("import_actions", str(path), user=manager.email, stdout=out)

    assert "Import terminé : 1 action(s) créée(s)" in out.getvalue()
    assert Financement.objects.count() == 2
    assert Action.objects.get().history.get().history_user == manager


def test_command_lists_errors_and_writes_nothing(manager, referentiel, tmp_path):
    path = tmp_path / "actions.xlsx"
    path.write_bytes(xlsx(line(), line(**{"Montant demandé": "abc", "Financeur": "PMA"})))

    with pytest.raises(CommandError, match="ligne 3 : Montant demandé : « abc »"):
        call_command("import_actions", str(path), user=manager.email, stdout=io.StringIO())

    assert Action.objects.count() == 0


def test_command_refuses_direction_and_unknown_users(reader, tmp_path):
    path = tmp_path / "actions.xlsx"
    path.write_bytes(xlsx(line()))

    with pytest.raises(CommandError, match="ne peut pas importer"):
        call_command("import_actions", str(path), user=reader.email)
    with pytest.raises(CommandError, match="Aucun utilisateur"):
        call_command("import_actions", str(path), user="personne@pma.test")
