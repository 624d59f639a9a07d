"""walletdesk as separate real processes: N web processes (`walletdesk.core.serve`) and M task
workers (`django db_worker`), each started and killed on its own.

`walletdesk up` supervises both and restarts a child that dies; a fault test wants to kill one
worker with SIGKILL and decide itself when another starts, so it starts them the way `up` does
(same commands, same environment) but one by one. bench/load.py uses it for its 2 web + 2
worker layout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import ROOT, free_port

_NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "SITE_URL", "EMAIL_HOST", "EMAIL_PORT")


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


class Stack:
    """One walletdesk: a data directory, an environment, web processes and workers."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None, *, web_workers: int = 1) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web_workers = web_workers
        self.env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        self.env.update(
            WALLETDESK_DATA_DIR=str(self.data_dir),
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="walletdesk.settings",
            SITE_URL=self.base,
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            PYTHONUNBUFFERED="1",
        )
        self.env.update(env or {})
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.log_path = self.data_dir / "stack.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def manage(self, *args: str, stdin: bytes = b"", timeout: float = 300) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "walletdesk.cli", "manage", *args],
            env=self.env,
            cwd=self.data_dir,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
        assert done.returncode == 0, f"manage {args[:2]} exited with {done.returncode}:\n{output[-4000:]}"
        return output

    def shell(self, code: str, timeout: float = 300) -> str:
        """Run Python code in a Django shell against this stack's data; what it printed."""
        return self.manage("shell", "-c", code, timeout=timeout)

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")

    def start_web(self, timeout: float = 120) -> None:
        self.web = self._spawn(
            [
                sys.executable,
                "-m",
                "walletdesk.core.serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.web_workers),
            ]
        )
        deadline = time.monotonic() + timeout
        while call(f"{self.base}/healthz", timeout=2).status != 200:
            if self.web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"web did not start:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn(
            [sys.executable, "-m", "django", "db_worker", "--queue-name", "*", "--verbosity", "0"]
        )
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL, as the OOM killer would: no cleanup, no heartbeat removal."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)

    def stop(self) -> None:
        for proc in [*self.workers, *([self.web] if self.web else [])]:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, *([self.web] if self.web else [])]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
