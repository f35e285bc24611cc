"""The facts: a registry of metrics, each one function that aggregates a domain table into
(partner, product line, day, value) rows, and the refresh that rewrites a range of days, rolls
them up into months and stores today's snapshots. Dashboards read only the Fact table.

A new metric (renewal rate, MDF spent and ROI) is one more `@metric` function: flows are summed
into months; snapshots (figures "as of now") are stored for today and the current month."""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from .models import Fact, Grain, RefreshLock

Row = tuple  # (partner_id | None, product_line_id | None, day, value)


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    kind: str  # "flow" (summed over days and months) or "snapshot" (as of the refresh)
    compute: Callable  # flows: (start, end, scope) -> rows; snapshots: (scope) -> rows without day
    money: bool = False


METRICS: dict[str, Metric] = {}


def metric(code: str, label: str, *, kind: str = "flow", money: bool = False):
    def register(func):
        METRICS[code] = Metric(code, label, kind, func, money)
        return func

    return register


@dataclass(frozen=True)
class Scope:
    """Which sellers a refresh covers: some partners (or all: None), and the direct business."""

    partner_ids: frozenset | None = None
    direct: bool = True

    def q(self, path="partner") -> Q:
        if self.partner_ids is None:
            return Q() if self.direct else Q(**{f"{path}__isnull": False})
        condition = Q(**{f"{path}__in": sorted(self.partner_ids)})
        if self.direct:
            condition |= Q(**{f"{path}__isnull": True})
        return condition

    def without_direct(self):
        """For tables the direct business has no rows in (offers, quotes, orders, commissions)."""
        return Scope(self.partner_ids, direct=False)


ALL = Scope()


def _bounds(start: datetime.date, end: datetime.date):
    tz = datetime.UTC
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def daily(queryset, field: str, start, end, scope: Scope, value=None, *, partner="partner", line=None) -> list[Row]:
    """Group `queryset` by partner (and product line) and the UTC day of `field`; count rows or
    aggregate `value`."""
    low, high = _bounds(start, end)
    qs = queryset.filter(**{f"{field}__gte": low, f"{field}__lt": high}).filter(scope.q(partner))
    keys = {"p": F(partner), "d": TruncDate(field, tzinfo=datetime.UTC)}
    if line:
        keys["l"] = F(line)
    rows = qs.annotate(**keys).values(*keys).annotate(v=value if value is not None else Count("pk")).order_by()
    return [(r["p"], r.get("l"), r["d"], r["v"]) for r in rows if r["v"]]


def current(queryset, scope: Scope, value=None, *, partner="partner") -> list[Row]:
    rows = (
        queryset.filter(scope.q(partner))
        .annotate(p=F(partner))
        .values("p")
        .annotate(v=value if value is not None else Count("pk"))
        .order_by()
    )
    return [(r["p"], None, r["v"]) for r in rows if r["v"]]


# Deals ---------------------------------------------------------------------------------------------


def _registrations():
    from deals.models import DealRegistration

    return DealRegistration.objects.all()


@metric("registrations_submitted", "Registrations submitted")
def _registrations_submitted(start, end, scope):
    return daily(_registrations(), "submitted_at", start, end, scope)


@metric("registered_value", "Registered value", money=True)
def _registered_value(start, end, scope):
    return daily(_registrations(), "submitted_at", start, end, scope, Sum("estimated_value"))


@metric("registrations_approved", "Registrations approved")
def _registrations_approved(start, end, scope):
    return daily(_registrations(), "approved_at", start, end, scope)


@metric("registrations_rejected", "Registrations rejected")
def _registrations_rejected(start, end, scope):
    return daily(_registrations().filter(status="rejected"), "decided_at", start, end, scope)


def _offers():
    from deals.models import LeadOffer

    return LeadOffer.objects.all()


@metric("leads_offered", "Leads offered")
def _leads_offered(start, end, scope):
    return daily(_offers(), "offered_at", start, end, scope.without_direct())


