from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "walletdesk.core"
    label = "core"

    def ready(self) -> None:
        from walletdesk.core import leases, sweeps, taskclaim, views, warmup

        taskclaim.install()
        sweeps.register("tasks of dead workers", leases.requeue_orphans)
        # /readyz fails when the freshest worker heartbeat is older than its limit: a worker
        # that hangs or died without anyone sweeping its row.
        views.register_worker_heartbeat(leases.last_beat)
        warmup.register(_load_urls)


def _load_urls() -> None:
    """Import the URLconf and every view and router it names (the NinjaAPI builds all its
    operations): about 1.3 s that the first request of each web process paid, which pushed
    the first WeChat pushes after a start past WeChat's 5-second answer limit."""
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.resolve("/healthz")
    for pattern in resolver.url_patterns:
        getattr(pattern, "url_patterns", None)  # populates each include()
