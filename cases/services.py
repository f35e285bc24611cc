"""Every write to cases: opening (with routing and SLA targets), assignment, the status machine,
escalation and hand-back between partner and parent, comments, attachments and the SLA check.
Each function re-asserts the caller's rights, locks the case it moves and writes an audit event."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm

from partners import audit, uploads
from partners import services as partner_services
from partners.access import ParentRole, actor_of
from partners.agreement import ServiceModel
from partners.models import Customer, CustomerRelationship, Membership, Partner
from partners.presentation import label

from . import notices, permissions, sla
from .models import (
    REOPEN_WINDOW,
    Case,
    CaseAttachment,
    CaseComment,
    CaseHandover,
    CaseOrigin,
    CasePriority,
    CaseQueue,
    CaseSlaEvent,
    CaseStatus,
    CloseReason,
    CommentVisibility,
    HandoverKind,
    Party,
    QueueAgent,
    QueueKind,
    RoutingRule,
    SlaEventKind,
    SlaPolicy,
    SlaTarget,
    raised_priority,
)

User = get_user_model()

DEFAULT_PARENT_QUEUE = "Parent support"
DEFAULT_PARTNER_QUEUE = "Support"
MAX_ATTACHMENT_BYTES = getattr(settings, "CASES_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
ALLOWED_ATTACHMENT_TYPES = frozenset(getattr(settings, "CASES_ALLOWED_ATTACHMENT_TYPES", uploads.DEFAULT_ALLOWED_TYPES))


def transition_error(current, target):
    return ValidationError(
        {"status": [f"A case cannot move from “{label(current)}” to “{label(target)}”."]}, code="illegal_transition"
    )


def _lock(case) -> Case:
    # of=("self",): lock only the case row (PostgreSQL refuses to lock the nullable side of a join).
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("queue__calendar", "customer", "partner")
        .get(pk=case.pk)
    )


def _require(allowed: bool, message: str):
    if not allowed:
        raise PermissionDenied(message)


# Configuration (queues, routing rules, SLA policies, calendars) ----------------------------------


def can_configure(user) -> bool:
    """The parent's support leads and admins edit customer-service configuration."""
    return actor_of(user).has_parent_role(ParentRole.SUPPORT)


def config_save(*, user, obj, changed_fields=()):
    """Save a queue, queue agent, routing rule, SLA policy or calendar (from the admin), audited."""
    return partner_services.config_save(user=user, obj=obj, changed_fields=changed_fields, roles=(ParentRole.SUPPORT,))


def config_delete(*, user, obj):
    partner_services.config_delete(user=user, obj=obj, roles=(ParentRole.SUPPORT,))


# Queues and routing ------------------------------------------------------------------------------


def default_queue(*, party: str, partner=None) -> CaseQueue:
    """The parent's default team queue, or the partner's own support queue (created on first use)."""
    if party == Party.PARENT:
        queue = CaseQueue.objects.filter(partner__isnull=True, is_default=True).first()
        if queue is None:
            queue, _ = CaseQueue.objects.get_or_create(
                name=DEFAULT_PARENT_QUEUE, partner=None, defaults={"kind": QueueKind.PARENT, "is_default": True}
            )
        return queue
    queues = CaseQueue.objects.for_partner(partner.pk).filter(kind=QueueKind.PARTNER)
    queue = queues.order_by("-is_default", "id").first()
    if queue is None:
        queue, _ = CaseQueue.objects.get_or_create(
            name=DEFAULT_PARTNER_QUEUE, partner=partner, defaults={"kind": QueueKind.PARTNER, "is_default": True}
        )
    return queue


def _rule_target(rule, case) -> CaseQueue | None:
    if rule.target_queue_id:
        queue = rule.target_queue
    elif case.partner_id:
        queue = (
            CaseQueue.objects.for_partner(case.partner_id)
            .filter(kind=rule.target_partner_queue)
            .order_by("-is_default", "id")
            .first()
        )
        if queue is None and rule.target_partner_queue == QueueKind.PARTNER:
            queue = default_queue(party=Party.PARTNER, partner=case.partner)
    else:
        return None
    if queue is None or queue.party != case.owner_party:
        return None
    if queue.partner_id is not None and queue.partner_id != case.partner_id:
        return None  # Never route a case into another partner's queue.
    return queue


