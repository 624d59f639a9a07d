from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "walletdesk.registry"
    label = "registry"
    verbose_name = "Official registry"
