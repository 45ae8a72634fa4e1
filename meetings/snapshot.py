"""What a decision record shows, captured at finalisation (issue 7).

The record is rendered by a task, possibly later; rendering from this snapshot, not from live
rows, means a record shows the case exactly as the board decided it.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from cases.api.v1.serializers import SECTION_SERIALIZERS
from cases.models import Case
from cases.vocabulary import Discipline
from meetings.models import Attendance, Decision
from scoring.selectors import case_scores


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def decision_snapshot(
    decision: Decision, *, version: int, supersedes_version: int | None, amendment_reason: str
) -> dict[str, Any]:
    case: Case = (
        Case.objects.select_related("patient", "board", "radiology", "surgery", "oncology", "pain")
        .prefetch_related("radiology__lesions", "surgery__lesions", "pain__lesions")
        .get(pk=decision.case_id)
    )
    meeting = decision.meeting
    sections = {}
    for discipline in Discipline:
        section = getattr(case, discipline.value)
        sections[discipline.value] = {
            "label": discipline.label,
            "data": SECTION_SERIALIZERS[discipline.value](section, context={"case": case}).data,
        }
    attendees = []
    if meeting is not None:
        for a in (
            Attendance.objects.filter(meeting=meeting, present=True)
            .select_related("user")
            .order_by("role", "user__last_name")
        ):
            attendees.append({"name": a.user.display_name, "role": a.role})
    recommendation = decision.recommendation
    signer = decision.finalised_by
    snapshot: dict[str, Any] = _plain(
        {
            "version": version,
            "supersedes_version": supersedes_version,
            "amendment_reason": amendment_reason,
            "board": {"id": case.board_id, "name": case.board.name, "institution": case.board.institution},
            "meeting": (
                {
                    "id": meeting.pk,
                    "title": meeting.title,
                    "starts_at": timezone.localtime(meeting.starts_at).isoformat(),
                    "place": meeting.place,
                }
                if meeting
                else None
            ),
            "patient": {
                "mrn": case.patient.mrn,
                "name": case.patient.name,
                "birth_date": case.patient.birth_date,
                "sex": case.patient.sex,
            },
            "case": {
                "id": case.pk,
                "referral_date": case.referral_date,
                "referral_reason": case.referral_reason,
                "referrer": case.referrer,
                "primary": case.primary,
                "goals": case.goals,
                "urgency": case.urgency,
            },
            "sections": sections,
            "scores": case_scores(case=case),
            "recommendation": (
                {
                    "proposal": recommendation.proposal,
                    "computed_at": recommendation.computed_at,
                    "version": recommendation.engine_version,
                }
                if recommendation
                else None
            ),
            "decision": {
                "id": decision.pk,
                "plan": decision.plan,
                "rationale": decision.rationale,
                "follows_recommendation": decision.follows_recommendation,
                "deviation_reason": decision.deviation_reason,
                "follow_up_date": decision.follow_up_date,
            },
            "attendees": attendees,
            "signature": {
                "name": signer.display_name if signer else "",
                "username": signer.username if signer else "",
                "at": decision.finalised_at,
                "meaning": "approved as the board's decision",
            },
        }
    )
    return snapshot
