"""Through the real server (#22): a new article is found by a paraphrase without a restart.

`walletdesk up` runs the web process and the task worker; the article is written the way the
desk writes it (kb.actions), the worker's embedding task stores its passages, and the web
process, already serving, picks the new vectors up on its next search (the token check).
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.servers import walletdesk_up

CREATE = """
from walletdesk.kb import actions
from walletdesk.kb.actions import ArticleInput, TranslationInput
a = actions.create_article("transfer-not-arrived", ArticleInput(category="security", translations={
    "zh-hans": TranslationInput("转账显示成功但没到账", "转账完成后为什么可能还没显示，以及要检查什么。",
        "检查你选择的网络，并在区块浏览器里查看交易哈希。"),
    "en": TranslationInput("Transfer shows success but has not arrived",
        "Why a completed transfer can take time to appear.", "Check the network and the transaction hash."),
}))
actions.publish_article(a)
"""


def _search(base_url: str, query: str) -> str:
    url = f"{base_url}/help/search/?" + urllib.parse.urlencode({"q": query})
    with urllib.request.urlopen(url, timeout=60) as response:
        return str(response.read().decode())


def test_a_new_article_is_found_by_a_paraphrase_without_a_restart(tmp_path: Path) -> None:
    with walletdesk_up(tmp_path, env={"KB_INDEX_CHECK_SECONDS": "1"}) as server:
        assert "/help/a/transfer-not-arrived/" not in _search(server.base_url, "我转的币去哪了")
        server.manage("shell", "-c", CREATE)
        # The worker embeds it in the background (seconds on a busy 2-core machine): wait for
        # it, bounded, then the paraphrase finds it. Not a timing assertion: only the bound.
        deadline = time.monotonic() + 240
        found = False
        while not found and time.monotonic() < deadline:
            found = "/help/a/transfer-not-arrived/" in _search(server.base_url, "我转的币去哪了")
            if not found:
                time.sleep(1)
        assert found, server.log()[-3000:]
        # Suggestions as the customer types stay lexical: the paraphrase shares no word with it.
        url = f"{server.base_url}/help/suggest/?" + urllib.parse.urlencode({"q": "我转的币去哪了"})
        with urllib.request.urlopen(url, timeout=60) as response:
            assert "/help/a/transfer-not-arrived/" not in response.read().decode()
