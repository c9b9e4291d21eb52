from django.urls import path

from sojourn.content import console_views as views

app_name = "content-console"

urlpatterns = [
    path("", views.library, name="library"),
    path("<slug:code>/", views.item_page, name="item"),
    path("<slug:code>/step/", views.step, name="step"),
]
