from django.apps import AppConfig


class WeChatConfig(AppConfig):
    name = "walletdesk.connectors.wechat"
    label = "wechat"
    verbose_name = "WeChat"

    def ready(self) -> None:
        from walletdesk.connectors.social.base import register

        from .adapter import WeChatAdapter

        register(WeChatAdapter())
