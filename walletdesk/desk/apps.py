from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "walletdesk.desk"
    label = "desk"
    verbose_name = "Agent desk"
