import datetime
import random

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals import services, tasks
from deals.models import LEAD_TRANSITIONS, Lead, LeadOffer, LeadStatus, OfferStatus, Opportunity, RoutingRule
from partners.access import ParentRole, PartnerRole
from partners.models import AuditEvent, PartnerStatus
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, ProductLineFactory, ProgramTierFactory, parent_user, partner_user
from tests.factories.deals import LeadFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/leads/"


@pytest.fixture
def router(db):
    return parent_user(ParentRole.CHANNEL_MANAGER, username="router")


@pytest.fixture
def compute(db):
    return ProductLineFactory(code="compute")


def partner_in(country, *, expertise=(), tier=None, **kwargs):
    partner = PartnerFactory(country=country, territories=[country], **({"tier": tier} if tier else {}), **kwargs)
    partner.expertise.set(expertise)
    return partner


def test_routing_prefers_territory_and_expertise_then_territory_then_queue(router, compute):
    expert = partner_in("DE", expertise=[compute])
    local = partner_in("DE")
    partner_in("FR", expertise=[compute])
    router.groups.add(*[])
    admin = parent_user(ParentRole.ADMIN)
    lead = LeadFactory(country="DE", product_interest=compute)
    offer = services.lead_route(user=admin, lead=lead)
    assert offer.partner == expert
    # Declined by the expert: the next match is the local partner without the expertise.
    services.lead_decline(user=partner_user(expert, PartnerRole.REP), lead=lead, reason="No capacity")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.OFFERED and lead.partner == local
    # Declined again: nobody left, back to the parent's queue; the decliners are never re-offered.
    services.lead_decline(user=partner_user(local, PartnerRole.ADMIN), lead=lead, reason="Not our field")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.partner is None
    assert services.lead_route(user=admin, lead=lead) is None
    assert LeadOffer.objects.filter(lead=lead).count() == 2


def test_weighted_choice_by_tier(compute):
    admin = parent_user(ParentRole.ADMIN)
    gold = partner_in("US", tier=ProgramTierFactory(name="Heavy", rank=40, routing_weight=9))
    bronze = partner_in("US", tier=ProgramTierFactory(name="Light", rank=41, routing_weight=1))
    picks = {gold.pk: 0, bronze.pk: 0}
    rng = random.Random(7)
    for _ in range(40):
        lead = LeadFactory(country="US")
        picks[services.lead_route(user=admin, lead=lead, rng=rng).partner_id] += 1
    assert picks[gold.pk] > picks[bronze.pk] * 2


def test_rules_are_data(compute):
    admin = parent_user(ParentRole.ADMIN)
    a = partner_in("US")
    b = partner_in("US")
    rule = RoutingRule.objects.create(name="Only B for web leads in US", countries="US", source="web", priority=1)
    rule.partners.set([b])
    RoutingRule.objects.create(name="Territory", priority=5, require_expertise=False)
    assert services.lead_route(user=admin, lead=LeadFactory(country="US", source="web")).partner == b
    inactive = partner_in("US", status=PartnerStatus.SUSPENDED)
    for _ in range(5):
        assert services.lead_route(user=admin, lead=LeadFactory(country="US", source="campaign")).partner in (a, b)
    assert not LeadOffer.objects.filter(partner=inactive).exists()


def test_offer_deadline_from_the_partners_tier():
    admin = parent_user(ParentRole.ADMIN)
    partner = partner_in("US", tier=ProgramTierFactory(name="Fast", rank=50, lead_accept_hours=24))
    offer = services.lead_route(user=admin, lead=LeadFactory(country="US"))
    assert offer.partner == partner
    assert offer.deadline - offer.offered_at == datetime.timedelta(hours=24)


