"""Background work for outbound webhooks. Tasks take ids."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="default")
def deliver_webhook(delivery_id: int) -> str:
    from .delivery import deliver

    return deliver(delivery_id)
