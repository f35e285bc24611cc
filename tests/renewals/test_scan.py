"""The periodic scan: renewals open at T-120 (set-based, once per term, ownership copied from the
agreement), reminders at each milestone exactly once (twice, concurrently, after a lost task), lapse
after the grace period, a bounded number of queries per batch."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import Notification
from partners.services import partner_agreement_update
from renewals import services
from renewals.models import Contract, ContractStatus, OwnerSide, Renewal, RenewalReminder, RenewalStatus
from renewals.tasks import scan_renewals, send_renewal_reminders
from tests.factories import parent_user, partner_user
from tests.factories.renewals import contract_for
from tests.renewals.conftest import make_partner, scenario

pytestmark = pytest.mark.django_db

OWNER_BY_MODEL = {
    BusinessModel.REFERRAL: OwnerSide.PARENT,
    BusinessModel.REGISTRATION_PARENT: OwnerSide.PARENT,
    BusinessModel.REGISTRATION_RETENTION: OwnerSide.PARTNER,
    BusinessModel.DUAL: OwnerSide.SHARED,
    BusinessModel.WHITE_LABEL: OwnerSide.PARTNER,
}


def test_a_renewal_opens_on_t_minus_120_not_the_day_before(catalogue):
    partner = make_partner(catalogue)
    today = timezone.localdate()
    later = contract_for(partner, product=catalogue["vm"], term_end=today + datetime.timedelta(days=121))
    due = contract_for(partner, product=catalogue["vm"], term_end=today + datetime.timedelta(days=120))
    assert services.renewals_open_due(today=today) == 1
    assert Renewal.objects.filter(contract=due).count() == 1 and not Renewal.objects.filter(contract=later).exists()
    assert Contract.objects.get(pk=due.pk).status == ContractStatus.RENEWAL_OPEN
    # Again (or a second scan at the same time): nothing twice.
    assert services.renewals_open_due(today=today) == 0
    assert services.renewals_open_due(today=today + datetime.timedelta(days=1)) == 1
    assert Renewal.objects.count() == 2


@pytest.mark.parametrize("business_model", list(OWNER_BY_MODEL))
def test_ownership_is_copied_from_the_agreement_when_the_renewal_opens(catalogue, business_model):
    s = scenario(catalogue, business_model, days_left=110)
    renewal, agreement = s["renewal"], s["partner"].agreement
    assert renewal.owner_side == OWNER_BY_MODEL[business_model]
    assert renewal.uplift_percent == agreement.renewal_uplift_percent
    assert renewal.expected_value == (renewal.current_value * (1 + agreement.renewal_uplift_percent / 100)).quantize(
        Decimal("0.01")
    )
    assert renewal.commission_eligible == agreement.renewal_commission
    assert renewal.parent_marketing_allowed == agreement.renewal_parent_marketing
    if renewal.owner_side == OwnerSide.SHARED:
        # Exclusive for 90 days from the day it opens (T-120): the parent may pursue from T-30.
        assert renewal.parent_may_pursue_from == renewal.term_end - datetime.timedelta(days=30)
    else:
        assert renewal.parent_may_pursue_from is None
    # A later change of the agreement does not move a renewal already being worked.
    partner_agreement_update(
        user=parent_user(ParentRole.ADMIN, superuser=True),
        partner=s["partner"],
        renewal_owner="parent",
        renewal_uplift_percent=Decimal("20"),
    )
    renewal.refresh_from_db()
    assert renewal.owner_side == OWNER_BY_MODEL[business_model]


def _people(s):
    manager = partner_user(s["partner"], PartnerRole.MANAGER)
    rep = partner_user(s["partner"], PartnerRole.REP)
    support = partner_user(s["partner"], PartnerRole.SUPPORT)
    customer_of_rep = s["customer"].relationships.get()
    customer_of_rep.owner = rep
    customer_of_rep.save()
    return manager, rep, support


def test_each_milestone_reminds_the_owners_once(catalogue, django_capture_on_commit_callbacks):
    s = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=100)
    manager, rep, support = _people(s)
    renewal = s["renewal"]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_schedule_reminders() == 1
    reminders = RenewalReminder.objects.filter(renewal=renewal)
    assert {(r.milestone, r.recipient_id) for r in reminders} == {
        (120, s["admin"].pk),
        (120, manager.pk),
        (120, rep.pk),
    }
    assert Notification.objects.filter(kind="renewals.milestone").count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in (s["admin"], manager, rep))
    # The scan and the task again, the same day: nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_schedule_reminders() == 0
        send_renewal_reminders([renewal.pk, renewal.pk])
        scan_renewals()
    assert reminders.count() == 3 and len(mail.outbox) == 3
    # Fifteen days later the T-90 milestone is due: once more, once each.
    later = timezone.localdate() + datetime.timedelta(days=15)
    with django_capture_on_commit_callbacks(execute=True):
        services.renewals_schedule_reminders(today=later)
        services.renewals_schedule_reminders(today=later)
    assert reminders.filter(milestone=90).count() == 3 and len(mail.outbox) == 6
    renewal.refresh_from_db()
    assert renewal.due_milestone == renewal.reminded_milestone == 90


def test_a_lost_reminder_task_is_queued_again_by_the_next_scan(catalogue, django_capture_on_commit_callbacks):
    s = scenario(catalogue, BusinessModel.WHITE_LABEL, days_left=58)
    services.renewals_schedule_reminders(enqueue=False)  # the broker lost the task
    renewal = Renewal.objects.get(pk=s["renewal"].pk)
    assert renewal.due_milestone == 60 and renewal.reminded_milestone == -1
    assert not RenewalReminder.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_schedule_reminders() == 1
    assert RenewalReminder.objects.filter(renewal=renewal, milestone=60).count() == 1


def test_the_either_model_reminds_the_parent_once_its_window_is_open(catalogue, django_capture_on_commit_callbacks):
    s = scenario(catalogue, BusinessModel.DUAL, days_left=100)
    sales = parent_user(ParentRole.SALES)
    granted = parent_user(ParentRole.CHANNEL_MANAGER, partners=[s["partner"]])
    parent_user(ParentRole.CHANNEL_MANAGER)  # manages other partners: not told
    renewal = s["renewal"]
    with django_capture_on_commit_callbacks(execute=True):
        services.renewals_schedule_reminders()
    assert set(RenewalReminder.objects.values_list("side", flat=True)) == {"partner"}
    window = renewal.term_end - datetime.timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        services.renewals_schedule_reminders(today=window)
    parent_side = RenewalReminder.objects.filter(side="parent", milestone=30)
    assert set(parent_side.values_list("recipient_id", flat=True)) == {sales.pk, granted.pk}
    assert RenewalReminder.objects.filter(side="partner", milestone=30, recipient=s["admin"]).count() == 1
    told = RenewalReminder.objects.get(side="partner", milestone=30, recipient=s["admin"]).notification
    assert "exclusive window has closed" in told.body


def test_parent_owned_renewals_remind_the_parent_not_the_partner(catalogue, django_capture_on_commit_callbacks):
    s = scenario(catalogue, BusinessModel.REGISTRATION_PARENT, days_left=20)
    sales = parent_user(ParentRole.SALES)
    with django_capture_on_commit_callbacks(execute=True):
        services.renewals_schedule_reminders()
    assert list(RenewalReminder.objects.values_list("recipient_id", "milestone", "side")) == [(sales.pk, 30, "parent")]
    assert s["renewal"].pk == RenewalReminder.objects.get().renewal_id


def test_open_renewals_lapse_after_the_grace_period(catalogue):
    s = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=10)
    renewal = s["renewal"]
    last_grace_day = renewal.term_end + datetime.timedelta(days=30)
    assert services.renewals_lapse_overdue(today=last_grace_day) == 0
    assert services.renewals_lapse_overdue(today=last_grace_day + datetime.timedelta(days=1)) == 1
    assert services.renewals_lapse_overdue(today=last_grace_day + datetime.timedelta(days=1)) == 0
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.LAPSED and renewal.lapse_reason == "no_response"
    assert Contract.objects.get(pk=renewal.contract_id).status == ContractStatus.LAPSED


def test_the_scan_costs_a_bounded_number_of_queries_per_batch(catalogue, settings):
    partner = make_partner(catalogue)
    today = timezone.localdate()

    def scan_cost(count):
        for _ in range(count):
            contract_for(partner, product=catalogue["vm"], term_end=today + datetime.timedelta(days=100))
        with CaptureQueriesContext(connection) as opened:
            services.renewals_open_due(today=today, batch_size=10)
        with CaptureQueriesContext(connection) as reminded:
            services.renewals_schedule_reminders(today=today, batch_size=10, enqueue=False)
        return len(opened), len(reminded)

    first = scan_cost(20)  # 2 full batches and an empty one
    Renewal.objects.all().delete()
    Contract.objects.all().delete()
    second = scan_cost(40)  # 4 full batches and an empty one
    # Per batch: savepoint/transaction statements plus a read, an insert and an update.
    per_batch_open = (second[0] - first[0]) / 2
    per_batch_remind = (second[1] - first[1]) / 2
    assert per_batch_open <= 5 and per_batch_remind <= 5, (first, second)
    assert Renewal.objects.count() == 40


@pytest.mark.django_db(transaction=True)
def test_two_workers_reminding_the_same_renewals_at_once_send_each_reminder_once(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency is tested on PostgreSQL.")
    s = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=100)
    _people(s)
    services.renewals_schedule_reminders(enqueue=False)
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait(timeout=10)
            services.renewals_remind([s["renewal"].pk])
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert RenewalReminder.objects.count() == 3
    assert Notification.objects.filter(kind="renewals.milestone").count() == 3


def test_the_postgresql_statement_opens_exactly_what_the_orm_path_opens(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("The one-statement batch is PostgreSQL's.")
    today = timezone.localdate()
    referrer = make_partner(catalogue, BusinessModel.REFERRAL)
    for index, model in enumerate(OWNER_BY_MODEL):
        partner = make_partner(catalogue, model)
        contract_for(partner, product=catalogue["vm"], term_end=today + datetime.timedelta(days=50 + index))
        # Attribution to another partner: its agreement decides the renewal commission.
        contract_for(
            partner,
            product=catalogue["vm"],
            originating_partner=referrer,
            term_end=today + datetime.timedelta(days=90 + index),
        )
    fields = [f.name for f in Renewal._meta.fields if f.name not in ("id", "opened_at", "updated_at")]

    def opened(use_sql):
        Renewal.objects.all().delete()
        Contract.objects.update(status=ContractStatus.ACTIVE)
        assert services.renewals_open_due(today=today, batch_size=4, use_sql=use_sql) == 10
        return sorted(Renewal.objects.values_list(*fields), key=str)

    assert opened(use_sql=True) == opened(use_sql=False)
    assert set(Contract.objects.values_list("status", flat=True)) == {ContractStatus.RENEWAL_OPEN}
