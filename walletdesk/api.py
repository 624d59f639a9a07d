"""The one NinjaAPI: each app owns a router; errors are JSON with a stable code."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from walletdesk.chat import api as chat_api
from walletdesk.connectors.inapp import api as inapp_api
from walletdesk.connectors.inapp.api import router as inapp_router
from walletdesk.core.errors import Refused
from walletdesk.core.ratelimit import RateLimited
from walletdesk.core.views import is_outage, unavailable
from walletdesk.kb.api import router as kb_router
from walletdesk.registry.api import router as verify_router
from walletdesk.tickets import api as tickets_api


class WalletdeskAPI(NinjaAPI):
    """ninja lists only the security schemes of `auth=` objects; the ticket endpoints decide
    who is asking themselves (tickets.api), so their schemes are added to the document here."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["components"].setdefault("securitySchemes", {}).update(tickets_api.SECURITY_SCHEMES)
        return schema


api = WalletdeskAPI(
    title="walletdesk API",
    version="1",
    description="Tickets, in-app contact and self-service for a crypto wallet's support desk.",
    urls_namespace="api",
    # Swagger UI's files come from ninja's own static folder ("ninja" is an installed app), so
    # the page works under our CSP (script-src 'self') and offline. No validator badge: it
    # would send our schema's address to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_router("/", tickets_api.router)
api.add_router("/inapp", inapp_router)
api.add_router("/", verify_router)
api.add_router("/kb", kb_router)
api.add_router("/", chat_api.router)
# A chat started from the wallet app is its user's: the in-app connector knows app keys, and
# chat may not import a connector, so the two meet here.
chat_api.app_user_of = lambda request: (
    None if (found := inapp_api.app_user_of(request)) is None else chat_api.AppUser(*found)
)
# The ticket writer answers a deferred request after its batch commits, with this API object.
tickets_api.answer_with(api)

# The names our endpoints give their body/query parameters; a client knows fields, not these.
_PARAM_NAMES = {"payload", "filters"}
_STATUS_BY_CODE = {"not_found": 404, "not_authenticated": 401, "bad_token": 401}


@api.exception_handler(Refused)
def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    body: dict[str, object] = {"code": exc.code, "message": exc.message, "field": exc.field}
    body.update(exc.extra)
    return api.create_response(request, body, status=_STATUS_BY_CODE.get(exc.code, exc.status))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())[1:] if p not in _PARAM_NAMES) or None,
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": None, "message": "Invalid input."}
    return api.create_response(
        request,
        {
            "code": "invalid_input",
            "message": f"{first['field'] or 'body'}: {first['message']}",
            "field": first["field"],
            "errors": errors,
        },
        status=422,
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "not_authenticated", "message": "Missing or invalid credentials.", "field": None},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {404: "not_found", 403: "not_allowed", 401: "not_authenticated"}.get(exc.status_code, "error")
    return api.create_response(
        request, {"code": code, "message": str(exc), "field": None}, status=exc.status_code
    )


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(
        request,
        {
            "code": "rate_limited",
            "message": f"Too many requests; try again in {exc.retry_after} seconds. Nothing was saved.",
            "field": None,
            "retry_after": exc.retry_after,
        },
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(DatabaseError)
def database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    # Also reached from the ticket writer thread (tickets.intake), where no middleware runs.
    if is_outage(exc):
        return unavailable(request)
    raise exc


@api.exception_handler(OSError)
def disk_error(request: HttpRequest, exc: OSError) -> HttpResponse:
    # A full disk while storing an attachment: a 503 to retry, like a full database.
    if is_outage(exc):
        return unavailable(request)
    raise exc
