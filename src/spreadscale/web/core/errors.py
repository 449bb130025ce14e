"""Errors that actions raise for people to read."""

from typing import Any

from django.core.exceptions import ValidationError


class StaleEdit(ValidationError):
    """Someone else saved this record after the editor loaded it."""

    def __init__(self, what: str = "This record") -> None:
        super().__init__(
            f"{what} was changed by someone else after you opened it. "
            "Reload the page to see their change, then make yours again.",
            code="stale",
        )


def error_list(exc: ValidationError) -> list[dict[str, Any]]:
    """A ValidationError as the API reports it: ``[{row?, field, message}]`` (an import's
    row errors by row and field, other errors by field, or with no field)."""
    row_errors = getattr(exc, "row_errors", None)
    if row_errors is not None:
        return [{"row": e.row, "field": e.field, "message": e.message} for e in row_errors]
    if hasattr(exc, "error_dict"):
        return [{"field": f, "message": m} for f, msgs in exc.message_dict.items() for m in msgs]
    return [{"field": None, "message": m} for m in exc.messages]
