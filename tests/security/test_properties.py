"""Property-based tests (hypothesis) over the money, quantity, date and filter inputs of the write
endpoints and portal forms: whatever a client sends, the answer is a success or a 4xx, never a 5xx,
and what was stored fits its column and is the number that was sent (rounded to cents)."""

import contextlib
import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from deals.models import DealRegistration, Opportunity
from prm.security.bounds import decimal_fits
from quotes.models import Quote
from tests.conftest import api_as
from tests.factories.deals import OpportunityFactory

from .conftest import CASES

pytestmark = pytest.mark.django_db

# Strings a person or a program might send for a number.
numbers = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["99999999999999", "999999999999.99", "1000000000000", "1e400", "-0", "0.005", "1,000.00", ""]),
    st.text(max_size=20),
).map(str)
quantities = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(["1e23", "NaN", "", "1.5"]), st.text(max_size=8)
).map(str)
dates = st.one_of(
    st.dates(min_value=datetime.date(1, 1, 1)).map(datetime.date.isoformat),
    st.sampled_from(["2026-02-30", "99999-01-01", "0000-00-00", "2026-13-01", "tomorrow", ""]),
    st.text(max_size=12),
)
OK_API = {200, 201, 400, 403, 404, 429}
OK_PORTAL = {200, 302, 400, 403, 404, 429}


@contextlib.contextmanager
def example(role):
    """Each example runs in its own rolled-back transaction, with fresh throttle counters."""
    CASES[role] += 1
    cache.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def as_money(text):
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if value.is_finite() else None


