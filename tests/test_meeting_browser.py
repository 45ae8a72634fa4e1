"""A chair runs a meeting in a real browser (issue 6): open the agenda, mark attendance, start the
meeting, step through two demo cases, record one decision following the NOMS proposal and one
deviating from it with a reason, and finalise both with the password (issue 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.demo import MAIN_BOARD, demo_password, seed_people
from accounts.models import Board, User
from accounts.otp import recovery_codes_generate
from cases.demo import seed_cases
from cases.models import Case
from meetings import scheduling, services
from meetings.models import Decision, Meeting
from tests.conftest import authenticator_code, enrol_authenticator

# Demo people who count toward the quorum (accounts.demo), as the attendance form names them.
ATTENDEES = ("Cene Novak", "Olga Kos", "Simon Zupan", "Rada Horvat", "Petra Krajnc")


def _seed_meeting() -> tuple[Meeting, Case, Case]:
    """The demo board and cases; a meeting in an hour with two ready cases on its agenda: worked
    case 3 (prostate, cEBRT proposed) and case 6 (myeloma, stabilisation C7 proposed)."""
    seed_people()
    cases = {case.patient.mrn: case for case in seed_cases()}
    coordinator = User.objects.get(username="coordinator")
    meeting = services.meeting_create(
        by=coordinator, board=Board.objects.get(name=MAIN_BOARD), title="Spine MDT weekly",
        starts_at=timezone.now() + timedelta(hours=1), duration_minutes=60, capacity_minutes=30, minutes_per_case=10,
    )  # fmt: skip
    first, second = cases["MRN-1003"], cases["MRN-1006"]
    for case in (first, second):
        scheduling.agenda_place(case=case, meeting=meeting, by=coordinator)
    return meeting, first, second


def _finalise(page: Page) -> None:
    page.get_by_label("Your password").fill(demo_password())
    # The signature asks for the second factor too; the login used this minute's app code, so sign
    # with single-use recovery codes.
    page.get_by_label("Authenticator code").fill(
        recovery_codes_generate(user=User.objects.get(username="chair"), count=1)[0]
    )
    page.get_by_role("button", name="Finalise").click()
    expect(page.get_by_role("status").filter(has_text="Decision finalised and signed")).to_be_visible()
    expect(page.get_by_role("table", name="Decision record versions")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chair_runs_a_meeting(live_server: LiveServer, chromium: Browser) -> None:
    meeting, first, second = _seed_meeting()
    authenticator = enrol_authenticator(User.objects.get(username="chair"))
    page = chromium.new_page()
    page.set_default_timeout(60_000)  # finalising renders the record PDF in-process

    page.goto(f"{live_server.url}/meetings/")
    page.get_by_label("Username").fill("chair")
    page.get_by_label("Password").fill(demo_password())
    page.get_by_role("button", name="Log in").click()
    # Chairs pass the second factor: the code of the authenticator app enrolled above.
    page.get_by_label("Code").fill(authenticator_code(authenticator))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/meetings/")

    # The agenda, in order; no quorum yet.
    page.get_by_role("link", name="Spine MDT weekly", exact=True).click()
    agenda = page.get_by_role("table", name="Cases in agenda order")
    expect(agenda.get_by_role("row").nth(1)).to_contain_text(first.patient.name)
    expect(agenda.get_by_role("row").nth(2)).to_contain_text(second.patient.name)
    expect(page.locator(".missing-roles")).to_contain_text("pain specialist")

    for name in ATTENDEES:
        page.get_by_label(f"{name} is present").check()
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_text("Quorum reached")).to_be_visible()

    page.get_by_role("link", name="Start meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.patient.name)
    expect(page.get_by_text("Case 1 of 2").first).to_be_visible()
    expect(page.get_by_role("region", name="NOMS proposal")).to_contain_text("R14")

    # Case 1: the proposal's cEBRT (pre-filled), with the dose the board chooses.
    expect(page.get_by_label("Radiotherapy modality")).to_have_value("cebrt")
    page.get_by_label("Total dose (Gy)").fill("20")
    page.get_by_label("Fractions", exact=True).fill("5")
    page.get_by_label("Rationale").fill("Radiosensitive prostate metastases, stable spine: conventional radiotherapy.")
    page.get_by_label("yes, it follows the NOMS proposal").check()
    _finalise(page)

    page.get_by_role("link", name="Next case →").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(second.patient.name)

    # Case 2: the proposal's stabilisation C7 is not done; radiotherapy alone, with the reason.
    expect(page.get_by_label("Procedure, row 1")).to_have_value("stabilisation")
    page.get_by_label("Procedure, row 1").select_option("")
    page.get_by_label("Level, row 1").select_option("")
    page.get_by_label("Radiotherapy timing").fill("start this week")
    page.get_by_label("Total dose (Gy)").fill("20")
    page.get_by_label("Fractions", exact=True).fill("5")
    page.get_by_label("Rationale").fill("Myeloma is radiosensitive; radiotherapy alone with a collar.")
    page.get_by_label("no, it deviates from the proposal").check()
    page.get_by_label("Reason for deviating from the proposal").fill("The patient declines surgery after counselling.")
    _finalise(page)

    for case in (first, second):
        case.refresh_from_db()
        assert case.status == "discussed"
    decisions = {d.case_id: d for d in Decision.objects.filter(meeting=meeting)}
    assert decisions[first.pk].follows_recommendation is True
    assert decisions[second.pk].follows_recommendation is False
    assert decisions[second.pk].deviation_reason == "The patient declines surgery after counselling."
    assert decisions[second.pk].plan["surgery"] == []
    for decision in decisions.values():
        assert decision.state == "finalised"
        assert list(decision.records.values_list("version", flat=True)) == [1]
