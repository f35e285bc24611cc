"""Reads of contracts and renewals for the portal and the API, always from the caller's scope."""

import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from partners.access import actor_of
from partners.models import Customer

from .models import OPEN_RENEWAL_STATUSES, Contract, OwnerSide, Renewal, RenewalStatus

CENT = Decimal("0.01")
# Pipeline buckets: days to term end, (label, lowest, highest) — overdue is below 0.
BUCKETS = (
    ("Overdue", None, -1),
    ("0–30 days", 0, 30),
    ("31–60 days", 31, 60),
    ("61–90 days", 61, 90),
    ("91–120 days", 91, 120),
)


def contract_list(*, user):
    return Contract.objects.for_user(user).select_related("customer", "partner", "product_line")


def contract_get(*, user, pk):
    return (
        Contract.objects.for_user(user)
        .select_related("customer", "partner", "originating_partner", "product_line")
        .prefetch_related("lines__product", "renewals")
        .filter(pk=pk)
        .first()
    )


def renewal_list(*, user, status: str = "", bucket: str = ""):
    queryset = Renewal.objects.for_user(user).select_related(
        "customer", "partner", "contract__product_line", "assigned_to"
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("term_end", "id")


def renewal_get(*, user, pk):
    return (
        Renewal.objects.for_user(user)
        .select_related(
            "customer", "partner__agreement", "originating_partner", "contract__product_line", "assigned_to", "quote"
        )
        .filter(pk=pk)
        .first()
    )


def pipeline(*, user, today=None) -> list[dict]:
    """Open renewals bucketed by days to term end, with the value at stake per bucket."""
    today = today or timezone.localdate()
    renewals = list(renewal_list(user=user).filter(status__in=OPEN_RENEWAL_STATUSES))
    buckets = [{"label": label, "renewals": [], "value": Decimal("0.00")} for label, _, _ in BUCKETS]
    for renewal in renewals:
        days = renewal.days_to_term_end(today)
        for index, (_, low, high) in enumerate(BUCKETS):
            if (low is None or days >= low) and days <= high:
                buckets[index]["renewals"].append(renewal)
                buckets[index]["value"] += renewal.expected_value
                break
        else:
            buckets[-1]["renewals"].append(renewal)
            buckets[-1]["value"] += renewal.expected_value
    return buckets


def parent_queue(*, user, today=None):
    """The parent's renewal queue: its own renewals and either-model ones whose exclusive window has
    closed."""
    today = today or timezone.localdate()
    return renewal_list(user=user).filter(
        Q(owner_side=OwnerSide.PARENT) | Q(owner_side=OwnerSide.SHARED, parent_may_pursue_from__lte=today),
        status__in=OPEN_RENEWAL_STATUSES,
    )


def lapse_rate_by_partner(*, user) -> list[dict]:
    """Closed renewals per partner: how many renewed and lapsed, and the lapse rate."""
    rows = (
        Renewal.objects.for_user(user)
        .filter(status__in=[RenewalStatus.RENEWED, RenewalStatus.LAPSED])
        .order_by()
        .values("partner_id", "partner__name")
        .annotate(
            renewed=Count("pk", filter=Q(status=RenewalStatus.RENEWED)),
            lapsed=Count("pk", filter=Q(status=RenewalStatus.LAPSED)),
        )
        .order_by("partner__name")
    )
    result = []
    for row in rows:
        closed = row["renewed"] + row["lapsed"]
        result.append(row | {"closed": closed, "lapse_rate": round(100 * row["lapsed"] / closed, 1) if closed else 0})
    return result


def customer_lifetime_value(*, user, customer) -> dict:
    """What the customer has bought through contracts the caller may see: the sum of every term's
    lines, the current annual value, and the renewal history."""
    contracts = Contract.objects.for_user(user).filter(customer=customer)
    total = contracts.aggregate(total=Sum("lines__amount"))["total"]
    annual = contracts.filter(status__in=["active", "renewal_open", "renewed"]).aggregate(v=Sum("annual_value"))["v"]
    history = (
        Renewal.objects.for_user(user)
        .filter(customer=customer)
        .exclude(status__in=OPEN_RENEWAL_STATUSES)
        .order_by("-term_end")
    )
    return {
        # Sums come back without their scale on SQLite: money is shown in cents.
        "lifetime_value": Decimal(total or 0).quantize(CENT),
        "annual_value": Decimal(annual or 0).quantize(CENT),
        "contracts": contracts.count(),
        "history": list(history[:20]),
    }


def visible_customer(*, user, pk):
    return Customer.objects.for_user(user).filter(pk=pk).first()


def home_figures(user, today=None):
    today = today or timezone.localdate()
    actor = actor_of(user)
    renewals = Renewal.objects.for_user(user).filter(status__in=OPEN_RENEWAL_STATUSES)
    soon = renewals.filter(term_end__lte=today + datetime.timedelta(days=30))
    rows = [
        ("Open renewals", renewals.count()),
        ("Ending within 30 days", soon.count()),
    ]
    if actor.is_parent:
        rows.append(("In the parent's queue", parent_queue(user=user, today=today).count()))
    return rows
