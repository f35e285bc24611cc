"""What the cases domain tells people, in words: called by cases.services inside the transaction that
changes the case (partners.notifications sends each once, after commit)."""

from django.urls import reverse

from partners.access import ParentRole
from partners.notifications import notify, parent_recipients, partner_recipients
from partners.presentation import when_utc

from .models import QueueAgent

PARTNER_AGENTS = ("admin", "manager", "support")


def _url(case):
    return reverse("cases:case-detail", args=[case.pk])


def case_assigned(case, *, by) -> None:
    if case.assignee_id is None or case.assignee_id == getattr(by, "pk", None):
        return
    notify(
        recipients=[case.assignee],
        kind="cases.case_assigned",
        key=f"case:{case.pk}:assigned:{case.assignee_id}:{case.sla_cycle}:{case.updated_at:%Y%m%d%H%M%S}",
        title=f"Case #{case.pk} is assigned to you: {case.subject}",
        body=f"Priority: {case.get_priority_display()}.",
        url=_url(case),
    )


def case_handed_over(case, handover) -> None:
    """Escalation: the parent's support people hear of it. Hand back: the partner's agents do."""
    kind = handover.kind
    if kind == "escalate":
        recipients = parent_recipients(roles=(ParentRole.SUPPORT,), partner_id=case.partner_id)
        title = f"Case #{case.pk} escalated to you: {case.subject}"
        notice_kind = "cases.case_escalated"
    elif kind == "hand_back" and case.partner_id:
        recipients = partner_recipients(case.partner_id, roles=PARTNER_AGENTS)
        title = f"Case #{case.pk} was handed back to your team: {case.subject}"
        notice_kind = "cases.case_handed_back"
    else:
        return
    notify(
        recipients=recipients,
        kind=notice_kind,
        key=f"case:{case.pk}:{kind}:{handover.pk}",
        title=title,
        body=handover.reason,
        url=_url(case),
    )


def sla_warning(case, target, due) -> None:
    if case.assignee_id and case.assignee.is_active:
        recipients = [case.assignee]
    else:
        recipients = [
            agent.user
            for agent in QueueAgent.objects.filter(queue_id=case.queue_id, is_available=True).select_related("user")
        ]
    what = "first response" if target == "first_response" else "resolution"
    notify(
        recipients=recipients,
        kind="cases.sla_warning",
        key=f"case:{case.pk}:sla-warning:{target}:{case.sla_cycle}",
        title=f"Case #{case.pk} is close to breaching its {what} target (due {when_utc(due)})",
        body=case.subject,
        url=_url(case),
    )
