from decimal import Decimal

import pytest

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import ProductLine, ProgramTier
from tests.factories import PartnerFactory, ProductFactory, customer_of, parent_user, partner_user
from tests.factories.quotes import DiscountScheduleFactory, PriceBookEntryFactory, PriceBookFactory


@pytest.fixture
def catalogue(db):
    """One price book with two products (compute, storage); Gold partners may give 15% on compute and
    10% on storage."""
    gold, _ = ProgramTier.objects.get_or_create(name="Gold", defaults={"rank": 3})
    compute, _ = ProductLine.objects.get_or_create(code="compute", defaults={"name": "Compute"})
    storage, _ = ProductLine.objects.get_or_create(code="storage", defaults={"name": "Storage"})
    book = PriceBookFactory(name="Standard", currency="USD")
    vm = ProductFactory(sku="VM", product_line=compute, list_price=Decimal("45.00"))
    disk = ProductFactory(sku="DISK", product_line=storage, list_price=Decimal("0.10"))
    setup = ProductFactory(sku="SETUP", product_line=compute, list_price=Decimal("2500.00"), is_subscription=False)
    PriceBookEntryFactory(price_book=book, product=vm, unit_price=Decimal("45.00"))
    PriceBookEntryFactory(price_book=book, product=disk, unit_price=Decimal("0.10"))
    PriceBookEntryFactory(price_book=book, product=setup, unit_price=Decimal("2500.00"))
    DiscountScheduleFactory(tier=gold, product_line=compute, max_discount_percent=Decimal("15.00"))
    DiscountScheduleFactory(tier=gold, product_line=storage, max_discount_percent=Decimal("10.00"))
    return {"book": book, "vm": vm, "disk": disk, "setup": setup, "compute": compute, "storage": storage, "gold": gold}


def make_partner(catalogue, business_model=BusinessModel.REGISTRATION_RETENTION, **kwargs):
    partner = PartnerFactory(business_model=business_model, tier=catalogue["gold"], **kwargs)
    partner.expertise.set([catalogue["compute"], catalogue["storage"]])
    return partner


@pytest.fixture
def seller(catalogue):
    """A registration & retention partner (self-service quotes, full orders), its admin and a customer."""
    partner = make_partner(catalogue, slug="alpha", name="Alpha Partners")
    user = partner_user(partner, PartnerRole.ADMIN, username="alpha-admin")
    customer = customer_of(partner, owner=user, owner_partner=partner)
    return {"partner": partner, "user": user, "customer": customer}


@pytest.fixture
def desk(db):
    return parent_user(ParentRole.SALES, username="sales-desk")
