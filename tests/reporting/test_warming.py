"""The pages' default figures computed after each write (reporting.warming), and the cache shared
by the web processes (settings.CACHE_URL) that makes it worth doing.

Like test_cached_figures, these tests commit their writes, as the application does."""

import os
from datetime import date
from decimal import Decimal
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core import versions
from core.models import VersionDonnees
from cvu import figures
from cvu.models import Action, AppelAProjets, Financement
from reporting import warming
from reporting.tasks import warm_figures
from tests.conftest import require_live
from tests.cvu.factories import ActionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def version(db):
    VersionDonnees.objects.get_or_create(pk=1)


def _pages(client, data):
    appel = AppelAProjets.objects.get(contrat=data["contrat"], annee=2026)
    return {
        "tableau de bord": client.get("/tableau-de-bord/"),
        "appel": client.get(appel.get_absolute_url()),
        "contrat": client.get(data["contrat"].get_absolute_url()),
        "actions": client.get("/actions/"),
        "actions de l'exercice": client.get("/actions/?annee=2026"),
    }


def test_warming_computes_what_the_pages_open_on(client, manager, data):
    """After warm(), the dashboard, the call page, the contract page and the list of actions
    (every year, and the default year) open without computing any figure, and show the same
    totals as computed afresh."""
    version = warming.warm()
    assert version == versions.current()
    client.force_login(manager)
    failing = AssertionError("chiffre recalculé au lieu d'être lu dans le cache")
    with (
        mock.patch.object(figures.Chiffres, "compute_synthese", side_effect=failing),
        mock.patch.object(figures, "_par_objectif", side_effect=failing),
        mock.patch.object(figures, "sums", side_effect=failing),
    ):
        pages = _pages(client, data)
    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert pages["tableau de bord"].context["totals"]["vote"] == Decimal("1100.25")
    assert pages["appel"].context["total"].vote == Decimal("1100.25")
    assert pages["contrat"].context["totals"]["demande"] == Decimal("11699.30")
    assert pages["actions"].context["totals"]["demande"] == Decimal("11699.30")
    assert pages["actions de l'exercice"].context["totals"]["demande"] == Decimal("1700.30")
    # The list's number of actions is kept with its totals: not counted again either.
    assert pages["actions"].context["page_obj"].paginator.count == Action.objects.count()
    assert pages["actions de l'exercice"].context["page_obj"].paginator.count == 2


def test_the_number_of_actions_follows_a_write(client, manager, data):
    """The list reads its number of actions from the cache; a new action raises the version,
    so the next view counts it."""
    client.force_login(manager)
    before = client.get("/actions/").context["page_obj"].paginator.count
    assert client.get("/actions/").context["page_obj"].paginator.count == before  # cached
    ActionFactory(contrat=data["contrat"], annee=2026)
    assert client.get("/actions/").context["page_obj"].paginator.count == before + 1


def test_late_bilans_are_kept_and_follow_a_write(client, manager, data, editor):
    """The dashboard's late bilans per referent come from the cache once warmed (no count over
    the dossiers), and a dossier that becomes late is counted at the next view."""
    client.force_login(manager)
    url = f"/tableau-de-bord/?contrat={data['contrat'].pk}&annee=2026"

    def late_rows():
        with CaptureQueriesContext(connection) as queries:
            section = next(s for s in client.get(url).context["sections"] if s.key == "bilans")
        counted = any(
            q["sql"].startswith('SELECT "cvu_action"."referent_id"') and "COUNT(" in q["sql"]
            for q in queries
        )
        return {row.label: row.values["nombre"] for row in section.rows}, counted

    warming.warm()
    assert late_rows() == ({}, False)
    Action.objects.filter(pk=data["actions"][0].pk).update(
        statut="en_cours", referent=editor, date_limite_bilan=date(2025, 1, 31)
    )
    assert late_rows() == ({"Élise Éditrice": 1}, True)
    assert late_rows() == ({"Élise Éditrice": 1}, False)


def test_one_warming_per_version(data):
    assert warming.warm() is not None
    with CaptureQueriesContext(connection) as again:
        assert warming.warm() is None  # this version is warm: one query to know it
    assert len(again) == 1

    Financement.objects.filter(action=data["actions"][1]).update(montant_vote=Decimal("300.00"))
    assert warming.warm() == versions.current()
    board = figures.synthese(figures.Chiffres(data["contrat"], 2026))
    assert board.total.vote == Decimal("1100.25") + Decimal("99.80")


def test_a_warming_under_way_is_not_started_twice(data):
    cache.add(warming.RUNNING, 1)
    with mock.patch.object(warming, "compute_defaults", side_effect=AssertionError):
        assert warming.warm() is None
    cache.delete(warming.RUNNING)
    assert warming.warm() is not None
    assert cache.get(warming.RUNNING) is None  # released once done


def test_a_write_request_warms_the_figures_where_the_cache_is_shared(client, manager, data):
    """A successful POST (here the logout that follows a write) queues the warming, run here
    since tests run tasks in-process; without a shared cache (FIGURES_WARM off, the default
    without CACHE_URL) nothing is queued."""
    client.force_login(manager)
    action = data["actions"][1]
    before = versions.current()
    response = client.post("/comptes/deconnexion/")
    assert response.status_code == 302
    assert cache.get(warming.WARMED) is None  # FIGURES_WARM is off in the tests

    client.force_login(manager)
    with override_settings(FIGURES_WARM=True):
        assert client.get("/actions/").status_code == 200  # reading warms nothing
        assert cache.get(warming.WARMED) is None
        Financement.objects.filter(action=action).update(montant_vote=Decimal("300.00"))
        response = client.post("/comptes/deconnexion/")
    assert response.status_code == 302
    assert versions.current() == before + 1
    assert cache.get(warming.WARMED) == before + 1


def test_the_task_does_nothing_without_a_shared_cache(data):
    assert warm_figures.delay().get() is None
    assert cache.get(warming.WARMED) is None
    with override_settings(FIGURES_WARM=True):
        assert warm_figures.delay().get() == versions.current()


def _redis_cache_url() -> str | None:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        return None
    return f"redis://{urlsplit(broker).netloc}/14"


def _redis_caches(url):
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "pilotage:tests-cache-partage",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_figures_are_shared_through_redis(data):
    """With CACHE_URL, a figure computed by one process (here, before the cache is reopened) is
    read by another."""
    url = _redis_cache_url()
    require_live(None if url else "Redis absent (CELERY_BROKER_URL non défini)")
    with override_settings(CACHES=_redis_caches(url)):
        cache.clear()
        first = figures.synthese(figures.Chiffres(data["contrat"], 2026))
        cache.close()
        with mock.patch.object(figures.Chiffres, "compute_synthese", side_effect=AssertionError):
            again = figures.synthese(figures.Chiffres(data["contrat"], 2026))
        assert again.total == first.total
        cache.clear()


def test_figures_are_computed_while_redis_is_down(data, monkeypatch):
    """An unreachable cache costs one connection timeout, then is left alone for a while: the
    figures are computed, the pages work."""
    monkeypatch.setattr(versions, "_cache_down_until", 0.0)
    with override_settings(CACHES=_redis_caches("redis://127.0.0.1:1/0")):
        first = figures.synthese(figures.Chiffres(data["contrat"], 2026))
        assert first.total.vote == Decimal("1100.25")
        assert versions._cache_down_until > 0
        with mock.patch.object(cache, "get", side_effect=AssertionError):
            again = figures.synthese(figures.Chiffres(data["contrat"], 2026))
        assert again.total == first.total
