from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "walletdesk.kb"
    label = "kb"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from walletdesk.core import warmup
        from walletdesk.kb import index

        # Each web process builds its search indexes before it accepts a connection.
        warmup.register(index.warm)
