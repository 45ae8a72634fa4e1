"""FHIR R4 export of a case and its board decision (issue 8), aligned with mCODE where it applies.

`build_bundle` is pure: plain facts in, a FHIR R4 `collection` Bundle (a JSON-ready dict) out.
`case_fhir_bundle` reads those facts for one case and calls it.

What the bundle holds:
- Patient (mCODE CancerPatient) with the board's MRN as identifier.
- Condition for the primary cancer (mCODE PrimaryCancerCondition) and, once radiology has recorded
  lesions, one Condition for the spinal metastasis (mCODE SecondaryCancerCondition) with one
  `bodySite` per involved level.
- One Observation per complete stored score (SINS and Bilsky once per lesion, with `bodySite`);
  performance status as mCODE Karnofsky (LOINC 89243-0) and ECOG (LOINC 89247-1) Observations.
  Incomplete scores are left out: a score without a value is not an observation.
- With a finalised decision: a CarePlan (intent `plan`) from the plan as signed (the latest decision
  record's snapshot, so an amendment in progress never leaks out), and a DocumentReference to the
  latest ready PDF record.
- When there is no finalised decision, or its PDF is not rendered yet, an informational
  OperationOutcome entry says so; the rest is exported as it stands.

Coding policy: SNOMED CT and LOINC codes appear only where they are certain (the mCODE disorder
roots, the two performance-status LOINC codes, HL7 terminology codes); everything else is `text`,
or a code in a `urn:tumourboard:` system of our own. Only R4 elements are used (no R5-only ones).

Record integrity: R4 `Attachment.hash` is defined as the base64 SHA-1 of the data, and records store
a SHA-256. Putting a SHA-256 into `hash` would make every conforming client report a mismatch, and
computing a SHA-1 would mean reading each PDF on every export; so `hash` is left out and the
SHA-256 (hex, as `POST .../verify` and the `X-Record-SHA256` header report it) is a
DocumentReference identifier in the system `urn:tumourboard:sha256`. It is the hash of the stored
bytes: a superseded version downloads with a banner unless `?original=1` is asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from django.utils import timezone

from cases.models import Case
from cases.vocabulary import LEVEL_ORDER
from meetings.models import Decision, DecisionRecord
from scoring.registry import REGISTRY
from scoring.rules.primary import PRIMARIES
from scoring.selectors import case_scores

FHIR_JSON: Final = "application/fhir+json"

SNOMED: Final = "http://snomed.info/sct"
LOINC: Final = "http://loinc.org"
MCODE: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONDITION_RELATED: Final = "http://hl7.org/fhir/StructureDefinition/condition-related"

# Our own systems (never passed off as a standard terminology).
SCORING_SYSTEM: Final = "urn:tumourboard:scoring-system"
SCORE_ITEM: Final = "urn:tumourboard:score-item"
SCORE_CATEGORY: Final = "urn:tumourboard:score-category"
DECISION_SYSTEM: Final = "urn:tumourboard:decision"
RECORD_SYSTEM: Final = "urn:tumourboard:decision-record"
SHA256_SYSTEM: Final = "urn:tumourboard:sha256"

# Resource ids are UUIDs derived from what they describe, so re-exporting a case gives the same ids.
_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tumourboard")

_SEX_TO_GENDER: Final = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
_RADIATION: Final = {
    "cebrt": "Conventional external beam radiotherapy (cEBRT)",
    "srs": "Stereotactic radiosurgery (SRS)",
    "none": "Radiotherapy",
}
_PROCEDURES: Final = {
    "separation_surgery": "Separation surgery",
    "decompression": "Decompression",
    "stabilisation": "Stabilisation",
    "en_bloc_resection": "En bloc resection",
    "cement_augmentation": "Cement augmentation (vertebroplasty or kyphoplasty)",
}


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the export needs from a case, its patient and its sections."""

    case_id: int
    board_id: int
    patient_id: int
    mrn: str
    name: str
    birth_date: date
    sex: str
    primary: str
    histology_detail: str
    primary_diagnosis_date: date | None
    levels: tuple[str, ...]  # radiology's lesion levels, cranial to caudal
    index_level: str | None


@dataclass(frozen=True, slots=True)
class SignedDecision:
    """The board's decision as last signed (from the latest decision record's snapshot)."""

    decision_id: int
    version: int
    signed_at: datetime
    signer: str
    content: Mapping[str, Any]  # plan, rationale, follows_recommendation, deviation_reason, follow_up_date
    amendment_reason: str


