"""The desk's websocket routes (live inbox and ticket page)."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
