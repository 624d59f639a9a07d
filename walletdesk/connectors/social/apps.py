from django.apps import AppConfig


class SocialConfig(AppConfig):
    """What every social provider shares: accounts, the webhook, the inbox and the outbox.

    Providers (connectors/wechat, weibo, x, telegram) register their adapter here from their
    own ready(); this app registers the ticket sender for each provider it knows of.
    """

    name = "walletdesk.connectors.social"
    label = "social"
    verbose_name = "Social channels"

    def ready(self) -> None:
        from walletdesk.core import sweeps
        from walletdesk.tickets import channels

        from . import outbound
        from .models import Provider

        for provider in Provider.values:
            channels.register_sender(
                provider, outbound.send_notification, reaches=True, guard=outbound.check_reply
            )
        sweeps.register("stalled social messages", outbound.recover_stalled)
