from django.apps import AppConfig


class WeiboConfig(AppConfig):
    name = "walletdesk.connectors.weibo"
    label = "weibo"
    verbose_name = "Weibo"

    def ready(self) -> None:
        from walletdesk.connectors.social.base import register

        from .adapter import WeiboAdapter

        register(WeiboAdapter())
