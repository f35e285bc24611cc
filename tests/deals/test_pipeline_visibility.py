"""Issue 8, item 4: `pipeline_visibility = after_order` covers every pipeline record of the partner
(leads, registrations before submission, opportunities, quotes) until an order is placed for that
customer, in the API, the portal and the admin; a status-only partner sees a quote's status only."""

from decimal import Decimal

import pytest

from deals import services
from deals.models import OpportunityFlow
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from quotes.models import OrderStatus, QuoteStatus
from tests.conftest import BUSINESS_MODELS, api_as
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user
from tests.factories.deals import OpportunityFactory, registration_of
from tests.factories.quotes import OrderFactory, quote_with_line

pytestmark = pytest.mark.django_db


def pipeline_of(business_model, visibility):
    partner = PartnerFactory(business_model=business_model, agreement__pipeline_visibility=visibility)
    rep = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=rep)
    lead = services.lead_create(user=rep, company_name="Own Lead Co", country="US")
    draft = registration_of(rep, name="Draft Prospect", submit=False)
    opportunity = OpportunityFactory(partner=partner, customer=customer, flow=OpportunityFlow.PARTNER_MANAGED)
    quotes = [quote_with_line(partner, customer, created_by=rep, status=s) for s in (QuoteStatus.DRAFT, "sent")]
    return (
        partner,
        customer,
        {
            "leads": lead,
            "deal-registrations": draft,
            "opportunities": opportunity,
            "quotes": quotes[0],
            "quotes-sent": quotes[1],
        },
    )


PORTAL = {
    "leads": "/portal/deals/leads/{}/",
    "deal-registrations": "/portal/deals/registrations/{}/",
    "opportunities": "/portal/deals/opportunities/{}/",
    "quotes": "/portal/quotes/{}/",
    "quotes-sent": "/portal/quotes/{}/",
}
ADMIN = {
    "leads": "/admin/deals/lead/",
    "deal-registrations": "/admin/deals/dealregistration/",
    "opportunities": "/admin/deals/opportunity/",
    "quotes": "/admin/quotes/quote/",
    "quotes-sent": "/admin/quotes/quote/",
}


def _api(resource):
    return "/api/v1/" + resource.removesuffix("-sent") + "/"


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_after_order_hides_every_pipeline_record_until_an_order_is_placed(business_model, client):
    """Today the parent saw the partner's own leads, its draft registrations and its sent quotes."""
    partner, customer, records = pipeline_of(business_model, "after_order")
    admin = parent_user(ParentRole.ADMIN, superuser=True)
    api = api_as(admin)
    client.force_login(admin)
    for resource, obj in records.items():
        assert api.get(f"{_api(resource)}{obj.pk}/").status_code == 404, resource
        assert obj.pk not in {r["id"] for r in api.get(f"{_api(resource)}?page_size=100").json()["results"]}, resource
        assert client.get(PORTAL[resource].format(obj.pk)).status_code == 404, resource
        changelist = client.get(f"{ADMIN[resource]}?q=").content.decode()
        assert f"/{obj.pk}/change/" not in changelist, resource

    # An order placed for the customer (and the lead's own opportunity's order) opens it.
    OrderFactory(partner=partner, customer=customer, status=OrderStatus.SUBMITTED, total=Decimal("1"))
    lead_opportunity = services.lead_accept(user=records["leads"].owner, lead=records["leads"])
    services.opportunity_mark_order_placed(user=None, opportunity=lead_opportunity)
    for resource in ("opportunities", "quotes", "quotes-sent", "leads"):
        obj = records[resource]
        assert api.get(f"{_api(resource)}{obj.pk}/").status_code == 200, resource
    # A draft registration stays the partner's until it is submitted.
    assert api.get(f"/api/v1/deal-registrations/{records['deal-registrations'].pk}/").status_code == 404
    services.deal_registration_submit(user=records["leads"].owner, registration=records["deal-registrations"])
    assert api.get(f"/api/v1/deal-registrations/{records['deal-registrations'].pk}/").status_code == 200


def test_always_shows_the_parent_everything(client):
    _, _, records = pipeline_of(BusinessModel.DUAL, "always")
    admin = parent_user(ParentRole.ADMIN, superuser=True)
    api = api_as(admin)
    client.force_login(admin)
    for resource, obj in records.items():
        assert api.get(f"{_api(resource)}{obj.pk}/").status_code == 200, resource
        assert client.get(PORTAL[resource].format(obj.pk)).status_code == 200, resource
        assert f"/{obj.pk}/change/" in client.get(f"{ADMIN[resource]}?q=").content.decode(), resource


def test_a_quote_the_partner_asked_the_parent_to_approve_is_seen():
    partner = PartnerFactory(business_model=BusinessModel.WHITE_LABEL)
    rep = partner_user(partner, PartnerRole.ADMIN)
    quote = quote_with_line(partner, customer_of(partner, owner=rep), created_by=rep, status="pending_approval")
    assert api_as(parent_user(ParentRole.SALES)).get(f"/api/v1/quotes/{quote.pk}/").status_code == 200


# Status only means status only ---------------------------------------------------------------------


def test_a_referral_partner_sees_only_the_status_of_a_parent_priced_quote(client):
    """Today the referral partner saw the parent's quote with every line and price."""
    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    rep = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=rep, legal_name="Referred Buyer")
    quote = quote_with_line(partner, customer, status="sent", prepared_by_parent=True, quantity=3)
    body = api_as(rep).get(f"/api/v1/quotes/{quote.pk}/").json()
    assert body["status"] == "sent"
    assert not {"lines", "total", "subtotal", "terms", "header_discount_percent"} & set(body)
    listed = api_as(rep).get("/api/v1/quotes/").json()["results"]
    assert listed and not {"lines", "total"} & set(listed[0])
    client.force_login(rep)
    page = client.get(f"/portal/quotes/{quote.pk}/")
    assert page.status_code == 200
    assert str(quote.total) not in page.content.decode() and quote.lines.get().product.sku not in page.content.decode()
    assert client.get(f"/portal/quotes/{quote.pk}/document/").status_code == 403
    listing = client.get("/portal/quotes/").content.decode()
    assert "Referred Buyer" in listing and str(quote.total) not in listing


def test_a_referral_partner_sees_only_the_status_of_the_parents_order(client):
    from tests.factories.quotes import order_with_line

    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    rep = partner_user(partner, PartnerRole.ADMIN)
    order = order_with_line(partner, customer_of(partner, owner=rep), placed_by_parent=True, status="submitted")
    body = api_as(rep).get(f"/api/v1/orders/{order.pk}/")
    assert body.status_code == 200
    assert body.json()["status"] == "submitted" and not {"lines", "total", "rule_results"} & set(body.json())
    client.force_login(rep)
    page = client.get(f"/portal/quotes/orders/{order.pk}/")
    assert page.status_code == 200 and str(order.total) not in page.content.decode()
