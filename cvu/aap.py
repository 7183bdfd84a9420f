"""The call-for-projects cycle: a dossier's status workflow, envelopes, committee decisions."""

from dataclasses import dataclass, field
from decimal import Decimal
from string import Template

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from core.templatetags.formats import euros

from . import figures, rights
from .models import (
    Action,
    AppelAProjets,
    Comite,
    DecisionComite,
    Financement,
    Organisation,
    TransitionStatut,
)
from .models import actions as action_models
from .models.aap import SEUIL_CONVENTION, default_bilan_deadline
from .models.actions import ZERO

S = Action.Statut

# The cycle, in order; a dossier moves one step forward (or to a side exit) at a time.
ORDER = [
    S.DEPOSE,
    S.EN_INSTRUCTION,
    S.INSTRUIT,
    S.AJOURNE,
    S.PROGRAMME,
    S.REFUSE,
    S.NOTIFIE,
    S.CONVENTIONNE,
    S.EN_COURS,
    S.BILAN_ATTENDU,
    S.BILAN_RECU,
    S.SOLDE,
]
NEXT = {
    S.DEPOSE: [S.EN_INSTRUCTION],
    S.EN_INSTRUCTION: [S.INSTRUIT],
    S.INSTRUIT: [S.PROGRAMME, S.REFUSE, S.AJOURNE],
    S.AJOURNE: [S.PROGRAMME, S.REFUSE],
    S.PROGRAMME: [S.NOTIFIE],
    S.NOTIFIE: [S.CONVENTIONNE, S.EN_COURS],
    S.CONVENTIONNE: [S.EN_COURS],
    S.EN_COURS: [S.BILAN_ATTENDU],
    S.BILAN_ATTENDU: [S.BILAN_RECU],
    S.BILAN_RECU: [S.SOLDE],
}
# Withdrawal is possible until the porteur is notified.
WITHDRAWABLE = {S.DEPOSE, S.EN_INSTRUCTION, S.INSTRUIT, S.AJOURNE, S.PROGRAMME}
# Decided by the funders' committee (on the committee page, or by the chef de service).
COMMITTEE_DECISIONS = {S.PROGRAMME, S.REFUSE, S.AJOURNE}
# A notified dossier whose bilan is still expected: defined beside the late-bilan rule
# (Action.objects.bilan_en_retard), named here with the cycle's other groups.
AWAITING_BILAN = action_models.AWAITING_BILAN
WAITING_INSTRUCTION = [S.DEPOSE, S.EN_INSTRUCTION]


def letter_text(appel: AppelAProjets, values: dict) -> str:
    """The call's notification letter with its $placeholders filled in (plain text)."""
    return Template(appel.courrier_notification).safe_substitute(values)


def label(statut: str) -> str:
    return S(statut).label


def allowed_next(action: Action) -> list[str]:
    steps = list(NEXT.get(action.statut, []))
    if action.statut in WITHDRAWABLE:
        steps.append(S.RETIRE)
    return steps


def earlier_statuses(action: Action) -> list[str]:
    """Where the chef de service may reopen a dossier to."""
    if action.statut == S.RETIRE:
        return [s for s in ORDER if s in WITHDRAWABLE]
    if action.statut not in ORDER:
        return []
    return ORDER[: ORDER.index(action.statut)]


# ---------------------------------------------------------------- rules


def late_bilans(porteur: Organisation, *, exclude: Action | None = None):
    """The porteur's dossiers whose bilan is late (Action.objects.bilan_en_retard)."""
    queryset = Action.objects.bilan_en_retard().filter(porteur=porteur)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return queryset


def _above_threshold(porteurs, years):
    """(porteur, funder, year) groups whose voted amounts exceed 23 000 €, in one query."""
    return (
        Financement.objects.filter(
            action__porteur_id__in=porteurs, annee__in=years, montant_vote__isnull=False
        )
        .exclude(action__statut__in=[S.REFUSE, S.RETIRE])
        .values("action__porteur", "financeur__nom", "financeur__sigle", "annee")
        .annotate(total=Sum("montant_vote"))
        .filter(total__gt=SEUIL_CONVENTION)
        .order_by("financeur__nom", "annee")
    )


