"""Partner organisations, their agreement, tiers, territories and people; end customers and who
holds which relationship to them; the commission ledger's owner; the audit trail."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from . import agreement as terms
from .access import CommissionQuerySet, PartnerRole, TenantQuerySet
from .matching import normalize_company_name, normalize_domain

country_code = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 country code, e.g. DE.")


def validate_logo_size(upload):
    if upload.size > 512 * 1024:
        raise ValidationError("A logo is at most 512 KB.")


hex_colour = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Use a colour like #1A6FB0.")


class ProgramTier(models.Model):
    """A level of the partner program (Registered, Silver, Gold…); higher rank, better terms."""

    name = models.CharField(max_length=60, unique=True)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="Higher is better.")
    protection_days = models.PositiveSmallIntegerField(
        default=90, help_text="How long an approved deal registration is protected."
    )
    lead_accept_hours = models.PositiveSmallIntegerField(
        default=72, help_text="How long a partner has to accept an offered lead."
    )
    routing_weight = models.PositiveSmallIntegerField(default=1, help_text="Weight in lead distribution.")

    class Meta:
        ordering = ["rank"]

    def __str__(self):
        return self.name


class ProductLine(models.Model):
    """A family of products; partners are authorised for (have expertise in) product lines."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PartnerStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


PARTNER_TRANSITIONS = {
    PartnerStatus.APPLIED: {PartnerStatus.ONBOARDING, PartnerStatus.TERMINATED},
    PartnerStatus.ONBOARDING: {PartnerStatus.ACTIVE, PartnerStatus.TERMINATED},
    PartnerStatus.ACTIVE: {PartnerStatus.SUSPENDED, PartnerStatus.TERMINATED},
    PartnerStatus.SUSPENDED: {PartnerStatus.ACTIVE, PartnerStatus.TERMINATED},
    PartnerStatus.TERMINATED: set(),
}


class PartnerQuerySet(TenantQuerySet):
    partner_path = "pk"

    def visible_to_partner(self, actor):
        return self.filter(pk=actor.partner_id)


class Partner(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    status = models.CharField(max_length=20, choices=PartnerStatus.choices, default=PartnerStatus.APPLIED)
    tier = models.ForeignKey(ProgramTier, on_delete=models.PROTECT, related_name="partners", null=True, blank=True)
    business_model = models.CharField(max_length=30, choices=terms.BusinessModel.choices)
    country = models.CharField(max_length=2, validators=[country_code], help_text="Headquarters country.")
    website = models.URLField(blank=True)
    expertise = models.ManyToManyField(ProductLine, blank=True, related_name="partners")
    credit_limit = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("100000.00"), validators=[MinValueValidator(0)]
    )
    # Branding, shown to a white-label partner's users and on its documents.
    display_name = models.CharField(max_length=200, blank=True)
    logo = models.FileField(
        upload_to="partner-logos/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp"]), validate_logo_size],
        help_text="PNG, JPEG or WebP, at most 512 KB.",
    )
    brand_color = models.CharField(max_length=7, blank=True, validators=[hex_colour])
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [("manage_partner", "Manage this partner (channel manager)")]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["business_model"])]

    def __str__(self):
        return self.name

    @property
    def brand_name(self):
        return self.display_name or self.name

    @property
    def logo_url(self) -> str:
        """The logo through the portal's access-checked view (media files are never served directly)."""
        from django.urls import reverse

        return reverse("portal:partner-logo", args=[self.slug]) if self.logo else ""

    def can_transition_to(self, status) -> bool:
        return status in PARTNER_TRANSITIONS[PartnerStatus(self.status)]


