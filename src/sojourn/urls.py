from django.urls import include, path
from django.views.generic import RedirectView

from sojourn.api import api
from sojourn.core import views as core_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:home", permanent=False)),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("console/consent/", include("sojourn.consent.console_urls")),
    path("console/profiles/", include("sojourn.tracking.urls")),
    path("console/dialogue/", include("sojourn.dialogue.console_urls")),
    path("console/questionnaires/", include("sojourn.questionnaires.console_urls")),
    path("console/content/", include("sojourn.content.console_urls")),
    path("console/insights/", include("sojourn.insights.console_urls")),
    path("console/journeys/", include("sojourn.journeys.urls")),
    path("console/nurse/", include("sojourn.channels.console_urls")),
    path("console/safety/", include("sojourn.safety.console_urls")),
    path("console/program/", include("sojourn.programs.console_urls")),
    path("console/", include("sojourn.people.urls")),
    path("p/me/questionnaires/", include("sojourn.questionnaires.urls")),
    path("p/me/page/", include("sojourn.portal.urls")),
    path("p/me/side-effects/", include("sojourn.safety.portal_urls")),
    path("p/hcp/me/side-effects/", include("sojourn.safety.hcp_urls")),
    path("p/", include("sojourn.consent.urls")),
    path("t/", include("sojourn.channels.tracking_urls")),
]
