"""Keeping a case's scores current (issue: scores kept current).

`case_scores_request` records, in the database, that the scores must match the sections' current
versions and enqueues the work on commit; `case_scores_recompute` does the work idempotently. A
beat sweep (`scores_redrive_stale`) re-enqueues any case whose request was not met, so work lost
with a broker restart is done anyway.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import SECTION_MODELS, Case
from scoring.facts import case_facts, case_input, lesion_sins_totals
from scoring.models import CaseScore, Recommendation, ScoreRun
from scoring.rules import noms
from scoring.rules.base import ScoreResult
from scoring.rules.case_mapping import CaseFacts, score_case, score_lesion

# A request older than this without a result is re-driven by the sweep.
REDRIVE_AFTER = timedelta(seconds=30)


def sections_key(case_id: int) -> str:
    """The four sections' versions, e.g. "r3-s1-o2-p1": what a result was computed from."""
    disciplines = list(SECTION_MODELS)
    versions = Case.objects.filter(pk=case_id).values_list(*(f"{d}__version" for d in disciplines)).first() or ()
    return "-".join(f"{d[0]}{v or 0}" for d, v in zip(disciplines, versions or (0,) * len(disciplines), strict=True))


def case_scores_request(*, case: Case) -> None:
    """Ask for the case's scores to match its current sections; enqueue on commit.

    Called inside the transaction that changed a section, so the request and the change commit
    together: the database, not the broker, remembers the work.
    """
    from scoring.tasks import recompute_case_scores

    key = sections_key(case.pk)
    ScoreRun.objects.update_or_create(case=case, defaults={"requested_key": key, "requested_at": timezone.now()})
    case_id = case.pk
    transaction.on_commit(
        lambda: recompute_case_scores.delay(case_id), robust=True
    )  # the sweep re-drives it if the broker is down


def _store(case: Case, system: str, level: str, result: ScoreResult, key: str, now) -> CaseScore:  # type: ignore[no-untyped-def]
    data = result.to_dict()
    return CaseScore(
        case=case,
        system=system,
        level=level,
        status=result.status,
        score=result.score,
        category=result.category,
        category_label=result.category_label,
        items=data["items"],
        flags=list(result.flags),
        missing=list(result.missing),
        inputs={item.item: item.value for item in result.items},
        citation=result.citation,
        version=result.version,
        computed_at=now,
        sections_key=key,
    )


@transaction.atomic
def case_scores_recompute(*, case_id: int) -> bool:
    """Recompute every system for the case from its current sections. Idempotent.

    Returns False (and writes nothing) when the stored results already match the current section
    versions. Holds the case's ScoreRun row locked, so two workers never interleave their writes.
    """
    run = ScoreRun.objects.select_for_update().filter(case_id=case_id).first()
    if run is None:
        return False
    key = sections_key(case_id)
    if run.computed_key == key:
        return False
    case = (
        Case.objects.select_related("radiology", "surgery", "oncology", "pain")
        .prefetch_related("radiology__lesions", "surgery__lesions", "pain__lesions")
        .get(pk=case_id)
    )
    facts = case_facts(case)
    now = timezone.now()
    rows = [_store(case, system, "", result, key, now) for system, result in score_case(facts).items()]
    for lesion in facts.lesions:
        for system, result in score_lesion(lesion, facts).items():
            rows.append(_store(case, system, lesion.level or "", result, key, now))
    # Derived data, replaced whole: the history of what the board saw lives in the sections.
    CaseScore.objects.filter(case_id=case_id).delete()
    CaseScore.objects.bulk_create(rows)
    _store_recommendation(case, facts, key, now)
    run.computed_key = key
    run.computed_at = now
    run.attempts += 1
    run.last_error = ""
    run.save(update_fields=["computed_key", "computed_at", "attempts", "last_error"])
    return True


def _store_recommendation(case: Case, facts: CaseFacts, key: str, now) -> Recommendation:  # type: ignore[no-untyped-def]
    """spec 5: the NOMS proposal from the same section versions as the scores, kept as a new row."""
    inputs = case_input(case, sins_totals=lesion_sins_totals(facts))
    proposal = noms.propose(inputs)
    return Recommendation.objects.create(
        case=case,
        proposal=proposal.to_dict(),
        inputs=json.loads(json.dumps(asdict(inputs), cls=DjangoJSONEncoder)),
        engine_version=noms.ENGINE_VERSION,
        sections_key=key,
        computed_at=now,
    )


def scores_redrive_stale(*, older_than: timedelta = REDRIVE_AFTER) -> list[int]:
    """Re-enqueue the cases whose requested scores were never computed (e.g. a lost message)."""
    from scoring.tasks import recompute_case_scores

    cutoff = timezone.now() - older_than
    stale = list(
        ScoreRun.objects.exclude(computed_key=F("requested_key"))
        .filter(requested_at__lt=cutoff)
        .values_list("case_id", flat=True)[:500]
    )
    for case_id in stale:
        recompute_case_scores.delay(case_id)
    return stale
