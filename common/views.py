from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from common.api.v1.audit import AccessEventFilter, audit_events_for_user
from common.health import health_report


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database (and the broker, when one is configured) answer; 503 otherwise."""
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log for chairs (their boards) and administrators, with filters."""
    try:
        events = audit_events_for_user(user=request.user)  # type: ignore[arg-type]
    except ApiPermissionDenied as exc:
        raise PermissionDenied(str(exc.detail)) from None
    filtered = AccessEventFilter(request.GET, queryset=events.order_by("-at", "-id"))
    page = Paginator(filtered.qs, 100).get_page(request.GET.get("page"))
    return render(request, "common/audit_log.html", {"filter": filtered, "page": page})
