"""Payment schedules, payments and clawbacks of financing lines (the only source of paid amounts).

A line's `montant_verse` is the sum of its paid instalments (Versement with a date_versement):
`refresh_paid` and `refresh_paid_many` are its only writers. Every write here runs in one
transaction under a lock on the line, so two payments entered at the same moment are checked
one after the other against the voted amount.

A recovered clawback (Reversement "recouvré") does not lower `montant_verse`: it stays the gross
total paid out, which the dashboards and lists add up. The dossier and porteur pages show beside
it the net paid, gross minus what was recovered.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core.templatetags.formats import euros

from . import rights
from .figures import COUNTED_VOTE
from .models import Action, Financement, Organisation, Reversement, Versement
from .models.actions import ZERO

S = Action.Statut
N = Versement.Nature
C = Versement.Condition
R = Reversement.Statut

# The proposed schedule: an advance of half the voted amount (at the convention's signature, or
# at the notification for a grant without convention), the balance after the bilan.
DEFAULT_AVANCE_PCT = 50
NOT_PAYABLE = {S.REFUSE: "refusé", S.RETIRE: "retiré"}
# The statuses a clawback may move to from each status; recovered and cancelled are final.
REVERSEMENT_STEPS = {
    R.DEMANDE: {R.TITRE_EMIS, R.RECOUVRE, R.ANNULE},
    R.TITRE_EMIS: {R.RECOUVRE, R.ANNULE},
    R.RECOUVRE: set(),
    R.ANNULE: set(),
}
IMPORT_MANDAT = "import"
MONEY = DecimalField(max_digits=14, decimal_places=2)


# ---------------------------------------------------------------- paid amounts


def paid_total(financement: Financement) -> Decimal:
    return (
        Versement.objects.payes()
        .filter(financement=financement)
        .aggregate(total=Coalesce(Sum("montant"), Value(ZERO), output_field=MONEY))["total"]
    )


def refresh_paid(financement: Financement, *, user=None) -> Financement:
    """Sets the line's montant_verse to the sum of its paid instalments (saved if it moved)."""
    total = paid_total(financement)
    if financement.montant_verse != total:
        financement.montant_verse = total
        financement._history_user = user
        financement.save(update_fields=["montant_verse"])
    return financement


def refresh_paid_many(lines, *, user=None, history: bool = True) -> int:
    """refresh_paid over a queryset of lines; returns how many lines it wrote. With history, two
    queries and a bulk update of the lines that moved, with their history rows; without (seeds
    of many lines), one UPDATE of every line from its payments."""
    paid = _sum_of(Versement.objects.payes())
    if not history:
        return Financement.objects.filter(pk__in=lines.values("pk")).update(montant_verse=paid)
    changed = []
    for line in lines.annotate(paid=paid):
        if line.montant_verse != line.paid:
            line.montant_verse = line.paid
            changed.append(line)
    if changed:
        bulk_update_with_history(
            changed, Financement, ["montant_verse"], batch_size=1000, default_user=user
        )
    return len(changed)


