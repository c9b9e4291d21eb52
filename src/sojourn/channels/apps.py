from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "sojourn.channels"
    label = "channels"
    verbose_name = "Channels and the outbox"

    def ready(self) -> None:
        from sojourn.channels import subscriptions  # noqa: F401  (withdrawal cancels pending messages)
