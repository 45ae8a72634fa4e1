"""The audit log of reads (issue 9): every successful read of patient data and every export.

One middleware, keyed by URL name, so no view can forget to log: a route that serves a case,
section, decision, record PDF or export is listed in AUDITED_ROUTES and logged after it answered
2xx or 304 (a 304 is still a read the client was allowed). Writes are in the models' history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from common.models import AccessEvent


@dataclass(frozen=True, slots=True)
class Audited:
    resource: str
    action: str = AccessEvent.Action.READ
    id_kwarg: str = "case_id"


AUDITED_ROUTES: Final[dict[str, Audited]] = {
    # REST API
    "api-case": Audited("case"),
    "api-section": Audited("section"),
    "api-case-scores": Audited("scores"),
    "api-case-recommendation": Audited("recommendation"),
    "api-case-history": Audited("history"),
    "api-case-emergency": Audited("emergency"),
    "api-case-readiness": Audited("readiness"),
    "api-case-fhir": Audited("fhir", AccessEvent.Action.EXPORT),
    "api-decision": Audited("decision", id_kwarg="decision_id"),
    "api-decision-records": Audited("decision_records", id_kwarg="decision_id"),
    "api-decision-record-pdf": Audited("record_pdf", AccessEvent.Action.EXPORT, id_kwarg="decision_id"),
    # Browser pages
    "cases:detail": Audited("case"),
    "cases:section": Audited("section"),
    "cases:history": Audited("history"),
    "meetings:live": Audited("case"),
    "meetings:decision": Audited("decision", id_kwarg="decision_id"),
}
# Lists of patient data (no single object): logged with the query string as the object.
AUDITED_LISTS: Final[dict[str, str]] = {
    "api-cases": "case_list",
    "api-decisions": "decision_list",
    "cases:list": "case_list",
    "cases:my-work": "case_list",
}


# Where a view leaves the (case id, board id) of the case it served (see note_case).
_NOTED_CASE: Final = "_audit_case_and_board"


def note_case(request: Any, *, case_id: int, board_id: int) -> None:
    """Tell the audit log which case (and board) this request served, sparing it a look-up.

    Views that have loaded the case call it (a DRF Request or a Django HttpRequest). A route
    whose view does not is still logged: the middleware looks the case up by the URL's id.
    """
    http_request = getattr(request, "_request", request)
    setattr(http_request, _NOTED_CASE, (case_id, board_id))


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: a forwarded header is client-controlled unless a trusted proxy sets it.
    return request.META.get("REMOTE_ADDR") or None


def _case_and_board(resource: Audited, object_id: str) -> tuple[int | None, int | None]:
    from cases.models import Case
    from meetings.models import Decision

    if not object_id.isdigit():
        return None, None
    if resource.id_kwarg == "decision_id":
        row = Decision.objects.filter(pk=object_id).values_list("case_id", "case__board_id").first()
    else:
        row = Case.objects.filter(pk=object_id).values_list("id", "board_id").first()
    return (row[0], row[1]) if row else (None, None)


class AccessAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method in ("GET", "HEAD") and (200 <= response.status_code < 300 or response.status_code == 304):
            self._record(request)
        return response

    def _record(self, request: HttpRequest) -> None:
        match = request.resolver_match
        user = getattr(request, "user", None)
        if match is None or user is None or not user.is_authenticated:
            return
        name = match.view_name
        audited = AUDITED_ROUTES.get(name)
        if audited is not None:
            object_id = str(match.kwargs.get(audited.id_kwarg, ""))
            resource, action = audited.resource, audited.action
            if "discipline" in match.kwargs:
                resource = f"section:{match.kwargs['discipline']}"
            noted = getattr(request, _NOTED_CASE, None)
            if audited.id_kwarg == "case_id" and noted is not None and str(noted[0]) == object_id:
                case_id, board_id = noted
            else:
                case_id, board_id = _case_and_board(audited, object_id)
        elif name in AUDITED_LISTS:
            resource, action = AUDITED_LISTS[name], AccessEvent.Action.READ
            object_id, case_id, board_id = request.META.get("QUERY_STRING", "")[:64], None, None
        else:
            return
        AccessEvent.objects.create(
            at=timezone.now(),
            user=user,
            username=user.get_username(),
            action=action,
            resource=resource,
            object_id=object_id,
            case_id=case_id,
            board_id=board_id,
            method=request.method or "GET",
            path=request.path[:500],
            ip=_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )
