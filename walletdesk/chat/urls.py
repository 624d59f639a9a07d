from django.urls import path

from walletdesk.chat import views

app_name = "chat"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<str:reference>/", views.in_app, name="in_app"),
]
