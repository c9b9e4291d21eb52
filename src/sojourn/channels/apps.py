from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "sojourn.channels"
    label = "channels"
    verbose_name = "Channels and the outbox"
