"""The MSCC emergency pathway end to end (issue 5, spec 6) and the stored NOMS proposal (spec 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cases.models import Alert, Case, Notification
from cases.notifications import notifications_redrive_pending
from scoring.models import CaseScore, ScoreRun
from scoring.services import scores_redrive_stale

pytestmark = pytest.mark.django_db


def _case_json(client_for, personas, case):
    return client_for(personas.chair).get(f"/api/v1/cases/{case.pk}/").json()


def test_bilsky_3_and_a_motor_deficit_make_an_emergency_at_once(personas, make_case, section_api, client_for):
    case = make_case()
    rad = section_api(personas.radiologist, case.pk)
    rad.patch("radiology", {"lesions": [{"level": "T8", "escc_grade": "3"}]})
    body = _case_json(client_for, personas, case)
    assert body["urgency"] == "urgent"  # ESCC 3 alone: spec 6.2 near miss
    assert "prompt: neurological status not recorded" in body["urgency_reasons"]
    assert mail.outbox == []

    # The surgeon saves a draft (not a submission): spec 6.1 evaluates every save.
    section_api(personas.surgeon, case.pk).patch("surgery", {"motor_deficit": True, "frankel": "C"})
    body = _case_json(client_for, personas, case)
    assert body["urgency"] == "emergency"
    assert body["emergency_since"] is not None
    assert any(reason.startswith("(a) ESCC 3 at T8 with motor deficit") for reason in body["urgency_reasons"])

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject.startswith("MSCC EMERGENCY")
    assert sorted(message.to) == ["chair@example.org", "oncologist@example.org", "surgeon@example.org"]
    assert "dexamethasone" in message.body
    alerted = set(Alert.objects.filter(case=case).values_list("user__username", flat=True))
    assert alerted == {"chair", "surgeon", "oncologist"}
    assert Notification.objects.get(case=case).state == "sent"

    # The chair sees it first: emergencies sort before everything else.
    older = make_case(referral_date=timezone.localdate() - timedelta(days=30))
    Case.objects.filter(pk=older.pk).update(urgency="urgent")
    ids = [c.pk for c in Case.objects.visible_to(personas.chair).by_priority()]
    assert ids[0] == case.pk

    # Further saves in the same episode raise no second alarm.
    section_api(personas.surgeon, case.pk).patch("surgery", {"myelopathy": True})
    assert len(mail.outbox) == 1
    assert Alert.objects.filter(case=case).count() == 3


@pytest.mark.parametrize(
    ("radiology", "surgery", "expected"),
    [
        (
            {"lesions": [{"level": "T6", "escc_grade": "2"}]},
            {"frankel": "E", "motor_deficit": False, "myelopathy": False, "bladder_bowel_dysfunction": False},
            "urgent",
        ),
        (
            {"lesions": [{"level": "T6", "escc_grade": "1c"}], "whole_spine_imaging_at": "2026-01-01T10:00:00+01:00"},
            {"frankel": "E", "motor_deficit": False, "myelopathy": False},
            "routine",
        ),
        (
            {
                "lesions": [{"level": "T6", "pathological_fracture": True}],
                "whole_spine_imaging_at": "2026-01-01T10:00:00+01:00",
            },
            {"frankel": "E", "motor_deficit": False, "myelopathy": False},
            "urgent",
        ),
        (
            {"lesions": [{"level": "T6", "escc_grade": "0"}], "whole_spine_imaging_at": "2026-01-01T10:00:00+01:00"},
            {"frankel": "D"},
            "emergency",
        ),
        (
            {"lesions": [{"level": "T6", "escc_grade": "0"}], "whole_spine_imaging_at": "2026-01-01T10:00:00+01:00"},
            {"bladder_bowel_dysfunction": True},
            "emergency",
        ),
        (
            {"lesions": [{"level": "T6", "escc_grade": "0"}], "whole_spine_imaging_at": "2026-01-01T10:00:00+01:00"},
            {"radiculopathy": True, "frankel": "E", "motor_deficit": False},
            "routine",
        ),
    ],
)
def test_urgency_levels_and_near_misses(personas, make_case, section_api, client_for, radiology, surgery, expected):
    case = make_case()
    section_api(personas.radiologist, case.pk).patch("radiology", radiology)
    section_api(personas.surgeon, case.pk).patch("surgery", surgery)
    assert _case_json(client_for, personas, case)["urgency"] == expected


def _emergency_case(personas, make_case, section_api):
    case = make_case()
    section_api(personas.radiologist, case.pk).patch("radiology", {"lesions": [{"level": "T8", "escc_grade": "3"}]})
    section_api(personas.surgeon, case.pk).patch("surgery", {"motor_deficit": True})
    return case


def _override(client_for, user, case, body):
    client = client_for(user)
    etag = client.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    return client.post(f"/api/v1/cases/{case.pk}/urgency/", body, format="json", HTTP_IF_MATCH=etag)


def test_chair_lowers_an_emergency_only_with_a_reason(personas, make_case, section_api, client_for):
    case = _emergency_case(personas, make_case, section_api)
    assert _override(client_for, personas.surgeon, case, {"urgency": "urgent", "reason": "x"}).status_code == 403
    refused = _override(client_for, personas.chair, case, {"urgency": "urgent", "reason": ""})
    assert refused.status_code == 400
    assert "needs a recorded reason" in refused.json()["reason"][0]
    done = _override(
        client_for, personas.chair, case, {"urgency": "urgent", "reason": "Deficit for 6 months, already operated"}
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["urgency"], body["urgency_computed"], body["urgency_override"]) == ("urgent", "emergency", "urgent")
    # Unrelated edits keep the override ...
    section_api(personas.pain, case.pk).patch("pain", {"vas": 5})
    assert _case_json(client_for, personas, case)["urgency"] == "urgent"
    # ... but a new reason for urgency (a second compressed level) makes it lapse.
    section_api(personas.radiologist, case.pk).patch(
        "radiology",
        {"lesions": [{"level": "T8", "escc_grade": "3"}, {"level": "L1", "escc_grade": "2", "is_index": True}]},
    )
    body = _case_json(client_for, personas, case)
    assert (body["urgency"], body["urgency_override"]) == ("emergency", None)


def test_stale_case_etag_is_412(personas, make_case, section_api, client_for):
    case = _emergency_case(personas, make_case, section_api)
    response = client_for(personas.chair).post(
        f"/api/v1/cases/{case.pk}/urgency/",
        {"urgency": "emergency"},
        format="json",
        HTTP_IF_MATCH=f'"case-{case.pk}-v1"',
    )
    assert response.status_code == 412


def test_checklist_and_clock(personas, make_case, section_api, client_for):
    case = _emergency_case(personas, make_case, section_api)
    client = client_for(personas.surgeon)
    state = client.get(f"/api/v1/cases/{case.pk}/emergency/").json()
    assert state["emergency"] is True
    assert [s["step"] for s in state["checklist"]] == [
        "admit",
        "whole_spine_mri",
        "dexamethasone",
        "surgical_consult",
        "board_plan",
    ]
    dexa = next(s for s in state["checklist"] if s["step"] == "dexamethasone")
    assert "8 mg" in dexa["text"] and "every 12 hours" in dexa["text"]
    assert state["clock"]["imaging"]["status"] == "running"
    assert state["clock"]["imaging"]["remaining_seconds"] > 23 * 3600

    ack = client.post(f"/api/v1/cases/{case.pk}/emergency/checklist/admit/", {"note": "Ward 4"}, format="json")
    assert ack.status_code == 201
    admit = next(s for s in ack.json()["checklist"] if s["step"] == "admit")
    assert admit["acknowledged_by"] == personas.surgeon.display_name and admit["note"] == "Ward 4"
    again = client.post(f"/api/v1/cases/{case.pk}/emergency/checklist/admit/", {}, format="json")
    assert again.status_code == 400
    assert client.post(f"/api/v1/cases/{case.pk}/emergency/checklist/levitate/", {}, format="json").status_code == 400
    assert (
        client_for(personas.service)
        .post(f"/api/v1/cases/{case.pk}/emergency/checklist/admit/", {}, format="json")
        .status_code
        == 403
    )
    assert client_for(personas.outsider).get(f"/api/v1/cases/{case.pk}/emergency/").status_code == 404

    # Imaging done after the trigger stops the imaging sub-target; the plan stops at the board plan step.
    section_api(personas.radiologist, case.pk).patch(
        "radiology", {"whole_spine_imaging_at": timezone.now().isoformat()}
    )
    client_for(personas.chair).post(
        f"/api/v1/cases/{case.pk}/emergency/checklist/board_plan/", {"note": "Decompression tonight"}, format="json"
    )
    clock = client.get(f"/api/v1/cases/{case.pk}/emergency/").json()["clock"]
    assert (clock["imaging"]["status"], clock["plan"]["status"]) == ("met", "met")


def test_recommendation_is_stored_and_served(personas, make_case, section_api, client_for):
    case = make_case()
    section_api(personas.radiologist, case.pk).patch(
        "radiology",
        {
            "lesions": [
                {
                    "level": "T4",
                    "bone_lesion": "lytic",
                    "alignment": "de_novo_deformity",
                    "collapse": "over_50",
                    "posterolateral": "unilateral",
                    "escc_grade": "2",
                    "pathological_fracture": True,
                    "retropulsion": False,
                }
            ],
            "vertebrae_involved": 2,
            "extraspinal_bone_metastases": 3,
            "visceral_organs": [],
            "brain_metastases": False,
            "whole_spine_imaging_at": timezone.now().isoformat(),
        },
    )
    section_api(personas.surgeon, case.pk).patch(
        "surgery",
        {
            "frankel": "D",
            "myelopathy": True,
            "motor_deficit": True,
            "motor_deficit_onset": str(timezone.localdate() - timedelta(days=10)),
            "fit_for_surgery": True,
            "bladder_bowel_dysfunction": False,
            "lesions": [{"level": "T4", "mechanical_judgement": "unstable"}],
        },
    )
    section_api(personas.pain, case.pk).patch("pain", {"lesions": [{"level": "T4", "sins_pain": "mechanical"}]})
    section_api(personas.oncologist, case.pk).patch(
        "oncology", {"primary": "kidney", "kps": 80, "expected_survival_months": 18, "systemic_control": "controlled"}
    )
    body = client_for(personas.service).get(f"/api/v1/cases/{case.pk}/recommendation/").json()
    assert body["current"] is True
    assert body["radiation"]["modality"] == "srs"
    assert [(s["procedure"], s["level"], s["status"]) for s in body["surgery"]] == [
        ("separation_surgery", "T4", "proposed")
    ]
    assert {r["rule"] for r in body["fired_rules"]} >= {"R3", "R10", "R16", "R19", "R20", "R21"}
    assert "the board decides" in body["note"]
    assert body["urgency"] == "emergency"


def test_lost_score_task_is_redriven_by_the_sweep(personas, make_case, django_capture_on_commit_callbacks):
    case = make_case()
    run = ScoreRun.objects.get(case=case)
    # As if the broker lost the message: the request is recorded but nothing was computed.
    ScoreRun.objects.filter(pk=run.pk).update(computed_key="", requested_at=timezone.now() - timedelta(minutes=5))
    CaseScore.objects.filter(case=case).delete()
    assert scores_redrive_stale() == [case.pk]
    assert CaseScore.objects.filter(case=case, level="").count() == 11
    assert scores_redrive_stale() == []


def test_lost_notification_is_redriven_by_the_sweep(personas, make_case, section_api):
    case = _emergency_case(personas, make_case, section_api)
    Notification.objects.filter(case=case).update(state="pending", created_at=timezone.now() - timedelta(minutes=5))
    mail.outbox.clear()
    assert len(notifications_redrive_pending()) == 1
    assert len(mail.outbox) == 1
    assert notifications_redrive_pending() == []
