from django.urls import path

from sojourn.questionnaires import console_views as views

app_name = "questionnaires-console"

urlpatterns = [
    path("", views.questionnaire_list, name="list"),
    path("import/", views.import_page, name="import"),
    path("<int:questionnaire_id>/", views.detail, name="detail"),
    path("<int:questionnaire_id>/<str:action>/", views.review, name="review"),
    path("patients/<str:pseudonym>/<slug:name>/", views.enter_answers, name="enter"),
]
