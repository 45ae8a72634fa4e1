"""Decision records REST API (contract "Decision records"): list versions, download, verify.

Visibility: the decision must be on one of the user's boards (`Decision.objects.visible_to`),
otherwise 404. Downloads serve a superseded version with its banner on page 1; `?original=1`
returns the exact stored bytes, whose SHA-256 is the `X-Record-SHA256` header and what verify checks
(see meetings.records).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.v1.serializers import UserRefSerializer
from meetings.models import Decision, DecisionRecord
from meetings.records import record_download_bytes, record_download_name, record_verify
from meetings.selectors import decision_get_for_user

NOT_VISIBLE = OpenApiResponse(description="No such decision or version on your boards")
NOT_RENDERED = OpenApiResponse(description="Rendering failed: `error` says why")


class DecisionRecordSerializer(serializers.ModelSerializer[DecisionRecord]):
    supersedes = serializers.IntegerField(
        source="supersedes.version", allow_null=True, read_only=True, help_text="The version this one replaces."
    )
    signer = UserRefSerializer(read_only=True)

    class Meta:
        model = DecisionRecord
        fields = (
            "version",
            "state",
            "sha256",
            "created_at",
            "rendered_at",
            "supersedes",
            "amendment_reason",
            "error",
            "signer",
            "signed_at",
            "signature_meaning",
        )
        read_only_fields = fields


def _visible_decision(request: Request, decision_id: int) -> Decision:
    return decision_get_for_user(user=request.user, decision_id=decision_id)  # type: ignore[arg-type]


def _record(request: Request, decision_id: int, version: int) -> DecisionRecord:
    decision = _visible_decision(request, decision_id)
    return get_object_or_404(DecisionRecord.objects.select_related("decision"), decision=decision, version=version)


def _not_ready(record: DecisionRecord) -> Response | None:
    """404 while the PDF is being made, 409 with the error once rendering has failed."""
    if record.state == DecisionRecord.State.PENDING:
        raise Http404("This record version is still being rendered; try again shortly.")
    if record.state == DecisionRecord.State.FAILED:
        return Response(
            {"detail": "Rendering this record version failed.", "error": record.error}, status=status.HTTP_409_CONFLICT
        )
    return None


class DecisionRecordListView(generics.ListAPIView[DecisionRecord]):
    """Every record version of a decision, oldest first. Not paginated: a decision has a handful."""

    serializer_class = DecisionRecordSerializer
    pagination_class = None
    filter_backends = ()

    def get_queryset(self) -> QuerySet[DecisionRecord]:
        decision = _visible_decision(self.request, self.kwargs["decision_id"])
        # The snapshots are the bulk of a row and the listing shows none of them.
        return (
            decision.records.select_related("supersedes", "signer")
            .defer("snapshot", "supersedes__snapshot")
            .order_by("version")
        )


class _JSONErrorsNegotiation(BaseContentNegotiation):
    """Success is always the PDF (a plain HttpResponse); errors are always JSON, whatever Accept
    says, so `Accept: application/pdf` never turns a 404 into a 406 or into JSON labelled as PDF."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        json_renderer = next(r for r in renderers if r.media_type == "application/json")
        return json_renderer, json_renderer.media_type


class DecisionRecordPdfView(APIView):
    content_negotiation_class = _JSONErrorsNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "original",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="1: the exact stored bytes, without the superseded banner.",
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The PDF; `X-Record-SHA256` is the SHA-256 of the stored bytes.",
            ),
            404: NOT_VISIBLE,
            409: NOT_RENDERED,
        },
    )
    def get(self, request: Request, decision_id: int, version: int) -> HttpResponse:
        record = _record(request, decision_id, version)
        if (refusal := _not_ready(record)) is not None:
            return refusal
        original = request.query_params.get("original", "") in ("1", "true", "yes")
        response = HttpResponse(record_download_bytes(record, original=original), content_type="application/pdf")
        # Never None for an attachment; the header also carries a UTF-8 name (filename*) when needed.
        response["Content-Disposition"] = cast(str, content_disposition_header(True, record_download_name(record)))
        response["X-Record-SHA256"] = record.sha256
        # Patient data: no shared or stored copies along the way.
        response["Cache-Control"] = "private, no-store"
        return response


class DecisionRecordVerifyView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "RecordVerification", {"ok": serializers.BooleanField(), "sha256": serializers.CharField()}
            ),
            404: NOT_VISIBLE,
            409: NOT_RENDERED,
        },
        description="Recompute the stored file's SHA-256; `ok` is whether it matches the hash kept at rendering.",
    )
    def post(self, request: Request, decision_id: int, version: int) -> Response:
        record = _record(request, decision_id, version)
        if (refusal := _not_ready(record)) is not None:
            return refusal
        ok, sha256 = record_verify(record)
        return Response({"ok": ok, "sha256": sha256})
