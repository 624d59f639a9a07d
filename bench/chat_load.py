#!/usr/bin/env python
"""Live chat under load: N customer sockets over Redis, 2 web processes, latency and exactly-once.

    .venv/bin/python bench/chat_load.py                    # 1,000 sockets, 1 message / 10 s each, 60 s
    .venv/bin/python bench/chat_load.py --rounds 3         # three fresh runs, medians
    .venv/bin/python bench/chat_load.py --quick            # 50 sockets, 10 s: the smoke test's run
    .venv/bin/python bench/chat_load.py --sockets 2000 --interval 5 --duration 120

What runs, each on its own (docs/chat-protocol.md is the contract it speaks):
- PostgreSQL: a fresh database (`--db-name`, dropped and created on DATABASE_URL's server or the
  local one); Redis: db 9 of the local server (`--redis-url`), flushed first. With REDIS_URL set
  the settings switch the cache and the channel layer to channels-redis.
- The server: `python -m walletdesk.core.serve --workers 2` (uvicorn, one SO_REUSEPORT socket per
  process), after a migrate and the creation of `--agents` signed-in agents of the General team.
- This process: one asyncio loop holding every socket. The agents open /ws/chat/agent/ with their
  session cookie and the site's Origin and go online; they `join` each chat announced to them
  (a `chat` frame), and the run makes one of them join any conversation nobody was given.
  Then each customer POSTs /api/v1/chat/conversations as a guest (from its own address, through
  TRUSTED_PROXIES, so the per-address limits stay at their defaults), opens its `ws_url` and,
  once every socket is open, sends one message every `--interval` seconds for `--duration`
  seconds at its own random phase, each with a unique client_id.
- Both sides behave as the protocol's clients: a dropped socket reconnects (0.5 s, 1 s, 2 s …)
  with `after=<highest seq>` and sends again what is still unacknowledged, same client_id; an
  agent re-joins each chat after the last seq it has. `--kill-web-at S` kills one web process
  S seconds into the sending (core.serve starts another) to measure exactly that.
- `--probe DIR` loads bench/chat_probe/sitecustomize.py into the web processes: per function
  run on the sync thread, its queue wait and run time (and with `--profile`, cProfile).

Measured:
- customer->agent latency: from the send to the first agent socket receiving the frame that
  carries its client_id (p50, p99); the sender's acknowledgement (its own copy) likewise;
- agent->customer: `--agent-samples` replies sent through the agent socket, until the
  customer's socket has them;
- lost: a message never acknowledged to its sender, or acknowledged but never seen by an agent
  (within `--grace` seconds after the last send); duplicated: any socket receiving a seq (or a
  client_id) of a conversation twice, or the database holding a message twice;
- the database afterwards: the stored customer messages of this run equal the messages sent;
- each web process's CPU over the sending phase and its RSS (now and peak), Redis's and
  PostgreSQL's CPU, and this load generator's own CPU (it shares the machine's cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_DB = "walletdesk_chatbench"
REDIS_DEFAULT = "redis://127.0.0.1:6379/9"
TEAM = "general"
GOAL_P99_MS = 150.0
BODY_PREFIX = "chatbench"  # every body this run sends starts with it: the database check counts them


# --------------------------------------------------------------------------------------------
# Children run with the server's environment (its database, cache and secret key).


def child_setup(agents: int, capacity: int) -> None:
    """Migrate; create `agents` staff users in the General team, each able to hold `capacity`
    chats; sign each in (a session, as the login view would leave it). Prints SETUP {json}."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from importlib import import_module

    from allauth.account.models import EmailAddress

    from walletdesk.accounts.models import User
    from walletdesk.tickets.models import Team

    team = Team.objects.get(slug=TEAM)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    for i in range(agents):
        email = f"agent{i}@chatbench.test"
        user = User.objects.create_user(email=email, password=secrets.token_urlsafe(18))
        user.is_staff = True
        user.display_name = f"Agent {i}"
        user.language = "en"
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        team.members.add(user)
        _set_chat_capacity(user, capacity)
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    print("SETUP " + json.dumps({"cookie": settings.SESSION_COOKIE_NAME, "sessions": sessions}))


def _set_chat_capacity(user: Any, capacity: int) -> None:
    """The agent's chat concurrency limit, wherever the chat app keeps it."""
    from django.apps import apps

    for model in apps.get_app_config("chat").get_models() if apps.is_installed("walletdesk.chat") else []:
        names = {f.name for f in model._meta.get_fields()}
        if "capacity" in names and "user" in names:
            model._default_manager.update_or_create(user=user, defaults={"capacity": capacity})
            return
        if "capacity" in names and "agent" in names:
            model._default_manager.update_or_create(agent=user, defaults={"capacity": capacity})
            return
    for name in ("chat_capacity", "max_chats"):
        if hasattr(user, name):
            setattr(user, name, capacity)
            user.save(update_fields=[name])
            return


