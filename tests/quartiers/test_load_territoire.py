import shutil

import pytest
from django.core.management import CommandError, call_command

from quartiers.models import Commune, Indicateur, Qpv
from quartiers.services import DATA_DIR


def _load(**kwargs) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_territoire", stdout=out, **kwargs)
    return out.getvalue()


@pytest.fixture
def data_copy(tmp_path):
    for name in ("communes_pma.csv", "qpv_pma.csv", "indicateurs.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def _replace_line(path, number, text):
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.django_db
def test_loads_the_real_territory_of_pma():
    _load()
    assert Commune.objects.count() == 73
    assert Qpv.objects.filter(geographie="2015").count() == 7
    assert Qpv.objects.filter(geographie="2024").count() == 9
    assert Indicateur.objects.count() == 8
    montbeliard = Commune.objects.get(code_insee="25388")
    assert (montbeliard.nom, montbeliard.population, montbeliard.population_annee) == (
        "Montbéliard",
        24672,
        2023,
    )
    chiffogne = Qpv.objects.get(geographie="2015", nom="Chiffogne")
    assert (chiffogne.population, chiffogne.population_annee) == (2166, 2018)
    assert list(chiffogne.successeurs.all()) == [
        Qpv.objects.get(geographie="2024", nom="Chiffogne")
    ]
    assert list(chiffogne.communes.all()) == [montbeliard]
    assert Qpv.objects.filter(code__isnull=False).count() == 0  # Unknown codes stay empty.


@pytest.mark.django_db
def test_second_run_changes_nothing():
    _load()
    before = {
        "communes": list(Commune.objects.values().order_by("pk")),
        "qpv": list(Qpv.objects.values().order_by("pk")),
        "links": list(Qpv.communes.through.objects.values().order_by("pk")),
    }
    assert "rien n'a changé" in _load()
    after = {
        "communes": list(Commune.objects.values().order_by("pk")),
        "qpv": list(Qpv.objects.values().order_by("pk")),
        "links": list(Qpv.communes.through.objects.values().order_by("pk")),
    }
    assert before == after


@pytest.mark.django_db
def test_a_reload_keeps_what_admins_added_and_corrects_the_rest(data_copy):
    _load(data_dir=data_copy)
    Commune.objects.filter(code_insee="25388").update(nom="Montbeliard (faute)")
    output = _load(data_dir=data_copy)
    assert "mis à jour" in output.lower()
    assert Commune.objects.get(code_insee="25388").nom == "Montbéliard"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "line", "text", "message"),
    [
        ("communes_pma.csv", 3, "2501,Allenjoie,719,2023", "communes_pma.csv, ligne 3"),
        ("communes_pma.csv", 4, "25013,Allondans,beaucoup,2023", "n'est pas un nombre entier"),
        ("communes_pma.csv", 5, "25020,Arbouans", "communes_pma.csv, ligne 5 : nombre de colonnes"),
        (
            "qpv_pma.csv",
            2,
            ",Petite-Hollande,99999,2015,,,Petite-Hollande,",
            "qpv_pma.csv, ligne 2",
        ),
        ("qpv_pma.csv", 3, ",Chiffogne,25388,2019,,,,", "qpv_pma.csv, ligne 3"),
    ],
)
def test_malformed_file_stops_with_file_and_line_and_loads_nothing(
    data_copy, filename, line, text, message
):
    _replace_line(data_copy / filename, line, text)
    with pytest.raises(CommandError) as error:
        _load(data_dir=data_copy)
    assert message in str(error.value)
    assert "Rien n'a été chargé" in str(error.value)
    assert Commune.objects.count() == 0
    assert Qpv.objects.count() == 0


@pytest.mark.django_db
def test_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="communes_pma.csv : fichier introuvable"):
        _load(data_dir=tmp_path)


