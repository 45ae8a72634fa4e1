"""Choices of every coded case field, built from the pure rules so there is one vocabulary.

Field codes are the contract's (api-contract.md) and the spec's (clinical-spec.md section 4).
"""

from __future__ import annotations

from typing import Final

from django.db import models

from scoring.rules import bilsky, sins
from scoring.rules.primary import PRIMARY_CHOICES


def _choices(codes: object) -> list[tuple[str, str]]:
    return [(str(code), str(code).replace("_", " ")) for code in codes]  # type: ignore[attr-defined]


LEVEL_CHOICES: Final = _choices(sins.LEVELS)  # spec 3.1 / 4.1: occiput, C1 .. S5
LEVEL_ORDER: Final[dict[str, int]] = {level: i for i, level in enumerate(sins.LEVELS)}
PRIMARY: Final = list(PRIMARY_CHOICES)  # spec 2.1
SINS_PAIN: Final = _choices(sins.ITEM_POINTS["pain"])
BONE_LESION: Final = _choices(sins.ITEM_POINTS["bone_lesion"])
ALIGNMENT: Final = _choices(sins.ITEM_POINTS["alignment"])
COLLAPSE: Final = _choices(sins.ITEM_POINTS["collapse"])
POSTEROLATERAL: Final = _choices(sins.ITEM_POINTS["posterolateral"])
ESCC_GRADE: Final = _choices(bilsky.GRADES)  # spec 3.2
FRANKEL: Final = [(g, g) for g in "ABCDE"]  # spec 4.2
ASIA: Final = [(g, g) for g in "ABCDE"]
AMBULATORY: Final = [("independent", "independent"), ("with_aid", "with aid"), ("non_ambulatory", "non-ambulatory")]
MECHANICAL_JUDGEMENT: Final = [("unstable", "unstable"), ("stable", "stable")]
EXTRASPINAL_MODALITY: Final = _choices(("bone_scan", "pet_ct", "whole_body_mri", "ct", "other"))
VISCERAL_ORGANS: Final = _choices(("lung", "liver", "kidney", "adrenal", "pleura", "peritoneum", "other"))
WHOLE_SPINE_MODALITY: Final = [("mri", "MRI"), ("ct", "CT")]
GROWTH: Final = _choices(("slow", "moderate", "rapid"))
BOLLEN_PROFILE: Final = _choices(("favourable", "moderate", "unfavourable"))
VISCERAL_REMOVABLE: Final = _choices(("removable", "unremovable"))
VISCERAL_TREATABLE: Final = _choices(("treatable", "untreatable"))
SYSTEMIC_CONTROL: Final = _choices(("controlled", "uncontrolled", "not_assessed"))
ANALGESIC_STEP: Final = [("none", "none"), ("1", "step 1"), ("2", "step 2"), ("3", "step 3")]  # WHO ladder
SEX: Final = _choices(("female", "male", "other", "unknown"))


class Discipline(models.TextChoices):
    """The four NOMS sections (contract `<discipline>`)."""

    RADIOLOGY = "radiology", "Radiology"
    SURGERY = "surgery", "Surgery (neurology and surgical candidacy)"
    ONCOLOGY = "oncology", "Oncology (oncologic and systemic)"
    PAIN = "pain", "Pain"


class CaseStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    IN_WORKUP = "in_workup", "In work-up"
    READY = "ready", "Ready for the board"
    SCHEDULED = "scheduled", "Scheduled"
    DISCUSSED = "discussed", "Discussed"
    CLOSED = "closed", "Closed"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    EMERGENCY = "emergency", "Emergency"


class SectionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


# Which board discipline owns which section (accounts.Discipline -> cases.Discipline).
SECTION_OWNER: Final[dict[str, str]] = {
    Discipline.RADIOLOGY: "radiologist",
    Discipline.SURGERY: "surgeon",
    Discipline.ONCOLOGY: "oncologist",
    Discipline.PAIN: "pain_specialist",
}
