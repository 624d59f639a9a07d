"""Background work for the social channels. Tasks take ids."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="email")
def process_inbound(account_id: int) -> str:
    from .inbound import process_pending

    return process_pending(account_id)


@task(queue_name="email")
def deliver_social(outbound_id: int) -> str:
    from .outbound import deliver

    return deliver(outbound_id)
