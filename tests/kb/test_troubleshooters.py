"""Guided troubleshooters: the checks that keep a flow safe, and walking the shipped ones."""

from __future__ import annotations

import copy
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from walletdesk.kb import actions
from walletdesk.kb.actions import KbError, TroubleshooterInput
from walletdesk.kb.flows import FlowError, validate_flow, walk
from walletdesk.kb.seed import shipped_troubleshooters
from walletdesk.kb.starter import TICKET_CATEGORIES, load_starter_articles

ARTICLE_SLUGS = {a.slug for a in load_starter_articles()}
LOGIN = next(f for f in shipped_troubleshooters() if f["slug"] == "cannot-log-in")["graph"]


def check(graph: Any) -> None:
    validate_flow(graph, article_slugs=ARTICLE_SLUGS, ticket_categories=TICKET_CATEGORIES)


@pytest.mark.parametrize("flow", shipped_troubleshooters(), ids=lambda f: f["slug"])
def test_shipped_flows_are_valid(flow: dict[str, Any]) -> None:
    check(flow["graph"])


def broken(change: Any) -> dict[str, Any]:
    graph = copy.deepcopy(LOGIN)
    change(graph["steps"])
    return graph


X = {"en": "x", "zh-hans": "x"}


def _dangling(s: Any) -> None:
    s["start"]["options"].append({"label": X, "next": "nowhere"})


def _dead_end(s: Any) -> None:
    s["limbo"] = {"text": X}
    s["start"]["options"].append({"label": X, "next": "limbo"})


def _external_link(s: Any) -> None:
    s["locked"]["fixes"].append({"kind": "link", "url": "https://evil.example/unlock", "label": X})


def _protocol_relative_link(s: Any) -> None:
    s["locked"]["fixes"].append({"kind": "link", "url": "//evil.example/unlock", "label": X})


def _loop_without_exit(s: Any) -> None:
    s["network"]["options"] = [{"label": X, "next": "network"}]
    s["start"]["options"] = [{"label": X, "next": "network"}]


BROKEN = [
    ("dangling option", _dangling, "unknown step 'nowhere'"),
    ("dead end", _dead_end, "dead end"),
    ("missing chinese", lambda s: s["locked"]["text"].pop("zh-hans"), "both en and zh-hans"),
    ("external link", _external_link, "path on this site"),
    ("protocol-relative link", _protocol_relative_link, "path on this site"),
    (
        "unknown article",
        lambda s: s["network"]["fixes"].append({"kind": "article", "slug": "no"}),
        "unknown article",
    ),
    ("bad request category", lambda s: s["ask"]["request"].update(category="bogus"), "ticket category"),
    ("unreachable", lambda s: s.update(orphan={"text": X, "end": "solved"}), "not reachable"),
    ("loop with no way out", _loop_without_exit, "no ending"),
    ("missing start", lambda s: s.pop("start"), "start step"),
]


@pytest.mark.parametrize(("name", "change", "problem"), BROKEN, ids=[b[0] for b in BROKEN])
def test_validation_rejects_broken_flows(name: str, change: Any, problem: str) -> None:
    with pytest.raises(FlowError) as error:
        check(broken(change))
    assert problem in str(error.value)


def test_validation_rejects_non_objects() -> None:
    for graph in (None, [], {"steps": {}}, {"start": "a", "steps": {"a": "text"}}):
        with pytest.raises(FlowError):
            check(graph)


def test_walk_follows_options_only() -> None:
    assert walk(LOGIN, []).id == "start"
    assert walk(LOGIN, ["start", "locked", "ask"]).data["end"] == "request"
    with pytest.raises(FlowError):
        walk(LOGIN, ["start", "ask"])  # not an option of start


@pytest.mark.django_db
def test_saving_a_broken_flow_is_refused(starter: None, alice: Any) -> None:
    graph = broken(
        lambda s: s["start"]["options"].append({"label": {"en": "x", "zh-hans": "x"}, "next": "zz"})
    )
    with pytest.raises(KbError) as error:
        actions.save_troubleshooter("broken", TroubleshooterInput("B", "坏", graph), actor=alice)
    assert error.value.field == "graph"
    assert [p.code for p in error.value.problems] == ["missing_target"]  # for the editor to place
    # The editor's refusals over HTTP: tests/kb/test_flow_editor.py.


def _links(html: str) -> dict[str, str]:
    """Button label -> href in a flow step."""
    return {
        unescape(label.strip()): unescape(href)
        for href, label in re.findall(r'<a class="button[^"]*" href="([^"]+)"[^>]*>([^<]+)</a>', html)
    }


@pytest.mark.django_db
def test_walking_the_login_flow_reaches_a_prefilled_request_form(starter: None) -> None:
    client = Client()
    url = "/help/t/cannot-log-in/"
    page = client.get(url).content.decode()
    assert "What happens when you try to log in?" in page
    page = client.get(url + _links(page)["It says my account is locked"]).content.decode()
    links = _links(page)
    assert links["Unlock my account"] == "/accounts/unlock/"
    assert links["My account is locked after too many wrong passwords"] == "/help/a/account-locked/"
    # The same step as an htmx partial swaps into the page.
    partial = client.get(url + links["It is still locked"], headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial
    page = client.get(url + links["It is still locked"]).content.decode()
    request_url = unescape(re.search(r'data-testid="flow-request" href="([^"]+)"', page).group(1))
    query = parse_qs(urlparse(request_url).query)
    assert urlparse(request_url).path == "/new/"
    assert query["category"] == ["login_locked"] and query["troubleshooter"] == ["cannot-log-in"]
    assert query["path"] == ["start,locked,ask"] and query["subject"] == ["I cannot log in"]

    form = client.get(request_url).content.decode()
    assert 'value="I cannot log in"' in form  # subject prefilled
    assert "I followed the guide" in form and "It is still locked" in unescape(form)  # body prefilled
    assert 'name="account"' in form  # the login_locked category's facts


@pytest.mark.django_db
def test_transaction_flow_in_chinese_and_bad_paths_restart(starter: None) -> None:
    client = Client(headers={"Accept-Language": "zh-hans"})
    page = client.get("/help/t/unknown-transaction/").content.decode()
    assert "我看到一笔不是我发起的交易" in page and "资产被转出，但不是我操作的" in page
    restarted = client.get("/help/t/unknown-transaction/", {"path": "start,ask"}).content.decode()
    assert 'data-step="start"' in restarted
    assert Client().get("/help/t/no-such-flow/").status_code == 404


@pytest.mark.django_db
def test_draft_flows_are_hidden_from_the_public(starter: None, alice: Any, carol: Any, as_user: Any) -> None:
    from walletdesk.kb.models import Troubleshooter

    actions.set_troubleshooter_status(Troubleshooter.objects.get(slug="cannot-log-in"), "draft", actor=alice)
    assert Client().get("/help/t/cannot-log-in/").status_code == 404
    assert as_user(carol).get("/help/t/cannot-log-in/").status_code == 404
    assert as_user(alice).get("/help/t/cannot-log-in/").status_code == 200
