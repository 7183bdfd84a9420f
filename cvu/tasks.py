from celery import shared_task

from .digest import send_weekly_digests
from .invitations import reunion_send_invitations


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def send_invitations(reunion_id: int, sender_id: int) -> int:
    """E-mails the meeting's invitation with its .ics to every invited person."""
    return reunion_send_invitations(reunion_id=reunion_id, sender_id=sender_id)


@shared_task
def send_weekly_digest() -> int:
    """Monday morning: each agent's overdue follow-ups and meetings of the week."""
    return send_weekly_digests()