@dataclass(frozen=True, slots=True)
class ReadyRecord:
    """A rendered (ready) PDF decision record."""

    decision_id: int
    version: int
    sha256: str
    signed_at: datetime
    rendered_at: datetime
    signer: str
    superseded: bool  # a later record version exists


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def _ref(resource: Mapping[str, Any]) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def _iso(value: date | datetime | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _level_label(level: str) -> str:
    return "Occiput" if level == "occiput" else f"{level} vertebra"


def _concept(
    text: str, *, system: str | None = None, code: str | None = None, display: str | None = None
) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if system and code:
        concept["coding"] = [{"system": system, "code": code, **({"display": display} if display else {})}]
    return concept


def _patient(case: CaseFacts) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": _id("patient", case.patient_id),
        "meta": {"profile": [f"{MCODE}mcode-cancer-patient"]},
        "identifier": [
            {
                "use": "usual",
                "type": _concept(
                    "Medical record number", system=IDENTIFIER_TYPE, code="MR", display="Medical record number"
                ),
                "system": f"urn:tumourboard:board:{case.board_id}:mrn",
                "value": case.mrn,
            }
        ],
        # One free-text name is what the product records; splitting it into given and family
        # names would guess at naming conventions.
        "name": [{"use": "official", "text": case.name}],
        "gender": _SEX_TO_GENDER[case.sex],
        "birthDate": _iso(case.birth_date),
    }


def _condition_base(case: CaseFacts, patient: Mapping[str, Any], kind: str, profile: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": _id("case", case.case_id, "condition", kind),
        "meta": {"profile": [f"{MCODE}{profile}"]},
        "clinicalStatus": _concept("Active", system=CONDITION_CLINICAL, code="active", display="Active"),
        "category": [
            _concept(
                "Problem list item", system=CONDITION_CATEGORY, code="problem-list-item", display="Problem List Item"
            )
        ],
        "subject": _ref(patient),
    }


def _primary_condition(case: CaseFacts, patient: Mapping[str, Any]) -> dict[str, Any]:
    label = PRIMARIES[case.primary].label
    condition = _condition_base(case, patient, "primary", "mcode-primary-cancer-condition")
    # 363346000 is the root of mCODE's primary cancer disorder value set; the site and histology
    # are carried as text (no site-specific SNOMED CT code is asserted).
    condition["code"] = _concept(
        "Cancer of unknown primary" if case.primary == "unknown" else f"Primary cancer: {label}",
        system=SNOMED,
        code="363346000",
        display="Malignant neoplastic disease",
    )
    if case.primary_diagnosis_date is not None:
        condition["onsetDateTime"] = _iso(case.primary_diagnosis_date)
    if case.histology_detail:
        condition["note"] = [{"text": f"Histology: {case.histology_detail}"}]
    return condition


def _secondary_condition(case: CaseFacts, patient: Mapping[str, Any], primary: Mapping[str, Any]) -> dict[str, Any]:
    condition = _condition_base(case, patient, "spinal-metastasis", "mcode-secondary-cancer-condition")
    condition["extension"] = [{"url": CONDITION_RELATED, "valueReference": _ref(primary)}]
    condition["code"] = _concept(
        "Spinal metastasis", system=SNOMED, code="128462008", display="Secondary malignant neoplastic disease"
    )
    condition["bodySite"] = [{"text": _level_label(level)} for level in case.levels]
    return condition


def _component(system: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """One scored item: its points as `valueInteger` (the chosen value in the code's text); for
    systems without points, the item's value itself."""
    name, value, points = str(item["item"]), item.get("value"), item.get("points")
    component: dict[str, Any] = {"code": _concept(name, system=SCORE_ITEM, code=f"{system}.{name}", display=name)}
    if points is not None:
        component["code"]["text"] = f"{name}: {value}"
        component["valueInteger"] = points
    elif isinstance(value, bool):
        component["valueBoolean"] = value
    elif isinstance(value, int):
        component["valueInteger"] = value
    else:
        component["valueString"] = str(value)
    return component


def _observation_base(
    case: CaseFacts, patient: Mapping[str, Any], entry: Mapping[str, Any], key: str
) -> dict[str, Any]:
    notes = [{"text": flag} for flag in entry.get("flags") or []]
    if not entry.get("current", True):
        notes.append({"text": "Computed from an earlier version of the case sections; recomputation is pending."})
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _id("case", case.case_id, "observation", key),
        "status": "final",
        "category": [_concept("Survey", system=OBSERVATION_CATEGORY, code="survey", display="Survey")],
        "subject": _ref(patient),
        "effectiveDateTime": _iso(entry["computed_at"]),
    }
    if notes:
        observation["note"] = notes
    return observation


