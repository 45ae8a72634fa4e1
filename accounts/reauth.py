"""A password typed again to sign (the chair finalising a decision) is checked the way a login is.

Through `authenticate()`, so django-axes counts a wrong one toward the same lockout as the login
page and the token endpoint: a signature box must not be a way to guess a password without limit.
The service that signs checks the password again; this check is what the lockout sees.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate

from accounts.models import User

SIGNATURE_PASSWORD_MISMATCH = "The password does not match: the signature needs your own password."  # noqa: S105 (a message)


class LockedOut(Exception):
    """Too many failed attempts for this username or address: refused until the cool-off ends."""

    def __init__(self) -> None:
        self.retry_after_seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
        super().__init__(f"Too many failed logins: try again in {self.retry_after_seconds // 60} minutes.")


def password_confirmed(request: Any, *, user: User, password: str) -> bool:
    """Whether `password` is `user`'s own, as a login would decide it; a failure is counted.

    `request` is the Django or DRF request (django-axes reads the address from it and flags it
    when locked out). Raises LockedOut while the username or the address is locked out, including
    when this very attempt reached the limit.
    """
    authenticated = authenticate(request, username=user.get_username(), password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut
    return authenticated is not None and authenticated.pk == user.pk
