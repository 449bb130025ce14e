from django.apps import AppConfig


class FidelityConfig(AppConfig):
    name = "spreadscale.web.fidelity"
    label = "fidelity"
    verbose_name = "Fidelity and adaptation"

    def ready(self) -> None:
        from spreadscale.web.core.models import EVENT_DESCRIPTIONS
        from spreadscale.web.fidelity.annotations import adaptations
        from spreadscale.web.fidelity.events import EVENT_DESCRIPTIONS as OURS
        from spreadscale.web.measurement.annotations import register

        register("adaptation", adaptations)
        EVENT_DESCRIPTIONS.update(OURS)
