from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty

from walletdesk.core import logs

logger = logging.getLogger(__name__)


class ContentSecurityPolicyMiddleware:
    """Send one strict CSP on every response.

    Pages use no inline script or style, so 'self' is enough; the API docs page included
    (django-ninja's bundled Swagger UI starts from a static file and reads its settings from a
    JSON data block, which the policy does not treat as script).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class LazyMessageMiddleware(MessageMiddleware):
    """Django's message middleware, with the storage built only when a view or template uses it.

    Django builds it for every request (an import lookup and two backends), and most requests —
    every API call — never touch it: 1.5% of a web process's time under ticket-creation load.
    A storage that was never built has nothing to save.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(partial(default_storage, request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        stored = getattr(request, "_messages", None)
        if isinstance(stored, SimpleLazyObject) and stored._wrapped is empty:
            return response
        result: HttpResponse = super().process_response(request, response)
        return result


# Pages that carry a guest's tracking token in their URL: whoever holds the page holds the link.
# The identity confirm link too: its page names a request and the address it was filed with;
# and allauth's address-confirmation and password-reset key pages (signed out, key in the URL).
NO_STORE_PREFIXES = (
    "/track/",
    "/submitted/",
    "/files/",
    "/confirm/",
    "/accounts/confirm-email/",
    "/accounts/password/reset/key/",
)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on tracking-link pages and on everything a signed-in user gets.

    A shared computer's browser cache or a proxy must not keep a ticket thread, an agent's
    inbox or a customer's security page. Public pages (the help centre for visitors) stay
    cacheable. Reading `request.user` costs nothing without a session cookie (the API's case).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith(NO_STORE_PREFIXES) or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        return response


class DatabaseOutageMiddleware:
    """A locked, full or unreachable database answers 503 with Retry-After, not a 500.

    Errors raised by views arrive here; errors raised by other middleware (a session read)
    reach `core.views.server_error`, the project's handler500, which answers the same.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from walletdesk.core.views import is_outage, unavailable

        if is_outage(exception):
            logger.warning("database unavailable for %s: %s", request.path, type(exception).__name__)
            return unavailable(request)
        return None


_access_log = logging.getLogger("walletdesk.request")


def route_of(request: HttpRequest) -> str:
    """The label a request is counted under: its URL pattern's name (`portal:new_ticket`, the
    API operation's `api:create_ticket`), never the path, whose ids and tracking tokens
    would make a new series per ticket (and put a guest's token in the metrics)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class ObservabilityMiddleware:
    """Outermost: gives the request its id (`core.logs`), counts it and times it (`core.metrics`),
    and writes one access line at INFO (route and status, never the path or the query).

    A ticket created over the API answers with a `DeferredResponse` (group commit, core.deferred):
    it is counted when its batch has committed, with its real status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from walletdesk.core import metrics

        self.get_response = get_response
        self.observe = metrics.observe_request

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from walletdesk.core.deferred import DeferredResponse

        start = time.perf_counter()
        rid = logs.accept_request_id(request.headers.get(logs.HEADER))
        token = logs.bind(logs.Origin(rid, api=request.path_info.startswith("/api/")))
        try:
            response = self.get_response(request)
        finally:
            logs.unbind(token)
        response[logs.HEADER] = rid
        route = route_of(request)
        if isinstance(response, DeferredResponse):
            response.future.add_done_callback(
                partial(self._finished, route, request.method or "", rid, start)
            )
        else:
            self._record(route, request.method or "", response.status_code, rid, start)
        return response

    def _finished(self, route: str, method: str, rid: str, start: float, future: Any) -> None:
        try:
            status = future.result().status_code
        except Exception:
            status = 500
        self._record(route, method, status, rid, start)

    def _record(self, route: str, method: str, status: int, rid: str, start: float) -> None:
        seconds = time.perf_counter() - start
        self.observe(route, method, status, seconds)
        if _access_log.isEnabledFor(logging.INFO):
            token = logs.bind(logs.Origin(rid))
            try:
                _access_log.info(
                    "%s %s %s %.1f ms",
                    method,
                    route,
                    status,
                    seconds * 1000,
                    extra={
                        "route": route,
                        "method": method,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )
            finally:
                logs.unbind(token)
