"""Issue 8, item 3: dual-model service intake by channel, and shared queues worked by both sides with
the hand-over history recording who took a case."""

import pytest

from cases import services
from cases.models import CaseHandover, CaseStatus, HandoverKind, Party, QueueKind
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, partner_user
from tests.factories.cases import CaseFactory, CaseQueueFactory

from .conftest import make_partner, people

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"


def test_a_case_the_parent_opens_for_a_dual_customer_belongs_to_the_parent(parent_support, client):
    """Today it landed in the partner's queue and the parent's own support got 403 on it."""
    partner = make_partner(BusinessModel.DUAL)
    agent, _rep, customer = people(partner)
    api = api_as(parent_support)
    opened = api.post(
        URL, {"origin": "phone", "category": "technical", "subject": "Called us", "customer": customer.pk}
    )
    assert opened.status_code == 201, opened.json()
    case_id = opened.json()["id"]
    assert opened.json()["owner_party"] == "parent"
    assert api.post(f"{URL}{case_id}/start-work/", {}).status_code == 200
    # The partner still sees the case of its customer, but does not work it.
    assert api_as(agent).get(f"{URL}{case_id}/").status_code == 200
    assert api_as(agent).post(f"{URL}{case_id}/start-work/", {}).status_code == 403


def test_the_same_customer_contacting_the_partner_is_the_partners(client):
    partner = make_partner(BusinessModel.DUAL)
    agent, _rep, customer = people(partner)
    opened = api_as(agent).post(
        URL, {"origin": "phone", "category": "billing", "subject": "Called the partner", "customer": customer.pk}
    )
    assert opened.status_code == 201 and opened.json()["owner_party"] == "partner"


def test_portal_intake_by_the_parent_is_the_parents(parent_support, client):
    partner = make_partner(BusinessModel.DUAL)
    _agent, _rep, customer = people(partner)
    client.force_login(parent_support)
    response = client.post(
        "/portal/cases/new/",
        {
            "origin": "email",
            "category": "technical",
            "subject": "Mailed us",
            "customer": customer.pk,
            "priority": "normal",
        },
    )
    assert response.status_code == 302
    case = customer.cases.get()
    assert case.owner_party == Party.PARENT and case.queue.kind == QueueKind.PARENT


@pytest.mark.parametrize(
    "business_model, expected",
    [
        (BusinessModel.REFERRAL, Party.PARENT),
        (BusinessModel.REGISTRATION_PARENT, Party.PARENT),
        (BusinessModel.REGISTRATION_RETENTION, Party.PARTNER),
        (BusinessModel.DUAL, Party.PARENT),
        (BusinessModel.WHITE_LABEL, Party.PARTNER),
    ],
)
def test_parent_intake_follows_the_service_model(business_model, expected, parent_support):
    partner = make_partner(business_model)
    _agent, _rep, customer = people(partner)
    case = services.case_open(
        user=parent_support, origin="phone", category="technical", subject="Intake", customer=customer
    )
    assert case.owner_party == expected


# Shared queues ---------------------------------------------------------------------------------------


def shared_case(business_model=BusinessModel.DUAL):
    partner = make_partner(business_model)
    agent, _rep, customer = people(partner)
    queue = CaseQueueFactory(kind=QueueKind.SHARED, partner=partner, name="Shared desk")
    case = CaseFactory(partner=partner, customer=customer, queue=queue, owner_party=Party.PARTNER)
    return partner, agent, case


def test_the_parent_picks_up_a_case_from_a_shared_queue(parent_support):
    _partner, agent, case = shared_case()
    response = api_as(parent_support).post(f"{URL}{case.pk}/start-work/", {})
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.owner_party == Party.PARENT and case.assignee == parent_support
    taken = CaseHandover.objects.get(case=case)
    assert taken.kind == HandoverKind.TAKE and taken.by == parent_support
    assert (taken.from_party, taken.to_party) == (Party.PARTNER, Party.PARENT)
    # Taken: the partner's agent cannot take it over now.
    assert api_as(agent).post(f"{URL}{case.pk}/start-work/", {}).status_code == 403


def test_the_partner_picks_up_a_case_from_a_shared_queue(parent_support):
    _partner, agent, case = shared_case()
    case.owner_party = Party.PARENT
    case.save()
    assert api_as(agent).post(f"{URL}{case.pk}/start-work/", {}).status_code == 200
    case.refresh_from_db()
    assert case.owner_party == Party.PARTNER and case.status == CaseStatus.IN_PROGRESS
    taken = CaseHandover.objects.get(case=case)
    assert taken.by == agent and taken.to_party == Party.PARTNER
    # The partner's agent works it to the end, whatever its category.
    assert api_as(agent).post(f"{URL}{case.pk}/resolve/", {"resolution": "Fixed"}).status_code == 200
    assert api_as(parent_support).post(f"{URL}{case.pk}/start-work/", {}).status_code == 403


def test_assigning_from_a_shared_queue_to_the_other_side_records_it(parent_support):
    _partner, agent, case = shared_case()
    response = api_as(agent).post(f"{URL}{case.pk}/assign/", {"assignee": parent_support.pk})
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.owner_party == Party.PARENT and case.assignee == parent_support
    assert CaseHandover.objects.get(case=case).by == agent


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_shared_queue_case_is_404(business_model, role):
    _partner, _agent, case = shared_case()
    user = partner_user(PartnerFactory(business_model=business_model), role)
    client = api_as(user)
    assert client.get(f"{URL}{case.pk}/").status_code == 404
    assert client.post(f"{URL}{case.pk}/start-work/", {}).status_code == 404
    assert client.post(f"{URL}{case.pk}/assign/", {"assignee": user.pk}).status_code == 404
    case.refresh_from_db()
    assert case.assignee is None and not CaseHandover.objects.exists()


def test_a_rep_cannot_pick_up_from_a_shared_queue():
    partner, _agent, case = shared_case()
    rep = partner_user(partner, PartnerRole.REP)
    case.created_by = rep
    case.save()
    assert api_as(rep).post(f"{URL}{case.pk}/start-work/", {}).status_code == 403


def test_portal_shared_queue_lists_the_case_for_both_sides_and_the_parent_takes_it(parent_support, client):
    _partner, agent, case = shared_case()
    for user in (agent, parent_support):
        client.force_login(user)
        page = client.get("/portal/cases/?view=shared").content.decode()
        assert case.subject in page, user
        assert "Start work" in client.get(f"/portal/cases/{case.pk}/").content.decode(), user
    client.force_login(parent_support)
    client.post(f"/portal/cases/{case.pk}/start-work/")
    case.refresh_from_db()
    assert case.owner_party == Party.PARENT and case.assignee == parent_support
    assert CaseHandover.objects.get(case=case).kind == HandoverKind.TAKE
