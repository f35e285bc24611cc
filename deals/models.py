"""Leads and their distribution to partners, deal registrations with their conflicts, protection and
extensions, and opportunities in the three flows of the seed."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.access import TenantQuerySet
from partners.models import country_code

# Leads -------------------------------------------------------------------------------------------


class LeadSource(models.TextChoices):
    CAMPAIGN = "campaign", _("Parent campaign")
    WEB = "web", _("Web")
    PARENT_SALES = "parent_sales", _("Parent sales")
    PARTNER = "partner", _("Partner-created")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New (unassigned)")
    OFFERED = "offered", _("Offered to a partner")
    ACCEPTED = "accepted", _("Accepted (opportunity)")
    DISQUALIFIED = "disqualified", _("Disqualified")


# The one place that says which lead moves are legal.
LEAD_TRANSITIONS = {
    LeadStatus.NEW: {LeadStatus.OFFERED, LeadStatus.ACCEPTED, LeadStatus.DISQUALIFIED},
    # Declined or expired offers go back to the queue (NEW) or straight to the next partner (OFFERED).
    LeadStatus.OFFERED: {LeadStatus.OFFERED, LeadStatus.NEW, LeadStatus.ACCEPTED, LeadStatus.DISQUALIFIED},
    LeadStatus.ACCEPTED: set(),
    LeadStatus.DISQUALIFIED: set(),
}


class LeadQuerySet(TenantQuerySet):
    """A partner sees the leads it holds (offered to it or accepted by it); reps see offers to their
    partner and the leads they own. Leads in the parent's queue (no partner) are parent-only; a
    channel manager sees the queue and the leads of the partners granted to them."""

    owner_path = "owner"

    def _partner_in(self, partner_ids):
        return Q(partner__in=sorted(partner_ids)) | Q(partner__isnull=True)

    def visible_to_parent(self, actor):
        # A partner's own leads are its pipeline: hidden from a parent that sees it only once an
        # order is placed (pipeline_visibility), until the lead's opportunity has one.
        from partners import pipeline

        return self.exclude(
            Q(source=LeadSource.PARTNER)
            & pipeline.after_order()
            & (Q(opportunity__isnull=True) | Q(opportunity__order_placed_at__isnull=True))
        )

    def visible_to_partner(self, actor):
        qs = self.filter(partner=actor.partner_id)
        if actor.sees_partner_wide:
            return qs
        return qs.filter(Q(owner=actor.user_id) | Q(status=LeadStatus.OFFERED))


class Lead(models.Model):
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        help_text="The partner the lead is offered to or accepted by; empty: the parent's queue.",
    )
    source = models.CharField(max_length=20, choices=LeadSource.choices)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    company_name = models.CharField(max_length=200)
    company_domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2, validators=[country_code])
    product_interest = models.ForeignKey(
        "partners.ProductLine", on_delete=models.PROTECT, null=True, blank=True, related_name="leads"
    )
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_leads",
        help_text="The partner user who works the lead once accepted.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    campaign = models.ForeignKey(
        "mdf.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
        help_text="The campaign the lead came from (MDF results).",
    )

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list's order with its tie-breaker: per partner, and channel-wide for the parent.
            models.Index(fields=["partner", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self):
        return f"Lead {self.pk}: {self.company_name}"

    def save(self, *args, **kwargs):
        from partners.matching import normalize_domain

        self.company_domain = normalize_domain(self.company_domain)
        super().save(*args, **kwargs)

    def can_transition_to(self, status) -> bool:
        return status in LEAD_TRANSITIONS[LeadStatus(self.status)]


class RoutingRule(models.Model):
    """One step of lead distribution, editable in admin. Rules are tried in priority order; the first
    that matches the lead and leaves at least one eligible partner picks among them."""

    name = models.CharField(max_length=100)
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)
    # What the rule applies to (empty: any).
    countries = models.CharField(
        max_length=200, blank=True, help_text="Comma-separated country codes the rule applies to; empty: any."
    )
    source = models.CharField(max_length=20, choices=LeadSource.choices, blank=True)
    product_line = models.ForeignKey("partners.ProductLine", on_delete=models.CASCADE, null=True, blank=True)
    # How partners are chosen.
    require_territory = models.BooleanField(default=True, help_text="The partner covers the lead's country.")
    require_expertise = models.BooleanField(default=True, help_text="The partner has the lead's product line.")
    weight_by_tier = models.BooleanField(default=True, help_text="Weighted random choice by tier routing weight.")
    min_tier = models.ForeignKey("partners.ProgramTier", on_delete=models.PROTECT, null=True, blank=True)
    partners = models.ManyToManyField(
        "partners.Partner", blank=True, related_name="+", help_text="Limit to these partners; empty: all."
    )

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name

    @property
    def country_list(self) -> list[str]:
        return [c.strip().upper() for c in self.countries.split(",") if c.strip()]


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired (missed)")
    WITHDRAWN = "withdrawn", _("Withdrawn by the parent")


class LeadOffer(models.Model):
    """A lead offered to one partner. A partner is offered a lead at most once (unique), so one that
    declined or let the offer expire is never offered it again; one pending offer per lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="offers")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="lead_offers")
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.PENDING)
    offered_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who forwarded it by hand; empty: the routing rules.",
    )
    rule = models.ForeignKey(RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(max_length=300, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "partner"], name="lead_offer_once_per_partner"),
            models.UniqueConstraint(
                fields=["lead"], condition=Q(status="pending"), name="lead_offer_one_pending_per_lead"
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-offered_at"]),
            models.Index(fields=["status", "deadline"]),
        ]

    def __str__(self):
        return f"Offer of lead {self.lead_id} to {self.partner_id} ({self.status})"


