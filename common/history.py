"""Attribution of history rows (django-simple-history, house style 9).

Services set who acted and why on every historied object they save, so history is attributed even
outside a request (tasks, management commands), where the history middleware knows no user.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model


def stamp(obj: Model, reason: str, by: Any | None = None) -> None:
    """Attach the change reason (and the acting user, when known) to the next save of `obj`."""
    obj._change_reason = reason  # type: ignore[attr-defined]
    if by is not None:
        obj._history_user = by  # type: ignore[attr-defined]
