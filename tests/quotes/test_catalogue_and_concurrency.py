import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from quotes.services import add_months
from tests.conftest import api_as
from tests.factories import parent_user
from tests.factories.quotes import BusinessRuleFactory, PriceBookFactory, order_with_line


@pytest.mark.django_db
def test_products_api_still_lists_the_catalogue(seller, catalogue):
    body = api_as(seller["user"]).get("/api/v1/products/?product_line=compute").json()
    assert {row["sku"] for row in body["results"]} == {"VM", "SETUP"}


@pytest.mark.django_db
def test_inactive_price_book_is_hidden_from_partners_not_from_the_parent(seller, catalogue):
    retired = PriceBookFactory(name="Retired", active=False, is_default=False)
    partner_client = api_as(seller["user"])
    assert retired.pk not in {row["id"] for row in partner_client.get("/api/v1/price-books/").json()["results"]}
    url = f"/api/v1/price-books/{retired.pk}/"
    assert partner_client.get(url).status_code == 404
    assert partner_client.put(url, {}).status_code == 404
    assert partner_client.delete(url).status_code == 404
    parent = api_as(parent_user("Admin", superuser=True))
    assert parent.get(url).status_code == 200
    assert parent.delete(url).status_code in (403, 405)
    # A retired book cannot price a new quote.
    response = partner_client.post(
        "/api/v1/quotes/", {"customer": seller["customer"].pk, "price_book": retired.pk}, format="json"
    )
    assert response.status_code == 400
    assert "price_book" in response.json()


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 11, 27), 12, datetime.date(2027, 11, 27)),
        (datetime.date(2026, 12, 15), 3, datetime.date(2027, 3, 15)),
    ],
)
def test_subscription_terms_add_calendar_months(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submission_moves_the_order_once(seller, catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    from partners.models import AuditEvent
    from quotes import services

    BusinessRuleFactory(name="First order", kind="first_order_of_customer", severity="review")
    order = order_with_line(seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"])
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            barrier.wait(timeout=10)
            services.order_submit(user=seller["user"], order=order)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "refused"]
    assert AuditEvent.objects.filter(verb="order.submitted", object_id=str(order.pk)).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [1, 50])
def test_product_list_query_count_is_constant(seller, catalogue, page_size):
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ProductFactory

    for _ in range(55):
        ProductFactory(product_line=catalogue["compute"])
    client = api_as(seller["user"])
    client.get("/api/v1/products/?page_size=1")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/products/?page_size={page_size}")
    assert len(response.json()["results"]) == page_size
    assert len(queries) == 2, [q["sql"] for q in queries]  # count, products (+product line)


@pytest.mark.django_db
def test_unknown_fields_in_an_action_are_400_and_move_nothing(seller, catalogue):
    from quotes.models import Quote
    from tests.factories.quotes import quote_with_line

    quote = quote_with_line(seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"])
    response = api_as(seller["user"]).post(f"/api/v1/quotes/{quote.pk}/send/", {"status": "accepted"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()
    assert Quote.objects.get(pk=quote.pk).status == "draft"
