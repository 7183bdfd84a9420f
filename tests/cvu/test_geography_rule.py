"""Issue #16, rule 2: an action targets only QPVs of its contract's geography (cvu.geography),
and a 2024 QPV code carries its final letter (décret n° 2024-806)."""

import pytest
from django.core.exceptions import ValidationError

from cvu.filters import ActionFilterSet
from cvu.forms import ActionForm
from cvu.models import Action
from quartiers.models import Qpv
from quartiers.services import DATA_DIR, TerritoireFileError, territoire_load
from tests.cvu.factories import ActionFactory, ContratFactory
from tests.cvu.test_actions import _form_data
from tests.quartiers.factories import QpvFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def qpv_2015(commune):
    return QpvFactory(nom="Chiffogne", geographie=Qpv.Geographie.G2015, communes=[commune])


@pytest.fixture
def contrat_2015(db):
    return ContratFactory(nom="Contrat de ville 2015", annee_debut=2015, annee_fin=2023)


def _choices(form) -> set[str]:
    return {qpv.nom + " " + qpv.geographie for qpv in form.fields["qpvs"].queryset}


# ------------------------------------------------------------- the action form


def test_the_form_offers_the_qpvs_of_the_contract_geography(action, editor, qpv, qpv_2015):
    form = ActionForm(instance=action, user=editor)
    assert _choices(form) == {"Chiffogne 2024"}
    assert "géographie 2024" in form.fields["qpvs"].help_text
    html = str(form["qpvs"])
    assert f'value="{qpv.pk}"' in html
    assert f'value="{qpv_2015.pk}"' not in html


def test_a_2015_contract_offers_the_2015_qpvs(editor, qpv, qpv_2015, contrat_2015):
    action = ActionFactory(contrat=contrat_2015, annee=2020, qpvs=[qpv_2015], referent=editor)
    form = ActionForm(instance=action, user=editor)
    assert _choices(form) == {"Chiffogne 2015"}


def test_a_new_action_without_contract_offers_both_geographies_by_year(editor, qpv, qpv_2015):
    form = ActionForm(instance=Action(), user=editor)
    assert _choices(form) == {"Chiffogne 2024", "Chiffogne 2015"}
    assert "Chiffogne (2015)" in str(form["qpvs"])


