"""SLA targets on open, the pause while waiting on the customer, and the periodic task: a warning
before a breach and an escalation on breach, each exactly once however often the task runs."""

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from cases import services, tasks
from cases.models import Case, CaseHandover, CaseSlaEvent, QueueAgent, QueueKind
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent
from tests.cases.conftest import make_partner, people
from tests.factories import ProgramTierFactory, partner_user
from tests.factories.cases import BusinessCalendarFactory, CaseQueueFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
MONDAY_10 = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(y, m, d, h=0, mi=0):
    return datetime.datetime(y, m, d, h, mi, tzinfo=UTC)


def frozen(now):
    return mock.patch("django.utils.timezone.now", return_value=now)


@pytest.fixture
def setup():
    """A partner-only partner whose queue works 9–17 UTC on weekdays, a supervisor queue, and a
    normal-priority SLA of 2 business hours to respond and 16 to resolve, warning 1 hour before."""
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    agent.email = "agent@example.test"
    agent.save()
    calendar = BusinessCalendarFactory(name="UTC office", time_zone="UTC")
    queue = CaseQueueFactory(kind=QueueKind.PARTNER, partner=partner, name="Support", calendar=calendar)
    supervisor = CaseQueueFactory(kind=QueueKind.PARTNER, partner=partner, name="Supervisors", calendar=calendar)
    queue.supervisor_queue = supervisor
    queue.save()
    QueueAgent.objects.create(queue=queue, user=agent)
    SlaPolicyFactory(priority="normal", first_response_minutes=120, resolution_minutes=16 * 60)
    return partner, agent, customer, queue, supervisor


def open_at(now, agent, customer, **kw):
    with frozen(now):
        return services.case_open(
            user=agent, customer=customer, origin="phone", category="technical", subject="Down", **kw
        )


def test_targets_are_in_business_hours_of_the_queue(setup):
    partner, agent, customer, queue, _ = setup
    case = open_at(at(2026, 11, 27, 16), agent, customer)  # Friday 16:00
    assert case.queue == queue
    assert case.first_response_due_at == at(2026, 11, 30, 10)  # Monday 10:00
    assert case.resolution_due_at == at(2026, 12, 1, 16)  # 1 h Friday + 8 h Monday + 7 h Tuesday


def test_tier_specific_policy_wins_over_the_default(setup):
    partner, agent, customer, queue, _ = setup
    SlaPolicyFactory(priority="normal", tier=partner.tier, first_response_minutes=30, resolution_minutes=240)
    case = open_at(MONDAY_10, agent, customer)
    assert case.first_response_due_at == at(2026, 11, 23, 10, 30)
    partner.tier = ProgramTierFactory(name="Bronze", rank=1)
    partner.save()
    agent = type(agent).objects.get(pk=agent.pk)  # a new request: the actor is resolved afresh
    assert open_at(MONDAY_10, agent, customer).first_response_due_at == at(2026, 11, 23, 12)


def test_clock_pauses_while_waiting_on_customer(setup):
    partner, agent, customer, queue, _ = setup
    case = open_at(MONDAY_10, agent, customer)
    assert case.resolution_due_at == at(2026, 11, 25, 10)  # 7 h Monday + 8 h Tuesday + 1 h Wednesday
    with frozen(at(2026, 11, 23, 11)):
        case = services.case_start(user=agent, case=case)
        case = services.case_wait(user=agent, case=case)
    assert case.sla_paused_at == at(2026, 11, 23, 11) and case.first_response_at == at(2026, 11, 23, 11)
    # While paused the task does nothing, even past the original due time.
    assert services.case_sla_check(case_id=case.pk, now=at(2026, 11, 25, 12)) == []
    # The customer answers on Wednesday 12:00: the 15 business hours left run from then.
    with frozen(at(2026, 11, 25, 12)):
        case = services.case_start(user=agent, case=case)
    assert case.sla_paused_at is None
    assert case.resolution_due_at == at(2026, 11, 27, 11)  # 5 h Wednesday + 8 h Thursday + 2 h Friday


def test_warning_then_breach_each_once_even_if_the_task_runs_twice(setup, django_capture_on_commit_callbacks):
    partner, agent, customer, queue, supervisor = setup
    case = open_at(MONDAY_10, agent, customer)  # first response due 12:00 Monday
    with django_capture_on_commit_callbacks(execute=True):
        first = services.case_sla_check(case_id=case.pk, now=at(2026, 11, 23, 11, 15))
        again = services.case_sla_check(case_id=case.pk, now=at(2026, 11, 23, 11, 20))
    assert first == ["first_response:warning"] and again == []
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["agent@example.test"]

    with django_capture_on_commit_callbacks(execute=True):
        breach = services.case_sla_check(case_id=case.pk, now=at(2026, 11, 23, 12, 5))
        again = services.case_sla_check(case_id=case.pk, now=at(2026, 11, 23, 12, 10))
    assert breach == ["first_response:breach"] and again == []
    case.refresh_from_db()
    assert case.priority == "high" and case.sla_breached and case.queue == supervisor
    assert CaseHandover.objects.filter(case=case, kind="sla_breach").count() == 1
    assert AuditEvent.objects.filter(verb="case.sla_breach", object_id=str(case.pk)).count() == 1
    assert CaseSlaEvent.objects.filter(case=case).count() == 2


