"""Meeting pages in the browser (issue 6, issue 7): the meeting list, the agenda with attendance and
quorum, live mode with the decision form, the decision page and the calendar files.

Everything is set up through the services (a meeting, cases placed on its agenda by hand) and
driven through the pages as a browser would, posting the forms' fields.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, User
from accounts.otp import recovery_codes_generate
from cases.models import Case
from meetings import scheduling, services
from meetings.models import AgendaItem, Attendance, CalendarSubscription, Decision, Meeting
from tests.conftest import Personas, VerifiedClient
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ALL_ROLES = ("chair", "oncologist", "surgeon", "radiologist", "pain_specialist")


def _browser(user: User | None) -> Client:
    client = VerifiedClient()
    if user is not None:
        client.force_login(user)
    return client


def _role_user(personas: Personas, role: str) -> User:
    return {
        "chair": personas.chair,
        "oncologist": personas.oncologist,
        "surgeon": personas.surgeon,
        "radiologist": personas.radiologist,
        "pain_specialist": personas.pain,
    }[role]


@pytest.fixture
def agenda(personas: Personas, make_case):
    """A meeting in an hour with `n` ready cases placed on its agenda by the coordinator."""

    def make(n: int = 2) -> tuple[Meeting, list[Case]]:
        meeting = services.meeting_create(
            by=personas.coordinator, board=personas.board, title="Spine MDT weekly",
            starts_at=timezone.now() + timedelta(hours=1), duration_minutes=120,
            capacity_minutes=10 * max(n, 1), minutes_per_case=10, place="Room 3",
        )  # fmt: skip
        cases = []
        for _ in range(n):
            case = make_case()
            Case.objects.filter(pk=case.pk).update(status="ready")
            scheduling.agenda_place(case=case, meeting=meeting, by=personas.coordinator)
            cases.append(case)
        return meeting, cases

    return make


def _attend(meeting: Meeting, personas: Personas, roles: tuple[str, ...] = ALL_ROLES) -> None:
    for role in roles:
        services.attendance_record(meeting=meeting, user=_role_user(personas, role), role=role, present=True)


def _decision_data(action: str = "save", **fields: str) -> dict[str, str]:
    """The decision form as a browser posts it: every field, two blank surgery rows."""
    data = {
        "action": action,
        "radiation_modality": "cebrt",
        "dose_gy": "20",
        "fractions": "5",
        "radiation_timing": "start within two weeks",
        "surgery-TOTAL_FORMS": "2",
        "surgery-INITIAL_FORMS": "0",
        "surgery-MIN_NUM_FORMS": "0",
        "surgery-MAX_NUM_FORMS": "1000",
        "surgery-0-procedure": "", "surgery-0-level": "", "surgery-0-timing": "",
        "surgery-1-procedure": "", "surgery-1-level": "", "surgery-1-timing": "",
        "systemic": "",
        "dexamethasone": "no",
        "steroid_regimen": "",
        "bone_targeted_agent": "on",
        "work_up": "",
        "rationale": "Radiosensitive primary, stable spine: conventional radiotherapy.",
        "follows_recommendation": "yes",
        "deviation_reason": "",
        "follow_up_date": "",
        "password": "",
    }  # fmt: skip
    if action == "finalise" and "otp" not in fields:
        # The chair's browser session has an authenticator (VerifiedClient): sign with a recovery code.
        fields = {**fields, "otp": recovery_codes_generate(user=User.objects.get(username="chair"), count=1)[0]}
    data.update(fields)
    return data


def _live(meeting: Meeting, position: int = 1) -> str:
    return f"/meetings/{meeting.pk}/live/{position}/"


# --- permissions


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("chair", {"Start meeting", "Save draft", "Record attendance", "Move up"}),
        ("coordinator", {"Record attendance", "Move up"}),
        ("surgeon", set()),
        ("service", set()),
    ],
)
def test_board_members_read_and_see_only_their_controls(personas, agenda, persona, sees):
    meeting, _cases = agenda(2)
    _attend(meeting, personas)
    client = _browser(getattr(personas, persona))
    listing = client.get("/meetings/").content.decode()
    assert meeting.title in listing and f"/meetings/{meeting.pk}.ics" in listing
    page = client.get(f"/meetings/{meeting.pk}/").content.decode() + client.get(_live(meeting)).content.decode()
    for control in {"Start meeting", "Save draft", "Record attendance", "Move up"}:
        assert (control in page) is (control in sees), control


def test_outsiders_get_404_and_anonymous_users_the_login_page(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    decision = services.decision_save(
        case=case, meeting=meeting, by=personas.chair, fields={"plan": {"radiation": {"modality": "cebrt"}}}
    )
    urls = [
        f"/meetings/{meeting.pk}/", _live(meeting), f"/meetings/{meeting.pk}.ics", f"/decisions/{decision.pk}/",
    ]  # fmt: skip
    outsider = _browser(personas.outsider)
    for url in urls:
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(_live(meeting), _decision_data()).status_code == 404
    assert outsider.post(f"/meetings/{meeting.pk}/attendance/", {}).status_code == 404
    assert meeting.title not in outsider.get("/meetings/").content.decode()
    anonymous = _browser(None)
    for url in [*urls, "/meetings/"]:
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_only_the_chair_records_decisions_and_only_runners_change_the_meeting(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    item = meeting.agenda_items.get(case=case)
    for user in (personas.coordinator, personas.surgeon, personas.service):
        assert _browser(user).post(_live(meeting), _decision_data()).status_code == 403
    for user in (personas.surgeon, personas.service):
        client = _browser(user)
        assert client.post(f"/meetings/{meeting.pk}/attendance/", {}).status_code == 403
        assert client.post(f"/meetings/{meeting.pk}/agenda/{item.pk}/", {"action": "up"}).status_code == 403
    assert not Decision.objects.exists()


def test_an_unfinalised_draft_is_the_chairs_alone(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    decision = services.decision_save(
        case=case, meeting=meeting, by=personas.chair, fields={"plan": {"radiation": {"modality": "cebrt"}}}
    )
    assert _browser(personas.chair).get(f"/decisions/{decision.pk}/").status_code == 200
    assert _browser(personas.surgeon).get(f"/decisions/{decision.pk}/").status_code == 404


# --- attendance and quorum


def _attendance_form(meeting: Meeting, personas: Personas, present: tuple[str, ...]) -> dict[str, str]:
    return {f"present_{_role_user(personas, role).pk}": "on" for role in present}


def test_attendance_is_marked_on_the_page_and_the_quorum_box_lists_who_is_missing(personas, agenda):
    meeting, _cases = agenda(1)
    coordinator = _browser(personas.coordinator)
    page = coordinator.get(f"/meetings/{meeting.pk}/").content.decode()
    # The chair and the four specialists: the coordinator and the service account hold no quorum role.
    assert "No quorum" in page and page.count('name="present_') == 5
    assert f'name="present_{personas.coordinator.pk}"' not in page

    response = coordinator.post(
        f"/meetings/{meeting.pk}/attendance/", _attendance_form(meeting, personas, ("chair", "oncologist", "surgeon"))
    )
    assert response.status_code == 302
    page = coordinator.get(f"/meetings/{meeting.pk}/").content.decode()
    box = page.split('class="missing-roles"')[1].split("</ul>")[0]
    assert "radiologist" in box and "pain specialist" in box and "chair" not in box and "oncologist" not in box

    coordinator.post(f"/meetings/{meeting.pk}/attendance/", _attendance_form(meeting, personas, ALL_ROLES))
    assert "Quorum reached" in coordinator.get(f"/meetings/{meeting.pk}/").content.decode()
    # Unticking a person records them absent: the quorum is lost again.
    coordinator.post(f"/meetings/{meeting.pk}/attendance/", _attendance_form(meeting, personas, ALL_ROLES[:-1]))
    assert Attendance.objects.get(meeting=meeting, user=personas.pain).present is False
    assert (
        "pain specialist"
        in coordinator.get(f"/meetings/{meeting.pk}/").content.decode().split('class="missing-roles"')[1]
    )


def test_a_member_with_two_quorum_roles_chooses_the_one_they_attend_in(personas, agenda):
    meeting, _cases = agenda(1)
    Membership.objects.filter(user=personas.chair, board=personas.board).update(discipline="oncologist")
    coordinator = _browser(personas.coordinator)
    assert f'name="role_{personas.chair.pk}"' in coordinator.get(f"/meetings/{meeting.pk}/").content.decode()
    data = {f"present_{personas.chair.pk}": "on", f"role_{personas.chair.pk}": "oncologist"}
    assert coordinator.post(f"/meetings/{meeting.pk}/attendance/", data).status_code == 302
    assert Attendance.objects.get(meeting=meeting, user=personas.chair).role == "oncologist"
    refused = coordinator.post(f"/meetings/{meeting.pk}/attendance/", {**data, f"role_{personas.chair.pk}": "surgeon"})
    assert refused.status_code == 400


def test_without_quorum_the_form_is_disabled_and_a_decision_is_refused(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas, ("chair", "oncologist", "surgeon"))
    chair = _browser(personas.chair)
    page = chair.get(_live(meeting)).content.decode()
    assert 'class="decision-fields" disabled' in page
    assert "Missing: radiologist, pain specialist" in page

    response = chair.post(_live(meeting), _decision_data())
    assert response.status_code == 400
    assert (
        "No quorum: the meeting needs the chair and one member of each discipline; missing: radiologist, pain specialist."
        in response.content.decode()
    )
    assert "Radiosensitive primary, stable spine" in response.content.decode()  # the chair's input is kept
    assert not Decision.objects.filter(case=case).exists()


# --- the decision


def test_a_deviation_without_a_reason_is_refused(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    response = _browser(personas.chair).post(_live(meeting), _decision_data(follows_recommendation="no"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Required when the decision does not follow the proposal." in body
    assert "Radiosensitive primary, stable spine" in body
    assert not Decision.objects.filter(case=case).exists()


def test_plan_rows_are_checked_by_the_api_rules(personas, agenda):
    meeting, _cases = agenda(2)
    _attend(meeting, personas)
    chair = _browser(personas.chair)
    body = chair.post(_live(meeting), _decision_data(radiation_modality="none")).content.decode()
    assert "No radiotherapy: leave dose and fractions empty." in body
    body = chair.post(_live(meeting), _decision_data(radiation_modality="")).content.decode()
    assert "This field is required." in body


def test_a_draft_is_saved_and_shown_again(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    chair = _browser(personas.chair)
    response = chair.post(
        _live(meeting),
        _decision_data(
            work_up="PET-CT\nBiopsy of the lesion", follow_up_date=str(timezone.localdate() + timedelta(days=30))
        ),
    )
    assert response.status_code == 302
    decision = Decision.objects.get(case=case, meeting=meeting)
    assert decision.state == "draft"
    assert decision.plan["work_up"] == ["PET-CT", "Biopsy of the lesion"]
    assert decision.plan["radiation"] == {
        "modality": "cebrt",
        "dose_gy": 20.0,
        "fractions": 5,
        "timing": "start within two weeks",
    }
    page = chair.get(_live(meeting)).content.decode()
    assert "PET-CT\nBiopsy of the lesion</textarea>" in page
    assert f'name="version" value="{decision.version}"' in page


def test_finalising_with_a_wrong_password_is_refused_and_keeps_nothing(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    chair = _browser(personas.chair)
    response = chair.post(_live(meeting), _decision_data("finalise", password="not-my-password"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "The password does not match" in body
    assert "Radiosensitive primary, stable spine" in body
    assert not Decision.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.status == "scheduled"
    # Finalising needs the password at all.
    assert "Enter your password" in chair.post(_live(meeting), _decision_data("finalise")).content.decode()


def test_finalising_moves_the_case_to_discussed_and_lists_the_record(
    personas, agenda, django_capture_on_commit_callbacks
):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    chair = _browser(personas.chair)
    with django_capture_on_commit_callbacks(execute=True):
        response = chair.post(_live(meeting), _decision_data("finalise", password=TEST_PASSWORD))
    assert response.status_code == 302 and response["Location"] == _live(meeting)
    case.refresh_from_db()
    assert case.status == "discussed"
    decision = Decision.objects.get(case=case, meeting=meeting)
    assert (decision.state, decision.finalised_by, decision.follows_recommendation) == (
        "finalised",
        personas.chair,
        True,
    )
    assert meeting.agenda_items.get(case=case).state == AgendaItem.State.PRESENTED
    record = decision.records.get()

    page = chair.get(_live(meeting)).content.decode()
    assert "Decision record versions" in page and "Save draft" not in page
    for body in (page, _browser(personas.surgeon).get(f"/decisions/{decision.pk}/").content.decode()):
        assert record.get_state_display() in body
        if record.state == "ready":
            assert record.sha256 in body
            assert f"/api/v1/decisions/{decision.pk}/records/1/pdf" in body
        elif record.state == "failed":
            assert record.error in body
    # The finalised decision is not edited from live mode.
    again = chair.post(_live(meeting), _decision_data())
    assert again.status_code == 302
    assert "Reopen it" in chair.get(_live(meeting)).content.decode()


def test_the_chair_reopens_a_decision_with_a_reason(personas, agenda, django_capture_on_commit_callbacks):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    chair = _browser(personas.chair)
    with django_capture_on_commit_callbacks(execute=True):
        chair.post(_live(meeting), _decision_data("finalise", password=TEST_PASSWORD))
    decision = Decision.objects.get(case=case)
    url = f"/decisions/{decision.pk}/reopen/"
    assert _browser(personas.coordinator).post(url, {"reason": "New MRI", "version": "1"}).status_code == 403
    assert "This field is required." in chair.post(url, {"reason": "", "version": "1"}).content.decode()
    read = str(decision.revision)  # the revision the decision page showed (its hidden field)
    assert chair.post(url, {"reason": "New MRI shows a second level", "version": read}).status_code == 302
    decision.refresh_from_db()
    assert (decision.state, decision.amendment_reason) == ("reopened", "New MRI shows a second level")
    # Amending happens in live mode, where the form is back with the signed content as its draft.
    page = chair.get(_live(meeting)).content.decode()
    assert "Amending version 1" in page and "Radiosensitive primary, stable spine" in page
    stale = chair.post(url, {"reason": "again", "version": read})
    assert stale.status_code == 409


# --- agenda adjustments


def test_the_coordinator_moves_defers_and_removes_agenda_items(personas, agenda):
    meeting, [first, second, third] = agenda(3)
    coordinator = _browser(personas.coordinator)

    def item(case: Case) -> AgendaItem:
        return meeting.agenda_items.get(case=case)

    assert coordinator.post(f"/meetings/{meeting.pk}/agenda/{item(second).pk}/", {"action": "up"}).status_code == 302
    assert (item(second).order, item(first).order) == (1, 2)

    refused = coordinator.post(f"/meetings/{meeting.pk}/agenda/{item(third).pk}/", {"action": "defer", "reason": " "})
    assert refused.status_code == 400 and "Say why the case is deferred." in refused.content.decode()

    coordinator.post(f"/meetings/{meeting.pk}/agenda/{item(third).pk}/", {"action": "defer", "reason": "MRI pending"})
    coordinator.post(
        f"/meetings/{meeting.pk}/agenda/{item(first).pk}/", {"action": "remove", "reason": "Treated elsewhere"}
    )
    assert (item(third).state, item(third).deferred_reason, item(first).state) == (
        "deferred",
        "MRI pending",
        "withdrawn",
    )
    assert Case.objects.get(pk=third.pk).status == "ready"
    page = coordinator.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "MRI pending" in page
    # Live mode steps through what is still to discuss only.
    assert coordinator.get(_live(meeting, 2)).status_code == 404


# --- query counts


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_meeting_page_runs_the_same_number_of_queries_for_1_and_10_cases(personas, agenda):
    small, _ = agenda(1)
    large, cases = agenda(10)
    for meeting in (small, large):
        _attend(meeting, personas)
    services.decision_save(
        case=cases[0], meeting=large, by=personas.chair, fields={"plan": {"radiation": {"modality": "cebrt"}}}
    )
    for persona in (personas.coordinator, personas.surgeon):
        client = _browser(persona)
        assert _queries(client, f"/meetings/{small.pk}/") == _queries(client, f"/meetings/{large.pk}/")


def test_the_meeting_list_runs_the_same_number_of_queries_for_1_and_3_meetings(personas, agenda):
    agenda(1)
    client = _browser(personas.chair)
    one = _queries(client, "/meetings/")
    agenda(4)
    agenda(2)
    assert _queries(client, "/meetings/") == one


# --- calendars


def test_calendar_files(personas, agenda):
    meeting, _cases = agenda(1)
    client = _browser(personas.surgeon)
    response = client.get(f"/meetings/{meeting.pk}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body: Any = response.content.decode()
    assert "BEGIN:VEVENT" in body and "SUMMARY:Spine MDT weekly" in body and "Patient" not in body
    assert "SUMMARY:Spine MDT weekly" in client.get(f"/calendar/{personas.surgeon.username}.ics").content.decode()
    assert client.get(f"/calendar/{personas.chair.username}.ics").status_code == 404
    assert client.get("/meetings/series/999999.ics").status_code == 404


def _subscription_address(client: Client, action: str = "renew") -> str:
    page = client.post("/calendar/subscription/", {"action": action})
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    found = re.search(r'value="(http://testserver/calendar/feed/[^"]+\.ics)"', page.content.decode())
    assert found, page.content.decode()
    return found.group(1)


def test_a_calendar_app_subscribes_at_a_secret_address_without_logging_in(personas, agenda):
    meeting, _cases = agenda(1)
    surgeon = _browser(personas.surgeon)
    assert "Make a subscription address" in surgeon.get("/meetings/").content.decode()
    address = _subscription_address(surgeon)
    calendar_app = Client()  # no session, no token: only the address
    feed = calendar_app.get(address)
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    assert feed["Cache-Control"] == "private, no-store"
    body = feed.content.decode()
    assert "SUMMARY:Spine MDT weekly" in body and "Patient" not in body
    # Only a digest of the key is kept.
    key = address.rsplit("/", 1)[1].removesuffix(".ics")
    stored = CalendarSubscription.objects.get(user=personas.surgeon)
    assert stored.key_digest != key and key not in stored.key_digest
    assert "You have an address" in surgeon.get("/meetings/").content.decode()
    # A new address replaces the old one at once; turning it off ends it.
    renewed = _subscription_address(surgeon)
    assert calendar_app.get(address).status_code == 404
    assert calendar_app.get(renewed).status_code == 200
    assert surgeon.post("/calendar/subscription/", {"action": "end"}).status_code == 302
    assert calendar_app.get(renewed).status_code == 404
    assert calendar_app.get("/calendar/feed/guessed.ics").status_code == 404


def test_a_subscription_address_shows_only_its_owners_boards_and_dies_with_the_account(personas, agenda):
    agenda(1)
    outsider_address = _subscription_address(_browser(personas.outsider))
    surgeon_address = _subscription_address(_browser(personas.surgeon))
    calendar_app = Client()
    assert "Spine MDT weekly" not in calendar_app.get(outsider_address).content.decode()
    assert "Spine MDT weekly" in calendar_app.get(surgeon_address).content.decode()
    personas.surgeon.is_active = False
    personas.surgeon.save(update_fields=["is_active"])
    assert calendar_app.get(surgeon_address).status_code == 404
    # Making or ending an address needs a login (and a POST).
    assert Client().post("/calendar/subscription/", {"action": "renew"}).status_code == 302
    assert _browser(personas.pain).get("/calendar/subscription/").status_code == 405
    assert _browser(personas.pain).post("/calendar/subscription/", {"action": "steal"}).status_code == 400


def test_wrong_signature_passwords_in_the_browser_count_toward_the_lockout(personas, agenda):
    meeting, [case, _other] = agenda(2)
    _attend(meeting, personas)
    chair = _browser(personas.chair)
    for _ in range(4):
        assert chair.post(_live(meeting), _decision_data("finalise", password="not-my-password")).status_code == 400
    assert chair.post(_live(meeting), _decision_data("finalise", password="not-my-password")).status_code == 429
    assert chair.post(_live(meeting), _decision_data("finalise", password=TEST_PASSWORD)).status_code == 429
    assert not Decision.objects.filter(case=case).exists()


def test_a_coordinator_cancels_a_meeting_in_the_browser(personas, agenda):
    meeting, cases = agenda(2)
    coordinator = _browser(personas.coordinator)
    page = coordinator.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "Cancel the meeting" in page
    assert "Cancel the meeting" not in _browser(personas.surgeon).get(f"/meetings/{meeting.pk}/").content.decode()
    assert (
        _browser(personas.surgeon).post(f"/meetings/{meeting.pk}/cancel/", {"reason": "x", "version": 1}).status_code
        == 403
    )
    blank = coordinator.post(f"/meetings/{meeting.pk}/cancel/", {"reason": "", "version": meeting.version})
    assert blank.status_code == 400 and "This field is required" in blank.content.decode()
    stale = coordinator.post(f"/meetings/{meeting.pk}/cancel/", {"reason": "Holiday", "version": meeting.version + 5})
    assert stale.status_code == 409 and "Nothing was cancelled" in stale.content.decode()
    done = coordinator.post(
        f"/meetings/{meeting.pk}/cancel/", {"reason": "Public holiday", "version": meeting.version}, follow=True
    )
    body = done.content.decode()
    assert "Meeting cancelled; 2 cases went back to the queue." in body and "Cancelled: Public holiday" in body
    assert {c.status for c in Case.objects.filter(pk__in=[c.pk for c in cases])} <= {"ready", "scheduled"}
    assert not AgendaItem.objects.filter(meeting=meeting, state="planned").exists()
