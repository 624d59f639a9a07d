from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "walletdesk.chat"
    label = "chat"
    verbose_name = "Live chat"

    def ready(self) -> None:
        from walletdesk.chat import relay
        from walletdesk.tickets import live

        # Replies written on the desk or through the API reach an open chat as they commit.
        live.listen(relay.on_ticket_change)
