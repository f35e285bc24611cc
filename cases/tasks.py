"""Background work of the cases app: the SLA watch. Tasks take ids, re-fetch with a lock inside the
service, and have one effect however often they run."""

import datetime

from celery import shared_task
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import services
from .models import Case, CaseSlaEvent, SlaEventKind, SlaTarget

# Business time runs slower than wall time (nights, weekends): look this far ahead for warnings.
HORIZON = datetime.timedelta(days=14)
BATCH = 500


@shared_task
def check_case_sla(case_id: int) -> list[str]:
    return services.case_sla_check(case_id=case_id)


@shared_task
def check_slas() -> int:
    """Periodic: every open, running case due within the horizon whose resolution breach has not
    been handled yet in its current SLA cycle."""
    now = timezone.now()
    handled = CaseSlaEvent.objects.filter(
        case=OuterRef("pk"), cycle=OuterRef("sla_cycle"), target=SlaTarget.RESOLUTION, kind=SlaEventKind.BREACH
    )
    ids = (
        Case.objects.open()
        .filter(sla_paused_at__isnull=True, sla_policy__isnull=False)
        .filter(
            Q(resolution_due_at__lte=now + HORIZON)
            | Q(first_response_at__isnull=True, first_response_due_at__lte=now + HORIZON)
        )
        .exclude(Exists(handled))
        .order_by("resolution_due_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    count = 0
    for case_id in list(ids):
        count += bool(check_case_sla(case_id))
    return count


@shared_task
def close_resolved_cases() -> int:
    """Periodic, set-based: resolved cases that were not reopened within the window are closed, a
    batch per statement (at most 50 batches of 1,000 a run; the next run takes the rest)."""
    now = timezone.now()
    closed = 0
    for _ in range(50):
        count = services.cases_close_stale(now=now)
        closed += count
        if count < 1000:
            break
    return closed