def route(case) -> tuple[CaseQueue, RoutingRule | None]:
    """The first active rule (in order) that matches the case and targets a queue of the owning
    party; otherwise that party's default queue."""
    for rule in RoutingRule.objects.filter(is_active=True).select_related("target_queue").order_by("order", "id"):
        if rule.matches(case):
            queue = _rule_target(rule, case)
            if queue is not None:
                return queue, rule
    return default_queue(party=case.owner_party, partner=case.partner), None


def next_agent(queue):
    """Round robin: the available agent of the queue who was assigned a case longest ago."""
    agents = QueueAgent.objects.select_for_update(of=("self",)).filter(
        queue=queue, is_available=True, user__is_active=True
    )
    if queue.party == Party.PARTNER:
        agents = agents.filter(user__membership__partner_id=queue.partner_id, user__membership__is_active=True)
    else:
        agents = agents.filter(user__is_staff=True, user__membership__isnull=True)
    agent = agents.order_by(F("last_assigned_at").asc(nulls_first=True), "id").select_related("user").first()
    if agent is None:
        return None
    agent.last_assigned_at = timezone.now()
    agent.save(update_fields=["last_assigned_at"])
    return agent.user


def _place(case):
    """Route the case and, if the rule says so, give it to the next agent."""
    queue, rule = route(case)
    case.queue = queue
    case.assignee = next_agent(queue) if (rule is not None and rule.round_robin) else None
    return rule


# SLA ---------------------------------------------------------------------------------------------


def sla_policy_for(case) -> SlaPolicy | None:
    tier_id = case.partner.tier_id if case.partner_id else None
    policies = {p.tier_id: p for p in SlaPolicy.objects.filter(priority=case.priority)}
    return policies.get(tier_id) or policies.get(None)


def _set_sla_targets(case, start, *, first_response=True):
    policy = sla_policy_for(case)
    case.sla_policy = policy
    calendar = case.queue.calendar
    if policy is None:
        case.first_response_due_at = None if first_response else case.first_response_due_at
        case.resolution_due_at = None
        return
    if first_response:
        case.first_response_due_at = sla.due_at(calendar, start, policy.first_response_minutes)
    case.resolution_due_at = sla.due_at(calendar, start, policy.resolution_minutes)


def _retarget(case, now):
    """The priority changed: the new policy's targets apply, keeping the business time already used
    (and the pause, if the case waits on the customer)."""
    old_policy = case.sla_policy
    policy = sla_policy_for(case)
    calendar = case.queue.calendar
    case.sla_policy = policy
    if policy is None:
        case.first_response_due_at = case.resolution_due_at = None
        case.sla_paused_at = case.sla_remaining_seconds = None
        return
    if case.first_response_at is None:
        case.first_response_due_at = sla.due_at(calendar, case.created_at, policy.first_response_minutes)
    if old_policy is None or case.resolution_due_at is None:
        case.resolution_due_at = sla.due_at(calendar, now, policy.resolution_minutes)
        return
    if case.sla_paused_at is not None:
        remaining = case.sla_remaining_seconds or 0
    else:
        remaining = sla.business_seconds_between(calendar, now, case.resolution_due_at)
    used = old_policy.resolution_minutes * 60 - remaining
    left = policy.resolution_minutes * 60 - used
    if case.sla_paused_at is not None:
        case.sla_remaining_seconds = left
    else:
        case.resolution_due_at = sla.add_business_seconds(calendar, now, left) if left > 0 else now


def _pause(case, now):
    if case.sla_paused_at is None and case.resolution_due_at is not None:
        case.sla_remaining_seconds = sla.business_seconds_between(case.queue.calendar, now, case.resolution_due_at)
        case.sla_paused_at = now


def _resume(case, now):
    if case.sla_paused_at is not None:
        remaining = case.sla_remaining_seconds or 0
        if remaining > 0:
            case.resolution_due_at = sla.add_business_seconds(case.queue.calendar, now, remaining)
        case.sla_paused_at = None
        case.sla_remaining_seconds = None


