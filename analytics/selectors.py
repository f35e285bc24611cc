"""Reads of analytics: the partner scorecard, the parent's channel view, the fraud queue, security
signals and the audit browser. Figures come from the Fact table (never the raw domain tables),
read through its scoped manager; the "needs your action" lists and a rep's own figures read
the domain's scoped querysets, limited to a few rows."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from partners.access import actor_of
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Partner, ProductLine

from .facts import METRICS, month_of
from .models import Fact, FraudAlert, Grain, SecurityEvent, SecurityKind, TierRequirement
from .permissions import can_monitor_security

ZERO = Decimal(0)
CENT = Decimal("0.01")
PAGE_ROWS = 25


DERIVED_MONEY = {"avg_deal", "revenue", "commission_accrued", "fulfilled_revenue"}


def _column_kind(name: str) -> str:
    metric = METRICS.get(name)
    if name in DERIVED_MONEY or (metric is not None and metric.money):
        return "money"
    return "figure"


def _cell(value, kind: str) -> str:
    from django.conf import settings

    from partners import presentation

    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    if kind == "money":
        return presentation.money(value, settings.PARENT_CURRENCY)
    return presentation.number(value)


@dataclass
class Table:
    """A table of the page, also served as CSV (`?export=<key>`)."""

    key: str
    title: str
    columns: list  # [(field, label)]
    rows: list = field(default_factory=list)  # [dict]

    def as_lists(self, rows=None):
        return [[row.get(name, "") for name, _ in self.columns] for row in (self.rows if rows is None else rows)]

    @property
    def page_rows(self):
        """What a page shows; the CSV and the API have every row."""
        return self.as_lists(self.rows[:PAGE_ROWS])

    @property
    def page_cells(self):
        """The page's rows in words and numbers a person reads (money with its currency and grouping,
        counts grouped); the CSV and the API keep the raw figures."""
        kinds = [_column_kind(name) for name, _ in self.columns]
        return [[_cell(value, kind) for value, kind in zip(row, kinds, strict=True)] for row in self.page_rows]

    @property
    def truncated(self) -> bool:
        return len(self.rows) > PAGE_ROWS


# Periods ----------------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


PERIODS = {
    "month": "This month",
    "quarter": "This quarter",
    "last_quarter": "Last quarter",
    "year": "This year",
    "12m": "Last 12 months",
}


def period_bounds(name: str, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """(first month, last month) of a named period; unknown names mean this quarter."""
    today = today or timezone.now().date()
    this_month = month_of(today)
    if name == "month":
        return this_month, this_month
    if name == "last_quarter":
        start = add_months(quarter_start(today), -3)
        return start, add_months(start, 2)
    if name == "year":
        return datetime.date(today.year, 1, 1), this_month
    if name == "12m":
        return add_months(this_month, -11), this_month
    return quarter_start(today), this_month


# Derived figures -----------------------------------------------------------------------------------


def _ratio(numerator, denominator, scale=100):
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(Decimal("0.1"))


# Figures that are numbers of things, shown without decimals.
COUNT_METRICS = [code for code, m in METRICS.items() if not m.money and code != "lead_accept_hours"]


def derived(values: dict) -> dict:
    """Rates from the additive facts of one seller and period."""
    v = {code: values.get(code, ZERO) for code in METRICS} | values
    closed = v["won_count"] + v["lost_count"]
    counts = {code: int(v[code]) for code in COUNT_METRICS if code in v}
    return (
        v
        | counts
        | {
            "win_rate": _ratio(v["won_count"], closed),
            "avg_deal": (v["won_amount"] / v["won_count"]).quantize(CENT) if v["won_count"] else None,
            "lead_acceptance": _ratio(v["leads_accepted"], v["leads_offered"]),
            "accept_hours": _ratio(v["lead_accept_hours"], v["leads_accepted"], scale=1),
            "sla_attainment": _ratio(v["cases_resolved"] - v["cases_breached"], v["cases_resolved"]),
            "approval_rate": _ratio(v["registrations_approved"], v["registrations_submitted"]),
            "renewal_rate": _ratio(v["renewals_renewed"], v["renewals_renewed"] + v["renewals_lapsed"]),
            "mdf_roi": _ratio(v["mdf_won_revenue"] - v["mdf_spent"], v["mdf_spent"]),
        }
    )


def _sums(queryset, *keys) -> dict:
    """{(keys…, metric): value} summed over the rows."""
    rows = queryset.values(*keys, "metric").annotate(v=Sum("value")).order_by().values_list(*keys, "metric", "v")
    return {row[:-1]: Decimal(row[-1]).quantize(CENT) for row in rows}


def _per(sums: dict, index: int = 0) -> dict:
    """{key: {metric: value}} from _sums rows keyed by (key, metric)."""
    result = {}
    for key, value in sums.items():
        result.setdefault(key[index], {})[key[-1]] = value
    return result


# Scorecard ------------------------------------------------------------------------------------------

TREND_COLUMNS = [
    ("month", "Month"),
    ("registrations_submitted", "Registrations"),
    ("registrations_approved", "Approved"),
    ("won_count", "Won"),
    ("lost_count", "Lost"),
    ("win_rate", "Win rate %"),
    ("won_amount", "Won revenue"),
    ("fulfilled_revenue", "Fulfilled revenue"),
    ("commission_accrued", "Commission"),
    ("lead_acceptance", "Leads accepted %"),
    ("accept_hours", "Hours to accept"),
    ("sla_attainment", "SLA met %"),
    ("renewals_due", "Renewals due"),
    ("renewal_rate", "Renewal rate %"),
    ("mdf_spent", "MDF reimbursed"),
    ("mdf_roi", "MDF ROI %"),
]


def scorecard_partner(*, user, partner_id=None):
    """The partner whose scorecard the caller asks for: their own, or (parent staff) one they see."""
    actor = actor_of(user)
    if actor.is_partner:
        return actor.partner if partner_id in (None, actor.partner_id) else None
    if partner_id is None:
        return None
    return Partner.objects.for_user(user).select_related("tier").filter(pk=partner_id).first()


def _facts_of(user, partner_id, first, last):
    return Fact.objects.for_user(user).filter(
        grain=Grain.MONTH, partner=partner_id, period__gte=first, period__lte=last
    )


def money_tiles(*, user, partner=None) -> list[tuple[str, Decimal]]:
    actor = actor_of(user)
    partner = partner or actor.partner
    today = timezone.now().date()
    if actor.is_partner and not actor.sees_partner_wide:
        own = _own_figures(user, quarter_start(today))
        return [("My pipeline", own["pipeline"]), ("My wins this quarter", own["won"])]
    this_month = month_of(today)
    sums = _per(_sums(_facts_of(user, partner.pk, quarter_start(today), this_month), "partner_id"))
    current = _per(_sums(_facts_of(user, partner.pk, this_month, this_month), "partner_id"))
    quarter, now = sums.get(partner.pk, {}), current.get(partner.pk, {})
    return [
        ("Pipeline", now.get("open_pipeline", ZERO)),
        ("Won this quarter", quarter.get("won_amount", ZERO)),
        ("Commission earned this quarter", quarter.get("commission_accrued", ZERO)),
        ("Commission pending", now.get("commission_pending", ZERO)),
        ("MDF balance", now.get("mdf_balance", ZERO)),
    ]


def _own_figures(user, since):
    """A rep's own pipeline and wins, from the records the access policy shows them."""
    from deals.models import OPEN_STAGES, Opportunity

    mine = Opportunity.objects.for_user(user)
    return {
        "pipeline": mine.filter(stage__in=OPEN_STAGES).aggregate(v=Sum("amount"))["v"] or ZERO,
        "won": mine.filter(stage="closed_won", closed_at__date__gte=since).aggregate(v=Sum("amount"))["v"] or ZERO,
    }


