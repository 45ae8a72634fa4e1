"""Patients, cases, spinal lesions and the four NOMS sections (spec 4).

Each discipline owns one section; per-lesion fields sit on that section's lesion rows, keyed by
spinal level (radiology's lesions define the case's levels). Every clinically meaningful row keeps
its history. A section's `version` increases on every change and is its ETag: concurrent edits
are detected, never silently overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import Board
from cases import vocabulary as v
from cases.vocabulary import CaseStatus, Discipline, SectionState, Urgency

if TYPE_CHECKING:
    from accounts.models import User

USER = settings.AUTH_USER_MODEL


class Patient(models.Model):
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("medical record number", max_length=64)
    name = models.CharField(max_length=200)
    birth_date = models.DateField()
    sex = models.CharField(max_length=10, choices=v.SEX)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board", "mrn"], name="patient_mrn_unique_per_board")]

    def __str__(self) -> str:
        return f"{self.name} ({self.mrn})"


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: User) -> CaseQuerySet:
        """Cases of the boards the user belongs to (house style 2: not visible means 404)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(board_id__in=user.active_board_ids())

    def by_priority(self) -> CaseQuerySet:
        """Emergencies first, then urgent, then routine; oldest referral first within each."""
        rank = models.Case(
            models.When(urgency=Urgency.EMERGENCY, then=0),
            models.When(urgency=Urgency.URGENT, then=1),
            default=2,
        )
        return self.alias(urgency_rank=rank).order_by("urgency_rank", "referral_date", "id")


class Case(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="cases")
    referral_date = models.DateField()
    referrer = models.CharField(max_length=200, blank=True, help_text="Referring clinician or unit.")
    referral_reason = models.TextField()
    referred_primary = models.CharField(max_length=20, choices=v.PRIMARY)
    goals = models.TextField("patient's stated goals and preferences", blank=True)
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.REFERRED)
    # spec 6.5: `urgency` is the effective value (the higher of computed and the chair's override).
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    urgency_computed = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    urgency_reasons = models.JSONField(default=list, blank=True)
    urgency_override = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    urgency_override_reason = models.TextField(blank=True)
    urgency_override_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The computed reasons the chair's lowering answered; new reasons make the override lapse.
    urgency_override_basis = models.JSONField(default=list, blank=True)
    emergency_clauses = models.JSONField(default=list, blank=True)
    # spec 6.4: the MSCC clock starts when the trigger first becomes true.
    emergency_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()
    objects: ClassVar[CaseQuerySet] = CaseQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes = [
            models.Index(fields=["board", "status"]),
            models.Index(fields=["updated_at", "id"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}: {self.patient}"

    @property
    def etag(self) -> str:
        return f'"case-{self.pk}-v{self.version}"'

    @property
    def primary(self) -> str:
        """The oncology section's primary once recorded; until then the referral's."""
        return self.oncology.primary or self.referred_primary


class SectionBase(models.Model):
    """What every discipline's section has: state, version and signature."""

    DISCIPLINE: ClassVar[str]

    state = models.CharField(max_length=10, choices=SectionState.choices, default=SectionState.DRAFT)
    version = models.PositiveIntegerField(default=1)
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.DISCIPLINE} section of case {self.case_id} (v{self.version}, {self.state})"  # type: ignore[attr-defined]

    @property
    def etag(self) -> str:
        return f'"{self.DISCIPLINE}-{self.case_id}-v{self.version}"'  # type: ignore[attr-defined]


class RadiologySection(SectionBase):
    """spec 4.1."""

    DISCIPLINE = Discipline.RADIOLOGY

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="radiology")
    vertebrae_involved = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    extraspinal_bone_metastases = models.PositiveSmallIntegerField(null=True, blank=True)
    extraspinal_imaging_modality = models.CharField(max_length=20, choices=v.EXTRASPINAL_MODALITY, blank=True)
    extraspinal_pathological_fracture = models.BooleanField(null=True, blank=True)
    # [] means none, null means not recorded (spec 4.1).
    visceral_organs = models.JSONField(null=True, blank=True)
    brain_metastases = models.BooleanField(null=True, blank=True)
    whole_spine_imaging_modality = models.CharField(max_length=3, choices=v.WHOLE_SPINE_MODALITY, blank=True)
    whole_spine_imaging_at = models.DateTimeField(null=True, blank=True)
    whole_spine_contrast = models.BooleanField(null=True, blank=True)

    history = HistoricalRecords()


class SurgerySection(SectionBase):
    """spec 4.2: neurology and surgical candidacy."""

    DISCIPLINE = Discipline.SURGERY

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="surgery")
    frankel = models.CharField(max_length=1, choices=v.FRANKEL, blank=True)
    asia = models.CharField(max_length=1, choices=v.ASIA, blank=True)
    myelopathy = models.BooleanField(null=True, blank=True)
    radiculopathy = models.BooleanField(null=True, blank=True)
    motor_deficit = models.BooleanField(null=True, blank=True)
    motor_deficit_onset = models.DateField(null=True, blank=True)
    ambulatory_status = models.CharField(max_length=20, choices=v.AMBULATORY, blank=True)
    bladder_bowel_dysfunction = models.BooleanField(null=True, blank=True)
    fit_for_surgery = models.BooleanField(null=True, blank=True)
    fit_for_surgery_reason = models.TextField(blank=True)

    history = HistoricalRecords()