class Agreement(models.Model):
    """The partner's agreement: the business-model preset's dimensions, each overridable by the parent."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, primary_key=True, related_name="agreement")
    customer_owner = models.CharField(max_length=20, choices=terms.CustomerOwner.choices)
    customer_awareness = models.CharField(max_length=20, choices=terms.CustomerAwareness.choices)
    post_win_visibility = models.CharField(max_length=20, choices=terms.PostWinVisibility.choices)
    quote_access = models.CharField(max_length=30, choices=terms.QuoteAccess.choices)
    order_access = models.CharField(max_length=20, choices=terms.OrderAccess.choices)
    service_model = models.CharField(max_length=20, choices=terms.ServiceModel.choices)
    renewal_owner = models.CharField(max_length=20, choices=terms.RenewalOwner.choices)
    renewal_exclusive_days = models.PositiveSmallIntegerField(default=0)
    renewal_commission = models.BooleanField(default=False)
    renewal_commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of the renewal order paid to the originating partner (when renewal_commission).",
    )
    renewal_uplift_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="A renewal's expected value: the current annual value plus this percentage.",
    )
    renewal_parent_marketing = models.BooleanField(
        default=False, help_text="The parent may send marketing to the customers of renewals the partner owns."
    )
    pipeline_visibility = models.CharField(max_length=20, choices=terms.PipelineVisibility.choices)
    commission_model = models.CharField(max_length=20, choices=terms.CommissionModel.choices)
    referral_fee = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of the closed deal's value.",
    )
    marketing_model = models.CharField(max_length=20, choices=terms.MarketingModel.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0, commission_rate__lte=100), name="agreement_rate_pct"
            ),
            models.CheckConstraint(condition=Q(referral_fee__gte=0), name="agreement_fee_nonneg"),
            models.CheckConstraint(
                condition=Q(renewal_uplift_percent__gte=0, renewal_uplift_percent__lte=100),
                name="agreement_renewal_uplift_pct",
            ),
            models.CheckConstraint(
                condition=Q(renewal_commission_rate__gte=0, renewal_commission_rate__lte=100),
                name="agreement_renewal_rate_pct",
            ),
        ]

    def __str__(self):
        return f"Agreement of {self.partner}"

    @property
    def preset(self):
        return terms.PRESETS[terms.BusinessModel(self.partner.business_model)]

    @property
    def overrides(self) -> dict:
        """Dimensions that differ from the business model's preset: {name: (preset, actual)}."""
        return {
            name: (value, getattr(self, name))
            for name, value in self.preset.items()
            if str(getattr(self, name)) != str(value)
        }

    @property
    def parent_brand_visible(self) -> bool:
        return self.customer_awareness != terms.CustomerAwareness.PARTNER_ONLY

    def describe(self) -> list[str]:
        # A white-label partner's portal never names the parent: it is "your provider" there.
        parent = settings.PARENT_COMPANY_NAME if self.parent_brand_visible else "your provider"
        brand = self.partner.brand_name
        lines = [line.replace("{parent}", parent).replace("{brand}", brand) for line in terms.describe(self)]
        return [line[0].upper() + line[1:] for line in lines]


class Territory(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="territories")
    country = models.CharField(max_length=2, validators=[country_code])

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["country"]
        constraints = [models.UniqueConstraint(fields=["partner", "country"], name="territory_unique")]
        indexes = [models.Index(fields=["country"])]
        verbose_name_plural = "territories"

    def __str__(self):
        return self.country


class Membership(models.Model):
    """A user's place in a partner organisation; a user belongs to at most one partner."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=PartnerRole.choices, default=PartnerRole.REP)
    is_active = models.BooleanField(default=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "user__username"]
        indexes = [models.Index(fields=["partner", "role"])]

    def __str__(self):
        return f"{self.user} @ {self.partner} ({self.role})"


class PartnerUserObjectPermission(UserObjectPermissionBase):
    """django-guardian grants on one partner (channel managers), with a direct foreign key."""

    content_object = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        pass


class CustomerSize(models.TextChoices):
    SMALL = "1-49", "1–49 employees"
    MEDIUM = "50-249", "50–249 employees"
    LARGE = "250-999", "250–999 employees"
    ENTERPRISE = "1000+", "1000+ employees"


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active customer")
    CHURNED = "churned", _("Churned")


def managed_customer_ids(actor):
    """The customers a partner user manages for their partner (relationships they own), as a
    subquery of ids: `customer_id IN (…)` lets the planner start from these few rows, with no join
    through the relationships and no DISTINCT. Used by every scope that follows a rep's accounts."""
    return (
        CustomerRelationship.objects.filter(partner_id=actor.partner_id, owner_id=actor.user_id)
        .order_by()
        .values("customer_id")
    )


