"""The demo cases of the API contract ("Demo data"): a dozen realistic referrals on the demo board.

Cases 1-6 (MRN-1001 to MRN-1006) are the worked cases of clinical-spec.md 7 with every input the
spec gives, its "(added)" inputs and its stated defaults, referred today, so their stored scores
are the spec's tables. Cases 7-12 cover the rest of the spectrum and every status a case reaches
before a meeting: a fresh referral, cases in work-up (one waiting only for a current MRI) and a
ready one.

Everything is written as the API writes it: the referral through `CaseCreateSerializer` and
`case_create`, each section through its section serializer and `section_update`/`section_submit`,
by the demo user who owns that section. Demo data therefore never holds a value the API would
refuse. Dates are relative to the day of seeding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.demo import MAIN_BOARD
from accounts.models import Board, User
from cases.api.v1.serializers import SECTION_SERIALIZERS, CaseCreateSerializer
from cases.models import Case
from cases.selectors import section_get_for_update
from cases.services import case_create, section_submit, section_update
from cases.vocabulary import Discipline
from scoring.rules.case_mapping import DAYS_PER_MONTH

COORDINATOR = "coordinator"
# The demo user who fills and signs each section (accounts.demo).
SECTION_AUTHORS: dict[str, str] = {
    Discipline.RADIOLOGY: "radiologist",
    Discipline.SURGERY: "surgeon",
    Discipline.ONCOLOGY: "oncologist",
    Discipline.PAIN: "pain",
}


@dataclass(frozen=True, slots=True)
class DemoSection:
    """One section's data as a client would send it in a PATCH, and whether it is then signed."""

    discipline: Discipline
    data: Mapping[str, Any]
    submit: bool = True


@dataclass(frozen=True, slots=True)
class DemoCase:
    mrn: str
    name: str
    sex: str
    birth_date: date
    referral_date: date
    referrer: str
    referral_reason: str
    referred_primary: str
    goals: str
    # Written in this order: radiology first, because its lesions define the case's levels.
    sections: tuple[DemoSection, ...] = ()


@dataclass(frozen=True, slots=True)
class _Requester:
    """What `CaseCreateSerializer` reads from a request: the user whose boards it may name."""

    user: User


@dataclass(frozen=True, slots=True)
class _Clock:
    """Dates relative to the moment of seeding, in the board's local time."""

    now: datetime

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def months_ago(self, months: int) -> date:
        # Months of 30.4375 days, as spec 4.7 counts `months_from_diagnosis`.
        return self.today - timedelta(days=round(months * DAYS_PER_MONTH))

    def born(self, age: int, days_since_birthday: int) -> date:
        """A birth date that makes the patient `age` today (`days_since_birthday` below 365)."""
        try:
            birthday = self.today.replace(year=self.today.year - age)
        except ValueError:  # 29 February, and that year has none
            birthday = self.today.replace(year=self.today.year - age, day=28)
        return birthday - timedelta(days=days_since_birthday)

    def imaged(self, days_ago: int, at: time = time(10, 30)) -> datetime:
        """A scan on an earlier day (days_ago >= 1), at a local time of day."""
        return timezone.make_aware(datetime.combine(self.days_ago(days_ago), at))

    def hours_ago(self, hours: int) -> datetime:
        return self.now - timedelta(hours=hours)


def _lesion(
    level: str,
    *,
    bone_lesion: str,
    alignment: str,
    collapse: str,
    posterolateral: str,
    escc_grade: str,
    pathological_fracture: bool = False,
    is_index: bool = False,
) -> dict[str, Any]:
    """A radiology lesion; no retropulsion in any demo case (spec 7 default)."""
    return {
        "level": level,
        "is_index": is_index,
        "bone_lesion": bone_lesion,
        "alignment": alignment,
        "collapse": collapse,
        "posterolateral": posterolateral,
        "escc_grade": escc_grade,
        "pathological_fracture": pathological_fracture,
        "retropulsion": False,
    }


def _no_neurological_deficit(ambulatory_status: str = "independent") -> dict[str, Any]:
    """Surgery fields of a neurologically intact patient who is fit for surgery (spec 7 defaults)."""
    return {
        "frankel": "E",
        "myelopathy": False,
        "radiculopathy": False,
        "motor_deficit": False,
        "ambulatory_status": ambulatory_status,
        "bladder_bowel_dysfunction": False,
        "fit_for_surgery": True,
    }


