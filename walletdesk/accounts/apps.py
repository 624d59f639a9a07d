from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "walletdesk.accounts"
    label = "accounts"

    def ready(self) -> None:
        from walletdesk.accounts import receivers  # noqa: F401  (connects the signal receivers)
