from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "sojourn.tracking"
    label = "tracking"
    verbose_name = "Tracking and profiles"

    def ready(self) -> None:
        from sojourn.tracking import subscriptions  # noqa: F401  (a completed questionnaire refreshes the profile)
