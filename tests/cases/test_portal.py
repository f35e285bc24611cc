"""Portal pages: my queue, the shared queue, opening a case, the case page with its actions, SLA
countdown colours, and the parent's hand-over history."""

import datetime

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, QueueKind
from partners.access import ParentRole
from partners.agreement import BusinessModel
from tests.cases.conftest import make_partner, people
from tests.factories import parent_user
from tests.factories.cases import CaseQueueFactory, RoutingRuleFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db


def test_my_queue_and_shared_queue(client):
    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    shared = CaseQueueFactory(kind=QueueKind.SHARED, partner=partner, name="Shared desk")
    RoutingRuleFactory(order=1, category="complaint", target_partner_queue=QueueKind.SHARED)
    mine = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="Mine")
    services.case_assign(user=agent, case=mine, assignee=agent)
    in_shared = services.case_open(user=agent, customer=customer, origin="web", category="complaint", subject="Loud")
    assert in_shared.queue == shared
    client.force_login(agent)
    # The default list is the agent's open work: assigned to them, and the case they just opened.
    page = client.get("/portal/cases/").content.decode()
    assert "Mine" in page and "Loud" in page and "My open work" in page
    page = client.get("/portal/cases/?view=mine").content.decode()
    assert "Mine" in page and "Loud" not in page
    page = client.get("/portal/cases/?view=shared").content.decode()
    assert "Loud" in page and "Mine" not in page
    page = client.get("/portal/cases/?view=all&search=Lou", HTTP_HX_REQUEST="true").content.decode()
    assert "Loud" in page and "<html" not in page
    assert "Shared desk" in client.get("/portal/cases/queues/").content.decode()


def test_open_a_case_in_the_portal_and_escalate_it(client, parent_support):
    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    client.force_login(agent)
    assert client.get("/portal/cases/new/").status_code == 200
    response = client.post(
        "/portal/cases/new/",
        {"customer": customer.pk, "origin": "phone", "category": "technical", "priority": "high", "subject": "VPN"},
    )
    assert response.status_code == 302
    case = Case.objects.get(subject="VPN")
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "Escalate to" in page and "Resolve" not in page  # technical: the parent's, under "either"
    response = client.post(f"/portal/cases/{case.pk}/escalate/", {"reason": "Needs network team"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner_party == "parent"
    # The parent sees the hand-over history and can hand it back.
    client.force_login(parent_support)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "Hand-over history" in page and "Needs network team" in page and "Hand back to" in page
    client.post(f"/portal/cases/{case.pk}/hand-back/", {"reason": "Partner can fix"})
    case.refresh_from_db()
    assert case.owner_party == "partner"
    # Handed back, the partner works it even though it is technical.
    client.force_login(agent)
    client.post(f"/portal/cases/{case.pk}/start-work/")
    client.post(f"/portal/cases/{case.pk}/resolve/", {"resolution": "Fixed the proxy"})
    case.refresh_from_db()
    assert case.status == "resolved"


def test_portal_actions_resolve_and_comment(client):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="Invoice")
    client.force_login(agent)
    client.post(f"/portal/cases/{case.pk}/assign/", {"assignee": "me"})
    client.post(f"/portal/cases/{case.pk}/start-work/")
    client.post(f"/portal/cases/{case.pk}/comments/", {"body": "We are on it", "visibility": "shared"})
    response = client.post(f"/portal/cases/{case.pk}/resolve/", {"resolution": ""}, follow=True)
    assert "Say how the case was resolved" in response.content.decode()
    client.post(f"/portal/cases/{case.pk}/resolve/", {"resolution": "Credited"})
    case.refresh_from_db()
    assert case.status == "resolved" and case.assignee == agent and case.first_response_at is not None
    assert "We are on it" in client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert client.get(f"/portal/cases/{case.pk}/bogus/").status_code == 405
    assert client.post(f"/portal/cases/{case.pk}/bogus/").status_code == 404


def test_rep_and_marketing_cannot_work_in_portal(client):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = services.case_open(user=rep, customer=customer, origin="web", category="billing", subject="Mine")
    client.force_login(rep)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "Start work" not in page
    assert client.post(f"/portal/cases/{case.pk}/start-work/").status_code == 403


@pytest.mark.parametrize("minutes_left, colour", [(600, "ok"), (30, "warn"), (-5, "bad")])
def test_sla_countdown_changes_colour_before_a_breach(client, minutes_left, colour):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    SlaPolicyFactory(priority="normal", first_response_minutes=10, resolution_minutes=100000, warn_before_minutes=60)
    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="Clock")
    Case.objects.filter(pk=case.pk).update(
        resolution_due_at=timezone.now() + datetime.timedelta(minutes=minutes_left), first_response_at=timezone.now()
    )
    client.force_login(agent)
    fragment = client.get(f"/portal/cases/{case.pk}/sla/").content.decode()
    assert f'class="badge {colour}" data-sla="resolution" data-state="{colour}"' in fragment
    assert 'hx-trigger="every 60s"' in fragment
    assert f'data-state="{colour}"' in client.get("/portal/cases/?view=all").content.decode()


def test_white_label_partner_never_sees_the_parent_name(client, settings):
    partner = make_partner(BusinessModel.WHITE_LABEL, display_name="Wingtip Cloud")
    agent, rep, customer = people(partner)
    parent = parent_user(ParentRole.SUPPORT)
    case = services.case_open(user=agent, customer=customer, origin="web", category="technical", subject="W")
    case = services.case_escalate(user=agent, case=case, reason="deep issue")
    services.case_comment_add(user=parent, case=case, body="Looking", visibility="shared")
    client.force_login(agent)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert settings.PARENT_COMPANY_NAME not in page
    assert parent.username not in page
    assert settings.PARENT_COMPANY_NAME not in client.get("/portal/cases/?view=all").content.decode()


@pytest.mark.parametrize("view", ["mine", "all"])
def test_portal_case_list_query_count_does_not_grow_with_rows(client, view):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    SlaPolicyFactory(priority="normal")
    client.force_login(agent)

    def count():
        client.get(f"/portal/cases/?view={view}")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/portal/cases/?view={view}").status_code == 200
        return len(queries)

    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="one")
    services.case_assign(user=agent, case=case, assignee=agent)
    few = count()
    for i in range(30):
        case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject=f"n{i}")
        services.case_assign(user=agent, case=case, assignee=agent)
    assert count() == few
