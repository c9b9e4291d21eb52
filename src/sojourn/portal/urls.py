from django.urls import path

from sojourn.portal import views

app_name = "personal-page"

urlpatterns = [
    path("", views.page, name="page"),
    path("cards/<int:card_id>/put-away/", views.put_away, name="put-away"),
    path("<slug:code>/", views.card, name="card"),
    path("<slug:code>/rate/", views.rate, name="rate"),
    path("<slug:code>/done/", views.done, name="done"),
]
