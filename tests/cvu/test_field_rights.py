"""Field- and step-level rights on the action form: roles × fields × statuses, and the ways
round them that an outside probe found (issue 12, items 1–3)."""

from datetime import date
from decimal import Decimal

import pytest

from cvu import aap, rights
from cvu.models import Action, Financement
from cvu.models.actions import ChangementEcheance
from tests.comptes.factories import UserFactory
from tests.cvu.aap_factories import AppelFactory
from tests.cvu.factories import (
    ActionFactory,
    FinancementFactory,
    OrganisationFactory,
    ProgrammeFactory,
)
from tests.quartiers.factories import CommuneFactory, QpvFactory

pytestmark = pytest.mark.django_db

S = Action.Statut
DEADLINE = date(2027, 6, 30)


@pytest.fixture
def admin(db):
    return UserFactory(email="admin@pma.test", administrateur=True)


@pytest.fixture
def other_sector(outsider, contrat):
    """The outsider's sector: a commune, a QPV, and its validated programme."""
    commune = CommuneFactory(code_insee="25031", nom="Audincourt", secteur=outsider.secteurs.get())
    qpv = QpvFactory(nom="Champs-Montants", communes=[commune])
    programme = ProgrammeFactory(
        contrat=contrat, nom="Programme Audincourt", secteur=commune.secteur, statut="valide"
    )
    return {"commune": commune, "qpv": qpv, "programme": programme}


@pytest.fixture
def own_programme(contrat, secteur):
    return ProgrammeFactory(contrat=contrat, nom="Programme Montbéliard", secteur=secteur)


@pytest.fixture
def dossier_factory(contrat, qpv, editor, etat, own_programme):
    """A dossier of a call in the editor's sector, at a given status, with one funding line."""

    def make(statut: str, *, appel=True) -> Action:
        decided = statut in rights.DECIDED
        action = ActionFactory(
            contrat=contrat,
            titre="Atelier d'aide aux devoirs",
            porteur=OrganisationFactory(nom="Centre social des Buis"),
            qpvs=[qpv],
            referent=editor,
            programme=own_programme,
            statut=statut,
            appel=AppelFactory(contrat=contrat) if appel else None,
            date_limite_bilan=DEADLINE,
        )
        FinancementFactory(
            action=action,
            financeur=etat,
            montant_demande=Decimal("6000"),
            montant_propose=Decimal("5500"),
            montant_vote=Decimal("5000") if decided else None,
        )
        return action

    return make


