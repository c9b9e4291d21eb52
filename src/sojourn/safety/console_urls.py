from django.urls import path

from sojourn.safety import console_views as views

app_name = "safety-console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("intakes/<int:intake_id>/", views.intake_page, name="intake"),
    path("cases/<str:number>/", views.case_page, name="case"),
    path("cases/<str:number>/versions/<int:version>/e2b/", views.e2b_file, name="e2b"),
    path("screening/", views.screening_page, name="screening"),
    path("line-list/", views.line_list, name="line-list"),
    path("reconciliation/", views.reconciliation_page, name="reconciliation"),
]
