"""Case tasks: thin, idempotent, re-drivable (house style 6-7)."""

from __future__ import annotations

from celery import shared_task

from cases.notifications import notification_send, notifications_redrive_pending


@shared_task(name="cases.send_notification", soft_time_limit=30, time_limit=60)  # type: ignore[untyped-decorator]
def send_notification(notification_id: int) -> bool:
    return notification_send(notification_id=notification_id)


@shared_task(name="cases.redrive_notifications", soft_time_limit=60, time_limit=90)  # type: ignore[untyped-decorator]
def redrive_notifications() -> int:
    return len(notifications_redrive_pending())
