"""Bad input (issue 9): every write endpoint answers malformed JSON, a list instead of an object,
wrong types, unknown codes and impossible dates with 400 naming the field, oversize bodies with 413,
never 500; free text with HTML is shown escaped on every page and as plain text in the PDF; and a
hypothesis fuzz of section PATCH bodies finds no 5xx. (Schema-driven fuzzing of every operation
is tests/test_api_schema.py, with schemathesis.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from typing import Any, Final

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from rest_framework.test import APIClient

from cases.api.v1.serializers import SECTION_SERIALIZERS
from cases.models import Case
from cases.services import case_transition
from meetings import services as meeting_services
from meetings.models import AgendaItem, DecisionRecord
from tests.conftest import Personas, VerifiedClient, fill_ids, quorum_meeting
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

SCRIPT: Final = "<script>alert(1)</script>"
ESCAPED: Final = "&lt;script&gt;alert(1)&lt;/script&gt;"
PLAN: Final = {
    "radiation": {"modality": "cebrt", "dose_gy": 20.0, "fractions": 5, "timing": "within 2 weeks"},
    "surgery": [],
    "bone_targeted_agent": True,
}
ONE_MIB: Final = 1024 * 1024


@dataclass(frozen=True)
class Endpoint:
    """A write endpoint, the role allowed to call it, and bodies it must refuse with 400 naming a field."""

    name: str
    method: str
    url: str
    role: str
    etag_from: str | None = None  # GET this URL for the If-Match header
    bad: list[tuple[dict[str, Any], str]] = field(default_factory=list)


REFERRAL: Final = {
    "board": "{board}",
    "patient": {"mrn": "MRN-9001", "name": "Iva Kralj", "birth_date": "1958-02-11", "sex": "female"},
    "referral_reason": "Neck pain",
    "referred_primary": "lung_nsclc",
}
SECTION: Final = "/api/v1/cases/{case}/sections"

# Every endpoint that reads a body (section submit and record verify read none).
ENDPOINTS: Final[list[Endpoint]] = [
    Endpoint(
        "case create",
        "post",
        "/api/v1/cases/",
        "coordinator",
        bad=[
            ({**REFERRAL, "referred_primary": "martian"}, "referred_primary"),
            ({**REFERRAL, "patient": {**REFERRAL["patient"], "birth_date": "2026-02-30"}}, "patient"),
            ({**REFERRAL, "patient": {**REFERRAL["patient"], "sex": "alien"}}, "patient"),
            ({**REFERRAL, "patient": "MRN-9001"}, "patient"),
            ({**REFERRAL, "board": "Spine MDT"}, "board"),
            ({**REFERRAL, "referral_reason": ["a", "b"]}, "referral_reason"),
        ],
    ),
    Endpoint(
        "section patch",
        "patch",
        f"{SECTION}/radiology/",
        "radiologist",
        etag_from=f"{SECTION}/radiology/",
        bad=[
            ({"vertebrae_involved": "many"}, "vertebrae_involved"),
            ({"whole_spine_imaging_at": "2026-02-30T10:00:00+01:00"}, "whole_spine_imaging_at"),
            ({"lesions": [{"level": "T13"}]}, "lesions"),
            ({"lesions": [{"level": "T4", "escc_grade": "4"}]}, "lesions"),
            ({"lesions": {"level": "T4"}}, "lesions"),
            ({"brain_metastases": "maybe"}, "brain_metastases"),
        ],
    ),
    Endpoint(
        "section put",
        "put",
        f"{SECTION}/oncology/",
        "oncologist",
        etag_from=f"{SECTION}/oncology/",
        bad=[
            ({"primary": "martian"}, "primary"),
            ({"kps": 95}, "kps"),
            ({"kps": "ninety"}, "kps"),
            ({"primary_diagnosis_date": "2019-13-01"}, "primary_diagnosis_date"),
        ],
    ),
    Endpoint(
        "section reopen",
        "post",
        f"{SECTION}/surgery/reopen/",
        "surgeon",
        etag_from=f"{SECTION}/surgery/",
        bad=[
            ({"reason": {"why": "x"}}, "reason"),
            ({}, "reason"),
        ],
    ),
    Endpoint(
        "checklist ack",
        "post",
        "/api/v1/cases/{case}/emergency/checklist/admit/",
        "chair",
        bad=[
            ({"note": ["x"]}, "note"),
            ({"note": "x", "when": "now"}, "when"),
        ],
    ),
    Endpoint(
        "urgency",
        "post",
        "/api/v1/cases/{case}/urgency/",
        "chair",
        etag_from="/api/v1/cases/{case}/",
        bad=[
            ({"urgency": "whenever"}, "urgency"),
            ({"urgency": 3}, "urgency"),
        ],
    ),
    Endpoint(
        "meeting create",
        "post",
        "/api/v1/meetings/",
        "coordinator",
        bad=[
            (
                {
                    "board": "{board}",
                    "title": "x",
                    "starts_at": "2026-02-30T10:00:00+01:00",
                    "duration_minutes": 30,
                    "capacity_minutes": 30,
                    "minutes_per_case": 10,
                },
                "starts_at",
            ),
            (
                {
                    "board": "{board}",
                    "title": "x",
                    "starts_at": "{tomorrow}",
                    "duration_minutes": "long",
                    "capacity_minutes": 30,
                    "minutes_per_case": 10,
                },
                "duration_minutes",
            ),
        ],
    ),
    Endpoint(
        "attendance",
        "post",
        "/api/v1/meetings/{meeting}/attendance/",
        "coordinator",
        bad=[
            ({"user": "{pain_id}", "role": "janitor"}, "role"),
            ({"user": "pain", "role": "pain_specialist"}, "user"),
            ({"user": "{pain_id}", "role": "pain_specialist", "present": "yes"}, "present"),
        ],
    ),
    Endpoint(
        "decision draft",
        "post",
        "/api/v1/meetings/{meeting}/decisions/",
        "chair",
        bad=[
            ({"case": "{case}", "plan": {"radiation": {"modality": "proton"}}}, "plan"),
            ({"case": "{case}", "plan": PLAN, "follow_up_date": "2026-02-30"}, "follow_up_date"),
            ({"case": "{case}", "plan": PLAN, "follows_recommendation": "yes"}, "follows_recommendation"),
            ({"case": "{case}", "plan": "radiotherapy"}, "plan"),
        ],
    ),
    Endpoint(
        "decision finalise",
        "post",
        "/api/v1/decisions/{draft}/finalise/",
        "chair",
        bad=[
            ({"password": ["x"]}, "password"),
            ({}, "password"),
        ],
    ),
    Endpoint(
        "decision reopen",
        "post",
        "/api/v1/decisions/{decision}/reopen/",
        "chair",
        bad=[
            ({"reason": ""}, "reason"),
            ({"reason": 42.5, "extra": True}, "extra"),
        ],
    ),
    Endpoint(
        "calculator",
        "post",
        "/api/v1/calculators/sins/",
        "surgeon",
        bad=[
            ({"location": "junctional", "pain": "sometimes"}, "pain"),
        ],
    ),
    Endpoint(
        "token",
        "post",
        "/api/v1/auth/token/",
        "anonymous",
        bad=[
            ({"username": ["surgeon"], "password": "x"}, "username"),
        ],
    ),
]


def _schedule(case: Case) -> Case:
    for target in ("in_workup", "ready", "scheduled"):
        case_transition(case=case, target=target, reason="test set-up")
    return case


@pytest.fixture
def ids(personas: Personas, make_case, section_api, django_capture_on_commit_callbacks) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An open emergency case (surgery submitted), a meeting with quorum, a finalised and a draft decision."""
    p = personas
    case = make_case()
    section_api(p.radiologist, case.pk).patch("radiology", {"lesions": [{"level": "T8", "escc_grade": "3"}]})
    section_api(p.surgeon, case.pk).patch("surgery", {"motor_deficit": True})
    section_api(p.surgeon, case.pk).submit("surgery")
    meeting = quorum_meeting(p, starts_at=timezone.now() + timedelta(hours=1))
    decided = _schedule(make_case())
    decision = meeting_services.decision_save(
        case=decided,
        meeting=meeting,
        by=p.chair,
        fields={"plan": PLAN, "rationale": "x", "follows_recommendation": True},
    )
    meeting_services.decision_finalise(decision=decision, by=p.chair, password=TEST_PASSWORD, expected_version=1)
    draft = meeting_services.decision_save(
        case=_schedule(make_case()),
        meeting=meeting,
        by=p.chair,
        fields={"plan": PLAN, "rationale": "x", "follows_recommendation": True},
    )
    return {k: str(v) for k, v in {
        "board": p.board.pk, "case": case.pk, "meeting": meeting.pk, "decision": decision.pk, "draft": draft.pk,
        "pain_id": p.pain.pk, "tomorrow": (timezone.now() + timedelta(days=1)).isoformat(),
    }.items()}  # fmt: skip


