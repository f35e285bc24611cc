"""Routing rules: data evaluated in order on create and on escalate; round robin among available
agents; a rule never sends a case into another partner's queue or to the wrong party."""

import pytest

from cases import services
from cases.models import CaseQueue, Party, QueueAgent, QueueKind
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from tests.cases.conftest import make_partner, people
from tests.factories import ProductLineFactory, customer_of, parent_user, partner_user
from tests.factories.cases import CaseQueueFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db


def open_case(user, customer, **kw):
    fields = {"origin": "email", "category": "technical", "subject": "S"} | kw
    return services.case_open(user=user, customer=customer, **fields)


def test_first_matching_rule_in_order_wins(parent_support):
    partner = make_partner(BusinessModel.REFERRAL)  # parent only: the case is the parent's
    agent, rep, customer = people(partner)
    billing = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Billing team")
    tech = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Tech team")
    catch_all = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Everything")
    RoutingRuleFactory(order=30, name="all", target_queue=catch_all)
    RoutingRuleFactory(order=10, name="billing", category="billing", target_queue=billing)
    RoutingRuleFactory(order=20, name="tech", category="technical", target_queue=tech)
    assert open_case(agent, customer, category="billing").queue == billing
    assert open_case(agent, customer, category="technical").queue == tech
    assert open_case(agent, customer, category="complaint").queue == catch_all


def test_rule_criteria_country_priority_product_line_and_service_model(parent_support):
    partner = make_partner(BusinessModel.REGISTRATION_PARENT)
    agent = partner_user(partner, PartnerRole.SUPPORT)
    de = customer_of(partner, country="DE")
    us = customer_of(partner, country="US")
    storage = ProductLineFactory(code="storage")
    q_de = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="DACH")
    q_urgent = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Urgent")
    q_storage = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Storage")
    q_other_model = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Either-model cases")
    RoutingRuleFactory(order=1, service_model="either", target_queue=q_other_model)
    RoutingRuleFactory(order=2, priority="urgent", target_queue=q_urgent)
    RoutingRuleFactory(order=3, customer_country="DE", target_queue=q_de)
    RoutingRuleFactory(order=4, product_line=storage, target_queue=q_storage)
    assert open_case(agent, de, priority="urgent").queue == q_urgent
    assert open_case(agent, de).queue == q_de
    assert open_case(agent, us, product_line=storage).queue == q_storage
    fallback = open_case(agent, us)
    assert fallback.queue.is_default and fallback.queue.kind == QueueKind.PARENT


def test_rules_only_target_the_owning_party_and_never_another_partners_queue():
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)  # partner only
    other = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    parent_queue = CaseQueueFactory(kind=QueueKind.PARENT, partner=None)
    others_queue = CaseQueueFactory(kind=QueueKind.PARTNER, partner=other)
    shared = CaseQueueFactory(kind=QueueKind.SHARED, partner=partner, name="Shared with parent")
    RoutingRuleFactory(order=1, target_queue=parent_queue)  # wrong party: skipped
    RoutingRuleFactory(order=2, target_queue=others_queue)  # another partner's: skipped
    RoutingRuleFactory(order=3, category="complaint", target_partner_queue=QueueKind.SHARED)
    assert open_case(agent, customer, category="complaint").queue == shared
    default = open_case(agent, customer, category="billing").queue
    assert default.partner_id == partner.pk and default.kind == QueueKind.PARTNER


def test_round_robin_among_available_agents_and_rules_apply_on_escalate():
    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    tier2 = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Tier 2")
    anna = parent_user(ParentRole.SUPPORT, username="anna")
    ben = parent_user(ParentRole.SUPPORT, username="ben")
    away = parent_user(ParentRole.SUPPORT, username="away")
    partner_person = partner_user(partner, PartnerRole.SUPPORT)
    for user in (anna, ben, partner_person):
        QueueAgent.objects.create(queue=tier2, user=user)
    QueueAgent.objects.create(queue=tier2, user=away, is_available=False)
    RoutingRuleFactory(order=1, category="technical", service_model="either", target_queue=tier2, round_robin=True)
    assignees = []
    for _ in range(3):
        case = open_case(agent, customer)
        assert case.owner_party == Party.PARTNER and case.queue.partner_id == partner.pk  # rule targets parent
        case = services.case_escalate(user=agent, case=case, reason="complex")
        assert case.queue == tier2 and case.status == "assigned"
        assignees.append(case.assignee.username)
    assert assignees == ["anna", "ben", "anna"]


def test_default_queues_are_created_once():
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    first = open_case(agent, customer).queue
    second = open_case(agent, customer).queue
    assert first == second
    assert CaseQueue.objects.for_partner(partner.pk).count() == 1
