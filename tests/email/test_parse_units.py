"""The pure helpers behind parse_mail: charsets, headers, quoting, filenames, loop detection."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletdesk.connectors.email.charsets import decode_bytes, decode_header_value, normalise_charset
from walletdesk.connectors.email.filenames import safe_filename
from walletdesk.connectors.email.loops import auto_reply_reason
from walletdesk.connectors.email.parse import html_to_text, parse_mail, sanitise_html
from walletdesk.connectors.email.quoting import strip_quoted

# --------------------------------------------------------------------------------------------
# Charsets


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("GB2312", "gb18030"),
        ('"gbk"', "gb18030"),
        ("x-gbk", "gb18030"),
        ("gb_2312-80", "gb18030"),
        ("cp936", "gb18030"),
        ("big5", "big5hkscs"),
        ("ks_c_5601-1987", "cp949"),
        ("Shift_JIS", "cp932"),
        ("ISO-2022-JP", "iso2022_jp_2"),
        ("unicode-1-1-utf-7", "utf-7"),
        ("iso-8859-1", "cp1252"),
        ("us-ascii", "utf-8"),
        ("x-unknown", None),
        ("unknown-8bit", None),
        ("base64", None),  # not a text codec
        ("unicode_escape", None),  # a text codec no sender may choose
        ("", None),
        (None, None),
    ],
)
def test_normalise_charset(label: str | None, codec: str | None) -> None:
    assert normalise_charset(label) == codec


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("你好，帐户".encode("gbk"), "gb2312", "你好，帐户"),
        ("朱镕基".encode("gbk"), "gb2312", "朱镕基"),  # GBK-only character under a GB2312 label
        ("你好，我的账户被锁定了".encode("gbk"), "utf-8", "你好，我的账户被锁定了"),
        ("你好，我的账户被锁定了".encode(), "gbk", "你好，我的账户被锁定了"),
        ("你好，我的账户被锁定了".encode("gbk"), "iso-8859-1", "你好，我的账户被锁定了"),
        ("帳戶被鎖定了，請幫忙處理".encode("big5"), None, "帳戶被鎖定了，請幫忙處理"),
        ("こんにちは、アカウント".encode("shift_jis"), None, "こんにちは、アカウント"),
        ("こんにちは".encode("iso2022_jp"), None, "こんにちは"),
        ("hello 你好".encode("utf-7"), "utf-7", "hello 你好"),
        ("Müller café".encode("latin-1"), None, "Müller café"),
        ("€ “quoted”".encode("cp1252"), "iso-8859-1", "€ “quoted”"),
        (b"plain ascii", "x-unknown", "plain ascii"),
    ],
)
def test_decode_bytes_reads_real_text(data: bytes, declared: str | None, expected: str) -> None:
    assert decode_bytes(data, declared)[0] == expected


def test_decode_bytes_notes_fallbacks_but_not_honest_labels() -> None:
    assert decode_bytes("你好".encode("gbk"), "gbk") == ("你好", None)
    text, note = decode_bytes("你好，我的账户".encode("gbk"), "utf-8")
    assert text == "你好，我的账户" and note is not None and "utf-8" in note


def test_damaged_text_keeps_most_of_it_with_replacement_characters() -> None:
    data = "你好，我的账户被锁定了".encode("gbk")[:-1] + b"\xff" + "好的".encode("gbk")
    text, note = decode_bytes(data, None)
    assert text.startswith("你好，我的账户被锁定") and text.endswith("好的") and "\ufffd" in text
    assert note is not None and "replacement" in note


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300),
    st.sampled_from([None, "utf-8", "gbk", "big5", "utf-7", "x-bogus", "iso-2022-jp"]),
)
def test_decode_bytes_never_raises_and_returns_real_text(data: bytes, declared: str | None) -> None:
    text, _note = decode_bytes(data, declared)
    text.encode("utf-8")


# --------------------------------------------------------------------------------------------
# Headers


def b_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def test_header_words_and_whitespace() -> None:
    value = f"{b_word('你好', 'utf-8')} {b_word('世界', 'gbk')} and =?utf-8?Q?caf=C3=A9_ok?="
    assert decode_header_value(value)[0] == "你好世界 and café ok"


def test_header_folding_is_unfolded() -> None:
    assert decode_header_value("Re: a long\r\n subject")[0] == "Re: a long subject"


def test_header_raw_8bit_with_hint() -> None:
    raw = "充值".encode("gbk").decode("ascii", "surrogateescape")
    text, notes = decode_header_value(raw, hint="gbk")
    assert text == "充值" and notes


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_header_decoding_never_raises(value: str) -> None:
    decode_header_value(value)[0].encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------------------------
# Quoting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\nOn Mon, 3 Jun 2024 at 10:00, Support <s@x.test> wrote:\n> old", "Thanks!"),
        ("Thanks!\n\nOn Mon, Jun 3, 2024 at 10:00 AM Support <\ns@x.test> wrote:\n\n> old", "Thanks!"),
        ("好的\n\n在 2024年6月1日，下午3:00，客服 <s@x.test> 写道：\n\n> 旧内容", "好的"),
        ("好的\n\n客服 <s@x.test> 于2024年6月1日周六 15:00写道：\n> 旧内容", "好的"),
        ("ok\n\n-----Original Message-----\nFrom: a\nSent: today\n\nold", "ok"),
        ("ok\n\n------------------ 原始邮件 ------------------\n发件人: a\n发送时间: b\n\nold", "ok"),
        ("好\n\n发件人： 客服\n发送时间： 2024-06-01\n收件人： 我\n\n旧", "好"),
        ("ok\n________________________________\nFrom: a\nSent: b\nTo: c\n\nold", "ok"),
        ("keep me\n> quoted\nand me", "keep me\nand me"),
        ("body\n-- \nsig line", "body"),
        ("body\n\nSent from my iPhone", "body"),
        ("body\n\n发自我的iPhone", "body"),
        ("body\n\n发自我的华为手机", "body"),
    ],
)
def test_strip_quoted(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "He wrote: the app crashed when I opened it.",  # "wrote:" mid-sentence is not an attribution
        "他在邮件里写道：请提供助记词。这是骗子吗？",  # quoting a scammer is what the customer says
        "发自内心地感谢你们的帮助。",  # starts like a mobile footer, but is a sentence
        "From: my old wallet\nTo: my new wallet\nI moved 1 ETH.",  # From/To without Sent/Date
    ],
)
def test_strip_quoted_keeps_what_is_not_history(text: str) -> None:
    assert strip_quoted(text) == text


def test_strip_quoted_keeps_a_bare_forward() -> None:
    text = "> only quoted text"
    assert strip_quoted(text) == text  # nothing of the customer's own: show what was sent


# --------------------------------------------------------------------------------------------
# HTML


def test_html_to_text_marks_blockquotes_and_drops_scripts() -> None:
    html = "<p>New &amp; <b>bold</b></p><script>x()</script><blockquote><p>old</p></blockquote>"
    assert html_to_text(html) == "New & bold\n\n> old"
    assert html_to_text("<div>line one</div><div>line two</div><p>para</p>") == "line one\nline two\n\npara"


def test_sanitise_html() -> None:
    clean = sanitise_html(
        '<a href="javascript:alert(1)" onclick="x()">a</a><img src="cid:1"><a href="/r">r</a>'
    )
    assert "javascript" not in clean and "onclick" not in clean and 'src="cid:1"' in clean
    assert 'href="/r"' not in clean
    assert clean.count('rel="noopener noreferrer"') == 2


# --------------------------------------------------------------------------------------------
# Filenames


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("身份证正面.jpg", "image/jpeg", "身份证正面.jpg"),
        ("../../etc/passwd", "text/plain", "passwd"),
        ("C:\\Users\\me\\wallet.dat", "application/octet-stream", "wallet.dat"),
        ("evil\u202egpj.exe", "application/octet-stream", "evil_gpj.exe"),
        ("CON.txt", "text/plain", "_CON.txt"),
        ("  ..hidden  ", "text/plain", "hidden"),
        ("a\x00b.txt", "text/plain", "a_b.txt"),
        (None, "image/png", "attachment-1.png"),
        ("", "message/rfc822", "attachment-1.eml"),
        ("///", "application/pdf", "attachment-1.pdf"),
    ],
)
def test_safe_filename(name: str | None, content_type: str, expected: str) -> None:
    assert safe_filename(name, content_type) == expected


def test_safe_filename_truncates_long_names_keeping_the_extension() -> None:
    name = safe_filename("很长" * 200 + ".pdf", "application/pdf")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= 180


# --------------------------------------------------------------------------------------------
# Loops


def reason(
    headers: dict[str, str], from_address: str = "a@example.org", types: tuple[str, ...] = ()
) -> str | None:
    return auto_reply_reason(headers.get, from_address=from_address, content_types=("text/plain", *types))


def test_auto_reply_signals() -> None:
    assert reason({}) is None
    assert reason({"auto-submitted": "no"}) is None
    assert reason({"auto-submitted": "auto-generated"}) == "auto-submitted: auto-generated"
    assert reason({"x-autorespond": "yes"}) == "x-autorespond header"
    assert reason({"precedence": "junk"}) == "precedence: junk"
    assert reason({"precedence": "first-class"}) is None
    assert reason({"return-path": "<>"}) == "null return path"
    assert reason({"return-path": "<a@example.org>"}) is None
    assert reason({}, from_address="postmaster@example.org") == "from postmaster"
    assert reason({}, types=("message/delivery-status",)) == "bounce: delivery status report"
    assert reason({"x-failed-recipients": "x@example.org"}) == "bounce: x-failed-recipients"


# --------------------------------------------------------------------------------------------
# Hostile input stays cheap (these were quadratic once: seconds per mail).


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@example.org\nContent-Type: text/html\n\n" + b"<a" * 20_000,
        b"From: a@example.org\nContent-Type: text/html\n\n" + b"<script>" * 10_000,
        b"From: a@example.org\nContent-Type: text/html\n\n" + b"<!--" * 10_000,
        b"From: " + b"a" * 200_000 + b" x\nSubject: s\n\nbody",
        b"From: a@example.org\nSubject: " + b"=?utf-8?B?" * 30_000 + b"\n\nbody",
        b"From: a@example.org\nReferences: " + b"<a" * 50_000 + b"\n\nbody",
    ],
    ids=["unclosed-tags", "unclosed-scripts", "unclosed-comments", "long-from", "open-words", "refs"],
)
def test_hostile_mail_parses(raw: bytes) -> None:
    # These inputs once took seconds each (backtracking); they must parse, not hang.
    assert parse_mail(raw).from_address is not None


def test_blank_text_alternative_falls_back_to_html() -> None:
    raw = (
        b'From: a@example.org\nContent-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\n \n--b\nContent-Type: text/html\n\n<p>Real content</p>\n--b--\n"
    )
    assert parse_mail(raw).text == "Real content"
