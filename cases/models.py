"""Cases concerning a customer (or a lead), the queues they sit in, the rules that route them, the
SLA policies and business calendars that time them, and their conversation, attachments and
hand-over history."""

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from partners import uploads
from partners.access import ParentRole, TenantQuerySet
from partners.agreement import PostWinVisibility, ServiceModel
from partners.models import country_code

REOPEN_WINDOW = datetime.timedelta(days=30)
# Parent staff whose function includes customer service (admins hold every role).
PARENT_CASE_READERS = (ParentRole.SUPPORT, ParentRole.CHANNEL_MANAGER, ParentRole.SALES, ParentRole.FRAUD_ANALYST)


# Choices -----------------------------------------------------------------------------------------


class CaseOrigin(models.TextChoices):
    LEAD = "lead", _("Lead")
    PHONE = "phone", _("Customer by phone")
    EMAIL = "email", _("Customer by email")
    WEB = "web", _("Customer on the web")
    PARTNER = "partner", _("Partner on the customer's behalf")
    PARENT = "parent", _("Parent")


class CaseCategory(models.TextChoices):
    SALES_INQUIRY = "sales_inquiry", _("Sales inquiry")
    BILLING = "billing", _("Billing")
    TECHNICAL = "technical", _("Technical")
    ACCOUNT_CHANGE = "account_change", _("Account change")
    COMPLAINT = "complaint", _("Complaint")


# Under the "either" service model the partner's agents work these themselves and escalate the rest.
SIMPLE_CATEGORIES = frozenset({CaseCategory.SALES_INQUIRY, CaseCategory.BILLING, CaseCategory.ACCOUNT_CHANGE})


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = [CasePriority.LOW, CasePriority.NORMAL, CasePriority.HIGH, CasePriority.URGENT]


def raised_priority(priority: str) -> str:
    index = PRIORITY_ORDER.index(CasePriority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The one place the state machine lives. Moves back to NEW happen only when a case changes hands
# (escalation, hand-back, SLA breach) and nobody in the new queue has taken it yet.
CASE_TRANSITIONS = {
    CaseStatus.NEW: {CaseStatus.ASSIGNED, CaseStatus.CLOSED},
    CaseStatus.ASSIGNED: {CaseStatus.IN_PROGRESS, CaseStatus.NEW, CaseStatus.CLOSED},
    CaseStatus.IN_PROGRESS: {
        CaseStatus.WAITING_ON_CUSTOMER,
        CaseStatus.RESOLVED,
        CaseStatus.NEW,
        CaseStatus.ASSIGNED,
        CaseStatus.CLOSED,
    },
    CaseStatus.WAITING_ON_CUSTOMER: {
        CaseStatus.IN_PROGRESS,
        CaseStatus.RESOLVED,
        CaseStatus.NEW,
        CaseStatus.ASSIGNED,
        CaseStatus.CLOSED,
    },
    CaseStatus.RESOLVED: {CaseStatus.IN_PROGRESS, CaseStatus.CLOSED},
    CaseStatus.CLOSED: set(),
}
OPEN_STATUSES = [
    CaseStatus.NEW,
    CaseStatus.ASSIGNED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING_ON_CUSTOMER,
]


class CloseReason(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Rejected")


class Party(models.TextChoices):
    PARTNER = "partner", _("Partner")
    PARENT = "parent", _("Parent")


class QueueKind(models.TextChoices):
    PARTNER = "partner", _("Partner queue")
    PARENT = "parent", _("Parent team queue")
    SHARED = "shared", _("Shared (partner and parent)")


class CommentVisibility(models.TextChoices):
    SHARED = "shared", _("Shared with the other party")
    PARTNER_INTERNAL = "partner_internal", _("Internal to the partner")
    PARENT_INTERNAL = "parent_internal", _("Internal to the parent")


# Business calendars and SLA policies (parent configuration, not tenant data) ---------------------


def validate_time_zone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {value!r}.")


def validate_weekdays(value):
    try:
        days = [int(d) for d in value.split(",") if d.strip() != ""]
    except ValueError:
        raise ValidationError("Use weekday numbers 0 (Monday) to 6 (Sunday), separated by commas.")
    if not days or any(d < 0 or d > 6 for d in days):
        raise ValidationError("Use weekday numbers 0 (Monday) to 6 (Sunday), separated by commas.")


class BusinessCalendar(models.Model):
    """When a queue works: weekdays and one daily window, in a time zone."""

    name = models.CharField(max_length=80, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    weekdays = models.CharField(
        max_length=20, default="0,1,2,3,4", validators=[validate_weekdays], help_text="0 = Monday … 6 = Sunday."
    )
    opens_at = models.TimeField(default=datetime.time(9, 0))
    closes_at = models.TimeField(default=datetime.time(17, 0))

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="calendar_window")]

    def __str__(self):
        return f"{self.name} ({self.time_zone})"

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def working_weekdays(self) -> frozenset:
        return frozenset(int(d) for d in self.weekdays.split(",") if d.strip() != "")


class SlaPolicy(models.Model):
    """First-response and resolution targets for a priority, optionally for one program tier."""

    name = models.CharField(max_length=80)
    priority = models.CharField(max_length=10, choices=CasePriority.choices)
    tier = models.ForeignKey(
        "partners.ProgramTier",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text="Empty: applies to every tier without its own policy, and to direct customers.",
    )
    first_response_minutes = models.PositiveIntegerField(help_text="Business minutes.")
    resolution_minutes = models.PositiveIntegerField(help_text="Business minutes.")
    warn_before_minutes = models.PositiveIntegerField(
        default=60, help_text="Warn the owner this many business minutes before a breach."
    )

    class Meta:
        ordering = ["priority", "tier__rank"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["priority", "tier"], name="sla_policy_per_tier"),
            models.UniqueConstraint(
                fields=["priority"], condition=Q(tier__isnull=True), name="sla_policy_default_per_priority"
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=models.F("first_response_minutes")), name="sla_policy_order"
            ),
        ]

    def __str__(self):
        return self.name


