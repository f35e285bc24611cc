"""An order placed for a deals opportunity tells the opportunity, and one sale pays one commission."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from deals.models import Opportunity
from deals.services import opportunity_mark_won
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.models import Commission
from quotes.models import Order, QuoteStatus
from tests.conftest import api_as
from tests.factories import customer_of, partner_user
from tests.factories.deals import OpportunityFactory
from tests.factories.quotes import quote_with_line
from tests.quotes.conftest import make_partner
from tests.quotes.test_orders_api import post


def order_for(client, catalogue, partner, customer, user, opportunity_ref):
    """An accepted quote for the opportunity, and the order placed from it."""
    quote = quote_with_line(
        partner,
        customer,
        created_by=user,
        product=catalogue["vm"],
        quantity=2,
        status=QuoteStatus.ACCEPTED,
        opportunity_ref=opportunity_ref,
        price_book=catalogue["book"],
    )
    response = client.post("/api/v1/orders/", {"quote": quote.pk}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_order_for_an_opportunity_pays_one_closed_deal_commission(catalogue, django_capture_on_commit_callbacks):
    partner = make_partner(catalogue, BusinessModel.DUAL)  # 8% on close
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    opportunity = OpportunityFactory(partner=partner, customer=customer, amount=Decimal("90.00"))
    client = api_as(user)
    order_id = order_for(client, catalogue, partner, customer, user, f"opportunity:{opportunity.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, order_id, "submit").status_code == 200
    assert client.get(f"/api/v1/orders/{order_id}/").json()["status"] == "fulfilled"
    opportunity.refresh_from_db()
    assert opportunity.order_placed_at is not None
    entry = Commission.objects.get(partner=partner, source="closed_deal")
    assert entry.source_ref == f"opportunity:{opportunity.pk}" and entry.amount == Decimal("7.20")

    # Fulfilment closed the opportunity as won at the order's value; it cannot be won twice.
    assert opportunity.stage == "closed_won" and opportunity.amount == Decimal("90.00")
    with pytest.raises(ValidationError):
        opportunity_mark_won(user=user, opportunity=opportunity)
    assert Commission.objects.filter(partner=partner, source="closed_deal").count() == 1


def test_an_opportunity_of_another_partner_is_not_linked(catalogue, django_capture_on_commit_callbacks):
    partner = make_partner(catalogue, BusinessModel.DUAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    foreign = OpportunityFactory()
    client = api_as(user)
    order_id = order_for(client, catalogue, partner, customer, user, f"opportunity:{foreign.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, order_id, "submit").status_code == 200
    assert Opportunity.objects.get(pk=foreign.pk).order_placed_at is None
    own = Order.objects.get(pk=order_id).opportunity
    assert own.pk != foreign.pk and own.partner == partner
    assert Commission.objects.get(partner=partner, source="closed_deal").source_ref == f"opportunity:{own.pk}"
