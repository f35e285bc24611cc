"""Issue 8, item 2: a partner-created lead stays with its partner on every path; the parent can take a
queued lead for its own direct sales."""

import pytest
from django.core.exceptions import PermissionDenied

from deals import services, tasks
from deals.models import Lead, LeadOffer, LeadSource, LeadStatus, OpportunityFlow
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, parent_user, partner_user
from tests.factories.deals import LeadFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/leads/"


@pytest.fixture
def manager(db):
    return parent_user(ParentRole.SALES, username="lead-manager")


def own_lead(business_model):
    partner = PartnerFactory(business_model=business_model, agreement__pipeline_visibility="always")
    rep = partner_user(partner, PartnerRole.REP)
    PartnerFactory(slug="elsewhere-" + business_model)  # an eligible partner the lead could be routed to
    return partner, rep, services.lead_create(user=rep, company_name="Self Sourced Ltd", country="US")


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_a_partners_own_lead_cannot_be_routed_or_forwarded_away(business_model, manager, client):
    """Today a channel manager could route or forward it, and its owner then got 404."""
    partner, rep, lead = own_lead(business_model)
    other = PartnerFactory(slug="other-" + business_model)
    api = api_as(manager)
    assert api.post(f"{URL}{lead.pk}/route/").status_code == 403
    assert api.post(f"{URL}{lead.pk}/forward/", {"partner": other.pk}).status_code == 403
    assert api.post(f"{URL}{lead.pk}/disqualify/", {"reason": "mine now"}).status_code == 403
    client.force_login(manager)
    client.post(f"/portal/deals/leads/{lead.pk}/forward/", {"partner": other.pk})
    client.post(f"/portal/deals/leads/{lead.pk}/route/")
    client.force_login(parent_user(ParentRole.ADMIN, superuser=True))
    client.post("/admin/deals/lead/", {"action": "route", "_selected_action": [lead.pk]})
    assert tasks.route_lead(lead.pk) is False
    lead.refresh_from_db()
    assert lead.partner == partner and lead.status == LeadStatus.NEW and not LeadOffer.objects.exists()
    assert api_as(rep).get(f"{URL}{lead.pk}/").status_code == 200


def test_the_service_refuses_to_offer_a_partners_own_lead(manager):
    _, _, lead = own_lead(BusinessModel.DUAL)
    with pytest.raises(PermissionDenied):
        services.lead_forward(user=manager, lead=lead, partner=PartnerFactory())
    with pytest.raises(PermissionDenied):
        services.lead_route(user=manager, lead=lead)


def test_the_parent_takes_a_queued_lead_for_direct_sales(manager, client):
    lead = LeadFactory(source=LeadSource.CAMPAIGN)
    response = api_as(manager).post(f"{URL}{lead.pk}/take/")
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ACCEPTED and lead.partner is None and lead.owner == manager
    opportunity = lead.opportunity
    assert opportunity.flow == OpportunityFlow.DIRECT and opportunity.partner is None and opportunity.owner == manager
    # Only once, and only from the queue.
    assert api_as(manager).post(f"{URL}{lead.pk}/take/").status_code == 400
    offered = LeadFactory()
    services.lead_forward(user=manager, lead=offered, partner=PartnerFactory())
    assert api_as(manager).post(f"{URL}{offered.pk}/take/").status_code == 400
    # In the portal too.
    queued = LeadFactory()
    client.force_login(manager)
    response = client.post(f"/portal/deals/leads/{queued.pk}/take/")
    assert response.status_code == 302 and Lead.objects.get(pk=queued.pk).status == LeadStatus.ACCEPTED


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_partners_cannot_take_leads(business_model, role):
    lead = LeadFactory()
    user = partner_user(PartnerFactory(business_model=business_model), role)
    assert api_as(user).post(f"{URL}{lead.pk}/take/").status_code == 404
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_marketing_staff_route_but_do_not_take(client):
    marketing = parent_user(ParentRole.MARKETING)
    lead = LeadFactory()
    assert api_as(marketing).post(f"{URL}{lead.pk}/take/").status_code == 403
