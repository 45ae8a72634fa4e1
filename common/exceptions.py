"""One error shape for the API (contract "Conventions"): DRF's field-error shape.

400 `{"field": ["message"]}` with `non_field_errors` for whole-object problems; other statuses
`{"detail": "message"}`. Domain exceptions raised by services are translated here, so services
stay free of HTTP.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cases.lifecycle import InvalidTransition
from common.errors import StaleVersion


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_errors(exc))
    elif isinstance(exc, InvalidTransition):
        return Response(
            {"detail": str(exc), "status": exc.current, "target": exc.target}, status=status.HTTP_409_CONFLICT
        )
    elif isinstance(exc, StaleVersion):
        return Response(
            {"detail": str(exc), "current_version": exc.current}, status=status.HTTP_412_PRECONDITION_FAILED
        )
    return drf_exception_handler(exc, context)
