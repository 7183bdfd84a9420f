"""Payments and clawbacks (issue 18): paid amounts come only from payments, recorded by the chef
de service or an administrator, never above the voted amount; the import's paid amounts become
payments "reprise"; a clawback when the bilan shows less spent than paid."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from cvu import figures, imports, payments, rights
from cvu.models import Action, Bilan, BilanFinancement, Financement, Reversement, Versement
from tests.comptes.factories import UserFactory
from tests.cvu.factories import ActionFactory, FinancementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    """A page or message with entities decoded and French number spaces made plain."""
    return unescape(html).replace("\u202f", " ").replace("\xa0", " ")


S = Action.Statut
R = Reversement.Statut
TODAY = timezone.localdate()
PAST = TODAY - timedelta(days=30)


@pytest.fixture
def admin(db):
    return UserFactory(email="admin@pma.test", administrateur=True)


@pytest.fixture
def line(action):
    """The action's line: État, 2026, 5 000 € voted, nothing paid; the dossier is notified."""
    Action.objects.filter(pk=action.pk).update(
        statut=S.NOTIFIE, date_limite_bilan=date(2027, 6, 30)
    )
    return action.financements.select_related("action", "financeur").get()


def paid_sum(line) -> Decimal:
    return Versement.objects.payes().filter(financement=line).aggregate(t=Sum("montant"))["t"] or 0


def refreshed(line) -> Financement:
    return Financement.objects.select_related("action", "financeur").get(pk=line.pk)


def bilan(line, spent: str) -> None:
    report = Bilan.objects.create(action=line.action, recu_le=PAST, rapport="Bilan reçu.")
    BilanFinancement.objects.create(bilan=report, financement=line, montant_realise=Decimal(spent))


# ---------------------------------------------------------------- the paid amount


def test_paid_amount_is_the_sum_of_paid_instalments_after_record_and_delete(line, manager):
    avance, solde = payments.schedule(line, user=manager)
    # The default split: half in advance (at the notification: no convention), the balance
    # after the bilan, planned on the bilan's deadline.
    assert (avance.nature, avance.condition, avance.montant) == ("avance", "notification", 2500)
    assert (solde.nature, solde.condition, solde.montant) == ("solde", "bilan", 2500)
    assert solde.date_prevue == date(2027, 6, 30)
    assert refreshed(line).montant_verse == 0  # planned is not paid

    payments.record_payment(
        avance, date=PAST, montant=Decimal("2500.00"), numero_mandat="M-1", user=manager
    )
    assert refreshed(line).montant_verse == paid_sum(line) == Decimal("2500.00")
    extra = payments.add_payment(
        line, date=PAST, montant=Decimal("1234.56"), numero_mandat="M-2", user=manager
    )
    assert refreshed(line).montant_verse == paid_sum(line) == Decimal("3734.56")
    payments.record_payment(
        solde, date=TODAY, montant=Decimal("1265.44"), numero_mandat="M-3", user=manager
    )
    assert refreshed(line).montant_verse == paid_sum(line) == Decimal("5000.00")

    payments.delete_versement(extra, user=manager)
    assert refreshed(line).montant_verse == paid_sum(line) == Decimal("3765.44")
    payments.delete_versement(avance, user=manager)
    assert refreshed(line).montant_verse == paid_sum(line) == Decimal("1265.44")
    # Each change of the paid amount is kept in the line's history, with who made it.
    record = Financement.history.filter(id=line.pk).latest("history_date")
    assert (record.montant_verse, record.history_user) == (Decimal("1265.44"), manager)


def test_the_proposed_schedule_can_be_edited_before_saving(client, line, manager):
    client.force_login(manager)
    url = reverse("cvu:versement_schedule", args=[line.pk])
    form = client.get(url).context["form"]
    assert form.initial["avance_montant"] == Decimal("2500.00")
    assert form.initial["solde_montant"] == Decimal("2500.00")
    response = client.post(
        url,
        {
            "avance_montant": "4 000",
            "avance_condition": "signature",
            "avance_date_prevue": "2026-05-01",
            "solde_montant": "1 000",
            "solde_date_prevue": "",
        },
    )
    assert response.status_code == 302
    assert list(line.versements.order_by("pk").values_list("nature", "condition", "montant")) == [
        ("avance", "signature", Decimal("4000.00")),
        ("solde", "bilan", Decimal("1000.00")),
    ]
    # Everything is planned: nothing more to schedule, and more than voted is refused.
    assert payments.unscheduled(line) == 0
    with pytest.raises(ValidationError, match="déjà planifié ou versé"):
        payments.schedule(line, user=manager)


