"""Sending the e-mails recorded as Notification rows, exactly once each."""

from __future__ import annotations

from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from cases.models import Notification

REDRIVE_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 5


def notification_send(*, notification_id: int) -> bool:
    """Send one pending notification. Returns False if it was already sent (idempotent).

    The row is locked while sending, so two workers never send the same e-mail; a failure is
    recorded on the row and retried by the sweep up to MAX_ATTEMPTS.
    """
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, state=Notification.State.PENDING)
            .first()
        )
        if row is None:
            return False
        row.attempts += 1
        try:
            send_mail(row.subject, row.body, None, row.recipients, fail_silently=False)
        except OSError as exc:  # SMTP and socket errors
            row.last_error = f"{exc.__class__.__name__}: {exc}"
            if row.attempts >= MAX_ATTEMPTS:
                row.state = Notification.State.FAILED
            row.save(update_fields=["attempts", "last_error", "state"])
            return False
        row.state = Notification.State.SENT
        row.sent_at = timezone.now()
        row.last_error = ""
        row.save(update_fields=["attempts", "state", "sent_at", "last_error"])
        return True


def notifications_redrive_pending(*, older_than: timedelta = REDRIVE_AFTER) -> list[int]:
    from cases.tasks import send_notification

    cutoff = timezone.now() - older_than
    pending = list(
        Notification.objects.filter(state=Notification.State.PENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:200]
    )
    for pk in pending:
        send_notification.delay(pk)
    return pending
