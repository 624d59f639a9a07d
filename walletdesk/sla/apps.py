from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "walletdesk.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from walletdesk.core import sweeps
        from walletdesk.sla import hooks, timers
        from walletdesk.tickets import lifecycle

        # Tickets call the clock through this hook; they do not import the SLA app.
        lifecycle.register_clock(hooks)
        # Nothing else runs an SLA check whose task failed or was lost; the worker runs this.
        sweeps.register("overdue SLA checks", timers.sweep_overdue_checks)
