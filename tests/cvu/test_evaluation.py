"""Issue #16: the evaluation frame. Each objective of the strategy tree has one to three result
indicators (baseline, 2030 target, source, frequency) with yearly values; its evaluation page
shows them beside the money voted and paid on its actions and whom their bilans reached, figures
that a test recomputes from the rows."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from cvu.models import Action, Bilan, IndicateurResultat, ValeurResultat
from tests.cvu.factories import ActionFactory, FinancementFactory

pytestmark = pytest.mark.django_db

S = Action.Statut


@pytest.fixture
def indicateur(objectif):
    indicateur = IndicateurResultat.objects.create(
        objectif=objectif,
        libelle="Élèves accompagnés qui passent en classe supérieure",
        unite="%",
        annee_reference=2023,
        valeur_reference=Decimal("60"),
        cible=Decimal("80"),
        source="Éducation nationale",
    )
    ValeurResultat.objects.create(indicateur=indicateur, annee=2024, valeur=Decimal("62"))
    ValeurResultat.objects.create(indicateur=indicateur, annee=2025, valeur=Decimal("65"))
    return indicateur


@pytest.fixture
def actions(contrat, objectif, etat, pma):
    """Two actions of the objective in 2025 (one refused: it counts for nothing) and one in 2024
    with its bilan; an action of another objective that must not count."""
    rows = []
    for annee, statut, vote, verse in (
        (2025, S.EN_COURS, "8000", "4000"),
        (2025, S.REFUSE, "5000", "0"),
        (2024, S.SOLDE, "6000", "6000"),
    ):
        action = ActionFactory(contrat=contrat, annee=annee, statut=statut)
        action.objectifs.set([objectif])
        FinancementFactory(
            action=action,
            financeur=etat,
            annee=annee,
            montant_demande=Decimal(vote),
            montant_vote=Decimal(vote),
            montant_verse=Decimal(verse),
        )
        rows.append(action)
    Bilan.objects.create(
        action=rows[2],
        exercice=2024,
        recu_le=date(2025, 4, 1),
        rapport="Bilan.",
        beneficiaires=40,
        beneficiaires_qpv=30,
    )
    other = ActionFactory(contrat=contrat, annee=2025)
    FinancementFactory(action=other, financeur=pma, annee=2025, montant_vote=Decimal(99999))
    return rows


def test_the_evaluation_page_shows_indicators_money_and_beneficiaries(
    client, reader, objectif, indicateur, actions
):
    client.force_login(reader)
    page = client.get(reverse("cvu:objectif_evaluation", args=[objectif.pk]))
    assert page.status_code == 200
    (shown,) = page.context["indicateurs"]
    assert (shown.derniere.annee, shown.derniere.valeur, shown.progres) == (2025, Decimal(65), 25)
    years = {row["annee"]: row for row in page.context["annees"]}
    assert set(years) == set(range(2024, 2031))  # the contract's years
    # Recomputed from the rows: the refused dossier's vote does not count.
    assert (years[2025]["vote"], years[2025]["verse"], years[2025]["nb_financees"]) == (
        Decimal("8000"),
        Decimal("4000"),
        1,
    )
    assert (years[2024]["vote"], years[2024]["nb_financees"]) == (Decimal("6000"), 1)
    reached = years[2024]["beneficiaires"]
    assert (reached["beneficiaires"], reached["beneficiaires_qpv"], reached["part_qpv"]) == (
        40,
        30,
        75,
    )
    assert years[2026]["beneficiaires"] is None and years[2026]["vote"] == 0
    assert page.context["total_vote"] == Decimal("14000")
    html = page.content.decode()
    assert "Élèves accompagnés" in html and "25 %" in html and "30 (75 %)" in html
    assert "Modifier les indicateurs" not in html  # the direction reads
    # The contract's tree links each objective to its evaluation page.
    tree = client.get(objectif.contrat.get_absolute_url()).content.decode()
    assert reverse("cvu:objectif_evaluation", args=[objectif.pk]) in tree


def test_progression_is_none_without_baseline_or_target(objectif):
    indicateur = IndicateurResultat(objectif=objectif, libelle="x", valeur_reference=Decimal(5))
    assert indicateur.progression(Decimal(7)) is None
    indicateur.cible = Decimal(5)
    assert indicateur.progression(Decimal(7)) is None  # baseline equals target
    indicateur.cible = Decimal(3)  # a falling target: 5 → 3, at 4 half-way
    assert indicateur.progression(Decimal(4)) == 50


def _indicator_data(rows, initial=0):
    data = {"ind-TOTAL_FORMS": str(len(rows)), "ind-INITIAL_FORMS": str(initial)}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"ind-{index}-{key}"] = value
    return data


def test_the_chef_de_service_sets_up_to_three_indicators(client, manager, objectif):
    client.force_login(manager)
    url = reverse("cvu:objectif_indicateurs", args=[objectif.pk])
    assert client.get(url).status_code == 200
    row = {
        "libelle": "Taux de réussite au brevet",
        "unite": "%",
        "annee_reference": "2023",
        "valeur_reference": "71,5",
        "cible": "80",
        "source": "DEPP",
        "frequence": "annuelle",
        "indicateur_qpv": "",
        "agregation": "moyenne",
    }
    response = client.post(url, _indicator_data([row]))
    assert response.status_code == 302
    saved = objectif.indicateurs_resultat.get()
    assert (saved.valeur_reference, saved.cible) == (Decimal("71.5"), Decimal("80"))
    # A fourth indicator is refused, with nothing saved.
    response = client.post(
        url,
        _indicator_data(
            [{**row, "id": str(saved.pk)}, *[{**row, "libelle": f"Autre {n}"} for n in range(3)]],
            initial=1,
        ),
    )
    assert response.status_code == 400
    assert "3" in " ".join(response.context["formset"].non_form_errors())
    assert objectif.indicateurs_resultat.count() == 1


def test_the_chef_de_service_enters_yearly_values(client, manager, indicateur):
    client.force_login(manager)
    url = reverse("cvu:indicateur_valeurs", args=[indicateur.pk])
    existing = list(indicateur.valeurs.all())
    data = {"val-TOTAL_FORMS": "3", "val-INITIAL_FORMS": "2", "calc-agregation": "moyenne"}
    for index, valeur in enumerate(existing):
        data.update(
            {
                f"val-{index}-id": str(valeur.pk),
                f"val-{index}-annee": str(valeur.annee),
                f"val-{index}-valeur": str(valeur.valeur).replace(".", ","),
            }
        )
    data.update({"val-2-annee": "2026", "val-2-valeur": "68,5", "val-2-commentaire": "provisoire"})
    assert client.post(url, data).status_code == 302
    assert indicateur.valeurs.get(annee=2026).valeur == Decimal("68.5")
    # The same year twice is refused.
    data.update({"val-2-annee": "2025"})
    response = client.post(
        url, data | {"val-TOTAL_FORMS": "4", "val-3-annee": "2025", "val-3-valeur": "1"}
    )
    assert response.status_code == 400


def test_only_managers_edit_the_frame(client, editor, reader, objectif, indicateur):
    for user in (editor, reader):
        client.force_login(user)
        for url in (
            reverse("cvu:objectif_indicateurs", args=[objectif.pk]),
            reverse("cvu:indicateur_valeurs", args=[indicateur.pk]),
        ):
            assert client.get(url).status_code == 403
            assert client.post(url, {}).status_code == 403
    assert objectif.indicateurs_resultat.count() == 1


def test_the_actions_own_indicators_add_up_under_their_objective(client, reader, objectif, actions):
    from cvu.models import IndicateurAction

    for action, cible, realise in ((actions[0], 20, 18), (actions[2], 30, 25)):
        IndicateurAction.objects.create(
            action=action,
            libelle="Jeunes accompagnés",
            unite="jeunes",
            cible=cible,
            realise=realise,
        )
    IndicateurAction.objects.create(action=actions[0], libelle="Ateliers", cible=10)
    outside = ActionFactory(contrat=objectif.contrat, annee=2025)
    IndicateurAction.objects.create(
        action=outside, libelle="Jeunes accompagnés", unite="jeunes", cible=999
    )
    client.force_login(reader)
    page = client.get(reverse("cvu:objectif_evaluation", args=[objectif.pk]))
    rows = {row["libelle"]: row for row in page.context["indicateurs_actions"]}
    assert (rows["Jeunes accompagnés"]["nb"], rows["Jeunes accompagnés"]["cible"]) == (2, 50)
    assert rows["Jeunes accompagnés"]["realise"] == 43
    assert (rows["Ateliers"]["nb"], rows["Ateliers"]["realise"]) == (1, None)
    assert "Indicateurs des actions" in page.content.decode()


def test_years_without_an_entered_value_take_the_qpv_indicator(client, manager, reader, objectif):
    from tests.quartiers.factories import IndicateurFactory, QpvFactory, ValeurIndicateurFactory

    taux = IndicateurFactory(code="taux-emploi", libelle="Taux d'emploi")
    grand = QpvFactory(geographie="2024", population=3000)
    petit = QpvFactory(geographie="2024", population=1000)
    ancien = QpvFactory(geographie="2015", population=5000)
    for qpv, annee, valeur in (
        (grand, 2024, "50"),
        (petit, 2024, "30"),
        (ancien, 2024, "10"),  # another geography: left out
        (grand, 2025, "52"),
        (petit, 2025, "34"),
    ):
        ValeurIndicateurFactory(indicateur=taux, qpv=qpv, annee=annee, valeur=Decimal(valeur))
    indicateur = IndicateurResultat.objects.create(
        objectif=objectif,
        libelle="Taux d'emploi des QPV",
        unite="%",
        valeur_reference=Decimal(40),
        cible=Decimal(50),
    )
    # The chef de service enters 2025 and takes the other years from the QPVs, in one save.
    client.force_login(manager)
    url = reverse("cvu:indicateur_valeurs", args=[indicateur.pk])
    page = client.get(url).content.decode()
    assert "Années sans valeur saisie" in page and "Taux d&#x27;emploi" in page
    data = {
        "val-TOTAL_FORMS": "1",
        "val-INITIAL_FORMS": "0",
        "val-0-annee": "2025",
        "val-0-valeur": "47,5",
        "calc-indicateur_qpv": str(taux.pk),
        "calc-agregation": "moyenne",
    }
    # A bad value row saves nothing, not even the choice of the QPV indicator.
    assert client.post(url, data | {"val-0-valeur": "beaucoup"}).status_code == 400
    indicateur.refresh_from_db()
    assert indicateur.indicateur_qpv is None
    assert client.post(url, data).status_code == 302
    indicateur = IndicateurResultat.objects.get(pk=indicateur.pk)
    assert indicateur.indicateur_qpv == taux
    mesures = indicateur.mesures()
    # 2024: (50 × 3000 + 30 × 1000) / 4000 = 45, computed; 2025: the entered value wins.
    assert [(m.annee, m.valeur, m.calculee) for m in mesures] == [
        (2024, Decimal("45.0"), True),
        (2025, Decimal("47.5"), False),
    ]
    assert [m.annee for m in indicateur.mesures(avant=2025)] == [2024]
    indicateur.agregation = "somme"
    indicateur.save()
    ValeurResultat.objects.all().delete()
    assert [m.valeur for m in IndicateurResultat.objects.get(pk=indicateur.pk).mesures()] == [
        Decimal(80),
        Decimal(86),
    ]
    client.force_login(reader)
    html = client.get(reverse("cvu:objectif_evaluation", args=[objectif.pk])).content.decode()
    assert "2024 : 80 (QPV)" in html and "86 (2025, QPV)" in html
    # Years before the baseline are not measures of the contract.
    indicateur.annee_reference = 2025
    indicateur.save()
    assert [m.annee for m in IndicateurResultat.objects.get(pk=indicateur.pk).mesures()] == [2025]
