from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("calculators/", views.calculator_list, name="calculators"),
    path("calculators/<str:name>/", views.calculator_detail, name="calculator"),
]
