from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

# Apps add their own checks from AppConfig.ready() (core imports no app). A check returns a
# dict with "ok"; one marked "critical": False reports without turning the answer into a 503.
HEALTH_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {}


def register_health_check(name: str, check: Callable[[], dict[str, Any]]) -> None:
    HEALTH_CHECKS[name] = check


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a real round trip to the database; 503 when the database does not answer."""
    started = time.perf_counter()
    checks: dict[str, object] = {}
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {
            "ok": True,
            "vendor": connection.vendor,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
    except Exception as exc:
        ok = False
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    for name, check in HEALTH_CHECKS.items() if ok else ():
        try:
            checks[name] = result = check()
        except Exception as exc:
            checks[name] = result = {"ok": False, "error": type(exc).__name__}
        if not result.get("ok") and result.get("critical", True):
            ok = False
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)
