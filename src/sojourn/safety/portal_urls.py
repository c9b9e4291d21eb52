from django.urls import path

from sojourn.safety import portal_views as views

app_name = "safety-portal"

urlpatterns = [
    path("", views.report, name="report"),
    path("questions/<int:follow_up_id>/", views.answer, name="answer"),
    path("sent/", views.sent, name="sent"),
]
