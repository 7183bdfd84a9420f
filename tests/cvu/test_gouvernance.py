"""Instances, meetings, attendance, minutes, decisions and follow-ups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cvu.models import (
    Decision,
    Instance,
    Presence,
    Reunion,
    SuiteADonner,
    TypeInstance,
)
from cvu.views.instances import attendance_rates
from tests.comptes.factories import UserFactory
from tests.cvu.factories import ContactFactory, OrganisationFactory
from tests.presences import grid_data
from tests.quartiers.factories import CommuneFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def copil(manager):
    type_ = TypeInstance.objects.create(nom="Comité de pilotage", pilotage=True)
    return Instance.objects.create(
        nom="COPIL du CVU", type=type_, echelle="intercommunale", organisateur=manager
    )


@pytest.fixture
def groupe(commune):
    """A communal technical group of the editor's sector."""
    type_ = TypeInstance.objects.create(nom="Groupe technique communal")
    instance = Instance.objects.create(nom="GTC Montbéliard", type=type_, echelle="communale")
    instance.communes.set([commune])
    return instance


@pytest.fixture
def caf_contact():
    return ContactFactory(
        organisation=OrganisationFactory(nom="CAF du Doubs", type="caf"),
        nom="Martin",
        prenom="Anne",
    )


def _reunion(instance, days=7, **fields):
    debut = NOW + timedelta(days=days)
    return Reunion.objects.create(
        instance=instance, debut=debut, fin=debut + timedelta(hours=2), **fields
    )


