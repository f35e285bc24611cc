"""Two SLA checks of the same case at the same moment (two workers, the task delivered twice):
the row lock and the event's unique key leave exactly one escalation. PostgreSQL only."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from cases import services
from cases.models import Case, CaseSlaEvent
from partners.agreement import BusinessModel
from tests.cases.conftest import make_partner, people
from tests.factories.cases import SlaPolicyFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_concurrent_sla_checks_escalate_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real row locks")
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    SlaPolicyFactory(priority="normal")
    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="Race")
    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(first_response_at=now, resolution_due_at=now - datetime.timedelta(minutes=1))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(services.case_sla_check(case_id=case.pk, now=now))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(results) == [[], ["resolution:breach"]]
    case.refresh_from_db()
    assert case.priority == "high" and case.sla_breached
    assert CaseSlaEvent.objects.filter(case=case).count() == 1
