from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "walletdesk.connectors.email"
    label = "email_channel"
    verbose_name = "Email channel"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from walletdesk.core import sweeps
        from walletdesk.core.views import register_health_check
        from walletdesk.tickets import channels
        from walletdesk.tickets.models import Channel

        from . import health, outbound, tasks
        from .models import Mailbox

        # Outbound: tickets reach email customers through this adapter (tickets never import us).
        channels.register_sender(Channel.EMAIL, outbound.send_notification, outbound.send_notifications)
        register_health_check("email", health.mailbox_health)
        # A mail left "sending" by a worker that died mid-send is sent again after its lease.
        sweeps.register("stalled outbound mail", outbound.recover_stalled)
        sweeps.register("mailbox poll chain", tasks.keep_polling)
        # `walletdesk up` migrates before starting the worker: that is when polling (re)starts.
        post_migrate.connect(tasks.start_polling_after_migrate, sender=self)
        # Loop protection reads our mailbox addresses from a per-process cache.
        for signal in (post_save, post_delete):
            signal.connect(_forget_mailboxes, sender=Mailbox, dispatch_uid=f"forget-mailboxes-{signal!r}")


def _forget_mailboxes(**kwargs: object) -> None:
    from .outbound import forget_mailboxes

    forget_mailboxes()
