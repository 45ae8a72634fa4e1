"""Browser forms for meetings: attendance, agenda adjustments and the board's decision.

The decision form only parses what a browser sends (text to numbers, rows, yes/no). Every rule
belongs to the API's `DecisionWriteSerializer`: the parsed values are handed to it and its errors
are shown next to the fields, so the browser and `POST /api/v1/meetings/<id>/decisions/` accept
and refuse exactly the same decisions. The services' own refusals (quorum, content needed to
finalise, the signature's password) are shown the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django import forms
from django.forms.formsets import BaseFormSet, formset_factory

from accounts.models import Membership
from cases import vocabulary as v
from meetings.api.v1.serializers import RADIATION_MODALITIES, DecisionWriteSerializer
from meetings.models import Attendance, Decision
from meetings.quorum import REQUIRED_ROLES, ROLE_LABELS
from scoring.rules.noms import PROCEDURES

PROCEDURE_CHOICES: Final = [(p, p.replace("_", " ")) for p in PROCEDURES]
LEVEL_LABELS: Final[dict[str, str]] = dict(v.LEVEL_CHOICES)
SIGNATURE_MEANING: Final = "approved as the board's decision"
SURGERY_PREFIX: Final = "surgery"
# Blank surgery rows offered beyond the recorded ones (no JavaScript: a saved draft offers more).
SURGERY_EXTRA_ROWS: Final = 2


# --- attendance


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    """One board member on the attendance form."""

    membership: Membership
    present: forms.BoundField
    role: forms.BoundField | None  # a select when the person may attend in more than one role
    fixed_role: str  # their only role, when there is one


def attendance_roles(membership: Membership) -> list[str]:
    """The quorum roles a member may attend in (their discipline and/or chair)."""
    return [role for role in membership.roles if role in REQUIRED_ROLES]


class AttendanceForm(forms.Form):
    """Present yes/no for every member who holds a quorum role, and the role they attend in."""

    def __init__(
        self, *args: Any, members: Sequence[Membership], attendance: Iterable[Attendance], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.members = [m for m in members if attendance_roles(m)]
        self.recorded = {a.user_id: a for a in attendance}
        for membership in self.members:
            uid = membership.user_id
            row = self.recorded.get(uid)
            roles = attendance_roles(membership)
            self.fields[f"present_{uid}"] = forms.BooleanField(
                required=False, initial=bool(row and row.present), label=f"{membership.user.display_name} is present"
            )
            if len(roles) > 1:
                self.fields[f"role_{uid}"] = forms.ChoiceField(
                    choices=[(r, ROLE_LABELS[r]) for r in roles],
                    initial=row.role if row else roles[0],
                    label=f"Role of {membership.user.display_name}",
                )

    def rows(self) -> list[AttendanceRow]:
        rows = []
        for membership in self.members:
            uid = membership.user_id
            roles = attendance_roles(membership)
            rows.append(
                AttendanceRow(
                    membership=membership,
                    present=self[f"present_{uid}"],
                    role=self[f"role_{uid}"] if len(roles) > 1 else None,
                    fixed_role=ROLE_LABELS[roles[0]],
                )
            )
        return rows

    def changes(self) -> list[tuple[Membership, str, bool]]:
        """(member, role, present) for every row that differs from what is recorded.

        An unticked member with no attendance row is left alone: absence needs no row.
        """
        out = []
        for membership in self.members:
            uid = membership.user_id
            present = bool(self.cleaned_data[f"present_{uid}"])
            role = self.cleaned_data.get(f"role_{uid}") or attendance_roles(membership)[0]
            row = self.recorded.get(uid)
            if row is None and not present:
                continue
            if row is None or row.present != present or row.role != role:
                out.append((membership, role, present))
        return out


# --- agenda


class AgendaReasonForm(forms.Form):
    """The reason a coordinator gives for deferring or removing an agenda item."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False, label="Reason")


