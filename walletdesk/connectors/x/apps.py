from django.apps import AppConfig


class XConfig(AppConfig):
    name = "walletdesk.connectors.x"
    label = "x"
    verbose_name = "X"

    def ready(self) -> None:
        from walletdesk.connectors.social.base import register

        from .adapter import XAdapter

        register(XAdapter())
