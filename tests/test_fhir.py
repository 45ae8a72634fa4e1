"""FHIR R4 export of a case's board decision (issue 8): `GET /api/v1/cases/<id>/fhir/`.

Every resource is validated with the R4B models of `fhir.resources` (R4's release line; its default
models are R5 and would accept R5-only elements), and checked for R5-only elements by name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from cases.models import Case
from meetings.models import DecisionRecord
from tests.conftest import QUORUM_ATTENDANCE, board_meeting
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PLAN = {
    "radiation": {"modality": "cebrt", "dose_gy": 20, "fractions": 5, "timing": "start within 2 weeks"},
    "surgery": [{"procedure": "cement_augmentation", "level": "T4", "timing": "after radiotherapy"}],
    "steroids": {"dexamethasone": True, "regimen": "8 mg daily, taper over 2 weeks"},
    "bone_targeted_agent": True,
    "work_up": ["Restaging CT chest-abdomen-pelvis"],
}

# Elements R5 added to the resource types the export uses (R4 -> R5 change lists); none may appear.
R5_ONLY = {
    "Bundle": {"issues"},
    "Patient": set(),
    "Condition": {"participant"},
    "Observation": {"triggeredBy", "instantiatesCanonical", "instantiatesReference", "bodyStructure"},
    "CarePlan": {"custodian"},
    "DocumentReference": {
        "version",
        "basedOn",
        "modality",
        "event",
        "bodySite",
        "facilityType",
        "practiceSetting",
        "attester",
    },
    "OperationOutcome": set(),
}
R5_ONLY_ACTIVITY = {"performedActivity", "plannedActivityReference"}
R4_ATTACHMENT = {"contentType", "language", "data", "url", "size", "hash", "title", "creation"}


def _worked_case(personas, make_case, section_api):
    """Spec 7 case 1 in short: solitary lytic breast metastasis at T4, Bilsky 1b, KPS 90."""
    case = make_case(patient={"mrn": "MRN-0042", "name": "Ana Novak", "birth_date": "1961-04-09", "sex": "female"})
    now = timezone.now()
    section_api(personas.radiologist, case.pk).patch(
        "radiology",
        {
            "lesions": [
                {
                    "level": "T4",
                    "is_index": True,
                    "escc_grade": "1b",
                    "bone_lesion": "lytic",
                    "alignment": "normal",
                    "collapse": "under_50",
                    "posterolateral": "unilateral",
                }
            ],
            "vertebrae_involved": 1,
            "extraspinal_bone_metastases": 0,
            "visceral_organs": [],
            "brain_metastases": False,
            "whole_spine_imaging_at": (now - timedelta(days=2)).isoformat(),
        },
    )
    section_api(personas.oncologist, case.pk).patch(
        "oncology",
        {
            "primary": "breast",
            "histology_detail": "Invasive ductal carcinoma",
            "primary_diagnosis_date": "2019-03-01",
            "kps": 90,
            "expected_survival_months": 36,
        },
    )
    section_api(personas.surgeon, case.pk).patch(
        "surgery", {"frankel": "E", "motor_deficit": False, "myelopathy": False, "fit_for_surgery": True}
    )
    section_api(personas.pain, case.pk).patch(
        "pain", {"vas": 3, "lesions": [{"level": "T4", "sins_pain": "mechanical"}]}
    )
    return case


def _finalise(client_for, personas, case, capture) -> int:
    """Quorum, draft and signature through the API; the record renders on commit (tasks in-process)."""
    meeting = board_meeting(personas)
    Case.objects.filter(pk=case.pk).update(status="scheduled")
    coordinator = client_for(personas.coordinator)
    for persona, role in QUORUM_ATTENDANCE:
        user = getattr(personas, persona)
        assert (
            coordinator.post(
                f"/api/v1/meetings/{meeting.pk}/attendance/", {"user": user.pk, "role": role}, format="json"
            ).status_code
            == 200
        )
    chair = client_for(personas.chair)
    draft = chair.post(
        f"/api/v1/meetings/{meeting.pk}/decisions/",
        {
            "case": case.pk,
            "plan": PLAN,
            "rationale": "Radiosensitive tumour; stable enough for radiotherapy first",
            "follows_recommendation": False,
            "deviation_reason": "Patient prefers to defer surgery",
            "follow_up_date": (timezone.localdate() + timedelta(days=42)).isoformat(),
        },
        format="json",
    )
    assert draft.status_code == 200, draft.content
    with capture(execute=True):
        done = chair.post(
            f"/api/v1/decisions/{draft.json()['id']}/finalise/",
            {"password": TEST_PASSWORD},
            format="json",
            HTTP_IF_MATCH=draft["ETag"],
        )
    assert done.status_code == 200, done.content
    return int(draft.json()["id"])


def _export(client, case) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case.pk}/fhir/")
    assert response.status_code == 200, response.content
    return response.json()


def _resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def _by_code(bundle: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [o for o in _resources(bundle, "Observation") if any(c["code"] == code for c in o["code"].get("coding", []))]


def _assert_valid_r4(bundle: dict[str, Any]) -> None:
    Bundle.model_validate(bundle)
    for resource in _resources(bundle):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert not R5_ONLY["Bundle"] & bundle.keys()
    for resource in _resources(bundle):
        assert not R5_ONLY[resource["resourceType"]] & resource.keys(), resource["resourceType"]
        for activity in resource.get("activity", []):
            assert not R5_ONLY_ACTIVITY & activity.keys()
            assert "detail" in activity  # R4's shape (R5 removed `detail`)
        for content in resource.get("content", []):
            assert content["attachment"].keys() <= R4_ATTACHMENT
        assert not isinstance(resource.get("context"), list)  # R5's DocumentReference.context is a list


@pytest.fixture
def decided(personas, make_case, section_api, client_for, django_capture_on_commit_callbacks):
    case = _worked_case(personas, make_case, section_api)
    decision_id = _finalise(client_for, personas, case, django_capture_on_commit_callbacks)
    return case, decision_id


def test_every_resource_is_valid_r4(decided, client_for, personas):
    case, _ = decided
    bundle = _export(client_for(personas.service), case)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    kinds = [r["resourceType"] for r in _resources(bundle)]
    assert kinds[:3] == ["Patient", "Condition", "Condition"]
    assert {"Observation", "CarePlan", "DocumentReference"} <= set(kinds)
    _assert_valid_r4(bundle)
    # Every reference resolves inside the bundle.
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    refs: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            refs.extend([node["reference"]] if "reference" in node else [])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(bundle)
    assert refs and set(refs) <= full_urls


def test_content_type_is_fhir_json_whatever_the_client_accepts(decided, client_for, personas):
    case, _ = decided
    client = client_for(personas.service)
    for accept in ("application/fhir+json", "application/json", "*/*", "text/html"):
        response = client.get(f"/api/v1/cases/{case.pk}/fhir/", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+json"


def test_outsider_gets_404_and_anonymous_401(decided, client_for, personas, api_client):
    case, _ = decided
    response = client_for(personas.outsider).get(f"/api/v1/cases/{case.pk}/fhir/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/fhir+json"
    assert client_for(personas.outsider).get("/api/v1/cases/999999/fhir/").status_code == 404
    assert api_client.get(f"/api/v1/cases/{case.pk}/fhir/").status_code == 401


def test_patient_and_conditions_follow_mcode(decided, client_for, personas):
    case, _ = decided
    bundle = _export(client_for(personas.chair), case)
    patient, primary, secondary = _resources(bundle)[:3]
    assert patient["meta"]["profile"] == ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"]
    assert patient["identifier"][0]["value"] == "MRN-0042"
    assert (patient["gender"], patient["birthDate"], patient["name"][0]["text"]) == (
        "female",
        "1961-04-09",
        "Ana Novak",
    )
    assert primary["meta"]["profile"] == [
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"
    ]
    assert primary["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "363346000",
        "display": "Malignant neoplastic disease",
    }
    assert primary["code"]["text"] == "Primary cancer: Breast"
    assert primary["onsetDateTime"] == "2019-03-01"
    assert secondary["meta"]["profile"] == [
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"
    ]
    assert secondary["code"]["coding"][0]["code"] == "128462008"
    assert secondary["bodySite"] == [{"text": "T4 vertebra"}]
    assert secondary["extension"][0]["valueReference"]["reference"] == f"urn:uuid:{primary['id']}"


def test_score_observations_carry_values_items_and_categories(decided, client_for, personas):
    case, _ = decided
    bundle = _export(client_for(personas.chair), case)
    [sins] = _by_code(bundle, "sins")
    assert sins["valueInteger"] == 9
    assert sins["bodySite"] == {"text": "T4 vertebra"}
    assert [(c["code"]["coding"][0]["code"], c["code"]["text"], c["valueInteger"]) for c in sins["component"]] == [
        ("sins.location", "location: semi_rigid", 1),
        ("sins.pain", "pain: mechanical", 3),
        ("sins.bone_lesion", "bone_lesion: lytic", 2),
        ("sins.alignment", "alignment: normal", 0),
        ("sins.collapse", "collapse: under_50", 2),
        ("sins.posterolateral", "posterolateral: unilateral", 1),
    ]
    assert sins["interpretation"][0]["coding"][0]["code"] == "potentially_unstable"
    assert sins["interpretation"][0]["text"] == "Potentially unstable (7-12)"
    assert sins["note"][0]["text"] == "Index lesion."
    [bilsky] = _by_code(bundle, "bilsky")
    assert (bilsky["valueString"], bilsky["interpretation"][0]["coding"][0]["code"]) == ("1b", "low")
    [kps] = _by_code(bundle, "89243-0")
    assert kps["code"]["coding"][0]["system"] == "http://loinc.org"
    assert kps["meta"]["profile"] == [
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-karnofsky-performance-status"
    ]
    assert kps["valueInteger"] == 90 and "derivedFrom" not in kps
    [ecog] = _by_code(bundle, "89247-1")
    assert ecog["meta"]["profile"] == ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-ecog-performance-status"]
    assert ecog["valueInteger"] == 0
    assert ecog["derivedFrom"] == [{"reference": f"urn:uuid:{kps['id']}"}]
    [tokuhashi] = _by_code(bundle, "tokuhashi_revised")
    assert tokuhashi["valueInteger"] == 15 and len(tokuhashi["component"]) == 6
    [bollen] = _by_code(bundle, "bollen")
    assert bollen["valueString"] == "A"
    assert any("provisional" in note["text"] for note in bollen["note"])
    [radiosensitivity] = _by_code(bundle, "radiosensitivity")
    assert radiosensitivity["valueCodeableConcept"]["coding"][0]["code"] == "radiosensitive"
    # Incomplete systems (here Bauer without a fracture answer, Rades without a motor deficit) are left out.
    assert _by_code(bundle, "bauer") == [] and _by_code(bundle, "rades") == []


def test_care_plan_is_the_signed_plan_and_the_record_is_referenced(decided, client_for, personas):
    case, decision_id = decided
    client = client_for(personas.service)
    bundle = _export(client, case)
    [plan] = _resources(bundle, "CarePlan")
    assert (plan["status"], plan["intent"]) == ("active", "plan")
    assert plan["description"] == "Radiosensitive tumour; stable enough for radiotherapy first"
    assert plan["note"][0]["text"] == "The decision deviates from the NOMS proposal: Patient prefers to defer surgery"
    details = [a["detail"] for a in plan["activity"]]
    assert [(d["code"]["text"], d.get("kind")) for d in details] == [
        ("Conventional external beam radiotherapy (cEBRT)", "ServiceRequest"),
        ("Cement augmentation (vertebroplasty or kyphoplasty)", "ServiceRequest"),
        ("Corticosteroids", "MedicationRequest"),
        ("Bone-targeted agent", "MedicationRequest"),
        ("Restaging CT chest-abdomen-pelvis", "ServiceRequest"),
        ("Re-discussion at the tumour board", "Appointment"),
    ]
    assert details[0]["description"] == "20 Gy in 5 fractions; start within 2 weeks"
    assert details[1]["description"] == "Level T4; after radiotherapy"
    assert all(d["status"] == "not-started" for d in details)

    record = DecisionRecord.objects.get(decision_id=decision_id, version=1)
    assert record.state == DecisionRecord.State.READY
    [document] = _resources(bundle, "DocumentReference")
    assert f"urn:uuid:{document['id']}" in {r["reference"] for r in plan["supportingInfo"]}
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["url"] == f"http://testserver/api/v1/decisions/{decision_id}/records/1/pdf"
    assert "hash" not in attachment  # R4's hash is a SHA-1; records keep a SHA-256 (see cases.fhir)
    assert {"system": "urn:tumourboard:sha256", "value": record.sha256} in document["identifier"]
    assert (document["status"], document["docStatus"]) == ("current", "final")
    pdf = client.get(attachment["url"].removeprefix("http://testserver"))
    assert pdf.status_code == 200
    assert pdf["X-Record-SHA256"] == record.sha256


def test_a_case_without_a_finalised_decision_exports_what_exists(personas, make_case, section_api, client_for):
    case = _worked_case(personas, make_case, section_api)
    bundle = _export(client_for(personas.service), case)
    _assert_valid_r4(bundle)
    kinds = {r["resourceType"] for r in _resources(bundle)}
    assert {"Patient", "Condition", "Observation"} <= kinds
    assert not kinds & {"CarePlan", "DocumentReference"}
    [outcome] = _resources(bundle, "OperationOutcome")
    assert outcome["issue"][0]["severity"] == "information"
    assert "No finalised board decision" in outcome["issue"][0]["diagnostics"]


def test_a_fresh_referral_has_no_metastasis_condition_until_radiology_records_lesions(personas, make_case, client_for):
    case = make_case(referred_primary="unknown")
    bundle = _export(client_for(personas.chair), case)
    _assert_valid_r4(bundle)
    conditions = _resources(bundle, "Condition")
    assert [c["code"]["text"] for c in conditions] == ["Cancer of unknown primary"]
    assert _resources(bundle, "Observation") == []


def test_an_amendment_in_progress_does_not_leak_and_ids_are_stable(decided, client_for, personas):
    case, decision_id = decided
    chair = client_for(personas.chair)
    before = _export(chair, case)
    etag = chair.get(f"/api/v1/decisions/{decision_id}/")["ETag"]
    assert (
        chair.post(
            f"/api/v1/decisions/{decision_id}/reopen/", {"reason": "New MRI"}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 200
    )
    after = _export(chair, case)
    [plan_before], [plan_after] = _resources(before, "CarePlan"), _resources(after, "CarePlan")
    assert plan_after == plan_before
    assert [e["fullUrl"] for e in after["entry"]] == [e["fullUrl"] for e in before["entry"]]
