from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "sojourn.tracking"
    label = "tracking"
    verbose_name = "Tracking and profiles"
