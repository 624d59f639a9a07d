"""ASGI entry point: HTTP through Django; websockets (live chat) join here when chat lands."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")

from walletdesk.core.asgi import get_asgi_application

application = get_asgi_application()
