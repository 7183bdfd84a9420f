"""Who may change what: objects, fields and workflow steps, answered in one place.

Object rules stay in the querysets (`visible_to`, `editable_by`); this module asks them and adds
the finer questions: may this user change this field, take this step, create a record here?
Forms ask it to disable fields, views to refuse, services to check again what was saved.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.querysets import RoleQuerySet, is_active_user
from quartiers.models import Secteur

from .models import Action, Financement, ProgrammeActions, Reunion

S = Action.Statut

# Once the committee has decided, requested and proposed amounts are frozen for the chef de
# projet (an adjourned dossier comes back to the committee, so it stays open).
DECIDED = frozenset(
    {
        S.PROGRAMME,
        S.REFUSE,
        S.NOTIFIE,
        S.CONVENTIONNE,
        S.EN_COURS,
        S.BILAN_ATTENDU,
        S.BILAN_RECU,
        S.SOLDE,
    }
)
COMMITTEE_DECISIONS = frozenset({S.PROGRAMME, S.REFUSE, S.AJOURNE})

# The refusals, shown on the French 403 page. A view never words its own: it asks this module.
REFUSAL = "Vous n'avez pas le droit de faire cette modification."
CHANGE_REFUSAL = "Vous pouvez consulter cette fiche, pas la modifier."
CREATE_REFUSAL = "Votre rôle ne permet pas de créer cette fiche."
MANAGER_REFUSAL = "Cette opération revient au chef de service."
DECIDE_REFUSAL = (
    "Seuls les organisateurs de la réunion enregistrent sa décision, une fois la réunion commencée."
)


# ---------------------------------------------------------------- objects


def is_manager(user) -> bool:
    """The chef de service and administrators: every right the application gives."""
    return is_active_user(user) and user.sees_everything_as_manager


def may_change(user, obj) -> bool:
    """The object is among those its queryset's `editable_by` gives the user."""
    if obj is None or obj.pk is None or not is_active_user(user):
        return False
    # Narrowed to the object first: the subqueries a queryset builds on itself (an action's
    # actions in the user's sectors) then read one row, not every action of the sectors
    # (a dossier's page for a chef de projet: 55 ms -> under 1 ms of SQL at x10).
    return type(obj)._default_manager.filter(pk=obj.pk).editable_by(user).exists()


def may_create(user, model, *, parent=None) -> bool:
    """May the user create a record of `model` (under `parent` when it belongs to one)?

    A part is created by whoever may change its parent. A record of its own is created by those
    who may edit records of its kind: managers always, a chef de projet only where the model's
    queryset opens some to them (`editable_by_chef_projet`); the service then checks that the
    saved record is among them, as for any change.
    """
    if not is_active_user(user) or not user.is_writer:
        return False
    if parent is not None:
        return may_change(user, parent)
    if is_manager(user):
        return True
    queryset_class = type(model._default_manager.get_queryset())
    opens_some = queryset_class.editable_by_chef_projet is not RoleQuerySet.editable_by_chef_projet
    # A queryset may open records to the chef de projet yet keep their creation to managers.
    creates = getattr(queryset_class, "chef_projet_creates", opens_some)
    return user.is_chef_projet and opens_some and creates


def require(allowed: bool, message: str = REFUSAL) -> None:
    """Refuses with a French message, shown on the 403 page."""
    if not allowed:
        raise PermissionDenied(message)


def require_change(user, obj) -> None:
    require(may_change(user, obj), CHANGE_REFUSAL)


def require_create(user, model, *, parent=None) -> None:
    require(may_create(user, model, parent=parent), CREATE_REFUSAL)


def require_manager(user) -> None:
    require(is_manager(user), MANAGER_REFUSAL)


def get_visible(user, queryset, pk, *, write: bool = False):
    """The record among those the user may see (404 otherwise); with write, one they may change
    (403: they may read it, and are told so)."""
    obj = get_object_or_404(queryset.visible_to(user), pk=pk)
    if write:
        require_change(user, obj)
    return obj


# ---------------------------------------------------------------- actions


def programmes_open_to(user):
    """The programmes an action may be put in or taken out of by the user."""
    if is_manager(user):
        return ProgrammeActions.objects.all()
    # A validated programme's frame is locked: only the chef de service adds or removes actions.
    return ProgrammeActions.objects.editable_by(user)