@metric("leads_accepted", "Leads accepted")
def _leads_accepted(start, end, scope):
    return daily(_offers().filter(status="accepted"), "responded_at", start, end, scope.without_direct())


@metric("leads_missed", "Lead offers missed")
def _leads_missed(start, end, scope):
    return daily(_offers().filter(status="expired"), "responded_at", start, end, scope.without_direct())


@metric("lead_accept_hours", "Hours to accept (sum)")
def _lead_accept_hours(start, end, scope):
    took = ExpressionWrapper(F("responded_at") - F("offered_at"), output_field=DurationField())
    rows = daily(_offers().filter(status="accepted"), "responded_at", start, end, scope.without_direct(), Sum(took))
    return [(p, line, d, Decimal(v.total_seconds() / 3600).quantize(Decimal("0.01"))) for p, line, d, v in rows]


def _opportunities():
    from deals.models import Opportunity

    return Opportunity.objects.all()


@metric("won_count", "Deals won")
def _won_count(start, end, scope):
    return daily(_opportunities().filter(stage="closed_won"), "closed_at", start, end, scope)


@metric("won_amount", "Won revenue", money=True)
def _won_amount(start, end, scope):
    return daily(_opportunities().filter(stage="closed_won"), "closed_at", start, end, scope, Sum("amount"))


@metric("lost_count", "Deals lost")
def _lost_count(start, end, scope):
    return daily(_opportunities().filter(stage="closed_lost"), "closed_at", start, end, scope)


@metric("open_pipeline", "Open pipeline", kind="snapshot", money=True)
def _open_pipeline(scope):
    from deals.models import OPEN_STAGES

    return current(_opportunities().filter(stage__in=OPEN_STAGES), scope, Sum("amount"))


@metric("protected_registrations", "Protected registrations", kind="snapshot")
def _protected_registrations(scope):
    return current(_registrations().filter(status="approved"), scope)


# Quotes and orders ----------------------------------------------------------------------------------


@metric("quotes_sent", "Quotes sent")
def _quotes_sent(start, end, scope):
    from quotes.models import Quote

    return daily(Quote.objects.all(), "sent_at", start, end, scope.without_direct())


@metric("quotes_accepted", "Quotes accepted")
def _quotes_accepted(start, end, scope):
    from quotes.models import Quote

    return daily(Quote.objects.filter(status="accepted"), "answered_at", start, end, scope.without_direct())


def _orders():
    from quotes.models import Order

    return Order.objects.all()


@metric("orders_placed", "Orders placed")
def _orders_placed(start, end, scope):
    return daily(_orders(), "submitted_at", start, end, scope.without_direct())


@metric("orders_value", "Ordered value", money=True)
def _orders_value(start, end, scope):
    return daily(_orders(), "submitted_at", start, end, scope.without_direct(), Sum("total"))


@metric("fulfilled_revenue", "Fulfilled revenue", money=True)
def _fulfilled_revenue(start, end, scope):
    return daily(_orders().filter(status="fulfilled"), "fulfilled_at", start, end, scope.without_direct(), Sum("total"))


@metric("product_revenue", "Fulfilled revenue by product line (before header discounts)", money=True)
def _product_revenue(start, end, scope):
    from quotes.models import OrderLine

    return daily(
        OrderLine.objects.filter(order__status="fulfilled"),
        "order__fulfilled_at",
        start,
        end,
        scope.without_direct(),
        Sum("net_amount"),
        partner="order__partner",
        line="product__product_line",
    )


@metric("orders_cancelled", "Orders cancelled")
def _orders_cancelled(start, end, scope):
    from quotes.models import OrderEvent

    return daily(OrderEvent.objects.filter(to_status="cancelled"), "created_at", start, end, scope.without_direct())


# Commissions and cases --------------------------------------------------------------------------------


def _commissions():
    from partners.models import Commission

    return Commission.objects.exclude(status="reversed")


