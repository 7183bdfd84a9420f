import pytest

from quartiers.models import Commune, Qpv
from tests.comptes.factories import UserFactory
from tests.quartiers.factories import CommuneFactory, QpvFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(administrateur=True))
    return client


def test_commune_code_must_have_five_characters(admin_client):
    response = admin_client.post(
        "/admin/quartiers/commune/add/",
        {"code_insee": "2538", "nom": "Montbéliard", "population": "24672"},
    )
    assert response.status_code == 200
    assert "Le code INSEE compte exactement 5 caractères" in response.content.decode()
    assert not Commune.objects.exists()


def test_qpv_code_must_match_its_geography(admin_client):
    commune = CommuneFactory()
    response = admin_client.post(
        "/admin/quartiers/qpv/add/",
        {"geographie": "2024", "code": "QP025001", "nom": "Chiffogne", "communes": [commune.pk]},
    )
    assert response.status_code == 200
    assert "Un QPV de la géographie 2024 a un code en QN" in response.content.decode()
    assert not Qpv.objects.exists()


def test_qpv_code_is_unique_when_set(admin_client):
    commune = CommuneFactory()
    QpvFactory(code="QN02501M", communes=[commune])
    QpvFactory(code=None, communes=[commune])
    response = admin_client.post(
        "/admin/quartiers/qpv/add/",
        {"geographie": "2024", "code": "QN02501M", "nom": "Autre", "communes": [commune.pk]},
    )
    assert "Un autre QPV porte déjà ce code officiel." in response.content.decode()
    response = admin_client.post(
        "/admin/quartiers/qpv/add/",
        {"geographie": "2024", "code": "", "nom": "Sans code", "communes": [commune.pk]},
    )
    assert response.status_code == 302
    assert Qpv.objects.filter(code__isnull=True).count() == 2


@pytest.mark.parametrize(
    "url",
    [
        "/admin/quartiers/commune/",
        "/admin/quartiers/qpv/",
        "/admin/quartiers/secteur/",
        "/admin/quartiers/indicateur/",
        "/admin/quartiers/valeurindicateur/",
        "/admin/quartiers/observation/",
        "/admin/comptes/user/",
    ],
)
def test_admin_lists_open_with_search(admin_client, url):
    QpvFactory()
    assert admin_client.get(url, {"q": "a"}).status_code == 200


def test_administrator_assigns_communes_to_a_sector(admin_client):
    from tests.quartiers.factories import SecteurFactory

    secteur = SecteurFactory(nom="Secteur Sud")
    mine, other = CommuneFactory(nom="Étupes"), CommuneFactory(nom="Exincourt")
    response = admin_client.post(
        f"/admin/quartiers/secteur/{secteur.pk}/change/",
        {"nom": "Secteur Sud", "chef_projet": secteur.chef_projet_id, "communes": [mine.pk]},
    )
    assert response.status_code == 302
    assert list(secteur.communes.all()) == [mine]
    admin_client.post(
        f"/admin/quartiers/secteur/{secteur.pk}/change/",
        {"nom": "Secteur Sud", "chef_projet": secteur.chef_projet_id, "communes": [other.pk]},
    )
    assert list(secteur.communes.all()) == [other]


@pytest.mark.parametrize("size", [2, 20])
def test_admin_commune_list_query_count_is_constant(admin_client, size, django_assert_num_queries):
    for _ in range(size):
        CommuneFactory()
    # session, user, count, total count, rows with sectors, sector filter choices
    with django_assert_num_queries(6):
        admin_client.get("/admin/quartiers/commune/")
