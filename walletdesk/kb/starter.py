"""The starter help-centre articles shipped in `walletdesk/kb/content/`, as plain data.

One file per article per language: `<slug>.<lang>.md`, e.g. `account-locked.zh-hans.md`.
Each file starts with a front-matter block between two `---` lines of `key: value`
pairs, then the Markdown body:

    ---
    title: My account is locked
    category: account-access
    summary: Why the account locks and how to unlock it.
    related: forgot-password, login-network-problems
    ticket_categories: login_locked
    position: 1
    ---
    Markdown body …

Pure: reads files, returns dataclasses; no Django, so the Django side can seed models
from it and the search bench can index it without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CATEGORIES",
    "CONTENT_DIR",
    "LANGUAGES",
    "TICKET_CATEGORIES",
    "FrontMatterError",
    "StarterArticle",
    "Translation",
    "load_starter_articles",
    "parse_front_matter",
]

CONTENT_DIR = Path(__file__).parent / "content"
LANGUAGES: tuple[str, ...] = ("en", "zh-hans")
CATEGORIES: tuple[str, ...] = ("getting-help", "account-access", "security", "transactions", "fees-and-scams")
TICKET_CATEGORIES: tuple[str, ...] = (
    "login_locked",
    "forgot_password",
    "unauthorised_tx",
    "account_stolen",
    "fees",
    "scam_report",
    "other",
)
REQUIRED_KEYS: tuple[str, ...] = ("title", "category", "summary", "related", "ticket_categories", "position")
# Keys that must agree between the language versions of one article.
SHARED_KEYS: tuple[str, ...] = ("category", "related", "ticket_categories", "position")


class FrontMatterError(ValueError):
    """A content file whose front matter is missing, malformed or inconsistent."""


@dataclass(frozen=True, slots=True)
class Translation:
    title: str
    summary: str
    body_markdown: str


@dataclass(frozen=True, slots=True)
class StarterArticle:
    slug: str
    category: str
    position: int
    related: tuple[str, ...]
    ticket_categories: tuple[str, ...]
    translations: dict[str, Translation] = field(default_factory=dict)


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a file into its `key: value` front matter and the Markdown body after it.

    Deliberately tiny instead of YAML: values are single-line strings; lists are
    comma-separated and split by the caller.
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("file must start with a '---' line")
    meta: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            body = "\n".join(lines[number:]).strip() + "\n"
            return meta, body
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            raise FrontMatterError(f"line {number}: expected 'key: value', got {line!r}")
        meta[key.strip()] = value.strip()
    raise FrontMatterError("front matter has no closing '---' line")


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _parse_file(path: Path) -> tuple[str, str, dict[str, str], str]:
    """-> slug, language, front matter, body."""
    stem = path.name.removesuffix(".md")
    slug, dot, lang = stem.rpartition(".")
    if not dot or lang not in LANGUAGES:
        raise FrontMatterError(f"{path.name}: name must be <slug>.<{'|'.join(LANGUAGES)}>.md")
    try:
        meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
    except FrontMatterError as error:
        raise FrontMatterError(f"{path.name}: {error}") from error
    missing = [key for key in REQUIRED_KEYS if not meta.get(key) and key != "related"]
    if missing or "related" not in meta:
        raise FrontMatterError(f"{path.name}: missing front-matter keys {missing or ['related']}")
    if meta["category"] not in CATEGORIES:
        raise FrontMatterError(f"{path.name}: unknown category {meta['category']!r}")
    unknown = set(_split_list(meta["ticket_categories"])) - set(TICKET_CATEGORIES)
    if unknown:
        raise FrontMatterError(f"{path.name}: unknown ticket categories {sorted(unknown)}")
    if not meta["position"].isdigit():
        raise FrontMatterError(f"{path.name}: position must be a whole number")
    return slug, lang, meta, body


def load_starter_articles(content_dir: Path = CONTENT_DIR) -> list[StarterArticle]:
    """Every starter article with all its translations, ordered by category then position."""
    by_slug: dict[str, dict[str, tuple[dict[str, str], str]]] = {}
    for path in sorted(content_dir.glob("*.md")):
        slug, lang, meta, body = _parse_file(path)
        by_slug.setdefault(slug, {})[lang] = (meta, body)

    articles: list[StarterArticle] = []
    for slug, versions in by_slug.items():
        first_meta = next(iter(versions.values()))[0]
        for lang, (meta, _) in versions.items():
            for key in SHARED_KEYS:
                if _normalised(meta[key]) != _normalised(first_meta[key]):
                    raise FrontMatterError(f"{slug}.{lang}.md: {key!r} differs from the other language")
        articles.append(
            StarterArticle(
                slug=slug,
                category=first_meta["category"],
                position=int(first_meta["position"]),
                related=_split_list(first_meta["related"]),
                ticket_categories=_split_list(first_meta["ticket_categories"]),
                translations={
                    lang: Translation(title=meta["title"], summary=meta["summary"], body_markdown=body)
                    for lang, (meta, body) in sorted(versions.items())
                },
            )
        )
    articles.sort(key=lambda article: (CATEGORIES.index(article.category), article.position, article.slug))
    return articles


def _normalised(value: str) -> tuple[str, ...]:
    return _split_list(value)
