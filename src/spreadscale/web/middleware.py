"""Site-wide request handling of our own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

TOO_LARGE = "A number in the request is too large to be an id or a count here; nothing was saved."


class NumberOutOfRangeMiddleware:
    """A number beyond what the database stores (SQLite raises OverflowError on a 2**64 id in
    a lookup, e.g. a tampered form's choice) is the sender's mistake: a 400 that says so, not a
    500. The actions' transactions have rolled back by then. The API answers it as a 422
    (``spreadscale.web.api``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError):
            return HttpResponseBadRequest(TOO_LARGE, content_type="text/plain; charset=utf-8")
        return None
