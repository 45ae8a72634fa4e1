"""Case and section serializers: the contract's JSON ("Cases"), validated strictly.

Section fields carry exactly the names of clinical-spec.md section 4. `null` means "not recorded"
and is never the same as false (spec 1.1). Unknown keys, wrong types, codes outside the
vocabulary and impossible dates are 400s naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Board
from cases import vocabulary as v
from cases.models import Case, Patient, SectionBase
from cases.submission import section_submit_errors
from cases.vocabulary import Discipline, SectionState
from common.fields import CodeField, RejectUnknownFieldsMixin, StrictBooleanField, StrictIntegerField


def _not_in_future(value: Any, field: str) -> None:
    today = timezone.localdate()
    day = timezone.localdate(value) if hasattr(value, "tzinfo") and hasattr(value, "hour") else value
    if day is not None and day > today:
        raise serializers.ValidationError(f"Cannot be in the future (today is {today.isoformat()}).")


class UserRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="display_name")


# --- Patients and cases


class PatientSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer[Patient]):
    sex = serializers.ChoiceField(choices=v.SEX)
    # Uniqueness per board is the case service's job (the MRN is reused, never duplicated).
    mrn = serializers.CharField(max_length=64)

    class Meta:
        model = Patient
        fields = ("id", "mrn", "name", "birth_date", "sex")
        read_only_fields = ("id",)

    def validate_birth_date(self, value: Any) -> Any:
        _not_in_future(value, "birth_date")
        if value.year < 1900:
            raise serializers.ValidationError("A birth date before 1900 is not plausible.")
        return value


class CaseSerializer(serializers.ModelSerializer[Case]):
    """Read shape of a case (list and detail)."""

    patient = PatientSerializer(read_only=True)
    board: serializers.PrimaryKeyRelatedField[Board] = serializers.PrimaryKeyRelatedField(read_only=True)
    urgency_override = CodeField(v.Urgency.choices, read_only=True, help_text="The chair's urgency, or null.")
    primary = serializers.SerializerMethodField(
        help_text="The oncology section's primary once recorded, else the referral's."
    )
    sections = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = (
            "id",
            "board",
            "patient",
            "status",
            "urgency",
            "urgency_computed",
            "urgency_reasons",
            "urgency_override",
            "urgency_override_reason",
            "emergency_since",
            "referral_date",
            "referrer",
            "referral_reason",
            "referred_primary",
            "primary",
            "goals",
            "sections",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=v.PRIMARY))
    def get_primary(self, case: Case) -> str:
        return case.primary

    @extend_schema_field(
        serializers.DictField(child=serializers.DictField(), help_text="discipline -> {state, version, submitted_at}")
    )
    def get_sections(self, case: Case) -> dict[str, dict[str, Any]]:
        out = {}
        for discipline in Discipline:
            section: SectionBase = getattr(case, discipline.value)
            out[discipline.value] = {
                "state": section.state,
                "version": section.version,
                "submitted_at": section.submitted_at,
            }
        return out


class CaseCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    board = serializers.PrimaryKeyRelatedField(queryset=Board.objects.none())
    patient = PatientSerializer()
    referral_reason = serializers.CharField(max_length=5000)
    referred_primary = serializers.ChoiceField(choices=v.PRIMARY)
    goals = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    referrer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    referral_date = serializers.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A board outside the user's boards is "does not exist", as for any other id.
            self.fields["board"].queryset = Board.objects.for_user(request.user)  # type: ignore[attr-defined]

    def validate_referral_date(self, value: Any) -> Any:
        _not_in_future(value, "referral_date")
        return value


# --- Sections


class LesionListField(serializers.ListField):
    """`lesions`: a list of objects keyed by `level`, each level at most once."""

    def get_attribute(self, instance: Any) -> list[Any]:
        return list(instance.lesions.all())

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        lesions = super().to_internal_value(data)
        levels = [lesion["level"] for lesion in lesions]
        duplicated = sorted({level for level in levels if levels.count(level) > 1})
        if duplicated:
            raise serializers.ValidationError(f"Each level may be described once; repeated: {', '.join(duplicated)}.")
        return sorted(lesions, key=lambda lesion: v.LEVEL_ORDER[lesion["level"]])


class RadiologyLesionSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=v.LEVEL_CHOICES)
    is_index = StrictBooleanField(required=False, default=False)
    bone_lesion = CodeField(v.BONE_LESION)
    alignment = CodeField(v.ALIGNMENT)
    collapse = CodeField(v.COLLAPSE)
    posterolateral = CodeField(v.POSTEROLATERAL)
    escc_grade = CodeField(v.ESCC_GRADE)
    pathological_fracture = StrictBooleanField(required=False, allow_null=True)
    retropulsion = StrictBooleanField(required=False, allow_null=True)


class SurgeryLesionSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=v.LEVEL_CHOICES)
    mechanical_judgement = CodeField(v.MECHANICAL_JUDGEMENT)
    prior_surgery = StrictBooleanField(required=False, allow_null=True)


class PainLesionSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=v.LEVEL_CHOICES)
    sins_pain = CodeField(v.SINS_PAIN)


class PriorRadiotherapySerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=v.LEVEL_CHOICES)
    dose_gy = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=0, coerce_to_string=False)
    fractions = StrictIntegerField(min_value=1, max_value=100)
    date = serializers.DateField()

    def validate_date(self, value: Any) -> Any:
        _not_in_future(value, "date")
        return value


class SectionSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    """What every section has; subclasses add the discipline's clinical fields."""

    discipline = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=SectionState.choices, read_only=True)
    version = serializers.IntegerField(read_only=True)
    submitted_by = UserRefSerializer(read_only=True, allow_null=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_by = UserRefSerializer(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)
    reopen_reason = serializers.CharField(read_only=True)

    DISCIPLINE: str = ""
    lesion_serializer: type[serializers.Serializer[Any]] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.lesion_serializer is not None:
            self.fields["lesions"] = LesionListField(child=self.lesion_serializer(), required=False)

    @extend_schema_field(serializers.ChoiceField(choices=Discipline.choices))
    def get_discipline(self, section: SectionBase) -> str:
        return self.DISCIPLINE

    # Values of the instance, overlaid with this request's, for cross-field rules on a PATCH.
    def merged(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        current = {name: getattr(self.instance, name, None) for name in self.clinical_fields()}
        return {**current, **attrs}

    def clinical_fields(self) -> list[str]:
        return [name for name, field in self.fields.items() if not field.read_only and name != "lesions"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        case: Case = self.context["case"]
        lesions = attrs.get("lesions")
        if lesions is not None and self.DISCIPLINE != Discipline.RADIOLOGY:
            described = set(case.radiology.lesions.values_list("level", flat=True))
            unknown = [lesion["level"] for lesion in lesions if lesion["level"] not in described]
            if unknown:
                listed = ", ".join(sorted(described, key=v.LEVEL_ORDER.__getitem__)) or "none yet"
                raise serializers.ValidationError(
                    {"lesions": [f"Levels {', '.join(unknown)} are not described by radiology (described: {listed})."]}
                )
        return attrs

    def submit_errors(self) -> dict[str, list[str]]:
        """Rules a section must meet to be signed (cases.submission; the service enforces them)."""
        return section_submit_errors(self.instance)  # type: ignore[arg-type]


class RadiologySectionSerializer(SectionSerializer):
    DISCIPLINE = Discipline.RADIOLOGY
    lesion_serializer = RadiologyLesionSerializer

    vertebrae_involved = StrictIntegerField(min_value=1, max_value=33, required=False, allow_null=True)
    extraspinal_bone_metastases = StrictIntegerField(min_value=0, max_value=1000, required=False, allow_null=True)
    extraspinal_imaging_modality = CodeField(v.EXTRASPINAL_MODALITY)
    extraspinal_pathological_fracture = StrictBooleanField(required=False, allow_null=True)
    visceral_organs = serializers.ListField(
        child=serializers.ChoiceField(choices=v.VISCERAL_ORGANS),
        required=False,
        allow_null=True,
        help_text="[] means none; null means not recorded.",
    )
    brain_metastases = StrictBooleanField(required=False, allow_null=True)
    whole_spine_imaging_modality = CodeField(v.WHOLE_SPINE_MODALITY)
    whole_spine_imaging_at = serializers.DateTimeField(required=False, allow_null=True)
    whole_spine_contrast = StrictBooleanField(required=False, allow_null=True)

    def validate_visceral_organs(self, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise serializers.ValidationError("Each organ may be listed once.")
        return value

    def validate_whole_spine_imaging_at(self, value: Any) -> Any:
        _not_in_future(value, "whole_spine_imaging_at")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        lesions = attrs.get("lesions")
        if lesions is not None and sum(1 for lesion in lesions if lesion.get("is_index")) > 1:
            raise serializers.ValidationError({"lesions": ["Exactly one lesion can be the index lesion (spec 4.5)."]})
        merged = self.merged(attrs)
        count = len(lesions) if lesions is not None else self.instance.lesions.count()  # type: ignore[union-attr]
        if merged.get("vertebrae_involved") is not None and merged["vertebrae_involved"] < count:
            raise serializers.ValidationError(
                {
                    "vertebrae_involved": [
                        f"Must be at least the number of described lesion levels ({count}) (spec 4.1)."
                    ]
                }
            )
        return attrs


class SurgerySectionSerializer(SectionSerializer):
    DISCIPLINE = Discipline.SURGERY
    lesion_serializer = SurgeryLesionSerializer

    frankel = CodeField(v.FRANKEL)
    asia = CodeField(v.ASIA)
    myelopathy = StrictBooleanField(required=False, allow_null=True)
    radiculopathy = StrictBooleanField(required=False, allow_null=True)
    motor_deficit = StrictBooleanField(required=False, allow_null=True)
    motor_deficit_onset = serializers.DateField(required=False, allow_null=True)
    ambulatory_status = CodeField(v.AMBULATORY)
    bladder_bowel_dysfunction = StrictBooleanField(required=False, allow_null=True)
    fit_for_surgery = StrictBooleanField(required=False, allow_null=True)
    fit_for_surgery_reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def validate_motor_deficit_onset(self, value: Any) -> Any:
        _not_in_future(value, "motor_deficit_onset")
        return value


class OncologySectionSerializer(SectionSerializer):
    DISCIPLINE = Discipline.ONCOLOGY

    primary = CodeField(v.PRIMARY)
    histology_detail = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    unknown_primary_workup_planned = StrictBooleanField(required=False, allow_null=True)
    primary_diagnosis_date = serializers.DateField(required=False, allow_null=True)
    molecular_alterations = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    primary_growth = CodeField(v.GROWTH)
    bollen_profile = CodeField(v.BOLLEN_PROFILE)
    visceral_removable = CodeField(v.VISCERAL_REMOVABLE)
    visceral_treatable = CodeField(v.VISCERAL_TREATABLE)
    systemic_control = CodeField(v.SYSTEMIC_CONTROL)
    kps = StrictIntegerField(min_value=0, max_value=100, multiple_of=10, required=False, allow_null=True)
    ecog = StrictIntegerField(min_value=0, max_value=5, required=False, allow_null=True)
    expected_survival_months = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        min_value=0,
        max_value=600,
        coerce_to_string=False,
        required=False,
        allow_null=True,
    )
    albumin_g_dl = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=15,
        coerce_to_string=False,
        required=False,
        allow_null=True,
        help_text="g/dL (a g/L value divided by 10).",
    )
    prior_radiotherapy = PriorRadiotherapySerializer(many=True, required=False)
    systemic_therapy_options = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def validate_primary_diagnosis_date(self, value: Any) -> Any:
        _not_in_future(value, "primary_diagnosis_date")
        return value

    def validate_prior_radiotherapy(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Stored as JSON: plain numbers and ISO dates.
        return [
            {
                "level": e["level"],
                "dose_gy": float(e["dose_gy"]),
                "fractions": e["fractions"],
                "date": e["date"].isoformat(),
            }
            for e in value
        ]

    def to_representation(self, instance: SectionBase) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["prior_radiotherapy"] = list(instance.prior_radiotherapy or [])  # type: ignore[attr-defined]
        return data


class PainSectionSerializer(SectionSerializer):
    DISCIPLINE = Discipline.PAIN
    lesion_serializer = PainLesionSerializer

    vas = StrictIntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    night_or_rest_pain = StrictBooleanField(required=False, allow_null=True)
    radicular_pain = StrictBooleanField(required=False, allow_null=True)
    analgesic_step = CodeField(v.ANALGESIC_STEP)
    corticosteroid_current = StrictBooleanField(required=False, allow_null=True)
    corticosteroid_dose = serializers.CharField(required=False, allow_blank=True, max_length=200)


SECTION_SERIALIZERS: dict[str, type[SectionSerializer]] = {
    Discipline.RADIOLOGY: RadiologySectionSerializer,
    Discipline.SURGERY: SurgerySectionSerializer,
    Discipline.ONCOLOGY: OncologySectionSerializer,
    Discipline.PAIN: PainSectionSerializer,
}


class ReopenSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class ScoreSerializer(serializers.Serializer[Any]):
    system = serializers.CharField()
    level = serializers.CharField(
        allow_null=True, help_text="null for the case-level result; a level for per-lesion SINS/Bilsky."
    )
    status = serializers.ChoiceField(choices=[("complete", "complete"), ("incomplete", "incomplete")])
    score = serializers.JSONField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    category_label = serializers.CharField(allow_null=True)
    items = serializers.ListField(child=serializers.DictField())
    flags = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    missing_labels = serializers.ListField(child=serializers.CharField())
    citation = serializers.CharField()
    provisional = serializers.BooleanField()
    computed_at = serializers.DateTimeField()
    version = serializers.CharField()
    current = serializers.BooleanField(help_text="False while a newer section version is being scored.")


class UrgencyOverrideSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    urgency = serializers.ChoiceField(choices=v.Urgency.choices)
    reason = serializers.CharField(max_length=2000, allow_blank=True, default="")


class ChecklistAckSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    note = serializers.CharField(max_length=2000, allow_blank=True, default="")


class HistoryChangeSerializer(serializers.Serializer[Any]):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_null=True)
    subject = serializers.CharField(help_text='"case", a discipline, or "<discipline> lesion <level>"')
    kind = serializers.ChoiceField(choices=[("created", "created"), ("changed", "changed"), ("deleted", "deleted")])
    reason = serializers.CharField(allow_null=True)
    changes = HistoryChangeSerializer(many=True)