def _own_trend(user, first):
    from deals.models import Opportunity

    rows = (
        Opportunity.objects.for_user(user)
        .filter(stage__in=["closed_won", "closed_lost"], closed_at__date__gte=first)
        .annotate(m=TruncMonth("closed_at"))
        .values("m", "stage")
        .annotate(n=Count("pk"), v=Sum("amount"))
        .order_by()
    )
    result = {}
    for r in rows:
        month = r["m"].date() if isinstance(r["m"], datetime.datetime) else r["m"]
        entry = result.setdefault(month, {})
        if r["stage"] == "closed_won":
            entry["won_count"], entry["won_amount"] = Decimal(r["n"]), r["v"] or ZERO
        else:
            entry["lost_count"] = Decimal(r["n"])
    return result


def scorecard(*, user, partner) -> dict:
    """Money tiles, monthly trends of the last twelve months, tier progress and what needs action."""
    actor = actor_of(user)
    today = timezone.now().date()
    last = month_of(today)
    first = add_months(last, -11)
    months = [add_months(first, i) for i in range(12)]
    own_only = actor.is_partner and not actor.sees_partner_wide
    if own_only:
        by_month = _own_trend(user, first)
    else:
        by_month = _per(_sums(_facts_of(user, partner.pk, first, last), "period"))
    trend = Table("trend", "By month", TREND_COLUMNS if not own_only else TREND_COLUMNS[:1] + TREND_COLUMNS[3:7])
    totals = {}
    for month in months:
        values = by_month.get(month, {})
        for code, value in values.items():
            if METRICS.get(code) and METRICS[code].kind == "flow" or code not in METRICS:
                totals[code] = totals.get(code, ZERO) + value
        row = derived(values)
        row["month"] = month.strftime("%Y-%m")
        trend.rows.append({name: row.get(name) for name, _ in trend.columns})
    return {
        "partner": partner,
        "own_only": own_only,
        "tiles": money_tiles(user=user, partner=partner),
        "trend": trend,
        "chart": {
            "labels": [r["month"] for r in trend.rows],
            "won": [float(r.get("won_amount") or 0) for r in trend.rows],
            "fulfilled": [float(r.get("fulfilled_revenue") or 0) for r in trend.rows],
            "win_rate": [float(r["win_rate"]) if r.get("win_rate") is not None else None for r in trend.rows],
        },
        "tier": None if own_only else tier_progress(partner, derived(totals)),
        "actions": needs_action(user=user, partner=partner),
    }


