from django.urls import path

from sojourn.dialogue import console_views as views

app_name = "dialogue-console"

urlpatterns = [
    path("rules/", views.rule_sets, name="rule-sets"),
    path("rules/<slug:name>/", views.rule_set, name="rule-set"),
    path("rules/<slug:name>/check/", views.check, name="check"),
    path("rules/<slug:name>/v<int:number>/review/", views.review, name="review"),
    path("rules/<slug:name>/v<int:number>/dry-run/", views.dry_run_page, name="dry-run"),
    path("agenda/", views.agenda, name="agenda"),
    path("outbox/", views.outbox, name="outbox"),
    path("patients/<str:pseudonym>/timeline/", views.timeline, name="timeline"),
]
