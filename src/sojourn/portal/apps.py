from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "sojourn.portal"
    label = "portal"
    verbose_name = "Personal page"
