"""Real mail servers on loopback for tests: Debian's Dovecot (IMAP) and aiosmtpd (SMTP).

Pytest-independent context managers; any test (or benchmark) can use them:

    with dovecot_server(tmp_path) as imap:
        imap.append(raw_bytes)
        with imap.mailbox() as box: ...          # imap_tools, logged in

    with smtp_server() as smtp:
        smtplib.SMTP(smtp.host, smtp.port).sendmail(...)
        smtp.wait_for(1)

    with walletdesk_up(tmp_path, workers=2, env={"EMAIL_HOST": smtp.host}) as server:
        requests.get(f"{server.base_url}/new/")   # `walletdesk up`, ready (/readyz answered 200)
        server.manage("shell", "-c", "...")         # a command against the same data directory

Servers listen on 127.0.0.1 on a free port and are stopped (their whole process group) on exit.
A missing Dovecot binary skips the test locally (``unittest.SkipTest``, which pytest honours) and
fails loudly when ``CI=true``: CI must install ``dovecot-imapd``.

Dovecot gotchas handled here (see ``_dovecot_config``):
- run as root (CI), login processes refuse root ("This process must not be run as root"), so
  they run as ``dovenull``; mail processes refuse uid 0 ("userdb returned 0 as uid"), so mail is
  owned by ``dovenull`` too, and is *chrooted* into the mail directory, because pytest's
  ``tmp_path`` lives under a 0700 root-owned directory that ``dovenull`` cannot traverse;
- uid, gid and home come from the passwd-file itself, which reads the same in 2.3 and 2.4;
- 2.4 renamed settings (``auth_allow_cleartext``, ``mail_driver``/``mail_path``, named
  ``passdb``/``userdb`` blocks with ``passwd_file_path``) and wants ``dovecot_config_version``.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import imaplib
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DOVECOT = "/usr/sbin/dovecot"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_binary(path: str) -> str:
    """Return ``path`` if it is an executable; otherwise fail in CI, skip elsewhere."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    message = f"{path} is not installed"
    if IN_CI:
        raise RuntimeError(f"{message}, and CI=true: CI must install it (apt-get install dovecot-imapd)")
    raise unittest.SkipTest(message)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the caller should retry if it loses the race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _wait_for_greeting(
    host: str, port: int, prefix: bytes, deadline: float, proc: subprocess.Popen[bytes]
) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=1) as sock:
                sock.settimeout(2)
                if sock.recv(256).startswith(prefix):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def _stop_group(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Stop a child we started in its own session, and everything it forked."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    else:
        # The master is gone; make sure no orphaned child of its group lingers.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# Dovecot


@dataclass
class DovecotServer:
    host: str
    port: int
    users: dict[str, str]
    root: Path
    log_path: Path

    @property
    def default_user(self) -> str:
        return next(iter(self.users))

    def imap(self, user: str | None = None) -> imaplib.IMAP4:
        """A logged-in stdlib IMAP client (caller logs out)."""
        user = user or self.default_user
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(user, self.users[user])
        return client

    def mailbox(self, user: str | None = None, folder: str = "INBOX") -> Any:
        """A logged-in ``imap_tools.MailBoxUnencrypted`` (use it as a context manager)."""
        from imap_tools import MailBoxUnencrypted

        user = user or self.default_user
        return MailBoxUnencrypted(self.host, self.port, timeout=10).login(user, self.users[user], folder)

    def append(
        self, raw: bytes, *, user: str | None = None, folder: str = "INBOX", flags: str | None = None
    ) -> str | None:
        """APPEND ``raw`` into ``folder``; returns the new message's UID when the server says it."""
        client = self.imap(user)
        try:
            if folder.upper() != "INBOX":
                client.create(folder)
            status, data = client.append(folder, flags, None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] if data and data[0] else b"")
            return match.group(1).decode() if match else None
        finally:
            client.logout()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _dovecot_version(binary: str) -> tuple[int, int]:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    match = re.match(r"(\d+)\.(\d+)", out.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (2, 3)


@dataclass
class _Identity:
    """Who Dovecot's processes run as, and whether mail processes are chrooted."""

    internal_user: str
    internal_group: str
    login_user: str
    mail_uid: int
    mail_gid: int
    chroot: bool = field(default=False)


def _identity() -> _Identity:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return _Identity(me.pw_name, _group_name(me.pw_gid), me.pw_name, me.pw_uid, me.pw_gid)
    for name in ("dovenull", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return _Identity("root", _group_name(0), name, entry.pw_uid, entry.pw_gid, chroot=True)
    raise RuntimeError("running as root but neither 'dovenull' nor 'nobody' exists for Dovecot's processes")


def _dovecot_config(
    root: Path, port: int, passwd: Path, mail: Path, identity: _Identity, version: tuple[int, int]
) -> str:
    common = f"""
base_dir = {root / "run"}
state_dir = {root / "state"}
log_path = {root / "dovecot.log"}
info_log_path = {root / "dovecot.log"}
protocols = imap
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
default_internal_user = {identity.internal_user}
default_internal_group = {identity.internal_group}
default_login_user = {identity.login_user}
first_valid_uid = 1
{f"valid_chroot_dirs = {mail}" if identity.chroot else ""}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    if version >= (2, 4):
        return f"""dovecot_config_version = {version[0]}.{version[1]}.0
dovecot_storage_version = {version[0]}.{version[1]}.0
{common}
auth_allow_cleartext = yes
mail_driver = maildir
mail_path = ~/Maildir
passdb passwd-file {{
  passwd_file_path = {passwd}
}}
userdb passwd-file {{
  passwd_file_path = {passwd}
}}
"""
    return f"""{common}
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
"""


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@contextlib.contextmanager
def dovecot_server(
    tmp_path: Path | str,
    users: Mapping[str, str] | None = None,
    *,
    binary: str = DOVECOT,
    start_timeout: float = 20,
) -> Iterator[DovecotServer]:
    """Start a throw-away Dovecot IMAP server on 127.0.0.1; stop it and its children on exit."""
    binary = require_binary(binary)
    # The default password is long on purpose: tests check it never appears in a
    # stored (base64) ciphertext, and a two-letter one does so by chance ~2% of runs.
    users = dict(users or {"support@example.test": "imap-round-trip-password"})
    for user, password in users.items():
        if any(ch in user + password for ch in ":\n\r"):
            raise ValueError("users and passwords may not contain ':' or newlines (passwd-file format)")
    root = Path(tmp_path) / "dovecot"
    mail = root / "mail"
    for folder in (root / "run", root / "state", mail):
        folder.mkdir(parents=True, exist_ok=True)
    identity = _identity()
    lines = []
    for user, password in users.items():
        home = mail / user
        home.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(home, identity.mail_uid, identity.mail_gid)
        # "/./" marks the chroot boundary: mail processes chroot to ``mail`` and see ``/<user>``.
        home_field = f"{mail}/./{user}" if identity.chroot else str(home)
        lines.append(f"{user}:{{PLAIN}}{password}:{identity.mail_uid}:{identity.mail_gid}::{home_field}::")
    passwd = root / "passwd"
    passwd.write_text("\n".join(lines) + "\n")
    version = _dovecot_version(binary)
    conf = root / "dovecot.conf"
    log_path = root / "dovecot.log"

    last_error = ""
    for _attempt in range(3):  # another process may grab the free port before Dovecot binds it
        port = free_port()
        conf.write_text(_dovecot_config(root, port, passwd, mail, identity, version))
        proc = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup reaches every child
        )
        try:
            if _wait_for_greeting("127.0.0.1", port, b"* OK", time.monotonic() + start_timeout, proc):
                yield DovecotServer("127.0.0.1", port, users, root, log_path)
                return
            output = b""
            if proc.poll() is not None and proc.stdout is not None:
                output = proc.stdout.read()
            log = log_path.read_text(errors="replace") if log_path.exists() else ""
            last_error = (
                f"dovecot {version} did not start on port {port}:\n{output.decode(errors='replace')}\n{log}"
            )
            if "in use" not in last_error:
                break
        finally:
            _stop_group(proc)
            if proc.stdout is not None:
                proc.stdout.close()
    raise RuntimeError(last_error[-4000:])


# --------------------------------------------------------------------------------------------
# SMTP (aiosmtpd)


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # the DATA bytes as received (CRLF line endings)


class _RecordingHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.messages: list[ReceivedMail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        mail = ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(data))
        with self.arrived:
            self.messages.append(mail)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    _handler: _RecordingHandler

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot of what arrived so far (thread-safe)."""
        with self._handler.lock:
            return list(self._handler.messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMail]:
        """Block until ``count`` messages arrived; raise ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._handler.arrived:
            while len(self._handler.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} mails, got {len(self._handler.messages)}")
                self._handler.arrived.wait(remaining)
            return list(self._handler.messages)

    def clear(self) -> None:
        with self._handler.lock:
            self._handler.messages.clear()


@contextlib.contextmanager
def smtp_server(handler: _RecordingHandler | None = None) -> Iterator[SmtpServer]:
    """Start an aiosmtpd server on 127.0.0.1 recording every envelope; stop it on exit.

    ``handler`` may be a subclass that delays or blocks (tests/core/test_worker_crash.py)."""
    from aiosmtpd.controller import Controller

    handler = handler or _RecordingHandler()
    last_error: Exception | None = None
    for _attempt in range(3):
        port = free_port()
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            ready_timeout=10,
            enable_SMTPUTF8=True,  # Chinese addresses and raw UTF-8 headers must get through
            loop=asyncio.new_event_loop(),
        )
        try:
            controller.start()
        except Exception as exc:  # port lost to a race: try another
            last_error = exc
            continue
        try:
            yield SmtpServer("127.0.0.1", port, handler)
        finally:
            controller.stop()
            controller.loop.close()
        return
    raise RuntimeError(f"aiosmtpd did not start: {last_error!r}")


# --------------------------------------------------------------------------------------------
# walletdesk itself: `walletdesk up` (web processes and task worker) on its own data directory

ROOT = Path(__file__).resolve().parent.parent
# Left out of the server's environment: the tests' own database, cache and site address.
_NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "SITE_URL")


class Walletdesk:
    """One real walletdesk on loopback: its own SQLite file and media under ``data_dir``.

    By default ``python -m walletdesk.cli up`` (migrations, web processes, task worker); with
    ``task_worker=False`` the web processes alone (``walletdesk.core.serve``, as `up` runs
    them) after a migrate. Everything it prints goes to ``log_path``. Usable as a context
    manager (see ``walletdesk_up``) or with ``start()``/``stop()`` for a test that stops it
    halfway. ``stop()`` sends Ctrl-C to `up`, as a person would, then reaps its whole process
    group, so nothing it started outlives the test.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
        task_worker: bool = True,
        log_name: str = "server.log",
        up_args: tuple[str, ...] = (),
        migrate: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.up_args = up_args  # more flags for `walletdesk up`, e.g. ("--demo",)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.task_worker = task_worker
        # False: the database is shared with a server that migrated it (the production layout)
        self.migrate_first = migrate
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        self.env.update(
            WALLETDESK_DATA_DIR=str(self.data_dir),
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="walletdesk.settings",
            # No mail leaves the machine unless the test says where (EMAIL_HOST wins over this).
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        )
        self.env.update(env or {})
        self.log_path = self.data_dir / log_name
        self.proc: subprocess.Popen[bytes] | None = None
        self.leftovers: list[int] = []  # processes of its group still alive after it stopped

    @property
    def db(self) -> Path:
        return self.data_dir / "walletdesk.sqlite3"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def run(self, argv: list[str], *, stdin: bytes = b"", timeout: float = 300) -> str:
        """Run a command in the server's environment and data directory; its output, or fail."""
        done = subprocess.run(
            argv,
            env=self.env,
            cwd=self.data_dir,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
        assert done.returncode == 0, f"{argv[:4]} exited with {done.returncode}:\n{output[-4000:]}"
        return output

    def manage(self, *args: str, stdin: bytes = b"", timeout: float = 300) -> str:
        """``walletdesk manage ...`` (Django's manage.py) against this server's data."""
        return self.run(
            [sys.executable, "-m", "walletdesk.cli", "manage", *args], stdin=stdin, timeout=timeout
        )

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")

    def shell(self, code: str, timeout: float = 300) -> str:
        """Run Python code in a Django shell against this server's data; what it printed."""
        return self.manage("shell", "-c", code, timeout=timeout)

    def spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a process of this server (its environment, data directory and log), in a process
        group of its own, so that it and all it starts can be stopped or killed together."""
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self, timeout: float = 180) -> None:
        if self.task_worker:
            argv = [sys.executable, "-m", "walletdesk.cli", "up", "--port", str(self.port), *self.up_args]
        else:
            if self.migrate_first:
                self.migrate()
            # `up` points links where it serves unless SITE_URL says otherwise; so do we.
            self.env.setdefault("SITE_URL", self.base_url)
            argv = [sys.executable, "-m", "walletdesk.core.serve", "--port", str(self.port)]
        # Its own process group: stop() reaches every child.
        self.proc = self.spawn([*argv, "--workers", str(self.workers)])
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"walletdesk exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"walletdesk was not ready after {timeout:.0f} s:\n{self.log()[-4000:]}")
            time.sleep(0.3)

    def ready(self) -> bool:
        """/readyz answers 200: migrated, the database takes a write, the queue is not stuck."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=5) as response:
                return bool(response.status == 200)
        except OSError:  # refused, reset, or 503 (HTTPError is an OSError)
            return False

    def stop(self, timeout: float = 60) -> int | None:
        """Ctrl-C, as a person stops `up`; then SIGKILL for the group if it lingers. Idempotent."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            _wait_or_kill_group(proc, timeout)
        # Whatever it started and left behind (a web process of a killed server, say): noted
        # for the test to see, then killed.
        self.leftovers = _group_members(proc.pid)
        if self.leftovers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        return proc.returncode

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc is not None else None

    def __enter__(self) -> Walletdesk:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until(what: str, check: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """Poll `check` until it returns something true (returned); fail naming `what` after
    `timeout` s. For real processes on a busy machine: a bound on a wait, never a speed check."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


@contextlib.contextmanager
def scratch_postgres(suffix: str) -> Iterator[str]:
    """A fresh database on DATABASE_URL's server, named after it plus `suffix`, dropped after;
    its URL. Skipped (failed in CI) without a PostgreSQL DATABASE_URL."""
    from tests.conftest import need

    url = os.environ.get("DATABASE_URL", "")
    need(url.startswith("postgres"), "PostgreSQL (set DATABASE_URL=postgres://…)")
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + suffix
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def smtp_env(smtp: SmtpServer) -> dict[str, str]:
    """The environment that sends a walletdesk process's mail to `smtp`."""
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
    }


def start_worker(
    env: Mapping[str, str], data_dir: Path, *args: str, log_name: str = "worker.log"
) -> subprocess.Popen[bytes]:
    """A real task worker (`db_worker` on every queue, as `walletdesk up` runs it; `args` add
    to its flags) in `data_dir`, printing to data_dir/`log_name`, in a process group of its own
    (`stop_workers`, or a test's SIGKILL of the group)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / log_name).open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "django", "db_worker", "--queue-name", "*", *args],
            env={
                **env,
                "WALLETDESK_DATA_DIR": str(data_dir),
                "DJANGO_SETTINGS_MODULE": "walletdesk.settings",
            },
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_workers(workers: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """SIGTERM to each live worker's group (a worker finishes its task first), SIGKILL if it
    lingers past `timeout`."""
    running = [proc for proc in workers if proc.poll() is None]
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in running:
        _wait_or_kill_group(proc, timeout)


def _wait_or_kill_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for a process asked to stop; past `timeout`, SIGKILL its whole group."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is ``pgid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def walletdesk_up(
    data_dir: Path | str,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    task_worker: bool = True,
    log_name: str = "server.log",
    before_start: Callable[[Walletdesk], object] | None = None,
) -> Iterator[Walletdesk]:
    """Start walletdesk on a free port with ``data_dir`` as its data directory; wait until
    /readyz answers 200; stop it and everything it started on exit. ``before_start`` runs
    first, with the (not yet started) server, e.g. to migrate and create accounts."""
    server = Walletdesk(data_dir, workers=workers, env=env, task_worker=task_worker, log_name=log_name)
    try:
        if before_start is not None:
            before_start(server)
        server.start()
        yield server
    finally:
        server.stop()


__all__ = [
    "DovecotServer",
    "ReceivedMail",
    "RecordingHandler",
    "SmtpServer",
    "Walletdesk",
    "dovecot_server",
    "free_port",
    "require_binary",
    "scratch_postgres",
    "smtp_env",
    "smtp_server",
    "start_worker",
    "stop_workers",
    "wait_until",
    "walletdesk_up",
]

RecordingHandler = _RecordingHandler
