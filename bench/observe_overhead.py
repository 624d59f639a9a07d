#!/usr/bin/env python
"""What observability costs per request, in CPU time, measured in-process (robust to a loaded box).

    .venv/bin/python bench/observe_overhead.py

Prints, per call, the CPU microseconds (median of rounds) of:
- the request path's additions: `ObservabilityMiddleware` around a view that does nothing
  (request id, context variable, route label, counter and histogram in the mmap'd files), minus
  the same view called bare;
- one counter increment and one histogram observation in multiprocess mode;
- a ticket's enqueue with and without a bound request id (`core.queue`'s row building);
- a scrape of /metrics (all files added up, the queue query) with the files this run wrote.
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
