"""How timelines describe the events of fidelity and adaptation (registered in AppConfig.ready).

Each sentence is a format string over the event's payload; the actions put every key used
here into the payload.
"""

EVENT_DESCRIPTIONS: dict[str, str] = {
    "fidelity.assessed": "Fidelity assessed for the quarter from {period_label}: {score_label}",
    "fidelity.assessment_revised": (
        "Fidelity assessment for the quarter from {period_label} corrected: {changed_label}; "
        "now {score_label}"
    ),
    "adaptation.created": "Adaptation logged: {title} ({fidelity_label}; in use from {effective_label})",
    "adaptation.adopted": "Adaptation adopted from {from_site}: {title} (in use from {effective_label})",
    "adaptation.updated": "Adaptation record updated: {title} ({fidelity_label}; version {version})",
    "adaptation.published": "Adaptation shared with the programme: {title}",
    "component.retired": "Component retired: {name}",
    "component.restored": "Component back in use: {name}",
    "component.deleted": "Component deleted: {name}",
    "stage_gate.created": "Stage gate added before {phase_label}: {description}",
    "stage_gate.deleted": "Stage gate removed before {phase_label}: {description}",
    "stage_gate.overridden": "Stage gate “{gate}” overridden for the move to {phase_label}: {reason}",
}
