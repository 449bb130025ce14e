from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "spreadscale.web.core"
    label = "core"
    verbose_name = "Programmes, sites and people"
