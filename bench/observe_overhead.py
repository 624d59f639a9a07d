#!/usr/bin/env python
"""What observability costs per request, in CPU time, measured in-process (robust to a loaded box).

    .venv/bin/python bench/observe_overhead.py

Prints, per call, the CPU microseconds (median of rounds) of:
- the request path's additions: `ObservabilityMiddleware` around a view that does nothing
  (request id, context variable, route label, counter and histogram in the mmap'd files), minus
  the same view called bare;
- one counter increment and one histogram observation in multiprocess mode;
- a ticket's enqueue with and without a bound request id (`core.queue`'s row building);
- a scrape of /metrics (all files added up, the queue query) with the files this run wrote;
- a whole ticket creation over the API (Django's test client, written inline), CPU per ticket
  with the middleware chain as shipped and without `ObservabilityMiddleware`, alternating.
Compare with a ticket creation's ~2.6 ms of CPU per ticket (380/s on 2 cores, docs/architecture.md).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine import describe  # noqa: E402


def per_call(fn: Any, n: int, rounds: int = 7) -> float:
    """Median CPU microseconds per call over `rounds` rounds of `n` calls."""
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(n):
            fn()
        samples.append((time.process_time() - start) / n * 1e6)
    return statistics.median(samples)


def main() -> int:
    data = tempfile.mkdtemp(prefix="wd-observe-bench-")
    os.environ["WALLETDESK_DATA_DIR"] = data
    os.environ["RATE_LIMIT_GUEST_TICKET"] = ""  # one client address, many tickets
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.test import RequestFactory

    from walletdesk.core import logs, metrics
    from walletdesk.core.middleware import ObservabilityMiddleware

    call_command("migrate", verbosity=0)
    print(describe())
    factory = RequestFactory()
    request = factory.get("/healthz", headers={"X-Request-ID": "bench-request-0001"})
    from django.urls import resolve

    request.resolver_match = resolve("/healthz")

    def view(_request: Any) -> HttpResponse:
        return HttpResponse("ok")

    wrapped = ObservabilityMiddleware(view)
    bare = per_call(lambda: view(request), 20000)
    with_mw = per_call(lambda: wrapped(request), 20000)
    print(f"middleware (id, route, count, time): {with_mw - bare:6.1f} µs per request")
    child = metrics.REQUESTS.labels("bench", "GET", "200")
    hist = metrics.REQUEST_SECONDS.labels("bench")
    print(f"counter inc (mmap):                  {per_call(child.inc, 50000):6.2f} µs")
    print(f"histogram observe (mmap):            {per_call(lambda: hist.observe(0.003), 50000):6.2f} µs")
    print(f"inbound count (labels + inc):        {per_call(lambda: metrics.inbound(['api']), 50000):6.2f} µs")

    from django_tasks_db.compat import normalize_json

    kwargs = {"ticket_ids": list(range(8)), "kind": "created"}
    plain = per_call(lambda: normalize_json({"args": [], "kwargs": kwargs}), 20000)
    token = logs.bind(logs.Origin("bench-request-0001,bench-request-0002"))
    tagged = per_call(
        lambda: normalize_json({"args": [], "kwargs": kwargs, "request_id": logs.request_id()}), 20000
    )
    logs.unbind(token)
    print(
        f"task row with request id, extra:     {max(0.0, tagged - plain):6.2f} µs per task (2 tasks per batch)"
    )
    scrape = per_call(metrics.exposition, 50, rounds=5)
    files = len(list(Path(metrics.directory()).glob("*.db")))
    print(f"scrape /metrics ({files} files):          {scrape / 1000:6.2f} ms")
    ticket_ab()
    return 0


def ticket_ab(rounds: int = 21, per_round: int = 100) -> None:
    import json

    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    body = json.dumps(
        {"subject": "Swap stuck", "body": "My swap has been pending for an hour", "email": "a@example.com"}
    )
    without = [m for m in settings.MIDDLEWARE if not m.endswith("ObservabilityMiddleware")]
    samples: dict[str, list[float]] = {"with": [], "without": []}
    for round_ in range(rounds):
        # Which goes first alternates too: the database grows, and the first of a pair pays more.
        for name in ("with", "without") if round_ % 2 == 0 else ("without", "with"):
            with override_settings(MIDDLEWARE=settings.MIDDLEWARE if name == "with" else without):
                client = Client(HTTP_HOST="127.0.0.1")
                start = time.process_time()
                for _ in range(per_round):
                    response = client.post("/api/v1/tickets", body, content_type="application/json")
                    assert response.status_code == 201, response.content
                samples[name].append((time.process_time() - start) / per_round * 1e3)
    w, wo = statistics.median(samples["with"]), statistics.median(samples["without"])
    print(
        f"ticket over the API, CPU per ticket:  {w:6.2f} ms with, {wo:6.2f} ms without "
        f"({(w - wo) / wo * 100:+.1f}%; medians of {rounds} alternating rounds of {per_round})"
    )


if __name__ == "__main__":
    sys.exit(main())
