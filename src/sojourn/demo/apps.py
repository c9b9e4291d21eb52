from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "sojourn.demo"
    label = "demo"
    verbose_name = "Demo program"
