"""Demo data of renewals for `seed_demo`: contracts for every demo partner (besides those the quotes
demo's fulfilled orders created), their renewals opened by the scan with the milestone reminders
already sent; for tailspin (dual) one renewal inside the partner's exclusive window and one just past
it that the parent may pursue; a lapsed renewal; a renewal renewed at an uplift through a quote and
its order; a white-label partner's branded renewal quote. Idempotent: once renewals exist, nothing
is added."""

import datetime
from decimal import Decimal as D

from django.db import transaction
from django.utils import timezone

from partners.models import Customer

from . import services
from .models import Contract, ContractLine, Renewal

# (partner, customer, sku, quantity, last year's unit price, days until term end)
CONTRACTS = [
    ("northwind", "Lucerne Publishing", "CMP-VM-L", 4, "180.00", 50),
    ("contoso", "Northwind Imports PLC", "SEC-WAF", 3, "150.00", 80),
    ("fabrikam", "Proseware GmbH", "STO-BLK", 2000, "0.08", 20),  # renewed at today's price: an uplift
    ("fabrikam", "Woodgrove Bank AG", "STO-OBJ", 5000, "0.02", -45),  # ended past the grace period: lapses
    ("fabrikam", "Litware Österreich", "BCK-VAULT", 5000, "0.04", 110),
    ("tailspin", "Trey Research Inc", "SEC-SSO", 200, "4.00", 75),  # inside the exclusive window
    ("tailspin", "Wide World Importers", "CMP-VM-L", 6, "180.00", 28),  # window closed: the parent may pursue
    ("wingtip", "Fourth Coffee SARL", "STO-BLK", 1000, "0.10", 95),
    ("wingtip", "School of Fine Art", "SEC-SSO", 50, "4.00", 300),  # not due yet
]


def _contract(partner, customer, product, quantity, unit_price, days):
    today = timezone.localdate()
    end = today + datetime.timedelta(days=days)
    start = end - datetime.timedelta(days=364)
    value = (D(unit_price) * quantity).quantize(D("0.01"))
    if Contract.objects.filter(
        partner=partner, customer=customer, product_line=product.product_line, status__in=["active", "renewal_open"]
    ).exists():
        return None
    contract = Contract.objects.create(
        partner=partner,
        originating_partner=partner,
        customer=customer,
        product_line=product.product_line,
        term_start=start,
        term_end=end,
        annual_value=value,
    )
    ContractLine.objects.create(
        contract=contract,
        partner=partner,
        product=product,
        quantity=quantity,
        unit_price=D(unit_price),
        term_start=start,
        term_end=end,
        annual_value=value,
        amount=value,
    )
    return contract


def _renew(renewal, user, desk):
    """Quote, send, accept, order and fulfil the renewal as the quotes app does."""
    from quotes import services as quote_services
    from quotes.models import OrderStatus

    quote = services.renewal_quote(user=user, renewal=renewal)
    quote = quote_services.quote_send(user=user, quote=quote)
    quote = quote_services.quote_accept(user=user, quote=quote)
    order = quote_services.order_create_from_quote(user=user, quote=quote)
    order = quote_services.order_submit(user=user, order=order)
    if order.status in (OrderStatus.IN_REVIEW, OrderStatus.SUBMITTED):
        order = quote_services.order_approve(user=desk, order=order, reason="Renewal of a known customer.")
    request = order.provisioning_requests.filter(status="pending").first()
    if request is not None:
        quote_services.provisioning_run(request_id=request.pk)
    return order


@transaction.atomic
def seed(context, stdout=None):
    say = stdout.write if stdout else (lambda msg: None)
    if Renewal.objects.exists():
        say("  renewals exist already")
        return
    partners, people, products = context["partners"], context["people"], context["products"]
    desk = context["staff"]["parent-admin"]
    made = {}
    for slug, customer_name, sku, quantity, price, days in CONTRACTS:
        customer = Customer.objects.filter(legal_name=customer_name).first()
        if customer is None:
            continue
        made[(slug, customer_name)] = _contract(partners[slug], customer, products[sku], quantity, price, days)
    opened = services.renewals_open_due()
    services.renewals_schedule_reminders(enqueue=False)
    due = list(Renewal.objects.filter(due_milestone__gte=0).values_list("pk", flat=True))
    reminders = services.renewals_remind(due)
    lapsed = services.renewals_lapse_overdue()

    renewed = made.get(("fabrikam", "Proseware GmbH"))
    if renewed is not None:
        renewal = Renewal.objects.get(contract=renewed, term_number=1)
        _renew(renewal, people["fabrikam-admin"], desk)
    branded = made.get(("wingtip", "Fourth Coffee SARL"))
    if branded is not None:
        services.renewal_quote(user=people["wingtip-admin"], renewal=Renewal.objects.get(contract=branded))
    say(f"  {Contract.objects.count()} contracts, {opened} renewals opened, {reminders} reminders, {lapsed} lapsed")