class CustomerQuerySet(TenantQuerySet):
    """Customers are seen through relationships: a partner sees the customers it holds one to."""

    partner_path = "relationships__partner"

    def for_partner(self, partner_id):
        return self.filter(Exists(CustomerRelationship.objects.filter(customer=OuterRef("pk"), partner_id=partner_id)))

    def _partner_in(self, partner_ids):
        return Q(
            Exists(CustomerRelationship.objects.filter(customer=OuterRef("pk"), partner_id__in=sorted(partner_ids)))
        )

    def visible_to_partner(self, actor):
        # `pk IN (ids)` rather than a correlated EXISTS: the planner can start from the partner's few
        # relationships (an index) instead of walking every customer in name order and probing each.
        relationships = CustomerRelationship.objects.filter(partner_id=actor.partner_id)
        if actor.sees_partner_wide:
            return self.filter(pk__in=relationships.order_by().values("customer_id"))
        owned = managed_customer_ids(actor)
        shared = CustomerUserObjectPermission.objects.filter(user_id=actor.user_id).order_by()
        shared = shared.values("content_object_id")
        return self.filter(pk__in=owned.union(shared, all=True))


class Customer(models.Model):
    """An end-customer account."""

    legal_name = models.CharField(max_length=200)
    normalized_name = models.CharField(max_length=200, editable=False, db_index=True)
    domain = models.CharField(max_length=253, blank=True, db_index=True, help_text="Web domain, e.g. contoso.com")
    # The registrable domain ("sales.contoso.com" is "contoso.com"): with the normalised name, the
    # key that makes one customer one record (unique per country, see Meta.constraints).
    domain_key = models.CharField(max_length=253, blank=True, editable=False, default="")
    country = models.CharField(max_length=2, validators=[country_code])
    industry = models.CharField(max_length=80, blank=True)
    size = models.CharField(max_length=10, choices=CustomerSize.choices, blank=True)
    status = models.CharField(max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.PROSPECT)
    owner_partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_customers",
        help_text="The partner that owns the relationship; empty when the parent owns it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["legal_name"]
        indexes = [models.Index(fields=["country", "normalized_name"]), models.Index(fields=["legal_name", "id"])]
        constraints = [
            # One record per customer: the deal matcher's keys are unique in the customer base.
            models.UniqueConstraint(fields=["country", "normalized_name"], name="customer_one_per_name"),
            models.UniqueConstraint(
                fields=["country", "domain_key"], condition=~Q(domain_key=""), name="customer_one_per_domain"
            ),
        ]

    def __str__(self):
        return self.legal_name

    def save(self, *args, **kwargs):
        self.refresh_keys()
        super().save(*args, **kwargs)

    def refresh_keys(self):
        from .matching import registrable_domain

        self.normalized_name = normalize_company_name(self.legal_name)
        self.domain = normalize_domain(self.domain)
        self.domain_key = registrable_domain(self.domain)


class RelationshipKind(models.TextChoices):
    ORIGINATING = "originating", _("Originating (registered or referred it)")
    SERVICING = "servicing", _("Servicing")
    RENEWAL = "renewal", _("Renewal")


class CustomerRelationship(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relationships")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="customer_relationships")
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    since = models.DateField(default=timezone.localdate)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_relationships",
        help_text="The partner user who manages this customer.",
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["since"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "partner", "kind"], name="relationship_unique"),
        ]
        indexes = [models.Index(fields=["partner", "customer"])]

    def __str__(self):
        return f"{self.partner} → {self.customer} ({self.kind})"


class CustomerUserObjectPermission(UserObjectPermissionBase):
    """A customer shared with one partner user (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        pass


class AuditQuerySet(TenantQuerySet):
    def visible_to_partner(self, actor):
        """A partner admin sees what its own people (and the system) did: never the parent's staff, whose
        names and internal work (an internal note on a case) the partner's other views hide too."""
        if actor.role != PartnerRole.ADMIN:
            return self.none()
        own_people = Membership.objects.filter(user_id=OuterRef("actor_id"), partner_id=actor.partner_id)
        return self.filter(partner_id=actor.partner_id).filter(Q(actor__isnull=True) | Q(Exists(own_people)))


