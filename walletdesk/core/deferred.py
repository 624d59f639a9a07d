"""A response whose body is known only when some other thread finishes: group commit.

A view that hands its write to a writer thread (tickets.intake) returns `DeferredResponse`
instead of waiting: the request's thread is free at once for the next request, which is what
lets the writer find several requests waiting and commit them together. The ASGI handler
(core.asgi) awaits the future on the event loop, then calls `finish()` to fill in the body.

Only the ASGI handler can wait like that; a view asks `can_defer(request)` first and otherwise
does its work inline (the test client, management commands).
"""

from __future__ import annotations

from concurrent.futures import Future

from django.http import HttpRequest, HttpResponse

SCOPE_KEY = "walletdesk.deferred_responses"


def can_defer(request: HttpRequest) -> bool:
    scope = getattr(request, "scope", None)
    return bool(scope and scope.get(SCOPE_KEY))


class DeferredResponse(HttpResponse):
    """Headers now (middleware sees them as usual); status and body from the final response.

    The future's result is that final response, rendered by whoever completed the work (with
    database access, which the event loop does not have); its status, body and content type
    are copied over, and the headers middleware added here are kept.
    """

    def __init__(self, future: Future[HttpResponse]) -> None:
        super().__init__(status=202, content_type="application/json")
        self.future = future

    def finish(self) -> None:
        final = self.future.result()
        self.status_code = final.status_code
        self.reason_phrase = final.reason_phrase
        self.content = final.content
        self["Content-Type"] = final["Content-Type"]
        self["Content-Length"] = str(len(self.content))