def _worked_cases(c: _Clock) -> tuple[DemoCase, ...]:
    """clinical-spec.md 7, cases 1-6, referred today."""
    case_5_mri = c.hours_ago(4)
    return (
        DemoCase(
            mrn="MRN-1001",
            name="Barbara Hribar",
            sex="female",
            birth_date=c.born(58, 140),
            referral_date=c.today,
            referrer="Institute of Oncology, breast cancer clinic",
            referral_reason=(
                "Known breast cancer on endocrine therapy. New low back pain; restaging shows a single "
                "L3 metastasis and no other disease."
            ),
            referred_primary="breast",
            goals=(
                "\"I want to keep looking after my garden and travel with my husband. I'd rather avoid a big "
                "operation, but I'll consider it if it gives me the best long-term control.\""
            ),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "L3",
                                bone_lesion="mixed",
                                alignment="normal",
                                collapse="none_over_50_involved",
                                posterolateral="unilateral",
                                escc_grade="0",
                                is_index=True,
                            )
                        ],
                        "vertebrae_involved": 1,
                        "extraspinal_bone_metastases": 0,
                        "extraspinal_imaging_modality": "bone_scan",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": [],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.imaged(3),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {**_no_neurological_deficit(), "lesions": [{"level": "L3", "prior_surgery": False}]},
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "breast",
                        "histology_detail": (
                            "Invasive ductal carcinoma of the left breast, oestrogen and progesterone receptor "
                            "positive, HER2 negative; lumpectomy, adjuvant chemotherapy and radiotherapy."
                        ),
                        "primary_diagnosis_date": c.months_ago(60),
                        "systemic_control": "controlled",
                        "kps": 90,
                        "expected_survival_months": Decimal("36"),
                        "albumin_g_dl": Decimal("4.2"),
                        "systemic_therapy_options": (
                            "Continue letrozole; a CDK4/6 inhibitor with endocrine therapy at progression."
                        ),
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [{"level": "L3", "sins_pain": "occasional_non_mechanical"}],
                        "vas": 4,
                        "night_or_rest_pain": True,
                        "radicular_pain": False,
                        "analgesic_step": "1",
                        "corticosteroid_current": False,
                    },
                ),
            ),
        ),
        DemoCase(
            mrn="MRN-1002",
            name="Marjan Vidic",
            sex="male",
            birth_date=c.born(66, 35),
            referral_date=c.today,
            referrer="Emergency department",
            referral_reason=(
                "Lung adenocarcinoma with liver and brain metastases. Leg weakness and numbness for a few days, "
                "now unable to walk; MRI shows cord compression at T11."
            ),
            referred_primary="lung_nsclc",
            goals=('"I\'m very tired. I want the pain to stop and to be at home with my wife. No operation."'),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "T6",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                            ),
                            _lesion(
                                "T8",
                                bone_lesion="mixed",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                            ),
                            _lesion(
                                "T9",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="1a",
                            ),
                            _lesion(
                                "T11",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="under_50",
                                posterolateral="bilateral",
                                escc_grade="3",
                                pathological_fracture=True,
                                is_index=True,
                            ),
                        ],
                        "vertebrae_involved": 4,
                        "extraspinal_bone_metastases": 5,
                        "extraspinal_imaging_modality": "pet_ct",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": ["liver"],
                        "brain_metastases": True,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.hours_ago(3),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {
                        "frankel": "B",
                        "myelopathy": True,
                        "radiculopathy": False,
                        "motor_deficit": True,
                        "motor_deficit_onset": c.days_ago(3),
                        "ambulatory_status": "non_ambulatory",
                        "bladder_bowel_dysfunction": False,
                        "fit_for_surgery": False,
                        "fit_for_surgery_reason": (
                            "Poor general condition with liver and brain metastases and a very short expected "
                            "survival: he would not tolerate general anaesthesia and spinal surgery."
                        ),
                        "lesions": [{"level": level, "prior_surgery": False} for level in ("T6", "T8", "T9", "T11")],
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "lung_nsclc",
                        "histology_detail": (
                            "Adenocarcinoma of the right upper lobe; EGFR, ALK and ROS1 negative on the diagnostic "
                            "biopsy."
                        ),
                        "primary_diagnosis_date": c.months_ago(8),
                        "visceral_removable": "unremovable",
                        "visceral_treatable": "untreatable",
                        "systemic_control": "uncontrolled",
                        "kps": 40,
                        "expected_survival_months": Decimal("1.5"),
                        "albumin_g_dl": Decimal("2.9"),
                        "systemic_therapy_options": (
                            "Progression after first-line chemo-immunotherapy; best supportive care discussed with "
                            "the patient and his wife."
                        ),
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [
                            {"level": "T6", "sins_pain": "pain_free"},
                            {"level": "T8", "sins_pain": "pain_free"},
                            {"level": "T9", "sins_pain": "pain_free"},
                            {"level": "T11", "sins_pain": "mechanical"},
                        ],
                        "vas": 8,
                        "night_or_rest_pain": False,
                        "radicular_pain": False,
                        "analgesic_step": "3",
                        "corticosteroid_current": True,
                        "corticosteroid_dose": "dexamethasone 8 mg i.v. every 12 hours, started in the emergency department",
                    },
                ),
            ),
        ),
        DemoCase(
            mrn="MRN-1003",
            name="Franc Jerman",
            sex="male",
            birth_date=c.born(71, 260),
            referral_date=c.today,
            referrer="Department of Urology",
            referral_reason=(
                "Prostate cancer on androgen deprivation. Thoracolumbar pain; bone scan and MRI show L1 and L4 "
                "metastases and two rib lesions."
            ),
            referred_primary="prostate",
            goals="\"I'd like to stay independent and keep driving. I don't want to spend weeks in hospital.\"",
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "L1",
                                bone_lesion="mixed",
                                alignment="normal",
                                collapse="none_over_50_involved",
                                posterolateral="unilateral",
                                escc_grade="1b",
                                is_index=True,
                            ),
                            _lesion(
                                "L4",
                                bone_lesion="blastic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                            ),
                        ],
                        "vertebrae_involved": 2,
                        "extraspinal_bone_metastases": 2,
                        "extraspinal_imaging_modality": "bone_scan",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": [],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.imaged(4),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {
                        **_no_neurological_deficit(),
                        "lesions": [
                            {"level": "L1", "mechanical_judgement": "stable", "prior_surgery": False},
                            {"level": "L4", "prior_surgery": False},
                        ],
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "prostate",
                        "histology_detail": "Acinar adenocarcinoma of the prostate on core biopsies; on androgen deprivation.",
                        "primary_diagnosis_date": c.months_ago(30),
                        "systemic_control": "controlled",
                        "kps": 70,
                        "expected_survival_months": Decimal("24"),
                        "albumin_g_dl": Decimal("3.8"),
                        "systemic_therapy_options": "Continue androgen deprivation; add an androgen receptor pathway inhibitor.",
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [
                            {"level": "L1", "sins_pain": "occasional_non_mechanical"},
                            {"level": "L4", "sins_pain": "pain_free"},
                        ],
                        "vas": 3,
                        "night_or_rest_pain": False,
                        "radicular_pain": False,
                        "analgesic_step": "1",
                        "corticosteroid_current": False,
                    },
                ),
            ),
        ),
        DemoCase(
            mrn="MRN-1004",
            name="Bojan Kolar",
            sex="male",
            birth_date=c.born(62, 75),
            referral_date=c.today,
            referrer="Department of Neurology",
            referral_reason=(
                "Clear-cell renal cell carcinoma after nephrectomy. Upper back pain, then leg weakness and "
                "unsteady gait; MRI shows a collapsed T4 with cord compression."
            ),
            referred_primary="kidney",
            goals='"I want to walk properly again and get back to my grandchildren. I\'m ready for an operation."',
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "T4",
                                bone_lesion="lytic",
                                alignment="de_novo_deformity",
                                collapse="over_50",
                                posterolateral="unilateral",
                                escc_grade="2",
                                pathological_fracture=True,
                                is_index=True,
                            ),
                            _lesion(
                                "T9",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                            ),
                        ],
                        "vertebrae_involved": 2,
                        "extraspinal_bone_metastases": 3,
                        "extraspinal_imaging_modality": "ct",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": [],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.hours_ago(5),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {
                        "frankel": "D",
                        "myelopathy": True,
                        "radiculopathy": False,
                        "motor_deficit": True,
                        "motor_deficit_onset": c.days_ago(10),
                        "ambulatory_status": "independent",
                        "bladder_bowel_dysfunction": False,
                        "fit_for_surgery": True,
                        "lesions": [
                            {"level": "T4", "mechanical_judgement": "unstable", "prior_surgery": False},
                            {"level": "T9", "prior_surgery": False},
                        ],
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "kidney",
                        "histology_detail": "Clear-cell renal cell carcinoma of the left kidney; radical nephrectomy.",
                        "primary_diagnosis_date": c.months_ago(40),
                        "systemic_control": "controlled",
                        "kps": 80,
                        "expected_survival_months": Decimal("18"),
                        "albumin_g_dl": Decimal("3.2"),
                        "systemic_therapy_options": "Resume the tyrosine kinase inhibitor once the wound has healed.",
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [
                            {"level": "T4", "sins_pain": "mechanical"},
                            {"level": "T9", "sins_pain": "pain_free"},
                        ],
                        "vas": 7,
                        "night_or_rest_pain": False,
                        "radicular_pain": False,
                        "analgesic_step": "2",
                        "corticosteroid_current": False,
                    },
                ),
            ),
        ),
        DemoCase(
            mrn="MRN-1005",
            name="Vida Pavlin",
            sex="female",
            birth_date=c.born(69, 310),
            referral_date=c.today,
            referrer="Emergency department",
            referral_reason=(
                "No known cancer. Progressive leg weakness, now unable to walk; MRI shows a T8 lesion "
                "compressing the cord, and CT shows two lung nodules. Primary unknown."
            ),
            referred_primary="unknown",
            goals=(
                '"I want to know what this is. Walking again matters most to me; my daughter will look after '
                'me at home."'
            ),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "T8",
                                bone_lesion="blastic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="3",
                                is_index=True,
                            )
                        ],
                        "vertebrae_involved": 1,
                        "extraspinal_bone_metastases": 0,
                        "extraspinal_imaging_modality": "ct",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": ["lung"],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": case_5_mri,
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {
                        "frankel": "C",
                        "myelopathy": True,
                        "radiculopathy": False,
                        "motor_deficit": True,
                        "motor_deficit_onset": c.days_ago(5),
                        "ambulatory_status": "non_ambulatory",
                        "bladder_bowel_dysfunction": False,
                        "fit_for_surgery": True,
                        "lesions": [{"level": "T8", "prior_surgery": False}],
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "unknown",
                        "histology_detail": (
                            "Adenocarcinoma; immunohistochemistry does not point to a site of origin."
                        ),
                        "unknown_primary_workup_planned": True,
                        # Diagnosed at this presentation (spec 7 case 5: months_from_diagnosis 0).
                        "primary_diagnosis_date": timezone.localdate(case_5_mri),
                        "visceral_removable": "removable",
                        "visceral_treatable": "treatable",
                        "systemic_control": "not_assessed",
                        "kps": 60,
                        "expected_survival_months": Decimal("4"),
                        "albumin_g_dl": Decimal("3.6"),
                        "systemic_therapy_options": "Depends on the primary: tumour markers and PET-CT requested.",
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [{"level": "T8", "sins_pain": "pain_free"}],
                        "vas": 0,
                        "night_or_rest_pain": False,
                        "radicular_pain": False,
                        "analgesic_step": "none",
                        "corticosteroid_current": True,
                        "corticosteroid_dose": "dexamethasone 8 mg i.v. every 12 hours, started on admission",
                    },
                ),
            ),
        ),
        DemoCase(
            mrn="MRN-1006",
            name="Igor Rozman",
            sex="male",
            birth_date=c.born(64, 190),
            referral_date=c.today,
            referrer="Department of Haematology",
            referral_reason=(
                "Multiple myeloma on treatment. Severe neck pain on moving the head; CT and MRI show a "
                "collapsed C7 with subluxation."
            ),
            referred_primary="myeloma",
            goals=('"Holding my head up hurts. I want my neck made safe so I can get back to work on the farm."'),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "C7",
                                bone_lesion="lytic",
                                alignment="subluxation_translation",
                                collapse="over_50",
                                posterolateral="bilateral",
                                escc_grade="2",
                                pathological_fracture=True,
                                is_index=True,
                            )
                        ],
                        "vertebrae_involved": 1,
                        "extraspinal_bone_metastases": 1,
                        "extraspinal_imaging_modality": "whole_body_mri",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": [],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.imaged(2),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {**_no_neurological_deficit(), "lesions": [{"level": "C7", "prior_surgery": False}]},
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "myeloma",
                        "histology_detail": "IgA lambda multiple myeloma; bone marrow biopsy with clonal plasma cells.",
                        "primary_diagnosis_date": c.months_ago(12),
                        "systemic_control": "controlled",
                        "kps": 80,
                        "expected_survival_months": Decimal("24"),
                        "albumin_g_dl": Decimal("3.0"),
                        "systemic_therapy_options": "Continue maintenance lenalidomide after stabilisation and radiotherapy.",
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [{"level": "C7", "sins_pain": "mechanical"}],
                        "vas": 8,
                        "night_or_rest_pain": False,
                        "radicular_pain": False,
                        "analgesic_step": "2",
                        "corticosteroid_current": False,
                    },
                ),
            ),
        ),
    )


