from __future__ import annotations

from typing import Any

import pytest

# What `walletdesk up --demo` registers (walletdesk/demo.py), so the page is judged as people see it.
OFFICIAL = [
    ("domain", "token.im"),
    ("email", "support@token.im"),
    ("x", "@imTokenOfficial"),
    ("telegram", "@imToken"),
    ("wechat", "imToken钱包"),
    ("weibo", "@imToken"),
    ("phone", "+85212345678"),
]


@pytest.fixture
def official(db: Any) -> None:
    from walletdesk.registry import lookups
    from walletdesk.registry.models import OfficialContact

    for position, (kind, value) in enumerate(OFFICIAL):
        OfficialContact.objects.create(
            kind=kind, value=value, label_en=value, label_zh=value, position=position
        )
    lookups.forget()
    yield
    lookups.forget()
