"""The stolen-account journey in real Chromium against `walletdesk up` (issue #20), each step in
Chinese on a phone and in English on a desktop.

1. A victim, signed out (their sign-in is what they lost), taps the help centre's "账户被盗" /
   "Account stolen" card and lands on the recovery form, or follows the article's link there,
   or is pointed there by the request form when they choose that category.
2. They file a case with their ID's front and back and a selfie holding it, from an address that
   matches no account (a guest case).
3. The Security desk's agent sees the case on the ticket, with a link to each document, although
   there is no account to show.
4. He opens each one; each opening writes an audit entry.
5. Alice (General team, even holding the document-reviewer permission) and Erin (no team) are
   refused, and no entry is written for them.

On main, step 1 led to the generic form (no document upload), the article had no link, the form
had no selfie slot, the guest case showed no link, and Bob got "You don't have permission".

Screenshots: test-artifacts/accounts/stolen-*.png.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image, ImageDraw

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple 9"
AGENTS = {
    "bob": ("bob@desk.example.com", "Bob", "security"),
    "alice": ("alice@desk.example.com", "Alice", "general"),
    "erin": ("erin@desk.example.com", "Erin", ""),
}
SETUP = f"""
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from walletdesk.accounts.models import User
from walletdesk.tickets.models import Team

for address, name, team in {list(AGENTS.values())!r}:
    user = User.objects.create_user(email=address, password={PASSWORD!r})
    user.is_staff = True
    user.display_name = name
    user.save()
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    if team:
        Team.objects.get(slug=team).members.add(user)
