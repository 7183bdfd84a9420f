"""Propositions de réorientation: put on a meeting's agenda, decided by the meeting.

Each step checks its right again (cvu.rights), whatever the view or form allowed.
"""

from django.db import transaction
from django.db.models import Max

from . import rights
from .models import Decision, PointOrdreDuJour, PropositionReorientation, Reunion

PREFIX = "Proposition de réorientation"


def agenda_text(proposition: PropositionReorientation) -> str:
    return f"{PREFIX} : {proposition.objet}"[:300]


@transaction.atomic
def inscrire(proposition: PropositionReorientation, reunion: Reunion, *, user) -> None:
    """Puts the proposal last on the meeting's agenda. Moved from a meeting still to come, it
    leaves that agenda; from a meeting held without deciding it (postponed), the item stays in
    that meeting's record."""
    rights.require(
        rights.agenda_open_to(user, proposition).filter(pk=reunion.pk).exists(),
        "Cette proposition ne peut pas être inscrite à l'ordre du jour de cette réunion.",
    )
    previous = proposition.point
    last = reunion.points.aggregate(last=Max("ordre"))["last"] or 0
    proposition.point = PointOrdreDuJour.objects.create(
        reunion=reunion, ordre=last + 1, texte=agenda_text(proposition)
    )
    proposition.save(update_fields=["point", "updated_at"])
    if previous is not None and previous.reunion.a_venir:
        previous.delete()


HELD = (
    "La réunion a commencé : la proposition reste à son ordre du jour ; l'instance la décide ou "
    "la reporte à une autre réunion."
)


@transaction.atomic
def retirer(proposition: PropositionReorientation, *, user) -> None:
    """Takes the proposal off the agenda of a meeting not yet held."""
    rights.require_change(user, proposition)
    point = proposition.point
    rights.require(point is not None and point.reunion.a_venir, HELD)
    proposition.point = None
    proposition.save(update_fields=["point", "updated_at"])
    point.delete()


def check_deletable(proposition: PropositionReorientation, *, user) -> None:
    """A proposal not decided, and not on the agenda of a meeting that has begun."""
    rights.require_change(user, proposition)
    rights.require(proposition.point is None or proposition.point.reunion.a_venir, HELD)


@transaction.atomic
def supprimer(proposition: PropositionReorientation, *, user) -> None:
    """Deletes a proposal not yet decided, with its agenda item if the meeting is to come."""
    check_deletable(proposition, user=user)
    point = proposition.point
    proposition.delete()
    if point is not None:
        point.delete()


@transaction.atomic
def decider(proposition: PropositionReorientation, *, issue: str, texte: str, suites, user):
    """Records the meeting's decision, which closes the proposal, and its follow-ups.

    The decision is one of the meeting's decisions (minutes, PDF); follow-ups point to it.
    """
    rights.require(rights.may_decide_proposition(user, proposition), rights.DECIDE_REFUSAL)
    reunion = proposition.point.reunion
    label = PropositionReorientation.Issue(issue).label.lower()
    decision = Decision.objects.create(
        reunion=reunion, texte=f"{PREFIX} « {proposition.objet} » : {label}. {texte}".strip()
    )
    proposition.issue = issue
    proposition.decision = decision
    proposition.decidee_par = user
    proposition.full_clean()
    proposition.save()
    suites.instance = reunion
    for suite in suites.save(commit=False):
        suite.reunion = reunion
        suite.decision = decision
        suite.full_clean()
        suite.save()
    return decision
