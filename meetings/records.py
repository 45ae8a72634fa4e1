"""Decision records (issue 7): rendering, storing, verifying and serving the versioned PDFs.

A `DecisionRecord` row is created `pending` when the chair finalises a decision (services
`decision_finalise`), with the decision frozen in `snapshot`. `record_render` turns it into a PDF/A
file once; from then on the row and its bytes never change.

Immutability and "superseded". The stored bytes of a version never change, so version 1 cannot
carry the later fact that version 2 replaced it. `record_download_bytes` therefore serves a
superseded version with a "SUPERSEDED by version N (reason)" banner laid over page 1 (rendered with
WeasyPrint into a band the record keeps empty for it, merged with pypdf); `original=True` returns
the exact stored bytes. The SHA-256 kept on the row, and every verification, concern the stored
bytes only.

Signature binding. A PDF cannot contain its own hash. The record shows what was signed and how: the
decision id, the version, the signer's full name, the time, the meaning of the signature and the
"signature digest", the SHA-256 of the canonical JSON of the snapshot (`snapshot_digest`), which
anyone can recompute from the row. The file's SHA-256 is kept on the row (shown on the case page
and in the API) and binds the version to its bytes.

Idempotency (house style 7). The database says what must happen: a render claims the row with a
conditional UPDATE and publishes its result with another, both guarded by the claim, so a duplicate
delivery, a re-drive by the sweep or a retry leaves exactly one ready version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from io import BytesIO
from typing import IO, Any, Final

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from pypdf import PdfReader, PdfWriter

from accounts.models import Role
from common.pdf import render_pdf, static_base_url
from meetings.models import DecisionRecord, RecordQuerySet
from meetings.quorum import REQUIRED_ROLES
from scoring.registry import REGISTRY

logger = logging.getLogger(__name__)

# One first attempt and up to five retries (meetings.tasks_records.render_decision_record).
MAX_ATTEMPTS: Final[int] = 6
# A record still pending this long after finalisation lost its message: the sweep sends it again.
# Longer than a whole retry chain normally takes, so the sweep seldom races a retry (harmless when
# it does: the claim lets only one render publish).
REDRIVE_AFTER: Final[timedelta] = timedelta(minutes=10)
REDRIVE_BATCH: Final[int] = 200

_ERROR_MAX_CHARS: Final[int] = 2000
_STAMP_REASON_CHARS: Final[int] = 160
_SECTION_META: Final = frozenset(
    {
        "discipline",
        "state",
        "version",
        "submitted_by",
        "submitted_at",
        "updated_by",
        "updated_at",
        "reopen_reason",
        "lesions",
    }
)
_PROPOSAL_LISTS: Final = ("surgery", "systemic", "supportive", "work_up", "open_decisions", "notes", "flags")
_EMPTY: Final[tuple[object, ...]] = (None, "", [], {})


class RecordRenderError(Exception):
    """Rendering or storing a record failed; the row carries the error and the attempt count."""


class RecordNotReady(Exception):
    """The record has no stored PDF yet (pending) or never will (failed)."""


# --- identity


def record_identifier(record: DecisionRecord) -> str:
    """The identifier printed on every page: decision and version, e.g. `decision-12-v2`."""
    return f"decision-{record.decision_id}-v{record.version}"


def record_file_name(record: DecisionRecord) -> str:
    """The stored file's name below the field's `records/` folder: `<decision>/decision-<decision>-v<n>.pdf`."""
    return f"{record.decision_id}/{record_identifier(record)}.pdf"


def record_download_name(record: DecisionRecord) -> str:
    """A name a clinician recognises in a downloads folder: `decision-record_MRN-0042_case-12_v2.pdf`."""
    mrn = re.sub(r"[^A-Za-z0-9._-]+", "-", str(record.snapshot["patient"]["mrn"])).strip("-") or "patient"
    return f"decision-record_{mrn}_case-{record.snapshot['case']['id']}_v{record.version}.pdf"


def snapshot_digest(snapshot: Mapping[str, Any]) -> str:
    """SHA-256 of the snapshot's canonical JSON (sorted keys, no whitespace, UTF-8): what was signed."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(64 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


