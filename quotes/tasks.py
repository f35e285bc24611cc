"""Background work of quotes and orders. Tasks take ids, re-fetch under a lock and are safe to run
twice (the outbox row's status and the order's state make the second run a no-op)."""

import datetime

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from . import services
from .models import ProvisioningRequest, ProvisioningStatus


@shared_task
def provision_order(request_id: int) -> str:
    return services.provisioning_run(request_id=request_id)


@shared_task
def provision_pending() -> int:
    """Periodic: re-deliver outbox rows whose task was lost (broker down at commit time) or is due."""
    now = timezone.now()
    # A fresh row's task is probably still in flight: leave it a few minutes before redelivering.
    stale = now - datetime.timedelta(minutes=5)
    due = ProvisioningRequest.objects.filter(status=ProvisioningStatus.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=stale)
    )
    count = 0
    for request_id in due.values_list("pk", flat=True)[:200]:
        provision_order.delay(request_id)
        count += 1
    return count


@shared_task
def expire_quotes() -> int:
    """Periodic, set-based: sent quotes past their validity date expire, a batch per statement (at
    most 50 batches of 1,000 a run; the next run takes the rest)."""
    today = timezone.localdate()
    expired = 0
    for _ in range(50):
        count = services.quotes_expire_due(today=today)
        expired += count
        if count < 1000:
            break
    return expired
