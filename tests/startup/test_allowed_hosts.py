"""ALLOWED_HOSTS as the README's table says: the local names and SITE_URL's host by default;
exactly the given list when set. Checked against a real server with the Host headers a
browser (or an attacker) sends.

Before, `walletdesk up --host 192.168.1.5` printed URLs that answered 400 (only the loopback
names were allowed), and production answered 400 to everything until ALLOWED_HOSTS was set.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, walletdesk_up
from tests.startup.test_cli import one_line, walletdesk


def status(base_url: str, host: str) -> int:
    request = urllib.request.Request(f"{base_url}/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_default_hosts_are_local_names_and_site_urls_host(tmp_path: Path) -> None:
    port = free_port()
    env = {"SITE_URL": f"http://help.example.test:{port}"}
    with walletdesk_up(tmp_path, task_worker=False, env=env) as server:
        assert status(server.base_url, f"help.example.test:{server.port}") == 200
        assert status(server.base_url, f"localhost:{server.port}") == 200
        assert status(server.base_url, f"[::1]:{server.port}") == 200
        assert status(server.base_url, "evil.example") == 400
        assert status(server.base_url, "help.example.test.evil.example") == 400


def test_a_set_list_is_exactly_the_hosts_answered(tmp_path: Path) -> None:
    env = {"ALLOWED_HOSTS": "127.0.0.1, desk.example.org"}
    with walletdesk_up(tmp_path, task_worker=False, env=env) as server:
        assert status(server.base_url, "desk.example.org") == 200
        assert status(server.base_url, f"localhost:{server.port}") == 400


@pytest.mark.parametrize("site_url", ["help.example.com", "ftp://help.example.com"])
def test_a_site_url_that_is_not_an_address_stops_start_up(tmp_path: Path, site_url: str) -> None:
    done = walletdesk(tmp_path, "manage", "check", env={"SITE_URL": site_url})
    assert done.returncode == 1
    assert "SITE_URL" in one_line(done.stderr)
