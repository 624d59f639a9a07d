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

A step with no options is an ending and must either carry a fix or be `end: solved` /
`end: request` — a customer is never left at a step with nowhere to go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

__all__ = ["FlowError", "Step", "parse_path", "step_text", "validate_flow", "walk"]

LANGS = ("en", "zh-hans")
STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_STEPS = 100
MAX_PATH = 40
ENDS = ("solved", "request")
FIX_KINDS = ("link", "article")


class FlowError(ValueError):
    """A flow that must not be saved, or a walk that does not follow the flow."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _texts_ok(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(x), str) and value[x].strip() for x in LANGS)


def _check_step(
    step_id: str,
    step: Any,
    steps: Mapping[str, Any],
    article_slugs: set[str] | None,
    ticket_categories: Iterable[str],
) -> list[str]:
    if not isinstance(step, dict):
        return [f"step {step_id!r} must be an object"]
    problems: list[str] = []
    if not STEP_ID.match(step_id):
        problems.append(f"step id {step_id!r} must be lower-case letters, digits, '-' or '_'")
    if not _texts_ok(step.get("text")):
        problems.append(f"step {step_id!r} needs text in both en and zh-hans")
    options = step.get("options", [])
    if not isinstance(options, list):
        return [*problems, f"step {step_id!r}: options must be a list"]
    for n, option in enumerate(options, start=1):
        if not isinstance(option, dict) or not _texts_ok(option.get("label")):
            problems.append(f"step {step_id!r} option {n} needs a label in both en and zh-hans")
            continue
        if option.get("next") not in steps:
            problems.append(f"step {step_id!r} option {n} points to unknown step {option.get('next')!r}")
    fixes = step.get("fixes", [])
    if not isinstance(fixes, list):
        return [*problems, f"step {step_id!r}: fixes must be a list"]
    for n, fix in enumerate(fixes, start=1):
        kind = fix.get("kind") if isinstance(fix, dict) else None
        if kind == "link":
            # Internal paths only: a flow must never send a customer to another site.
            url = fix.get("url", "")
            if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
                problems.append(
                    f"step {step_id!r} fix {n}: url must be a path on this site, e.g. /accounts/unlock/"
                )
            if not _texts_ok(fix.get("label")):
                problems.append(f"step {step_id!r} fix {n} needs a label in both en and zh-hans")
        elif kind == "article":
            slug = fix.get("slug")
            if not isinstance(slug, str) or (article_slugs is not None and slug not in article_slugs):
                problems.append(f"step {step_id!r} fix {n}: unknown article {slug!r}")
        else:
            problems.append(f"step {step_id!r} fix {n}: kind must be one of {', '.join(FIX_KINDS)}")
    end = step.get("end")
    if end is not None and end not in ENDS:
        problems.append(f"step {step_id!r}: end must be one of {', '.join(ENDS)}")
    if end == "request":
        request = step.get("request")
        if not isinstance(request, dict) or request.get("category") not in set(ticket_categories):
            problems.append(f"step {step_id!r}: a request ending needs a known ticket category")
        elif not _texts_ok(request.get("subject")):
            problems.append(f"step {step_id!r}: a request ending needs a subject in both en and zh-hans")
    if not options and not fixes and end is None:
        problems.append(f"step {step_id!r} is a dead end: give it options, a fix, or an end")
    return problems


def validate_flow(
    graph: Any, *, article_slugs: set[str] | None = None, ticket_categories: Iterable[str] = ()
) -> None:
    """Raise FlowError listing every problem; return None for a flow that is safe to publish."""
    if not isinstance(graph, dict) or not isinstance(graph.get("steps"), dict) or not graph["steps"]:
        raise FlowError(["a flow is an object with a non-empty 'steps' object"])
    steps: dict[str, Any] = graph["steps"]
    problems: list[str] = []
    if len(steps) > MAX_STEPS:
        problems.append(f"a flow has at most {MAX_STEPS} steps")
    start = graph.get("start")
    if start not in steps:
        problems.append(f"start step {start!r} does not exist")
    categories = list(ticket_categories)
    for step_id, step in steps.items():
        problems.extend(_check_step(step_id, step, steps, article_slugs, categories))
    if problems:
        raise FlowError(problems)

    # Every step is reachable from the start, and from every step some ending is reachable
    # (a loop of "try again" options with no way out is a dead end too).
    edges = {sid: [o["next"] for o in step.get("options", [])] for sid, step in steps.items()}
    reachable = _reach(str(start), edges)
    unreachable = sorted(set(steps) - reachable)
    if unreachable:
        problems.append(f"steps not reachable from the start: {', '.join(unreachable)}")
    endings = {sid for sid, nexts in edges.items() if not nexts}
    stuck = sorted(sid for sid in steps if not (_reach(sid, edges) & endings))
    if stuck:
        problems.append(f"steps from which no ending can be reached: {', '.join(stuck)}")
    if problems:
        raise FlowError(problems)


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
