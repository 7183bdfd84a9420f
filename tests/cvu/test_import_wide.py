"""Issue 13: the action import takes a workbook as chefs de projet keep it — a title row, a
blank line, one row per action with one amount column per funder, French amounts, a total row,
no Contrat or Exercice column — through a mapping step; unknown porteurs are created from the
preview when ticked."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from cvu import imports
from cvu.models import Action, Financement, Organisation
from tests.cvu.test_import import SIRET, URL, page, submit, upload

pytestmark = pytest.mark.django_db

NEW_SIRET = "35600000000048"  # La Poste's SIRET: a valid key


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def workbook(rows, *, headers=None) -> bytes:
    """A programming workbook as kept by hand: title, blank line, header, lines, total."""
    headers = headers or ["Intitulé de l'action", "Structure", "QPV", "CAF", "Montant État", "PMA"]
    book = Workbook()
    sheet = book.active
    sheet.title = "Programmation 2026"
    sheet.append(["Programmation 2026 – contrat de ville"])
    sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    sheet.append(["Total", None, None, "=SUM(D4:D5)", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def funders(referentiel):
    caf = Organisation.objects.create(nom="CAF du Doubs", sigle="CAF", type="caf")
    return {"caf": caf, "etat": referentiel["etat"], "pma": referentiel["pma"]}


ROWS = [
    [
        "Atelier théâtre au collège",
        "Compagnie des Étoiles",
        "Chiffogne",
        "1 200,50 €",
        "12.000 €",
        None,
    ],
    ["Chantier jeunes", "Association Les Bâtisseurs", "Chiffogne", None, "4 500,00", "1.500"],
]


def _upload(client, data):
    response = client.post(URL, {"fichier": upload(data)})
    assert response.status_code == 200
    return response


def test_the_mapping_step_guesses_each_column_and_says_what_is_missing(client, manager, funders):
    client.force_login(manager)
    response = _upload(client, workbook(ROWS))
    text = page(response)
    assert "En-têtes lus ligne 3" in text
    assert "Ligne(s) de total ignorée(s) : 6." in text
    assert "« Contrat », « Exercice »" in text  # neither a column nor chosen yet
    form = response.context["mapping_form"]
    assert {name: form[name].initial for name in ("col_0", "col_1", "col_2")} == {
        "col_0": "titre",
        "col_1": "porteur",
        "col_2": "qpv",
    }
    assert form["col_3"].initial == f"montant_demande:{funders['caf'].pk}"
    assert form["col_4"].initial == f"montant_demande:{funders['etat'].pk}"
    assert form["col_5"].initial == f"montant_demande:{funders['pma'].pk}"
    assert response.context["plan"] is None
    assert 'name="confirmer"' not in text


def test_wide_workbook_with_contract_and_year_chosen_once(client, manager, funders, contrat):
    client.force_login(manager)
    response = _upload(client, workbook(ROWS))

    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")
    plan = response.context["plan"]
    assert plan.errors == []
    assert [(r.numero, r.financeur, r.montants) for r in plan.rows] == [
        (4, "CAF du Doubs (CAF)", {"demandé": Decimal("1200.50")}),
        (4, str(funders["etat"]), {"demandé": Decimal("12000.00")}),
        (5, str(funders["etat"]), {"demandé": Decimal("4500.00")}),
        (5, str(funders["pma"]), {"demandé": Decimal("1500.00")}),
    ]
    assert [p.nom for p in plan.new_porteurs.values()] == ["Association Les Bâtisseurs"]
    assert "Porteurs à créer (1)" in page(response)
    assert Action.objects.count() == 0

    response = submit(client, response)
    assert response.status_code == 302
    batisseurs = Organisation.objects.get(nom="Association Les Bâtisseurs")
    assert batisseurs.type == Organisation.Type.ASSOCIATION
    chantier = Action.objects.get(titre="Chantier jeunes")
    assert (chantier.contrat, chantier.annee, chantier.porteur) == (contrat, 2026, batisseurs)
    assert sorted(
        Financement.objects.values_list("action__titre", "financeur__nom", "montant_demande")
    ) == [
        ("Atelier théâtre au collège", "CAF du Doubs", Decimal("1200.50")),
        ("Atelier théâtre au collège", funders["etat"].nom, Decimal("12000.00")),
        ("Chantier jeunes", funders["pma"].nom, Decimal("1500.00")),
        ("Chantier jeunes", funders["etat"].nom, Decimal("4500.00")),
    ]

    # The same workbook again: everything is unchanged, nothing is written, no history.
    history = Action.history.count() + Financement.history.count()
    response = _upload(client, workbook(ROWS))
    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")
    plan = response.context["plan"]
    assert plan.new_porteurs == {}
    assert "Actions : 0 à créer, 0 à mettre à jour, 2 inchangée(s)" in plan.summary
    assert submit(client, response).status_code == 302
    assert Action.history.count() + Financement.history.count() == history


def test_an_unticked_porteur_is_not_created_and_its_lines_are_refused(
    client, manager, funders, contrat
):
    client.force_login(manager)
    response = _upload(client, workbook(ROWS))
    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")

    response = submit(client, response, "apercu", creer=[])  # the person unticks it
    plan = response.context["plan"]
    assert plan.errors == [
        "ligne 5 : porteur inconnu « Association Les Bâtisseurs » : cochez « créer » dans la "
        "liste des porteurs à créer, ou créez-le d'abord dans Organisations"
    ]
    assert submit(client, response).status_code == 200  # no confirmation with an error
    assert not Organisation.objects.filter(nom__startswith="Association").exists()
    assert Action.objects.count() == 0


def test_a_new_porteur_with_a_siret_is_created_with_it_and_found_again_by_it(
    client, manager, funders, contrat
):
    headers = ["Intitulé", "Porteur", "SIRET", "QPV", "CAF"]
    rows = [["Aide aux devoirs", "Le Relais", f"{NEW_SIRET[:3]} {NEW_SIRET[3:]}", "Chiffogne", 900]]
    client.force_login(manager)
    response = _upload(client, workbook(rows, headers=headers))
    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")
    assert [(p.nom, p.siret) for p in response.context["plan"].new_porteurs.values()] == [
        ("Le Relais", NEW_SIRET)
    ]
    assert submit(client, response).status_code == 302
    relais = Organisation.objects.get(siret=NEW_SIRET)
    assert relais.nom == "Le Relais"

    # Another spelling of the name with the same SIRET finds it: no second organisation.
    rows[0][1] = "Association Le Relais"
    plan = imports.action_import_plan(
        rows=list(
            imports.mapped_rows(
                imports.read_file(workbook(rows, headers=headers)).table,
                imports.ColumnMapping(
                    {0: "titre", 1: "porteur", 2: "siret", 3: "qpv"}
                    | {4: f"montant_demande:{funders['caf'].pk}"},
                    contrat=contrat,
                    exercice=2026,
                ),
            )
        ),
        user=manager,
    )
    assert plan.new_porteurs == {}
    assert plan.errors == []


def test_a_bad_siret_of_a_new_porteur_is_an_error_of_its_line(manager, funders, contrat):
    mapping = imports.ColumnMapping(
        {0: "titre", 1: "porteur", 2: "siret", 3: "qpv", 4: f"montant_demande:{funders['caf'].pk}"},
        contrat=contrat,
        exercice=2026,
    )
    data = workbook(
        [["Aide aux devoirs", "Le Relais", "123 456", "Chiffogne", "mille"]],
        headers=["Intitulé", "Porteur", "SIRET", "QPV", "CAF"],
    )
    plan = imports.action_import_plan(
        rows=list(imports.mapped_rows(imports.read_file(data).table, mapping)), user=manager
    )
    # Every error of the line at once: the SIRET and the amount.
    assert plan.errors == [
        "ligne 4 : SIRET porteur : Un SIREN compte 9 chiffres et un SIRET 14 chiffres (reçu : "
        "« 123 456 »).",
        "ligne 4 : Montant demandé : « mille » n'est pas un montant (exemple : 1 200,50)",
    ]


def test_the_mapping_refuses_a_column_read_twice_and_a_contract_given_twice(
    client, manager, funders, contrat
):
    client.force_login(manager)
    response = _upload(client, workbook(ROWS))
    response = submit(
        client, response, "apercu", col_4=f"montant_demande:{funders['caf'].pk}", exercice="2026"
    )
    text = page(response)
    assert "Les colonnes « CAF » et « Montant État » sont lues comme la même donnée." in text
    assert "Indiquez la colonne qui donne « Contrat » ou choisissez-le pour toutes les lignes." in (
        text
    )
    assert response.context["plan"] is None


def test_a_chef_de_projet_s_wide_import_stays_in_their_sector(
    client, editor, funders, contrat, autre_qpv
):
    rows = [
        ["Atelier", "Compagnie des Étoiles", "Chiffogne", 1000, None, None],
        ["Autre atelier", "Compagnie des Étoiles", "Les Champs-Montants", 1000, None, None],
    ]
    client.force_login(editor)
    response = _upload(client, workbook(rows))
    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")
    assert response.context["plan"].errors == [
        "ligne 5 : hors de votre secteur : QPV « Les Champs-Montants »"
    ]


def test_the_template_file_still_goes_straight_to_the_preview(client, manager, referentiel):
    from tests.cvu.test_import import line, xlsx

    client.force_login(manager)
    response = _upload(client, xlsx(line()))
    assert response.context["plan"].ok
    assert SIRET  # the template's porteur is found by its SIRET column when given
    assert submit(client, response).status_code == 302
    assert Action.objects.count() == 1


def test_a_dauphin_number_written_another_way_finds_the_same_action(manager, referentiel):
    """'DA 2026-001' in the file is the action recorded as '2026-001' (the Dauphin import's
    reading of numbers, cvu.numeros): updated, not duplicated, and its number kept as stored."""
    from tests.cvu.test_import import line, plan_for

    first = plan_for(line(), user=manager)
    imports.action_import_apply(plan=first, user=manager)
    action = Action.objects.get()
    assert action.numero_dauphin == "2026-001"

    again = plan_for(line(**{"N° Dauphin": "DA 2026-001", "Coût total": 13000}), user=manager)
    assert again.errors == []
    assert [row.changes for row in again.rows] == [["coût total"]]
    imports.action_import_apply(plan=again, user=manager)
    action.refresh_from_db()
    assert (Action.objects.count(), action.numero_dauphin) == (1, "2026-001")
    assert action.cout_total == Decimal("13000.00")


def test_an_unreadable_dauphin_number_is_an_error_of_its_line(manager, referentiel):
    from tests.cvu.test_import import line, plan_for

    plan = plan_for(line(**{"N° Dauphin": "2026/001 (bis)"}), user=manager)
    assert plan.errors[0].startswith("ligne 2 : N° Dauphin : « 2026/001 (bis) » n'est pas un n°")


def test_a_qpv_of_the_2015_geography_is_refused_in_the_2024_contract(manager, referentiel):
    """One rule for both imports (cvu.geography): the contract's geography decides."""
    from quartiers.models import Qpv
    from tests.cvu.test_import import line, plan_for
    from tests.quartiers.factories import QpvFactory

    QpvFactory(nom="Champvallon", code="QP025007", geographie=Qpv.Geographie.G2015)
    plan = plan_for(line(QPV="Champvallon"), user=manager)
    assert len(plan.errors) == 1
    assert plan.errors[0].startswith(
        "ligne 2 : QPV : le QPV « Champvallon » est de la géographie 2015, hors de la géographie "
        "2024 du contrat"
    )


