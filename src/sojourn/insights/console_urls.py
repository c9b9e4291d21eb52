from django.urls import path

from sojourn.insights import console_views as views
from sojourn.insights import hypothesis_views, survey_views

app_name = "insights-console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("compare/", views.compare, name="compare"),
    path("kpis.csv", views.export_csv, name="csv"),
    path("report.pdf", views.report_pdf, name="pdf"),
    path("hypotheses/", hypothesis_views.hypotheses, name="hypotheses"),
    path("hypotheses/new/", hypothesis_views.propose, name="propose"),
    path("hypotheses/<int:pk>/", hypothesis_views.hypothesis, name="hypothesis"),
    path("surveys/", survey_views.surveys, name="surveys"),
]
