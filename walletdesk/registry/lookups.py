"""The official-contact registry and imported phishing lists, as plain data for the shield.

Both are read on almost every inbound message, so each process keeps a copy for a few seconds
instead of querying per message; admin edits call `forget()`. So are the official addresses
(a handful; the address verdict compares every one for lookalikes in memory). The scam-address
lists are not copied: they run to millions of rows, so one address is asked of the database by
its indexed, lower-case value (`scam_lists_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings

from walletdesk import shield
from walletdesk.core.cache import ProcessCache
from walletdesk.registry.models import ListedAddress, OfficialAddress, OfficialContact, PhishingDomain

# Social handles are prefixed with their platform so "@imToken" on X and on Telegram stay
# distinct; that is the shield verifier's "[platform:]@name" form.
_SOCIAL = {"wechat", "weibo", "x", "telegram"}


def _load_pairs() -> list[tuple[str, str]]:
    return [
        ("handle", f"{kind}:{value}") if kind in _SOCIAL else (kind, value)
        for kind, value in OfficialContact.objects.filter(current=True).values_list("kind", "value")
    ]


def _load_lists() -> shield.PhishingLists | None:
    by_type: dict[str, set[str]] = {"block": set(), "allow": set(), "fuzzy": set()}
    for domain, list_type in PhishingDomain.objects.values_list("domain", "list_type"):
        by_type[list_type].add(domain)
    if not any(by_type.values()):
        return None
    return shield.PhishingLists(
        allowlist=frozenset(by_type["allow"]),
        blocklist=frozenset(by_type["block"]),
        fuzzylist=frozenset(by_type["fuzzy"]),
    )


def _load_addresses() -> tuple[shield.OfficialAddress, ...]:
    return tuple(
        shield.OfficialAddress(address, chain_id)
        for address, chain_id in OfficialAddress.objects.filter(current=True).values_list(
            "address", "chain_id"
        )
    )


_pairs = ProcessCache(_load_pairs)
_lists = ProcessCache(_load_lists)
_addresses = ProcessCache(_load_addresses)
registry_pairs = _pairs.get
phishing_lists = _lists.get
official_addresses = _addresses.get


def scam_lists_of(address: str) -> list[str]:
    """The names of the imported scam lists holding ``address`` (lower case): one query on the
    address index, joined to the list for its name. The chain monitor asks the same."""
    return list(
        ListedAddress.objects.filter(address=address.lower())
        .order_by("address_list__source")
        .values_list("address_list__source", flat=True)
    )


def scam_listed(addresses: Iterable[str]) -> frozenset[str]:
    """Which of these addresses (any case) are on an imported scam list, answered in lower
    case: one indexed query per 500, for the chain monitor's batch of counterparties."""
    wanted = sorted({a.lower() for a in addresses})
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(ListedAddress.objects.filter(address__in=chunk).values_list("address", flat=True))
    return frozenset(found)


def address_book() -> shield.AddressBook:
    return shield.AddressBook(official=official_addresses(), listed_in=scam_lists_of)


# Names ALLOWED_HOSTS holds for the machine itself, not for a site anyone links to.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "*", ""})


def product_domains() -> list[str]:
    """The help desk's own domain: SITE_URL's host (every link it writes points there, the
    help-centre articles a macro inserts included) and the real names in ALLOWED_HOSTS
    (".example.com" is the domain and its subdomains, as for an official domain). Read here,
    not in the shield, which never imports Django; passed to it as official domains."""
    names = [urlsplit(settings.SITE_URL).hostname or ""]
    for host in settings.ALLOWED_HOSTS:
        name = host.strip().lower().lstrip(".")
        if name not in _LOCAL_HOSTS and "*" not in name:
            names.append(name)
    return [n for n in dict.fromkeys(names) if n]


def official_domains() -> list[str]:
    """The registry's official domains and the desk's own (product_domains)."""
    registered = [value for kind, value in registry_pairs() if kind == "domain"]
    return list(dict.fromkeys([*registered, *product_domains()]))


def verify(kind: str | None, value: str) -> shield.Verdict:
    """Judge what a person pasted; ``kind`` None detects it. A recovery phrase or key pasted here
    is answered as one (shield.SECRET_CODES) whatever kind was chosen."""
    return shield.verify_contact(
        kind, value, registry_pairs(), phishing_lists(), screen_secrets=True, addresses=address_book()
    )


def forget() -> None:
    _pairs.forget()
    _lists.forget()
    _addresses.forget()
