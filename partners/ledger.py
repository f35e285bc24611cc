"""The commission ledger's writes: accrue (idempotent per source event), approve, pay, reverse."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import audit, notices
from .access import ParentRole, actor_of
from .models import COMMISSION_TRANSITIONS, Commission, CommissionStatus
from .presentation import label

CENT = Decimal("0.01")


def percentage(base: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(base) * Decimal(rate) / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


def commission_accrue(
    *,
    partner,
    source: str,
    source_ref: str,
    amount: Decimal,
    actor=None,
    customer=None,
    description: str = "",
    base_amount: Decimal | None = None,
    rate: Decimal | None = None,
    currency: str = "USD",
) -> tuple[Commission, bool]:
    """Accrue one commission for one business event; a second call for the same event returns the
    first entry (and False) instead of paying twice."""
    amount = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValidationError({"amount": ["A commission is never negative; reverse it instead."]})
    existing = Commission.objects.for_partner(partner.pk).filter(source=source, source_ref=source_ref).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            entry = Commission.objects.create(
                partner=partner,
                source=source,
                source_ref=source_ref,
                amount=amount,
                customer=customer,
                description=description[:200],
                base_amount=base_amount,
                rate=rate,
                currency=currency,
            )
            audit.record(
                actor=actor,
                verb="commission.accrue",
                obj=entry,
                partner=partner,
                changes={"amount": [None, str(amount)]},
            )
    except IntegrityError:
        # A concurrent accrual of the same event won the race.
        return Commission.objects.for_partner(partner.pk).get(source=source, source_ref=source_ref), False
    return entry, True


def _finance(user):
    actor = actor_of(user)
    if not actor.has_parent_role(ParentRole.FINANCE):
        raise PermissionDenied("Only the parent's finance team approves and pays commissions.")


@transaction.atomic
def commission_transition(*, user, commission: Commission, status: str, reason: str = "", reference: str = ""):
    _finance(user)
    entry = Commission.objects.select_for_update().get(pk=commission.pk)
    if status not in COMMISSION_TRANSITIONS.get(CommissionStatus(entry.status), set()):
        raise ValidationError(
            {"status": [f"A commission cannot move from “{label(entry.status)}” to “{label(status)}”."]},
            code="illegal_transition",
        )
    if status == CommissionStatus.REVERSED and not reason:
        raise ValidationError({"reason": ["Say why the commission is reversed."]})
    if status == CommissionStatus.PAID:
        from analytics.holds import ensure_payable

        ensure_payable(partner_id=entry.partner_id, subject=entry)
    before = entry.status
    entry.status = status
    now = timezone.now()
    if status == CommissionStatus.APPROVED:
        entry.approved_at, entry.approved_by = now, user
    elif status == CommissionStatus.PAID:
        entry.paid_at, entry.payment_reference = now, reference[:80]
    elif status == CommissionStatus.REVERSED:
        entry.reversal_reason = reason[:200]
    entry.save()
    audit.record(
        actor=user,
        verb=f"commission.{status}",
        obj=entry,
        partner=entry.partner_id,
        changes={"status": [before, status]},
        reason=reason,
    )
    if status == CommissionStatus.APPROVED:
        from analytics import fraud

        fraud.check_on_commit("commission_due", entry)
    notices.commission_changed(entry)
    return entry


def commission_approve(*, user, commission):
    return commission_transition(user=user, commission=commission, status=CommissionStatus.APPROVED)


def commission_mark_paid(*, user, commission, reference: str = ""):
    return commission_transition(user=user, commission=commission, status=CommissionStatus.PAID, reference=reference)


def commission_reverse(*, user, commission, reason: str):
    return commission_transition(user=user, commission=commission, status=CommissionStatus.REVERSED, reason=reason)