def child_count(prefix: str) -> None:
    """What the database holds of this run: messages whose body starts with `prefix`, by author."""
    import django

    django.setup()
    from django.db.models import Count

    from walletdesk.tickets.models import Message

    rows = Message.objects.filter(body__startswith=prefix)
    by_role = dict(rows.values_list("author_role").annotate(n=Count("id")).values_list("author_role", "n"))
    twice = rows.values("body").annotate(n=Count("id")).filter(n__gt=1).count()
    chat_tickets = rows.values("ticket_id").distinct().count()
    print(
        "COUNT "
        + json.dumps(
            {
                "customer": by_role.get("customer", 0),
                "agent": by_role.get("agent", 0),
                "bodies_twice": twice,
                "tickets": chat_tickets,
            }
        )
    )


# --------------------------------------------------------------------------------------------
# The server and what it costs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    found = {"VmRSS": 0, "VmHWM": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in found:
                found[key] = int(line.split()[1])
    except OSError:
        pass
    return found["VmRSS"], found["VmHWM"]


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every core since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def children_of(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return sorted(found)


def processes_named(prefix: str, contains: str = "") -> list[int]:
    found = []
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmd.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if line.startswith(prefix) and contains in line:
            found.append(int(cmd.parent.name))
    return found


class Server:
    """`python -m walletdesk.core.serve --workers N` on its own process group and log file."""

    def __init__(self, env: dict[str, str], port: int, workers: int, data_dir: Path) -> None:
        self.env, self.port, self.workers, self.data_dir = env, port, workers, data_dir
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = data_dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "walletdesk.core.serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=self.env,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=5) as r:
                    if r.status == 200 and len(self.web_pids()) >= self.workers:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"the server did not start:\n{self.log()[-3000:]}")
            time.sleep(0.3)

    def web_pids(self) -> list[int]:
        return children_of(self.proc.pid) if self.proc else []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything of its group left behind


# --------------------------------------------------------------------------------------------
# The load


@dataclass
class Tally:
    sent: dict[str, float] = field(default_factory=dict)  # client_id -> send time (customer)
    acked: dict[str, float] = field(default_factory=dict)  # client_id -> ack time at its sender
    at_agent: dict[str, float] = field(default_factory=dict)  # client_id -> first agent receipt
    agent_sent: dict[str, float] = field(default_factory=dict)  # agent reply client_id -> send time
    agent_acked: dict[str, float] = field(default_factory=dict)
    at_customer: dict[str, float] = field(default_factory=dict)  # agent reply -> customer receipt
    duplicated: int = 0
    duplicate_examples: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)  # unexpected closes, by side and code
    connect_failed: Counter[str] = field(default_factory=Counter)
    watchers: dict[str, int] = field(default_factory=dict)  # reference -> agent index watching it
    announced: int = 0  # conversations the server announced to an agent (`chat`)
    reconnects: Counter[str] = field(default_factory=Counter)
    resent: int = 0
    lag: list[float] = field(default_factory=list)  # this loop's lateness, sampled every 100 ms

    def duplicate(self, what: str) -> None:
        self.duplicated += 1
        if len(self.duplicate_examples) < 5:
            self.duplicate_examples.append(what)


RECONNECT_DELAYS = (0.5, 1, 2, 4, 8, 15)  # docs/chat-protocol.md, "Reconnecting"
FINAL_CLOSES = (4401, 4403, 4404)


def close_code(exc: BaseException) -> Any:
    rcvd = getattr(exc, "rcvd", None)
    return getattr(rcvd, "code", None) or getattr(exc, "code", None) or getattr(exc, "status_code", "")


