from django.urls import path

from walletdesk.connectors.social import views

app_name = "hooks"

urlpatterns = [
    path("hooks/<slug:provider>/<slug:slug>", views.hook, name="hook"),
]
