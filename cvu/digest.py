"""The weekly digest: what needs each agent this week, e-mailed on Monday morning."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Action, Comite, Instance, Reunion, SuiteADonner


def dossiers_for(user) -> dict:
    """The call-for-projects items of a referent chef de projet: what waits for them."""
    from .aap import WAITING_INSTRUCTION, needing_convention

    today = timezone.localdate()
    mine = Action.objects.filter(appel__isnull=False, referent=user).select_related(
        "porteur", "appel"
    )
    notified = list(mine.filter(statut=Action.Statut.NOTIFIE).order_by("titre"))
    return {
        "a_instruire": list(mine.filter(statut__in=WAITING_INSTRUCTION).order_by("titre")),
        "comites": list(
            Comite.objects.filter(
                date__gte=today,
                date__lte=today + timedelta(days=30),
                appel__in=mine.values("appel"),
            )
            .select_related("appel")
            .order_by("date")
        ),
        "conventions": needing_convention(notified),
        "bilans_en_retard": list(
            mine.bilan_en_retard(today).with_exercice_en_retard(today).order_by("date_limite_bilan")
        ),
        "bilans_proches": list(mine.bilan_proche(today).order_by("date_limite_bilan")),
    }


def digest_for(user) -> dict:
    """The user's overdue follow-ups, those due within a week, the week's meetings, and their
    call-for-projects dossiers: to instruct, committees, conventions, bilans due and late."""
    today = timezone.localdate()
    suites = (
        SuiteADonner.objects.open().filter(responsable=user).select_related("reunion__instance")
    )
    week_end = timezone.now() + timedelta(days=7)
    reunions = (
        Reunion.objects.upcoming()
        .filter(debut__lt=week_end)
        .filter(
            Q(invites_utilisateurs=user)
            | Q(instance__in=Instance.objects.editable_by(user).values("pk"))
        )
        .distinct()
        .select_related("instance")
        .order_by("debut")
    )
    return {
        "en_retard": list(suites.filter(echeance__lt=today).order_by("echeance")),
        "a_echeance": list(
            suites.filter(echeance__gte=today, echeance__lte=today + timedelta(days=7)).order_by(
                "echeance"
            )
        ),
        "reunions": list(reunions),
        **dossiers_for(user),
    }


def send_weekly_digests() -> int:
    """E-mails every agent who wants it and has something this week; returns how many."""
    sent = 0
    users = (
        get_user_model().objects.filter(is_active=True, digest_hebdo=True).exclude(role="direction")
    )
    for user in users:
        digest = digest_for(user)
        if not any(digest.values()):
            continue
        body = render_to_string("cvu/email/digest.txt", {"user": user, **digest})
        sent += send_mail(
            subject="Pilotage CVU : votre semaine",
            message=body,
            from_email=None,
            recipient_list=[user.email],
        )
    return sent
