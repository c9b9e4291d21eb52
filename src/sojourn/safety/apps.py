from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "sojourn.safety"
    label = "safety"
    verbose_name = "Drug safety"