def _score_observation(case: CaseFacts, patient: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    system = str(entry["system"])
    spec = REGISTRY[system]
    level = entry.get("level")
    observation = _observation_base(case, patient, entry, f"{system}:{level or 'case'}")
    observation["code"] = _concept(spec.title, system=SCORING_SYSTEM, code=system, display=spec.title)
    observation["method"] = {"text": f"{spec.title}, version {entry.get('version') or spec.version}: {spec.citation}"}
    category, label = entry.get("category"), entry.get("category_label") or entry.get("category")
    score = entry.get("score")
    if score is None:  # radiosensitivity: the class is the result
        observation["valueCodeableConcept"] = _concept(
            str(label), system=f"{SCORE_CATEGORY}:{system}", code=str(category)
        )
    elif isinstance(score, int):
        observation["valueInteger"] = score
    else:
        observation["valueString"] = str(score)
    if score is not None and category is not None:
        observation["interpretation"] = [_concept(str(label), system=f"{SCORE_CATEGORY}:{system}", code=str(category))]
    if level:
        observation["bodySite"] = {"text": _level_label(str(level))}
        if level == case.index_level:
            observation.setdefault("note", []).insert(0, {"text": "Index lesion."})
    components = [_component(system, item) for item in entry.get("items") or []]
    if components:
        observation["component"] = components
    return observation


def _performance_observations(
    case: CaseFacts, patient: Mapping[str, Any], entry: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The recorded scale, and the other one from the spec 3.3 crosswalk, marked as derived."""
    recorded = {str(item["item"]): item.get("value") for item in entry.get("items") or []}
    values = {"kps": int(entry["score"]), "ecog": int(str(entry["category"]))}
    scales = {
        "kps": ("mcode-karnofsky-performance-status", "89243-0", "Karnofsky Performance Status score"),
        "ecog": ("mcode-ecog-performance-status", "89247-1", "ECOG Performance Status score"),
    }
    source = "kps" if "kps" in recorded else "ecog"
    out: list[dict[str, Any]] = []
    for scale in (source, "ecog" if source == "kps" else "kps"):
        profile, loinc, display = scales[scale]
        observation = _observation_base(case, patient, entry, f"performance_status:{scale}")
        observation["meta"] = {"profile": [f"{MCODE}{profile}"]}
        observation["code"] = _concept(display, system=LOINC, code=loinc, display=display)
        observation["valueInteger"] = values[scale]
        if scale != source:
            observation["derivedFrom"] = [_ref(out[0])]
            observation.setdefault("note", []).append(
                {
                    "text": f"Converted from the recorded {source.upper()} (crosswalk of Buccheri et al. 1996), not assessed."
                }
            )
        out.append(observation)
    return out


def _observations(
    case: CaseFacts, patient: Mapping[str, Any], scores: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in scores:
        if entry["system"] == "performance_status":
            if entry["status"] == "complete":
                out += _performance_observations(case, patient, entry)
            continue
        # SINS and Bilsky: one result per lesion (the case-level entry repeats the index lesion's).
        per_lesion = [lesion for lesion in entry.get("lesions") or [] if lesion["status"] == "complete"]
        if per_lesion:
            out += [_score_observation(case, patient, lesion) for lesion in per_lesion]
        elif entry["status"] == "complete":
            out.append(_score_observation(case, patient, entry))
    return out


def _activity(
    text: str,
    *,
    kind: str | None = None,
    description: str = "",
    do_not_perform: bool = False,
    product: str | None = None,
    scheduled: str | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": {"text": text}, "status": "not-started", "doNotPerform": do_not_perform}
    if kind:
        detail["kind"] = kind
    if description:
        detail["description"] = description
    if product:
        detail["productCodeableConcept"] = {"text": product}
    if scheduled:
        detail["scheduledPeriod"] = {"start": scheduled}
    return {"detail": detail}


def _plan_activities(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The decided plan (meetings' DecisionPlanSerializer shape) as CarePlan activities."""
    plan: Mapping[str, Any] = content.get("plan") or {}
    activities: list[dict[str, Any]] = []
    radiation: Mapping[str, Any] = plan.get("radiation") or {}
    if radiation:
        modality = str(radiation.get("modality"))
        dose, fractions = radiation.get("dose_gy"), radiation.get("fractions")
        parts = [
            f"{dose:g} Gy" if isinstance(dose, int | float) else "",
            f"in {fractions} fractions" if fractions else "",
        ]
        description = "; ".join(p for p in (" ".join(x for x in parts if x), radiation.get("timing") or "") if p)
        activities.append(
            _activity(
                _RADIATION.get(modality, modality),
                kind="ServiceRequest",
                description=description,
                do_not_perform=modality == "none",
            )
        )
    for item in plan.get("surgery") or []:
        timing = item.get("timing") or ""
        description = f"Level {item['level']}" + (f"; {timing}" if timing else "")
        activities.append(
            _activity(
                _PROCEDURES.get(item["procedure"], item["procedure"]), kind="ServiceRequest", description=description
            )
        )
    if plan.get("systemic"):
        activities.append(_activity("Systemic therapy", description=str(plan["systemic"])))
    steroids = plan.get("steroids")
    if steroids:
        activities.append(
            _activity(
                "Corticosteroids",
                kind="MedicationRequest",
                product="Dexamethasone",
                description=steroids.get("regimen") or "",
                do_not_perform=not steroids.get("dexamethasone"),
            )
        )
    if plan.get("bone_targeted_agent"):
        activities.append(
            _activity("Bone-targeted agent", kind="MedicationRequest", product="Bisphosphonate or denosumab")
        )
    if plan.get("palliative_care"):
        activities.append(_activity("Palliative care", kind="ServiceRequest"))
    activities += [_activity(str(step), kind="ServiceRequest") for step in plan.get("work_up") or []]
    if content.get("follow_up_date"):
        activities.append(
            _activity(
                "Re-discussion at the tumour board", kind="Appointment", scheduled=_iso(content["follow_up_date"])
            )
        )
    return activities


def _care_plan(
    case: CaseFacts,
    patient: Mapping[str, Any],
    decision: SignedDecision,
    conditions: Sequence[Mapping[str, Any]],
    supporting: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    content = decision.content
    follows = content.get("follows_recommendation")
    notes = []
    if follows is True:
        notes.append({"text": "The decision follows the NOMS proposal shown to the board."})
    elif follows is False:
        notes.append(
            {"text": f"The decision deviates from the NOMS proposal: {content.get('deviation_reason') or ''}".strip()}
        )
    if decision.amendment_reason:
        notes.append({"text": f"Amended (version {decision.version}): {decision.amendment_reason}"})
    care_plan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": _id("decision", decision.decision_id, "careplan"),
        "identifier": [{"system": DECISION_SYSTEM, "value": f"{decision.decision_id}-v{decision.version}"}],
        "status": "active",
        "intent": "plan",
        "title": "Spine tumour board decision",
        "subject": _ref(patient),
        "created": _iso(decision.signed_at),
        "author": {"display": decision.signer},
        "addresses": [_ref(c) for c in conditions],
        "activity": _plan_activities(content),
    }
    if content.get("rationale"):
        care_plan["description"] = str(content["rationale"])
    if supporting:
        care_plan["supportingInfo"] = [_ref(r) for r in supporting]
    if notes:
        care_plan["note"] = notes
    return care_plan


def record_pdf_path(decision_id: int, version: int) -> str:
    """The PDF endpoint of a decision record (contract "Decision records")."""
    return f"/api/v1/decisions/{decision_id}/records/{version}/pdf"


def _document_reference(patient: Mapping[str, Any], record: ReadyRecord, base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": _id("decision", record.decision_id, "record", record.version),
        "identifier": [
            {"system": RECORD_SYSTEM, "value": f"{record.decision_id}-v{record.version}"},
            {"system": SHA256_SYSTEM, "value": record.sha256},
        ],
        "status": "superseded" if record.superseded else "current",
        "docStatus": "final",
        "type": {"text": "Tumour board decision record"},
        "subject": _ref(patient),
        "date": _iso(record.rendered_at),
        "authenticator": {"display": record.signer},
        "description": f"Signed decision record, version {record.version}",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": base_url.rstrip("/") + record_pdf_path(record.decision_id, record.version),
                    "title": f"Decision record {record.decision_id} v{record.version}",
                    "creation": _iso(record.signed_at),
                }
            }
        ],
    }


