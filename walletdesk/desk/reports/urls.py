from django.urls import path

from walletdesk.desk.reports import views

app_name = "reports"
urlpatterns = [path("", views.index, name="index")]