def test_periodic_task_twice_has_one_effect(setup):
    partner, agent, customer, queue, supervisor = setup
    late = open_at(at(2026, 11, 16, 10), agent, customer)  # a week old: both targets breached
    fresh = open_at(MONDAY_10, agent, customer)
    with frozen(at(2026, 11, 23, 10, 5)):
        tasks.check_slas()
        tasks.check_slas()
    late.refresh_from_db()
    fresh.refresh_from_db()
    # Two breaches (first response, resolution) each raise the priority once: normal → high → urgent.
    assert late.priority == "urgent" and late.sla_breached and late.queue == supervisor
    assert sorted(CaseSlaEvent.objects.filter(case=late).values_list("target", "kind")) == [
        ("first_response", "breach"),
        ("resolution", "breach"),
    ]
    assert fresh.priority == "normal" and not CaseSlaEvent.objects.filter(case=fresh).exists()
    assert CaseHandover.objects.filter(case=late, kind="sla_breach").count() == 1


def test_reopen_starts_a_new_sla_cycle(setup):
    partner, agent, customer, queue, _ = setup
    case = open_at(MONDAY_10, agent, customer)
    with frozen(at(2026, 11, 23, 11)):
        services.case_start(user=agent, case=case)
        case = services.case_resolve(user=agent, case=case, resolution="Restarted")
    with frozen(at(2026, 12, 1, 10)):
        case = services.case_reopen(user=agent, case=case, reason="Down again")
    assert case.sla_cycle == 2 and case.status == "in_progress"
    assert case.resolution_due_at == at(2026, 12, 3, 10)  # 16 business hours from Tuesday 10:00
    with frozen(at(2027, 1, 5, 10)):
        case = services.case_resolve(user=agent, case=Case.objects.get(pk=case.pk), resolution="ok")
    with frozen(at(2027, 2, 10, 10)), pytest.raises(ValidationError) as excinfo:
        services.case_reopen(user=agent, case=case, reason="late")
    assert "30 days" in str(excinfo.value)


def test_partner_rep_cannot_assign_work():
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = services.case_open(user=rep, customer=customer, origin="web", category="billing", subject="x")
    other = partner_user(partner, PartnerRole.SUPPORT)
    with pytest.raises(PermissionDenied):
        services.case_assign(user=rep, case=case, assignee=other)


def test_resolved_cases_close_after_the_reopen_window_once(setup):
    partner, agent, customer, queue, _ = setup
    case = open_at(MONDAY_10, agent, customer)
    with frozen(at(2026, 11, 23, 11)):
        services.case_start(user=agent, case=case)
        services.case_resolve(user=agent, case=Case.objects.get(pk=case.pk), resolution="done")
    with frozen(at(2026, 12, 20, 11)):
        assert tasks.close_resolved_cases() == 0
    with frozen(at(2026, 12, 24, 11)):
        assert tasks.close_resolved_cases() == 1
        assert tasks.close_resolved_cases() == 0
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == "resolved"
    assert AuditEvent.objects.filter(verb="case.close", object_id=str(case.pk)).count() == 1


def test_priority_change_applies_the_new_targets_keeping_time_used(setup):
    partner, agent, customer, queue, _ = setup
    SlaPolicyFactory(priority="urgent", first_response_minutes=30, resolution_minutes=4 * 60)
    case = open_at(MONDAY_10, agent, customer)  # normal: respond by 12:00, resolve by Wednesday 10:00
    with frozen(at(2026, 11, 23, 11)):  # one business hour used
        case = services.case_update(user=agent, case=case, priority="urgent")
    assert case.first_response_due_at == at(2026, 11, 23, 10, 30)
    assert case.resolution_due_at == at(2026, 11, 23, 14)  # 4 h in all, 1 h used: 3 h from 11:00
    with frozen(at(2026, 11, 23, 12)):
        services.case_start(user=agent, case=case)
        case = services.case_wait(user=agent, case=Case.objects.get(pk=case.pk))
    assert case.sla_remaining_seconds == 2 * 3600
    with frozen(at(2026, 11, 24, 9)):
        case = services.case_update(user=agent, case=case, priority="normal")
    assert case.sla_remaining_seconds == 14 * 3600 and case.sla_paused_at is not None
