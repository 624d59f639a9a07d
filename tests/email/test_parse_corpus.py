"""Every fixture mail parses (or is refused with a reason), and reads the way a person expects."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletdesk.connectors.email.parse import ParsedMail, UnparseableMail, parse_mail

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
CORPUS = sorted(FIXTURES.glob("*.eml"))
UNPARSEABLE = {"empty.eml", "whitespace_only.eml"}
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def load(name: str) -> ParsedMail:
    return parse_mail((FIXTURES / name).read_bytes())


def assert_sound(mail: ParsedMail) -> None:
    """Invariants every parse result keeps, whatever went in."""
    assert not any(d.startswith("internal error") for d in mail.defects), mail.defects
    strings = [mail.subject, mail.from_address, mail.from_name, mail.text, mail.reply_text, mail.html or ""]
    strings += [mail.message_id or "", mail.in_reply_to or "", *mail.references, *mail.to, *mail.cc]
    strings += [*mail.reply_to, *mail.charset_notes, *mail.defects]
    for value in strings:
        value.encode("utf-8")  # no lone surrogates: the database would reject them
    for attachment in mail.attachments:
        name = attachment.filename
        assert name and "/" not in name and "\\" not in name and not name.startswith(".")
        assert "\x00" not in name and "\u202e" not in name
        assert attachment.size == len(attachment.payload)
    if mail.html is not None:
        lowered = mail.html.lower()
        assert "<script" not in lowered and "javascript:" not in lowered
        assert not EVENT_HANDLER.search(mail.html)
    if mail.date is not None:
        assert mail.date.tzinfo is not None
    assert len(mail.content_hash) == 64


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40
    for path in CORPUS:
        assert path.stat().st_size < 50_000, path.name


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_fixture_parses_or_is_refused_with_reason(path: Path) -> None:
    raw = path.read_bytes()
    if path.name in UNPARSEABLE:
        with pytest.raises(UnparseableMail) as excinfo:
            parse_mail(raw)
        assert excinfo.value.reason
        return
    mail = parse_mail(raw)
    assert_sound(mail)
    assert mail == parse_mail(raw), "parsing is deterministic"


# --------------------------------------------------------------------------------------------
# What a person would notice, fixture by fixture.

Check = Callable[[ParsedMail], None]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(func: Check) -> Check:
        CHECKS[name] = func
        return func

    return register


@check("gb2312_foxmail.eml")
def _gb2312(m: ParsedMail) -> None:
    assert m.subject == "账户被锁定，请帮忙解锁"
    assert m.from_name == "李雷" and m.from_address == "lilei@163.example"
    assert "我的钱包账户被锁定了" in m.text
    assert m.message_id == "202406011504050112345@163.example"
    assert m.date == datetime(2024, 6, 1, 7, 4, 5, tzinfo=UTC)
    assert m.charset_notes == ()


@check("gbk_qq_mail_alternative.eml")
def _qq(m: ParsedMail) -> None:
    assert m.subject == "回复：转账问题"
    assert m.from_name == "王芳"
    assert m.text.startswith("你好，转账一直显示“打包中”")
    assert m.reply_text == "你好，转账一直显示“打包中”，已经两个小时了。交易哈希：0xabc123"
    assert m.html is not None and "原始邮件" in m.html and "style=" not in m.html
    assert m.in_reply_to == "ticket-42@example.test"
    assert m.thread_ids == ("ticket-42@example.test",)


@check("gb18030_four_byte.eml")
def _gb18030(m: ParsedMail) -> None:
    assert m.text == "我叫𠀾先生，资产不见了😭，请尽快处理。"


@check("big5_outlook_tw.eml")
def _big5(m: ParsedMail) -> None:
    assert m.subject == "回覆: 帳戶問題"
    assert m.from_name == "陳大文"
    assert "我的帳戶昨天被鎖定了" in m.text
    assert "寄件者" not in m.reply_text and m.reply_text.endswith("陳大文")


@check("iso2022jp.eml")
def _iso2022jp(m: ParsedMail) -> None:
    assert m.subject == "アカウントについて"
    assert m.from_name == "山田"
    assert "アカウントがロックされました" in m.text


@check("utf7_body.eml")
def _utf7(m: ParsedMail) -> None:
    assert m.text == "Hello, 你好，我的钱包 wallet 0x1234 无法同步。"


@check("utf8_plain_python_default.eml")
def _utf8_default(m: ParsedMail) -> None:
    assert m.subject == "Can't log in — 无法登录"
    assert m.from_name == "Ana López"
    assert m.date == datetime(2024, 6, 5, 8, 0, tzinfo=UTC)  # "-0000" becomes UTC, still aware


@check("latin1_quoted_printable.eml")
def _latin1(m: ParsedMail) -> None:
    assert m.subject == "Problème de récupération"
    assert m.from_name == "François Müller"
    assert "Je n'arrive pas à récupérer" in m.text


@check("cp1252_labelled_latin1.eml")
def _cp1252(m: ParsedMail) -> None:
    assert m.text == "I was charged €25 for “support” — is that legit?"


@check("ks_c_5601_korean.eml")
def _korean(m: ParsedMail) -> None:
    assert m.subject == "계정 잠김"
    assert m.text == "안녕하세요. 계정이 잠겼습니다."


@check("mislabelled_utf8_is_gbk.eml")
def _mislabelled_utf8(m: ParsedMail) -> None:
    assert m.text == "你好，我的账户无法登录，提示网络错误。"
    assert m.subject == "网络错误"
    assert any("gb18030" in note for note in m.charset_notes)


@check("mislabelled_gb2312_has_gbk_chars.eml")
def _mislabelled_gb2312(m: ParsedMail) -> None:
    assert m.text == "我是朱镕堃，朋友喆哥说你们能帮我找回钱包。"
    assert m.subject == "朱镕堃的钱包"


@check("unknown_charset_x_unknown.eml")
def _x_unknown(m: ParsedMail) -> None:
    assert m.text == "助记词被盗了怎么办？"
    assert any("x-unknown" in note for note in m.charset_notes)


@check("unknown_charset_gb_2312_80.eml")
def _gb_2312_80(m: ParsedMail) -> None:
    assert m.text == "请问手续费是多少？"


@check("no_charset_8bit_gbk.eml")
def _no_charset_gbk(m: ParsedMail) -> None:
    assert m.text == "你好，我忘记了钱包密码，怎么重置？"
    assert m.charset_notes


@check("no_charset_8bit_big5.eml")
def _no_charset_big5(m: ParsedMail) -> None:
    assert m.text == "您好，我的帳戶被盜了，請幫忙凍結。"


@check("raw_utf8_headers.eml")
def _raw_utf8(m: ParsedMail) -> None:
    assert m.subject == "提现一直没有到账"
    assert m.from_name == "张伟"
    assert m.charset_notes == ()  # RFC 6532: raw UTF-8 is legitimate, not a fallback


@check("raw_gbk_headers.eml")
def _raw_gbk(m: ParsedMail) -> None:
    assert m.subject == "充值未到账"
    assert m.from_name == "刘洋"
    assert m.text == "我充值了100 USDT，还没到账。"
    assert m.charset_notes  # raw 8-bit headers are worth a note


@check("rfc2047_q_subject.eml")
def _q_subject(m: ParsedMail) -> None:
    assert m.subject == "Re: 提币失败 (ticket #42)"
    assert m.from_name == "Zoë Saldaña"


@check("rfc2047_split_multibyte.eml")
def _split(m: ParsedMail) -> None:
    assert m.subject == "钱包地址被冒用，紧急求助"


@check("rfc2231_chinese_filename.eml")
def _rfc2231(m: ParsedMail) -> None:
    assert [a.filename for a in m.attachments] == ["身份证正面（张三）.jpg"]
    assert m.attachments[0].content_type == "image/jpeg"
    assert m.attachments[0].payload.startswith(b"\xff\xd8\xff\xe0")
    assert m.text == "附件是我的身份证正面。"


@check("rfc2047_filename_outlook.eml")
def _rfc2047_filename(m: ParsedMail) -> None:
    names = [a.filename for a in m.attachments]
    assert names[0] == "交易截图.png"
    assert names[1] == "evil_gpj.exe"  # no path, no right-to-left override
    assert m.text == "见附件截图。"


@check("python_policy_smtp_attachment.eml")
def _policy_smtp(m: ParsedMail) -> None:
    assert m.subject == "交易记录"
    assert [(a.filename, a.content_type) for a in m.attachments] == [("交易记录.csv", "text/csv")]
    assert m.text == "请查收交易记录。"  # the CSV is an attachment, not body text


@check("python_compat32_mime.eml")
def _compat32(m: ParsedMail) -> None:
    # The whole "name <address>" was encoded as one word: still found.
    assert (m.from_name, m.from_address) == ("客服机器人", "bot@example.net")
    assert m.subject == "每日报告"
    assert [a.filename for a in m.attachments] == ["report.pdf"]


@check("inline_image_cid.eml")
def _inline(m: ParsedMail) -> None:
    (image,) = m.attachments
    assert image.content_id == "error-img@icloud.example" and image.inline
    assert image.content_type == "image/gif" and image.payload.startswith(b"GIF89a")
    assert m.html is not None and 'src="cid:error-img@icloud.example"' in m.html
    assert m.text.startswith("The app shows this error:")  # text/plain preferred over HTML


@check("large_attachment.eml")
def _large(m: ParsedMail) -> None:
    (blob,) = m.attachments
    assert blob.size == 34_000 and blob.filename == "logs.zip"
    assert blob.payload == bytes((i * 7919) % 251 for i in range(34_000))


@check("html_only_script.eml")
def _html_only(m: ParsedMail) -> None:
    assert m.html is not None
    lowered = m.html.lower()
    for bad in ("<script", "alert(", "onload", "onerror", "javascript:", "<iframe", "<style", "phish"):
        assert bad not in lowered, bad
    assert 'href="https://wallet.example/verify"' in m.html
    assert 'rel="noopener noreferrer"' in m.html
    assert m.text == "Hello support,\n\nPlease verify at this link or the site.\n\nThanks & regards"


@check("gmail_alternative_reply.eml")
def _gmail(m: ParsedMail) -> None:
    assert m.reply_text == "Thanks, the wallet is unlocked now."
    assert m.references == ("ticket-7@example.test", "reply-7-1@example.test")
    assert m.thread_ids == ("reply-7-1@example.test", "ticket-7@example.test")
    assert m.cc == ("jane@work.example",)
    assert m.html is not None and "class=" not in m.html


@check("html_only_reply_blockquote.eml")
def _html_reply(m: ParsedMail) -> None:
    assert m.text.startswith("已经收到验证码，问题解决了。")
    assert "> 请查看短信验证码。" in m.text  # the blockquote reads as quoted text
    assert m.reply_text == "已经收到验证码，问题解决了。"
    assert m.html is not None and "<blockquote>" in m.html


@check("forwarded_rfc822.eml")
def _forwarded(m: ParsedMail) -> None:
    assert m.text.startswith("I received the attached email")
    assert "12 words" not in m.text  # the forwarded phish stays inside its attachment
    (eml,) = m.attachments
    assert eml.content_type == "message/rfc822" and eml.filename == "紧急：验证您的钱包.eml"
    inner = parse_mail(eml.payload)
    assert inner.from_address == "support@imt0ken-verify.example"
    assert "Enter your 12 words" in inner.text


@check("nested_multipart_mixed.eml")
def _nested(m: ParsedMail) -> None:
    assert m.text == "Part one of my question.\n\nPart two, after the picture."
    assert [(a.content_type, a.inline, a.content_id) for a in m.attachments] == [
        ("image/png", True, "logo@x"),
        ("application/pdf", False, None),
    ]


@check("truncated_mime.eml")
def _truncated(m: ParsedMail) -> None:
    assert m.text == "The body survived."
    assert m.attachments and m.attachments[0].filename == "data.bin"
    assert "CloseBoundaryNotFoundDefect" in m.defects


@check("bad_base64.eml")
def _bad_base64(m: ParsedMail) -> None:
    assert m.text.startswith("钱包")
    assert any("Base64" in d for d in m.defects)


@check("multipart_without_boundary.eml")
def _no_boundary(m: ParsedMail) -> None:
    assert "This text must not be lost." in m.text


@check("very_long_lines.eml")
def _long(m: ParsedMail) -> None:
    assert len(m.text) > 9000 and m.subject.startswith("long subject")


@check("empty_body.eml")
def _empty_body(m: ParsedMail) -> None:
    assert m.text == "" and m.reply_text == "" and m.html is None and m.attachments == ()


@check("headers_only.eml")
def _headers_only(m: ParsedMail) -> None:
    assert m.subject == "only headers" and m.text == ""


@check("no_headers_body_only.eml")
def _no_headers(m: ParsedMail) -> None:
    assert m.text.startswith("我的钱包打不开了") and m.from_address == "" and m.message_id is None


@check("mbox_from_line.eml")
def _mbox(m: ParsedMail) -> None:
    assert m.from_address == "piped@example.org" and m.text == "Delivered through a pipe."


@check("format_flowed.eml")
def _flowed(m: ParsedMail) -> None:
    assert m.reply_text == (
        "This is a long paragraph that the client wrapped at seventy-two columns so that it looks "
        "fine in old terminals but should be one line again."
    )


@check("missing_message_id.eml")
def _no_id(m: ParsedMail) -> None:
    assert m.message_id is None and len(m.content_hash) == 64


@check("missing_date.eml")
def _no_date(m: ParsedMail) -> None:
    assert m.date is None


@check("garbage_date.eml")
def _garbage_date(m: ParsedMail) -> None:
    assert m.date is None


@check("broken_address_headers.eml")
def _broken_addresses(m: ParsedMail) -> None:
    assert m.from_address == "broken@example.org"
    assert m.to == ()
    assert m.cc == ("cc@example.org",)
    assert m.reply_to == ("reply@example.org",)


@check("dsn_bounce.eml")
def _dsn(m: ParsedMail) -> None:
    assert m.auto_reply_reason is not None and m.is_auto_reply
    assert m.from_address == "mailer-daemon@mx.example.test"


@check("dsn_bounce_without_auto_submitted.eml")
def _dsn_plain(m: ParsedMail) -> None:
    assert m.auto_reply_reason == "bounce: delivery status report"


@check("vacation_auto_replied.eml")
def _vacation(m: ParsedMail) -> None:
    assert m.auto_reply_reason == "auto-submitted: auto-replied (vacation)"
    assert m.subject == "自动回复: 休假中"


@check("x_autoreply.eml")
def _x_autoreply(m: ParsedMail) -> None:
    assert m.auto_reply_reason == "x-autoreply header"


@check("precedence_bulk.eml")
def _bulk(m: ParsedMail) -> None:
    assert m.auto_reply_reason == "precedence: bulk"


@check("null_return_path.eml")
def _null_return_path(m: ParsedMail) -> None:
    assert m.auto_reply_reason == "null return path"


@check("read_receipt_mdn.eml")
def _mdn(m: ParsedMail) -> None:
    assert m.auto_reply_reason == "read receipt (disposition notification)"


@check("auto_submitted_no.eml")
def _human(m: ParsedMail) -> None:
    assert m.auto_reply_reason is None and not m.is_auto_reply


@check("reply_english_quoted_signature.eml")
def _reply_en(m: ParsedMail) -> None:
    assert m.reply_text == "It went through after an hour, thanks!"
    assert m.in_reply_to == "reply-12-1@example.test"
    assert m.references == ("ticket-12@example.test", "reply-12-1@example.test")


@check("reply_apple_mail_chinese.eml")
def _reply_apple(m: ParsedMail) -> None:
    assert m.from_name == "小明" and m.subject == "回复：无法同步"
    assert m.reply_text == "好的，已经解决了，谢谢！"


@check("reply_apple_mail_chinese_unquoted.eml")
def _reply_apple_unquoted(m: ParsedMail) -> None:
    assert m.reply_text == "还是不行，截图见附件。"


@check("reply_outlook_original_message.eml")
def _reply_outlook(m: ParsedMail) -> None:
    assert m.reply_text == "Understood, thank you for clarifying the gas fee.\n\nRegards,\nCorp User"


@check("reply_outlook_underscore_block.eml")
def _reply_outlook_rule(m: ParsedMail) -> None:
    assert m.reply_text == "Please close the case."


@check("reply_foxmail_header_block.eml")
def _reply_foxmail(m: ParsedMail) -> None:
    assert m.from_name == "王强"
    assert "发件人" not in m.reply_text and "地址已经核对无误" in m.reply_text


@check("reply_gmail_chinese.eml")
def _reply_gmail_zh(m: ParsedMail) -> None:
    assert m.reply_text == "收到，我明天再试。"


@check("reply_qq_original_mail.eml")
def _reply_qq(m: ParsedMail) -> None:
    assert m.reply_text == "已经按你说的操作了。"
    assert m.from_name == "小Q"


@check("signature_sent_from_iphone.eml")
def _iphone(m: ParsedMail) -> None:
    assert m.reply_text == "Is the support chat free to use?"
    assert "Sent from my iPhone" in m.text  # text keeps everything; only reply_text trims


def test_every_check_names_a_fixture() -> None:
    names = {p.name for p in CORPUS}
    assert set(CHECKS) <= names


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_fixture_reads_as_expected(name: str) -> None:
    mail = load(name)
    assert_sound(mail)
    CHECKS[name](mail)


def test_human_mails_are_not_flagged_as_auto_replies() -> None:
    robots = {
        "dsn_bounce.eml",
        "dsn_bounce_without_auto_submitted.eml",
        "vacation_auto_replied.eml",
        "x_autoreply.eml",
        "precedence_bulk.eml",
        "null_return_path.eml",
        "read_receipt_mdn.eml",
    }
    for path in CORPUS:
        if path.name in UNPARSEABLE:
            continue
        flagged = parse_mail(path.read_bytes()).auto_reply_reason is not None
        assert flagged == (path.name in robots), path.name


# --------------------------------------------------------------------------------------------
# Fuzzing: real mails, damaged.

PARSEABLE = [p.read_bytes() for p in CORPUS if p.name not in UNPARSEABLE and p.stat().st_size < 5_000]


@st.composite
def damaged_mail(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(PARSEABLE)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not data:
            break
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        action = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate"]))
        if action == "truncate":
            del data[at:]
        elif action == "flip":
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif action == "insert":
            data[at:at] = draw(
                st.one_of(
                    st.binary(max_size=12),
                    st.sampled_from(
                        [
                            b"=?",
                            b"?=",
                            b"=?utf-8?B?",
                            b"--",
                            b"\r\n\r\n",
                            b";",
                            b'"',
                            b"\x1b$B",
                            b"*0*=",
                            b"%",
                        ]
                    ),
                )
            )
        elif action == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=40))]
        else:
            end = min(len(data), at + draw(st.integers(min_value=1, max_value=200)))
            data[at:at] = data[at:end]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_mail())
def test_damaged_mail_never_raises_anything_but_unparseable(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except UnparseableMail as exc:
        assert exc.reason
        return
    assert_sound(mail)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_anything_but_unparseable(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except UnparseableMail as exc:
        assert exc.reason
        return
    assert_sound(mail)


def test_unparseable_inputs() -> None:
    for raw in (b"", b"   \r\n\t", bytearray(b"")):
        with pytest.raises(UnparseableMail):
            parse_mail(raw)
    with pytest.raises(UnparseableMail):
        parse_mail("From: a@b\n\nstr is not bytes")  # type: ignore[arg-type]


def test_deep_nesting_is_refused_or_flattened_not_crashing() -> None:
    depth = 2000
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    raw = b"From: a@example.org\nSubject: deep\n" + head + b"Content-Type: text/plain\n\nbottom\n"
    try:
        mail = parse_mail(raw)
    except UnparseableMail as exc:
        assert "nested" in exc.reason
    else:
        assert_sound(mail)