def test_a_posted_2015_qpv_on_a_2024_action_is_refused_in_french(client, editor, action, qpv_2015):
    client.force_login(editor)
    response = client.post(
        f"/actions/{action.pk}/modifier/", _form_data(action, qpvs=[qpv_2015.pk])
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "porte sur les QPV de la géographie 2024" in page
    assert "décochez « Chiffogne » (2015)" in page
    assert list(action.qpvs.all()) != [qpv_2015]


def test_moving_an_action_to_a_contract_of_the_other_geography_asks_for_its_qpvs(
    client, editor, action, qpv, qpv_2015, contrat_2015
):
    client.force_login(editor)
    data = _form_data(
        action, contrat=contrat_2015.pk, annee="2020", objectifs=[], **{"fin-0-annee": "2020"}
    )
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "porte sur les QPV de la géographie 2015 : décochez « Chiffogne » (2024)" in page
    # The page shown again offers the new contract's QPVs, the ticked one kept to be unticked.
    assert f'value="{qpv_2015.pk}"' in page and f'value="{qpv.pk}"' in page
    data["qpvs"] = [qpv_2015.pk]
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    action.refresh_from_db()
    assert action.contrat == contrat_2015
    assert list(action.qpvs.all()) == [qpv_2015]


def test_an_unknown_qpv_is_still_an_invalid_choice(client, editor, action):
    client.force_login(editor)
    response = client.post(f"/actions/{action.pk}/modifier/", _form_data(action, qpvs=["999999"]))
    assert response.status_code == 400
    assert "999999" in response.content.decode()


def test_the_form_keeps_accepting_qpvs_of_the_contract_geography(client, editor, action, qpv):
    client.force_login(editor)
    response = client.post(f"/actions/{action.pk}/modifier/", _form_data(action, qpvs=[qpv.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]


# ------------------------------------------------------------- the action list's filter


def test_the_qpv_filter_follows_the_chosen_contract(action, qpv, qpv_2015, contrat_2015):
    everything = ActionFilterSet({}, queryset=Action.objects.all())
    assert set(everything.form.fields["qpv"].queryset) == {qpv, qpv_2015}
    of_2024 = ActionFilterSet({"contrat": action.contrat_id}, queryset=Action.objects.all())
    assert list(of_2024.form.fields["qpv"].queryset) == [qpv]
    of_2015 = ActionFilterSet({"contrat": contrat_2015.pk}, queryset=Action.objects.all())
    assert list(of_2015.form.fields["qpv"].queryset) == [qpv_2015]


def test_a_qpv_of_the_other_geography_in_the_filter_shows_no_row(action, qpv_2015):
    # Not dropped as an invalid choice (which would list every action of the contract).
    filterset = ActionFilterSet(
        {"contrat": action.contrat_id, "qpv": qpv_2015.pk}, queryset=Action.objects.all()
    )
    assert filterset.is_valid()
    assert not filterset.qs.exists()


def test_the_action_list_page_offers_the_contract_qpvs(client, editor, action, qpv, qpv_2015):
    client.force_login(editor)
    page = client.get(f"/actions/?contrat={action.contrat_id}").content.decode()
    assert "Chiffogne (2024)" in page and "Chiffogne (2015)" not in page
    page = client.get("/actions/").content.decode()
    assert "Chiffogne (2024)" in page and "Chiffogne (2015)" in page


# ------------------------------------------------------------- 2024 codes


@pytest.mark.parametrize("code", ["QN02501M", "QN02502N", "QN02503I", "QN02A01M", "QN97101I"])
def test_a_2024_code_ends_with_n_m_or_i(code):
    QpvFactory.build(code=code, nom="Quartier").full_clean(exclude=["communes"])


@pytest.mark.parametrize("code", ["QN02501X", "QN025012", "QNABC01M", "QN02501"])
def test_a_2024_code_without_its_letter_is_refused(code):
    qpv = QpvFactory.build(code=code, nom="Quartier")
    with pytest.raises(ValidationError) as error:
        qpv.full_clean(exclude=["communes"])
    assert "lettre N (nouveau quartier), M (périmètre modifié) ou I (inchangé)" in str(error.value)


def test_a_2015_code_keeps_its_form():
    qpv = QpvFactory.build(code="QP025001", nom="Quartier", geographie=Qpv.Geographie.G2015)
    qpv.full_clean(exclude=["communes"])
    qpv.code = "QN02501M"  # a 2024 code on a 2015 QPV: the prefix is tied to the geography
    with pytest.raises(ValidationError, match="géographie 2015 a un code en QP"):
        qpv.full_clean(exclude=["communes"])
    qpv.code = "XX025001"
    with pytest.raises(ValidationError, match="commence par QP"):
        qpv.full_clean(exclude=["communes"])


def test_the_geography_label_cites_the_2024_decrees():
    assert "2024-806" in Qpv.Geographie.G2024.label
    assert "2023-1314" in Qpv.Geographie.G2024.label


def test_load_territoire_refuses_a_2024_code_without_its_letter(tmp_path):
    for name in ("communes_pma.csv", "indicateurs.csv"):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"))
    rows = (DATA_DIR / "qpv_pma.csv").read_text(encoding="utf-8").splitlines()
    good = [
        rows[0],
        *[("QN02501M" + row if "Chiffogne,25388,2024" in row else row) for row in rows[1:]],
    ]
    (tmp_path / "qpv_pma.csv").write_text("\n".join(good) + "\n", encoding="utf-8")
    territoire_load(data_dir=tmp_path)
    assert Qpv.objects.get(code="QN02501M").nom == "Chiffogne"

    bad = [row.replace("QN02501M", "QN025010") for row in good]
    (tmp_path / "qpv_pma.csv").write_text("\n".join(bad) + "\n", encoding="utf-8")
    with pytest.raises(TerritoireFileError, match="lettre N"):
        territoire_load(data_dir=tmp_path)
