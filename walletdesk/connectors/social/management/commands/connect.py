"""walletdesk manage connect <provider> --slug <slug> --set key=value ...

Creates the social account, or updates the keys given (others are kept). Prints the webhook
path to give the provider. Secret values are never printed back.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from walletdesk.connectors.social.base import adapter_for, providers
from walletdesk.connectors.social.models import SocialAccount


class Command(BaseCommand):
    help = "Create or update a social channel (WeChat, Weibo, X, Telegram) and its keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", help="wechat, weibo, x or telegram")
        parser.add_argument("--slug", required=True, help="the channel's name in its webhook URL")
        parser.add_argument(
            "--set", action="append", default=[], metavar="KEY=VALUE", help="a key to set (repeat)"
        )
        parser.add_argument("--unset", action="append", default=[], metavar="KEY", help="a key to remove")
        parser.add_argument("--name", default=None, help="a display name")
        parser.add_argument("--team", default=None, help="slug of the team its tickets go to")
        parser.add_argument("--language", default=None, help="default language (zh-hans, en)")
        parser.add_argument("--inactive", action="store_true", help="stop accepting its webhooks")
        parser.add_argument("--active", action="store_true", help="accept its webhooks again")

    def handle(self, *args: Any, **options: Any) -> None:
        provider = options["provider"].lower()
        adapter = adapter_for(provider)
        if adapter is None:
            raise CommandError(f"unknown provider {provider!r}; one of: {', '.join(providers())}")
        slug = options["slug"]
        if slugify(slug) != slug or not slug:
            raise CommandError(f"the slug must be lower-case letters, digits and hyphens, not {slug!r}")
        values: dict[str, str] = {}
        allowed = set(adapter.required_keys) | set(adapter.optional_keys) | {"api_base"}
        for pair in options["set"]:
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep or not key:
                raise CommandError(f"--set takes KEY=VALUE, not {pair!r}")
            if key not in allowed:
                raise CommandError(f"{provider} has no key {key!r}; its keys: {', '.join(sorted(allowed))}")
            values[key] = value
        with transaction.atomic():
            account = SocialAccount.objects.select_for_update().filter(provider=provider, slug=slug).first()
            created = account is None
            if account is None:
                account = SocialAccount(provider=provider, slug=slug, name=slug)
            keys = account.credentials() if not created else {}
            keys.update(values)
            for key in options["unset"]:
                keys.pop(key, None)
            missing = [k for k in adapter.required_keys if not keys.get(k)]
            if missing:
                raise CommandError(f"{provider} needs {', '.join(missing)} (--set {missing[0]}=...)")
            account.set_credentials(keys)
            if options["name"] is not None:
                account.name = options["name"]
            if options["language"] is not None:
                account.language = options["language"]
            if options["team"] is not None:
                account.team = _team(options["team"])
            if options["inactive"]:
                account.active = False
            if options["active"]:
                account.active = True
            account.save()
        shown = ", ".join(
            f"{k}={'***' if k in adapter.secret_keys else v}"
            for k, v in sorted(account.credentials().items())
        )
        self.stdout.write(
            f"{'created' if created else 'updated'} {provider} channel {slug!r} "
            f"({'active' if account.active else 'inactive'}): {shown}\n"
            f"webhook: {account.hook_path}"
        )


def _team(slug: str) -> Any:
    from walletdesk.tickets.models import Team

    if not slug:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise CommandError(f"no team {slug!r}")
    return team
