"""`/api/v1/decisions/<id>/records/...` (contract "Decision records"); included by tumourboard/api_v1.py."""

from django.urls import path

from meetings.api.v1 import records

urlpatterns = [
    path("decisions/<int:decision_id>/records/", records.DecisionRecordListView.as_view(), name="api-decision-records"),
    path(
        "decisions/<int:decision_id>/records/<int:version>/pdf",
        records.DecisionRecordPdfView.as_view(),
        name="api-decision-record-pdf",
    ),
    path(
        "decisions/<int:decision_id>/records/<int:version>/verify",
        records.DecisionRecordVerifyView.as_view(),
        name="api-decision-record-verify",
    ),
]
