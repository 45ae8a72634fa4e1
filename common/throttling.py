"""API throttles beyond DRF's defaults (contract: 429 with `Retry-After` when throttled).

DRF's `Throttled` exception already sets `Retry-After`, and `common.exceptions` keeps DRF's handler,
so every throttle here answers 429 with that header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:  # DRF's settings import this module while rest_framework.views is loading
    from rest_framework.views import APIView


class ServiceAccountRateThrottle(SimpleRateThrottle):
    """Rate limit (scope `service`) for service accounts, the read-only REST clients that poll the
    decision feed. A runaway client loop is throttled per account at this rate; people are never
    counted here (they keep the `user` scope only).
    """

    scope = "service"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:  # noqa: ARG002
        user = request.user
        if not (user and user.is_authenticated and getattr(user, "is_service_account", False)):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
