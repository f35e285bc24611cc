"""Background work of marketing funds: accruals, closing requests past their claim deadline, expiry
warnings and expiry. Tasks take ids, the services re-fetch under a lock, and every one is safe to
run twice."""

import datetime

from celery import shared_task
from django.utils import timezone

from partners.models import Partner, PartnerStatus

from . import services
from .models import AllocationStatus, FundAllocation, FundProgram, FundRequest, FundRequestStatus


@shared_task
def compute_accrual(program_id: int, partner_id: int) -> bool:
    return services.fund_accrual_compute(program_id=program_id, partner_id=partner_id) is not None


@shared_task
def compute_accruals() -> int:
    """Periodic: propose accrued allocations for programs that have started (the parent approves them)."""
    today = timezone.localdate()
    count = 0
    programs = FundProgram.objects.filter(accrual_percent__gt=0, starts_on__lte=today, ends_on__gte=today)
    partner_ids = list(Partner.objects.filter(status=PartnerStatus.ACTIVE).values_list("pk", flat=True))
    for program in programs:
        for partner_id in partner_ids:
            count += compute_accrual(program.pk, partner_id)
    return count


@shared_task
def close_request(request_id: int) -> bool:
    return services.fund_request_close(request_id=request_id)


@shared_task
def close_past_deadline_requests() -> int:
    today = timezone.localdate()
    due = FundRequest.objects.filter(status=FundRequestStatus.APPROVED, claim_deadline__lt=today)
    return sum(close_request(pk) for pk in list(due.values_list("pk", flat=True)[:500]))


@shared_task
def warn_expiry(allocation_id: int) -> bool:
    return services.fund_allocation_warn_expiry(allocation_id=allocation_id)


@shared_task
def expire_allocation(allocation_id: int) -> bool:
    return services.fund_allocation_expire(allocation_id=allocation_id)


@shared_task
def check_fund_expiry() -> dict:
    """Periodic: warn 30 days before unclaimed funds expire; expire them after the grace period."""
    today = timezone.localdate()
    active = FundAllocation.objects.filter(status=AllocationStatus.ACTIVE).select_related("program")
    warned = expired = 0
    for allocation in active:
        expires_on = allocation.program.expires_on
        if expires_on < today:
            expired += expire_allocation(allocation.pk)
        elif expires_on <= today + datetime.timedelta(days=services.EXPIRY_WARNING_DAYS):
            warned += warn_expiry(allocation.pk)
    return {"warned": warned, "expired": expired}
