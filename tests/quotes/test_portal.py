from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from quotes.models import Order, Quote, RuleKind
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES
from tests.factories import customer_of, parent_user, partner_user
from tests.factories.quotes import BusinessRuleFactory, order_with_line, quote_with_line
from tests.quotes.conftest import make_partner

pytestmark = pytest.mark.django_db


def browser(user):
    client = Client()
    client.force_login(user)
    return client


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_builder_adds_lines_with_htmx_and_shows_live_totals_and_limits(seller, catalogue):
    client = browser(seller["user"])
    response = client.post(
        "/portal/quotes/new/", {"customer": seller["customer"].pk, "header_discount_percent": "0", "terms": ""}
    )
    assert response.status_code == 302, response.content
    quote = Quote.objects.get()
    page = client.get(f"/portal/quotes/{quote.pk}/")
    assert page.status_code == 200
    assert "Compute: 15.00%" in page.content.decode()
    preview = client.get(
        f"/portal/quotes/{quote.pk}/lines/preview/",
        {"product": catalogue["vm"].pk, "quantity": "3", "discount_percent": "20"},
        **HTMX,
    )
    text = preview.content.decode()
    assert "135.00" not in text and "108.00" in text
    assert "above your limit" in text
    added = client.post(
        f"/portal/quotes/{quote.pk}/lines/",
        {"product": catalogue["vm"].pk, "quantity": "3", "discount_percent": "10"},
        **HTMX,
    )
    assert added.status_code == 200
    fragment = added.content.decode()
    assert "<html" not in fragment
    assert 'id="quote-lines"' in fragment
    assert "121.50" in fragment
    quote.refresh_from_db()
    assert quote.total == Decimal("121.50")
    header = client.post(
        f"/portal/quotes/{quote.pk}/header/",
        {"valid_until": quote.valid_until.isoformat(), "header_discount_percent": "10", "terms": "Net 30"},
        **HTMX,
    )
    assert "109.35" in header.content.decode()  # 121.50 less 12.15
    line = quote.lines.get()
    removed = client.post(f"/portal/quotes/{quote.pk}/lines/{line.pk}/remove/", **HTMX)
    assert "No lines yet" in removed.content.decode()