def _send(endpoint: Endpoint, personas: Personas, ids: dict[str, str], raw: bytes) -> Any:
    client = APIClient()
    if endpoint.role != "anonymous":
        client.force_authenticate(getattr(personas, endpoint.role))
    headers = {}
    if endpoint.etag_from:
        headers["HTTP_IF_MATCH"] = client.get(endpoint.etag_from.format(**ids))["ETag"]
    return client.generic(endpoint.method.upper(), endpoint.url.format(**ids), raw, content_type="application/json",
                          **headers)  # fmt: skip


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_malformed_json_is_400_with_the_parse_error(
    endpoint: Endpoint, personas: Personas, ids: dict[str, str]
) -> None:
    response = _send(endpoint, personas, ids, b'{"reason": "x",')
    assert response.status_code == 400, response.content
    # Contract "Conventions": a 400 carries field-level messages; a body that is not JSON is a
    # whole-object problem.
    body = response.json()
    assert list(body) == ["non_field_errors"]
    assert body["non_field_errors"][0].startswith("JSON parse error")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_list_instead_of_an_object_is_400(endpoint: Endpoint, personas: Personas, ids: dict[str, str]) -> None:
    response = _send(endpoint, personas, ids, b'[{"reason": "x"}]')
    assert response.status_code == 400, response.content
    assert response.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_an_oversize_body_is_refused_without_a_server_error(
    endpoint: Endpoint, personas: Personas, ids: dict[str, str]
) -> None:
    body = b'{"reason": "' + b"x" * (ONE_MIB + 1) + b'"}'
    response = _send(endpoint, personas, ids, body)
    assert response.status_code == 413, response.content
    assert response.json() == {"detail": "The request body is larger than the 1024 KiB this API accepts."}


