"""One alert per rule and subject: the sweep run twice, and concurrently with an event check,
leaves one alert; a dismissed alert is not raised again."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from analytics import fraud
from analytics.models import FraudAlert
from deals.models import OpportunityFlow
from partners.agreement import BusinessModel
from tests.factories import PartnerFactory
from tests.factories.deals import OpportunityFactory


def won_without_order():
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    return OpportunityFactory(
        partner=partner,
        flow=OpportunityFlow.PARTNER_MANAGED,
        stage="closed_won",
        amount=Decimal("950000.00"),
        closed_at=timezone.now(),
    )


@pytest.mark.django_db
def test_the_sweep_twice_and_the_event_check_leave_one_alert(analyst):
    opportunity = won_without_order()
    fraud.sweep()
    fraud.sweep()
    fraud.check_event("opportunity_won", opportunity)
    assert FraudAlert.objects.filter(rule__code="win_without_order").count() == 1
    alert = FraudAlert.objects.get(rule__code="win_without_order")
    from analytics import services

    services.fraud_alert_dismiss(user=analyst, alert=alert, reason="Contract on file.")
    fraud.sweep()
    fraud.check_event("opportunity_won", opportunity)
    alert.refresh_from_db()
    assert FraudAlert.objects.filter(rule__code="win_without_order").count() == 1
    assert alert.status == "dismissed" and alert.triage_reason == "Contract on file."


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_sweeps_and_event_check_leave_one_alert(attempt):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency is tested on PostgreSQL (SQLite serialises writers anyway).")
    opportunity = won_without_order()
    fraud.sync_rules()
    barrier = threading.Barrier(3)
    errors = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    calls = [
        lambda: fraud.sweep(codes=["win_without_order", "won_amount_inflated"]),
        lambda: fraud.sweep(codes=["win_without_order", "won_amount_inflated"]),
        lambda: fraud.check_event("opportunity_won", opportunity),
    ]
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    subject = fraud.subject_key(opportunity)
    assert FraudAlert.objects.filter(rule__code="win_without_order", subject_key=subject).count() == 1