def tier_progress(partner, figures) -> Table:
    """The partner's last twelve months against its tier's requirements and the next tier's."""
    table = Table(
        "tier",
        "Tier progress (last 12 months)",
        [("measure", "Measure"), ("actual", "Actual"), ("current", "Current tier needs"), ("next", "Next tier needs")],
    )
    requirements = {r.tier_id: r for r in TierRequirement.objects.select_related("tier")}
    current = requirements.get(partner.tier_id)
    following = None
    if partner.tier_id:
        following = next(
            (r for r in sorted(requirements.values(), key=lambda r: r.tier.rank) if r.tier.rank > partner.tier.rank),
            None,
        )

    def need(req, name, fmt=str):
        value = getattr(req, name, None) if req else None
        return fmt(value) if value is not None else "—"

    table.rows = [
        {
            "measure": "Win rate %",
            "actual": figures["win_rate"] if figures["win_rate"] is not None else "—",
            "current": need(current, "min_win_rate", lambda v: f"≥ {v}"),
            "next": need(following, "min_win_rate", lambda v: f"≥ {v} ({following.tier})"),
        },
        {
            "measure": "Hours to accept a lead",
            "actual": figures["accept_hours"] if figures["accept_hours"] is not None else "—",
            "current": need(current, "max_accept_hours", lambda v: f"≤ {v}"),
            "next": need(following, "max_accept_hours", lambda v: f"≤ {v} ({following.tier})"),
        },
        {
            "measure": "Won revenue",
            "actual": figures["won_amount"],
            "current": need(current, "min_revenue", lambda v: f"≥ {v}"),
            "next": need(following, "min_revenue", lambda v: f"≥ {v} ({following.tier})"),
        },
    ]
    return table


