"""Issue #16, rule 1: a multi-year convention (CPO) owes a bilan per exercice, due 30 June of the
following year; the late rule applies per exercice everywhere it is asked."""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from cvu import aap
from cvu.digest import digest_for
from cvu.models import Action, Bilan
from reporting.dashboard import Scope, dashboard, late_bilans
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

S = Action.Statut
TODAY = timezone.localdate()
FIRST = TODAY.year - 2  # a CPO running from two years ago to this year


def _cpo(appel, editor, qpv, etat, *, first=2024, last=2026, voted=(True, True, True), **kwargs):
    action = ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        titre=kwargs.pop("titre", "Ateliers sociolinguistiques"),
        porteur=kwargs.pop("porteur", None) or OrganisationFactory(nom="ASL du Pays"),
        annee=first,
        annee_fin=last,
        statut=kwargs.pop("statut", S.EN_COURS),
        referent=editor,
        qpvs=[qpv],
        date_limite_bilan=date(last + 1, 6, 30),
        **kwargs,
    )
    for year, is_voted in zip(range(first, last + 1), voted, strict=True):
        FinancementFactory(
            action=action,
            financeur=etat,
            annee=year,
            montant_demande=Decimal("10000.00"),
            montant_vote=Decimal("9000.00") if is_voted else None,
        )
    return action


def _bilan(action, exercice, recu_le=None):
    return Bilan.objects.create(
        action=action, exercice=exercice, recu_le=recu_le or TODAY, rapport="Bilan."
    )


@pytest.fixture
def cpo(appel, editor, qpv, etat):
    return _cpo(appel, editor, qpv, etat)


def late(on):
    return set(Action.objects.bilan_en_retard(on).values_list("titre", flat=True))


def test_a_2024_2026_cpo_without_its_2024_bilan_is_late_on_1_july_2025(cpo):
    assert late(date(2025, 6, 30)) == set()
    assert late(date(2025, 7, 1)) == {cpo.titre}
    on = Action.objects.with_exercice_en_retard(date(2025, 7, 1)).get(pk=cpo.pk)
    assert (on.exercice_en_retard, on.echeance_en_retard) == (2024, date(2025, 6, 30))
    # In the lists that are not late, it is the complement.
    assert not Action.objects.bilan_dans_les_delais(date(2025, 7, 1)).filter(pk=cpo.pk).exists()
    assert Action.objects.bilan_dans_les_delais(date(2025, 6, 30)).filter(pk=cpo.pk).exists()
    # The 2024 bilan received: on time again until its 2025 bilan is due.
    _bilan(cpo, 2024, date(2025, 7, 3))
    assert late(date(2025, 7, 4)) == set()
    assert late(date(2026, 7, 1)) == {cpo.titre}
    assert (
        Action.objects.with_exercice_en_retard(date(2026, 7, 1)).get(pk=cpo.pk).exercice_en_retard
        == 2025
    )
    _bilan(cpo, 2025)
    # The last exercice's bilan follows the dossier's own deadline (30 June 2027).
    assert late(date(2027, 6, 30)) == set()
    assert late(date(2027, 7, 1)) == {cpo.titre}


def test_an_exercice_without_money_voted_owes_no_bilan(appel, editor, qpv, etat):
    _cpo(appel, editor, qpv, etat, voted=(False, True, True))
    assert late(date(2025, 7, 1)) == set()
    assert late(date(2026, 7, 1)) == {"Ateliers sociolinguistiques"}


def test_a_dossier_no_longer_awaiting_its_bilan_is_not_late(appel, editor, qpv, etat):
    for statut in (S.BILAN_RECU, S.SOLDE, S.RETIRE, S.PROGRAMME):
        _cpo(appel, editor, qpv, etat, statut=statut, titre=statut)
    assert late(date(2026, 7, 1)) == set()


def test_an_annual_dossier_keeps_its_single_deadline(appel, editor, qpv, etat):
    annual = ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        annee=2024,
        statut=S.EN_COURS,
        date_limite_bilan=date(2025, 6, 30),
    )
    FinancementFactory(action=annual, financeur=etat, annee=2024, montant_vote=Decimal(5000))
    assert late(date(2025, 7, 1)) == {annual.titre}
    assert Action.objects.with_exercice_en_retard(date(2025, 7, 1)).get().exercice_en_retard is None


@pytest.fixture
def late_now(appel, editor, qpv, etat):
    """A CPO running until this year whose first exercice's bilan is late today."""
    return _cpo(appel, editor, qpv, etat, first=FIRST, last=TODAY.year)


