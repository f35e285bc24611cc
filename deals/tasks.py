"""Background work of deals: routing, missed lead offers, registration expiry and its warning.
Tasks take ids, re-fetch under a lock (in the service), and are safe to run twice."""

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Lead, LeadOffer, LeadStatus, OfferStatus


@shared_task
def route_lead(lead_id: int) -> bool:
    """Route a lead that is still in the parent's queue (a second run finds it offered and stops)."""
    from django.db import transaction

    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None or lead.status != LeadStatus.NEW:
            return False
        return services._route(lead) is not None


@shared_task
def expire_lead_offer(offer_id: int) -> bool:
    return services.lead_offer_expire(offer_id=offer_id)


@shared_task
def expire_lead_offers() -> int:
    """Periodic: offers past their deadline are misses; their leads move to the next partner."""
    due = LeadOffer.objects.filter(status=OfferStatus.PENDING, deadline__lte=timezone.now()).values_list(
        "pk", flat=True
    )
    return sum(bool(expire_lead_offer(pk)) for pk in list(due[:500]))


@shared_task
def expire_registration(registration_id: int) -> bool:
    return services.deal_registration_expire(registration_id=registration_id)


@shared_task
def warn_registration_expiry(registration_id: int) -> bool:
    return services.deal_registration_warn_expiry(registration_id=registration_id)


# At most this many batches per run (50,000 rows each way); the next run takes the rest.
MAX_BATCHES = 50


def _in_batches(step, now) -> int:
    done = 0
    for _ in range(MAX_BATCHES):
        count = step(now=now)
        done += count
        if count < services.EXPIRY_BATCH:
            break
    return done


@shared_task
def expire_registrations() -> dict:
    """Periodic, set-based: expire approved registrations past protection and warn those ending
    within 14 days, a batch of rows per statement (each batch its own transaction)."""
    now = timezone.now()
    return {
        "expired": _in_batches(services.deal_registrations_expire_due, now),
        "warned": _in_batches(services.deal_registrations_warn_due, now),
    }
