from django.urls import path

from sojourn.safety import portal_views as views

app_name = "safety-hcp"

urlpatterns = [
    path("", views.doctor_report, name="report"),
    path("questions/<int:follow_up_id>/", views.doctor_answer, name="answer"),
    path("sent/", views.doctor_sent, name="sent"),
]
