"""The admin's case list (filters, bulk assign through the service) and the demo seed."""

import pytest

from cases.models import Case, CaseHandover, Party
from partners.access import ParentRole
from partners.agreement import BusinessModel, ServiceModel
from tests.cases.conftest import make_partner, people
from tests.factories import parent_user

pytestmark = pytest.mark.django_db


def test_admin_filters_and_bulk_assign(client, parent_support):
    from cases import services

    partner = make_partner(BusinessModel.REGISTRATION_PARENT)
    agent, rep, customer = people(partner)
    cases = [
        services.case_open(user=agent, customer=customer, origin="web", category="billing", subject=f"A{i}")
        for i in range(3)
    ]
    Case.objects.filter(pk=cases[0].pk).update(sla_breached=True)
    admin_user = parent_user(ParentRole.ADMIN, superuser=True)
    client.force_login(admin_user)
    for query in (
        "",
        "?breached=yes",
        "?status__exact=new",
        "?priority__exact=normal",
        f"?queue__id__exact={cases[0].queue_id}",
    ):
        assert client.get(f"/admin/cases/case/{query}").status_code == 200, query
    page = client.get("/admin/cases/case/?breached=yes").content.decode()
    assert "A0" in page and "A1" not in page
    response = client.post(
        "/admin/cases/case/",
        {
            "action": "assign_to_chosen",
            "_selected_action": [c.pk for c in cases[:2]],
            "assignee": parent_support.pk,
        },
    )
    assert response.status_code == 302
    assert list(Case.objects.filter(assignee=parent_support).order_by("pk").values_list("pk", flat=True)) == [
        cases[0].pk,
        cases[1].pk,
    ]
    assert Case.objects.get(pk=cases[0].pk).status == "assigned"
    for url in ("casequeue", "routingrule", "slapolicy", "businesscalendar"):
        assert client.get(f"/admin/cases/{url}/").status_code == 200, url


def test_demo_seed_covers_every_service_model_and_is_idempotent(settings):
    from cases import demo as cases_demo
    from partners import demo as partners_demo

    context = partners_demo.seed()
    cases_demo.seed(context)
    count = Case.objects.count()
    cases_demo.seed(partners_demo.seed())
    assert Case.objects.count() == count
    assert set(Case.objects.values_list("service_model", flat=True)) == set(ServiceModel.values)
    assert set(Case.objects.exclude(partner=None).values_list("partner__slug", flat=True)) == {
        "northwind",
        "contoso",
        "fabrikam",
        "tailspin",
        "wingtip",
    }
    escalated = Case.objects.get(subject="Kubernetes cluster upgrade stuck")
    assert escalated.owner_party == Party.PARENT
    handed_back = Case.objects.get(subject="Firewall rule review")
    assert list(CaseHandover.objects.filter(case=handed_back).values_list("kind", flat=True)) == [
        "escalate",
        "hand_back",
    ]
    from django.utils import timezone

    near = Case.objects.get(subject="Storage quota reached, writes failing")
    assert 0 < (near.resolution_due_at - timezone.now()).total_seconds() < 3600


def test_queue_agents_belong_to_the_queues_party(parent_support):
    from django.core.exceptions import ValidationError

    from cases.models import QueueAgent, QueueKind
    from tests.factories.cases import CaseQueueFactory

    partner = make_partner(BusinessModel.DUAL)
    other = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    outsider = people(other)[0]
    partner_queue = CaseQueueFactory(kind=QueueKind.PARTNER, partner=partner)
    parent_queue = CaseQueueFactory(kind=QueueKind.PARENT, partner=None)
    QueueAgent(queue=partner_queue, user=agent).full_clean()
    QueueAgent(queue=parent_queue, user=parent_support).full_clean()
    for queue, user in ((partner_queue, outsider), (partner_queue, parent_support), (parent_queue, agent)):
        with pytest.raises(ValidationError):
            QueueAgent(queue=queue, user=user).full_clean()


def test_admin_queue_filter_lists_only_visible_queues(client):
    from cases.models import QueueKind
    from tests.factories.cases import CaseQueueFactory

    granted, hidden = make_partner(BusinessModel.DUAL), make_partner(BusinessModel.DUAL)
    CaseQueueFactory(kind=QueueKind.PARTNER, partner=granted, name="Granted desk")
    CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Parent desk")
    CaseQueueFactory(kind=QueueKind.PARTNER, partner=hidden, name="Hidden desk")
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[granted])
    from partners.roles import sync_parent_role_permissions

    sync_parent_role_permissions()
    client.force_login(manager)
    page = client.get("/admin/cases/case/").content.decode()
    assert "Granted desk" in page and "Parent desk" in page and "Hidden desk" not in page


def test_routing_rules_and_queues_are_saved_through_the_service_and_audited(client, parent_support):
    from cases.models import CaseQueue, QueueKind, RoutingRule
    from partners.models import AuditEvent
    from partners.roles import sync_parent_role_permissions

    sync_parent_role_permissions()
    queue = CaseQueue.objects.create(name="Tier 2", kind=QueueKind.PARENT)
    client.force_login(parent_support)
    response = client.post(
        "/admin/cases/routingrule/add/",
        {
            "order": 5,
            "name": "Complaints to Tier 2",
            "is_active": "on",
            "category": "complaint",
            "priority": "",
            "customer_country": "",
            "service_model": "",
            "target_queue": queue.pk,
            "target_partner_queue": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RoutingRule.objects.get(name="Complaints to Tier 2")
    assert AuditEvent.objects.filter(verb="cases.routingrule.create", object_id=str(rule.pk)).exists()
    # A rule with two targets (or none) is refused with a message, nothing saved.
    response = client.post(
        "/admin/cases/routingrule/add/",
        {"order": 6, "name": "Both", "target_queue": queue.pk, "target_partner_queue": "partner"},
    )
    assert not RoutingRule.objects.filter(name="Both").exists()
    # A channel manager may look but not change.
    manager = parent_user(ParentRole.CHANNEL_MANAGER)
    client.force_login(manager)
    assert client.get("/admin/cases/routingrule/").status_code == 200
    assert client.get("/admin/cases/routingrule/add/").status_code == 403
