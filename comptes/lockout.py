"""Login throttling on top of django-axes: per address and account, and per account.

Five failures for one account from one address lock that address out of that account; twenty
failures for one account from any addresses lock the account itself, for everyone, to stop a
password spray spread over many addresses. Both locks last the cool-off (15 minutes) and are
not extended by the attempts made during it, so an attacker can delay a colleague, never shut
them out for good. The owner is told by e-mail when their account locks; an administrator
unlocks it earlier from the admin (action on the users, or the "Access attempts" list).
"""

from axes.attempts import get_cool_off_threshold
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.dispatch import receiver
from django.template import loader

from core.outbox import courriel_queue

from .models import User


def _failures(request, **filters) -> int:
    attempts = AccessAttempt.objects.filter(
        attempt_time__gte=get_cool_off_threshold(request), **filters
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def failure_limit(request, credentials) -> int:
    """AXES_FAILURE_LIMIT. Axes compares one number, the largest failure count of the
    parameter sets, that is the account's; the limit it is compared with depends on whether
    this address has used up its own tries on this account."""
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None)
    if username and address:
        if _failures(request, username=username, ip_address=address) >= (
            settings.AXES_ADDRESS_FAILURE_LIMIT
        ):
            return settings.AXES_ADDRESS_FAILURE_LIMIT
    return settings.AXES_ACCOUNT_FAILURE_LIMIT


def account_is_locked(request, username: str) -> bool:
    return _failures(request, username=username) >= settings.AXES_ACCOUNT_FAILURE_LIMIT


def unlock(user: User) -> int:
    """Lifts both locks on this account; returns the number of attempt records removed."""
    return reset(username=user.email)


@receiver(user_locked_out, dispatch_uid="comptes.lockout.notify_owner")
def notify_owner(sender, request, username, ip_address, **kwargs):
    """Tells the owner once, when the failures reach the account limit (not at every refused
    try of the cool-off, nor for an address locked out on its own)."""
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_ACCOUNT_FAILURE_LIMIT:
        return
    user = User.objects.filter(email=username, is_active=True).first()
    if user is None:
        return
    context = {
        "user": user,
        "failures": settings.AXES_ACCOUNT_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    courriel_queue(
        subject="Pilotage CVU : votre compte est temporairement bloqué",
        body=loader.render_to_string("comptes/lockout_email.txt", context),
        to=[user.email],
    )