class Agent:
    """An agent's panel: online, watching its chats, reconnecting (and re-joining each chat
    after the last seq it has) when the socket drops."""

    def __init__(self, index: int, url: str, headers: dict[str, str], opts: dict[str, Any], t: Tally) -> None:
        self.index, self.url, self.headers, self.opts, self.tally = index, url, headers, opts, t
        self.ws: Any = None
        self.seen: dict[tuple[str, int], int] = {}  # (reference, seq) -> the connection that got it
        self.generation = 0  # connections opened so far
        self.last: dict[str, int] = {}  # reference -> highest seq seen
        self.joined: set[str] = set()
        self.hello: dict[str, Any] = {}
        self.unacked: dict[str, dict[str, Any]] = {}  # replies not yet seen back on this socket
        self.ready = True  # False while reconnecting: replies wait in `unacked`
        self.done = False

    async def reply(self, frame: dict[str, Any]) -> None:
        self.unacked[frame["client_id"]] = frame
        if self.ready:
            with contextlib.suppress(Exception):
                await self.ws.send(json.dumps(frame))

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, additional_headers=self.headers, **self.opts)
        self.generation += 1
        self.hello = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
        if self.hello.get("type") != "hello":
            raise RuntimeError(f"agent socket: expected hello, got {self.hello}")
        await self.ws.send(json.dumps({"type": "presence", "status": "online"}))

    async def join(self, reference: str, after: int | None = None) -> None:
        if reference in self.joined:
            return
        self.joined.add(reference)
        self.tally.watchers.setdefault(reference, self.index)
        await self._send_join(reference, after)

    async def _send_join(self, reference: str, after: int | None) -> None:
        frame: dict[str, Any] = {"type": "join", "reference": reference}
        if after is not None:
            frame["after"] = after
        with contextlib.suppress(Exception):
            await self.ws.send(json.dumps(frame))

    async def run(self) -> None:
        t = self.tally
        while not self.done:
            try:
                await self.read()
            except Exception as exc:
                if self.done:
                    return
                t.closed[f"agent:{type(exc).__name__}:{close_code(exc)}"] += 1
            if self.done:
                return
            self.ready = False
            for delay in RECONNECT_DELAYS * 4:
                await asyncio.sleep(delay)
                if self.done:
                    return
                try:
                    await self.open()
                except Exception as exc:
                    if close_code(exc) in FINAL_CLOSES:
                        return
                    continue
                t.reconnects["agent"] += 1
                for reference in sorted(self.joined):
                    await self._send_join(reference, self.last.get(reference, 0))
                # Then what it still holds (the server stores a client_id once).
                for frame in list(self.unacked.values()):
                    with contextlib.suppress(Exception):
                        await self.ws.send(json.dumps(frame))
                self.ready = True
                break
            else:
                return

    async def read(self) -> None:
        t = self.tally
        async for raw in self.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                reference, seq = str(frame.get("reference")), int(frame.get("seq") or 0)
                if (reference, seq) in self.seen:
                    first = self.seen[(reference, seq)]
                    t.duplicate(
                        f"agent {self.index} got {reference} seq {seq} ({frame.get('author')} "
                        f"{frame.get('client_id')}) on connection {first} and again on {self.generation}"
                    )
                    continue
                self.seen[(reference, seq)] = self.generation
                self.last[reference] = max(seq, self.last.get(reference, 0))
                cid = frame.get("client_id")
                words = str(frame.get("body", "")).split()
                if frame.get("author") == "agent" and len(words) > 1:
                    self.unacked.pop(cid or words[1], None)  # its own reply (client_id or body)
                if cid in t.sent:
                    t.at_agent.setdefault(cid, now)
                elif cid in t.agent_sent:
                    t.agent_acked.setdefault(cid, now)
            elif kind == "chat":
                reference = frame.get("reference")
                if reference and frame.get("status") not in ("ended", "solved", "closed"):
                    t.announced += 1
                    await self.join(str(reference), frame.get("last_seq"))
            elif kind == "error":
                t.errors[f"agent:{frame.get('code')}"] += 1
        if not self.done:
            raise ConnectionError(f"closed {getattr(self.ws, 'close_code', '')}")


class Customer:
    """The widget: one socket, messages kept until acknowledged and sent again (same
    client_id) after a reconnect with `after=<highest seq>`."""

    def __init__(self, index: int, tally: Tally) -> None:
        self.index, self.tally = index, tally
        self.ws: Any = None
        self.url = ""
        self.opts: dict[str, Any] = {}
        self.reference = ""
        self.seqs: set[int] = set()
        self.ids: set[str] = set()
        self.unacked: dict[str, dict[str, Any]] = {}
        self.resent: set[str] = set()
        self.done = False

    async def send(self, frame: dict[str, Any]) -> None:
        self.unacked[frame["client_id"]] = frame
        with contextlib.suppress(Exception):
            await self.ws.send(json.dumps(frame))

    async def run(self) -> None:
        from websockets.asyncio.client import connect

        t = self.tally
        while not self.done:
            try:
                await self.read()
            except Exception as exc:
                if self.done:
                    return
                t.closed[f"customer:{type(exc).__name__}:{close_code(exc)}"] += 1
                if close_code(exc) in FINAL_CLOSES:
                    return
            for delay in RECONNECT_DELAYS * 4:
                await asyncio.sleep(delay)
                if self.done:
                    return
                after = max(self.seqs, default=0)
                try:
                    self.ws = await connect(f"{self.url}&after={after}", **self.opts)
                    hello = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
                except Exception as exc:
                    if close_code(exc) in FINAL_CLOSES:
                        return
                    continue
                if hello.get("type") != "hello":
                    continue
                t.reconnects["customer"] += 1
                for cid, frame in list(self.unacked.items()):
                    self.resent.add(cid)
                    t.resent += 1
                    with contextlib.suppress(Exception):
                        await self.ws.send(json.dumps(frame))
                break
            else:
                return

    async def read(self) -> None:
        t = self.tally
        async for raw in self.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                seq = int(frame.get("seq") or 0)
                cid = frame.get("client_id")
                if seq in self.seqs or (cid and cid in self.ids):
                    # A resent message's ack may follow its replayed copy (the client ignores
                    # the second); anything else seen twice is a duplicate.
                    if cid not in self.resent:
                        t.duplicate(f"customer {self.index} got seq {seq} / {cid} twice")
                    continue
                self.seqs.add(seq)
                if cid:
                    self.ids.add(cid)
                    self.unacked.pop(cid, None)
                if cid in t.sent:
                    t.acked.setdefault(cid, now)
                elif cid in t.agent_sent:
                    t.at_customer.setdefault(cid, now)
                elif frame.get("author") == "agent":
                    # An agent's reply without its client_id: found by its body (which names it).
                    words = str(frame.get("body", "")).split()
                    if len(words) > 1 and words[1] in t.agent_sent:
                        t.at_customer.setdefault(words[1], now)
                        t.errors["customer:agent_frame_without_client_id"] += 1
            elif kind == "error":
                t.errors[f"customer:{frame.get('code')}"] += 1
        if not self.done:
            raise ConnectionError(f"closed {getattr(self.ws, 'close_code', '')}")


