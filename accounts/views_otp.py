"""Browser pages of the second factor (issue 9), and the middleware that makes it required.

After the password, a person with a confirmed authenticator app gives a code (`otp_verify`) before
any other page; chairs and coordinators without one are sent to set it up first (`otp_setup`).
Set-up shows the secret as a QR code, as the otpauth:// URI and as base32 text, and confirms the
device with a first code; the recovery codes are then shown once. REST clients authenticate with
a token: the second factor is asked when the token is issued (accounts.api.v1.views).
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from accounts import otp
from accounts.models import User

SETUP: Final = "accounts:otp-setup"
VERIFY: Final = "accounts:otp-verify"
# Reachable before the second factor: leaving, logging in again, the health probe.
ALWAYS_ALLOWED: Final = frozenset({"logout", "login", "healthz"})


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code", max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )  # fmt: skip


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("landing")


def _qr_data_uri(text: str) -> str:
    # An inline SVG image (img-src data: in the CSP); the secret never leaves the page.
    svg = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + b64encode(svg.encode()).decode()


@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan or type the secret, then confirm with its first code."""
    user = _user(request)
    if user.is_service_account:
        raise PermissionDenied("Service accounts authenticate with a token, without a second factor.")
    device = otp.totp_pending(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and device is not None and form.is_valid():
        if otp.totp_confirm(device=device, token=form.cleaned_data["code"]):
            otp_login(request, device)
            codes = otp.recovery_codes_generate(user=user)
            return render(request, "accounts/otp_recovery.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("code", "That code is not valid. Check the time on your phone and enter the current code.")
    if device is None:
        device = otp.totp_enrol(user=user)
    context = {
        "form": form,
        "secret": otp.totp_secret(device),
        "uri": device.config_url,
        "qr": _qr_data_uri(device.config_url),
        "required": otp.otp_required_for(user),
        "replacing": otp.otp_enrolled(user),
        "next": _next_url(request),
    }
    return render(request, "accounts/otp_setup.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password: a code from the authenticator app, or a recovery code."""
    user = _user(request)
    if not otp.otp_enrolled(user):
        return redirect(SETUP)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.otp_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if device.name == otp.RECOVERY_DEVICE_NAME:
                messages.warning(request, f"Recovery code used: {otp.recovery_codes_left(user)} left.")
            return HttpResponseRedirect(_next_url(request))
        form.add_error("code", "That code is not valid.")
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)},
                  status=400 if form.errors else 200)  # fmt: skip


@require_http_methods(["GET", "POST"])
def otp_recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left; POST replaces them all with a new set, shown once."""
    user = _user(request)
    if not otp.otp_enrolled(user):
        return redirect(SETUP)
    if request.method == "POST":
        codes = otp.recovery_codes_generate(user=user)
        return render(request, "accounts/otp_recovery.html", {"codes": codes, "next": reverse("landing")})
    return render(request, "accounts/otp_recovery_status.html", {"left": otp.recovery_codes_left(user)})


class OtpRequiredMiddleware:
    """Before any other page or session-authenticated API call: a person with a confirmed device
    passes the second factor; a chair or coordinator without one sets it up.

    Pages redirect (with `next`); the API answers 403 with a reason. Token-authenticated API
    calls are not seen here (the session user is anonymous): their second factor was asked when
    the token was issued.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = _user(request)
        if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if name in ALWAYS_ALLOWED:
            return None
        if otp.otp_enrolled(user):
            return None if name == VERIFY else _send_to(request, VERIFY)
        if otp.otp_required_for(user):
            return None if name == SETUP else _send_to(request, SETUP)
        return None


def _send_to(request: HttpRequest, step: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": "Two-factor authentication required: complete it in the browser, or use a token."},
            status=403,
        )
    return HttpResponseRedirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