class CancelMeetingForm(forms.Form):
    """Why a planned meeting is cancelled; `version` is the meeting's version the page showed."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Reason for cancelling")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        label="Reason for the amendment",
        help_text="Shown on the next record version, which supersedes the current one.",
    )


# --- the decision


class SurgeryRowForm(forms.Form):
    procedure = forms.ChoiceField(choices=[("", "—"), *PROCEDURE_CHOICES], required=False, label="Procedure")
    level = forms.ChoiceField(choices=[("", "—")], required=False, label="Level")
    timing = forms.CharField(max_length=500, required=False, label="Timing")

    def __init__(self, *args: Any, levels: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", "—"), *((lvl, LEVEL_LABELS.get(lvl, lvl)) for lvl in levels)]  # type: ignore[attr-defined]

    def is_blank(self) -> bool:
        return not any(self.cleaned_data.get(name) for name in ("procedure", "level", "timing"))


SurgeryFormSet: type[BaseFormSet[SurgeryRowForm]] = formset_factory(SurgeryRowForm, extra=SURGERY_EXTRA_ROWS)

YES_NO: Final = [("yes", "yes"), ("no", "no")]
# Where a serializer or service error on a nested plan field is shown.
PLAN_ERROR_FIELDS: Final[dict[tuple[str, str], str]] = {
    ("radiation", "modality"): "radiation_modality",
    ("radiation", "dose_gy"): "dose_gy",
    ("radiation", "fractions"): "fractions",
    ("radiation", "timing"): "radiation_timing",
    ("radiation", "non_field_errors"): "radiation_modality",
    ("steroids", "dexamethasone"): "dexamethasone",
    ("steroids", "regimen"): "steroid_regimen",
    ("steroids", "non_field_errors"): "dexamethasone",
}


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _yes_no_text(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


class DecisionForm(forms.Form):
    radiation_modality = forms.ChoiceField(
        choices=[("", "— choose"), *RADIATION_MODALITIES], required=False, label="Radiotherapy modality"
    )
    dose_gy = forms.DecimalField(
        required=False, label="Total dose (Gy)", widget=forms.NumberInput(attrs={"step": "0.1"})
    )
    fractions = forms.IntegerField(required=False, label="Fractions")
    radiation_timing = forms.CharField(max_length=500, required=False, label="Radiotherapy timing")
    systemic = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Systemic therapy")
    dexamethasone = forms.TypedChoiceField(
        choices=YES_NO, coerce=_yes_no, widget=forms.RadioSelect, initial="no", label="Dexamethasone"
    )
    steroid_regimen = forms.CharField(max_length=500, required=False, label="Dexamethasone regimen")
    bone_targeted_agent = forms.BooleanField(required=False, label="Bone-targeted agent (bisphosphonate or denosumab)")
    palliative_care = forms.BooleanField(required=False, label="Palliative care referral")
    work_up = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Further work-up",
        help_text="One item per line.",
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Rationale")
    follows_recommendation = forms.TypedChoiceField(
        choices=[("yes", "yes, it follows the NOMS proposal"), ("no", "no, it deviates from the proposal")],
        coerce=_yes_no,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label="Does the decision follow the NOMS proposal?",
    )
    deviation_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Reason for deviating from the proposal",
        help_text="Required when the decision does not follow the proposal.",
    )
    follow_up_date = forms.DateField(
        required=False, label="Re-discuss on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    password = forms.CharField(
        required=False,
        strip=False,
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=f"Needed to finalise: your signature, meaning \u201c{SIGNATURE_MEANING}\u201d.",
    )
    otp = forms.CharField(
        required=False,
        max_length=32,
        label="Authenticator code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Needed to finalise when you use an authenticator app (a recovery code works too).",
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        levels: Sequence[str],
        initial: Mapping[str, Any] | None = None,
        surgery: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(data, initial=dict(initial or {}))
        # A level already in the plan stays choosable even if radiology no longer lists it.
        extra = [s["level"] for s in surgery if s.get("level") and s["level"] not in levels]
        self.levels = [*levels, *extra]
        self.surgery = SurgeryFormSet(
            data, initial=list(surgery), prefix=SURGERY_PREFIX, form_kwargs={"levels": self.levels}
        )
        self._surgery_index: list[int] = []  # formset row of each surgery item sent to the serializer

    def full_valid(self) -> bool:
        """Both the fields and the surgery rows parse (both checked, so all errors show at once)."""
        fields_ok = self.is_valid()
        rows_ok = self.surgery.is_valid()
        return fields_ok and rows_ok

    def payload(self, case_id: int) -> dict[str, Any]:
        """What the API would receive for this form; blank rows and unset numbers are left out."""
        data = self.cleaned_data
        radiation: dict[str, Any] = {"timing": data["radiation_timing"]}
        if data["radiation_modality"]:
            radiation["modality"] = data["radiation_modality"]
        if data["dose_gy"] is not None:
            radiation["dose_gy"] = data["dose_gy"]
        if data["fractions"] is not None:
            radiation["fractions"] = data["fractions"]
        surgery = []
        self._surgery_index = []
        for index, row in enumerate(self.surgery.forms):
            if row.is_blank():
                continue
            item = {"timing": row.cleaned_data["timing"]}
            # An unchosen procedure or level is left out, so the serializer names it as required.
            item.update({key: row.cleaned_data[key] for key in ("procedure", "level") if row.cleaned_data[key]})
            surgery.append(item)
            self._surgery_index.append(index)
        plan = {
            "radiation": radiation,
            "surgery": surgery,
            "systemic": data["systemic"],
            "steroids": {"dexamethasone": data["dexamethasone"], "regimen": data["steroid_regimen"]},
            "bone_targeted_agent": data["bone_targeted_agent"],
            "palliative_care": data["palliative_care"],
            "work_up": [line.strip() for line in data["work_up"].splitlines() if line.strip()],
        }
        return {
            "case": case_id,
            "plan": plan,
            "rationale": data["rationale"],
            "follows_recommendation": data["follows_recommendation"],
            "deviation_reason": data["deviation_reason"],
            "follow_up_date": data["follow_up_date"],
        }

    def validated_fields(self, case_id: int) -> dict[str, Any] | None:
        """The decision's fields as `decision_save` takes them, or None with the errors shown."""
        if not self.full_valid():
            return None
        serializer = DecisionWriteSerializer(data=self.payload(case_id))
        if not serializer.is_valid():
            self.add_errors(serializer.errors)
            return None
        fields = dict(serializer.validated_data)
        fields.pop("case")
        return fields

    def add_errors(self, detail: Mapping[str, Any]) -> None:
        """Show serializer or service errors ({field: messages}) next to the fields they concern."""
        for name, messages in detail.items():
            if name == "plan" and isinstance(messages, Mapping):
                self._add_plan_errors(messages)
            elif name in self.fields:
                self._add(name, messages)
            else:
                self._add(None, messages)

    def _add_plan_errors(self, detail: Mapping[str, Any]) -> None:
        for part, messages in detail.items():
            if part == "surgery" and isinstance(messages, list):
                self._add_surgery_errors(messages)
            elif isinstance(messages, Mapping):
                for key, nested in messages.items():
                    self._add(PLAN_ERROR_FIELDS.get((part, key)), nested)
            elif part in self.fields:
                self._add(part, messages)
            else:
                self._add(None, messages)

    def _add_surgery_errors(self, rows: Sequence[Any]) -> None:
        for position, row_errors in enumerate(rows):
            if not row_errors:
                continue
            row = self.surgery.forms[self._surgery_index[position]] if position < len(self._surgery_index) else None
            if row is None or not isinstance(row_errors, Mapping):
                self._add(None, row_errors)
                continue
            for key, messages in row_errors.items():
                row.add_error(key if key in row.fields else None, _texts(messages))

    def _add(self, name: str | None, messages: Any) -> None:
        for text in _texts(messages):
            self.add_error(name, text)


