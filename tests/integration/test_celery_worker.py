"""A real Celery worker process against Redis, writing to PostgreSQL: the production path.
Runs only when DATABASE_URL points at PostgreSQL and REDIS_URL is set (CI's first leg)."""

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

from partners.access import PartnerRole
from partners.models import Membership
from partners.tasks import send_invitation
from tests.factories import PartnerFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_worker(tmp_path):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    queue = f"ci-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = dict(os.environ)
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env.update(
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{host}:{port}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    pidfile = tmp_path / "worker.pid"
    logfile = tmp_path / "worker.log"
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
            queue,
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(logfile),
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists() and time.monotonic() < deadline:
            assert process.poll() is None, logfile.read_text() if logfile.exists() else "worker died"
            time.sleep(0.2)
        assert pidfile.exists(), "worker did not start"
        yield {"queue": queue, "log": logfile}
    finally:
        pid = int(pidfile.read_text().strip()) if pidfile.exists() else process.pid
        os.kill(pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode is not None


def test_worker_sends_an_invitation_and_records_it(real_worker):
    partner = PartnerFactory()
    user = UserFactory(username="invitee", email="invitee@example.test")
    user.set_unusable_password()
    user.save()
    membership = Membership.objects.create(user=user, partner=partner, role=PartnerRole.REP)

    send_invitation.apply_async(args=[membership.pk], queue=real_worker["queue"])
    # Twice: the task is safe to run twice and sends once.
    send_invitation.apply_async(args=[membership.pk], queue=real_worker["queue"])

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        membership.refresh_from_db()
        if membership.invitation_sent_at is not None:
            break
        time.sleep(0.3)
    log = real_worker["log"].read_text()
    assert membership.invitation_sent_at is not None, log
    first = membership.invitation_sent_at
    deadline = time.monotonic() + 30
    while log.count("succeeded") < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
        log = real_worker["log"].read_text()
    assert log.count("succeeded") == 2, log
    membership.refresh_from_db()
    assert membership.invitation_sent_at == first