# ---------------------------------------------------------------- refusals


def test_paid_above_voted_is_refused_and_nothing_is_saved(client, line, manager):
    payments.add_payment(
        line, date=PAST, montant=Decimal("4000"), numero_mandat="M-1", user=manager
    )
    with pytest.raises(ValidationError) as error:
        payments.add_payment(
            line, date=PAST, montant=Decimal("1000.01"), numero_mandat="M-2", user=manager
        )
    assert "au-delà du montant voté (5 000,00 €)" in text(" ".join(error.value.messages))
    assert "il reste 1 000,00 €" in text(" ".join(error.value.messages))
    assert line.versements.count() == 1 and refreshed(line).montant_verse == Decimal("4000.00")

    # Through the page: the form comes back with the message, nothing is saved.
    client.force_login(manager)
    response = client.post(
        reverse("cvu:versement_add", args=[line.pk]),
        {
            "nature": "solde",
            "date_versement": PAST.isoformat(),
            "montant": "1 500",
            "numero_mandat": "M-3",
        },
    )
    assert response.status_code == 400
    assert "au-delà du montant voté" in response.content.decode()
    assert line.versements.count() == 1 and refreshed(line).montant_verse == Decimal("4000.00")

    # Correcting a paid instalment counts the others only.
    paid = line.versements.get()
    payments.record_payment(
        paid, date=PAST, montant=Decimal("5000"), numero_mandat="M-1", user=manager
    )
    assert refreshed(line).montant_verse == Decimal("5000.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"montant_vote": None}, "Aucun montant voté pour"),
        ({"statut": S.REFUSE}, "Le dossier est refusé"),
        ({"statut": S.RETIRE}, "Le dossier est retiré"),
    ],
)
def test_no_payment_without_a_vote_nor_on_a_refused_or_withdrawn_dossier(
    line, manager, change, message
):
    if "statut" in change:
        Action.objects.filter(pk=line.action_id).update(**change)
    else:
        Financement.objects.filter(pk=line.pk).update(**change)
    with pytest.raises(ValidationError, match=message):
        payments.add_payment(
            line, date=PAST, montant=Decimal("10"), numero_mandat="M", user=manager
        )
    with pytest.raises(ValidationError, match=message):
        payments.schedule(line, user=manager)
    assert not Versement.objects.exists()


def test_a_payment_needs_its_mandat_a_past_date_and_an_amount(line, manager):
    with pytest.raises(ValidationError) as error:
        payments.add_payment(
            line,
            date=TODAY + timedelta(days=1),
            montant=Decimal("0"),
            numero_mandat=" ",
            user=manager,
        )
    assert error.value.message_dict == {
        "date_versement": ["Un versement ne peut pas être daté d'un jour à venir."],
        "montant": ["Le montant doit être supérieur à zéro."],
        "numero_mandat": ["Indiquez le n° de mandat du versement."],
    }
    (planned, *_) = payments.schedule(line, user=manager)
    with pytest.raises(ValidationError, match="n° de mandat"):
        payments.record_payment(
            planned, date=PAST, montant=Decimal("1"), numero_mandat="", user=manager
        )
    assert not Versement.objects.payes().exists()


@pytest.mark.parametrize("role", ["editor", "reader", "outsider"])
def test_the_services_refuse_who_does_not_manage(request, line, role):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        payments.add_payment(line, date=PAST, montant=Decimal("1"), numero_mandat="M", user=user)
    with pytest.raises(PermissionDenied):
        payments.schedule(line, user=user)
    with pytest.raises(PermissionDenied):
        payments.request_reversement(
            line, montant=Decimal("1"), motif="x", date_demande=PAST, user=user
        )
    assert not Versement.objects.exists() and not Reversement.objects.exists()


# ---------------------------------------------------------------- the role matrix


