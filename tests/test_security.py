"""Login protection and the second factor (issue 9): lockout per username and per address on the
login page and the token endpoint, the Content-Security-Policy header, cookie flags in production,
CSRF on forms, and the OTP flows (enrol, confirm, verify, recovery codes, token issue).

Browser sessions here use Django's plain test client (not the suite's VerifiedClient), so every
step of the second factor is the real one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import otp
from tests.conftest import authenticator_code, enrol_authenticator
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
CSP = {
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
}


def _login_page(username: str, password: str, ip: str = "10.0.0.1", client: Client | None = None):  # type: ignore[no-untyped-def]
    client = client or Client()
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _token(username: str, password: str, ip: str = "10.0.0.1", **extra: str):  # type: ignore[no-untyped-def]
    return APIClient().post(TOKEN, {"username": username, "password": password, **extra}, format="json", REMOTE_ADDR=ip)


# --- lockout (django-axes): 5 failures, per username and per address


def test_login_page_locks_out_a_username_after_five_failures_from_any_address(personas):
    for n in range(4):
        assert _login_page("radiologist", "wrong", ip=f"10.0.1.{n}").status_code == 200
    assert _login_page("radiologist", "wrong", ip="10.0.1.9").status_code == 429
    # The right password, from a fresh address, is refused too, and nobody is logged in.
    client = Client()
    assert _login_page("radiologist", TEST_PASSWORD, ip="10.0.2.1", client=client).status_code == 429
    assert client.get("/").status_code == 302
    # Other people are not affected.
    assert _login_page("surgeon", TEST_PASSWORD, ip="10.0.2.1").status_code == 302


def test_login_page_locks_out_an_address_after_five_failures_with_any_username(personas):
    for name in ("oncologist", "surgeon", "radiologist", "pain", "nobody"):
        _login_page(name, "wrong", ip="10.0.3.3")
    assert _login_page("coordinator", TEST_PASSWORD, ip="10.0.3.3").status_code == 429
    assert _login_page("coordinator", TEST_PASSWORD, ip="10.0.3.4").status_code == 302


def test_success_resets_the_count_and_the_lockout_ends_after_the_cool_off(personas):
    for _ in range(4):
        _login_page("pain", "wrong")
    assert _login_page("pain", TEST_PASSWORD).status_code == 302
    for _ in range(4):
        assert _login_page("pain", "wrong").status_code == 200
    assert _login_page("pain", "wrong").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _login_page("pain", TEST_PASSWORD).status_code == 302


def test_token_endpoint_locks_out_a_username_and_an_address(personas):
    for n in range(4):
        assert _token("surgeon", "wrong", ip=f"10.0.4.{n}").status_code == 400
    locked = _token("surgeon", "wrong", ip="10.0.4.9")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "Too many failed logins" in locked.json()["detail"]
    assert _token("surgeon", TEST_PASSWORD, ip="10.0.5.1").status_code == 429
    for name in ("oncologist", "radiologist", "pain", "nobody", "ghost"):
        _token(name, "wrong", ip="10.0.6.6")
    assert _token("service", TEST_PASSWORD, ip="10.0.6.6").status_code == 429
    assert _token("service", TEST_PASSWORD, ip="10.0.6.7").status_code == 200


def test_login_page_and_token_endpoint_share_the_count(personas):
    for _ in range(3):
        _login_page("oncologist", "wrong", ip="10.0.7.1")
    _token("oncologist", "wrong", ip="10.0.7.2")
    assert _token("oncologist", "wrong", ip="10.0.7.3").status_code == 429
    assert _login_page("oncologist", TEST_PASSWORD, ip="10.0.7.4").status_code == 429


# --- Content-Security-Policy, cookies, CSRF


@pytest.mark.parametrize("url", [LOGIN, "/cases/", "/api/v1/boards/", "/api/v1/cases/", "/healthz"])
def test_every_response_carries_the_content_security_policy(client, personas, url):
    client.force_login(personas.surgeon)
    for response in (client.get(url), Client().get(url)):  # anonymous: redirects and 401s too
        assert set(response["Content-Security-Policy"].split("; ")) == CSP


def test_no_template_has_inline_script_or_style():
    """The CSP allows no inline code: scripts and styles come from static files only."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son(?:click|change|input|submit|load|focus|blur|key\w+|mouse\w+)=",
        re.IGNORECASE,
    )
    templates = [p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts]
    assert templates
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in templates for m in inline.finditer(p.read_text())]
    assert offenders == []