class OncologySection(SectionBase):
    """spec 4.3: oncologic and systemic."""

    DISCIPLINE = Discipline.ONCOLOGY

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="oncology")
    primary = models.CharField(max_length=20, choices=v.PRIMARY, blank=True)
    histology_detail = models.TextField(blank=True)
    # Readiness (issue: minimum dataset): histology, or an explicit "unknown primary, work-up planned".
    unknown_primary_workup_planned = models.BooleanField(null=True, blank=True)
    primary_diagnosis_date = models.DateField(null=True, blank=True)
    molecular_alterations = models.TextField(blank=True)
    primary_growth = models.CharField(max_length=10, choices=v.GROWTH, blank=True)
    bollen_profile = models.CharField(max_length=15, choices=v.BOLLEN_PROFILE, blank=True)
    visceral_removable = models.CharField(max_length=15, choices=v.VISCERAL_REMOVABLE, blank=True)
    visceral_treatable = models.CharField(max_length=15, choices=v.VISCERAL_TREATABLE, blank=True)
    systemic_control = models.CharField(max_length=15, choices=v.SYSTEMIC_CONTROL, blank=True)
    kps = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)])
    ecog = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(5)])
    expected_survival_months = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    albumin_g_dl = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    # List of {level, dose_gy, fractions, date}; validated by the section serializer.
    prior_radiotherapy = models.JSONField(default=list, blank=True)
    systemic_therapy_options = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kps__isnull=True) | Q(kps__lte=100), name="oncology_kps_at_most_100"),
            models.CheckConstraint(condition=Q(ecog__isnull=True) | Q(ecog__lte=5), name="oncology_ecog_at_most_5"),
        ]


class PainSection(SectionBase):
    """spec 4.4."""

    DISCIPLINE = Discipline.PAIN

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="pain")
    vas = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    night_or_rest_pain = models.BooleanField(null=True, blank=True)
    radicular_pain = models.BooleanField(null=True, blank=True)
    analgesic_step = models.CharField(max_length=4, choices=v.ANALGESIC_STEP, blank=True)
    corticosteroid_current = models.BooleanField(null=True, blank=True)
    corticosteroid_dose = models.CharField(max_length=200, blank=True, help_text="Drug and mg per day.")

    history = HistoricalRecords()


class RadiologyLesion(models.Model):
    """spec 4.1, per lesion. Radiology's lesions define the case's levels."""

    section = models.ForeignKey(RadiologySection, on_delete=models.CASCADE, related_name="lesions")
    level = models.CharField(max_length=8, choices=v.LEVEL_CHOICES)
    is_index = models.BooleanField(default=False)
    bone_lesion = models.CharField(max_length=10, choices=v.BONE_LESION, blank=True)
    alignment = models.CharField(max_length=30, choices=v.ALIGNMENT, blank=True)
    collapse = models.CharField(max_length=30, choices=v.COLLAPSE, blank=True)
    posterolateral = models.CharField(max_length=12, choices=v.POSTEROLATERAL, blank=True)
    escc_grade = models.CharField(max_length=2, choices=v.ESCC_GRADE, blank=True)
    pathological_fracture = models.BooleanField(null=True, blank=True)
    retropulsion = models.BooleanField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "level"], name="radiology_lesion_one_per_level"),
            models.UniqueConstraint(fields=["section"], condition=Q(is_index=True), name="radiology_lesion_one_index"),
        ]

    def __str__(self) -> str:
        return f"radiology lesion {self.level}"


class SurgeryLesion(models.Model):
    """spec 4.2, per lesion: the surgeon's mechanical judgement and prior surgery."""

    section = models.ForeignKey(SurgerySection, on_delete=models.CASCADE, related_name="lesions")
    level = models.CharField(max_length=8, choices=v.LEVEL_CHOICES)
    mechanical_judgement = models.CharField(max_length=10, choices=v.MECHANICAL_JUDGEMENT, blank=True)
    prior_surgery = models.BooleanField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["section", "level"], name="surgery_lesion_one_per_level")]

    def __str__(self) -> str:
        return f"surgery lesion {self.level}"


class PainLesion(models.Model):
    """spec 4.4, per lesion: the SINS pain item (spec 3.1 convention)."""

    section = models.ForeignKey(PainSection, on_delete=models.CASCADE, related_name="lesions")
    level = models.CharField(max_length=8, choices=v.LEVEL_CHOICES)
    sins_pain = models.CharField(max_length=30, choices=v.SINS_PAIN, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["section", "level"], name="pain_lesion_one_per_level")]

    def __str__(self) -> str:
        return f"pain lesion {self.level}"


SECTION_MODELS: dict[str, type[SectionBase]] = {
    Discipline.RADIOLOGY: RadiologySection,
    Discipline.SURGERY: SurgerySection,
    Discipline.ONCOLOGY: OncologySection,
    Discipline.PAIN: PainSection,
}


class ChecklistAck(models.Model):
    """An MSCC checklist step (spec 6.3) acknowledged by a board member, with when and who."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="checklist_acks")
    step = models.CharField(max_length=30)
    acknowledged_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "step"], name="checklist_ack_once_per_step")]

    def __str__(self) -> str:
        return f"{self.step} acknowledged for case {self.case_id}"


class Alert(models.Model):
    """An in-app alert for one person (e.g. an MSCC emergency on their board)."""

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", "MSCC emergency"

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="alerts")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The emergency episode this alert is about: the case's `emergency_since` when it was raised.
    episode = models.DateTimeField()
    message = models.TextField()
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "case", "kind", "episode"], name="alert_once_per_episode")
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert for {self.user_id} on case {self.case_id}"


class Notification(models.Model):
    """An e-mail that must go out, as a database row (house style 7): the task that sends it claims
    it, and a sweep re-drives rows left pending, so a lost broker message never loses the e-mail."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=120, unique=True, help_text="Idempotency key, e.g. emergency:<case>:<episode>.")
    recipients = models.JSONField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