@pytest.fixture
def story(line, manager):
    """A planned instalment, a paid one, a bilan with less spent, a clawback asked."""
    planned, paid = payments.schedule(
        line,
        user=manager,
        tranches=[
            payments.Tranche(nature="avance", condition="notification", montant=Decimal("2000")),
            payments.Tranche(nature="solde", condition="bilan", montant=Decimal("2500")),
        ],
    )
    payments.record_payment(
        paid, date=PAST, montant=Decimal("2500"), numero_mandat="M-1", user=manager
    )
    bilan(line, "2000.00")
    reversement = payments.request_reversement(
        refreshed(line), montant=Decimal("100"), motif="Trop perçu", date_demande=PAST, user=manager
    )
    return {"line": line, "planned": planned, "paid": paid, "reversement": reversement}


def _posts(story):
    line, planned, paid, reversement = (
        story["line"],
        story["planned"],
        story["paid"],
        story["reversement"],
    )
    day = PAST.isoformat()
    return {
        "schedule": (
            reverse("cvu:versement_schedule", args=[line.pk]),
            {"avance_montant": "100", "avance_condition": "notification"},
        ),
        "add": (
            reverse("cvu:versement_add", args=[line.pk]),
            {"nature": "acompte", "date_versement": day, "montant": "100", "numero_mandat": "M-9"},
        ),
        "record": (
            reverse("cvu:versement_record", args=[planned.pk]),
            {"date_versement": day, "montant": "2 000", "numero_mandat": "M-2"},
        ),
        "delete": (reverse("cvu:versement_delete", args=[paid.pk]), {}),
        "reversement": (
            reverse("cvu:reversement_request", args=[line.pk]),
            {"montant": "50", "motif": "Trop perçu", "date_demande": day},
        ),
        "reversement_update": (
            reverse("cvu:reversement_update", args=[reversement.pk]),
            {"statut": "titre_emis", "numero_titre": "T-2026-7"},
        ),
    }


POSTS = ["schedule", "add", "record", "delete", "reversement", "reversement_update"]


@pytest.mark.parametrize("post", POSTS)
@pytest.mark.parametrize(
    ("role", "code"),
    [("editor", 403), ("outsider", 403), ("reader", 403), ("manager", 302), ("admin", 302)],
)
def test_only_managers_write_payments(client, request, story, post, role, code):
    url, data = _posts(story)[post]
    before = (
        list(Versement.objects.values_list("pk", "montant", "date_versement")),
        list(Reversement.objects.values_list("pk", "statut")),
    )
    client.force_login(request.getfixturevalue(role))
    assert client.get(url).status_code == (403 if code == 403 else 200)
    response = client.post(url, data)
    assert response.status_code == code, response.content.decode()[:3000]
    after = (
        list(Versement.objects.values_list("pk", "montant", "date_versement")),
        list(Reversement.objects.values_list("pk", "statut")),
    )
    assert (after == before) is (code == 403)
    line = refreshed(story["line"])
    assert line.montant_verse == paid_sum(line)


@pytest.mark.parametrize("role", ["editor", "reader", "manager", "admin"])
def test_everyone_reads_the_payments_only_managers_see_the_buttons(client, request, story, role):
    client.force_login(request.getfixturevalue(role))
    html = client.get(story["line"].action.get_absolute_url()).content.decode()
    assert '<section id="versements"' in html
    assert "M-1" in html and "Trop perçu" in html
    manager = role in ("manager", "admin")
    for label in ("Enregistrer le versement", "Demander un reversement", "Mettre à jour"):
        assert (label in html) is manager, label


# ---------------------------------------------------------------- the action form


