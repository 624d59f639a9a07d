"""2FA set-up in a real browser against `walletdesk up`: a customer signs in through the real
form, turns on TOTP, types a wrong code, then the right one, and lands on the recovery codes.

- A wrong code at set-up says the code is wrong (not "sign-in details are not correct").
- The recovery codes are a list with a "save these now" warning and a download link, not a
  bare textarea; the page fits a phone.
Chinese on a phone, English on a desktop. Screenshots: test-artifacts/accounts/mfa-setup-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accounts.conftest import PASSWORD, totp_code
from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


PEOPLE = {"zh-hans": "mei@example.com", "en": "sam@example.com"}
SETUP = f"""
from allauth.account.models import EmailAddress
from walletdesk.accounts.models import User
for address in {list(PEOPLE.values())!r}:
    user = User.objects.create_user(email=address, password={PASSWORD!r})
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
"""

WORDS = {
    "zh-hans": {"wrong": "验证码不正确", "warning": "请立即保存这些恢复代码", "download": "下载代码"},
    "en": {
        "wrong": "That code is not correct",
        "warning": "Save these codes now.",
        "download": "Download codes",
    },
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def accounts(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)

    with walletdesk_up(
        tmp_path_factory.mktemp("mfasetup"), env={"HELPER_PROCESSES": "0"}, before_start=accounts
    ) as up:
        yield up
    log = up.log()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-4000:]


@pytest.mark.parametrize(("language", "viewport"), [("zh-hans", PHONE), ("en", DESKTOP)])
def test_setting_up_2fa(browser: Any, site: Walletdesk, language: str, viewport: Any) -> None:
    words = WORDS[language]
    phone = viewport is PHONE
    context = browser.new_context(
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        locale=language,
        extra_http_headers={"Accept-Language": language},
    )
    page = context.new_page()
    page.goto(site.base_url + "/accounts/login/")
    page.fill("input[name=login]", PEOPLE[language])
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/accounts/login/" not in page.url, page.inner_text("main")

    # Straight from signing in to the 2FA page: no password asked again.
    page.goto(site.base_url + "/accounts/2fa/totp/activate/")
    assert "/reauthenticate/" not in page.url
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    shot(page, f"accounts/mfa-setup-activate-{language}")

    page.fill("input[name=code]", "000000")
    with page.expect_navigation():
        page.press("input[name=code]", "Enter")
    text = page.inner_text("main")
    assert words["wrong"] in text, text
    assert "sign-in details" not in text and "登录信息" not in text
    shot(page, f"accounts/mfa-setup-wrong-code-{language}")

    page.fill("input[name=code]", totp_code(secret))
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    text = page.inner_text("main")
    assert words["warning"] in text, text
    assert page.locator("textarea").count() == 0
    codes = page.locator("ol.recovery-codes li code")
    assert codes.count() == 10
    assert all(re.fullmatch(r"[0-9a-f]{8}", c.strip()) for c in codes.all_inner_texts())
    assert page.get_by_role("link", name=words["download"]).count() == 1
    if phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"page is {width}px wide on a phone"
    shot(page, f"accounts/mfa-setup-recovery-codes-{language}")
    context.close()