@pytest.mark.parametrize(
    ("endpoint", "body", "field_name"),
    [(e, body, name) for e in ENDPOINTS for body, name in e.bad],
    ids=[f"{e.name}-{name}-{n}" for e in ENDPOINTS for n, (_, name) in enumerate(e.bad)],
)
def test_wrong_types_unknown_codes_and_impossible_dates_are_400_naming_the_field(
    endpoint: Endpoint, body: dict[str, Any], field_name: str, personas: Personas, ids: dict[str, str]
) -> None:
    response = _send(endpoint, personas, ids, json.dumps(fill_ids(body, ids)).encode())
    assert response.status_code == 400, response.content
    assert field_name in response.json(), response.json()


# --- HTML in free text


def _pdf_text(record: DecisionRecord) -> str:
    with record.pdf.storage.open(record.pdf.name, "rb") as f:
        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(f.read())).pages)


def test_html_in_free_text_is_escaped_on_every_page_and_plain_text_in_the_pdf(
    personas: Personas, client_for, django_capture_on_commit_callbacks
) -> None:
    created = client_for(personas.coordinator).post("/api/v1/cases/", {
        "board": personas.board.pk, "referred_primary": "breast",
        "patient": {"mrn": f"MRN-{SCRIPT}", "name": f"Ana {SCRIPT}", "birth_date": "1961-04-09", "sex": "female"},
        "referral_reason": f"Back pain {SCRIPT}", "goals": f"Keep walking {SCRIPT}",
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    case = _schedule(Case.objects.get(pk=created.json()["id"]))
    meeting = quorum_meeting(personas, title=f"Weekly {SCRIPT}")
    AgendaItem.objects.create(meeting=meeting, case=case, order=1, allotted_minutes=10, placed_at=timezone.now())
    decision = meeting_services.decision_save(
        case=case,
        meeting=meeting,
        by=personas.chair,
        fields={
            "plan": {**PLAN, "radiation": {**PLAN["radiation"], "timing": f"soon {SCRIPT}"}},
            "rationale": f"Because {SCRIPT}",
            "follows_recommendation": False,
            "deviation_reason": f"Prefers {SCRIPT}",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        record = meeting_services.decision_finalise(decision=decision, by=personas.chair, password=TEST_PASSWORD,
                                                    expected_version=1)  # fmt: skip
    record.refresh_from_db()

    browser = VerifiedClient()
    browser.force_login(personas.chair)
    for url in (
        f"/cases/{case.pk}/",
        "/cases/",
        f"/cases/{case.pk}/history/",
        f"/meetings/{meeting.pk}/",
        f"/meetings/{meeting.pk}/live/1/",
        f"/decisions/{decision.pk}/",
        "/meetings/",
    ):
        html = browser.get(url).content.decode()
        assert SCRIPT not in html, url
        assert ESCAPED in html, url
    text = _pdf_text(record)
    assert f"Because {SCRIPT}" in text and f"Ana {SCRIPT}" in text


def test_anonymous_html_in_the_login_form_is_escaped(db: None) -> None:
    response = Client().post("/accounts/login/", {"username": SCRIPT, "password": "x"})
    assert SCRIPT not in response.content.decode()


# --- fuzzing section writes

JSON_VALUES: Final = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)


def _section_fields(discipline: str) -> list[str]:
    return [name for name, f in SECTION_SERIALIZERS[discipline]().fields.items() if not f.read_only]


@pytest.mark.parametrize("discipline", sorted(SECTION_SERIALIZERS))
def test_fuzzed_section_patches_never_cause_a_server_error(discipline: str, personas: Personas, make_case) -> None:
    case = make_case()
    owner = {
        "radiology": personas.radiologist,
        "surgery": personas.surgeon,
        "oncology": personas.oncologist,
        "pain": personas.pain,
    }[discipline]
    fields = _section_fields(discipline)
    url = f"/api/v1/cases/{case.pk}/sections/{discipline}/"
    client = APIClient()
    client.force_authenticate(owner)
    lesion = st.fixed_dictionaries(
        {"level": st.sampled_from(["T4", "L1", "C1", "T13", ""]) | JSON_VALUES},
        optional={
            name: JSON_VALUES for name in ("is_index", "escc_grade", "bone_lesion", "mechanical_judgement", "sins_pain")
        },
    )

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(
        body=st.dictionaries(st.sampled_from(fields), JSON_VALUES, max_size=5)
        | st.fixed_dictionaries({"lesions": st.lists(lesion, max_size=3)})
    )
    def patch(body: dict[str, Any]) -> None:
        etag = client.get(url)["ETag"]
        response = client.patch(url, body, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code < 500, (body, response.content[:300])

    patch()
