"""An operator's name, logo and colours (BRAND_* in the environment, core.brand) on the pages.

Checked in a real browser because the colours must survive our CSP (no inline style) and the
logo must come from our own origin. Bad values stop start-up with one line naming the variable.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.startup.test_cli import one_line, walletdesk
from walletdesk.core import brand

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# A 1x1 green PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def branded(settings: Any, tmp_path: Path) -> Path:
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    settings.BRAND_NAME = "Acme Wallet"
    settings.BRAND_LOGO = brand.logo(str(logo))
    settings.BRAND_COLOR = brand.color("BRAND_COLOR", "#0A7D5A")
    settings.BRAND_TEXT_COLOR = brand.text_on(settings.BRAND_COLOR, "")
    return logo


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_help_centre_wears_the_operators_brand(live_server: Any, branded: Path) -> None:
    with chromium() as browser:
        for locale, lang, size, viewport, heading in (
            ("zh-CN", "zh", "phone", PHONE, "Acme Wallet 帮助中心"),
            ("en-US", "en", "desktop", DESKTOP, "Acme Wallet Help Centre"),
        ):
            context = browser.new_context(viewport=viewport, locale=locale)
            page = context.new_page()
            page.goto(f"{live_server.url}/new/")
            assert page.locator(".topbar .brand").inner_text().strip() == heading
            assert page.title().endswith("· Acme Wallet")
            logo = page.locator(".brand img.brand-logo")
            assert logo.evaluate("img => img.complete && img.naturalWidth") == 1  # it loaded
            # The colour reached the page through the stylesheet, past the CSP.
            primary = page.locator(".button.primary").first
            assert primary.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(10, 125, 90)"
            assert primary.evaluate("b => getComputedStyle(b).color") == "rgb(255, 255, 255)"
            shot(page, f"startup/{lang}-{size}-branded-request-form")
            context.close()


@pytest.mark.django_db
def test_without_brand_settings_the_pages_are_as_before() -> None:
    page = Client().get("/", headers={"accept-language": "en"}).content.decode()
    assert "Wallet Help Centre" in page and "· walletdesk</title>" in page
    assert "/brand/" not in page
    assert Client().get("/brand/logo").status_code == 404
    assert Client().get("/brand/colours.css").status_code == 404


@pytest.mark.django_db
def test_an_svg_logo_cannot_run_script_when_opened(settings: Any, tmp_path: Path) -> None:
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    settings.BRAND_LOGO = brand.logo(str(svg))
    response = Client().get("/brand/logo")
    assert response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("BRAND_COLOR", "blue", "BRAND_COLOR must be a colour like #1d5fd1"),
        ("BRAND_COLOR", "#ffee00", "too light for links"),
        ("BRAND_TEXT_COLOR", "#1d5fd2", "contrast"),
        ("BRAND_LOGO", "/nonexistent/logo.png", "BRAND_LOGO"),
        ("BRAND_LOGO", "{tmp}/notes.txt", "PNG, JPEG, WebP or SVG"),
        ("BRAND_NAME", "Acme\u200bWallet", "invisible"),
    ],
)
def test_bad_brand_settings_stop_start_up_in_one_line(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    (tmp_path / "notes.txt").write_text("<html>not a picture</html>")
    env = {variable: value.replace("{tmp}", str(tmp_path))}
    if variable == "BRAND_TEXT_COLOR":
        env["BRAND_COLOR"] = "#1d5fd1"
    done = walletdesk(tmp_path, "up", "--port", "0", env=env)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert variable in line and says in line, line
