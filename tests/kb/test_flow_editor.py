"""The troubleshooter editor: the pure graph check, the step forms, who may use it, and what a
crafted POST gets."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from walletdesk.core.models import AuditEntry
from walletdesk.kb.flow_editor import MAX_CHOICES, graph_from_rows, rearrange, rows_from_graph
from walletdesk.kb.flows import flow_problems
from walletdesk.kb.models import Troubleshooter
from walletdesk.kb.seed import shipped_troubleshooters
from walletdesk.kb.starter import TICKET_CATEGORIES

LOGIN = next(f for f in shipped_troubleshooters() if f["slug"] == "cannot-log-in")["graph"]
URL = "/agent/kb/flows/cannot-log-in/"
PHRASE = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"


def codes(graph: Any) -> set[tuple[str, str | None]]:
    return {(p.code, p.step) for p in flow_problems(graph, ticket_categories=TICKET_CATEGORIES)}


# --- the pure check -----------------------------------------------------------------------------


def test_shipped_flows_have_no_problems() -> None:
    for flow in shipped_troubleshooters():
        assert flow_problems(flow["graph"], ticket_categories=TICKET_CATEGORIES) == []


def test_each_problem_names_its_step() -> None:
    g = copy.deepcopy(LOGIN)
    g["steps"]["locked"]["options"][0]["next"] = "poisoning"  # a step of another flow
    g["steps"]["network"]["text"]["zh-hans"] = " "
    g["steps"]["orphan"] = {"text": {"en": "x", "zh-hans": "x"}, "end": "solved"}
    g["steps"]["limbo"] = {"text": {"en": "x", "zh-hans": "x"}}
    found = codes(g)
    assert ("missing_target", "locked") in found
    assert ("no_title", "network") in found
    assert ("dead_end", "limbo") in found
    problem = next(p for p in flow_problems(g) if p.code == "missing_target")
    assert problem.choice == 1 and problem.detail == "poisoning"


def test_graph_problems_unreachable_and_loop() -> None:
    g = copy.deepcopy(LOGIN)
    g["steps"]["orphan"] = {"text": {"en": "x", "zh-hans": "x"}, "end": "solved"}
    g["steps"]["network"]["options"] = [{"label": {"en": "again", "zh-hans": "再来"}, "next": "app_version"}]
    g["steps"]["app_version"]["options"] = [{"label": {"en": "again", "zh-hans": "再来"}, "next": "network"}]
    found = codes(g)
    assert ("unreachable", "orphan") in found
    assert ("no_way_out", "network") in found and ("no_way_out", "app_version") in found
    assert not any(step == "start" for code, step in found)  # start can still reach an ending


def test_an_ending_with_choices_and_a_half_written_body_are_problems() -> None:
    g = copy.deepcopy(LOGIN)
    g["steps"]["solved"]["options"] = [{"label": {"en": "x", "zh-hans": "x"}, "next": "start"}]
    g["steps"]["start"]["body"] = {"en": "Only English", "zh-hans": ""}
    assert {("ending_with_options", "solved"), ("body", "start")} <= codes(g)


@pytest.mark.parametrize(
    "graph", [None, [], {"steps": {}}, {"start": "a", "steps": {"a": "text"}}, {"steps": []}]
)
def test_junk_is_problems_not_crashes(graph: Any) -> None:
    assert flow_problems(graph)


def test_rows_round_trip_and_layout_buttons() -> None:
    rows = rows_from_graph(LOGIN)
    assert rows[0]["id"] == "start"
    assert graph_from_rows(rows) == {**LOGIN, "order": list(LOGIN["steps"])}
    shuffled = {**LOGIN, "order": ["ask", "start", "nowhere", 7, "ask"]}
    assert [r["id"] for r in rows_from_graph(shuffled)][:2] == ["start", "ask"]
    for junk in ("start", None, {"a": 1}):
        assert [r["id"] for r in rows_from_graph({**LOGIN, "order": junk})] == list(LOGIN["steps"])
    added = rearrange(rows, "add")
    assert added[-1]["id"] == f"step-{len(rows) + 1}" and len(added) == len(rows) + 1
    moved = rearrange(rows, "down-0")
    assert [r["id"] for r in moved[:2]] == ["locked", "start"]
    assert graph_from_rows(moved)["start"] == "locked"  # the first step is the start
    assert [r["id"] for r in rearrange(rows, "remove-1")][:2] == ["start", "email_missing"]
    for junk in ("remove-99", "up-x", "down--1", "explode"):
        assert rearrange(rows, junk) == rows


# --- the editor over HTTP ------------------------------------------------------------------------


def grant(user: Any) -> Any:
    user.user_permissions.add(Permission.objects.get(codename="change_troubleshooter"))
    return user


def post_data(rows: list[dict[str, Any]], op: str = "save", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title_en": "I cannot log in",
        "title_zh": "我无法登录",
        "summary_en": "",
        "summary_zh": "",
        "position": 1,
        "op": op,
        "steps-TOTAL_FORMS": len(rows),
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 100,
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"steps-{n}-{key}"] = value
    data.update(extra)
    return data


EDITOR_ENDPOINTS = [
    ("get", "/agent/kb/flows/new/"),
    ("post", "/agent/kb/flows/new/"),
    ("get", URL),
    ("post", URL),
    ("post", URL + "preview/"),
    ("post", URL + "status/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), EDITOR_ENDPOINTS)
@pytest.mark.parametrize("persona", ["carol", "dave", "alice", "bob", None])
def test_only_agents_with_the_kb_permission_may_edit(
    starter: None, method: str, url: str, persona: str | None, request: Any, as_user: Any
) -> None:
    client = as_user(request.getfixturevalue(persona)) if persona else Client()
    before = Troubleshooter.objects.get(slug="cannot-log-in")
    data = post_data(rows_from_graph(LOGIN), title_en="Hijacked", status="draft", slug="evil")
    response = getattr(client, method)(url, data if method == "post" else None)
    if persona is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403
    after = Troubleshooter.objects.get(slug="cannot-log-in")
    assert (after.title_en, after.graph, after.status) == (before.title_en, before.graph, before.status)
    assert not Troubleshooter.objects.filter(slug="evil").exists()


@pytest.mark.django_db
def test_the_editor_shows_the_steps_not_json(starter: None, alice: Any, as_user: Any) -> None:
    page = as_user(grant(alice)).get(URL).content.decode()
    assert 'name="steps-0-title_en"' in page and 'value="What happens when you try to log in?"' in page
    assert "&quot;steps&quot;" not in page  # no raw JSON
    assert 'data-testid="flow-preview"' in page


@pytest.mark.django_db
def test_saving_records_who_changed_what(starter: None, alice: Any, as_user: Any) -> None:
    rows = rearrange(rows_from_graph(LOGIN), "add")
    rows[-1].update(title_en="Try another network", title_zh="换一个网络试试", ending="solved")
    rows[0]["choice_4_en"], rows[0]["choice_4_zh"], rows[0]["choice_4_next"] = (
        "Wi-Fi",
        "无线网络",
        rows[-1]["id"],
    )
    rows[-1]["body_en"] = "Use **mobile data**.<script>alert(1)</script><img src=x onerror=alert(1)>"
    rows[-1]["body_zh"] = "请改用**移动数据**。"
    response = as_user(grant(alice)).post(URL, post_data(rows))
    assert response.status_code == 302
    flow = Troubleshooter.objects.get(slug="cannot-log-in")
    new = flow.graph["steps"][rows[-1]["id"]]
    assert new["text"]["zh-hans"] == "换一个网络试试"
    assert "<strong>mobile data</strong>" in new["body_html"]["en"]
    # Typed HTML is shown as text, never as markup (markdown-it without raw HTML, then nh3).
    assert "<script" not in new["body_html"]["en"] and "<img" not in new["body_html"]["en"]
    assert "&lt;script&gt;" in new["body_html"]["en"]
    # The arrangement survives the database (jsonb on PostgreSQL reorders object keys).
    assert [r["id"] for r in rows_from_graph(flow.graph)] == [r["id"] for r in rows]
    entry = AuditEntry.objects.filter(action="kb.troubleshooter_saved", target_id=str(flow.pk)).latest("id")
    assert (
        entry.actor == alice
        and entry.data["added"] == [rows[-1]["id"]]
        and entry.data["changed"] == ["start"]
    )
    customer = Client().get("/help/t/cannot-log-in/", {"path": f"start,{rows[-1]['id']}"}).content.decode()
    assert "<strong>mobile data</strong>" in customer and "<script>alert" not in customer
    assert "<img src=x" not in customer


def _refused(client: Client, rows: list[dict[str, Any]], *expected: str) -> str:
    before = Troubleshooter.objects.get(slug="cannot-log-in").graph
    count = AuditEntry.objects.count()
    response = client.post(URL, post_data(rows))
    page = response.content.decode()
    assert response.status_code == 200, "a refused save redraws the form"
    for text in expected:
        assert text in page, text
    assert Troubleshooter.objects.get(slug="cannot-log-in").graph == before
    assert AuditEntry.objects.count() == count
    return page


@pytest.mark.django_db
def test_crafted_posts_are_refused_and_nothing_is_saved(starter: None, alice: Any, as_user: Any) -> None:
    client = as_user(grant(alice))
    rows = rows_from_graph(LOGIN)

    other_flow = copy.deepcopy(rows)
    other_flow[0]["choice_0_next"] = "poisoning"  # a step id of unknown-transaction
    _refused(client, other_flow, "leads to a step that is not in this troubleshooter")

    cyclic = copy.deepcopy(rows)
    net = next(r for r in cyclic if r["id"] == "network")
    app = next(r for r in cyclic if r["id"] == "app_version")
    for row, to in ((net, "app_version"), (app, "network")):
        for i in range(MAX_CHOICES):
            (
                row.pop(f"choice_{i}_en", None),
                row.pop(f"choice_{i}_zh", None),
                row.pop(f"choice_{i}_next", None),
            )
        row.update(choice_0_en="Again", choice_0_zh="再试", choice_0_next=to)
    _refused(client, cyclic, "go round in a loop")

    untitled = copy.deepcopy(rows)
    untitled[1]["title_zh"] = ""
    _refused(client, untitled, "Give this step a title in both English and Chinese.")

    orphan = [*copy.deepcopy(rows), {"id": "orphan", "title_en": "x", "title_zh": "x", "ending": "solved"}]
    _refused(client, orphan, "customers can never reach it")

    dead = [*copy.deepcopy(rows), {"id": "limbo", "title_en": "x", "title_zh": "x"}]
    dead[0]["choice_4_en"], dead[0]["choice_4_zh"], dead[0]["choice_4_next"] = "y", "y", "limbo"
    _refused(client, dead, "so it must be an ending")

    duplicate = [*copy.deepcopy(rows), {**rows[1]}]
    _refused(client, duplicate, "Two steps have the same id")

    bad_id = copy.deepcopy(rows)
    bad_id[1]["id"] = "../<script>"
    _refused(client, bad_id)

    secret = copy.deepcopy(rows)
    secret[1]["body_en"] = f"For example: {PHRASE}"
    secret[1]["body_zh"] = "例如"
    _refused(client, secret, "looks like a recovery phrase")

    offsite = copy.deepcopy(rows)
    offsite[1]["link_url"] = "https://evil.example/unlock"
    _refused(client, offsite, "a path on this site")


@pytest.mark.django_db
def test_layout_buttons_and_preview_save_nothing(starter: None, alice: Any, as_user: Any) -> None:
    client = as_user(grant(alice))
    before = Troubleshooter.objects.get(slug="cannot-log-in").graph
    rows = rows_from_graph(LOGIN)
    page = client.post(URL, post_data(rows, op="add")).content.decode()
    assert f'value="step-{len(rows) + 1}"' in page
    rows[0]["title_zh"] = "登录时会发生什么？（新）"
    preview = client.post(URL + "preview/", post_data(rows, preview_lang="zh-hans")).content.decode()
    assert "登录时会发生什么？（新）" in preview and "<html" not in preview
    walked = client.post(URL + "preview/", post_data(rows, preview_lang="en", preview_path="start,locked"))
    assert "Unlock my account" in walked.content.decode()
    jumped = client.post(URL + "preview/", post_data(rows, preview_lang="en", preview_path="start,ask"))
    assert 'data-step="start"' in jumped.content.decode()  # not a walk: back to the start
    assert client.get(URL + "preview/").status_code == 405
    assert Troubleshooter.objects.get(slug="cannot-log-in").graph == before


@pytest.mark.django_db
def test_a_new_flow_starts_from_the_example(starter: None, alice: Any, as_user: Any) -> None:
    client = as_user(grant(alice))
    data = {"slug": "restart", "title_en": "Restart", "title_zh": "重启", "position": 3}
    response = client.post("/agent/kb/flows/new/", data)
    assert response.status_code == 302 and response["Location"] == "/agent/kb/flows/restart/"
    assert Troubleshooter.objects.get(slug="restart").graph["start"] == "start"
    assert Client().get("/help/t/restart/").status_code == 404  # a draft


@pytest.mark.django_db
def test_the_desk_index_links_the_editor_only_for_editors(
    starter: None, alice: Any, bob: Any, as_user: Any
) -> None:
    plain = as_user(bob).get("/agent/kb/").content.decode()
    assert "/agent/kb/flows/" not in plain and 'href="/help/t/cannot-log-in/"' in plain
    editor = as_user(grant(alice)).get("/agent/kb/").content.decode()
    assert 'href="/agent/kb/flows/cannot-log-in/"' in editor and 'href="/agent/kb/flows/new/"' in editor


@pytest.mark.django_db
def test_a_traditional_chinese_customer_reads_the_flow_in_traditional(starter: None) -> None:
    page = Client(headers={"Accept-Language": "zh-hant"}).get("/help/t/cannot-log-in/").content.decode()
    assert "登入時出現了什麼情況" in page and "登录时" not in page
