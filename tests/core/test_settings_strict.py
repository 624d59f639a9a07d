"""Settings added for issue 16 are parsed strictly: a typo stops start-up, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from walletdesk.core import env


@pytest.mark.parametrize("raw", ["abc", "nan", "inf", "-inf"])
def test_a_number_setting_refuses_what_is_not_a_finite_number(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("WD_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="WD_TEST_NUMBER"):
        env.number("WD_TEST_NUMBER", 1.0)


def test_a_number_setting_reads_decimals_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WD_TEST_NUMBER", " 2.5 ")
    assert env.number("WD_TEST_NUMBER", 1.0) == 2.5
    monkeypatch.setenv("WD_TEST_NUMBER", "")
    assert env.number("WD_TEST_NUMBER", 1.5) == 1.5


def _start(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "WALLETDESK_DATA_DIR": str(tmp_path), **extra}
    return subprocess.run(
        [sys.executable, "-c", "import walletdesk.settings"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"TRIAGE_OVERRIDE_MIN_SCORE": "nan"}, "TRIAGE_OVERRIDE_MIN_SCORE"),
        ({"TRIAGE_OVERRIDE_MIN_SCORE": "0"}, "TRIAGE_OVERRIDE_MIN_SCORE"),
        # /readyz would call a healthy worker dead between two of its beats.
        (
            {
                "WORKER_HEARTBEAT_SECONDS": "30",
                "WORKER_LEASE_SECONDS": "120",
                "READYZ_MAX_WORKER_SILENCE_SECONDS": "40",
            },
            "READYZ_MAX_WORKER_SILENCE_SECONDS",
        ),
    ],
)
def test_start_up_refuses_settings_that_switch_a_check_off(
    tmp_path: Path, extra: dict[str, str], named: str
) -> None:
    result = _start(tmp_path, **extra)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and named in result.stderr


def test_the_defaults_start(tmp_path: Path) -> None:
    result = _start(tmp_path)
    assert result.returncode == 0, result.stderr