def _responded(case, now):
    if case.first_response_at is None:
        case.first_response_at = now


# The status machine ------------------------------------------------------------------------------


def _move(case, target, now):
    """Every status change goes through here: the transition table, the SLA clock, timestamps."""
    if not case.can_transition_to(target):
        raise transition_error(case.status, target)
    if case.status == CaseStatus.WAITING_ON_CUSTOMER:
        _resume(case, now)
    if target == CaseStatus.WAITING_ON_CUSTOMER:
        _responded(case, now)
        _pause(case, now)
    if target == CaseStatus.RESOLVED:
        _responded(case, now)
        case.resolved_at = now
    if target == CaseStatus.CLOSED:
        case.closed_at = now
    before = case.status
    case.status = target
    return [before, target]


# Opening a case ----------------------------------------------------------------------------------


def _partner_for(actor, user, customer, partner):
    if actor.is_partner:
        if partner is not None and partner.pk != actor.partner_id:
            raise ValidationError({"partner": ["You open cases for your own partner only."]})
        return actor.partner
    if partner is not None:
        if not Partner.objects.for_user(user).filter(pk=partner.pk).exists():
            raise ValidationError({"partner": ["Choose one of your partners."]})
        if (
            customer is not None
            and not CustomerRelationship.objects.filter(customer=customer, partner=partner).exists()
        ):
            raise ValidationError({"partner": ["This partner has no relationship to the customer."]})
        return partner
    if customer is not None:
        relationship = (
            CustomerRelationship.objects.filter(customer=customer).select_related("partner").order_by("since", "id")
        ).first()
        return relationship.partner if relationship else None
    return None


def intake_party(service_model: str, *, opened_by_parent: bool) -> str:
    """Who serves a new case. Parent-only: the parent; partner-only: the partner. Under the dual
    ("either") model it depends on the channel the customer used: a case the parent's staff open
    (the customer contacted the parent) belongs to the parent, one the partner opens to the partner."""
    if service_model == ServiceModel.PARENT_ONLY:
        return Party.PARENT
    if service_model == ServiceModel.EITHER and opened_by_parent:
        return Party.PARENT
    return Party.PARTNER


@transaction.atomic
def case_open(
    *,
    user,
    origin: str,
    category: str,
    subject: str,
    customer=None,
    lead=None,
    lead_reference: str = "",
    priority: str = CasePriority.NORMAL,
    description: str = "",
    product_line=None,
    partner=None,
) -> Case:
    """Open a case about a customer (or a lead). Where it lands follows the agreement's service
    model: parent-only cases go to the parent, the others stay with the partner; then the routing
    rules pick the queue."""
    actor = actor_of(user)
    _require(permissions.can_open_case(user), "You may not open cases.")
    errors = {}
    if lead is not None:
        from deals.models import Lead

        if not Lead.objects.for_user(user).filter(pk=lead.pk).exists():
            raise ValidationError({"lead": ["Unknown lead."]})
        if partner is None and lead.partner_id is not None and actor.is_parent:
            partner = lead.partner
        elif (
            lead.partner_id is not None
            and (partner or actor.partner) is not None
            and lead.partner_id != (partner or actor.partner).pk
        ):
            raise ValidationError({"lead": ["The lead belongs to another partner."]})
        lead_reference = lead_reference or f"Lead {lead.pk}: {lead.company_name}"[:120]
    if customer is None and not lead_reference:
        errors["customer"] = [
            "A case concerns a customer or a lead: choose one, or name a lead from outside the portal."
        ]
    if customer is not None and not Customer.objects.for_user(user).filter(pk=customer.pk).exists():
        errors["customer"] = ["Unknown customer."]
    if origin == CaseOrigin.LEAD and not lead_reference:
        errors["lead_reference"] = ["A case from a lead names the lead."]
    if actor.is_partner and origin == CaseOrigin.PARENT:
        errors["origin"] = ["Partners cannot open cases as the parent."]
    if errors:
        raise ValidationError(errors)
    partner = _partner_for(actor, user, customer, partner)
    service_model = partner.agreement.service_model if partner else ServiceModel.PARENT_ONLY
    owner_party = intake_party(service_model, opened_by_parent=actor.is_parent)
    case = Case(
        partner=partner,
        customer=customer,
        lead=lead,
        lead_reference=lead_reference,
        origin=origin,
        category=category,
        priority=priority,
        subject=subject,
        description=description,
        product_line=product_line,
        service_model=service_model,
        owner_party=owner_party,
        created_by=user,
        created_at=timezone.now(),
    )
    rule = _place(case)
    if case.assignee_id:
        case.status = CaseStatus.ASSIGNED
    _set_sla_targets(case, case.created_at)
    case.full_clean(exclude=["queue", "assignee", "created_by", "sla_policy", "partner", "customer", "product_line"])
    case.save()
    audit.record(
        actor=user,
        verb="case.open",
        obj=case,
        partner=partner,
        changes={
            "queue": [None, case.queue.name],
            "owner_party": [None, case.owner_party],
            "assignee": [None, case.assignee.username if case.assignee else None],
            "routing_rule": [None, rule.name if rule else None],
        },
    )
    notices.case_assigned(case, by=user)  # routed straight to an agent (round robin)
    return case


