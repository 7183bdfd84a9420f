"""The governance demo (cvu.demo.demo_gouvernance): instances, schemes and a 2025-2026 calendar."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from comptes.demo import demo_users
from cvu.demo import demo_contrat, demo_gouvernance
from cvu.models import (
    Contact,
    DispositifConnexe,
    Instance,
    Organisation,
    Presence,
    Reunion,
    SuiteADonner,
    TypeInstance,
)
from quartiers.demo import demo_territoire
from quartiers.models import Secteur

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    call_command("load_territoire", stdout=StringIO())
    users = demo_users(password="demo")
    demo_territoire(users=users)
    return users


@pytest.fixture
def demo(users):
    """The demo as seed_demo builds it: partners and contacts first, then governance."""
    demo_contrat(users=users)
    demo_gouvernance(users=users)
    return users


def _counts():
    return [
        model.objects.count()
        for model in (TypeInstance, DispositifConnexe, Instance, Reunion, Presence, SuiteADonner)
    ]


def test_instances_and_schemes_are_created_once(demo):
    pilotage = set(TypeInstance.objects.filter(pilotage=True).values_list("nom", flat=True))
    assert pilotage == {"Comité de pilotage", "Comité technique"}
    for nom in ["GTP", "Comité des financeurs", "Groupe technique communal"]:
        assert TypeInstance.objects.filter(nom=nom).exists()
    assert TypeInstance.objects.filter(nom__icontains="démarche participative").exists()
    schemes = set(DispositifConnexe.objects.values_list("type", flat=True))
    assert schemes == set(DispositifConnexe.Type.values) - {"autre"}
    assert TypeInstance.objects.filter(nom__startswith="Instance ").count() == len(schemes)
    assert 4 <= DispositifConnexe.objects.get(type="gusp").plan_actions.count() <= 5
    assert set(DispositifConnexe.objects.filter(type="npnru").values_list("nom", flat=True)) == {
        "NPNRU Petite-Hollande",
        "NPNRU Graviers-Évoironnes",
    }
    sochaux = DispositifConnexe.objects.get(nom="NPNRU Graviers-Évoironnes").communes.get()
    assert sochaux.nom == "Sochaux"
    copil = Instance.objects.get(type__nom="Comité de pilotage")
    comite = Instance.objects.get(type__nom="Comité technique")
    for instance in (copil, comite):
        assert (instance.echelle, instance.organisateur) == ("intercommunale", demo["service"])
    participation = Instance.objects.get(type__nom__icontains="démarche participative")
    assert participation.organisateur == demo["cdp1"]
    assert demo["cdp1"].theme == "Démarche participative"
    # One communal group per sector, on its main commune, edited by the sector's chef de projet.
    groupes = Instance.objects.filter(type__nom="Groupe technique communal")
    sectors = Secteur.objects.filter(communes__qpvs__isnull=False).distinct()
    assert groupes.count() == sectors.count() > 0
    for groupe in groupes:
        assert (groupe.echelle, groupe.organisateur) == ("communale", None)
        (commune,) = groupe.communes.all()
        assert Instance.objects.editable_by(commune.secteur.chef_projet).filter(pk=groupe.pk)
    assert Instance.objects.filter(dispositif__type="pre").exists()
    assert Instance.objects.filter(dispositif__type="gusp").exists()
    before = _counts()
    demo_gouvernance(users=demo)
    assert _counts() == before


def test_meetings_follow_each_rhythm_and_leave_overdue_follow_ups(demo):
    in_2025 = Reunion.objects.filter(debut__year=2025)
    assert in_2025.filter(instance__type__nom="Comité de pilotage").count() == 2
    assert in_2025.filter(instance__type__nom="Comité technique").count() == 12
    for groupe in Instance.objects.filter(type__nom="Groupe technique communal"):
        assert in_2025.filter(instance=groupe).count() == 4
    assert in_2025.filter(instance__type__nom__icontains="participative").count() == 6
    assert in_2025.filter(instance__dispositif__type__in=["pre", "gusp"]).exists()
    assert not Reunion.objects.exclude(debut__year__in=[2025, 2026]).exists()
    # Past meetings are held and closed, future ones planned.
    today = timezone.localdate()  # the demo decides by day: a meeting today is still planned
    past = Reunion.objects.filter(debut__date__lt=today)
    assert past.exists() and not past.exclude(statut="tenue").exists()
    assert not past.filter(compte_rendu="").exists()
    assert not past.filter(decisions__isnull=True).exists()
    assert not past.filter(suites__isnull=True).exists()
    future = Reunion.objects.filter(debut__date__gte=today)
    assert not future.exclude(statut="prevue").exists()
    assert not Presence.objects.filter(reunion__in=future).exists()
    # Attendance is taken among the instance's member contacts, in all three statuses.
    presences = Presence.objects.filter(reunion__in=past).select_related("reunion__instance")
    assert {p.statut for p in presences} == {"present", "excuse", "absent"}
    for presence in presences[:200]:
        assert presence.reunion.instance.contacts_membres.filter(pk=presence.contact_id).exists()
    chefs = {demo[f"cdp{n}"].pk for n in range(1, 7)}
    assert set(SuiteADonner.objects.values_list("responsable", flat=True)) <= chefs
    overdue = SuiteADonner.objects.overdue()
    assert overdue.exists()
    assert not overdue.exclude(statut="a_faire").exists()
    assert SuiteADonner.objects.filter(statut="fait", fait_le__isnull=False).exists()


def test_without_partners_no_attendance_and_no_partner_created(users):
    demo_gouvernance(users=users)
    assert Reunion.objects.filter(statut="tenue").exists()
    assert not Presence.objects.exists()
    assert not Organisation.objects.exists() and not Contact.objects.exists()
