"""How the dossier's payments read (issue 18 review): an instalment planned in the past and not
paid says it is late in words, the form's title says what it does, anchors carry plain pks."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cvu import payments
from cvu.models import Action

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def line(action):
    Action.objects.filter(pk=action.pk).update(
        statut=Action.Statut.NOTIFIE, date_limite_bilan=date(2027, 6, 30)
    )
    return action.financements.select_related("action", "financeur").get()


def _section(client, action) -> str:
    page = client.get(action.get_absolute_url()).content.decode()
    return page.split('<section id="versements"')[1].split("</section>")[0]


def test_an_instalment_planned_in_the_past_and_not_paid_is_late(client, manager, line):
    avance, solde = payments.schedule(line, user=manager)
    avance.date_prevue = TODAY - timedelta(days=1)
    avance.save(update_fields=["date_prevue"])
    solde.date_prevue = TODAY + timedelta(days=30)
    solde.save(update_fields=["date_prevue"])
    client.force_login(manager)
    section = _section(client, line.action)
    assert section.count('<span class="badge text-bg-danger">en retard</span>') == 1
    assert section.count(">prévu</span>") == 1
    assert f'id="versements-{line.pk}"' in section


def test_payment_form_titles_say_what_they_do(client, manager, line):
    avance, _solde = payments.schedule(line, user=manager)
    client.force_login(manager)
    planned = client.get(reverse("cvu:versement_record", args=[avance.pk])).content.decode()
    assert '<h1 class="h3 mb-3">Enregistrer le versement</h1>' in planned
    payments.record_payment(
        avance, date=TODAY, montant=Decimal("2500.00"), numero_mandat="M-1", user=manager
    )
    paid = client.get(reverse("cvu:versement_record", args=[avance.pk])).content.decode()
    assert '<h1 class="h3 mb-3">Corriger le versement</h1>' in paid
    unplanned = client.get(reverse("cvu:versement_add", args=[line.pk])).content.decode()
    assert '<h1 class="h3 mb-3">Versement non prévu</h1>' in unplanned
