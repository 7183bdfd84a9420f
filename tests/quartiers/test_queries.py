"""Query counts of list and detail pages do not grow with the number of rows."""

import pytest

from tests.quartiers.factories import (
    CommuneFactory,
    IndicateurFactory,
    ObservationFactory,
    QpvFactory,
    SecteurFactory,
    ValeurIndicateurFactory,
)

SIZES = [2, 20]


def _territory(size, commune):
    communes = [commune] + [
        CommuneFactory(secteur=SecteurFactory(chef_projet=None)) for _ in range(size - 1)
    ]
    qpvs = [QpvFactory(communes=communes[i : i + 2]) for i in range(size)]
    indicateurs = [IndicateurFactory() for _ in range(3)]
    for indicateur in indicateurs:
        for year in range(2000, 2000 + size):
            ValeurIndicateurFactory(qpv=qpvs[0], indicateur=indicateur, annee=year)
            ValeurIndicateurFactory(qpv=None, commune=commune, indicateur=indicateur, annee=year)
    for _ in range(size):
        ObservationFactory(qpv=qpvs[0])
        ObservationFactory(qpv=None, commune=commune)
    return qpvs


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_qpv_list(client, reader, commune, size, django_assert_num_queries):
    _territory(size, commune)
    client.force_login(reader)
    # session, user, count, page rows, communes with sectors, commune and sector filter choices
    with django_assert_num_queries(7):
        assert client.get("/quartiers/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_qpv_export(client, reader, commune, size, django_assert_num_queries):
    _territory(size, commune)
    client.force_login(reader)
    # session, user, row count (queued above the export threshold), rows, communes with sectors
    with django_assert_num_queries(5):
        assert client.get("/quartiers/?export=xlsx").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_commune_list(client, reader, commune, size, django_assert_num_queries):
    _territory(size, commune)
    client.force_login(reader)
    # session, user, count, page rows with sectors, QPVs, sector filter choices
    with django_assert_num_queries(6):
        assert client.get("/quartiers/communes/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_secteur_list(client, reader, commune, size, django_assert_num_queries):
    _territory(size, commune)
    client.force_login(reader)
    # session, user, sectors with chefs, communes
    with django_assert_num_queries(4):
        assert client.get("/quartiers/secteurs/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_qpv_detail(client, editor, commune, size, django_assert_num_queries):
    qpv = _territory(size, commune)[0]
    client.force_login(editor)
    # session, user, QPV, communes with sectors, successors, predecessors, editable check,
    # values with indicators, observations count, observations with authors, indicator choices
    with django_assert_num_queries(11):
        assert client.get(qpv.get_absolute_url()).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_commune_detail(client, editor, commune, size, django_assert_num_queries):
    _territory(size, commune)
    client.force_login(editor)
    # session, user, commune with sector, QPVs, editable check, values with indicators,
    # observations count, observations with authors, indicator choices
    with django_assert_num_queries(9):
        assert client.get(commune.get_absolute_url()).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_home(client, editor, commune, size, django_assert_num_queries):
    _territory(size, commune)
    client.force_login(editor)
    # session, user, has own sectors, my follow-ups, next meetings, sectors, communes, QPVs,
    # recent observations; my dossiers (to instruct, committees, to notify, bilans late and
    # due); my councils and the steering meetings; my next steps with porteurs
    with django_assert_num_queries(17):
        assert client.get("/").status_code == 200
