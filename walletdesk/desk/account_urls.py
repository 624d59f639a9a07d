from django.urls import include, path

from walletdesk.desk import account_views as views
from walletdesk.desk import documents

agent_patterns = (
    [
        path("unlock/", views.unlock, name="unlock"),
        path("force-reset/", views.force_reset, name="force_reset"),
        path("reset-2fa/", views.reset_mfa, name="reset_mfa"),
        path("close-case/", views.close_case, name="close_case"),
    ],
    "agent_account",
)

document_patterns = (
    [path("<uuid:public_id>/", documents.identity_document, name="view")],
    "identity_document",
)

urlpatterns = [
    path("agent/tickets/<str:reference>/account/", include(agent_patterns)),
    path("agent/documents/", include(document_patterns)),
]
