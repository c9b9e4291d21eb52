from django.urls import path

from sojourn.tracking import views

app_name = "tracking"

urlpatterns = [
    path("patients/<str:pseudonym>/profile/", views.profile, name="profile"),
    path("patients/<str:pseudonym>/stage/", views.change_stage, name="stage"),
]
