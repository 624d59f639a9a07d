"""Guided troubleshooters as plain data: the graph's shape, its checks, and walking it.

Pure: no Django. A flow is a JSON object an agent edits:

    {
      "start": "start",
      "steps": {
        "start": {
          "text": {"en": "What happens when you log in?", "zh-hans": "登录时出现什么情况？"},
          "options": [{"label": {"en": "It says locked", "zh-hans": "提示已锁定"}, "next": "locked"}]
        },
        "locked": {
          "text": {...},
          "fixes": [{"kind": "link", "url": "/accounts/unlock/", "label": {...}},
                    {"kind": "article", "slug": "account-locked"}],
          "options": [{"label": {...}, "next": "solved"}, {"label": {...}, "next": "ask"}]
        },
        "solved": {"text": {...}, "end": "solved"},
        "ask": {"text": {...}, "end": "request",
                "request": {"category": "login_locked", "subject": {"en": "...", "zh-hans": "..."}}}
      }
    }

The editor also stores `"order": [step ids]`, the order it shows the steps in (jsonb does not
keep key order); the checks and the walk ignore it.

A step may also carry `body` ({"en": ..., "zh-hans": ...}, Markdown): the explanation under
its question. The actions render it with the article renderer (nh3-sanitised) into
`body_html`, which is all the pages show.

A step with no options must be an ending, `end: solved` or `end: request`, and an ending
offers no options — a customer is never left at a step with nowhere to go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

__all__ = [
    "FlowError",
    "Problem",
    "Step",
    "flow_problems",
    "parse_path",
    "step_text",
    "validate_flow",
    "walk",
]

LANGS = ("en", "zh-hans")
STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_STEPS = 100
MAX_PATH = 40
ENDS = ("solved", "request")
FIX_KINDS = ("link", "article")


class FlowError(ValueError):
    """A flow that must not be saved, or a walk that does not follow the flow."""

    def __init__(self, problems: list[str], found: list[Problem] | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.found = found or []


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a flow, as data: the editor words it for the operator (in their
    language, next to the step at fault); `message` is the English one for logs and the API.

    `choice` and `fix` count from 1, as an operator would.
    """

    code: str
    step: str | None = None
    choice: int | None = None
    fix: int | None = None
    detail: str = ""

    @property
    def message(self) -> str:
        where = f"step {self.step!r}" if self.step is not None else "the flow"
        if self.choice is not None:
            where += f" option {self.choice}"
        if self.fix is not None:
            where += f" fix {self.fix}"
        return f"{where}: {_MESSAGES[self.code].format(detail=self.detail)}"


_MESSAGES = {
    "not_a_flow": "a flow is an object with a non-empty 'steps' object",
    "too_many_steps": f"a flow has at most {MAX_STEPS} steps",
    "no_start": "start step {detail!r} does not exist",
    "bad_step_id": "a step id must be lower-case letters, digits, '-' or '_'",
    "not_an_object": "must be an object",
    "no_title": "needs text in both en and zh-hans",
    "body": "the explanation must be text in en and zh-hans, or empty in both",
    "bad_options": "options must be a list",
    "no_label": "needs a label in both en and zh-hans",
    "missing_target": "points to unknown step {detail!r}",
    "bad_fixes": "fixes must be a list",
    "bad_url": "url must be a path on this site, e.g. /accounts/unlock/",
    "unknown_article": "unknown article {detail!r}",
    "bad_fix_kind": "kind must be one of " + ", ".join(FIX_KINDS),
    "bad_end": "end must be one of " + ", ".join(ENDS),
    "request_category": "a request ending needs a known ticket category",
    "request_subject": "a request ending needs a subject in both en and zh-hans",
    "dead_end": "is a dead end: give it options or make it an ending (solved or request)",
    "ending_with_options": "is an ending, so it cannot also offer options",
    "unreachable": "is not reachable from the start",
    "secret": "a text looks like a recovery phrase or private key",
    "no_way_out": "no ending can be reached from it (a loop with no way out)",
}


def _texts_ok(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(x), str) and value[x].strip() for x in LANGS)


def _body_ok(value: Any) -> bool:
    # Optional, but all or nothing: a customer in one language must not miss what the other sees.
    if value is None:
        return True
    if not isinstance(value, dict) or not all(isinstance(value.get(x, ""), str) for x in LANGS):
        return False
    filled = [bool(value.get(x, "").strip()) for x in LANGS]
    return all(filled) or not any(filled)


def _check_fix(step_id: str, n: int, fix: Any, article_slugs: set[str] | None) -> list[Problem]:
    kind = fix.get("kind") if isinstance(fix, dict) else None
    problems: list[Problem] = []
    if kind == "link":
        # Internal paths only: a flow must never send a customer to another site.
        url = fix.get("url", "")
        if not isinstance(url, str) or not url.startswith("/") or url.startswith(("//", "/\\")):
            problems.append(Problem("bad_url", step_id, fix=n))
        if not _texts_ok(fix.get("label")):
            problems.append(Problem("no_label", step_id, fix=n))
    elif kind == "article":
        slug = fix.get("slug")
        if not isinstance(slug, str) or (article_slugs is not None and slug not in article_slugs):
            problems.append(Problem("unknown_article", step_id, fix=n, detail=str(slug)))
    else:
        problems.append(Problem("bad_fix_kind", step_id, fix=n))
    return problems