def test_production_cookies_are_secure_and_http_only():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.X_FRAME_OPTIONS, s.DATA_UPLOAD_MAX_MEMORY_SIZE]))"
    )
    dropped = {"SECRET_KEY", "DJANGO_DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(
        DJANGO_DEBUG="0",
        SECRET_KEY="x7!Kq2@vN9#pL4$wR8%tY1^zB6&mC3*hF5(jD0)sG-ae_u+Wd3",
        ALLOWED_HOSTS="tumourboard.example",
        DJANGO_SETTINGS_MODULE="tumourboard.settings",
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=120, check=True)  # fmt: skip
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == [True, True, True, True, 31_536_000, "DENY", 1024 * 1024]


def test_the_session_cookie_is_http_only(personas, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = _login_page("surgeon", TEST_PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["secure"]


def test_forms_refuse_a_post_without_the_csrf_token(personas, make_case):
    client = Client(enforce_csrf_checks=True)
    assert client.post(LOGIN, {"username": "surgeon", "password": TEST_PASSWORD}).status_code == 403
    client.get(LOGIN)
    token = client.cookies["csrftoken"].value
    logged_in = client.post(LOGIN, {"username": "surgeon", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token})
    assert logged_in.status_code == 302
    case = make_case()
    section = f"/cases/{case.pk}/sections/surgery/"
    assert client.post(section, {"version": "1", "action": "save", "frankel": "E"}).status_code == 403
    # Browser sessions on the API need the token too (DRF's SessionAuthentication).
    assert client.post("/api/v1/cases/", {}, content_type="application/json").status_code == 403


# --- second factor: browser


def test_chairs_and_coordinators_are_sent_to_set_up_before_any_page(personas):
    for user in (personas.chair, personas.coordinator):
        client = Client()
        client.force_login(user)
        response = client.get("/cases/?status=ready")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/otp/setup/?next=%2Fcases%2F%3Fstatus%3Dready"
        # A browser session cannot use the API around it either.
        assert client.get("/api/v1/cases/").status_code == 403
    assert otp.otp_required_for(personas.chair) and not otp.otp_required_for(personas.surgeon)
    assert not otp.otp_required_for(personas.service)


def test_other_people_are_not_asked_until_they_enrol(personas):
    client = Client()
    client.force_login(personas.surgeon)
    assert client.get("/cases/").status_code == 200
    assert client.get("/accounts/otp/setup/").status_code == 200  # anyone may enrol


def test_enrol_confirm_and_recovery_codes(personas, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code here need not delay the right one
    client = Client()
    client.force_login(personas.chair)
    page = client.get("/accounts/otp/setup/?next=/meetings/")
    device = TOTPDevice.objects.get(user=personas.chair, confirmed=False)
    html = page.content.decode()
    assert otp.totp_secret(device) in html and "otpauth://totp/tumourboard%3Achair?" in html
    assert 'src="data:image/svg+xml;base64,' in html
    # Reloading the page keeps the secret being enrolled.
    client.get("/accounts/otp/setup/")
    assert TOTPDevice.objects.get(user=personas.chair, confirmed=False).pk == device.pk

    wrong = client.post("/accounts/otp/setup/", {"code": "000000", "next": "/meetings/"})
    assert wrong.status_code == 400 and "not valid" in wrong.content.decode()
    assert client.get("/cases/").status_code == 302
    done = client.post("/accounts/otp/setup/", {"code": authenticator_code(device), "next": "/meetings/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == otp.RECOVERY_CODE_COUNT
    assert 'href="/meetings/"' in done.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/cases/").status_code == 200  # this session is verified
    assert client.get("/accounts/otp/recovery-codes/").content.decode().count("10 unused recovery codes") == 1


def test_login_asks_for_the_code_and_follows_next(personas, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enrol_authenticator(personas.surgeon)
    client = Client()
    response = client.post(
        f"{LOGIN}?next=/cases/", {"username": "surgeon", "password": TEST_PASSWORD, "next": "/cases/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/accounts/otp/verify/?next=%2Fcases%2F"
    assert client.get("/api/v1/boards/").status_code == 403
    assert client.post("/accounts/otp/verify/", {"code": "123456", "next": "/cases/"}).status_code == 400
    verified = client.post("/accounts/otp/verify/", {"code": authenticator_code(device), "next": "/cases/"})
    assert (verified.status_code, verified["Location"]) == (302, "/cases/")
    assert client.get("/cases/").status_code == 200
    # A code is accepted once.
    again = Client()
    again.force_login(personas.surgeon)
    assert again.post("/accounts/otp/verify/", {"code": authenticator_code(device)}).status_code == 400


def test_wrong_codes_slow_down_the_device(personas):
    device = enrol_authenticator(personas.surgeon)
    client = Client()
    client.force_login(personas.surgeon)
    assert client.post("/accounts/otp/verify/", {"code": "000000"}).status_code == 400
    # Right after a failure even the right code is refused (django-otp throttling doubles the wait).
    assert client.post("/accounts/otp/verify/", {"code": authenticator_code(device)}).status_code == 400


def test_a_recovery_code_works_once(personas):
    enrol_authenticator(personas.chair)
    code = otp.recovery_codes_generate(user=personas.chair)[0]
    first = Client()
    first.force_login(personas.chair)
    assert first.post("/accounts/otp/verify/", {"code": code.upper()}).status_code == 302
    assert first.get("/cases/").status_code == 200
    second = Client()
    second.force_login(personas.chair)
    assert second.post("/accounts/otp/verify/", {"code": code}).status_code == 400
    assert otp.recovery_codes_left(personas.chair) == otp.RECOVERY_CODE_COUNT - 1
    # New codes replace the old ones.
    old = otp.recovery_codes_generate(user=personas.chair)[1]
    otp.recovery_codes_generate(user=personas.chair)
    assert otp.otp_verify(user=personas.chair, token=old) is None


def test_an_unverified_session_cannot_replace_the_device(personas):
    enrol_authenticator(personas.chair)
    client = Client()
    client.force_login(personas.chair)
    response = client.get("/accounts/otp/setup/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/verify/")


def test_verify_never_redirects_off_site(personas):
    device = enrol_authenticator(personas.oncologist)
    client = Client()
    client.force_login(personas.oncologist)
    response = client.post(
        "/accounts/otp/verify/", {"code": authenticator_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_service_accounts_do_not_enrol(personas):
    client = Client()
    client.force_login(personas.service)
    assert client.get("/accounts/otp/setup/").status_code == 403


# --- second factor: token issue


def test_chairs_without_a_device_get_no_token(personas):
    response = _token("chair", TEST_PASSWORD)
    assert response.status_code == 400
    assert "set it up in the browser" in response.json()["otp"][0]


def test_an_enrolled_person_gives_the_code_for_a_token(personas, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enrol_authenticator(personas.coordinator)
    assert _token("coordinator", TEST_PASSWORD).json() == {
        "otp": ["Enter the code from your authenticator app (or a recovery code)."]
    }
    assert _token("coordinator", TEST_PASSWORD, otp="999999").json() == {"otp": ["That code is not valid."]}
    response = _token("coordinator", TEST_PASSWORD, otp=authenticator_code(device))
    assert response.status_code == 200 and len(response.json()["token"]) == 40
    recovery = otp.recovery_codes_generate(user=personas.coordinator)[0]
    assert _token("coordinator", TEST_PASSWORD, otp=recovery).status_code == 200
    assert _token("coordinator", TEST_PASSWORD, otp=recovery).status_code == 400


def test_people_without_a_device_and_service_accounts_need_no_code(personas):
    assert _token("surgeon", TEST_PASSWORD).status_code == 200
    assert _token("service", TEST_PASSWORD).status_code == 200
