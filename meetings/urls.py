from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("meetings/<int:meeting_id>.ics", views.meeting_ics, name="ics"),
    path("meetings/<int:meeting_id>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:meeting_id>/cancel/", views.meeting_cancel, name="cancel"),
    path("meetings/<int:meeting_id>/agenda/<int:item_id>/", views.agenda_item, name="agenda-item"),
    path("meetings/<int:meeting_id>/live/", views.live_start, name="live-start"),
    path("meetings/<int:meeting_id>/live/<int:position>/", views.live, name="live"),
    path("meetings/series/<int:series_id>.ics", views.series_ics, name="series-ics"),
    path("decisions/<int:decision_id>/", views.decision_detail, name="decision"),
    path("decisions/<int:decision_id>/reopen/", views.decision_reopen, name="decision-reopen"),
    path("calendar/<str:username>.ics", views.person_ics, name="person-ics"),
    path("calendar/subscription/", views.calendar_subscription, name="calendar-subscription"),
    path("calendar/feed/<str:key>.ics", views.person_feed, name="person-feed"),
]
