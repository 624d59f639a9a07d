"""Host names: parsing what people paste, registrable domains, punycode, edit distance."""

import codecs
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Suffixes under which anyone can register a name: the second-level public suffixes people
# meet in this market, and hosting platforms whose subdomains belong to strangers.
MULTI_LABEL_SUFFIXES = frozenset(
    {
        "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "com.hk", "net.hk", "org.hk", "com.tw",
        "net.tw", "org.tw", "co.uk", "org.uk", "co.jp", "ne.jp", "or.jp", "co.kr", "or.kr",
        "com.sg", "com.my", "co.in", "com.br", "co.id", "com.vn", "com.au", "co.nz", "com.ph",
        "com.tr", "com.ru", "com.mx", "com.ar", "co.za",
    }
)  # fmt: skip
HOSTING_SUFFIXES = frozenset(
    {
        "github.io", "gitlab.io", "netlify.app", "vercel.app", "pages.dev", "workers.dev",
        "herokuapp.com", "web.app", "firebaseapp.com", "blogspot.com", "wixsite.com", "gitbook.io",
        "notion.site", "weebly.com", "glitch.me", "repl.co", "surge.sh", "onrender.com",
        "azurewebsites.net", "appspot.com", "000webhostapp.com", "ngrok.io", "ngrok-free.app",
    }
)  # fmt: skip
_DEFANG = (("[.]", "."), ("(.)", "."), ("[dot]", "."), ("hxxp", "http"), ("[:]", ":"))
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_HOST_LABEL = re.compile(r"^[a-z0-9\-_]+$")


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    host: str  # lower case, Unicode labels decoded from punycode, no trailing dot
    raw_host: str  # lower case as written (punycode kept)
    path: str
    userinfo: str


def parse_url(value: str) -> ParsedUrl | None:
    """Parse a URL or bare host as people paste it (defanged, without scheme, with port)."""
    text = value.strip().strip("<>\"'()[]")
    for defanged, plain in _DEFANG:
        text = text.replace(defanged, plain)
    if not _SCHEME.match(text):
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    netloc = parts.netloc
    userinfo, _, hostport = netloc.rpartition("@")
    host = hostport.lower()
    if host.startswith("["):
        return None  # IPv6 literal: not a name anyone can imitate
    host = host.split(":", 1)[0].rstrip(".")
    host = host.replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
    if not host or "." not in host or " " in host:
        return None
    decoded = decode_host(host)
    if decoded is None:
        return None
    return ParsedUrl(host=decoded, raw_host=host, path=parts.path or "", userinfo=userinfo.lower())


def decode_host(host: str) -> str | None:
    labels = []
    for label in host.split("."):
        if not label:
            return None
        if label.startswith("xn--"):
            try:
                label = codecs.decode(label[4:].encode("ascii"), "punycode").lower()
            except (UnicodeError, ValueError):
                return None
        labels.append(label)
    return ".".join(labels)


@dataclass(frozen=True, slots=True)
class DomainParts:
    subdomain: str  # "" when none
    label: str  # the registered name: "imtoken" in support.imtoken.com
    suffix: str  # "com", "com.cn", "github.io"

    @property
    def registrable(self) -> str:
        return f"{self.label}.{self.suffix}"

    @property
    def on_hosting_platform(self) -> bool:
        return self.suffix in HOSTING_SUFFIXES


def split_domain(host: str) -> DomainParts:
    labels = host.split(".")
    suffix_size = 2 if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES else 1
    if len(labels) <= suffix_size:
        return DomainParts("", labels[0], ".".join(labels[1:]))
    suffix = ".".join(labels[-suffix_size:])
    label = labels[-suffix_size - 1]
    subdomain = ".".join(labels[: -suffix_size - 1])
    return DomainParts(subdomain, label, suffix)


_TWO_LABEL_SUFFIXES = MULTI_LABEL_SUFFIXES | HOSTING_SUFFIXES


def is_same_or_subdomain(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def looks_like_hostname(host: str) -> bool:
    return all(_HOST_LABEL.match(label) for label in host.split("."))


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return previous[-1]
