"""A WeChat official account connected with `walletdesk manage connect`, its API stood in for
by a local server, and a way to push to its real webhook."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client

from tests.connectors.standin import StandIn
from tests.connectors.wechat import wx
from walletdesk.connectors.social.models import SocialAccount

OK = (200, {"errcode": 0, "errmsg": "ok"})
CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
TOKEN_PATH = "/cgi-bin/token"


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def api() -> Any:
    with StandIn(
        {
            TOKEN_PATH: (200, {"access_token": "ACCESS_TOKEN_1", "expires_in": 7200}),
            CUSTOM: OK,
            TEMPLATE: (200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332}),
            "/cgi-bin/media/upload": (
                200,
                {"type": "image", "media_id": "UPLOADED_1", "created_at": 1765000000},
            ),
            "/cgi-bin/media/get": (200, png(), {"Content-Type": "image/png"}),
        }
    ) as server:
        yield server


def connect(api: StandIn, *extra: str, slug: str = "main") -> SocialAccount:
    pairs = [
        f"token={wx.TOKEN}",
        f"app_id={wx.APP_ID}",
        f"app_secret={wx.APP_SECRET}",
        f"api_base={api.base_url}",
        *extra,
    ]
    call_command("connect", "wechat", "--slug", slug, *[a for p in pairs for a in ("--set", p)])
    return SocialAccount.objects.get(provider="wechat", slug=slug)


@pytest.fixture
def account(api: StandIn) -> SocialAccount:
    return connect(api)


@pytest.fixture
def safe_account(api: StandIn) -> SocialAccount:
    return connect(api, f"encoding_aes_key={wx.AES_KEY}", slug="safe")


@pytest.fixture
def template_account(api: StandIn) -> SocialAccount:
    return connect(api, "template_id=ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY")


def push(client: Client, body: bytes, params: dict[str, str] | None = None, slug: str = "main") -> Any:
    params = wx.query() if params is None else params
    return client.post(f"/hooks/wechat/{slug}?{urlencode(params)}", body, content_type="text/xml")