# Queues ------------------------------------------------------------------------------------------


class CaseQueueQuerySet(TenantQuerySet):
    """Partners see their own queues (partner and shared); parent staff see the parent's team queues
    and the queues of the partners they see."""

    def _partner_in(self, partner_ids):
        return Q(partner__in=sorted(partner_ids)) | Q(partner__isnull=True)

    def visible_to_partner(self, actor):
        return self.filter(partner_id=actor.partner_id)


class CaseQueue(models.Model):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=QueueKind.choices)
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="case_queues",
        help_text="The partner of a partner or shared queue; empty for the parent's team queues.",
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    supervisor_queue = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where a case goes when its SLA is breached.",
    )
    is_default = models.BooleanField(
        default=False,
        help_text="Where cases land when no routing rule matches: one for the parent, one per partner.",
    )
    agents = models.ManyToManyField(settings.AUTH_USER_MODEL, through="QueueAgent", related_name="case_queues")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CaseQueueQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "name"], name="queue_name_per_partner"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(partner__isnull=True), name="parent_queue_name_unique"
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True, partner__isnull=True),
                name="one_default_parent_queue",
            ),
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(is_default=True, partner__isnull=False),
                name="one_default_partner_queue",
            ),
            models.CheckConstraint(
                condition=(Q(kind="parent") & Q(partner__isnull=True))
                | (Q(kind__in=["partner", "shared"]) & Q(partner__isnull=False)),
                name="queue_kind_partner",
            ),
            models.CheckConstraint(condition=Q(is_default=False) | ~Q(kind="shared"), name="default_queue_not_shared"),
        ]
        indexes = [models.Index(fields=["partner", "kind"])]

    def __str__(self):
        return self.name

    @property
    def party(self) -> str:
        return Party.PARENT if self.kind == QueueKind.PARENT else Party.PARTNER


class QueueAgent(models.Model):
    """A person who works a queue; round-robin assignment picks the available one idle longest."""

    queue = models.ForeignKey(CaseQueue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    is_available = models.BooleanField(default=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queue", "user__username"]
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="queue_agent_unique")]

    def __str__(self):
        return f"{self.user} in {self.queue}"

    def clean(self):
        # A partner's queue is worked by that partner's people; the parent's by its staff.
        from partners.models import Membership

        if self.queue_id is None or self.user_id is None:
            return
        membership = Membership.objects.filter(user_id=self.user_id, is_active=True).first()
        if self.queue.partner_id is not None:
            if membership is None or membership.partner_id != self.queue.partner_id:
                raise ValidationError({"user": "Only this partner's people work its queues."})
        elif membership is not None or not self.user.is_staff:
            raise ValidationError({"user": "Only the parent's staff work the parent's queues."})