@metric("commission_accrued", "Commission accrued", money=True)
def _commission_accrued(start, end, scope):
    return daily(_commissions(), "accrued_at", start, end, scope.without_direct(), Sum("amount"))


@metric("commission_paid", "Commission paid", money=True)
def _commission_paid(start, end, scope):
    return daily(_commissions().filter(status="paid"), "paid_at", start, end, scope.without_direct(), Sum("amount"))


@metric("commission_pending", "Commission pending", kind="snapshot", money=True)
def _commission_pending(scope):
    return current(_commissions().filter(status__in=["accrued", "approved"]), scope.without_direct(), Sum("amount"))


def _cases():
    from cases.models import Case

    return Case.objects.filter(resolved_at__isnull=False)


@metric("cases_resolved", "Cases resolved")
def _cases_resolved(start, end, scope):
    return daily(_cases(), "resolved_at", start, end, scope)


@metric("cases_breached", "Cases resolved after an SLA breach")
def _cases_breached(start, end, scope):
    return daily(_cases().filter(sla_breached=True), "resolved_at", start, end, scope)


# Renewals and marketing funds ------------------------------------------------------------------------------


def daily_by_date(queryset, field: str, start, end, scope: Scope, value=None, *, partner="partner") -> list[Row]:
    """`daily` for a date column (a term end): grouped by the date itself."""
    qs = queryset.filter(**{f"{field}__gte": start, f"{field}__lte": end}).filter(scope.q(partner))
    rows = (
        qs.annotate(p=F(partner), d=F(field))
        .values("p", "d")
        .annotate(v=value if value is not None else Count("pk"))
        .order_by()
    )
    return [(r["p"], None, r["d"], r["v"]) for r in rows if r["v"]]


def _renewals():
    from renewals.models import Renewal

    return Renewal.objects.all()


@metric("renewals_due", "Renewals due (term ends)")
def _renewals_due(start, end, scope):
    return daily_by_date(_renewals().exclude(status="cancelled"), "term_end", start, end, scope.without_direct())


@metric("renewals_renewed", "Renewals renewed")
def _renewals_renewed(start, end, scope):
    return daily(_renewals().filter(status="renewed"), "closed_at", start, end, scope.without_direct())


@metric("renewals_lapsed", "Renewals lapsed")
def _renewals_lapsed(start, end, scope):
    return daily(_renewals().filter(status="lapsed"), "closed_at", start, end, scope.without_direct())


@metric("mdf_spent", "MDF reimbursed", money=True)
def _mdf_spent(start, end, scope):
    from mdf.models import FundClaim

    claims = FundClaim.objects.filter(status="paid")
    return daily(claims, "paid_at", start, end, scope.without_direct(), Sum("approved_amount"))


def mdf_attributed():
    """Opportunities that came from a campaign funded by a fund request (through the lead or the
    registration), as mdf's own request results count them."""
    return Q(lead__campaign__fund_request__isnull=False) | Q(registration__campaign__fund_request__isnull=False)


@metric("mdf_won_revenue", "Won revenue from MDF-funded campaigns", money=True)
def _mdf_won_revenue(start, end, scope):
    won = _opportunities().filter(mdf_attributed(), stage="closed_won")
    return daily(won, "closed_at", start, end, scope.without_direct(), Sum("amount"))


@metric("mdf_pipeline", "Open pipeline from MDF-funded campaigns", kind="snapshot", money=True)
def _mdf_pipeline(scope):
    from deals.models import OPEN_STAGES

    return current(
        _opportunities().filter(mdf_attributed(), stage__in=OPEN_STAGES), scope.without_direct(), Sum("amount")
    )


@metric("mdf_balance", "MDF balance", kind="snapshot", money=True)
def _mdf_balance(scope):
    from mdf.models import FundAllocation

    balance = Sum(F("amount") - F("committed") - F("paid") - F("expired"))
    return current(FundAllocation.objects.filter(status="active"), scope.without_direct(), balance)