def referents_open_to(user):
    """The chefs de projet the user may name referent: anyone for the chef de service; for a
    chef de projet, the chefs de projet of their own sectors (holders and backups)."""
    chefs = get_user_model().objects.filter(role="chef_projet", is_active=True)
    if is_manager(user):
        return chefs
    sectors = Secteur.objects.of_user(user)
    return chefs.filter(
        Q(pk=user.pk) | Q(secteurs__in=sectors) | Q(secteurs_suppleance__in=sectors)
    ).distinct()


def action_field_editable(user, action: Action, name: str) -> bool:
    """May the user change this field of the action (a new one when action.pk is None)?"""
    if is_manager(user):
        return True
    if not (is_active_user(user) and user.is_chef_projet):
        return False
    if name == "date_limite_bilan":
        return False  # Moving a deadline is a derogation of the chef de service.
    if name == "programme":
        return action.programme_id is None or (
            programmes_open_to(user).filter(pk=action.programme_id).exists()
        )
    if name == "statut":
        # A dossier of a call moves through its cycle page only, where each step is checked.
        return action.appel_id is None
    return True


def statuts_open_to(user, action: Action) -> list[str]:
    """The statuses the user may give the action on its form (for an action outside a call).

    A chef de projet never takes the committee's decision nor undoes it: they move among the
    statuses before the decision or among those after it, not across.
    """
    if is_manager(user):
        return list(S.values)
    current = action.statut or S.DEPOSE
    decided = current in DECIDED
    return [
        value
        for value in S.values
        if value == current or ((value in DECIDED) == decided and value not in COMMITTEE_DECISIONS)
    ]


def financement_field_editable(user, action: Action, name: str) -> bool:
    """May the user change this field of the action's financing lines?

    Voted amounts come from the committee (the chef de service records them on the committee
    page; for an action outside any call, on the action form). Paid amounts come only from
    payments (cvu.payments): nobody types them. Requested and proposed amounts are the chef de
    projet's until the decision.
    """
    if name == "montant_verse":
        return False
    if name == "montant_vote":
        return is_manager(user) and action.appel_id is None
    if is_manager(user):
        return True
    if not (is_active_user(user) and user.is_chef_projet):
        return False
    return action.statut not in DECIDED


def may_record_payments(user) -> bool:
    """Payment schedules, payments and clawbacks are the chef de service's and administrators'
    (cvu.payments); everyone else reads them."""
    return is_manager(user)


def financement_plan_open(user, action: Action) -> bool:
    """May the user add or delete financing lines of the action?"""
    return is_manager(user) or (
        is_active_user(user) and user.is_chef_projet and action.statut not in DECIDED
    )


def may_delete_financement(user, line) -> bool:
    """A line carrying a vote is deleted only by the chef de service; a line with payments
    recorded by nobody (its payments are accounting facts: delete them first)."""
    if line.montant_verse:
        return False
    if is_manager(user):
        return True
    return (
        financement_plan_open(user, line.action)
        and line.montant_vote is None
        and not line.montant_verse
    )


def action_in_scope(user, action: Action, *, before: dict) -> bool:
    """After a save: is the action still the user's to edit?

    A chef de projet keeps the action in their sector. Naming oneself referent proves nothing:
    only an action the chef de service had already placed outside their sector, with them as
    referent, may stay outside it.
    """
    if is_manager(user):
        return True
    if not (is_active_user(user) and user.is_chef_projet):
        return False
    if Action.objects.in_sector_of(user).filter(pk=action.pk).exists():
        return True
    return before["referent_outside_sector"] and action.referent_id == user.pk


# ---------------------------------------------------------------- proposals


def may_decide_proposition(user, proposition) -> bool:
    """The meeting's organisers record its decision on a proposal on its agenda, once the
    meeting has begun; a decided proposal is not decided again."""
    if not is_active_user(user) or proposition.issue or proposition.point_id is None:
        return False
    reunion = proposition.point.reunion
    if reunion.statut == Reunion.Statut.ANNULEE or reunion.debut > timezone.now():
        return False
    return may_change(user, reunion)


