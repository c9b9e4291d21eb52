from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "sojourn.tracking"
    label = "tracking"
    verbose_name = "Tracking and profiles"

    def ready(self) -> None:
        from sojourn.tracking import exports, subscriptions  # noqa: F401  (profile refresh, events; data export)
