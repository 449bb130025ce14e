"""How timelines describe the events of the Model for Improvement (registered in AppConfig.ready).

Each sentence is a format string over the event's payload; the actions put every key used
here into the payload.
"""

EVENT_DESCRIPTIONS: dict[str, str] = {
    "driver_node.added": "Driver diagram: {kind_label} added: {text}",
    "driver_node.changed": "Driver diagram: “{was}” edited (now “{text}”)",
    "driver_node.retired": "Driver diagram: “{text}” retired",
    "change_idea.created": "Change idea added: {title}",
    "change_idea.changed": "Change idea edited: {title}",
    "change_idea.retired": "Change idea retired: {title}",
    "change_idea.copied": "Change idea copied from {from_label}: {title}",
    "pdsa.created": "PDSA cycle {cycle_no} of “{idea}” started: {objective}",
    "pdsa.updated": "PDSA cycle {cycle_no} of “{idea}” updated",
    "pdsa.acted": "PDSA cycle {cycle_no} of “{idea}”: decided to {act}",
    "progress_score.recorded": "Progress score {score} ({rater_label}) for {month_label}",
}