def conventions_required(action: Action, financeur=None) -> list[tuple[str, Decimal]]:
    """Funders (or the one given) giving the porteur more than 23 000 € for one year, counting
    all its dossiers.

    The threshold is per funder, beneficiary and year (décret n° 2001-495): two small grants
    from one funder to one porteur in one year add up.
    """
    years = {f.annee for f in action.financements.all()}
    rows = _above_threshold([action.porteur_id], years)
    if financeur is not None:
        rows = rows.filter(financeur=financeur)
    return [
        (f"{row['financeur__sigle'] or row['financeur__nom']} {row['annee']}", row["total"])
        for row in rows
    ]


def letter_funders(lines, collectivite) -> list:
    """The funders of the notification letters of these financing lines: the collectivité
    first (it notifies its own grant and informs of the others' decisions), then the partners,
    for whom the service may prepare a letter each."""
    return sorted({line.financeur for line in lines}, key=lambda f: (f != collectivite, f.nom))


def needing_convention(actions: list[Action]) -> list[Action]:
    """Those of the actions whose porteur passes the threshold with one of their funders, for
    one of their years (one query, whatever the number of actions)."""
    if not actions:
        return []
    groups = {
        (row["action__porteur"], row["annee"])
        for row in _above_threshold({a.porteur_id for a in actions}, {a.annee for a in actions})
    }
    return [a for a in actions if (a.porteur_id, a.annee) in groups]


def _refuse(action: Action, vers: str) -> None:
    steps = allowed_next(action)
    possible = ", ".join(f"« {label(s)} »" for s in steps) or "aucune (dossier clos)"
    backwards = (
        vers in ORDER and action.statut in ORDER and ORDER.index(vers) < ORDER.index(action.statut)
    )
    reason = (
        "revenir en arrière demande une réouverture motivée par le chef de service"
        if backwards
        else "les étapes du cycle ne peuvent pas être sautées"
    )
    raise ValidationError(
        f"Un dossier « {label(action.statut)} » ne peut pas passer à « {label(vers)} » : "
        f"{reason}. Étape(s) suivante(s) possible(s) : {possible}."
    )


def check_transition(
    action: Action, vers: str, *, user, motif: str = "", committee: bool = False
) -> bool:
    """Raises a French ValidationError if the move is not allowed; True if it is a derogation.

    `committee`: the move is recorded on a committee's page, where the chef de service may
    revise a decision of the committee (programmé, refusé, ajourné) before notification."""
    if vers not in S.values:
        raise ValidationError("Statut inconnu.")
    rights.require_change(user, action)
    manager = rights.is_manager(user)
    rights.require(
        vers not in COMMITTEE_DECISIONS or manager,
        "La programmation est décidée en comité : seul le chef de service l'enregistre.",
    )
    derogation = False
    revision = (
        committee
        and manager
        and action.statut in COMMITTEE_DECISIONS
        and vers in COMMITTEE_DECISIONS
    )
    if vers not in allowed_next(action) and not revision:
        if manager and vers in earlier_statuses(action):
            if not motif.strip():
                raise ValidationError("Indiquez le motif de la réouverture du dossier.")
            return True
        _refuse(action, vers)
    if vers == S.INSTRUIT:
        instruction = getattr(action, "instruction", None)
        if instruction is None or not instruction.complete:
            raise ValidationError(
                "L'instruction n'est pas terminée : notez les six critères de la grille et "
                "donnez un avis."
            )
    if vers == S.PROGRAMME:
        if not action.financements.filter(montant_vote__gt=0).exists():
            raise ValidationError(
                "Aucun montant voté : un dossier programmé reçoit un financement."
            )
        late = list(late_bilans(action.porteur, exclude=action)[:3])
        if late:
            titles = ", ".join(f"« {a.titre} » ({a.annee})" for a in late)
            if not manager:
                raise ValidationError(
                    f"Le porteur n'a pas rendu le bilan de {titles} : ce dossier ne peut pas "
                    "être programmé sans dérogation du chef de service."
                )
            if not motif.strip():
                raise ValidationError(
                    f"Le porteur n'a pas rendu le bilan de {titles} : indiquez le motif de la "
                    "dérogation pour programmer ce dossier."
                )
            derogation = True
    if vers == S.EN_COURS and action.statut == S.NOTIFIE:
        required = conventions_required(action)
        if required:
            detail = ", ".join(f"{name} : {euros(amount)}" for name, amount in required)
            raise ValidationError(
                f"Une convention est obligatoire au-delà de 23 000 € par financeur et par an "
                f"({detail}) : passez d'abord par « Conventionné »."
            )
    if vers == S.BILAN_RECU and not action.bilans.filter(exercice=action.derniere_annee).exists():
        raise ValidationError(
            f"Saisissez d'abord le bilan {action.derniere_annee} reçu (page Bilan du dossier)."
        )
    return derogation


