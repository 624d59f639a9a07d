from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "walletdesk.portal"
    label = "portal"
    verbose_name = "Customer portal"
