"""A web process loads what its first customers would wait for, then keeps the cyclic GC off it.

What a user would notice if this broke: the first Chinese ticket after a restart taking a
second longer (jieba's dictionary), and requests stalling for 50-130 ms whenever Python's
collector walks the whole heap under load (core.warmup).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from walletdesk.core import warmup


@pytest.fixture
def thawed() -> Iterator[None]:
    """Give the test process its collectable heap back afterwards."""
    yield
    gc.unfreeze()


def test_warm_up_runs_every_step_then_freezes_the_heap(
    monkeypatch: pytest.MonkeyPatch, thawed: None, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> None:
        ran.append("broken")
        raise RuntimeError("rule file missing")

    monkeypatch.setattr(warmup, "_steps", [])
    warmup.register(broken)
    warmup.register(lambda: ran.append("second"))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0

    warmup.warm_up()

    # A failing step only costs its own warm-up: the next one runs and the server still starts.
    assert ran == ["broken", "second"]
    assert "warm-up step" in caplog.text and "rule file missing" in caplog.text
    assert gc.get_freeze_count() > 0


@pytest.mark.django_db
def test_the_ticket_step_loads_segmentation_and_stores_nothing() -> None:
    from walletdesk.tickets import search
    from walletdesk.tickets.apps import _draft_samples
    from walletdesk.tickets.models import Contact, Message, Ticket

    assert _draft_samples in warmup._steps  # registered by the app
    search._jieba.cache_clear()
    _draft_samples()
    assert search._jieba.cache_info().currsize == 1  # the dictionary is loaded
    assert (Ticket.objects.count(), Message.objects.count(), Contact.objects.count()) == (0, 0, 0)


def test_a_web_process_freezes_again_after_its_first_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    from walletdesk.core.asgi import _SyncPool

    settled: list[int] = []
    served: list[int] = []
    monkeypatch.setattr(warmup, "SETTLE_AFTER", 3)
    monkeypatch.setattr(warmup, "settle", lambda: settled.append(len(served)))
    thread = _SyncPool(size=2)

    async def requests() -> None:
        for n in range(6):
            await thread.run(served.append, n)

    asyncio.run(requests())
    # Once, as the third request starts: the two before it have loaded what first use loads.
    assert served == [0, 1, 2, 3, 4, 5] and settled == [2]
