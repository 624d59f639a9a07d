"""Load before serving what the first requests would load, then freeze the heap.

Two costs of a lazily loaded web process showed up as latency under load:

- the first request that segments Chinese loads jieba's dictionary: about a second;
- each pass of Python's cyclic GC over its oldest generation walks every long-lived object
  (Django, the rule sets, URL resolvers, caches): 55-130 ms per pass, measured at 8 clients on
  SQLite, during which every request in flight in that process waits. Several such passes a
  minute put them in the 99th percentile.

So apps register warm-up steps (`register`), and the server calls `warm_up` in each web process
before it accepts a connection: the steps run, the connections they opened are closed (the
process's sync thread opens its own), and `gc.freeze()` moves everything then alive into the
permanent generation, which the collector never walks again. The first requests still import
and build things on first use (40k objects: uvicorn's protocol, ninja's operations, pydantic's
forward references), so the sync thread calls `settle` after its first `SETTLE_AFTER` requests
to freeze once more. The oldest-generation passes then take 2-3 ms.

What is frozen is never freed. That is code, settings and caches, which live as long as the
process anyway, plus, once, the few hundred objects of the requests in flight at `settle`.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)

_steps: list[Callable[[], object]] = []

SETTLE_AFTER = 200  # requests served by a process before `settle`


def register(step: Callable[[], object]) -> Callable[[], object]:
    """Run `step` in `warm_up` (an AppConfig.ready() registers its app's)."""
    _steps.append(step)
    return step


def warm_up() -> None:
    for step in _steps:
        try:
            step()
        except Exception:
            # Only a cost: what it would have loaded loads on first use instead.
            log.exception("warm-up step %s failed", getattr(step, "__qualname__", step))
    connections.close_all()
    gc.freeze()


def settle() -> None:
    """Freeze again what the first requests loaded (see the module's docstring)."""
    gc.freeze()
