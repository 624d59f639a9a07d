"""Recovery sweeps the task worker runs at start and every WORKER_SWEEP_SECONDS (core.worker).

Each app registers the sweeps of the work it owns from its `ready()` (core imports none of
them): the email channel re-sends mail left "sending" past its lease, tickets run SLA checks
whose task was lost; core itself hands back the tasks of dead workers (core.leases). A sweep
must be safe to run in several workers at once (claim with a conditional UPDATE) and beside a
running task in the same process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Sweep = Callable[[], Any]
_sweeps: dict[str, Sweep] = {}


def register(name: str, sweep: Sweep) -> None:
    _sweeps[name] = sweep


def registered() -> dict[str, Sweep]:
    return dict(_sweeps)


def run_all() -> dict[str, Any]:
    """Run every sweep once; one that fails is logged and does not stop the others."""
    done: dict[str, Any] = {}
    for name, sweep in registered().items():
        try:
            done[name] = sweep()
        except Exception:
            log.exception("recovery sweep %r failed", name)
    return done
