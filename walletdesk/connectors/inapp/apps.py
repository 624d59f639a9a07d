from django.apps import AppConfig


class InappConfig(AppConfig):
    name = "walletdesk.connectors.inapp"
    label = "inapp"
    verbose_name = "In-app contact"
