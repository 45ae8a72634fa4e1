"""Errors shared by the apps, each with its HTTP status (contract "Conventions")."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource has changed since you read it (If-Match does not match its ETag)."
    default_code = "stale_version"


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "This write needs an If-Match header with the ETag you read."
    default_code = "if_match_required"


class StaleVersion(Exception):
    """A write based on a version that is no longer current (HTTP 412); raised by services."""

    def __init__(self, *, expected: int, current: int) -> None:
        self.expected, self.current = expected, current
        super().__init__(f"You edited version {expected}, but the current version is {current}.")
