"""Issue #16: each bilan counts who the action reached (total, QPV residents, women and men, age
bands); the dashboard and the programming report sum them with the same function."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from cvu import figures
from cvu.models import Action, Bilan
from reporting.dashboard import Scope, dashboard
from reporting.rapports import programmation_context
from tests.cvu.factories import ActionFactory, FinancementFactory

pytestmark = pytest.mark.django_db

S = Action.Statut


@pytest.fixture
def dossier(appel, editor, qpv, etat):
    action = ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        annee=appel.annee,
        referent=editor,
        qpvs=[qpv],
        statut=S.BILAN_ATTENDU,
        date_limite_bilan=date(appel.annee + 1, 6, 30),
    )
    FinancementFactory(
        action=action, financeur=etat, annee=appel.annee, montant_vote=Decimal("5000")
    )
    return action


def _post(client, action, **counts):
    data = {
        "recu_le": "2027-03-01",
        "rapport": "Bilan.",
        "cout_realise": "10 000",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
        **{name: str(value) for name, value in counts.items()},
    }
    return client.post(reverse("cvu:dossier_bilan", args=[action.pk]), data)


def test_the_bilan_records_its_beneficiaries(client, editor, dossier):
    client.force_login(editor)
    page = client.get(reverse("cvu:dossier_bilan", args=[dossier.pk]))
    assert "Bénéficiaires touchés en 2026" in page.content.decode()
    response = _post(
        client,
        dossier,
        beneficiaires=120,
        beneficiaires_qpv=90,
        femmes=70,
        hommes=50,
        moins_16=30,
        de_16_25=20,
        de_26_64=60,
        plus_65=10,
    )
    assert response.status_code == 302
    bilan = dossier.bilans.get()
    assert (bilan.beneficiaires, bilan.beneficiaires_qpv, bilan.femmes, bilan.plus_65) == (
        120,
        90,
        70,
        10,
    )


def test_parts_above_the_total_are_refused_all_at_once_and_nothing_is_saved(
    client, editor, dossier
):
    client.force_login(editor)
    response = _post(
        client,
        dossier,
        beneficiaires=50,
        beneficiaires_qpv=60,
        femmes=30,
        hommes=30,
        moins_16=40,
        de_16_25=20,
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["beneficiaires_qpv"] == [
        "Les habitants des QPV (60) dépassent le total des bénéficiaires (50)."
    ]
    assert errors["hommes"] == [
        "Les femmes et les hommes (60) dépassent le total des bénéficiaires (50)."
    ]
    assert errors["plus_65"] == [
        "Les tranches d'âge (60) dépassent le total des bénéficiaires (50)."
    ]
    assert not Bilan.objects.exists()
    dossier.refresh_from_db()
    assert dossier.statut == S.BILAN_ATTENDU
    # A breakdown without its total is refused too.
    response = _post(client, dossier, femmes=3)
    assert response.context["form"].errors["beneficiaires"] == [
        "Indiquez le nombre total de bénéficiaires touchés."
    ]


def test_dashboard_and_report_give_the_same_sums(client, manager, appel, editor, qpv, etat):
    year = appel.annee
    rows = [
        dict(beneficiaires=100, beneficiaires_qpv=80, femmes=60, hommes=40, moins_16=10),
        dict(beneficiaires=50, beneficiaires_qpv=None, femmes=20, hommes=30),
        dict(beneficiaires=None),
    ]
    for counts in rows:
        action = ActionFactory(contrat=appel.contrat, appel=appel, annee=year, statut=S.BILAN_RECU)
        FinancementFactory(action=action, financeur=etat, annee=year, montant_vote=Decimal(100))
        Bilan.objects.create(
            action=action, exercice=year, recu_le=date(year + 1, 3, 1), rapport="Bilan.", **counts
        )
    # Another year's bilan does not count.
    other = ActionFactory(contrat=appel.contrat, annee=year - 1, statut=S.BILAN_RECU)
    Bilan.objects.create(
        action=other,
        exercice=year - 1,
        recu_le=date(year, 3, 1),
        rapport="Bilan.",
        beneficiaires=999,
    )
    scope = Scope(contrat=appel.contrat, annee=year)
    sums = figures.beneficiaires(scope.actions(), year)
    assert (sums["nb_bilans"], sums["nb_comptes"], sums["beneficiaires"]) == (3, 2, 150)
    assert (sums["beneficiaires_qpv"], sums["part_qpv"]) == (80, 80)  # of the 100 that say
    assert dict(sums["repartition"])["dont femmes"] == 80
    assert dict(sums["repartition"])["65 ans et plus"] is None
    assert dashboard(scope)["beneficiaires"] == sums
    report = programmation_context({"contrat": appel.contrat_id, "annee": year})
    assert report["beneficiaires"] == sums
    client.force_login(manager)
    page = client.get(
        reverse("reporting:tableau_de_bord"), {"contrat": appel.contrat_id, "annee": year}
    )
    text = page.content.decode()
    assert "Bénéficiaires touchés selon les bilans 2026" in text
    assert "80 (80 %)" in text


def test_qpv_residents_are_detailed_by_quartier(client, editor, manager, dossier, qpv):
    from cvu.models import BeneficiairesQpv
    from cvu.projets import dossier as projet_dossier
    from tests.quartiers.factories import QpvFactory

    other = QpvFactory(nom="Petite-Hollande", geographie=qpv.geographie)
    dossier.qpvs.add(other)
    client.force_login(editor)
    page = client.get(reverse("cvu:dossier_bilan", args=[dossier.pk])).content.decode()
    assert "Dont Chiffogne" in page and "Dont Petite-Hollande" in page
    field = {q.nom: f"qpv_{q.pk}" for q in (qpv, other)}
    counts = dict(beneficiaires=120, beneficiaires_qpv=90)
    # More residents by quartier than residents of the QPVs: refused, nothing saved.
    response = _post(
        client, dossier, **counts, **{field["Chiffogne"]: 50, field["Petite-Hollande"]: 50}
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field["Petite-Hollande"]] == [
        "Les habitants comptés par QPV (100) dépassent les habitants des QPV (90)."
    ]
    # Quartiers without the QPV residents' total: refused.
    response = _post(client, dossier, beneficiaires=120, **{field["Chiffogne"]: 10})
    assert response.context["form"].errors["beneficiaires_qpv"] == [
        "Indiquez le nombre d'habitants des QPV, dont les quartiers sont le détail."
    ]
    assert not Bilan.objects.exists() and not BeneficiairesQpv.objects.exists()
    response = _post(
        client, dossier, **counts, **{field["Chiffogne"]: 60, field["Petite-Hollande"]: 30}
    )
    assert response.status_code == 302
    bilan = dossier.bilans.get()
    assert {(r.qpv.nom, r.nombre) for r in bilan.par_qpv.all()} == {
        ("Chiffogne", 60),
        ("Petite-Hollande", 30),
    }
    # The dashboard, the report and the projet de quartier count the same rows.
    year = dossier.annee
    scope = Scope(contrat=dossier.contrat, annee=year)
    par_qpv = figures.beneficiaires(scope.actions(), year)["par_qpv"]
    assert par_qpv == [
        {"qpv__nom": "Chiffogne", "nombre": 60, "nb_bilans": 1},
        {"qpv__nom": "Petite-Hollande", "nombre": 30, "nb_bilans": 1},
    ]
    report = programmation_context({"contrat": dossier.contrat_id, "annee": year})
    assert report["beneficiaires"]["par_qpv"] == par_qpv
    assert projet_dossier(dossier.contrat, qpv)["beneficiaires"] == [
        {"bilan__exercice": year, "nombre": 60, "nb_bilans": 1}
    ]
    client.force_login(manager)
    text = client.get(
        reverse("reporting:tableau_de_bord"), {"contrat": dossier.contrat_id, "annee": year}
    ).content.decode()
    assert "Habitants des QPV par quartier" in text and "Petite-Hollande" in text
    # A blank count removes the quartier's row.
    client.force_login(editor)
    response = _post(client, dossier, **counts, **{field["Chiffogne"]: 60})
    assert response.status_code == 302
    assert [r.qpv.nom for r in bilan.par_qpv.all()] == ["Chiffogne"]
