import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent
from quotes.models import Quote, QuoteStatus
from quotes.tasks import expire_quotes
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import customer_of, parent_user, partner_user
from tests.quotes.conftest import make_partner

pytestmark = pytest.mark.django_db


def create_quote(client, customer, lines, **fields):
    return client.post("/api/v1/quotes/", {"customer": customer.pk, "lines": lines, **fields}, format="json")


def post(client, quote_id, action, **data):
    return client.post(f"/api/v1/quotes/{quote_id}/{action}/", data, format="json")


def vm_line(catalogue, quantity=2, discount="0"):
    return {"product": catalogue["vm"].pk, "quantity": quantity, "discount_percent": discount}


# The state machine ---------------------------------------------------------------------------------


def test_within_limits_submit_approves_and_draft_can_be_sent_directly(seller, catalogue):
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [vm_line(catalogue, discount="15")]).json()
    assert quote["status"] == "draft"
    assert post(client, quote["id"], "submit").json()["status"] == "approved"
    other = create_quote(client, seller["customer"], [vm_line(catalogue, discount="5")]).json()
    sent = post(client, other["id"], "send")
    assert sent.status_code == 200
    assert sent.json()["status"] == "sent"


def test_discount_above_tier_max_needs_approval_then_desk_decides(seller, catalogue, desk):
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [vm_line(catalogue, discount="20")]).json()
    refused = post(client, quote["id"], "send")
    assert refused.status_code == 400
    assert "status" in refused.json()
    body = post(client, quote["id"], "submit").json()
    assert body["status"] == "pending_approval"
    assert "above the tier maximum of 15.00%" in body["approval_reasons"][0]
    # The partner cannot approve its own discount.
    assert post(client, quote["id"], "approve").status_code == 403
    desk_client = api_as(desk)
    assert post(desk_client, quote["id"], "approve").json()["status"] == "approved"
    assert post(client, quote["id"], "send").json()["status"] == "sent"
    assert post(client, quote["id"], "accept").json()["status"] == "accepted"


def test_header_discount_counts_towards_the_tier_maximum(seller, catalogue):
    client = api_as(seller["user"])
    quote = create_quote(
        client, seller["customer"], [vm_line(catalogue, discount="10")], header_discount_percent="6"
    ).json()
    # 1 - 0.90 * 0.94 = 15.4% > 15%
    assert post(client, quote["id"], "submit").json()["status"] == "pending_approval"


def test_total_above_threshold_needs_approval(seller, catalogue, settings):
    settings.QUOTES_APPROVAL_THRESHOLD = "1000.00"
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [{"product": catalogue["setup"].pk, "quantity": 1}]).json()
    body = post(client, quote["id"], "submit").json()
    assert body["status"] == "pending_approval"
    assert "approval threshold" in body["approval_reasons"][0]


@pytest.mark.parametrize("decision, status", [("reject", "rejected"), ("return", "returned")])
def test_reject_and_return_need_a_reason(seller, catalogue, desk, decision, status):
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [vm_line(catalogue, discount="30")]).json()
    post(client, quote["id"], "submit")
    missing = post(api_as(desk), quote["id"], decision)
    assert missing.status_code == 400
    assert "reason" in missing.json()
    assert Quote.objects.get(pk=quote["id"]).status == "pending_approval"
    body = post(api_as(desk), quote["id"], decision, reason="Too deep").json()
    assert body["status"] == status
    assert body["decision_reason"] == "Too deep"


