from django.urls import path

from sojourn.channels import tracking_views as views

app_name = "email-links"

urlpatterns = [
    path("o/<str:token>.gif", views.opened, name="open"),
    path("c/<str:token>/", views.clicked, name="click"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
