"""The shared case over REST (contract "Cases"): creation, sections, ownership, conflicts,
submission, reopening, readiness, scores and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, Patient
from tests.conftest import enter_sins_lesion

pytestmark = pytest.mark.django_db

REFERRAL = {
    "board": None,
    "patient": {"mrn": "MRN-0042", "name": "Ana Novak", "birth_date": "1961-04-09", "sex": "female"},
    "referral_reason": "New thoracic back pain, known breast cancer",
    "referred_primary": "breast",
    "goals": "Wants to keep walking; home care preferred",
}


def referral(personas, **changes):
    body = {**REFERRAL, "board": personas.board.pk, **changes}
    return body


# --- creation


def test_coordinator_creates_a_case(client_for, personas):
    response = client_for(personas.coordinator).post("/api/v1/cases/", referral(personas), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "referred"
    assert body["urgency"] == "routine"
    assert body["board"] == personas.board.pk
    assert body["patient"]["mrn"] == "MRN-0042"
    assert set(body["sections"]) == {"radiology", "surgery", "oncology", "pain"}
    assert {"id", "created_at", "updated_at"} <= set(body)


def test_patient_is_reused_by_mrn_within_the_board(client_for, personas):
    client = client_for(personas.coordinator)
    first = client.post("/api/v1/cases/", referral(personas), format="json").json()
    second = client.post("/api/v1/cases/", referral(personas, referral_reason="Second episode"), format="json").json()
    assert first["patient"]["id"] == second["patient"]["id"]
    assert Patient.objects.count() == 1


def test_same_mrn_with_another_person_is_refused(client_for, personas):
    client = client_for(personas.coordinator)
    client.post("/api/v1/cases/", referral(personas), format="json")
    other = {**REFERRAL["patient"], "name": "Someone Else"}
    response = client.post("/api/v1/cases/", referral(personas, patient=other), format="json")
    assert response.status_code == 400
    assert "already belongs to Ana Novak" in response.json()["mrn"][0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"referred_primary": "spleen"}, "referred_primary"),
        ({"patient": {**REFERRAL["patient"], "sex": "f"}}, "patient"),
        ({"patient": {**REFERRAL["patient"], "birth_date": "1961-02-30"}}, "patient"),
        ({"referral_reason": ""}, "referral_reason"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_referrals_are_400_with_the_field_named(client_for, personas, change, field):
    response = client_for(personas.coordinator).post("/api/v1/cases/", referral(personas, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_only_coordinators_register_cases(client_for, personas):
    assert client_for(personas.surgeon).post("/api/v1/cases/", referral(personas), format="json").status_code == 403
    assert client_for(personas.service).post("/api/v1/cases/", referral(personas), format="json").status_code == 403


def test_a_board_outside_yours_does_not_exist(client_for, personas):
    response = client_for(personas.outsider).post("/api/v1/cases/", referral(personas), format="json")
    assert response.status_code == 400
    assert "board" in response.json()


# --- visibility


def test_outsider_gets_404_everywhere(client_for, personas, make_case):
    case = make_case()
    client = client_for(personas.outsider)
    for url in (
        f"/api/v1/cases/{case.pk}/",
        f"/api/v1/cases/{case.pk}/sections/radiology/",
        f"/api/v1/cases/{case.pk}/scores/",
        f"/api/v1/cases/{case.pk}/history/",
        f"/api/v1/cases/{case.pk}/readiness/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.patch(
            f"/api/v1/cases/{case.pk}/sections/oncology/", {}, format="json", HTTP_IF_MATCH='"x-v1"'
        ).status_code
        == 404
    )
    assert client.get("/api/v1/cases/").json()["count"] == 0


def test_every_board_member_reads_every_section(client_for, personas, make_case):
    case = make_case()
    for user in (personas.surgeon, personas.pain, personas.chair, personas.coordinator, personas.service):
        for discipline in ("radiology", "surgery", "oncology", "pain"):
            response = client_for(user).get(f"/api/v1/cases/{case.pk}/sections/{discipline}/")
            assert response.status_code == 200
            assert response["ETag"] == f'"{discipline}-{case.pk}-v1"'
            assert response.json()["discipline"] == discipline


OWNERS = {"radiology": "radiologist", "surgery": "surgeon", "oncology": "oncologist", "pain": "pain"}


@pytest.mark.parametrize("discipline", OWNERS)
def test_each_discipline_edits_only_its_own_section(personas, make_case, section_api, discipline):
    case = make_case()
    for role in ("radiologist", "surgeon", "oncologist", "pain", "chair", "coordinator", "service"):
        api = section_api(getattr(personas, role), case.pk)
        response = api.patch(discipline, {})
        expected = 200 if OWNERS[discipline] == role else 403
        assert response.status_code == expected, (role, discipline, response.content)


# --- editing and conflicts


def test_patch_changes_only_named_fields(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.oncologist, case.pk)
    assert api.patch("oncology", {"primary": "breast", "kps": 80}).status_code == 200
    response = api.patch("oncology", {"expected_survival_months": 24})
    body = response.json()
    assert (body["primary"], body["kps"], body["expected_survival_months"]) == ("breast", 80, 24.0)
    assert body["version"] == 3
    assert response["ETag"] == f'"oncology-{case.pk}-v3"'


def test_missing_if_match_is_428_and_writes_nothing(client_for, personas, make_case):
    case = make_case()
    client = client_for(personas.oncologist)
    response = client.patch(f"/api/v1/cases/{case.pk}/sections/oncology/", {"kps": 80}, format="json")
    assert response.status_code == 428
    assert client.get(f"/api/v1/cases/{case.pk}/sections/oncology/").json()["kps"] is None


def test_stale_if_match_is_412_and_loses_nothing(personas, make_case, section_api):
    case = make_case()
    tab_a = section_api(personas.oncologist, case.pk)
    tab_b = section_api(personas.oncologist, case.pk)
    etag = tab_a.get("oncology")["ETag"]
    assert tab_b.patch("oncology", {"kps": 70}, etag=etag).status_code == 200
    stale = tab_a.patch("oncology", {"kps": 90}, etag=etag)
    assert stale.status_code == 412
    body = stale.json()
    assert body["current_version"] == 2
    assert body["current"]["kps"] == 70  # the other person's change, for the client to show
    assert tab_a.get("oncology").json()["kps"] == 70  # nothing overwritten


def test_if_match_of_another_resource_is_412(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.oncologist, case.pk)
    assert api.patch("oncology", {"kps": 70}, etag=f'"radiology-{case.pk}-v1"').status_code == 412
    assert api.patch("oncology", {"kps": 70}, etag="*").status_code == 428


@pytest.mark.parametrize(
    ("discipline", "owner", "body", "field"),
    [
        ("oncology", "oncologist", {"kps": 75}, "kps"),
        ("oncology", "oncologist", {"kps": "80"}, "kps"),
        ("oncology", "oncologist", {"kps": 80.0}, "kps"),
        ("oncology", "oncologist", {"ecog": 6}, "ecog"),
        ("oncology", "oncologist", {"primary": "spleen"}, "primary"),
        ("oncology", "oncologist", {"expected_survival_months": -1}, "expected_survival_months"),
        ("oncology", "oncologist", {"expected_survival_months": 2.25}, "expected_survival_months"),
        ("oncology", "oncologist", {"albumin_g_dl": 0}, "albumin_g_dl"),
        ("oncology", "oncologist", {"primary_diagnosis_date": "2999-01-01"}, "primary_diagnosis_date"),
        ("oncology", "oncologist", {"primary_diagnosis_date": "2020-13-01"}, "primary_diagnosis_date"),
        (
            "oncology",
            "oncologist",
            {"prior_radiotherapy": [{"level": "T4", "dose_gy": 8, "fractions": 0, "date": "2024-01-01"}]},
            "prior_radiotherapy",
        ),
        ("oncology", "oncologist", {"colour": "blue"}, "colour"),
        ("surgery", "surgeon", {"frankel": "F"}, "frankel"),
        ("surgery", "surgeon", {"myelopathy": "yes"}, "myelopathy"),
        ("surgery", "surgeon", {"myelopathy": 1}, "myelopathy"),
        ("pain", "pain", {"vas": 11}, "vas"),
        ("radiology", "radiologist", {"visceral_organs": ["lung", "spleen"]}, "visceral_organs"),
        ("radiology", "radiologist", {"vertebrae_involved": 0}, "vertebrae_involved"),
        ("radiology", "radiologist", {"lesions": [{"level": "T13"}]}, "lesions"),
        ("radiology", "radiologist", {"lesions": [{"level": "T4"}, {"level": "T4"}]}, "lesions"),
        (
            "radiology",
            "radiologist",
            {"lesions": [{"level": "T4", "is_index": True}, {"level": "T5", "is_index": True}]},
            "lesions",
        ),
        ("radiology", "radiologist", {"lesions": [{"level": "T4", "escc_grade": "1d"}]}, "lesions"),
        ("radiology", "radiologist", {"whole_spine_imaging_at": "2999-01-01T10:00:00+01:00"}, "whole_spine_imaging_at"),
    ],
)
def test_bad_section_input_is_400_naming_the_field(personas, make_case, section_api, discipline, owner, body, field):
    case = make_case()
    api = section_api(getattr(personas, owner), case.pk)
    response = api.patch(discipline, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert api.get(discipline).json()["version"] == 1  # nothing written


def test_null_is_not_recorded_and_false_is_absent(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.radiologist, case.pk)
    body = api.patch("radiology", {"brain_metastases": False, "visceral_organs": []}).json()
    assert body["brain_metastases"] is False and body["visceral_organs"] == []
    body = api.patch("radiology", {"brain_metastases": None, "visceral_organs": None}).json()
    assert body["brain_metastases"] is None and body["visceral_organs"] is None


def test_lesions_replace_and_other_sections_name_only_radiology_levels(personas, make_case, section_api):
    case = make_case()
    rad = section_api(personas.radiologist, case.pk)
    rad.patch(
        "radiology",
        {"lesions": [{"level": "T9", "escc_grade": "1a"}, {"level": "T4", "is_index": True, "escc_grade": "2"}]},
    )
    body = rad.get("radiology").json()
    assert [(lesion["level"], lesion["is_index"], lesion["escc_grade"]) for lesion in body["lesions"]] == [
        ("T4", True, "2"),
        ("T9", False, "1a"),
    ]
    surgery = section_api(personas.surgeon, case.pk)
    response = surgery.patch("surgery", {"lesions": [{"level": "L2", "mechanical_judgement": "stable"}]})
    assert response.status_code == 400
    assert "not described by radiology (described: T4, T9)" in response.json()["lesions"][0]
    assert (
        surgery.patch("surgery", {"lesions": [{"level": "T4", "mechanical_judgement": "unstable"}]}).status_code == 200
    )
    # a later lesions list replaces the earlier one
    rad.patch("radiology", {"lesions": [{"level": "T4", "is_index": True, "escc_grade": "3"}]})
    assert [lesion["level"] for lesion in rad.get("radiology").json()["lesions"]] == ["T4"]


def test_put_replaces_the_whole_section(personas, make_case, section_api, client_for):
    case = make_case()
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 7, "night_or_rest_pain": True})
    etag = api.get("pain")["ETag"]
    response = client_for(personas.pain).put(
        f"/api/v1/cases/{case.pk}/sections/pain/", {"vas": 5}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200
    assert (response.json()["vas"], response.json()["night_or_rest_pain"]) == (5, None)


# --- submit, reopen, life cycle


def test_submit_signs_the_section(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 4})
    body = api.submit("pain").json()
    assert body["state"] == "submitted"
    assert body["submitted_by"]["username"] == "pain"
    assert body["submitted_at"] is not None
    # a submitted section is not edited silently: reopen first
    assert api.patch("pain", {"vas": 5}).status_code == 409


def test_submit_checks_conditional_requirements(personas, make_case, section_api):
    case = make_case()
    api = section_api(personas.surgeon, case.pk)
    api.patch("surgery", {"motor_deficit": True, "fit_for_surgery": False})
    response = api.submit("surgery")
    assert response.status_code == 400
    assert set(response.json()) == {"motor_deficit_onset", "fit_for_surgery_reason"}


def test_reopen_needs_a_reason_and_keeps_history(personas, make_case, section_api, client_for):
    case = make_case()
    api = section_api(personas.pain, case.pk)
    api.patch("pain", {"vas": 4})
    api.submit("pain")
    assert api.reopen("pain", "").status_code == 400
    body = api.reopen("pain", "New MRI shows a second level").json()
    assert (body["state"], body["reopen_reason"], body["submitted_by"]) == (
        "draft",
        "New MRI shows a second level",
        None,
    )
    api.patch("pain", {"vas": 6})
    history = client_for(personas.chair).get(f"/api/v1/cases/{case.pk}/history/").json()
    pain_entries = [e for e in history if e["subject"] == "pain"]
    assert pain_entries[0]["changes"] == [{"field": "vas", "old": 4, "new": 6}]
    assert any(e["reason"] == "reopened: New MRI shows a second level" for e in pain_entries)
    assert any(e["reason"] == "section submitted" for e in pain_entries)


def fill_minimum_dataset(personas, case, section_api):
    now = timezone.now()
    section_api(personas.radiologist, case.pk).patch(
        "radiology",
        {
            "lesions": [{"level": "L3", "escc_grade": "0"}],
            "whole_spine_imaging_at": (now - timedelta(days=2)).isoformat(),
        },
    )
    section_api(personas.oncologist, case.pk).patch(
        "oncology",
        {
            "primary": "breast",
            "histology_detail": "Invasive ductal carcinoma",
            "kps": 90,
            "expected_survival_months": 36,
        },
    )
    section_api(personas.surgeon, case.pk).patch("surgery", {"frankel": "E", "motor_deficit": False})
    section_api(personas.pain, case.pk).patch("pain", {"vas": 3})


def test_case_becomes_ready_only_with_all_sections_and_minimum_dataset(personas, make_case, section_api, client_for):
    case = make_case(goals="")
    reader = client_for(personas.chair)
    assert reader.get(f"/api/v1/cases/{case.pk}/").json()["status"] == "referred"
    fill_minimum_dataset(personas, case, section_api)
    assert reader.get(f"/api/v1/cases/{case.pk}/").json()["status"] == "in_workup"
    for role, discipline in (
        ("radiologist", "radiology"),
        ("oncologist", "oncology"),
        ("surgeon", "surgery"),
        ("pain", "pain"),
    ):
        assert section_api(getattr(personas, role), case.pk).submit(discipline).status_code == 200
    readiness = reader.get(f"/api/v1/cases/{case.pk}/readiness/").json()
    assert readiness == {
        "ready": False,
        "status": "in_workup",
        "missing": [
            {"owner": "coordinator", "field": "goals", "message": "the patient's stated goals and preferences"}
        ],
    }
    Case.objects.filter(pk=case.pk).update(goals="Stay at home")
    # the gate is re-evaluated on the next section change
    api = section_api(personas.pain, case.pk)
    api.reopen("pain", "add night pain")
    api.patch("pain", {"night_or_rest_pain": True})
    api.submit("pain")
    assert reader.get(f"/api/v1/cases/{case.pk}/").json()["status"] == "ready"
    # reopening sends it back to work-up
    api.reopen("pain", "correction")
    assert reader.get(f"/api/v1/cases/{case.pk}/").json()["status"] == "in_workup"


def test_readiness_names_what_is_missing_and_from_whom(personas, make_case, client_for):
    case = make_case()
    missing = client_for(personas.chair).get(f"/api/v1/cases/{case.pk}/readiness/").json()["missing"]
    assert [(m["owner"], m["field"]) for m in missing] == [
        ("radiology", "state"),
        ("surgery", "state"),
        ("oncology", "state"),
        ("pain", "state"),
        ("radiology", "whole_spine_imaging_at"),
        ("oncology", "primary"),
        ("oncology", "kps"),
        ("oncology", "expected_survival_months"),
    ]


def test_old_mri_keeps_the_case_out_of_ready(personas, make_case, section_api, client_for, settings):
    settings.READINESS_MRI_MAX_AGE_DAYS = 30
    case = make_case()
    old = (timezone.now() - timedelta(days=45)).isoformat()
    section_api(personas.radiologist, case.pk).patch("radiology", {"whole_spine_imaging_at": old})
    missing = client_for(personas.chair).get(f"/api/v1/cases/{case.pk}/readiness/").json()["missing"]
    assert any("older than 30 days" in m["message"] for m in missing)


def test_invalid_transition_is_refused_with_409(personas, make_case):
    from cases.lifecycle import InvalidTransition
    from cases.services import case_transition

    case = make_case()
    with pytest.raises(InvalidTransition, match="cannot go from 'referred' to 'discussed'"):
        case_transition(case=case, target="discussed", reason="test")
    case.refresh_from_db()
    assert case.status == "referred"


# --- scores


def test_scores_recomputed_on_change_and_marked_current(personas, make_case, section_api, client_for):
    case = make_case()
    reader = client_for(personas.chair)
    enter_sins_lesion(section_api, personas, case.pk)
    scores = {s["system"]: s for s in reader.get(f"/api/v1/cases/{case.pk}/scores/").json()}
    assert list(scores) == [
        "sins",
        "bilsky",
        "performance_status",
        "tokuhashi_revised",
        "tomita",
        "bauer",
        "bauer_modified",
        "van_der_linden",
        "rades",
        "bollen",
        "radiosensitivity",
    ]
    sins = scores["sins"]
    assert (sins["status"], sins["score"], sins["category"], sins["current"]) == ("complete", 6, "stable", True)
    assert sins["lesions"][0]["level"] == "L3"
    assert scores["bilsky"]["flags"] == ["ESCC graded below the conus"]
    tokuhashi = scores["tokuhashi_revised"]
    assert tokuhashi["status"] == "incomplete"
    assert "extraspinal_bone_metastases" in tokuhashi["missing"]
    assert tokuhashi["score"] is None


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_case_list_and_detail_query_counts_do_not_grow(
    personas, make_case, section_api, client_for, django_assert_max_num_queries
):
    reader = client_for(personas.chair)
    first = make_case()
    list_small = _queries(lambda: reader.get("/api/v1/cases/"))
    detail_small = _queries(lambda: reader.get(f"/api/v1/cases/{first.pk}/"))
    section_small = _queries(lambda: reader.get(f"/api/v1/cases/{first.pk}/sections/radiology/"))
    for _ in range(15):
        case = make_case()
    section_api(personas.radiologist, case.pk).patch(
        "radiology", {"lesions": [{"level": lvl} for lvl in ("T1", "T2", "T3", "T4", "T5", "T6")]}
    )
    with django_assert_max_num_queries(list_small):
        assert reader.get("/api/v1/cases/").json()["count"] == 16
    with django_assert_max_num_queries(detail_small):
        reader.get(f"/api/v1/cases/{case.pk}/")
    with django_assert_max_num_queries(section_small):
        assert len(reader.get(f"/api/v1/cases/{case.pk}/sections/radiology/").json()["lesions"]) == 6
    assert list_small <= 6


def test_history_names_the_acting_user_even_outside_a_request(personas, make_case, client_for):
    case = make_case()  # through the service, as seed_demo and tasks do: no request, no middleware
    history = client_for(personas.chair).get(f"/api/v1/cases/{case.pk}/history/").json()
    created = next(e for e in history if e["subject"] == "case" and e["kind"] == "created")
    assert (created["by"], created["reason"]) == (personas.coordinator.display_name, "referral registered")