# Deal registration -------------------------------------------------------------------------------


class RegistrationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


# The one place that says which registration moves are legal.
REGISTRATION_TRANSITIONS = {
    RegistrationStatus.DRAFT: {RegistrationStatus.SUBMITTED, RegistrationStatus.WITHDRAWN},
    RegistrationStatus.SUBMITTED: {
        RegistrationStatus.APPROVED,
        RegistrationStatus.REJECTED,
        RegistrationStatus.RETURNED,
        RegistrationStatus.WITHDRAWN,
    },
    RegistrationStatus.RETURNED: {RegistrationStatus.SUBMITTED, RegistrationStatus.WITHDRAWN},
    RegistrationStatus.APPROVED: {
        RegistrationStatus.WON,
        RegistrationStatus.LOST,
        RegistrationStatus.EXPIRED,
        RegistrationStatus.CANCELLED,
    },
    RegistrationStatus.REJECTED: set(),
    RegistrationStatus.WITHDRAWN: set(),
    RegistrationStatus.WON: set(),
    RegistrationStatus.LOST: set(),
    RegistrationStatus.EXPIRED: set(),
    RegistrationStatus.CANCELLED: set(),
}
# Registrations that hold a claim on their customer: the ones conflict detection compares against.
OPEN_REGISTRATION_STATUSES = (RegistrationStatus.SUBMITTED, RegistrationStatus.APPROVED)
EDITABLE_REGISTRATION_STATUSES = (RegistrationStatus.DRAFT, RegistrationStatus.RETURNED)


class DealRegistrationQuerySet(TenantQuerySet):
    owner_path = "created_by"

    def visible_to_parent(self, actor):
        # Before it is submitted to the parent, a registration is the partner's pipeline.
        from partners import pipeline

        return self.exclude(pipeline.after_order() & Q(submitted_at__isnull=True))