def agenda_open_to(user, proposition):
    """The meetings a proposal may be put on: upcoming meetings of active instances. Its author
    asks the direction de projet, so any instance's agenda is open to them, not only those they
    organise; the organiser sees the item and may take it off."""
    if not may_change(user, proposition):
        return Reunion.objects.none()
    return (
        Reunion.objects.filter(
            statut=Reunion.Statut.PREVUE, debut__gte=timezone.now(), instance__active=True
        )
        .select_related("instance__type")
        .order_by("-instance__type__pilotage", "debut")
    )


# ---------------------------------------------------------------- the last line of defence


ACTION_CHECKED_FIELDS = ["programme", "referent", "statut", "date_limite_bilan", "appel"]
FINANCEMENT_CHECKED_FIELDS = [
    "financeur",
    "annee",
    "montant_demande",
    "montant_propose",
    "montant_vote",
    "montant_verse",
]


def action_snapshot(user, action: Action) -> dict:
    """What a save may not change without the right: the action's guarded fields and its lines."""
    if action.pk is None:
        return {"action": None, "lines": {}, "referent_outside_sector": False}
    fresh = Action.objects.get(pk=action.pk)
    return {
        "action": fresh,
        "referent_outside_sector": is_active_user(user)
        and fresh.referent_id == user.pk
        and not Action.objects.in_sector_of(user).filter(pk=fresh.pk).exists(),
        "values": {name: _value(fresh, name) for name in ACTION_CHECKED_FIELDS},
        "lines": {
            line.pk: {name: _value(line, name) for name in FINANCEMENT_CHECKED_FIELDS}
            for line in fresh.financements.all()
        },
    }


def _value(obj, name: str):
    return getattr(obj, obj._meta.get_field(name).attname)


def check_action_save(user, action: Action, before: dict) -> None:
    """Raises PermissionDenied if the saved action differs where the user had no right.

    `before` comes from action_snapshot() taken before the save; the rules are those the forms
    apply, judged on the action as it was.
    """
    old = before["action"] or Action(
        contrat=action.contrat, appel=action.appel, statut=S.DEPOSE, referent=None
    )
    values = before.get("values") or {}
    for name in ACTION_CHECKED_FIELDS:
        new = _value(action, name)
        if before["action"] is None:
            changed = new not in (None, "", S.DEPOSE) if name != "appel" else False
            if name == "referent":
                changed = new is not None and new != user.pk
        else:
            changed = new != values[name]
        if not changed:
            continue
        require(
            action_field_editable(user, old, name),
            f"Vous ne pouvez pas modifier le champ « {_label(name)} ».",
        )
        if name == "programme" and new is not None:
            require(
                programmes_open_to(user).filter(pk=new).exists(),
                "Ce programme est validé ou relève d'un autre secteur : seul le chef de service "
                "peut y placer une action.",
            )
        if name == "referent" and new is not None:
            require(
                referents_open_to(user).filter(pk=new).exists(),
                "Seul le chef de service désigne un référent hors de votre secteur.",
            )
        if name == "statut" and old.appel_id is None:
            require(
                new in statuts_open_to(user, old),
                "La programmation est décidée en comité : seul le chef de service l'enregistre.",
            )
    lines_before = before["lines"]
    lines_after = {
        line.pk: {name: _value(line, name) for name in FINANCEMENT_CHECKED_FIELDS}
        for line in action.financements.all()
    }
    for pk, fields in lines_after.items():
        previous = lines_before.get(pk)
        if previous is None:
            require(
                financement_plan_open(user, old),
                "Le plan de financement est arrêté : seul le chef de service y ajoute une ligne.",
            )
            previous = {**fields, "montant_vote": None, "montant_verse": 0, "montant_propose": None}
        for name, value in fields.items():
            require(
                value == previous[name] or financement_field_editable(user, old, name),
                f"Vous ne pouvez pas modifier le {_label(name, model='financement')} d'un "
                "financement.",
            )
    for pk, fields in lines_before.items():
        if pk not in lines_after:
            require(
                not fields["montant_verse"],
                "Une ligne qui a reçu des versements ne se supprime pas : supprimez d'abord ses "
                "versements.",
            )
            deletable = is_manager(user) or (
                financement_plan_open(user, old)
                and fields["montant_vote"] is None
                and not fields["montant_verse"]
            )
            require(deletable, "Seul le chef de service supprime une ligne votée ou versée.")


def _label(name: str, *, model: str = "action") -> str:
    meta = (Action if model == "action" else Financement)._meta
    return str(meta.get_field(name).verbose_name)
