"""Shared by the security tests: a small channel to attack, and the hypothesis profile (few examples in
CI, more with HYPOTHESIS_MAX_EXAMPLES) with a count of the cases run per role for the report."""

import os
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "prm",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "20")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,  # no .hypothesis directory in the work tree or in CI clones
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("prm")

CASES = Counter()


def pytest_terminal_summary(terminalreporter):
    if CASES:
        terminalreporter.write_line(
            "hypothesis cases per role: " + ", ".join(f"{role}={n}" for role, n in sorted(CASES.items()))
        )


@pytest.fixture
def channel(db):
    """A dual-responsibility partner (self-service quotes, 8% on close) with its admin, a rep and the
    rep's customer; a price book with one product; the parent admin."""
    from partners.access import ParentRole, PartnerRole
    from partners.agreement import BusinessModel
    from partners.models import ProductLine, ProgramTier
    from tests.factories import PartnerFactory, ProductFactory, customer_of, parent_user, partner_user
    from tests.factories.quotes import DiscountScheduleFactory, PriceBookEntryFactory, PriceBookFactory

    gold, _ = ProgramTier.objects.get_or_create(name="Gold", defaults={"rank": 3})
    compute, _ = ProductLine.objects.get_or_create(code="compute", defaults={"name": "Compute"})
    book = PriceBookFactory(name="Standard", currency="USD", is_default=True)
    product = ProductFactory(sku="VM", product_line=compute, list_price=Decimal("45.00"))
    PriceBookEntryFactory(price_book=book, product=product, unit_price=Decimal("45.00"))
    DiscountScheduleFactory(tier=gold, product_line=compute, max_discount_percent=Decimal("15.00"))
    partner = PartnerFactory(slug="tail", business_model=BusinessModel.DUAL, tier=gold)
    partner.expertise.set([compute])
    admin = partner_user(partner, PartnerRole.ADMIN, username="tail-admin")
    rep = partner_user(partner, PartnerRole.REP, username="tail-rep")
    return {
        "partner": partner,
        "admin": admin,
        "rep": rep,
        "customer": customer_of(partner, owner=rep, owner_partner=partner),
        "product": product,
        "book": book,
        "parent": parent_user(ParentRole.ADMIN, superuser=True, username="boss"),
    }
