"""Issue 8, item 5: an order is tied to its opportunity by a foreign key; fulfilment closes the
opportunity (and registration) as won at the order's value; one sale accrues one commission, keyed on
the opportunity, whichever path booked it."""

from decimal import Decimal

import pytest

from deals import services as deal_services
from deals.models import Opportunity, OpportunityStage, RegistrationStatus
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import Commission
from quotes.models import Order, Quote, QuoteStatus
from tests.conftest import api_as
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user
from tests.factories.deals import OpportunityFactory, registration_of
from tests.quotes.conftest import make_partner
from tests.quotes.test_orders_api import create_order, post, vm_line

# business model -> the closed-deal commission on an order of 90.00 (None: the agreement pays none)
ON_CLOSE = {
    BusinessModel.REGISTRATION_PARENT: Decimal("9.00"),
    BusinessModel.REGISTRATION_RETENTION: None,
    BusinessModel.DUAL: Decimal("7.20"),
    BusinessModel.WHITE_LABEL: None,
}


@pytest.fixture
def reviewer(db):
    return parent_user(ParentRole.SALES, username="proof-reviewer")


def _fulfil(client, order_id, capture):
    with capture(execute=True):
        response = post(client, order_id, "submit")
    assert response.status_code == 200, response.json()
    order = Order.objects.get(pk=order_id)
    assert order.status == "fulfilled"
    return order