def _sum_of(queryset):
    """The sum of `montant` of these rows of the outer line, 0 when there is none."""
    return Coalesce(
        Subquery(
            queryset.filter(financement=OuterRef("pk"))
            .order_by()
            .values("financement")
            .annotate(total=Sum("montant"))
            .values("total"),
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def with_payment_figures(lines):
    """Each line's `reverse` (clawbacks requested and not cancelled), `recouvre` (recovered) and
    `prevu` (planned instalments not paid yet), one correlated subquery each."""
    return lines.annotate(
        reverse=_sum_of(Reversement.objects.exclude(statut=R.ANNULE)),
        recouvre=_sum_of(Reversement.objects.filter(statut=R.RECOUVRE)),
        prevu=_sum_of(Versement.objects.prevus()),
    )


# ---------------------------------------------------------------- checks


def _today() -> date:
    return timezone.localdate()


def _locked(financement: Financement) -> Financement:
    """The line read again under a lock, with its action (whose status may have moved). The
    action is locked first, as the action form's save and the committee's do: a payment and a
    save of the same dossier run one after the other."""
    list(Action.objects.select_for_update().filter(pk=financement.action_id).values("pk"))
    return (
        Financement.objects.select_for_update(of=("self",))
        .select_related("action", "financeur")
        .get(pk=financement.pk)
    )


def _check_payable(line: Financement) -> None:
    statut = line.action.statut
    if statut in NOT_PAYABLE:
        raise ValidationError(
            f"Le dossier est {NOT_PAYABLE[statut]} : aucun versement ne peut être enregistré."
        )
    if line.montant_vote is None:
        raise ValidationError(
            f"Aucun montant voté pour {line.financeur} en {line.annee} : rien ne peut être versé "
            "sur cette ligne."
        )


def _check_within_vote(line: Financement, *, others: Decimal, montant: Decimal) -> None:
    """`others`: what the line's other paid instalments add up to."""
    if others + montant > line.montant_vote:
        raise ValidationError(
            {
                "montant": f"Le total versé atteindrait {euros(others + montant)}, au-delà du "
                f"montant voté ({euros(line.montant_vote)}) : il reste "
                f"{euros(max(line.montant_vote - others, ZERO))} à verser."
            }
        )


def _check_payment(*, day: date | None, montant, numero_mandat: str) -> None:
    errors = {}
    if day is None:
        errors["date_versement"] = "Indiquez la date du versement."
    elif day > _today():
        errors["date_versement"] = "Un versement ne peut pas être daté d'un jour à venir."
    if montant is None or montant <= 0:
        errors["montant"] = "Le montant doit être supérieur à zéro."
    if not (numero_mandat or "").strip():
        errors["numero_mandat"] = "Indiquez le n° de mandat du versement."
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------- schedule


@dataclass
class Tranche:
    """One instalment of a proposed schedule, before it is saved."""

    nature: str
    condition: str
    montant: Decimal
    date_prevue: date | None = None

    @property
    def condition_label(self) -> str:
        return C(self.condition).label


@dataclass
class Proposal:
    """What `propose_schedule` offers: the tranches and the amount still to schedule."""

    reste: Decimal
    tranches: list[Tranche] = field(default_factory=list)


def unscheduled(line: Financement) -> Decimal:
    """The voted amount not yet covered by an instalment, planned or paid."""
    scheduled = line.versements.aggregate(
        total=Coalesce(Sum("montant"), Value(ZERO), output_field=MONEY)
    )["total"]
    return max((line.montant_vote or ZERO) - scheduled, ZERO)


def _convention(action: Action):
    try:
        return action.convention
    except ObjectDoesNotExist:
        return None


def propose_schedule(line: Financement, *, avance_pct: int = DEFAULT_AVANCE_PCT) -> Proposal:
    """An advance of avance_pct % of what is left to schedule (at the convention's signature
    when the dossier has one, else at the notification) and the balance after the bilan (planned
    on the bilan's deadline). Nothing is saved."""
    reste = unscheduled(line)
    if not reste:
        return Proposal(reste=reste)
    convention = _convention(line.action)
    avance = (reste * Decimal(avance_pct) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    tranches = []
    if avance > 0:
        tranches.append(
            Tranche(
                nature=N.AVANCE,
                condition=C.SIGNATURE if convention else C.NOTIFICATION,
                montant=avance,
                date_prevue=convention.date_signature if convention else None,
            )
        )
    if reste - avance > 0:
        tranches.append(
            Tranche(
                nature=N.SOLDE,
                condition=C.BILAN,
                montant=reste - avance,
                date_prevue=line.action.date_limite_bilan,
            )
        )
    return Proposal(reste=reste, tranches=tranches)


@transaction.atomic
def schedule(
    financement: Financement,
    *,
    user,
    avance_pct: int = DEFAULT_AVANCE_PCT,
    tranches: list[Tranche] | None = None,
) -> list[Versement]:
    """Creates the planned instalments of a line: `tranches` as edited by the person, else the
    proposal for avance_pct. Refused when their total would exceed the voted amount."""
    rights.require_manager(user)
    line = _locked(financement)
    _check_payable(line)
    if tranches is None:
        tranches = propose_schedule(line, avance_pct=avance_pct).tranches
    tranches = [t for t in tranches if t.montant]
    if not tranches:
        raise ValidationError("Tout le montant voté est déjà planifié ou versé.")
    if any(t.montant < 0 for t in tranches):
        raise ValidationError("Un montant ne peut pas être négatif.")
    reste = unscheduled(line)
    total = sum((t.montant for t in tranches), ZERO)
    if total > reste:
        raise ValidationError(
            f"Les versements prévus ({euros(total)}) dépassent ce qui reste à planifier sur le "
            f"montant voté : {euros(reste)}."
        )
    versements = []
    for tranche in tranches:
        versement = Versement(
            financement=line,
            nature=tranche.nature,
            condition=tranche.condition,
            montant=tranche.montant,
            date_prevue=tranche.date_prevue,
            saisi_par=user,
        )
        versement.full_clean()
        versement._history_user = user
        versement.save()
        versements.append(versement)
    return versements


# ---------------------------------------------------------------- payments


@transaction.atomic
def record_acte(
    line: Financement, *, acte_type: str, acte_numero: str, acte_date: date | None, user
) -> Financement:
    """Records (or clears, all three empty) the funder's formal act granting the line's voted
    amount: a decision of the chef de service's, like the vote; the notification letters cite it."""
    rights.require_manager(user)
    acte_numero = acte_numero.strip()
    if len({bool(acte_type), bool(acte_numero), bool(acte_date)}) > 1:
        raise ValidationError("Indiquez le type, le numéro et la date de l'acte.")
    if acte_date and acte_date > _today():
        raise ValidationError("La date de l'acte ne peut pas être dans le futur.")
    line.acte_type, line.acte_numero, line.acte_date = acte_type, acte_numero, acte_date
    line._history_user = user
    line.save(update_fields=["acte_type", "acte_numero", "acte_date"])
    return line


@transaction.atomic
def record_payment(
    versement: Versement, *, date: date | None, montant, numero_mandat: str, user
) -> Versement:
    """Records a planned instalment as paid (or corrects a paid one): its date, the amount
    actually paid and the mandat number; the line's paid amount follows."""
    rights.require_manager(user)
    line = _locked(versement.financement)
    versement = Versement.objects.get(pk=versement.pk, financement=line)
    _check_payable(line)
    _check_payment(day=date, montant=montant, numero_mandat=numero_mandat)
    others = paid_total(line) - (versement.montant if versement.paye else ZERO)
    _check_within_vote(line, others=others, montant=montant)
    versement.date_versement = date
    versement.montant = montant
    versement.numero_mandat = numero_mandat.strip()
    versement.saisi_par = user
    versement.full_clean()
    versement._history_user = user
    versement.save()
    refresh_paid(line, user=user)
    return versement


@transaction.atomic
def add_payment(
    financement: Financement,
    *,
    date: date | None,
    montant,
    numero_mandat: str,
    user,
    nature: str = N.ACOMPTE,
    condition: str = C.AUTRE,
) -> Versement:
    """Records a payment that was not planned; the line's paid amount follows."""
    rights.require_manager(user)
    line = _locked(financement)
    _check_payable(line)
    _check_payment(day=date, montant=montant, numero_mandat=numero_mandat)
    _check_within_vote(line, others=paid_total(line), montant=montant)
    versement = Versement(
        financement=line,
        nature=nature,
        condition=condition,
        montant=montant,
        date_versement=date,
        numero_mandat=numero_mandat.strip(),
        saisi_par=user,
    )
    versement.full_clean()
    versement._history_user = user
    versement.save()
    refresh_paid(line, user=user)
    return versement


@transaction.atomic
def delete_versement(versement: Versement, *, user) -> None:
    """Deletes a planned or paid instalment (an entry error); the line's paid amount follows."""
    rights.require_manager(user)
    line = _locked(versement.financement)
    versement = Versement.objects.get(pk=versement.pk, financement=line)
    versement._history_user = user
    versement.delete()
    refresh_paid(line, user=user)


def import_reprises(paid: list[tuple[Financement, Decimal]], *, user) -> list[Versement]:
    """The action import's paid amounts: one paid instalment "reprise" per line (mandat
    "import"), dated 31 December of the line's year or today if that is still to come, then the
    lines' paid amounts in one refresh. The import has checked paid ≤ voted and runs this in
    its own transaction."""
    today = _today()
    versements = [
        Versement(
            financement=line,
            nature=N.REPRISE,
            condition=C.AUTRE,
            montant=montant,
            date_versement=min(date(line.annee, 12, 31), today),
            numero_mandat=IMPORT_MANDAT,
            saisi_par=user,
        )
        for line, montant in paid
        if montant > 0
    ]
    if versements:
        rights.require_manager(user)
        bulk_create_with_history(versements, Versement, default_user=user)
        refresh_paid_many(
            Financement.objects.filter(pk__in={v.financement_id for v in versements}), user=user
        )
    return versements


# ---------------------------------------------------------------- clawbacks


def spent(financement: Financement) -> Decimal | None:
    """What the bilan reports spent on the line (None before the bilan)."""
    try:
        return financement.realise.montant_realise
    except ObjectDoesNotExist:
        return None


def reversement_due(financement: Financement) -> Decimal:
    """Paid minus spent, when the bilan shows less spent than paid (0 otherwise or before it)."""
    used = spent(financement)
    if used is None:
        return ZERO
    return max(financement.montant_verse - used, ZERO)


def _active_reversements(line: Financement) -> Decimal:
    return (
        Reversement.objects.filter(financement=line)
        .exclude(statut=R.ANNULE)
        .aggregate(total=Coalesce(Sum("montant"), Value(ZERO), output_field=MONEY))["total"]
    )


def reversement_proposed(financement: Financement) -> Decimal:
    """What is left to ask back: the amount due minus clawbacks already asked (not cancelled)."""
    return max(reversement_due(financement) - _active_reversements(financement), ZERO)


@transaction.atomic
def request_reversement(
    financement: Financement, *, montant, motif: str, date_demande: date | None, user
) -> Reversement:
    """Asks the porteur to pay back part of what was paid on a line."""
    rights.require_manager(user)
    line = _locked(financement)
    errors = {}
    if montant is None or montant <= 0:
        errors["montant"] = "Le montant doit être supérieur à zéro."
    if not (motif or "").strip():
        errors["motif"] = "Indiquez le motif du reversement."
    if date_demande is None:
        errors["date_demande"] = "Indiquez la date de la demande."
    elif date_demande > _today():
        errors["date_demande"] = "La demande ne peut pas être datée d'un jour à venir."
    if errors:
        raise ValidationError(errors)
    asked = _active_reversements(line)
    if asked + montant > line.montant_verse:
        raise ValidationError(
            {
                "montant": f"On ne peut pas demander plus que ce qui a été versé "
                f"({euros(line.montant_verse)}, dont {euros(asked)} déjà demandé en "
                "reversement)."
            }
        )
    reversement = Reversement(
        financement=line,
        montant=montant,
        motif=motif.strip(),
        date_demande=date_demande,
        saisi_par=user,
    )
    reversement.full_clean()
    reversement._history_user = user
    reversement.save()
    return reversement


@transaction.atomic
def update_reversement(
    reversement: Reversement,
    *,
    statut: str,
    user,
    numero_titre: str = "",
    date_recouvrement: date | None = None,
) -> Reversement:
    """Moves a clawback on: demandé → titre de recette émis (its number) → recouvré (its date),
    or annulé. Recovered and cancelled clawbacks no longer move."""
    rights.require_manager(user)
    _locked(reversement.financement)
    reversement = Reversement.objects.get(pk=reversement.pk)
    current = R(reversement.statut)
    if statut not in REVERSEMENT_STEPS[current]:
        raise ValidationError(
            {
                "statut": f"Un reversement « {current.label} » ne peut pas passer à "
                f"« {R(statut).label if statut in R.values else statut} »."
            }
        )
    errors = {}
    numero_titre = (numero_titre or "").strip() or reversement.numero_titre
    if statut == R.TITRE_EMIS and not numero_titre:
        errors["numero_titre"] = "Indiquez le n° du titre de recette."
    if statut == R.RECOUVRE:
        if date_recouvrement is None:
            errors["date_recouvrement"] = "Indiquez la date du recouvrement."
        elif date_recouvrement > _today():
            errors["date_recouvrement"] = "Le recouvrement ne peut pas être daté d'un jour à venir."
        elif date_recouvrement < reversement.date_demande:
            errors["date_recouvrement"] = "Le recouvrement ne peut pas précéder la demande."
    if errors:
        raise ValidationError(errors)
    reversement.statut = statut
    reversement.numero_titre = numero_titre
    reversement.date_recouvrement = date_recouvrement if statut == R.RECOUVRE else None
    reversement.full_clean()
    reversement._history_user = user
    reversement.save()
    return reversement


# ---------------------------------------------------------------- pages


@dataclass
class LignePaiements:
    """One financing line as the dossier page shows its payments."""

    financement: Financement
    versements: list
    reversements: list
    recouvre: Decimal
    due: Decimal
    proposed: Decimal
    spent: Decimal | None

    @property
    def vote(self) -> Decimal | None:
        return self.financement.montant_vote

    @property
    def verse(self) -> Decimal:
        return self.financement.montant_verse

    @property
    def net(self) -> Decimal:
        return self.verse - self.recouvre

    @property
    def reste(self) -> Decimal:
        return max((self.vote or ZERO) - self.verse, ZERO)

    @property
    def prevu(self) -> Decimal:
        return sum((v.montant for v in self.versements if not v.paye), ZERO)

    @property
    def a_planifier(self) -> Decimal:
        return max((self.vote or ZERO) - self.verse - self.prevu, ZERO)


def action_section(user, action) -> dict:
    """What the dossier page shows of this part (context for its include): per financing line,
    its schedule, payments, clawbacks and figures; the managers' forms are links to pages."""
    lines = list(
        Financement.objects.filter(action=action)
        .select_related("financeur", "realise")
        .prefetch_related("versements", "reversements")
        .order_by("annee", "financeur__nom", "pk")
    )
    rows = []
    for line in lines:
        reversements = list(line.reversements.all())
        recouvre = sum((r.montant for r in reversements if r.statut == R.RECOUVRE), ZERO)
        asked = sum((r.montant for r in reversements if r.statut != R.ANNULE), ZERO)
        due = reversement_due(line)
        rows.append(
            LignePaiements(
                financement=line,
                versements=sorted(
                    line.versements.all(),
                    key=lambda v: (v.date_versement or v.date_prevue or date.max, v.pk),
                ),
                reversements=reversements,
                recouvre=recouvre,
                due=due,
                proposed=max(due - asked, ZERO),
                spent=spent(line),
            )
        )
    payable = action.statut not in NOT_PAYABLE
    return {
        "paiements": rows,
        "paiements_totaux": {
            "vote": sum((r.vote or ZERO for r in rows), ZERO),
            "verse": sum((r.verse for r in rows), ZERO),
            "recouvre": sum((r.recouvre for r in rows), ZERO),
            "net": sum((r.net for r in rows), ZERO),
            "reste": sum((r.reste for r in rows), ZERO),
        },
        "paiements_gestion": rights.may_record_payments(user),
        "paiements_possibles": payable,
    }


@dataclass
class MontantsFinanceur:
    """A funder's amounts for one year over a porteur's dossiers."""

    financeur: object
    annee: int
    demande: Decimal = ZERO
    vote: Decimal = ZERO
    verse: Decimal = ZERO
    reverse: Decimal = ZERO
    recouvre: Decimal = ZERO
    dossiers: int = 0

    @property
    def net(self) -> Decimal:
        return self.verse - self.recouvre


def _sort_key(name: str) -> str:
    """French order of names: accents with their letter (État among the E)."""
    letters = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in letters if not unicodedata.combining(c))


def organisation_section(user, organisation) -> dict:
    """What the porteur page shows of this part (context for its include): requested, voted,
    paid, clawed back and net paid per funder and year over the porteur's dossiers, added up
    by the database per funder and year (the lines' clawbacks as with_payment_figures counts
    them): a porteur of 900 dossiers no longer builds its 3,600 lines (one query, and one for
    the funders)."""
    sums = (
        with_payment_figures(
            Financement.objects.filter(
                action__in=Action.objects.visible_to(user).filter(porteur=organisation)
            )
        )
        .order_by()
        .values("annee", "financeur_id")
        .annotate(
            total_demande=Sum("montant_demande"),
            # A refused or withdrawn dossier votes nothing (cvu.figures, as the dashboard counts).
            total_vote=Sum("montant_vote", filter=COUNTED_VOTE),
            total_verse=Sum("montant_verse"),
            total_reverse=Sum("reverse"),
            total_recouvre=Sum("recouvre"),
            lignes=Count("pk"),
        )
    )
    sums = list(sums)
    funders = Organisation.objects.in_bulk({row["financeur_id"] for row in sums})
    groups = [
        MontantsFinanceur(
            financeur=funders[row["financeur_id"]],
            annee=row["annee"],
            demande=row["total_demande"],
            vote=row["total_vote"] or ZERO,
            verse=row["total_verse"],
            reverse=row["total_reverse"],
            recouvre=row["total_recouvre"],
            dossiers=row["lignes"],  # one line per funder, year and dossier
        )
        for row in sums
    ]
    rows = sorted(groups, key=lambda g: (-g.annee, _sort_key(g.financeur.nom)))
    totals = MontantsFinanceur(financeur=None, annee=0)
    for row in rows:
        for name in ("demande", "vote", "verse", "reverse", "recouvre", "dossiers"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    return {"montants_financeurs": rows, "montants_financeurs_total": totals}
