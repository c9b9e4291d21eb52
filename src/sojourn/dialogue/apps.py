from django.apps import AppConfig


class DialogueConfig(AppConfig):
    name = "sojourn.dialogue"
    label = "dialogue"
    verbose_name = "Dialogue rules, agenda and actions"

    def ready(self) -> None:
        from sojourn.dialogue import subscriptions  # noqa: F401  (events meet the rules; withdrawal cancels)
