"""The throw-away databases a benchmark runs on, and the environment of its child processes."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"  # when DATABASE_URL does not name one


def reset_postgres(url: str) -> None:
    """Drop and create the database `url` names (on its server's `postgres` database)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def fresh_postgres(name: str) -> str | None:
    """The URL of an empty database `name` on DATABASE_URL's server (or the local one), or
    None, said aloud, when there is no PostgreSQL to run on."""
    base = os.environ.get("DATABASE_URL", "")
    server = base.rsplit("/", 1)[0] if base.startswith("postgres") else PG_SERVER
    url = f"{server}/{name}"
    try:
        reset_postgres(url)
    except Exception as exc:
        print(f"PostgreSQL not available ({type(exc).__name__}: {exc}); skipping it.")
        return None
    return url


def child_env(**extra: str) -> dict[str, str]:
    """This environment for a benchmark's child process: the code beside the benchmarks, the
    project's settings, and no database or cache of the caller's unless a target sets one."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="walletdesk.settings", PYTHONPATH=str(ROOT), **extra)
    return env


def targets(only: str | None, tmp: str, pg_name: str, **extra: str) -> list[tuple[str, dict[str, str]]]:
    """(name, child environment) for SQLite and PostgreSQL, or the one `only` names; each
    with its own data directory under `tmp`, PostgreSQL on a fresh database `pg_name`."""
    found = []
    if only in (None, "sqlite"):
        found.append(("SQLite", child_env(WALLETDESK_DATA_DIR=str(Path(tmp) / "sqlite"), **extra)))
    if only in (None, "postgres") and (url := fresh_postgres(pg_name)):
        found.append(
            ("PostgreSQL", child_env(WALLETDESK_DATA_DIR=str(Path(tmp) / "pg"), DATABASE_URL=url, **extra))
        )
    return found
