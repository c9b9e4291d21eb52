from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "sojourn.insights"
    label = "insights"
    verbose_name = "Insights and KPIs"