# --- presentation (the snapshot as template rows; every value stays text the template escapes)


def _when(value: str | datetime | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if timezone.is_naive(moment):
        return moment.strftime("%Y-%m-%d")
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _text(value: Any) -> str:
    """Plain JSON as one readable line; coded values are shown as stored (auditable)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(k))}: {_text(v)}" for k, v in value.items() if v not in _EMPTY) or "—"
    return str(value)


def _rows(data: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    # Snapshot dates and times are ISO strings; `*_at` and `*_date` fields are shown in local time.
    return [
        (_label(k), _when(v) if k.endswith(("_at", "_date")) and isinstance(v, str) else _text(v))
        for k, v in data.items()
        if k not in skip and v not in _EMPTY
    ]


def _table(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    if not entries:
        return None
    columns = list(entries[0])
    return {"columns": [_label(c) for c in columns], "rows": [[_text(e.get(c)) for c in columns] for e in entries]}


def _sections(sections: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for section in sections.values():
        data = section["data"]
        author = data.get("submitted_by") or {}
        out.append(
            {
                "label": section["label"],
                "author": author.get("name", ""),
                "signed_at": _when(data.get("submitted_at")),
                "fields": _rows(data, _SECTION_META),
                "lesions": _table(data.get("lesions") or []),
            }
        )
    return out


def _score(entry: Mapping[str, Any]) -> dict[str, Any]:
    system = REGISTRY.get(entry["system"])
    return {
        "title": system.title if system else entry["system"],
        "level": entry.get("level") or "",
        "score": _text(entry.get("score")),
        "category": entry.get("category_label") or "",
        "complete": entry.get("status") == "complete",
        "items": [(_label(i["item"]), _text(i["value"]), _text(i["points"])) for i in entry.get("items", [])],
        "missing": entry.get("missing_labels") or entry.get("missing") or [],
        "flags": entry.get("flags") or [],
        "citation": entry.get("citation", ""),
        "lesions": [_score(lesion) for lesion in entry.get("lesions", [])],
    }


def _recommendation(recommendation: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not recommendation:
        return None
    proposal = recommendation["proposal"]
    return {
        "status": proposal.get("status", ""),
        "urgency": proposal.get("urgency", ""),
        "radiation": _text(proposal.get("radiation")),
        "lists": [(_label(k), [_text(v) for v in proposal[k]]) for k in _PROPOSAL_LISTS if proposal.get(k)],
        "fired_rules": proposal.get("fired_rules", []),
        "computed_at": _when(recommendation.get("computed_at")),
        "engine_version": recommendation.get("version", ""),
    }


def _attendees(attendees: Sequence[Mapping[str, str]]) -> list[tuple[str, list[str]]]:
    order = {role: i for i, role in enumerate(REQUIRED_ROLES)}
    by_role: dict[str, list[str]] = {}
    for person in sorted(attendees, key=lambda a: (order.get(a["role"], len(order)), a["name"])):
        by_role.setdefault(person["role"], []).append(person["name"])
    labels = dict(Role.choices)
    return [(labels.get(role, _label(role)), names) for role, names in by_role.items()]


def record_context(record: DecisionRecord) -> dict[str, Any]:
    """What `meetings/record.html` shows, from the snapshot only (never from live rows)."""
    snap = record.snapshot
    decision = snap["decision"]
    meeting = snap.get("meeting")
    return {
        "identifier": record_identifier(record),
        "version": record.version,
        "created_at": _when(record.created_at),
        "created_at_w3c": record.created_at.replace(microsecond=0).isoformat(),
        "board": snap["board"],
        "meeting": {**meeting, "starts_at": _when(meeting["starts_at"])} if meeting else None,
        "patient": {**snap["patient"], "birth_date": _when(snap["patient"].get("birth_date"))},
        "case_id": snap["case"]["id"],
        "case_rows": _rows(snap["case"], frozenset({"id"})),
        "sections": _sections(snap["sections"]),
        "scores": [_score(entry) for entry in snap["scores"]],
        "recommendation": _recommendation(snap.get("recommendation")),
        "decision_id": decision["id"],
        "plan": _rows(decision["plan"]),
        "rationale": decision["rationale"],
        "follows_recommendation": decision["follows_recommendation"],
        "deviation_reason": decision["deviation_reason"],
        "follow_up_date": _when(decision.get("follow_up_date")),
        "attendees": _attendees(snap["attendees"]),
        "signature": {**snap["signature"], "at": _when(snap["signature"]["at"])},
        "signature_digest": snapshot_digest(snap),
        "supersedes_version": snap.get("supersedes_version"),
        "amendment_reason": snap.get("amendment_reason", ""),
    }


# --- rendering (the task's one service)


def _claim(record_id: int) -> int | None:
    """Take the pending row: the attempt number this render owns, or None when not ours to do.

    Compare-and-set on `attempts`: of renders that read the same count only one UPDATE matches, and
    a later claim (a retry, a re-drive) moves the count on, so a render that was overtaken cannot
    publish. No lock is held while WeasyPrint works.
    """
    row = (
        DecisionRecord.objects.filter(pk=record_id, state=DecisionRecord.State.PENDING)
        .values_list("attempts", "error")
        .first()
    )
    if row is None:
        return None
    seen, error = row
    if seen >= MAX_ATTEMPTS:
        # Every attempt was claimed and none finished: a render that kills its worker (hard time
        # limit, out of memory) is redelivered forever otherwise (task_reject_on_worker_lost).
        DecisionRecord.objects.filter(pk=record_id, state=DecisionRecord.State.PENDING, attempts=seen).update(
            state=DecisionRecord.State.FAILED,
            error=error or f"Gave up after {seen} attempts: the worker stopped before finishing (time limit or crash).",
        )
        return None
    won = DecisionRecord.objects.filter(pk=record_id, state=DecisionRecord.State.PENDING, attempts=seen).update(
        attempts=seen + 1
    )
    return seen + 1 if won else None


def _owned(record_id: int, attempt: int) -> RecordQuerySet:
    # Filtering on `pending` also keeps RecordQuerySet.update() from ever seeing a ready row.
    return DecisionRecord.objects.filter(pk=record_id, state=DecisionRecord.State.PENDING, attempts=attempt)


def record_render(*, record_id: int) -> bool:
    """Render, store and publish one pending record. True when this call made it ready.

    Returns False, changing nothing, when the record is not pending (already ready or failed) or
    another render owns it; also when every attempt was claimed without finishing, after marking it
    `failed`. On a failure the error and attempt count stay on the row, which is
    marked `failed` after MAX_ATTEMPTS, and RecordRenderError is raised for the task's retry.
    The file goes through the `pdf` FileField's storage (default storage) as
    `records/<decision>/decision-<decision>-v<n>.pdf`; a render that loses its claim deletes its file.
    """
    attempt = _claim(record_id)
    if attempt is None:
        return False
    record = DecisionRecord.objects.get(pk=record_id)
    try:
        pdf = render_pdf(render_to_string("meetings/record.html", record_context(record)), static_base_url())
        if not _owned(record_id, attempt).exists():
            # Overtaken while rendering (a retry or re-drive claimed and published): store nothing.
            return False
        name = record_file_name(record)
        # A render killed between storing and publishing leaves a file at this version's own name;
        # the row is still pending and this render owns the claim, so that file is ours to replace
        # (no orphan copy of a patient's record, no suffixed name).
        stored_name = record.pdf.field.generate_filename(record, name)
        if record.pdf.storage.exists(stored_name):
            record.pdf.storage.delete(stored_name)
        record.pdf.save(name, ContentFile(pdf), save=False)
        published = _owned(record_id, attempt).update(
            state=DecisionRecord.State.READY,
            pdf=record.pdf.name,
            sha256=hashlib.sha256(pdf).hexdigest(),
            rendered_at=timezone.now(),
            error="",
        )
    except Exception as exc:
        # Anything (template, WeasyPrint, storage, soft time limit) counts as a failed attempt.
        _record_failure(record_id, attempt, exc)
        if record.pdf.name:
            # Stored but never published: no row names this file.
            record.pdf.storage.delete(record.pdf.name)
        raise RecordRenderError(f"Rendering decision record {record_id} failed (attempt {attempt}): {exc}") from exc
    if not published:
        # Overtaken between the check and the publication: unless the winner published this very
        # file name, the file is ours and unreferenced.
        if not DecisionRecord.objects.filter(
            pk=record_id, state=DecisionRecord.State.READY, pdf=record.pdf.name
        ).exists():
            record.pdf.storage.delete(record.pdf.name)
        return False
    return True


def _record_failure(record_id: int, attempt: int, exc: Exception) -> None:
    logger.warning("Decision record %s: attempt %s failed", record_id, attempt, exc_info=exc)
    changes: dict[str, Any] = {"error": f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]}
    if attempt >= MAX_ATTEMPTS:
        changes["state"] = DecisionRecord.State.FAILED
    _owned(record_id, attempt).update(**changes)


def records_redrive_pending(*, older_than: timedelta = REDRIVE_AFTER) -> list[int]:
    """Send again the render of every record still pending `older_than` after its creation (a
    message lost with a broker restart, or a process that died before enqueuing). Returns their ids."""
    from meetings.tasks_records import render_decision_record

    cutoff = timezone.now() - older_than
    pending = list(
        DecisionRecord.objects.filter(state=DecisionRecord.State.PENDING, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:REDRIVE_BATCH]
    )
    for record_id in pending:
        render_decision_record.delay(record_id)
    return pending


# --- verification and download


def _read_stored(record: DecisionRecord) -> bytes:
    if record.state != DecisionRecord.State.READY:
        raise RecordNotReady(f"Decision record {record_identifier(record)} is {record.state}.")
    with record.pdf.storage.open(record.pdf.name, "rb") as stored:
        data: bytes = stored.read()
    return data


def record_verify(record: DecisionRecord) -> tuple[bool, str]:
    """Recompute the stored file's SHA-256: (matches the kept hash, the hash now). A missing file
    gives (False, ""). Reads only; a mismatch is reported, never repaired."""
    if record.state != DecisionRecord.State.READY:
        raise RecordNotReady(f"Decision record {record_identifier(record)} is {record.state}.")
    try:
        with record.pdf.storage.open(record.pdf.name, "rb") as stored:
            actual = _sha256_of(stored)
    except FileNotFoundError:
        return False, ""
    return actual == record.sha256, actual


def record_download_bytes(record: DecisionRecord, *, original: bool = False) -> bytes:
    """The PDF to hand out: the stored bytes, with the superseded banner on page 1 when a later
    version exists (unless `original`). Raises RecordNotReady for a pending or failed record."""
    stored = _read_stored(record)
    successor = DecisionRecord.objects.filter(supersedes=record).select_related("signer").first()
    if original or successor is None:
        return stored
    return _stamp_superseded(stored, successor)


def _stamp_superseded(stored: bytes, successor: DecisionRecord) -> bytes:
    """Lay the banner over the band page 1 keeps empty for it (record.css `.stamp-area`)."""
    banner_html = format_html(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Superseded</title>'
        '<link rel="stylesheet" href="css/record.css"></head><body>'
        '<div class="superseded-stamp"><strong>SUPERSEDED by version {}</strong> ({}), finalised {} by {}. '
        "This version is kept unchanged for reference.</div></body></html>",
        successor.version,
        # The band holds three lines; the full reason is printed on the new version itself.
        Truncator(successor.amendment_reason or "amended").chars(_STAMP_REASON_CHARS),
        _when(successor.signed_at),
        successor.signer.display_name,
    )
    banner = PdfReader(BytesIO(render_pdf(banner_html, static_base_url()))).pages[0]
    writer = PdfWriter(clone_from=PdfReader(BytesIO(stored)))
    writer.pages[0].merge_page(banner)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
