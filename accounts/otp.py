"""The second factor (issue 9): TOTP devices from an authenticator app, and recovery codes.

Every person may enrol; chairs and coordinators must (`otp_required_for`). A TOTP device is
unconfirmed until the person types a valid code from it, so a mistyped or never-scanned secret
never locks anyone out. Recovery codes are django-otp static tokens: shown once, each usable once.
Service accounts never use a second factor: they are REST clients with a token.

Verification goes through `django_otp.verify_token`, which locks the device row and applies the
device's throttling (each failure doubles the wait), so codes cannot be guessed at speed.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Final

from django.db import transaction
from django.db.models import Q
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User

TOTP_DEVICE_NAME: Final = "Authenticator app"
RECOVERY_DEVICE_NAME: Final = "Recovery codes"
RECOVERY_CODE_COUNT: Final = 10


def otp_required_for(user: User) -> bool:
    """Chairs and coordinators (on any board where they are active) must use a second factor."""
    if not user.is_authenticated or user.is_service_account:
        return False
    return Membership.objects.active().filter(Q(is_chair=True) | Q(is_coordinator=True), user=user).exists()


def otp_enrolled(user: User) -> bool:
    """Whether the person has a confirmed authenticator app (and so must give a code at login)."""
    return user.is_authenticated and bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def totp_secret(device: TOTPDevice) -> str:
    """The device's secret as the base32 text authenticator apps accept when typed in."""
    return b32encode(device.bin_key).decode()


@transaction.atomic
def totp_enrol(*, user: User) -> TOTPDevice:
    """Start (or restart) enrolment: a new unconfirmed TOTP device with a fresh secret.

    Earlier unconfirmed devices are deleted; a confirmed device stays in force until the new one
    is confirmed (`totp_confirm`), so re-enrolling never leaves the person without a factor.
    """
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def totp_pending(*, user: User) -> TOTPDevice | None:
    """The device waiting for its first code, if enrolment has started."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm an enrolling device with a code from it; it then replaces any earlier device.

    Returns False (and changes nothing else) when the code is wrong or the device is throttled.
    """
    if verify_token(device.user, device.persistent_id, _normalise(token)) is None:
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return True


@transaction.atomic
def recovery_codes_generate(*, user: User, count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """A new set of single-use recovery codes; every earlier code stops working.

    The codes are returned once, for the person to write down; only django-otp's copies remain.
    """
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def otp_verify(*, user: User, token: str) -> Device | None:
    """The confirmed device that accepts the code: six digits are an authenticator app's code,
    anything else a recovery code (which is then used up). None when no device accepts it.

    Each code goes to its own kind of device only, so a recovery code never counts as a failed
    app code (which would throttle the app)."""
    token = _normalise(token)
    model: type[TOTPDevice] | type[StaticDevice] = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    for device in model.objects.filter(user=user, confirmed=True):
        if (accepted := verify_token(user, device.persistent_id, token)) is not None:
            return accepted
    return None


def _normalise(token: str) -> str:
    # People copy codes with spaces ("123 456"); recovery codes are lower-case letters and digits.
    return "".join(token.split()).lower()
