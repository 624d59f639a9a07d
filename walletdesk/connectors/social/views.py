"""The webhook every provider pushes to: /hooks/<provider>/<slug>.

GET is the provider's handshake (WeChat and Weibo echo a nonce, X's CRC challenge). POST is
a push: the adapter checks its signature (403 and nothing stored if it fails), parses it, and
what it holds is stored, screened, before we answer (`inbound.prepare` screens; under the
real server the process's writer thread commits the waiting pushes together, social.intake).
Turning it into a ticket happens in a task, so the provider gets its answer in milliseconds
(WeChat retries a push it has no answer to within 5 seconds, three times).
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt

from walletdesk.connectors.social import inbound, intake
from walletdesk.connectors.social.base import BadPayload, Refused, adapter_for
from walletdesk.connectors.social.models import SocialAccount
from walletdesk.core import deferred

logger = logging.getLogger(__name__)


@csrf_exempt  # the provider signs its pushes; it has no session or CSRF token
def hook(request: HttpRequest, provider: str, slug: str) -> HttpResponse:
    adapter = adapter_for(provider)
    if adapter is None:
        raise Http404
    account = SocialAccount.objects.filter(provider=provider, slug=slug, active=True).first()
    if account is None:
        raise Http404
    try:
        if request.method in ("GET", "HEAD"):
            return adapter.handshake(account, request)
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "GET, POST"})
        pushed = adapter.parse(account, request)
    except Refused as exc:
        # Never say which part failed: a forger learns nothing from the refusal.
        logger.warning("refused a push to %s: %s", account.hook_path, exc)
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    except BadPayload as exc:
        logger.warning("unreadable push to %s: %s", account.hook_path, exc)
        return HttpResponseBadRequest("bad payload", content_type="text/plain")
    rows = inbound.prepare(account, pushed)
    if deferred.can_defer(request):
        future = intake.submit(rows, lambda: adapter.answer(account, request, pushed))
        if future is not None:
            # Answered once the process's writer thread has committed these rows with the
            # other pushes waiting (social.intake); this thread goes on to the next push.
            return deferred.DeferredResponse(future)
    inbound.store([rows])
    return adapter.answer(account, request, pushed)