CASE_EDITABLE = ("subject", "description", "priority", "category", "product_line")


@transaction.atomic
def case_update(*, user, case: Case, **fields) -> Case:
    """Edit the subject, description, priority, category or product line (the party working the case).
    A new priority brings its SLA policy's targets, keeping the business time already used."""
    _require(permissions.can_work(user, case), "You may not work this case.")
    unknown = set(fields) - set(CASE_EDITABLE)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    case = _lock(case)
    before = {name: getattr(case, name) for name in fields}
    old_priority = case.priority
    for name, value in fields.items():
        setattr(case, name, value)
    case.full_clean(exclude=["queue", "assignee", "created_by", "sla_policy", "partner", "customer", "product_line"])
    if case.priority != old_priority and case.is_open:
        _retarget(case, timezone.now())
    case.save()
    changes = audit.diff(before, {name: getattr(case, name) for name in fields})
    if changes:
        audit.record(actor=user, verb="case.update", obj=case, partner=case.partner, changes=changes)
    return case


# Work --------------------------------------------------------------------------------------------


def _agent_of_shared_queue(case, assignee) -> bool:
    agent = actor_of(assignee)
    if agent.is_parent:
        return permissions.is_parent_agent(agent) and agent.may_see_partner(case.partner_id)
    return Membership.objects.filter(
        user=assignee, partner_id=case.partner_id, is_active=True, role__in=permissions.PARTNER_AGENT_ROLES
    ).exists()


def _agent_of_party(case, assignee) -> bool:
    if case.owner_party == Party.PARENT:
        agent = actor_of(assignee)
        return permissions.is_parent_agent(agent) and (
            agent.sees_all_partners or agent.may_see_partner(case.partner_id)
        )
    return Membership.objects.filter(
        user=assignee, partner_id=case.partner_id, is_active=True, role__in=permissions.PARTNER_AGENT_ROLES
    ).exists()


def _take_from_shared_queue(case, *, user, agent):
    """A case in a shared queue is worked by whichever side's agent picks it up: the case becomes
    that party's, and the hand-over history records who took it (also when the party stays)."""
    if case.queue.kind != QueueKind.SHARED:
        return
    party = permissions.party_of(actor_of(agent))
    if party is None:
        return
    before = case.owner_party
    case.owner_party = party
    if before != party:
        case.user_grants.all().delete()
    CaseHandover.objects.create(
        case=case,
        partner=case.partner,
        kind=HandoverKind.TAKE,
        from_party=before,
        to_party=party,
        from_queue=case.queue,
        to_queue=case.queue,
        by=user,
        reason=f"Taken from the shared queue by {agent.get_username()}.",
    )


