from django.urls import path

from sojourn.safety import portal_views as views

app_name = "safety-hcp"

urlpatterns = [
    path("", views.doctor_report, name="report"),
    path("sent/", views.doctor_sent, name="sent"),
]
