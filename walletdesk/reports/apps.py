from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "walletdesk.reports"
    label = "reports"
    verbose_name = "Reports"