ACTION_LIMIT = 10


def needs_action(*, user, partner) -> Table:
    """Offers about to expire, returned registrations, quotes awaiting the customer, cases near
    breach, renewals in their window: the caller's own view of the partner's records, a few of each."""
    from cases.models import OPEN_STATUSES, Case
    from deals.models import DealRegistration, LeadOffer
    from quotes.models import Quote
    from renewals.conf import lead_days
    from renewals.models import OPEN_RENEWAL_STATUSES, Renewal

    now = timezone.now()
    # A renewal is in its window from its first milestone (the lead days before term end) on.
    renewal_window_end = timezone.localdate() + datetime.timedelta(days=lead_days())
    table = Table("actions", "Needs your action", [("what", "What"), ("item", "Item"), ("due", "Due")])
    for offer in (
        LeadOffer.objects.for_user(user)
        .filter(partner=partner.pk, status="pending", deadline__lte=now + datetime.timedelta(hours=24))
        .select_related("lead")
        .order_by("deadline")[:ACTION_LIMIT]
    ):
        table.rows.append(
            {"what": "Lead offer about to expire", "item": offer.lead.company_name, "due": offer.deadline, "url": None}
        )
    for registration in (
        DealRegistration.objects.for_user(user)
        .filter(partner=partner.pk, status="returned")
        .order_by("-updated_at")[:ACTION_LIMIT]
    ):
        table.rows.append({"what": "Registration returned for changes", "item": registration.customer_name, "due": ""})
    for quote in (
        Quote.objects.for_user(user).filter(partner=partner.pk, status="sent").order_by("valid_until")[:ACTION_LIMIT]
    ):
        table.rows.append({"what": "Quote awaiting the customer", "item": quote.number, "due": quote.valid_until})
    for case in (
        Case.objects.for_user(user)
        .filter(partner=partner.pk, status__in=OPEN_STATUSES, resolution_due_at__lte=now + datetime.timedelta(hours=8))
        .order_by("resolution_due_at")[:ACTION_LIMIT]
    ):
        table.rows.append({"what": "Case near its SLA breach", "item": case.subject, "due": case.resolution_due_at})
    for renewal in (
        Renewal.objects.for_user(user)
        .filter(partner=partner.pk, status__in=OPEN_RENEWAL_STATUSES, term_end__lte=renewal_window_end)
        .select_related("customer")
        .order_by("term_end", "pk")[:ACTION_LIMIT]
    ):
        table.rows.append(
            {"what": "Renewal in its window", "item": f"{renewal.number} {renewal.customer}", "due": renewal.term_end}
        )
    return table


# Channel view ----------------------------------------------------------------------------------------

RANK_COLUMNS = [
    ("partner", "Partner"),
    ("tier", "Tier"),
    ("business_model", "Business model"),
    ("won_amount", "Won revenue"),
    ("won_count", "Won"),
    ("win_rate", "Win rate %"),
    ("avg_deal", "Average deal"),
    ("fulfilled_revenue", "Fulfilled revenue"),
    ("registrations_submitted", "Registrations"),
    ("approval_rate", "Approved %"),
    ("commission_accrued", "Commission"),
    ("sla_attainment", "SLA met %"),
    ("renewal_rate", "Renewal rate %"),
    ("mdf_roi", "MDF ROI %"),
]


def channel_partners(*, user, tier=None, business_model=None, territory=None):
    partners = Partner.objects.for_user(user).select_related("tier")
    if tier:
        partners = partners.filter(tier_id=tier)
    if business_model:
        partners = partners.filter(business_model=business_model)
    if territory:
        partners = partners.filter(territories__country=territory.upper())
    return partners.distinct().order_by("name")


