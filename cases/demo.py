"""Demo data for `seed_demo`: calendars, SLA policies, queues with their agents, routing rules, and
cases for every service model (an escalated one, a handed-back one, one near breach). Idempotent:
a case whose subject exists is left alone."""

import datetime

from django.db import transaction
from django.utils import timezone

from . import services
from .models import (
    BusinessCalendar,
    Case,
    CaseQueue,
    QueueAgent,
    QueueKind,
    RoutingRule,
    SlaPolicy,
)

CALENDARS = {
    "US": ("US office hours", "America/New_York"),
    "GB": ("UK office hours", "Europe/London"),
    "DE": ("DACH office hours", "Europe/Berlin"),
    "FR": ("France office hours", "Europe/Paris"),
}
# priority: (first response, resolution) in business minutes
SLA = {"low": (8 * 60, 40 * 60), "normal": (4 * 60, 16 * 60), "high": (2 * 60, 8 * 60), "urgent": (60, 4 * 60)}


def _calendar(country):
    name, tz = CALENDARS.get(country, ("UTC office hours", "UTC"))
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name=name, defaults={"time_zone": tz, "opens_at": datetime.time(8), "closes_at": datetime.time(18)}
    )
    return calendar


def _queue(name, kind, partner=None, **defaults):
    queue, _ = CaseQueue.objects.get_or_create(name=name, partner=partner, defaults={"kind": kind, **defaults})
    return queue


def _agent(queue, user):
    QueueAgent.objects.get_or_create(queue=queue, user=user)


def _open(say, user, subject, **fields):
    existing = Case.objects.filter(subject=subject).first()
    if existing is not None:
        return existing, False
    case = services.case_open(user=user, subject=subject, **fields)
    say(f"  case #{case.pk} {subject}")
    return case, True


