from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "sojourn.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        from sojourn.people import signals  # noqa: F401  (audits sign-ins)
