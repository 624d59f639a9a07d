from django.apps import AppConfig


class ChainConfig(AppConfig):
    name = "walletdesk.chain"
    label = "chain"
    verbose_name = "On-chain"

    def ready(self) -> None:
        from walletdesk.chain import tasks
        from walletdesk.core import sweeps

        # Re-arms a chain whose monitor stopped (never started, or its worker died mid-run).
        sweeps.register("chain monitor", tasks.sweep_stalled)
        sweeps.register("chain alerts", tasks.sweep_undelivered)
