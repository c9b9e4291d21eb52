from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "sojourn.questionnaires"
    label = "questionnaires"
    verbose_name = "Questionnaires"

    def ready(self) -> None:
        from sojourn.questionnaires import exports  # noqa: F401  (adds responses to a patient's data export)
