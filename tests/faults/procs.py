"""Our own PostgreSQL and Redis servers, started for a fault test and stopped or killed by it.

The machine's PostgreSQL (5432) and Redis (6379) serve other sessions and CI: a test that stops
a database must own it. `PostgresCluster` runs `initdb` and `pg_ctl` from the Debian packages
in a temporary directory, on a free port, as the `postgres` OS user when we are root (initdb
refuses root); `RedisServer` runs `redis-server` with no persistence on a free port. Both are
context managers and stop what they started on exit, whatever the test did to them.

Also usable from a benchmark (bench/load.py starts none of these, but may).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from tests.servers import IN_CI, free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _need(path: Path | str, package: str) -> None:
    if Path(path).exists():
        return
    message = f"{path} is not installed"
    if IN_CI:
        raise RuntimeError(f"{message}, and CI=true: CI must install {package}")
    raise unittest.SkipTest(message)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


class PostgresCluster:
    """A throwaway PostgreSQL cluster: `start()`, `stop()` (fast shutdown), `kill()` (SIGKILL)."""

    def __init__(self) -> None:
        _need(PG_BIN / "initdb", "postgresql-15")
        # Under /tmp, not pytest's tmp_path: the postgres user cannot enter root's 0700 folders.
        self.root = Path(tempfile.mkdtemp(prefix="wd-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        self.as_user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self.as_user = pwd.getpwnam("postgres")
            os.chown(self.root, self.as_user.pw_uid, self.as_user.pw_gid)
        self._run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
                # A test cluster: nothing here must survive a power cut, and fsync is slow.
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
            )

    def url(self, database: str = "walletdesk") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[bytes]:
        user = self.as_user
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=120,
            check=False,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {(done.stdout + done.stderr).decode(errors='replace')}")
        return done

    def start(self) -> None:
        self._run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"]
        )

    def stop(self) -> None:
        """A fast shutdown: PostgreSQL ends every session (clients see 57P01) and stops."""
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash or the OOM killer would; the children follow."""
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)

    def create_database(self, name: str) -> str:
        self._run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])
        return self.url(name)

    def psql(self, database: str, sql: str) -> str:
        done = self._run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ]
        )
        return done.stdout.decode()

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A throwaway redis-server without persistence: `start()`, `kill()` (SIGKILL)."""

    def __init__(self) -> None:
        _need(REDIS_SERVER, "redis-server")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 20) -> None:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
