from django.urls import path

from sojourn.journeys import views

app_name = "journeys-console"

urlpatterns = [
    path("", views.atlas, name="atlas"),
    path("personas/", views.personas, name="personas"),
    path("personas/new/", views.persona_form, name="persona-new"),
    path("personas/<slug:code>/", views.persona_form, name="persona"),
    path("<slug:code>/", views.journey_page, name="journey"),
    path("<slug:code>/compare/", views.compare, name="compare"),
    path("<slug:code>/revise/", views.revise, name="revise"),
    path("<slug:code>/map.pdf", views.export_pdf, name="pdf"),
    path("<slug:code>/map.png", views.export_png, name="png"),
    path("<slug:code>/journey.json", views.export_json, name="json"),
]
