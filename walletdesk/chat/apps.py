from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "walletdesk.chat"
    label = "chat"
    verbose_name = "Live chat"

    def ready(self) -> None:
        from walletdesk.chat import relay, senders
        from walletdesk.tickets import channels, live
        from walletdesk.tickets.models import Channel

        # Replies written on the desk or through the API reach an open chat as they commit.
        live.listen(relay.on_ticket_change)
        channels.register_sender(Channel.CHAT, senders.send)