@transaction.atomic
def change_status(
    action: Action, vers: str, *, user, motif: str = "", committee: bool = False
) -> TransitionStatut:
    """Moves a dossier to `vers` after the checks; every move is dated, attributed and kept."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    derogation = check_transition(action, vers, user=user, motif=motif, committee=committee)
    transition = TransitionStatut.objects.create(
        action=action,
        de=action.statut,
        vers=vers,
        par=user,
        motif=motif.strip(),
        derogation=derogation,
    )
    action.statut = vers
    fields = ["statut", "updated_at"]
    if vers == S.NOTIFIE and action.date_limite_bilan is None:
        action.date_limite_bilan = default_bilan_deadline(action)
        fields.append("date_limite_bilan")
    action.save(update_fields=fields)
    return transition


# ---------------------------------------------------------------- envelopes


def envelopes(
    appel: AppelAProjets, *, voted_override: dict | None = None
) -> list[figures.LigneFinanceur]:
    """Per funder: envelope, requested, proposed and voted over the call's contract and year
    (cvu.figures: refused and withdrawn dossiers vote nothing).

    voted_override maps financing-line pk to a voted amount not saved yet (committee preview).
    """
    return figures.Chiffres(appel.contrat, appel.annee, voted_override=voted_override).par_financeur


def dossiers_by_status(
    appel: AppelAProjets, synthese: figures.Synthese | None = None
) -> list[dict]:
    """Count and amounts requested / voted of the year's dossiers, per status (cvu.figures);
    from the page's own `synthese` when it has it (the year's sums are read once)."""
    synthese = synthese or figures.synthese(figures.Chiffres(appel.contrat, appel.annee))
    return [
        {
            "statut": group.key,
            "label": group.label,
            "nombre": group.nombre,
            "demande": group.montants.demande,
            "propose": group.montants.propose,
            "vote": group.montants.vote,
            "verse": group.montants.verse,
        }
        for group in synthese.par_statut
    ]


# ---------------------------------------------------------------- the committee

# The statuses in which the committee may still decide (or change its decision on) a dossier.
COMMITTEE_OPEN = {S.INSTRUIT, S.AJOURNE, S.PROGRAMME, S.REFUSE}


class EnvelopeOverrun(ValidationError):
    """The committee's votes would exceed an envelope and nobody confirmed it."""


@dataclass
class LigneDecision:
    action: Action
    sens: str
    commentaire: str
    derogation: str
    votes: dict[int, Decimal | None] = field(default_factory=dict)  # financing line pk -> amount


NOT_VOTED = {DecisionComite.Sens.REFUSE, DecisionComite.Sens.AJOURNE}


def committee_closed_reason(action: Action) -> str:
    """Why the committee can no longer decide this dossier ('' while it can)."""
    if action.statut in COMMITTEE_OPEN:
        return ""
    if action.statut in WAITING_INSTRUCTION:
        return "instruction à terminer avant la décision"
    if action.statut == S.RETIRE:
        return "dossier retiré"
    return f"déjà « {label(action.statut)} » : la décision ne se modifie plus en comité"


