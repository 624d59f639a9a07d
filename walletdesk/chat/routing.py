"""The live chat's websocket routes (docs/chat-protocol.md)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from walletdesk.chat import consumers

websocket_urlpatterns: list[Any] = [
    path("ws/chat/agent/", consumers.AgentConsumer.as_asgi()),
    path("ws/chat/<str:reference>/", consumers.CustomerConsumer.as_asgi()),
]