class DealRegistration(models.Model):
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="deal_registrations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices, default=RegistrationStatus.DRAFT)
    customer = models.ForeignKey(
        "partners.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deal_registrations",
        help_text="An existing customer; empty for a new prospect (created on approval).",
    )
    customer_name = models.CharField(max_length=200)
    customer_domain = models.CharField(max_length=253, blank=True)
    customer_country = models.CharField(max_length=2, validators=[country_code])
    # Matching keys, kept current by save().
    normalized_name = models.CharField(max_length=200, editable=False)
    domain_key = models.CharField(max_length=253, editable=False, blank=True)
    estimated_value = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    expected_close_date = models.DateField()
    notes = models.TextField(blank=True)
    # The person at the customer the partner works with, and who else competes for the deal.
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    competitor = models.CharField(max_length=200, blank=True)
    has_conflict = models.BooleanField(default=False, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    protected_until = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    campaign = models.ForeignKey(
        "mdf.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registrations",
        help_text="The campaign the deal came from (MDF results).",
    )

    objects = DealRegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["created_by", "-created_at", "-id"]),
            models.Index(fields=["customer_country", "normalized_name"]),
            models.Index(fields=["customer_country", "domain_key"]),
            models.Index(fields=["status", "protected_until"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(estimated_value__gt=0), name="registration_value_positive"),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(protected_until__isnull=False),
                name="registration_approved_is_protected",
            ),
        ]

    def __str__(self):
        return f"Registration {self.pk}: {self.customer_name}"

    def save(self, *args, **kwargs):
        from partners.matching import normalize_domain

        from .matching import customer_keys

        self.customer_country = (self.customer_country or "").upper()
        self.customer_domain = normalize_domain(self.customer_domain)
        self.normalized_name, self.domain_key = customer_keys(self.customer_name, self.customer_domain)
        super().save(*args, **kwargs)

    def can_transition_to(self, status) -> bool:
        return status in REGISTRATION_TRANSITIONS[RegistrationStatus(self.status)]

    @property
    def is_protected(self) -> bool:
        return (
            self.status == RegistrationStatus.APPROVED
            and self.protected_until is not None
            and self.protected_until > timezone.now()
        )

    @property
    def days_left(self):
        if self.status != RegistrationStatus.APPROVED or self.protected_until is None:
            return None
        return max((self.protected_until - timezone.now()).days, 0)


class DealRegistrationLine(models.Model):
    registration = models.ForeignKey(DealRegistration, on_delete=models.CASCADE, related_name="lines")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("quotes.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "product"], name="registration_line_product_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="registration_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product}"


class ConflictKind(models.TextChoices):
    REGISTRATION = "registration", _("Another partner's registration")
    OPPORTUNITY = "opportunity", _("The parent's own open opportunity")
    CUSTOMER = "customer", _("A customer owned by the parent or another partner")


class ConflictQuerySet(TenantQuerySet):
    """Conflicts are the reviewer's: the submitting partner learns only that one exists (the flag
    on its registration), never whose."""

    def visible_to_partner(self, actor):
        return self.none()


class RegistrationConflict(models.Model):
    registration = models.ForeignKey(DealRegistration, on_delete=models.CASCADE, related_name="conflicts")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ConflictKind.choices)
    conflicting_registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, null=True, blank=True, related_name="conflicted_by"
    )
    conflicting_opportunity = models.ForeignKey(
        "deals.Opportunity", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    conflicting_customer = models.ForeignKey(
        "partners.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reasons = models.JSONField(default=list, help_text="Why it matched: name, domain, product.")
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ConflictQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["partner", "-created_at"])]

    def __str__(self):
        return f"Conflict of registration {self.registration_id}: {self.detail}"


class RegistrationLock(models.Model):
    """One row per customer key ("name:DE:proseware", "domain:DE:proseware.de"). Submission and
    approval lock the keys of their customer with select_for_update, so two transactions for the
    same customer run one after the other and exactly one of them is first."""

    key = models.CharField(max_length=300, unique=True)

    def __str__(self):
        return self.key


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


MAX_EXTENSIONS = 2


class RegistrationExtension(models.Model):
    """A partner's request to extend an approved registration's protection; at most two each."""

    registration = models.ForeignKey(DealRegistration, on_delete=models.CASCADE, related_name="extensions")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveSmallIntegerField()
    days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(180)])
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "sequence"], name="extension_sequence_once"),
            models.CheckConstraint(condition=Q(sequence__gte=1, sequence__lte=MAX_EXTENSIONS), name="extension_max"),
        ]
        indexes = [models.Index(fields=["partner", "-requested_at"])]

    def __str__(self):
        return f"Extension {self.sequence} of registration {self.registration_id}"


# Opportunities -----------------------------------------------------------------------------------