def channel(*, user, period: str = "quarter", tier=None, business_model=None, territory=None) -> dict:
    """Channel against direct, partners ranked, products by partner, business models compared, lead
    routing and the funnel, for the partners the caller sees and the chosen period."""
    first, last = period_bounds(period)
    # Labels resolved once: get_FOO_display() re-translates its choices on every call.
    model_labels = {value: str(label) for value, label in BusinessModel.choices}
    partners = {
        p.pk: p for p in channel_partners(user=user, tier=tier, business_model=business_model, territory=territory)
    }
    facts = Fact.objects.for_user(user).filter(grain=Grain.MONTH, period__gte=first, period__lte=last)
    if tier or business_model or territory:
        # The scope already limits a channel manager to their partners; filters narrow further.
        facts = facts.filter(Q(partner__in=sorted(partners)) | Q(partner__isnull=True))
    flows = [code for code, m in METRICS.items() if m.kind == "flow"]
    per_partner = _per(_sums(facts.filter(metric__in=flows).exclude(metric="product_revenue"), "partner_id"))
    per_partner = {pk: values for pk, values in per_partner.items() if pk is None or pk in partners}
    direct = derived(per_partner.pop(None, {}))
    channel_total = {}
    for values in per_partner.values():
        for code, value in values.items():
            channel_total[code] = channel_total.get(code, ZERO) + value
    channel_figures = derived(channel_total)

    compare = Table(
        "compare",
        "Channel against direct",
        [
            ("seller", "Seller"),
            ("won_amount", "Won revenue"),
            ("won_count", "Won"),
            ("win_rate", "Win rate %"),
            ("avg_deal", "Average deal"),
        ],
    )
    for name, figures in (("Channel", channel_figures), ("Direct", direct)):
        compare.rows.append({"seller": name} | {k: figures.get(k) for k, _ in compare.columns[1:]})

    figures_of = {pk: derived(per_partner.get(pk, {})) for pk in partners}
    ranked = Table("partners", "Partners ranked", RANK_COLUMNS)
    for pk, partner in partners.items():
        figures = figures_of[pk]
        ranked.rows.append(
            {k: figures.get(k) for k, _ in RANK_COLUMNS}
            | {
                "partner": partner.name,
                "partner_id": partner.pk,
                "tier": str(partner.tier or "—"),
                "business_model": model_labels[partner.business_model],
            }
        )
    ranked.rows.sort(key=lambda r: (-(r["won_amount"] or 0), r["partner"]))

    models = Table(
        "models",
        "Business models compared",
        [
            ("business_model", "Business model"),
            ("partners", "Partners"),
            ("won_amount", "Won revenue"),
            ("win_rate", "Win rate %"),
            ("fulfilled_revenue", "Fulfilled revenue"),
        ],
    )
    grouped = {}
    for pk, partner in partners.items():
        entry = grouped.setdefault(model_labels[partner.business_model], {"n": 0, "values": {}})
        entry["n"] += 1
        for code, value in per_partner.get(pk, {}).items():
            entry["values"][code] = entry["values"].get(code, ZERO) + value
    for name, entry in sorted(grouped.items()):
        figures = derived(entry["values"])
        models.rows.append(
            {"business_model": name, "partners": entry["n"]}
            | {k: figures.get(k) for k in ("won_amount", "win_rate", "fulfilled_revenue")}
        )

    routing = Table(
        "routing",
        "Lead routing",
        [
            ("partner", "Partner"),
            ("leads_offered", "Offered"),
            ("leads_accepted", "Accepted"),
            ("leads_missed", "Missed"),
            ("lead_acceptance", "Accepted %"),
            ("accept_hours", "Hours to accept"),
        ],
    )
    for pk, partner in partners.items():
        figures = figures_of[pk]
        if figures["leads_offered"]:
            routing.rows.append({"partner": partner.name} | {k: figures.get(k) for k, _ in routing.columns[1:]})

    products = Table(
        "products",
        "Products by partner",
        [("partner", "Partner"), ("product_line", "Product line"), ("revenue", "Fulfilled revenue (lines)")],
    )
    lines = dict(ProductLine.objects.values_list("pk", "name"))
    for (partner_id, line_id, _metric), value in sorted(
        _sums(facts.filter(metric="product_revenue", partner__isnull=False), "partner_id", "product_line_id").items(),
        key=lambda item: -item[1],
    ):
        if partner_id in partners:
            products.rows.append(
                {"partner": partners[partner_id].name, "product_line": lines.get(line_id, "—"), "revenue": value}
            )

    funnel = Table("funnel", "Funnel", [("stage", "Stage"), ("count", "Count")])
    for code, label in (
        ("leads_offered", "Leads offered"),
        ("leads_accepted", "Leads accepted"),
        ("registrations_submitted", "Registrations submitted"),
        ("registrations_approved", "Registrations approved"),
        ("won_count", "Deals won"),
        ("orders_placed", "Orders placed"),
        ("renewals_due", "Renewals due"),
        ("renewals_renewed", "Renewals renewed"),
    ):
        funnel.rows.append({"stage": label, "count": channel_total.get(code, ZERO)})

    return {
        "period": period if period in PERIODS else "quarter",
        "first": first,
        "last": last,
        "compare": compare,
        "partners": ranked,
        "models": models,
        "routing": routing,
        "products": products,
        "funnel": funnel,
        "chart": {
            "labels": [r["partner"] for r in ranked.rows[:15]],
            "won": [float(r["won_amount"] or 0) for r in ranked.rows[:15]],
            "compare_labels": ["Channel", "Direct"],
            "compare": [float(channel_figures["won_amount"]), float(direct["won_amount"])],
            "funnel_labels": [r["stage"] for r in funnel.rows],
            "funnel": [float(r["count"]) for r in funnel.rows],
        },
    }


