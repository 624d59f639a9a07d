from django.urls import path

from walletdesk.kb import agent_views as views

app_name = "kb_agent"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.article_new, name="article_new"),
    path("a/<slug:slug>/", views.article_edit, name="article_edit"),
    path("a/<slug:slug>/publish/", views.article_publish, name="article_publish"),
    path("a/<slug:slug>/unpublish/", views.article_unpublish, name="article_unpublish"),
    path("flows/new/", views.flow_new, name="flow_new"),
    path("flows/<slug:slug>/", views.flow_edit, name="flow_edit"),
    path("flows/<slug:slug>/preview/", views.flow_preview, name="flow_preview"),
    path("flows/<slug:slug>/status/", views.flow_status, name="flow_status"),
]