# Alice holds the reviewer permission: it must not open a restricted team's case to her.
User.objects.get(email="alice@desk.example.com").groups.add(Group.objects.get(name="Identity document reviewers"))
"""
AUDIT = """
import json
from walletdesk.core.models import AuditEntry
rows = AuditEntry.objects.filter(action="identity_document.viewed", data__ticket={ref!r}).order_by("pk")
print("AUDIT", json.dumps([[r.actor.email if r.actor else None, r.data.get("side")] for r in rows]))
"""
LOOKS = [pytest.param("zh-hans", "phone", id="zh-hans-phone"), pytest.param("en", "desktop", id="en-desktop")]
REFERENCE = re.compile(r"WD-[0-9A-Z-]+")
# The cases filed in step 2, by language: later steps review them.
FILED: dict[str, str] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def accounts(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)

    with walletdesk_up(
        tmp_path_factory.mktemp("stolen"), env={"HELPER_PROCESSES": "0"}, before_start=accounts
    ) as up:
        yield up
    log = up.log()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-4000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


def new_page(browser: Any, lang: str, size: str, cookies: list[dict[str, Any]] | None = None) -> Any:
    """A page as a person in that language sees it: their browser's Accept-Language, and a phone
    (touch, 2x) or a desktop window."""
    accept = "zh-CN,zh;q=0.9" if lang == "zh-hans" else "en-GB,en;q=0.9"
    options: dict[str, Any] = {
        "extra_http_headers": {"Accept-Language": accept},
        "locale": "zh-CN" if lang == "zh-hans" else "en-GB",  # the browser's own widgets too
    }
    if size == "phone":
        options |= {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    else:
        options |= {"viewport": DESKTOP}
    context = browser.new_context(**options)
    if cookies:
        context.add_cookies(cookies)
    return context.new_page()


def sign_in(site: Walletdesk, who: str, lang: str) -> list[dict[str, Any]]:
    """An agent's session through the real sign-in form, and their language."""
    session = requests.Session()
    form = session.get(f"{site.base_url}/accounts/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, form.text[:2000]
    reply = session.post(
        f"{site.base_url}/accounts/login/",
        data={"login": AGENTS[who][0], "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        allow_redirects=False,
        timeout=60,
    )
    assert reply.status_code == 302, reply.text[-2000:]
    return [
        {"name": "sessionid", "value": session.cookies["sessionid"], "url": site.base_url},
        {"name": "django_language", "value": lang, "url": site.base_url},
    ]


def fits(page: Any, size: str) -> None:
    if size == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"page is {width}px wide on a {PHONE['width']}px phone"


def photo(kind: str) -> bytes:
    """A recognisable picture: a card (front or back) or a person holding it."""
    image = Image.new("RGB", (640, 420), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    if kind == "selfie":
        draw.ellipse((220, 30, 420, 250), fill=(240, 200, 170))  # a face
        draw.rectangle((250, 250, 520, 410), fill=(120, 160, 210), outline=(20, 40, 90), width=6)
        draw.text((270, 270), "ID CARD", fill=(255, 255, 255))
    else:
        draw.rectangle((40, 40, 600, 380), fill=(120, 160, 210), outline=(20, 40, 90), width=8)
        draw.text((70, 70), f"ID CARD - {kind.upper()}", fill=(255, 255, 255))
        if kind == "front":
            draw.rectangle((70, 120, 230, 330), fill=(240, 200, 170))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def audit(site: Walletdesk, reference: str) -> list[list[str]]:
    out = site.manage("shell", "-c", AUDIT.format(ref=reference))
    line = next(x for x in out.splitlines() if x.startswith("AUDIT "))
    return list(json.loads(line[6:]))


def file_case(browser: Any, site: Walletdesk, lang: str, size: str) -> str:
    """Steps 1 and 2: from the home card to a filed case, signed out. Returns its reference."""
    page = new_page(browser, lang, size)
    page.goto(f"{site.base_url}/")
    card = page.locator("a[data-category=account_stolen]")
    assert ("账户被盗" if lang == "zh-hans" else "Account stolen") in card.inner_text()
    shot(page, f"accounts/stolen-1-home-{size}-{lang}")
    card.click()
    page.wait_for_url(f"{site.base_url}/account-recovery/")
    fits(page, size)
    assert page.locator("input[name=email]").is_visible()  # a guest: asked for the address
    page.fill("input[name=email]", f"wang.{lang}@example.net")  # no account has this address
    story = (
        "昨晚有人改了我的密码和邮箱，我登录不了了。"
        if lang == "zh-hans"
        else "Someone changed my password and email last night."
    )
    page.fill("textarea[name=what_happened]", story)
    page.select_option("select[name=document_kind]", "id_card")
    for side in ("front", "back", "selfie"):
        page.set_input_files(
            f"input[name={side}]",
            files=[{"name": f"{side}.jpg", "mimeType": "image/jpeg", "buffer": photo(side)}],
        )
    shot(page, f"accounts/stolen-2-form-{size}-{lang}")
    page.click("form[data-testid=recovery-form] button[type=submit]")
    page.wait_for_url(f"{site.base_url}/submitted/**")
    reference = page.locator("[data-testid=reference]").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    fits(page, size)
    shot(page, f"accounts/stolen-2-submitted-{size}-{lang}")
    page.context.close()
    FILED[lang] = reference
    return reference


def filed(browser: Any, site: Walletdesk, lang: str, size: str) -> str:
    return FILED.get(lang) or file_case(browser, site, lang, size)


@pytest.mark.parametrize("lang,size", LOOKS)
def test_a_signed_out_victim_files_a_case_from_the_home_card(
    browser: Any, site: Walletdesk, lang: str, size: str
) -> None:
    file_case(browser, site, lang, size)


@pytest.mark.parametrize("lang,size", LOOKS)
def test_the_stolen_account_article_leads_to_the_form(
    browser: Any, site: Walletdesk, lang: str, size: str
) -> None:
    page = new_page(browser, lang, size)
    page.goto(f"{site.base_url}/help/a/account-stolen-recovery/")
    link = page.locator(".kb-body a[href='/account-recovery/']")
    assert link.count() == 1
    assert (
        "打开账户找回表单" if lang == "zh-hans" else "Open the account recovery form"
    ) in link.inner_text()
    fits(page, size)
    shot(page, f"accounts/stolen-1-article-{size}-{lang}")
    link.click()
    page.wait_for_url(f"{site.base_url}/account-recovery/")
    assert page.locator("input[name=selfie]").count() == 1
    page.context.close()


@pytest.mark.parametrize("lang,size", LOOKS)
def test_choosing_account_stolen_on_the_request_form_points_to_the_recovery_form(
    browser: Any, site: Walletdesk, lang: str, size: str
) -> None:
    """A victim who pressed "Contact support" instead, and picks the category in the list."""
    page = new_page(browser, lang, size)
    page.goto(f"{site.base_url}/new/")
    assert page.locator("[data-testid=dedicated-form]").count() == 0
    page.select_option("#id_category", "account_stolen")
    notice = page.wait_for_selector("[data-testid=dedicated-form]", timeout=10_000)
    assert ("无需登录" if lang == "zh-hans" else "you do not need to sign in") in notice.inner_text()
    fits(page, size)
    shot(page, f"accounts/stolen-1-request-form-{size}-{lang}")
    notice.query_selector("a").click()
    page.wait_for_url(f"{site.base_url}/account-recovery/")
    page.context.close()


@pytest.mark.parametrize("lang,size", LOOKS)
def test_the_guest_case_shows_the_security_desk_a_link_to_each_document(
    browser: Any, site: Walletdesk, lang: str, size: str
) -> None:
    reference = filed(browser, site, lang, size)
    page = new_page(browser, lang, size, sign_in(site, "bob", lang))
    response = page.goto(f"{site.base_url}/agent/tickets/{reference}/")
    assert response.status == 200
    assert page.locator("[data-testid=account-security]").count() == 0  # no account to show
    card = page.locator("[data-testid=recovery-case]")
    assert card.is_visible()
    links = card.locator("[data-testid=identity-document]")
    assert sorted(links.evaluate_all("els => els.map(e => e.dataset.side)")) == ["back", "front", "selfie"]
    assert ("手持证件自拍" if lang == "zh-hans" else "Selfie holding the document") in card.inner_text()
    fits(page, size)
    card.scroll_into_view_if_needed()
    shot(page, f"accounts/stolen-3-desk-case-{size}-{lang}")
    page.context.close()


@pytest.mark.parametrize("lang,size", LOOKS)
def test_a_security_desk_agent_opens_each_document_and_each_opening_is_audited(
    browser: Any, site: Walletdesk, lang: str, size: str
) -> None:
    reference = filed(browser, site, lang, size)
    before = audit(site, reference)
    page = new_page(browser, lang, size, sign_in(site, "bob", lang))
    page.goto(f"{site.base_url}/agent/tickets/{reference}/")
    links = page.locator("[data-testid=recovery-case] [data-testid=identity-document]")
    sides = []
    for index in range(links.count()):
        link = links.nth(index)
        sides.append(link.get_attribute("data-side"))
        with page.context.expect_page() as opened:
            link.click()  # opens in a new tab, as an agent would
        document = opened.value
        document.wait_for_load_state()
        assert document.evaluate("document.contentType") == "image/jpeg"
        width = document.evaluate("document.images[0] && document.images[0].naturalWidth")
        assert width == 640, width  # the picture itself, decrypted, at its size
        shot(document, f"accounts/stolen-4-document-{sides[-1]}-{size}-{lang}")
        document.close()
    assert sorted(sides) == ["back", "front", "selfie"]
    after = audit(site, reference)
    assert after[: len(before)] == before
    assert sorted(side for _who, side in after[len(before) :]) == ["back", "front", "selfie"]
    assert {who for who, _side in after[len(before) :]} == {AGENTS["bob"][0]}
    page.context.close()


@pytest.mark.parametrize("lang,size", LOOKS)
def test_agents_outside_the_security_desk_are_refused(
    browser: Any, site: Walletdesk, lang: str, size: str
) -> None:
    reference = filed(browser, site, lang, size)
    bob = new_page(browser, lang, size, sign_in(site, "bob", lang))
    bob.goto(f"{site.base_url}/agent/tickets/{reference}/")
    hrefs = bob.locator("[data-testid=identity-document]").evaluate_all("els => els.map(e => e.href)")
    bob.context.close()
    assert len(hrefs) == 3
    before = audit(site, reference)
    for who in ("alice", "erin"):
        page = new_page(browser, lang, size, sign_in(site, who, lang))
        # Neither sees the Security desk's ticket...
        assert page.goto(f"{site.base_url}/agent/tickets/{reference}/").status == 404
        # ...nor, with its links in hand, any of its documents.
        for href in hrefs:
            response = page.goto(href)
            assert response.status == 403
            assert response.headers["content-type"].startswith("text/html")
        refused = page.locator("[data-testid=document-refused]")
        assert (
            "您无法打开此身份证件" if lang == "zh-hans" else "You cannot open this identity document"
        ) in (refused.inner_text())
        fits(page, size)
        shot(page, f"accounts/stolen-5-refused-{who}-{size}-{lang}")
        page.context.close()
    assert audit(site, reference) == before
