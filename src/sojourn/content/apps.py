from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "sojourn.content"
    label = "content"
    verbose_name = "Content library"