def post_conversation(base: str, address: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/v1/chat/conversations",
        data=json.dumps({"language": "en", "subject": "Transfer stuck"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": address, "Accept-Language": "en"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return dict(json.loads(r.read()))
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"HTTP {exc.code}: {exc.read()[:200]!r}") from exc


def address_of(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255 or 1}"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]  # nearest rank


async def lag_probe(tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.1)
        tally.lag.append(time.perf_counter() - before - 0.1)


async def run_load(a: argparse.Namespace, server: Server, cookie: str, sessions: list[str]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    ws_base = server.base.replace("http://", "ws://")
    opts: dict[str, Any] = {
        "origin": server.base,
        "proxy": None,
        "open_timeout": 60,
        "max_queue": None,
        "compression": None if a.no_compression else "deflate",
    }
    t = Tally()
    stop_probe = asyncio.Event()
    probe = asyncio.create_task(lag_probe(t, stop_probe))
    rng = random.Random(a.seed)
    run_tag = f"{BODY_PREFIX}-{secrets.token_hex(3)}"

    # Agents: online first, so conversations are routed to them as they come.
    agents: list[Agent] = []
    for i, key in enumerate(sessions):
        agent = Agent(i, f"{ws_base}/ws/chat/agent/", {"Cookie": f"{cookie}={key}"}, opts, t)
        try:
            await agent.open()
        except Exception as exc:
            raise SystemExit(f"agent {i} could not open /ws/chat/agent/: {exc}") from None
        agents.append(agent)
    agent_readers = [asyncio.create_task(agent.run()) for agent in agents]

    async def keep_online() -> None:
        # As the agent panel does: a `ping` now and then keeps an agent online (ChatAgent.ONLINE_SECONDS).
        while True:
            await asyncio.sleep(15)
            for agent in agents:
                with contextlib.suppress(Exception):
                    await agent.ws.send(json.dumps({"type": "ping"}))

    agent_readers.append(asyncio.create_task(keep_online()))
    for agent in agents:
        for chat in agent.hello.get("chats") or []:
            if isinstance(chat, dict) and chat.get("reference"):
                await agent.join(str(chat["reference"]), chat.get("last_seq"))

    # Customers: POST (a few at a time, in threads), then open the socket.
    customers = [Customer(i, t) for i in range(a.sockets)]
    pool = ThreadPoolExecutor(max_workers=a.connect_concurrency)
    gate = asyncio.Semaphore(a.connect_concurrency)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()

    async def open_customer(c: Customer) -> None:
        address = address_of(c.index + 1)
        async with gate:
            try:
                conv = await loop.run_in_executor(pool, post_conversation, server.base, address)
            except Exception as exc:
                t.connect_failed[f"post:{str(exc)[:60]}"] += 1
                return
            c.reference = str(conv["reference"])
            c.url = ws_base + str(conv["ws_url"])
            c.opts = {**opts, "additional_headers": {"X-Forwarded-For": address}}
            try:
                c.ws = await connect(c.url, **c.opts)
                hello = json.loads(await asyncio.wait_for(c.ws.recv(), 30))
            except Exception as exc:
                t.connect_failed[f"ws:{type(exc).__name__}:{getattr(exc, 'code', '')}"] += 1
                c.ws = None
                return
            if hello.get("type") != "hello":
                t.connect_failed[f"hello:{hello.get('type')}"] += 1

    await asyncio.gather(*(open_customer(c) for c in customers))
    pool.shutdown()
    connect_s = time.perf_counter() - started
    live = [c for c in customers if c.ws is not None]
    readers = [asyncio.create_task(c.run()) for c in live]

    # Every conversation watched by one agent: the ones routed were announced (`chat`); the
    # rest (queued: every agent full, or routing off) are joined round robin.
    await asyncio.sleep(a.settle)
    routed = len(t.watchers)
    for n, c in enumerate(c for c in live if c.reference not in t.watchers):
        await agents[n % len(agents)].join(c.reference)
    await asyncio.sleep(a.settle)

    # Sending: each customer at its own phase; agent replies spread evenly over the phase.
    pids = server.web_pids()
    redis_pids = processes_named("redis-server")
    pg_pids = processes_named("postgres:", f" {a.db_name} ")
    cpu_before = {p: cpu_seconds(p) for p in pids + redis_pids + pg_pids}
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    machine_before = machine_ticks()
    t0 = time.perf_counter()
    end = t0 + a.duration
    mem_peak: dict[int, int] = dict.fromkeys(pids, 0)

    async def send_customer(c: Customer) -> None:
        phase = rng.uniform(0, a.interval)
        k = 0
        while True:
            when = t0 + phase + k * a.interval
            if when >= end:
                return
            await asyncio.sleep(max(0.0, when - time.perf_counter()))
            cid = f"c{c.index}-{k}"
            frame = {"type": "message", "client_id": cid, "body": f"{run_tag} {cid} my transfer is stuck"}
            t.sent[cid] = time.perf_counter()
            await c.send(frame)  # kept until acknowledged; sent again after a reconnect
            k += 1

    by_reference = {c.reference: c for c in live}
    watched = [r for r in t.watchers if r in by_reference]
    samples = rng.sample(watched, min(a.agent_samples, len(watched)))

    async def send_agent_replies() -> None:
        for n, reference in enumerate(samples):
            when = t0 + (n + 0.5) * a.duration / max(1, len(samples))
            await asyncio.sleep(max(0.0, when - time.perf_counter()))
            agent = agents[t.watchers[reference]]
            cid = f"a{agent.index}-{n}"
            frame = {
                "type": "message",
                "reference": reference,
                "client_id": cid,
                "body": f"{run_tag} {cid} we are looking at it",
            }
            t.agent_sent[cid] = time.perf_counter()
            await agent.reply(frame)

    async def kill_one_web_process() -> None:
        # A web process dies mid-run (SIGKILL; core.serve starts another): its sockets reconnect.
        if a.kill_web_at is None or not pids:
            return
        await asyncio.sleep(a.kill_web_at)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pids[0], signal.SIGKILL)
        t.errors["bench:killed_web_process"] += 1

    async def sample_memory() -> None:
        while time.perf_counter() < end:
            for p in pids:
                mem_peak[p] = max(mem_peak[p], memory_kib(p)[0])
            await asyncio.sleep(1)

    await asyncio.gather(
        *(send_customer(c) for c in live), send_agent_replies(), sample_memory(), kill_one_web_process()
    )
    cpu_after = {p: max(cpu_before[p], cpu_seconds(p)) for p in cpu_before}
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    machine_after = machine_ticks()
    elapsed = time.perf_counter() - t0
    mem_now = {p: memory_kib(p) for p in pids}

    # Grace: until every message is accounted for, or `grace` seconds.
    deadline = time.perf_counter() + a.grace
    while time.perf_counter() < deadline:
        if (
            len(t.acked) == len(t.sent)
            and len(t.at_agent) == len(t.sent)
            and len(t.at_customer) == len(t.agent_sent)
        ):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # a late duplicate still counts

    for c in live:
        c.done = True
    for agent in agents:
        agent.done = True
    stop_probe.set()
    await asyncio.gather(*(c.ws.close() for c in live), return_exceptions=True)
    await asyncio.gather(*(agent.ws.close() for agent in agents), return_exceptions=True)
    for task in [*readers, *agent_readers]:
        task.cancel()
    await asyncio.gather(*readers, *agent_readers, probe, return_exceptions=True)

    c2a = [t.at_agent[cid] - s for cid, s in t.sent.items() if cid in t.at_agent]
    ack = [t.acked[cid] - s for cid, s in t.sent.items() if cid in t.acked]
    a2c = [t.at_customer[cid] - s for cid, s in t.agent_sent.items() if cid in t.at_customer]
    timeline = []
    for start in range(0, max(1, math.ceil(a.duration)), 10):
        part = [
            t.at_agent[cid] - s
            for cid, s in t.sent.items()
            if cid in t.at_agent and t0 + start <= s < t0 + start + 10
        ]
        timeline.append((start, len(part), pct(part, 50) * 1000, pct(part, 99) * 1000))
    never_acked = sum(1 for cid in t.sent if cid not in t.acked)
    acked_not_delivered = sum(1 for cid in t.acked if cid not in t.at_agent)
    agent_lost = sum(1 for cid in t.agent_sent if cid not in t.at_customer)
    user_s = self_after.ru_utime - self_before.ru_utime
    sys_s = self_after.ru_stime - self_before.ru_stime
    busy = machine_after[0] - machine_before[0]
    ours = sum(cpu_after[p] - cpu_before[p] for p in cpu_after) + user_s + sys_s
    # Busy time of the whole machine, in core-percent, and what processes outside this run used.
    machine_pct = 100 * busy / os.sysconf("SC_CLK_TCK") / elapsed
    others_pct = max(0.0, machine_pct - 100 * ours / elapsed)
    return {
        "run_tag": run_tag,
        "sockets": a.sockets,
        "connected": len(live),
        "connect_s": connect_s,
        "routed": routed,
        "announced": t.announced,
        "watched": len(t.watchers),
        "elapsed": elapsed,
        "sent": len(t.sent),
        "acked": len(t.acked),
        "at_agent": len(t.at_agent),
        "never_acked": never_acked,
        "acked_not_delivered": acked_not_delivered,
        "lost": never_acked + acked_not_delivered + agent_lost,
        "duplicated": t.duplicated,
        "duplicate_examples": t.duplicate_examples,
        "c2a_p50": pct(c2a, 50) * 1000,
        "c2a_p99": pct(c2a, 99) * 1000,
        "timeline": timeline,
        "c2a_max": max(c2a, default=float("nan")) * 1000,
        "ack_p50": pct(ack, 50) * 1000,
        "ack_p99": pct(ack, 99) * 1000,
        "agent_sent": len(t.agent_sent),
        "agent_lost": agent_lost,
        "agent_acked": len(t.agent_acked),
        "a2c_p50": pct(a2c, 50) * 1000,
        "a2c_p99": pct(a2c, 99) * 1000,
        "errors": dict(t.errors),
        "closed": dict(t.closed),
        "reconnects": dict(t.reconnects),
        "resent": t.resent,
        "connect_failed": dict(t.connect_failed),
        "web": [
            {
                "pid": p,
                "cpu_pct": 100 * (cpu_after[p] - cpu_before[p]) / elapsed,
                "rss_mib": mem_now[p][0] / 1024,
                "peak_mib": max(mem_peak[p], mem_now[p][1]) / 1024,
            }
            for p in pids
        ],
        "redis_cpu_pct": 100 * sum(cpu_after[p] - cpu_before[p] for p in redis_pids) / elapsed,
        "pg_cpu_pct": 100 * sum(cpu_after[p] - cpu_before[p] for p in pg_pids) / elapsed,
        "client_cpu_pct": 100 * (user_s + sys_s) / elapsed,
        "web_cpu_ms_per_message": 1000
        * sum(cpu_after[p] - cpu_before[p] for p in pids)
        / max(1, len(t.acked) + len(t.agent_sent)),
        "machine_pct": machine_pct,
        "others_pct": others_pct,
        "lag_p99_ms": pct(t.lag, 99) * 1000,
        "lag_max_ms": max(t.lag, default=0.0) * 1000,
    }


# --------------------------------------------------------------------------------------------
# One round: fresh database and Redis db, setup, server, load, database check


def child_run(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    tag = "SETUP " if args[0] == "--child-setup" else "COUNT "
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(tag)), None)
    if line is None:
        sys.exit(f"{args[0]} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return dict(json.loads(line[len(tag) :]))


def loop_factory() -> Any:
    """uvloop when installed (uvicorn[standard] brings it): the client's own cost, smaller."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def one_round(a: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from bench.databases import child_env, fresh_postgres

    url = fresh_postgres(a.db_name)
    if url is None:
        sys.exit(2)
    import redis

    redis.Redis.from_url(a.redis_url).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = Path(tempfile.mkdtemp(prefix="round-", dir=tmp))
    env = child_env(
        WALLETDESK_DATA_DIR=str(data_dir),
        DATABASE_URL=url,
        REDIS_URL=a.redis_url,
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        SITE_URL=base,
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # Each customer comes from its own address (X-Forwarded-For from loopback), so the
        # per-address limits are measured at their defaults instead of being switched off.
        TRUSTED_PROXIES="127.0.0.1",
    )
    for name, value in a.extra_env:
        env[name] = value
    server_env = dict(env)
    if a.probe:
        # bench/chat_probe/sitecustomize.py times (and profiles) each web process's sync thread.
        Path(a.probe).mkdir(parents=True, exist_ok=True)
        server_env.update(
            CHAT_PROBE_DIR=str(Path(a.probe).resolve()),
            CHAT_PROBE_PROFILE="1" if a.profile else "0",
            PYTHONPATH=f"{ROOT / 'bench' / 'chat_probe'}{os.pathsep}{env['PYTHONPATH']}",
        )
    started = time.perf_counter()
    setup = child_run(env, "--child-setup", "--agents", str(a.agents), "--capacity", str(a.capacity))
    setup_s = time.perf_counter() - started
    server = Server(server_env, port, a.workers, data_dir)
    server.start()
    try:
        result = asyncio.run(
            run_load(a, server, setup["cookie"], setup["sessions"]), loop_factory=loop_factory()
        )
    finally:
        server.stop()
    result["setup_s"] = setup_s
    result["db"] = child_run(env, "--child-count", result["run_tag"])
    log = server.log()
    result["server_tracebacks"] = log.count("Traceback (most recent call last)")
    result["server_log_tail"] = log[-1500:] if result["server_tracebacks"] else ""
    result["server_log"] = ""
    if result["server_tracebacks"] or result["closed"] or result["lost"]:
        kept = Path(tempfile.gettempdir()) / f"chat_load-server-{os.getpid()}-{len(os.listdir(tmp))}.log"
        kept.write_text(log)
        result["server_log"] = str(kept)
    return result


def report(r: dict[str, Any]) -> None:
    print(
        f"  sockets {r['connected']}/{r['sockets']} open in {r['connect_s']:.1f} s "
        f"({r['connected'] / max(r['connect_s'], 1e-9):.0f} conversations/s incl. socket); "
        f"routed to an agent {r['routed']}, watched {r['watched']}; setup (migrate, agents) {r['setup_s']:.1f} s"
    )
    if r["connect_failed"]:
        print(f"  connect failures: {r['connect_failed']}")
    print(
        f"  customer->agent: {r['at_agent']}/{r['sent']} delivered, p50 {r['c2a_p50']:.1f} ms, "
        f"p99 {r['c2a_p99']:.1f} ms, max {r['c2a_max']:.1f} ms; sender's ack p50 {r['ack_p50']:.1f} ms "
        f"p99 {r['ack_p99']:.1f} ms"
    )
    print(
        "  customer->agent by send time (s: delivered, p50/p99 ms): "
        + ", ".join(f"{s}-{s + 10}: {n}, {p50:.0f}/{p99:.0f}" for s, n, p50, p99 in r["timeline"])
    )
    print(
        f"  agent->customer: {r['agent_sent'] - r['agent_lost']}/{r['agent_sent']} delivered, "
        f"p50 {r['a2c_p50']:.1f} ms, p99 {r['a2c_p99']:.1f} ms; the agent's own copy named its "
        f"client_id for {r['agent_acked']}/{r['agent_sent']}"
    )
    print(
        f"  lost {r['lost']} (never acked {r['never_acked']}, acked but not at an agent "
        f"{r['acked_not_delivered']}, agent replies {r['agent_lost']}); duplicated {r['duplicated']}"
        + (f" e.g. {r['duplicate_examples']}" if r["duplicate_examples"] else "")
    )
    db = r["db"]
    print(
        f"  database: {db['customer']} customer messages stored of {r['sent']} sent, "
        f"{db['agent']} agent replies of {r['agent_sent']}, bodies stored twice {db['bodies_twice']}"
    )
    for w in r["web"]:
        print(
            f"  web process {w['pid']}: CPU {w['cpu_pct']:.0f}% of a core, RSS {w['rss_mib']:.0f} MiB "
            f"(peak {w['peak_mib']:.0f} MiB)"
        )
    print(
        f"  web processes' CPU per message stored while sending: {r['web_cpu_ms_per_message']:.1f} ms "
        f"(per message acknowledged; the fan-out to sockets included)"
    )
    print(
        f"  Redis CPU {r['redis_cpu_pct']:.0f}%, PostgreSQL CPU {r['pg_cpu_pct']:.0f}%, "
        f"this load generator {r['client_cpu_pct']:.0f}% (its loop late by p99 {r['lag_p99_ms']:.0f} ms, "
        f"max {r['lag_max_ms']:.0f} ms)"
    )
    print(
        f"  the machine while sending: {r['machine_pct']:.0f}% busy of {100 * (os.cpu_count() or 1)}%, "
        f"of which {r['others_pct']:.0f}% by processes outside this run"
        + ("  <- a busy box: figures not comparable" if r["others_pct"] > 20 else "")
    )
    if r["errors"] or r["closed"]:
        print(
            f"  error frames {r['errors']}; sockets closed under load {r['closed']}; "
            f"reconnected {r['reconnects']}, messages sent again {r['resent']}"
        )
    if r["server_log"] and not r["server_tracebacks"]:
        print(f"  server log kept: {r['server_log']}")
    if r["server_tracebacks"]:
        print(
            f"  server logged {r['server_tracebacks']} traceback(s) (whole log: {r['server_log']}); "
            f"last lines:\n{r['server_log_tail']}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sockets", type=int, default=1000, help="concurrent customer sockets")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between one socket's messages")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of sending")
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--capacity", type=int, default=60, help="chats each agent may hold")
    ap.add_argument("--agent-samples", type=int, default=200, help="agent replies sent over the run")
    ap.add_argument("--workers", type=int, default=2, help="web processes")
    ap.add_argument("--rounds", type=int, default=1, help="fresh runs; medians are reported")
    ap.add_argument("--connect-concurrency", type=int, default=8, help="conversations opened at once")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds for routing before sending")
    ap.add_argument("--grace", type=float, default=15.0, help="seconds to wait for late frames")
    ap.add_argument("--no-compression", action="store_true", help="no permessage-deflate")
    ap.add_argument("--db-name", default=PG_DB)
    ap.add_argument("--redis-url", default=REDIS_DEFAULT)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument(
        "--env",
        dest="extra_env",
        action="append",
        default=[],
        type=lambda s: tuple(s.split("=", 1)),
        help="NAME=VALUE for the server's environment (repeatable)",
    )
    ap.add_argument(
        "--probe", metavar="DIR", help="time and profile the web processes' sync threads into DIR"
    )
    ap.add_argument("--profile", action="store_true", help="with --probe: cProfile the sync threads too")
    ap.add_argument(
        "--kill-web-at", type=float, metavar="S", help="SIGKILL one web process S seconds into sending"
    )
    ap.add_argument("--quick", action="store_true", help="50 sockets, 10 s (the smoke test)")
    ap.add_argument("--child-setup", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-count", metavar="PREFIX", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_setup:
        child_setup(a.agents, a.capacity)
        return 0
    if a.child_count:
        child_count(a.child_count)
        return 0
    if a.quick:
        a.sockets, a.duration, a.interval, a.agents, a.agent_samples, a.grace = 50, 10.0, 2.5, 5, 20, 10.0

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * a.sockets + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # the server inherits it too
    from bench.machine import describe

    print(describe())
    print(
        f"server: walletdesk.core.serve --workers {a.workers} (uvicorn), PostgreSQL {a.db_name}, "
        f"channels-redis on {a.redis_url}; file descriptors {want}"
    )
    rate = a.sockets / a.interval
    print(
        f"load: {a.sockets} customer sockets, 1 message / {a.interval:g} s each for {a.duration:g} s "
        f"(~{rate:.0f} messages/s), {a.agents} agents (capacity {a.capacity}), "
        f"{a.agent_samples} agent replies; client: asyncio + websockets in this process"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="wd-chatbench-") as tmp:
        for n in range(a.rounds):
            print(f"round {n + 1}:")
            r = one_round(a, Path(tmp))
            report(r)
            results.append(r)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    lost = sum(r["lost"] for r in results)
    duplicated = sum(r["duplicated"] + r["db"]["bodies_twice"] for r in results)
    stored_ok = all(r["db"]["customer"] == r["sent"] for r in results)
    rss = [w["rss_mib"] for r in results for w in r["web"]]
    print()
    print(
        f"RESULT sockets={results[0]['connected']}/{a.sockets} sent={sum(r['sent'] for r in results)} "
        f"p50_ms={med('c2a_p50'):.1f} p99_ms={med('c2a_p99'):.1f} "
        f"agent_to_customer_p50_ms={med('a2c_p50'):.1f} agent_to_customer_p99_ms={med('a2c_p99'):.1f} "
        f"lost={lost} duplicated={duplicated} stored_equals_sent={'yes' if stored_ok else 'no'} "
        f"rss_mib_per_process={'/'.join(f'{x:.0f}' for x in rss[-a.workers :])} rounds={len(results)}"
    )
    p99 = med("c2a_p99")
    print(
        f"goal: p99 < {GOAL_P99_MS:.0f} ms: {'met' if p99 < GOAL_P99_MS else 'MISSED'} ({p99:.1f} ms, "
        f"median of {len(results)}); 0 lost: {'met' if lost == 0 else 'MISSED'} ({lost}); "
        f"0 duplicated: {'met' if duplicated == 0 else 'MISSED'} ({duplicated})"
    )
    print(json.dumps({"rounds": results}, default=str), file=sys.stderr)
    ok = lost == 0 and duplicated == 0 and stored_ok and all(r["connected"] == a.sockets for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