def portal(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


# API: money -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "parent"])
@given(amount=numbers)
def test_api_mark_won_amount(channel, role, amount):
    with example(f"api:{role}"):
        opportunity = OpportunityFactory(partner=channel["partner"], owner=channel["rep"], amount=Decimal("10.00"))
        response = api_as(channel[role]).post(f"/api/v1/opportunities/{opportunity.pk}/mark-won/", {"amount": amount})
        assert response.status_code in OK_API, response.content
        opportunity.refresh_from_db()
        if response.status_code == 200:
            assert decimal_fits(opportunity.amount, 14, 2)
            assert opportunity.amount == as_money(amount)
        else:
            assert opportunity.amount == Decimal("10.00")


@pytest.mark.parametrize("role", ["admin", "parent"])
@given(amount=numbers, probability=quantities, close=dates)
def test_api_opportunity_create(channel, role, amount, probability, close):
    with example(f"api:{role}"):
        body = {"name": "Deal", "amount": amount, "probability": probability, "expected_close_date": close}
        response = api_as(channel[role]).post("/api/v1/opportunities/", body)
        assert response.status_code in OK_API, response.content
        if response.status_code == 201:
            stored = Opportunity.objects.get(pk=response.json()["id"])
            assert decimal_fits(stored.amount, 14, 2) and 0 <= stored.probability <= 100


@pytest.mark.parametrize("role", ["rep", "admin"])
@given(value=numbers, quantity=quantities, close=dates)
def test_api_deal_registration_create(channel, role, value, quantity, close):
    with example(f"api:{role}"):
        body = {
            "customer_name": "Prospect Ltd",
            "customer_country": "DE",
            "estimated_value": value,
            "expected_close_date": close,
            "lines": [{"product": channel["product"].pk, "quantity": quantity}],
            "submit": True,
        }
        response = api_as(channel[role]).post("/api/v1/deal-registrations/", body, format="json")
        assert response.status_code in OK_API, response.content
        if response.status_code == 201:
            stored = DealRegistration.objects.get(pk=response.json()["id"])
            assert decimal_fits(stored.estimated_value, 14, 2)


@pytest.mark.parametrize("role", ["admin", "parent"])
@given(quantity=quantities, discount=numbers, header=numbers, valid_until=dates)
def test_api_quote_create(channel, role, quantity, discount, header, valid_until):
    with example(f"api:{role}"):
        body = {
            "customer": channel["customer"].pk,
            "valid_until": valid_until,
            "header_discount_percent": header,
            "lines": [{"product": channel["product"].pk, "quantity": quantity, "discount_percent": discount}],
        }
        if role == "parent":
            body["partner"] = channel["partner"].pk
        response = api_as(channel[role]).post("/api/v1/quotes/", body, format="json")
        assert response.status_code in OK_API, response.content
        if response.status_code == 201:
            quote = Quote.objects.get(pk=response.json()["id"])
            assert all(decimal_fits(v, 14, 2) for v in (quote.subtotal, quote.header_discount_amount, quote.total))


# API: filters -----------------------------------------------------------------------------------------

LISTS = [
    "/api/v1/opportunities/",
    "/api/v1/commissions/",
    "/api/v1/deal-registrations/",
    "/api/v1/leads/",
    "/api/v1/quotes/",
    "/api/v1/orders/",
    "/api/v1/cases/",
    "/api/v1/customers/",
    "/api/v1/partner-users/",
    "/api/v1/partners/",
]
filter_values = st.one_of(quantities, numbers, dates, st.sampled_from(["true", "open", "-amount", "id", "1"]))
queries = st.dictionaries(
    st.sampled_from(
        ["partner", "customer", "queue", "status", "stage", "page", "page_size", "ordering", "search", "has_conflict"]
        + ["created_after", "created_before", "priority", "is_active", "role", "country", "min_amount"]
    ),
    filter_values,
    max_size=5,
)


@pytest.mark.parametrize("role", ["rep", "admin", "parent"])
@given(url=st.sampled_from(LISTS), query=queries)
def test_api_list_filters(channel, role, url, query):
    with example(f"api:{role}"):
        response = api_as(channel[role]).get(url, query)
        assert response.status_code in {200, 400, 403, 404}, (url, query, response.status_code)


# Portal forms -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin"])
@given(amount=numbers)
def test_portal_mark_won_amount(channel, role, amount):
    with example(f"portal:{role}"):
        opportunity = OpportunityFactory(partner=channel["partner"], owner=channel["rep"], amount=Decimal("10.00"))
        response = portal(channel[role]).post(
            f"/portal/deals/opportunities/{opportunity.pk}/mark-won/", {"amount": amount}
        )
        assert response.status_code in OK_PORTAL
        opportunity.refresh_from_db()
        assert decimal_fits(opportunity.amount, 14, 2)
        if opportunity.stage == "closed_won" and amount.strip():
            assert opportunity.amount == as_money(amount.replace(",", ""))


@pytest.mark.parametrize("role", ["rep"])
@given(value=numbers, quantity=quantities, close=dates)
def test_portal_registration_form(channel, role, value, quantity, close):
    with example(f"portal:{role}"):
        body = {
            "customer_name": "Prospect Ltd",
            "customer_country": "DE",
            "estimated_value": value,
            "expected_close_date": close,
            "product_1": channel["product"].pk,
            "quantity_1": quantity,
            "submit": "1",
        }
        response = portal(channel[role]).post("/portal/deals/registrations/new/", body)
        assert response.status_code in OK_PORTAL
        for registration in DealRegistration.objects.all():
            assert decimal_fits(registration.estimated_value, 14, 2)


@pytest.mark.parametrize("role", ["admin"])
@given(quantity=quantities, discount=numbers, header=numbers, valid_until=dates)
def test_portal_quote_lines_preview_and_header(channel, role, quantity, discount, header, valid_until):
    with example(f"portal:{role}"):
        from tests.factories.quotes import QuoteFactory

        quote = QuoteFactory(
            partner=channel["partner"],
            customer=channel["customer"],
            created_by=channel[role],
            price_book=channel["book"],
        )
        client = portal(channel[role])
        line = {"product": channel["product"].pk, "quantity": quantity, "discount_percent": discount}
        preview = client.get(f"/portal/quotes/{quote.pk}/lines/preview/", line, HTTP_HX_REQUEST="true")
        assert preview.status_code in {200, 400}
        assert client.post(f"/portal/quotes/{quote.pk}/lines/", line).status_code in OK_PORTAL
        header_form = {"valid_until": valid_until, "header_discount_percent": header, "terms": ""}
        assert client.post(f"/portal/quotes/{quote.pk}/header/", header_form).status_code in OK_PORTAL
        quote.refresh_from_db()
        assert all(decimal_fits(v, 14, 2) for v in (quote.subtotal, quote.header_discount_amount, quote.total))
        assert all(decimal_fits(line.net_amount, 14, 2) for line in quote.lines.all())
