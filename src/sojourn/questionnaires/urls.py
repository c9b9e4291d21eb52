from django.urls import path

from sojourn.questionnaires import portal_views as views

app_name = "questionnaires-portal"

urlpatterns = [
    path("", views.questionnaire_list, name="list"),
    path("<slug:name>/", views.answer, name="answer"),
    path("<slug:name>/review/", views.review, name="review"),
    path("<slug:name>/done/<int:response_id>/", views.done, name="done"),
]