CHANNEL_CACHE_SECONDS = 300


def channel_cached(*, user, **filters) -> dict:
    """`channel` for the caller's scope and filters, computed once per facts refresh: the key holds
    the time of the last refresh, so new figures are never hidden behind the cache."""
    import hashlib

    from django.core.cache import cache

    from .models import RefreshLock

    actor = actor_of(user)
    scope = "all" if actor.partner_ids is None else ",".join(map(str, sorted(actor.partner_ids)))
    refreshed = RefreshLock.objects.filter(name="facts").values_list("refreshed_at", flat=True).first()
    raw = repr((scope, sorted(filters.items()), refreshed, timezone.now().date()))
    key = "analytics:channel:" + hashlib.sha256(raw.encode()).hexdigest()
    view = cache.get(key)
    if view is None:
        view = channel(user=user, **filters)
        cache.set(key, view, timeout=CHANNEL_CACHE_SECONDS)
    return view


def partner_summaries(*, user, partner_ids, period="quarter") -> dict:
    """{partner id: derived figures} for a page of partners in one query (the API's list)."""
    first, last = period_bounds(period)
    facts = Fact.objects.for_user(user).filter(
        grain=Grain.MONTH, period__gte=first, period__lte=last, partner__in=list(partner_ids)
    )
    per = _per(_sums(facts.exclude(metric="product_revenue"), "partner_id"))
    return {pk: derived(per.get(pk, {})) for pk in partner_ids}


# Fraud queue, security, audit -------------------------------------------------------------------------------


def alert_list(*, user, status="open", rule=None, partner=None):
    alerts = FraudAlert.objects.for_user(user).select_related("rule", "partner", "triaged_by")
    if status:
        alerts = alerts.filter(status=status)
    if rule:
        alerts = alerts.filter(rule__code=rule)
    if partner:
        alerts = alerts.filter(partner_id=partner)
    return alerts


def alert_get(*, user, pk):
    return alert_list(user=user, status="").filter(pk=pk).first()


