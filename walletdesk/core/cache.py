"""Per-process copies of small, rarely changing tables (categories, rules, the registry…).

They are read on almost every inbound message, so each process keeps what `load` returned for
`ttl` seconds instead of querying per message; an admin edit calls `forget()` in its own
process, and other processes catch up within the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ProcessCache[T]:
    def __init__(self, load: Callable[[], T], ttl: float = 30.0) -> None:
        self._load = load
        self._ttl = ttl
        self._value: tuple[float, T] | None = None

    def get(self) -> T:
        now = time.monotonic()
        if self._value is None or now - self._value[0] > self._ttl:
            self._value = (now, self._load())
        return self._value[1]

    def forget(self) -> None:
        self._value = None
