"""Generate N realistic tickets fast, for `bench/scale.py` (issue #23, "a million tickets").

What a year or two of a wallet's help desk looks like, at a steady ~1,400 tickets a day: so the
span grows with N (1M ≈ two years) while the open backlog stays about two weeks of tickets,
as a desk that keeps up has it. Each ticket:

- a language: zh-hans 50 %, zh-hant 15 %, en 35 %; a category (its team: the Security desk's
  are restricted), a priority (the category's floor), a channel, a customer (a guest's claim
  contact, about four tickets each);
- identifiers in its facts and in search_text as the real intake writes them (a tx hash on
  every fourth, an error code, an email token for the customer's address);
- 2–6 messages from a pool of templated texts (customer first, agent replies, an internal
  note now and then); search_text is the jieba-segmented subject and messages, segmented
  once per distinct text, not per ticket;
- a status by age (the last two weeks open, pending, on hold; older ones solved and closed,
  a few stragglers still open), an assignee from its team, SLA due times, first reply and
  solution times, and the stored `inbox_due` the inbox sorts by (`models.inbox_due_of`).

PostgreSQL: COPY, with the ticket and message tables' secondary indexes dropped first and
rebuilt after (one sorted build is many times faster than a million index inserts; the
definitions are read from pg_indexes and restored exactly), then VACUUM ANALYZE so plans and
index-only scans see the real table. SQLite: executemany in large transactions, with the FTS5
triggers firing, so the full-text table is the one the product keeps.

Generation replaces the tickets (and what hangs off them) rather than appending: a desk's
timeline is generated as a whole, newest last, ids in time order.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.db import connection, transaction

PER_DAY = 1400
AGENTS_PER_TEAM = 12
CUSTOMER_SHARE = 4  # tickets per customer, on average

LANGUAGES = (("zh-hans", 50), ("zh-hant", 15), ("en", 35))
PRIORITIES = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
CHANNELS = (("web", 35), ("inapp", 25), ("email", 25), ("chat", 10), ("telegram", 3), ("phone", 2))

COINS = ("USDT", "ETH", "BTC", "TRX", "BNB", "USDC", "SOL", "MATIC")
CHAINS = ("Ethereum", "TRON", "BSC", "Polygon", "Bitcoin", "Solana", "Arbitrum")
DEVICES = ("iPhone 15", "iPhone 13", "Pixel 8", "Galaxy S23", "Xiaomi 14", "Huawei P60", "OPPO Reno 11")
ERRORS = ("E1001", "E2003", "ERR_NONCE_TOO_LOW", "E4012", "INSUFFICIENT_GAS", "E5030", "TIMEOUT_504")

SUBJECTS = {
    "zh": [
        "{coin} 转账一直显示待确认",
        "提币到交易所没有到账",
        "无法登录，提示错误 {err}",
        "忘记密码，收不到重置邮件",
        "账户被锁定了怎么办",
        "{chain} 链上充值未到账",
        "手续费太高，转账失败",
        "怀疑账户被盗，资产被转走",
        "助记词备份问题",
        "App 更新后闪退 {device}",
        "收到冒充客服的私信",
        "授权了可疑合约怎么取消",
        "实名认证一直审核中",
        "{coin} 兑换价格不对",
        "硬件钱包连接不上",
    ],
    "en": [
        "{coin} transfer stuck as pending",
        "Withdrawal to exchange not received",
        "Cannot log in, error {err}",
        "Forgot password, reset email never arrives",
        "My account is locked",
        "Deposit on {chain} not credited",
        "Transaction failed, gas fee too high",
        "Account hacked, funds moved without my consent",
        "Question about backing up my recovery phrase",
        "App crashes after update on {device}",
        "Someone pretending to be support messaged me",
        "How do I revoke a suspicious token approval",
        "Identity verification pending for days",
        "Wrong {coin} swap rate",
        "Hardware wallet will not connect",
    ],
}
BODIES = {
    "zh": [
        "我在 {day} 从钱包转了 {amount} {coin} 到 {chain}，到现在还没到账，区块浏览器显示已确认。",
        "登录的时候一直提示 {err}，已经重装过 App 了，设备是 {device}。",
        "请帮忙看一下这笔交易，手续费扣了但是对方说没有收到。",
        "我昨天换了手机，用助记词恢复后余额显示为零，非常着急。",
        "有人在电报上自称客服让我提供验证码，我没有给，想确认一下官方渠道。",
        "兑换 {coin} 的时候价格和行情差很多，滑点设置是默认的。",
        "账户被锁定了，邮箱还能收到邮件，请问多久能解锁？",
        "资产被转走了，我没有授权过任何操作，请尽快冻结。",
        "实名认证提交三天了还在审核中，需要补充什么材料吗？",
        "更新到最新版本后打开就闪退，系统是 {os}。",
    ],
    "en": [
        "On {day} I sent {amount} {coin} on {chain} and it still has not arrived, although the explorer shows it confirmed.",
        "I keep getting {err} when I sign in. I reinstalled the app already, my phone is a {device}.",
        "Please check this transaction: the fee was taken but the recipient says nothing arrived.",
        "I restored my wallet on a new phone and the balance shows zero. Please help urgently.",
        "Someone on Telegram claiming to be support asked for my verification code. Is that you?",
        "The {coin} swap rate was far from the market price, slippage was on default.",
        "My account is locked but I still receive email. How long until it unlocks?",
        "Funds left my wallet without my approval, please freeze the account.",
        "I submitted my ID three days ago and verification is still pending.",
        "Since the last update the app crashes on launch, I am on {os}.",
    ],
}
REPLIES = {
    "zh": [
        "您好，我们已经收到您的问题，正在核查这笔交易，请稍候。",
        "请提供交易哈希和截图，方便我们进一步排查。",
        "该交易在链上仍在等待打包，建议稍后再查看，或加速交易。",
        "为了您的资产安全，请不要向任何人提供助记词或验证码。",
        "问题已修复，请更新到最新版本后再试一次。",
    ],
    "en": [
        "Hello, we received your request and are checking the transaction now.",
        "Could you send the transaction hash and a screenshot so we can look further?",
        "The transaction is still waiting to be mined; you can speed it up from the activity tab.",
        "For your safety, never share your recovery phrase or verification codes with anyone.",
        "This is fixed in the latest version, please update and try again.",
    ],
}
NOTES = {
    "zh": ["已转交安全团队复核。", "用户多次来信，优先处理。", "等待链上确认后回复。"],
    "en": [
        "Escalated to the security desk.",
        "Customer wrote several times, prioritise.",
        "Reply once confirmed.",
    ],
}
OSES = ("iOS 17.5", "Android 14", "iOS 16.7", "HarmonyOS 4")


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


@dataclass
class Text:
    text: str
    doc: str  # segmented, as search.document() writes it


class Pool:
    """Distinct texts per language, each segmented once."""

    def __init__(self, rng: random.Random, per_template: int = 12) -> None:
        from walletdesk.core.hant import to_hant
        from walletdesk.tickets import search

        def fill(template: str) -> str:
            return template.format(
                coin=rng.choice(COINS),
                chain=rng.choice(CHAINS),
                err=rng.choice(ERRORS),
                device=rng.choice(DEVICES),
                os=rng.choice(OSES),
                amount=f"{rng.uniform(0.01, 5000):.2f}",
                day=f"{rng.randint(1, 12)}/{rng.randint(1, 28)}",
            )

        def texts(templates: list[str], language: str, n: int) -> list[Text]:
            out = []
            for template in templates:
                for _ in range(n):
                    text = fill(template)
                    if language == "zh-hant":
                        text = to_hant(text)
                    out.append(Text(text, search.document(text)))
            return out

        self.subjects: dict[str, list[Text]] = {}
        self.bodies: dict[str, list[Text]] = {}
        self.replies: dict[str, list[Text]] = {}
        self.notes: dict[str, list[Text]] = {}
        for language, _w in LANGUAGES:
            base = "en" if language == "en" else "zh"
            self.subjects[language] = texts(SUBJECTS[base], language, per_template)
            self.bodies[language] = texts(BODIES[base], language, per_template)
            self.replies[language] = texts(REPLIES[base], language, 1)
            self.notes[language] = texts(NOTES[base], language, 1)


def _ensure_agents(rng: random.Random) -> dict[int | None, list[int]]:
    """Agents per team (created once, `scale-agent-…`), by team id; None: any agent."""
    from walletdesk.accounts.models import User
    from walletdesk.tickets.models import Team

    by_team: dict[int | None, list[int]] = {}
    for team in Team.objects.order_by("pk"):
        ids = []
        for i in range(AGENTS_PER_TEAM):
            user, created = User.objects.get_or_create(
                username=f"scale-agent-{team.slug}-{i}",
                defaults={"email": f"scale-agent-{team.slug}-{i}@example.com", "is_staff": True},
            )
            if created:
                team.members.add(user)
            ids.append(user.pk)
        by_team[team.pk] = ids
    by_team[None] = [pk for ids in list(by_team.values()) for pk in ids]
    return by_team


def _reference(day: datetime, used: set[str]) -> str:
    from walletdesk.tickets.references import new_reference

    while True:
        ref = new_reference(day)
        if ref not in used:
            used.add(ref)
            return ref


def _wipe() -> None:
    """Remove every ticket and what hangs off it (a bench database only)."""
    from walletdesk.tickets.models import Contact, Ticket

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"TRUNCATE {Ticket._meta.db_table}, {Contact._meta.db_table} RESTART IDENTITY CASCADE"
            )
        return
    from django.apps import apps

    # SQLite: delete children first (no TRUNCATE … CASCADE); the FTS delete trigger keeps up.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")
        for model in apps.get_models():
            for f in model._meta.concrete_fields:
                if f.is_relation and f.related_model in (Ticket, Contact) and model not in (Ticket, Contact):
                    cursor.execute(f'DELETE FROM "{model._meta.db_table}"')
                    break
        cursor.execute(f'DELETE FROM "{Ticket._meta.db_table}"')
        cursor.execute(f'DELETE FROM "{Contact._meta.db_table}"')
        cursor.execute("DELETE FROM tickets_ticket_fts")
        cursor.execute("PRAGMA foreign_keys = ON")


def _status_for(rng: random.Random, age_days: float) -> str:
    table: tuple[tuple[str, int], ...]
    if age_days < 2:
        table = (("new", 40), ("open", 30), ("pending", 15), ("solved", 15))
    elif age_days < 14:
        table = (("open", 15), ("pending", 10), ("on_hold", 5), ("solved", 30), ("closed", 40))
    else:
        table = (("open", 1), ("on_hold", 1), ("solved", 8), ("closed", 490))
    return _weighted(rng, table)


def rows(
    n: int, seed: int = 23
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]]:
    """(ticket, messages, new contact or None) per ticket, ids assigned, oldest first."""
    from walletdesk.tickets import search
    from walletdesk.tickets.models import ACTIVE_STATUSES, Category, inbox_due_of

    rng = random.Random(seed)
    pool = Pool(rng)
    agents = _ensure_agents(rng)
    categories = list(Category.objects.filter(active=True).order_by("pk"))
    priority_rank = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    now = datetime.now(UTC)
    span = timedelta(days=n / PER_DAY)
    start = now - span
    used: set[str] = set()
    customers = max(1, n // CUSTOMER_SHARE)
    contact_emails: dict[int, str] = {}
    active = set(ACTIVE_STATUSES)

    class Due:  # what inbox_due_of reads, without building a model instance per row
        __slots__ = ("first_replied_at", "first_reply_due", "next_reply_due", "status")

    for pk in range(1, n + 1):
        created = start + span * (pk / n) - timedelta(seconds=rng.random() * 30)
        age = (now - created).total_seconds() / 86400
        language = _weighted(rng, LANGUAGES)
        category = rng.choice(categories)
        priority = _weighted(rng, PRIORITIES)
        if priority_rank[category.default_priority] > priority_rank[priority]:
            priority = category.default_priority
        status = _status_for(rng, age)
        team_id = category.default_team_id
        contact_id = rng.randint(1, customers)
        new_contact = None
        if contact_id not in contact_emails:
            email = f"customer{contact_id}@example.com"
            contact_emails[contact_id] = email
            new_contact = {
                "id": contact_id,
                "email": email,
                "claim_key": email,
                "name": "",
                "language": language,
                "proof": "",
                "proven_by": "",
                "created_at": created,
            }
        email = contact_emails[contact_id]
        subject = rng.choice(pool.subjects[language])
        body = rng.choice(pool.bodies[language])
        tx_hash = "0x" + secrets.token_hex(32) if pk % 4 == 0 else ""
        error_code = rng.choice(ERRORS) if pk % 5 == 0 else ""
        wallet = "0x" + secrets.token_hex(20) if pk % 6 == 0 else ""
        assignee = None
        if status not in ("new",) and (status not in active or rng.random() < 0.5):
            assignee = rng.choice(agents.get(team_id) or agents[None])
        first_due = created + timedelta(hours=1 if priority == "urgent" else 4)
        replied = status not in ("new",) and (status not in active or rng.random() < 0.8)
        first_replied_at = created + timedelta(minutes=rng.uniform(5, 600)) if replied else None
        if first_replied_at is not None and first_replied_at > now:
            first_replied_at = now
        awaiting = status == "open" and replied and rng.random() < 0.5
        next_due = (first_replied_at or created) + timedelta(hours=8) if awaiting else None
        solved_at = closed_at = None
        if status in ("solved", "closed"):
            solved_at = min(now, (first_replied_at or created) + timedelta(hours=rng.uniform(0.5, 96)))
            if status == "closed":
                closed_at = min(now, solved_at + timedelta(days=3))
        # What inbox_due_of reads, without building a model instance per row.
        due = SimpleNamespace(
            status=status,
            first_replied_at=first_replied_at,
            first_reply_due=first_due,
            next_reply_due=next_due,
        )
        n_messages = rng.randint(2, 6)
        messages = [
            {
                "ticket_id": pk,
                "visibility": "public",
                "author_role": "customer",
                "author_user_id": None,
                "author_contact_id": contact_id,
                "channel": "web",
                "body": body.text,
                "created_at": created,
            }
        ]
        docs = [subject.doc, body.doc]
        at = created
        for i in range(1, n_messages):
            at = (first_replied_at or created) + timedelta(minutes=30 * i) if replied else at
            note = rng.random() < 0.15
            agent_turn = replied and (i % 2 == 1 or note)
            text = (
                rng.choice(pool.notes[language])
                if agent_turn and note
                else rng.choice(pool.replies[language] if agent_turn else pool.bodies[language])
            )
            docs.append(text.doc)
            messages.append(
                {
                    "ticket_id": pk,
                    "visibility": "internal" if agent_turn and note else "public",
                    "author_role": "agent" if agent_turn else "customer",
                    "author_user_id": (assignee or rng.choice(agents[None])) if agent_turn else None,
                    "author_contact_id": None if agent_turn else contact_id,
                    "channel": "web",
                    "body": text.text,
                    "created_at": min(at, now),
                }
            )
        facts = [tx_hash, error_code, wallet]
        ident = search.identifier_document(*facts, email)
        ticket = {
            "id": pk,
            "reference": _reference(created, used),
            "subject": subject.text,
            "status": status,
            "priority": priority,
            "channel": _weighted(rng, CHANNELS),
            "category_id": category.pk,
            "language": language,
            "contact_id": contact_id,
            "assignee_id": assignee,
            "team_id": team_id,
            "tx_hash": tx_hash,
            "error_code": error_code,
            "wallet_address": wallet,
            "chain": rng.choice(CHAINS) if tx_hash or wallet else "",
            "device": rng.choice(DEVICES) if pk % 3 == 0 else "",
            "created_at": created,
            "updated_at": messages[-1]["created_at"],
            "first_replied_at": first_replied_at,
            "first_replied_by_id": assignee if first_replied_at and assignee else None,
            "last_customer_message_at": created,
            "solved_at": solved_at,
            "closed_at": closed_at,
            "first_reply_due": first_due,
            "next_reply_due": next_due,
            "resolution_due": created + timedelta(days=3),
            "awaiting_reply_since": first_replied_at if awaiting else None,
            "inbox_due": inbox_due_of(due),  # type: ignore[arg-type]
            "search_text": " ".join([*docs, ident]),
        }
        if ticket["first_replied_by_id"] is None and first_replied_at is not None:
            ticket["first_replied_by_id"] = messages[1]["author_user_id"] if len(messages) > 1 else None
        yield ticket, messages, new_contact


def _defaults(model: Any) -> dict[str, Any]:
    """Every concrete column's value for a row that does not set it (the field's default)."""
    import json

    out: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        value = f.get_default()
        if f.get_internal_type() == "JSONField":
            value = json.dumps(value)
        out[f.column] = value
    return out


def generate(n: int, *, log: Any = print) -> dict[str, float]:
    """Replace the tickets with `n` generated ones; timings per phase."""
    from walletdesk.tickets.models import Contact, Message, Ticket

    timings: dict[str, float] = {}
    began = time.perf_counter()
    _wipe()
    timings["wipe"] = time.perf_counter() - began
    models = {"ticket": Ticket, "message": Message, "contact": Contact}
    columns = {key: ["id", *_defaults(m)] for key, m in models.items()}
    defaults = {key: _defaults(m) for key, m in models.items()}

    def row(key: str, values: dict[str, Any]) -> tuple[Any, ...]:
        base = defaults[key]
        return tuple(values.get(c, base.get(c)) for c in columns[key])

    message_id = 0
    began = time.perf_counter()
    if connection.vendor == "postgresql":
        dropped = _drop_indexes([Ticket._meta.db_table, Message._meta.db_table])
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY
            tables = {key: models[key]._meta.db_table for key in models}
            pending: dict[str, list[tuple[Any, ...]]] = {"ticket": [], "message": [], "contact": []}

            def flush() -> None:
                for key in ("contact", "ticket", "message"):
                    if not pending[key]:
                        continue
                    cols = ", ".join(f'"{c}"' for c in columns[key])
                    with raw.copy(f'COPY "{tables[key]}" ({cols}) FROM STDIN') as copy:
                        for r in pending[key]:
                            copy.write_row(r)
                    pending[key] = []

            for i, (ticket, messages, contact) in enumerate(rows(n), 1):
                if contact is not None:
                    pending["contact"].append(row("contact", contact))
                pending["ticket"].append(row("ticket", ticket))
                for m in messages:
                    message_id += 1
                    pending["message"].append(row("message", {"id": message_id, **m}))
                if i % 20000 == 0:
                    flush()
                    log(f"  {i} tickets")
            flush()
            for key in ("ticket", "message", "contact"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{tables[key]}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{tables[key]}"), 1))'
                )
        timings["copy"] = time.perf_counter() - began
        began = time.perf_counter()
        _restore_indexes(dropped)
        timings["indexes"] = time.perf_counter() - began
        began = time.perf_counter()
        with connection.cursor() as cursor:
            for table in (Ticket._meta.db_table, Message._meta.db_table, Contact._meta.db_table):
                cursor.execute(f'VACUUM ANALYZE "{table}"')
        timings["vacuum"] = time.perf_counter() - began
    else:
        batch: dict[str, list[tuple[Any, ...]]] = {"ticket": [], "message": [], "contact": []}
        sql = {
            key: f'INSERT INTO "{models[key]._meta.db_table}" ({", ".join(chr(34) + c + chr(34) for c in columns[key])}) '
            f"VALUES ({', '.join(['%s'] * len(columns[key]))})"
            for key in models
        }

        def flush_sqlite() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                for key in ("contact", "ticket", "message"):
                    if batch[key]:
                        cursor.executemany(sql[key], [_sqlite_row(r) for r in batch[key]])
                        batch[key] = []

        for i, (ticket, messages, contact) in enumerate(rows(n), 1):
            if contact is not None:
                batch["contact"].append(row("contact", contact))
            batch["ticket"].append(row("ticket", ticket))
            for m in messages:
                message_id += 1
                batch["message"].append(row("message", {"id": message_id, **m}))
            if i % 20000 == 0:
                flush_sqlite()
                log(f"  {i} tickets")
        flush_sqlite()
        timings["insert"] = time.perf_counter() - began
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - began
    return timings


def _sqlite_row(r: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(str(v.astimezone(UTC).replace(tzinfo=None)) if isinstance(v, datetime) else v for v in r)


def _drop_indexes(tables: list[str]) -> list[str]:
    """Drop the non-constraint indexes of `tables`; their definitions, to restore."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [tables],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return [definition for _name, definition in found]


def _restore_indexes(definitions: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            cursor.execute(definition)