@transaction.atomic
def case_assign(*, user, case: Case, assignee) -> Case:
    _require(permissions.can_work(user, case), "You may not work this case.")
    case = _lock(case)
    _require(permissions.can_work(user, case), "You may not work this case.")
    if not case.is_open:
        raise transition_error(case.status, CaseStatus.ASSIGNED)
    if assignee is not None and case.queue.kind == QueueKind.SHARED and permissions.is_shared_pickup(case):
        if not _agent_of_shared_queue(case, assignee):
            raise ValidationError({"assignee": ["Choose an agent of the partner or of the parent."]})
        _take_from_shared_queue(case, user=user, agent=assignee)
    if assignee is None or not assignee.is_active or not _agent_of_party(case, assignee):
        raise ValidationError({"assignee": ["Choose an agent of the party that owns the case."]})
    before = case.assignee.username if case.assignee_id else None
    changes = {"assignee": [before, assignee.username]}
    case.assignee = assignee
    if case.status == CaseStatus.NEW:
        changes["status"] = _move(case, CaseStatus.ASSIGNED, timezone.now())
    case.save()
    audit.record(actor=user, verb="case.assign", obj=case, partner=case.partner, changes=changes)
    notices.case_assigned(case, by=user)
    return case


@transaction.atomic
def case_start(*, user, case: Case) -> Case:
    """Start (or resume, after the customer answered) working the case; takes it if nobody has."""
    _require(permissions.can_work(user, case), "You may not work this case.")
    case = _lock(case)
    now = timezone.now()
    if case.status not in (CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.WAITING_ON_CUSTOMER):
        raise transition_error(case.status, CaseStatus.IN_PROGRESS)  # a resolved case reopens with a reason
    changes = {}
    if case.status == CaseStatus.NEW:
        if permissions.is_shared_pickup(case):
            _take_from_shared_queue(case, user=user, agent=user)
        case.assignee = user
        changes["assignee"] = [None, user.username]
        _move(case, CaseStatus.ASSIGNED, now)
        before = CaseStatus.NEW
    else:
        before = case.status
    _move(case, CaseStatus.IN_PROGRESS, now)
    changes["status"] = [before, CaseStatus.IN_PROGRESS]
    case.save()
    audit.record(actor=user, verb="case.start", obj=case, partner=case.partner, changes=changes)
    return case


@transaction.atomic
def case_wait(*, user, case: Case, note: str = "") -> Case:
    """Wait on the customer: the resolution clock stops until work resumes."""
    _require(permissions.can_work(user, case), "You may not work this case.")
    case = _lock(case)
    changes = {"status": _move(case, CaseStatus.WAITING_ON_CUSTOMER, timezone.now())}
    case.save()
    audit.record(actor=user, verb="case.wait", obj=case, partner=case.partner, changes=changes, reason=note)
    return case


@transaction.atomic
def case_resolve(*, user, case: Case, resolution: str) -> Case:
    _require(permissions.can_work(user, case), "You may not work this case.")
    if not resolution.strip():
        raise ValidationError({"resolution": ["Say how the case was resolved."]})
    case = _lock(case)
    changes = {"status": _move(case, CaseStatus.RESOLVED, timezone.now())}
    case.resolution = resolution
    case.save()
    audit.record(actor=user, verb="case.resolve", obj=case, partner=case.partner, changes=changes, reason=resolution)
    return case


@transaction.atomic
def case_reopen(*, user, case: Case, reason: str) -> Case:
    """The customer answered a resolved case: it reopens within 30 days, with a new SLA cycle."""
    _require(permissions.can_reopen(user, case), "You may not reopen this case.")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the case reopens."]})
    case = _lock(case)
    now = timezone.now()
    if case.status == CaseStatus.RESOLVED and case.resolved_at and now > case.resolved_at + REOPEN_WINDOW:
        raise ValidationError(
            {"status": [f"A case reopens within {REOPEN_WINDOW.days} days of its resolution."]}, code="reopen_expired"
        )
    changes = {"status": _move(case, CaseStatus.IN_PROGRESS, now)}
    case.resolved_at = None
    case.resolution = ""
    case.sla_cycle += 1
    case.sla_breached = False
    _set_sla_targets(case, now, first_response=False)
    case.save()
    audit.record(actor=user, verb="case.reopen", obj=case, partner=case.partner, changes=changes, reason=reason)
    return case


