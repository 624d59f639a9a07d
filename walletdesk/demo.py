"""Demo data for `walletdesk up --demo`: people, official channels and a few tickets.

Passwords are drawn fresh on every run and printed once; nothing fixed lives in the code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from walletdesk.accounts.models import User
from walletdesk.registry.models import OfficialContact
from walletdesk.tickets import access, actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Channel, Team, Ticket

OFFICIAL = [
    ("domain", "token.im", "Official website", "官方网站", "https://token.im"),
    ("email", "support@token.im", "Support email", "客服邮箱", ""),
    ("x", "@imTokenOfficial", "X (Twitter)", "X（推特）", "https://x.com/imTokenOfficial"),
    ("telegram", "@imToken", "Telegram channel", "Telegram 频道", "https://t.me/imToken"),
    ("wechat", "imToken钱包", "WeChat official account", "微信公众号", ""),
    ("weibo", "@imToken", "Weibo", "微博", ""),
]

TICKETS = [
    (
        "zh-hans",
        "login_locked",
        "账户被锁定了",
        "我连续输错了几次密码，现在提示账户已锁定，怎么解锁？",
        {"account": "carol@example.com"},
    ),
    (
        "en",
        "unauthorised_tx",
        "Transfer I did not make",
        "I see an outgoing USDT transfer this morning that I did not make.",
        {
            "wallet_address": "0x52908400098527886E0F7030069857D2E4169EE7",
            "tx_hash": "0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b",
            "chain": "Ethereum",
        },
    ),
    ("zh-hans", "fees", "客服让我付解冻费", "有个自称客服的人让我先付 200 USDT 解冻费，这是真的吗？", {}),
    (
        "en",
        "other",
        "App crashes after update",
        "Since version 2.15.3 the app closes when I open the DApp browser.",
        {"app_version": "2.15.3", "device": "iPhone 13", "os": "iOS 18.1"},
    ),
]


def _user(email: str, password: str, **fields: object) -> User:
    user = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
    for name, value in fields.items():
        setattr(user, name, value)
    user.set_password(password)
    user.save()
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    sees: str  # where this login lands and what it may see, for the start-up banner


def sees(user: User) -> str:
    """What the banner says about one login, read from the same rules the desk applies
    (tickets.access), so it cannot drift from what the person finds after signing in."""
    if not access.is_agent(user):
        mine = access.customer_tickets(user).count()
        return f"customer: My requests ({mine} of theirs), no desk"
    total = Ticket.objects.count()
    if access.sees_all(user):
        return f"admin: every desk ({total} of {total} tickets), /admin/"
    teams = ", ".join(t.name for t in user.teams.order_by("name")) or "no team"
    shut = ", ".join(
        t.name for t in Team.objects.filter(restricted=True).exclude(members=user).order_by("name")
    )
    seen = access.agent_tickets(user).count()
    return f"agent in {teams}: {seen} of {total} tickets" + (f"; cannot see {shut} tickets" if shut else "")


@transaction.atomic
def load_demo() -> list[DemoLogin]:
    people: list[tuple[str, str, str, User]] = []

    def person(role: str, email: str, **fields: object) -> User:
        password = secrets.token_urlsafe(9)
        user = _user(email, password, **fields)
        people.append((role, email, password, user))
        return user

    person("admin", "admin@demo.walletdesk.test", is_staff=True, is_superuser=True, display_name="Admin")
    alice = person("agent", "alice@demo.walletdesk.test", is_staff=True, display_name="Alice (General)")
    bob = person("security", "bob@demo.walletdesk.test", is_staff=True, display_name="Bob (Security)")
    carol = person("customer", "carol@example.com", display_name="Carol")
    Team.objects.get(slug="general").members.add(alice)
    Team.objects.get(slug="security").members.add(bob)

    for position, (kind, value, en, zh, url) in enumerate(OFFICIAL):
        OfficialContact.objects.update_or_create(
            kind=kind,
            value=value,
            defaults={"label_en": en, "label_zh": zh, "url": url, "position": position},
        )
    if not Ticket.objects.exists():
        for language, category, subject, body, facts in TICKETS:
            actions.create_ticket(
                NewTicket(
                    subject=subject,
                    body=body,
                    channel=Channel.WEB,
                    language=language,
                    category=category,
                    facts=facts,
                    user=carol,
                )
            )
    return [DemoLogin(role, email, password, sees(user)) for role, email, password, user in people]
