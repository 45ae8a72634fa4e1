"""NOMS decision support (spec 5): a treatment proposal for the board, from the case facts.

`propose(case)` follows the assembly of spec 5.4 step by step: required inputs (5.1), the surgery
gate and R11-R13, the mechanical rules R7-R10, one radiation rule, R14-R24, the gate applied to
every surgical item, then the constraints C1-C7 of spec 5.5. Each rule is data (`RULES`: id,
review section, rationale) plus one small function that returns a `_Firing` (its patient-specific
text and what it adds) or None when its condition does not hold. Prognostic scores are never read
(spec 1.6). The input is `CaseInput` (defined in `mscc.py`, shared with the MSCC rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Literal

from scoring.rules.kps import FLAG_KPS_CONVERTED, resolve_kps
from scoring.rules.mscc import (
    DEXAMETHASONE_REGIMEN,
    LEVELS,
    RADIOSENSITIVE_SOLID_NOTE,
    SINS_POTENTIALLY_UNSTABLE,
    SINS_UNSTABLE,
    CaseInput,
    CaseLesion,
    EscClass,
    TriggerResult,
    Urgency,
    UrgencyResult,
    compute_urgency,
    emergency_trigger,
)
from scoring.rules.primary import PRIMARIES, PrimaryMapping, Radiosensitivity

ENGINE_VERSION: Final = "1.0"

# spec 5.1: `good_survival` = es >= 6 months. A product convention (the review gives no number).
GOOD_SURVIVAL_MONTHS: Final = 6
# review 4.1.1 thresholds used by the gate and R11/R12.
VERY_SHORT_SURVIVAL_MONTHS: Final = 2
SURGERY_MIN_SURVIVAL_MONTHS: Final = 3
POOR_KPS: Final = 40

Gate = Literal["allowed", "open", "excluded"]
Mech = Literal["stable", "unstable", "pending"]
Modality = Literal["cebrt", "srs", "open"]
Procedure = Literal["separation_surgery", "decompression", "stabilisation", "en_bloc_resection", "cement_augmentation"]
ItemStatus = Literal["proposed", "candidate", "open", "withheld"]

PROCEDURES: Final[tuple[Procedure, ...]] = (
    "separation_surgery",
    "decompression",
    "stabilisation",
    "en_bloc_resection",
    "cement_augmentation",
)
# Strength of an item status when two items merge (spec 5.4 step 6).
_STATUS_STRENGTH: Final[dict[ItemStatus, int]] = {"withheld": 0, "open": 1, "candidate": 2, "proposed": 3}


class Option(StrEnum):
    """The options an open decision may offer (output as their text)."""

    CEBRT = "cEBRT"
    SRS = "SRS"
    SEPARATION_THEN_SRS = "separation surgery then SRS"
    IMMEDIATE_DECOMPRESSION = "immediate decompression"
    URGENT_RADIOTHERAPY = "urgent radiotherapy"
    STABLE = "stable"
    UNSTABLE = "unstable"
    PROCEED_WITH_SURGERY = "proceed with surgery"
    NO_SURGERY = "no surgery"


# Options that are a spinal procedure (spec 5.1 "Surgery"); the gate removes them (spec 5.4 step 6).
SURGICAL_OPTIONS: Final = frozenset(
    {Option.SEPARATION_THEN_SRS, Option.IMMEDIATE_DECOMPRESSION, Option.PROCEED_WITH_SURGERY}
)


class ConstraintViolation(AssertionError):
    """A proposal breaks a spec 5.5 constraint: a programming error, never stored."""


# ---------------------------------------------------------------------------------------------
# The proposal (spec 5.2, contract "GET /api/v1/cases/<id>/recommendation/")


@dataclass(frozen=True, slots=True)
class Radiation:
    """`after_surgery`: the radiation is sequenced after a proposed surgical item (checked by C1)."""

    modality: Modality | None = None
    fractionation: str | None = None
    timing: str | None = None
    rules: tuple[str, ...] = ()
    after_surgery: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "modality": self.modality,
            "fractionation": self.fractionation,
            "timing": self.timing,
            "rules": list(self.rules),
        }


@dataclass(frozen=True, slots=True)
class SurgeryItem:
    procedure: Procedure
    level: str
    status: ItemStatus
    rules: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"procedure": self.procedure, "level": self.level, "status": self.status, "rules": list(self.rules)}


@dataclass(frozen=True, slots=True)
class Entry:
    """A systemic, supportive, work-up or note entry: a stable code, the text and its rules."""

    code: str
    text: str
    rules: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "rules": list(self.rules)}


@dataclass(frozen=True, slots=True)
class OpenDecision:
    question: str
    options: tuple[Option, ...]
    rules: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "options": [str(o) for o in self.options], "rules": list(self.rules)}


@dataclass(frozen=True, slots=True)
class FiredRule:
    rule: str
    spec: str
    review: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "spec": self.spec, "review": self.review, "text": self.text}


@dataclass(frozen=True, slots=True)
class Proposal:
    """A NOMS proposal. `urgency_detail` carries the reasons and prompts of spec 6.5 for the page."""

    status: Literal["complete", "incomplete"]
    urgency: Urgency
    radiation: Radiation
    surgery: tuple[SurgeryItem, ...]
    systemic: tuple[Entry, ...]
    supportive: tuple[Entry, ...]
    work_up: tuple[Entry, ...]
    open_decisions: tuple[OpenDecision, ...]
    notes: tuple[Entry, ...]
    flags: tuple[str, ...]
    fired_rules: tuple[FiredRule, ...]
    missing: tuple[str, ...]
    missing_optional: tuple[str, ...]
    urgency_detail: UrgencyResult

    @property
    def fired_rule_ids(self) -> tuple[str, ...]:
        return tuple(f.rule for f in self.fired_rules)

    def to_dict(self) -> dict[str, Any]:
        """The contract JSON without `computed_at` and `version` (the persistence layer adds them)."""
        return {
            "status": self.status,
            "urgency": self.urgency,
            "radiation": self.radiation.to_dict(),
            "surgery": [s.to_dict() for s in self.surgery],
            "systemic": [e.to_dict() for e in self.systemic],
            "supportive": [e.to_dict() for e in self.supportive],
            "work_up": [e.to_dict() for e in self.work_up],
            "open_decisions": [d.to_dict() for d in self.open_decisions],
            "notes": [e.to_dict() for e in self.notes],
            "flags": list(self.flags),
            "fired_rules": [f.to_dict() for f in self.fired_rules],
            "missing": list(self.missing),
            "missing_optional": list(self.missing_optional),
        }


# ---------------------------------------------------------------------------------------------
# Rule data (spec 5.3 table: review section and rationale)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    review: str
    rationale: str
    spec: str = "5.3"


RULES: Final[dict[str, Rule]] = {
    r.id: r
    for r in (
        Rule(
            "R1",
            "4.5, 1, 4.1.3",
            "Radiosensitive tumours respond to conventional EBRT, an excellent stand-alone treatment even for MSCC",
        ),
        Rule(
            "R2", "4.5", "cEBRT controls under 50 % of radioresistant tumours; SRS is definitive in the absence of MSCC"
        ),
        Rule(
            "R3",
            "4.6, 4.5",
            "SRS is unsafe next to a compressed cord; separation surgery creates a 2-3 mm margin for safe SRS",
        ),
        Rule(
            "R4",
            "4.5, 4.6",
            "SRS is not used while the cord is compressed; cEBRT is the fallback when surgery is not possible",
        ),
        Rule("R5", "4.1.3, 4.5", "Management of cord abutment without compression is unsettled; the board decides"),
        Rule("R6", "4.1.4, 4.5", "The review does not classify this histology; radiosensitivity decides the modality"),
        Rule("R7", "4.1.2, 4.6", "High SINS is a clear indication for surgical stabilisation"),
        Rule("R8", "4.1.2", "Potential instability needs a spine surgeon's judgement"),
        Rule("R9", "4.6", "Vertebroplasty and kyphoplasty treat painful pathological fractures in a stable spine"),
        Rule(
            "R10",
            "4.1.3",
            "A motor deficit from a solid metastasis needs immediate decompression, except "
            "completely radiosensitive tumours",
        ),
        Rule(
            "R11",
            "4.1.1",
            "In poor condition with very short survival, radiotherapy and palliative care minimise treatment burden",
        ),
        Rule("R12", "4.1.1", "Surgery is usually acceptable only with expected survival of 3 months or more"),
        Rule("R13", "4.1.1", "Procedures must be tolerable for the patient"),
        Rule(
            "R14",
            "4.5",
            "Single-fraction EBRT is three times more likely to need re-irradiation; multiple "
            "fractions give better local control",
        ),
        Rule("R15", "4.6", "Solitary metastasis with good systemic control suits en bloc resection"),
        Rule("R16", "4.1.4, 4.6", "Vascularity matters for the surgical approach"),
        Rule("R17", "3", "Locate the primary before treatment; biopsy weakens bone and can cause fracture"),
        Rule("R18", "4.4", "Highly chemosensitive tumours"),
        Rule("R19", "4.3", "Reduces fracture risk, lytic pain and hypercalcaemia"),
        Rule("R20", "4.6", "Radiotherapy is safe at least a week before or after surgery"),
        Rule("R21", "5, 2", "MSCC needs immediate treatment"),
        Rule("R22", "4.1.1, 4.4", "Targeted therapy can extend survival from months to years"),
        Rule("R23", "3", "MRI is the gold standard; other imaging first only delays diagnosis"),
        Rule("R24", "4.5", "Prior dose limits further conventional EBRT"),
    )
}


def _rule_number(rule_id: str) -> int:
    return int(rule_id[1:])


def _sorted_rules(rules: tuple[str, ...] | list[str] | set[str]) -> tuple[str, ...]:
    return tuple(sorted(set(rules), key=_rule_number))


# ---------------------------------------------------------------------------------------------
# Derived states (spec 5.1)


def mechanical_state(sins_total: int | None, judgement: str | None) -> Mech | None:
    """spec 5.1 M: `mech` of a lesion; None when its SINS is not complete."""
    if sins_total is None:
        return None
    if sins_total in SINS_UNSTABLE:
        return "unstable"
    if sins_total in SINS_POTENTIALLY_UNSTABLE:
        if judgement == "unstable":
            return "unstable"
        return "stable" if judgement == "stable" else "pending"
    return "stable"


def surgery_gate(fit_for_surgery: bool | None, es: float | None) -> Gate | None:
    """spec 5.1 S: `excluded` if not fit or es <= 2; `open` if fit and 2 < es < 3; `allowed` if fit
    and es >= 3. None when the recorded facts do not decide it."""
    if fit_for_surgery is False or (es is not None and es <= VERY_SHORT_SURVIVAL_MONTHS):
        return "excluded"
    if fit_for_surgery is None or es is None:
        return None
    return "allowed" if es >= SURGERY_MIN_SURVIVAL_MONTHS else "open"


def solitary_metastasis(case: CaseInput) -> bool | None:
    """spec 5.1 / 4.6: `solitary` and not `visceral_or_brain`.

    Three-valued: a fact already decided by recorded inputs (for example 3 vertebrae involved) is
    decided even if another input is blank; otherwise a blank input leaves it missing (spec 4.6).
    """
    vertebrae, extraspinal = case.vertebrae_involved, case.extraspinal_bone_metastases
    if (vertebrae is not None and vertebrae != 1) or (extraspinal is not None and extraspinal != 0):
        solitary: bool | None = False
    elif vertebrae is None or extraspinal is None:
        solitary = None
    else:
        solitary = True
    visceral = None if case.visceral_organs is None else bool(case.visceral_organs)
    if visceral is True or case.brain_metastases is True:
        visceral_or_brain: bool | None = True
    elif visceral is False and case.brain_metastases is False:
        visceral_or_brain = False
    else:
        visceral_or_brain = None
    if solitary is False or visceral_or_brain is True:
        return False
    if solitary is None or visceral_or_brain is None:
        return None
    return True


@dataclass(frozen=True, slots=True)
class _Facts:
    """Derived states of spec 5.1 for one case, computed once and read by every rule."""

    case: CaseInput
    primary: PrimaryMapping | None
    rs: Radiosensitivity | None
    solid: bool | None
    index: CaseLesion | None
    escc_class: EscClass | None
    kps: int | None
    kps_converted: bool
    es: float | None
    gate: Gate | None
    solitary_metastasis: bool | None
    good_survival: bool | None
    trigger: TriggerResult

    @property
    def label(self) -> str:
        """The histology as a clinician reads it in a sentence: "kidney, renal cell"."""
        if self.primary is None:
            return "primary not recorded"
        return self.primary.label.lower().replace(" (", ", ").replace(")", "")


def _facts(case: CaseInput) -> _Facts:
    primary = PRIMARIES[case.primary] if case.primary is not None else None
    index = case.index_lesion
    resolved = resolve_kps(case.kps, case.ecog)
    es = case.expected_survival_months
    return _Facts(
        case=case,
        primary=primary,
        rs=primary.radiosensitivity if primary else None,
        solid=primary.solid if primary else None,
        index=index,
        escc_class=index.escc_class if index else None,
        kps=resolved.kps,
        kps_converted=resolved.converted,
        es=es,
        gate=surgery_gate(case.fit_for_surgery, es),
        solitary_metastasis=solitary_metastasis(case),
        good_survival=None if es is None else es >= GOOD_SURVIVAL_MONTHS,
        trigger=emergency_trigger(case),
    )


def _missing_required(f: _Facts) -> list[str]:
    """spec 5.1 required inputs, as contract input names."""
    c = f.case
    missing = [] if c.primary is not None else ["primary"]
    if f.index is None:
        missing.append("index_lesion")
    else:
        if f.index.escc_grade is None:
            missing.append("escc_grade")
        if f.index.sins_total is None:
            missing.append("sins")
    missing += [name for name in ("myelopathy", "motor_deficit") if getattr(c, name) is None]
    if f.kps is None:
        missing.append("kps")
    missing += [name for name in ("expected_survival_months", "fit_for_surgery") if getattr(c, name) is None]
    return missing


def _lesion_field(lesion: CaseLesion, name: str) -> str:
    # Per-lesion inputs are named by their place in the section JSON (lesions keyed by level).
    return f"lesions[{lesion.level}].{name}"


def _missing_optional(f: _Facts) -> list[str]:
    """spec 5.1: inputs only one rule needs, listed when their absence stops that rule firing.

    Beyond the four the spec names, the R15 case facts (solitary, visceral, brain) and a non-index
    lesion's incomplete SINS (R7-R9) are listed on the same principle.
    """
    c = f.case
    out: list[str] = []
    for lesion in c.lesions:
        mech = mechanical_state(lesion.sins_total, lesion.mechanical_judgement)
        if mech is None and lesion is not f.index:
            out.append(_lesion_field(lesion, "sins"))
        elif mech == "pending":
            out.append(_lesion_field(lesion, "mechanical_judgement"))  # R8
        elif mech == "stable":
            r9 = (
                ("pathological_fracture", lesion.pathological_fracture, True),
                ("retropulsion", lesion.retropulsion, False),
                ("sins_pain", lesion.painful, True),
            )
            if all(value is None or value is wanted for _, value, wanted in r9):
                out += [_lesion_field(lesion, name) for name, value, _ in r9 if value is None]
    r15_possible = (
        f.solitary_metastasis is not False
        and f.gate in ("allowed", None)
        and c.systemic_control in ("controlled", None)
    )
    if r15_possible:
        if c.systemic_control is None:
            out.append("systemic_control")
        if f.solitary_metastasis is None:
            out += [
                name
                for name in ("vertebrae_involved", "extraspinal_bone_metastases", "visceral_organs", "brain_metastases")
                if getattr(c, name) is None
            ]
    return out


# ---------------------------------------------------------------------------------------------
# Rule functions. Each returns what the rule adds, or None when its condition does not hold.


@dataclass(frozen=True, slots=True)
class _Firing:
    rule: str
    text: str
    radiation: Radiation | None = None
    surgery: tuple[SurgeryItem, ...] = ()
    decisions: tuple[OpenDecision, ...] = ()
    notes: tuple[Entry, ...] = ()
    supportive: tuple[Entry, ...] = ()
    systemic: tuple[Entry, ...] = ()
    work_up: tuple[Entry, ...] = ()


def _months(es: float | None) -> str:
    return f"{es:g} months" if es is not None else "not recorded"


def _grade(f: _Facts) -> str:
    return f"Bilsky {f.index.escc_grade}" if f.index else "ESCC not recorded"


def _index_level(f: _Facts) -> str:
    # Only reached once the required inputs (including the index lesion) are present.
    if f.index is None:
        raise ConstraintViolation("a rule needing the index lesion ran without one")
    return f.index.level


def _gate_reason(f: _Facts) -> str:
    parts = []
    if f.case.fit_for_surgery is False:
        parts.append("not fit for surgery")
    if f.es is not None and f.es < SURGERY_MIN_SURVIVAL_MONTHS:
        parts.append(f"expected survival {_months(f.es)}")
    return " and ".join(parts)


def _r1(f: _Facts) -> _Firing | None:  # spec 5.3 R1
    if f.rs is not Radiosensitivity.RADIOSENSITIVE:
        return None
    notes: tuple[Entry, ...] = ()
    text = (
        f"Radiosensitive histology ({f.label}): conventional EBRT is the radiation whatever the ESCC grade "
        f"({_grade(f)}) or myelopathy"
    )
    if f.solid and f.case.motor_deficit:
        notes = (Entry("radiosensitive_solid_motor_deficit", RADIOSENSITIVE_SOLID_NOTE.capitalize(), ("R1",)),)
        text += "; with a motor deficit from a solid tumour the board confirms radiotherapy over decompression"
    return _Firing("R1", text, radiation=Radiation("cebrt", rules=("R1",)), notes=notes)


def _r2(f: _Facts) -> _Firing | None:  # spec 5.3 R2
    if f.rs is not Radiosensitivity.RADIORESISTANT or f.escc_class != "low":
        return None
    return _Firing(
        "R2",
        f"Low-grade ESCC ({_grade(f)}) with radioresistant histology ({f.label}): cEBRT controls "
        "under 50 %; SRS in 1-5 fractions is definitive in the absence of MSCC",
        radiation=Radiation("srs", fractionation="1-5 fractions", rules=("R2",)),
    )


def _r3(f: _Facts) -> _Firing | None:  # spec 5.3 R3
    if f.rs is not Radiosensitivity.RADIORESISTANT or f.escc_class != "high" or f.gate != "allowed":
        return None
    level = _index_level(f)
    return _Firing(
        "R3",
        f"High-grade ESCC ({_grade(f)}) with radioresistant histology ({f.label}) and expected survival "
        f"{_months(f.es)}: separation surgery (with stabilisation) at {level}, followed by SRS 2-4 weeks later",
        radiation=Radiation(
            "srs",
            fractionation="1-5 fractions",
            timing="2-4 weeks after separation surgery",
            rules=("R3",),
            after_surgery=True,
        ),
        surgery=(SurgeryItem("separation_surgery", level, "proposed", ("R3",)),),
    )


def _r4(f: _Facts) -> _Firing | None:  # spec 5.3 R4
    if f.rs is not Radiosensitivity.RADIORESISTANT or f.escc_class != "high" or f.gate == "allowed":
        return None
    head = f"High-grade ESCC ({_grade(f)}) with radioresistant histology ({f.label})"
    if f.gate == "excluded":
        return _Firing(
            "R4",
            f"{head} and surgery excluded ({_gate_reason(f)}): SRS is not used while the cord is "
            "compressed; cEBRT is the fallback",
            radiation=Radiation("cebrt", rules=("R4",)),
        )
    question = f"Radiation for high-grade ESCC at {_index_level(f)} with expected survival {_months(f.es)}"
    return _Firing(
        "R4",
        f"{head} and expected survival {_months(f.es)} (surgery an open decision): separation surgery then SRS, "
        "or cEBRT",
        radiation=Radiation("open", rules=("R4",)),
        decisions=(OpenDecision(question, (Option.SEPARATION_THEN_SRS, Option.CEBRT), ("R4",)),),
    )


def _r5(f: _Facts) -> _Firing | None:  # spec 5.3 R5
    if f.rs is not Radiosensitivity.RADIORESISTANT or f.escc_class != "borderline":
        return None
    # Both options end in SRS, so the modality is SRS; whether separation surgery comes first is the
    # open decision (the gate step removes that option when surgery is excluded).
    return _Firing(
        "R5",
        f"Cord abutted but not compressed ({_grade(f)}) with radioresistant histology ({f.label}): management is "
        "unsettled; the board chooses SRS alone or separation surgery then SRS",
        radiation=Radiation(
            "srs",
            fractionation="1-5 fractions",
            timing="directly, or 2-4 weeks after separation surgery if the board chooses it",
            rules=("R5",),
        ),
        decisions=(
            OpenDecision(
                f"Cord abutment (Bilsky 1c) at {_index_level(f)}: SRS alone or separation surgery first?",
                (Option.SRS, Option.SEPARATION_THEN_SRS),
                ("R5",),
            ),
        ),
    )


def _r6(f: _Facts) -> _Firing | None:  # spec 5.3 R6
    if f.rs is not Radiosensitivity.UNCLASSIFIED:
        return None
    options = (Option.CEBRT, Option.SEPARATION_THEN_SRS) if f.escc_class == "high" else (Option.CEBRT, Option.SRS)
    return _Firing(
        "R6",
        f"The review does not classify {f.label} for radiosensitivity ({_grade(f)}): radiation modality open "
        f"({' or '.join(options)}); histology and radiation oncology input requested",
        radiation=Radiation("open", rules=("R6",)),
        decisions=(
            OpenDecision(
                f"Radiation modality for {f.label} ({_grade(f)}), histology not classified by the review",
                options,
                ("R6",),
            ),
        ),
        work_up=(
            Entry(
                "histology_and_radiation_oncology",
                "Histology review and radiation oncology input on radiosensitivity",
                ("R6",),
            ),
        ),
    )


def _r7(f: _Facts) -> _Firing | None:  # spec 5.3 R7, every lesion (spec 4.5 item 3)
    hits = [lesion for lesion in f.case.lesions if lesion.sins_total is not None and lesion.sins_total in SINS_UNSTABLE]
    if not hits:
        return None
    where = ", ".join(f"SINS {lesion.sins_total} at {lesion.level}" for lesion in hits)
    return _Firing(
        "R7",
        f"{where} (unstable, 13-18): surgical stabilisation, before any radiation",
        surgery=tuple(SurgeryItem("stabilisation", lesion.level, "proposed", ("R7",)) for lesion in hits),
    )


def _r8(f: _Facts) -> _Firing | None:  # spec 5.3 R8, every lesion
    hits = [
        lesion
        for lesion in f.case.lesions
        if lesion.sins_total is not None and lesion.sins_total in SINS_POTENTIALLY_UNSTABLE
    ]
    if not hits:
        return None
    parts, items, decisions, notes = [], [], [], []
    for lesion in hits:
        head = f"SINS {lesion.sins_total} at {lesion.level} (potentially unstable, 7-12): surgical consultation"
        notes.append(
            Entry(
                "surgical_consultation",
                f"Spine surgeon consultation on the stability of {lesion.level} (SINS {lesion.sins_total})",
                ("R8",),
            )
        )
        if lesion.mechanical_judgement == "unstable":
            parts.append(f"{head}; judged unstable: stabilisation")
            items.append(SurgeryItem("stabilisation", lesion.level, "proposed", ("R8",)))
        elif lesion.mechanical_judgement == "stable":
            parts.append(f"{head}; judged stable: no stabilisation")
        else:
            parts.append(f"{head}; not yet judged: mechanical stability open")
            decisions.append(
                OpenDecision(f"Mechanical stability of {lesion.level}", (Option.STABLE, Option.UNSTABLE), ("R8",))
            )
    return _Firing("R8", "; ".join(parts), surgery=tuple(items), decisions=tuple(decisions), notes=tuple(notes))


def _r9(f: _Facts) -> _Firing | None:  # spec 5.3 R9
    hits = [
        lesion
        for lesion in f.case.lesions
        if mechanical_state(lesion.sins_total, lesion.mechanical_judgement) == "stable"
        and lesion.pathological_fracture is True
        and lesion.painful is True
        and lesion.retropulsion is False
    ]
    if not hits:
        return None
    where = ", ".join(f"{lesion.level} (SINS {lesion.sins_total})" for lesion in hits)
    return _Firing(
        "R9",
        f"Painful pathological fracture without retropulsion in a stable spine at {where}: "
        "cement augmentation (vertebroplasty or kyphoplasty) candidate",
        surgery=tuple(SurgeryItem("cement_augmentation", lesion.level, "candidate", ("R9",)) for lesion in hits),
    )


def _r10(f: _Facts) -> _Firing | None:  # spec 5.3 R10
    if not (f.case.motor_deficit and f.solid and f.rs is not Radiosensitivity.RADIOSENSITIVE):
        return None
    level = _index_level(f)
    if f.rs is Radiosensitivity.RADIORESISTANT:
        return _Firing(
            "R10",
            f"Motor deficit from a solid metastasis of radioresistant histology ({f.label}): immediate decompression "
            f"at {level}",
            surgery=(SurgeryItem("decompression", level, "proposed", ("R10",)),),
        )
    return _Firing(
        "R10",
        f"Motor deficit from a solid metastasis of histology the review does not classify ({f.label}): immediate "
        "decompression or urgent radiotherapy, the board decides",
        decisions=(
            OpenDecision(
                f"Motor deficit with compression at {level}: immediate decompression or urgent radiotherapy?",
                (Option.IMMEDIATE_DECOMPRESSION, Option.URGENT_RADIOTHERAPY),
                ("R10",),
            ),
        ),
    )


def _r11(f: _Facts) -> _Firing | None:  # spec 5.3 R11 (replaces R1-R6)
    if f.kps is None or f.es is None or f.kps > POOR_KPS or f.es > VERY_SHORT_SURVIVAL_MONTHS:
        return None
    palliative = (Entry("palliative_care", "Palliative care", ("R11",)),)
    text = (
        f"KPS {f.kps} and expected survival {_months(f.es)}: cEBRT and palliative care to minimise treatment "
        "burden; all surgery withheld"
    )
    if f.rs is Radiosensitivity.UNCLASSIFIED:
        # spec 5.5 C5: never a definitive modality for an unclassified histology; the board confirms.
        return _Firing(
            "R11",
            text + " (histology not classified: the board confirms cEBRT)",
            radiation=Radiation("open", rules=("R11",)),
            supportive=palliative,
            decisions=(
                OpenDecision(
                    f"Confirm cEBRT for {f.label} (histology not classified by the review)", (Option.CEBRT,), ("R11",)
                ),
            ),
        )
    return _Firing("R11", text, radiation=Radiation("cebrt", rules=("R11",)), supportive=palliative)


def _r12(f: _Facts) -> _Firing | None:  # spec 5.3 R12
    if f.es is None or f.es >= SURGERY_MIN_SURVIVAL_MONTHS:
        return None
    if f.es <= VERY_SHORT_SURVIVAL_MONTHS:
        return _Firing("R12", f"Expected survival {_months(f.es)} (2 months or less): all surgery withheld")
    return _Firing(
        "R12", f"Expected survival {_months(f.es)} (between 2 and 3 months): every surgical item is an open decision"
    )


def _r13(f: _Facts) -> _Firing | None:  # spec 5.3 R13
    if f.case.fit_for_surgery is not False:
        return None
    reason = (f.case.fit_for_surgery_reason or "").strip() or "reason not recorded"
    return _Firing(
        "R13",
        f"Not fit for surgery ({reason}): all surgery withheld",
        notes=(Entry("not_fit_for_surgery", f"Not fit for surgery: {reason}", ("R13",)),),
    )


def _r14(f: _Facts, radiation: Radiation) -> _Firing | None:  # spec 5.3 R14
    if radiation.modality != "cebrt" or not f.good_survival:
        return None
    return _Firing(
        "R14",
        f"cEBRT with expected survival {_months(f.es)} (good survival, 6 months or more: a product "
        "convention, the review gives no number): multiple fractions",
        radiation=replace(
            radiation, fractionation="multiple fractions", rules=_sorted_rules((*radiation.rules, "R14"))
        ),
    )


def _r15(f: _Facts) -> _Firing | None:  # spec 5.3 R15
    if not (f.solitary_metastasis and f.case.systemic_control == "controlled" and f.gate == "allowed"):
        return None
    level = _index_level(f)
    notes: tuple[Entry, ...] = ()
    if f.case.primary in ("thyroid", "kidney"):
        notes = (Entry("en_bloc_hypervascular", "En bloc resection especially appropriate (hypervascular)", ("R15",)),)
    elif f.case.primary == "other":
        notes = (
            Entry(
                "en_bloc_pheochromocytoma", "If pheochromocytoma, en bloc is preferred (sympathomimetic risk)", ("R15",)
            ),
        )
    return _Firing(
        "R15",
        f"Solitary metastasis at {level}, systemic disease controlled, expected survival "
        f"{_months(f.es)}: en bloc resection candidate",
        surgery=(SurgeryItem("en_bloc_resection", level, "candidate", ("R15",)),),
        notes=notes,
    )


def _r16(f: _Facts) -> _Firing | None:  # spec 5.3 R16
    if f.case.primary not in ("kidney", "thyroid"):
        return None
    return _Firing(
        "R16",
        f"Hypervascular metastasis ({f.label}): plan surgery for blood loss and avoid entering the tumour",
        notes=(
            Entry(
                "hypervascular",
                "Hypervascular metastasis: plan surgery for blood loss and avoid entering the tumour",
                ("R16",),
            ),
        ),
    )


def _r17(f: _Facts) -> _Firing | None:  # spec 5.3 R17
    if f.case.primary != "unknown":
        return None
    text = (
        "Routine laboratory tests, tumour markers, PSA, thyroid function, protein electrophoresis; whole-body MRI "
        "or CT chest-abdomen-pelvis or PET/CT; biopsy last (away from neurovascular structures, tract excisable)"
    )
    rationale = "Unknown primary: work-up to locate it before treatment, biopsy last"
    if f.trigger.emergency:
        text += ". Runs in parallel with the MSCC pathway and never delays it"
        rationale += "; in this MSCC emergency it runs in parallel and never delays the emergency pathway"
    return _Firing("R17", rationale, work_up=(Entry("unknown_primary_work_up", text, ("R17",)),))


def _r18(f: _Facts) -> _Firing | None:  # spec 5.3 R18
    if f.case.primary not in ("lymphoma", "germ_cell"):
        return None
    text = f"Systemic therapy may be the stand-alone treatment of {f.label} (oncologist decides); cEBRT stays proposed"
    return _Firing(
        "R18",
        f"Highly chemosensitive tumour ({f.label}): {text[0].lower()}{text[1:]}",
        systemic=(Entry("stand_alone_systemic_therapy", text, ("R18",)),),
    )


def _r19(f: _Facts) -> _Firing:  # spec 5.3 R19: always
    return _Firing(
        "R19",
        "Bone metastasis: a bone-targeted agent reduces fracture risk, lytic pain and hypercalcaemia",
        supportive=(Entry("bone_targeted_agent", "Bone-targeted agent: bisphosphonate or denosumab", ("R19",)),),
    )


_MODALITY_TEXT: Final[dict[Modality, str]] = {"cebrt": "cEBRT", "srs": "SRS", "open": "modality open"}


def _r20(f: _Facts, radiation: Radiation, surgery: list[SurgeryItem]) -> _Firing | None:  # spec 5.3 R20
    planned = [item for item in surgery if item.status in ("proposed", "candidate")]
    if radiation.modality is None or not planned:
        return None
    separation_first = radiation.modality == "srs" and any(
        item.procedure == "separation_surgery" and item.status == "proposed" for item in planned
    )
    parts = ["SRS 2-4 weeks after separation surgery"] if separation_first else []
    others = [item for item in planned if not (separation_first and item.procedure == "separation_surgery")]
    first = [item for item in others if item.status == "proposed"]
    either = [item for item in others if item.status == "candidate"]
    if first:
        # R7 and R10 put surgery first ("before any radiation", "immediate"): radiation follows it.
        parts.append("at least 7 days after " + ", ".join(f"{i.procedure.replace('_', ' ')} {i.level}" for i in first))
    if either:
        parts.append(
            "at least 7 days before or after "
            + ", ".join(f"{i.procedure.replace('_', ' ')} {i.level}" for i in either)
            + " (either order)"
        )
    timing = "; ".join(parts)
    items = "; ".join(f"{i.procedure.replace('_', ' ')} {i.level}, {i.status}" for i in planned)
    return _Firing(
        "R20",
        f"Radiation ({_MODALITY_TEXT[radiation.modality]}) and surgery ({items}): {timing}",
        radiation=replace(
            radiation,
            timing=timing,
            rules=_sorted_rules((*radiation.rules, "R20")),
            after_surgery=radiation.after_surgery or separation_first or bool(first),
        ),
    )


def _r21(f: _Facts) -> _Firing | None:  # spec 5.3 R21 with the spec 6.1 trigger
    if not f.trigger.emergency:
        return None
    dose = DEXAMETHASONE_REGIMEN.rstrip(".")
    if f.case.corticosteroid_dose:
        dose += f" (corticosteroid already recorded: {f.case.corticosteroid_dose})"
    return _Firing(
        "R21",
        f"MSCC emergency (spec 6.1) {'; '.join(f.trigger.reasons)}. Immediate admission, whole-spine MRI with contrast, "
        "dexamethasone, urgent spine surgeon consultation, board plan within 24 hours",
        supportive=(Entry("dexamethasone", dose, ("R21",)),),
        notes=(Entry("mscc_checklist", "MSCC emergency checklist (spec 6.3) applies", ("R21",)),),
    )


def _r22(f: _Facts) -> _Firing | None:  # spec 5.3 R22
    alteration = (f.case.molecular_alterations or "").strip()
    if not alteration:
        return None
    text = "Targetable alteration: histology-based survival scores may underestimate survival"
    return _Firing(
        "R22",
        f"Targetable alteration recorded ({alteration}): histology-based survival scores may underestimate survival",
        notes=(Entry("targetable_alteration", text, ("R22",)),),
    )


def _r23(f: _Facts) -> _Firing | None:  # spec 5.3 R23
    if f.case.whole_spine_imaging_at is not None:
        return None
    return _Firing(
        "R23",
        "No whole-spine imaging recorded: whole-spine MRI with contrast, no plain radiograph or bone scan first",
        work_up=(
            Entry(
                "whole_spine_mri", "Whole-spine MRI with contrast (no plain radiograph or bone scan first)", ("R23",)
            ),
        ),
    )


def _r24(f: _Facts) -> _Firing | None:  # spec 5.3 R24
    if f.index is None or f.index.level not in f.case.prior_radiotherapy_levels:
        return None
    return _Firing(
        "R24",
        f"Prior radiotherapy at the index level {f.index.level}: re-irradiation; the radiation "
        "oncologist confirms modality and dose",
        notes=(
            Entry(
                "re_irradiation",
                f"Re-irradiation at {f.index.level}: radiation oncologist confirms modality and dose",
                ("R24",),
            ),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Assembly (spec 5.4)


@dataclass(slots=True)
class _Draft:
    """Mutable working state of one `propose` call."""

    facts: _Facts
    gate_rules: tuple[str, ...] = ()
    radiation: Radiation = field(default_factory=Radiation)
    surgery: list[SurgeryItem] = field(default_factory=list)
    decisions: list[OpenDecision] = field(default_factory=list)
    notes: list[Entry] = field(default_factory=list)
    supportive: list[Entry] = field(default_factory=list)
    systemic: list[Entry] = field(default_factory=list)
    work_up: list[Entry] = field(default_factory=list)
    fired: dict[str, FiredRule] = field(default_factory=dict)

    def apply(self, firing: _Firing | None) -> bool:
        if firing is None:
            return False
        rule = RULES[firing.rule]
        self.fired[rule.id] = FiredRule(rule.id, rule.spec, rule.review, firing.text)
        if firing.radiation is not None:
            self.radiation = firing.radiation
        for item in firing.surgery:
            self._add_surgery(item)
        for decision in firing.decisions:
            self._add_decision(decision)
        self.notes += firing.notes
        self.supportive += firing.supportive
        self.systemic += firing.systemic
        self.work_up += firing.work_up
        return True

    def _add_surgery(self, item: SurgeryItem) -> None:
        """spec 5.4 step 6: gate each item as it arrives, merging same procedure and level.

        Gating on arrival (rather than after R14-R24) gives the same items and lets R20 read the
        final statuses: its condition is "a surgical item proposed or candidate".
        """
        gate = self.facts.gate
        if gate == "open":
            item = replace(item, status="open", rules=_sorted_rules((*item.rules, *self.gate_rules)))
        elif gate == "excluded":
            item = replace(item, status="withheld", rules=_sorted_rules((*item.rules, *self.gate_rules)))
        kept: list[SurgeryItem] = []
        for other in self.surgery:
            if _merges(other, item):
                item = _merge(other, item)
            else:
                kept.append(other)
        self.surgery = [*kept, item]

    def _add_decision(self, decision: OpenDecision) -> None:
        """spec 5.4 step 6: `excluded` removes surgical options; the gate's rules are cited on any
        decision it changed (excluded) or qualifies (open, where surgery itself is open)."""
        surgical = [o for o in decision.options if o in SURGICAL_OPTIONS]
        if surgical and self.facts.gate in ("open", "excluded"):
            options = decision.options
            if self.facts.gate == "excluded":
                options = tuple(o for o in options if o not in SURGICAL_OPTIONS)
            decision = replace(decision, options=options, rules=_sorted_rules((*decision.rules, *self.gate_rules)))
        self.decisions.append(decision)


def _merges(a: SurgeryItem, b: SurgeryItem) -> bool:
    """Same procedure at the same level, or separation surgery with a stabilisation or decompression
    at its level (review 4.6: separation surgery stabilises at the same time; R10 merges into R3)."""
    if a.level != b.level:
        return False
    if a.procedure == b.procedure:
        return True
    pair = {a.procedure, b.procedure}
    return "separation_surgery" in pair and pair - {"separation_surgery"} <= {"stabilisation", "decompression"}


def _merge(a: SurgeryItem, b: SurgeryItem) -> SurgeryItem:
    procedure = "separation_surgery" if "separation_surgery" in (a.procedure, b.procedure) else a.procedure
    status = max(a.status, b.status, key=_STATUS_STRENGTH.__getitem__)
    return SurgeryItem(procedure, a.level, status, _sorted_rules((*a.rules, *b.rules)))


def _surgery_order(item: SurgeryItem) -> tuple[int, int]:
    return LEVELS.index(item.level), PROCEDURES.index(item.procedure)


def propose(case: CaseInput) -> Proposal:
    """Spec 5: the NOMS proposal for one case. Pure; raises `ConstraintViolation` only on a bug."""
    f = _facts(case)
    urgency = compute_urgency(case)
    draft = _Draft(facts=f)
    missing = _missing_required(f)

    if missing:
        # spec 5.1: incomplete; no radiation or surgery, only R17, R19 and R21-R24 fire.
        for rule_fn in (_r17, _r19, _r21, _r22, _r23, _r24):
            draft.apply(rule_fn(f))
    else:
        # Step 2: the gate and R11-R13 (R11's radiation is applied in step 4, where it replaces R1-R6).
        r11, r12, r13 = _r11(f), _r12(f), _r13(f)
        draft.apply(r12)
        draft.apply(r13)
        if f.gate != "allowed":
            draft.gate_rules = _sorted_rules([firing.rule for firing in (r11, r12, r13) if firing is not None])
        # Step 3: mechanical rules for every lesion, then R10.
        for firing in (_r7(f), _r8(f), _r9(f), _r10(f)):
            draft.apply(firing)
        # Step 4: radiation, R11 if it fired, else exactly one of R1-R6.
        if r11 is not None:
            draft.apply(r11)
        else:
            radiation_rules = [fn(f) for fn in (_r1, _r2, _r3, _r4, _r5, _r6)]
            chosen = [firing for firing in radiation_rules if firing is not None]
            if len(chosen) != 1:
                raise ConstraintViolation(f"spec 5.4 step 4: expected one of R1-R6, got {[c.rule for c in chosen]}")
            draft.apply(chosen[0])
        # Step 5: R14-R24.
        draft.apply(_r14(f, draft.radiation))
        for rule_fn in (_r15, _r16, _r17, _r18, _r19):
            draft.apply(rule_fn(f))
        draft.apply(_r20(f, draft.radiation, draft.surgery))
        for rule_fn in (_r21, _r22, _r23, _r24):
            draft.apply(rule_fn(f))
        # Step 6: the `open` gate turns the surgical items into one open decision (R12).
        open_items = [item for item in draft.surgery if item.status == "open"]
        if open_items:
            listed = ", ".join(
                f"{i.procedure.replace('_', ' ')} {i.level}" for i in sorted(open_items, key=_surgery_order)
            )
            draft.decisions.append(
                OpenDecision(
                    f"Surgery with expected survival between 2 and 3 months ({_months(f.es)}): {listed}",
                    (Option.PROCEED_WITH_SURGERY, Option.NO_SURGERY),
                    _sorted_rules([r for i in open_items for r in i.rules]),
                )
            )

    proposal = Proposal(
        status="incomplete" if missing else "complete",
        urgency=urgency.level,
        radiation=draft.radiation,
        surgery=tuple(sorted(draft.surgery, key=_surgery_order)),
        systemic=tuple(draft.systemic),
        supportive=tuple(draft.supportive),
        work_up=tuple(draft.work_up),
        open_decisions=tuple(draft.decisions),
        notes=tuple(draft.notes),
        flags=(FLAG_KPS_CONVERTED,) if f.kps_converted else (),  # spec 3.3
        fired_rules=tuple(draft.fired[r] for r in _sorted_rules(set(draft.fired))),
        missing=tuple(missing),
        missing_optional=tuple(_missing_optional(f)),
        urgency_detail=urgency,
    )
    check_constraints(proposal, case)
    return proposal


# ---------------------------------------------------------------------------------------------
# Constraints (spec 5.5)

_ACTIVE: Final = frozenset({"proposed", "candidate", "open"})


def check_constraints(proposal: Proposal, case: CaseInput) -> None:
    """Raise `ConstraintViolation` naming the first of C1-C7 the proposal breaks (spec 5.5)."""
    f = _facts(case)
    fired = set(proposal.fired_rule_ids)
    index_level = f.index.level if f.index else None
    radiation = proposal.radiation

    # C1: no SRS next to an unrelieved high-grade ESCC at the index lesion.
    if f.escc_class == "high":
        relieved = any(
            item.procedure in ("separation_surgery", "decompression")
            and item.level == index_level
            and item.status == "proposed"
            for item in proposal.surgery
        )
        if radiation.modality == "srs" and not (relieved and radiation.after_surgery):
            raise ConstraintViolation("C1: SRS with high-grade ESCC without proposed surgery before it")
        if any(Option.SRS in d.options for d in proposal.open_decisions):
            raise ConstraintViolation("C1: an open decision offers SRS for high-grade ESCC without surgery first")

    # C2 / C3: no active surgery, nor a surgical option, in poor condition with very short survival or unfit.
    for code, holds in (
        ("C2", f.kps is not None and f.es is not None and f.kps <= POOR_KPS and f.es <= VERY_SHORT_SURVIVAL_MONTHS),
        ("C3", case.fit_for_surgery is False),
    ):
        if holds and (
            any(item.status in _ACTIVE for item in proposal.surgery)
            or any(set(d.options) & SURGICAL_OPTIONS for d in proposal.open_decisions)
        ):
            raise ConstraintViolation(f"{code}: surgery offered where spec 5.5 {code} forbids it")

    # C4: every proposal and every item, option, note and open decision cites a fired rule.
    if not fired:
        raise ConstraintViolation("C4: no fired rule")
    cited: list[tuple[str, tuple[str, ...]]] = [
        *((f"surgery {i.procedure} {i.level}", i.rules) for i in proposal.surgery),
        *(
            (f"{kind} {e.code}", e.rules)
            for kind, entries in (
                ("systemic", proposal.systemic),
                ("supportive", proposal.supportive),
                ("work_up", proposal.work_up),
                ("note", proposal.notes),
            )
            for e in entries
        ),
        *((f"open decision {d.question!r}", d.rules) for d in proposal.open_decisions),
    ]
    if radiation.modality is not None:
        cited.append(("radiation", radiation.rules))
    for what, rules in cited:
        if not rules or not set(rules) <= fired:
            raise ConstraintViolation(f"C4: {what} cites {list(rules)}, fired {sorted(fired)}")
    if any(not d.options for d in proposal.open_decisions):
        raise ConstraintViolation("C4: an open decision without options")

    # C5: an unclassified histology never gets a definitive modality.
    if f.rs is Radiosensitivity.UNCLASSIFIED and radiation.modality in ("cebrt", "srs"):
        raise ConstraintViolation(f"C5: definitive {radiation.modality} for an unclassified histology")

    # C6: expected survival under 3 months: nothing proposed or candidate.
    if (
        f.es is not None
        and f.es < SURGERY_MIN_SURVIVAL_MONTHS
        and any(item.status in ("proposed", "candidate") for item in proposal.surgery)
    ):
        raise ConstraintViolation("C6: surgery proposed with expected survival under 3 months")

    # C7: radiation with planned surgery carries the R20 timing (R20's own condition: proposed or candidate).
    if radiation.modality is not None and any(item.status in ("proposed", "candidate") for item in proposal.surgery):
        if "R20" not in radiation.rules or not radiation.timing:
            raise ConstraintViolation("C7: radiation and surgery both planned without the R20 timing")