@transaction.atomic
def case_close(*, user, case: Case, reason: str, note: str = "") -> Case:
    """Close a resolved case, or close an open one as a duplicate or rejected (with a note)."""
    _require(permissions.can_work(user, case), "You may not work this case.")
    if reason not in CloseReason.values:
        raise ValidationError({"reason": ["Unknown close reason."]})
    case = _lock(case)
    if case.status == CaseStatus.RESOLVED and reason != CloseReason.RESOLVED:
        raise ValidationError({"reason": ["A resolved case closes as resolved."]})
    if case.status != CaseStatus.RESOLVED:
        if reason == CloseReason.RESOLVED:
            raise ValidationError({"reason": ["Resolve the case first, or close it as duplicate or rejected."]})
        if not note.strip():
            raise ValidationError({"note": ["Say why the case is a duplicate or rejected."]})
    changes = {"status": _move(case, CaseStatus.CLOSED, timezone.now()), "close_reason": [None, reason]}
    case.close_reason = reason
    case.save()
    audit.record(actor=user, verb="case.close", obj=case, partner=case.partner, changes=changes, reason=note)
    return case


@transaction.atomic
def case_close_stale(*, case_id: int, now=None) -> bool:
    """Close a resolved case nobody reopened within the window (the system, from the periodic task)."""
    now = now or timezone.now()
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.RESOLVED or case.resolved_at is None:
        return False
    if now <= case.resolved_at + REOPEN_WINDOW:
        return False
    changes = {"status": _move(case, CaseStatus.CLOSED, now), "close_reason": [None, CloseReason.RESOLVED]}
    case.close_reason = CloseReason.RESOLVED
    case.save()
    audit.record(
        actor=None,
        verb="case.close",
        obj=case,
        partner=case.partner,
        changes=changes,
        reason=f"Not reopened within {REOPEN_WINDOW.days} days.",
    )
    return True


@transaction.atomic
def cases_close_stale(*, now=None, limit: int = 1000) -> int:
    """System, set-based: close up to `limit` resolved cases nobody reopened within the window, in
    one UPDATE with one audit event each (one INSERT); the same effect as `case_close_stale` per row."""
    now = now or timezone.now()
    due = list(
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=CaseStatus.RESOLVED, resolved_at__lt=now - REOPEN_WINDOW)
        .order_by("resolved_at", "pk")
        .values_list("pk", "partner_id", "subject")[:limit]
    )
    if not due:
        return 0
    Case.objects.filter(pk__in=[row[0] for row in due], status=CaseStatus.RESOLVED).update(
        status=CaseStatus.CLOSED, closed_at=now, close_reason=CloseReason.RESOLVED, updated_at=now
    )
    audit.record_many(
        actor=None,
        verb="case.close",
        model=Case,
        rows=[(pk, partner_id, f"Case #{pk}: {subject}") for pk, partner_id, subject in due],
        changes={"status": [CaseStatus.RESOLVED, CaseStatus.CLOSED], "close_reason": [None, CloseReason.RESOLVED]},
        reason=f"Not reopened within {REOPEN_WINDOW.days} days.",
    )
    return len(due)


# Changing hands ----------------------------------------------------------------------------------


def _hand_over(*, user, case, kind, to_party, reason, queue=None, extra_changes=None):
    """Move the case to the other party (or another queue): a history row, the queue, the
    assignee and the grants follow; the case goes back to NEW unless round robin takes it."""
    now = timezone.now()
    from_party, from_queue = case.owner_party, case.queue
    case.owner_party = to_party
    if queue is None:
        rule = _place(case)
    else:
        case.queue, case.assignee, rule = queue, None, None
    changes = (extra_changes or {}) | {
        "owner_party": [from_party, to_party],
        "queue": [from_queue.name, case.queue.name],
    }
    target = CaseStatus.ASSIGNED if case.assignee_id else CaseStatus.NEW
    if case.status != target:
        changes["status"] = _move(case, target, now)
    case.save()
    # Access moves with the case: per-person grants of the party that gave it up end.
    if from_party != to_party:
        case.user_grants.all().delete()
    handover = CaseHandover.objects.create(
        case=case,
        partner=case.partner,
        kind=kind,
        from_party=from_party,
        to_party=to_party,
        from_queue=from_queue,
        to_queue=case.queue,
        by=user,
        reason=reason,
        created_at=now,
    )
    if rule is not None:
        changes["routing_rule"] = [None, rule.name]
    audit.record(actor=user, verb=f"case.{kind}", obj=case, partner=case.partner, changes=changes, reason=reason)
    notices.case_handed_over(case, handover)
    notices.case_assigned(case, by=user)
    return case


