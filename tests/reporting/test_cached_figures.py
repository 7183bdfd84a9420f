"""The year's figures kept in the cache until their data changes (core.versions): the version
rises with each committed write in the tables they read, and the dashboard and the call page
show a change at once.

Most tests run inside a transaction that wrote their data, where the cache is skipped; these
commit their writes, as the application does."""

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import versions
from core.models import VersionDonnees
from cvu import figures, payments
from cvu.models import Action, AppelAProjets, Financement, Versement
from quartiers.models import Secteur
from reporting import forms

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def version(db):
    """The version's row (a transactional test's flush empties every table)."""
    VersionDonnees.objects.get_or_create(pk=1)


def test_every_table_the_figures_read_raises_the_version(data):
    """Adding a table to the figures without watching it would keep stale figures."""
    with CaptureQueriesContext(connection) as context:
        figures.Chiffres(data["contrat"], 2026).compute_synthese()
        figures.Chiffres(data["contrat"], 2026, commune=data["communes"][0]).compute_synthese()
        figures.Chiffres(
            data["contrat"], 2026, secteur=data["communes"][0].secteur
        ).compute_synthese()
        figures._par_objectif(data["contrat"], None)
        figures._par_objectif(data["contrat"], 2026)
        forms._existing_years(data["contrat"])
    read = set()
    for query in context.captured_queries:
        read |= set(re.findall(r'(?:FROM|JOIN) "(\w+)"', query["sql"]))
    assert {"cvu_financement", "cvu_action", "cvu_bilan", "quartiers_commune"} <= read
    assert read <= versions.watched_tables(), read - versions.watched_tables()


def test_the_version_rises_once_per_committed_write(data):
    before = versions.current()
    assert before is not None
    x, y, _ = data["actions"]
    with transaction.atomic():
        Financement.objects.filter(action=x).update(montant_propose=Decimal("10"))
        Action.objects.filter(pk=y.pk).update(statut="refuse")
        # The transaction sees its own writes, which the version does not tell yet.
        assert versions.current() is None
    assert versions.current() == before + 1

    with pytest.raises(RuntimeError), transaction.atomic():
        Financement.objects.filter(action=x).delete()
        raise RuntimeError
    assert versions.current() == before + 1

    Secteur.objects.create(nom="Secteur sans figure")  # not read by the figures
    assert versions.current() == before + 1

    with connection.cursor() as cursor:
        cursor.execute('TRUNCATE "cvu_beneficiairesqpv"')
    assert versions.current() == before + 2


def test_figures_come_from_the_cache_until_a_write(data):
    chiffres = figures.Chiffres(data["contrat"], 2026)
    first = figures.synthese(chiffres)
    with mock.patch.object(figures.Chiffres, "compute_synthese", side_effect=AssertionError):
        again = figures.synthese(figures.Chiffres(data["contrat"], 2026))
    assert again.total == first.total and again.nb_dossiers == 2
    # Another year, sector or commune is another entry.
    other = figures.synthese(figures.Chiffres(data["contrat"], 2025))
    assert other.total.demande == Decimal("9999.00")
    in_commune = figures.synthese(
        figures.Chiffres(data["contrat"], 2026, commune=data["communes"][1])
    )
    assert in_commune.total.vote == Decimal("900.05")

    Financement.objects.filter(action=data["actions"][1]).update(montant_vote=Decimal("300.00"))
    after = figures.synthese(figures.Chiffres(data["contrat"], 2026))
    assert after.total.vote == first.total.vote + Decimal("99.80")


def test_a_transaction_that_wrote_reads_its_own_figures(data):
    figures.synthese(figures.Chiffres(data["contrat"], 2026))  # cached
    with transaction.atomic():
        Action.objects.filter(pk=data["actions"][0].pk).update(statut="refuse")
        inside = figures.synthese(figures.Chiffres(data["contrat"], 2026))
        assert inside.total.vote == Decimal("200.20") and inside.nb_financees == 1
        transaction.set_rollback(True)
    outside = figures.synthese(figures.Chiffres(data["contrat"], 2026))
    assert outside.total.vote == Decimal("1100.25")


