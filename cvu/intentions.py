"""Porteurs before the call: fiches d'intention and the advice log (échanges)."""

from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import rights
from .models import AppelAProjets, ContratDeVille, Echange, FicheIntention, Organisation


def current_contrat() -> ContratDeVille | None:
    """The contract running this year, else the latest one."""
    year = timezone.localdate().year
    contracts = ContratDeVille.objects.order_by("-annee_debut")
    return contracts.filter(annee_debut__lte=year, annee_fin__gte=year).first() or contracts.first()


def next_appel(contrat: ContratDeVille | None, today: date | None = None) -> AppelAProjets | None:
    """The contract's call a porteur met today would aim at: the open one, else the next one
    still being prepared, else the latest."""
    if contrat is None:
        return None
    today = today or timezone.localdate()
    appels = AppelAProjets.objects.filter(contrat=contrat)
    S = AppelAProjets.Statut
    return (
        appels.filter(statut=S.OUVERT).order_by("date_cloture").first()
        or appels.filter(statut=S.EN_PREPARATION).order_by("annee").first()
        or appels.filter(date_cloture__gte=today).order_by("date_cloture").first()
        or appels.order_by("-annee").first()
    )


# ---------------------------------------------------------------- fiches d'intention


@transaction.atomic
def intention_save(
    *,
    user,
    intention: FicheIntention,
    qpvs,
    financeurs,
    new_porteur: Organisation | None = None,
) -> FicheIntention:
    """Creates or updates the fiche, first creating the new porteur typed in the form.

    The saved fiche must be one the user may change (a chef de projet: theirs, or one aiming at
    a QPV of their sector): otherwise nothing is kept."""
    if intention.pk is None:
        rights.require_create(user, FicheIntention)
        intention.auteur = user
    if new_porteur is not None:
        rights.require_create(user, Organisation)
        new_porteur.full_clean()
        new_porteur.save()
        intention.porteur = new_porteur
    intention.full_clean()
    intention._history_user = user
    intention.save()
    intention.qpvs.set(qpvs)
    intention.financeurs_envisages.set(financeurs)
    rights.require_change(user, intention)
    return intention


def intention_delete(*, user, intention: FicheIntention) -> None:
    rights.require_change(user, intention)
    intention._history_user = user
    intention.delete()


# ---------------------------------------------------------------- échanges


def echange_save(*, user, echange: Echange) -> Echange:
    """Records an exchange (its agent: who records it) or saves its changes."""
    if echange.pk is None:
        rights.require_create(user, Echange)
        echange.agent = user
    else:
        rights.require_change(user, echange)
    if echange.intention_id and echange.intention.porteur_id != echange.organisation_id:
        echange.intention = None
    if not echange.prochaine_etape:
        echange.etape_faite = False
    echange.full_clean()
    echange.save()
    return echange


def echange_mark_done(*, user, echange: Echange) -> Echange:
    rights.require_change(user, echange)
    echange.etape_faite = True
    echange.save(update_fields=["etape_faite"])
    return echange


def echange_delete(*, user, echange: Echange) -> None:
    rights.require_change(user, echange)
    echange.delete()


# ---------------------------------------------------------------- pages


def _with_edit_right(queryset, user):
    """Each row with `can_edit`, from the model's `editable_by`, in the same query."""
    editable = queryset.model.objects.editable_by(user).filter(pk=OuterRef("pk"))
    return queryset.annotate(can_edit=Exists(editable))


def organisation_section(user, organisation) -> dict:
    """What the porteur page shows of this part (context for its include): the porteur's
    fiches d'intention with their triage and dossier, the advice log, and what the user may do.
    Two queries whatever the number of rows."""
    intentions = _with_edit_right(
        FicheIntention.objects.visible_to(user)
        .filter(porteur=organisation)
        .select_related("appel", "action"),
        user,
    )
    echanges = _with_edit_right(
        Echange.objects.visible_to(user)
        .filter(organisation=organisation)
        .select_related("agent", "intention"),
        user,
    )
    return {
        "porteur_intentions": list(intentions),
        "porteur_echanges": list(echanges),
        "can_create_intention": rights.may_create(user, FicheIntention),
        "can_create_echange": rights.may_create(user, Echange),
    }


def intention_echanges(user, intention: FicheIntention) -> list[Echange]:
    """The exchanges tied to the fiche, each with `can_edit` (one query)."""
    return list(
        _with_edit_right(
            Echange.objects.visible_to(user).filter(intention=intention).select_related("agent"),
            user,
        )
    )


def intentions_for_dossiers(porteurs, appel: AppelAProjets) -> dict[int, list[FicheIntention]]:
    """The fiches not yet tied to a dossier that a dossier of `appel` may come from, by porteur
    pk: those aiming at the call, or at no call of the same contract (one query)."""
    found: dict[int, list[FicheIntention]] = {}
    pks = {porteur.pk for porteur in porteurs if porteur is not None and porteur.pk}
    if not pks:
        return found
    for intention in (
        FicheIntention.objects.filter(action__isnull=True, porteur_id__in=pks)
        .filter(Q(appel=appel) | Q(appel__isnull=True, contrat_id=appel.contrat_id))
        .select_related("appel")
        .order_by("titre", "pk")
    ):
        found.setdefault(intention.porteur_id, []).append(intention)
    return found
