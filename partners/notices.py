"""What the commission ledger tells partners, in words (called by partners.ledger)."""

from django.urls import reverse

from .notifications import notify, partner_recipients
from .presentation import money


def commission_changed(entry) -> None:
    if entry.status not in ("approved", "paid"):
        return
    what = "approved" if entry.status == "approved" else "paid"
    reference = (
        f" (payment reference {entry.payment_reference})" if entry.status == "paid" and entry.payment_reference else ""
    )
    notify(
        recipients=partner_recipients(entry.partner_id, roles=("admin", "manager")),
        kind=f"commissions.{what}",
        key=f"commission:{entry.pk}:{entry.status}",
        title=f"Commission {what}: {money(entry.amount, entry.currency)} "
        f"for {entry.description or 'your sale'}{reference}",
        url=reverse("deals:commission-list"),
    )
