from django.apps import AppConfig


class DialogueConfig(AppConfig):
    name = "sojourn.dialogue"
    label = "dialogue"
    verbose_name = "Dialogue rules, agenda and actions"
