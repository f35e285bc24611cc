"""Background work of the partners app. Tasks take ids, re-fetch, and are safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from . import branding
from .models import Membership


@shared_task
def send_invitation(membership_id: int) -> bool:
    """Email a new partner user the link to set their password; once only."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("user", "partner").filter(pk=membership_id).first()
        )
        if membership is None or membership.invitation_sent_at is not None or not membership.user.email:
            return False
        # An invited user has no usable password yet: the link sets the first one.
        user = membership.user
        context = {
            "email": user.email,
            "domain": settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "localhost",
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": "http" if settings.DEBUG else "https",
        }
        branding.render_branded_mail(
            brand=branding.brand_of_partner(membership.partner),
            subject_template="registration/invitation_subject.txt",
            body_template="registration/invitation_email.txt",
            context=context,
            recipients=[user.email],
        )
        membership.invitation_sent_at = timezone.now()
        membership.save(update_fields=["invitation_sent_at"])
    return True


@shared_task
def send_pending_invitations() -> int:
    """Periodic: catch invitations whose task was lost (broker down at commit time)."""
    sent = 0
    for membership_id in Membership.objects.filter(
        invitation_sent_at__isnull=True, user__password__startswith="!"
    ).values_list("pk", flat=True)[:200]:
        sent += bool(send_invitation(membership_id))
    return sent


@shared_task
def send_notification_emails(notification_ids: list[int]) -> int:
    """Email each notification once: the row is locked and stamped in the same transaction, so a
    task delivered twice (or two workers) sends one email."""
    from . import branding
    from .models import Notification
    from .notifications import absolute_url

    sent = 0
    for notification_id in notification_ids:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(of=("self",))
                .select_related("recipient", "partner")
                .filter(pk=notification_id, email_wanted=True, emailed_at__isnull=True)
                .first()
            )
            if notification is None or not notification.recipient.email:
                continue
            link = absolute_url(notification.url)
            branding.send_branded_mail(
                brand=branding.brand_of_user(notification.recipient),
                subject=notification.title,
                body="\n\n".join(part for part in (notification.body, link) if part),
                recipients=[notification.recipient.email],
            )
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["emailed_at"])
            sent += 1
    return sent


@shared_task
def send_pending_notification_emails() -> int:
    """Periodic: email notifications whose task was lost (broker down at commit time)."""
    from datetime import timedelta

    from .models import Notification

    due = Notification.objects.filter(
        email_wanted=True, emailed_at__isnull=True, created_at__lt=timezone.now() - timedelta(minutes=5)
    ).values_list("pk", flat=True)[:500]
    ids = list(due)
    return send_notification_emails(ids) if ids else 0


@shared_task
def send_notification_digests() -> int:
    """Daily: one email per person with the notifications they asked to get as a digest. Rows are
    locked and stamped with the send, so a second run (or worker) sends nothing more."""
    from . import branding
    from .models import Notification
    from .notifications import absolute_url

    sent = 0
    recipients = (
        Notification.objects.filter(digest_wanted=True, emailed_at__isnull=True)
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for recipient_id in list(recipients)[:1000]:
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(of=("self",))
                .select_related("recipient", "partner")
                .filter(recipient_id=recipient_id, digest_wanted=True, emailed_at__isnull=True)
                .order_by("created_at", "pk")
            )
            if not rows or not rows[0].recipient.email:
                continue
            lines = [f"- {n.title}" + (f"\n  {absolute_url(n.url)}" if n.url else "") for n in rows]
            count = len(rows)
            branding.send_branded_mail(
                brand=branding.brand_of_user(rows[0].recipient),
                subject=f"{count} update{'s' if count != 1 else ''} for you",
                body="\n".join(["Here is what happened since your last digest:", "", *lines]),
                recipients=[rows[0].recipient.email],
            )
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(emailed_at=timezone.now())
            sent += 1
    return sent