class AuditEvent(models.Model):
    """Who changed what, when and from where. Written by every service that changes state."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verb = models.CharField(max_length=80)
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    partner = models.ForeignKey(Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events")
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["partner", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.verb} {self.object_repr}"


class CommissionSource(models.TextChoices):
    REFERRAL = "referral", _("Referral fee")
    CLOSED_DEAL = "closed_deal", _("Closed deal")
    RENEWAL = "renewal", _("Renewal")
    ADJUSTMENT = "adjustment", _("Adjustment")


class CommissionStatus(models.TextChoices):
    ACCRUED = "accrued", _("Accrued")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    REVERSED = "reversed", _("Reversed")


COMMISSION_TRANSITIONS = {
    CommissionStatus.ACCRUED: {CommissionStatus.APPROVED, CommissionStatus.REVERSED},
    CommissionStatus.APPROVED: {CommissionStatus.PAID, CommissionStatus.REVERSED},
    CommissionStatus.PAID: set(),
    CommissionStatus.REVERSED: set(),
}


class Commission(models.Model):
    """One entry of a partner's commission ledger. `source_ref` (e.g. "deal-registration:42") is the
    idempotency key: the same event never accrues twice."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="commissions")
    source = models.CharField(max_length=20, choices=CommissionSource.choices)
    source_ref = models.CharField(max_length=80)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="commissions")
    description = models.CharField(max_length=200, blank=True)
    base_amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="The deal value a percentage applies to."
    )
    rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, help_text="Percent.")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=10, choices=CommissionStatus.choices, default=CommissionStatus.ACCRUED)
    accrued_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=80, blank=True)
    reversal_reason = models.CharField(max_length=200, blank=True)

    objects = CommissionQuerySet.as_manager()

    class Meta:
        ordering = ["-accrued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "source", "source_ref"], name="commission_once_per_event"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="commission_amount_nonneg"),
        ]
        indexes = [
            models.Index(fields=["partner", "-accrued_at", "-id"]),
            models.Index(fields=["-accrued_at", "-id"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self):
        return f"{self.partner} {self.get_source_display()} {self.amount} {self.currency} ({self.status})"


class NotificationQuerySet(models.QuerySet):
    """A notification is read by its recipient only, whatever their role."""

    def for_user(self, user):
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(recipient_id=user.pk)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person waits on (a lead offered, a renewal milestone, a claim paid), shown in the
    portal and optionally emailed. `key` names the event: one notification per event and recipient,
    whoever raises it and however often (tasks run twice, workers crash)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # The recipient's partner when they are partner staff: the brand of the email, and the tenant.
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=60, help_text="What happened, e.g. renewals.milestone.")
    key = models.CharField(max_length=200, help_text="The event; unique per recipient.")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    email_wanted = models.BooleanField(default=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The recipient asked for this kind in a daily digest rather than one email each.
    digest_wanted = models.BooleanField(default=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_event")]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)),
            models.Index(
                fields=["created_at"], name="notification_email_due", condition=Q(email_wanted=True, emailed_at=None)
            ),
        ]

    def __str__(self):
        return f"{self.title} → {self.recipient}"


class CustomerClaimStatus(models.TextChoices):
    PENDING = "pending", _("Pending the parent's decision")
    LINKED = "linked", _("Linked to the existing customer")
    REJECTED = "rejected", _("Rejected")


class CustomerClaimQuerySet(TenantQuerySet):
    owner_path = "requested_by"


class CustomerClaim(models.Model):
    """A partner asked for a customer that already exists in the channel (another partner's or the
    parent's): one record per customer, so the request waits for the parent, who links the partner to
    the existing account or rejects it. The partner never learns whose the match is."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="customer_claims")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    legal_name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2, validators=[country_code])
    matched_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="claims")
    reasons = models.JSONField(default=list, help_text="Why it matched: name, domain.")
    status = models.CharField(max_length=10, choices=CustomerClaimStatus.choices, default=CustomerClaimStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CustomerClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "-created_at"]), models.Index(fields=["status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "matched_customer"], condition=Q(status="pending"), name="customer_claim_one_pending"
            ),
        ]

    def __str__(self):
        return f"Claim {self.pk}: {self.partner} asks for {self.legal_name}"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("In the portal and by email")
    PORTAL = "portal", _("In the portal only")
    DIGEST = "digest", _("In the portal and in a daily email digest")
    OFF = "off", _("Off")


class PersonalQuerySet(models.QuerySet):
    """A person's own settings: read and written by that person only."""

    def for_user(self, user):
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user_id=user.pk)


class PersonalSettings(models.Model):
    """How the portal speaks to one person: their time zone (dates are shown in it)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_settings")
    time_zone = models.CharField(max_length=64, default="UTC")

    objects = PersonalQuerySet.as_manager()

    def __str__(self):
        return f"{self.user} · {self.time_zone}"


class NotificationPreference(models.Model):
    """How a person wants one kind of notification (partners.notifications.KINDS); email when absent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=60)
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices, default=NotificationChannel.EMAIL)

    objects = PersonalQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self):
        return f"{self.user} · {self.kind}: {self.channel}"
