from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "walletdesk.kb"
    label = "kb"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from walletdesk.core import warmup
        from walletdesk.kb import hybrid, index

        # Each web process builds its search indexes before it accepts a connection; the
        # stored vectors load too (the model itself waits for the first hybrid query).
        warmup.register(index.warm)
        warmup.register(hybrid.warm)
