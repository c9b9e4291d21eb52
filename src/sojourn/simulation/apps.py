from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "sojourn.simulation"
    label = "simulation"
    verbose_name = "Cohort simulation"
