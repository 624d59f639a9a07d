from django.urls import path

from walletdesk.chain import views

app_name = "chain"
urlpatterns = [
    path("", views.addresses, name="addresses"),
    path("activity/", views.activity, name="activity"),
    path("link/", views.start_link, name="start_link"),
    path("link/<str:nonce>/", views.confirm_link, name="confirm_link"),
    path("<int:linked_id>/unlink/", views.unlink, name="unlink"),
]
