from django.urls import path

from cases import views, views_panels

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("my-work/", views.my_work, name="my-work"),
    path("new/", views.referral_create, name="new"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/sections/<str:discipline>/", views.section_edit, name="section"),
    path("<int:case_id>/history/", views.history, name="history"),
    path("<int:case_id>/emergency/<str:step>/", views_panels.checklist_ack, name="checklist-ack"),
    path("<int:case_id>/urgency/", views_panels.urgency_override, name="urgency"),
]
