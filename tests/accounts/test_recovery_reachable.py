"""A victim who has lost their sign-in finds the recovery form: from the help-centre home, the
sign-in page, the stolen-account article (also in a database made before the article changed),
and the request form when "Account stolen" is chosen, without signing in."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

FORM = "/account-recovery/"
MIGRATION = importlib.import_module("walletdesk.kb.migrations.0003_recovery_form_links")


@pytest.fixture
def starter(db: None) -> None:
    from walletdesk.kb.seed import load_starter

    load_starter(apps)


@pytest.mark.parametrize("language,name", [("en", "Account stolen"), ("zh-hans", "账户被盗")])
def test_the_home_card_leads_signed_out_to_the_recovery_form(language: str, name: str) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    page = client.get("/").content.decode()
    card = re.search(r'<a href="([^"]+)" data-category="account_stolen"><strong>([^<]+)</strong>', page)
    assert card, page[:3000]
    assert card.group(1) == FORM and card.group(2) == name
    # Other cards still open the request form for their category.
    assert 'href="/new/?category=login_locked"' in page
    form = client.get(FORM)
    assert form.status_code == 200
    body = form.content.decode()
    assert 'data-testid="recovery-form"' in body and 'name="email"' in body and 'name="selfie"' in body


@pytest.mark.parametrize(
    "language,text", [("en", "Someone took over your account?"), ("zh-hans", "账户被他人盗用？")]
)
def test_the_sign_in_page_offers_the_form_to_whoever_cannot_sign_in(language: str, text: str) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE=language).get("/accounts/login/").content.decode()
    link = re.search(r'<a href="([^"]+)" data-testid="report-stolen">([^<]+)</a>', page)
    assert link and link.group(1) == FORM and text in link.group(2)


@pytest.mark.parametrize(
    "language,text", [("en", "use the account recovery form"), ("zh-hans", "请使用账户找回表单")]
)
def test_the_request_form_points_account_stolen_to_the_recovery_form(language: str, text: str) -> None:
    """An old or outside link to the category, or the category picked in the list (htmx swaps
    the details in), says where the documents go; the form stays, with anything prefilled."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    for page in (
        client.get("/new/?category=account_stolen&subject=Hacked"),
        client.get("/new/?category=account_stolen", HTTP_HX_REQUEST="true"),
    ):
        body = page.content.decode()
        assert page.status_code == 200 and 'data-testid="dedicated-form"' in body
        notice = body[body.index('data-testid="dedicated-form"') :]
        assert text in notice.lower() and f'href="{FORM}"' in notice[: notice.index("</div>")]
    assert "Hacked" in client.get("/new/?category=account_stolen&subject=Hacked").content.decode()
    other = client.get("/new/?category=login_locked")
    assert other.status_code == 200 and 'data-testid="dedicated-form"' not in other.content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_stolen_account_article_links_the_form(starter: None, language: str) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE=language).get("/help/a/account-stolen-recovery/")
    assert page.status_code == 200
    assert f'<a href="{FORM}"' in page.content.decode()


def _as_shipped_before(slug: str, language: str) -> Any:
    """Put an article back to the text main shipped (what a database made then still holds)."""
    from walletdesk.kb.models import ArticleTranslation

    text = ArticleTranslation.objects.get(article__slug=slug, language=language)
    body = text.body_markdown
    for old, new in MIGRATION.EDITS[(slug, language)]:
        assert new in body
        body = body.replace(new, old)
    text.body_markdown = body
    text.body_html = "<p>old</p>"
    text.save()
    return text


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_existing_database_gets_the_link(starter: None, language: str) -> None:
    from walletdesk.kb.models import IndexState
    from walletdesk.kb.starter import load_starter_articles

    shipped = {a.slug: a for a in load_starter_articles()}
    stolen = _as_shipped_before("account-stolen-recovery", language)
    documents = _as_shipped_before("identity-documents", language)
    assert FORM not in stolen.body_markdown and FORM not in documents.body_markdown
    token = IndexState.objects.get(pk=1).token
    MIGRATION.forwards(apps, None)
    for text in (stolen, documents):
        text.refresh_from_db()
        # Exactly the text the content files ship now, rendered.
        assert text.body_markdown == shipped[text.article.slug].translations[language].body_markdown
        assert f'<a href="{FORM}"' in text.body_html
    assert IndexState.objects.get(pk=1).token != token  # search rebuilds with the new words
    page = Client(HTTP_ACCEPT_LANGUAGE=language).get("/help/a/account-stolen-recovery/")
    assert f'<a href="{FORM}"' in page.content.decode()
    # Run twice (a re-applied migration, or a fresh database where 0002 loaded the new files):
    # nothing changes.
    MIGRATION.forwards(apps, None)
    stolen.refresh_from_db()
    assert stolen.body_markdown.count(FORM) == 1


def test_an_agents_rewrite_is_kept_and_the_link_added(starter: None) -> None:
    from walletdesk.kb.models import ArticleTranslation

    text = ArticleTranslation.objects.get(article__slug="account-stolen-recovery", language="en")
    text.body_markdown = "Our own words about stolen accounts. Write to us."
    text.save()
    MIGRATION.forwards(apps, None)
    text.refresh_from_db()
    assert text.body_markdown.startswith("Our own words about stolen accounts. Write to us.")
    assert f'<a href="{FORM}"' in text.body_html
