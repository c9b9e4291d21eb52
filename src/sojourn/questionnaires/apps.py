from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "sojourn.questionnaires"
    label = "questionnaires"
    verbose_name = "Questionnaires"
