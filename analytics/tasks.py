"""Background work of analytics: event checks (fraud rules and the partner's facts of today), the
nightly sweep and facts refresh. Tasks take ids, re-fetch, and are safe to run twice: alerts are
unique per rule and subject, and a refresh rewrites the same rows."""

from celery import shared_task

from . import facts, fraud


@shared_task
def check_event(event: str, label: str, pk) -> int:
    """Run the rules listening to `event` on the subject, then refresh its partner's facts of today."""
    subject = fraud.load_subject(label, pk)
    if subject is None:
        return 0
    found = fraud.check_event(event, subject)
    refresh_partner_facts.delay(getattr(subject, "partner_id", None))
    return found


@shared_task
def refresh_partner_facts(partner_id) -> None:
    facts.refresh_partner_today(partner_id)


@shared_task
def refresh_facts(days: int = 2) -> None:
    """Periodic: every seller's recent days, the months they fall in and today's snapshots."""
    facts.refresh_recent(days)


@shared_task
def fraud_sweep() -> dict:
    """Nightly: every enabled rule over its look-back window."""
    return fraud.sweep()
