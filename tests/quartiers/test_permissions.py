"""visible_to / editable_by: the one place that says who may see and edit the territory."""

import pytest
from django.contrib.auth.models import AnonymousUser

from quartiers.models import Commune, Observation, Qpv, ValeurIndicateur
from tests.comptes.factories import UserFactory
from tests.quartiers.factories import (
    CommuneFactory,
    ObservationFactory,
    QpvFactory,
    SecteurFactory,
    ValeurIndicateurFactory,
)


@pytest.fixture
def other_qpv(outsider):
    commune = CommuneFactory(code_insee="25031", nom="Audincourt", secteur=outsider.secteurs.get())
    return QpvFactory(nom="Champs-Montants", communes=[commune])


@pytest.mark.django_db
def test_everyone_logged_in_sees_the_territory(qpv, other_qpv, editor, reader, outsider):
    for user in (editor, reader, outsider):
        assert set(Qpv.objects.visible_to(user)) == {qpv, other_qpv}


@pytest.mark.django_db
def test_anonymous_and_inactive_users_see_nothing(qpv):
    assert not Qpv.objects.visible_to(AnonymousUser()).exists()
    assert not Qpv.objects.visible_to(UserFactory(is_active=False)).exists()
    assert not Observation.objects.visible_to(AnonymousUser()).exists()


@pytest.mark.django_db
def test_chef_de_projet_edits_only_their_sector(qpv, other_qpv, editor, commune):
    assert list(Qpv.objects.editable_by(editor)) == [qpv]
    assert list(Commune.objects.editable_by(editor)) == [commune]


@pytest.mark.django_db
def test_backup_edits_the_sector_too(qpv, secteur):
    backup = UserFactory()
    secteur.backup = backup
    secteur.save()
    assert list(Qpv.objects.editable_by(backup)) == [qpv]


@pytest.mark.django_db
def test_direction_edits_nothing(qpv, reader):
    assert not Qpv.objects.editable_by(reader).exists()
    assert not Commune.objects.editable_by(reader).exists()


@pytest.mark.django_db
def test_chef_de_service_and_administrateur_edit_everything(qpv, other_qpv, manager):
    admin = UserFactory(administrateur=True)
    for user in (manager, admin):
        assert set(Qpv.objects.editable_by(user)) == {qpv, other_qpv}


@pytest.mark.django_db
def test_a_qpv_over_two_sectors_is_editable_by_both(editor, outsider, commune):
    second = CommuneFactory(secteur=outsider.secteurs.get())
    shared = QpvFactory(communes=[commune, second])
    assert list(Qpv.objects.editable_by(editor)) == [shared]
    assert list(Qpv.objects.editable_by(outsider)) == [shared]


@pytest.mark.django_db
def test_diagnosis_rows_follow_their_territory(qpv, other_qpv, editor, commune, reader):
    mine = ObservationFactory(qpv=qpv)
    on_commune = ObservationFactory(qpv=None, commune=commune)
    ObservationFactory(qpv=other_qpv)
    assert set(Observation.objects.editable_by(editor)) == {mine, on_commune}
    assert not Observation.objects.editable_by(reader).exists()
    value = ValeurIndicateurFactory(qpv=qpv)
    ValeurIndicateurFactory(qpv=other_qpv)
    assert list(ValeurIndicateur.objects.editable_by(editor)) == [value]


@pytest.mark.django_db
def test_chef_de_projet_without_sector_edits_nothing(qpv):
    loner = UserFactory()
    SecteurFactory(chef_projet=None)
    assert not Qpv.objects.editable_by(loner).exists()
