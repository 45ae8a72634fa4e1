"""Conditional requests: ETag on reads, If-Match on writes (house style 11)."""

from __future__ import annotations

import re

from rest_framework.request import Request

from common.errors import PreconditionFailed, PreconditionRequired

_VERSION = re.compile(r'^"(?P<prefix>[^"]+)-v(?P<version>\d+)"$')


def if_match_version(request: Request, *, current_etag: str) -> int:
    """The version the client edited, from If-Match. 428 when absent, 412 when it names another
    resource or is malformed. Whether that version is still current is the service's check, made
    under a row lock, so two writers cannot both pass it."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        raise PreconditionRequired("If-Match: * cannot detect a concurrent edit; send the ETag you read.")
    match = _VERSION.match(header.removeprefix("W/"))
    current = _VERSION.match(current_etag)
    if match is None or current is None or match["prefix"] != current["prefix"]:
        raise PreconditionFailed(f"If-Match {header} is not an ETag of this resource (current: {current_etag}).")
    return int(match["version"])
