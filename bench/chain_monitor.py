"""How fast the chain monitor follows a chain, and how long from a block to its alert.

    .venv/bin/python bench/chain_monitor.py                      # 300 blocks, 20 alerts
    .venv/bin/python bench/chain_monitor.py --blocks 600 --alerts 40 --poll 1

A throw-away SQLite database (WALLETDESK_DATA_DIR in a temporary folder, migrated from scratch)
and the test harness's real EVM behind its JSON-RPC HTTP server (tests/chain/evm.py), in this
process; the monitor talks to it over HTTP through the product's RPC client.

1. Throughput: --blocks blocks, each with token transfers touching 20 linked addresses (and
   some that touch none), are mined first; then `monitor.follow` catches up from the start.
   Blocks per second and logs per second of that catch-up.
2. Delay: a follower thread runs `monitor.follow` every --poll seconds (the task's
   CHAIN_POLL_SECONDS) while the main thread sends --alerts unlimited approvals, one per block;
   for each, the time from the node's answer to the send (the block is mined: automine) to the
   alert row's commit. The goal is under 5 s; the poll interval is most of it.

The catch-up figure is bounded by the test node: eth-tester answers eth_getLogs by walking its
blocks in Python (a cProfile of a 41-block run: 21 s of 25 s in eth-tester's get_logs, 4 s in
block fetches, 0.4 s in the monitor's own commits). A real node answers a 50-block logs query in
milliseconds.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=300)
    parser.add_argument("--alerts", type=int, default=20)
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-chain-")
    os.environ["WALLETDESK_DATA_DIR"] = tmp
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")
    os.environ.setdefault("LOG_LEVEL", "CRITICAL")
    import django

    django.setup()
    import logging

    logging.disable(logging.CRITICAL)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    # eth-tester answers eth_getLogs by scanning in Python: slower than a real node, not ours.
    settings.CHAIN_RPC_TIMEOUT = 120

    from django.test import override_settings

    from bench.machine import describe

    # Imported by name: the harness is chaincore's test code, not type-checked with bench.
    evm = importlib.import_module("tests.chain.evm")
    UNLIMITED, serve_evm = evm.UNLIMITED, evm.serve_evm
    from walletdesk.accounts.models import User
    from walletdesk.chain import monitor
    from walletdesk.chain.models import Chain, ChainAlert, ChainCursor, LinkChallenge, LinkedAddress

    print(describe())
    print(f"load average before: {os.getloadavg()}")
    with serve_evm(1337) as node:
        chain = Chain.objects.create(name="Bench EVM", chain_id=1337, rpc_urls=node.url, confirmations=3)
        user = User.objects.create_user(email="bench@example.com", password=None)
        watched = node.accounts[1:9]
        for n, address in enumerate(watched):
            challenge = LinkChallenge.objects.create(
                user=user,
                address=address.lower(),
                nonce=f"bench{n}",
                message="-",
                expires_at="2100-01-01T00:00Z",
            )
            LinkedAddress.objects.create(user=user, address=address.lower(), challenge=challenge)
        token = node.deploy("TestToken", "Bench", "BNC", 6, 10**15)
        for address in watched:
            node.send(token.functions.transfer(address, 10**12), node.accounts[0])
        ChainCursor.objects.create(chain=chain, block_number=-1)
        with override_settings(CHAIN_MONITOR_START_BACK=10**9):
            monitor.follow(chain, "bench")  # start at genesis, catch up the setup

        # 1. throughput
        stranger = node.accounts[9]
        node.automine(False)
        for b in range(args.blocks):
            for i in range(3):
                sender = watched[(b + i) % len(watched)]
                node.send(token.functions.transfer(watched[(b + i + 1) % len(watched)], 1000 + b), sender)
            node.send(token.functions.transfer(stranger, 1), node.accounts[0])  # touches nobody linked
            node.mine(1)
        node.automine(True)
        start_block = ChainCursor.objects.get(chain=chain).block_number
        t0 = time.perf_counter()
        steps = []
        while True:
            done = monitor.follow(chain, "bench", budget_steps=1000, max_blocks=50)
            steps += done
            if not done or done[-1].caught_up:
                break
        elapsed = time.perf_counter() - t0
        blocks = sum(s.blocks for s in steps)
        logs = sum(s.logs for s in steps)
        assert blocks >= args.blocks, (blocks, start_block)
        print(f"catch-up: {blocks} blocks, {logs} matching logs in {elapsed:.2f} s")
        print(f"  {blocks / elapsed:.1f} blocks/s, {logs / elapsed:.1f} logs/s")

        # 2. delay from block to alert
        stop = threading.Event()

        def follower() -> None:
            from django.db import connection

            while not stop.is_set():
                monitor.follow(chain, "bench-follower")
                stop.wait(args.poll)
            connection.close()

        thread = threading.Thread(target=follower, daemon=True)
        thread.start()
        delays = []
        for n in range(args.alerts):
            spender = "0x" + f"{n + 1:040x}"
            owner = watched[n % len(watched)]
            before = ChainAlert.objects.count()
            node.send(token.functions.approve(node.w3.to_checksum_address(spender), UNLIMITED), owner)
            mined = time.perf_counter()
            while ChainAlert.objects.count() == before:
                time.sleep(0.02)
            delays.append(time.perf_counter() - mined)
        stop.set()
        thread.join(10)
    delays.sort()
    p95 = delays[max(0, int(len(delays) * 0.95) - 1)]
    print(
        f"block -> alert (poll every {args.poll:g} s, {len(delays)} alerts): median {statistics.median(delays):.2f} s,"
        f" p95 {p95:.2f} s, max {delays[-1]:.2f} s; goal < 5 s: {'met' if delays[-1] < 5 else 'NOT met'}"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
