"""A real `db_worker` follows the real EVM (its own process) and is killed with SIGKILL in the
middle of a run; another worker resumes from the stored cursor. Every alert fires exactly once
and the customer has one ticket. The product's database is a SQLite file both workers share;
the test reads it with sqlite3 (no Django connection to it in this process)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.chain.evm import UNLIMITED, Node, wait_until
from tests.chain.test_monitor import FRIEND, LOOKALIKE

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
from walletdesk.accounts.models import User
from walletdesk.chain.models import Chain, ChainCursor, LinkChallenge, LinkedAddress
from walletdesk.chain import tasks
chain = Chain.objects.create(name="Test EVM", chain_id={chain_id}, rpc_urls="{url}", confirmations=3)
user = User.objects.create_user(email="carol@example.com", password=None)
challenge = LinkChallenge.objects.create(user=user, address="{victim}", nonce="n1", message="-",
                                         expires_at="2100-01-01T00:00Z")
LinkedAddress.objects.create(user=user, address="{victim}", challenge=challenge)
ChainCursor.objects.create(chain=chain, block_number=0, block_hash="{genesis}")
tasks.sweep_stalled()
"""


def test_a_worker_killed_mid_run_loses_and_repeats_no_alert(tmp_path: Path, evm_proc: Node) -> None:
    evm = evm_proc
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "WALLETDESK_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "walletdesk.settings",
        "CHAIN_POLL_SECONDS": "1",
        "CHAIN_MONITOR_LEASE_SECONDS": "3",
        "WORKER_SWEEP_SECONDS": "2",
    }

    def manage(*args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
        )

    def worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    db = sqlite3.connect(tmp_path / "walletdesk.sqlite3", timeout=30)

    def rows(sql: str) -> list[Any]:
        return db.execute(sql).fetchall()

    victim, drainer = evm.accounts[1], evm.accounts[2]
    token = evm.deploy("TestToken", "Tether", "USDT", 6, 10**12)
    evm.send(token.functions.transfer(victim, 10**9), evm.accounts[0])
    for _ in range(3):
        evm.send(token.functions.transfer(evm.w3.to_checksum_address(FRIEND), 10**6), victim)
    approve = evm.send(token.functions.approve(drainer, UNLIMITED), victim)
    drain = evm.send(token.functions.transferFrom(victim, drainer, 10**9 - 3 * 10**6), drainer)
    manage("migrate", "-v", "0")
    genesis = evm.w3.eth.get_block(0)["hash"].to_0x_hex()
    manage(
        "shell",
        "-c",
        SETUP.format(chain_id=evm.chain_id, url=evm.url, victim=victim.lower(), genesis=genesis),
    )

    first = worker()
    try:
        wait_until(lambda: len(rows("select 1 from chain_chainalert")) == 2, timeout=120)
        # Many blocks, then the poison: kill the worker while it is working through them.
        evm.mine(150)
        poisoned = evm.send(
            token.functions.transferFrom(evm.w3.to_checksum_address(LOOKALIKE), victim, 0), evm.accounts[3]
        )
        wait_until(lambda: rows("select block_number from chain_chaincursor")[0][0] > 10, timeout=60)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    head = evm.block_number
    second = worker()
    try:
        wait_until(lambda: rows("select block_number from chain_chaincursor")[0][0] >= head, timeout=180)
        wait_until(lambda: not rows("select 1 from chain_chainalert where delivered_at is null"), timeout=60)
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait(10)
    alerts = sorted(rows("select rule, tx_hash from chain_chainalert"))
    assert alerts == sorted(
        [("unlimited_approval", approve), ("large_outflow", drain), ("address_poisoning", poisoned)]
    )
    assert rows("select count(*) from tickets_ticket")[0][0] == 1
    events = rows("select tx_hash, log_index, part, count(*) from chain_chainevent group by 1, 2, 3")
    assert all(n == 1 for *_, n in events) and len(events) == 7