def test_returned_quote_is_edited_and_resubmitted(seller, catalogue, desk):
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [vm_line(catalogue, discount="30")]).json()
    post(client, quote["id"], "submit")
    post(api_as(desk), quote["id"], "return", reason="Max 15%")
    updated = client.patch(
        f"/api/v1/quotes/{quote['id']}/", {"lines": [vm_line(catalogue, discount="15")]}, format="json"
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["lines"][0]["discount_percent"] == "15.00"
    assert post(client, quote["id"], "submit").json()["status"] == "approved"


@pytest.mark.parametrize(
    "status, action",
    [
        ("draft", "approve"),
        ("draft", "accept"),
        ("approved", "submit"),
        ("approved", "accept"),
        ("sent", "submit"),
        ("sent", "send"),
        ("accepted", "revise"),
        ("accepted", "decline"),
        ("rejected", "send"),
        ("superseded", "accept"),
        ("pending_approval", "send"),
        ("pending_approval", "revise"),
        ("expired", "accept"),
    ],
)
def test_illegal_quote_moves_are_400_and_change_nothing(seller, catalogue, desk, status, action):
    from tests.factories.quotes import quote_with_line

    quote = quote_with_line(seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"])
    Quote.objects.filter(pk=quote.pk).update(status=status)
    client = api_as(desk if action == "approve" else seller["user"])
    response = post(client, quote.pk, action, **({"reason": "x"} if action == "reject" else {}))
    assert response.status_code == 400, response.json()
    assert Quote.objects.get(pk=quote.pk).status == status
    assert Quote.objects.filter(chain=quote.chain).count() == 1


def test_editing_a_sent_quote_is_refused(seller, catalogue):
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [vm_line(catalogue)]).json()
    post(client, quote["id"], "send")
    response = client.patch(f"/api/v1/quotes/{quote['id']}/", {"terms": "changed"}, format="json")
    assert response.status_code == 400
    assert Quote.objects.get(pk=quote["id"]).terms == ""


def test_revise_creates_next_version_and_accepting_supersedes_the_others(seller, catalogue):
    client = api_as(seller["user"])
    first = create_quote(client, seller["customer"], [vm_line(catalogue)]).json()
    post(client, first["id"], "send")
    second = post(client, first["id"], "revise")
    assert second.status_code == 201
    second = second.json()
    assert second["version"] == 2
    assert second["previous"] == first["id"]
    assert second["number"] == first["number"].replace("-v1", "-v2")
    assert second["status"] == "draft"
    assert second["total"] == first["total"]
    assert Quote.objects.get(pk=first["id"]).status == "superseded"
    # A stray earlier version still sent (e.g. set up by an integration) is superseded on accept.
    third = post(client, second["id"], "revise").json()
    Quote.objects.filter(pk=second["id"]).update(status=QuoteStatus.SENT)
    post(client, third["id"], "send")
    assert post(client, third["id"], "accept").json()["status"] == "accepted"
    assert Quote.objects.get(pk=second["id"]).status == "superseded"
    assert AuditEvent.objects.filter(verb="quote.superseded", object_id=str(second["id"])).exists()


def test_periodic_task_expires_sent_quotes_past_validity_once(seller, catalogue):
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [vm_line(catalogue)]).json()
    post(client, quote["id"], "send")
    Quote.objects.filter(pk=quote["id"]).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    assert expire_quotes() == 1
    assert expire_quotes() == 0
    assert Quote.objects.get(pk=quote["id"]).status == "expired"
    assert post(client, quote["id"], "accept").status_code == 400


def test_double_submit_is_one_move(seller, catalogue):
    client = api_as(seller["user"])
    quote = create_quote(client, seller["customer"], [vm_line(catalogue, discount="40")]).json()
    assert post(client, quote["id"], "submit").status_code == 200
    assert post(client, quote["id"], "submit").status_code == 400
    assert AuditEvent.objects.filter(verb="quote.submit", object_id=str(quote["id"])).count() == 1


# The agreement decides who quotes --------------------------------------------------------------------


