"""The embedded SQLite backend queues every writer on one kernel lock, autocommit writes too.

A write outside a transaction (the task worker's "task done" save) that skipped the queue would
hold SQLite's lock unseen, and the next queued writer would stall in SQLite's sleeping busy
handler. The proof is an ordering, not a timing: while another holder has the lock, an
autocommit write does not happen until that holder lets go; a read does not wait.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any

from django.db import connection

from walletdesk.core.sqlite.base import DatabaseWrapper


def _wrapper(path: Path) -> DatabaseWrapper:
    settings_dict: dict[str, Any] = dict(connection.settings_dict)
    settings_dict.update(ENGINE="walletdesk.core.sqlite", NAME=str(path), OPTIONS={"timeout": 20})
    return DatabaseWrapper(settings_dict, alias="writer_queue_test")


def test_an_autocommit_write_waits_for_the_writer_lock(db: None, tmp_path: Path) -> None:
    db = tmp_path / "queue.sqlite3"
    setup = _wrapper(db)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n integer)")
    setup.close()

    order: list[str] = []
    holder = os.open(str(db) + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process's writer, mid-transaction
    read_done = threading.Event()

    def write() -> None:
        w = _wrapper(db)
        try:
            with w.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM t")  # reads never queue
                read_done.set()
                cursor.execute("INSERT INTO t (n) VALUES (%s)", [1])
                order.append("written")
        finally:
            w.close()

    worker = threading.Thread(target=write)
    worker.start()
    assert read_done.wait(timeout=30)
    worker.join(timeout=0.5)  # give it every chance to write while the lock is held
    order.append("released")
    fcntl.flock(holder, fcntl.LOCK_UN)
    os.close(holder)
    worker.join(timeout=30)
    assert order == ["released", "written"]
