"""Dockerfile and compose.yaml, checked without a container engine (none runs on our machines).

What can be checked here is checked: compose.yaml parses and has the production layout's
services; every command the image or a service runs is a real walletdesk command with flags it
accepts; the files the Dockerfile copies exist; and the environment compose gives the
containers passes `walletdesk check-config` for the layout it declares. That images build and
containers start is not exercised.
"""

from __future__ import annotations

import importlib
import json
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _ours(service: dict[str, Any]) -> bool:
    return service.get("image") == "walletdesk:latest"


def _check_command(argv: list[str]) -> None:
    """Fail unless `argv` is something the installed project runs, with flags it accepts."""
    from django.core.management import get_commands

    from walletdesk import cli

    if argv[0] == "walletdesk":
        if argv[1] == "manage":
            assert argv[2] in get_commands(), f"no Django command {argv[2]!r}"
            return
        cli.parser().parse_args(argv[1:])  # exits (SystemExit) on an unknown command or flag
        return
    if argv[:2] == ["python", "-m"]:
        module = importlib.import_module(argv[2])
        assert module.__name__ == "walletdesk.core.serve", argv
        module.parser().parse_args(argv[3:])
        return
    raise AssertionError(f"unexpected command {argv}")


def test_compose_has_the_production_layout(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "minio", "bucket", "check", "migrate", "web", "worker"} <= set(services)
    assert services["web"]["deploy"]["replicas"] >= 2 and services["worker"]["deploy"]["replicas"] >= 2
    # Migrations run once, before any web process or worker, after the configuration check.
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["check"]["condition"] == "service_completed_successfully"
    for name in ("check", "migrate", "bucket"):
        assert services[name]["restart"] == "no"
    # Every process of ours gets the one environment (the same keys, database, Redis, bucket).
    ours = [s for s in services.values() if _ours(s)]
    assert len(ours) == 4
    assert all(s["environment"] == ours[0]["environment"] for s in ours)
    assert ours[0]["environment"]["WALLETDESK_ENV"] == "production"


def test_every_command_compose_runs_exists(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        if _ours(service):
            _check_command(service["command"])


def test_the_dockerfile_copies_real_files_and_runs_real_commands() -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = re.sub(r"\\\n", " ", text).splitlines()
    python = next(line for line in lines if line.startswith("FROM "))
    assert "python:3.12" in python  # pyproject's requires-python
    for line in lines:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    cmd = next(line for line in lines if line.startswith("CMD "))
    _check_command(json.loads(cmd[4:]))
    # The build step's command: `walletdesk manage collectstatic`.
    run = next(line for line in lines if "collectstatic" in line)
    words = shlex.split(run[run.index("walletdesk manage") :])
    _check_command(words[:3])
    # The files the image leaves out are not ones it needs.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "walletdesk" not in ignored and "pyproject.toml" not in ignored


def _interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3) or ""
        if name in given:
            return given[name]
        if op == ":?":
            raise AssertionError(f"compose would refuse: {rest}")
        return rest

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


def test_compose_environment_passes_check_config(compose: dict[str, Any], tmp_path: Path) -> None:
    dotenv = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DOCUMENT_KEYS": Fernet.generate_key().decode(),
        "SITE_URL": "https://help.example.com",
        "ALLOWED_HOSTS": "help.example.com",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "MINIO_PASSWORD": secrets.token_urlsafe(24),
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_HOST_USER": "desk",
        "EMAIL_HOST_PASSWORD": secrets.token_urlsafe(20),
        "DEFAULT_FROM_EMAIL": "Support <support@example.com>",
    }
    check = compose["services"]["check"]
    env = {name: _interpolate(str(value), dotenv) for name, value in check["environment"].items()}
    env.update(
        PATH="/usr/bin:/bin", HOME=str(tmp_path), PYTHONPATH=str(ROOT), WALLETDESK_DATA_DIR=str(tmp_path)
    )
    argv = check["command"]
    done = subprocess.run(
        [sys.executable, "-m", "walletdesk.cli", *argv[1:]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "PostgreSQL" in done.stdout and "S3 bucket walletdesk" in done.stdout