def test_bad_line_is_shown_not_saved(seller, catalogue):
    quote = quote_with_line(seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"])
    response = browser(seller["user"]).post(
        f"/portal/quotes/{quote.pk}/lines/", {"product": catalogue["vm"].pk, "quantity": "0"}, **HTMX
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert quote.lines.count() == 1


def test_quote_actions_through_the_portal(seller, catalogue, desk):
    quote = quote_with_line(seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"])
    quote.lines.update(discount_percent=Decimal("30"))
    client = browser(seller["user"])
    client.post(f"/portal/quotes/{quote.pk}/submit/")
    quote.refresh_from_db()
    assert quote.status == "pending_approval"
    assert client.post(f"/portal/quotes/{quote.pk}/approve/").status_code == 403
    browser(desk).post(f"/portal/quotes/{quote.pk}/approve/")
    client.post(f"/portal/quotes/{quote.pk}/send/")
    client.post(f"/portal/quotes/{quote.pk}/accept/")
    quote.refresh_from_db()
    assert quote.status == "accepted"
    response = client.post(f"/portal/quotes/{quote.pk}/order/")
    order = Order.objects.get(quote=quote)
    assert response.url == f"/portal/quotes/orders/{order.pk}/"


def test_illegal_move_in_the_portal_is_a_message_not_a_change(seller, catalogue):
    quote = quote_with_line(seller["partner"], seller["customer"], created_by=seller["user"], status="accepted")
    response = browser(seller["user"]).post(f"/portal/quotes/{quote.pk}/send/", follow=True)
    assert "cannot move" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == "accepted"


def test_referral_partner_sees_request_a_quote(catalogue):
    partner = make_partner(catalogue, BusinessModel.REFERRAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    client = browser(user)
    assert "Request a quote" in client.get("/portal/quotes/").content.decode()
    response = client.post("/portal/quotes/new/", {"customer": customer.pk, "notes": "Ten VMs"})
    assert response.status_code == 302
    assert Quote.objects.get().status == "requested"


def test_white_label_partner_portal_document_has_no_parent_brand(catalogue):
    partner = make_partner(catalogue, BusinessModel.WHITE_LABEL, display_name="Wingtip Cloud")
    user = partner_user(partner, PartnerRole.REP)
    quote = quote_with_line(partner, customer_of(partner, owner=user), created_by=user, product=catalogue["vm"])
    client = browser(user)
    for url in (f"/portal/quotes/{quote.pk}/document/", f"/portal/quotes/{quote.pk}/", "/portal/quotes/"):
        html = client.get(url).content.decode()
        assert "Wingtip Cloud" in html
        assert settings.PARENT_COMPANY_NAME not in html, url


def test_order_page_shows_timeline_rules_and_decline_reason(seller, catalogue, desk):
    BusinessRuleFactory(name="First order of a customer", kind=RuleKind.FIRST_ORDER_OF_CUSTOMER, severity="review")
    order = order_with_line(seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"])
    Order.objects.filter(pk=order.pk).update(external_ref="")
    client = browser(seller["user"])
    client.post(f"/portal/quotes/orders/{order.pk}/submit/")
    order.refresh_from_db()
    assert order.status == "in_review"
    queue = browser(desk).get("/portal/quotes/review/").content.decode()
    assert order.number in queue
    assert "first order of a new customer" in queue
    browser(desk).post(
        f"/portal/quotes/orders/{order.pk}/decline/", {"reason": "Customer failed KYC", "next": "review"}
    )
    html = client.get(f"/portal/quotes/orders/{order.pk}/").content.decode()
    assert "Customer failed KYC" in html
    assert "In review → <strong>Declined</strong>" in html
    assert "First order of a customer" in html


def test_partners_do_not_get_the_review_queue(seller):
    assert browser(seller["user"]).get("/portal/quotes/review/").status_code == 404


def test_anonymous_is_sent_to_login(db):
    for url in ("/portal/quotes/", "/portal/quotes/orders/", "/portal/quotes/review/", "/portal/quotes/1/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/login/" in response.url


def test_lists_and_home_card(seller, catalogue):
    quote_with_line(seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"])
    order_with_line(seller["partner"], seller["customer"], created_by=seller["user"], status="in_review")
    client = browser(seller["user"])
    assert "Q-" in client.get("/portal/quotes/").content.decode()
    assert "O-" in client.get("/portal/quotes/orders/?status=in_review").content.decode()
    home = client.get("/portal/").content.decode()
    assert "Quotes and orders" in home


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_quote_and_order_pages_are_404(catalogue, business_model, role):
    mine = make_partner(catalogue, business_model)
    theirs = make_partner(catalogue)
    user = partner_user(mine, role)
    quote = quote_with_line(theirs, customer_of(theirs), product=catalogue["vm"])
    order = order_with_line(theirs, customer_of(theirs))
    client = browser(user)
    listing = client.get("/portal/quotes/").content.decode()
    assert quote.number not in listing
    assert order.number not in client.get("/portal/quotes/orders/").content.decode()
    for url in (
        f"/portal/quotes/{quote.pk}/",
        f"/portal/quotes/{quote.pk}/document/",
        f"/portal/quotes/{quote.pk}/lines/preview/",
        f"/portal/quotes/orders/{order.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/portal/quotes/{quote.pk}/lines/",
        f"/portal/quotes/{quote.pk}/header/",
        f"/portal/quotes/{quote.pk}/submit/",
        f"/portal/quotes/{quote.pk}/order/",
        f"/portal/quotes/orders/{order.pk}/submit/",
        f"/portal/quotes/orders/{order.pk}/cancel/",
    ):
        assert client.post(url, {"product": catalogue["vm"].pk, "quantity": 1}).status_code == 404, url
    quote.refresh_from_db()
    order.refresh_from_db()
    assert (quote.status, quote.lines.count(), order.status) == ("draft", 1, "draft")


def test_parent_sees_partner_column_and_channel_manager_only_granted(seller, catalogue):
    other = make_partner(catalogue, slug="zulu", name="Zulu Systems")
    quote_with_line(seller["partner"], seller["customer"], product=catalogue["vm"])
    hidden = quote_with_line(other, customer_of(other), product=catalogue["vm"])
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[seller["partner"]])
    html = browser(manager).get("/portal/quotes/").content.decode()
    assert "Alpha Partners" in html and "Zulu Systems" not in html
    assert browser(manager).get(f"/portal/quotes/{hidden.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["/portal/quotes/", "/portal/quotes/orders/", "/portal/quotes/review/"])
def test_portal_lists_do_not_grow_queries_with_rows(seller, catalogue, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    viewer = seller["user"] if "review" not in path else parent_user(ParentRole.ADMIN, superuser=True)
    client = browser(viewer)

    def count():
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    quote_with_line(seller["partner"], seller["customer"], created_by=seller["user"], status="pending_approval")
    order_with_line(seller["partner"], seller["customer"], created_by=seller["user"], status="in_review")
    few = count()
    for _ in range(10):
        quote_with_line(
            seller["partner"], customer_of(seller["partner"]), created_by=seller["user"], status="pending_approval"
        )
        order_with_line(
            seller["partner"], customer_of(seller["partner"]), created_by=seller["user"], status="in_review"
        )
    assert count() == few


def test_approve_and_next_walks_the_review_queues(seller, catalogue, desk):
    """Quotes and orders: a decision with "and next" opens the next one waiting, then says none is left."""
    make = {"partner": seller["partner"], "customer": seller["customer"], "created_by": seller["user"]}
    quotes = [quote_with_line(make["partner"], make["customer"], created_by=make["created_by"]) for _ in range(2)]
    Quote.objects.filter(pk__in=[q.pk for q in quotes]).update(status="pending_approval")
    orders = [order_with_line(**make, status="in_review") for _ in range(2)]
    client = browser(desk)
    response = client.post(f"/portal/quotes/{quotes[0].pk}/approve/", {"and_next": "1"})
    assert response["Location"] == f"/portal/quotes/{quotes[1].pk}/"
    response = client.post(f"/portal/quotes/{quotes[1].pk}/approve/", {"and_next": "1"}, follow=True)
    assert "No other quote is waiting for approval." in response.content.decode()
    response = client.post(f"/portal/quotes/orders/{orders[0].pk}/approve/", {"and_next": "1"})
    assert response["Location"] == f"/portal/quotes/orders/{orders[1].pk}/"
    page = client.get(f"/portal/quotes/orders/{orders[1].pk}/").content.decode()
    assert "Approve and open the next" in page and "Decline and open the next" in page


def test_a_refused_order_says_why_in_sentences_only(seller, catalogue):
    BusinessRuleFactory(name="Seat cap", kind=RuleKind.QUANTITY_LIMITS, severity="blocking", max_quantity=2)
    order = order_with_line(seller["partner"], seller["customer"], created_by=seller["user"], quantity=5)
    client = browser(seller["user"])
    page = client.post(f"/portal/quotes/orders/{order.pk}/submit/", follow=True).content.decode()
    message = page[page.index('<ul class="messages"') : page.index("</ul>", page.index('<ul class="messages"'))]
    assert "Seat cap:" in message
    assert message.count("Seat cap") == 1  # not also the bare list of rule names the API returns
