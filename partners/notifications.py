"""Notifications: the one way a domain tells a person about an event they wait on.

`notify()` writes one in-portal notification per (recipient, event key) inside the caller's
transaction and, after commit, queues its email through Celery. Raising the same event twice, from
a task run twice or two workers at once, leaves one notification and sends one email.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .access import ParentRole, PartnerRole, actor_of
from .models import Membership, Notification, NotificationChannel, NotificationPreference

# Every kind of notification a person can set a preference for: kind → what it is about. Domain apps
# add theirs with register_kind() (from AppConfig.ready or their notices module).
KINDS: dict[str, str] = {
    "deals.lead_offered": "A lead is offered to you",
    "deals.registration_decided": "A deal registration is approved or rejected",
    "deals.registration_returned": "A deal registration is returned for changes",
    "deals.registration_submitted": "A deal registration waits for your review",
    "deals.extension_decided": "A protection extension is decided",
    "deals.registration_expiring": "A deal registration's protection ends soon",
    "quotes.quote_decided": "A quote is approved, rejected or returned",
    "quotes.quote_pending": "A quote waits for your approval",
    "quotes.order_reviewed": "An order is approved or declined",
    "quotes.order_in_review": "An order waits for your review",
    "quotes.order_fulfilled": "An order is fulfilled",
    "cases.case_assigned": "A case is assigned to you",
    "cases.case_escalated": "A case is escalated",
    "cases.case_handed_back": "A case is handed back",
    "cases.sla_warning": "A case is close to its service level",
    "commissions.approved": "A commission is approved",
    "commissions.paid": "A commission is paid",
}


def register_kind(kind: str, label: str) -> None:
    KINDS.setdefault(kind, label)


def channels_for(users, kind: str) -> dict:
    """user id → the channel each person chose for `kind` (email when they chose nothing)."""
    chosen = dict(
        NotificationPreference.objects.filter(user_id__in=[u.pk for u in users], kind=kind).values_list(
            "user_id", "channel"
        )
    )
    return {u.pk: chosen.get(u.pk, NotificationChannel.EMAIL) for u in users}


def partner_recipients(partner_id, *, roles=None, users=()) -> list:
    """Active people of a partner holding one of `roles` (all roles when None), plus `users` of it."""
    memberships = Membership.objects.for_partner(partner_id).filter(is_active=True, user__is_active=True)
    wanted = {u.pk for u in users if u is not None}
    if roles is not None:
        memberships = memberships.filter(Q(role__in=[PartnerRole(r) for r in roles]) | Q(user_id__in=wanted))
    elif wanted:
        memberships = memberships.filter(user_id__in=wanted)
    return [m.user for m in memberships.select_related("user").order_by("user_id").distinct()]


def parent_recipients(*, roles, partner_id=None) -> list:
    """Active parent staff holding one of the parent `roles` (group names, see access.ParentRole).
    With `partner_id`, only those who may see that partner (channel managers: the ones who manage it)."""
    holds_role = Q(groups__name__in=list(roles))
    if ParentRole.ADMIN in roles:
        holds_role |= Q(is_superuser=True)
    users = get_user_model().objects.filter(holds_role, is_active=True, is_staff=True).distinct().order_by("pk")
    if partner_id is None:
        return list(users)
    return [user for user in users if actor_of(user).may_see_partner(partner_id)]


def notify(*, recipients, kind: str, key: str, title: str, body: str = "", url: str = "", email: bool = True) -> list:
    """Tell each recipient once about the event `key`; returns the notifications created now (not
    the ones that already existed). Call it inside the transaction that makes the event true."""
    created = []
    seen = set()
    people = [user for user in recipients if user is not None]
    channels = channels_for(people, kind)
    for user in people:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        channel = channels[user.pk]
        if channel == NotificationChannel.OFF:
            continue
        membership = Membership.objects.filter(user_id=user.pk, is_active=True).only("partner_id").first()
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=user,
                    partner_id=membership.partner_id if membership else None,
                    kind=kind,
                    key=key[:200],
                    title=title[:200],
                    body=body,
                    url=url[:300],
                    email_wanted=email and channel == NotificationChannel.EMAIL and bool(user.email),
                    digest_wanted=email and channel == NotificationChannel.DIGEST and bool(user.email),
                )
        except IntegrityError:
            continue  # this person was already told about this event
        created.append(notification)
    if created:
        ids = [n.pk for n in created if n.email_wanted]
        if ids:
            from .tasks import send_notification_emails

            transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return created


def notify_many(events) -> list:
    """`notify()` for many events at once, set-based (a periodic task's batch): each event a dict of
    notify's keyword arguments. A few queries and one INSERT for the whole batch, whatever its size;
    the same once-per-(recipient, event) rule; one email task per 500 notifications after commit."""
    wanted = {}  # (user id, key) -> (user, event), first one wins as in notify()
    for event in events:
        for user in event["recipients"]:
            if user is not None:
                wanted.setdefault((user.pk, event["key"][:200]), (user, event))
    if not wanted:
        return []
    user_ids = {pk for pk, _ in wanted}
    channels = {}
    for kind in {event["kind"] for _, event in wanted.values()}:
        chosen = NotificationPreference.objects.filter(user_id__in=user_ids, kind=kind).values_list(
            "user_id", "channel"
        )
        channels.update({(user_id, kind): channel for user_id, channel in chosen})
    partner_of = dict(
        Membership.objects.filter(user_id__in=user_ids, is_active=True).values_list("user_id", "partner_id")
    )
    told = set(
        Notification.objects.filter(recipient_id__in=user_ids, key__in={key for _, key in wanted}).values_list(
            "recipient_id", "key"
        )
    )
    rows = []
    for (user_id, key), (user, event) in wanted.items():
        channel = channels.get((user_id, event["kind"]), NotificationChannel.EMAIL)
        if channel == NotificationChannel.OFF or (user_id, key) in told:
            continue
        email = event.get("email", True)
        rows.append(
            Notification(
                recipient=user,
                partner_id=partner_of.get(user_id),
                kind=event["kind"],
                key=key,
                title=event["title"][:200],
                body=event.get("body", ""),
                url=event.get("url", "")[:300],
                email_wanted=email and channel == NotificationChannel.EMAIL and bool(user.email),
                digest_wanted=email and channel == NotificationChannel.DIGEST and bool(user.email),
            )
        )
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError:
        # Someone told one of these people about one of these events meanwhile: one at a time.
        created = [n for event in events for n in notify(**event)]
        return created
    ids = [n.pk for n in created if n.email_wanted]
    if ids:
        from .tasks import send_notification_emails

        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            transaction.on_commit(lambda chunk=chunk: send_notification_emails.delay(chunk))
    return created


def set_preferences(*, user, channels: dict) -> None:
    """Save a person's channel for each kind (unknown kinds and channels are ignored)."""
    for kind, channel in channels.items():
        if kind in KINDS and channel in NotificationChannel.values:
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"channel": channel})


def absolute_url(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def mark_read(*, user, notification_ids=None) -> int:
    """Mark the user's notifications (all unread, or the given ids) read; returns how many."""
    qs = Notification.objects.for_user(user).unread()
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())
