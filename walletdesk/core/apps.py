from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "walletdesk.core"
    label = "core"

    def ready(self) -> None:
        from walletdesk.core import leases, sweeps, taskclaim

        taskclaim.install()
        sweeps.register("tasks of dead workers", leases.requeue_orphans)
