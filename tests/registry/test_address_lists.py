"""`walletdesk manage import_address_list FILE --source NAME` (#21): what real list files hold is
read (CSV or one per line, BOM, CRLF, quotes, header, comments, blank lines, other columns);
malformed lines are counted and named, not fatal unless nothing is valid; importing a source
again replaces its list whole, and a real import killed halfway leaves the old list intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.servers import Walletdesk
from walletdesk.core.errors import Refused
from walletdesk.core.models import AuditEntry
from walletdesk.registry import actions
from walletdesk.registry.models import AddressList, ListedAddress

A = "0x52908400098527886E0F7030069857D2E4169EE7"
B = "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"
C = "0x000000000000000000000000000000000000dEaD"
pytestmark = pytest.mark.django_db


def run(path: Path | str, source: str, *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_address_list", str(path), "--source", source, *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def listed(source: str) -> set[str]:
    return set(ListedAddress.objects.filter(address_list__source=source).values_list("address", flat=True))


def test_a_real_world_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(
        (
            "\ufeffaddress,label,first_seen\r\n"
            f'"{A}","Inferno Drainer",2025-03-01\r\n'
            "\r\n"
            "# exported 2026-12-01\r\n"
            f"{B};x\r\n"
            f"  '{C}'\t,ignored\r\n"
            f"{A.lower()}\r\n"  # the same address in another case: one row
            "0x1234,short\r\n"
            "not-an-address\r\n"
        ).encode()
    )
    out, err = run(path, "scamsniffer")
    assert listed("scamsniffer") == {A.lower(), B, C.lower()}
    assert "Imported scamsniffer: 3 addresses (1 duplicates), 2 malformed lines" in out
    assert "Malformed lines (skipped): 8, 9" in err
    row = AddressList.objects.get(source="scamsniffer")
    assert row.count == 3 and row.imported_at is not None
    entry = AuditEntry.objects.get(action="address_list.imported")
    assert entry.data == {"count": 3, "malformed": 2}


def test_one_address_per_line_from_standard_input(monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", StringIO(f"{A}\n{B}\n\n"))
    out, _err = run("-", "team")
    assert listed("team") == {A.lower(), B} and "0 malformed" in out


def test_only_the_first_few_malformed_line_numbers_are_named(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("\n".join([A, *["junk"] * 20, B]) + "\n")
    out, err = run(path, "noisy")
    assert "20 malformed lines" in out and "Malformed lines (skipped): 2, 3, 4, 5, 6 …" in err
    assert listed("noisy") == {A.lower(), B}


def test_undecodable_bytes_are_a_malformed_line_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(A.encode() + b"\n\xff\xfe\x00garbage\n" + B.encode() + b"\n")
    out, _err = run(path, "bytes")
    assert "1 malformed" in out and listed("bytes") == {A.lower(), B}


def test_a_file_with_no_address_is_refused_and_the_old_list_stays(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(f"{A}\n{B}\n")
    bad.write_text("address\nhello\n0xnothex\n")
    run(good, "feed")
    with pytest.raises(CommandError, match="No line of the file holds an address"):
        run(bad, "feed")
    assert listed("feed") == {A.lower(), B} and AddressList.objects.get(source="feed").count == 2
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.txt", "feed")
    assert listed("feed") == {A.lower(), B}


def test_importing_a_source_again_replaces_only_that_list(tmp_path: Path) -> None:
    first, second, other = tmp_path / "1.txt", tmp_path / "2.txt", tmp_path / "3.txt"
    first.write_text(f"{A}\n{B}\n")
    second.write_text(f"{C}\n{B}\n")
    other.write_text(f"{A}\n")
    run(first, "feed")
    run(other, "other")
    run(second, "feed")
    assert listed("feed") == {C.lower(), B} and listed("other") == {A.lower()}
    assert AddressList.objects.get(source="feed").count == 2
    assert AddressList.objects.count() == 2


def test_duplicates_across_chunks_are_stored_once() -> None:
    lines = [f"{A}\n", f"{B}\n", f"{C}\n", f"{A.lower()}\n", f"{B.upper().replace('0X', '0x')}\n", f"{C}\n"]
    result = actions.import_address_list("chunky", lines, chunk=2)
    assert (result.count, result.valid, result.duplicates) == (3, 6, 3)
    assert listed("chunky") == {A.lower(), B, C.lower()}


@pytest.mark.parametrize("source", ["", "   ", "a,b", "<script>", "x" * 81])
def test_a_list_name_that_verdicts_could_not_show_is_refused(source: str) -> None:
    with pytest.raises(Refused) as refused:
        actions.import_address_list(source, [f"{A}\n"])
    assert refused.value.field == "source"
    assert not AddressList.objects.exists()


# --- killed halfway, through the real command --------------------------------------------------

SHOW = """
import json
from walletdesk.registry.models import AddressList, ListedAddress
row = AddressList.objects.get(source="feed")
print(json.dumps([row.count, ListedAddress.objects.filter(address_list=row).count(),
                  sorted(ListedAddress.objects.filter(address_list=row).values_list("address", flat=True))[:3]]))
"""


def _state(up: Walletdesk) -> list[Any]:
    return list(json.loads(up.manage("shell", "-c", SHOW).strip().splitlines()[-1]))


@pytest.mark.django_db(transaction=False)
def test_an_import_killed_halfway_leaves_the_old_list_whole(tmp_path: Path) -> None:
    up = Walletdesk(tmp_path / "site")  # its own SQLite file; never started, only `manage`
    up.manage("migrate", "--noinput", "-v", "0")
    old = tmp_path / "old.txt"
    old.write_text("".join(f"0x{i:040x}\n" for i in range(1, 1001)))
    up.manage("import_address_list", str(old), "--source", "feed")
    assert _state(up) == [1000, 1000, [f"0x{i:040x}" for i in (1, 2, 3)]]

    big = tmp_path / "big.csv"
    with big.open("w") as handle:
        handle.write("address,label\n")
        for i in range(400_000):
            handle.write(f"0x{(i + 10**9):040x},drainer\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "walletdesk.cli",
            "manage",
            "import_address_list",
            str(big),
            "--source",
            "feed",
            "-v",
            "2",
        ],
        env=up.env,
        cwd=up.data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        seen = []
        for raw in proc.stdout:
            seen.append(raw.decode())
            if sum("addresses read" in line for line in seen) >= 3:  # 15,000 rows already inserted
                break
        assert any("addresses read" in line for line in seen), "".join(seen)
        os.kill(proc.pid, signal.SIGKILL)  # no cleanup of any kind: as a power cut or the OOM killer
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert _state(up) == [1000, 1000, [f"0x{i:040x}" for i in (1, 2, 3)]]  # the old list, whole

    # Run to the end, it replaces the list.
    small = tmp_path / "small.txt"
    small.write_text("".join(f"0x{i:040x}\n" for i in range(5000, 5100)))
    up.manage("import_address_list", str(small), "--source", "feed")
    assert _state(up)[:2] == [100, 100]
