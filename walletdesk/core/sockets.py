"""What every websocket consumer needs before it accepts: who is asking, and from where.

Channels' `AuthMiddlewareStack` and `AllowedHostsOriginValidator` do this through asgiref's
own thread; here the session is read on the process's sync thread (core.asgi.run_sync), as a
request's is, and the origin is checked against the site's own hosts.
"""

from __future__ import annotations

import contextlib
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http.request import validate_host

from walletdesk.core.asgi import run_sync


def header(scope: dict[str, Any], name: str) -> str:
    wanted = name.lower().encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return ""


def query(scope: dict[str, Any]) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {k: v[-1] for k, v in parse_qs(raw).items()}


def same_origin(scope: dict[str, Any]) -> bool:
    """A cookie-authenticated socket must come from the site's own pages: browsers send the
    session cookie with any page's websocket (cross-site websocket hijacking), never a forged
    Origin header."""
    origin = header(scope, "origin")
    if not origin:
        return False
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    trusted = {urlsplit(o).netloc for o in (*settings.CSRF_TRUSTED_ORIGINS, settings.SITE_URL)}
    if parsed.netloc in trusted:
        return True
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return validate_host(parsed.hostname, allowed) and parsed.netloc == header(scope, "host")


def _user_for_session(session_key: str) -> Any:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.base import SessionBase
    from django.utils.crypto import constant_time_compare
    from django.utils.module_loading import import_string

    store: SessionBase = import_string(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = store[SESSION_KEY]
        backend_path = store[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return AnonymousUser()
    # As django.contrib.auth.get_user: a password change logs the session out.
    verifier = getattr(user, "get_session_auth_hash", None)
    if verifier is not None and not constant_time_compare(store.get(HASH_SESSION_KEY, ""), verifier()):
        return AnonymousUser()
    return user


async def session_user(scope: dict[str, Any]) -> Any:
    """The signed-in user of the socket's session cookie (an AnonymousUser without one)."""
    cookie = SimpleCookie()
    with contextlib.suppress(CookieError):  # a malformed Cookie header: no session
        cookie.load(header(scope, "cookie"))
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    if morsel is None or not morsel.value:
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser()
    return await run_sync(_user_for_session, morsel.value)
