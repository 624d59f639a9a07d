"""`walletdesk up` for a benchmark, as shipped: its own data directory, a fresh PostgreSQL
database when asked, guest rate limits raised for a one-address load; started, waited for until
/healthz answers (a shared, loaded machine starts slowly), and stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.databases import reset_postgres

ROOT = Path(__file__).resolve().parent.parent

# Every request comes from 127.0.0.1, and a guest's tickets are limited per address
# (RATE_LIMIT_GUEST_TICKET, core.ratelimit): the run raises the limits, it does not switch them
# off, so the counting is still measured. Set the variables yourself to override.
RAISED_LIMITS = {
    "RATE_LIMIT_GUEST_TICKET": "100000000/h/ip,100000000/h/email",
    "RATE_LIMIT_GUEST_REPLY": "100000000/h/ip,100000000/h/email",
}


def raised_limits() -> dict[str, str]:
    return {name: os.environ.get(name, value) for name, value in RAISED_LIMITS.items()}


def start_up(
    db: str,
    port: int,
    data_dir: Path,
    *,
    web_workers: int,
    postgres_url: str,
    code: str = str(ROOT),
    timeout: float = 300,
    **env_extra: str,
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`walletdesk up --workers web_workers` on `port`, the code at `code`; SQLite in `data_dir`,
    or (db "postgres") `postgres_url` dropped and created first, with the local Redis. Its
    output goes to data_dir/server.log; (the process, its environment) once it answers."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        WALLETDESK_DATA_DIR=str(data_dir),
        SITE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="ERROR",
        PYTHONPATH=code,
        **raised_limits(),
    )
    env.update(env_extra)
    if db == "postgres":
        reset_postgres(postgres_url)
        env["DATABASE_URL"] = postgres_url
        env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    log = data_dir / "server.log"
    with log.open("ab") as out:  # a file, not a pipe nobody reads while the server runs
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "walletdesk.cli",
                "up",
                "--port",
                str(port),
                "--workers",
                str(web_workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
            cwd=str(data_dir),
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, env
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            sys.exit(f"server exited: {log.read_text(errors='replace')[-2000:]}")
    stop_up(proc)  # not left running (and holding the port) behind the benchmark
    sys.exit(f"server did not answer /healthz within {timeout:.0f} s")


def stop_up(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
