"""Items 1, 4 and 5 of issue 14: hostile numbers, names and bodies answer 400, never 500, and nothing
out of range is stored."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from deals.models import Opportunity, OpportunityStage
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import Commission
from tests.conftest import api_as
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user
from tests.factories.deals import OpportunityFactory
from tests.factories.quotes import QuoteFactory

pytestmark = pytest.mark.django_db

HUGE_AMOUNT = "99999999999999"  # 14 integer digits: the column holds 12 before the point


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def dual_partner(db):
    return PartnerFactory(slug="tail", business_model=BusinessModel.DUAL)


@pytest.fixture
def seller(dual_partner):
    return partner_user(dual_partner, PartnerRole.ADMIN, username="tail-admin")


@pytest.fixture
def boss(db):
    return parent_user(ParentRole.ADMIN, superuser=True, username="boss")


# 1. Money and quantities are bounded to their columns -------------------------------------------------


@pytest.mark.parametrize("amount", [HUGE_AMOUNT, "99,999,999,999,999", "1e30", "NaN", "Infinity", "-Infinity", "abc"])
def test_portal_mark_won_with_an_amount_the_column_cannot_hold_is_refused(dual_partner, seller, boss, amount):
    opportunity = OpportunityFactory(partner=dual_partner, owner=seller, amount=Decimal("5000.00"))
    response = portal(seller).post(
        f"/portal/deals/opportunities/{opportunity.pk}/mark-won/", {"amount": amount}, follow=True
    )
    assert response.status_code in (200, 400)
    opportunity.refresh_from_db()
    assert opportunity.stage != OpportunityStage.CLOSED_WON and opportunity.amount == Decimal("5000.00")
    assert not Commission.objects.exists()
    # The parent's lists still work afterwards.
    assert portal(boss).get("/portal/deals/commissions/").status_code == 200
    assert api_as(boss).get("/api/v1/opportunities/").status_code == 200


def test_api_mark_won_with_a_huge_amount_is_a_400(dual_partner, seller):
    opportunity = OpportunityFactory(partner=dual_partner, owner=seller)
    response = api_as(seller).post(f"/api/v1/opportunities/{opportunity.pk}/mark-won/", {"amount": HUGE_AMOUNT})
    assert response.status_code == 400 and "amount" in response.json()


def test_a_computed_amount_that_does_not_fit_is_refused_at_save(dual_partner):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        OpportunityFactory(partner=dual_partner, amount=Decimal(HUGE_AMOUNT))
    assert "amount" in caught.value.message_dict
    assert not Opportunity.objects.exists()


def test_commission_totals_do_not_overflow_on_many_large_rows(dual_partner, boss):
    for n in range(12):
        Commission.objects.create(
            partner=dual_partner, source="closed_deal", source_ref=f"opportunity:{n}", amount=Decimal("999999999999.99")
        )
    assert api_as(boss).get("/api/v1/commissions/").status_code == 200
    assert portal(boss).get("/portal/deals/commissions/").status_code == 200
    assert portal(boss).get("/portal/deals/pipeline/").status_code == 200


# 4. Usernames longer than any column, JSON deeper than any parser should walk ---------------------------

LONG_NAME = "u" * 256


def test_token_with_a_256_character_username_is_a_400(api):
    response = api.post("/api/v1/auth/token/", {"username": LONG_NAME, "password": "x"})
    assert response.status_code == 400 and "username" in response.json()


@pytest.mark.parametrize("url", ["/portal/login/", "/admin/login/"])
def test_portal_and_admin_login_with_a_256_character_username_is_a_form_error(url, caplog):
    from axes.models import AccessAttempt

    response = Client().post(url, {"username": LONG_NAME, "password": "x"})
    assert response.status_code == 200 and "at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()  # never reached authenticate() and the lockout table
    assert not [r for r in caplog.records if r.name == "prm.security"]  # not left to the guard


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/customers/", "/api/v1/deal-registrations/"])
def test_json_nested_1000_levels_is_a_400(seller, url):
    client = api_as(seller) if url != "/api/v1/auth/token/" else Client()
    response = client.post(url, data=deep(1000), content_type="application/json")
    assert response.status_code == 400


def test_json_nested_beyond_the_depth_limit_is_a_400_even_when_python_could_parse_it(seller):
    nested = 1
    for _ in range(40):
        nested = [nested]
    body = json.dumps({"name": "Deep", "website": {"a": nested}})
    response = api_as(seller).post("/api/v1/customers/", data=body, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.json()["detail"]


def test_json_body_over_the_size_limit_is_a_413(seller, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "x" * 2000})
    response = api_as(seller).post("/api/v1/customers/", data=body, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused(seller, dual_partner, constant):
    opportunity = OpportunityFactory(partner=dual_partner, owner=seller)
    body = f'{{"amount": {constant}}}'
    response = api_as(seller).post(
        f"/api/v1/opportunities/{opportunity.pk}/mark-won/", data=body, content_type="application/json"
    )
    assert response.status_code == 400


# 5. The smaller 500s ---------------------------------------------------------------------------------


def test_agreement_endpoint_in_the_browsable_api(dual_partner, boss, seller):
    for user in (boss, seller):
        client = portal(user)
        response = client.get(f"/api/v1/partners/{dual_partner.pk}/agreement/?format=api")
        assert response.status_code == 200, user


@pytest.fixture
def quote_setup(db):
    from partners.models import ProductLine, ProgramTier
    from tests.factories import ProductFactory
    from tests.factories.quotes import DiscountScheduleFactory, PriceBookEntryFactory, PriceBookFactory
    from tests.quotes.conftest import make_partner

    gold, _ = ProgramTier.objects.get_or_create(name="Gold", defaults={"rank": 3})
    compute, _ = ProductLine.objects.get_or_create(code="compute", defaults={"name": "Compute"})
    book = PriceBookFactory(name="Standard", currency="USD")
    vm = ProductFactory(sku="VM", product_line=compute, list_price=Decimal("9999999999.00"))
    PriceBookEntryFactory(price_book=book, product=vm, unit_price=Decimal("9999999999.00"))
    DiscountScheduleFactory(tier=gold, product_line=compute, max_discount_percent=Decimal("15.00"))
    partner = make_partner({"gold": gold, "compute": compute, "storage": compute}, slug="alpha")
    user = partner_user(partner, PartnerRole.ADMIN, username="alpha-admin")
    quote = QuoteFactory(partner=partner, customer=customer_of(partner, owner=user), created_by=user, price_book=book)
    return {"user": user, "quote": quote, "vm": vm}


@pytest.mark.parametrize(
    "params",
    [
        {"product": "abc"},
        {"discount_percent": "NaN"},
        {"discount_percent": "Infinity"},
        {"discount_percent": "-Infinity"},
        {"quantity": "1" * 30},
        {"quantity": "1e23"},
        {"quantity": "1000000"},  # fits the form, but the line amount would not fit its column
    ],
)
def test_quote_line_preview_with_hostile_input_is_a_400(quote_setup, params):
    query = {"product": quote_setup["vm"].pk, "quantity": 1, "discount_percent": "0"} | params
    url = f"/portal/quotes/{quote_setup['quote'].pk}/lines/preview/"
    response = portal(quote_setup["user"]).get(url, query, HTTP_HX_REQUEST="true")
    assert response.status_code == 400


def test_quote_line_preview_still_prices_a_good_line(quote_setup):
    url = f"/portal/quotes/{quote_setup['quote'].pk}/lines/preview/"
    query = {"product": quote_setup["vm"].pk, "quantity": 2, "discount_percent": "5"}
    response = portal(quote_setup["user"]).get(url, query, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"18,999,999,998.10" in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/opportunities/?partner=1e23",
        "/api/v1/opportunities/?partner=100000000000000000000000",
        "/api/v1/cases/?queue=1e23",
        "/api/v1/cases/?queue=100000000000000000000000",
        "/api/v1/partner-users/?partner=1e23",
        "/api/v1/partner-users/?partner=100000000000000000000000",
        "/api/v1/customers/100000000000000000000000/",
        "/api/v1/opportunities/?page=100000000000000000000000",
        "/api/v1/opportunities/?page_size=100000000000000000000000",
    ],
)
def test_integer_filters_out_of_range_are_not_a_500(boss, url):
    assert api_as(boss).get(url).status_code in (200, 400, 404)


def test_every_json_parser_is_the_bounded_one():
    """Lint: a view that sets its own parser_classes must not bring back DRF's unbounded JSONParser."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\bJSONParser\b")
    offenders = [
        str(path.relative_to(root))
        for app in ("partners", "deals", "quotes", "cases", "mdf", "renewals", "analytics", "prm")
        for path in (root / app).rglob("*.py")
        if path.name != "parsers.py" and pattern.search(path.read_text().replace("BoundedJSONParser", ""))
    ]
    assert offenders == []


@pytest.mark.parametrize("queue", ["1e23", "100000000000000000000000", "-1", "٣"])
def test_portal_case_list_with_an_out_of_range_queue_filter(boss, queue, caplog):
    response = portal(boss).get("/portal/cases/", {"queue": queue, "view": "all"})
    assert response.status_code == 200
    assert not [r for r in caplog.records if r.name == "prm.security"]  # handled where it arrives