@pytest.mark.parametrize("business_model", list(ON_CLOSE))
def test_quote_from_a_registration_orders_close_it_with_one_commission(
    business_model, catalogue, reviewer, django_capture_on_commit_callbacks
):
    """Today: only the free-text opportunity_ref linked an order to its sale, and a fulfilled order
    left the opportunity and the registration open."""
    partner = make_partner(catalogue, business_model)
    rep = partner_user(partner, PartnerRole.ADMIN)
    registration = registration_of(rep, name=f"Proof {business_model}", products=[catalogue["vm"]])
    deal_services.deal_registration_approve(user=reviewer, registration=registration)
    registration.refresh_from_db()
    opportunity = registration.opportunity
    client = api_as(rep)

    created = client.post(
        "/api/v1/quotes/",
        {"customer": registration.customer_id, "registration": registration.pk, "lines": [vm_line(catalogue)]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["opportunity"] == opportunity.pk
    Quote.objects.filter(pk=created.json()["id"]).update(status=QuoteStatus.ACCEPTED)
    ordered = client.post("/api/v1/orders/", {"quote": created.json()["id"]}, format="json")
    assert ordered.status_code == 201 and ordered.json()["opportunity"] == opportunity.pk

    _fulfil(client, ordered.json()["id"], django_capture_on_commit_callbacks)

    opportunity.refresh_from_db()
    registration.refresh_from_db()
    assert opportunity.stage == OpportunityStage.CLOSED_WON and opportunity.amount == Decimal("90.00")
    assert registration.status == RegistrationStatus.WON
    entries = Commission.objects.filter(partner=partner, source="closed_deal")
    if ON_CLOSE[business_model] is None:
        assert not entries.exists()
    else:
        assert [(e.source_ref, e.amount) for e in entries] == [
            (f"opportunity:{opportunity.pk}", ON_CLOSE[business_model])
        ]


def test_a_quote_for_another_partners_opportunity_or_registration_is_refused(catalogue, reviewer):
    partner = make_partner(catalogue, BusinessModel.DUAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    foreign = OpportunityFactory(partner=PartnerFactory())
    other_rep = partner_user(PartnerFactory(), PartnerRole.REP)
    foreign_registration = registration_of(other_rep, name="Someone Else's")
    client = api_as(user)
    for field, value in (("opportunity", foreign.pk), ("registration", foreign_registration.pk)):
        response = client.post("/api/v1/quotes/", {"customer": customer.pk, field: value}, format="json")
        assert response.status_code == 400 and field in response.json()
    assert not Quote.objects.exists()


def test_direct_order_chooses_its_opportunity_scoped(catalogue, django_capture_on_commit_callbacks):
    partner = make_partner(catalogue, BusinessModel.DUAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    first = OpportunityFactory(partner=partner, customer=customer, amount=Decimal("50.00"))
    second = OpportunityFactory(partner=partner, customer=customer, amount=Decimal("70.00"))
    foreign = OpportunityFactory(partner=PartnerFactory())
    client = api_as(user)

    # Two open opportunities for the customer: the order must say which sale it is.
    ambiguous = create_order(client, customer, [vm_line(catalogue)])
    assert ambiguous.status_code == 400 and "opportunity" in ambiguous.json()
    assert create_order(client, customer, [vm_line(catalogue)], opportunity=foreign.pk).status_code == 400

    order = create_order(client, customer, [vm_line(catalogue)], opportunity=second.pk)
    assert order.status_code == 201 and order.json()["opportunity"] == second.pk
    _fulfil(client, order.json()["id"], django_capture_on_commit_callbacks)
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.stage == OpportunityStage.CLOSED_WON and second.amount == Decimal("90.00")
    assert first.is_open
    # With one open opportunity left, a direct order is for it.
    order = create_order(client, customer, [vm_line(catalogue)])
    assert order.json()["opportunity"] == first.pk


def test_one_sale_one_commission_whichever_path_books_it_first(catalogue, django_capture_on_commit_callbacks):
    partner = make_partner(catalogue, BusinessModel.DUAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    opportunity = OpportunityFactory(partner=partner, customer=customer, amount=Decimal("90.00"), owner=user)
    order = create_order(api_as(user), customer, [vm_line(catalogue)], opportunity=opportunity.pk).json()
    # The seller marks the opportunity won before the order is fulfilled.
    deal_services.opportunity_mark_won(user=user, opportunity=opportunity)
    assert Order.objects.get(pk=order["id"]).opportunity_id == opportunity.pk
    # The order still goes through (its opportunity is won), and accrues nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api_as(user), order["id"], "submit").status_code == 200
    assert Commission.objects.filter(partner=partner, source="closed_deal").count() == 1
    assert Commission.objects.get(partner=partner, source="closed_deal").source_ref == f"opportunity:{opportunity.pk}"


def test_a_referral_entered_as_an_opportunity_earns_the_referral_fee_when_the_parent_wins_it(reviewer):
    """Today: only a referral registration paid the referral fee; the same referral entered as an
    opportunity and won by the parent paid nothing."""
    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    rep = partner_user(partner, PartnerRole.REP)
    created = api_as(rep).post(
        "/api/v1/opportunities/",
        {"name": "Referred deal", "amount": "1000", "prospect_name": "Fresh Prospect GmbH", "prospect_country": "DE"},
    )
    assert created.status_code == 201, created.json()
    opportunity = Opportunity.objects.get(pk=created.json()["id"])
    assert opportunity.managed_by == "parent"
    won = api_as(reviewer).post(f"/api/v1/opportunities/{opportunity.pk}/mark-won/", {})
    assert won.status_code == 200, won.json()
    fee = Commission.objects.get(partner=partner)
    assert fee.source == "referral" and fee.source_ref == f"opportunity:{opportunity.pk}"
    assert fee.amount == Decimal("500.00")
    # Like a referral registration, the win creates the customer, the parent's, referred by the partner.
    opportunity.refresh_from_db()
    customer = opportunity.customer
    assert customer.legal_name == "Fresh Prospect GmbH" and customer.owner_partner is None
    assert customer.relationships.get().partner == partner
    assert api_as(rep).get(f"/api/v1/customers/{customer.pk}/").json()["status"] in ("prospect", "active")


def test_a_won_prospect_that_exists_already_is_linked_not_duplicated(reviewer):
    from partners.models import Customer

    existing = Customer.objects.create(legal_name="Known Account", domain="known.example", country="US")
    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    rep = partner_user(partner, PartnerRole.REP)
    opportunity = deal_services.opportunity_create(
        user=rep, name="Known", amount=Decimal("10"), prospect_name="Known Account Inc", prospect_country="US"
    )
    deal_services.opportunity_mark_won(user=reviewer, opportunity=opportunity)
    opportunity.refresh_from_db()
    assert opportunity.customer == existing and Customer.objects.count() == 1


def test_a_referral_registration_pays_its_fee_once_even_when_its_opportunity_is_won(reviewer):
    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name="Referred Once")
    deal_services.deal_registration_approve(user=reviewer, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    deal_services.opportunity_mark_won(user=reviewer, opportunity=opportunity, amount=Decimal("100"))
    assert list(Commission.objects.filter(partner=partner).values_list("source_ref", flat=True)) == [
        f"deal-registration:{registration.pk}"
    ]


def test_portal_quote_form_offers_the_opportunity(client, catalogue):
    partner = make_partner(catalogue, BusinessModel.DUAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    opportunity = OpportunityFactory(partner=partner, customer=customer)
    client.force_login(user)
    page = client.get(f"/portal/quotes/new/?opportunity={opportunity.pk}")
    assert page.status_code == 200 and f'value="{opportunity.pk}" selected' in page.content.decode()
    response = client.post(
        "/portal/quotes/new/", {"customer": customer.pk, "opportunity": opportunity.pk, "header_discount_percent": "0"}
    )
    assert response.status_code == 302
    assert Quote.objects.get().opportunity == opportunity


def test_the_parent_cannot_quote_or_order_for_a_partner_on_another_partners_customer(catalogue, desk):
    mine = make_partner(catalogue, BusinessModel.DUAL)
    theirs = make_partner(catalogue, BusinessModel.REGISTRATION_RETENTION)
    customer = customer_of(theirs, owner_partner=theirs)
    api = api_as(desk)
    quote = api.post("/api/v1/quotes/", {"customer": customer.pk, "partner": mine.pk}, format="json")
    assert quote.status_code == 400 and "customer" in quote.json()
    order = create_order(api, customer, [vm_line(catalogue)], partner=mine.pk)
    assert order.status_code == 400 and "customer" in order.json()
    assert not Order.objects.exists() and not Quote.objects.exists()
