"""Strip quoted history and signatures from a reply, so agents see what the customer just wrote.

Pure module (no Django). Works on plain text (HTML-only mails are converted first, with
``<blockquote>`` turned into "> " lines). The rules are deliberately conservative: cutting too
much loses what a customer said, cutting too little only shows some history.

Recognised:
- attribution lines: "On <date>, <name> wrote:" (possibly wrapped over three lines),
  Chinese clients' "在 2024年6月1日 … 写道：" and Gmail's "张三 <a@b> 于2024年6月1日周六 写道：";
- separators: "-----Original Message-----", "----- 原始邮件 -----", QQ Mail's
  "------------------ 原始邮件 ------------------", Outlook's "____" rule before a header block;
- header blocks: "From:/发件人:" followed within a few lines by "Sent:/Date:/发送时间:/日期:/时间:"
  (Outlook, Foxmail, QQ Mail, NetEase);
- "> " quoted lines anywhere (interleaved replies keep the customer's own lines);
- the "-- " signature separator and mobile footers ("Sent from my iPhone", "发自我的iPhone").
"""

from __future__ import annotations

import re

__all__ = ["strip_quoted"]

_ATTRIBUTION = re.compile(
    r"""^\s*(?:
        (?=.*[\d@])(?:On|Am|Le|El|Il|Op)\s.{0,400}?(?:wrote|schrieb|a\s+écrit|escribió|ha\s+scritto|schreef)\s*:\s*$
      | (?=.*[\d@]).{0,400}?[写寫]道\s*[:：]\s*$
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^(?:On|Am|Le|El|Il|Op|在)\s", re.IGNORECASE)
_ATTRIBUTION_WORD = re.compile(r"wrote|写道|寫道|schrieb|écrit|escribió|scritto|schreef", re.IGNORECASE)
# Cheap first look: most mails (first messages, web forms) hold none of these, and skip the rest.
_MAYBE_HISTORY = re.compile(
    r"wrote|写道|寫道|schrieb|écrit|escribió|scritto|schreef|^\s*>|^--|-{5,}|_{8,}"
    r"|^\s*\*?(?:From|发件人|寄件者|發件人|差出人)|Sent\s|Get\s+Outlook|发自|来自我的|從我的|从我的",
    re.IGNORECASE | re.MULTILINE,
)
_SEPARATOR = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:Original\s+Message|Reply\s+Message|原始邮件|原始郵件|原邮件|回复的原邮件)\s*-{2,}
      | _{8,}\s*
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\s*[*]?(?:From|发件人|寄件者|發件人|差出人)[*]?\s*[:：]", re.IGNORECASE)
_WHEN_FIELD = re.compile(
    r"^\s*[*]?(?:Sent|Date|发送时间|發送時間|日期|时间|時間|寄件日期|送信日時)[*]?\s*[:：]", re.IGNORECASE
)
_SIG_SEPARATOR = re.compile(r"^-- ?$")
_MOBILE_FOOTER = re.compile(
    r"""^\s*(?:
        Sent\s+from\s+my\s+\S.{0,40}
      | Sent\s+from\s+\S.{0,30}\s+for\s+(?:iOS|Android|Windows|Mac)
      | Get\s+Outlook\s+for\s+\S.{0,20}
      | Sent\s+(?:from|with|via)\s+(?:Mail|Outlook|Gmail|Yahoo|Proton|Spark|BlueMail)\b.{0,30}
      | 发自我的\s?.{1,20}
      | 来自我的\s?.{1,20}
      | 從我的\s?.{1,20}傳送
      | 从我的\s?.{1,20}发送
      | 发自\s?(?:网易邮箱|QQ邮箱|手机QQ邮箱|Foxmail|新浪邮箱|阿里邮箱|139邮箱|Outlook).{0,20}
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_HEADER_BLOCK_LOOKAHEAD = 6


def strip_quoted(text: str) -> str:
    """Return ``text`` without quoted history and signatures. Falls back to ``text`` when
    stripping would leave nothing (a bare forward is still what the customer sent)."""
    if not text:
        return ""
    if not _MAYBE_HISTORY.search(text):
        return text.strip()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _find_cut(lines)
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    kept = _drop_signature(kept)
    result = "\n".join(kept).strip()
    return result or text.strip()


def _find_cut(lines: list[str]) -> int:
    n = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if _SEPARATOR.match(stripped):
            # An underscore rule only counts when an Outlook header block follows it.
            if stripped.startswith("_") and not _header_block_at(lines, i + 1, skip_blank=True):
                continue
            return i
        if _FROM_FIELD.match(stripped) and _header_block_at(lines, i):
            return i
        if len(stripped) < 500:
            # Gmail wraps long attributions; try the line alone, then joined with the next two.
            # Only an attribution *start* ("On ...", "在 ...") may continue on following lines;
            # otherwise the customer's last sentence would be swallowed with it.
            spans = (1, 2, 3) if _ATTRIBUTION_START.match(stripped) else (1,)
            for span in spans:
                if i + span > n:
                    break
                last = lines[i + span - 1]
                if not _ATTRIBUTION_WORD.search(last):
                    continue
                joined = " ".join(part.strip() for part in lines[i : i + span])
                if _ATTRIBUTION.match(joined):
                    return i
    return n


def _header_block_at(lines: list[str], start: int, *, skip_blank: bool = False) -> bool:
    i = start
    if skip_blank:
        while i < len(lines) and not lines[i].strip():
            i += 1
    if i >= len(lines) or not _FROM_FIELD.match(lines[i]):
        return False
    return any(_WHEN_FIELD.match(line) for line in lines[i + 1 : i + 1 + _HEADER_BLOCK_LOOKAHEAD])


def _drop_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if _SIG_SEPARATOR.match(line) and i > 0:
            lines = lines[:i]
            break
    # Mobile footers only count at the end: "发自我的..." can also start a real sentence.
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _MOBILE_FOOTER.match(lines[end - 1])):
        end -= 1
    return lines[:end]
