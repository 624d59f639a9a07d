"""Production settings pass Django's deploy checks, and refuse to start without document keys."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def _run(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DOCUMENT_", "SECRET_", "WALLETDESK_", "DEBUG", "EMAIL_"))
    }
    base.update({"WALLETDESK_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    result = _run(
        {
            "WALLETDESK_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "example.com",
            "DOCUMENT_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert not (tmp_path / "document_key").exists()  # production never generates a key


def test_production_refuses_missing_or_bad_document_keys(tmp_path: Path) -> None:
    env = {
        "WALLETDESK_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "example.com",
    }
    missing = _run(env, tmp_path)
    assert missing.returncode != 0 and "DOCUMENT_KEYS" in missing.stderr
    bad = _run({**env, "DOCUMENT_KEYS": "not-a-key"}, tmp_path)
    assert bad.returncode != 0 and "Fernet" in bad.stderr


def test_embedded_mode_generates_a_document_key_once(tmp_path: Path) -> None:
    assert _run({}, tmp_path).returncode in (0, 1)
    key = (tmp_path / "document_key").read_text()
    Fernet(key)
    assert oct((tmp_path / "document_key").stat().st_mode)[-3:] == "600"
    _run({}, tmp_path)
    assert (tmp_path / "document_key").read_text() == key