def test_partner_accepts_through_the_api_contact_shown_only_then(router):
    partner = partner_in("US")
    rep = partner_user(partner, PartnerRole.REP)
    lead = LeadFactory(country="US")
    services.lead_forward(user=parent_user(ParentRole.ADMIN), lead=lead, partner=partner)
    client = api_as(rep)
    before = client.get(f"{URL}{lead.pk}/").json()
    assert before["contact_hidden"] is True and before["contact_email"] is None and before["offer_deadline"]
    [row] = client.get(URL).json()["results"]
    assert row["contact_email"] is None
    response = client.post(f"{URL}{lead.pk}/accept/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "accepted" and body["contact_email"] == "pat@contact.example"
    opportunity = Opportunity.objects.get(lead=lead)
    assert opportunity.flow == "assigned_to_partner" and opportunity.partner == partner and opportunity.owner == rep
    assert body["opportunity"] == opportunity.pk


def test_decline_needs_a_reason_and_the_decliner_loses_sight(router):
    partner = partner_in("US")
    rep = partner_user(partner, PartnerRole.REP)
    lead = LeadFactory(country="US")
    services.lead_forward(user=parent_user(ParentRole.ADMIN), lead=lead, partner=partner)
    client = api_as(rep)
    assert client.post(f"{URL}{lead.pk}/decline/", {}).status_code == 400
    assert client.post(f"{URL}{lead.pk}/decline/", {"reason": "Too small"}).status_code == 200
    assert client.get(f"{URL}{lead.pk}/").status_code == 404
    offer = LeadOffer.objects.get(lead=lead, partner=partner)
    assert offer.status == OfferStatus.DECLINED and offer.decline_reason == "Too small"
    # A channel manager cannot forward it to the same partner again.
    with pytest.raises(ValidationError):
        services.lead_forward(user=parent_user(ParentRole.ADMIN), lead=lead, partner=partner)


def test_manual_forward_by_a_channel_manager_only_to_granted_partners():
    granted, other = partner_in("US"), partner_in("US")
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[granted])
    lead = LeadFactory(country="US")
    client = api_as(manager)
    assert client.post(f"{URL}{lead.pk}/forward/", {"partner": other.pk}).status_code == 400
    response = client.post(f"{URL}{lead.pk}/forward/", {"partner": granted.pk, "reason": "Local office"})
    assert response.status_code == 200, response.json()
    assert response.json()["partner"] == granted.pk
    # Partners may not route or forward.
    rep = partner_user(granted, PartnerRole.ADMIN)
    assert api_as(rep).post(f"{URL}{lead.pk}/forward/", {"partner": granted.pk}).status_code == 403
    assert api_as(rep).post(f"{URL}{lead.pk}/route/").status_code == 403


def test_expired_offer_is_rerouted_counted_as_a_miss_and_the_task_runs_twice_with_one_effect():
    first, second = partner_in("US"), partner_in("US")
    admin = parent_user(ParentRole.ADMIN)
    lead = LeadFactory(country="US")
    services.lead_forward(user=admin, lead=lead, partner=first)
    LeadOffer.objects.filter(lead=lead).update(deadline=timezone.now() - datetime.timedelta(minutes=1))
    assert tasks.expire_lead_offers() == 1
    assert tasks.expire_lead_offers() == 0
    offer = LeadOffer.objects.get(lead=lead, partner=first)
    assert tasks.expire_lead_offer(offer.pk) is False
    lead.refresh_from_db()
    assert lead.partner == second and lead.status == LeadStatus.OFFERED
    assert services.missed_offers([first.pk, second.pk]) == {first.pk: 1}
    assert AuditEvent.objects.filter(verb="lead.offer_missed").count() == 1
    # The second one also lets it expire: nobody is left, the lead goes back to the queue.
    LeadOffer.objects.filter(lead=lead, status="pending").update(deadline=timezone.now())
    assert tasks.expire_lead_offers() == 1
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.partner is None


