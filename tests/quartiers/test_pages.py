import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from quartiers.models import Observation, ValeurIndicateur
from tests.quartiers.factories import (
    CommuneFactory,
    IndicateurFactory,
    ObservationFactory,
    QpvFactory,
    ValeurIndicateurFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicateur():
    return IndicateurFactory(code="taux_pauvrete", libelle="Taux de pauvreté", unite="%")


def _observation_data(**overrides):
    data = {
        "form": "observation",
        "obs-date": "2026-11-20",
        "obs-titre": "Nouvelle association",
        "obs-texte": "Une association de locataires s'est créée.",
    }
    return {**data, **overrides}


def _valeur_data(indicateur, **overrides):
    data = {
        "form": "valeur",
        "val-indicateur": indicateur.pk,
        "val-annee": "2022",
        "val-valeur": "1\u00a0234,5",  # as French spreadsheets paste it
        "val-source": "INSEE 2022",
    }
    return {**data, **overrides}


# ------------------------------------------------------------- QPV page


def test_qpv_page_shows_sector_values_and_observations(client, reader, qpv, indicateur):
    ValeurIndicateurFactory(qpv=qpv, indicateur=indicateur, annee=2020, valeur=Decimal("40.5"))
    ObservationFactory(qpv=qpv, titre="Fermeture <b>du</b> commerce")
    client.force_login(reader)
    response = client.get(qpv.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Secteur Montbéliard – Élise Éditrice" in html
    assert "40,5" in html
    assert "Fermeture &lt;b&gt;du&lt;/b&gt; commerce" in html  # escaped user content
    assert 'id="donnees-indicateurs"' in html
    assert "Ajouter une observation" not in html  # read-only


def test_unknown_qpv_is_404(client, reader, db):
    client.force_login(reader)
    assert client.get("/quartiers/qpv/999999/").status_code == 404


def test_editor_adds_an_observation(client, editor, qpv):
    client.force_login(editor)
    response = client.post(qpv.get_absolute_url(), _observation_data())
    assert response.status_code == 302
    assert response["Location"].endswith("#observations")
    observation = Observation.objects.get()
    assert (observation.qpv, observation.auteur, observation.titre) == (
        qpv,
        editor,
        "Nouvelle association",
    )


def test_editor_adds_a_value_typed_the_french_way(client, editor, qpv, indicateur):
    client.force_login(editor)
    response = client.post(qpv.get_absolute_url(), _valeur_data(indicateur))
    assert response.status_code == 302
    valeur = ValeurIndicateur.objects.get()
    assert (valeur.valeur, valeur.annee, valeur.created_by, valeur.est_demo) == (
        Decimal("1234.5"),
        2022,
        editor,
        False,
    )


def test_editor_adds_an_observation_on_a_commune(client, editor, commune):
    client.force_login(editor)
    response = client.post(commune.get_absolute_url(), _observation_data())
    assert response.status_code == 302
    assert Observation.objects.get().commune == commune


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"val-valeur": "beaucoup"}, "« beaucoup » n&#x27;est pas un nombre valide"),
        ({"val-valeur": "1e5"}, "« 1e5 » n&#x27;est pas un nombre valide"),
        ({"val-annee": "1800"}, "L&#x27;année doit être comprise entre 1990 et 2100."),
        ({"val-annee": "deux mille"}, "Saisissez une année, par exemple 2022."),
        ({"val-valeur": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_value_gives_a_french_error_and_saves_nothing(
    client, editor, qpv, indicateur, overrides, message
):
    client.force_login(editor)
    response = client.post(qpv.get_absolute_url(), _valeur_data(indicateur, **overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'value="INSEE 2022"' in html  # what the user typed is shown again
    assert not ValeurIndicateur.objects.exists()


def test_second_value_for_the_same_year_is_refused(client, editor, qpv, indicateur):
    ValeurIndicateurFactory(qpv=qpv, indicateur=indicateur, annee=2022)
    client.force_login(editor)
    response = client.post(qpv.get_absolute_url(), _valeur_data(indicateur))
    assert response.status_code == 400
    assert "Une valeur existe déjà pour cet indicateur" in response.content.decode()
    assert ValeurIndicateur.objects.count() == 1


def test_observation_without_title_is_refused(client, editor, qpv):
    client.force_login(editor)
    response = client.post(qpv.get_absolute_url(), _observation_data(**{"obs-titre": ""}))
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.content.decode()
    assert "Une association de locataires" in response.content.decode()
    assert not Observation.objects.exists()


def test_direction_may_read_but_not_write(client, reader, qpv):
    client.force_login(reader)
    assert client.get(qpv.get_absolute_url()).status_code == 200
    assert client.post(qpv.get_absolute_url(), _observation_data()).status_code == 403
    assert not Observation.objects.exists()


def test_other_sector_chef_de_projet_may_not_write(client, outsider, qpv, commune):
    client.force_login(outsider)
    assert client.post(qpv.get_absolute_url(), _observation_data()).status_code == 403
    assert client.post(commune.get_absolute_url(), _observation_data()).status_code == 403
    assert not Observation.objects.exists()


def test_chef_de_service_writes_everywhere(client, manager, qpv):
    client.force_login(manager)
    assert client.post(qpv.get_absolute_url(), _observation_data()).status_code == 302


# ------------------------------------------------------------- edit and delete


def test_editor_edits_an_observation(client, editor, qpv):
    observation = ObservationFactory(qpv=qpv, auteur=editor)
    client.force_login(editor)
    url = f"/quartiers/observations/{observation.pk}/modifier/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"date": "2026-11-01", "titre": "Titre revu", "texte": "Texte."})
    assert response.status_code == 302
    observation.refresh_from_db()
    assert observation.titre == "Titre revu"
    assert observation.history.count() == 2


def test_edit_with_bad_date_redisplays_the_form(client, editor, qpv):
    observation = ObservationFactory(qpv=qpv)
    client.force_login(editor)
    response = client.post(
        f"/quartiers/observations/{observation.pk}/modifier/",
        {"date": "31/02/2026", "titre": "Titre revu", "texte": "Texte."},
    )
    assert response.status_code == 400
    assert "Saisissez une date valide." in response.content.decode()
    assert 'value="Titre revu"' in response.content.decode()


@pytest.mark.parametrize("action", ["modifier", "supprimer"])
def test_others_cannot_edit_or_delete(client, reader, outsider, qpv, action):
    observation = ObservationFactory(qpv=qpv)
    valeur = ValeurIndicateurFactory(qpv=qpv)
    for user in (reader, outsider):
        client.force_login(user)
        assert client.get(f"/quartiers/observations/{observation.pk}/{action}/").status_code == 403
        assert client.post(f"/quartiers/valeurs/{valeur.pk}/{action}/").status_code == 403
    assert Observation.objects.count() == 1
    assert ValeurIndicateur.objects.count() == 1


def test_missing_rows_are_404(client, editor, db):
    client.force_login(editor)
    assert client.get("/quartiers/observations/424242/modifier/").status_code == 404
    assert client.get("/quartiers/valeurs/424242/supprimer/").status_code == 404


def test_delete_asks_for_confirmation_then_deletes(client, editor, qpv):
    valeur = ValeurIndicateurFactory(qpv=qpv)
    client.force_login(editor)
    url = f"/quartiers/valeurs/{valeur.pk}/supprimer/"
    response = client.get(url)
    assert response.status_code == 200
    assert "Supprimer la valeur ?" in response.content.decode()
    assert ValeurIndicateur.objects.count() == 1
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"{qpv.get_absolute_url()}#indicateurs"
    assert not ValeurIndicateur.objects.exists()


def test_editor_corrects_a_value(client, editor, qpv, indicateur):
    valeur = ValeurIndicateurFactory(qpv=qpv, indicateur=indicateur, annee=2021)
    client.force_login(editor)
    response = client.post(
        f"/quartiers/valeurs/{valeur.pk}/modifier/",
        {"indicateur": indicateur.pk, "annee": "2021", "valeur": "38,2", "source": "CAF"},
    )
    assert response.status_code == 302
    valeur.refresh_from_db()
    assert (valeur.valeur, valeur.source) == (Decimal("38.2"), "CAF")


# ------------------------------------------------------------- lists and exports


def test_qpv_list_filters_by_geography_and_search(client, reader, commune):
    QpvFactory(nom="Chiffogne", geographie="2015", communes=[commune])
    QpvFactory(nom="Chiffogne", geographie="2024", communes=[commune])
    QpvFactory(nom="Les Buis", geographie="2024", communes=[commune])
    client.force_login(reader)
    response = client.get("/quartiers/", {"geographie": "2024", "search": "chiff"})
    rows = list(response.context["page_obj"])
    assert [(q.nom, q.geographie) for q in rows] == [("Chiffogne", "2024")]
    assert rows[0].chefs_label == "Élise Éditrice"


def test_qpv_list_exports_the_filtered_rows_to_excel(client, reader, commune):
    QpvFactory(nom="Chiffogne", communes=[commune])
    QpvFactory(nom="Les Buis", communes=[commune], population=2166, population_annee=2018)
    client.force_login(reader)
    response = client.get("/quartiers/", {"search": "buis", "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]][:4] == ["Nom", "Code officiel", "Géographie", "Communes"]
    assert sheet.max_row == 2
    assert sheet["A2"].value == "Les Buis"
    assert sheet["F2"].value == "Élise Éditrice"
    assert sheet["G2"].value == 2166


def test_commune_list_filters_and_exports_csv(client, reader, commune):
    CommuneFactory(code_insee="25228", nom="Étupes")
    QpvFactory(communes=[commune])
    client.force_login(reader)
    response = client.get("/quartiers/communes/", {"avec_qpv": "oui"})
    assert [c.nom for c in response.context["page_obj"]] == ["Montbéliard"]
    response = client.get("/quartiers/communes/", {"search": "tupes", "export": "csv"})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Code INSEE;Nom;Population")
    assert lines[1].startswith("25228;Étupes;1000;2023;")
    assert len(lines) == 2


def test_sector_list_names_the_chef_de_projet(client, reader, commune):
    client.force_login(reader)
    response = client.get("/quartiers/secteurs/")
    html = response.content.decode()
    assert "Secteur Montbéliard" in html
    assert "Élise Éditrice" in html


def test_home_shows_my_sector_and_recent_observations(client, editor, qpv, outsider):
    ObservationFactory(qpv=qpv, titre="Dans mon secteur")
    other = QpvFactory(communes=[CommuneFactory(secteur=outsider.secteurs.get())])
    ObservationFactory(qpv=other, titre="Ailleurs")
    client.force_login(editor)
    html = client.get("/").content.decode()
    assert "Mes secteurs" in html
    assert "Dans mon secteur" in html
    assert "Ailleurs" not in html


def test_home_of_the_service_head_shows_every_sector(client, manager, qpv, outsider):
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert "Les secteurs" in html
    assert "Secteur Montbéliard" in html and "Autre secteur" in html


def test_the_indicator_chart_is_said_in_words(client, reader, qpv, indicateur):
    for year, value in [(2019, "41"), (2020, "42.5"), (2021, "40")]:
        ValeurIndicateurFactory(qpv=qpv, indicateur=indicateur, annee=year, valeur=Decimal(value))
    client.force_login(reader)
    html = client.get(qpv.get_absolute_url()).content.decode()
    assert 'aria-describedby="resume-indicateurs"' in html
    assert (
        "Taux de pauvreté : 41 % en 2019, 40 % en 2021 ; plus haut 42,5 % en 2020, "
        "plus bas 40 % en 2021."
    ) in html