@transaction.atomic
def seed(context, stdout=None):
    say = stdout.write if stdout else (lambda msg: None)
    partners, people, customers = context["partners"], context["people"], context["customers"]
    staff, tiers = context["staff"], context["tiers"]
    support = staff["parent-support"]

    for priority, (first, resolution) in SLA.items():
        SlaPolicy.objects.get_or_create(
            priority=priority,
            tier=None,
            defaults={
                "name": f"{priority.title()} (standard)",
                "first_response_minutes": first,
                "resolution_minutes": resolution,
                "warn_before_minutes": 60 if priority in ("low", "normal") else 30,
            },
        )
    SlaPolicy.objects.get_or_create(
        priority="urgent",
        tier=tiers["Platinum"],
        defaults={
            "name": "Urgent (Platinum)",
            "first_response_minutes": 30,
            "resolution_minutes": 120,
            "warn_before_minutes": 20,
        },
    )

    parent_calendar = _calendar("US")
    supervisors = _queue("Support supervisors", QueueKind.PARENT, calendar=parent_calendar)
    parent_default = CaseQueue.objects.filter(partner__isnull=True, is_default=True).first() or _queue(
        services.DEFAULT_PARENT_QUEUE,
        QueueKind.PARENT,
        calendar=parent_calendar,
        is_default=True,
        supervisor_queue=supervisors,
    )
    tier2 = _queue("Tier 2 engineering", QueueKind.PARENT, calendar=parent_calendar, supervisor_queue=supervisors)
    for queue in (supervisors, parent_default, tier2):
        _agent(queue, support)
    partner_queues = {}
    for slug, partner in partners.items():
        calendar = _calendar(partner.country)
        queue = _queue(services.DEFAULT_PARTNER_QUEUE, QueueKind.PARTNER, partner, calendar=calendar, is_default=True)
        escalations = _queue(f"{partner.brand_name} escalations", QueueKind.PARTNER, partner, calendar=calendar)
        queue.supervisor_queue = escalations
        queue.save(update_fields=["supervisor_queue"])
        partner_queues[slug] = queue
        _agent(queue, people[f"{slug}-support"])
        _agent(escalations, people[f"{slug}-admin"])
    shared = _queue("Shared desk", QueueKind.SHARED, partners["tailspin"], calendar=_calendar("US"))
    _agent(shared, people["tailspin-support"])

    if not RoutingRule.objects.exists():
        RoutingRule.objects.create(
            order=10,
            name="Urgent technical cases to Tier 2 (round robin)",
            category="technical",
            priority="urgent",
            target_queue=tier2,
            round_robin=True,
        )
        RoutingRule.objects.create(
            order=20, name="Escalated technical cases to Tier 2", category="technical", target_queue=tier2
        )
        RoutingRule.objects.create(
            order=30,
            name="Complaints under the either model to the shared desk",
            category="complaint",
            service_model="either",
            target_partner_queue=QueueKind.SHARED,
        )

    # Parent only (referral): the partner opened it and follows its status; the parent works it.
    case, new = _open(
        say,
        people["northwind-rep"],
        "Invoice shows the wrong billing contact",
        customer=customers["Blue Yonder Airlines"],
        origin="partner",
        category="billing",
    )
    if new:
        services.case_assign(user=support, case=case, assignee=support)
        services.case_start(user=support, case=case)
        services.case_comment_add(
            user=support, case=case, body="Corrected the contact; reissuing.", visibility="shared"
        )

    # Parent only (registration, parent retains): shared and internal comments.
    case, new = _open(
        say,
        people["contoso-support"],
        "SSO login failures after certificate rotation",
        customer=customers["Adventure Works Cycles Ltd"],
        origin="email",
        category="technical",
        priority="high",
    )
    if new:
        services.case_comment_add(
            user=people["contoso-support"], case=case, body="Customer is on a deadline Friday.", visibility="shared"
        )
        services.case_comment_add(
            user=support, case=case, body="Same root cause as the IdP incident last week.", visibility="parent_internal"
        )
    _open(
        say,
        support,
        "Pricing question from the Dublin expo",
        lead_reference="Lead: Margie's Travel (Dublin expo)",
        partner=partners["contoso"],
        customer=customers["Margie's Travel"],
        origin="lead",
        category="sales_inquiry",
    )

    # Partner only (registration & retention): worked by the partner; one near breach.
    case, new = _open(
        say,
        people["fabrikam-support"],
        "Backup restore slower than expected",
        customer=customers["Proseware GmbH"],
        origin="phone",
        category="technical",
    )
    if new:
        agent = people["fabrikam-support"]
        services.case_start(user=agent, case=case)
        services.case_comment_add(
            user=agent, case=case, body="Check the vault region first.", visibility="partner_internal"
        )
    case, new = _open(
        say,
        people["fabrikam-support"],
        "Storage quota reached, writes failing",
        customer=customers["Alpine Ski House AG"],
        origin="web",
        category="technical",
        priority="high",
    )
    if new:
        agent = people["fabrikam-support"]
        services.case_start(user=agent, case=case)
        # Near breach: the resolution target is half an hour away.
        now = timezone.now()
        Case.objects.filter(pk=case.pk).update(
            first_response_at=now, resolution_due_at=now + datetime.timedelta(minutes=30)
        )

    # Either (dual): simple cases stay with the partner; one escalated, one escalated and handed back.
    tailspin = people["tailspin-support"]
    case, new = _open(
        say,
        tailspin,
        "Billing address change",
        customer=customers["Trey Research Inc"],
        origin="email",
        category="account_change",
    )
    if new:
        services.case_start(user=tailspin, case=case)
    case, new = _open(
        say,
        tailspin,
        "Kubernetes cluster upgrade stuck",
        customer=customers["Wide World Importers"],
        origin="phone",
        category="technical",
        priority="high",
    )
    if new:
        case = services.case_escalate(user=tailspin, case=case, reason="Control plane issue; needs engineering.")
        services.case_start(user=support, case=case)
    case, new = _open(
        say,
        tailspin,
        "Firewall rule review",
        customer=customers["Trey Research Inc"],
        origin="web",
        category="technical",
    )
    if new:
        case = services.case_escalate(user=tailspin, case=case, reason="Unsure whether the WAF blocks the API.")
        services.case_hand_back(
            user=support, case=case, reason="The WAF is fine; the customer's own proxy blocks it. Partner can advise."
        )
    _open(
        say,
        tailspin,
        "Customer unhappy with response times",
        customer=customers["Graphic Design Institute"],
        origin="partner",
        category="complaint",
    )

    # Partner only (white label): waiting on the customer, and one resolved.
    wingtip = people["wingtip-support"]
    case, new = _open(
        say,
        wingtip,
        "Cannot reach the admin console",
        customer=customers["Fourth Coffee SARL"],
        origin="phone",
        category="technical",
    )
    if new:
        services.case_start(user=wingtip, case=case)
        services.case_wait(user=wingtip, case=case, note="Asked for a HAR file.")
    case, new = _open(
        say,
        wingtip,
        "Add two seats to the subscription",
        customer=customers["School of Fine Art"],
        origin="email",
        category="account_change",
    )
    if new:
        services.case_start(user=wingtip, case=case)
        services.case_resolve(user=wingtip, case=case, resolution="Seats added.")
    return {"queues": partner_queues, "parent_queue": parent_default}