def overruns(comite: Comite, lignes: list[LigneDecision]) -> list[figures.LigneFinanceur]:
    """The envelopes that these decisions push over, or further over, their amount (rows left
    undecided change nothing; an envelope already over that this save does not raise is not
    asked again)."""
    override = {}
    for ligne in lignes:
        if not ligne.sens:
            continue
        for pk, amount in ligne.votes.items():
            override[pk] = None if ligne.sens in NOT_VOTED else amount
    if not override:
        return []
    before = {line.key: line.vote for line in envelopes(comite.appel)}
    return [
        line
        for line in envelopes(comite.appel, voted_override=override)
        if line.depasse and line.vote > before.get(line.key, ZERO)
    ]


def _record_line(ligne: LigneDecision, lines: dict) -> list[str]:
    """Writes one decided row; returns its problems (nothing is written when there are any)."""
    action = ligne.action
    reason = committee_closed_reason(action)
    if reason:
        return [f"dossier {reason}."]
    problems = []
    changed = []
    for pk, amount in ligne.votes.items():
        line = lines.get(pk)
        if line is None or line.action_id != action.pk:
            problems.append("ligne de financement inconnue pour ce dossier.")
            continue
        vote = None if ligne.sens in NOT_VOTED else amount
        if vote is not None and line.montant_verse and vote < line.montant_verse:
            problems.append(
                f"{line.financeur} a déjà versé {euros(line.montant_verse)} : le montant voté "
                "ne peut pas être inférieur."
            )
        elif line.montant_vote != vote:
            line.montant_vote = vote
            changed.append(line)
    if problems:
        return problems
    for line in changed:
        line.save(update_fields=["montant_vote"])
    return []


@transaction.atomic
def committee_record(*, comite: Comite, lignes: list[LigneDecision], user, confirmed: bool) -> int:
    """Records the rows a person changed on the committee page; returns how many decisions were
    written. All or nothing.

    Every save of a call's committees runs under a lock on the call, so two people saving two
    halves of one committee at the same moment are checked one after the other: the second sees
    the first's votes in the envelopes and needs its own confirmation of an overrun. Raises a
    ValidationError whose message_dict maps a dossier's pk to its problems (None: the whole page).
    """
    rights.require_manager(user)
    AppelAProjets.objects.select_for_update().filter(pk=comite.appel_id).first()
    lignes = [ligne for ligne in lignes if ligne.sens]
    # Read again under the lock: statuses and votes may have moved since the page was loaded.
    current = Action.objects.select_for_update().in_bulk([ligne.action.pk for ligne in lignes])
    for ligne in lignes:
        ligne.action = current.get(ligne.action.pk, ligne.action)
    exceeded = overruns(comite, lignes)
    if exceeded and not confirmed:
        raise EnvelopeOverrun(
            [
                f"L'enveloppe de {line.libelle} serait dépassée de "
                f"{euros(line.vote - line.montant)} : cochez la confirmation pour enregistrer."
                for line in exceeded
            ]
        )
    over = {line.key for line in exceeded}
    lines = Financement.objects.select_related("financeur").in_bulk(
        [pk for ligne in lignes for pk in ligne.votes]
    )
    errors: dict = {}
    recorded = 0
    for ligne in lignes:
        action = ligne.action
        problems = _record_line(ligne, lines)
        if not problems and action.statut != ligne.sens:
            try:
                change_status(action, ligne.sens, user=user, motif=ligne.derogation, committee=True)
            except ValidationError as error:
                problems = error.messages
        if problems:
            errors[action.pk] = [f"« {action.titre} » : {message}" for message in problems]
            continue
        raises = {
            (lines[pk].financeur_id, lines[pk].ligne_id)
            for pk, amount in ligne.votes.items()
            if pk in lines and amount and ligne.sens not in NOT_VOTED
        }
        DecisionComite.objects.update_or_create(
            comite=comite,
            action=action,
            defaults={
                "sens": ligne.sens,
                "commentaire": ligne.commentaire,
                "depassement_confirme": bool(raises & over),
                "saisie_par": user,
            },
        )
        recorded += 1
    if errors:
        raise ValidationError(errors)
    return recorded
