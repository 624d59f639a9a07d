from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from walletdesk.accounts.urls import allauth_overrides
from walletdesk.api import api
from walletdesk.core import brand
from walletdesk.core.views import healthz, metrics, readyz

# A database outage anywhere (a middleware included) answers 503 with Retry-After, not a 500.
handler500 = "walletdesk.core.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("brand/logo", brand.logo_view, name="brand_logo"),
    path("brand/colours.css", brand.colours_view, name="brand_colours"),
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    # Ours first: walletdesk.accounts pages, and the few allauth views it replaces.
    path("accounts/", include("walletdesk.accounts.urls")),
    path("accounts/", include(allauth_overrides)),
    path("accounts/", include("allauth.urls")),
    path("", include("walletdesk.portal.recovery_urls")),
    path("", include("walletdesk.desk.account_urls")),
    path("help/", include("walletdesk.kb.urls")),
    path("agent/kb/", include("walletdesk.kb.agent_urls")),
    path("agent/email/", include("walletdesk.connectors.email.urls")),
    path("agent/reports/", include("walletdesk.desk.reports.urls")),
    path("agent/", include("walletdesk.desk.urls")),
    path("chat/", include("walletdesk.chat.urls")),
    path("account/addresses/", include("walletdesk.chain.urls")),
    path("", include("walletdesk.connectors.social.urls")),
    path("", include("walletdesk.portal.urls")),
]
