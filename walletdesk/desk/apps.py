from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "walletdesk.desk"
    label = "desk"
    verbose_name = "Agent desk"

    def ready(self) -> None:
        from walletdesk.desk import live as desk_live
        from walletdesk.tickets import live

        # Every ticket change nudges the agents' open inboxes and ticket pages (desk.consumers).
        live.listen(desk_live.on_ticket_change)