def test_a_late_yearly_bilan_blocks_the_porteur_and_shows_everywhere(
    client, editor, manager, appel, qpv, late_now
):
    new = ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        porteur=late_now.porteur,
        referent=editor,
        qpvs=[qpv],
        statut=S.DEPOSE,
        titre="Nouvelle demande",
    )
    assert list(aap.late_bilans(late_now.porteur)) == [late_now]
    client.force_login(editor)
    page = client.get(new.get_absolute_url())
    assert page.context["cycle"]["late"] == [late_now]
    # Home page, digest, the referent's dossiers, the porteur's page, the dashboard.
    expected = f"bilan {FIRST} attendu le {date(FIRST + 1, 6, 30):%d/%m/%Y}"
    home = client.get("/")
    assert [a.pk for a in home.context["dossiers"]["bilans_en_retard"]] == [late_now.pk]
    assert expected in home.content.decode()
    digest = digest_for(editor)["bilans_en_retard"]
    assert [(a.pk, a.echeance_en_retard) for a in digest] == [(late_now.pk, date(FIRST + 1, 6, 30))]
    mine = client.get(reverse("cvu:mes_dossiers")).content.decode()
    assert f"bilan {FIRST} pour le {date(FIRST + 1, 6, 30):%d/%m/%Y}" in mine
    porteur_page = client.get(late_now.porteur.get_absolute_url()).content.decode()
    assert f"bilan {FIRST} attendu au" in porteur_page
    section = late_bilans(Scope(contrat=appel.contrat, annee=TODAY.year))
    assert [row.values["nombre"] for row in section.rows] == [1]


def test_the_dossier_page_lists_each_exercice_and_prompts_the_renewal(client, editor, late_now):
    _bilan(late_now, FIRST + 1)
    client.force_login(editor)
    page = client.get(late_now.get_absolute_url())
    rows = page.context["cycle"]["bilans"]
    assert [(r["exercice"], r["rang"], r["en_retard"], r["bilan"] is not None) for r in rows] == [
        (FIRST, "1/3", True, False),
        (FIRST + 1, "2/3", False, True),
        (TODAY.year, "3/3", False, False),
    ]
    assert [r["echeance"] for r in rows] == [
        date(FIRST + 1, 6, 30),
        date(FIRST + 2, 6, 30),
        late_now.date_limite_bilan,
    ]
    html = page.content.decode()
    assert "Dernière année de la convention pluriannuelle (3/3)" in html
    assert f"nouvelle demande pour {TODAY.year + 1}" in html
    mine = client.get(reverse("cvu:mes_dossiers")).context["groups"]
    renewals = next(actions for title, actions, _ in mine if "renouvellement" in title)
    assert renewals == [late_now]


