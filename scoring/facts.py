"""From a case's stored sections to the pure rules' inputs (spec 4.7), in one place.

The scoring systems read `CaseFacts`, NOMS and the MSCC pathway read `CaseInput`; both are built
here from the same rows, so the mapping of a section field to a rule input exists once. Lesions
are those radiology describes (spec 4.1: radiology's lesions define the case's levels); entries of
other sections at a level radiology no longer describes are kept in their section but not read.
Expects the case with its sections and their lesions loaded (`cases.selectors`).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from cases.models import Case
from scoring.rules import sins
from scoring.rules.case_mapping import CaseFacts, LesionFacts, score_lesion
from scoring.rules.mscc import CaseInput, CaseLesion


def _blank_to_none(value: str) -> str | None:
    return value or None


def lesion_facts(case: Case) -> tuple[LesionFacts, ...]:
    surgery = {lesion.level: lesion for lesion in case.surgery.lesions.all()}
    pain = {lesion.level: lesion for lesion in case.pain.lesions.all()}
    facts = []
    for r in case.radiology.lesions.all():
        s, p = surgery.get(r.level), pain.get(r.level)
        facts.append(
            LesionFacts(
                level=r.level,
                is_index=r.is_index,
                bone_lesion=_blank_to_none(r.bone_lesion),
                alignment=_blank_to_none(r.alignment),
                collapse=_blank_to_none(r.collapse),
                posterolateral=_blank_to_none(r.posterolateral),
                escc_grade=_blank_to_none(r.escc_grade),
                pathological_fracture=r.pathological_fracture,
                retropulsion=r.retropulsion,
                sins_pain=_blank_to_none(p.sins_pain) if p else None,
                mechanical_judgement=_blank_to_none(s.mechanical_judgement) if s else None,
                prior_surgery=s.prior_surgery if s else None,
            )
        )
    return tuple(sorted(facts, key=lambda f: sins.LEVELS.index(f.level or "occiput")))


def _local(value: datetime | None) -> datetime | None:
    # spec 4.6: the MSCC date is the board's local calendar date of the imaging.
    return timezone.localtime(value) if value is not None else None


def case_facts(case: Case) -> CaseFacts:
    """spec 4.7: the inputs of every scoring system."""
    rad, sur, onc, pain = case.radiology, case.surgery, case.oncology, case.pain
    return CaseFacts(
        referral_date=case.referral_date,
        lesions=lesion_facts(case),
        vertebrae_involved=rad.vertebrae_involved,
        extraspinal_bone_metastases=rad.extraspinal_bone_metastases,
        extraspinal_pathological_fracture=rad.extraspinal_pathological_fracture,
        visceral_organs=tuple(rad.visceral_organs) if rad.visceral_organs is not None else None,
        brain_metastases=rad.brain_metastases,
        whole_spine_imaging_at=_local(rad.whole_spine_imaging_at),
        frankel=_blank_to_none(sur.frankel),
        myelopathy=sur.myelopathy,
        motor_deficit=sur.motor_deficit,
        motor_deficit_onset=sur.motor_deficit_onset,
        ambulatory_status=_blank_to_none(sur.ambulatory_status),
        primary=_blank_to_none(onc.primary),
        primary_diagnosis_date=onc.primary_diagnosis_date,
        primary_growth=_blank_to_none(onc.primary_growth),
        bollen_profile=_blank_to_none(onc.bollen_profile),
        visceral_removable=_blank_to_none(onc.visceral_removable),
        visceral_treatable=_blank_to_none(onc.visceral_treatable),
        kps=onc.kps,
        ecog=onc.ecog,
        night_or_rest_pain=pain.night_or_rest_pain,
    )


def case_input(case: Case, *, sins_totals: dict[str, int | None]) -> CaseInput:
    """spec 5.1 / 6: the inputs of NOMS and the MSCC pathway; `sins_totals` by level."""
    rad, sur, onc, pain = case.radiology, case.surgery, case.oncology, case.pain
    lesions = tuple(
        CaseLesion(
            level=f.level or "",
            is_index=bool(f.is_index),
            sins_total=sins_totals.get(f.level or ""),
            escc_grade=f.escc_grade,
            mechanical_judgement=f.mechanical_judgement,
            pathological_fracture=f.pathological_fracture,
            retropulsion=f.retropulsion,
            sins_pain=f.sins_pain,
            prior_surgery=f.prior_surgery,
        )
        for f in lesion_facts(case)
    )
    es = onc.expected_survival_months
    # spec 6.2: "surgery section not yet recorded" = no neurological examination recorded yet.
    surgery_recorded = any(
        value is not None and value != "" for value in (sur.frankel, sur.myelopathy, sur.motor_deficit)
    )
    return CaseInput(
        primary=_blank_to_none(onc.primary),
        lesions=lesions,
        myelopathy=sur.myelopathy,
        motor_deficit=sur.motor_deficit,
        bladder_bowel_dysfunction=sur.bladder_bowel_dysfunction,
        frankel=_blank_to_none(sur.frankel),
        kps=onc.kps,
        ecog=onc.ecog,
        expected_survival_months=float(es) if es is not None else None,
        fit_for_surgery=sur.fit_for_surgery,
        fit_for_surgery_reason=sur.fit_for_surgery_reason or None,
        systemic_control=_blank_to_none(onc.systemic_control),
        vertebrae_involved=rad.vertebrae_involved,
        extraspinal_bone_metastases=rad.extraspinal_bone_metastases,
        visceral_organs=tuple(rad.visceral_organs) if rad.visceral_organs is not None else None,
        brain_metastases=rad.brain_metastases,
        molecular_alterations=onc.molecular_alterations or None,
        whole_spine_imaging_at=rad.whole_spine_imaging_at,
        prior_radiotherapy_levels=tuple(sorted({entry["level"] for entry in onc.prior_radiotherapy or []})),
        night_or_rest_pain=pain.night_or_rest_pain,
        corticosteroid_dose=(pain.corticosteroid_dose or None) if pain.corticosteroid_current else None,
        surgery_recorded=surgery_recorded,
    )


def lesion_sins_totals(facts: CaseFacts) -> dict[str, int | None]:
    """Each described lesion's SINS total (None while an item is missing), by level (spec 4.5.1)."""
    totals: dict[str, int | None] = {}
    for lesion in facts.lesions:
        result = score_lesion(lesion, facts)["sins"]
        totals[lesion.level or ""] = result.score if result.is_complete else None  # type: ignore[assignment]
    return totals
