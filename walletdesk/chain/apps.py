from django.apps import AppConfig


class ChainConfig(AppConfig):
    name = "walletdesk.chain"
    label = "chain"
    verbose_name = "On-chain"