class RoutingRule(models.Model):
    """Evaluated in `order` when a case is created or escalated; the first that matches (and whose
    target belongs to the party that owns the case) decides the queue. Empty criteria match all."""

    order = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    category = models.CharField(max_length=20, choices=CaseCategory.choices, blank=True)
    priority = models.CharField(max_length=10, choices=CasePriority.choices, blank=True)
    customer_country = models.CharField(max_length=2, blank=True, validators=[country_code])
    product_line = models.ForeignKey(
        "partners.ProductLine", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    service_model = models.CharField(max_length=20, choices=ServiceModel.choices, blank=True)
    target_queue = models.ForeignKey(
        CaseQueue,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text="A parent team queue (or one partner's queue).",
    )
    target_partner_queue = models.CharField(
        max_length=10,
        choices=[
            (QueueKind.PARTNER, "The case partner's own queue"),
            (QueueKind.SHARED, "The case partner's shared queue"),
        ],
        blank=True,
        help_text="Instead of a fixed queue: the queue of this kind of the partner the case concerns.",
    )
    round_robin = models.BooleanField(default=False, help_text="Assign to the next available agent of the queue.")

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(target_queue__isnull=False) & Q(target_partner_queue=""))
                | (Q(target_queue__isnull=True) & ~Q(target_partner_queue="")),
                name="routing_rule_one_target",
            )
        ]

    def __str__(self):
        return f"{self.order}. {self.name}"

    def matches(self, case) -> bool:
        customer = case.customer
        return (
            (not self.category or self.category == case.category)
            and (not self.priority or self.priority == case.priority)
            and (not self.customer_country or (customer is not None and customer.country == self.customer_country))
            and (self.product_line_id is None or self.product_line_id == case.product_line_id)
            and (not self.service_model or self.service_model == case.service_model)
        )


# Cases -------------------------------------------------------------------------------------------


