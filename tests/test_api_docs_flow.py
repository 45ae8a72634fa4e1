"""docs/api.md, step by step, as an outside client does it: plain `requests` against a live server.

The board's side (cases, meeting, signatures) is set up in-process; everything the client does goes
over HTTP. Tasks run in-process on commit (no REDIS_URL), so each record is rendered by the time the
chair's finalisation has answered.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from cases.models import Case
from meetings import services as meeting_services
from meetings.models import Meeting
from tests.conftest import quorum_meeting
from tests.factories import TEST_PASSWORD

TIMEOUT = 30


def _decided_case(personas, make_case, section_api, meeting: Meeting, n: int) -> tuple[Case, int]:  # type: ignore[no-untyped-def]
    case = make_case(referred_primary="breast")
    section_api(personas.radiologist, case.pk).patch(
        "radiology",
        {
            "lesions": [
                {
                    "level": "T4",
                    "is_index": True,
                    "escc_grade": "1a",
                    "bone_lesion": "mixed",
                    "alignment": "normal",
                    "collapse": "none",
                    "posterolateral": "none",
                }
            ],
            "whole_spine_imaging_at": (timezone.now() - timedelta(days=1)).isoformat(),
        },
    )
    section_api(personas.oncologist, case.pk).patch(
        "oncology", {"primary": "breast", "kps": 80, "expected_survival_months": 24}
    )
    Case.objects.filter(pk=case.pk).update(status="scheduled")
    decision = meeting_services.decision_save(
        case=case,
        meeting=meeting,
        by=personas.chair,
        fields={
            "plan": {
                "radiation": {"modality": "cebrt", "dose_gy": 20.0, "fractions": 5, "timing": ""},
                "surgery": [],
                "bone_targeted_agent": True,
            },
            "rationale": f"Decision {n}: radiosensitive tumour, stable spine",
            "follows_recommendation": True,
        },
    )
    meeting_services.decision_finalise(decision=decision, by=personas.chair, password=TEST_PASSWORD, expected_version=1)
    return case, decision.pk


@pytest.mark.django_db(transaction=True)
def test_a_client_follows_the_api_guide(live_server, personas, make_case, section_api) -> None:  # type: ignore[no-untyped-def]
    since = (timezone.now() - timedelta(minutes=1)).isoformat()
    meeting = quorum_meeting(personas)
    decided = [_decided_case(personas, make_case, section_api, meeting, n) for n in range(3)]
    base = live_server.url

    # 1. Get a token.
    response = requests.post(
        f"{base}/api/v1/auth/token/", json={"username": "service", "password": TEST_PASSWORD}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    session = requests.Session()
    session.headers["Authorization"] = f"Token {response.json()['token']}"
    assert (
        requests.post(
            f"{base}/api/v1/auth/token/", json={"username": "service", "password": "nope"}, timeout=TIMEOUT
        ).status_code
        == 400
    )
    assert requests.get(f"{base}/api/v1/decisions/", timeout=TIMEOUT).status_code == 401

    # 2. Pull new decisions, following `next` until it is null.
    seen: list[dict[str, Any]] = []
    url: str | None = f"{base}/api/v1/decisions/"
    params: dict[str, Any] | None = {"updated_since": since, "page_size": 2}
    while url:
        page = session.get(url, params=params, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += body["results"]
        url, params = body["next"], None
    assert [d["id"] for d in seen] == [decision_id for _, decision_id in decided]
    assert all(d["state"] == "finalised" and d["signed"]["follows_recommendation"] is True for d in seen)
    # Polling again from the last decision's `published_at` repeats only that one.
    again = session.get(
        f"{base}/api/v1/decisions/", params={"updated_since": seen[-1]["published_at"]}, timeout=TIMEOUT
    )
    assert [(d["id"], d["version"]) for d in again.json()["results"]] == [(seen[-1]["id"], seen[-1]["version"])]

    case, decision_id = decided[0]
    # 3. List the decision's records.
    records = session.get(f"{base}/api/v1/decisions/{decision_id}/records/", timeout=TIMEOUT)
    assert records.status_code == 200, records.text
    [record] = records.json()
    assert (record["version"], record["state"]) == (1, "ready")

    # 4. Download the record and check its hash; the server's verification agrees.
    pdf = session.get(f"{base}/api/v1/decisions/{decision_id}/records/1/pdf", timeout=TIMEOUT)
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert hashlib.sha256(pdf.content).hexdigest() == pdf.headers["X-Record-SHA256"] == record["sha256"]
    verify = session.post(f"{base}/api/v1/decisions/{decision_id}/records/1/verify", timeout=TIMEOUT)
    assert verify.json() == {"ok": True, "sha256": record["sha256"]}

    # 5. Fetch the case as FHIR; its DocumentReference links to the same PDF.
    fhir = session.get(
        f"{base}/api/v1/cases/{case.pk}/fhir/", headers={"Accept": "application/fhir+json"}, timeout=TIMEOUT
    )
    assert fhir.status_code == 200, fhir.text
    assert fhir.headers["Content-Type"] == "application/fhir+json"
    bundle = fhir.json()
    assert bundle["resourceType"] == "Bundle"
    [document] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert {"system": "urn:tumourboard:sha256", "value": record["sha256"]} in document["identifier"]
    linked = session.get(document["content"][0]["attachment"]["url"], timeout=TIMEOUT)
    assert linked.status_code == 200 and linked.content == pdf.content
