from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "sojourn.consent"
    label = "consent"
    verbose_name = "Consent"
