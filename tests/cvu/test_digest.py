from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cvu.digest import digest_for, send_weekly_digests
from cvu.models import Instance, Reunion, SuiteADonner, TypeInstance
from cvu.tasks import send_weekly_digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def groupe(commune):
    instance = Instance.objects.create(
        nom="GTC Montbéliard", type=TypeInstance.objects.create(nom="GTC"), echelle="communale"
    )
    instance.communes.set([commune])
    return instance


def _meeting(instance, days, **fields):
    start = timezone.now() + timedelta(days=days)
    return Reunion.objects.create(
        instance=instance, debut=start, fin=start + timedelta(hours=1), **fields
    )


def _suite(reunion, owner, days, **fields):
    return SuiteADonner.objects.create(
        reunion=reunion,
        quoi=f"Suite {days}",
        responsable=owner,
        echeance=timezone.localdate() + timedelta(days=days),
        **fields,
    )


def test_digest_holds_my_items_only(groupe, editor, manager):
    past = _meeting(groupe, -10, statut="tenue")
    late = _suite(past, editor, -2)
    soon = _suite(past, editor, 3)
    _suite(past, editor, 30)
    _suite(past, editor, -5, statut="fait", fait_le=timezone.localdate())
    _suite(past, manager, -2)
    this_week = _meeting(groupe, 2, titre="Cette semaine")
    _meeting(groupe, 20)
    digest = digest_for(editor)
    assert digest["en_retard"] == [late]
    assert digest["a_echeance"] == [soon]
    assert digest["reunions"] == [this_week]


def test_weekly_digest_mails_those_who_want_it(groupe, editor, manager, reader, outsider):
    past = _meeting(groupe, -10, statut="tenue")
    _suite(past, editor, -2)
    _suite(past, manager, -1)
    manager.digest_hebdo = False
    manager.save()
    assert send_weekly_digest() == 1  # outsider and reader have nothing, manager opted out
    assert [m.to for m in mail.outbox] == [[editor.email]]
    assert "Suite -2" in mail.outbox[0].body
    assert "Suites à donner en retard" in mail.outbox[0].body


def test_nothing_to_say_sends_nothing(editor):
    assert send_weekly_digests() == 0
    assert mail.outbox == []


def test_preferences_turn_the_digest_off(client, editor):
    client.force_login(editor)
    assert client.post("/comptes/preferences/", {}).status_code == 302
    editor.refresh_from_db()
    assert editor.digest_hebdo is False
