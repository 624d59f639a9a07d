from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "walletdesk.desk.reports"
    label = "reports"
    verbose_name = "Reports"
