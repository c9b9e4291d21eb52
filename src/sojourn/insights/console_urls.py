from django.urls import path

from sojourn.insights import console_views as views

app_name = "insights-console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("compare/", views.compare, name="compare"),
    path("kpis.csv", views.export_csv, name="csv"),
    path("report.pdf", views.report_pdf, name="pdf"),
]
