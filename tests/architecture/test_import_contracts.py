"""The dependency tree of docs/architecture.md holds, and a change that breaks it fails CI.

`lint-imports` (import-linter) reads the contracts from pyproject.toml. These tests run it on
the real tree, then on a copy of the tree into which one bad import was added: an upward
import, a circle hidden inside a function, one channel importing another, Django in the
shield. Each must break exactly the contract that forbids it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The package and its contracts, copied so a test may break them."""
    shutil.copytree(
        ROOT / "walletdesk",
        tmp_path / "walletdesk",
        ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates", "content", "data"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


def test_the_copy_is_checked_not_the_installed_package(tree_copy: Path) -> None:
    # Without this, the bad imports below could be "caught" in the real tree by accident.
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_layers(tree_copy: Path) -> None:
    # tickets sits below the desk: a ticket module reaching for an agent view is the mistake.
    add_line(
        tree_copy / "walletdesk/tickets/access.py", "from walletdesk.desk import views as _views  # noqa"
    )
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "walletdesk.tickets is not allowed to import walletdesk.desk" in result.stdout


def test_a_circle_inside_a_function_is_still_a_circle(tree_copy: Path) -> None:
    # phrases imports findings; a lazy import back, inside a function, hides it from Python only.
    add_line(
        tree_copy / "walletdesk/shield/findings.py",
        "def _later():\n    from walletdesk.shield import phrases\n\n    return phrases",
    )
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "No cycles are allowed in walletdesk.shield" in result.stdout


def test_one_channel_may_not_import_another(tree_copy: Path) -> None:
    add_line(
        tree_copy / "walletdesk/connectors/email/views.py", "import walletdesk.connectors.inapp.api  # noqa"
    )
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "Channels, chat and chain never import one another BROKEN" in result.stdout


def test_the_shield_stays_pure(tree_copy: Path) -> None:
    add_line(tree_copy / "walletdesk/shield/scanner.py", "import django.conf  # noqa")
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "walletdesk.shield is not allowed to import django" in result.stdout


def test_one_social_provider_may_not_import_another(tree_copy: Path) -> None:
    # Both sit on connectors.social; neither may reach into the other.
    add_line(
        tree_copy / "walletdesk/connectors/telegram/adapter.py",
        "import walletdesk.connectors.wechat  # noqa",
    )
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "Channels, chat and chain never import one another BROKEN" in result.stdout


def test_the_social_base_may_not_import_a_provider(tree_copy: Path) -> None:
    add_line(
        tree_copy / "walletdesk/connectors/social/outbound.py",
        "import walletdesk.connectors.telegram.adapter  # noqa",
    )
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "The social providers sit on the social package, which never imports them BROKEN" in result.stdout


def test_every_connector_but_the_social_base_is_kept_apart() -> None:
    # The independence contract lists connectors by name (the shared `social` base must not be
    # in it): a new connector not added there would be free to import any other.
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    listed = set(next(c for c in contracts if c["id"] == "channels")["modules"])
    packages = {
        f"walletdesk.connectors.{p.name}"
        for p in (ROOT / "walletdesk/connectors").iterdir()
        if (p / "__init__.py").exists() and p.name != "social"
    }
    assert packages <= listed, packages - listed
