"""The desk's websocket routes (live inbox and ticket page)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from walletdesk.desk.consumers import DeskConsumer

websocket_urlpatterns: list[Any] = [path("ws/desk/", DeskConsumer.as_asgi())]
