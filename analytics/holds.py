"""Payout holds: whether a payout (a commission, or later an MDF claim) may be paid. Finance's pay
paths call `hold_reason` and refuse a held item with 403 and the reason."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .models import PayoutHold

# {model label: subject -> the payout keys that name it}. A confirmed alert holds keys like
# "opportunity:42" (the ledger's source ref); "" holds every pending payout of the partner.
PAYOUT_KEYS: dict[str, Callable] = {
    "partners.commission": lambda commission: {commission.source_ref, f"commission:{commission.pk}"},
}


class PayoutHeld(PermissionDenied):
    """A payout held by the fraud analyst: answered 403 with the reason."""


def register_payout_keys(label: str, func: Callable) -> None:
    PAYOUT_KEYS[label] = func


def payout_keys(subject) -> set[str]:
    func = PAYOUT_KEYS.get(subject._meta.label_lower)
    return set(func(subject)) if func else {f"{subject._meta.label_lower}:{subject.pk}"}


def hold_reason(*, partner_id, subject) -> str | None:
    """Why `subject` (a Commission, an MDF claim…) of `partner_id` may not be paid, or None."""
    hold = (
        PayoutHold.objects.filter(partner_id=partner_id, released_at__isnull=True)
        .filter(Q(key="") | Q(key__in=sorted(payout_keys(subject))))
        .order_by("created_at", "pk")
        .first()
    )
    return hold.reason if hold is not None else None


def ensure_payable(*, partner_id, subject) -> None:
    reason = hold_reason(partner_id=partner_id, subject=subject)
    if reason:
        raise PayoutHeld(f"Payment held: {reason}")
