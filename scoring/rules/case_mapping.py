"""From a case's section data to every system's inputs and results (spec 4.5-4.7).

Pure: the caller (a service) reads the four sections into `CaseFacts` and stores the results.
Unlike the calculator, nothing here raises for a missing value: a system whose input cannot be
built is `incomplete` and names that input in `missing` (spec 1.2.3). Facts use three-valued
logic: a fact built from a null input is itself unknown, never false (spec 4.6), but a fact that
the known inputs already decide (`True or unknown`) is known.

Case flags (spec 3.12 "case") record a convention that decided a value of the score, so they are
attached to complete results only (the worked cases of spec 7 show none on incomplete results,
e.g. Rades in case 1); the one exception is `KPS 10 outside van der Linden table`, which spec 3.7
attaches precisely to explain an incomplete result. Calculator flags come from the systems and
are kept either way (spec 7 case 5: Bollen incomplete, flagged outside its cohort).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from scoring.rules import (
    bauer,
    bilsky,
    bollen,
    performance,
    rades,
    radiosensitivity,
    sins,
    tokuhashi,
    tomita,
    van_der_linden,
)
from scoring.rules.base import ResultBuilder, ScoreResult
from scoring.rules.flags import (
    FLAG_BRAIN_NOT_VISCERAL,
    FLAG_ESCC_BELOW_CONUS,
    FLAG_RADES_ONSET_ON_REFERRAL_DAY,
    FLAG_RADES_TO_REFERRAL_DATE,
    FLAG_RADES_WITH_AID,
    FLAG_SINS_PAIN_HIGHEST,
    FLAG_TOKUHASHI_VISCERAL_NOT_SCORED,
    FLAG_VDL_KPS_10,
    FLAG_VDL_NEURO_DEFICIT,
    FLAG_VERTEBRAL_FRACTURE_COUNTED,
)
from scoring.rules.kps import ResolvedKps, resolve_kps

MISSING_INDEX_LESION: Final = "index_lesion"

# spec 4.6: Tokuhashi's major internal organs (brain is added from `brain_metastases`).
TOKUHASHI_MAJOR_ORGANS: Final = frozenset({"lung", "liver", "kidney"})
# spec 4.6 `mscc_date`: ESCC grades that make the whole-spine MRI the MSCC date.
HIGH_GRADE_ESCC: Final = frozenset({"2", "3"})
# spec 3.2: the ESCC scale was validated in the cervical and thoracic spine; L2-S5 is flagged.
BELOW_CONUS_LEVELS: Final = frozenset(sins.LEVELS[sins.LEVELS.index("L2") :])
# spec 3.7: Frankel grades with a neurological deficit.
FRANKEL_WITH_DEFICIT: Final = frozenset({"A", "B", "C", "D"})
# spec 4.2 / 4.7: ambulatory = independent or with aid.
AMBULATORY_STATUSES: Final = frozenset({"independent", "with_aid"})
# spec 4.7: days per month for `rades.months_from_diagnosis`.
DAYS_PER_MONTH: Final = 30.4375
# spec 4.7: `rades.motor_deficit_days` minimum.
MIN_DEFICIT_DAYS: Final = 1


@dataclass(frozen=True, slots=True)
class LesionFacts:
    """One lesion's fields from radiology, surgery and pain (spec 4.1, 4.2, 4.4); None = not recorded."""

    level: str | None = None
    is_index: bool | None = None
    bone_lesion: str | None = None
    alignment: str | None = None
    collapse: str | None = None
    posterolateral: str | None = None
    escc_grade: str | None = None
    pathological_fracture: bool | None = None
    retropulsion: bool | None = None
    sins_pain: str | None = None
    mechanical_judgement: str | None = None
    prior_surgery: bool | None = None


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The case-level fields the scores read (spec 4.1-4.4); None = not recorded.

    `referral_date` is the date the case was created. `whole_spine_imaging_at` must be
    timezone-aware and already in the board's local time: its `.date()` is the MSCC date.
    `visceral_organs`: `()` means none, None means not recorded.
    """

    referral_date: date
    lesions: tuple[LesionFacts, ...] = ()
    vertebrae_involved: int | None = None
    extraspinal_bone_metastases: int | None = None
    extraspinal_pathological_fracture: bool | None = None
    visceral_organs: tuple[str, ...] | None = None
    brain_metastases: bool | None = None
    whole_spine_imaging_at: datetime | None = None
    frankel: str | None = None
    myelopathy: bool | None = None
    motor_deficit: bool | None = None
    motor_deficit_onset: date | None = None
    ambulatory_status: str | None = None
    primary: str | None = None
    primary_diagnosis_date: date | None = None
    primary_growth: str | None = None
    bollen_profile: str | None = None
    visceral_removable: str | None = None
    visceral_treatable: str | None = None
    kps: int | None = None
    ecog: int | None = None
    night_or_rest_pain: bool | None = None


@dataclass(frozen=True, slots=True)
class DerivedFacts:
    """spec 4.6; None = unknown because an input it is built from was not recorded."""

    solitary: bool | None
    visceral: bool | None
    visceral_or_brain: bool | None
    tokuhashi_major_organ: bool | None
    other_bone_metastases: bool | None
    mscc_date: date | None


def _any(*values: bool | None) -> bool | None:
    """Three-valued OR: true if any is true, unknown if none is true and one is unknown."""
    if any(value is True for value in values):
        return True
    if any(value is None for value in values):
        return None
    return False


def _all(*values: bool | None) -> bool | None:
    """Three-valued AND: false if any is false, unknown if none is false and one is unknown."""
    if any(value is False for value in values):
        return False
    if any(value is None for value in values):
        return None
    return True


def derive(facts: CaseFacts) -> DerivedFacts:
    """The derived case facts of spec 4.6 (and `rades.other_bone_metastases` of spec 4.7)."""
    vertebrae, extraspinal, organs = facts.vertebrae_involved, facts.extraspinal_bone_metastases, facts.visceral_organs
    visceral = None if organs is None else bool(organs)
    major_organ = None if organs is None else bool(TOKUHASHI_MAJOR_ORGANS.intersection(organs))
    high_grade = any(lesion.escc_grade in HIGH_GRADE_ESCC for lesion in facts.lesions)
    imaging = facts.whole_spine_imaging_at
    return DerivedFacts(
        solitary=_all(
            None if vertebrae is None else vertebrae == 1,
            None if extraspinal is None else extraspinal == 0,
        ),
        visceral=visceral,
        visceral_or_brain=_any(visceral, facts.brain_metastases),
        tokuhashi_major_organ=_any(major_organ, facts.brain_metastases),
        other_bone_metastases=_any(
            None if vertebrae is None else vertebrae > 1,
            None if extraspinal is None else extraspinal > 0,
        ),
        mscc_date=imaging.date() if imaging is not None and high_grade else None,
    )


def index_lesion(facts: CaseFacts) -> LesionFacts | None:
    """spec 4.5: the lesion marked `is_index`; a single lesion is the index by default.

    None (case `sins`/`bilsky` incomplete, missing `index_lesion`) when there is no lesion, or
    several lesions and not exactly one marked: two marked lesions are as undecided as none.
    """
    if len(facts.lesions) == 1:
        return facts.lesions[0]
    marked = [lesion for lesion in facts.lesions if lesion.is_index is True]
    return marked[0] if len(marked) == 1 else None


def score_lesion(lesion: LesionFacts, facts: CaseFacts) -> dict[str, ScoreResult]:
    """spec 4.5.1: SINS and Bilsky of one lesion, with their case flags (spec 3.12)."""
    sins_result = sins.compute(
        {
            "level": lesion.level,  # spec 4.7: `sins.level` from the lesion; never `location`
            "pain": lesion.sins_pain,
            "bone_lesion": lesion.bone_lesion,
            "alignment": lesion.alignment,
            "collapse": lesion.collapse,
            "posterolateral": lesion.posterolateral,
        }
    )
    if lesion.sins_pain == "mechanical" and facts.night_or_rest_pain is True:
        sins_result = _case_flags(sins_result, FLAG_SINS_PAIN_HIGHEST)
    bilsky_result = bilsky.compute({"grade": lesion.escc_grade})
    if lesion.level in BELOW_CONUS_LEVELS:
        bilsky_result = _case_flags(bilsky_result, FLAG_ESCC_BELOW_CONUS)
    return {"sins": sins_result, "bilsky": bilsky_result}


def _case_flags(result: ScoreResult, *flags: str) -> ScoreResult:
    """Attach case flags to a complete result (see the module docstring)."""
    return result.with_flags(*flags) if result.is_complete else result


def _without_index(builder: ResultBuilder) -> ScoreResult:
    builder.need(MISSING_INDEX_LESION)
    return builder.incomplete()


def _kps_within(resolved: ResolvedKps, table: Container[int]) -> tuple[int | None, list[str]]:
    """The case KPS if the system's table has it, with the ECOG-conversion flag when it is used.

    A KPS outside the table (KPS 0, also ECOG 5 converted) cannot be scored and is left missing:
    the spec gives it no points and the calculator would reject it.
    """
    if resolved.kps is None or resolved.kps not in table:
        return None, []
    return resolved.kps, resolved.flags


def _brain_flag(facts: CaseFacts) -> list[str]:
    # spec 3.12: only when the convention decided a value, i.e. visceral organs recorded as none.
    return [FLAG_BRAIN_NOT_VISCERAL] if facts.brain_metastases is True and facts.visceral_organs == () else []


def _performance_status(facts: CaseFacts) -> ScoreResult:
    # spec 4.7 / 4.3: oncology `kps`, else `ecog` (the system converts and flags).
    return performance.compute({"kps": facts.kps} if facts.kps is not None else {"ecog": facts.ecog})


def _tokuhashi(facts: CaseFacts, derived: DerivedFacts, resolved: ResolvedKps) -> ScoreResult:
    kps, flags = _kps_within(resolved, tokuhashi.KPS_POINTS)
    major_organ = derived.tokuhashi_major_organ
    organs = facts.visceral_organs
    if organs and not TOKUHASHI_MAJOR_ORGANS.intersection(organs) and facts.brain_metastases is False:
        flags = [*flags, FLAG_TOKUHASHI_VISCERAL_NOT_SCORED]
    result = tokuhashi.compute(
        {
            "kps": kps,
            "extraspinal_bone_metastases": facts.extraspinal_bone_metastases,
            "vertebral_metastases": facts.vertebrae_involved,
            "major_organ_metastases": (
                None if major_organ is None else facts.visceral_removable if major_organ else "none"
            ),
            "primary": facts.primary,
            "frankel": facts.frankel,
        }
    )
    return _case_flags(result, *flags)


def _tomita(facts: CaseFacts, derived: DerivedFacts) -> ScoreResult:
    visceral, solitary = derived.visceral, derived.solitary
    result = tomita.compute(
        {
            "primary": facts.primary,
            "primary_growth": facts.primary_growth,
            "visceral_metastases": None if visceral is None else facts.visceral_treatable if visceral else "none",
            "bone_metastases": None if solitary is None else "solitary" if solitary else "multiple",
        }
    )
    return _case_flags(result, *_brain_flag(facts))


def _fracture(facts: CaseFacts) -> tuple[bool | None, list[str]]:
    """spec 4.7 `bauer.pathological_fracture`: any lesion or extraspinal fracture; missing only if
    no lesion has a fracture and the extraspinal field is null (a lesion's null does not count)."""
    spinal = any(lesion.pathological_fracture is True for lesion in facts.lesions)
    extraspinal = facts.extraspinal_pathological_fracture
    if spinal:
        return True, [] if extraspinal is True else [FLAG_VERTEBRAL_FRACTURE_COUNTED]
    return extraspinal, []


def _bauer(facts: CaseFacts, derived: DerivedFacts) -> tuple[ScoreResult, ScoreResult]:
    common = {
        "primary": facts.primary,
        "visceral_or_brain_metastases": derived.visceral_or_brain,
        "solitary_skeletal_metastasis": derived.solitary,
    }
    fracture, flags = _fracture(facts)
    full = _case_flags(bauer.compute({**common, "pathological_fracture": fracture}), *flags)
    return full, bauer.compute_modified(common)


def _van_der_linden(facts: CaseFacts, derived: DerivedFacts, resolved: ResolvedKps) -> ScoreResult:
    kps, flags = _kps_within(resolved, van_der_linden.KPS_POINTS)
    if facts.frankel in FRANKEL_WITH_DEFICIT or facts.motor_deficit is True or facts.myelopathy is True:
        flags = [*flags, FLAG_VDL_NEURO_DEFICIT]
    result = van_der_linden.compute({"kps": kps, "primary": facts.primary, "visceral_metastases": derived.visceral})
    result = _case_flags(result, *flags, *_brain_flag(facts))
    # spec 3.7: KPS 10 is left missing (incomplete, missing kps) and flagged to say why.
    return result.with_flags(FLAG_VDL_KPS_10) if resolved.kps == 10 else result


def _months_from_diagnosis(facts: CaseFacts, derived: DerivedFacts) -> tuple[float | None, list[str]]:
    """spec 4.7: (`mscc_date`, else `referral_date` with flag) minus the diagnosis date, in months.

    A diagnosis dated after the reference date (an unknown primary diagnosed during this work-up)
    counts as 0 months: the contract's input is >= 0, and it scores as `<= 15` either way.
    """
    if facts.primary_diagnosis_date is None:
        return None, []
    if derived.mscc_date is not None:
        reference, flags = derived.mscc_date, []
    else:
        reference, flags = facts.referral_date, [FLAG_RADES_TO_REFERRAL_DATE]
    days = max(0, (reference - facts.primary_diagnosis_date).days)
    return days / DAYS_PER_MONTH, flags


def _motor_deficit_days(facts: CaseFacts) -> tuple[int | None, list[str]]:
    """spec 4.7: referral date minus deficit onset, minimum 1; missing without a motor deficit.

    An onset after the referral date also counts as 1 day (the minimum) but is not flagged: the
    flag's condition (spec 3.12) is an onset on the referral day.
    """
    onset = facts.motor_deficit_onset
    if facts.motor_deficit is not True or onset is None:
        return None, []
    flags = [FLAG_RADES_ONSET_ON_REFERRAL_DAY] if onset == facts.referral_date else []
    return max(MIN_DEFICIT_DAYS, (facts.referral_date - onset).days), flags


def _rades(facts: CaseFacts, derived: DerivedFacts) -> ScoreResult:
    months, month_flags = _months_from_diagnosis(facts, derived)
    days, day_flags = _motor_deficit_days(facts)
    status = facts.ambulatory_status
    walk_flags = [FLAG_RADES_WITH_AID] if status == "with_aid" else []
    result = rades.compute(
        {
            "primary": facts.primary,
            "months_from_diagnosis": months,
            "visceral_metastases": derived.visceral,
            "other_bone_metastases": derived.other_bone_metastases,
            "ambulatory": None if status is None else status in AMBULATORY_STATUSES,
            "motor_deficit_days": days,
        }
    )
    return _case_flags(result, *month_flags, *_brain_flag(facts), *walk_flags, *day_flags)


def _bollen(facts: CaseFacts, derived: DerivedFacts, resolved: ResolvedKps) -> ScoreResult:
    kps, flags = _kps_within(resolved, bollen.KPS_GROUP)
    result = bollen.compute(
        {
            "primary": facts.primary,
            "bollen_profile": facts.bollen_profile,
            "kps": kps,
            "visceral_or_brain_metastases": derived.visceral_or_brain,
        }
    )
    return _case_flags(result, *flags)


def score_case(facts: CaseFacts) -> dict[str, ScoreResult]:
    """All eleven systems for a case, in the contract's order (spec 4.5-4.7).

    Case `sins` and `bilsky` come from the index lesion, or are incomplete with missing
    `index_lesion` when the index cannot be decided.
    """
    derived = derive(facts)
    resolved = resolve_kps(facts.kps, facts.ecog)
    index = index_lesion(facts)
    if index is not None:
        lesion_results = score_lesion(index, facts)
        sins_result, bilsky_result = lesion_results["sins"], lesion_results["bilsky"]
    else:
        sins_result = _without_index(ResultBuilder(sins.META, {}))
        bilsky_result = _without_index(ResultBuilder(bilsky.META, {}))
    bauer_result, bauer_modified_result = _bauer(facts, derived)
    return {
        "sins": sins_result,
        "bilsky": bilsky_result,
        "performance_status": _performance_status(facts),
        "tokuhashi_revised": _tokuhashi(facts, derived, resolved),
        "tomita": _tomita(facts, derived),
        "bauer": bauer_result,
        "bauer_modified": bauer_modified_result,
        "van_der_linden": _van_der_linden(facts, derived, resolved),
        "rades": _rades(facts, derived),
        "bollen": _bollen(facts, derived, resolved),
        "radiosensitivity": radiosensitivity.compute({"primary": facts.primary}),
    }
