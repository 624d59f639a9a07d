"""Shared models: the append-only audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """Who did what to whom, and why. Written by actions; never edited or deleted.

    Account actions (unlock, force reset, 2FA reset, document views) must answer to an admin
    later, so the row keeps the actor, the target and the reason the agent typed.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only.")


class WorkerHeartbeat(models.Model):
    """One row per live task worker (`db_worker`), renewed every few seconds (core.leases).

    django-tasks-db marks a claimed task RUNNING and nothing ever looks at it again: a worker
    killed mid-task left it RUNNING forever. A RUNNING task whose worker's row is older than
    the lease, or whose process is provably gone, is handed back to the queue.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    # Where the process runs: hostname, kernel boot id and PID namespace, so a worker on the
    # same machine can check the pid itself instead of waiting for the lease (core.leases).
    host = models.CharField(max_length=200)
    pid = models.IntegerField()
    proc_start = models.BigIntegerField(default=0)  # /proc start time: a reused pid is another process
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"worker {self.worker_id} pid {self.pid} on {self.host}"


class RateCounter(models.Model):
    """One fixed window's count for one rate-limited subject (core.ratelimit, without Redis).

    `bucket` names the action, scope, window and a keyed hash of the subject, never the
    subject itself. Rows of ended windows are deleted by `ratelimit.cleanup()`.
    """

    bucket = models.CharField(max_length=120, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True)  # unix seconds

    def __str__(self) -> str:
        return f"{self.bucket}: {self.hits}"


class HealthProbe(models.Model):
    """The row `/readyz` rewrites to prove the database takes writes (a read can succeed on a
    full or write-locked database)."""

    name = models.CharField(max_length=32, primary_key=True)
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.written_at:%Y-%m-%d %H:%M:%S}"


class LiveSignal(models.Model):
    """A live event on its way to the other web processes (core.live, in-memory layer only).

    The embedded mode runs several processes whose in-memory channel layers cannot reach each
    other; each process polls this table for what the others published. Rows are hints kept
    two minutes, then deleted.
    """

    origin = models.CharField(max_length=40)
    group_name = models.CharField(max_length=100)
    event = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.group_name} from {self.origin}"
