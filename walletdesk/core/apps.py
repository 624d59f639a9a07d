from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "walletdesk.core"
    label = "core"

    def ready(self) -> None:
        from walletdesk.core import leases, sweeps, taskclaim, views

        taskclaim.install()
        sweeps.register("tasks of dead workers", leases.requeue_orphans)
        # /readyz fails when the freshest worker heartbeat is older than its limit: a worker
        # that hangs or died without anyone sweeping its row.
        views.register_worker_heartbeat(leases.last_beat)