def test_referral_partner_requests_a_quote_which_the_parent_prices(catalogue, desk):
    partner = make_partner(catalogue, BusinessModel.REFERRAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    client = api_as(user)
    refused = create_quote(client, customer, [vm_line(catalogue)])
    assert refused.status_code == 400
    assert "lines" in refused.json()
    request = create_quote(client, customer, [], notes="20 VMs for the new plant").json()
    assert request["status"] == "requested"
    assert request["prepared_by_parent"] is True
    # The partner cannot price or move it; the parent's desk does.
    assert (
        client.patch(f"/api/v1/quotes/{request['id']}/", {"lines": [vm_line(catalogue)]}, format="json").status_code
        == 403
    )
    assert post(client, request["id"], "send").status_code == 403
    desk_client = api_as(desk)
    priced = desk_client.patch(
        f"/api/v1/quotes/{request['id']}/", {"lines": [vm_line(catalogue, quantity=20)]}, format="json"
    )
    assert priced.status_code == 200, priced.json()
    assert priced.json()["total"] == "900.00"
    assert post(desk_client, request["id"], "send").json()["status"] == "sent"
    # The partner follows its status.
    assert client.get(f"/api/v1/quotes/{request['id']}/").json()["status"] == "sent"


def test_registration_parent_partner_quotes_only_the_initial_order_of_its_own_customer(catalogue):
    from tests.factories import CustomerFactory
    from tests.factories.quotes import order_with_line

    partner = make_partner(catalogue, BusinessModel.REGISTRATION_PARENT)
    user = partner_user(partner, PartnerRole.ADMIN)
    registered = customer_of(partner, owner=user)
    client = api_as(user)
    assert create_quote(client, registered, [vm_line(catalogue)]).status_code == 201
    order_with_line(partner, registered, status="fulfilled")
    second = create_quote(client, registered, [vm_line(catalogue)])
    assert second.status_code == 400
    assert "customer" in second.json()
    # A customer it only services (not registered by it) is not its initial order to quote.
    serviced = CustomerFactory()
    from partners.models import CustomerRelationship

    CustomerRelationship.objects.create(customer=serviced, partner=partner, kind="servicing", owner=user)
    assert create_quote(client, serviced, [vm_line(catalogue)]).status_code == 400


@pytest.mark.parametrize(
    "business_model, status",
    [
        (BusinessModel.REFERRAL, "requested"),
        (BusinessModel.REGISTRATION_PARENT, "draft"),
        (BusinessModel.REGISTRATION_RETENTION, "draft"),
        (BusinessModel.DUAL, "draft"),
        (BusinessModel.WHITE_LABEL, "draft"),
    ],
)
def test_quote_access_per_business_model(catalogue, business_model, status):
    partner = make_partner(catalogue, business_model)
    user = partner_user(partner, PartnerRole.REP)
    customer = customer_of(partner, owner=user)
    lines = [] if business_model == BusinessModel.REFERRAL else [vm_line(catalogue)]
    response = create_quote(api_as(user), customer, lines)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == status


@pytest.mark.parametrize("role", [PartnerRole.SUPPORT, PartnerRole.MARKETING])
def test_non_selling_roles_cannot_quote(seller, catalogue, role):
    user = partner_user(seller["partner"], role)
    response = create_quote(api_as(user), seller["customer"], [vm_line(catalogue)])
    assert response.status_code in (400, 403)
    assert not Quote.objects.exists()


# The document --------------------------------------------------------------------------------------------


def test_white_label_document_carries_only_the_partners_brand(catalogue, desk):
    partner = make_partner(catalogue, BusinessModel.WHITE_LABEL, display_name="Wingtip Cloud", brand_color="#7b2d8b")
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user, owner_partner=partner)
    quote = create_quote(api_as(user), customer, [vm_line(catalogue)]).json()
    post(api_as(user), quote["id"], "submit")
    # Pipeline visibility "after_order": the parent sees this partner's quotes once an order is placed.
    from tests.factories.quotes import OrderFactory

    OrderFactory(partner=partner, customer=customer, status="submitted")
    for viewer in (user, parent_user(ParentRole.ADMIN, superuser=True)):
        response = api_as(viewer).get(f"/api/v1/quotes/{quote['id']}/document/")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "Wingtip Cloud" in html
        assert settings.PARENT_COMPANY_NAME not in html
        assert settings.PARENT_COMPANY_LOGO_URL not in html
        assert "helios" not in html.lower()
        assert "@media print" in html
        assert "90.00" in html


def test_co_branded_document_shows_parent_and_partner(seller, catalogue):
    quote = create_quote(api_as(seller["user"]), seller["customer"], [vm_line(catalogue)]).json()
    html = api_as(seller["user"]).get(f"/api/v1/quotes/{quote['id']}/document/").content.decode()
    assert settings.PARENT_COMPANY_NAME in html
    assert "Alpha Partners" in html


