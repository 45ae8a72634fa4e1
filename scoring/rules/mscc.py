"""MSCC emergency pathway (spec 6) and the case facts the pure treatment rules read.

`CaseInput` and `CaseLesion` are the one input of both this module and `noms.py` (spec 5): a
snapshot of the four case sections (spec 4), already scored per lesion (SINS totals come from the
SINS system). They live here rather than in `noms.py` because NOMS takes its urgency from this
module (spec 5.3 R21), so this is the lower layer and no import cycle arises.

`None` always means "not recorded" and is never treated as `False` (spec 1.1 item 2).
Everything is pure: times are passed in, nothing reads a clock, settings or the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, cast

from scoring.rules import bilsky, sins
from scoring.rules.primary import PRIMARIES, Radiosensitivity

Urgency = Literal["routine", "urgent", "emergency"]
EscClass = Literal["low", "borderline", "high"]

# spec 6.5: ordered from lowest to highest; "the higher of" compares positions in this tuple.
URGENCY_LEVELS: Final[tuple[Urgency, ...]] = ("routine", "urgent", "emergency")

# Contract SINS level codes in cranio-caudal order (spec 3.1); the order sorts proposal items.
LEVELS: Final[tuple[str, ...]] = sins.LEVELS

# spec 3.2 "Category" column: the class of each grade, from the Bilsky system's own table.
ESCC_CLASS: Final[dict[str, EscClass]] = {grade: cast(EscClass, cls) for grade, (_, cls) in bilsky.GRADES.items()}
HIGH_GRADE_ESCC: Final = frozenset(grade for grade, cls in ESCC_CLASS.items() if cls == "high")

# spec 3.1 category bands, as far as spec 5 and 6 read them, from the SINS system's own bands.
_SINS_BAND: Final = {band.category: band for band in sins.BANDS}
SINS_MAX: Final = _SINS_BAND["unstable"].high
SINS_POTENTIALLY_UNSTABLE: Final = range(
    _SINS_BAND["potentially_unstable"].low, _SINS_BAND["potentially_unstable"].high + 1
)
SINS_UNSTABLE: Final = range(_SINS_BAND["unstable"].low, _SINS_BAND["unstable"].high + 1)

SINS_PAIN_CODES: Final = ("mechanical", "occasional_non_mechanical", "pain_free")
MECHANICAL_JUDGEMENTS: Final = ("unstable", "stable")
FRANKEL_GRADES: Final = ("A", "B", "C", "D", "E")
FRANKEL_DEFICIT: Final = frozenset({"A", "B", "C", "D"})
SYSTEMIC_CONTROL_CODES: Final = ("controlled", "uncontrolled", "not_assessed")
VISCERAL_ORGAN_CODES: Final = ("lung", "liver", "kidney", "adrenal", "pleura", "peritoneum", "other")

# spec 6.3 step 5, the R1 note of spec 5.3 (solid radiosensitive tumours: breast, prostate, germ_cell).
RADIOSENSITIVE_SOLID_NOTE: Final = (
    "the review names only haematological tumours as completely radiosensitive; "
    "board confirms radiotherapy over decompression"
)


class CaseInputError(ValueError):
    """A case fact outside its contract choices or bounds (spec 1.1: rejected, never rounded)."""


def _check_choice(name: str, value: object, choices: tuple[str, ...] | frozenset[str]) -> None:
    if value is not None and value not in choices:
        raise CaseInputError(f"{name}: {value!r} is not one of {sorted(choices)}")


def _check_bool(name: str, value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise CaseInputError(f"{name}: {value!r} is not a boolean or None")


def _check_int(name: str, value: object, low: int, high: int | None = None, step: int = 1) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise CaseInputError(f"{name}: {value!r} is not an integer")
    if value < low or (high is not None and value > high) or value % step:
        bound = f"{low}-{high}" if high is not None else f">= {low}"
        raise CaseInputError(f"{name}: {value} is outside {bound}" + (f" in steps of {step}" if step > 1 else ""))


def _check_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise CaseInputError(f"{name}: timezone-aware datetime required")


@dataclass(frozen=True, slots=True)
class CaseLesion:
    """One described lesion (spec 4.1, 4.2, 4.4 per-lesion fields, keyed by `level`).

    `sins_total` is the lesion's SINS (spec 3.1) or None when any SINS item is not recorded.
    """

    level: str
    is_index: bool = False
    sins_total: int | None = None
    escc_grade: str | None = None
    mechanical_judgement: str | None = None
    pathological_fracture: bool | None = None
    retropulsion: bool | None = None
    sins_pain: str | None = None
    prior_surgery: bool | None = None

    def __post_init__(self) -> None:
        _check_choice("level", self.level, LEVELS)
        if not isinstance(self.is_index, bool):
            raise CaseInputError(f"is_index: {self.is_index!r} is not a boolean")
        _check_int("sins_total", self.sins_total, 0, SINS_MAX)
        _check_choice("escc_grade", self.escc_grade, tuple(ESCC_CLASS))
        _check_choice("mechanical_judgement", self.mechanical_judgement, MECHANICAL_JUDGEMENTS)
        _check_choice("sins_pain", self.sins_pain, SINS_PAIN_CODES)
        for name in ("pathological_fracture", "retropulsion", "prior_surgery"):
            _check_bool(name, getattr(self, name))

    @property
    def escc_class(self) -> EscClass | None:
        """spec 3.2: the class of the recorded grade; 1c is its own class, never low or high."""
        return ESCC_CLASS[self.escc_grade] if self.escc_grade is not None else None

    @property
    def painful(self) -> bool | None:
        """spec 5.1 M: painful = `sins_pain` is not `pain_free`; unknown when not recorded."""
        return None if self.sins_pain is None else self.sins_pain != "pain_free"


@dataclass(frozen=True, slots=True)
class CaseInput:
    """The case facts read by NOMS (spec 5.1) and the MSCC pathway (spec 6), one per case save.

    Field names are the section data names of spec 4. Deviations, each for a reason:
    - `kps` / `ecog`: both as recorded; NOMS resolves them with `kps.resolve_kps` (spec 3.3).
    - `prior_radiotherapy_levels`: only the levels of oncology `prior_radiotherapy` (R24 reads no
      dose); an empty tuple means none recorded.
    - `corticosteroid_dose`: pain `corticosteroid_dose` when `corticosteroid_current`, shown beside
      the dexamethasone step (spec 6.3 step 3).
    - `surgery_recorded`: whether the surgery section holds a neurological examination yet; the
      spec 6.2 near miss "surgery section not yet recorded" depends on it.
    The index lesion is the lesion with `is_index` (spec 4.5), so no separate index level is taken.
    """

    primary: str | None = None
    lesions: tuple[CaseLesion, ...] = ()
    myelopathy: bool | None = None
    motor_deficit: bool | None = None
    bladder_bowel_dysfunction: bool | None = None
    frankel: str | None = None
    kps: int | None = None
    ecog: int | None = None
    expected_survival_months: float | None = None
    fit_for_surgery: bool | None = None
    fit_for_surgery_reason: str | None = None
    systemic_control: str | None = None
    vertebrae_involved: int | None = None
    extraspinal_bone_metastases: int | None = None
    visceral_organs: tuple[str, ...] | None = None
    brain_metastases: bool | None = None
    molecular_alterations: str | None = None
    whole_spine_imaging_at: datetime | None = None
    prior_radiotherapy_levels: tuple[str, ...] = ()
    night_or_rest_pain: bool | None = None
    corticosteroid_dose: str | None = None
    surgery_recorded: bool = False

    def __post_init__(self) -> None:
        _check_choice("primary", self.primary, tuple(PRIMARIES))
        levels = [lesion.level for lesion in self.lesions]
        if len(set(levels)) != len(levels):
            raise CaseInputError(f"lesions: each level may be described once, got {levels}")
        for name in (
            "myelopathy",
            "motor_deficit",
            "bladder_bowel_dysfunction",
            "fit_for_surgery",
            "brain_metastases",
            "night_or_rest_pain",
        ):
            _check_bool(name, getattr(self, name))
        _check_choice("frankel", self.frankel, FRANKEL_GRADES)
        _check_int("kps", self.kps, 0, 100, step=10)
        _check_int("ecog", self.ecog, 0, 5)
        es = self.expected_survival_months
        if es is not None and (
            isinstance(es, bool) or not isinstance(es, int | float) or not math.isfinite(es) or es < 0
        ):
            raise CaseInputError(f"expected_survival_months: {es!r} is not a number >= 0")
        _check_choice("systemic_control", self.systemic_control, SYSTEMIC_CONTROL_CODES)
        _check_int("vertebrae_involved", self.vertebrae_involved, 1)
        _check_int("extraspinal_bone_metastases", self.extraspinal_bone_metastases, 0)
        for organ in self.visceral_organs or ():
            _check_choice("visceral_organs", organ, VISCERAL_ORGAN_CODES)
        for level in self.prior_radiotherapy_levels:
            _check_choice("prior_radiotherapy_levels", level, LEVELS)
        _check_aware("whole_spine_imaging_at", self.whole_spine_imaging_at)
        if not isinstance(self.surgery_recorded, bool):
            raise CaseInputError(f"surgery_recorded: {self.surgery_recorded!r} is not a boolean")

    @property
    def index_lesion(self) -> CaseLesion | None:
        """spec 4.5: the lesion marked `is_index`; a single lesion is the index by default.

        Several lesions and none marked (or, against spec 4.5, more than one marked) leave the
        index missing, so NOMS reports `index_lesion` as missing rather than guessing.
        """
        marked = [lesion for lesion in self.lesions if lesion.is_index]
        if len(marked) == 1:
            return marked[0]
        if not marked and len(self.lesions) == 1:
            return self.lesions[0]
        return None


# ---------------------------------------------------------------------------------------------
# spec 6.1 trigger


@dataclass(frozen=True, slots=True)
class TriggerResult:
    """spec 6.1: whether the case is an MSCC emergency, which clauses fired and why."""

    emergency: bool
    clauses: tuple[Literal["a", "b"], ...]
    reasons: tuple[str, ...]


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def emergency_trigger(case: CaseInput) -> TriggerResult:
    """spec 6.1: known or suspected cancer (every referred case) and clause (a) or (b).

    (a) any lesion with ESCC 2 or 3 and (`motor_deficit` or `myelopathy`);
    (b) new myelopathy before any imaging: `myelopathy`, `motor_deficit`, `bladder_bowel_dysfunction`
        or Frankel A-D. Only recorded `True` values (and a recorded Frankel grade) count: a sign that
        is not recorded cannot fire the trigger; `compute_urgency` prompts for it instead.
    """
    cord_signs = [
        name
        for value, name in ((case.myelopathy, "myelopathy"), (case.motor_deficit, "motor deficit"))
        if value is True
    ]
    clauses: list[Literal["a", "b"]] = []
    reasons: list[str] = []
    compressed = [lesion for lesion in case.lesions if lesion.escc_grade in HIGH_GRADE_ESCC]
    if compressed and cord_signs:
        where = _join([f"ESCC {lesion.escc_grade} at {lesion.level}" for lesion in compressed])
        clauses.append("a")
        reasons.append(f"(a) {where} with {_join(cord_signs)}")
    signs = list(cord_signs)
    if case.bladder_bowel_dysfunction is True:
        signs.append("bladder/bowel dysfunction")
    if case.frankel in FRANKEL_DEFICIT:
        signs.append(f"Frankel {case.frankel}")
    if signs:
        clauses.append("b")
        reasons.append(f"(b) new myelopathy: {_join(signs)}")
    return TriggerResult(emergency=bool(clauses), clauses=tuple(clauses), reasons=tuple(reasons))


# ---------------------------------------------------------------------------------------------
# spec 6.5 urgency (with the near misses of spec 6.2)

PROMPT_NEURO_NOT_RECORDED: Final = "neurological status not recorded"


@dataclass(frozen=True, slots=True)
class UrgencyResult:
    """spec 6.5: the computed urgency, the criteria behind it and prompts for missing facts."""

    level: Urgency
    reasons: tuple[str, ...]
    prompts: tuple[str, ...]


def compute_urgency(case: CaseInput) -> UrgencyResult:
    """spec 6.5, recomputed on every save. Near misses of spec 6.2 stay `urgent` or `routine`."""
    trigger = emergency_trigger(case)
    compressed = [lesion for lesion in case.lesions if lesion.escc_grade in HIGH_GRADE_ESCC]
    prompts: list[str] = []
    # spec 6.2 row 2: ESCC 2/3 before the surgeon has examined the patient. A recorded section whose
    # myelopathy or motor deficit is still blank leaves clause (a) just as undecided, so it prompts too.
    neuro_unknown = not case.surgery_recorded or case.myelopathy is None or case.motor_deficit is None
    if compressed and neuro_unknown and not trigger.emergency:
        prompts.append(PROMPT_NEURO_NOT_RECORDED)
    if trigger.emergency:
        return UrgencyResult(level="emergency", reasons=trigger.reasons, prompts=tuple(prompts))

    reasons: list[str] = []
    for lesion in case.lesions:
        if lesion.sins_total is not None and lesion.sins_total in SINS_UNSTABLE:
            reasons.append(f"SINS {lesion.sins_total} at {lesion.level} (unstable, 13-18)")
    reasons.extend(f"ESCC {lesion.escc_grade} at {lesion.level}" for lesion in compressed)
    for lesion in case.lesions:
        # spec 6.5: a fracture without prior surgery is treated as new. A blank `prior_surgery` is
        # not evidence of an operated (old) fracture, so it counts as new: the safer reading.
        if lesion.pathological_fracture is True and lesion.prior_surgery is not True:
            reasons.append(f"pathological fracture at {lesion.level} without prior surgery (treated as new)")
    painful = [lesion.level for lesion in case.lesions if lesion.painful is True]
    if case.whole_spine_imaging_at is None and (painful or case.night_or_rest_pain is True):
        where = f" at {_join(painful)}" if painful else ""
        night = " with night or rest pain" if case.night_or_rest_pain is True else ""
        reasons.append(f"spinal pain{where}{night} and no whole-spine MRI yet (review 3)")
    level: Urgency = "urgent" if reasons else "routine"
    return UrgencyResult(level=level, reasons=tuple(reasons), prompts=tuple(prompts))


class UrgencyOverrideError(ValueError):
    """The chair lowered the urgency below the computed value without a recorded reason (spec 6.5)."""


def effective_urgency(computed: Urgency, override: Urgency | None, override_reason: str | None) -> Urgency:
    """spec 6.1 / 6.5: the urgency the case carries, given the chair's override.

    Spec 6.5 says the effective value is "the higher of the computed and the chair's" and also that
    lowering needs a reason; read together (spec 6.1: "the chair may lower an emergency only with a
    recorded reason"), a raise always applies and a lowering applies only with a non-blank reason.
    Both the computed value and the override are stored by the caller.
    """
    for name, value in (("computed", computed), ("override", override)):
        if value is not None and value not in URGENCY_LEVELS:
            raise ValueError(f"{name}: {value!r} is not one of {URGENCY_LEVELS}")
    if override is None:
        return computed
    if URGENCY_LEVELS.index(override) >= URGENCY_LEVELS.index(computed):
        return override
    if not (override_reason and override_reason.strip()):
        raise UrgencyOverrideError(
            f"Lowering the urgency from {computed} to {override} needs a recorded reason "
            "(for example a long-standing deficit already treated)."
        )
    return override


# ---------------------------------------------------------------------------------------------
# spec 6.3 checklist


@dataclass(frozen=True, slots=True)
class ChecklistStep:
    """One step of the spec 6.3 checklist; `code` is stable (acknowledgements are stored by it)."""

    code: str
    text: str
    radiosensitive_only: bool = False
    detail: str | None = None


DEXAMETHASONE_REGIMEN: Final = (
    "Dexamethasone 8 mg i.v. bolus, then 8 mg every 12 hours (i.v., i.m. or p.o.); taper after definitive treatment."
)

CHECKLIST_STEPS: Final[tuple[ChecklistStep, ...]] = (
    ChecklistStep("admit", "Immediate hospital admission."),
    ChecklistStep(
        "whole_spine_mri",
        "Whole-spine MRI with contrast immediately, to exclude multilevel compression (CT if MRI is impossible).",
    ),
    # spec 6.3 step 3: the review's own algorithm (review 5); never the 10/16 mg regimen of review
    # 4.2 and never high doses (96 mg/day).
    ChecklistStep("dexamethasone", DEXAMETHASONE_REGIMEN),
    ChecklistStep("surgical_consult", "Urgent spine surgeon consultation."),
    ChecklistStep(
        "radiotherapy_consult",
        "Urgent radiotherapy instead of surgery (radiation oncology consultation).",
        radiosensitive_only=True,
    ),
    ChecklistStep("board_plan", "Definitive treatment plan recorded by the board."),
)


def checklist_for(case: CaseInput) -> tuple[ChecklistStep, ...]:
    """The spec 6.3 steps that apply to this case, with case details beside them.

    The radiotherapy step appears only for a radiosensitive primary (an unrecorded primary is not
    known to be radiosensitive); for a solid one (breast, prostate, germ_cell) it carries the R1 note.
    The dexamethasone step shows a recorded current corticosteroid.
    """
    mapping = PRIMARIES[case.primary] if case.primary is not None else None
    steps: list[ChecklistStep] = []
    for step in CHECKLIST_STEPS:
        if step.radiosensitive_only:
            if mapping is None or mapping.radiosensitivity is not Radiosensitivity.RADIOSENSITIVE:
                continue
            if mapping.solid:
                step = ChecklistStep(step.code, step.text, True, f"{mapping.label}: {RADIOSENSITIVE_SOLID_NOTE}")
        elif step.code == "dexamethasone" and case.corticosteroid_dose:
            step = ChecklistStep(
                step.code, step.text, False, f"Corticosteroid already recorded: {case.corticosteroid_dose}"
            )
        steps.append(step)
    return tuple(steps)


# ---------------------------------------------------------------------------------------------
# spec 6.4 clock

CLOCK_TARGET: Final = timedelta(hours=24)  # NICE QS56 statement 3
SubTargetStatus = Literal["running", "met", "breached"]


@dataclass(frozen=True, slots=True)
class SubTarget:
    """One sub-target of the 24-hour clock (imaging or plan) at the time `now`."""

    name: Literal["imaging", "plan"]
    stopped_at: datetime | None
    elapsed: timedelta
    remaining: timedelta
    status: SubTargetStatus

    @property
    def done(self) -> bool:
        return self.stopped_at is not None


@dataclass(frozen=True, slots=True)
class ClockState:
    """spec 6.4: the MSCC clock since the trigger first became true."""

    started_at: datetime
    deadline: datetime
    now: datetime
    imaging: SubTarget
    plan: SubTarget

    @property
    def breached(self) -> bool:
        return "breached" in (self.imaging.status, self.plan.status)

    @property
    def met(self) -> bool:
        return self.imaging.status == "met" and self.plan.status == "met"


def _sub_target(
    name: Literal["imaging", "plan"], started_at: datetime, stop: datetime | None, now: datetime
) -> SubTarget:
    deadline = started_at + CLOCK_TARGET
    # spec 6.4: an event stops the sub-target only if it is later than the start (an MRI or plan
    # from before the emergency did not answer it) and, being recorded, not after `now`.
    stopped_at = stop if stop is not None and started_at < stop <= now else None
    end = stopped_at or now
    status: SubTargetStatus
    if end > deadline:
        status = "breached"
    elif stopped_at is not None:
        status = "met"
    else:
        status = "running"
    return SubTarget(
        name=name,
        stopped_at=stopped_at,
        elapsed=end - started_at,
        remaining=max(deadline - end, timedelta(0)),
        status=status,
    )


def mscc_clock(
    started_at: datetime, imaging_at: datetime | None, plan_at: datetime | None, now: datetime
) -> ClockState:
    """spec 6.4: elapsed and remaining time of the imaging and plan sub-targets at `now`.

    `started_at` is when the trigger first became true; `imaging_at` is `whole_spine_imaging_at`;
    `plan_at` is when the board recorded a decision. After 24 hours an unmet sub-target is
    `breached` (a sub-target met only after 24 hours stays breached: it was unmet at the deadline).
    The same "later than the start" rule applies to the plan, where spec 6.4 is silent.
    """
    for name, value in (("started_at", started_at), ("imaging_at", imaging_at), ("plan_at", plan_at), ("now", now)):
        _check_aware(name, value)
    if now < started_at:
        raise ValueError("now is before the clock started")
    return ClockState(
        started_at=started_at,
        deadline=started_at + CLOCK_TARGET,
        now=now,
        imaging=_sub_target("imaging", started_at, imaging_at, now),
        plan=_sub_target("plan", started_at, plan_at, now),
    )
