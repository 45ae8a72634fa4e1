"""Meetings, attendance, quorum and decisions over REST (issue 6), and the decision feed (issue 8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.reauth import SIGNATURE_PASSWORD_MISMATCH
from cases.models import Case
from meetings.calendar import meeting_ics
from meetings.models import Decision, Meeting
from tests.conftest import board_meeting
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PLAN = {
    "radiation": {"modality": "cebrt", "dose_gy": 20, "fractions": 5, "timing": "start within 2 weeks"},
    "surgery": [],
    "bone_targeted_agent": True,
}


@pytest.fixture
def meeting(personas):
    return board_meeting(personas, starts_at=timezone.now() + timedelta(hours=1))


def _etag(decision_id: int) -> str:
    """The decision's ETag as a client that has just read it holds it."""
    return Decision.objects.get(pk=decision_id).etag


def attend(client_for, personas, meeting, roles=("chair", "oncologist", "surgeon", "radiologist", "pain_specialist")):
    users = {
        "chair": personas.chair,
        "oncologist": personas.oncologist,
        "surgeon": personas.surgeon,
        "radiologist": personas.radiologist,
        "pain_specialist": personas.pain,
    }
    client = client_for(personas.coordinator)
    for role in roles:
        response = client.post(
            f"/api/v1/meetings/{meeting.pk}/attendance/", {"user": users[role].pk, "role": role}, format="json"
        )
        assert response.status_code == 200, response.content
    return response.json()


def test_coordinator_creates_meetings_others_read(client_for, personas):
    body = {
        "board": personas.board.pk,
        "title": "Ad hoc MSCC",
        "starts_at": (timezone.now() + timedelta(hours=3)).isoformat(),
        "duration_minutes": 30,
        "capacity_minutes": 30,
        "minutes_per_case": 15,
        "is_ad_hoc": True,
    }
    assert client_for(personas.surgeon).post("/api/v1/meetings/", body, format="json").status_code == 403
    created = client_for(personas.coordinator).post("/api/v1/meetings/", body, format="json")
    assert created.status_code == 201, created.content
    meeting_id = created.json()["id"]
    assert client_for(personas.pain).get(f"/api/v1/meetings/{meeting_id}/").json()["is_ad_hoc"] is True
    assert client_for(personas.outsider).get(f"/api/v1/meetings/{meeting_id}/").status_code == 404
    past = {**body, "starts_at": (timezone.now() - timedelta(days=1)).isoformat()}
    assert "starts_at" in client_for(personas.coordinator).post("/api/v1/meetings/", past, format="json").json()