def security_overview(*, user, hours: int = 24, burst: int = 20) -> dict:
    """Failed logins and lockouts (django-axes), bursts of 403/404 per user, API tokens used from
    new addresses, bulk exports, over the last `hours`."""
    from axes.models import AccessAttempt
    from django.conf import settings

    since = timezone.now() - datetime.timedelta(hours=hours)
    events = SecurityEvent.objects.for_user(user).filter(created_at__gte=since)
    attempts = Table(
        "logins",
        "Failed logins",
        [
            ("username", "Username"),
            ("ip_address", "Address"),
            ("failures", "Failures"),
            ("locked", "Locked out"),
            ("last", "Last attempt"),
        ],
    )
    # django-axes' table has no tenant: only the roles that monitor security read it.
    if can_monitor_security(user):
        limit = getattr(settings, "AXES_FAILURE_LIMIT", 10)
        for a in AccessAttempt.objects.filter(attempt_time__gte=since).order_by("-failures_since_start")[:100]:
            attempts.rows.append(
                {
                    "username": a.username,
                    "ip_address": a.ip_address,
                    "failures": a.failures_since_start,
                    "locked": "yes" if a.failures_since_start >= limit else "no",
                    "last": a.attempt_time,
                }
            )
    bursts = Table(
        "bursts",
        "Bursts of refusals (403/404)",
        [("user", "User"), ("denied", "403"), ("not_found", "404"), ("total", "Total")],
    )
    rows = (
        events.filter(kind__in=[SecurityKind.DENIED, SecurityKind.NOT_FOUND])
        .values("user__username")
        .annotate(
            denied=Count("pk", filter=Q(kind=SecurityKind.DENIED)),
            not_found=Count("pk", filter=Q(kind=SecurityKind.NOT_FOUND)),
            total=Count("pk"),
        )
        .filter(total__gte=burst)
        .order_by("-total")[:100]
    )
    bursts.rows = [
        {"user": r["user__username"], "denied": r["denied"], "not_found": r["not_found"], "total": r["total"]}
        for r in rows
    ]
    tokens = Table(
        "tokens",
        "API tokens used from new addresses",
        [("user", "User"), ("ip_address", "Address"), ("when", "First seen")],
    )
    tokens.rows = [
        {"user": e.user.username if e.user else "", "ip_address": e.ip_address, "when": e.created_at}
        for e in events.filter(kind=SecurityKind.NEW_TOKEN_ADDRESS).select_related("user")[:100]
    ]
    exports = Table("exports", "Exports", [("user", "User"), ("path", "What"), ("rows", "Rows"), ("when", "When")])
    exports.rows = [
        {"user": e.user.username if e.user else "", "path": e.path, "rows": e.rows, "when": e.created_at}
        for e in events.filter(kind=SecurityKind.EXPORT).select_related("user")[:100]
    ]
    return {"hours": hours, "burst": burst, "tables": [attempts, bursts, tokens, exports]}


def audit_list(*, user, actor="", partner=None, verb="", obj="", since=None, until=None):
    """The audit trail the caller sees (parent staff: their partners), filtered."""
    events = AuditEvent.objects.for_user(user).select_related("actor", "partner", "content_type")
    if actor:
        events = events.filter(actor__username=actor)
    if partner:
        events = events.filter(partner_id=partner)
    if verb:
        events = events.filter(verb__startswith=verb)
    if obj:
        label, _, pk = obj.partition(":")
        if pk:
            app_label, _, model = label.partition(".")
            events = events.filter(content_type__app_label=app_label, content_type__model=model, object_id=pk)
        else:
            events = events.filter(object_repr__icontains=obj)
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events


def verb_label(verb: str) -> str:
    """ "deal_registration.approve" → "Deal registration: approve"."""
    subject, _, action = verb.partition(".")
    return f"{subject.replace('_', ' ').capitalize()}: {action.replace('_', ' ')}" if action else verb
