from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "sojourn.programs"
    label = "programs"
    verbose_name = "Program definitions"
