"""Who counts as an agent, and the decorator every agent page uses.

One rule for the whole desk (tickets, knowledge base, reports, email quarantine): an active
staff user. Which tickets an agent then sees is `tickets.access`'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def is_agent(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def agent_required(view: View) -> View:
    """Anonymous visitors go to sign in; signed-in non-agents get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
