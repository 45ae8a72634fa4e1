from django.urls import path

from cases.api.v1 import views

urlpatterns = [
    path("cases/", views.CaseListCreateView.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", views.CaseDetailView.as_view(), name="api-case"),
    path("cases/<int:case_id>/sections/<str:discipline>/", views.SectionView.as_view(), name="api-section"),
    path(
        "cases/<int:case_id>/sections/<str:discipline>/submit/",
        views.SectionSubmitView.as_view(),
        name="api-section-submit",
    ),
    path(
        "cases/<int:case_id>/sections/<str:discipline>/reopen/",
        views.SectionReopenView.as_view(),
        name="api-section-reopen",
    ),
    path("cases/<int:case_id>/scores/", views.CaseScoresView.as_view(), name="api-case-scores"),
    path("cases/<int:case_id>/readiness/", views.CaseReadinessView.as_view(), name="api-case-readiness"),
    path("cases/<int:case_id>/history/", views.CaseHistoryView.as_view(), name="api-case-history"),
    path("cases/<int:case_id>/recommendation/", views.CaseRecommendationView.as_view(), name="api-case-recommendation"),
    path("cases/<int:case_id>/emergency/", views.CaseEmergencyView.as_view(), name="api-case-emergency"),
    path(
        "cases/<int:case_id>/emergency/checklist/<str:step>/",
        views.ChecklistAckView.as_view(),
        name="api-case-checklist-ack",
    ),
    path("cases/<int:case_id>/urgency/", views.CaseUrgencyView.as_view(), name="api-case-urgency"),
]
