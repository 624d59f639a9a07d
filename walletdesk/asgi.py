"""ASGI entry point: HTTP through Django (core.asgi's handler); websockets to the live chat and
the live desk (Django Channels consumers)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")

from walletdesk.core.asgi import get_asgi_application

http = get_asgi_application()  # sets Django up before the consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from walletdesk.chat.routing import websocket_urlpatterns as chat_sockets  # noqa: E402
from walletdesk.core.metrics import count_sockets  # noqa: E402
from walletdesk.desk.routing import websocket_urlpatterns as desk_sockets  # noqa: E402

application = ProtocolTypeRouter(
    {"http": http, "websocket": count_sockets(URLRouter([*chat_sockets, *desk_sockets]))}
)
