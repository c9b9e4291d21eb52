from django.urls import path

from sojourn.channels import console_views as views

app_name = "nurse-console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("calls/<int:task_id>/", views.task_page, name="task"),
    path("calls/<int:task_id>/take/", views.take, name="take"),
]
