"""The sent journal: each batch mail the SMTP server accepted, recorded the moment it answered.

A batch is marked sent in the database one chunk per UPDATE (`EMAIL_SEND_CHUNK`): one UPDATE per
mail cost a commit and ~1 ms of worker CPU per acknowledgement. Between a mail's 250 and its
chunk's UPDATE the database does not know the mail went. If the worker dies there (`kill -9`,
the OOM killer) or the database goes away (the UPDATE fails), the chunk stays "sending" and,
after its lease, the stalled-mail sweep would send every mail of it again.

So each process appends one line per accepted mail to a file of its own under
`DATA_DIR/mail-journal/` ("<row id> <Message-ID> <unix time>"), with one `write()` on an
O_APPEND descriptor right after the server's reply. The line is in the kernel's page cache when
`write()` returns, so it outlives the process whatever kills it; with `EMAIL_JOURNAL_FSYNC`
(default on) it is also `fdatasync`'d, so it outlives a kernel crash or a power cut. The
sweep (`outbound.recover_stalled`) reads the journals before it sends a stalled mail again: a
mail found there was accepted and is marked sent instead. What is left to send twice is the mail
whose reply never reached us (the server stored it, we died before reading "250"): at most one
per death, and no SMTP client can know about that one.

A writer holds an exclusive `flock` on its file for its whole life; the kernel drops it when the
process dies, however it dies. A file whose lock can be taken is a dead writer's: its mails are
marked sent at once and the file is removed. A live writer empties its own file whenever every
line in it is recorded in the database, so the journals stay a few lines long.

The journal is as local as the data directory: workers that share it (`walletdesk up`, one
host) read one another's. A worker whose data directory is never seen again (its disk gone, a
container recreated rather than restarted) leaves its chunk to the lease alone, the bound
before the journal: at most `EMAIL_SEND_CHUNK` duplicates for that death.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

SUFFIX = ".log"


def directory() -> Path:
    return Path(settings.DATA_DIR) / "mail-journal"


@dataclass
class Accepted:
    """What the journals say the server accepted: Message-ID -> (row id, unix time)."""

    live: dict[str, tuple[int, float]] = field(default_factory=dict)  # writers still running
    dead: dict[str, tuple[int, float]] = field(default_factory=dict)  # writers gone
    dead_files: list[tuple[Path, int]] = field(default_factory=list)  # (file, its locked fd)

    def release(self, remove: bool) -> None:
        """Close the dead writers' files; `remove` them once their mails are recorded."""
        for path, fd in self.dead_files:
            if remove:
                with contextlib.suppress(OSError):
                    path.unlink()
            os.close(fd)
        self.dead_files = []


class Writer:
    """This process's journal file, opened on the first mail and locked while the process lives."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self._pid = 0
        self._path: Path | None = None
        self._unsettled: set[int] = set()
        self._broken = False

    @property
    def path(self) -> Path | None:
        return self._path if self._pid == os.getpid() else None

    def _open(self) -> int:
        if self._fd is not None and self._pid == os.getpid():
            return self._fd
        # A forked child shares its parent's descriptor and lock: it starts a file of its own.
        where = directory()
        where.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        temporary = where / f"{name}.new"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        # Locked before it gets the name readers look for: a reader must never take a new
        # file for a dead writer's and remove it under us.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path = where / f"{name}{SUFFIX}"
        os.rename(temporary, path)
        self._fd, self._pid, self._path, self._unsettled = fd, os.getpid(), path, set()
        return fd

    def accepted(self, pk: int, message_id: str) -> None:
        """The server accepted mail `pk`: one line, before anything else happens."""
        if self._broken:
            return
        try:
            fd = self._open()
            os.write(fd, f"{pk} {message_id} {time.time():.3f}\n".encode())
            if settings.EMAIL_JOURNAL_FSYNC:
                os.fdatasync(fd)
        except OSError:
            # A full or read-only disk must not stop the mail: without the journal a crash
            # resends the chunk on the wire (the lease's bound), as before it existed.
            logger.warning("the sent journal cannot be written; mail goes on without it", exc_info=True)
            self._broken = True
            return
        self._unsettled.add(pk)

    def unsettled(self) -> list[int]:
        """Mails journaled by this process whose "sent" is not known to be in the database."""
        return sorted(self._unsettled) if self._pid == os.getpid() else []

    def settled(self, pks: Iterable[int]) -> None:
        """These mails are recorded sent in the database (committed): once every line is, the
        file is emptied, so it never holds more than the chunk not yet recorded."""
        self._unsettled.difference_update(pks)
        if self._unsettled or self._fd is None or self._pid != os.getpid():
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            logger.warning("the sent journal cannot be emptied", exc_info=True)

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the parent's file. The child's copy of the descriptor
        would keep the parent's lock alive after the parent died, and its file would then look
        like a live writer's (read, but never removed) for as long as the child runs."""
        if self._fd is not None and self._pid != os.getpid():
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd, self._path, self._unsettled = None, None, set()


writer = Writer()
os.register_at_fork(after_in_child=lambda: writer.forget_after_fork())


def read() -> Accepted:
    """Every journal in the data directory; the dead writers' files stay locked (by us) until
    `Accepted.release`, so two sweepers do not both remove one while the other still reads."""
    found = Accepted()
    where = directory()
    try:
        names = os.listdir(where)
    except FileNotFoundError:
        return found
    except OSError:
        # Unreadable: the stalled mails still go out (the lease's bound), never wait on it.
        logger.warning("the sent journals in %s cannot be read", where, exc_info=True)
        return found
    own = writer.path
    for name in names:
        path = where / name
        if not name.endswith(SUFFIX) or path == own:
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # removed meanwhile by another sweeper
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            dead = True
        except OSError:
            dead = False
        try:
            text = _read_all(fd)
        except OSError:
            os.close(fd)
            continue
        lines = _parse(text)
        if dead:
            found.dead.update(lines)
            found.dead_files.append((path, fd))
        else:
            found.live.update(lines)
            os.close(fd)
    if own is not None:
        with contextlib.suppress(OSError):
            found.live.update(_parse(own.read_text(errors="replace")))
    return found


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _parse(text: str) -> dict[str, tuple[int, float]]:
    lines: dict[str, tuple[int, float]] = {}
    for line in text.split("\n")[:-1]:  # a last line without its newline is not whole yet
        parts = line.split()
        # A line cut short (the writer died inside write(), or emptied its file as we read)
        # is skipped: that mail counts as not known to be accepted.
        if len(parts) == 3 and parts[0].isdigit():
            try:
                lines[parts[1]] = (int(parts[0]), float(parts[2]))
            except ValueError:
                continue
    return lines
