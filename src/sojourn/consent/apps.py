from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "sojourn.consent"
    label = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from sojourn.consent import withdrawal_effects  # noqa: F401  (subscribes what consent itself must stop)
