from django.urls import path

from walletdesk.accounts import views

app_name = "accounts"
urlpatterns = [
    path("security/", views.security, name="security"),
    path("security/sessions/<int:session_id>/revoke/", views.revoke_session, name="revoke_session"),
    path("unlock/", views.unlock_request, name="unlock"),
    path("unlock/<str:token>/", views.unlock_confirm, name="unlock_confirm"),
]

# Mounted beside allauth's URLs, before them, so these views replace allauth's.
allauth_overrides = [
    path("2fa/authenticate/", views.mfa_authenticate, name="mfa_authenticate"),
]