def test_dashboard_and_call_page_show_a_vote_and_a_payment_at_once(client, manager, data):
    client.force_login(manager)
    appel = AppelAProjets.objects.get(contrat=data["contrat"], annee=2026)
    dashboard = f"/tableau-de-bord/?contrat={data['contrat'].pk}&annee=2026"
    call = appel.get_absolute_url()

    def shown():
        board = client.get(dashboard).context
        page = client.get(call).context
        assert board["totals"]["vote"] == page["total"].vote
        assert board["totals"]["verse"] == page["total"].verse
        return board["totals"]

    with CaptureQueriesContext(connection) as cold:
        assert shown()["vote"] == Decimal("1100.25")
    with CaptureQueriesContext(connection) as warm:
        assert shown()["vote"] == Decimal("1100.25")
    assert len(warm) < len(cold)

    line = Financement.objects.get(action=data["actions"][1])
    line.montant_vote = Decimal("250.00")
    line.save()
    assert shown()["vote"] == Decimal("1150.05")

    Versement.objects.create(
        financement=line,
        nature=Versement.Nature.SOLDE,
        montant=Decimal("50.00"),
        date_versement="2026-06-01",
        numero_mandat="M-2026-0002",
    )
    payments.refresh_paid(line)
    assert shown()["verse"] == Decimal("150.00")


def test_contract_page_shows_a_vote_at_once(client, manager, data):
    """The contract page's figures by objective are cached too (figures.par_objectif)."""
    client.force_login(manager)
    url = data["contrat"].get_absolute_url()
    with CaptureQueriesContext(connection) as cold:
        before = client.get(url).context["totals"]
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).context["totals"] == before
    assert len(warm) < len(cold)

    line = Financement.objects.get(action=data["actions"][1])
    line.montant_vote += Decimal("10.00")
    line.save()
    assert client.get(url).context["totals"]["vote"] == before["vote"] + Decimal("10.00")
    in_year = client.get(f"{url}?annee=2026").context["totals"]
    assert in_year["vote"] == Decimal("1110.25")


def test_list_totals_are_cached_under_their_query(client, manager, data):
    """The list of actions' totals (figures.totals) are kept per query while the data does not
    change; a query reading a table whose writes do not raise the version is never kept."""
    client.force_login(manager)
    first = client.get("/actions/").context["totals"]
    with mock.patch.object(figures, "sums", side_effect=AssertionError):
        assert client.get("/actions/").context["totals"] == first
    # Another filter is another query, hence another entry.
    assert client.get("/actions/?annee=2025").context["totals"]["demande"] == Decimal("9999.00")

    Financement.objects.filter(action=data["actions"][1]).update(montant_vote=Decimal("300.00"))
    after = client.get("/actions/").context["totals"]
    assert after["vote"] == first["vote"] + Decimal("99.80")

    by_referent = Action.objects.filter(referent__email="personne@example.org").values("pk")
    assert "comptes_user" not in versions.watched_tables()
    with mock.patch.object(versions, "cached", side_effect=AssertionError):
        assert figures.totals(by_referent)["demande"] == 0


def test_the_dashboard_offers_a_new_year_at_once(client, manager, data):
    """The contract's years are kept too (reporting.forms.existing_years)."""
    client.force_login(manager)
    assert 2027 not in client.get("/tableau-de-bord/").context["form"].years
    with mock.patch.object(forms, "_existing_years", side_effect=AssertionError):
        assert 2027 not in client.get("/tableau-de-bord/").context["form"].years
    Action.objects.create(
        contrat=data["contrat"], titre="Nouvelle", annee=2027, porteur=data["actions"][0].porteur
    )
    assert 2027 in client.get("/tableau-de-bord/").context["form"].years
    # The contract's period is not a watched table: a shorter period is seen at once too.
    type(data["contrat"]).objects.filter(pk=data["contrat"].pk).update(annee_fin=2026)
    assert 2027 not in client.get("/tableau-de-bord/").context["form"].years
