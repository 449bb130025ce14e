"""The REST API: one NinjaAPI, with a router per area of the domain.

Authentication: a personal token (``Authorization: Bearer ss_...``, created on the Account page)
or the browser session (with CSRF). Access rules are the pages' rules, from permissions.py.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from spreadscale.web.core.actions import user_for_token


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
    if hasattr(exc, "error_dict"):
        errors = [{"field": f, "message": m} for f, msgs in exc.message_dict.items() for m in msgs]
    else:
        errors = [{"field": None, "message": m} for m in exc.messages]
    row_errors = getattr(exc, "row_errors", None)
    if row_errors is not None:
        errors = [{"row": e.row, "field": e.field, "message": e.message} for e in row_errors]
    return api.create_response(
        request,
        {"detail": "The request has errors; nothing was saved.", "errors": errors},
        status=422,
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