def test_late_accept_is_refused():
    partner = partner_in("US")
    lead = LeadFactory(country="US")
    services.lead_forward(user=parent_user(ParentRole.ADMIN), lead=lead, partner=partner)
    LeadOffer.objects.filter(lead=lead).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    response = api_as(partner_user(partner, PartnerRole.REP)).post(f"{URL}{lead.pk}/accept/")
    assert response.status_code == 400
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.OFFERED


def test_create_in_queue_and_partner_own_lead(compute):
    manager = parent_user(ParentRole.CHANNEL_MANAGER)
    response = api_as(manager).post(
        URL, {"company_name": "Queue Co", "country": "US", "source": "web", "product_interest": "compute"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["partner"] is None and response.json()["status"] == "new"
    assert api_as(manager).post(URL, {"company_name": "X", "country": "US"}).status_code == 400  # source
    partner = partner_in("US")
    rep = partner_user(partner, PartnerRole.REP)
    own = api_as(rep).post(URL, {"company_name": "Mine", "country": "US", "contact_email": "a@b.example"}).json()
    assert own["partner"] == partner.pk and own["source"] == "partner"
    assert api_as(rep).post(f"{URL}{own['id']}/accept/").json()["status"] == "accepted"
    assert Opportunity.objects.get(lead_id=own["id"]).flow == "partner_managed"
    for body, field in (({"company_name": "Y", "country": "USA"}, "country"), ({"country": "US"}, "company_name")):
        bad = api_as(rep).post(URL, body)
        assert bad.status_code == 400 and field in bad.json()
    bad = api_as(rep).post(URL, {"company_name": "Y", "country": "US", "colour": "red"})
    assert bad.status_code == 400 and "colour" in bad.json()
    assert Lead.objects.count() == 2
    assert (
        api_as(partner_user(partner, PartnerRole.SUPPORT)).post(URL, {"company_name": "Z", "country": "US"}).status_code
        == 403
    )


# The lead state machine --------------------------------------------------------------------------


MOVES = {
    LeadStatus.OFFERED: lambda admin, rep, lead: services.lead_forward(user=admin, lead=lead, partner=partner_in("US")),
    LeadStatus.ACCEPTED: lambda admin, rep, lead: services.lead_accept(user=rep, lead=lead),
    LeadStatus.DISQUALIFIED: lambda admin, rep, lead: services.lead_disqualify(user=admin, lead=lead, reason="Spam"),
    LeadStatus.NEW: lambda admin, rep, lead: services.lead_decline(user=rep, lead=lead, reason="Busy"),
}
LEAD_MOVES = [(a, b) for a in LeadStatus for b in MOVES]


@pytest.mark.parametrize("current, target", LEAD_MOVES, ids=[f"{a.value}->{b.value}" for a, b in LEAD_MOVES])
def test_lead_state_machine(current, target):
    """Every move from every status. NEW -> ACCEPTED is legal for a partner's own lead only; a
    decline sends an offered lead back to the queue (NEW) when nobody else is eligible."""
    partner = partner_in("US")
    rep = partner_user(partner, PartnerRole.REP)
    admin = parent_user(ParentRole.ADMIN)
    own = current == LeadStatus.NEW and target == LeadStatus.ACCEPTED
    lead = LeadFactory(country="US", status=current, partner=partner if current != LeadStatus.NEW or own else None)
    if current == LeadStatus.OFFERED:
        LeadOffer.objects.create(lead=lead, partner=partner, deadline=timezone.now() + datetime.timedelta(hours=1))
    if target in LEAD_TRANSITIONS[current]:
        MOVES[target](admin, rep, lead)
        lead.refresh_from_db()
        assert lead.status == target
    else:
        with pytest.raises((ValidationError, PermissionDenied)):
            MOVES[target](admin, rep, lead)
        lead.refresh_from_db()
        assert lead.status == current
    if lead.status != LeadStatus.NEW:  # Routing by the rules starts from the queue only.
        with pytest.raises(ValidationError):
            services.lead_route(user=admin, lead=lead)


def test_disqualify_through_the_api():
    partner = partner_in("US")
    rep = partner_user(partner, PartnerRole.REP)
    own = api_as(rep).post(URL, {"company_name": "Junk", "country": "US"}).json()
    assert api_as(rep).post(f"{URL}{own['id']}/disqualify/", {}).status_code == 400
    assert (
        api_as(rep).post(f"{URL}{own['id']}/disqualify/", {"reason": "Test entry"}).json()["status"] == "disqualified"
    )
    offered = LeadFactory(country="US")
    services.lead_forward(user=parent_user(ParentRole.ADMIN), lead=offered, partner=partner)
    assert api_as(rep).post(f"{URL}{offered.pk}/disqualify/", {"reason": "x"}).status_code == 403
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner])
    assert api_as(manager).post(f"{URL}{offered.pk}/disqualify/", {"reason": "Duplicate"}).status_code == 200
    assert LeadOffer.objects.get(lead=offered).status == OfferStatus.WITHDRAWN


