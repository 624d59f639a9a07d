import json

import pytest

from walletdesk.shield import parse_domain_list, parse_phishing_config


def test_metamask_config_with_current_and_legacy_keys():
    config = {
        "version": 2,
        "tolerance": 2,
        "fuzzylist": ["metamask.io", "myetherwallet.com"],
        "allowlist": ["metamask.io", "*.Safe-Site.org"],
        "whitelist": ["old-allowed.com"],
        "blocklist": ["evil.io", "https://phish.top/login", ""],
        "blacklist": ["legacy-evil.net."],
    }
    lists = parse_phishing_config(json.dumps(config))
    assert lists.tolerance == 2
    assert lists.allowlist == {"metamask.io", "safe-site.org", "old-allowed.com"}
    assert lists.blocklist == {"evil.io", "phish.top", "legacy-evil.net"}
    assert lists.fuzzylist == {"metamask.io", "myetherwallet.com"}
    assert lists.blocks("login.evil.io") and not lists.blocks("notevil.io")


def test_config_must_be_an_object():
    with pytest.raises(ValueError):
        parse_phishing_config("[]")


def test_plain_domain_list():
    text = "# scam domains\n\nevil.io\n  Phish.TOP  # reported 2026-01\nhttps://x.y.z/path\nnot a domain\n"
    assert parse_domain_list(text) == {"evil.io", "phish.top", "x.y.z"}


def test_merged_lists():
    a = parse_phishing_config('{"blocklist": ["a.io"], "tolerance": 1}')
    b = parse_phishing_config('{"blocklist": ["b.io"], "allowlist": ["c.io"], "tolerance": 3}')
    merged = a.merged(b)
    assert merged.blocklist == {"a.io", "b.io"} and merged.allowlist == {"c.io"} and merged.tolerance == 3
