from django.urls import include, path

from walletdesk.desk import account_views as views

agent_patterns = (
    [
        path("unlock/", views.unlock, name="unlock"),
        path("force-reset/", views.force_reset, name="force_reset"),
        path("reset-2fa/", views.reset_mfa, name="reset_mfa"),
        path("close-case/", views.close_case, name="close_case"),
    ],
    "agent_account",
)

urlpatterns = [path("agent/tickets/<str:reference>/account/", include(agent_patterns))]
