"""walletdesk as separate real processes: N web processes (`walletdesk.core.serve`) and M task
workers (`django db_worker`), each started and killed on its own.

`walletdesk up` supervises both and restarts a child that dies; a fault test wants to kill one
worker with SIGKILL and decide itself when another starts, so it starts them the way `up` does
(same commands, same environment) but one by one. The environment, the data directory, the
commands run against it and the web processes are tests/servers.py's `Walletdesk` (web
processes alone, without `up`); this adds the workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import Walletdesk, start_worker, stop_workers

# Not taken from the tests' own environment: where they send mail is theirs, not the stack's.
_NOT_INHERITED = ("EMAIL_HOST", "EMAIL_PORT")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def call(
    url: str,
    data: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
    timeout: float = 30,
) -> Answer:
    """One HTTP request; any status is an answer. A refused or reset connection is status 0."""
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return Answer(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
    except (OSError, TimeoutError) as e:  # refused, reset, timed out
        return Answer(0, {}, repr(e).encode())


class Stack(Walletdesk):
    """One walletdesk: a data directory, an environment, web processes and workers."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None, *, web_workers: int = 1) -> None:
        super().__init__(
            data_dir,
            workers=web_workers,
            env={"PYTHONUNBUFFERED": "1", **(env or {})},
            task_worker=False,  # the web processes alone; the workers are started one by one
            log_name="stack.log",
            migrate=False,  # the test migrates (or prepares its data) first
        )
        for name in _NOT_INHERITED:
            if name not in (env or {}):
                self.env.pop(name, None)
        self.base = self.base_url
        self.task_workers: list[subprocess.Popen[bytes]] = []

    def start_web(self, timeout: float = 120) -> None:
        self.start(timeout)

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = start_worker(self.env, self.data_dir, "--verbosity", "0", log_name=self.log_path.name)
        self.task_workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL, as the OOM killer would: no cleanup, no heartbeat removal."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)

    def stop(self, timeout: float = 60) -> int | None:
        """The workers (SIGTERM, SIGKILL if they linger), then the web processes."""
        stop_workers(self.task_workers, 15)
        return super().stop(timeout)