def _spectrum_cases(c: _Clock) -> tuple[DemoCase, ...]:
    """Cases 7-12: the rest of the spectrum, at different stages of work-up."""
    return (
        # Routine, in work-up: radiology signed, the oncologist's draft waits for restaging.
        DemoCase(
            mrn="MRN-1007",
            name="Maja Kovačič",
            sex="female",
            birth_date=c.born(47, 20),
            referral_date=c.days_ago(6),
            referrer="Institute of Oncology, breast cancer clinic",
            referral_reason=(
                "Breast cancer treated with curative intent. Follow-up bone scan shows uptake in T7 and the left "
                "ilium; mild thoracic back pain."
            ),
            referred_primary="breast",
            goals=(
                "\"I want to keep teaching for as long as I can, and I'd rather avoid an operation if "
                'radiotherapy will do."'
            ),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "T7",
                                bone_lesion="mixed",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                                is_index=True,
                            )
                        ],
                        "vertebrae_involved": 1,
                        "extraspinal_bone_metastases": 1,
                        "extraspinal_imaging_modality": "bone_scan",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": [],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.imaged(8),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "breast",
                        "histology_detail": (
                            "Invasive lobular carcinoma of the right breast, hormone receptor positive, HER2 negative."
                        ),
                        "primary_diagnosis_date": c.months_ago(38),
                        "kps": 90,
                        "systemic_therapy_options": "Restaging CT of chest and abdomen booked before a systemic plan.",
                    },
                    submit=False,
                ),
            ),
        ),
        # Ready: every section signed, the minimum dataset present. Whole-spine CT because of a
        # pacemaker that is not MRI-conditional (spec 4.1: CT only when MRI is impossible).
        DemoCase(
            mrn="MRN-1008",
            name="Ivana Kralj",
            sex="female",
            birth_date=c.born(68, 95),
            referral_date=c.days_ago(12),
            referrer="Department of Haematology",
            referral_reason=(
                "Newly diagnosed multiple myeloma. Low back pain on standing and walking; low-dose whole-body CT "
                "shows an L2 compression fracture and lytic lesions in the spine, skull, ribs and pelvis. "
                "Pacemaker that is not MRI-conditional."
            ),
            referred_primary="myeloma",
            goals=(
                "\"I want to get rid of this back pain so I can look after my grandchildren again. I'll go with "
                'whatever the haematologist recommends."'
            ),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "T12",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                            ),
                            _lesion(
                                "L2",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="under_50",
                                posterolateral="none",
                                escc_grade="1a",
                                pathological_fracture=True,
                                is_index=True,
                            ),
                        ],
                        "vertebrae_involved": 3,
                        "extraspinal_bone_metastases": 6,
                        "extraspinal_imaging_modality": "ct",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": [],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "ct",
                        "whole_spine_imaging_at": c.imaged(9),
                        "whole_spine_contrast": False,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {
                        **_no_neurological_deficit(ambulatory_status="with_aid"),
                        "asia": "E",
                        "lesions": [
                            {"level": "T12", "prior_surgery": False},
                            {"level": "L2", "mechanical_judgement": "stable", "prior_surgery": False},
                        ],
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "myeloma",
                        "histology_detail": "IgG kappa multiple myeloma; bone marrow biopsy with clonal plasma cells.",
                        "primary_diagnosis_date": c.days_ago(20),
                        "systemic_control": "not_assessed",
                        "ecog": 2,
                        "expected_survival_months": Decimal("48"),
                        "albumin_g_dl": Decimal("3.4"),
                        "systemic_therapy_options": (
                            "Induction with daratumumab, bortezomib, lenalidomide and dexamethasone; assess for "
                            "autologous stem cell transplantation."
                        ),
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [
                            {"level": "T12", "sins_pain": "pain_free"},
                            {"level": "L2", "sins_pain": "mechanical"},
                        ],
                        "vas": 7,
                        "night_or_rest_pain": False,
                        "radicular_pain": False,
                        "analgesic_step": "3",
                        "corticosteroid_current": True,
                        "corticosteroid_dose": "dexamethasone 40 mg once a week, part of the myeloma induction",
                    },
                ),
            ),
        ),
        # A fresh referral: registered this morning, no section started yet.
        DemoCase(
            mrn="MRN-1009",
            name="Anton Mlakar",
            sex="male",
            birth_date=c.born(55, 230),
            referral_date=c.today,
            referrer="Department of Endocrine Surgery",
            referral_reason=(
                "Follicular thyroid carcinoma after total thyroidectomy and radioiodine. Rising thyroglobulin; "
                "PET-CT shows a solitary T10 metastasis and no other disease. Please assess for en bloc resection."
            ),
            referred_primary="thyroid",
            goals=(
                '"Apart from this I feel well. I want the treatment with the best chance of getting rid of it, '
                'even if it is a big operation."'
            ),
        ),
        # SINS potentially unstable: the surgeon's draft still lacks the mechanical judgement.
        DemoCase(
            mrn="MRN-1010",
            name="Tomaž Zajc",
            sex="male",
            birth_date=c.born(52, 300),
            referral_date=c.days_ago(4),
            referrer="Institute of Oncology, melanoma clinic",
            referral_reason=(
                "Metastatic melanoma on immunotherapy with responding lung and adrenal metastases. New "
                "thoracolumbar pain on standing and walking; MRI shows a lytic T12 metastasis."
            ),
            referred_primary="melanoma",
            goals=(
                "\"I'm still working and skiing with my family and I want to stay active. What scares me most is "
                'ending up in a wheelchair."'
            ),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "T12",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="none_over_50_involved",
                                posterolateral="unilateral",
                                escc_grade="1b",
                                is_index=True,
                            )
                        ],
                        "vertebrae_involved": 1,
                        "extraspinal_bone_metastases": 0,
                        "extraspinal_imaging_modality": "pet_ct",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": ["lung", "adrenal"],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.imaged(5),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {**_no_neurological_deficit(), "lesions": [{"level": "T12", "prior_surgery": False}]},
                    submit=False,
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "melanoma",
                        "histology_detail": "Superficial spreading melanoma of the back, excised with clear margins.",
                        "primary_diagnosis_date": c.months_ago(26),
                        "molecular_alterations": "BRAF V600E mutation",
                        "visceral_removable": "unremovable",
                        "visceral_treatable": "treatable",
                        "systemic_control": "controlled",
                        "kps": 80,
                        "expected_survival_months": Decimal("18"),
                        "albumin_g_dl": Decimal("4.0"),
                        "systemic_therapy_options": (
                            "Continue nivolumab; dabrafenib with trametinib if the disease progresses."
                        ),
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [{"level": "T12", "sins_pain": "mechanical"}],
                        "vas": 6,
                        "night_or_rest_pain": False,
                        "radicular_pain": False,
                        "analgesic_step": "2",
                        "corticosteroid_current": False,
                    },
                ),
            ),
        ),
        # Several lesions with an index lesion; the oncologist's draft lacks the survival estimate.
        DemoCase(
            mrn="MRN-1011",
            name="Stanko Bizjak",
            sex="male",
            birth_date=c.born(76, 150),
            referral_date=c.days_ago(9),
            referrer="Department of Urology",
            referral_reason=(
                "Castration-resistant prostate cancer. PSMA PET-CT shows several spinal and pelvic metastases; "
                "low back pain spreading into the left leg."
            ),
            referred_primary="prostate",
            goals=(
                '"My wife and I want me at home. No big operation at my age; walking to the garden without the '
                'stick would be enough."'
            ),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "T9",
                                bone_lesion="blastic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                            ),
                            _lesion(
                                "L3",
                                bone_lesion="mixed",
                                alignment="normal",
                                collapse="none_over_50_involved",
                                posterolateral="bilateral",
                                escc_grade="1c",
                                is_index=True,
                            ),
                            _lesion(
                                "L5",
                                bone_lesion="blastic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="unilateral",
                                escc_grade="0",
                            ),
                            _lesion(
                                "S2",
                                bone_lesion="blastic",
                                alignment="normal",
                                collapse="none",
                                posterolateral="none",
                                escc_grade="0",
                            ),
                        ],
                        "vertebrae_involved": 6,
                        "extraspinal_bone_metastases": 8,
                        "extraspinal_imaging_modality": "pet_ct",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": [],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.imaged(3),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {
                        **_no_neurological_deficit(ambulatory_status="with_aid"),
                        "radiculopathy": True,
                        "lesions": [
                            {"level": "T9", "prior_surgery": False},
                            {"level": "L3", "mechanical_judgement": "stable", "prior_surgery": False},
                            {"level": "L5", "prior_surgery": False},
                            {"level": "S2", "prior_surgery": False},
                        ],
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "prostate",
                        "histology_detail": "Acinar adenocarcinoma of the prostate, now castration-resistant.",
                        "primary_diagnosis_date": c.months_ago(84),
                        "systemic_control": "uncontrolled",
                        "kps": 70,
                        "systemic_therapy_options": "Next line under discussion: enzalutamide, docetaxel or lutetium-PSMA.",
                    },
                    submit=False,
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [
                            {"level": "T9", "sins_pain": "pain_free"},
                            {"level": "L3", "sins_pain": "occasional_non_mechanical"},
                            {"level": "L5", "sins_pain": "pain_free"},
                            {"level": "S2", "sins_pain": "pain_free"},
                        ],
                        "vas": 5,
                        "night_or_rest_pain": True,
                        "radicular_pain": True,
                        "analgesic_step": "2",
                        "corticosteroid_current": False,
                    },
                ),
            ),
        ),
        # Every section signed, but the whole-spine MRI is too old: readiness asks for a current one.
        DemoCase(
            mrn="MRN-1012",
            name="Mojca Turk",
            sex="female",
            birth_date=c.born(63, 45),
            referral_date=c.days_ago(20),
            referrer="General Hospital, Department of Internal Medicine",
            referral_reason=(
                "Rectal cancer with liver metastases. Recurrent low back pain at L4, previously treated with "
                "palliative radiotherapy; MRI from the referring hospital enclosed."
            ),
            referred_primary="rectum",
            goals=(
                "\"I want to know whether the old radiotherapy spot can be treated again. I'd prefer outpatient "
                'treatment so I can keep caring for my mother."'
            ),
            sections=(
                DemoSection(
                    Discipline.RADIOLOGY,
                    {
                        "lesions": [
                            _lesion(
                                "L4",
                                bone_lesion="lytic",
                                alignment="normal",
                                collapse="none_over_50_involved",
                                posterolateral="unilateral",
                                escc_grade="1a",
                                is_index=True,
                            )
                        ],
                        "vertebrae_involved": 1,
                        "extraspinal_bone_metastases": 0,
                        "extraspinal_imaging_modality": "ct",
                        "extraspinal_pathological_fracture": False,
                        "visceral_organs": ["liver"],
                        "brain_metastases": False,
                        "whole_spine_imaging_modality": "mri",
                        "whole_spine_imaging_at": c.imaged(settings.READINESS_MRI_MAX_AGE_DAYS + 15),
                        "whole_spine_contrast": True,
                    },
                ),
                DemoSection(
                    Discipline.SURGERY,
                    {
                        **_no_neurological_deficit(),
                        "lesions": [{"level": "L4", "mechanical_judgement": "stable", "prior_surgery": False}],
                    },
                ),
                DemoSection(
                    Discipline.ONCOLOGY,
                    {
                        "primary": "rectum",
                        "histology_detail": "Moderately differentiated adenocarcinoma of the rectum; microsatellite stable.",
                        "primary_diagnosis_date": c.months_ago(34),
                        "molecular_alterations": "KRAS G12C mutation",
                        "visceral_removable": "unremovable",
                        "visceral_treatable": "treatable",
                        "systemic_control": "controlled",
                        "kps": 80,
                        "expected_survival_months": Decimal("14"),
                        "albumin_g_dl": Decimal("3.7"),
                        "prior_radiotherapy": [
                            {"level": "L4", "dose_gy": Decimal("20"), "fractions": 5, "date": c.months_ago(24)}
                        ],
                        "systemic_therapy_options": "Second-line FOLFIRI with bevacizumab; sotorasib with panitumumab later.",
                    },
                ),
                DemoSection(
                    Discipline.PAIN,
                    {
                        "lesions": [{"level": "L4", "sins_pain": "occasional_non_mechanical"}],
                        "vas": 4,
                        "night_or_rest_pain": True,
                        "radicular_pain": False,
                        "analgesic_step": "1",
                        "corticosteroid_current": False,
                    },
                ),
            ),
        ),
    )


