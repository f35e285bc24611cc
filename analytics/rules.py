"""The fraud rules. Each is registered with its events, its default thresholds (editable in the
admin as FraudRule.thresholds), an event check over one subject and a set-based sweep. Every
check reads through indexed columns of one partner or one customer, so it stays fast at scale.

To add a rule (e.g. the MDF rules, on the "claim_submitted" event), register one more Rule."""

import datetime
import difflib
from decimal import Decimal

from django.db.models import Count, DateField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.utils import timezone

from mdf.models import INVOICE_HOLDING as CLAIM_HOLDING

from .fraud import Finding, Rule, register, subject_key

# Mail providers whose domain says nothing about who a person works for.
FREE_MAIL = {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me"}


def _money(value) -> str:
    return f"{Decimal(value):,.2f}"


def _registration_finding(registration, score, summary, evidence):
    keys = [f"deal-registration:{registration.pk}"]
    opportunity_id = getattr(getattr(registration, "opportunity", None), "pk", None)
    if opportunity_id:
        keys.append(f"opportunity:{opportunity_id}")
    return Finding(
        partner_id=registration.partner_id,
        subject_key=subject_key(registration),
        subject_repr=f"Registration #{registration.pk}: {registration.customer_name}",
        score=score,
        summary=summary,
        evidence=evidence,
        hold_keys=keys,
    )


def _partner_finding(partner_id, name, day, score, summary, evidence):
    return Finding(
        partner_id=partner_id,
        subject_key=f"partners.partner:{partner_id}@{day.isoformat()}",
        subject_repr=f"{name} ({day.isoformat()})",
        score=score,
        summary=summary,
        evidence=evidence,
        hold_keys=[""],
    )


# 1. Duplicate or near-duplicate registrations and customers across partners (the deal matcher) -----------


def _conflicts(registration_ids):
    from deals.models import RegistrationConflict

    return (
        RegistrationConflict.objects.filter(registration_id__in=registration_ids)
        .select_related("registration", "conflicting_registration__partner", "conflicting_customer__owner_partner")
        .order_by("registration_id", "id")
    )


def _duplicate_findings(conflicts, params):
    by_registration = {}
    for c in conflicts:
        other_partner = None
        if c.kind == "registration" and c.conflicting_registration_id:
            other_partner = c.conflicting_registration.partner
            row = {
                "registration": c.conflicting_registration_id,
                "partner": other_partner.name,
                "customer": c.conflicting_registration.customer_name,
                "reasons": c.reasons,
            }
        elif c.kind == "customer" and c.conflicting_customer_id and c.conflicting_customer.owner_partner_id:
            other_partner = c.conflicting_customer.owner_partner
            row = {"customer": c.conflicting_customer_id, "owner": other_partner.name, "reasons": c.reasons}
        else:
            continue
        by_registration.setdefault(c.registration_id, (c.registration, []))[1].append(row)
    for registration, rows in by_registration.values():
        if len(rows) >= params["min_matches"]:
            score = min(55 + 15 * len(rows), 95)
            yield _registration_finding(
                registration,
                score,
                f"Registered a deal another partner already holds ({len(rows)} match(es)).",
                rows,
            )


def _conflicts_of(registration):
    """The registration's conflicts, read once per event check (two rules look at them)."""
    if not hasattr(registration, "_fraud_conflicts"):
        registration._fraud_conflicts = list(_conflicts([registration.pk]))
    return registration._fraud_conflicts


def _duplicate_check(registration, params):
    return list(_duplicate_findings(_conflicts_of(registration), params))


def _duplicate_sweep(params, since):
    from deals.models import OPEN_REGISTRATION_STATUSES, RegistrationConflict

    conflicts = (
        RegistrationConflict.objects.filter(
            created_at__gte=since,
            registration__status__in=OPEN_REGISTRATION_STATUSES,
            kind__in=["registration", "customer"],
        )
        .select_related("registration", "conflicting_registration__partner", "conflicting_customer__owner_partner")
        .order_by("registration_id", "id")
    )
    return _duplicate_findings(conflicts.iterator(chunk_size=2000), params)


register(
    Rule(
        code="duplicate_registration",
        name="Duplicate registration across partners",
        description="A registration matches another partner's open registration or a customer another partner owns.",
        events=("registration_submitted",),
        defaults={"min_matches": 1, "sweep_days": 30},
        check=_duplicate_check,
        sweep=_duplicate_sweep,
    )
)


# 2. Registering the parent's own customers or open direct opportunities -------------------------------------


def _parent_findings(conflicts):
    by_registration = {}
    for c in conflicts:
        if c.kind == "opportunity":
            row = {"direct_opportunity": c.conflicting_opportunity_id, "detail": c.detail, "reasons": c.reasons}
        elif c.kind == "customer" and c.conflicting_customer_id and not c.conflicting_customer.owner_partner_id:
            row = {"parent_customer": c.conflicting_customer_id, "detail": c.detail, "reasons": c.reasons}
        else:
            continue
        by_registration.setdefault(c.registration_id, (c.registration, []))[1].append(row)
    for registration, rows in by_registration.values():
        direct = any("direct_opportunity" in r for r in rows)
        yield _registration_finding(
            registration,
            80 if direct else 65,
            "Registered the parent's own " + ("open opportunity." if direct else "customer."),
            rows,
        )


def _parent_check(registration, params):
    return list(_parent_findings(_conflicts_of(registration)))


def _parent_sweep(params, since):
    from deals.models import OPEN_REGISTRATION_STATUSES, RegistrationConflict

    conflicts = (
        RegistrationConflict.objects.filter(
            created_at__gte=since,
            registration__status__in=OPEN_REGISTRATION_STATUSES,
            kind__in=["opportunity", "customer"],
        )
        .select_related("registration", "conflicting_customer")
        .order_by("registration_id", "id")
    )
    return _parent_findings(conflicts.iterator(chunk_size=2000))


register(
    Rule(
        code="parent_customer_registration",
        name="Registration of the parent's own business",
        description="A registration matches one of the parent's open direct opportunities or customers.",
        events=("registration_submitted",),
        defaults={"sweep_days": 30},
        check=_parent_check,
        sweep=_parent_sweep,
    )
)


# 3. Deal hoarding: idle approved registrations, repeated extensions, re-registration after expiry -----------


def _reregistration(registration, params):
    from deals.models import DealRegistration

    if registration.submitted_at is None:
        return []
    window_start = registration.submitted_at - datetime.timedelta(days=params["reregister_days"])
    expired = list(
        DealRegistration.objects.for_partner(registration.partner_id)
        .filter(
            customer_country=registration.customer_country,
            normalized_name=registration.normalized_name,
            status="expired",
            updated_at__gte=window_start,
            updated_at__lte=registration.submitted_at,
        )
        .exclude(pk=registration.pk)
        .values("pk", "customer_name", "protected_until", "updated_at")[:10]
    )
    if not expired:
        return []
    rows = [
        {"expired_registration": e["pk"], "customer": e["customer_name"], "expired": str(e["updated_at"])}
        for e in expired
    ]
    return [_registration_finding(registration, 60, "Re-registered a deal soon after its protection expired.", rows)]


def _idle_partner(partner_id, partner_name, params, day):
    from deals.models import DealRegistration

    idle_since = timezone.now() - datetime.timedelta(days=params["idle_days"])
    idle = list(
        DealRegistration.objects.for_partner(partner_id)
        .filter(status="approved", approved_at__lt=idle_since, opportunity__updated_at__lt=idle_since)
        .values("pk", "customer_name", "approved_at")[: params["idle_count"] + 20]
    )
    if len(idle) < params["idle_count"]:
        return []
    rows = [{"registration": r["pk"], "customer": r["customer_name"], "approved": str(r["approved_at"])} for r in idle]
    return [
        _partner_finding(
            partner_id,
            partner_name,
            day,
            min(40 + len(idle), 90),
            f"{len(idle)} approved registrations untouched for {params['idle_days']} days.",
            rows,
        )
    ]


def _hoarding_check(registration, params):
    # A submission can be a re-registration; idle registrations and repeated extensions build up
    # over time, so the nightly sweep finds those.
    return _reregistration(registration, params)


def _hoarding_sweep(params, since):
    from deals.models import MAX_EXTENSIONS, DealRegistration, RegistrationExtension

    day = timezone.now().date()
    idle_since = timezone.now() - datetime.timedelta(days=params["idle_days"])
    idle_counts = (
        DealRegistration.objects.filter(
            status="approved", approved_at__lt=idle_since, opportunity__updated_at__lt=idle_since
        )
        .values("partner_id", "partner__name")
        .annotate(n=Count("pk"))
        .filter(n__gte=params["idle_count"])
        .order_by()
    )
    for row in idle_counts:
        yield from _idle_partner(row["partner_id"], row["partner__name"], params, day)
    extended = (
        RegistrationExtension.objects.filter(requested_at__gte=since)
        .values("registration_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=min(params["extensions"], MAX_EXTENSIONS))
        .order_by()
    )
    ids = [row["registration_id"] for row in extended]
    for registration in DealRegistration.objects.filter(pk__in=ids, status="approved").select_related("opportunity"):
        yield _registration_finding(
            registration,
            50,
            "Protection extended again and again without progress.",
            [{"registration": registration.pk, "extensions": params["extensions"]}],
        )
    # Only the submissions that do follow an expiry of the same partner and customer within the window
    # (one query for the whole sweep); `_reregistration` then reads the evidence of those few.
    window = datetime.timedelta(days=params["reregister_days"])
    expired_before = DealRegistration.objects.filter(
        partner=OuterRef("partner"),
        customer_country=OuterRef("customer_country"),
        normalized_name=OuterRef("normalized_name"),
        status="expired",
        updated_at__gte=OuterRef("submitted_at") - window,
        updated_at__lte=OuterRef("submitted_at"),
    ).exclude(pk=OuterRef("pk"))
    recently_expired = DealRegistration.objects.filter(status="expired", updated_at__gte=since - window)
    reregistered = DealRegistration.objects.filter(
        submitted_at__gte=since,
        status__in=["submitted", "approved"],
        normalized_name__in=recently_expired.values("normalized_name"),  # a hashed pre-filter
    ).filter(Exists(expired_before))
    for registration in reregistered.select_related("partner").iterator(chunk_size=2000):
        yield from _reregistration(registration, params)


register(
    Rule(
        code="deal_hoarding",
        name="Deal hoarding",
        description="Many approved but idle registrations, repeated extensions, or re-registration soon after expiry.",
        events=("registration_submitted",),
        defaults={"idle_days": 45, "idle_count": 10, "extensions": 2, "reregister_days": 30, "sweep_days": 30},
        check=_hoarding_check,
        sweep=_hoarding_sweep,
    )
)


# 4. Win without an order, or a won amount far above the registered value -----------------------------------


def _opportunity_finding(opportunity, score, summary, evidence):
    return Finding(
        partner_id=opportunity.partner_id,
        subject_key=subject_key(opportunity),
        subject_repr=f"Opportunity #{opportunity.pk}: {opportunity.name}",
        score=score,
        summary=summary,
        evidence=evidence,
        hold_keys=[f"opportunity:{opportunity.pk}"],
    )


def _no_order_finding(opportunity, params):
    big = opportunity.amount >= Decimal(str(params["min_amount"])) * 10
    return _opportunity_finding(
        opportunity,
        75 if big else 50,
        f"Marked won at {_money(opportunity.amount)} {opportunity.currency} with no order behind it.",
        [{"opportunity": opportunity.pk, "amount": str(opportunity.amount), "closed_at": str(opportunity.closed_at)}],
    )


def _win_without_order_check(opportunity, params):
    from quotes.links import live_orders_for_opportunity

    if opportunity.partner_id is None or opportunity.stage != "closed_won":
        return []
    if opportunity.amount < Decimal(str(params["min_amount"])) or live_orders_for_opportunity(opportunity).exists():
        return []
    return [_no_order_finding(opportunity, params)]


def _win_without_order_sweep(params, since):
    from django.db.models import Exists, OuterRef

    from deals.models import Opportunity
    from quotes.models import LIVE_ORDER_STATUSES, Order

    wins = Opportunity.objects.filter(
        stage="closed_won", closed_at__gte=since, partner__isnull=False, amount__gte=Decimal(str(params["min_amount"]))
    ).exclude(Exists(Order.objects.filter(opportunity=OuterRef("pk"), status__in=LIVE_ORDER_STATUSES)))
    for opportunity in wins.iterator(chunk_size=2000):
        yield _no_order_finding(opportunity, params)


register(
    Rule(
        code="win_without_order",
        name="Win without an order",
        description="A partner's opportunity is marked won above a minimum amount with no live order for it.",
        events=("opportunity_won",),
        defaults={"min_amount": 10000, "sweep_days": 30},
        check=_win_without_order_check,
        sweep=_win_without_order_sweep,
    )
)


def _inflated(opportunity, registered, params):
    if opportunity.partner_id is None or opportunity.stage != "closed_won" or not registered:
        return []
    ratio = opportunity.amount / registered
    if ratio < Decimal(str(params["factor"])):
        return []
    return [
        _opportunity_finding(
            opportunity,
            min(50 + int(ratio), 95),
            f"Won at {_money(opportunity.amount)}, {ratio:.0f}× the registered {_money(registered)}.",
            [
                {
                    "opportunity": opportunity.pk,
                    "registration": opportunity.registration_id,
                    "registered_value": str(registered),
                    "won_amount": str(opportunity.amount),
                }
            ],
        )
    ]


def _inflated_check(opportunity, params):
    registration = opportunity.registration if opportunity.registration_id else None
    return _inflated(opportunity, registration.estimated_value if registration else None, params)


def _inflated_sweep(params, since):
    from deals.models import Opportunity

    wins = Opportunity.objects.filter(stage="closed_won", closed_at__gte=since, registration__isnull=False).values_list(
        "pk", "registration__estimated_value", "amount"
    )
    factor = Decimal(str(params["factor"]))
    hits = [
        pk for pk, registered, amount in wins.iterator(chunk_size=5000) if registered and amount >= registered * factor
    ]
    for opportunity in Opportunity.objects.filter(pk__in=hits).select_related("registration"):
        yield from _inflated_check(opportunity, params)


register(
    Rule(
        code="won_amount_inflated",
        name="Won amount far above the registered value",
        description="The won amount is many times the value the partner registered.",
        events=("opportunity_won",),
        defaults={"factor": 5, "sweep_days": 30},
        check=_inflated_check,
        sweep=_inflated_sweep,
    )
)


# 5. Discount abuse: at or just below the limits; repeated special pricing for one customer ----------------


def _order_finding(order, score, summary, evidence):
    # The sale's commission is keyed on its opportunity (one is made at fulfilment if none exists).
    hold_keys = [f"order:{order.pk}"] + ([f"opportunity:{order.opportunity_id}"] if order.opportunity_id else [])
    return Finding(
        partner_id=order.partner_id,
        subject_key=subject_key(order),
        subject_repr=f"Order {order.number} for {order.customer}",
        score=score,
        summary=summary,
        evidence=evidence,
        hold_keys=hold_keys,
    )


def _tier_limits(tier_id) -> dict:
    from quotes.models import DiscountSchedule

    return dict(DiscountSchedule.objects.filter(tier_id=tier_id).values_list("product_line_id", "max_discount_percent"))


def _discount_check(order, params, *, limits_of=_tier_limits):
    from quotes.services import approval_threshold

    partner = order.partner
    lines = list(order.lines.all()) if _prefetched(order, "lines") else list(order.lines.select_related("product"))
    if not lines:
        return []
    limits = limits_of(partner.tier_id)
    margin = Decimal(str(params["margin_percent_points"]))
    at_limit = [
        {
            "line": line.pk,
            "product": line.product.sku,
            "discount": str(line.discount_percent),
            "limit": str(limits[line.product.product_line_id]),
        }
        for line in lines
        if line.product.product_line_id in limits
        and limits[line.product.product_line_id] > 0
        and limits[line.product.product_line_id] - margin
        <= line.discount_percent
        <= limits[line.product.product_line_id]
    ]
    evidence, reasons = [], []
    if at_limit and len(at_limit) / len(lines) >= float(params["line_share"]):
        evidence += at_limit
        reasons.append(f"{len(at_limit)} of {len(lines)} lines at the discount limit")
    threshold = approval_threshold()
    band = threshold * (1 - Decimal(str(params["below_threshold_share"])))
    if band <= order.total <= threshold and (order.header_discount_percent > 0 or at_limit):
        evidence.append({"order_total": str(order.total), "approval_threshold": str(threshold)})
        reasons.append("total just below the approval threshold")
    if not reasons:
        return []
    return [_order_finding(order, 45 + 15 * len(reasons), "Discount abuse: " + "; ".join(reasons) + ".", evidence)]


def _prefetched(obj, name) -> bool:
    return name in getattr(obj, "_prefetched_objects_cache", {})


def _discount_sweep(params, since):
    """Set-based: the orders come with their lines in chunks (two queries a chunk) and each tier's
    limits are read once for the sweep, not once per order."""
    from django.db.models import Prefetch

    from quotes.models import Order, OrderLine

    limits = {}

    def limits_of(tier_id):
        if tier_id not in limits:
            limits[tier_id] = _tier_limits(tier_id)
        return limits[tier_id]

    orders = (
        Order.objects.filter(submitted_at__gte=since)
        .select_related("partner", "customer")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product")))
    )
    for order in orders.iterator(chunk_size=500):
        yield from _discount_check(order, params, limits_of=limits_of)


register(
    Rule(
        code="discount_at_limit",
        name="Discounts at the limit",
        description="Lines discounted at or just below the tier limit, or totals just below the approval threshold.",
        events=("order_placed",),
        defaults={"margin_percent_points": 1, "line_share": 0.5, "below_threshold_share": 0.05, "sweep_days": 7},
        check=_discount_check,
        sweep=_discount_sweep,
    )
)


def _special_pricing_check(order, params):
    from quotes.models import Order

    since = (order.submitted_at or timezone.now()) - datetime.timedelta(days=params["days"])
    floor = Decimal(str(params["min_discount"]))
    discounted = (
        Order.objects.filter(customer_id=order.customer_id, created_at__gte=since)
        .exclude(status__in=["draft", "declined"])
        .filter(Q(header_discount_percent__gte=floor) | Q(lines__discount_percent__gte=floor))
        .values("pk", "partner_id", "partner__name", "header_discount_percent")
        .distinct()
    )
    rows = list(discounted[:50])
    partners = {r["partner_id"] for r in rows}
    if order.partner_id not in partners or len(partners) < params["partners"]:
        return []
    evidence = [
        {"order": r["pk"], "partner": r["partner__name"], "header_discount": str(r["header_discount_percent"])}
        for r in rows
    ]
    return [
        _order_finding(
            order,
            55 + 10 * (len(partners) - 1),
            f"Special pricing for {order.customer} from {len(partners)} partners within {params['days']} days.",
            evidence,
        )
    ]


def _special_pricing_sweep(params, since):
    from quotes.models import Order

    floor = Decimal(str(params["min_discount"]))
    customers = (
        Order.objects.filter(created_at__gte=since)
        .exclude(status__in=["draft", "declined"])
        .filter(Q(header_discount_percent__gte=floor) | Q(lines__discount_percent__gte=floor))
        .values("customer_id")
        .annotate(n=Count("partner_id", distinct=True))
        .filter(n__gte=params["partners"])
        .values_list("customer_id", flat=True)
    )
    orders = (
        Order.objects.filter(customer_id__in=list(customers), created_at__gte=since)
        .exclude(status__in=["draft", "declined"])
        .select_related("customer", "partner")
    )
    for order in orders:
        yield from _special_pricing_check(order, params)


register(
    Rule(
        code="special_pricing_across_partners",
        name="Repeated special pricing for one customer",
        description="One customer gets discounted orders from several partners within a short period.",
        events=("order_placed",),
        defaults={"min_discount": 10, "partners": 2, "days": 90, "sweep_days": 30},
        check=_special_pricing_check,
        sweep=_special_pricing_sweep,
    )
)


# 6. Related parties: a partner's people share a domain with the end customer or another partner -------------


def _domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower().strip() if "@" in (email or "") else ""


def _people_domains(partner_ids=None) -> dict[int, set[str]]:
    """{partner id: email domains of its active people} (free mail left out)."""
    from partners.models import Membership

    memberships = Membership.objects.filter(is_active=True)
    if partner_ids is not None:
        memberships = memberships.filter(partner_id__in=partner_ids)
    found: dict[int, set[str]] = {}
    for partner_id, email in memberships.values_list("partner_id", "user__email"):
        domain = _domain_of(email)
        if domain and domain not in FREE_MAIL:
            found.setdefault(partner_id, set()).add(domain)
    return found


def _websites() -> dict[str, int]:
    """{web domain: partner id} of every partner with a website."""
    from partners.matching import normalize_domain
    from partners.models import Partner

    return {
        normalize_domain(website): pk
        for pk, website in Partner.objects.exclude(website="").values_list("pk", "website")
        if normalize_domain(website)
    }


def _matches(domain: str, candidates) -> str | None:
    return next((c for c in candidates if domain == c or domain.endswith("." + c)), None) if domain else None


def _related(partner_id, customer_domain, people, websites):
    """Evidence that the end customer is on the partner's own domains (its people's or its website),
    or that the partner's people work on another partner's domain."""
    rows = []
    own = set(people.get(partner_id, set())) | {d for d, pk in websites.items() if pk == partner_id}
    hit = _matches(customer_domain, own)
    if hit:
        rows.append({"customer_domain": customer_domain, "partner_domain": hit})
    for domain in people.get(partner_id, set()):
        other = websites.get(domain)
        if other is not None and other != partner_id:
            rows.append({"people_domain": domain, "website_of_partner": other})
    return rows


def _related_check(subject, params):
    from deals.models import DealRegistration

    websites = _websites()
    people = _people_domains([subject.partner_id])
    if isinstance(subject, DealRegistration):
        rows = _related(subject.partner_id, subject.customer_domain, people, websites)
        return [_registration_finding(subject, 70, "Related party: the partner's own domain.", rows)] if rows else []
    rows = _related(subject.partner_id, subject.customer.domain, people, websites)
    return [_order_finding(subject, 70, "Related party: the partner's own domain.", rows)] if rows else []


def _related_sweep(params, since):
    from deals.models import DealRegistration

    websites, people = _websites(), _people_domains()
    domains = set(websites) | {d for ds in people.values() for d in ds}
    if not domains:
        return
    from partners.matching import registrable_domain

    keys = {registrable_domain(d) for d in domains}
    suspects = DealRegistration.objects.filter(submitted_at__gte=since, domain_key__in=sorted(keys))
    for registration in suspects.select_related("opportunity").iterator(chunk_size=2000):
        rows = _related(registration.partner_id, registration.customer_domain, people, websites)
        if rows:
            yield _registration_finding(registration, 70, "Related party: the partner's own domain.", rows)


register(
    Rule(
        code="related_party",
        name="Related parties",
        description="A partner user's email domain matches the end customer or another partner.",
        events=("registration_submitted", "order_placed"),
        defaults={"sweep_days": 30},
        check=_related_check,
        sweep=_related_sweep,
    )
)


# 7. Order spikes near a period boundary, followed by cancellations ---------------------------------------------


def _near_quarter_end(day: datetime.date, days: int) -> bool:
    next_quarter = datetime.date(day.year + (day.month > 9), ((day.month - 1) // 3 + 1) % 4 * 3 + 1, 1)
    this_quarter = datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return (next_quarter - day).days <= days or (day - this_quarter).days < days


def _spike_figures(params, now, partner_id=None) -> dict:
    """partner id → (recent value, recent orders, baseline value, cancelled recently), placed orders
    only: one grouped query for every partner at once (or one partner)."""
    from quotes.models import Order

    window = datetime.timedelta(days=params["window_days"])
    recent = Q(created_at__gte=now - window)
    orders = Order.objects.exclude(status="draft").filter(
        created_at__gte=now - window * (params["baseline_windows"] + 1)
    )
    if partner_id is not None:
        orders = orders.for_partner(partner_id)
    rows = (
        orders.values("partner_id")
        .annotate(
            recent_value=Sum("total", filter=recent),
            recent_orders=Count("pk", filter=recent),
            base_value=Sum("total", filter=~recent),
            cancelled=Count("pk", filter=recent & Q(status="cancelled")),
        )
        .order_by()
    )
    return {
        row["partner_id"]: (row["recent_value"], row["recent_orders"], row["base_value"], row["cancelled"])
        for row in rows
    }


def _spike(partner_id, partner_name, params, now, figures):
    recent_value, recent_orders, base_value, cancelled = figures
    recent_value, baseline = recent_value or Decimal(0), (base_value or Decimal(0)) / params["baseline_windows"]
    if recent_value < Decimal(str(params["min_value"])) or recent_value < baseline * Decimal(str(params["factor"])):
        return []
    near = _near_quarter_end(now.date(), params["boundary_days"])
    if not near and cancelled == 0:
        return []
    evidence = [
        {
            "recent_value": str(recent_value),
            "recent_orders": recent_orders,
            "baseline_per_window": str(baseline.quantize(Decimal("0.01"))),
            "cancelled": cancelled,
            "near_period_end": near,
        }
    ]
    score = 50 + (20 if near else 0) + (20 if cancelled else 0)
    return [
        _partner_finding(
            partner_id, partner_name, now.date(), score, "Order volume far above the partner's baseline.", evidence
        )
    ]


def _spike_check(order, params):
    now = timezone.now()
    figures = _spike_figures(params, now, partner_id=order.partner_id).get(order.partner_id)
    return _spike(order.partner_id, order.partner.name, params, now, figures) if figures else []


def _spike_sweep(params, since):
    """Set-based: the figures of every partner with orders in the window in one grouped query."""
    from partners.models import Partner

    now = timezone.now()
    figures = {pid: f for pid, f in _spike_figures(params, now).items() if f[1]}  # placed orders lately
    names = dict(Partner.objects.filter(pk__in=list(figures)).values_list("pk", "name"))
    for partner_id, partner_figures in sorted(figures.items()):
        yield from _spike(partner_id, names.get(partner_id, ""), params, now, partner_figures)


register(
    Rule(
        code="order_spike",
        name="Order spike near a period boundary",
        description="Order value far above the partner's baseline near a quarter's end, or followed by cancellations.",
        events=("order_placed",),
        defaults={
            "window_days": 7,
            "baseline_windows": 12,
            "factor": 3,
            "min_value": 20000,
            "boundary_days": 7,
            "sweep_days": 7,
        },
        check=_spike_check,
        sweep=_spike_sweep,
    )
)


# 8. Velocity: too many registrations per hour, near-identical names --------------------------------------------


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", "")).ratio()


def _velocity(partner_id, partner_name, params, now):
    from deals.models import DealRegistration

    recent = DealRegistration.objects.for_partner(partner_id).filter(created_at__gte=now - datetime.timedelta(hours=24))
    last_hour = recent.filter(created_at__gte=now - datetime.timedelta(hours=1)).count()
    names = list(recent.order_by("-created_at").values_list("pk", "customer_name", "normalized_name")[:200])
    similar = []
    seen = []
    for pk, name, normalized in names:
        for other_pk, other_name, other_normalized in seen:
            if name != other_name and _similarity(normalized, other_normalized) >= float(params["similarity"]):
                similar.append({"registration": pk, "name": name, "like": other_pk, "like_name": other_name})
                break
        seen.append((pk, name, normalized))
    reasons, evidence = [], []
    if last_hour > params["max_per_hour"]:
        reasons.append(f"{last_hour} registrations in the last hour")
        evidence.append({"registrations_last_hour": last_hour, "limit": params["max_per_hour"]})
    claims_last_hour = _claims_last_hour(partner_id, now)
    if claims_last_hour > params["max_claims_per_hour"]:
        reasons.append(f"{claims_last_hour} MDF claims in the last hour")
        evidence.append({"claims_last_hour": claims_last_hour, "limit": params["max_claims_per_hour"]})
    if len(similar) >= params["similar_names"]:
        reasons.append(f"{len(similar)} near-identical customer names in a day")
        evidence += similar[:20]
    if not reasons:
        return []
    return [
        _partner_finding(
            partner_id,
            partner_name,
            now.date(),
            45 + 20 * len(reasons),
            "Velocity: " + "; ".join(reasons) + ".",
            evidence,
        )
    ]


def _claims_last_hour(partner_id, now) -> int:
    from mdf.models import FundClaim

    return (
        FundClaim.objects.for_partner(partner_id)
        .filter(submitted_at__gte=now - datetime.timedelta(hours=1), status__in=CLAIM_HOLDING)
        .count()
    )


def _velocity_check(subject, params):
    """On a registration or a claim submitted: the partner's registrations and claims per hour."""
    return _velocity(subject.partner_id, subject.partner.name, params, timezone.now())


def _velocity_sweep(params, since):
    from deals.models import DealRegistration

    now = timezone.now()
    busy = (
        DealRegistration.objects.filter(created_at__gte=now - datetime.timedelta(hours=24))
        .values("partner_id", "partner__name")
        .annotate(n=Count("pk"))
        .filter(n__gte=min(params["max_per_hour"], params["similar_names"]))
        .order_by()
    )
    from mdf.models import FundClaim

    claiming = (
        FundClaim.objects.filter(submitted_at__gte=now - datetime.timedelta(hours=1), status__in=CLAIM_HOLDING)
        .values("partner_id", "partner__name")
        .annotate(n=Count("pk"))
        .filter(n__gt=params["max_claims_per_hour"])
        .order_by()
    )
    seen = set()
    for row in [*busy, *claiming]:
        if row["partner_id"] not in seen:
            seen.add(row["partner_id"])
            yield from _velocity(row["partner_id"], row["partner__name"], params, now)


register(
    Rule(
        code="velocity",
        name="Registration and claim velocity",
        description="Too many registrations or MDF claims per hour, or many near-identical customer names in a day.",
        events=("registration_submitted", "claim_submitted"),
        defaults={
            "max_per_hour": 20,
            "max_claims_per_hour": 10,
            "similar_names": 3,
            "similarity": 0.85,
            "sweep_days": 1,
        },
        check=_velocity_check,
        sweep=_velocity_sweep,
    )
)


# 9. MDF claims: near-duplicate invoices, near-duplicate amounts from one vendor, round amounts, claims at
#    an approval threshold, claims dated outside the request's activity window ------------------------------
#
# Exact duplicates (the same vendor and invoice number, the same file) are refused by mdf itself. Each
# rule judges a claim against the claims submitted before it (by submission time, then id), so the
# event check and the sweep find the same subject. The sweep loads the claims once per rule as plain
# tuples and indexes them in memory: O(claims × invoice length), never pairwise.

CLAIM_COLUMNS = (
    "pk",
    "partner_id",
    "vendor",
    "vendor_key",
    "invoice_number",
    "invoice_key",
    "invoice_date",
    "amount",
    "submitted_at",
    "fund_request_id",
)


def _claim_finding(claim, score, summary, evidence):
    return Finding(
        partner_id=claim["partner_id"],
        subject_key=f"mdf.fundclaim:{claim['pk']}",
        subject_repr=f"Claim CL-{claim['pk']:06d}: {claim['vendor']} {claim['invoice_number']}",
        score=score,
        summary=summary,
        evidence=evidence,
        hold_keys=[f"mdf-claim:{claim['pk']}"],
    )


def _claim_row(claim) -> dict:
    return {name: getattr(claim, name) for name in CLAIM_COLUMNS}


def _claim_rows(queryset):
    for values in queryset.values_list(*CLAIM_COLUMNS).iterator(chunk_size=5000):
        yield dict(zip(CLAIM_COLUMNS, values, strict=True))


def _before(a, b) -> bool:
    """Claim `a` was submitted before claim `b`."""
    return (a["submitted_at"], a["pk"]) < (b["submitted_at"], b["pk"])


def _claims():
    from mdf.models import FundClaim

    return FundClaim.objects.filter(status__in=CLAIM_HOLDING, submitted_at__isnull=False)


def _deletions(key: str) -> set[str]:
    """The key and every key one character shorter: two keys within one edit (a typo, a character
    added or dropped) share one of these."""
    return {key} | {key[:i] + key[i + 1 :] for i in range(len(key))}


def _digits(key: str) -> str:
    return "".join(ch for ch in key if ch.isdigit())


def _near_keys(a: str, b: str) -> bool:
    """Two keys that look like one typed twice: the same digits with other letters or punctuation
    ("INV-1001", "1001", "1001A"), a character added or dropped ("AWP-7781-1"), or one character
    changed unless both are digits (sequential numbers of one vendor, INV-1001 and INV-1002, are not
    near-duplicates; INV-10O1 is)."""
    if a == b or not a or not b:
        return False
    if len(_digits(a)) >= 3 and _digits(a) == _digits(b):
        return True
    if min(len(a), len(b)) < 4:
        return False
    if abs(len(a) - len(b)) == 1:
        return bool(_deletions(a) & _deletions(b))
    if len(a) == len(b):
        changed = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        return len(changed) == 1 and not (changed[0][0].isdigit() and changed[0][1].isdigit())
    return False


def _near_invoice_match(claim, other) -> str | None:
    if other["pk"] == claim["pk"] or not _before(other, claim):
        return None
    if other["vendor_key"] == claim["vendor_key"] and _near_keys(other["invoice_key"], claim["invoice_key"]):
        return "same vendor, nearly the same invoice number"
    if other["invoice_key"] == claim["invoice_key"] and _near_keys(other["vendor_key"], claim["vendor_key"]):
        return "same invoice number, nearly the same vendor"
    return None


def _near_invoice_findings(claim, candidates):
    rows = []
    for other in candidates:
        why = _near_invoice_match(claim, other)
        if why:
            rows.append(
                {
                    "claim": other["pk"],
                    "partner": other["partner_id"],
                    "vendor": other["vendor"],
                    "invoice_number": other["invoice_number"],
                    "amount": str(other["amount"]),
                    "match": why,
                }
            )
    if not rows:
        return []
    other_partner = any(r["partner"] != claim["partner_id"] for r in rows)
    return [
        _claim_finding(
            claim,
            min(60 + 10 * len(rows) + (15 if other_partner else 0), 95),
            f"Invoice {claim['invoice_number']} of {claim['vendor']} nearly repeats {len(rows)} earlier claim(s).",
            rows[:20],
        )
    ]


def _near_invoice_check(claim, params):
    row = _claim_row(claim)
    candidates = _claim_rows(
        _claims().filter(Q(vendor_key=row["vendor_key"]) | Q(invoice_key=row["invoice_key"])).exclude(pk=row["pk"])
    )
    return _near_invoice_findings(row, candidates)


def _near_invoice_sweep(params, since):
    """Index the recent claims by (vendor, invoice number one edit away or its digits) and by invoice
    number, then stream every claim once through those indexes."""
    recent = list(_claim_rows(_claims().filter(submitted_at__gte=since)))
    by_variant, by_invoice = {}, {}
    for claim in recent:
        for key in _variant_keys(claim):
            by_variant.setdefault(key, []).append(claim)
        by_invoice.setdefault(claim["invoice_key"], []).append(claim)
    matches = {claim["pk"]: [] for claim in recent}
    for other in _claim_rows(_claims()):
        seen = set()
        candidates = [c for key in _variant_keys(other) for c in by_variant.get(key, ())]
        for claim in [*candidates, *by_invoice.get(other["invoice_key"], ())]:
            if claim["pk"] not in seen and _near_invoice_match(claim, other):
                seen.add(claim["pk"])
                matches[claim["pk"]].append(other)
    for claim in recent:
        if matches[claim["pk"]]:
            yield from _near_invoice_findings(claim, matches[claim["pk"]])


def _variant_keys(claim):
    vendor, invoice = claim["vendor_key"], claim["invoice_key"]
    keys = {(vendor, variant) for variant in _deletions(invoice)}
    digits = _digits(invoice)
    if len(digits) >= 3:
        keys.add((vendor, "#" + digits))
    return keys


register(
    Rule(
        code="mdf_near_duplicate_invoice",
        name="MDF: near-duplicate invoice",
        description="A claim's invoice nearly repeats one already claimed (one character apart, the same "
        "digits, or the same number from a near-identical vendor), by this or another partner.",
        events=("claim_submitted",),
        defaults={"sweep_days": 30},
        check=_near_invoice_check,
        sweep=_near_invoice_sweep,
    )
)


def _near_amount_findings(claim, candidates, params):
    tolerance = Decimal(str(params["tolerance_percent"])) / 100
    window = datetime.timedelta(days=params["days"])
    rows = [
        {
            "claim": other["pk"],
            "invoice_number": other["invoice_number"],
            "amount": str(other["amount"]),
            "invoice_date": str(other["invoice_date"]),
        }
        for other in candidates
        if other["pk"] != claim["pk"]
        and _before(other, claim)
        and other["partner_id"] == claim["partner_id"]
        and other["vendor_key"] == claim["vendor_key"]
        and other["invoice_key"] != claim["invoice_key"]
        and abs(other["invoice_date"] - claim["invoice_date"]) <= window
        and abs(other["amount"] - claim["amount"]) <= claim["amount"] * tolerance
    ]
    if not rows:
        return []
    return [
        _claim_finding(
            claim,
            min(50 + 10 * len(rows), 90),
            f"{_money(claim['amount'])} from {claim['vendor']} is within {params['tolerance_percent']}% of "
            f"{len(rows)} other invoice(s) of that vendor in {params['days']} days.",
            rows[:20],
        )
    ]


def _near_amount_check(claim, params):
    row = _claim_row(claim)
    candidates = _claim_rows(_claims().filter(partner_id=row["partner_id"], vendor_key=row["vendor_key"]))
    return _near_amount_findings(row, candidates, params)


def _near_amount_sweep(params, since):
    recent = list(_claim_rows(_claims().filter(submitted_at__gte=since)))
    groups = {}
    for claim in recent:
        groups.setdefault((claim["partner_id"], claim["vendor_key"]), []).append(claim)
    matches = {claim["pk"]: [] for claim in recent}
    partners = sorted({claim["partner_id"] for claim in recent})
    for start in range(0, len(partners), 1000):
        for other in _claim_rows(_claims().filter(partner_id__in=partners[start : start + 1000])):
            for claim in groups.get((other["partner_id"], other["vendor_key"]), ()):
                matches[claim["pk"]].append(other)
    for claim in recent:
        if len(matches[claim["pk"]]) > 1:
            yield from _near_amount_findings(claim, matches[claim["pk"]], params)


register(
    Rule(
        code="mdf_near_duplicate_amount",
        name="MDF: near-duplicate amounts from one vendor",
        description="A partner claims nearly the same amount from one vendor on another invoice within a short time.",
        events=("claim_submitted",),
        defaults={"tolerance_percent": 1, "days": 90, "sweep_days": 30},
        check=_near_amount_check,
        sweep=_near_amount_sweep,
    )
)


def _round_findings(claim, params):
    step = Decimal(str(params["round_to"]))
    amount = claim["amount"]
    if amount < Decimal(str(params["min_amount"])) or step <= 0 or amount % step != 0:
        return []
    return [
        _claim_finding(
            claim,
            45,
            f"A round invoice amount: {_money(amount)}.",
            [{"claim": claim["pk"], "amount": str(amount), "multiple_of": str(step)}],
        )
    ]


def _round_check(claim, params):
    return _round_findings(_claim_row(claim), params)


def _round_sweep(params, since):
    for row in _claim_rows(_claims().filter(submitted_at__gte=since, amount__gte=Decimal(str(params["min_amount"])))):
        yield from _round_findings(row, params)


register(
    Rule(
        code="mdf_round_amount",
        name="MDF: round amount",
        description="An invoice total that is an exact multiple of a round figure (invoices rarely are).",
        events=("claim_submitted",),
        defaults={"round_to": 1000, "min_amount": 1000, "sweep_days": 30},
        check=_round_check,
        sweep=_round_sweep,
    )
)


def _threshold_findings(claim, params):
    band = Decimal(str(params["band_percent"])) / 100
    amount = claim["amount"]
    hits = [
        Decimal(str(t))
        for t in params["approval_thresholds"]
        if Decimal(str(t)) * (1 - band) <= amount <= Decimal(str(t))
    ]
    if not hits:
        return []
    return [
        _claim_finding(
            claim,
            55,
            f"{_money(amount)} is at or just below the approval threshold of {_money(hits[0])}.",
            [{"claim": claim["pk"], "amount": str(amount), "threshold": str(hits[0]), "band_percent": str(band * 100)}],
        )
    ]


def _threshold_check(claim, params):
    return _threshold_findings(_claim_row(claim), params)


def _threshold_sweep(params, since):
    band = Decimal(str(params["band_percent"])) / 100
    bands = Q()
    for t in params["approval_thresholds"]:
        t = Decimal(str(t))
        bands |= Q(amount__gte=t * (1 - band), amount__lte=t)
    if not bands:
        return
    for row in _claim_rows(_claims().filter(bands, submitted_at__gte=since)):
        yield from _threshold_findings(row, params)


register(
    Rule(
        code="mdf_at_threshold",
        name="MDF: claim at the approval threshold",
        description="A claim at or just below an amount above which claims get a closer review.",
        events=("claim_submitted",),
        defaults={"approval_thresholds": [5000, 10000, 25000], "band_percent": 2, "sweep_days": 30},
        check=_threshold_check,
        sweep=_threshold_sweep,
    )
)


def _window_findings(claim, starts_on, ends_on, params):
    first = starts_on - datetime.timedelta(days=params["days_before"])
    last = ends_on + datetime.timedelta(days=params["days_after"])
    day = claim["invoice_date"]
    if first <= day <= last:
        return []
    off = (first - day).days if day < first else (day - last).days
    return [
        _claim_finding(
            claim,
            min(50 + off, 85),
            f"Invoice dated {day.isoformat()}, outside the activity ({starts_on.isoformat()} – {ends_on.isoformat()}).",
            [
                {
                    "claim": claim["pk"],
                    "invoice_date": day.isoformat(),
                    "activity_starts": starts_on.isoformat(),
                    "activity_ends": ends_on.isoformat(),
                    "days_outside": off,
                }
            ],
        )
    ]


def _window_check(claim, params):
    request = claim.fund_request
    return _window_findings(_claim_row(claim), request.starts_on, request.ends_on, params)


def _window_sweep(params, since):
    before = datetime.timedelta(days=params["days_before"])
    after = datetime.timedelta(days=params["days_after"])
    outside = (
        _claims()
        .filter(submitted_at__gte=since)
        .filter(
            Q(invoice_date__lt=ExpressionWrapper(F("fund_request__starts_on") - before, output_field=DateField()))
            | Q(invoice_date__gt=ExpressionWrapper(F("fund_request__ends_on") + after, output_field=DateField()))
        )
    )
    columns = (*CLAIM_COLUMNS, "fund_request__starts_on", "fund_request__ends_on")
    for values in outside.values_list(*columns).iterator(chunk_size=2000):
        row = dict(zip(CLAIM_COLUMNS, values[: len(CLAIM_COLUMNS)], strict=True))
        yield from _window_findings(row, values[-2], values[-1], params)


register(
    Rule(
        code="mdf_outside_activity_window",
        name="MDF: claim outside the activity window",
        description="The invoice is dated well before the funded activity started or after it ended.",
        events=("claim_submitted",),
        defaults={"days_before": 30, "days_after": 30, "sweep_days": 30},
        check=_window_check,
        sweep=_window_sweep,
    )
)
