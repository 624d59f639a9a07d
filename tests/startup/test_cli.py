"""The `walletdesk` command as an operator meets it, run as a real process.

Each mistake an operator can fix is one line on stderr naming what to change, never a
traceback: a taken port (by another program, or by another walletdesk sharing it with
SO_REUSEPORT), production without SECRET_KEY. No arguments print help; --version the version.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The tests' own database and services are not the command's.
_NOT_INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "SITE_URL",
    "DJANGO_SETTINGS_MODULE",
    "WALLETDESK_ENV",
    "SECRET_KEY",
)


def walletdesk(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    full_env.update(WALLETDESK_DATA_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "walletdesk.cli", *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize("reuseport", [False, True], ids=["another-program", "another-walletdesk"])
def test_a_port_in_use_is_one_line_naming_port(tmp_path: Path, reuseport: bool) -> None:
    with socket.socket() as taken:
        # Another walletdesk listens with SO_REUSEPORT, which would let a second one bind
        # beside it and share (split) the visitors.
        if reuseport:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = walletdesk(tmp_path, "up", "--port", str(port))
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "--port" in line and str(port) in line and "in use" in line
    # Refused before any work: nothing migrated, no process started.
    assert not (tmp_path / "var" / "walletdesk.sqlite3").exists()
    assert "walletdesk is up" not in done.stdout


def test_the_web_server_alone_says_the_same_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        full_env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        done = subprocess.run(
            [sys.executable, "-m", "walletdesk.core.serve", "--port", str(port)],
            cwd=tmp_path,
            env={**full_env, "WALLETDESK_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert "--port" in one_line(done.stderr)


@pytest.mark.parametrize("command", [["up"], ["manage", "check"]], ids=["up", "manage"])
def test_production_without_secret_key_is_one_line_naming_it(tmp_path: Path, command: list[str]) -> None:
    done = walletdesk(tmp_path, *command, env={"WALLETDESK_ENV": "production"})
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith("walletdesk: Set SECRET_KEY") and "production" in line


def test_a_bad_environment_value_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    done = walletdesk(tmp_path, "up", "--port", "0", env={"LOCKOUT_FAILURES": "five"})
    assert done.returncode == 1
    assert "LOCKOUT_FAILURES" in one_line(done.stderr)


def test_no_arguments_print_help(tmp_path: Path) -> None:
    done = walletdesk(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: walletdesk")
    assert "up " in done.stdout and "manage " in done.stdout and "--version" in done.stdout
    assert "required" not in done.stderr


def test_version(tmp_path: Path) -> None:
    done = walletdesk(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"walletdesk {metadata.version('walletdesk')}"


def test_up_help_describes_every_flag(tmp_path: Path) -> None:
    done = walletdesk(tmp_path, "up", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps lines
    for flag, words in (
        ("--demo", "demo people"),
        ("--host", "address to listen on"),
        ("--port", "TCP port"),
        ("--workers", "web server processes"),
    ):
        assert f"{flag}" in text and words in text, flag
    assert "WALLETDESK_DATA_DIR" in text


def test_manage_help_leads_with_our_commands_and_what_they_do(tmp_path: Path) -> None:
    done = walletdesk(tmp_path, "manage", "help")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    ours = lines.index("walletdesk's commands:")
    theirs = lines.index("Django's and the libraries' commands:")
    assert ours < theirs
    listed = {line.split()[0]: line.split(None, 1)[1] for line in lines[ours + 1 : theirs] if line.strip()}
    for command in ("issue_api_token", "connect", "ingest_email", "import_phishing_lists", "kb_load_starter"):
        assert command in listed and len(listed[command]) > 10, command
    assert listed["issue_api_token"].startswith("Issue an API token")
    # Django's commands are still all there, after ours.
    assert "createsuperuser" in "\n".join(lines[theirs:]) and "migrate" in "\n".join(lines[theirs:])
    # One command's own help is still Django's.
    one = walletdesk(tmp_path, "manage", "help", "issue_api_token")
    assert one.returncode == 0 and "--name" in one.stdout
