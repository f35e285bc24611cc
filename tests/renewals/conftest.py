import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import ProductLine, ProgramTier
from quotes import services as quote_services
from renewals import services
from renewals.models import Renewal
from tests.factories import PartnerFactory, ProductFactory, customer_of, parent_user, partner_user
from tests.factories.quotes import DiscountScheduleFactory, PriceBookEntryFactory, PriceBookFactory
from tests.factories.renewals import contract_for


@pytest.fixture
def catalogue(db):
    """Compute: VM (45.00) and its higher edition VM-PRO (90.00); storage: DISK (0.10)."""
    gold, _ = ProgramTier.objects.get_or_create(name="Gold", defaults={"rank": 3})
    compute, _ = ProductLine.objects.get_or_create(code="compute", defaults={"name": "Compute"})
    storage, _ = ProductLine.objects.get_or_create(code="storage", defaults={"name": "Storage"})
    book = PriceBookFactory(name="Standard", currency="USD")
    vm = ProductFactory(sku="VM", product_line=compute, list_price=Decimal("45.00"))
    pro = ProductFactory(sku="VM-PRO", product_line=compute, list_price=Decimal("90.00"))
    disk = ProductFactory(sku="DISK", product_line=storage, list_price=Decimal("0.10"))
    for product in (vm, pro, disk):
        PriceBookEntryFactory(price_book=book, product=product, unit_price=product.list_price)
    DiscountScheduleFactory(tier=gold, product_line=compute, max_discount_percent=Decimal("15.00"))
    DiscountScheduleFactory(tier=gold, product_line=storage, max_discount_percent=Decimal("10.00"))
    return {"book": book, "vm": vm, "pro": pro, "disk": disk, "compute": compute, "storage": storage, "gold": gold}


def make_partner(catalogue, business_model=BusinessModel.REGISTRATION_RETENTION, **kwargs):
    partner = PartnerFactory(business_model=business_model, tier=catalogue["gold"], **kwargs)
    partner.expertise.set([catalogue["compute"], catalogue["storage"]])
    return partner


@pytest.fixture
def desk(db):
    """The parent's sales desk: quotes, orders and renewals for every partner."""
    return parent_user(ParentRole.SALES, username="sales-desk")


def seller_of(partner, role=PartnerRole.ADMIN, **fields):
    return partner_user(partner, role, **fields)


def fulfil(*, user, customer, lines, partner=None, capture):
    """Place, submit and fulfil an order through the quotes services (the recording adapter)."""
    order = quote_services.order_create(user=user, customer=customer, lines=lines, partner=partner)
    with capture(execute=True):
        quote_services.order_submit(user=user, order=order)
    order.refresh_from_db()
    assert order.status == "fulfilled", order.status
    return order


def open_renewal(contract, today=None) -> Renewal:
    """Run the scan on the day the contract's renewal is due to open and return its renewal."""
    today = today or contract.term_end - datetime.timedelta(days=120)
    services.renewals_open_due(today=today)
    return Renewal.objects.get(contract=contract, term_number=contract.term_number)


def scenario(catalogue, business_model, *, days_left=100, quantity=10):
    """A partner of the business model, its admin, a customer it originated, a contract ending in
    `days_left` days and its open renewal."""
    partner = make_partner(catalogue, business_model)
    admin = seller_of(partner)
    customer = customer_of(partner, owner=admin)
    contract = contract_for(
        partner,
        customer,
        product=catalogue["vm"],
        quantity=quantity,
        unit_price=Decimal("45.00"),
        term_end=timezone.localdate() + datetime.timedelta(days=days_left),
    )
    services.renewals_open_due()
    renewal = Renewal.objects.get(contract=contract)
    return {"partner": partner, "admin": admin, "customer": customer, "contract": contract, "renewal": renewal}
