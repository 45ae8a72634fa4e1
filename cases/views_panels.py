"""The case page's clinical panels: the MSCC emergency pathway (spec 6), the NOMS proposal
(spec 5), the board's decisions with their record versions, and the chair's urgency control."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.models import Membership, User
from cases import selectors
from cases.emergency import case_urgency_override, checklist_acknowledge, emergency_state
from cases.models import Case
from cases.vocabulary import Urgency
from meetings.models import Decision, DecisionRecord
from scoring.selectors import case_recommendation


def case_panels(case: Case, membership: Membership | None) -> dict[str, Any]:
    """Context for the panels: what the case page shows above its summary."""
    state = emergency_state(case=case) if case.emergency_since else None
    decisions = list(
        Decision.objects.filter(case=case).select_related("meeting", "finalised_by").order_by("-created_at")
    )
    records = DecisionRecord.objects.filter(decision__case=case).defer("snapshot").order_by("decision_id", "version")
    by_decision: dict[int, list[DecisionRecord]] = {}
    for record in records:
        by_decision.setdefault(record.decision_id, []).append(record)
    return {
        "emergency": state,
        "recommendation": case_recommendation(case=case),
        "decisions": [(d, by_decision.get(d.pk, [])) for d in decisions],
        "can_ack": bool(membership and membership.can_write),
        "is_chair": bool(membership and membership.can_write and membership.is_chair),
        "urgency_choices": Urgency.choices,
    }


def _writer(request: HttpRequest, case_id: int) -> tuple[Case, Membership, User]:
    user: User = request.user  # type: ignore[assignment]
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    membership = selectors.membership_for_case(user=user, case=case)
    if membership is None or not membership.can_write:
        raise PermissionDenied("Read-only members cannot change the case.")
    return case, membership, user


@require_POST
def checklist_ack(request: HttpRequest, case_id: int, step: str) -> HttpResponse:
    case, _, user = _writer(request, case_id)
    try:
        checklist_acknowledge(case=case, step=step, by=user, note=request.POST.get("note", "")[:2000])
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, "Checklist step acknowledged.")
    return redirect("cases:detail", case_id=case.pk)


@require_POST
def urgency_override(request: HttpRequest, case_id: int) -> HttpResponse:
    case, membership, user = _writer(request, case_id)
    if not membership.is_chair:
        raise PermissionDenied("Only the board's chair sets the urgency.")
    urgency = request.POST.get("urgency", "")
    if urgency not in Urgency.values:
        messages.error(request, f"Choose one of: {', '.join(Urgency.values)}.")
        return redirect("cases:detail", case_id=case.pk)
    try:
        with transaction.atomic():
            case_urgency_override(case=case, by=user, urgency=urgency, reason=request.POST.get("reason", "")[:2000])
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, f"Urgency set to {urgency}.")
    return redirect("cases:detail", case_id=case.pk)