def _two_sheets(rows) -> bytes:
    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Fichier tenu par le service, version du 3 décembre"])
    sheet = book.create_sheet("Programmation")
    sheet.append(["Intitulé de l'action", "Structure", "QPV", "CAF", "Montant État", "PMA"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_sheet_with_data_is_read_and_another_can_be_chosen(client, manager, funders, contrat):
    client.force_login(manager)
    response = _upload(client, _two_sheets(ROWS))
    text = page(response)
    assert "Feuille lue : « Programmation » (le classeur en compte 2)." in text
    assert response.context["mapping_form"]["col_0"].initial == "titre"

    response = submit(client, response, "apercu", feuille="Notes")
    assert "Feuille « Notes » : " in page(response)  # no header there: the sheet read stays
    assert response.context["file"].table.sheet == "Programmation"


def test_the_columns_read_last_time_are_offered_again_for_the_same_layout(
    client, manager, funders, contrat
):
    headers = ["Action", "Structure", "QPV", "Part ville", "BOP 147 (État)", "Commentaire"]
    rows = [["Atelier", "Compagnie des Étoiles", "Chiffogne", 1000, 2000, "à suivre"]]
    client.force_login(manager)
    response = _upload(client, workbook(rows, headers=headers))
    assert response.context["mapping_form"]["col_3"].initial is None  # "Part ville": no guess
    pma = funders["pma"]
    response = submit(
        client,
        response,
        "apercu",
        col_3=f"montant_demande:{pma.pk}",
        contrat=str(contrat.pk),
        exercice="2026",
    )
    assert response.context["plan"].ok
    assert submit(client, response).status_code == 302

    # Next year's file, same columns: the person's reading comes back, the preview with it.
    rows = [["Atelier 2027", "Compagnie des Étoiles", "Chiffogne", 1100, 2100, ""]]
    response = _upload(client, workbook(rows, headers=headers))
    form = response.context["mapping_form"]
    assert form.remembered
    assert form["col_3"].initial == f"montant_demande:{pma.pk}"
    assert form["contrat"].initial == contrat
    assert "Lecture reprise de votre dernier import" in page(response)
    assert response.context["plan"].ok

    # Another user starts from the guess, not from this user's reading.
    other = type(manager).objects.create_user("autre-service@pma.test", role="chef_service")
    client.force_login(other)
    response = _upload(client, workbook(rows, headers=headers))
    assert not response.context["mapping_form"].remembered
    assert response.context["mapping_form"]["col_3"].initial is None


def test_a_messy_workbook_gives_every_reason_of_every_line_then_imports_once_fixed(
    client, manager, funders, contrat
):
    """Title, blank line, wide format, French amounts, a formula and a script cell, a repeated
    Dauphin number, a commune outside the territory, a SIRET under another name, a total row."""
    headers = ["N° Dauphin", "Intitulé", "Structure", "SIRET", "QPV", "Commune", "CAF", "PMA"]
    good = ["2026-101", "Atelier", "Compagnie des Étoiles", None, "Chiffogne", None, "1.200", None]
    rows = [
        good,
        [
            "2026-102",
            '=HYPERLINK("http://x")',
            "Compagnie des Étoiles",
            None,
            "Chiffogne",
            None,
            "12.000 €",
            None,
        ],
        ["2026-101", "Autre atelier", "Compagnie des Étoiles", None, "Chiffogne", None, 500, None],
        ["2026-103", "Jardin", "Compagnie des Étoiles", None, "Chiffogne", "Besançon", None, 800],
        ["2026-104", "Radio", "Les Étoiles", SIRET, "Chiffogne", None, "4 500,00 €", "mille"],
    ]
    client.force_login(manager)
    response = _upload(client, workbook(rows, headers=headers))
    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")
    plan = response.context["plan"]
    assert plan.errors == [
        'ligne 5 : Intitulé : formule « =HYPERLINK("http://x") » sans valeur calculée : ouvrez le '
        "fichier dans votre tableur, enregistrez-le, puis déposez-le à nouveau",
        "ligne 6 : le n° Dauphin « 2026-101 » de l'exercice 2026 est déjà utilisé ligne 4 pour une "
        "autre action",
        "ligne 7 : Commune(s) : commune « Besançon » hors du territoire (aucune commune de ce nom "
        "ou de ce code INSEE)",
        "ligne 8 : Montant demandé : « mille » n'est pas un montant (exemple : 1 200,50)",
    ]
    radio = [row for row in plan.rows if row.numero == 8][0]
    assert radio.warnings == [
        f"SIRET {SIRET} : porteur enregistré sous le nom « Compagnie des Étoiles », et non "
        "« Les Étoiles »"
    ]
    assert [row.montants for row in plan.rows if row.numero == 4] == [
        {"demandé": Decimal("1200.00")}  # "1.200" read with the column's "12.000 €"
    ]
    assert 'name="confirmer"' not in page(response)
    assert Action.objects.count() == 0

    fixed = [good, rows[4][:7] + [800]]
    response = _upload(client, workbook(fixed, headers=headers))
    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")
    assert response.context["plan"].ok
    assert submit(client, response).status_code == 302
    assert sorted(Action.objects.values_list("numero_dauphin", "titre")) == [
        ("2026-101", "Atelier"),
        ("2026-104", "Radio"),
    ]


def test_a_csv_export_in_windows_1252_is_read_like_a_workbook(client, manager, funders, contrat):
    text = (
        "Programmation 2026\n\n"
        "Intitulé;Structure;QPV;CAF;Montant État\n"
        "Atelier théâtre;Compagnie des Étoiles;Chiffogne;1 200,50 €;12.000 €\n"
        "Total;;;1 200,50 €;12.000 €\n"
    )
    client.force_login(manager)
    response = client.post(URL, {"fichier": upload(text.encode("cp1252"), "export.csv")})
    assert "En-têtes lus ligne 3" in page(response)
    response = submit(client, response, "apercu", contrat=str(contrat.pk), exercice="2026")
    plan = response.context["plan"]
    assert plan.ok, plan.errors
    assert [row.montants for row in plan.rows] == [
        {"demandé": Decimal("1200.50")},
        {"demandé": Decimal("12000.00")},
    ]
    assert submit(client, response).status_code == 302
    assert Financement.objects.count() == 2


def test_a_funder_named_in_full_with_punctuation_is_recognised(funders):
    etat = funders["etat"]  # "Préfecture du Doubs – BOP 147"
    headers = ["Intitulé", f"{etat.nom} (€)", "CAF versé", "Commentaires"]
    assert imports.guess_columns(headers, imports.mapping_funders()) == {
        0: "titre",
        1: f"montant_demande:{etat.pk}",
        2: f"montant_verse:{funders['caf'].pk}",
    }
