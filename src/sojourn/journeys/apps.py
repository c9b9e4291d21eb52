from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "sojourn.journeys"
    label = "journeys"
    verbose_name = "Journey maps and personas"
