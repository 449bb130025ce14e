from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "spreadscale.web.improvement"
    label = "improvement"
    verbose_name = "Model for Improvement"

    def ready(self) -> None:
        from spreadscale.web.core.models import EVENT_DESCRIPTIONS
        from spreadscale.web.improvement.events import EVENT_DESCRIPTIONS as OURS
        from spreadscale.web.improvement.selectors import pdsa_annotations
        from spreadscale.web.measurement.annotations import register

        register("pdsa", pdsa_annotations)
        EVENT_DESCRIPTIONS.update(OURS)
