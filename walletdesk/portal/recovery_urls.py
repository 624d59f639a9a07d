from django.urls import include, path

from walletdesk.portal import recovery as views

portal_patterns = (
    [path("", views.new_recovery_case, name="new")],
    "recovery",
)

urlpatterns = [path("account-recovery/", include(portal_patterns))]
