"""Fulfilled orders become contracts; later orders of the same product line co-term; a renewal's order
extends its contract by a new term and pays the originating partner's renewal commission once."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from partners.agreement import BusinessModel
from partners.models import Commission, CommissionSource
from quotes import services as quote_services
from quotes.models import OrderLine, OrderStatus
from renewals import selectors, services
from renewals.models import Contract, ContractLine, ContractStatus, RenewalOutcome, RenewalStatus
from tests.factories import customer_of
from tests.renewals.conftest import fulfil, make_partner, open_renewal, seller_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def retention(catalogue):
    partner = make_partner(catalogue, BusinessModel.REGISTRATION_RETENTION)
    admin = seller_of(partner)
    return partner, admin, customer_of(partner, owner=admin)


def test_a_fulfilled_order_becomes_a_contract_once(catalogue, retention, django_capture_on_commit_callbacks):
    partner, admin, customer = retention
    lines = [{"product": catalogue["vm"], "quantity": 10}, {"product": catalogue["disk"], "quantity": 100}]
    order = fulfil(user=admin, customer=customer, lines=lines, capture=django_capture_on_commit_callbacks)
    contracts = {c.product_line.code: c for c in Contract.objects.filter(customer=customer)}
    assert set(contracts) == {"compute", "storage"}
    compute = contracts["compute"]
    today = timezone.localdate()
    assert compute.partner == partner and compute.originating_partner == partner
    assert compute.status == ContractStatus.ACTIVE and compute.term_number == 1
    assert compute.term_start == today and compute.term_end == quote_services.add_months(
        today, 12
    ) - datetime.timedelta(1)
    assert compute.annual_value == Decimal("450.00") and compute.source_order == order
    # Recording the same fulfilment again writes nothing twice.
    services.contract_record_fulfilment(order=order)
    assert ContractLine.objects.filter(contract__customer=customer).count() == 2
    assert Contract.objects.filter(customer=customer).count() == 2


def test_a_later_order_of_the_same_product_line_is_co_termed_and_prorated(
    catalogue, retention, django_capture_on_commit_callbacks
):
    partner, admin, customer = retention
    fulfil(
        user=admin,
        customer=customer,
        lines=[{"product": catalogue["vm"], "quantity": 10}],
        capture=django_capture_on_commit_callbacks,
    )
    contract = Contract.objects.get(customer=customer)
    today = timezone.localdate()
    # Half a year later (as far as the contract is concerned): 183 days remain.
    contract.term_end = today + datetime.timedelta(days=182)
    contract.term_start = contract.term_end - datetime.timedelta(days=364)
    contract.save()
    add_on = fulfil(
        user=admin,
        customer=customer,
        lines=[{"product": catalogue["pro"], "quantity": 1}],
        capture=django_capture_on_commit_callbacks,
    )
    assert Contract.objects.filter(customer=customer).count() == 1
    contract.refresh_from_db()
    line = ContractLine.objects.get(order_line__order=add_on)
    own_days = (quote_services.add_months(today, 12) - today).days
    assert line.term_end == contract.term_end == today + datetime.timedelta(days=182)
    assert OrderLine.objects.get(order=add_on).term_end == contract.term_end
    assert line.amount == (Decimal("90.00") * 183 / own_days).quantize(Decimal("0.01"))
    assert line.annual_value == Decimal("90.00")
    assert contract.annual_value == Decimal("540.00")
    ltv = selectors.customer_lifetime_value(user=admin, customer=customer)
    assert ltv["lifetime_value"] == Decimal("450.00") + line.amount
    assert ltv["annual_value"] == Decimal("540.00")


def renew_through_quotes(*, user, renewal, add_products=(), quantities=None, capture):
    quote = services.renewal_quote(user=user, renewal=renewal, add_products=add_products, quantities=quantities)
    quote = quote_services.quote_submit(user=user, quote=quote)
    quote = quote_services.quote_send(user=user, quote=quote)
    quote = quote_services.quote_accept(user=user, quote=quote)
    order = quote_services.order_create_from_quote(user=user, quote=quote)
    with capture(execute=True):
        quote_services.order_submit(user=user, order=order)
    order.refresh_from_db()
    return quote, order


def test_the_renewal_order_extends_the_contract_records_the_upsell_and_pays_once_per_term(
    catalogue, django_capture_on_commit_callbacks
):
    partner = make_partner(catalogue, BusinessModel.DUAL)  # renewal commission 5%
    admin = seller_of(partner)
    customer = customer_of(partner, owner=admin)
    fulfil(
        user=admin,
        customer=customer,
        lines=[{"product": catalogue["vm"], "quantity": 10}],
        capture=django_capture_on_commit_callbacks,
    )
    contract = Contract.objects.get(customer=customer)
    old_end = contract.term_end
    renewal = open_renewal(contract)
    assert renewal.current_value == Decimal("450.00") and renewal.expected_value == Decimal("472.50")  # +5%
    assert [p.sku for p in services.upsell_suggestions(renewal)] == ["VM-PRO"]

    quote, order = renew_through_quotes(
        user=admin, renewal=renewal, add_products=[catalogue["pro"].pk], capture=django_capture_on_commit_callbacks
    )
    assert quote.opportunity_ref == f"renewal:{renewal.pk}" and quote.total == Decimal("540.00")
    assert order.status == OrderStatus.FULFILLED
    contract.refresh_from_db()
    renewal.refresh_from_db()
    assert contract.term_number == 2 and contract.status == ContractStatus.RENEWED
    assert contract.term_start == old_end + datetime.timedelta(days=1)
    assert contract.annual_value == Decimal("540.00")
    assert renewal.status == RenewalStatus.RENEWED and renewal.outcome == RenewalOutcome.UPSELL
    assert renewal.value_change == Decimal("90.00") and renewal.closed_by_side == "partner"
    entry = Commission.objects.get(partner=partner, source=CommissionSource.RENEWAL)
    assert entry.source_ref == f"contract:{contract.pk}:term:2" and entry.amount == Decimal("27.00")
    # The new term's lines, and the order lines carry the new term.
    assert set(contract.lines.filter(term_number=2).values_list("product__sku", flat=True)) == {"VM", "VM-PRO"}
    assert set(order.lines.values_list("term_start", flat=True)) == {contract.term_start}

    # Fulfilment recorded twice, or the commission accrued again: still one per term.
    services.contract_record_fulfilment(order=order)
    services._accrue_renewal_commission(renewal=renewal, contract=contract, order=order)
    assert Commission.objects.filter(partner=partner, source=CommissionSource.RENEWAL).count() == 1

    # The next term's renewal is a new renewal with its own commission key.
    second = open_renewal(contract)
    assert second.pk != renewal.pk and second.term_number == 2
    _, order2 = renew_through_quotes(
        user=admin, renewal=second, quantities={catalogue["vm"].pk: 5}, capture=django_capture_on_commit_callbacks
    )
    second.refresh_from_db()
    assert second.outcome == RenewalOutcome.DOWNSELL and second.value_change == Decimal("-225.00")
    refs = set(Commission.objects.filter(source=CommissionSource.RENEWAL).values_list("source_ref", flat=True))
    assert refs == {f"contract:{contract.pk}:term:2", f"contract:{contract.pk}:term:3"}

    # A cancelled renewal order reverses its term's commission (the order desk's cancellation is the
    # hook; a fulfilled order itself cannot be cancelled by the order state machine today).
    services.renewal_order_cancelled(order=order2)
    entry = Commission.objects.get(source_ref=f"contract:{contract.pk}:term:3")
    assert entry.status == "reversed" and "cancelled" in entry.reversal_reason


def test_cancelling_an_unfulfilled_renewal_order_reopens_the_renewal(catalogue, django_capture_on_commit_callbacks):
    partner = make_partner(catalogue, BusinessModel.REGISTRATION_RETENTION)
    admin = seller_of(partner)
    customer = customer_of(partner, owner=admin)
    fulfil(
        user=admin,
        customer=customer,
        lines=[{"product": catalogue["vm"], "quantity": 2}],
        capture=django_capture_on_commit_callbacks,
    )
    renewal = open_renewal(Contract.objects.get(customer=customer))
    quote = services.renewal_quote(user=admin, renewal=renewal)
    quote_services.quote_send(user=admin, quote=quote)
    quote_services.quote_accept(user=admin, quote=quote)
    order = quote_services.order_create_from_quote(user=admin, quote=quote)
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.QUOTED
    quote_services.order_cancel(user=admin, order=order, reason="Customer changed their mind")
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.OPEN
    assert not Commission.objects.filter(source=CommissionSource.RENEWAL).exists()
