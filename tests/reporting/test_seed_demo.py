from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from comptes.models import User
from quartiers.models import Observation, Qpv, Secteur, ValeurIndicateur


@pytest.mark.django_db
def test_seed_demo_needs_the_territory():
    with pytest.raises(CommandError, match="load_territoire"):
        call_command("seed_demo", stdout=StringIO())


@pytest.mark.django_db
def test_seed_demo_builds_the_demo_and_is_idempotent():
    call_command("load_territoire", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    counts = (
        User.objects.count(),
        Secteur.objects.count(),
        ValeurIndicateur.objects.count(),
        Observation.objects.count(),
    )
    call_command("seed_demo", "--password", "autre-mot-de-passe", stdout=StringIO())
    assert counts == (
        User.objects.count(),
        Secteur.objects.count(),
        ValeurIndicateur.objects.count(),
        Observation.objects.count(),
    )
    assert User.objects.count() == 9
    assert User.objects.get(email="service@demo.local").role == User.Role.CHEF_SERVICE
    assert User.objects.get(email="direction@demo.local").role == User.Role.DIRECTION
    admin = User.objects.get(email="admin@demo.local")
    assert admin.is_superuser and admin.check_password("autre-mot-de-passe")
    for number in range(1, 7):
        chef = User.objects.get(email=f"cdp{number}@demo.local")
        assert chef.role == User.Role.CHEF_PROJET
        assert chef.secteurs.get().communes.filter(qpvs__geographie="2024").exists()
    # Every 2024 QPV is in a sector and has demo values over several years.
    for qpv in Qpv.objects.filter(geographie="2024"):
        assert Qpv.objects.editable_by(qpv.communes.first().secteur.chef_projet).filter(pk=qpv.pk)
        years = set(qpv.valeurs.values_list("annee", flat=True))
        assert len(years) >= 5
    assert not ValeurIndicateur.objects.filter(est_demo=False).exists()
