"""Writes of analytics: the fraud analyst's triage (dismiss, confirm with payout holds and an
optional suspension of the partner) and the release of a hold."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from partners import audit
from partners.models import Partner, PartnerStatus

from . import permissions
from .fraud import place_holds
from .models import AlertStatus, FraudAlert, PayoutHold


def _lock(alert) -> FraudAlert:
    return FraudAlert.objects.select_for_update().select_related("rule").get(pk=alert.pk)


def _triage(*, user, alert, status, reason):
    if not permissions.can_triage_alerts(user):
        raise PermissionDenied("Only the fraud analyst triages alerts.")
    alert = _lock(alert)
    if not alert.can_transition_to(status):
        raise ValidationError(
            {"status": [f"An alert cannot move from '{alert.status}' to '{status}'."]}, code="illegal_transition"
        )
    before = alert.status
    alert.status, alert.triaged_by, alert.triaged_at, alert.triage_reason = status, user, timezone.now(), reason
    alert.save(update_fields=["status", "triaged_by", "triaged_at", "triage_reason"])
    audit.record(
        actor=user,
        verb=f"fraud_alert.{status}",
        obj=alert,
        partner=alert.partner_id,
        changes={"status": [before, status]},
        reason=reason,
    )
    return alert


@transaction.atomic
def fraud_alert_dismiss(*, user, alert, reason: str) -> FraudAlert:
    """Not fraud: say why. Holds the rule placed at once are released."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the alert is dismissed."]})
    alert = _triage(user=user, alert=alert, status=AlertStatus.DISMISSED, reason=reason)
    PayoutHold.objects.filter(alert=alert, released_at__isnull=True).update(
        released_at=timezone.now(), released_by=user
    )
    return alert


@transaction.atomic
def fraud_alert_confirm(*, user, alert, reason: str = "", suspend_partner: bool = False) -> FraudAlert:
    """Fraud: hold the partner's pending payouts for the subject (finance cannot pay them), and
    suspend the partner if asked."""
    alert = _triage(user=user, alert=alert, status=AlertStatus.CONFIRMED, reason=(reason or "").strip())
    place_holds([alert], reason=f"Confirmed fraud alert: {alert.rule.name} on {alert.subject_repr}")
    if suspend_partner:
        _suspend(user=user, partner_id=alert.partner_id, reason=f"Fraud alert #{alert.pk} confirmed. {reason}".strip())
    return alert


def _suspend(*, user, partner_id, reason):
    """The fraud analyst may suspend the partner of a confirmed alert (partner_transition is the
    channel managers' and admins' path; this is the analyst's, with the same state machine)."""
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    if not partner.can_transition_to(PartnerStatus.SUSPENDED):
        raise ValidationError({"suspend_partner": [f"A {partner.status} partner cannot be suspended."]})
    before, partner.status = partner.status, PartnerStatus.SUSPENDED
    partner.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=user,
        verb="partner.suspended",
        obj=partner,
        partner=partner,
        changes={"status": [before, partner.status]},
        reason=reason,
    )


@transaction.atomic
def payout_hold_release(*, user, hold: PayoutHold, reason: str) -> PayoutHold:
    if not permissions.can_triage_alerts(user):
        raise PermissionDenied("Only the fraud analyst releases holds.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the hold is released."]})
    hold = PayoutHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at, hold.released_by = timezone.now(), user
        hold.save(update_fields=["released_at", "released_by"])
        audit.record(actor=user, verb="payout_hold.release", obj=hold, partner=hold.partner_id, reason=reason)
    return hold
