"""What the deals domain tells people, in words: called by deals.services inside the transaction that
makes the event true (partners.notifications sends each once, after commit)."""

from django.db.models import Q
from django.urls import reverse

from partners.access import ParentRole
from partners.notifications import notify, notify_many, parent_recipients, partner_recipients
from partners.presentation import money, when_utc

SELLERS = ("admin", "manager", "rep")


def lead_offered(offer) -> None:
    lead = offer.lead
    notify(
        recipients=partner_recipients(offer.partner_id, roles=SELLERS),
        kind="deals.lead_offered",
        key=f"lead-offer:{offer.pk}",
        title=f"New lead for you: {lead.company_name}. Answer by {when_utc(offer.deadline)}",
        body="Accept it to make it your opportunity, or decline it so it goes to another partner.",
        url=reverse("deals:lead-detail", args=[lead.pk]),
    )


def registration_submitted(registration) -> None:
    notify(
        recipients=parent_recipients(
            roles=(ParentRole.CHANNEL_MANAGER, ParentRole.SALES), partner_id=registration.partner_id
        ),
        kind="deals.registration_submitted",
        key=f"registration:{registration.pk}:submitted:{registration.submitted_at:%Y%m%d%H%M%S}",
        title=f"Deal registration to review: {registration.customer_name} "
        f"({money(registration.estimated_value, registration.currency)})",
        url=reverse("deals:registration-detail", args=[registration.pk]),
    )


def _registration_people(registration):
    return partner_recipients(registration.partner_id, roles=("admin", "manager"), users=[registration.created_by])


def registration_decided(registration) -> None:
    status = registration.status
    outcome = {
        "approved": f"approved: protected until {when_utc(registration.protected_until, time=False)}",
        "rejected": "rejected",
        "returned": "returned for changes",
    }.get(status, registration.get_status_display().lower())
    decided_at = registration.decided_at or registration.approved_at
    notify(
        recipients=_registration_people(registration),
        kind="deals.registration_returned" if status == "returned" else "deals.registration_decided",
        key=f"registration:{registration.pk}:{status}:{decided_at:%Y%m%d%H%M%S}",
        title=f"Your deal registration for {registration.customer_name} was {outcome}",
        body=registration.decision_reason or "",
        url=reverse("deals:registration-detail", args=[registration.pk]),
    )


def extension_decided(extension, registration) -> None:
    approved = extension.status == "approved"
    title = (
        f"Protection for {registration.customer_name} extended to {when_utc(registration.protected_until, time=False)}"
        if approved
        else f"The extension for {registration.customer_name} was turned down"
    )
    notify(
        recipients=_registration_people(registration),
        kind="deals.extension_decided",
        key=f"registration-extension:{extension.pk}:{extension.status}",
        title=title,
        url=reverse("deals:registration-detail", args=[registration.pk]),
    )


def _expiring(registration_id, customer_name, protected_until, recipients) -> dict:
    return {
        "recipients": recipients,
        "kind": "deals.registration_expiring",
        "key": f"registration:{registration_id}:expiring:{protected_until:%Y%m%d%H%M%S}",
        "title": f"The protection of your deal registration for {customer_name} ends on "
        f"{when_utc(protected_until, time=False)}",
        "body": "Win or close it, or request an extension in the portal.",
        "url": reverse("deals:registration-detail", args=[registration_id]),
    }


def registration_expiring(*, registration_id, partner_id, customer_name, protected_until, registered_by_id) -> None:
    """The protection of an approved registration ends soon: its partner's admins and managers, and
    the person who registered it."""
    from django.contrib.auth import get_user_model

    registered_by = get_user_model().objects.filter(pk=registered_by_id).first() if registered_by_id else None
    recipients = partner_recipients(partner_id, roles=("admin", "manager"), users=[registered_by])
    notify(**_expiring(registration_id, customer_name, protected_until, recipients))


def registrations_expiring(rows) -> None:
    """`registration_expiring` for a batch of the expiry task, set-based: rows of (registration id,
    partner id, customer name, protected until, registered by id); the same recipients, found for the
    whole batch in one query, told in one INSERT (partners.notifications.notify_many)."""
    from partners.models import Membership

    partner_ids = {row[1] for row in rows}
    registrants = {row[4] for row in rows if row[4]}
    memberships = (
        Membership.objects.filter(partner_id__in=partner_ids, is_active=True, user__is_active=True)
        .filter(Q(role__in=("admin", "manager")) | Q(user_id__in=registrants))
        .select_related("user")
        .order_by("user_id")
    )
    leads, people = {}, {}
    for membership in memberships:
        if membership.role in ("admin", "manager"):
            leads.setdefault(membership.partner_id, []).append(membership.user)
        people[(membership.partner_id, membership.user_id)] = membership.user
    events = []
    for registration_id, partner_id, name, until, registered_by_id in rows:
        recipients = list(leads.get(partner_id, []))
        registrant = people.get((partner_id, registered_by_id))
        if registrant is not None and registrant not in recipients:
            recipients.append(registrant)
        events.append(_expiring(registration_id, name, until, sorted(recipients, key=lambda user: user.pk)))
    notify_many(events)
