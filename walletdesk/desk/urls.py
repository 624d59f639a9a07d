from django.urls import path

from walletdesk.desk import (
    chain_views,
    chat_views,
    live_views,
    macro_views,
    outbox_views,
    similar_views,
    views,
)

app_name = "agent"
urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("phone/", views.phone, name="phone"),
    path("chats/", chat_views.chats, name="chats"),
    path("bulk/", views.bulk, name="bulk"),
    path("outbox/", outbox_views.index, name="outbox"),
    path("outbox/<str:name>/", outbox_views.detail, name="outbox_mail"),
    path("tickets/<str:reference>/", views.ticket_view, name="ticket"),
    path("tickets/<str:reference>/reply/", views.reply, name="reply"),
    path("tickets/<str:reference>/update/", views.update, name="update"),
    path("tickets/<str:reference>/template/", views.send_template, name="template"),
    path("tickets/<str:reference>/take/", views.take, name="take"),
    path("tickets/<str:reference>/merge/", views.merge, name="merge"),
    path("tickets/<str:reference>/macro/", macro_views.apply_macro, name="macro"),
    path("tickets/<str:reference>/changes/", live_views.changes, name="changes"),
    path("tickets/<str:reference>/chain/", chain_views.panel, name="chain_panel"),
    path("tickets/<str:reference>/chain/lookup/", chain_views.lookup_hash, name="chain_lookup"),
    path("tickets/<str:reference>/similar/", similar_views.panel, name="similar"),
]
