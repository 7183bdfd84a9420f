"""Démarches, the charter and the qualification cycle."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from participation.models import (
    Charte,
    ConseilCitoyen,
    CycleQualification,
    Demarche,
    Evaluation,
    Inscription,
    Membre,
    SessionFormation,
    TypeParticipation,
    VerificationCharte,
)
from participation.services import current_charte
from tests.presences import grid_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def demarche(commune):
    demarche = Demarche.objects.create(
        titre="Diagnostic en marchant des Buis",
        initiateur="commune",
        type="diagnostic_marchant",
        date_debut=date(2026, 3, 1),
    )
    demarche.communes.set([commune])
    return demarche


def _charte(client, manager, version="1", engagements="Cadre clair\nRetour aux participants"):
    client.force_login(manager)
    return client.post(
        "/participation/charte/nouvelle-version/",
        {
            "version": version,
            "date_adoption": "2025-06-01",
            "texte": "Préambule.",
            "engagements": engagements,
        },
    )


def test_the_latest_adopted_version_is_in_force_and_older_ones_stay(client, manager):
    assert _charte(client, manager).status_code == 302
    _charte(client, manager, version="2", engagements="Cadre clair\nÉvaluation\nInclusion")
    assert Charte.objects.count() == 2
    courante = current_charte()
    assert courante.version == "2"
    assert [e.libelle for e in courante.engagements.all()] == [
        "Cadre clair",
        "Évaluation",
        "Inclusion",
    ]
    assert Charte.objects.get(version="1").engagements.count() == 2


def test_only_the_service_adopts_a_charter(client, editor):
    client.force_login(editor)
    assert client.get("/participation/charte/nouvelle-version/").status_code == 403


def test_charter_without_commitment_is_refused(client, manager):
    response = _charte(client, manager, engagements="  \n ")
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.content.decode()


def test_a_demarche_is_checked_against_the_charter(client, manager, editor, demarche):
    _charte(client, manager)
    engagements = list(current_charte().engagements.all())
    client.force_login(editor)
    data = {f"e{e.pk}-appreciation": "respecte" for e in engagements}
    data[f"e{engagements[1].pk}-appreciation"] = "partiel"
    data[f"e{engagements[1].pk}-commentaire"] = "Retour prévu en juin"
    assert client.post(f"/participation/demarches/{demarche.pk}/charte/", data).status_code == 302
    assert VerificationCharte.objects.get(engagement=engagements[1]).appreciation == "partiel"
    html = client.get(demarche.get_absolute_url()).content.decode()
    assert "Partiellement" in html and "Retour prévu en juin" in html


def test_points_d_etape_by_the_sector_only(client, editor, outsider, reader, demarche):
    client.force_login(editor)
    response = client.post(
        demarche.get_absolute_url(),
        {"date": "2026-04-02", "texte": "Première marche : 25 habitants."},
    )
    assert response.status_code == 302
    assert demarche.points.get().auteur == editor
    for user in (outsider, reader):
        client.force_login(user)
        assert client.get(demarche.get_absolute_url()).status_code == 200
        assert (
            client.post(
                demarche.get_absolute_url(), {"date": "2026-04-03", "texte": "x"}
            ).status_code
            == 403
        )


def test_demarche_dates_in_order(client, editor, commune):
    client.force_login(editor)
    response = client.post(
        "/participation/demarches/nouvelle/",
        {
            "titre": "Budget participatif",
            "initiateur": "pma",
            "type": "budget_participatif",
            "statut": "en_cours",
            "role_pma": "suivi",
            "date_debut": "2026-05-01",
            "date_fin": "2026-04-01",
            "communes": [commune.pk],
            "referent": editor.pk,
        },
    )
    assert response.status_code == 400
    assert "La fin de la démarche précède son début." in response.content.decode()
    assert not Demarche.objects.exists()


def test_demarche_list_filters(client, reader, demarche):
    Demarche.objects.create(
        titre="Consultation",
        initiateur="association",
        type="consultation",
        date_debut=date(2026, 1, 1),
    )
    client.force_login(reader)
    response = client.get("/participation/demarches/", {"type": "diagnostic_marchant"})
    assert [d.titre for d in response.context["page_obj"]] == ["Diagnostic en marchant des Buis"]


# ------------------------------------------------------------- training cycle


@pytest.fixture
def session(commune, qpv):
    cycle = CycleQualification.objects.create(annee=2026, titre="Cycle de qualification 2026")
    return SessionFormation.objects.create(
        cycle=cycle,
        theme="Le rôle du conseil citoyen",
        capacite=1,
        date=timezone.now() + timedelta(days=10),
    )


@pytest.fixture
def membres(commune, qpv):
    type_ = TypeParticipation.objects.create(nom="Conseil citoyen")
    conseil = ConseilCitoyen.objects.create(nom="CC Chiffogne", type=type_, commune=commune)
    return [
        Membre.objects.create(
            conseil=conseil,
            prenom=f"P{n}",
            nom=f"N{n}",
            college="habitants",
            genre="femme",
            tranche_age="40_59",
            designation="volontaire",
            mandat_debut=date(2025, 1, 1),
            base_legale="mission_publique",
        )
        for n in range(2)
    ]


def test_attendance_is_taken_and_over_capacity_warns(client, editor, session, membres):
    client.force_login(editor)
    page = client.get(session.get_absolute_url())
    response = client.post(
        session.get_absolute_url(),
        grid_data(page, {f"m-{membres[0].pk}": "present", f"m-{membres[1].pk}": "invite"}),
        follow=True,
    )
    assert "2 inscrits pour 1 places" in response.content.decode()
    assert Inscription.objects.get(membre=membres[0]).presence == "present"
    cycle_page = client.get(session.cycle.get_absolute_url())
    assert cycle_page.context["par_conseil"] == [("CC Chiffogne", 1)]
    assert cycle_page.context["par_membre"] == [("P0 N0", 1)]


def test_evaluation_is_scored_from_1_to_5(client, editor, session):
    client.force_login(editor)
    bad = client.post(session.get_absolute_url(), {"form": "evaluation", "note": "7"})
    assert bad.status_code == 400
    assert "Note de 1 à 5." in bad.content.decode()
    client.post(
        session.get_absolute_url(), {"form": "evaluation", "note": "4", "commentaire": "Très clair"}
    )
    assert Evaluation.objects.get().note == 4


def test_direction_sees_counts_but_no_names_on_the_cycle(client, reader, session, membres):
    Inscription.objects.create(session=session, membre=membres[0], presence="present")
    client.force_login(reader)
    page = client.get(session.cycle.get_absolute_url())
    assert page.context["par_conseil"] == [("CC Chiffogne", 1)]
    assert page.context["par_membre"] == []
    assert client.post(session.get_absolute_url(), {}).status_code == 403


def test_the_service_creates_a_cycle_and_a_chef_de_projet_records_a_need(
    client, manager, editor, membres
):
    client.force_login(manager)
    response = client.post(
        "/participation/cycles/nouveau/", {"annee": "2027", "titre": "Cycle 2027"}
    )
    assert response.status_code == 302
    cycle = CycleQualification.objects.get(annee=2027)
    conseil = membres[0].conseil
    client.force_login(editor)
    response = client.post(
        cycle.get_absolute_url(), {"conseil": conseil.pk, "besoin": "Prendre la parole en public"}
    )
    assert response.status_code == 302
    assert cycle.besoins.get().conseil == conseil
    client.force_login(manager)
    duplicate = client.post("/participation/cycles/nouveau/", {"annee": "2027", "titre": "Doublon"})
    assert duplicate.status_code == 400
    assert "existe déjà" in duplicate.content.decode()


def test_direction_cannot_create_a_cycle(client, reader):
    client.force_login(reader)
    assert client.get("/participation/cycles/nouveau/").status_code == 403


# ------------------------------------------------------------- query counts


@pytest.mark.parametrize("size", [2, 12])
def test_demarche_pages_queries(client, editor, commune, qpv, size, django_assert_num_queries):
    from tests.quartiers.factories import QpvFactory

    for n in range(size):
        demarche = Demarche.objects.create(
            titre=f"Démarche {n}",
            initiateur="commune",
            type="consultation",
            date_debut=date(2026, 1, 1),
        )
        demarche.communes.set([commune])
        demarche.qpvs.set([qpv, QpvFactory(communes=[commune])])
        demarche.points.create(date=date(2026, 2, n % 28 + 1), texte="Point")
    client.force_login(editor)
    # session, user, count, rows, communes, QPVs, commune and QPV filter choices
    with django_assert_num_queries(8):
        assert client.get("/participation/demarches/").status_code == 200
    # session, user, démarche, edit right, charter, verifications, points, actions
    with django_assert_num_queries(8):
        assert client.get(demarche.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("size", [2, 12])
def test_cycle_and_session_pages_queries(
    client, editor, session, commune, size, django_assert_num_queries
):
    type_ = TypeParticipation.objects.create(nom=f"Type {size}")
    conseil = ConseilCitoyen.objects.create(nom="CC", type=type_, commune=commune)
    for n in range(size):
        membre = Membre.objects.create(
            conseil=conseil,
            prenom=f"P{n}",
            nom=f"N{n}",
            college="habitants",
            genre="femme",
            tranche_age="40_59",
            designation="volontaire",
            mandat_debut=date(2025, 1, 1),
            base_legale="mission_publique",
        )
        Inscription.objects.create(session=session, membre=membre, presence="present")
        Evaluation.objects.create(session=session, note=4)
    client.force_login(editor)
    # session, user, cycle, partners, sessions with counts, needs, attendance per member,
    # visible members, their names, access log of the names shown, whether the user follows a
    # council, councils for the need form
    with django_assert_num_queries(12):
        assert client.get(session.cycle.get_absolute_url()).status_code == 200
    # session, user, training session, visible members, registrations, access log, evaluations
    with django_assert_num_queries(7):
        assert client.get(session.get_absolute_url()).status_code == 200


def test_demarche_links_the_actions_that_fund_it(client, editor, demarche, qpv):
    from tests.cvu.factories import ActionFactory, TagFactory

    tagged = ActionFactory(annee=timezone.localdate().year, qpvs=[qpv])
    tagged.tags.set([TagFactory(nom="Participation citoyenne")])
    client.force_login(editor)
    form_page = client.get(f"/participation/demarches/{demarche.pk}/modifier/")
    assert tagged.titre in form_page.content.decode()
    data = {
        "titre": demarche.titre,
        "initiateur": "commune",
        "type": "diagnostic_marchant",
        "statut": "en_cours",
        "role_pma": "suivi",
        "date_debut": "2026-03-01",
        "communes": [c.pk for c in demarche.communes.all()],
        "actions": [tagged.pk],
        "referent": editor.pk,
    }
    assert client.post(f"/participation/demarches/{demarche.pk}/modifier/", data).status_code == 302
    assert list(demarche.actions.all()) == [tagged]
    assert client.get(f"/participation/demarches/{demarche.pk}/modifier/").status_code == 200
