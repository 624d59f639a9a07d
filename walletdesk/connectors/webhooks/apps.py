from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Outbound webhooks for the wallet's own systems (ticket events, signed, retried).

    Tickets never import this app: it hears of changes as a `tickets.live` listener, and its
    worker sweep recovers deliveries a dead worker left.
    """

    name = "walletdesk.connectors.webhooks"
    label = "webhooks"
    verbose_name = _("Outbound webhooks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from walletdesk.core import sweeps
        from walletdesk.tickets import live

        from . import delivery, events
        from .models import WebhookEndpoint

        live.listen(events.on_ticket_change)
        sweeps.register("stalled webhooks", delivery.recover)
        for signal in (post_save, post_delete):
            signal.connect(
                _forget_endpoints, sender=WebhookEndpoint, dispatch_uid=f"forget-webhooks-{signal!r}"
            )


def _forget_endpoints(**kwargs: object) -> None:
    from .events import forget_endpoints

    forget_endpoints()