def _check_step(
    step_id: str,
    step: Any,
    steps: Mapping[str, Any],
    article_slugs: set[str] | None,
    ticket_categories: set[str],
) -> list[Problem]:
    if not isinstance(step, dict):
        return [Problem("not_an_object", step_id)]
    problems: list[Problem] = []
    if not STEP_ID.match(step_id):
        problems.append(Problem("bad_step_id", step_id))
    if not _texts_ok(step.get("text")):
        problems.append(Problem("no_title", step_id))
    if not _body_ok(step.get("body")):
        problems.append(Problem("body", step_id))
    options = step.get("options", [])
    if not isinstance(options, list):
        return [*problems, Problem("bad_options", step_id)]
    for n, option in enumerate(options, start=1):
        if not isinstance(option, dict):
            problems.append(Problem("no_label", step_id, choice=n))
            continue
        if not _texts_ok(option.get("label")):
            problems.append(Problem("no_label", step_id, choice=n))
        target = option.get("next")
        if not isinstance(target, str) or target not in steps:
            problems.append(Problem("missing_target", step_id, choice=n, detail=str(target or "")))
    fixes = step.get("fixes", [])
    if not isinstance(fixes, list):
        return [*problems, Problem("bad_fixes", step_id)]
    for n, fix in enumerate(fixes, start=1):
        problems.extend(_check_fix(step_id, n, fix, article_slugs))
    end = step.get("end")
    if end is not None and end not in ENDS:
        problems.append(Problem("bad_end", step_id))
    if end == "request":
        request = step.get("request")
        if not isinstance(request, dict) or request.get("category") not in ticket_categories:
            problems.append(Problem("request_category", step_id))
        elif not _texts_ok(request.get("subject")):
            problems.append(Problem("request_subject", step_id))
    if end is not None and options:
        problems.append(Problem("ending_with_options", step_id))
    if not options and end is None:
        problems.append(Problem("dead_end", step_id))
    return problems


def flow_problems(
    graph: Any, *, article_slugs: set[str] | None = None, ticket_categories: Iterable[str] = ()
) -> list[Problem]:
    """Everything wrong with `graph`, in step order; an empty list means it is safe to publish.

    Shape and wording first; the graph checks (reachability, a way out of every loop) only run
    on a well-formed graph, where they mean something.
    """
    if not isinstance(graph, dict) or not isinstance(graph.get("steps"), dict) or not graph["steps"]:
        return [Problem("not_a_flow")]
    steps: dict[str, Any] = graph["steps"]
    problems: list[Problem] = []
    if len(steps) > MAX_STEPS:
        problems.append(Problem("too_many_steps"))
    start = graph.get("start")
    if not isinstance(start, str) or start not in steps:
        problems.append(Problem("no_start", detail=str(start)))
    categories = set(ticket_categories)
    for step_id, step in steps.items():
        problems.extend(_check_step(str(step_id), step, steps, article_slugs, categories))
    if problems:
        return problems

    # Every step is reachable from the start, and from every step some ending is reachable
    # (a loop of "try again" options with no way out is a dead end too).
    edges = {sid: [o["next"] for o in step.get("options", [])] for sid, step in steps.items()}
    reachable = _reach(str(start), edges)
    problems.extend(Problem("unreachable", sid) for sid in steps if sid not in reachable)
    endings = {sid for sid, nexts in edges.items() if not nexts}
    problems.extend(
        Problem("no_way_out", sid) for sid in steps if sid in reachable and not (_reach(sid, edges) & endings)
    )
    return problems


def validate_flow(
    graph: Any, *, article_slugs: set[str] | None = None, ticket_categories: Iterable[str] = ()
) -> None:
    """Raise FlowError listing every problem; return None for a flow that is safe to publish."""
    found = flow_problems(graph, article_slugs=article_slugs, ticket_categories=ticket_categories)
    if found:
        raise FlowError([p.message for p in found], found)


def _reach(start: str, edges: Mapping[str, list[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def parse_path(raw: str) -> list[str]:
    """'start,locked' -> ['start', 'locked']; junk ids are dropped by `walk`, not here."""
    return [part for part in (raw or "").split(",") if part][:MAX_PATH]


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    data: dict[str, Any]
    path: list[str]  # the step ids walked to get here, this one last


def walk(graph: Mapping[str, Any], path: list[str]) -> Step:
    """The step reached by following `path` from the start; FlowError if it is not a walk.

    An empty path means the start. Each next id must be one of the previous step's options,
    so a hand-edited URL cannot jump into the middle of a flow.
    """
    steps: Mapping[str, Any] = graph["steps"]
    start = graph["start"]
    walked = path or [start]
    if walked[0] != start:
        raise FlowError([f"a walk begins at {start!r}"])
    for here, nxt in pairwise(walked):
        if nxt not in {o["next"] for o in steps[here].get("options", [])}:
            raise FlowError([f"{nxt!r} does not follow {here!r}"])
    return Step(id=walked[-1], data=steps[walked[-1]], path=walked)


def step_text(texts: Mapping[str, str], language: str) -> str:
    """A step's or option's text in `language`, else the other one."""
    return texts.get(language) or next((t for t in texts.values() if t), "")