@pytest.mark.parametrize("role", ["editor", "manager", "admin"])
def test_the_action_form_no_longer_takes_a_paid_amount(client, request, line, manager, role):
    payments.add_payment(
        line, date=PAST, montant=Decimal("2500"), numero_mandat="M-1", user=manager
    )
    action = line.action
    action.refresh_from_db()
    client.force_login(request.getfixturevalue(role))
    page = text(client.get(f"/actions/{action.pk}/modifier/").content.decode())
    assert 'name="fin-0-montant_verse"' not in page  # no input at all
    assert "2 500,00" in page and f"#versements-{line.pk}" in page
    data = {
        "titre": action.titre,
        "contrat": action.contrat_id,
        "programme": "",
        "porteur": action.porteur_id,
        "annee": action.annee,
        "annee_fin": "",
        "statut": action.statut,
        "date_limite_bilan": action.date_limite_bilan.isoformat(),
        "referent": action.referent_id,
        "qpvs": [q.pk for q in action.qpvs.all()],
        "objectifs": [o.pk for o in action.objectifs.all()],
        "cout_total": "10 000",
        "loaded_at": action.updated_at.isoformat(),
        "fin-TOTAL_FORMS": "1",
        "fin-INITIAL_FORMS": "1",
        "fin-0-id": line.pk,
        "fin-0-financeur": line.financeur_id,
        "fin-0-annee": line.annee,
        "fin-0-montant_demande": "6 000",
        "fin-0-montant_vote": "5 000",
        "fin-0-montant_verse": "4 999",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert refreshed(line).montant_verse == Decimal("2500.00") == paid_sum(line)
    assert not rights.financement_field_editable(
        request.getfixturevalue(role), action, "montant_verse"
    )


def test_the_vote_cannot_go_below_what_was_paid_on_the_action_form(client, manager, contrat, etat):
    action = ActionFactory(contrat=contrat, statut=S.NOTIFIE)
    line = FinancementFactory(action=action, financeur=etat, montant_demande=900, montant_vote=900)
    payments.add_payment(line, date=PAST, montant=Decimal("800"), numero_mandat="M", user=manager)
    client.force_login(manager)
    data = {
        "titre": action.titre,
        "contrat": contrat.pk,
        "porteur": action.porteur_id,
        "annee": 2026,
        "statut": action.statut,
        "cout_total": "10 000",
        "loaded_at": action.updated_at.isoformat(),
        "fin-TOTAL_FORMS": "1",
        "fin-INITIAL_FORMS": "1",
        "fin-0-id": line.pk,
        "fin-0-financeur": etat.pk,
        "fin-0-annee": 2026,
        "fin-0-montant_demande": "900",
        "fin-0-montant_vote": "700",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    response = client.post(f"/actions/{action.pk}/modifier/", data)
    assert response.status_code == 400
    html = text(response.content.decode())
    assert "800,00 € ont déjà été versés" in html and "ne peut pas être inférieur" in html
    assert refreshed(line).montant_vote == 900


def test_the_last_line_of_defence_refuses_a_changed_paid_amount(line, manager):
    before = rights.action_snapshot(manager, line.action)
    Financement.objects.filter(pk=line.pk).update(montant_verse=Decimal("10"))
    with pytest.raises(PermissionDenied, match="montant versé"):
        rights.check_action_save(manager, line.action, before)


# ---------------------------------------------------------------- the import


def _workbook(paid, **values) -> bytes:
    headers = [column.header for column in imports.COLUMNS]
    row = {
        "Contrat": "2024-2030",
        "Exercice": 2026,
        "Intitulé": "Atelier théâtre au collège",
        "Porteur": "Compagnie des Étoiles",
        "N° Dauphin": "2026-001",
        "QPV": "Chiffogne",
        "Statut": "Programmé",
        "Coût total": "12 000,00 €",
        "Financeur": "Préfecture du Doubs – BOP 147",
        "Montant demandé": "6 000",
        "Montant voté": 5000,
        "Montant versé": paid,
        **values,
    }
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(paid, user) -> imports.ImportPlan:
    plan = imports.action_import_plan(rows=imports.read_rows(_workbook(paid)), user=user)
    if plan.ok:
        imports.action_import_apply(plan=plan, user=user)
    return plan


def test_the_import_records_a_paid_amount_as_a_reprise_payment(manager, referentiel):
    plan = _import("1 000,25", manager)
    assert plan.ok, [row.errors for row in plan.rows]
    line = Financement.objects.get()
    reprise = line.versements.get()
    assert (reprise.nature, reprise.numero_mandat, reprise.montant) == (
        "reprise",
        "import",
        Decimal("1000.25"),
    )
    assert reprise.date_versement == min(date(2026, 12, 31), TODAY)
    assert reprise.saisi_par == manager
    assert line.montant_verse == Decimal("1000.25") == paid_sum(line)

    # The same file again: nothing new. A larger total: one more reprise for the difference.
    assert _import("1 000,25", manager).ok and line.versements.count() == 1
    assert _import("1 500", manager).ok
    assert list(line.versements.values_list("montant", flat=True)) == [
        Decimal("1000.25"),
        Decimal("499.75"),
    ]
    assert refreshed(line).montant_verse == Decimal("1500.00")
    # Less than recorded would undo payments: refused, nothing written.
    plan = _import("800", manager)
    assert not plan.ok and "déjà enregistrés en versements" in " ".join(plan.rows[0].errors)
    assert refreshed(line).montant_verse == Decimal("1500.00") and line.versements.count() == 2
    # Above the vote: refused by the import's own check.
    plan = _import("5 000,01", manager)
    assert "Le montant versé dépasse le montant voté." in plan.rows[0].errors


def test_a_chef_de_projet_imports_no_paid_amount(editor, referentiel):
    rows = imports.read_rows(_workbook("100", **{"Statut": "Déposé", "Montant voté": None}))
    plan = imports.action_import_plan(rows=rows, user=editor)
    assert any("Montant versé : réservé au chef de service" in e for e in plan.rows[0].errors)


def test_the_import_of_paid_amounts_keeps_a_bounded_number_of_queries(manager, referentiel):
    def workbook(size) -> bytes:
        headers = [column.header for column in imports.COLUMNS]
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(headers)
        for n in range(size):
            for funder in ("Préfecture du Doubs – BOP 147", "PMA"):
                values = {
                    "Contrat": "2024-2030",
                    "Exercice": 2026,
                    "Intitulé": f"Action {n}",
                    "Porteur": "Compagnie des Étoiles",
                    "N° Dauphin": f"2026-{n:03d}",
                    "QPV": "Chiffogne",
                    "Statut": "Programmé",
                    "Coût total": 9000,
                    "Financeur": funder,
                    "Montant demandé": 4000,
                    "Montant voté": 3000,
                    "Montant versé": 1000 + n,
                }
                sheet.append([values.get(header) for header in headers])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    counts = []
    for size in (2, 8):
        Versement.objects.all().delete()
        Financement.objects.all().delete()
        Action.objects.all().delete()
        plan = imports.action_import_plan(rows=imports.read_rows(workbook(size)), user=manager)
        assert plan.ok, [r.errors for r in plan.rows]
        with CaptureQueriesContext(connection) as queries:
            imports.action_import_apply(plan=plan, user=manager)
        counts.append(len(queries))
        assert Versement.objects.filter(nature="reprise").count() == 2 * size
        assert all(line.montant_verse == paid_sum(line) for line in Financement.objects.all())
    assert counts[0] == counts[1], counts


# ---------------------------------------------------------------- clawbacks


def test_a_clawback_is_proposed_when_the_bilan_shows_less_spent_than_paid(client, line, manager):
    payments.add_payment(
        line, date=PAST, montant=Decimal("5000"), numero_mandat="M-1", user=manager
    )
    line = refreshed(line)
    assert payments.reversement_due(line) == 0  # no bilan yet
    bilan(line, "3210.55")
    line = refreshed(line)
    assert payments.reversement_due(line) == Decimal("1789.45")

    client.force_login(manager)
    html = text(client.get(line.action.get_absolute_url()).content.decode())
    assert "1 789,45" in html and "Demander un reversement" in html
    url = reverse("cvu:reversement_request", args=[line.pk])
    form = client.get(url).context["form"]
    assert form.initial["montant"] == Decimal("1789.45")
    response = client.post(
        url,
        {"montant": "1 789,45", "motif": form.initial["motif"], "date_demande": PAST.isoformat()},
    )
    assert response.status_code == 302
    reversement = Reversement.objects.get()
    assert (reversement.statut, reversement.montant) == (R.DEMANDE, Decimal("1789.45"))
    # Asked already: nothing more proposed, and more than paid cannot be asked.
    assert payments.reversement_proposed(refreshed(line)) == 0
    with pytest.raises(ValidationError, match="plus que ce qui a été versé"):
        payments.request_reversement(
            line, montant=Decimal("3210.56"), motif="x", date_demande=PAST, user=manager
        )


def test_clawback_statuses_and_the_net_paid(client, line, manager, pma):
    payments.add_payment(
        line, date=PAST, montant=Decimal("5000"), numero_mandat="M-1", user=manager
    )
    bilan(line, "4000")
    reversement = payments.request_reversement(
        refreshed(line),
        montant=Decimal("1000"),
        motif="Trop perçu",
        date_demande=PAST,
        user=manager,
    )
    with pytest.raises(ValidationError, match="n° du titre de recette"):
        payments.update_reversement(reversement, statut=R.TITRE_EMIS, user=manager)
    payments.update_reversement(
        reversement, statut=R.TITRE_EMIS, numero_titre="T-2026-12", user=manager
    )
    with pytest.raises(ValidationError, match="date du recouvrement"):
        payments.update_reversement(reversement, statut=R.RECOUVRE, user=manager)
    with pytest.raises(ValidationError, match="précéder la demande"):
        payments.update_reversement(
            reversement,
            statut=R.RECOUVRE,
            date_recouvrement=PAST - timedelta(days=1),
            user=manager,
        )
    payments.update_reversement(
        reversement, statut=R.RECOUVRE, date_recouvrement=TODAY, user=manager
    )
    reversement.refresh_from_db()
    assert (reversement.statut, reversement.numero_titre, reversement.date_recouvrement) == (
        R.RECOUVRE,
        "T-2026-12",
        TODAY,
    )
    with pytest.raises(ValidationError, match="ne peut pas passer"):
        payments.update_reversement(reversement, statut=R.ANNULE, user=manager)
    # The gross paid stays; the dossier page shows the net beside it.
    assert refreshed(line).montant_verse == Decimal("5000.00")
    client.force_login(manager)
    response = client.get(line.action.get_absolute_url())
    row = response.context["paiements"][0]
    assert (row.verse, row.recouvre, row.net) == (Decimal("5000.00"), Decimal("1000.00"), 4000)
    html = text(response.content.decode())
    assert 'id="total-net-verse">4 000,00' in html
    # A recovered clawback is closed: its page sends back to the dossier.
    response = client.get(reverse("cvu:reversement_update", args=[reversement.pk]))
    assert response.status_code == 302
    # A clawback asked by mistake is cancelled.
    other = payments.request_reversement(
        refreshed(line), montant=Decimal("10"), motif="Erreur", date_demande=PAST, user=manager
    )
    response = client.post(reverse("cvu:reversement_update", args=[other.pk]), {"statut": "annule"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.statut == R.ANNULE


# ---------------------------------------------------------------- the figures


def test_every_total_of_paid_is_the_sum_of_payments_to_the_cent(
    client, manager, contrat, etat, pma
):
    porteur = OrganisationFactory(nom="Centre social")
    amounts = ["0.01", "1234.56", "999.99", "0.10", "3333.33"]
    lines = []
    for n, amount in enumerate(amounts):
        action = ActionFactory(contrat=contrat, porteur=porteur, statut=S.EN_COURS)
        for funder in (etat, pma):
            line = FinancementFactory(
                action=action, financeur=funder, montant_demande=5000, montant_vote=4000
            )
            payments.add_payment(
                line, date=PAST, montant=Decimal(amount), numero_mandat=f"M-{n}", user=manager
            )
            lines.append(line)
    payments.add_payment(
        lines[0], date=PAST, montant=Decimal("0.02"), numero_mandat="M", user=manager
    )
    total = Versement.objects.payes().aggregate(t=Sum("montant"))["t"]
    assert total == Decimal("11136.00")
    assert figures.totals(Action.objects.all())["verse"] == total
    assert Financement.objects.totals()["verse"] == total
    client.force_login(manager)
    dashboard = client.get(
        reverse("reporting:tableau_de_bord"), {"contrat": contrat.pk, "annee": 2026}
    )
    assert dashboard.context["totals"]["verse"] == total
    assert client.get(reverse("cvu:action_list")).context["totals"]["verse"] == total
    # The porteur page: per funder and year, the same figures as the dossier pages.
    section = payments.organisation_section(manager, porteur)
    rows = {row.financeur.nom: row for row in section["montants_financeurs"]}
    for funder in (etat, pma):
        paid = Versement.objects.payes().filter(financement__financeur=funder)
        assert rows[funder.nom].verse == paid.aggregate(t=Sum("montant"))["t"]
        assert rows[funder.nom].dossiers == len(amounts)
        assert rows[funder.nom].vote == 4000 * len(amounts)
    assert section["montants_financeurs_total"].verse == total
    dossier_total = sum(
        (
            payments.action_section(manager, action)["paiements_totaux"]["verse"]
            for action in Action.objects.filter(porteur=porteur)
        ),
        Decimal(0),
    )
    assert dossier_total == total


def test_the_porteur_section_counts_clawbacks_in_constant_queries(
    client, line, manager, django_assert_num_queries
):
    payments.add_payment(
        line, date=PAST, montant=Decimal("5000"), numero_mandat="M-1", user=manager
    )
    bilan(line, "4500")
    reversement = payments.request_reversement(
        refreshed(line), montant=Decimal("500"), motif="Trop perçu", date_demande=PAST, user=manager
    )
    payments.update_reversement(
        reversement, statut=R.RECOUVRE, date_recouvrement=TODAY, user=manager
    )
    payments.request_reversement(
        refreshed(line), montant=Decimal("20"), motif="Encore", date_demande=PAST, user=manager
    )
    porteur = line.action.porteur
    with django_assert_num_queries(2):  # the sums per funder and year, then the funders
        section = payments.organisation_section(manager, porteur)
        (row,) = section["montants_financeurs"]
        assert (row.demande, row.vote, row.verse, row.reverse, row.recouvre, row.net) == (
            Decimal("6000.00"),
            Decimal("5000.00"),
            Decimal("5000.00"),
            Decimal("520.00"),
            Decimal("500.00"),
            Decimal("4500.00"),
        )
    client.force_login(manager)
    html = text(client.get(porteur.get_absolute_url()).content.decode())
    assert '<section id="montants-financeurs"' in html and "4 500,00" in html


def test_the_porteur_section_adds_up_each_funders_year_over_several_dossiers(manager, etat, pma):
    """Two dossiers of one porteur, same funder and year, different clawbacks, and a refused one:
    one row per funder and year, each amount summed as the lines read one by one give it."""
    porteur = OrganisationFactory(nom="Régie de quartier")
    kept = [ActionFactory(porteur=porteur, statut=S.EN_COURS) for _ in range(2)]
    refused = ActionFactory(porteur=porteur, statut=S.REFUSE)
    lines = [
        FinancementFactory(
            action=action, financeur=etat, annee=2026, montant_demande=900, montant_vote=800
        )
        for action in [*kept, refused]
    ]
    other = FinancementFactory(action=kept[0], financeur=pma, annee=2025, montant_vote=50)
    for line, amount, statut in [
        (lines[0], "30", R.RECOUVRE),
        (lines[0], "5", R.DEMANDE),
        (lines[1], "7", R.DEMANDE),
        (lines[1], "100", R.ANNULE),
    ]:
        Reversement.objects.create(
            financement=line,
            montant=Decimal(amount),
            motif="Trop perçu",
            date_demande=PAST,
            statut=statut,
            date_recouvrement=TODAY if statut == R.RECOUVRE else None,
        )
    section = payments.organisation_section(manager, porteur)
    rows = [(r.annee, r.financeur, r.dossiers) for r in section["montants_financeurs"]]
    assert rows == [(2026, etat, 3), (2025, pma, 1)]
    state = section["montants_financeurs"][0]
    assert (state.demande, state.vote) == (Decimal("2700.00"), Decimal("1600.00"))
    assert (state.reverse, state.recouvre) == (Decimal("42.00"), Decimal("30.00"))
    assert section["montants_financeurs"][1].vote == other.montant_vote
    assert section["montants_financeurs_total"].dossiers == 4


def test_the_dossier_section_reads_a_constant_number_of_queries(
    line, manager, etat, pma, django_assert_num_queries
):
    for year in (2027, 2028):
        other = FinancementFactory(action=line.action, financeur=pma, annee=year, montant_vote=100)
        payments.schedule(other, user=manager)
    with django_assert_num_queries(3):  # lines with bilan lines, instalments, clawbacks
        section = payments.action_section(manager, line.action)
    assert len(section["paiements"]) == 3


def test_a_line_with_payments_is_not_deleted_even_by_the_chef_de_service(
    client, manager, contrat, etat
):
    action = ActionFactory(contrat=contrat, statut=S.NOTIFIE)
    line = FinancementFactory(action=action, financeur=etat, montant_demande=900, montant_vote=900)
    payments.add_payment(line, date=PAST, montant=Decimal("800"), numero_mandat="M", user=manager)
    line.refresh_from_db()
    assert not rights.may_delete_financement(manager, line)
    client.force_login(manager)
    page = client.get(f"/actions/{action.pk}/modifier/").content.decode()
    assert re.search(r'name="fin-0-DELETE"[^>]*disabled', page)  # the box is there, greyed
    # A forged deletion is refused by the last line of defence, and nothing is lost.
    before = rights.action_snapshot(manager, action)
    line.delete()
    with pytest.raises(PermissionDenied, match="a reçu des versements"):
        rights.check_action_save(manager, action, before)