def test_branded_quoting_with_parent_visible_puts_the_partner_first(catalogue):
    from quotes.documents import document_brand

    partner = make_partner(catalogue, BusinessModel.WHITE_LABEL, display_name="Wingtip Cloud")
    partner.agreement.customer_awareness = "aware"  # an override: customers may know the parent
    partner.agreement.save()
    brand = document_brand(partner)
    assert brand["issuer"]["name"] == "Wingtip Cloud"
    assert brand["provided_by"]["name"] == settings.PARENT_COMPANY_NAME


def test_partner_invisible_document_leaves_the_partner_off(catalogue):
    partner = make_partner(catalogue, BusinessModel.REGISTRATION_PARENT, name="Contoso Ltd")
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    quote = create_quote(api_as(user), customer, [vm_line(catalogue)]).json()
    html = api_as(user).get(f"/api/v1/quotes/{quote['id']}/document/").content.decode()
    assert settings.PARENT_COMPANY_NAME in html
    assert "Contoso" not in html


# Bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"customer": None, "lines": []}, "customer"),
        ({"customer": 999999, "lines": []}, "customer"),
        ({"header_discount_percent": "101"}, "header_discount_percent"),
        ({"header_discount_percent": "-1"}, "header_discount_percent"),
        ({"lines": [{"product": 999999, "quantity": 1}]}, "lines"),
        ({"lines": [{"quantity": 0}]}, "lines"),
        ({"valid_until": "2001-01-01"}, "valid_until"),
        ({"colour": "red"}, "colour"),
        ({"status": "accepted"}, "status"),
    ],
)
def test_bad_quote_input_is_400_with_the_field_and_writes_nothing(seller, catalogue, payload, field):
    data = {"customer": seller["customer"].pk} | payload
    if field == "lines" and "quantity" in str(payload) and "product" not in str(payload):
        data["lines"] = [{"product": catalogue["vm"].pk, "quantity": 0}]
    response = api_as(seller["user"]).post("/api/v1/quotes/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Quote.objects.exists()


def test_another_partners_customer_cannot_be_quoted(seller, catalogue):
    other = make_partner(catalogue, slug="zulu")
    theirs = customer_of(other)
    response = create_quote(api_as(seller["user"]), theirs, [vm_line(catalogue)])
    assert response.status_code == 400
    assert "customer" in response.json()


# Isolation ------------------------------------------------------------------------------------------------

QUOTE_ACTIONS = ["submit", "approve", "reject", "return", "send", "accept", "decline", "revise"]


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_quote_is_absent_and_404_for_every_verb(catalogue, business_model, role):
    from tests.factories.quotes import quote_with_line

    mine = make_partner(catalogue, business_model)
    theirs = make_partner(catalogue)
    user = partner_user(mine, role)
    own = quote_with_line(mine, customer_of(mine, owner=user), created_by=user, product=catalogue["vm"])
    other = quote_with_line(theirs, customer_of(theirs), product=catalogue["vm"])
    client = api_as(user)
    listed = {row["id"] for row in client.get("/api/v1/quotes/?page_size=100").json()["results"]}
    assert own.pk in listed
    assert other.pk not in listed
    url = f"/api/v1/quotes/{other.pk}/"
    assert client.get(url).status_code == 404
    assert client.get(url + "document/").status_code == 404
    assert client.put(url, {"terms": "x"}, format="json").status_code == 404
    assert client.patch(url, {"terms": "x"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    for action in QUOTE_ACTIONS:
        assert client.post(f"{url}{action}/", {"reason": "x"}, format="json").status_code == 404, action
    other.refresh_from_db()
    assert (other.status, other.terms) == ("draft", "")


def test_rep_sees_own_quotes_not_colleagues(seller, catalogue):
    from tests.factories.quotes import quote_with_line

    rep = partner_user(seller["partner"], PartnerRole.REP)
    own = quote_with_line(seller["partner"], seller["customer"], created_by=rep, product=catalogue["vm"])
    colleagues = quote_with_line(
        seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"]
    )
    ids = {row["id"] for row in api_as(rep).get("/api/v1/quotes/").json()["results"]}
    assert ids == {own.pk}
    assert api_as(rep).get(f"/api/v1/quotes/{colleagues.pk}/").status_code == 404


def test_channel_manager_sees_granted_partners_only(seller, catalogue):
    from tests.factories.quotes import quote_with_line

    other = make_partner(catalogue, slug="zulu")
    granted = quote_with_line(seller["partner"], seller["customer"], product=catalogue["vm"])
    hidden = quote_with_line(other, customer_of(other), product=catalogue["vm"])
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[seller["partner"]])
    ids = {row["id"] for row in api_as(manager).get("/api/v1/quotes/").json()["results"]}
    assert granted.pk in ids and hidden.pk not in ids
    assert api_as(manager).get(f"/api/v1/quotes/{hidden.pk}/").status_code == 404


def test_white_label_drafts_are_hidden_from_the_parent_until_submitted(catalogue, desk):
    partner = make_partner(catalogue, BusinessModel.WHITE_LABEL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user, owner_partner=partner)
    quote = create_quote(api_as(user), customer, [vm_line(catalogue, discount="40")]).json()
    assert api_as(desk).get(f"/api/v1/quotes/{quote['id']}/").status_code == 404
    post(api_as(user), quote["id"], "submit")
    assert api_as(desk).get(f"/api/v1/quotes/{quote['id']}/").status_code == 200


def test_anonymous_is_401(api, catalogue):
    assert api.get("/api/v1/quotes/").status_code == 401
    assert api.get("/api/v1/price-books/").status_code == 401
    assert api.post("/api/v1/quotes/", {}).status_code == 401


@pytest.mark.parametrize("page_size", [1, 50])
def test_quote_list_query_count_is_constant(seller, catalogue, page_size):
    from tests.factories.quotes import QuoteLineFactory, quote_with_line

    for _ in range(55):
        quote = quote_with_line(
            seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"]
        )
        QuoteLineFactory(quote=quote, product=catalogue["disk"])
    client = api_as(seller["user"])
    client.get("/api/v1/quotes/?page_size=1")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/quotes/?page_size={page_size}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    # count, quotes (+customer, order), lines, products, product lines, the partner's own services
    assert len(queries) == 6, [q["sql"] for q in queries]


@pytest.mark.parametrize("page_size", [1, 50])
def test_price_book_list_query_count_is_constant(catalogue, seller, page_size):
    from tests.factories.quotes import PriceBookEntryFactory, PriceBookFactory

    for index in range(55):
        book = PriceBookFactory(name=f"Book {index}", is_default=False)
        PriceBookEntryFactory(price_book=book, product=catalogue["vm"])
    client = api_as(seller["user"])
    client.get("/api/v1/price-books/?page_size=1")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/price-books/?page_size={page_size}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    # count, books, entries, products
    assert len(queries) == 4, [q["sql"] for q in queries]


def test_price_books_list_entries(seller, catalogue):
    body = api_as(seller["user"]).get("/api/v1/price-books/").json()
    book = body["results"][0]
    assert book["currency"] == "USD"
    assert {e["sku"]: e["unit_price"] for e in book["entries"]} == {"DISK": "0.10", "SETUP": "2500.00", "VM": "45.00"}
    # Read-only for everybody: the parent maintains price books in the admin.
    assert api_as(seller["user"]).post("/api/v1/price-books/", {}).status_code == 405
    assert Decimal(book["entries"][0]["unit_price"]) >= 0


def test_parent_desk_quotes_for_a_partner(seller, catalogue, desk):
    response = create_quote(api_as(desk), seller["customer"], [vm_line(catalogue)], partner=seller["partner"].pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["prepared_by_parent"] is True
    assert body["partner"] == seller["partner"].pk
    # The partner sees it but does not edit what the parent prepared.
    assert (
        api_as(seller["user"]).patch(f"/api/v1/quotes/{body['id']}/", {"terms": "x"}, format="json").status_code == 403
    )
    missing = create_quote(api_as(desk), seller["customer"], [vm_line(catalogue)])
    assert missing.status_code == 400
    assert "partner" in missing.json()


def test_fraud_analyst_reads_quotes_but_cannot_decide(seller, catalogue):
    from tests.factories.quotes import quote_with_line

    quote = quote_with_line(seller["partner"], seller["customer"], status="pending_approval")
    analyst = parent_user(ParentRole.FRAUD_ANALYST)
    assert api_as(analyst).get(f"/api/v1/quotes/{quote.pk}/").status_code == 200
    assert post(api_as(analyst), quote.pk, "approve").status_code == 403
