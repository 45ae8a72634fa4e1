"""Meetings, agendas, attendance and decisions over REST (contract "Meetings and decisions")."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Board
from cases import vocabulary as v
from common.fields import RejectUnknownFieldsMixin, StrictBooleanField, StrictIntegerField
from meetings.models import AgendaItem, Attendance, Decision, Meeting
from meetings.quorum import REQUIRED_ROLES
from scoring.rules.noms import PROCEDURES

RADIATION_MODALITIES = (
    ("cebrt", "conventional EBRT"),
    ("srs", "stereotactic radiosurgery"),
    ("none", "no radiotherapy"),
)


class MeetingSerializer(serializers.ModelSerializer[Meeting]):
    board = serializers.PrimaryKeyRelatedField(read_only=True)
    chair = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    video_link = serializers.CharField(read_only=True, help_text="URL of the video call, or empty.")
    used_minutes = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = (
            "id",
            "board",
            "series",
            "title",
            "starts_at",
            "time_zone",
            "duration_minutes",
            "place",
            "video_link",
            "chair",
            "capacity_minutes",
            "minutes_per_case",
            "used_minutes",
            "is_ad_hoc",
            "status",
            "cancelled_reason",
            "agenda_sent_at",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_used_minutes(self, meeting: Meeting) -> int:
        return sum(i.allotted_minutes for i in meeting.agenda_items.all() if i.state == AgendaItem.State.PLANNED)


class MeetingCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    board = serializers.PrimaryKeyRelatedField(queryset=Board.objects.none())
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    time_zone = serializers.CharField(max_length=64, required=False)
    duration_minutes = StrictIntegerField(min_value=5, max_value=600)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    video_link = serializers.URLField(required=False, allow_blank=True, default="")
    capacity_minutes = StrictIntegerField(min_value=1, max_value=600)
    minutes_per_case = StrictIntegerField(min_value=1, max_value=240)
    is_ad_hoc = StrictBooleanField(required=False, default=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["board"].queryset = Board.objects.for_user(request.user)  # type: ignore[attr-defined]

    def validate_starts_at(self, value: Any) -> Any:
        if value < timezone.now():
            raise serializers.ValidationError("A new meeting cannot start in the past.")
        return value

    def validate_time_zone(self, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Ljubljana).") from None
        return value


class AgendaItemSerializer(serializers.ModelSerializer[AgendaItem]):
    patient = serializers.CharField(source="case.patient.name", read_only=True)
    mrn = serializers.CharField(source="case.patient.mrn", read_only=True)
    urgency = serializers.CharField(source="case.urgency", read_only=True)
    case_status = serializers.CharField(source="case.status", read_only=True)

    class Meta:
        model = AgendaItem
        fields = (
            "id",
            "case",
            "order",
            "allotted_minutes",
            "state",
            "is_manual",
            "placed_at",
            "deferred_reason",
            "patient",
            "mrn",
            "urgency",
            "case_status",
        )
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer[Attendance]):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = Attendance
        fields = ("user", "username", "name", "role", "present", "recorded_at")
        read_only_fields = ("username", "name", "recorded_at")


class AttendanceWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    user = serializers.IntegerField()
    role = serializers.ChoiceField(choices=[(r, r) for r in REQUIRED_ROLES])
    present = StrictBooleanField(required=False, default=True)


class RadiationPlanSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    modality = serializers.ChoiceField(choices=RADIATION_MODALITIES)
    dose_gy = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        min_value=0,
        max_value=100,  # type: ignore[arg-type]
        coerce_to_string=False,
        required=False,
        allow_null=True,
    )
    fractions = StrictIntegerField(min_value=1, max_value=50, required=False, allow_null=True)
    timing = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["modality"] == "none" and (attrs.get("dose_gy") or attrs.get("fractions")):
            raise serializers.ValidationError({"modality": ["No radiotherapy: leave dose and fractions empty."]})
        return attrs


class SurgeryPlanItemSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    procedure = serializers.ChoiceField(choices=[(p, p.replace("_", " ")) for p in PROCEDURES])
    level = serializers.ChoiceField(choices=v.LEVEL_CHOICES)
    timing = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SteroidPlanSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    dexamethasone = StrictBooleanField()
    regimen = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DecisionPlanSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    """The decided plan, in the vocabulary of the NOMS proposal (spec 5.2)."""

    radiation = RadiationPlanSerializer()
    surgery = SurgeryPlanItemSerializer(many=True, required=False, default=list)
    systemic = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    steroids = SteroidPlanSerializer(required=False, allow_null=True, default=None)
    bone_targeted_agent = StrictBooleanField(required=False, default=False)
    palliative_care = StrictBooleanField(required=False, default=False)
    work_up = serializers.ListField(child=serializers.CharField(max_length=500), required=False, default=list)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        # Plain JSON for storage (decimals as numbers).
        radiation = dict(value["radiation"])
        if radiation.get("dose_gy") is not None:
            radiation["dose_gy"] = float(radiation["dose_gy"])
        return {
            **value,
            "radiation": radiation,
            "surgery": [dict(s) for s in value["surgery"]],
            "steroids": dict(value["steroids"]) if value.get("steroids") else None,
        }


class DecisionWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    case = serializers.IntegerField()
    plan = DecisionPlanSerializer()
    rationale = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    follows_recommendation = StrictBooleanField(required=False, allow_null=True, default=None)
    deviation_reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    follow_up_date = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("follows_recommendation") is False and not attrs.get("deviation_reason", "").strip():
            raise serializers.ValidationError(
                {"deviation_reason": ["Required when the decision does not follow the proposal."]}
            )
        follow_up = attrs.get("follow_up_date")
        if follow_up is not None and follow_up < timezone.localdate():
            raise serializers.ValidationError({"follow_up_date": ["A re-discussion date cannot be in the past."]})
        return attrs


class FinaliseSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    password = serializers.CharField(write_only=True, help_text="The chair's own password: the signature.")
    otp = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text="The current authenticator code (or a recovery code); required when the chair has an authenticator.",
    )


class MeetingCancelSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000, help_text="Why the meeting is cancelled (kept on the meeting).")


class ReopenDecisionSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    """A decision as last signed: for a decision reopened for amendment, clients keep seeing the
    finalised content (from its latest record) until the amendment is signed."""

    board = serializers.IntegerField(source="case.board_id", read_only=True)
    finalised_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    signed = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = (
            "id",
            "case",
            "board",
            "meeting",
            "state",
            "version",
            "revision",
            "feed_seq",
            "published_at",
            "finalised_by",
            "finalised_at",
            "amendment_reason",
            "signed",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(
        serializers.DictField(
            allow_null=True,
            help_text="plan, rationale, follows_recommendation, deviation_reason, follow_up_date as signed",
        )
    )
    def get_signed(self, decision: Decision) -> dict[str, Any] | None:
        records = sorted(decision.records.all(), key=lambda r: r.version)
        return records[-1].snapshot["decision"] if records else None


class DecisionDraftSerializer(serializers.ModelSerializer[Decision]):
    """The working copy the chair edits (including an amendment in progress)."""

    class Meta:
        model = Decision
        fields = (
            "id",
            "case",
            "meeting",
            "state",
            "version",
            "revision",
            "plan",
            "rationale",
            "follows_recommendation",
            "deviation_reason",
            "follow_up_date",
            "amendment_reason",
            "recommendation",
            "updated_at",
        )
        read_only_fields = fields
