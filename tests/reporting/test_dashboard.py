"""The service head's dashboard: aggregates against hand-computed values, filters, links,
query counts and access."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cvu.models import Action, Instance, Reunion, SuiteADonner, TypeInstance
from participation.models import ConseilCitoyen, Demarche, TypeParticipation
from reporting.dashboard import Scope, dashboard
from tests.cvu.aap_factories import AppelFactory
from tests.cvu.factories import (
    ActionFactory,
    FinancementFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db


def section(result, key):
    return next(s for s in result["sections"] if s.key == key)


def values(result, key) -> dict:
    return {row.label: row.values for row in section(result, key).rows}


def test_aggregates_match_hand_computed_values(data):
    result = dashboard(Scope(contrat=data["contrat"], annee=2026))
    assert result["totals"] == {
        "demande": Decimal("1700.30"),
        "propose": Decimal("0.00"),
        "vote": Decimal("1100.25"),
        "verse": Decimal("100.00"),
    }
    assert result["nb_dossiers"] == 2 and result["nb_actions"] == 2
    funders = values(result, "financeurs")
    # Funders go by their full name; the short name is an abbreviation beside it.
    assert funders["Préfecture"] == {
        "demande": Decimal("1200.30"),
        "vote": Decimal("1100.25"),
        "verse": Decimal("100.00"),
        "enveloppe": Decimal("5000.00"),
        "reste": Decimal("3899.75"),
        "taux": 22,
    }
    assert section(result, "financeurs").rows[0].abbr == "État"
    assert funders["PMA"]["vote"] == Decimal("0.00") and funders["PMA"]["enveloppe"] is None
    axes = values(result, "axes")
    # X serves both axes and counts in each; Y only in the first.
    assert axes["1 Éducation"]["demande"] == Decimal("1700.30")
    assert axes["2 Emploi"]["demande"] == Decimal("1500.10")
    assert axes["2 Emploi"]["vote"] == Decimal("900.05")
    qpvs = values(result, "qpv")
    assert qpvs["Chiffogne"]["demande"] == Decimal("1700.30")
    assert qpvs["Les Champs-Montants"]["demande"] == Decimal("1500.10")
    communes = values(result, "communes")
    assert communes["Montbéliard"]["vote"] == Decimal("1100.25")
    assert communes["Audincourt"]["vote"] == Decimal("900.05")
    statuts = values(result, "statuts")
    assert statuts["Programmé"] == {
        "nombre": 1,
        "demande": Decimal("1500.10"),
        "propose": Decimal("0.00"),
        "vote": Decimal("900.05"),
        "verse": Decimal("100.00"),
    }
    assert statuts["En cours"]["nombre"] == 1 and set(statuts) == {"Programmé", "En cours"}


def test_commune_filter_restricts_every_amount(data):
    result = dashboard(Scope(contrat=data["contrat"], annee=2026, commune=data["communes"][1]))
    assert result["totals"]["demande"] == Decimal("1500.10")  # X only
    assert set(values(result, "qpv")) == {"Chiffogne", "Les Champs-Montants"}


def test_sector_filter(data, secteur):
    result = dashboard(Scope(contrat=data["contrat"], annee=2026, secteur=secteur))
    assert result["totals"]["demande"] == Decimal("1700.30")  # X and Y are in its QPV


def test_late_bilans_follow_ups_councils_and_demarches(data, editor, commune):
    x, y, _ = data["actions"]
    Action.objects.filter(pk=y.pk).update(
        statut="en_cours", referent=editor, date_limite_bilan=timezone.localdate() - timedelta(1)
    )
    instance = Instance.objects.create(
        nom="COPIL",
        type=TypeInstance.objects.create(nom="COPIL", pilotage=True),
        echelle="intercommunale",
    )
    start = timezone.now() - timedelta(days=10)
    reunion = Reunion.objects.create(
        instance=instance, debut=start, fin=start + timedelta(hours=1), statut="tenue"
    )
    SuiteADonner.objects.create(
        reunion=reunion,
        quoi="Relancer",
        responsable=editor,
        echeance=timezone.localdate() - timedelta(2),
    )
    ConseilCitoyen.objects.create(
        nom="CC Petite-Hollande", type=TypeParticipation.objects.create(nom="CC"), commune=commune
    )
    Demarche.objects.create(
        titre="Diagnostic en marchant",
        initiateur="pma",
        type="concertation",
        date_debut=timezone.localdate(),
        statut="en_cours",
    )
    Action.objects.filter(pk=x.pk).update(
        statut="en_cours", referent=None, date_limite_bilan=timezone.localdate() - timedelta(1)
    )
    result = dashboard(Scope(contrat=data["contrat"], annee=2026))
    assert values(result, "bilans") == {
        "Élise Éditrice": {"nombre": 1},
        "Sans référent": {"nombre": 1},
    }
    assert values(result, "suites") == {"Élise Éditrice": {"nombre": 1}}
    conseils = section(result, "conseils")
    assert conseils.rows[0].label == "CC Petite-Hollande"
    assert conseils.rows[0].values["presence"] == 0  # one steering meeting, no member present
    assert conseils.rows[0].badge == "rouge"  # no member at all
    assert sum(r.values["nombre"] for r in section(result, "demarches").rows) == 1


def test_councils_are_judged_on_counts_without_reading_any_member(data, commune):
    """The dashboard shows each council's state, never a member: it reads counts, not rows with
    names, and a full balanced council is green."""
    from datetime import date

    from participation.models import Membre

    conseil = ConseilCitoyen.objects.create(
        nom="CC Champvallon",
        type=TypeParticipation.objects.create(nom="CC", sieges=4),
        commune=commune,
    )
    for n in range(4):
        Membre.objects.create(
            conseil=conseil,
            prenom=f"Prénom{n}",
            nom=f"Nom{n}",
            college="habitants",
            genre="femme" if n % 2 else "homme",
            tranche_age="40_59",
            designation="volontaire",
            mandat_debut=date(2025, 1, 1),
            base_legale="mission_publique",
        )
    with CaptureQueriesContext(connection) as queries:
        result = dashboard(Scope(contrat=data["contrat"], annee=2026))
    row = section(result, "conseils").rows[0]
    assert (row.label, row.badge, row.values["raisons"]) == ("CC Champvallon", "vert", [])
    member_reads = [q["sql"] for q in queries if '"participation_membre"."nom"' in q["sql"]]
    assert member_reads == []


def test_page_links_charts_to_filtered_lists(client, manager, data):
    client.force_login(manager)
    response = client.get("/tableau-de-bord/", {"contrat": data["contrat"].pk, "annee": 2026})
    html = response.content.decode()
    axe1 = data["axes"][0]
    assert f"objectif={axe1.pk}" in html
    assert f"financeur={data['etat'].pk}" in html
    assert 'id="donnees-financeurs"' in html and "<script>" not in html.replace('<script id="', "")
    # The linked list shows the same figure.
    listing = client.get(
        "/actions/", {"contrat": data["contrat"].pk, "annee": 2026, "objectif": axe1.pk}
    )
    assert {a.titre for a in listing.context["page_obj"]} == {"X", "Y"}


def test_bad_year_gets_a_french_message_and_defaults(client, manager, data):
    client.force_login(manager)
    response = client.get("/tableau-de-bord/", {"contrat": data["contrat"].pk, "annee": 1999})
    assert response.status_code == 200
    assert "couvre les exercices 2024 à 2030" in response.content.decode()


@pytest.mark.parametrize("role", ["editor", "manager", "reader"])
def test_every_role_sees_the_dashboard(client, request, role, data):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/tableau-de-bord/").status_code == 200


def test_anonymous_goes_to_login(client):
    response = client.get("/tableau-de-bord/")
    assert response.status_code == 302 and "/comptes/connexion/" in response["Location"]


def test_query_count_does_not_grow_with_data(client, manager, data):
    client.force_login(manager)
    url = f"/tableau-de-bord/?contrat={data['contrat'].pk}&annee=2026"

    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    small = count()
    qpv = data["qpvs"][0]
    for n in range(40):
        action = ActionFactory(contrat=data["contrat"], qpvs=[qpv], statut="depose")
        action.objectifs.set([data["axes"][1]])
        FinancementFactory(action=action, financeur=data["pma"], montant_demande=n + 1)
        FinancementFactory(action=action, financeur=OrganisationFactory(), montant_demande=1)
    assert count() == small


def test_home_of_a_chef_de_projet_shows_dossiers_and_red_councils(client, editor, commune, qpv):

    appel = AppelFactory()
    ActionFactory(contrat=appel.contrat, appel=appel, referent=editor, titre="Dossier à instruire")
    ActionFactory(
        contrat=appel.contrat,
        appel=appel,
        referent=editor,
        titre="Bilan oublié",
        statut="en_cours",
        date_limite_bilan=timezone.localdate() - timedelta(days=5),
    )
    ConseilCitoyen.objects.create(
        nom="CC sans membres", type=TypeParticipation.objects.create(nom="CC"), commune=commune
    )
    client.force_login(editor)
    html = client.get("/").content.decode()
    assert "À instruire : Dossier à instruire" in html
    assert "Bilan en retard : Bilan oublié" in html
    assert "CC sans membres" in html and "non conforme" in html


def test_home_query_count_with_dossiers_and_councils(client, editor, commune, qpv):

    appel = AppelFactory()
    type_cc = TypeParticipation.objects.create(nom="CC")

    def grow(n):
        for i in range(n):
            ActionFactory(contrat=appel.contrat, appel=appel, referent=editor)
            ConseilCitoyen.objects.create(nom=f"CC {n}-{i}", type=type_cc, commune=commune)

    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get("/").status_code == 200
        return len(context.captured_queries)

    client.force_login(editor)
    grow(1)
    small = count()
    grow(15)
    assert count() == small


def test_follow_up_and_demarche_links_open_the_filtered_lists(client, manager, data, editor):
    instance = Instance.objects.create(
        nom="GTC", type=TypeInstance.objects.create(nom="GTC"), echelle="communale"
    )
    start = timezone.now() - timedelta(days=10)
    reunion = Reunion.objects.create(instance=instance, debut=start, fin=start + timedelta(hours=1))
    late = SuiteADonner.objects.create(
        reunion=reunion,
        quoi="En retard",
        responsable=editor,
        echeance=timezone.localdate() - timedelta(3),
    )
    SuiteADonner.objects.create(
        reunion=reunion,
        quoi="À venir",
        responsable=editor,
        echeance=timezone.localdate() + timedelta(3),
    )
    Demarche.objects.create(
        titre="Terminée",
        initiateur="pma",
        type="concertation",
        date_debut=timezone.localdate(),
        statut="terminee",
    )
    Demarche.objects.create(
        titre="En cours",
        initiateur="pma",
        type="concertation",
        date_debut=timezone.localdate(),
        statut="en_cours",
    )
    result = dashboard(Scope(contrat=data["contrat"], annee=2026))
    client.force_login(manager)
    suites = client.get(section(result, "suites").rows[0].url)
    assert [s.pk for s in suites.context["page_obj"]] == [late.pk]
    en_cours = next(r for r in section(result, "demarches").rows if r.label == "En cours")
    demarches = client.get(en_cours.url)
    assert [d.titre for d in demarches.context["page_obj"]] == ["En cours"]


def test_a_chart_is_summarised_in_words():
    from reporting.dashboard import Row, Section

    section = Section(
        key="financeurs",
        title="Financeurs",
        columns=[("demande", "Demandé"), ("verse", "Versé")],
        rows=[
            Row(label="État", values={"demande": 1200, "verse": 0}),
            Row(label="Ville", values={"demande": 300, "verse": 0}),
        ],
    )
    assert section.summary == (
        "2 lignes. Demandé : le plus élevé est État (1\u202f200,00\u00a0€), "
        "le plus faible Ville (300,00\u00a0€). Versé : 0,00\u00a0€ sur chaque ligne."
    )


def test_late_bilans_are_listed_by_referent_in_french_order(data):
    """Accented and lower-case surnames take their French place; no referent comes last."""
    from tests.comptes.factories import UserFactory

    late = {"date_limite_bilan": timezone.localdate() - timedelta(1), "statut": "en_cours"}
    for first, last in [
        ("Paul", "Zola"),
        ("Anne", "Émond"),
        ("Luc", "de Villiers"),
        ("Ali", "Martin"),
    ]:
        ActionFactory(
            contrat=data["contrat"], referent=UserFactory(first_name=first, last_name=last), **late
        )
    ActionFactory(contrat=data["contrat"], referent=None, **late)
    section_rows = section(dashboard(Scope(contrat=data["contrat"], annee=2026)), "bilans").rows
    assert [row.label for row in section_rows] == [
        "Luc de Villiers",
        "Anne Émond",
        "Ali Martin",
        "Paul Zola",
        "Sans référent",
    ]
