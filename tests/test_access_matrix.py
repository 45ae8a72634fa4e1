"""The access matrix (issue 9): every endpoint and page that reads or writes patient data, for every
role, asserted from one table (MATRIX).

Roles: the four disciplines, the chair, the coordinator, the read-only service account, a member
of another board (`outsider`) and anonymous. Expected: 2xx (or a redirect after a page write) for
those allowed; 403 for a board member whose role may not; 404 for the outsider on every object of
the other board (BOLA/IDOR: guessing ids reaches nothing), 200 with nothing in it on lists; 401 for
anonymous API calls, 302 to the login page for anonymous page requests.

Each request runs in a savepoint that is rolled back, so every role meets the same state and a
write by one role never changes what the next one sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

import pytest
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from cases.services import case_transition
from meetings import services as meeting_services
from meetings.models import AgendaItem, Decision, DecisionRecord, Meeting
from meetings.tests.factories import MeetingSeriesFactory
from tests.conftest import Personas, VerifiedAPIClient, VerifiedClient, fill_ids, quorum_meeting
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ROLES: Final = (
    "oncologist",
    "surgeon",
    "radiologist",
    "pain",
    "chair",
    "coordinator",
    "service",
    "outsider",
    "anonymous",
)
MEMBERS: Final = ROLES[:7]
PLAN: Final = {
    "radiation": {"modality": "cebrt", "dose_gy": 20.0, "fractions": 5, "timing": "within 2 weeks"},
    "surgery": [],
    "bone_targeted_agent": True,
}


def expect(default: int, outsider: int = 404, **by_role: int) -> dict[str, int]:
    """Expected status per role: `default` for every board member unless named, 404 for the
    outsider unless given, 401 for anonymous (pages: 302, set by the row)."""
    table = {role: default for role in MEMBERS}
    table.update(by_role)
    table["outsider"] = outsider
    return table


def only(role: str, allowed: int, *, service: int = 403, outsider: int = 404) -> dict[str, int]:
    return expect(403, outsider, service=service, **{role: allowed})


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    url: str
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    page: bool = False
    # A list of the board's data: the outsider gets 200 with none of it.
    lists: bool = False


REFERRAL: Final = {
    "patient": {"mrn": "MRN-9001", "name": "Iva Kralj", "birth_date": "1958-02-11", "sex": "female"},
    "referral_reason": "Neck pain, known lung cancer",
    "referred_primary": "lung_nsclc",
    "goals": "Stay at home",
}
S = "/api/v1/cases/{case}/sections"

MATRIX: Final[list[Row]] = [
    # --- cases (REST)
    Row("case list", "GET", "/api/v1/cases/", expect(200, outsider=200), lists=True),
    Row(
        "case create",
        "POST",
        "/api/v1/cases/",
        only("coordinator", 201, outsider=400),
        body={"board": "{board}", **REFERRAL},
    ),
    Row("case detail", "GET", "/api/v1/cases/{case}/", expect(200)),
    Row("section read", "GET", f"{S}/radiology/", expect(200)),
    Row(
        "section patch",
        "PATCH",
        f"{S}/radiology/",
        only("radiologist", 200),
        body={"vertebrae_involved": 2},
        headers={"HTTP_IF_MATCH": "{radiology_etag}"},
    ),
    Row(
        "section put",
        "PUT",
        f"{S}/pain/",
        only("pain", 200),
        body={"vas": 4, "lesions": [{"level": "T8", "sins_pain": "mechanical"}]},
        headers={"HTTP_IF_MATCH": "{pain_etag}"},
    ),
    Row(
        "section submit",
        "POST",
        f"{S}/oncology/submit/",
        only("oncologist", 200),
        headers={"HTTP_IF_MATCH": "{oncology_etag}"},
    ),
    Row(
        "section reopen",
        "POST",
        f"{S}/surgery/reopen/",
        only("surgeon", 200),
        body={"reason": "New neurology"},
        headers={"HTTP_IF_MATCH": "{surgery_etag}"},
    ),
    Row("scores", "GET", "/api/v1/cases/{case}/scores/", expect(200)),
    Row("readiness", "GET", "/api/v1/cases/{case}/readiness/", expect(200)),
    Row("recommendation", "GET", "/api/v1/cases/{case}/recommendation/", expect(200)),
    Row("history", "GET", "/api/v1/cases/{case}/history/", expect(200)),
    Row("emergency", "GET", "/api/v1/cases/{case}/emergency/", expect(200)),
    Row(
        "checklist ack",
        "POST",
        "/api/v1/cases/{case}/emergency/checklist/admit/",
        expect(201, service=403),
        body={"note": "Ward 4"},
    ),
    Row(
        "urgency",
        "POST",
        "/api/v1/cases/{case}/urgency/",
        only("chair", 200),
        body={"urgency": "emergency"},
        headers={"HTTP_IF_MATCH": "{case_etag}"},
    ),
    Row("fhir export", "GET", "/api/v1/cases/{decided_case}/fhir/", expect(200)),
    # --- meetings and decisions (REST)
    Row("meeting list", "GET", "/api/v1/meetings/", expect(200, outsider=200), lists=True),
    Row(
        "meeting create",
        "POST",
        "/api/v1/meetings/",
        expect(403, outsider=400, chair=201, coordinator=201),
        body={
            "board": "{board}",
            "title": "Ad hoc MSCC",
            "starts_at": "{tomorrow}",
            "duration_minutes": 30,
            "capacity_minutes": 30,
            "minutes_per_case": 15,
            "is_ad_hoc": True,
        },
    ),
    Row("meeting detail", "GET", "/api/v1/meetings/{meeting}/", expect(200)),
    Row("agenda", "GET", "/api/v1/meetings/{meeting}/agenda/", expect(200)),
    Row("attendance read", "GET", "/api/v1/meetings/{meeting}/attendance/", expect(200)),
    Row(
        "attendance write",
        "POST",
        "/api/v1/meetings/{meeting}/attendance/",
        expect(403, chair=200, coordinator=200),
        body={"user": "{pain_id}", "role": "pain_specialist", "present": False},
    ),
    Row(
        "decision draft",
        "POST",
        "/api/v1/meetings/{meeting}/decisions/",
        only("chair", 200),
        body={"case": "{draft_case}", "plan": PLAN, "rationale": "Radiotherapy first"},
        headers={"HTTP_IF_MATCH": "{draft_etag}"},
    ),
    Row("decision list", "GET", "/api/v1/decisions/", expect(200, outsider=200), lists=True),
    Row("decision detail", "GET", "/api/v1/decisions/{decision}/", expect(200)),
    # A draft is the chair's working copy: invisible to everyone else (as if it did not exist).
    Row("draft decision detail", "GET", "/api/v1/decisions/{draft}/", expect(404, chair=200)),
    # Finalising a draft: to anyone but the chair the draft does not exist.
    Row(
        "decision finalise",
        "POST",
        "/api/v1/decisions/{draft}/finalise/",
        expect(404, chair=200),
        body={"password": TEST_PASSWORD},
        headers={"HTTP_IF_MATCH": "{draft_etag}"},
    ),
    Row(
        "decision reopen",
        "POST",
        "/api/v1/decisions/{decision}/reopen/",
        only("chair", 200),
        body={"reason": "New MRI"},
        headers={"HTTP_IF_MATCH": "{decision_etag}"},
    ),
    Row("record list", "GET", "/api/v1/decisions/{decision}/records/", expect(200)),
    Row("record pdf", "GET", "/api/v1/decisions/{decision}/records/1/pdf", expect(200)),
    Row("record verify", "POST", "/api/v1/decisions/{decision}/records/1/verify", expect(200)),
    # Records of a draft: nothing is signed yet, and the draft itself is not visible.
    Row("draft record list", "GET", "/api/v1/decisions/{draft}/records/", expect(404, chair=200)),
    Row("audit log", "GET", "/api/v1/audit/", expect(403, outsider=403, chair=200)),
    # --- browser pages
    Row("cases page", "GET", "/cases/", expect(200, outsider=200), page=True, lists=True),
    Row("my work page", "GET", "/cases/my-work/", expect(200, outsider=200), page=True, lists=True),
    Row("referral page", "GET", "/cases/new/", only("coordinator", 200, outsider=403), page=True),
    Row("case page", "GET", "/cases/{case}/", expect(200), page=True),
    Row("section page", "GET", "/cases/{case}/sections/radiology/", expect(200), page=True),
    Row(
        "section page write",
        "POST",
        "/cases/{case}/sections/pain/",
        only("pain", 302),
        body={
            "version": "{pain_version}",
            "action": "save",
            "vas": "6",
            "lesions-TOTAL_FORMS": "0",
            "lesions-INITIAL_FORMS": "0",
        },
        page=True,
    ),
    Row("history page", "GET", "/cases/{case}/history/", expect(200), page=True),
    Row("meetings page", "GET", "/meetings/", expect(200, outsider=200), page=True, lists=True),
    Row("meeting page", "GET", "/meetings/{meeting}/", expect(200), page=True),
    Row("live start", "GET", "/meetings/{meeting}/live/", expect(302), page=True),
    Row("live page", "GET", "/meetings/{meeting}/live/1/", expect(200), page=True),
    Row("decision page", "GET", "/decisions/{decision}/", expect(200), page=True),
    Row("draft decision page", "GET", "/decisions/{draft}/", expect(404, chair=200), page=True),
    Row(
        "decision reopen page",
        "POST",
        "/decisions/{decision}/reopen/",
        only("chair", 302),
        body={"reason": "New MRI", "version": "{decision_version}"},
        page=True,
    ),
    Row("meeting calendar", "GET", "/meetings/{meeting}.ics", expect(200), page=True),
    Row("series calendar", "GET", "/meetings/series/{series}.ics", expect(200), page=True),
    Row("personal calendar", "GET", "/calendar/chair.ics", expect(404, outsider=404, chair=200), page=True),
    Row("audit page", "GET", "/audit/", expect(403, outsider=403, chair=200), page=True),
]


@dataclass
class World:
    """The main board's data, and the outsider's own board with its own case (whose id they know)."""

    ids: dict[str, str]
    patient_names: list[str]


def _schedule(case: Case) -> Case:
    for target in ("in_workup", "ready", "scheduled"):
        case_transition(case=case, target=target, reason="test set-up")
    return case


@pytest.fixture
def world(personas: Personas, make_case, section_api, django_capture_on_commit_callbacks) -> World:  # type: ignore[no-untyped-def]
    p = personas
    # An open MSCC emergency (ESCC 3 and a motor deficit) with every section filled in; surgery submitted.
    case = make_case(patient={"mrn": "MRN-0042", "name": "Ana Novak", "birth_date": "1961-04-09", "sex": "female"})
    now = timezone.now()
    section_api(p.radiologist, case.pk).patch("radiology", {
        "lesions": [{"level": "T8", "is_index": True, "escc_grade": "3", "bone_lesion": "lytic", "alignment": "normal",
                     "collapse": "under_50", "posterolateral": "unilateral"}],
        "vertebrae_involved": 1, "extraspinal_bone_metastases": 0, "visceral_organs": [], "brain_metastases": False,
        "whole_spine_imaging_at": (now - timedelta(days=1)).isoformat(),
    })  # fmt: skip
    section_api(p.oncologist, case.pk).patch("oncology", {
        "primary": "breast", "histology_detail": "Invasive ductal carcinoma", "primary_diagnosis_date": "2019-03-01",
        "kps": 70, "expected_survival_months": 24,
    })  # fmt: skip
    section_api(p.surgeon, case.pk).patch(
        "surgery",
        {
            "frankel": "D",
            "motor_deficit": True,
            "motor_deficit_onset": "2026-01-01",
            "myelopathy": False,
            "fit_for_surgery": True,
        },
    )
    assert section_api(p.surgeon, case.pk).submit("surgery").status_code == 200
    section_api(p.pain, case.pk).patch("pain", {"vas": 7, "lesions": [{"level": "T8", "sins_pain": "mechanical"}]})

    meeting = quorum_meeting(p, starts_at=now + timedelta(hours=1))
    # A finalised decision with its rendered record, and a draft on another case.
    decided = _schedule(
        make_case(patient={"mrn": "MRN-0043", "name": "Bor Zupan", "birth_date": "1950-05-05", "sex": "male"})
    )
    decision = meeting_services.decision_save(
        case=decided,
        meeting=meeting,
        by=p.chair,
        fields={"plan": PLAN, "rationale": "Radiosensitive tumour", "follows_recommendation": True},
    )
    with django_capture_on_commit_callbacks(execute=True):
        meeting_services.decision_finalise(decision=decision, by=p.chair, password=TEST_PASSWORD, expected_version=1)
    assert DecisionRecord.objects.get(decision=decision).state == DecisionRecord.State.READY
    decision.refresh_from_db()
    draft_case = _schedule(
        make_case(patient={"mrn": "MRN-0044", "name": "Cvetka Horvat", "birth_date": "1949-09-09", "sex": "female"})
    )
    draft = meeting_services.decision_save(
        case=draft_case,
        meeting=meeting,
        by=p.chair,
        fields={"plan": PLAN, "rationale": "Draft", "follows_recommendation": True},
    )
    AgendaItem.objects.create(meeting=meeting, case=draft_case, order=1, allotted_minutes=10, placed_at=now)
    series = MeetingSeriesFactory(board=p.board)

    # The outsider's own board has a case too: its id is known to them, the others are guesses.
    make_case(
        board=p.other_board,
        created_by=p.outsider,
        patient={"mrn": "MRN-7001", "name": "Zala Outside", "birth_date": "1970-01-01", "sex": "female"},
    )

    sections = {
        name: section_api(p.oncologist, case.pk).get(name) for name in ("radiology", "surgery", "oncology", "pain")
    }
    ids = {
        "board": p.board.pk,
        "case": case.pk,
        "decided_case": decided.pk,
        "draft_case": draft_case.pk,
        "meeting": meeting.pk,
        "decision": decision.pk,
        "draft": draft.pk,
        "series": series.pk,
        "pain_id": p.pain.pk,
        "decision_version": decision.version,
        "case_etag": section_api(p.oncologist, case.pk).client.get(f"/api/v1/cases/{case.pk}/")["ETag"],
        "pain_version": sections["pain"].json()["version"],
        "tomorrow": (now + timedelta(days=1)).isoformat(),
        **{f"{name}_etag": response["ETag"] for name, response in sections.items()},
    }
    return World({k: str(v) for k, v in ids.items()}, ["Ana Novak", "Bor Zupan", "Cvetka Horvat"])


def _client(role: str, personas: Personas, *, page: bool) -> Any:
    client = VerifiedClient() if page else VerifiedAPIClient()
    if role == "anonymous":
        return client
    user = getattr(personas, role)
    if page:
        client.force_login(user)
    else:
        client.force_authenticate(user)
    return client


def _request(row: Row, role: str, personas: Personas, ids: dict[str, str]) -> Any:
    client = _client(role, personas, page=row.page)
    url = row.url.format(**ids)
    # Decision ETags move with every write (earlier rows change them): read them as a client would, now.
    live = {**ids, **{f"{name}_etag": Decision.objects.get(pk=ids[name]).etag for name in ("draft", "decision")}}
    live["decision_version"] = str(Decision.objects.get(pk=ids["decision"]).revision)  # the page's hidden field
    headers = {k: v.format(**live) for k, v in row.headers.items()}
    body = fill_ids(row.body, live) if row.body is not None else None
    method = getattr(client, row.method.lower())
    if row.page:
        return method(url, body, **headers) if body is not None else method(url, **headers)
    return method(url, body, format="json", **headers)


def _expected(row: Row, role: str) -> int:
    if role == "anonymous":
        return 302 if row.page else 401
    return row.expected[role]


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role: str, personas: Personas, world: World) -> None:
    mismatches = []
    for row in MATRIX:
        with transaction.atomic():
            response = _request(row, role, personas, world.ids)
            transaction.set_rollback(True)
        if response.status_code != _expected(row, role):
            mismatches.append(
                f"{row.name}: {row.method} {row.url} -> {response.status_code}, "
                f"expected {_expected(row, role)}: {response.content[:200]!r}"
            )
        if role == "anonymous" and row.page:
            assert response["Location"].startswith("/accounts/login/"), row.name
    assert not mismatches, "\n".join(mismatches)


def test_the_outsider_lists_nothing_of_the_other_board(personas: Personas, world: World) -> None:
    for row in (r for r in MATRIX if r.lists):
        response = _request(row, "outsider", personas, world.ids)
        text = response.content.decode()
        assert response.status_code == 200, row.name
        assert not any(name in text for name in world.patient_names), row.name


def test_the_outsider_reaches_no_object_of_the_other_board_by_guessing_ids(personas: Personas, world: World) -> None:
    """Every id near the board's own ids, on every object endpoint: 404, and the outsider's own case
    stays reachable (the 404s are about visibility, not broken routes)."""
    client = VerifiedAPIClient()
    client.force_authenticate(personas.outsider)
    own = Case.objects.get(board=personas.other_board)
    assert client.get(f"/api/v1/cases/{own.pk}/").status_code == 200
    others = Case.objects.exclude(board=personas.other_board).values_list("pk", flat=True)
    decisions = Decision.objects.values_list("pk", flat=True)
    meetings = Meeting.objects.values_list("pk", flat=True)
    for case_id in others:
        for suffix in ("", "sections/radiology/", "scores/", "recommendation/", "history/", "emergency/", "fhir/"):
            assert client.get(f"/api/v1/cases/{case_id}/{suffix}").status_code == 404, (case_id, suffix)
    for decision_id in decisions:
        for suffix in ("", "records/", "records/1/pdf"):
            assert client.get(f"/api/v1/decisions/{decision_id}/{suffix}").status_code == 404, (decision_id, suffix)
        assert client.post(f"/api/v1/decisions/{decision_id}/records/1/verify").status_code == 404
    for meeting_id in meetings:
        assert client.get(f"/api/v1/meetings/{meeting_id}/agenda/").status_code == 404
