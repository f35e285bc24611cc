"""What the quotes domain tells people, in words: called from quotes.services whenever a quote or an
order changes status (partners.notifications sends each once, after commit)."""

from django.urls import reverse
from django.utils import timezone

from partners.access import ParentRole
from partners.notifications import notify, parent_recipients, partner_recipients
from partners.presentation import money

DESK = (ParentRole.CHANNEL_MANAGER, ParentRole.SALES, ParentRole.FINANCE)


def _partner_people(obj):
    users = [obj.created_by] if getattr(obj, "created_by_id", None) else []
    return partner_recipients(obj.partner_id, roles=("admin", "manager"), users=users)


def quote_moved(quote) -> None:
    status = quote.status
    url = reverse("quotes:quote-detail", args=[quote.pk])
    amount = money(quote.total, quote.currency)
    customer = quote.customer.legal_name
    if status == "pending_approval" and quote.approval_reasons:
        notify(
            recipients=parent_recipients(roles=DESK, partner_id=quote.partner_id),
            kind="quotes.quote_pending",
            key=f"quote:{quote.pk}:pending:{timezone.now():%Y%m%d%H%M%S}",
            title=f"Quote {quote.number} for {customer} ({amount}) waits for your approval",
            body="; ".join(quote.approval_reasons),
            url=url,
        )
        return
    outcome = {"approved": "approved", "rejected": "rejected", "returned": "returned for changes"}.get(status)
    if outcome is None or not quote.decided_by_id:
        return  # automatic approvals need no news: the person who submitted it sees the result at once
    notify(
        recipients=_partner_people(quote),
        kind="quotes.quote_decided",
        key=f"quote:{quote.pk}:{status}:{quote.decided_at:%Y%m%d%H%M%S}",
        title=f"Quote {quote.number} for {customer} ({amount}) was {outcome}",
        body=quote.decision_reason or "",
        url=url,
    )


def order_moved(order) -> None:
    status = order.status
    url = reverse("quotes:order-detail", args=[order.pk])
    customer = order.customer.legal_name
    amount = money(order.total, order.currency)
    if status == "in_review":
        notify(
            recipients=parent_recipients(roles=DESK, partner_id=order.partner_id),
            kind="quotes.order_in_review",
            key=f"order:{order.pk}:in_review:{order.submitted_at:%Y%m%d%H%M%S}",
            title=f"Order {order.number} for {customer} ({amount}) waits for your review",
            body="\n".join(order.review_reasons or []),
            url=url,
        )
        return
    if status == "approved" and order.decided_by_id:
        kind, title = "quotes.order_reviewed", f"Order {order.number} for {customer} was approved and is being set up"
    elif status == "declined":
        kind, title = "quotes.order_reviewed", f"Order {order.number} for {customer} was declined"
    elif status == "fulfilled":
        kind, title = "quotes.order_fulfilled", f"Order {order.number} for {customer} is fulfilled: the service is live"
    else:
        return
    notify(
        recipients=_partner_people(order),
        kind=kind,
        key=f"order:{order.pk}:{status}",
        title=title,
        body=order.decline_reason if status == "declined" else "",
        url=url,
    )
