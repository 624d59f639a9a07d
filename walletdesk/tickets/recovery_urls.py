from django.urls import include, path

from walletdesk.tickets import recovery_views as views

portal_patterns = (
    [path("", views.new_recovery_case, name="new")],
    "recovery",
)

agent_patterns = (
    [
        path("unlock/", views.unlock, name="unlock"),
        path("force-reset/", views.force_reset, name="force_reset"),
        path("reset-2fa/", views.reset_mfa, name="reset_mfa"),
        path("close-case/", views.close_case, name="close_case"),
    ],
    "agent_account",
)

urlpatterns = [
    path("account-recovery/", include(portal_patterns)),
    path("agent/tickets/<str:reference>/account/", include(agent_patterns)),
]
