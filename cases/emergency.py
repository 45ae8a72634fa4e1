"""The MSCC emergency pathway on stored cases (spec 6), over the pure rules of scoring.rules.mscc.

Urgency is recomputed synchronously on every save of any section (spec 6.1: "evaluated on every
save ... not only on submission"), inside the same transaction, so the case is an emergency the
moment the data that makes it one is saved. Alerts are written in that transaction; e-mails are
Notification rows sent by a task on commit and re-driven by a sweep if the broker loses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, User
from cases.models import Alert, Case, ChecklistAck, Notification
from cases.vocabulary import Urgency
from common.history import stamp
from scoring.facts import case_facts, case_input, lesion_sins_totals
from scoring.rules.mscc import (
    CaseInput,
    ClockState,
    checklist_for,
    compute_urgency,
    effective_urgency,
    emergency_trigger,
    mscc_clock,
)

PLAN_STEP = "board_plan"  # spec 6.3 step 6: acknowledging it records the definitive plan
_RANK: dict[str, int] = {Urgency.ROUTINE: 0, Urgency.URGENT: 1, Urgency.EMERGENCY: 2}


def _loaded(case_id: int) -> Case:
    return (
        Case.objects.select_related("board", "patient", "radiology", "surgery", "oncology", "pain")
        .prefetch_related("radiology__lesions", "surgery__lesions", "pain__lesions")
        .get(pk=case_id)
    )


def case_mscc_input(case: Case) -> CaseInput:
    """The pure rules' input for a loaded case (sections and lesions prefetched)."""
    return case_input(case, sins_totals=lesion_sins_totals(case_facts(case)))


def case_urgency_refresh(*, case_id: int, by: User | None = None, now: datetime | None = None) -> Case:
    """Recompute the case's urgency (spec 6.5) and, on a new emergency, raise the alarm.

    Runs inside the caller's transaction. A chair's lowering stays in force only while the computed
    reasons are those it answered: a new reason for urgency (say a second compressed level) makes
    it lapse, so an override can never hide new danger. On the first emergency of an episode it
    starts the MSCC clock (spec 6.4), writes an in-app alert for the chair, surgeons and
    oncologists of the board and queues the e-mail to them.
    """
    now = now or timezone.now()
    case = _loaded(case_id)
    facts = case_mscc_input(case)
    result = compute_urgency(facts)
    trigger = emergency_trigger(facts)
    reasons = list(result.reasons) + [f"prompt: {p}" for p in result.prompts]
    override = case.urgency_override or None
    if override and _RANK[override] < _RANK[result.level] and list(result.reasons) != case.urgency_override_basis:
        override = None  # lapses: the computed urgency rests on reasons the chair has not seen
    effective = effective_urgency(result.level, override, case.urgency_override_reason)  # type: ignore[arg-type]

    changed: list[str] = []
    new_episode = False
    if override is None and case.urgency_override:
        case.urgency_override, case.urgency_override_reason, case.urgency_override_basis = "", "", []
        case.urgency_override_by = None
        changed += ["urgency_override", "urgency_override_reason", "urgency_override_basis", "urgency_override_by"]
    for field, value in (
        ("urgency_computed", result.level),
        ("urgency", effective),
        ("urgency_reasons", reasons),
        ("emergency_clauses", list(trigger.clauses)),
    ):
        if getattr(case, field) != value:
            setattr(case, field, value)
            changed.append(field)
    if trigger.emergency and case.emergency_since is None:
        case.emergency_since = now  # spec 6.4: the clock starts when the trigger first becomes true
        changed.append("emergency_since")
        new_episode = True
    if changed:
        case.version += 1
        stamp(case, f"urgency recomputed: {effective}", by)
        case.save(update_fields=[*changed, "version", "updated_at"])
    if new_episode:
        _raise_emergency_alarm(case, trigger.reasons, now)
    return case


def _emergency_recipients(case: Case) -> list[User]:
    """The chair and the board's surgeons and oncologists (issue 5)."""
    members = (
        Membership.objects.active()
        .filter(board_id=case.board_id)
        .filter(Q(is_chair=True) | Q(discipline__in=("surgeon", "oncologist")))
        .select_related("user")
    )
    return [m.user for m in members if m.user.is_active]


