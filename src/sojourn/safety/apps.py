from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "sojourn.safety"
    label = "safety"
    verbose_name = "Drug safety"

    def ready(self) -> None:
        from sojourn.safety import erasure  # noqa: F401  (an open report keeps its reporter through an erasure)
