"""What `walletdesk manage help` prints: the project's own commands first, with what each does.

Django's own listing is ~90 commands grouped by app in alphabetical order, where an operator
looking for `issue_api_token` or `connect` has to know which app to look under. Ours lead, one
line each (the command's `help`); the rest follow by app, names only, as Django prints them.
"""

from __future__ import annotations

from collections import defaultdict

PROG = "walletdesk manage"


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0].rstrip(".") if (text or "").strip() else ""


def render() -> str:
    from django.core.management import get_commands, load_command_class

    ours: dict[str, str] = {}
    others: dict[str, list[str]] = defaultdict(list)
    for name, app in sorted(get_commands().items()):
        if app.startswith("walletdesk"):
            ours[name] = _first_line(load_command_class(app, name).help)
        else:
            # Django's own commands come as app "django.core"; "[core]" would read as ours.
            others["django" if app == "django.core" else app.rpartition(".")[2]].append(name)
    width = max(map(len, ours), default=0) + 2
    lines = [
        f"usage: {PROG} <command> [options]     ({PROG} help <command>: one command's options)",
        "",
        "walletdesk's commands:",
        *(f"  {name:<{width}}{text}" for name, text in ours.items()),
        "",
        "Django's and the libraries' commands:",
        *(f"  [{app}] {', '.join(names)}" for app, names in sorted(others.items())),
    ]
    return "\n".join(lines) + "\n"