@transaction.atomic
def case_escalate(*, user, case: Case, reason: str) -> Case:
    """The partner hands the case to the parent, which then owns it; the partner keeps seeing it."""
    _require(permissions.can_escalate(user, case), "You may not escalate this case.")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the case is escalated."]})
    case = _lock(case)
    _require(permissions.can_escalate(user, case), "You may not escalate this case.")
    case.handed_back = False
    return _hand_over(user=user, case=case, kind=HandoverKind.ESCALATE, to_party=Party.PARENT, reason=reason)


@transaction.atomic
def case_hand_back(*, user, case: Case, reason: str) -> Case:
    """The parent gives an escalated case back to the partner's queue it came from."""
    _require(permissions.can_hand_back(user, case), "You may not hand this case back.")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the case is handed back."]})
    case = _lock(case)
    _require(permissions.can_hand_back(user, case), "You may not hand this case back.")
    last = (
        CaseHandover.objects.for_partner(case.partner_id)
        .filter(case=case, to_party=Party.PARENT, from_party=Party.PARTNER)
        .select_related("from_queue")
        .order_by("-created_at", "-id")
        .first()
    )
    queue = last.from_queue if last and last.from_queue and last.from_queue.partner_id == case.partner_id else None
    queue = queue or default_queue(party=Party.PARTNER, partner=case.partner)
    case.handed_back = True
    return _hand_over(
        user=user, case=case, kind=HandoverKind.HAND_BACK, to_party=Party.PARTNER, reason=reason, queue=queue
    )


# Per-person grants -------------------------------------------------------------------------------


@transaction.atomic
def case_share(*, user, case: Case, with_user) -> None:
    """Share one case with one colleague of the same partner who would not see it by role (a rep),
    as a django-guardian object grant. Grants end when the case changes party."""
    actor = actor_of(user)
    target = getattr(with_user, "membership", None)
    if (
        not permissions.is_partner_agent(actor, case)
        or target is None
        or not target.is_active
        or target.partner_id != case.partner_id
    ):
        raise PermissionDenied("You may share cases only with your own colleagues.")
    if case.user_grants.filter(user=with_user).exists():
        return
    assign_perm("cases.view_case", with_user, case)
    audit.record(
        actor=user,
        verb="case.share",
        obj=case,
        partner=case.partner,
        changes={"shared_with": [None, with_user.username]},
    )


# Conversation ------------------------------------------------------------------------------------


@transaction.atomic
def case_comment_add(*, user, case: Case, body: str, visibility: str = CommentVisibility.SHARED) -> CaseComment:
    actor = actor_of(user)
    if visibility not in CommentVisibility.values:
        raise ValidationError({"visibility": ["Unknown visibility."]})
    if not permissions.comment_visibilities(user, case):
        raise PermissionDenied("You may not comment on this case.")
    if not permissions.can_comment(user, case, visibility):
        raise ValidationError({"visibility": ["You may write shared comments or ones internal to your side."]})
    if not body.strip():
        raise ValidationError({"body": ["Write something."]})
    party = permissions.party_of(actor)
    comment = CaseComment.objects.create(
        case=case, partner=case.partner, author=user, author_party=party, visibility=visibility, body=body
    )
    if visibility == CommentVisibility.SHARED and party == case.owner_party:
        case = _lock(case)
        if case.first_response_at is None:
            case.first_response_at = comment.created_at
            case.save(update_fields=["first_response_at", "updated_at"])
    audit.record(
        actor=user, verb="case.comment", obj=case, partner=case.partner, changes={"visibility": [None, visibility]}
    )
    return comment


def validate_upload(upload):
    return uploads.validate_upload(upload, max_bytes=MAX_ATTACHMENT_BYTES, allowed_types=ALLOWED_ATTACHMENT_TYPES)