def _raise_emergency_alarm(case: Case, reasons: tuple[str, ...], now: datetime) -> None:
    from cases.tasks import send_notification

    assert case.emergency_since is not None  # noqa: S101 - set by the caller for a new episode
    message = (
        f"MSCC emergency: {case.patient.name} ({case.patient.mrn}), case {case.pk} on {case.board.name}. "
        + "; ".join(reasons)
        + ". Do not wait for the weekly meeting: admit, whole-spine MRI with contrast, dexamethasone, "
        "urgent spine surgeon consultation (spec 6.3)."
    )
    recipients = _emergency_recipients(case)
    Alert.objects.bulk_create(
        [
            Alert(
                user=u,
                case=case,
                kind=Alert.Kind.EMERGENCY,
                episode=case.emergency_since,
                message=message,
                created_at=now,
            )
            for u in recipients
        ],
        ignore_conflicts=True,
    )
    emails = sorted({u.email for u in recipients if u.email})
    if not emails:
        return
    notification, created = Notification.objects.get_or_create(
        key=f"emergency:{case.pk}:{case.emergency_since.isoformat()}",
        defaults={
            "case": case,
            "recipients": emails,
            "subject": f"MSCC EMERGENCY: case {case.pk}, {case.patient.name}",
            "body": message + f"\n\nCase page: /cases/{case.pk}/",
            "created_at": now,
        },
    )
    if created:
        notification_id = notification.pk
        transaction.on_commit(
            lambda: send_notification.delay(notification_id), robust=True
        )  # the sweep re-drives it if the broker is down


@transaction.atomic
def case_urgency_override(*, case: Case, by: User, urgency: str, reason: str) -> Case:
    """The chair sets the case's urgency (spec 6.5). Raising always applies; lowering below the
    computed value needs a reason and holds only while the computed reasons stay the same."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if _RANK[urgency] < _RANK[case.urgency_computed] and not reason.strip():
        raise ValidationError(
            {"reason": f"Lowering the urgency below the computed '{case.urgency_computed}' needs a recorded reason."}
        )
    case.urgency_override = urgency
    case.urgency_override_reason = reason
    case.urgency_override_by = by
    case.urgency_override_basis = [r for r in case.urgency_reasons if not r.startswith("prompt: ")]
    case.version += 1
    stamp(case, f"urgency set to {urgency} by the chair: {reason}", by)
    case.save(
        update_fields=[
            "urgency_override",
            "urgency_override_reason",
            "urgency_override_by",
            "urgency_override_basis",
            "version",
            "updated_at",
        ]
    )
    return case_urgency_refresh(case_id=case.pk, by=by)


@transaction.atomic
def checklist_acknowledge(
    *, case: Case, step: str, by: User, note: str = "", now: datetime | None = None
) -> ChecklistAck:
    """Record that a checklist step (spec 6.3) was done, by whom and when. Once per step."""
    steps = {s.code for s in checklist_for(case_mscc_input(_loaded(case.pk)))}
    if step not in steps:
        raise ValidationError({"step": f"'{step}' is not a step of this case's checklist: {', '.join(sorted(steps))}."})
    if case.emergency_since is None:
        raise ValidationError({"step": "The case is not an MSCC emergency; there is no checklist to acknowledge."})
    if ChecklistAck.objects.filter(case=case, step=step).exists():
        raise ValidationError({"step": "This step is already acknowledged."})
    ack = ChecklistAck(case=case, step=step, acknowledged_by=by, acknowledged_at=now or timezone.now(), note=note)
    ack.full_clean()
    stamp(ack, "checklist step acknowledged", by)
    ack.save()
    return ack


@dataclass(frozen=True, slots=True)
class EmergencyState:
    emergency: bool
    since: datetime | None
    clauses: list[str]
    reasons: list[str]
    checklist: list[dict[str, Any]]
    clock: ClockState | None


def emergency_state(*, case: Case, now: datetime | None = None) -> EmergencyState:
    """What the case page and the API show of the MSCC pathway: checklist with acknowledgements,
    and the 24-hour clock (imaging stops at the whole-spine MRI, plan at the board's plan)."""
    now = now or timezone.now()
    loaded = _loaded(case.pk)
    facts = case_mscc_input(loaded)
    acks = {a.step: a for a in ChecklistAck.objects.filter(case=case).select_related("acknowledged_by")}
    checklist = [
        {
            "step": step.code,
            "text": step.text,
            "detail": step.detail,
            "acknowledged_by": acks[step.code].acknowledged_by.display_name if step.code in acks else None,
            "acknowledged_at": acks[step.code].acknowledged_at if step.code in acks else None,
            "note": acks[step.code].note if step.code in acks else "",
        }
        for step in checklist_for(facts)
    ]
    clock = None
    if loaded.emergency_since is not None:
        from meetings.services import decision_plan_recorded_at  # meetings depends on cases, not back

        plan = acks.get(PLAN_STEP)
        plan_times = [t for t in (plan.acknowledged_at if plan else None, decision_plan_recorded_at(loaded)) if t]
        clock = mscc_clock(
            loaded.emergency_since,
            loaded.radiology.whole_spine_imaging_at,
            min(plan_times) if plan_times else None,
            now,
        )
    return EmergencyState(
        emergency=loaded.urgency == Urgency.EMERGENCY,
        since=loaded.emergency_since,
        clauses=list(loaded.emergency_clauses),
        reasons=[r for r in loaded.urgency_reasons if not r.startswith("prompt: ")],
        checklist=checklist,
        clock=clock,
    )