# Isolation, query counts, anonymous --------------------------------------------------------------


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_lead_is_absent_and_404_for_every_verb(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    user = partner_user(mine, role)
    own = LeadFactory(partner=mine, status=LeadStatus.ACCEPTED, owner=user)
    other = LeadFactory(partner=PartnerFactory(), status=LeadStatus.OFFERED)
    queued = LeadFactory()
    client = api_as(user)
    listed = {row["id"] for row in client.get(f"{URL}?page_size=100").json()["results"]}
    assert own.pk in listed and other.pk not in listed and queued.pk not in listed
    for lead in (other, queued):
        url = f"{URL}{lead.pk}/"
        assert client.get(url).status_code == 404
        assert client.put(url, {"company_name": "x"}).status_code == 404
        assert client.patch(url, {"company_name": "x"}).status_code == 404
        assert client.delete(url).status_code == 404
        for verb in ("accept", "decline", "route", "forward", "disqualify"):
            assert client.post(f"{url}{verb}/", {"reason": "x", "partner": mine.pk}).status_code == 404
    other.refresh_from_db()
    assert other.status == LeadStatus.OFFERED and other.partner_id != mine.pk


def test_channel_manager_sees_the_queue_and_granted_partners_only():
    granted, other = PartnerFactory(), PartnerFactory()
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[granted])
    queued, mine, theirs = LeadFactory(), LeadFactory(partner=granted), LeadFactory(partner=other)
    ids = {row["id"] for row in api_as(manager).get(URL).json()["results"]}
    assert ids == {queued.pk, mine.pk}
    assert api_as(manager).get(f"{URL}{theirs.pk}/").status_code == 404


@pytest.mark.parametrize("page_size", [1, 50])
def test_lead_list_query_count_is_constant(page_size):
    partner = PartnerFactory()
    admin = partner_user(partner, PartnerRole.ADMIN)
    for index in range(55):
        lead = LeadFactory(partner=partner, status=LeadStatus.OFFERED)
        LeadOffer.objects.create(lead=lead, partner=partner, deadline=timezone.now() + datetime.timedelta(hours=index))
    counts = []
    for user in (admin, parent_user(ParentRole.ADMIN)):
        client = api_as(user)
        client.get(f"{URL}?page_size=1")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{URL}?page_size={page_size}")
        assert len(response.json()["results"]) == page_size
        counts.append(len(queries))
    assert max(counts) <= 6, counts


def test_anonymous_is_401(api):
    assert api.get(URL).status_code == 401


def test_a_lead_created_with_route_is_offered_after_commit(django_capture_on_commit_callbacks):
    partner = partner_in("US")
    manager = parent_user(ParentRole.MARKETING)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(manager).post(
            URL, {"company_name": "Auto", "country": "US", "source": "campaign", "route": True}
        )
    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.status == LeadStatus.OFFERED and lead.partner == partner
