"""What stored codes say to the reader (tickets.wording), promised times (core.when) and the
Traditional conversion (core.hant), without a browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.utils import translation

from walletdesk.core.hant import to_hant
from walletdesk.core.when import zoned
from walletdesk.tickets import wording
from walletdesk.tickets.models import Status


def test_pending_reads_the_right_way_round_for_each_reader() -> None:
    with translation.override("en"):
        assert str(Status.PENDING.label) == "Waiting on customer"
        assert wording.customer_status("pending") == "Waiting for your reply"
    with translation.override("zh-hans"):
        assert str(Status.PENDING.label) == "等待客户回复"
        assert wording.customer_status("pending") == "等待您的回复"
    with translation.override("zh-hant"):
        assert wording.customer_status("pending") == "等待您的回覆"


def test_a_flag_raised_by_subject_and_body_is_one_line_in_chinese() -> None:
    fee = {"code": "fee_request", "reason": "Asks for an unlock or verification fee"}
    link = {
        "code": "unofficial_link",
        "reason": "Links to https://imt0ken-help.example/x, which is not an official site.",
    }
    with translation.override("zh-hans"):
        assert wording.flag_texts([fee, fee, link]) == [
            "要求支付解冻、验证或提现费用；真正的客服是免费的。",
            "链接到 https://imt0ken-help.example/x，该网站不是官方网站。",
        ]
    # A code we do not know keeps its stored reason rather than showing nothing.
    assert wording.flag_texts([{"code": "new_detector", "reason": "Something new"}]) == ["Something new"]


@pytest.mark.parametrize("kind", sorted(wording._EVENT_TEXT))
def test_every_history_event_is_a_chinese_sentence(kind: str) -> None:
    with translation.override("zh-hans"):
        text = wording.event_sentence(kind, {"target": "WD-1", "source": "WD-2"}, "Alice", {})
    assert not re.search(r"[a-z]+_[a-z]+", text), text
    assert text.endswith("。"), text
    assert re.search(r"[\u4e00-\u9fff]", text), text


def test_a_renamed_shipped_team_keeps_its_admins_name() -> None:
    with translation.override("zh-hans"):
        assert wording.team_name("General support") == "综合客服"
        assert wording.team_name("Support Asia") == "Support Asia"


def test_a_promise_names_its_offset_not_cst() -> None:
    moment = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert zoned(moment) == "2026-12-07 18:00 (UTC+08:00)"
    with override_settings(TIME_ZONE="America/Chicago"):
        assert zoned(moment) == "2026-12-07 04:00 (UTC-06:00)"


def test_traditional_uses_taiwan_words_and_corner_quotes() -> None:
    assert to_hant("请选择问题类型") == "請選擇問題類型"
    assert to_hant("账户被盗“解冻费”") == "帳戶被盜「解凍費」"
    assert to_hant("%(ref)s 已发送") == "%(ref)s 已傳送"