class CaseQuerySet(TenantQuerySet):
    """A partner sees the cases of its partner (reps and marketing: the ones they opened, are
    assigned or were granted), whoever works them: hand-overs never change `partner`, so a case is
    never visible to a third partner. Parent staff see every case of the partners they see."""

    owner_path = "created_by"
    grant_model_label = "cases.CaseUserObjectPermission"

    def visible_to_parent(self, actor):
        if not actor.has_parent_role(*PARENT_CASE_READERS):
            return self.none()
        return self

    def visible_to_partner(self, actor):
        qs = self.filter(partner_id=actor.partner_id)
        if actor.sees_partner_wide:
            return qs
        return qs.filter(self.owned_or_shared(actor) | Q(assignee_id=actor.user_id))

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Case(models.Model):
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        help_text="The partner involved; empty for the parent's direct customers.",
    )
    customer = models.ForeignKey(
        "partners.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    lead_reference = models.CharField(
        max_length=120, blank=True, help_text="For a case from a lead: the lead it came from (id or name)."
    )
    lead = models.ForeignKey(
        "deals.Lead",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        help_text="For a case from a lead of the shared system: the lead itself.",
    )
    origin = models.CharField(max_length=10, choices=CaseOrigin.choices)
    category = models.CharField(max_length=20, choices=CaseCategory.choices)
    priority = models.CharField(max_length=10, choices=CasePriority.choices, default=CasePriority.NORMAL)
    product_line = models.ForeignKey(
        "partners.ProductLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    # The service model of the agreement when the case was opened, and who owns (works) it now.
    service_model = models.CharField(max_length=20, choices=ServiceModel.choices)
    owner_party = models.CharField(max_length=10, choices=Party.choices)
    queue = models.ForeignKey(CaseQueue, on_delete=models.PROTECT, related_name="cases")
    handed_back = models.BooleanField(
        default=False, help_text="The parent handed the case back: the partner works it whatever its category."
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(max_length=10, choices=CloseReason.choices, blank=True)
    resolution = models.TextField(blank=True)
    # SLA: due times in the queue's business calendar; the resolution clock pauses while waiting
    # on the customer (the business time left is kept and added back when it resumes).
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sla_cycle = models.PositiveSmallIntegerField(default=1, help_text="Counts reopenings; SLA events are per cycle.")
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_remaining_seconds = models.IntegerField(null=True, blank=True)
    sla_breached = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("work_case", "Work this case")]
        indexes = [
            models.Index(fields=["partner", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["queue", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["status", "resolution_due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | ~Q(lead_reference=""), name="case_concerns_customer_or_lead"
            ),
            models.CheckConstraint(condition=~Q(status="closed") | ~Q(close_reason=""), name="closed_case_has_reason"),
        ]

    def __str__(self):
        return f"Case #{self.pk}: {self.subject}"

    def can_transition_to(self, status) -> bool:
        return status in CASE_TRANSITIONS[CaseStatus(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def reopen_until(self) -> datetime.datetime | None:
        return self.resolved_at + REOPEN_WINDOW if self.resolved_at else None


class CaseUserObjectPermission(UserObjectPermissionBase):
    """One case shared with one person (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        pass


class PartyItemQuerySet(TenantQuerySet):
    """Comments and attachments: scoped like their case, and what one party marked internal never
    reaches the other. A referral-type partner sees no conversation at all, only the status."""

    def visible_to_partner(self, actor):
        if actor.agreement.post_win_visibility == PostWinVisibility.STATUS_ONLY:
            return self.none()
        cases = Case.objects.visible_to_partner(actor)
        qs = self.filter(partner_id=actor.partner_id).exclude(visibility=CommentVisibility.PARENT_INTERNAL)
        if actor.sees_partner_wide:
            return qs
        return qs.filter(Exists(cases.filter(pk=OuterRef("case_id"))))

    def visible_to_parent(self, actor):
        if not actor.has_parent_role(*PARENT_CASE_READERS):
            return self.none()
        return self.exclude(visibility=CommentVisibility.PARTNER_INTERNAL)


class CaseComment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    author_party = models.CharField(max_length=10, choices=Party.choices)
    visibility = models.CharField(max_length=20, choices=CommentVisibility.choices, default=CommentVisibility.SHARED)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PartyItemQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"]), models.Index(fields=["partner", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(author_party="partner", visibility="parent_internal")
                & ~Q(author_party="parent", visibility="partner_internal"),
                name="comment_internal_to_own_party",
            )
        ]

    def __str__(self):
        return f"Comment on case #{self.case_id}"


def attachment_path(instance, filename):
    return uploads.private_path("case-attachments", instance.case_id, filename)


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploader_party = models.CharField(max_length=10, choices=Party.choices)
    visibility = models.CharField(max_length=20, choices=CommentVisibility.choices, default=CommentVisibility.SHARED)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PartyItemQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"]), models.Index(fields=["partner", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(uploader_party="partner", visibility="parent_internal")
                & ~Q(uploader_party="parent", visibility="partner_internal"),
                name="attachment_internal_to_own_party",
            )
        ]

    def __str__(self):
        return self.filename


class HandoverKind(models.TextChoices):
    ESCALATE = "escalate", _("Escalated")
    HAND_BACK = "hand_back", _("Handed back")
    SLA_BREACH = "sla_breach", _("SLA breach")
    REROUTE = "reroute", _("Re-routed")
    TAKE = "take", _("Taken from a shared queue")


class CaseHandoverQuerySet(TenantQuerySet):
    def visible_to_parent(self, actor):
        return self if actor.has_parent_role(*PARENT_CASE_READERS) else self.none()

    def visible_to_partner(self, actor):
        if actor.agreement.post_win_visibility == PostWinVisibility.STATUS_ONLY:
            return self.none()
        qs = self.filter(partner_id=actor.partner_id)
        if actor.sees_partner_wide:
            return qs
        return qs.filter(Exists(Case.objects.visible_to_partner(actor).filter(pk=OuterRef("case_id"))))


class CaseHandover(models.Model):
    """A case changing hands: from which party and queue to which, who did it, when and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="handovers")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=12, choices=HandoverKind.choices)
    from_party = models.CharField(max_length=10, choices=Party.choices)
    to_party = models.CharField(max_length=10, choices=Party.choices)
    from_queue = models.ForeignKey(CaseQueue, on_delete=models.SET_NULL, null=True, related_name="+")
    to_queue = models.ForeignKey(CaseQueue, on_delete=models.SET_NULL, null=True, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CaseHandoverQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"]), models.Index(fields=["partner", "-created_at"])]

    def __str__(self):
        return f"Case #{self.case_id}: {self.from_party} → {self.to_party}"


class SlaEventKind(models.TextChoices):
    WARNING = "warning", _("Warning before breach")
    BREACH = "breach", _("Breach")


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class CaseSlaEvent(models.Model):
    """The idempotency key of the SLA task: one warning and one breach per target and SLA cycle."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sla_events")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target = models.CharField(max_length=20, choices=SlaTarget.choices)
    kind = models.CharField(max_length=10, choices=SlaEventKind.choices)
    cycle = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "target", "kind", "cycle"], name="sla_event_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.get_target_display()} on case #{self.case_id}"