def test_quorum_lists_who_is_missing_and_blocks_decisions(client_for, personas, meeting, make_case):
    case = make_case()
    state = attend(client_for, personas, meeting, roles=("chair", "oncologist", "surgeon"))
    assert state["quorum"]["reached"] is False
    assert state["quorum"]["missing_roles"] == ["radiologist", "pain_specialist"]
    response = client_for(personas.chair).post(
        f"/api/v1/meetings/{meeting.pk}/decisions/", {"case": case.pk, "plan": PLAN, "rationale": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "missing: radiologist, pain specialist" in response.json()["non_field_errors"][0]


def test_attendance_role_must_be_held(client_for, personas, meeting):
    response = client_for(personas.coordinator).post(
        f"/api/v1/meetings/{meeting.pk}/attendance/", {"user": personas.pain.pk, "role": "surgeon"}, format="json"
    )
    assert response.status_code == 400
    assert "cannot attend as surgeon" in response.json()["role"][0]


def _decide(client_for, personas, meeting, case, **extra):
    body = {
        "case": case.pk,
        "plan": PLAN,
        "rationale": "Radiosensitive tumour, stable spine",
        "follows_recommendation": True,
        **extra,
    }
    existing = Decision.objects.filter(case=case, meeting=meeting).first()
    headers = {"HTTP_IF_MATCH": existing.etag} if existing else {}
    response = client_for(personas.chair).post(
        f"/api/v1/meetings/{meeting.pk}/decisions/", body, format="json", **headers
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_deviation_needs_a_reason(client_for, personas, meeting, make_case):
    case = make_case()
    attend(client_for, personas, meeting)
    response = client_for(personas.chair).post(
        f"/api/v1/meetings/{meeting.pk}/decisions/",
        {"case": case.pk, "plan": PLAN, "rationale": "x", "follows_recommendation": False},
        format="json",
    )
    assert response.status_code == 400
    assert "deviation_reason" in response.json()


@pytest.mark.parametrize(
    "plan",
    [
        {"radiation": {"modality": "proton"}},
        {"radiation": {"modality": "cebrt", "fractions": 2.5}},
        {"radiation": {"modality": "none", "dose_gy": 8}},
        {"radiation": {"modality": "cebrt"}, "surgery": [{"procedure": "laminectomy", "level": "T4"}]},
        {"radiation": {"modality": "cebrt"}, "surgery": [{"procedure": "stabilisation", "level": "T13"}]},
        {"radiation": {"modality": "cebrt"}, "extra": 1},
        {},
    ],
)
def test_bad_plans_are_400(client_for, personas, meeting, make_case, plan):
    case = make_case()
    attend(client_for, personas, meeting)
    response = client_for(personas.chair).post(
        f"/api/v1/meetings/{meeting.pk}/decisions/", {"case": case.pk, "plan": plan, "rationale": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "plan" in response.json()


def test_only_the_chair_decides(client_for, personas, meeting, make_case):
    case = make_case()
    attend(client_for, personas, meeting)
    for user in (personas.surgeon, personas.coordinator, personas.service):
        response = client_for(user).post(
            f"/api/v1/meetings/{meeting.pk}/decisions/", {"case": case.pk, "plan": PLAN}, format="json"
        )
        assert response.status_code == 403


def _schedule(case):
    Case.objects.filter(pk=case.pk).update(status="scheduled")


@pytest.fixture
def scheduled_draft(client_for, personas, meeting, make_case):
    """A scheduled case and the chair's draft decision on it, at a meeting with quorum."""
    case = make_case()
    _schedule(case)
    attend(client_for, personas, meeting)
    return case, _decide(client_for, personas, meeting, case)


def test_finalise_signs_with_password_and_moves_the_case(
    client_for, personas, meeting, scheduled_draft, django_capture_on_commit_callbacks
):
    case, draft = scheduled_draft
    chair = client_for(personas.chair)
    wrong = chair.post(
        f"/api/v1/decisions/{draft['id']}/finalise/",
        {"password": "nope"},
        format="json",
        HTTP_IF_MATCH=_etag(draft["id"]),
    )
    assert wrong.status_code == 400 and "password" in wrong.json()
    with django_capture_on_commit_callbacks(execute=True):
        done = chair.post(
            f"/api/v1/decisions/{draft['id']}/finalise/",
            {"password": TEST_PASSWORD},
            format="json",
            HTTP_IF_MATCH=_etag(draft["id"]),
        )
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["state"], body["version"], body["finalised_by"]) == ("finalised", 1, "chair")
    assert body["signed"]["rationale"] == "Radiosensitive tumour, stable spine"
    assert client_for(personas.service).get(f"/api/v1/cases/{case.pk}/").json()["status"] == "discussed"
    # A finalised decision is not edited: only reopened with a reason.
    again = chair.post(
        f"/api/v1/meetings/{meeting.pk}/decisions/",
        {"case": case.pk, "plan": PLAN},
        format="json",
        HTTP_IF_MATCH=_etag(draft["id"]),
    )
    assert again.status_code == 409
    assert (
        chair.post(
            f"/api/v1/decisions/{draft['id']}/reopen/", {"reason": ""}, format="json", HTTP_IF_MATCH=_etag(draft["id"])
        ).status_code
        == 400
    )
    reopened = chair.post(
        f"/api/v1/decisions/{draft['id']}/reopen/",
        {"reason": "New MRI"},
        format="json",
        HTTP_IF_MATCH=_etag(draft["id"]),
    )
    assert reopened.json()["state"] == "reopened"
    # While the amendment is drafted, clients still see the signed content.
    _decide(client_for, personas, meeting, case, rationale="Amended: add SBRT boost")
    signed = client_for(personas.service).get(f"/api/v1/decisions/{draft['id']}/").json()["signed"]
    assert signed["rationale"] == "Radiosensitive tumour, stable spine"
    with django_capture_on_commit_callbacks(execute=True):
        amended = chair.post(
            f"/api/v1/decisions/{draft['id']}/finalise/",
            {"password": TEST_PASSWORD},
            format="json",
            HTTP_IF_MATCH=_etag(draft["id"]),
        ).json()
    assert (amended["version"], amended["signed"]["rationale"]) == (2, "Amended: add SBRT boost")


def test_a_meeting_is_in_progress_from_the_first_attendance_after_its_start(client_for, personas, meeting, make_case):
    coordinator = client_for(personas.coordinator)
    attend(client_for, personas, meeting, roles=("chair",))
    assert Meeting.objects.get(pk=meeting.pk).status == "planned"  # recorded before the start time

    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    absent = coordinator.post(
        f"/api/v1/meetings/{meeting.pk}/attendance/",
        {"user": personas.pain.pk, "role": "pain_specialist", "present": False},
        format="json",
    )
    assert absent.status_code == 200 and Meeting.objects.get(pk=meeting.pk).status == "planned"
    attend(client_for, personas, meeting, roles=("surgeon",))
    started = Meeting.objects.get(pk=meeting.pk)
    assert started.status == "in_progress"
    assert coordinator.get(f"/api/v1/meetings/{meeting.pk}/").json()["status"] == "in_progress"
    record = started.history.first()
    assert (record.history_change_reason, record.history_user) == ("started: attendance recorded", personas.coordinator)

    # The sweep closes a meeting in progress once it has ended, as it closes a planned one.
    from meetings.scheduling import meetings_close_ended

    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(days=1))
    assert meetings_close_ended() == [meeting.pk]
    attend(client_for, personas, meeting, roles=("oncologist",))
    assert Meeting.objects.get(pk=meeting.pk).status == "closed"


def test_a_decision_drafted_at_a_started_meeting_starts_it(client_for, personas, meeting, make_case):
    case = make_case()
    attend(client_for, personas, meeting)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    _decide(client_for, personas, meeting, case)
    started = Meeting.objects.get(pk=meeting.pk)
    assert started.status == "in_progress"
    assert (started.history.first().history_change_reason, started.history.first().history_user) == (
        "started: a decision recorded",
        personas.chair,
    )


def test_the_chair_signs_the_next_day_after_the_close_sweep(
    client_for, personas, meeting, make_case, django_capture_on_commit_callbacks
):
    """A decision drafted at the meeting and signed after the sweep closed it: the case is not sent
    back to the queue (it was discussed), and the signature still marks it presented."""
    from meetings.models import AgendaItem
    from meetings.scheduling import agenda_place, meetings_close_ended

    decided, undiscussed = make_case(), make_case()
    for case in (decided, undiscussed):
        Case.objects.filter(pk=case.pk).update(status="ready")
        agenda_place(case=Case.objects.get(pk=case.pk), meeting=meeting, by=personas.coordinator)
    attend(client_for, personas, meeting)
    draft = _decide(client_for, personas, meeting, decided)
    next_week = board_meeting(personas, starts_at=timezone.now() + timedelta(days=7))
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_close_ended() == [meeting.pk]

    items = {item.case_id: item for item in AgendaItem.objects.filter(meeting=meeting)}
    assert (items[decided.pk].state, items[undiscussed.pk].state) == ("planned", "deferred")
    assert list(AgendaItem.objects.filter(meeting=next_week).values_list("case_id", flat=True)) == [undiscussed.pk]
    assert (
        "1 case(s) await the chair's signature"
        in Meeting.objects.get(pk=meeting.pk).history.first().history_change_reason
    )

    with django_capture_on_commit_callbacks(execute=True):
        signed = client_for(personas.chair).post(
            f"/api/v1/decisions/{draft['id']}/finalise/",
            {"password": TEST_PASSWORD},
            format="json",
            HTTP_IF_MATCH=_etag(draft["id"]),
        )
    assert signed.status_code == 200, signed.content
    assert AgendaItem.objects.get(pk=items[decided.pk].pk).state == "presented"
    assert Case.objects.get(pk=decided.pk).status == "discussed"
    assert not AgendaItem.objects.filter(case=decided, state="planned").exists()


def _finalised_decision(client_for, personas, meeting, make_case, capture):
    case = make_case()
    _schedule(case)
    draft = _decide(client_for, personas, meeting, case)
    with capture(execute=True):
        response = client_for(personas.chair).post(
            f"/api/v1/decisions/{draft['id']}/finalise/",
            {"password": TEST_PASSWORD},
            format="json",
            HTTP_IF_MATCH=_etag(draft["id"]),
        )
    assert response.status_code == 200, response.content
    return draft["id"]


def test_decision_feed_pages_without_misses_or_repeats(
    client_for, personas, meeting, make_case, django_capture_on_commit_callbacks
):
    attend(client_for, personas, meeting)
    since = (timezone.now() - timedelta(minutes=1)).isoformat()
    first_batch = [
        _finalised_decision(client_for, personas, meeting, make_case, django_capture_on_commit_callbacks)
        for _ in range(5)
    ]
    client = client_for(personas.service)
    seen: list[int] = []
    page = client.get("/api/v1/decisions/", {"updated_since": since, "page_size": 2}).json()
    seen += [d["id"] for d in page["results"]]
    # New decisions arrive while the client pages.
    later = [
        _finalised_decision(client_for, personas, meeting, make_case, django_capture_on_commit_callbacks)
        for _ in range(3)
    ]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [d["id"] for d in page["results"]]
    assert seen == first_batch + later
    assert len(seen) == len(set(seen))
    # An amendment re-enters the feed at its end.
    chair = client_for(personas.chair)
    chair.post(
        f"/api/v1/decisions/{first_batch[0]}/reopen/",
        {"reason": "typo"},
        format="json",
        HTTP_IF_MATCH=_etag(first_batch[0]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        chair.post(
            f"/api/v1/decisions/{first_batch[0]}/finalise/",
            {"password": TEST_PASSWORD},
            format="json",
            HTTP_IF_MATCH=_etag(first_batch[0]),
        )
    ids = [
        d["id"] for d in client.get("/api/v1/decisions/", {"updated_since": since, "page_size": 50}).json()["results"]
    ]
    assert ids[-1] == first_batch[0] and len(ids) == 8
    assert client_for(personas.outsider).get("/api/v1/decisions/").json()["results"] == []
    assert Decision.objects.count() == 8


def test_signing_asks_for_the_second_factor_when_the_chair_has_one(
    client_for, personas, meeting, scheduled_draft, django_capture_on_commit_callbacks
):
    from accounts.otp import recovery_codes_generate
    from tests.conftest import authenticator_code, enrol_authenticator

    case, draft = scheduled_draft
    device = enrol_authenticator(personas.chair)
    chair = client_for(personas.chair)
    url = f"/api/v1/decisions/{draft['id']}/finalise/"
    missing = chair.post(url, {"password": TEST_PASSWORD}, format="json", HTTP_IF_MATCH=_etag(draft["id"]))
    assert missing.status_code == 400 and "authenticator" in missing.json()["otp"][0]
    wrong = chair.post(
        url,
        {"password": TEST_PASSWORD, "otp": "000000" if authenticator_code(device) != "000000" else "111111"},
        format="json",
        HTTP_IF_MATCH=_etag(draft["id"]),
    )
    assert wrong.status_code == 400 and "otp" in wrong.json()
    with django_capture_on_commit_callbacks(execute=True):
        done = chair.post(
            url,
            {"password": TEST_PASSWORD, "otp": authenticator_code(device)},
            format="json",
            HTTP_IF_MATCH=_etag(draft["id"]),
        )
    assert done.status_code == 200, done.content
    # A recovery code signs too, once.
    chair.post(
        f"/api/v1/decisions/{draft['id']}/reopen/", {"reason": "typo"}, format="json", HTTP_IF_MATCH=_etag(draft["id"])
    )
    code = recovery_codes_generate(user=personas.chair, count=1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            chair.post(
                url, {"password": TEST_PASSWORD, "otp": code}, format="json", HTTP_IF_MATCH=_etag(draft["id"])
            ).status_code
            == 200
        )
    chair.post(
        f"/api/v1/decisions/{draft['id']}/reopen/", {"reason": "again"}, format="json", HTTP_IF_MATCH=_etag(draft["id"])
    )
    assert (
        chair.post(
            url, {"password": TEST_PASSWORD, "otp": code}, format="json", HTTP_IF_MATCH=_etag(draft["id"])
        ).status_code
        == 400
    )


def test_decision_writes_need_the_revision_read(client_for, personas, meeting, scheduled_draft):
    case, draft = scheduled_draft
    chair = client_for(personas.chair)
    body = {"case": case.pk, "plan": PLAN, "rationale": "second thoughts"}
    url = f"/api/v1/meetings/{meeting.pk}/decisions/"
    assert chair.post(url, body, format="json").status_code == 428
    stale = f'"decision-{draft["id"]}-v{draft["revision"] - 1}"'
    assert chair.post(url, body, format="json", HTTP_IF_MATCH=stale).status_code == 412
    assert (
        chair.post(f"/api/v1/decisions/{draft['id']}/finalise/", {"password": TEST_PASSWORD}, format="json").status_code
        == 428
    )
    saved = chair.post(url, body, format="json", HTTP_IF_MATCH=_etag(draft["id"]))
    assert saved.status_code == 200 and saved.json()["revision"] == draft["revision"] + 1


def test_an_ended_membership_hides_the_boards_cases_meetings_and_decisions(client_for, personas, meeting, make_case):
    case = make_case()
    attend(client_for, personas, meeting)
    decision = _decide(client_for, personas, meeting, case)  # a draft: the chair sees it
    client = client_for(personas.chair)
    reads = [f"/api/v1/cases/{case.pk}/", f"/api/v1/meetings/{meeting.pk}/", f"/api/v1/decisions/{decision['id']}/"]
    assert [client.get(path).status_code for path in reads] == [200, 200, 200]
    personas.chair.memberships.update(is_active=False)
    assert [client.get(path).status_code for path in reads] == [404, 404, 404]
    assert [
        client.get(path).json()["results"] for path in ("/api/v1/cases/", "/api/v1/meetings/", "/api/v1/decisions/")
    ] == [[], [], []]


def test_wrong_signature_passwords_count_toward_the_login_lockout(client_for, personas, scheduled_draft):
    # accounts.reauth: the signature box is checked the way a login is, so it cannot be used to
    # guess the chair's password without limit.
    _case, draft = scheduled_draft
    chair = client_for(personas.chair)

    def sign(password: str):  # type: ignore[no-untyped-def]
        return chair.post(f"/api/v1/decisions/{draft['id']}/finalise/", {"password": password}, format="json",
                          HTTP_IF_MATCH=_etag(draft["id"]))  # fmt: skip

    for _ in range(4):
        wrong = sign("nope")
        assert wrong.status_code == 400 and wrong.json() == {"password": [SIGNATURE_PASSWORD_MISMATCH]}
    locked = sign("nope")
    assert locked.status_code == 429 and locked["Retry-After"] == "900"
    # Locked out now: the right password does not sign, and the token endpoint refuses the chair too.
    assert sign(TEST_PASSWORD).status_code == 429
    assert Decision.objects.get(pk=draft["id"]).state == Decision.State.DRAFT
    token = APIClient().post("/api/v1/auth/token/", {"username": "chair", "password": TEST_PASSWORD}, format="json")
    assert token.status_code == 429


def test_coordinators_cancel_a_meeting_with_a_reason_and_the_etag_they_read(client_for, personas, meeting):
    url = f"/api/v1/meetings/{meeting.pk}/cancel/"
    coordinator = client_for(personas.coordinator)
    read = coordinator.get(f"/api/v1/meetings/{meeting.pk}/")
    assert read["ETag"] == f'"meeting-{meeting.pk}-v1"'
    assert (
        client_for(personas.surgeon)
        .post(url, {"reason": "Holiday"}, format="json", HTTP_IF_MATCH=read["ETag"])
        .status_code
        == 403
    )
    assert (
        client_for(personas.outsider)
        .post(url, {"reason": "Holiday"}, format="json", HTTP_IF_MATCH=read["ETag"])
        .status_code
        == 404
    )
    assert coordinator.post(url, {"reason": "Holiday"}, format="json").status_code == 428
    assert (
        coordinator.post(
            url, {"reason": "Holiday"}, format="json", HTTP_IF_MATCH=f'"meeting-{meeting.pk}-v9"'
        ).status_code
        == 412
    )
    assert coordinator.post(url, {}, format="json", HTTP_IF_MATCH=read["ETag"]).json() == {
        "reason": ["This field is required."]
    }
    done = coordinator.post(url, {"reason": "Public holiday"}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["status"], body["cancelled_reason"], body["version"]) == ("cancelled", "Public holiday", 2)
    assert done["ETag"] == f'"meeting-{meeting.pk}-v2"'
    # Subscribed calendars drop it: a cancelled event with a higher sequence number.
    ics = meeting_ics(Meeting.objects.get(pk=meeting.pk))
    assert "STATUS:CANCELLED" in ics and "SEQUENCE:2" in ics
