"""The Dauphin import with files as people keep them: numbers written several ways, territory
columns, porteurs without SIRET, re-imports, broken files and a messy workbook."""

import html
import io
import os
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook
from pytest_django.asserts import assertContains

from core.imports import CellError
from cvu import dauphin
from cvu.dauphin import apply_import, guess_mapping, parse_numero, plan_import, read_table
from cvu.forms_aap import MappingForm
from cvu.models import Action, Financement
from quartiers.models import Qpv
from tests.cvu.aap_factories import SIRET_ASSO, SIRET_CS, AppelFactory, table
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory
from tests.quartiers.factories import CommuneFactory, QpvFactory

pytestmark = pytest.mark.django_db

HEADERS = [
    "N° dossier",
    "Raison sociale",
    "N° SIRET",
    "Intitulé de l'action",
    "Exercice",
    "Montant sollicité État",
    "Montant sollicité PMA",
    "QPV",
    "Commune",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Kept import files go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def montbeliard(db):
    return CommuneFactory(code_insee="25388", nom="Montbéliard")


@pytest.fixture
def qpvs(montbeliard):
    """Two QPVs of the 2024 geography in Montbéliard, one of 2015, one in another commune."""
    return {
        "chiffogne": QpvFactory(nom="Chiffogne", code="QN02501M", communes=[montbeliard]),
        "hollande": QpvFactory(nom="Petite-Hollande", code="QN02502M", communes=[montbeliard]),
        "ancien": QpvFactory(
            nom="Champvallon",
            code="QP025009",
            geographie=Qpv.Geographie.G2015,
            communes=[montbeliard],
        ),
        "ailleurs": QpvFactory(
            nom="Les Fougères", communes=[CommuneFactory(code_insee="25057", nom="Bethoncourt")]
        ),
    }


def row(numero, porteur="Centre social Petite-Hollande", siret_=SIRET_CS, titre=None, **more):
    """One line of HEADERS: amounts État and PMA, QPV and commune by keyword."""
    return [
        numero,
        porteur,
        siret_,
        titre or f"Action {numero}",
        more.get("annee", 2026),
        more.get("etat", 1000),
        more.get("pma"),
        more.get("qpv"),
        more.get("commune"),
    ]


def plan_of(appel, *rows, headers=HEADERS):
    parsed = read_table(table([headers, *rows]))
    mapping = guess_mapping(parsed.headers, dauphin.funders(appel))
    return plan_import(table=parsed, mapping=mapping, appel=appel)


def errors_by_line(plan) -> dict[int, list[str]]:
    return {ligne.numero: ligne.errors for ligne in plan.lignes}


def post_mapping(mapping: dict) -> dict:
    return {key: "" if value is None else str(value) for key, value in mapping.items()}


def page(response) -> str:
    text = html.unescape(response.content.decode())
    return text.replace("\u202f", " ").replace("\xa0", " ")


def upload(client, appel, data, name="dauphin.xlsx"):
    """Upload then preview with the guessed mapping; returns (preview response, post data)."""
    url = reverse("cvu:aap_import", args=[appel.pk])
    response = client.post(url, {"fichier": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert "mapping_form" in response.context, page(response)
    fields = {
        "token": response.context["token"],
        **post_mapping(response.context["mapping_form"].initial),
    }
    return client.post(url, {**fields, "apercu": "1"}), fields


def confirm(client, appel, fields):
    url = reverse("cvu:aap_import", args=[appel.pk])
    return client.post(url, {**fields, "confirmer": "1"}, follow=True)


def history_counts() -> tuple[int, int]:
    return Action.history.count(), Financement.history.count()


# ---------------------------------------------------------------- dossier numbers


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("DA-2026-00123", "2026-00123"),
        ("2026-00123", "2026-00123"),
        ("da 2026 00123", "2026-00123"),
        ("DA2026-00123", "2026-00123"),
        (" DA – 2026-00123 ", "2026-00123"),
        ("DA 2026-00123-1", "2026-00123-1"),
        ("2026-00123-2", "2026-00123-2"),
        ("2026-001", "2026-001"),  # three digits with a leading zero: a number, not an action
        ("26000123", "26000123"),
        (26000123.0, "26000123"),  # typed as a number in Excel
        ("26000123-1", "26000123-1"),
        ("D-1", "D-1"),
    ],
)
def test_dossier_numbers_are_written_in_one_canonical_form(written, canonical):
    assert str(parse_numero(written)) == canonical


def test_a_project_code_and_its_first_action_are_one_dossier_the_second_another():
    same = {parse_numero(n).key for n in ("DA-2026-00123", "2026-00123", "DA 2026-00123-1")}
    assert same == {("2026-00123", 1)}
    assert parse_numero("2026-00123-2").key == ("2026-00123", 2)
    assert parse_numero("") is None and parse_numero(None) is None


@pytest.mark.parametrize("written", ["=1+1", "2026/00123<script>", "DA-" + "1" * 40])
def test_unreadable_dossier_numbers_are_refused(written):
    with pytest.raises(CellError):
        parse_numero(written)


def test_another_export_layout_of_the_same_dossiers_creates_no_duplicate(appel, porteurs):
    first = plan_of(
        appel, row("DA-2026-00123", titre="Aide aux devoirs"), row("2026-00124", titre="Sport")
    )
    apply_import(plan=first, appel=appel)
    assert set(Action.objects.values_list("numero_dauphin", flat=True)) == {
        "2026-00123",
        "2026-00124",
    }
    history = history_counts()

    again = plan_of(
        appel,
        row("DA 2026-00123-1", titre="Aide aux devoirs"),
        row(" da 2026 00124 ", titre="Sport"),
    )

    assert errors_by_line(again) == {2: [], 3: []}
    assert again.unchanged == 2 and again.created == again.updated == 0
    apply_import(plan=again, appel=appel)
    assert Action.objects.count() == 2 and history_counts() == history


def test_a_number_stored_in_another_form_is_found(appel, porteurs):
    kept = ActionFactory(
        contrat=appel.contrat, appel=appel, numero_dauphin="DA-2026-00125", porteur=porteurs[0]
    )
    plan = plan_of(appel, row("2026-00125-1", titre=kept.titre))
    assert plan.lignes[0].existing == kept
    assert plan.created == 0 and plan.updated == 1  # the amount is new, the dossier is not
    apply_import(plan=plan, appel=appel)
    kept.refresh_from_db()
    assert kept.numero_dauphin == "DA-2026-00125"  # same dossier: its number is not rewritten
    assert Action.objects.count() == 1


def test_a_repeat_written_differently_is_refused_and_the_first_kept(appel, porteurs):
    plan = plan_of(appel, row("DA-2026-00123"), row("2026-00123-1"), row("2026-00124"))
    assert errors_by_line(plan) == {
        2: [],
        3: [
            "le n° de dossier 2026-00123-1 figure plusieurs fois dans le fichier (écrit "
            "« DA-2026-00123 » ligne 2) : la ligne 2 est gardée, cette répétition est refusée"
        ],
        4: [],
    }
    assert [ligne.dauphin for ligne in plan.accepted] == ["2026-00123", "2026-00124"]


def test_actions_of_one_project_stay_distinct_and_its_bare_code_is_ambiguous(appel, porteurs):
    plan = plan_of(appel, row("2026-00123-1"), row("DA-2026-00123-2"), row("2026-00123"))
    assert errors_by_line(plan) == {
        2: [],
        3: [],
        4: [
            "le n° 2026-00123 désigne un projet Dauphin de plusieurs actions : indiquez le code "
            "de l'action (2026-00123-1, 2026-00123-2…)"
        ],
    }
    plan.lignes.pop()
    apply_import(plan=plan, appel=appel)
    assert sorted(Action.objects.values_list("numero_dauphin", flat=True)) == [
        "2026-00123-1",
        "2026-00123-2",
    ]


# ---------------------------------------------------------------- territory


def test_qpv_and_commune_columns_by_names_and_codes(appel, porteurs, qpvs, montbeliard):
    plan = plan_of(
        appel,
        row("2026-00001", qpv="Chiffogne ; qn02502m", commune="25388"),
        row("2026-00002", qpv="petite hollande", commune="MONTBELIARD, Bethoncourt"),
    )
    assert errors_by_line(plan) == {2: [], 3: []}
    assert plan.lignes[0].qpvs == [qpvs["chiffogne"], qpvs["hollande"]]
    assert plan.lignes[1].communes[0] == montbeliard
    apply_import(plan=plan, appel=appel)
    dossier = Action.objects.get(numero_dauphin="2026-00001")
    assert set(dossier.qpvs.all()) == {qpvs["chiffogne"], qpvs["hollande"]}


@pytest.mark.parametrize(
    ("qpv", "commune", "message"),
    [
        (
            "Planoise",
            "",
            "QPV : QPV « Planoise » hors du territoire (aucun QPV de ce nom ou de ce code)",
        ),
        (
            "Champvallon",
            "",
            "QPV : le QPV « Champvallon » est de la géographie 2015, hors de la géographie 2024 "
            "du contrat « Engagements Quartiers 2030 »",
        ),
        (
            "",
            "Besançon",
            "commune : commune « Besançon » hors du territoire (aucune commune de ce nom ou de ce "
            "code INSEE)",
        ),
        (
            "Les Fougères",
            "Montbéliard",
            "le QPV « Les Fougères » n'est pas situé dans : Montbéliard",
        ),
    ],
)
def test_out_of_territory_rows_are_refused(appel, porteurs, qpvs, qpv, commune, message):
    plan = plan_of(appel, row("2026-00001", qpv=qpv, commune=commune))
    assert plan.lignes[0].errors == [message]


def test_the_contract_geography_decides_which_qpv_a_name_means(porteurs, qpvs):
    from tests.cvu.factories import ContratFactory

    old = ContratFactory(nom="Contrat 2015", annee_debut=2015, annee_fin=2023)
    appel = AppelFactory(contrat=old, annee=2022)
    appel.enveloppes.create(financeur=porteurs[1], montant=Decimal("1000"))
    headers = [*HEADERS[:5], "Montant Association Les Buis", "Commentaire", "QPV", "Commune"]
    plan = plan_of(appel, row("2022-1", annee=2022, qpv="Champvallon"), headers=headers)
    assert plan.lignes[0].errors == [] and plan.lignes[0].qpvs == [qpvs["ancien"]]
    plan = plan_of(appel, row("2022-1", annee=2022, qpv="Chiffogne"), headers=headers)
    assert "hors de la géographie 2015" in plan.lignes[0].errors[0]


def test_a_changed_qpv_is_an_update_and_an_empty_cell_keeps_them(appel, porteurs, qpvs):
    apply_import(plan=plan_of(appel, row("2026-00001", qpv="Chiffogne")), appel=appel)
    plan = plan_of(appel, row("2026-00001", qpv="Petite-Hollande"))
    assert plan.lignes[0].changes == ["QPV : Chiffogne → Petite-Hollande"]
    apply_import(plan=plan, appel=appel)
    assert list(Action.objects.get().qpvs.all()) == [qpvs["hollande"]]
    assert plan_of(appel, row("2026-00001", qpv="")).unchanged == 1


# ---------------------------------------------------------------- porteurs without SIRET


def test_siret_is_not_required_to_map(appel):
    assert dauphin.FIELDS["siret"][1] is False
    form = MappingForm(headers=HEADERS, funders=dauphin.funders(appel))
    assert form.fields["siret"].required is False
    assert form.fields["numero"].required is True


def test_a_porteur_without_siret_is_found_by_its_exact_name(appel, porteurs):
    plan = plan_of(appel, row("2026-00001", porteur="CENTRE SOCIAL PETITE HOLLANDE", siret_=""))
    assert plan.lignes[0].errors == [] and plan.lignes[0].porteur == porteurs[0]
    # The column need not be mapped at all.
    headers = ["N° dossier", "Raison sociale", "Intitulé", "Montant État"]
    parsed = read_table(table([headers, ["2026-00002", "association les buis", "Jardins", 500]]))
    mapping = guess_mapping(parsed.headers, dauphin.funders(appel))
    assert mapping["siret"] is None
    plan = plan_import(table=parsed, mapping=mapping, appel=appel)
    assert plan.lignes[0].porteur == porteurs[1]


def test_a_porteur_without_siret_must_be_one_known_organisation(appel, porteurs):
    OrganisationFactory(nom="Association Les Buis")  # a namesake, without SIRET
    plan = plan_of(
        appel,
        row("2026-00001", porteur="Association Les Buis", siret_=""),
        row("2026-00002", porteur="Régie de quartier", siret_=""),
    )
    assert errors_by_line(plan) == {
        2: [
            "plusieurs organisations s'appellent « Association Les Buis » : indiquez le SIRET du porteur"
        ],
        3: [
            "porteur « Régie de quartier » inconnu et sans SIRET : indiquez son SIRET, ou créez "
            "d'abord cette organisation dans Organisations"
        ],
    }


def test_a_siret_naming_another_organisation_is_a_warning(appel, porteurs):
    plan = plan_of(appel, row("2026-00001", porteur="CS Petite Hollande"))
    ligne = plan.lignes[0]
    assert ligne.errors == [] and ligne.porteur == porteurs[0]
    assert ligne.warnings == [
        f"le SIRET {SIRET_CS} est celui de « Centre social Petite-Hollande » (le fichier dit "
        "« CS Petite Hollande ») : c'est « Centre social Petite-Hollande » qui sera le porteur"
    ]


# ---------------------------------------------------------------- re-import diff


def test_reimport_preview_lists_new_changed_unchanged_and_vanished(
    client, manager, appel, porteurs, etat
):
    client.force_login(manager)
    first = table([HEADERS, row("2026-00001"), row("2026-00002", etat=2000), row("2026-00003")])
    preview, fields = upload(client, appel, first)
    confirm(client, appel, fields)
    assert Action.objects.filter(appel=appel).count() == 3
    # Not Dauphin's, or another call's: never "disparus".
    ActionFactory(contrat=appel.contrat, appel=appel, numero_dauphin="")
    other = AppelFactory(contrat=appel.contrat, annee=2025)
    ActionFactory(contrat=appel.contrat, appel=other, annee=2025, numero_dauphin="2025-00009")

    second = table(
        [HEADERS, row("2026-00001"), row("2026-00002", etat="2 500,50"), row("2026-00004")]
    )
    preview, fields = upload(client, appel, second)

    plan = preview.context["plan"]
    assert [ligne.dauphin for ligne in plan.nouveaux] == ["2026-00004"]
    assert [ligne.dauphin for ligne in plan.montants_modifies] == ["2026-00002"]
    assert [
        (c.financeur, c.avant, c.apres) for c in plan.montants_modifies[0].montants_changes
    ] == [("Préfecture du Doubs – BOP 147", Decimal("2000.00"), Decimal("2500.50"))]
    assert [ligne.dauphin for ligne in plan.inchanges] == ["2026-00001"]
    assert [action.numero_dauphin for action in plan.disparus] == ["2026-00003"]
    assertContains(
        preview,
        "<tr><th scope='row'>Dossiers disparus du fichier</th><td class='text-end'>1</td></tr>",
        html=True,
    )
    assertContains(
        preview,
        "<tr><th scope='row'>2026-00002</th><td>Action 2026-00002</td>"
        "<td>Préfecture du Doubs – BOP 147</td><td class='text-end text-nowrap'>2\u202f000,00\xa0€</td>"
        "<td class='text-end text-nowrap'>2\u202f500,50\xa0€</td></tr>",
        html=True,
    )
    assert "Dossiers disparus (1)" in page(preview)
    assert "ne seront ni modifiés ni supprimés" in page(preview)

    response = confirm(client, appel, fields)
    assert "1 dossier(s) créé(s), 1 mis à jour, 1 inchangé(s)" in page(response)
    assert "1 dossier(s) de l'appel absent(s) du fichier" in page(response)
    vanished = Action.objects.get(numero_dauphin="2026-00003")  # listed, never deleted
    assert vanished.financements.get().montant_demande == Decimal("1000.00")
    assert Financement.objects.get(
        action__numero_dauphin="2026-00002", financeur=etat
    ).montant_demande == Decimal("2500.50")


def test_reimporting_the_same_file_writes_nothing(client, manager, appel, porteurs, qpvs):
    client.force_login(manager)
    data = table(
        [HEADERS, row("DA-2026-00001", qpv="Chiffogne", pma="300"), row("2026-00002", siret_="")]
    )
    preview, fields = upload(client, appel, data)
    confirm(client, appel, fields)
    stamps = dict(Action.objects.values_list("pk", "updated_at"))
    history = history_counts()

    preview, fields = upload(client, appel, data)
    plan = preview.context["plan"]
    assert plan.unchanged == 2 and not plan.nouveaux and not plan.modifies and not plan.disparus
    response = confirm(client, appel, fields)

    assert "Rien à enregistrer : les 2 dossier(s) du fichier sont à jour." in page(response)
    assert history_counts() == history
    assert dict(Action.objects.values_list("pk", "updated_at")) == stamps


# ---------------------------------------------------------------- files that cannot be read


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "protege.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4000),
            "Ce classeur est protégé par un mot de passe",
        ),
        ("hasard.xlsx", b"PK\x03\x04" + os.urandom(4000), "n'a pas pu être lu comme un classeur"),
        (
            "hasard.xlsx",
            b"\x00\x01" + os.urandom(4000),
            "ni un classeur Excel (.xlsx) ni un fichier CSV",
        ),
        (
            "hasard.csv",
            b"\x00\x01" + os.urandom(4000),
            "ni un classeur Excel (.xlsx) ni un fichier CSV",
        ),
        ("vide.xlsx", b"", "Le fichier soumis est vide."),
        ("vide.xlsx", table([]), "Le fichier est vide."),
        ("vide.csv", b"\r\n;;\r\n", "Le fichier est vide."),
        ("entetes.xlsx", table([HEADERS]), "aucune ligne sous la ligne d'en-têtes (ligne 1)"),
        (
            "entetes.csv",
            ("\ufeff" + ";".join(HEADERS) + "\r\n").encode(),
            "aucune ligne sous la ligne d'en-têtes (ligne 1)",
        ),
        ("titre.xlsx", table([["Export Dauphin"], [], [2026]]), "Aucune ligne d'en-têtes trouvée"),
    ],
)
def test_broken_files_get_a_french_message_and_nothing_else(
    client, manager, appel, name, data, message
):
    client.force_login(manager)
    url = reverse("cvu:aap_import", args=[appel.pk])
    response = client.post(url, {"fichier": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert message in page(response)
    assert "mapping_form" not in response.context
    assert dauphin.SESSION_KEY not in client.session


# ---------------------------------------------------------------- a messy workbook


def messy_workbook(*, fixed: bool = False) -> bytes:
    """A Dauphin export as people keep it: a merged title, a blank line, French amounts, a
    formula without value, a name starting with '=', a repeated number, a commune outside the
    territory, a total row. `fixed`: the same file once its refused lines are removed."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Export Dauphin – appel à projets 2026"])
    sheet.merge_cells("A1:J1")
    sheet.append([])
    sheet.append([*HEADERS, "Commentaire interne"])
    lines = [
        # 4: kept; '12.000 €' reads as twelve thousand, as the file's other amounts are French.
        row(
            "DA-2026-00101",
            titre="Accompagnement scolaire",
            etat="1 200,50 €",
            pma="12.000 €",
            qpv="Chiffogne",
            commune="Montbéliard",
        )
        + ["à revoir"],
        # 5: no SIRET, the porteur is found by its name.
        row(
            "2026-00102",
            porteur="Association Les Buis",
            siret_="",
            titre="Jardins partagés",
            etat="3 500",
            qpv="QN02502M",
        )
        + [None],
        # 6: the dossier of line 4 again, in another layout.
        row("DA 2026-00101-1", titre="Doublon", etat="100") + [None],
        # 7: a name written as a formula (kept as text by the export).
        row("2026-00103", porteur='=HYPERLINK("http://x")', siret_="", titre="Fête") + [None],
        None,  # 8: blank
        # 9: a formula the file carries without its value.
        row(
            "2026-00104",
            porteur="Association Les Buis",
            siret_=SIRET_ASSO,
            titre="Chantier",
            etat="=F4*2",
            pma="500",
        )
        + [None],
        # 10: a commune outside the territory.
        row("2026-00105", titre="Sport", etat="2 000", commune="Besançon") + [None],
    ]
    if fixed:
        lines = [lines[0], lines[1], None]
    for cells in lines:
        sheet.append(cells or [])
    total = sheet.max_row + 1
    sheet.append(["TOTAL", None, None, None, None, f"=SUM(F4:F{total - 1})"])
    for line in range(4, total):
        if str(sheet.cell(row=line, column=2).value).startswith("="):
            sheet.cell(row=line, column=2).data_type = "s"  # text, not a formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_messy_workbook_preview_then_confirm_then_reimport_changes_nothing(
    client, manager, appel, porteurs, qpvs, etat, pma
):
    client.force_login(manager)
    preview, fields = upload(client, appel, messy_workbook())

    table_ = preview.context["table"]
    assert table_.header_line == 3 and table_.blank_lines == [8] and table_.total_lines == [11]
    assert preview.context["ignored"] == ["Commentaire interne"]
    plan = preview.context["plan"]
    assert [ligne.numero for ligne in plan.accepted] == [4, 5]
    assert errors_by_line(plan) == {
        4: [],
        5: [],
        6: [
            "le n° de dossier DA 2026-00101-1 figure plusieurs fois dans le fichier (écrit "
            "« DA-2026-00101 » ligne 4) : la ligne 4 est gardée, cette répétition est refusée"
        ],
        7: [
            'nom du porteur : « =HYPERLINK("http://x") » commence par « = » : un nom ne peut '
            "pas commencer par = + - ou @ (formule de tableur refusée)"
        ],
        9: [
            "montant demandé à Préfecture du Doubs – BOP 147 : formule « =F4*2 » sans valeur "
            "calculée : ouvrez le fichier dans votre tableur, enregistrez-le, puis déposez-le à "
            "nouveau"
        ],
        10: [
            "commune : commune « Besançon » hors du territoire (aucune commune de ce nom ou de ce "
            "code INSEE)"
        ],
    }
    first, second = plan.accepted
    assert first.montants == {etat.pk: Decimal("1200.50"), pma.pk: Decimal("12000.00")}
    assert first.qpvs == [qpvs["chiffogne"]] and second.qpvs == [qpvs["hollande"]]
    assert second.porteur == porteurs[1]
    assert "4 ligne(s) refusée(s) sur 6 : rien ne sera enregistré." in page(preview)
    assert 'name="confirmer"' not in page(preview)
    assert not Action.objects.exists()

    # The person removes the refused lines, keeps the rest of the layout and starts again.
    preview, fields = upload(client, appel, messy_workbook(fixed=True))
    assert preview.context["plan"].ok and preview.context["plan"].created == 2
    response = confirm(client, appel, fields)
    assert "Import terminé : 2 dossier(s) créé(s), 0 mis à jour, 0 inchangé(s)." in page(response)
    dossier = Action.objects.get(numero_dauphin="2026-00101")
    assert dossier.titre == "Accompagnement scolaire" and dossier.appel == appel
    assert list(dossier.qpvs.all()) == [qpvs["chiffogne"]]
    assert {f.financeur: f.montant_demande for f in dossier.financements.all()} == {
        etat: Decimal("1200.50"),
        pma: Decimal("12000.00"),
    }
    assert Action.objects.get(numero_dauphin="2026-00102").porteur == porteurs[1]
    history = history_counts()

    preview, fields = upload(client, appel, messy_workbook(fixed=True))
    plan = preview.context["plan"]
    assert plan.unchanged == 2 and not plan.nouveaux and not plan.modifies and not plan.disparus
    response = confirm(client, appel, fields)
    assert "Rien à enregistrer" in page(response)
    assert history_counts() == history and Action.objects.count() == 2


def test_an_amount_already_imported_by_hand_is_shown_as_changed(appel, porteurs, etat):
    dossier = ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        numero_dauphin="2026-00001",
        porteur=porteurs[0],
        titre="Action 2026-00001",
    )
    FinancementFactory(action=dossier, financeur=etat, montant_demande=Decimal("900"))
    plan = plan_of(appel, row("2026-00001"))
    assert [(c.avant, c.apres) for c in plan.lignes[0].montants_changes] == [
        (Decimal("900.00"), Decimal("1000.00"))
    ]


def test_two_dossiers_of_the_year_with_one_number_in_two_forms_are_reported(appel, porteurs):
    for titre, written in (("A", "DA-2026-00130"), ("B", "2026-00130")):
        ActionFactory(contrat=appel.contrat, appel=appel, titre=titre, numero_dauphin=written)
    plan = plan_of(appel, row("2026-00130-1"))
    assert plan.lignes[0].errors == [
        "plusieurs dossiers de l'exercice 2026 portent le n° 2026-00130-1 (« DA-2026-00130 », "
        "« 2026-00130 ») : corrigez-les avant d'importer"
    ]


def test_unknown_porteurs_are_created_from_the_preview_and_the_mapping_is_remembered(
    client, manager, appel
):
    """Issue 13: a first campaign's porteurs are not typed by hand; the columns read once are
    offered again next time."""
    from django.urls import reverse

    from core.html_forms import form_data
    from cvu.models import Organisation

    export = table(
        [
            ["Export Dauphin"],
            [],
            ["Code dossier", "Raison sociale", "Intitulé", "Montant PMA"],
            ["DA-2026-00901", "Association Les Jardins Partagés", "Jardins", "3 000"],
            ["DA-2026-00902", "Radio Bavilliers", "Radio", "2 000"],
        ]
    )
    url = reverse("cvu:aap_import", args=[appel.pk])
    client.force_login(manager)
    response = client.post(url, {"fichier": SimpleUploadedFile("d.xlsx", export)})
    data = form_data(response.content.decode(), None)
    response = client.post(url, {**data, "apercu": "1"})
    plan = response.context["plan"]
    assert [p.nom for p in plan.new_porteurs.values()] == [
        "Association Les Jardins Partagés",
        "Radio Bavilliers",
    ]
    assert plan.ok
    assert "Porteurs à créer (2)" in response.content.decode()

    data = form_data(response.content.decode(), None)
    response = client.post(url, {**data, "confirmer": "1"})
    assert response.status_code == 302
    jardins = Organisation.objects.get(nom="Association Les Jardins Partagés")
    assert jardins.type == Organisation.Type.ASSOCIATION
    assert Action.objects.get(appel=appel, titre="Jardins").porteur == jardins

    # The same layout again: the person's reading comes back.
    response = client.post(url, {"fichier": SimpleUploadedFile("d.xlsx", export)})
    initial = response.context["mapping_form"].initial
    assert (initial["numero"], initial["porteur"], initial["titre"]) == (0, 1, 2)