def demo_cases(*, now: datetime) -> tuple[DemoCase, ...]:
    """The twelve demo cases, dated relative to `now`."""
    clock = _Clock(now)
    return _worked_cases(clock) + _spectrum_cases(clock)


def _write_section(case: Case, demo: DemoSection, author: User) -> None:
    """Validate with the API's section serializer, save, and sign if the demo says so."""
    serializer_class = SECTION_SERIALIZERS[demo.discipline]
    section = section_get_for_update(case=case, discipline=demo.discipline)
    serializer = serializer_class(section, data=dict(demo.data), partial=True, context={"case": case})
    serializer.is_valid(raise_exception=True)
    values = dict(serializer.validated_data)
    lesions = values.pop("lesions", None)
    section_update(section=section, by=author, expected_version=section.version, fields=values, lesions=lesions)
    if not demo.submit:
        return
    section_submit(section=section, by=author, expected_version=section.version)


@transaction.atomic
def _create_case(demo: DemoCase, *, board: Board, users: Mapping[str, User]) -> Case:
    coordinator = users[COORDINATOR]
    referral = CaseCreateSerializer(
        data={
            "board": board.pk,
            "patient": {"mrn": demo.mrn, "name": demo.name, "birth_date": demo.birth_date, "sex": demo.sex},
            "referral_reason": demo.referral_reason,
            "referred_primary": demo.referred_primary,
            "goals": demo.goals,
            "referrer": demo.referrer,
            "referral_date": demo.referral_date,
        },
        context={"request": _Requester(coordinator)},
    )
    referral.is_valid(raise_exception=True)
    values = dict(referral.validated_data)
    values.pop("board")
    case = case_create(board=board, created_by=coordinator, **values)
    for section in demo.sections:
        _write_section(case, section, users[SECTION_AUTHORS[section.discipline]])
    return case


def seed_cases() -> list[Case]:
    """Create the demo cases not yet on the demo board; return all of them, by MRN.

    Expects `accounts.demo.seed_people()` to have run. A demo MRN that already has a case on the
    board is skipped, so running it twice creates nothing twice. Each case is created in its own
    transaction; its score recomputation is enqueued when that transaction commits.
    """
    board = Board.objects.get(name=MAIN_BOARD)
    users = {user.username: user for user in User.objects.filter(username__in=[COORDINATOR, *SECTION_AUTHORS.values()])}
    demos = demo_cases(now=timezone.now())
    for demo in demos:
        if not Case.objects.filter(board=board, patient__mrn=demo.mrn).exists():
            _create_case(demo, board=board, users=users)
    return list(
        Case.objects.filter(board=board, patient__mrn__in=[demo.mrn for demo in demos])
        .select_related("patient")
        .order_by("patient__mrn", "id")
    )