class OpportunityStage(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    CLOSED_WON = "closed_won", _("Closed won")
    CLOSED_LOST = "closed_lost", _("Closed lost")


OPEN_STAGES = (OpportunityStage.QUALIFICATION, OpportunityStage.PROPOSAL, OpportunityStage.NEGOTIATION)
OPPORTUNITY_TRANSITIONS = {
    OpportunityStage.QUALIFICATION: {
        OpportunityStage.PROPOSAL,
        OpportunityStage.NEGOTIATION,
        OpportunityStage.CLOSED_WON,
        OpportunityStage.CLOSED_LOST,
    },
    OpportunityStage.PROPOSAL: {
        OpportunityStage.QUALIFICATION,
        OpportunityStage.NEGOTIATION,
        OpportunityStage.CLOSED_WON,
        OpportunityStage.CLOSED_LOST,
    },
    OpportunityStage.NEGOTIATION: {
        OpportunityStage.QUALIFICATION,
        OpportunityStage.PROPOSAL,
        OpportunityStage.CLOSED_WON,
        OpportunityStage.CLOSED_LOST,
    },
    OpportunityStage.CLOSED_WON: set(),
    OpportunityStage.CLOSED_LOST: set(),
}
DEFAULT_PROBABILITY = {
    OpportunityStage.QUALIFICATION: 10,
    OpportunityStage.PROPOSAL: 40,
    OpportunityStage.NEGOTIATION: 70,
    OpportunityStage.CLOSED_WON: 100,
    OpportunityStage.CLOSED_LOST: 0,
}


class OpportunityFlow(models.TextChoices):
    HANDED_TO_PARENT = "handed_to_parent", _("Partner-generated, handed to the parent")
    ASSIGNED_TO_PARTNER = "assigned_to_partner", _("Passed from the parent to the partner")
    PARTNER_MANAGED = "partner_managed", _("Generated and managed by the partner")
    DIRECT = "direct", _("The parent's own (direct)")


class ManagedBy(models.TextChoices):
    PARENT = "parent", _("Parent")
    PARTNER = "partner", _("Partner")


class OpportunityQuerySet(TenantQuerySet):
    """`partner` is the attributed partner (who registered or received it), whoever manages it.
    The parent sees a partner-managed opportunity only when the agreement's pipeline visibility
    allows: always, or once an order is placed. Partner reps see the ones they own or registered."""

    def _partner_in(self, partner_ids):
        return Q(partner__in=sorted(partner_ids)) | Q(partner__isnull=True)

    def visible_to_parent(self, actor):
        from partners import pipeline

        hidden = (
            Q(flow=OpportunityFlow.PARTNER_MANAGED)
            & pipeline.after_order()
            & Q(order_placed_at__isnull=True)
            & ~pipeline.order_placed_for()
        )
        return self.exclude(hidden)

    def visible_to_partner(self, actor):
        qs = self.filter(partner=actor.partner_id)
        if actor.sees_partner_wide:
            return qs
        return qs.filter(Q(owner=actor.user_id) | Q(registered_by=actor.user_id))


class Opportunity(models.Model):
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
        help_text="The attributed partner (commission); empty for the parent's direct business.",
    )
    flow = models.CharField(max_length=20, choices=OpportunityFlow.choices)
    managed_by = models.CharField(max_length=10, choices=ManagedBy.choices)
    name = models.CharField(max_length=200)
    customer = models.ForeignKey(
        "partners.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="opportunities"
    )
    # A prospect that is not a customer yet (e.g. a referral entered as an opportunity): the customer
    # is found or created from these, through the deal matcher, when the opportunity is won.
    prospect_name = models.CharField(max_length=200, blank=True)
    prospect_domain = models.CharField(max_length=253, blank=True)
    prospect_country = models.CharField(max_length=2, blank=True, validators=[country_code])
    stage = models.CharField(max_length=20, choices=OpportunityStage.choices, default=OpportunityStage.QUALIFICATION)
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="USD")
    probability = models.PositiveSmallIntegerField(default=10, validators=[MaxValueValidator(100)])
    expected_close_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_opportunities",
        help_text="Who works it: a partner user or a parent user.",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The partner user who registered or accepted it.",
    )
    registration = models.OneToOneField(
        DealRegistration, on_delete=models.SET_NULL, null=True, blank=True, related_name="opportunity"
    )
    lead = models.OneToOneField(Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="opportunity")
    order_placed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["partner", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["stage"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_nonneg"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opportunity_probability_pct"),
            models.CheckConstraint(
                condition=Q(flow="direct", partner__isnull=True) | (~Q(flow="direct") & Q(partner__isnull=False)),
                name="opportunity_flow_partner",
            ),
        ]

    def __str__(self):
        return self.name

    def can_transition_to(self, stage) -> bool:
        return stage in OPPORTUNITY_TRANSITIONS[OpportunityStage(self.stage)]

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES
