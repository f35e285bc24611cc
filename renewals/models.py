"""Contracts (what a customer has bought, for which term, through which partner), renewal
opportunities opened ahead of term end, the reminders sent at their milestones, and the parent's
timing rules for pursuing renewals of the "either, partner first" model."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.access import PartnerRole, TenantQuerySet
from partners.models import managed_customer_ids

ZERO = Decimal("0.00")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RENEWAL_OPEN = "renewal_open", _("Renewal open")
    RENEWED = "renewed", _("Renewed")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Cancelled")


_C = ContractStatus
# A renewed contract goes on as active for its new term (the history keeps each term's outcome), so
# "renewed" is what a renewal records; a contract row moves between these.
CONTRACT_TRANSITIONS = {
    _C.ACTIVE: {_C.RENEWAL_OPEN, _C.CANCELLED},
    _C.RENEWAL_OPEN: {_C.ACTIVE, _C.RENEWED, _C.LAPSED, _C.CANCELLED},
    _C.RENEWED: {_C.RENEWAL_OPEN, _C.CANCELLED},
    _C.LAPSED: set(),
    _C.CANCELLED: set(),
}
LIVE_CONTRACT_STATUSES = [_C.ACTIVE, _C.RENEWAL_OPEN, _C.RENEWED]


class ContractQuerySet(TenantQuerySet):
    """The partner of record sees its contracts; the originating partner sees them too (attribution,
    e.g. a parent-owned renewal still earns it a commission). Reps see the contracts of customers they
    manage."""

    partner_path = "partner"

    def visible_to_partner(self, actor):
        mine = Q(partner_id=actor.partner_id) | Q(originating_partner_id=actor.partner_id)
        qs = self.filter(mine)
        if actor.sees_partner_wide:
            return qs
        return qs.filter(customer_id__in=managed_customer_ids(actor))


class Contract(models.Model):
    """One customer's subscription to one product line through one partner: the current term and its
    lines. A renewal extends it by a new term; `term_number` counts the terms."""

    # Foreign keys are indexed by the composite indexes below (every index is paid again by each
    # status change of the scan over a million contracts).
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="contracts",
        help_text="Partner of record.",
        db_index=False,
    )
    originating_partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="originated_contracts",
        help_text="The partner that brought the customer; never changes.",
        db_index=False,
    )
    customer = models.ForeignKey(
        "partners.Customer", on_delete=models.PROTECT, related_name="contracts", db_index=False
    )
    product_line = models.ForeignKey("partners.ProductLine", on_delete=models.PROTECT, related_name="+", db_index=False)
    status = models.CharField(max_length=20, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    term_number = models.PositiveSmallIntegerField(default=1)
    term_start = models.DateField()
    term_end = models.DateField()
    annual_value = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    currency = models.CharField(max_length=3, default="USD")
    source_order = models.ForeignKey(
        "quotes.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="First order.",
        db_index=False,  # orders are never deleted
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["term_end", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "customer", "product_line"],
                condition=Q(status__in=["active", "renewal_open", "renewed"]),
                name="contract_one_live_per_line",
            ),
            models.CheckConstraint(condition=Q(term_end__gte=models.F("term_start")), name="contract_term_order"),
            models.CheckConstraint(condition=Q(annual_value__gte=0), name="contract_value_nonneg"),
        ]
        indexes = [
            models.Index(fields=["partner", "term_end"]),
            models.Index(fields=["originating_partner", "term_end"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "term_end"]),
            # The lists' default order with its tie-breaker: the parent's million contracts, page 1.
            models.Index(fields=["term_end", "id"]),
        ]

    def __str__(self):
        return f"C-{self.pk or 0:05d} {self.customer_id and self.customer} ({self.product_line_id})"

    @property
    def number(self) -> str:
        return f"C-{self.pk or 0:05d}"


class ContractLine(models.Model):
    """A product on the contract for a period: a line per order line recorded (co-termed add-ons end
    on the contract's end date) and per renewed term."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("quotes.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    term_number = models.PositiveSmallIntegerField(default=1)
    term_start = models.DateField()
    term_end = models.DateField()
    annual_value = models.DecimalField(max_digits=14, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="What the order line charged.")
    order_line = models.OneToOneField(
        "quotes.OrderLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contract_line",
        help_text="Recorded once: the idempotency key of fulfilment.",
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["term_number", "term_start", "id"]
        indexes = [models.Index(fields=["partner", "contract"])]

    def __str__(self):
        return f"{self.quantity} × {self.product_id} ({self.term_start}–{self.term_end})"


class RenewalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    QUOTED = "quoted", _("Quoted")
    RENEWED = "renewed", _("Renewed")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Cancelled")


_R = RenewalStatus
RENEWAL_TRANSITIONS = {
    _R.OPEN: {_R.QUOTED, _R.RENEWED, _R.LAPSED, _R.CANCELLED},
    _R.QUOTED: {_R.QUOTED, _R.OPEN, _R.RENEWED, _R.LAPSED, _R.CANCELLED},
    _R.RENEWED: set(),
    _R.LAPSED: set(),
    _R.CANCELLED: set(),
}
OPEN_RENEWAL_STATUSES = [_R.OPEN, _R.QUOTED]


class OwnerSide(models.TextChoices):
    PARTNER = "partner", _("Partner")
    PARENT = "parent", _("Parent")
    SHARED = "shared", _("Either, partner first")


class Side(models.TextChoices):
    """One side of the channel: who closed a renewal, who was reminded."""

    PARTNER = "partner", _("Partner")
    PARENT = "parent", _("Parent")


class RenewalOutcome(models.TextChoices):
    RENEWED = "renewed", _("Renewed")
    UPSELL = "upsell", _("Renewed with upsell")
    DOWNSELL = "downsell", _("Renewed with downsell")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Cancelled")


class LapseReason(models.TextChoices):
    NO_RESPONSE = "no_response", _("No response before the grace period ended")
    COMPETITOR = "competitor", _("Moved to a competitor")
    BUDGET = "budget", _("No budget")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    OTHER = "other", _("Other")


# Milestones: days before term end. 0 is term end itself.
MILESTONES = (120, 90, 60, 30, 0)


class RenewalQuerySet(TenantQuerySet):
    """Like contracts: the partner of record and the originating partner (status of a parent-owned
    renewal it earns on). Reps see renewals assigned to them or of customers they manage."""

    partner_path = "partner"

    def visible_to_partner(self, actor):
        qs = self.filter(Q(partner_id=actor.partner_id) | Q(originating_partner_id=actor.partner_id))
        if actor.sees_partner_wide:
            return qs
        if actor.role == PartnerRole.MARKETING:
            return qs.none()
        # One id set the planner can start from (a rep holds a few hundred renewals of a million),
        # rather than an OR it can only test row by row along the list's order.
        plain = Renewal.objects.order_by()
        managed = plain.filter(customer_id__in=managed_customer_ids(actor)).values("pk")
        assigned = plain.filter(assigned_to_id=actor.user_id).values("pk")
        return qs.filter(pk__in=managed.union(assigned, all=True))


class Renewal(models.Model):
    """The renewal opportunity of one contract term. Who owns it is copied from the agreement when it
    opens, so a later change of the agreement does not move renewals already being worked."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="renewals", db_index=False)
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="renewals", db_index=False)
    originating_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    customer = models.ForeignKey("partners.Customer", on_delete=models.PROTECT, related_name="renewals")
    term_number = models.PositiveSmallIntegerField(help_text="The contract term this renews.")
    term_end = models.DateField()
    status = models.CharField(max_length=20, choices=RenewalStatus.choices, default=RenewalStatus.OPEN)
    owner_side = models.CharField(max_length=10, choices=OwnerSide.choices)
    exclusive_days = models.PositiveSmallIntegerField(default=0)
    parent_may_pursue_from = models.DateField(
        null=True, blank=True, help_text="Either-model: the first day the parent may pursue it."
    )
    parent_marketing_allowed = models.BooleanField(default=False)
    commission_eligible = models.BooleanField(default=False)
    commission_rate = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    uplift_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    current_value = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    expected_value = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    renewed_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_change = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    outcome = models.CharField(max_length=20, choices=RenewalOutcome.choices, blank=True)
    lapse_reason = models.CharField(max_length=20, choices=LapseReason.choices, blank=True)
    lapse_note = models.TextField(blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pursued_by_parent_at = models.DateTimeField(null=True, blank=True)
    partner_worked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the partner last quoted or assigned it (timing rules)."
    )
    closed_by_side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    quote = models.ForeignKey("quotes.Quote", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order = models.ForeignKey("quotes.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Reminders: the scan raises `due_milestone`; the reminder task records `reminded_milestone` once
    # every recipient of that milestone has their reminder row. -1: none yet.
    due_milestone = models.SmallIntegerField(default=-1, help_text="Days before term end of the milestone due.")
    reminded_milestone = models.SmallIntegerField(default=-1)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RenewalQuerySet.as_manager()

    class Meta:
        ordering = ["term_end", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "term_number"], name="renewal_once_per_term"),
            models.CheckConstraint(condition=Q(uplift_percent__gte=0), name="renewal_uplift_nonneg"),
        ]
        indexes = [
            models.Index(fields=["partner", "term_end"]),
            models.Index(fields=["originating_partner", "term_end"]),
            models.Index(fields=["status", "term_end"]),
            models.Index(fields=["term_end", "id"]),  # the lists' default order, tie-breaker included
            models.Index(
                fields=["id"],
                name="renewal_reminder_due",
                condition=Q(status__in=["open", "quoted"]),
            ),
        ]

    def __str__(self):
        return f"R-{self.pk or 0:05d} {self.customer_id and self.customer}"

    @property
    def number(self) -> str:
        return f"R-{self.pk or 0:05d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RENEWAL_STATUSES

    def days_to_term_end(self, today=None) -> int:
        return (self.term_end - (today or timezone.localdate())).days

    def parent_may_pursue(self, today=None) -> bool:
        if self.owner_side == OwnerSide.PARENT:
            return True
        if self.owner_side != OwnerSide.SHARED or self.parent_may_pursue_from is None:
            return False
        return (today or timezone.localdate()) >= self.parent_may_pursue_from

    def can_transition_to(self, status) -> bool:
        return status in RENEWAL_TRANSITIONS[RenewalStatus(self.status)]


class RenewalReminder(models.Model):
    """One reminder: (renewal, milestone, recipient) is unique, and the row is written in the same
    transaction as the in-portal notification whose commit queues the email. A task run twice, two
    workers at once or a worker that dies mid-batch can therefore neither lose nor repeat one."""

    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="reminders")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    milestone = models.SmallIntegerField(help_text="Days before term end (0: term end).")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    notification = models.ForeignKey(
        "partners.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["renewal", "milestone", "recipient"], name="renewal_reminder_once"),
        ]
        indexes = [models.Index(fields=["partner", "renewal"])]

    def __str__(self):
        return f"{self.renewal_id} T-{self.milestone} → {self.recipient_id}"


class TimingRuleQuerySet(TenantQuerySet):
    """Channel configuration: parent staff read all rules; partners read those that apply to them
    (the partner is told the rules the parent follows)."""

    def for_user(self, user):
        from partners.access import actor_of

        actor = actor_of(user)
        if actor.is_parent:
            return self
        if actor.is_partner:
            return self.filter(Q(partner__isnull=True) | Q(partner_id=actor.partner_id))
        return self.none()

    def for_partner(self, partner_id):
        return self.filter(Q(partner__isnull=True) | Q(partner_id=partner_id))


class TimingRule(models.Model):
    """A rule the parent follows before pursuing a renewal of the either-model once the partner's
    exclusive window has closed: data in the admin, checked by the pursue service."""

    name = models.CharField(max_length=120, unique=True)
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only this partner's renewals (empty: every partner).",
    )
    wait_days_after_window = models.PositiveSmallIntegerField(
        default=0, help_text="Days the parent waits after the exclusive window closes."
    )
    not_within_days_of_partner_activity = models.PositiveSmallIntegerField(
        default=0, help_text="No pursuit while the partner worked the renewal (quoted) within this many days."
    )
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    objects = TimingRuleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