def _reunion_data(instance, **overrides):
    debut = (NOW + timedelta(days=10)).astimezone(timezone.get_current_timezone())
    data = {
        "instance": instance.pk,
        "titre": "Préparation de la programmation",
        "debut": debut.strftime("%Y-%m-%dT%H:%M"),
        "fin": (debut + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "lieu": "Hôtel de ville",
        "statut": "prevue",
        "points-TOTAL_FORMS": "1",
        "points-INITIAL_FORMS": "0",
        "points-0-ordre": "1",
        "points-0-texte": "Bilan des actions 2025",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------- rights


def test_meeting_rights_follow_scale_and_sector(groupe, copil, editor, outsider, manager, reader):
    communal, intercommunal = _reunion(groupe), _reunion(copil)
    assert list(Reunion.objects.editable_by(editor)) == [communal]
    assert not Reunion.objects.editable_by(outsider).exists()
    assert not Reunion.objects.editable_by(reader).exists()
    assert set(Reunion.objects.editable_by(manager)) == {communal, intercommunal}
    organiser = UserFactory()
    copil.organisateur = organiser
    copil.save()
    assert list(Reunion.objects.editable_by(organiser)) == [intercommunal]
    for user in (editor, outsider, reader):
        assert Reunion.objects.visible_to(user).count() == 2


def test_editor_creates_a_meeting_with_its_agenda(client, editor, groupe):
    client.force_login(editor)
    response = client.post("/reunions/nouvelle/", _reunion_data(groupe))
    assert response.status_code == 302, response.content.decode()[:3000]
    reunion = Reunion.objects.get()
    assert (reunion.created_by, reunion.points.get().texte) == (editor, "Bilan des actions 2025")


def test_outsider_cannot_organise_a_meeting_of_another_sector(client, outsider, groupe):
    client.force_login(outsider)
    response = client.post("/reunions/nouvelle/", _reunion_data(groupe))
    assert response.status_code == 400
    assert not Reunion.objects.exists()


def test_direction_reads_but_cannot_prepare(client, reader, groupe):
    reunion = _reunion(groupe)
    client.force_login(reader)
    assert client.get(reunion.get_absolute_url()).status_code == 200
    assert client.get("/reunions/nouvelle/").status_code == 403
    for url in ("modifier", "presences", "compte-rendu", "supprimer"):
        assert client.post(f"/reunions/{reunion.pk}/{url}/").status_code == 403


def test_unknown_meeting_is_404(client, reader):
    client.force_login(reader)
    assert client.get("/reunions/424242/").status_code == 404


# ------------------------------------------------------------- bad input


def test_end_before_start_is_refused(client, editor, groupe):
    client.force_login(editor)
    data = _reunion_data(groupe)
    data["fin"], data["debut"] = data["debut"], data["fin"]
    response = client.post("/reunions/nouvelle/", data)
    assert response.status_code == 400
    assert "La fin de la réunion doit suivre son début." in response.content.decode()
    assert 'value="Hôtel de ville"' in response.content.decode()
    assert not Reunion.objects.exists()


def test_a_past_meeting_cannot_stay_planned(client, editor, groupe):
    client.force_login(editor)
    past = (NOW - timedelta(days=30)).astimezone(timezone.get_current_timezone())
    data = _reunion_data(
        groupe,
        debut=past.strftime("%Y-%m-%dT%H:%M"),
        fin=(past + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    response = client.post("/reunions/nouvelle/", data)
    assert response.status_code == 400
    assert "Cette réunion est passée" in response.content.decode()


# ------------------------------------------------------------- attendance


def test_attendance_is_taken_and_uninvited_people_are_marked(client, editor, groupe, caf_contact):
    reunion = _reunion(groupe, days=0)
    reunion.debut = NOW - timedelta(minutes=10)
    reunion.save()
    reunion.invites_contacts.set([caf_contact])
    reunion.invites_utilisateurs.set([editor])
    walk_in = ContactFactory(nom="Petit", prenom="Louis")
    client.force_login(editor)
    page = client.get(f"/reunions/{reunion.pk}/presences/")
    assert "Anne Martin" in page.content.decode()
    response = client.post(
        f"/reunions/{reunion.pk}/presences/",
        grid_data(
            page,
            {f"c-{caf_contact.pk}": "present", f"u-{editor.pk}": "excuse"},
            autres=[walk_in.pk],
        ),
        follow=True,
    )
    assert "Présents sans avoir été invités : Louis Petit" in response.content.decode()
    presence = Presence.objects.get(contact=caf_contact)
    assert (presence.statut, presence.invite, presence.organisation) == (
        "present",
        True,
        caf_contact.organisation,
    )
    assert Presence.objects.get(contact=walk_in).invite is False
    assert Presence.objects.get(utilisateur=editor).statut == "excuse"
    reunion.refresh_from_db()
    assert reunion.statut == "tenue"


def test_attendance_rate_of_member_organisations(groupe, caf_contact):
    other = OrganisationFactory(nom="Bailleur")
    groupe.organisations_membres.set([caf_contact.organisation, other])
    for days, statut in [(-30, "present"), (-60, "absent"), (-90, "present"), (-400, "present")]:
        reunion = _reunion(groupe, days=days, statut="tenue")
        Presence.objects.create(
            reunion=reunion,
            contact=caf_contact,
            organisation=caf_contact.organisation,
            statut=statut,
        )
    _reunion(groupe, days=-10, statut="annulee")
    rates = {row["organisation"].nom: row for row in attendance_rates(groupe)}
    assert (rates["CAF du Doubs"]["present"], rates["CAF du Doubs"]["total"]) == (2, 3)
    assert rates["CAF du Doubs"]["taux"] == 67
    assert rates["Bailleur"]["taux"] == 0


# ------------------------------------------------------------- minutes, decisions, follow-ups


def _cloture_data(editor, **overrides):
    data = {
        "statut": "tenue",
        "compte_rendu": "Les partenaires ont présenté le bilan.\nÀ suivre.",
        "decisions-TOTAL_FORMS": "1",
        "decisions-INITIAL_FORMS": "0",
        "decisions-0-texte": "Le groupe valide le calendrier.",
        "suites-TOTAL_FORMS": "1",
        "suites-INITIAL_FORMS": "0",
        "suites-0-quoi": "Envoyer le compte rendu aux partenaires",
        "suites-0-responsable": editor.pk,
        "suites-0-echeance": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "suites-0-statut": "a_faire",
    }
    data.update(overrides)
    return data


def test_minutes_decisions_and_follow_ups_are_recorded(client, editor, groupe):
    reunion = _reunion(groupe, days=-1, statut="tenue")
    client.force_login(editor)
    response = client.post(f"/reunions/{reunion.pk}/compte-rendu/", _cloture_data(editor))
    assert response.status_code == 302, response.content.decode()[:3000]
    reunion.refresh_from_db()
    assert reunion.compte_rendu.startswith("Les partenaires")
    assert Decision.objects.get().texte == "Le groupe valide le calendrier."
    suite = SuiteADonner.objects.get()
    assert (suite.responsable, suite.statut) == (editor, "a_faire")
    page = client.get(reunion.get_absolute_url()).content.decode()
    assert "Envoyer le compte rendu aux partenaires" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"suites-0-responsable": ""}, "Indiquez un responsable : un agent ou un partenaire."),
        ({"suites-0-echeance": ""}, "Indiquez une échéance."),
    ],
)
def test_follow_up_without_owner_or_date_keeps_the_typed_minutes(
    client, editor, groupe, overrides, message
):
    reunion = _reunion(groupe, days=-1, statut="tenue")
    client.force_login(editor)
    response = client.post(
        f"/reunions/{reunion.pk}/compte-rendu/", _cloture_data(editor, **overrides)
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Les partenaires ont présenté le bilan." in html
    reunion.refresh_from_db()
    assert reunion.compte_rendu == ""
    assert not Decision.objects.exists()


def test_overdue_follow_ups_show_on_the_owners_home_and_list(client, editor, groupe, manager):
    reunion = _reunion(groupe, days=-20, statut="tenue")
    late = SuiteADonner.objects.create(
        reunion=reunion,
        quoi="Relancer le bailleur",
        responsable=editor,
        echeance=timezone.localdate() - timedelta(days=3),
    )
    SuiteADonner.objects.create(
        reunion=reunion,
        quoi="Tâche du service",
        responsable=manager,
        echeance=timezone.localdate() - timedelta(days=3),
    )
    SuiteADonner.objects.create(
        reunion=reunion,
        quoi="Déjà faite",
        responsable=editor,
        statut="fait",
        fait_le=timezone.localdate(),
        echeance=timezone.localdate() - timedelta(days=3),
    )
    assert list(SuiteADonner.objects.overdue().filter(responsable=editor)) == [late]
    client.force_login(editor)
    home = client.get("/").content.decode()
    assert "Relancer le bailleur" in home and "en retard" in home
    assert "Tâche du service" not in home and "Déjà faite" not in home
    response = client.get("/suivis/", {"responsable": editor.pk, "en_retard": "on"})
    assert [s.quoi for s in response.context["page_obj"]] == ["Relancer le bailleur"]
    assert "Déjà faite" not in client.get("/suivis/").content.decode()  # open ones by default


def test_owner_updates_their_follow_up(client, editor, copil, manager):
    reunion = _reunion(copil, days=-2, statut="tenue")
    suite = SuiteADonner.objects.create(
        reunion=reunion,
        quoi="Transmettre les chiffres",
        responsable=editor,
        echeance=timezone.localdate(),
    )
    client.force_login(editor)
    response = client.post(
        f"/suivis/{suite.pk}/modifier/",
        {"quoi": suite.quoi, "echeance": suite.echeance.isoformat(), "statut": "fait"},
    )
    assert response.status_code == 302
    suite.refresh_from_db()
    assert (suite.statut, suite.fait_le) == ("fait", timezone.localdate())


def test_others_cannot_update_a_follow_up(client, outsider, copil, editor):
    reunion = _reunion(copil, days=-2, statut="tenue")
    suite = SuiteADonner.objects.create(
        reunion=reunion, quoi="X", responsable=editor, echeance=timezone.localdate()
    )
    client.force_login(outsider)
    assert client.get(f"/suivis/{suite.pk}/modifier/").status_code == 403


def test_follow_up_export(client, reader, groupe, editor):
    reunion = _reunion(groupe, days=-2, statut="tenue")
    SuiteADonner.objects.create(
        reunion=reunion, quoi="=cmd|calc", responsable=editor, echeance=timezone.localdate()
    )
    client.force_login(reader)
    response = client.get("/suivis/", {"export": "csv"})
    assert "'=cmd|calc" in response.content.decode("utf-8-sig")


# ------------------------------------------------------------- instances


def test_instance_page_lists_meetings_and_members(client, reader, groupe, caf_contact):
    groupe.contacts_membres.set([caf_contact])
    _reunion(groupe, days=5, titre="Prochaine séance")
    client.force_login(reader)
    html = client.get(groupe.get_absolute_url()).content.decode()
    assert "Prochaine séance" in html
    assert "Anne Martin (CAF du Doubs)" in html
    assert "Nouvelle réunion" not in html


def test_communal_instance_needs_a_commune(client, editor):
    type_ = TypeInstance.objects.create(nom="GTP")
    client.force_login(editor)
    response = client.post(
        "/instances/nouvelle/", {"nom": "GTP", "type": type_.pk, "echelle": "communale"}
    )
    assert response.status_code == 400
    assert "Une instance communale est rattachée à au moins une commune." in (
        response.content.decode()
    )


def test_chef_de_projet_creates_a_communal_instance_only_in_their_sector(
    client, editor, commune, outsider
):
    type_ = TypeInstance.objects.create(nom="GTP")
    other = CommuneFactory(secteur=outsider.secteurs.get())
    client.force_login(editor)
    ok = client.post(
        "/instances/nouvelle/",
        {
            "nom": "GTP Montbéliard",
            "type": type_.pk,
            "echelle": "communale",
            "communes": [commune.pk],
            "active": "on",
        },
    )
    assert ok.status_code == 302
    refused = client.post(
        "/instances/nouvelle/",
        {
            "nom": "GTP ailleurs",
            "type": type_.pk,
            "echelle": "communale",
            "communes": [other.pk],
            "active": "on",
        },
    )
    assert refused.status_code == 400
    assert list(Instance.objects.values_list("nom", flat=True)) == ["GTP Montbéliard"]


# ------------------------------------------------------------- query counts


@pytest.mark.parametrize("size", [2, 15])
def test_meeting_page_queries(client, editor, groupe, size, django_assert_num_queries):
    reunion = _reunion(groupe, days=-1, statut="tenue")
    for n in range(size):
        contact = ContactFactory()
        reunion.invites_contacts.add(contact)
        Presence.objects.create(
            reunion=reunion, contact=contact, statut="present", organisation=contact.organisation
        )
        decision = Decision.objects.create(reunion=reunion, texte=f"Décision {n}")
        SuiteADonner.objects.create(
            reunion=reunion,
            decision=decision,
            quoi=f"Suite {n}",
            responsable=editor,
            echeance=timezone.localdate(),
        )
        reunion.points.create(texte=f"Point {n}", ordre=n)
    client.force_login(editor)
    # session, user, meeting, agenda, invited agents, invited partners, attendance, decisions,
    # follow-ups, edit right, its comptes rendus (cvu.minutes.etat)
    with django_assert_num_queries(11):
        assert client.get(reunion.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("size", [2, 15])
def test_instance_and_follow_up_lists_queries(
    client, editor, groupe, size, django_assert_num_queries
):
    for n in range(size):
        reunion = _reunion(groupe, days=-n - 1, statut="tenue")
        SuiteADonner.objects.create(
            reunion=reunion, quoi=f"Suite {n}", responsable=editor, echeance=timezone.localdate()
        )
    client.force_login(editor)
    # session, user, count, rows, communes, type and commune filter choices
    with django_assert_num_queries(7):
        assert client.get("/instances/").status_code == 200
    # session, user, "mes suites" choice check, count, rows, editable rows, responsable and
    # instance filter choices
    with django_assert_num_queries(8):
        assert client.get("/suivis/").status_code == 200
    # session, user, instance, communes, member organisations, member contacts, next and past
    # meetings, held count, attendance, edit right
    with django_assert_num_queries(11):
        assert client.get(groupe.get_absolute_url()).status_code == 200