def _outcome(case: CaseFacts, key: str, diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "id": _id("case", case.case_id, "outcome", key),
        "issue": [{"severity": "information", "code": "informational", "diagnostics": diagnostics}],
    }


def build_bundle(
    *,
    case: CaseFacts,
    scores: Sequence[Mapping[str, Any]],
    decision: SignedDecision | None,
    record: ReadyRecord | None,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    """A FHIR R4 `collection` Bundle for the case. Pure: same inputs, same bundle.

    `scores` is the shape of `scoring.selectors.case_scores`; `record` is the latest ready record
    of `decision` (None while it renders); `base_url` makes the PDF link absolute.
    """
    patient = _patient(case)
    primary = _primary_condition(case, patient)
    conditions = [primary]
    if case.levels:
        conditions.append(_secondary_condition(case, patient, primary))
    observations = _observations(case, patient, scores)
    resources: list[dict[str, Any]] = [patient, *conditions, *observations]
    if decision is None:
        resources.append(
            _outcome(
                case, "no-decision", "No finalised board decision for this case yet: no CarePlan or DocumentReference."
            )
        )
    else:
        document = _document_reference(patient, record, base_url) if record is not None else None
        supporting = [*observations, *([document] if document else [])]
        resources.append(_care_plan(case, patient, decision, conditions, supporting))
        if document is not None:
            resources.append(document)
        else:
            resources.append(
                _outcome(case, "record-pending", "The decision record PDF is not rendered yet: no DocumentReference.")
            )
    return {
        "resourceType": "Bundle",
        "id": _id("case", case.case_id, "bundle", now.isoformat()),
        "identifier": {"system": "urn:tumourboard:fhir-export", "value": f"case-{case.case_id}"},
        "type": "collection",
        "timestamp": _iso(now),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def case_facts(case: Case) -> CaseFacts:
    """The export's view of a case (sections and radiology lesions as loaded by the case selectors)."""
    lesions = sorted(case.radiology.lesions.all(), key=lambda lesion: LEVEL_ORDER[lesion.level])
    index = next(
        (lesion.level for lesion in lesions if lesion.is_index), lesions[0].level if len(lesions) == 1 else None
    )
    oncology = case.oncology
    return CaseFacts(
        case_id=case.pk,
        board_id=case.board_id,
        patient_id=case.patient_id,
        mrn=case.patient.mrn,
        name=case.patient.name,
        birth_date=case.patient.birth_date,
        sex=case.patient.sex,
        primary=case.primary,
        histology_detail=oncology.histology_detail,
        primary_diagnosis_date=oncology.primary_diagnosis_date,
        levels=tuple(lesion.level for lesion in lesions),
        index_level=index,
    )


def latest_signed_decision(case: Case) -> tuple[SignedDecision | None, ReadyRecord | None]:
    """The case's most recently published decision as signed, and its latest ready record."""
    decision = Decision.objects.filter(case=case, feed_seq__isnull=False).order_by("-feed_seq").first()
    if decision is None:
        return None, None
    records = list(decision.records.select_related("signer").order_by("-version"))
    if not records:
        return None, None
    signed = records[0]
    signed_decision = SignedDecision(
        decision_id=decision.pk,
        version=signed.version,
        signed_at=signed.signed_at,
        signer=signed.signer.display_name,
        content=signed.snapshot["decision"],
        amendment_reason=signed.amendment_reason,
    )
    ready = next((r for r in records if r.state == DecisionRecord.State.READY), None)
    if ready is None or ready.rendered_at is None:
        return signed_decision, None
    return signed_decision, ReadyRecord(
        decision_id=decision.pk,
        version=ready.version,
        sha256=ready.sha256,
        signed_at=ready.signed_at,
        rendered_at=ready.rendered_at,
        signer=ready.signer.display_name,
        superseded=ready is not signed,
    )


def case_fhir_bundle(*, case: Case, base_url: str, now: datetime | None = None) -> dict[str, Any]:
    """The FHIR export of a case the caller may see (`case` from `cases.selectors.case_get_for_user`)."""
    decision, record = latest_signed_decision(case)
    return build_bundle(
        case=case_facts(case),
        scores=case_scores(case=case),
        decision=decision,
        record=record,
        base_url=base_url,
        now=now or timezone.now(),
    )
