"""Meetings and decisions REST API (contract "Meetings and decisions"). Board members read;
coordinators and chairs write meetings and attendance; chairs write decisions."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.v1.views import locked_out_response
from accounts.models import User
from accounts.reauth import SIGNATURE_PASSWORD_MISMATCH, LockedOut, password_confirmed
from cases.selectors import case_get_for_user
from common.errors import StaleVersion
from common.filters import IdFilter
from common.http import if_match_version
from common.openapi import ERRORS
from meetings import scheduling, selectors, services
from meetings.api.v1.serializers import (
    AgendaItemSerializer,
    AttendanceSerializer,
    AttendanceWriteSerializer,
    DecisionDraftSerializer,
    DecisionSerializer,
    DecisionWriteSerializer,
    FinaliseSerializer,
    MeetingCancelSerializer,
    MeetingCreateSerializer,
    MeetingSerializer,
    ReopenDecisionSerializer,
)
from meetings.models import Decision, Meeting
from meetings.quorum import meeting_quorum

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the meeting as read; 428 when missing, 412 when stale.",
)


class MeetingListCreateView(generics.ListCreateAPIView[Meeting]):
    serializer_class = MeetingSerializer
    filterset_fields = ("board", "status", "is_ad_hoc")
    ordering_fields = ("starts_at", "id")
    ordering = ("starts_at", "id")

    def get_queryset(self) -> QuerySet[Meeting]:
        return selectors.meeting_list_for_user(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(request=MeetingCreateSerializer, responses={201: MeetingSerializer, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = MeetingCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        board = body.validated_data["board"]
        if not selectors.can_run_meetings(selectors.membership_on(user=request.user, board_id=board.pk)):  # type: ignore[arg-type]
            raise PermissionDenied("Only the board's coordinators and chairs create meetings.")
        meeting = services.meeting_create(by=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(
            MeetingSerializer(selectors.meeting_get_for_user(user=request.user, meeting_id=meeting.pk)).data,  # type: ignore[arg-type]
            status=status.HTTP_201_CREATED,
        )


class MeetingDetailView(generics.RetrieveAPIView[Meeting]):
    serializer_class = MeetingSerializer
    lookup_url_kwarg = "meeting_id"

    def get_queryset(self) -> QuerySet[Meeting]:
        return selectors.meeting_list_for_user(user=self.request.user)  # type: ignore[arg-type]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_object()
        return Response(self.get_serializer(meeting).data, headers={"ETag": meeting.etag})


def _meeting_run_by_caller(request: Request, meeting_id: int, action: str) -> Meeting:
    """The meeting (404 outside the caller's boards), when the caller chairs or coordinates its
    board (403 otherwise, saying who may `action`)."""
    meeting = selectors.meeting_get_for_user(user=request.user, meeting_id=meeting_id)  # type: ignore[arg-type]
    if not selectors.can_run_meetings(selectors.membership_on(user=request.user, board_id=meeting.board_id)):  # type: ignore[arg-type]
        raise PermissionDenied(f"Only the board's chair and coordinators {action}.")
    return meeting


class MeetingCancelView(APIView):
    """A coordinator or chair cancels a planned meeting that has not started, with a reason. Its
    cases go back to the front of the queue; If-Match names the meeting version read."""

    @extend_schema(parameters=[IF_MATCH], request=MeetingCancelSerializer, responses={200: MeetingSerializer, **ERRORS})
    def post(self, request: Request, meeting_id: int) -> Response:
        meeting = _meeting_run_by_caller(request, meeting_id, "cancel meetings")
        body = MeetingCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        expected = if_match_version(request, current_etag=meeting.etag)
        scheduling.meeting_cancel(meeting=meeting, by=request.user, reason=body.validated_data["reason"],  # type: ignore[arg-type]
                                  expected_version=expected)  # fmt: skip
        fresh = selectors.meeting_get_for_user(user=request.user, meeting_id=meeting_id)  # type: ignore[arg-type]
        return Response(MeetingSerializer(fresh).data, headers={"ETag": fresh.etag})


class AgendaView(APIView):
    @extend_schema(responses={200: AgendaItemSerializer(many=True), 404: ERRORS[404]})
    def get(self, request: Request, meeting_id: int) -> Response:
        meeting = selectors.meeting_get_for_user(user=request.user, meeting_id=meeting_id)  # type: ignore[arg-type]
        return Response(AgendaItemSerializer(selectors.agenda_for_meeting(meeting=meeting), many=True).data)


def _quorum_body(meeting: Meeting) -> dict[str, Any]:
    quorum = meeting_quorum(meeting)
    return {
        "reached": quorum.reached,
        "present_roles": sorted(quorum.present_roles),
        "missing_roles": list(quorum.missing_roles),
        "message": quorum.message,
    }


class AttendanceView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: ERRORS[404]})
    def get(self, request: Request, meeting_id: int) -> Response:
        meeting = selectors.meeting_get_for_user(user=request.user, meeting_id=meeting_id)  # type: ignore[arg-type]
        rows = meeting.attendance.select_related("user").order_by("role", "user__username")
        return Response({"attendance": AttendanceSerializer(rows, many=True).data, "quorum": _quorum_body(meeting)})

    @extend_schema(request=AttendanceWriteSerializer, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request, meeting_id: int) -> Response:
        meeting = _meeting_run_by_caller(request, meeting_id, "record attendance")
        body = AttendanceWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        person = User.objects.filter(pk=body.validated_data["user"]).first()
        if person is None:
            return Response({"user": ["No such person."]}, status=status.HTTP_400_BAD_REQUEST)
        services.attendance_record(
            meeting=meeting,
            user=person,
            role=body.validated_data["role"],
            present=body.validated_data["present"],
            by=request.user,  # type: ignore[arg-type]
        )
        return self.get(request, meeting_id)


class MeetingDecisionView(APIView):
    """The chair records (drafts) the decision on one case at this meeting."""

    @extend_schema(request=DecisionWriteSerializer, responses={200: DecisionDraftSerializer, **ERRORS})
    def post(self, request: Request, meeting_id: int) -> Response:
        meeting = selectors.meeting_get_for_user(user=request.user, meeting_id=meeting_id)  # type: ignore[arg-type]
        if not selectors.is_chair(selectors.membership_on(user=request.user, board_id=meeting.board_id)):  # type: ignore[arg-type]
            raise PermissionDenied("Only the board's chair records decisions.")
        body = DecisionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        case = case_get_for_user(user=request.user, case_id=fields.pop("case"))  # type: ignore[arg-type]
        quorum = meeting_quorum(meeting)
        if not quorum.reached:
            return Response({"non_field_errors": [quorum.message]}, status=status.HTTP_400_BAD_REQUEST)
        existing = Decision.objects.filter(case=case, meeting=meeting).first()
        # Changing an existing decision names the revision it edits (If-Match); creating one does not.
        expected = if_match_version(request, current_etag=existing.etag) if existing is not None else None
        decision = services.decision_save(
            case=case,
            meeting=meeting,
            by=request.user,  # type: ignore[arg-type]
            fields=fields,
            expected_version=expected,
        )
        return Response(DecisionDraftSerializer(decision).data, headers={"ETag": decision.etag})


def _check_revision(request: Request, decision: Decision) -> None:
    """If-Match names the revision the chair read: 428 without it, 412 when it moved on. The
    service checks the record version again under its row lock."""
    expected = if_match_version(request, current_etag=decision.etag)
    if expected != decision.revision:
        raise StaleVersion(expected=expected, current=decision.revision)


class FeedPagination(CursorPagination):
    """Stable order by feed position: a client paging through never misses or repeats a decision,
    even while new ones arrive (they get later positions; an amendment moves to the end)."""

    ordering = "feed_seq"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class DecisionFilter(django_filters.FilterSet):
    board = IdFilter(field_name="case__board_id")
    case = IdFilter(field_name="case_id")
    updated_since = django_filters.IsoDateTimeFilter(field_name="published_at", lookup_expr="gte")

    class Meta:
        model = Decision
        fields = ("board", "case", "updated_since")


class DecisionListView(generics.ListAPIView[Decision]):
    """The decision feed: every decision finalised or amended since `updated_since`, as signed."""

    serializer_class = DecisionSerializer
    pagination_class = FeedPagination
    filterset_class = DecisionFilter
    filter_backends = (django_filters.rest_framework.DjangoFilterBackend,)

    def get_queryset(self) -> QuerySet[Decision]:
        return selectors.decision_feed_for_user(user=self.request.user)  # type: ignore[arg-type]


class DecisionDetailView(APIView):
    @extend_schema(responses={200: DecisionSerializer, 404: ERRORS[404]})
    def get(self, request: Request, decision_id: int) -> Response:
        decision = selectors.decision_get_for_user(user=request.user, decision_id=decision_id)  # type: ignore[arg-type]
        return Response(DecisionSerializer(decision).data, headers={"ETag": decision.etag})


class DecisionFinaliseView(APIView):
    @extend_schema(
        request=FinaliseSerializer,
        responses={
            200: DecisionSerializer,
            **ERRORS,
            429: OpenApiResponse(
                description="Too many wrong passwords (here or at login): locked out, see Retry-After"
            ),
        },
    )
    def post(self, request: Request, decision_id: int) -> Response:
        decision = selectors.decision_get_for_user(user=request.user, decision_id=decision_id)  # type: ignore[arg-type]
        if not selectors.is_chair(selectors.membership_on(user=request.user, board_id=decision.case.board_id)):  # type: ignore[arg-type]
            raise PermissionDenied("Only the board's chair finalises decisions.")
        body = FinaliseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _check_revision(request, decision)
        try:
            signed_by_self = password_confirmed(request, user=request.user, password=body.validated_data["password"])  # type: ignore[arg-type]
        except LockedOut:
            return locked_out_response()
        if not signed_by_self:
            raise ValidationError({"password": [SIGNATURE_PASSWORD_MISMATCH]})
        services.decision_finalise(
            decision=decision,
            by=request.user,  # type: ignore[arg-type]
            password=body.validated_data["password"],
            otp=body.validated_data["otp"],
            expected_version=decision.version,
        )
        fresh = selectors.decision_get_for_user(user=request.user, decision_id=decision_id)  # type: ignore[arg-type]
        return Response(DecisionSerializer(fresh).data, headers={"ETag": fresh.etag})


class DecisionReopenView(APIView):
    @extend_schema(request=ReopenDecisionSerializer, responses={200: DecisionDraftSerializer, **ERRORS})
    def post(self, request: Request, decision_id: int) -> Response:
        decision = selectors.decision_get_for_user(user=request.user, decision_id=decision_id)  # type: ignore[arg-type]
        if not selectors.is_chair(selectors.membership_on(user=request.user, board_id=decision.case.board_id)):  # type: ignore[arg-type]
            raise PermissionDenied("Only the board's chair amends decisions.")
        body = ReopenDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _check_revision(request, decision)
        with transaction.atomic():
            decision = services.decision_reopen(
                decision=decision,
                by=request.user,  # type: ignore[arg-type]
                reason=body.validated_data["reason"],
                expected_version=decision.version,
            )
        return Response(DecisionDraftSerializer(decision).data)
