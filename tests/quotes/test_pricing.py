from decimal import Decimal

import pytest

from quotes.pricing import effective_discount, line_net, totals
from tests.conftest import api_as

D = Decimal


@pytest.mark.parametrize(
    "unit, qty, pct, expected",
    [
        ("45.00", 3, "0", "135.00"),
        ("0.10", 1, "12.5", "0.09"),  # 0.0875 rounds half-up
        ("0.05", 1, "50", "0.03"),  # 0.025 rounds half-up, not to even
        ("19.99", 7, "15", "118.94"),  # 139.93 less 20.9895 = 118.9405
        ("10.00", 2, "100", "0.00"),
        ("33.33", 3, "33.33", "66.66"),  # 99.99 less 33.326667 = 66.663333
    ],
)
def test_line_net_is_rounded_half_up_to_cents(unit, qty, pct, expected):
    assert line_net(D(unit), qty, D(pct)) == D(expected)


def test_header_discount_applies_to_the_sum_of_rounded_lines():
    result = totals([D("0.09"), D("0.09"), D("100.00")], D("10"))
    assert result.subtotal == D("100.18")
    assert result.header_discount_amount == D("10.02")  # 10.018 half-up
    assert result.total == D("90.16")


def test_header_discount_half_up_at_exactly_half_a_cent():
    result = totals([D("0.25")], D("10"))  # 0.025
    assert result.header_discount_amount == D("0.03")
    assert result.total == D("0.22")


def test_effective_discount_combines_line_and_header():
    assert effective_discount(D("10"), D("10")) == D("19.00")
    assert effective_discount(D("0"), D("5")) == D("5.00")


def test_server_computes_the_quote_totals(seller, catalogue):
    client = api_as(seller["user"])
    response = client.post(
        "/api/v1/quotes/",
        {
            "customer": seller["customer"].pk,
            "header_discount_percent": "2.5",
            "lines": [
                {"product": catalogue["vm"].pk, "quantity": 7, "discount_percent": "12.5"},
                {"product": catalogue["disk"].pk, "quantity": 1001, "discount_percent": "3"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    # VM: 315.00 less 12.5% = 275.625 -> 275.63; DISK: 100.10 less 3% = 97.097 -> 97.10
    assert [line["net_amount"] for line in body["lines"]] == ["275.63", "97.10"]
    assert body["subtotal"] == "372.73"
    assert body["header_discount_amount"] == "9.32"  # 9.31825
    assert body["total"] == "363.41"
    assert body["currency"] == "USD"


def test_client_supplied_prices_and_totals_are_refused(seller, catalogue):
    response = api_as(seller["user"]).post(
        "/api/v1/quotes/",
        {"customer": seller["customer"].pk, "total": "1.00", "lines": []},
        format="json",
    )
    assert response.status_code == 400
    assert "total" in response.json()
    response = api_as(seller["user"]).post(
        "/api/v1/quotes/",
        {
            "customer": seller["customer"].pk,
            "lines": [{"product": catalogue["vm"].pk, "quantity": 1, "unit_price": "0.01"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "lines" in response.json()


def test_partner_price_agreement_wins_over_the_price_book(seller, catalogue):
    from tests.factories.quotes import PartnerPriceFactory

    PartnerPriceFactory(partner=seller["partner"], product=catalogue["vm"], unit_price=D("39.90"))
    body = (
        api_as(seller["user"])
        .post(
            "/api/v1/quotes/",
            {"customer": seller["customer"].pk, "lines": [{"product": catalogue["vm"].pk, "quantity": 2}]},
            format="json",
        )
        .json()
    )
    assert body["lines"][0]["unit_price"] == "39.90"
    assert body["total"] == "79.80"