# The refresh ---------------------------------------------------------------------------------------------


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _lock():
    RefreshLock.objects.get_or_create(name="facts")
    return RefreshLock.objects.select_for_update().get(name="facts")


def _scoped(qs, scope: Scope):
    return qs.filter(scope.q("partner"))


@transaction.atomic
def refresh(*, start: datetime.date, end: datetime.date, scope: Scope = ALL, metrics: Iterable[str] | None = None):
    """Recompute the daily facts of [start, end] for `scope`, the months they fall in, and today's
    snapshots. Safe to run twice and concurrently (one refresh at a time holds the lock)."""
    lock = _lock()
    chosen = [METRICS[code] for code in (metrics or METRICS)]
    flows = [m for m in chosen if m.kind == "flow"]
    snapshots = [m for m in chosen if m.kind == "snapshot"]
    if flows:
        codes = [m.code for m in flows]
        _scoped(
            Fact.objects.filter(grain=Grain.DAY, period__gte=start, period__lte=end, metric__in=codes), scope
        ).delete()
        rows = []
        for m in flows:
            rows += [
                Fact(grain=Grain.DAY, period=d, partner_id=p, product_line_id=line, metric=m.code, value=v)
                for p, line, d, v in m.compute(start, end, scope)
            ]
        Fact.objects.bulk_create(rows, batch_size=2000)
        _roll_up_months(month_of(start), month_of(end), scope, codes)
    if snapshots:
        today = timezone.now().date()
        codes = [m.code for m in snapshots]
        _scoped(
            Fact.objects.filter(metric__in=codes).filter(
                Q(grain=Grain.DAY, period=today) | Q(grain=Grain.MONTH, period=month_of(today))
            ),
            scope,
        ).delete()
        rows = []
        for m in snapshots:
            for p, line, v in m.compute(scope):
                rows.append(
                    Fact(grain=Grain.DAY, period=today, partner_id=p, product_line_id=line, metric=m.code, value=v)
                )
                rows.append(
                    Fact(
                        grain=Grain.MONTH,
                        period=month_of(today),
                        partner_id=p,
                        product_line_id=line,
                        metric=m.code,
                        value=v,
                    )
                )
        Fact.objects.bulk_create(rows, batch_size=2000)
    lock.refreshed_at = timezone.now()
    lock.save(update_fields=["refreshed_at"])


def _roll_up_months(first: datetime.date, last: datetime.date, scope: Scope, codes):
    last_day = (last.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    _scoped(
        Fact.objects.filter(grain=Grain.MONTH, period__gte=first, period__lte=last, metric__in=codes), scope
    ).delete()
    days = _scoped(
        Fact.objects.filter(grain=Grain.DAY, period__gte=first, period__lte=last_day, metric__in=codes), scope
    )
    sums = (
        days.annotate(month=TruncMonth("period"))
        .values("partner_id", "product_line_id", "metric", "month")
        .annotate(total=Sum("value"))
        .order_by()
    )
    Fact.objects.bulk_create(
        [
            Fact(
                grain=Grain.MONTH,
                period=row["month"],
                partner_id=row["partner_id"],
                product_line_id=row["product_line_id"],
                metric=row["metric"],
                value=row["total"],
            )
            for row in sums
        ],
        batch_size=2000,
    )


def refresh_partner_today(partner_id):
    """The event path: one partner's (or the direct business's, partner_id None) figures of today."""
    today = timezone.now().date()
    scope = Scope(frozenset() if partner_id is None else frozenset([partner_id]), direct=partner_id is None)
    refresh(start=today, end=today, scope=scope)


def refresh_recent(days: int = 2):
    """The nightly path: every seller's last `days` days (late changes, events whose task was lost)."""
    today = timezone.now().date()
    refresh(start=today - datetime.timedelta(days=days), end=today)
