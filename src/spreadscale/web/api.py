"""The REST API: one NinjaAPI, with a router per area of the domain.

Authentication: a personal token (``Authorization: Bearer ss_...``, created on the Account page)
or the browser session (with CSRF). Access rules are the pages' rules, from permissions.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import ValidationError as SchemaError
from ninja.security import HttpBearer, SessionAuth

from spreadscale.web.core.actions import user_for_token
from spreadscale.web.core.errors import error_list


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="spreadscale API",
    version="1",
    description="Programmes, sites, measures and observations of spread and scale-up programmes.",
    urls_namespace="api",
    docs_url="/docs",
    auth=[TokenAuth(), SessionAuth(csrf=True)],
)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError):
    return api.create_response(
        request,
        {"detail": "The request has errors; nothing was saved.", "errors": error_list(exc)},
        status=422,
    )


_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def schema_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ninja's ``{type, loc, msg}`` errors as ours: ``{row?, field, message}``.

    ``loc`` starts with where the value came from (``body``, ``query``...) and, for a body, the
    parameter's name; when the body is a list, the next item is the 0-based index of the row,
    reported 1-based as ``row`` like an import's rows. The rest is the field's dotted path.
    """
    out: list[dict[str, Any]] = []
    for e in errors:
        loc = list(e.get("loc", ()))
        source = loc.pop(0) if loc and loc[0] in _SOURCES else None
        if source in ("body", "form", "file") and loc:
            loc.pop(0)  # the parameter's name, not something the client wrote
        entry: dict[str, Any] = {}
        if loc and isinstance(loc[0], int):
            entry["row"] = loc.pop(0) + 1
        entry["field"] = ".".join(str(p) for p in loc) or None
        message = str(e.get("msg", "is not valid"))
        if entry["field"] is None and "row" not in entry:
            message = (
                "The request body is missing: send JSON."
                if e.get("type") == "missing"
                else f"The request body: {message}"
            )
        entry["message"] = message
        out.append(entry)
    return out


@api.exception_handler(SchemaError)
def schema_error(request: HttpRequest, exc: SchemaError):
    """A value of the wrong type or shape, in the same error list as our own checks."""
    detail = "The request has errors" + (
        "." if request.method in ("GET", "HEAD") else "; nothing was saved."
    )
    return api.create_response(
        request, {"detail": detail, "errors": schema_errors(exc.errors)}, status=422
    )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


@api.exception_handler(RequestDataTooBig)
def body_too_big(request: HttpRequest, exc: RequestDataTooBig):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    sent = request.META.get("CONTENT_LENGTH") or ""
    size = f"is {_size(int(sent))}, over" if sent.isdigit() else "is over"
    message = (
        f"The request body {size} the limit of {_size(limit)} (SPREADSCALE_API_MAX_BODY_MB). "
        "Send the rows in smaller batches; nothing was saved."
    )
    return api.create_response(
        request, {"detail": message, "errors": [{"field": None, "message": message}]}, status=413
    )


@api.exception_handler(OverflowError)
def number_out_of_range(request: HttpRequest, exc: OverflowError):
    # An id or count beyond what the database stores (64 bits), e.g. a mistyped id in a list
    # that the schema could not bound; the action's transaction has rolled back.
    message = "A number in the request is too large to be an id or a count here; nothing was saved."
    return api.create_response(
        request, {"detail": message, "errors": [{"field": None, "message": message}]}, status=422
    )


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "Not allowed."}, status=403)


def _register_routers() -> None:
    from spreadscale.web.core.api import router as core_router
    from spreadscale.web.fidelity.api import router as fidelity_router
    from spreadscale.web.improvement.api import router as improvement_router
    from spreadscale.web.measurement.api import router as measurement_router

    # Each area adds its router here, one line each.
    api.add_router("/", core_router)
    api.add_router("/", measurement_router)
    api.add_router("/", improvement_router)
    api.add_router("/", fidelity_router)


_register_routers()