def form_data(action: Action, **overrides) -> dict:
    """The action form as a browser posts it, every field at its saved value."""
    line = action.financements.get()
    data = {
        "titre": action.titre,
        "contrat": action.contrat_id,
        "programme": action.programme_id or "",
        "porteur": action.porteur_id,
        "annee": action.annee,
        "annee_fin": "",
        "statut": action.statut,
        "date_limite_bilan": action.date_limite_bilan.isoformat()
        if action.date_limite_bilan
        else "",
        "numero_dauphin": action.numero_dauphin,
        "referent": action.referent_id or "",
        "qpvs": [q.pk for q in action.qpvs.all()],
        "cout_total": "10 000",
        "loaded_at": action.updated_at.isoformat(),
        "fin-TOTAL_FORMS": "1",
        "fin-INITIAL_FORMS": "1",
        "fin-0-id": line.pk,
        "fin-0-financeur": line.financeur_id,
        "fin-0-annee": line.annee,
        "fin-0-montant_demande": str(line.montant_demande),
        "fin-0-montant_propose": str(line.montant_propose or ""),
        "fin-0-montant_vote": str(line.montant_vote or ""),
        "fin-0-montant_verse": str(line.montant_verse),
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------- the matrix

ROLES = ["editor", "outsider", "manager", "reader", "admin"]
FIELDS = [
    "montant_demande",
    "montant_propose",
    "montant_vote",
    "montant_verse",
    "referent",
    "programme",
    "date_limite_bilan",
]
STATUSES = [S.DEPOSE, S.INSTRUIT, S.PROGRAMME, S.NOTIFIE, S.SOLDE]
MANAGERS = {"manager", "admin"}


def expected(role: str, field: str, statut: str) -> tuple[int, bool]:
    """(status code, whether the posted value is saved) for a dossier of a call."""
    if role in ("outsider", "reader"):
        return 403, False  # may see the dossier, not change it
    decided = statut in rights.DECIDED
    manager = role in MANAGERS
    if field in ("montant_demande", "montant_propose"):
        return 302, manager or not decided
    if field == "montant_vote":
        return 302, False  # a call's votes come from the committee page only
    if field == "montant_verse":
        return 302, False  # ignored for everyone: paid amounts come only from payments
    if field in ("referent", "programme"):
        # The value posted belongs to another sector: a chef de projet cannot choose it.
        return (302, True) if manager else (400, False)
    if field == "date_limite_bilan":
        return 302, manager
    raise AssertionError(field)


def post_value(field: str, other_sector: dict, outsider) -> tuple[dict, object]:
    """The posted override and the value it would save."""
    if field == "montant_demande":
        return {"fin-0-montant_demande": "7 000"}, Decimal("7000.00")
    if field == "montant_propose":
        return {"fin-0-montant_propose": "6 500"}, Decimal("6500.00")
    if field == "montant_vote":
        return {"fin-0-montant_vote": "250 000,00"}, Decimal("250000.00")
    if field == "montant_verse":
        return {"fin-0-montant_verse": "1 000"}, Decimal("1000.00")
    if field == "referent":
        return {"referent": outsider.pk}, outsider.pk
    if field == "programme":
        return {"programme": other_sector["programme"].pk}, other_sector["programme"].pk
    if field == "date_limite_bilan":
        return {"date_limite_bilan": "2031-06-30", "motif_echeance": "Report accordé"}, date(
            2031, 6, 30
        )
    raise AssertionError(field)


def saved_value(action: Action, field: str):
    if field.startswith("montant_"):
        return getattr(Financement.objects.get(action=action), field)
    action = Action.objects.get(pk=action.pk)
    return {
        "referent": action.referent_id,
        "programme": action.programme_id,
        "date_limite_bilan": action.date_limite_bilan,
    }[field]


@pytest.mark.parametrize("statut", STATUSES)
@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("role", ROLES)
def test_action_form_saves_only_what_the_role_may_change(
    client, request, dossier_factory, other_sector, outsider, role, field, statut
):
    action = dossier_factory(statut)
    before = saved_value(action, field)
    override, value = post_value(field, other_sector, outsider)
    client.force_login(request.getfixturevalue(role))

    response = client.post(f"/actions/{action.pk}/modifier/", form_data(action, **override))

    code, saved = expected(role, field, statut)
    assert response.status_code == code, response.content.decode()[:2000]
    assert saved_value(action, field) == (value if saved else before)


@pytest.mark.parametrize("role", ["editor", "manager", "admin"])
@pytest.mark.parametrize("statut", STATUSES)
def test_the_form_shows_what_the_role_may_not_change_as_disabled(
    client, request, dossier_factory, role, statut
):
    action = dossier_factory(statut)
    client.force_login(request.getfixturevalue(role))
    form = client.get(f"/actions/{action.pk}/modifier/").context["form"]
    formset = client.get(f"/actions/{action.pk}/modifier/").context["financements"]
    line = formset.forms[0]
    decided = statut in rights.DECIDED
    manager = role in MANAGERS
    assert line.fields["montant_vote"].disabled
    assert line.fields["montant_verse"].disabled  # shown, never typed: payments give it
    assert line.fields["montant_demande"].disabled is (decided and not manager)
    assert line.fields["montant_propose"].disabled is (decided and not manager)
    assert form.fields["date_limite_bilan"].disabled is not manager
    assert ("motif_echeance" in form.fields) is manager


def test_the_chef_de_service_records_votes_of_an_action_outside_calls(
    client, dossier_factory, editor, manager
):
    action = dossier_factory(S.PROGRAMME, appel=False)
    client.force_login(editor)
    client.post(
        f"/actions/{action.pk}/modifier/", form_data(action, **{"fin-0-montant_vote": "9 999"})
    )
    assert action.financements.get().montant_vote == Decimal("5000.00")
    action.refresh_from_db()
    client.force_login(manager)
    response = client.post(
        f"/actions/{action.pk}/modifier/", form_data(action, **{"fin-0-montant_vote": "5 500"})
    )
    assert response.status_code == 302
    assert action.financements.get().montant_vote == Decimal("5500.00")


def test_payment_by_the_chef_de_service_is_kept_in_history(client, dossier_factory, manager):
    action = dossier_factory(S.NOTIFIE)
    line = action.financements.get()
    client.force_login(manager)
    response = client.post(
        f"/actions/financements/{line.pk}/versements/nouveau/",
        {
            "nature": "avance",
            "date_versement": "2026-03-02",
            "montant": "2 500",
            "numero_mandat": "M-2026-0042",
        },
    )
    assert response.status_code == 302
    record = Financement.history.filter(action_id=action.pk).latest("history_date")
    assert (record.montant_verse, record.history_user) == (Decimal("2500.00"), manager)
    html = client.get(action.get_absolute_url()).content.decode()
    assert "<del>0,00\xa0€</del> → 2\u202f500,00\xa0€" in html


def test_programmed_vote_overwrite_does_not_reach_the_notification_letter(
    client, dossier_factory, editor
):
    """Issue 12, item 1: 250 000,00 posted by the chef de projet on a programmed dossier."""
    action = dossier_factory(S.PROGRAMME)
    client.force_login(editor)
    response = client.post(
        f"/actions/{action.pk}/modifier/",
        form_data(
            action,
            **{"fin-0-montant_vote": "250 000,00", "fin-0-montant_verse": "250 000,00"},
        ),
    )
    assert response.status_code == 302
    line = action.financements.get()
    assert (line.montant_vote, line.montant_verse) == (Decimal("5000.00"), 0)


def test_a_chef_de_projet_cannot_add_or_delete_lines_once_decided(
    client, dossier_factory, editor, etat
):
    action = dossier_factory(S.PROGRAMME)
    other = OrganisationFactory(nom="CAF du Doubs", type="caf")
    client.force_login(editor)
    page = client.get(f"/actions/{action.pk}/modifier/")
    assert "Ajouter un financeur" not in page.content.decode()
    assert "Le comité a décidé" in page.content.decode()
    data = form_data(
        action,
        **{
            "fin-0-DELETE": "on",
            "fin-TOTAL_FORMS": "2",
            "fin-1-financeur": other.pk,
            "fin-1-annee": "2026",
            "fin-1-montant_demande": "1 000",
            "fin-1-montant_vote": "1 000",
        },
    )
    client.post(f"/actions/{action.pk}/modifier/", data)
    assert list(action.financements.values_list("financeur", flat=True)) == [etat.pk]


def test_a_chef_de_projet_cannot_cross_the_committee_line_with_the_status(
    client, dossier_factory, editor
):
    action = dossier_factory(S.PROGRAMME, appel=False)
    client.force_login(editor)
    form = client.get(f"/actions/{action.pk}/modifier/").context["form"]
    offered = {value for value, _ in form.fields["statut"].choices}
    assert S.DEPOSE not in offered and S.PROGRAMME in offered and S.NOTIFIE in offered
    response = client.post(
        f"/actions/{action.pk}/modifier/",
        form_data(action, statut=S.DEPOSE, **{"fin-0-montant_demande": "9 000"}),
    )
    assert response.status_code == 400
    action.refresh_from_db()
    assert action.statut == S.PROGRAMME
    assert action.financements.get().montant_demande == Decimal("6000.00")


def test_the_service_refuses_what_the_form_would_not_offer(dossier_factory, editor):
    """The last line of defence: a save bypassing the form's disabled fields is refused."""
    from django.core.exceptions import PermissionDenied

    action = dossier_factory(S.PROGRAMME)
    before = rights.action_snapshot(editor, action)
    Financement.objects.filter(action=action).update(montant_vote=Decimal("250000"))
    with pytest.raises(PermissionDenied, match="montant voté"):
        rights.check_action_save(editor, action, before)


# ------------------------------------------------------------- item 2: the sector check


def _new_action_data(contrat, porteur, **overrides) -> dict:
    data = {
        "titre": "Hors secteur",
        "contrat": contrat.pk,
        "porteur": porteur.pk,
        "annee": "2026",
        "statut": "depose",
        "cout_total": "100",
        "fin-TOTAL_FORMS": "0",
        "fin-INITIAL_FORMS": "0",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_naming_oneself_referent_does_not_open_another_sector(
    client, editor, contrat, etat, other_sector
):
    client.force_login(editor)
    for overrides in (
        {"programme": other_sector["programme"].pk, "qpvs": [other_sector["qpv"].pk]},
        {"qpvs": [other_sector["qpv"].pk]},
    ):
        data = _new_action_data(contrat, etat, referent=editor.pk, **overrides)
        response = client.post("/actions/nouvelle/", data)
        assert response.status_code == 400
    assert not Action.objects.exists()


def test_an_action_cannot_be_moved_into_another_sector_by_naming_oneself(
    client, dossier_factory, editor, other_sector
):
    action = dossier_factory(S.DEPOSE)
    client.force_login(editor)
    data = form_data(
        action,
        programme=other_sector["programme"].pk,
        qpvs=[other_sector["qpv"].pk],
        referent=editor.pk,
    )
    assert client.post(f"/actions/{action.pk}/modifier/", data).status_code == 400
    action.refresh_from_db()
    assert action.programme.nom == "Programme Montbéliard"
    # Without the programme: leaving one's sector by the QPVs alone is refused too.
    data = form_data(action, programme="", qpvs=[other_sector["qpv"].pk], referent=editor.pk)
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 400
    assert "ne relèverait plus de votre secteur" in response.content.decode()
    assert list(action.qpvs.all()) != [other_sector["qpv"]]


def test_a_validated_programme_is_locked_for_the_chef_de_projet(
    client, dossier_factory, editor, own_programme, contrat, etat, qpv
):
    own_programme.statut = "valide"
    own_programme.save()
    client.force_login(editor)
    data = _new_action_data(contrat, etat, programme=own_programme.pk, qpvs=[qpv.pk])
    assert client.post("/actions/nouvelle/", data).status_code == 400
    assert not Action.objects.exists()
    # An action already in it keeps its programme, whatever is posted.
    action = dossier_factory(S.DEPOSE)
    form = client.get(f"/actions/{action.pk}/modifier/").context["form"]
    assert form.fields["programme"].disabled
    assert (
        client.post(f"/actions/{action.pk}/modifier/", form_data(action, programme="")).status_code
        == 302
    )
    action.refresh_from_db()
    assert action.programme == own_programme


def test_only_the_chef_de_service_names_a_referent_outside_the_sector(
    client, dossier_factory, editor, outsider, manager
):
    action = dossier_factory(S.DEPOSE)
    client.force_login(editor)
    assert (
        client.post(
            f"/actions/{action.pk}/modifier/", form_data(action, referent=outsider.pk)
        ).status_code
        == 400
    )
    client.force_login(manager)
    response = client.post(
        f"/actions/{action.pk}/modifier/", form_data(action, referent=outsider.pk)
    )
    assert response.status_code == 302
    # The referent so named edits the action although it is outside their sector.
    client.force_login(outsider)
    action.refresh_from_db()
    response = client.post(
        f"/actions/{action.pk}/modifier/", form_data(action, public_vise="Collégiens")
    )
    assert response.status_code == 302
    assert Action.objects.get(pk=action.pk).public_vise == "Collégiens"


def test_the_chef_de_projet_creates_in_their_own_draft_programme(
    client, editor, contrat, etat, qpv, own_programme
):
    client.force_login(editor)
    data = _new_action_data(
        contrat,
        etat,
        titre="Dans mon secteur",
        programme=own_programme.pk,
        qpvs=[qpv.pk],
        referent=editor.pk,
    )
    assert client.post("/actions/nouvelle/", data).status_code == 302
    assert Action.objects.get().referent == editor


# ------------------------------------------------------------- item 3: the bilan deadline


def test_a_late_dossier_stays_late_whatever_the_chef_de_projet_posts(
    client, dossier_factory, editor
):
    action = dossier_factory(S.NOTIFIE)
    Action.objects.filter(pk=action.pk).update(date_limite_bilan=date(2024, 6, 30))
    action.refresh_from_db()
    client.force_login(editor)
    response = client.post(
        f"/actions/{action.pk}/modifier/", form_data(action, date_limite_bilan="2031-06-30")
    )
    assert response.status_code == 302
    assert list(aap.late_bilans(action.porteur)) == [action]
    assert not ChangementEcheance.objects.exists()


def test_the_chef_de_service_moves_a_deadline_with_a_reason(client, dossier_factory, manager):
    action = dossier_factory(S.NOTIFIE)
    client.force_login(manager)
    response = client.post(
        f"/actions/{action.pk}/modifier/", form_data(action, date_limite_bilan="2027-09-30")
    )
    assert response.status_code == 400
    assert "Indiquez le motif du changement de date limite" in response.content.decode()
    assert Action.objects.get(pk=action.pk).date_limite_bilan == DEADLINE

    response = client.post(
        f"/actions/{action.pk}/modifier/",
        form_data(
            action, date_limite_bilan="2027-09-30", motif_echeance="Structure en redressement"
        ),
    )
    assert response.status_code == 302
    change = ChangementEcheance.objects.get()
    assert (change.action, change.ancienne_date, change.nouvelle_date) == (
        action,
        DEADLINE,
        date(2027, 9, 30),
    )
    assert (change.par, change.motif) == (manager, "Structure en redressement")
    assert action.history.latest().history_change_reason == "Structure en redressement"
    page = client.get(f"/actions/{action.pk}/modifier/").content.decode()
    assert "Motif : Structure en redressement" in page
