import io

import pytest
from openpyxl import Workbook

from participation.models import AccesDonnees, ConseilCitoyen, Membre, TypeParticipation

pytestmark = pytest.mark.django_db

HEADER = [
    "Prénom",
    "Nom",
    "Collège",
    "Genre",
    "Tranche d'âge",
    "Habite le QPV",
    "Désignation",
    "Début du mandat",
    "Base légale",
]
GOOD = [
    [
        "Awa",
        "Témoin",
        "Habitants",
        "Femme",
        "25 à 39 ans",
        "oui",
        "Tirage au sort",
        "15/01/2026",
        "Mission d'intérêt public (politique de la ville)",
    ],
    [
        "Hugo",
        "Exemple",
        "habitants",
        "homme",
        "60 ans et plus",
        "non",
        "volontaire",
        "2026-01-15",
        "mission_publique",
    ],
]


@pytest.fixture
def conseil(commune):
    return ConseilCitoyen.objects.create(
        nom="CC Chiffogne", type=TypeParticipation.objects.create(nom="CC"), commune=commune
    )


def _xlsx(rows):
    workbook = Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "membres.xlsx"
    return buffer


def _csv(rows):
    text = "\n".join(";".join(row) for row in [HEADER, *rows])
    buffer = io.BytesIO(("\ufeff" + text).encode())
    buffer.name = "membres.csv"
    return buffer


def test_preview_writes_nothing_then_confirmation_imports_all(client, editor, conseil):
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    response = client.post(url, {"fichier": _xlsx(GOOD)})
    assert response.status_code == 200
    assert "Importer 2 membres" in response.content.decode()
    assert not Membre.objects.exists()
    response = client.post(url, {"confirmer": "1"})
    assert response.status_code == 302
    assert sorted(m.prenom for m in Membre.objects.all()) == ["Awa", "Hugo"]
    assert Membre.objects.get(prenom="Hugo").resident_qpv is False
    assert AccesDonnees.objects.filter(action="modification").count() == 2


def test_csv_with_accents_is_read(client, editor, conseil):
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    client.post(url, {"fichier": _csv(GOOD)})
    client.post(url, {"confirmer": "1"})
    assert Membre.objects.get(prenom="Awa").nom == "Témoin"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({2: "Collège des sages"}, "ligne 3 : Collège « Collège des sages » inconnu"),
        ({3: "Licorne"}, "ligne 3 : Genre « Licorne » inconnu"),
        ({7: "32/13/2026"}, "ligne 3 : Début du mandat « 32/13/2026 » n&#x27;est pas une date"),
        ({5: "peut-être"}, "ligne 3 : Habite le QPV « peut-être » : répondez oui ou non"),
    ],
)
def test_bad_values_are_listed_per_row_and_nothing_is_saved(
    client, editor, conseil, change, message
):
    rows = [list(GOOD[0]), list(GOOD[1])]
    for column, value in change.items():
        rows[1][column] = value
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    response = client.post(url, {"fichier": _xlsx(rows)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Importer" not in response.content.decode().split("Aperçu")[1]
    client.post(url, {"confirmer": "1"})
    assert not Membre.objects.exists()


def test_missing_column_and_wrong_type(client, editor, conseil):
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    bad = io.BytesIO(b"Nom;Genre\nX;femme\n")
    bad.name = "membres.csv"
    response = client.post(url, {"fichier": bad})
    assert "Colonne(s) manquante(s) : Prénom, Collège" in response.content.decode()
    pdf = io.BytesIO(b"%PDF-1.7")
    pdf.name = "membres.pdf"
    assert (
        "Déposez un fichier .xlsx ou .csv." in client.post(url, {"fichier": pdf}).content.decode()
    )


def test_outsider_cannot_import_into_another_sector(client, outsider, conseil):
    client.force_login(outsider)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    assert client.post(url, {"fichier": _xlsx(GOOD)}).status_code == 403


def test_members_file_with_a_title_row_a_total_and_bad_cells(conseil):
    """The header is found below a title and a blank line; every error of a row is listed."""
    from participation import imports as member_imports

    book = Workbook()
    sheet = book.active
    headers = list(member_imports.COLUMNS.values())
    sheet.append(["Conseil citoyen – membres 2026"])
    sheet.append([])
    sheet.append(headers)
    bad = dict.fromkeys(headers, "")
    bad.update({"Prénom": "@cmd", "Nom": "Durand", "Début du mandat": "32/13/2024"})
    sheet.append([bad[h] for h in headers])
    sheet.append(["Total", None])
    buffer = io.BytesIO()
    book.save(buffer)

    (ligne,) = member_imports.check(conseil=conseil, content=buffer.getvalue(), filename="m.xlsx")

    assert ligne.numero == 4
    assert any(e.startswith("Prénom : « @cmd » commence par") for e in ligne.erreurs)
    assert "Début du mandat « 32/13/2024 » n'est pas une date qui existe" in ligne.erreurs
    assert any(e.startswith("Collège") for e in ligne.erreurs)


def test_a_list_kept_by_hand_is_read_by_its_own_headers(client, editor, conseil):
    """Issue 13: a title row, headers written another way (Sexe, Âge, Courriel), an unknown
    column reported as ignored, not silently dropped."""
    headers = ["Prénom", "NOM", "Collège", "Sexe", "Âge", "Résident QPV", "Désignation"]
    headers += ["Début de mandat", "Base légale", "Courriel", "Remarques"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Membres du conseil citoyen – liste 2026"])
    sheet.append([])
    sheet.append(headers)
    sheet.append([*GOOD[0], "awa@example.org", "à relancer"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "membres.xlsx"
    client.force_login(editor)
    url = f"/participation/conseils/{conseil.pk}/membres/import/"
    response = client.post(url, {"fichier": buffer})
    text = response.content.decode()
    assert response.status_code == 200, text
    assert "En-têtes lus ligne 3." in text
    assert "Colonne(s) ignorée(s) : « Remarques »." in text
    response = client.post(url, {"confirmer": "1"})
    membre = Membre.objects.get()
    assert (membre.prenom, membre.genre, membre.email) == ("Awa", "femme", "awa@example.org")
