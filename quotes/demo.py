"""Demo data of quotes and orders for `seed_demo`: a price book per currency, tier discount schedules,
a partner price agreement, the business rules, and quotes and orders of the demo partners in every
state (one order in review, one declined, one whose provisioning failed…). Idempotent: the pricing rows
are get-or-create, and the quotes and orders are built once (marked by their `demo:` references)."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

from django.test.utils import override_settings
from django.utils import timezone

from . import services
from .models import (
    BusinessRule,
    DiscountSchedule,
    Order,
    PartnerPrice,
    PriceBook,
    PriceBookEntry,
    Quote,
    RuleKind,
    RuleSeverity,
)

D = Decimal
TIER_DISCOUNTS = {"Registered": D("5"), "Silver": D("10"), "Gold": D("15"), "Platinum": D("20")}
RULES = [
    (RuleKind.PRODUCT_LINE_AUTHORISED, "Partner authorised for the product line", RuleSeverity.BLOCKING, {}),
    (
        RuleKind.QUANTITY_LIMITS,
        "Quantities between 1 and 100,000",
        RuleSeverity.BLOCKING,
        {"min_quantity": 1, "max_quantity": 100000},
    ),
    (RuleKind.DISCOUNT_WITHIN_TIER, "Discount within the tier maximum", RuleSeverity.REVIEW, {}),
    (RuleKind.CUSTOMER_IN_TERRITORY, "Customer in the partner's territory", RuleSeverity.BLOCKING, {}),
    (RuleKind.CREDIT_LIMIT, "Open orders within the credit limit", RuleSeverity.REVIEW, {}),
    (RuleKind.CUSTOMER_NOT_OWNED_BY_OTHER, "Customer not owned by another partner", RuleSeverity.BLOCKING, {}),
    (RuleKind.AGREEMENT_ALLOWS_CUSTOMER, "Agreement allows ordering for this customer", RuleSeverity.BLOCKING, {}),
    (RuleKind.FIRST_ORDER_OF_CUSTOMER, "First order of a new customer", RuleSeverity.REVIEW, {}),
    (RuleKind.ORDER_VALUE_LIMIT, "Orders above 50,000", RuleSeverity.REVIEW, {"threshold": D("50000.00")}),
]


@contextmanager
def _provisioning_held():
    """Hand-offs queue in the broker instead of running inline, so approved orders stay approved in
    the demo (with a worker and Redis they are provisioned as usual; the sweeper redelivers)."""
    from .tasks import provision_order

    conf = provision_order.app.conf
    before = conf.task_always_eager
    conf.task_always_eager = False
    try:
        yield
    finally:
        conf.task_always_eager = before


def _pricing(context):
    today = timezone.localdate()
    usd, _ = PriceBook.objects.get_or_create(
        name="Standard 2026",
        defaults={"currency": "USD", "valid_from": today.replace(month=1, day=1), "is_default": True},
    )
    eur, _ = PriceBook.objects.get_or_create(
        name="Europe 2026", defaults={"currency": "EUR", "valid_from": today.replace(month=1, day=1)}
    )
    for product in context["products"].values():
        PriceBookEntry.objects.get_or_create(
            price_book=usd, product=product, defaults={"unit_price": product.list_price}
        )
        PriceBookEntry.objects.get_or_create(
            price_book=eur,
            product=product,
            defaults={"unit_price": services.pricing.line_net(product.list_price, 1, D("8"))},
        )
    for tier_name, tier in context["tiers"].items():
        for code, line in context["lines"].items():
            extra = D("-5") if code == "backup" else D("0")
            DiscountSchedule.objects.get_or_create(
                tier=tier,
                product_line=line,
                defaults={"max_discount_percent": max(TIER_DISCOUNTS.get(tier_name, D("0")) + extra, D("0"))},
            )
    PartnerPrice.objects.get_or_create(
        partner=context["partners"]["tailspin"],
        product=context["products"]["CMP-VM-L"],
        defaults={"unit_price": D("165.00"), "note": "Volume agreement 2026"},
    )
    for position, (kind, name, severity, params) in enumerate(RULES, start=1):
        BusinessRule.objects.get_or_create(
            name=name, defaults={"kind": kind, "severity": severity, "position": position * 10, **params}
        )
    return usd


def _provision_now(order):
    """Run the hand-off here rather than after commit; the queued task then finds it done."""
    services.provisioning_run(request_id=order.provisioning_requests.get().pk)


def seed(context, stdout=None):
    say = stdout.write if stdout else (lambda msg: None)
    _pricing(context)
    if Quote.objects.filter(opportunity_ref__startswith="demo:").exists():
        say("  quotes and orders exist already")
        return
    people, customers, products = context["people"], context["customers"], context["products"]
    desk = context["staff"]["parent-admin"]

    def line(sku, quantity, discount="0"):
        return {"product": products[sku], "quantity": quantity, "discount_percent": D(discount)}

    def quote(slug, customer, lines, ref, user=None, **fields):
        return services.quote_create(
            user=user or people[f"{slug}-rep"],
            customer=customers[customer],
            lines=lines,
            opportunity_ref=f"demo:{ref}",
            **fields,
        )

    def order(slug, customer, lines, ref, user=None):
        return services.order_create(
            user=user or people[f"{slug}-rep"], customer=customers[customer], lines=lines, external_ref=f"DEMO-{ref}"
        )

    # Quotes in every state --------------------------------------------------------------------------
    fab, tail, wing = people["fabrikam-rep"], people["tailspin-rep"], people["wingtip-rep"]
    quote("fabrikam", "Alpine Ski House AG", [line("STO-BLK", 2000, "5")], "fab-draft", terms="Net 30.")
    pending = quote("fabrikam", "Proseware GmbH", [line("BCK-VAULT", 10000, "25")], "fab-pending")
    services.quote_submit(user=fab, quote=pending)
    approved = quote("fabrikam", "Alpine Ski House AG", [line("STO-OBJ", 5000, "5")], "fab-approved")
    services.quote_submit(user=fab, quote=approved)
    sent = quote("fabrikam", "Proseware GmbH", [line("STO-BLK", 1000)], "fab-sent")
    services.quote_send(user=fab, quote=sent)
    won = quote("fabrikam", "Alpine Ski House AG", [line("STO-OBJ", 20000, "10"), line("BCK-VAULT", 5000)], "fab-won")
    services.quote_send(user=fab, quote=won)
    services.quote_accept(user=fab, quote=won)
    first = quote("fabrikam", "Proseware GmbH", [line("STO-BLK", 500, "5")], "fab-revised")
    services.quote_send(user=fab, quote=first)
    services.quote_revise(user=fab, quote=first)  # v1 superseded, v2 draft

    rejected = quote("tailspin", "Trey Research Inc", [line("CMP-VM-L", 10, "40")], "tail-rejected")
    services.quote_submit(user=tail, quote=rejected)
    services.quote_reject(user=desk, quote=rejected, reason="40% is beyond any programme discount.")
    returned = quote("tailspin", "Wide World Importers", [line("SEC-WAF", 5, "25")], "tail-returned")
    services.quote_submit(user=tail, quote=returned)
    services.quote_return(user=desk, quote=returned, reason="Platinum allows 20% on security: resubmit at 20%.")
    declined = quote("tailspin", "Trey Research Inc", [line("NET-LB", 4)], "tail-declined")
    services.quote_send(user=tail, quote=declined)
    services.quote_decline(user=tail, quote=declined, reason="The customer chose another vendor.")
    today = timezone.localdate()
    expired = quote("tailspin", "Wide World Importers", [line("CMP-VM-L", 2)], "tail-expired", valid_until=today)
    services.quote_send(user=tail, quote=expired)
    services.quote_expire(quote_id=expired.pk, today=today + datetime.timedelta(days=1))

    branded = quote("wingtip", "Fourth Coffee SARL", [line("CMP-VM-S", 10), line("SEC-SSO", 50, "10")], "wing-sent")
    # White label: Wingtip bundles its own onboarding service, shown only on its documents.
    services.quote_service_line_add(
        user=wing,
        quote=branded,
        description="Onboarding workshop by Wingtip",
        quantity=1,
        unit_price=D("800.00"),
        tax_category="FR-TVA-20",
    )
    services.quote_submit(user=wing, quote=branded)
    services.quote_send(user=wing, quote=branded)
    wing_won = quote("wingtip", "School of Fine Art", [line("CMP-VM-S", 4), line("STO-OBJ", 2000)], "wing-won")
    services.quote_send(user=wing, quote=wing_won)
    services.quote_accept(user=wing, quote=wing_won)

    quote("contoso", "Margie's Travel", [line("CMP-VM-S", 3)], "contoso-initial")
    quote("northwind", "Coho Winery", [], "northwind-request", notes="Coho needs 8 small VMs and a load balancer.")
    # A referral partner's request, priced and sent by the parent.
    priced = quote("northwind", "Blue Yonder Airlines", [], "northwind-priced", notes="Backup for the booking system.")
    services.quote_update(user=desk, quote=priced, lines=[line("BCK-VAULT", 20000), line("CMP-VM-L", 2)])
    services.quote_send(user=desk, quote=priced)

    # Orders in every state ------------------------------------------------------------------------------
    fulfilled = services.order_create_from_quote(user=fab, quote=won)
    services.order_submit(user=fab, order=fulfilled)  # first order of the customer: review
    services.order_approve(user=desk, order=fulfilled, reason="Known customer of Fabrikam.")
    _provision_now(fulfilled)

    contoso_first = order(
        "contoso", "Adventure Works Cycles Ltd", [line("CMP-VM-S", 6), line("NET-LB", 2)], "contoso-1"
    )
    services.order_submit(user=people["contoso-rep"], order=contoso_first)
    services.order_approve(user=desk, order=contoso_first)
    _provision_now(contoso_first)  # initial order; 10% closed-deal commission

    in_review = order("tailspin", "Trey Research Inc", [line("CMP-VM-L", 3)], "tail-review")
    services.order_submit(user=tail, order=in_review)

    declined_order = order(
        "wingtip", "Humongous Insurance SA", [line("SEC-SSO", 200)], "wing-declined", people["wingtip-admin"]
    )
    services.order_submit(user=people["wingtip-admin"], order=declined_order)
    services.order_decline(user=desk, order=declined_order, reason="Credit check: the customer has unpaid invoices.")

    order("tailspin", "Wide World Importers", [line("SEC-WAF", 2)], "tail-draft")
    cancelled = order(
        "fabrikam", "Litware Österreich", [line("STO-BLK", 300)], "fab-cancelled", people["fabrikam-admin"]
    )
    services.order_cancel(user=people["fabrikam-admin"], order=cancelled, reason="Duplicate of an ERP order.")

    with override_settings(QUOTES_ORDER_AUTO_APPROVE=False):
        submitted = order("fabrikam", "Alpine Ski House AG", [line("STO-OBJ", 1000)], "fab-submitted")
        services.order_submit(user=fab, order=submitted)

    with _provisioning_held():
        approved_order = services.order_create_from_quote(user=wing, quote=wing_won)
        services.order_submit(user=wing, order=approved_order)
        services.order_approve(user=desk, order=approved_order)

        provisioning = order("tailspin", "Wide World Importers", [line("CMP-VM-L", 1)], "tail-provisioning")
        services.order_submit(user=tail, order=provisioning)
        services.order_approve(user=desk, order=provisioning)
        failing = order("fabrikam", "Proseware GmbH", [line("STO-BLK", 500)], "fab-failed")
        services.order_submit(user=fab, order=failing)
        services.order_approve(user=desk, order=failing)
        webhook = {"QUOTES_PROVISIONING_ADAPTER": "webhook", "QUOTES_PROVISIONING_WEBHOOK_URL": ""}
        with override_settings(**webhook):
            request = provisioning.provisioning_requests.get()
            services.provisioning_run(request_id=request.pk)  # first attempt failed; a retry is due
        with override_settings(**webhook, QUOTES_PROVISIONING_MAX_ATTEMPTS=1):
            services.provisioning_run(request_id=failing.provisioning_requests.get().pk)
    say(f"  {Quote.objects.count()} quotes, {Order.objects.count()} orders")
