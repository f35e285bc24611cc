"""Issue 8, item 6: a white-label partner bundles its own services into its quotes: on its documents
only, never ordered, provisioned or commissioned, outside the discount rules."""

from decimal import Decimal

import pytest

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from quotes import services
from quotes.models import Order, ProvisioningRequest, Quote, QuoteServiceLine
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user
from tests.quotes.conftest import make_partner
from tests.quotes.test_orders_api import post, vm_line

SERVICE = {"description": "On-site installation", "quantity": 2, "unit_price": "150.00", "tax_category": "services-20"}


def white_label_quote(catalogue, **agreement):
    partner = make_partner(catalogue, BusinessModel.WHITE_LABEL, display_name="Wingtip Cloud", **agreement)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user, owner_partner=partner)
    created = api_as(user).post(
        "/api/v1/quotes/", {"customer": customer.pk, "lines": [vm_line(catalogue)]}, format="json"
    )
    assert created.status_code == 201, created.json()
    return partner, user, customer, created.json()["id"]


def test_white_label_adds_its_own_services_outside_the_parents_total(catalogue):
    partner, user, _customer, quote_id = white_label_quote(catalogue)
    client = api_as(user)
    response = client.post(f"/api/v1/quotes/{quote_id}/add-service-line/", SERVICE, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["total"] == "90.00" and body["services_total"] == "300.00"
    assert body["service_lines"][0]["tax_category"] == "services-20"
    # Its document shows them, in its own brand, with the customer's grand total.
    html = client.get(f"/api/v1/quotes/{quote_id}/document/").content.decode()
    assert "On-site installation" in html and "services-20" in html and "390.00" in html
    # A huge service price does not trip the parent's approval threshold or discount rules.
    client.post(f"/api/v1/quotes/{quote_id}/add-service-line/", SERVICE | {"unit_price": "99999.00"}, format="json")
    assert services.quote_approval_reasons(Quote.objects.get(pk=quote_id)) == []


def test_own_services_are_never_ordered_provisioned_or_commissioned(catalogue, django_capture_on_commit_callbacks):
    partner, user, _customer, quote_id = white_label_quote(
        catalogue, agreement__commission_model="on_close", agreement__commission_rate=Decimal("10.00")
    )
    client = api_as(user)
    client.post(f"/api/v1/quotes/{quote_id}/add-service-line/", SERVICE, format="json")
    Quote.objects.filter(pk=quote_id).update(status="accepted")
    order_id = client.post("/api/v1/orders/", {"quote": quote_id}, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, order_id, "submit").status_code == 200
    order = Order.objects.get(pk=order_id)
    assert order.total == Decimal("90.00") and order.lines.count() == 1
    payload = ProvisioningRequest.objects.get(order=order).payload
    assert "installation" not in str(payload).lower()
    assert partner.commissions.get().base_amount == Decimal("90.00")


def test_the_parent_never_sees_the_partners_own_services(catalogue):
    partner, user, customer, quote_id = white_label_quote(catalogue)
    api_as(user).post(f"/api/v1/quotes/{quote_id}/add-service-line/", SERVICE, format="json")
    from tests.factories.quotes import OrderFactory

    OrderFactory(partner=partner, customer=customer, status="submitted")  # the parent sees the pipeline now
    body = api_as(parent_user(ParentRole.SALES)).get(f"/api/v1/quotes/{quote_id}/").json()
    assert body["total"] == "90.00" and body["service_lines"] == [] and body["services_total"] is None


@pytest.mark.parametrize(
    "business_model", [m for m in BUSINESS_MODELS if m not in (BusinessModel.WHITE_LABEL, BusinessModel.REFERRAL)]
)
def test_other_agreements_cannot_add_own_services(catalogue, business_model):
    partner = make_partner(catalogue, business_model)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    quote = api_as(user).post("/api/v1/quotes/", {"customer": customer.pk}, format="json").json()
    response = api_as(user).post(f"/api/v1/quotes/{quote['id']}/add-service-line/", SERVICE, format="json")
    assert response.status_code == 403
    assert not QuoteServiceLine.objects.exists()


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_quote_services_are_404(catalogue, business_model, role):
    _partner, _user, _customer, quote_id = white_label_quote(catalogue)
    user = partner_user(PartnerFactory(business_model=business_model), role)
    assert api_as(user).post(f"/api/v1/quotes/{quote_id}/add-service-line/", SERVICE, format="json").status_code == 404
    assert not QuoteServiceLine.objects.exists()


def test_portal_adds_and_removes_a_service(catalogue, client):
    _partner, user, _customer, quote_id = white_label_quote(catalogue)
    client.force_login(user)
    assert "Your own services" in client.get(f"/portal/quotes/{quote_id}/").content.decode()
    client.post(f"/portal/quotes/{quote_id}/services/", SERVICE)
    line = QuoteServiceLine.objects.get()
    assert Quote.objects.get(pk=quote_id).services_total == Decimal("300.00")
    client.post(f"/portal/quotes/{quote_id}/services/{line.pk}/remove/")
    assert not QuoteServiceLine.objects.exists() and Quote.objects.get(pk=quote_id).services_total == 0


def test_a_revision_keeps_the_services(catalogue):
    _partner, user, _customer, quote_id = white_label_quote(catalogue)
    api_as(user).post(f"/api/v1/quotes/{quote_id}/add-service-line/", SERVICE, format="json")
    revised = api_as(user).post(f"/api/v1/quotes/{quote_id}/revise/", {}, format="json")
    assert revised.status_code in (200, 201), revised.json()
    assert revised.json()["services_total"] == "300.00"