@transaction.atomic
def case_attachment_add(*, user, case: Case, file, visibility: str = CommentVisibility.SHARED) -> CaseAttachment:
    actor = actor_of(user)
    if not permissions.comment_visibilities(user, case):
        raise PermissionDenied("You may not add files to this case.")
    if visibility not in CommentVisibility.values or not permissions.can_comment(user, case, visibility):
        raise ValidationError({"visibility": ["You may share a file or keep it internal to your side."]})
    content_type = validate_upload(file)
    name = uploads.upload_name(file)
    attachment = CaseAttachment(
        case=case,
        partner=case.partner,
        uploaded_by=user,
        uploader_party=permissions.party_of(actor),
        visibility=visibility,
        filename=name,
        content_type=content_type,
        size=file.size,
    )
    attachment.file.save(name, file, save=False)
    attachment.save()
    audit.record(actor=user, verb="case.attach", obj=case, partner=case.partner, changes={"file": [None, name]})
    return attachment


# SLA check (called by the periodic task) ---------------------------------------------------------


def _sla_event(case, target, kind, due) -> bool:
    """Record the event once; False when it was already recorded (the task ran before)."""
    try:
        with transaction.atomic():
            _, created = CaseSlaEvent.objects.get_or_create(
                case=case,
                target=target,
                kind=kind,
                cycle=case.sla_cycle,
                defaults={"partner": case.partner, "due_at": due},
            )
    except IntegrityError:
        return False
    return created


def _escalate_on_breach(case, target, now):
    changes = {"priority": [case.priority, raised_priority(case.priority)], "sla_breached": [False, True]}
    case.priority = raised_priority(case.priority)
    case.sla_breached = True
    supervisor = case.queue.supervisor_queue
    # The supervisor queue must belong to the party that owns the case (and never to another partner).
    moves = (
        supervisor is not None
        and supervisor.pk != case.queue_id
        and supervisor.party == case.owner_party
        and supervisor.partner_id in (None, case.partner_id)
    )
    if moves:
        _hand_over(
            user=None,
            case=case,
            kind=HandoverKind.SLA_BREACH,
            to_party=case.owner_party,
            reason=f"{target.replace('_', ' ').capitalize()} target breached.",
            queue=supervisor,
            extra_changes=changes,
        )
    else:
        case.save()
        audit.record(actor=None, verb="case.sla_breach", obj=case, partner=case.partner, changes=changes)


@transaction.atomic
def case_sla_check(*, case_id: int, now=None) -> list[str]:
    """Warn before, and escalate on, a breach of the case's SLA targets; each once per cycle."""
    now = now or timezone.now()
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("queue__calendar", "queue__supervisor_queue", "sla_policy", "assignee", "partner")
        .filter(pk=case_id)
        .first()
    )
    if case is None or not case.is_open or case.sla_paused_at is not None or case.sla_policy is None:
        return []
    done = []
    warn_seconds = case.sla_policy.warn_before_minutes * 60
    targets = [(SlaTarget.RESOLUTION, case.resolution_due_at)]
    if case.first_response_at is None:
        targets.insert(0, (SlaTarget.FIRST_RESPONSE, case.first_response_due_at))
    for target, due in targets:
        if due is None:
            continue
        breached = now >= due
        warning = not breached and sla.business_seconds_between(case.queue.calendar, now, due) <= warn_seconds
        if not (breached or warning):
            continue
        kind = SlaEventKind.BREACH if breached else SlaEventKind.WARNING
        if not _sla_event(case, target, kind, due):
            continue  # Already done by an earlier run.
        if breached:
            _escalate_on_breach(case, target, now)
        else:
            notices.sla_warning(case, target, due)
            audit.record(
                actor=None, verb="case.sla_warning", obj=case, partner=case.partner, changes={"target": [None, target]}
            )
        done.append(f"{target}:{kind}")
    return done


def parent_agents():
    return User.objects.filter(
        is_active=True, is_staff=True, membership__isnull=True, groups__name__in=[ParentRole.SUPPORT, ParentRole.ADMIN]
    ).distinct()
