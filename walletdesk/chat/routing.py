"""The live chat's websocket routes (docs/chat-protocol.md)."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
