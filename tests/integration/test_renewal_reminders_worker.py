"""A real Celery worker is killed (SIGKILL) in the middle of a batch of renewal reminders, a new one
is started, the next scan sweeps up what the dead task left and the lost message is delivered again:
every (renewal, milestone, recipient) has exactly one reminder and one notification, emailed once.
Runs only on PostgreSQL with Redis (CI's first leg)."""

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.models import Notification
from renewals import services
from renewals.models import Renewal, RenewalReminder
from renewals.tasks import send_renewal_reminders
from tests.factories import PartnerFactory, ProductFactory, customer_of, partner_user
from tests.factories.renewals import contract_for

ROOT = Path(__file__).resolve().parents[2]
RENEWALS = 30
RECIPIENTS = 3  # the partner's admin and two managers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def launch_worker(tmp_path, tag, queues):
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{host}:{port}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        RENEWALS_REMINDER_PAUSE_SECONDS="0.1",  # slow enough to be killed mid-batch
    )
    pidfile, logfile = tmp_path / f"{tag}.pid", tmp_path / f"{tag}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "prm",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            ",".join(queues),
            "-n",
            f"{tag}-{uuid.uuid4().hex[:6]}@%h",
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(logfile),
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not pidfile.exists() and time.monotonic() < deadline:
        assert process.poll() is None, logfile.read_text() if logfile.exists() else "worker died"
        time.sleep(0.2)
    assert pidfile.exists(), "worker did not start"
    return process, pidfile, logfile


def stop(process, pidfile, sig=signal.SIGTERM):
    pid = int(pidfile.read_text().strip()) if pidfile.exists() else process.pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def reminders_due():
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    partner = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    admin = partner_user(partner, PartnerRole.ADMIN)
    for _ in range(RECIPIENTS - 1):
        partner_user(partner, PartnerRole.MANAGER)
    product = ProductFactory()
    end = timezone.localdate() + datetime.timedelta(days=100)
    for _ in range(RENEWALS):
        contract_for(partner, customer_of(partner, owner=admin), product=product, term_end=end)
    services.renewals_open_due()
    services.renewals_schedule_reminders(enqueue=False)
    return list(Renewal.objects.order_by("pk").values_list("pk", flat=True))


def test_a_worker_killed_mid_batch_loses_and_repeats_no_reminder(reminders_due, tmp_path):
    queue = f"ci-{uuid.uuid4().hex[:8]}"
    # The worker also consumes the default queue: the scan and the notification emails go there.
    queues = [queue, "celery"]
    first = launch_worker(tmp_path, "first", queues)
    try:
        send_renewal_reminders.apply_async(args=[reminders_due], queue=queue)
        assert wait_for(lambda: RenewalReminder.objects.count() >= 3 * RECIPIENTS, 40), first[2].read_text()
    finally:
        stop(*first[:2], sig=signal.SIGKILL)
    written_before_crash = RenewalReminder.objects.count()
    assert 0 < written_before_crash < RENEWALS * RECIPIENTS, "the worker was not killed mid-batch"

    second = launch_worker(tmp_path, "second", queues)
    try:
        # The next periodic scan queues every renewal whose milestone is not reminded yet, and the
        # broker delivers the killed task's message again (after its visibility timeout).
        services.renewals_schedule_reminders()
        send_renewal_reminders.apply_async(args=[reminders_due], queue=queue)
        done = wait_for(
            lambda: (
                Renewal.objects.filter(pk__in=reminders_due, reminded_milestone=120).count() == RENEWALS
                and Notification.objects.filter(kind="renewals.milestone", emailed_at__isnull=False).count()
                == RENEWALS * RECIPIENTS
            ),
            40,
        )
        log = second[2].read_text()
    finally:
        stop(*second[:2])
    assert done, log
    per_key = RenewalReminder.objects.values("renewal", "milestone", "recipient").annotate(n=Count("pk"))
    assert len(per_key) == RENEWALS * RECIPIENTS  # none lost
    assert {row["n"] for row in per_key} == {1}  # none repeated
    per_renewal = RenewalReminder.objects.values("renewal").annotate(n=Count("pk"))
    assert {row["n"] for row in per_renewal} == {RECIPIENTS}
    notifications = Notification.objects.filter(kind="renewals.milestone")
    assert notifications.count() == RENEWALS * RECIPIENTS
    assert notifications.values("recipient", "key").distinct().count() == RENEWALS * RECIPIENTS
