from django.urls import path

from walletdesk.portal import views
from walletdesk.registry import views as verify_views
from walletdesk.sla import views as csat_views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("contact/", views.contact, name="contact"),
    path("verify/", verify_views.verify, name="verify"),
    path("new/", views.new_request, name="new"),
    path("submitted/<str:token>/", views.submitted, name="submitted"),
    path("track/<str:token>/", views.track, name="track"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("requests/", views.my_requests, name="my_requests"),
    path("requests/<str:reference>/", views.my_request, name="my_request"),
    path("requests/<str:reference>/confirm/", views.confirm_mine, name="confirm_mine"),
    path("requests/<str:reference>/follow-up/", csat_views.follow_up_mine, name="follow_up"),
    path("track/<str:token>/answer/", views.first_answer_by_link, name="first_answer_by_link"),
    path("requests/<str:reference>/answer/", views.first_answer_mine, name="first_answer"),
    path("track/<str:token>/follow-up/", csat_views.follow_up_by_link, name="follow_up_by_link"),
    path("requests/<str:reference>/satisfaction/<str:token>/", csat_views.survey, name="csat"),
    path("requests/<str:reference>/chain/", views.chain_status, name="chain_status"),
    path("track/<str:token>/chain/", views.chain_status_by_link, name="chain_status_by_link"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
    path("files/<int:pk>/<str:token>/", views.attachment, name="attachment_by_link"),
]
