from django.urls import path

from sojourn.safety import portal_views as views

app_name = "safety-portal"

urlpatterns = [
    path("", views.report, name="report"),
    path("sent/", views.sent, name="sent"),
]