def _texts(messages: Any) -> list[str]:
    """Flatten DRF/Django error details (strings, lists, dicts of lists) into plain texts."""
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, Mapping):
        return [text for value in messages.values() for text in _texts(value)]
    if isinstance(messages, Iterable):
        return [text for item in messages for text in _texts(item)]
    return [str(messages)]


# --- initial values


def decision_initial(decision: Decision) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The form's initial values and surgery rows from a stored decision (a draft or amendment)."""
    plan = decision.plan or {}
    radiation = plan.get("radiation") or {}
    steroids = plan.get("steroids") or {}
    initial = {
        "radiation_modality": radiation.get("modality", ""),
        "dose_gy": Decimal(str(radiation["dose_gy"])) if radiation.get("dose_gy") is not None else None,
        "fractions": radiation.get("fractions"),
        "radiation_timing": radiation.get("timing", ""),
        "systemic": plan.get("systemic", ""),
        "dexamethasone": "yes" if steroids.get("dexamethasone") else "no",
        "steroid_regimen": steroids.get("regimen", ""),
        "bone_targeted_agent": bool(plan.get("bone_targeted_agent")),
        "palliative_care": bool(plan.get("palliative_care")),
        "work_up": "\n".join(plan.get("work_up") or []),
        "rationale": decision.rationale,
        "follows_recommendation": _yes_no_text(decision.follows_recommendation),
        "deviation_reason": decision.deviation_reason,
        "follow_up_date": decision.follow_up_date,
    }
    return initial, [dict(item) for item in plan.get("surgery") or []]


