from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "walletdesk.connectors.telegram"
    label = "telegram"
    verbose_name = "Telegram"

    def ready(self) -> None:
        from walletdesk.connectors.social.base import register

        from .adapter import TelegramAdapter

        register(TelegramAdapter())
