from django.apps import AppConfig


class MeasurementConfig(AppConfig):
    name = "spreadscale.web.measurement"
    label = "measurement"
    verbose_name = "Measures and observations"
