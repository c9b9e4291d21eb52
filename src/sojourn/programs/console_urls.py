from django.urls import path

from sojourn.programs import console_views as views

app_name = "programs-console"

urlpatterns = [
    path("definition/", views.definition, name="definition"),
    path("definition/check/", views.check, name="check"),
    path("definition/v<int:number>/review/", views.review, name="review"),
    path("markets/<str:country>/live/", views.market_live, name="market-live"),
]
