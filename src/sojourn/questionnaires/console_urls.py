from django.urls import path

from sojourn.questionnaires import console_views as views

app_name = "questionnaires-console"

urlpatterns = [
    path("patients/<str:pseudonym>/<slug:name>/", views.enter_answers, name="enter"),
]
