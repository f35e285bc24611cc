"""Notifications: one per event and recipient, emailed once after commit, read by the recipient only."""

import pytest
from django.core import mail

from partners.access import ParentRole, PartnerRole
from partners.models import Notification
from partners.notifications import mark_read, notify, parent_recipients, partner_recipients
from partners.tasks import send_notification_emails, send_pending_notification_emails
from tests.factories import PartnerFactory, parent_user, partner_user

pytestmark = pytest.mark.django_db


def test_one_notification_and_one_email_per_event_and_recipient(
    partner_a, admin_a, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(recipients=[admin_a, admin_a], kind="test.event", key="evt:1", title="Lead offered", url="/x/")
    with django_capture_on_commit_callbacks(execute=True):
        again = notify(recipients=[admin_a], kind="test.event", key="evt:1", title="Lead offered")
    assert len(first) == 1 and again == []
    assert Notification.objects.filter(recipient=admin_a, key="evt:1").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"[{settings.PARENT_COMPANY_NAME}] Lead offered"
    assert "http://127.0.0.1:8000/x/" in mail.outbox[0].body
    # A redelivered task and the periodic catch-up send nothing more.
    assert send_notification_emails([first[0].pk]) == 0
    assert send_pending_notification_emails() == 0
    assert len(mail.outbox) == 1


def test_white_label_email_carries_the_partner_brand(django_capture_on_commit_callbacks, settings):
    partner = PartnerFactory(slug="wl", name="WL Inc", display_name="Blue Sky IT", business_model="white_label")
    person = partner_user(partner, PartnerRole.ADMIN, email="a@bluesky.example")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[person], kind="test.event", key="evt:wl", title="Renewal due")
    assert mail.outbox[0].subject == "[Blue Sky IT] Renewal due"
    assert settings.PARENT_COMPANY_NAME not in mail.outbox[0].body


def test_read_only_by_the_recipient(partner_a, admin_a, rep_a):
    (note,) = notify(recipients=[admin_a], kind="test.event", key="evt:2", title="Hello", email=False)
    assert list(Notification.objects.for_user(rep_a)) == []
    assert mark_read(user=rep_a, notification_ids=[note.pk]) == 0
    assert mark_read(user=admin_a) == 1
    note.refresh_from_db()
    assert note.read_at is not None and note.emailed_at is None


def test_recipient_helpers_follow_roles_and_channel_manager_grants(partner_a, partner_b, admin_a, rep_a):
    assert partner_recipients(partner_a.pk, roles=[PartnerRole.ADMIN]) == [admin_a]
    assert partner_recipients(partner_a.pk, roles=[PartnerRole.ADMIN], users=[rep_a]) == [admin_a, rep_a]
    manager_a = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a], username="cm-a")
    manager_b = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_b], username="cm-b")
    finance = parent_user(ParentRole.FINANCE, username="fin")
    assert parent_recipients(roles=[ParentRole.CHANNEL_MANAGER], partner_id=partner_a.pk) == [manager_a]
    assert set(parent_recipients(roles=[ParentRole.CHANNEL_MANAGER])) == {manager_a, manager_b}
    assert parent_recipients(roles=[ParentRole.FINANCE], partner_id=partner_b.pk) == [finance]
