from django.urls import path

from meetings.api.v1 import views

urlpatterns = [
    path("meetings/", views.MeetingListCreateView.as_view(), name="api-meetings"),
    path("meetings/<int:meeting_id>/", views.MeetingDetailView.as_view(), name="api-meeting"),
    path("meetings/<int:meeting_id>/agenda/", views.AgendaView.as_view(), name="api-meeting-agenda"),
    path("meetings/<int:meeting_id>/cancel/", views.MeetingCancelView.as_view(), name="api-meeting-cancel"),
    path("meetings/<int:meeting_id>/attendance/", views.AttendanceView.as_view(), name="api-meeting-attendance"),
    path("meetings/<int:meeting_id>/decisions/", views.MeetingDecisionView.as_view(), name="api-meeting-decisions"),
    path("decisions/", views.DecisionListView.as_view(), name="api-decisions"),
    path("decisions/<int:decision_id>/", views.DecisionDetailView.as_view(), name="api-decision"),
    path("decisions/<int:decision_id>/finalise/", views.DecisionFinaliseView.as_view(), name="api-decision-finalise"),
    path("decisions/<int:decision_id>/reopen/", views.DecisionReopenView.as_view(), name="api-decision-reopen"),
]
