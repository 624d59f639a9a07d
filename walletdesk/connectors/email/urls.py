from django.urls import path

from . import views

app_name = "email_channel"
urlpatterns = [
    path("quarantine/", views.quarantine_list, name="quarantine"),
    path("quarantine/<int:pk>/", views.quarantine_detail, name="quarantine_detail"),
    path("quarantine/<int:pk>/reprocess/", views.quarantine_reprocess, name="quarantine_reprocess"),
]