@pytest.mark.django_db
def test_a_reload_keeps_codes_populations_and_names_entered_by_admins():
    _load()
    qpv = Qpv.objects.get(geographie="2024", nom="Chiffogne")
    qpv.code, qpv.population, qpv.population_annee = "QN02501M", 2200, 2020
    qpv.nom = "Chiffogne (nom officiel)"
    qpv.save()
    assert "rien n'a changé" in _load()
    qpv.refresh_from_db()
    assert (qpv.code, qpv.population, qpv.population_annee, qpv.nom) == (
        "QN02501M",
        2200,
        2020,
        "Chiffogne (nom officiel)",
    )
    assert Qpv.objects.filter(geographie="2024").count() == 9


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "text", "message"),
    [
        (3, ",Petite-Hollande,25388,2015,,,Petite-Hollande,", "figure déjà ligne 2"),
        (9, ",Petite-Hollande,25388,2024,,,Chiffogne,", "seul un QPV de 2015 a un successeur"),
        (2, ",Petite-Hollande,25388,2015,,,Inconnu,", "successeur « Inconnu » absent"),
    ],
)
def test_inconsistent_qpv_rows_stop_the_load(data_copy, line, text, message):
    _replace_line(data_copy / "qpv_pma.csv", line, text)
    with pytest.raises(CommandError, match=message):
        _load(data_dir=data_copy)
    # The unknown successor is found while writing: the transaction leaves nothing behind.
    assert Commune.objects.count() == 0
    assert Qpv.objects.count() == 0


@pytest.mark.django_db
def test_duplicate_indicator_code_is_refused(data_copy):
    _replace_line(data_copy / "indicateurs.csv", 3, "population,Autre,%,INSEE,")
    with pytest.raises(CommandError, match="indicateurs.csv, ligne 3 : code d'indicateur"):
        _load(data_dir=data_copy)


@pytest.mark.django_db
def test_a_2015_qpv_split_into_two_and_two_merged_into_one(data_copy):
    # Chiffogne (2015) splits into Chiffogne and Les Batteries du Parc; Champs-Montants and
    # Champvallon (2015) merge into Les Forges - Montanot.
    _replace_line(
        data_copy / "qpv_pma.csv",
        3,
        ",Chiffogne,25388,2015,2166,2018,Chiffogne; Les Batteries du Parc,",
    )
    _replace_line(
        data_copy / "qpv_pma.csv", 4, ",Champs-Montants,25031,2015,,,Les Forges - Montanot,"
    )
    _replace_line(data_copy / "qpv_pma.csv", 6, ",Champvallon,25057,2015,,,Les Forges - Montanot,")
    _load(data_dir=data_copy)
    chiffogne = Qpv.objects.get(geographie="2015", nom="Chiffogne")
    assert sorted(q.nom for q in chiffogne.successeurs.all()) == [
        "Chiffogne",
        "Les Batteries du Parc",
    ]
    forges = Qpv.objects.get(geographie="2024", nom="Les Forges - Montanot")
    assert sorted(q.nom for q in forges.predecesseurs.all()) == ["Champs-Montants", "Champvallon"]
    assert "rien n'a changé" in _load(data_dir=data_copy)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "text", "message"),
    [
        # A new quartier (N) that succeeds a 2015 QPV.
        (9, ",Petite-Hollande,25388,2024,,,,", None),
        # Chiffogne 2024 coded I while two 2015 QPV merge into it.
        (
            10,
            "QN02502I,Chiffogne,25388,2024,,,,",
            r"lettre I, périmètre inchangé\) succède à un seul",
        ),
        # Les Batteries du Parc coded M without any predecessor.
        (16, "QN02503M,Les Batteries du Parc,25388,2024,,,,", "lettre M, périmètre modifié"),
        # Petite-Hollande 2024 coded N although Petite-Hollande 2015 names it.
        (9, "QN02504N,Petite-Hollande,25388,2024,,,,", "lettre N, nouveau quartier"),
    ],
)
def test_the_2024_code_letter_must_match_the_succession(data_copy, line, text, message):
    _replace_line(
        data_copy / "qpv_pma.csv", 2, ",Petite-Hollande,25388,2015,,,Petite-Hollande; Chiffogne,"
    )
    _replace_line(data_copy / "qpv_pma.csv", line, text)
    if message is None:
        _load(data_dir=data_copy)
        return
    with pytest.raises(CommandError, match=message):
        _load(data_dir=data_copy)
    assert Qpv.objects.count() == 0
