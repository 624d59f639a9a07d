"""core.queue.task_named: a task named by its dotted path, so an actions module need not import
the tasks module that imports it. The path is a string, invisible to the import checks, so
these tests check every such path in the code resolves to a task.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.tasks import Task, task
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from walletdesk.core import queue

ROOT = Path(__file__).resolve().parents[2] / "walletdesk"
TASK_PATH = re.compile(r"""["'](walletdesk(?:\.\w+)*\.\w*tasks\.\w+)["']""")
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}}
NOT_A_TASK = 42


@task()
def named(word: str) -> str:
    return word


def _task_paths_in_code() -> set[str]:
    found = set()
    for source in ROOT.rglob("*.py"):
        if "migrations" not in source.parts:
            found.update(TASK_PATH.findall(source.read_text(encoding="utf-8")))
    return found


def test_every_task_path_in_the_code_names_a_task() -> None:
    paths = _task_paths_in_code()
    assert "walletdesk.accounts.tasks.send_unlock_link" in paths  # the pattern finds them
    for path in sorted(paths):
        assert isinstance(queue.task_named(path), Task), path


def test_a_wrong_path_fails_loudly() -> None:
    with pytest.raises(ImportError):
        queue.task_named("walletdesk.accounts.tasks.no_such_task")
    with pytest.raises(TypeError):
        queue.task_named(f"{__name__}.NOT_A_TASK")


@override_settings(TASKS=DB_TASKS)
def test_enqueue_named_writes_the_row_enqueue_writes(db: None) -> None:
    queue.enqueue_named(f"{__name__}.named", word="hello")
    row = DBTaskResult.objects.get()
    assert row.task_path == named.module_path
    assert row.args_kwargs == {"args": [], "kwargs": {"word": "hello"}}