def proposal_initial(proposal: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A first draft from the NOMS proposal: only what it proposes definitively (a `cebrt`/`srs`
    radiation, `proposed` surgical items, supportive measures, work-up). Open questions stay
    unanswered, and whether the board follows the proposal is never pre-set."""
    if not proposal:
        return {}, []
    radiation = proposal.get("radiation") or {}
    supportive = {entry["code"]: entry["text"] for entry in proposal.get("supportive") or []}
    initial = {
        "radiation_modality": radiation.get("modality") if radiation.get("modality") in ("cebrt", "srs") else "",
        "radiation_timing": radiation.get("timing") or "",
        "systemic": "\n".join(entry["text"] for entry in proposal.get("systemic") or []),
        "dexamethasone": "yes" if "dexamethasone" in supportive else "no",
        "steroid_regimen": supportive.get("dexamethasone", ""),
        "bone_targeted_agent": "bone_targeted_agent" in supportive,
        "palliative_care": "palliative_care" in supportive,
        "work_up": "\n".join(entry["text"] for entry in proposal.get("work_up") or []),
    }
    surgery = [
        {"procedure": item["procedure"], "level": item["level"]}
        for item in proposal.get("surgery") or []
        if item.get("status") == "proposed"
    ]
    return initial, surgery


# --- reading a plan


@dataclass(frozen=True, slots=True)
class PlanLine:
    label: str
    text: str


def plan_lines(plan: Mapping[str, Any]) -> list[PlanLine]:
    """A stored plan in words, in the order of the proposal (spec 5.2)."""
    if not plan:
        return []
    radiation = plan.get("radiation") or {}
    parts = [dict(RADIATION_MODALITIES).get(radiation.get("modality", ""), "not recorded")]
    if radiation.get("dose_gy") is not None:
        parts.append(f"{radiation['dose_gy']:g} Gy")
    if radiation.get("fractions"):
        parts.append(f"{radiation['fractions']} fraction{'' if radiation['fractions'] == 1 else 's'}")
    if radiation.get("timing"):
        parts.append(radiation["timing"])
    lines = [PlanLine("Radiotherapy", ", ".join(parts))]
    surgery = [
        f"{item['procedure'].replace('_', ' ')} at {item['level']}"
        + (f" ({item['timing']})" if item.get("timing") else "")
        for item in plan.get("surgery") or []
    ]
    lines.append(PlanLine("Surgery", "; ".join(surgery) or "none"))
    lines.append(PlanLine("Systemic therapy", plan.get("systemic") or "none recorded"))
    steroids = plan.get("steroids") or {}
    dexa = "yes" if steroids.get("dexamethasone") else "no"
    lines.append(PlanLine("Dexamethasone", f"{dexa}: {steroids['regimen']}" if steroids.get("regimen") else dexa))
    lines.append(PlanLine("Bone-targeted agent", "yes" if plan.get("bone_targeted_agent") else "no"))
    lines.append(PlanLine("Palliative care", "yes" if plan.get("palliative_care") else "no"))
    lines.append(PlanLine("Further work-up", "; ".join(plan.get("work_up") or []) or "none"))
    return lines