def test_an_earlier_exercice_bilan_is_entered_on_its_own_lines_and_keeps_the_dossier_running(
    client, editor, late_now
):
    client.force_login(editor)
    url = reverse("cvu:dossier_bilan", args=[late_now.pk])
    page = client.get(url)  # opens on the first exercice without a bilan
    assert page.context["exercice"] == FIRST
    assert [row["line"].annee for row in page.context["comparison"]] == [FIRST]
    assert f"Bilan {FIRST} de l" in page.content.decode() and "année <strong>1/3</strong>" in (
        page.content.decode()
    )
    (line,) = [row["line"] for row in page.context["comparison"]]
    data = {
        "recu_le": TODAY.isoformat(),
        "rapport": "Première année.",
        "cout_realise": "9 500",
        f"realise_{line.pk}": "8 000",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    response = client.post(f"{url}?exercice={FIRST}", data)
    assert response.status_code == 302
    late_now.refresh_from_db()
    assert late_now.statut == S.EN_COURS  # the CPO runs on
    bilan = late_now.bilans.get()
    assert (bilan.exercice, bilan.lignes.get().financement) == (FIRST, line)
    # Late now only for the second exercice, once its 30 June has passed.
    second_due = TODAY > date(TODAY.year, 6, 30)
    on = Action.objects.with_exercice_en_retard().get(pk=late_now.pk)
    assert on.exercice_en_retard == (FIRST + 1 if second_due else None)
    assert Action.objects.bilan_en_retard().filter(pk=late_now.pk).exists() == second_due
    # The status cannot jump to "bilan reçu" before the last exercice's bilan.
    with pytest.raises(Exception, match=f"bilan {TODAY.year}"):
        aap.change_status(late_now, S.BILAN_ATTENDU, user=editor)
        aap.change_status(late_now, S.BILAN_RECU, user=editor)
    # The last exercice's bilan closes the cycle.
    page = client.get(f"{url}?exercice={TODAY.year}")
    (last_line,) = [row["line"] for row in page.context["comparison"]]
    data.update({"rapport": "Dernière année.", f"realise_{last_line.pk}": "9 000"})
    del data[f"realise_{line.pk}"]
    assert client.post(f"{url}?exercice={TODAY.year}", data).status_code == 302
    late_now.refresh_from_db()
    assert late_now.statut == S.BILAN_RECU
    assert sorted(late_now.bilans.values_list("exercice", flat=True)) == [FIRST, TODAY.year]


def test_the_migration_puts_each_bilan_on_the_exercice_it_covers(appel, editor, qpv, etat):
    migration = importlib.import_module("cvu.migrations.0009_bilan_par_exercice")
    cpo = _cpo(appel, editor, qpv, etat)
    annual = ActionFactory(contrat=appel.contrat, annee=2024, statut=S.BILAN_RECU)
    early = ActionFactory(contrat=appel.contrat, annee=2025, statut=S.BILAN_RECU)
    bilans = [
        _bilan(cpo, 2026, date(2025, 5, 10)),  # received in 2025: covers 2024
        _bilan(annual, 2030, date(2026, 3, 1)),  # an annual action's only bilan: its year
        _bilan(early, 2030, date(2025, 12, 15)),  # received before its year ended: its year
    ]
    migration.set_exercice(apps, None)
    assert [Bilan.objects.get(pk=b.pk).exercice for b in bilans] == [2024, 2024, 2025]
    assert Bilan.history.filter(id=bilans[0].pk).latest().exercice == 2024


def test_the_dashboard_shows_the_share_of_cpo_against_the_target(
    client, manager, appel, editor, qpv, etat
):
    year = appel.annee
    _cpo(appel, editor, qpv, etat, first=year, last=year + 2)
    for _ in range(3):
        annual = ActionFactory(contrat=appel.contrat, appel=appel, annee=year, statut=S.NOTIFIE)
        FinancementFactory(action=annual, financeur=etat, annee=year, montant_vote=Decimal(1000))
    refused = _cpo(
        appel,
        editor,
        qpv,
        etat,
        first=year,
        last=year + 1,
        voted=(True, True),
        titre="Refusé",
        statut=S.REFUSE,
    )
    data = dashboard(Scope(contrat=appel.contrat, annee=year))
    assert data["cpo"] == {"nombre": 1, "part": 25, "objectif": 50}  # refused: not funded
    assert refused.pk not in Scope(contrat=appel.contrat, annee=year).chiffres.cpo
    client.force_login(manager)
    html = client.get(
        reverse("reporting:tableau_de_bord"), {"contrat": appel.contrat_id, "annee": year}
    )
    text = html.content.decode()
    assert "En convention pluriannuelle (CPO)" in text and "(25 %)" in text
    assert "objectif 50 %" in text


def test_the_programming_report_shows_the_years_bilan(appel, editor, qpv, etat, late_now):
    from reporting.rapports import programmation_context

    _bilan(late_now, FIRST + 1, date(FIRST + 2, 5, 2))
    context = programmation_context({"contrat": appel.contrat_id, "annee": FIRST + 1})
    (action,) = [a for a in context["bilans_recus"] if a.pk == late_now.pk]
    assert action.bilan_recu_le == date(FIRST + 2, 5, 2)
    context = programmation_context({"contrat": appel.contrat_id, "annee": FIRST})
    (action,) = [a for a in context["bilans_manquants"] if a.pk == late_now.pk]
    assert (action.bilan_en_retard, action.exercice_en_retard) == (True, FIRST)
    assert action.echeance_en_retard == date(FIRST + 1, 6, 30)


def test_an_earlier_exercices_bilan_is_announced_in_the_30_days_before_its_deadline(cpo):
    def soon(on):
        return {a.titre: a.exercice_proche for a in Action.objects.bilan_proche(on)}

    assert soon(date(2025, 5, 30)) == {}  # 31 days before 30 June
    assert soon(date(2025, 5, 31)) == {cpo.titre: 2024}
    assert soon(date(2025, 6, 30)) == {cpo.titre: 2024}  # due today: not late yet
    assert soon(date(2025, 7, 1)) == {}  # late now (bilan_en_retard)
    on = Action.objects.bilan_proche(date(2025, 6, 15)).get()
    assert on.echeance_proche == date(2025, 6, 30)
    _bilan(cpo, 2024)
    assert soon(date(2025, 6, 15)) == {}
    # The final deadline (30 June 2027) comes the same way, without an earlier exercice.
    _bilan(cpo, 2025)
    final = Action.objects.bilan_proche(date(2027, 6, 1)).get()
    assert (final.exercice_proche, final.echeance_proche) == (None, date(2027, 6, 30))
