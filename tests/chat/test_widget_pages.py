"""The chat pages as a browser receives them: the help centre's /chat/ (guest and signed in, in
English and Chinese) and the wallet app's webview page /chat/c/<reference>/?t=<credential>.

The webview page carries a credential in its URL: it must never come back unescaped, never be
cached, never leave in a Referer. The site's CSP forbids inline script: the pages must not need
any.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

REFERENCE = "WD-261207-7K3MQ2"
CREDENTIAL = "v1.Zm9vYmFyYmF6cXV4.c2lnbmF0dXJl-_~:x"
WIDGET_JS = Path(__file__).resolve().parents[2] / "walletdesk/chat/static/walletdesk/chat/widget.js"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)


def _no_inline_script(html: str) -> list[str]:
    scripts = SCRIPT.findall(html)
    assert scripts, "the page loads its script"
    for attrs, body in scripts:
        assert "src=" in attrs and not body.strip(), f"inline script: {attrs} {body[:80]}"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "an inline event handler"
    assert "style=" not in html, "an inline style (CSP style-src 'self')"
    return [attrs for attrs, _body in scripts]


def _csp_holds(response: Any) -> None:
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def _widget(html: str) -> str:
    found = re.search(r"<div data-wd-chat[^>]*>", html)
    assert found, html[:3000]
    return found.group(0)


def test_a_guest_gets_the_chat_page_in_english(client: Client) -> None:
    response = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Chat with us</h1>" in html
    widget = _widget(html)
    assert 'data-lang="en"' in widget and "data-signed-in" not in widget
    assert 'data-start-url="/api/v1/chat/conversations"' in widget
    srcs = _no_inline_script(html)
    assert any("walletdesk/chat/widget.js" in s for s in srcs)
    assert "walletdesk/chat/widget.css" in html
    _csp_holds(response)
    # The widget sends X-CSRFToken from this cookie when it starts a conversation.
    assert response.cookies["csrftoken"].value
    # The page's own free-support banner; the widget repeats its own line.
    assert "Support is free" in html


def test_a_guest_gets_the_chat_page_in_chinese(client: Client) -> None:
    response = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>在线咨询</h1>" in html and "想用邮件联系？" in html
    assert 'data-lang="zh-hans"' in _widget(html)
    _no_inline_script(html)


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        ("zh-TW,zh;q=0.9", "", "zh-hant"),
        ("zh-HK", "", "zh-hant"),
        ("en-US,zh-Hant;q=0.5", "", "en"),
        ("en", "?lang=zh-hant", "zh-hant"),
        ("zh-CN", "?lang=en", "en"),
        ("zh-CN", "?lang=%22%3E%3Cscript%3E", "zh-hans"),
    ],
)
def test_the_widget_speaks_traditional_chinese_to_who_asks(
    client: Client, header: str, query: str, expected: str
) -> None:
    html = client.get(f"/chat/{query}", HTTP_ACCEPT_LANGUAGE=header).content.decode()
    assert f'data-lang="{expected}"' in _widget(html)
    assert "<script>" not in html.lower().replace("<script src", "")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_signed_in_customer_gets_the_chat_page_uncached(client: Client, carol: Any, language: str) -> None:
    client.force_login(carol)
    client.cookies["django_language"] = language
    response = client.get("/chat/")
    html = response.content.decode()
    assert response.status_code == 200
    assert ("在线咨询" if language == "zh-hans" else "Chat with us") in html
    widget = _widget(html)
    assert 'data-signed-in="1"' in widget and f'data-lang="{language}"' in widget
    assert "no-store" in response["Cache-Control"]
    _no_inline_script(html)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_help_centre_home_and_contact_pages_link_to_the_chat(client: Client, language: str) -> None:
    client.cookies["django_language"] = language
    label = "在线咨询" if language == "zh-hans" else "Chat with us"
    for path in ("/", "/contact/"):
        html = client.get(path).content.decode()
        assert re.search(rf'<a class="button" href="/chat/" data-testid="chat-link">{label}</a>', html), path


def test_the_in_app_page_binds_the_widget_to_the_conversation(client: Client) -> None:
    response = client.get(f"/chat/c/{REFERENCE}/", {"t": CREDENTIAL, "lang": "zh-hant"})
    assert response.status_code == 200
    html = response.content.decode()
    widget = _widget(html)
    assert "data-fullscreen" in widget and 'data-lang="zh-hant"' in widget
    # The credential is percent-encoded into the socket path, nothing else of the query is.
    encoded = CREDENTIAL.replace(":", "%3A")
    assert f'data-ws-url="/ws/chat/{REFERENCE}/?t={encoded}"' in widget
    assert '<html lang="zh-Hant">' in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in html
    assert "no-store" in response["Cache-Control"]
    _no_inline_script(html)
    _csp_holds(response)
    # Minimal chrome: no site navigation, no htmx.
    assert "topbar" not in html and "htmx" not in html


@pytest.mark.parametrize(
    ("reference", "credential"),
    [
        (REFERENCE, '"><script>alert(1)</script>'),
        (REFERENCE, "good-looking-token&after=0"),
        (REFERENCE, "x' onmouseover='alert(1)"),
        (REFERENCE, "short"),
        (REFERENCE, "a" * 600),
        (REFERENCE, ""),
        ('WD-261207-7K3MQ2"><script>alert(1)<', CREDENTIAL),
        ("wd-261207-7k3mq2", CREDENTIAL),
        ("WD-261207-7K3MQI", CREDENTIAL),  # I is not in a reference's alphabet
    ],
)
def test_the_in_app_page_never_reflects_a_bad_credential_or_reference(
    client: Client, reference: str, credential: str
) -> None:
    response = client.get(f"/chat/c/{reference}/", {"t": credential})
    html = response.content.decode()
    assert response.status_code == 404
    assert "This chat link is not valid." in html
    assert "data-ws-url" not in html and "/ws/chat/" not in html
    if credential:
        assert credential not in html
    assert "<script>alert" not in html and "onmouseover" not in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    _csp_holds(response)


def test_the_bad_link_page_speaks_chinese(client: Client) -> None:
    html = client.get(f"/chat/c/{REFERENCE}/", {"t": "<b>"}, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "该对话链接无效。" in html and "我们绝不会索要您的助记词或私钥" in html


def test_the_widget_never_writes_markup_from_strings() -> None:
    """Messages, names and errors come from strangers: the script builds nodes and sets
    textContent; nothing in it parses a string as HTML or code."""
    source = WIDGET_JS.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    assert 'setAttribute("style"' not in source and ".style." not in source  # CSP: style-src 'self'
    # The three languages carry the free-support line.
    for line in (
        "Support is free. We never ask for your recovery phrase or private key.",
        "客服是免费的。我们绝不会索要您的助记词或私钥。",
        "客服是免費的。我們絕不會索取您的助記詞或私鑰。",
    ):
        assert line in source
