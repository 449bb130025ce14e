"""Errors that actions raise for people to read."""

from django.core.exceptions import ValidationError


class StaleEdit(ValidationError):
    """Someone else saved this record after the editor loaded it."""

    def __init__(self, what: str = "This record") -> None:
        super().__init__(
            f"{what} was changed by someone else after you opened it. "
            "Reload the page to see their change, then make yours again.",
            code="stale",
        )
