from django.apps import AppConfig


class DialogueConfig(AppConfig):
    name = "sojourn.dialogue"
    label = "dialogue"
    verbose_name = "Dialogue rules, agenda and actions"

    def ready(self) -> None:
        from sojourn.dialogue import exports, subscriptions  # noqa: F401  (rules meet events; data export)
