"""Market development funds and marketing: fund programs per period and their allocations per partner,
fund requests (pre-approval) and claims with proof of performance, campaigns (the parent's and the
partners' own) and the parent's collateral library with versions, entitlement and download tracking.

Money moves only through mdf.services, under row locks; the balance of an allocation is a database
constraint (allocated − committed − paid − expired ≥ 0), so no race can overspend it."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners import uploads
from partners.access import ParentRole, TenantQuerySet
from partners.agreement import MarketingModel

ZERO = Decimal("0.00")
MONEY = {"max_digits": 14, "decimal_places": 2}
# Parent staff whose function includes marketing funds (admins hold every role).
PARENT_MDF_READERS = (ParentRole.MARKETING, ParentRole.FINANCE, ParentRole.CHANNEL_MANAGER, ParentRole.FRAUD_ANALYST)


class ParentScopedQuerySet(TenantQuerySet):
    """Tenant rows that only the parent's marketing-related staff read (besides the partner itself)."""

    def visible_to_parent(self, actor):
        return self if actor.has_parent_role(*PARENT_MDF_READERS) else self.none()


# Programs and allocations ------------------------------------------------------------------------


class PeriodKind(models.TextChoices):
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class FundProgram(models.Model):
    """A period's marketing fund (parent configuration): its budget, how partners get their share,
    and how long unclaimed funds survive the period's end."""

    name = models.CharField(max_length=120, unique=True)
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices, default=PeriodKind.QUARTER)
    starts_on = models.DateField()
    ends_on = models.DateField()
    budget = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    accrual_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
        help_text="Accrued allocations: this % of the partner's fulfilled order revenue in the previous period.",
    )
    grace_days = models.PositiveSmallIntegerField(
        default=30, help_text="Unclaimed funds expire this many days after the period ends."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="mdf_program_period"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="mdf_program_budget_nonneg"),
        ]

    def __str__(self):
        return self.name

    @property
    def expires_on(self):
        import datetime

        return self.ends_on + datetime.timedelta(days=self.grace_days)


class TierFund(models.Model):
    """The fixed allocation a program gives each partner of a tier (bulk allocation by tier)."""

    program = models.ForeignKey(FundProgram, on_delete=models.CASCADE, related_name="tier_funds")
    tier = models.ForeignKey("partners.ProgramTier", on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])

    class Meta:
        ordering = ["program", "tier__rank"]
        constraints = [models.UniqueConstraint(fields=["program", "tier"], name="mdf_tier_fund_unique")]

    def __str__(self):
        return f"{self.program}: {self.tier} {self.amount}"


class AllocationMethod(models.TextChoices):
    FIXED = "fixed", _("Fixed (by tier)")
    ACCRUAL = "accrual", _("Accrued from last period's revenue")


class AllocationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed (awaiting approval)")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")


class FundAllocation(models.Model):
    """A partner's share of a program. Balance = amount − committed − paid − expired, never negative."""

    program = models.ForeignKey(FundProgram, on_delete=models.PROTECT, related_name="allocations")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="fund_allocations")
    method = models.CharField(max_length=10, choices=AllocationMethod.choices, default=AllocationMethod.FIXED)
    status = models.CharField(max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.ACTIVE)
    amount = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    committed = models.DecimalField(**MONEY, default=ZERO, editable=False)
    paid = models.DecimalField(**MONEY, default=ZERO, editable=False)
    expired = models.DecimalField(**MONEY, default=ZERO, editable=False)
    accrual_basis = models.DecimalField(
        **MONEY, null=True, blank=True, editable=False, help_text="Fulfilled order revenue the accrual was computed on."
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ParentScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-program__starts_on", "partner__name"]
        indexes = [models.Index(fields=["partner", "-created_at"]), models.Index(fields=["status"])]
        constraints = [
            models.UniqueConstraint(fields=["program", "partner"], name="mdf_allocation_unique"),
            models.CheckConstraint(
                condition=Q(committed__gte=0) & Q(paid__gte=0) & Q(expired__gte=0), name="mdf_allocation_parts_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=F("committed") + F("paid") + F("expired")), name="mdf_allocation_balance_nonneg"
            ),
        ]

    def __str__(self):
        return f"{self.partner} · {self.program}"

    @property
    def balance(self) -> Decimal:
        return self.amount - self.committed - self.paid - self.expired


# Fund requests -----------------------------------------------------------------------------------


class ActivityType(models.TextChoices):
    EVENT = "event", _("Event")
    WEBINAR = "webinar", _("Webinar")
    DIGITAL_ADS = "digital_ads", _("Digital advertising")
    CONTENT = "content", _("Content")
    TRADE_SHOW = "trade_show", _("Trade show")
    TRAINING = "training", _("Training")
    EMAIL = "email", _("Email campaign")
    OTHER = "other", _("Other")


class FundRequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed (claim deadline passed)")


_R = FundRequestStatus
# The one place the request state machine lives.
FUND_REQUEST_TRANSITIONS = {
    _R.DRAFT: {_R.SUBMITTED, _R.CANCELLED},
    _R.SUBMITTED: {_R.APPROVED, _R.REJECTED, _R.RETURNED, _R.CANCELLED},
    _R.RETURNED: {_R.SUBMITTED, _R.CANCELLED},
    _R.APPROVED: {_R.CANCELLED, _R.CLOSED},
    _R.REJECTED: set(),
    _R.CANCELLED: set(),
    _R.CLOSED: set(),
}


class OwnedTenantQuerySet(ParentScopedQuerySet):
    owner_path = "created_by"


class FundRequest(models.Model):
    """Pre-approval of a marketing activity. Approval commits funds of the partner's allocation;
    `reserved` holds what submitted and approved claims will reimburse, `paid_amount` what was paid."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="fund_requests")
    allocation = models.ForeignKey(FundAllocation, on_delete=models.PROTECT, related_name="requests")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    activity_type = models.CharField(max_length=20, choices=ActivityType.choices)
    plan = models.TextField(help_text="What will be done, for whom, and how.")
    starts_on = models.DateField()
    ends_on = models.DateField()
    requested_amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    expected_leads = models.PositiveIntegerField(default=0)
    expected_pipeline = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    product_lines = models.ManyToManyField("partners.ProductLine", blank=True, related_name="+")
    uses_own_materials = models.BooleanField(
        default=False, help_text="The activity uses the partner's own collateral, not the parent's."
    )
    status = models.CharField(max_length=12, choices=FundRequestStatus.choices, default=FundRequestStatus.DRAFT)
    approved_amount = models.DecimalField(**MONEY, default=ZERO, editable=False)
    reimbursement_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("100.00"),
        editable=False,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    claim_deadline = models.DateField(null=True, blank=True, editable=False)
    reserved = models.DecimalField(**MONEY, default=ZERO, editable=False)
    paid_amount = models.DecimalField(**MONEY, default=ZERO, editable=False)
    released = models.DecimalField(
        **MONEY, default=ZERO, editable=False, help_text="Committed funds given back when the request closed."
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedTenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["-created_at", "-id"]),  # the parent's list in its default order
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="mdf_request_dates"),
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="mdf_request_amount_pos"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(paid_amount__gte=0) & Q(released__gte=0),
                name="mdf_request_parts_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__gte=F("reserved") + F("paid_amount") + F("released")),
                name="mdf_request_remainder_nonneg",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"FR-{self.pk:06d}" if self.pk else "FR-new"

    @property
    def remainder(self) -> Decimal:
        """What claims may still reimburse on this request."""
        return self.approved_amount - self.reserved - self.paid_amount - self.released

    def can_transition_to(self, status) -> bool:
        return status in FUND_REQUEST_TRANSITIONS[FundRequestStatus(self.status)]


# Claims ------------------------------------------------------------------------------------------


class FundClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    PAID = "paid", _("Paid")


_C = FundClaimStatus
FUND_CLAIM_TRANSITIONS = {
    _C.DRAFT: {_C.SUBMITTED},
    _C.SUBMITTED: {_C.APPROVED, _C.REJECTED, _C.RETURNED},
    _C.RETURNED: {_C.SUBMITTED},
    _C.APPROVED: {_C.PAID},
    _C.REJECTED: set(),
    _C.PAID: set(),
}
# Claims that hold their invoice: every state after the first submission.
INVOICE_HOLDING = [_C.SUBMITTED, _C.APPROVED, _C.RETURNED, _C.PAID, _C.REJECTED]


class FundClaim(models.Model):
    """A claim for reimbursement against an approved request: the invoice and its proof of performance.
    Reimbursable = min(amount × the request's reimbursement %, the request's remainder)."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="fund_claims")
    fund_request = models.ForeignKey(FundRequest, on_delete=models.PROTECT, related_name="claims")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    vendor = models.CharField(max_length=200)
    invoice_number = models.CharField(max_length=80)
    # Normalised (case, spaces and punctuation) so that "INV-001" and "inv 001" are one invoice.
    vendor_key = models.CharField(max_length=200, editable=False)
    invoice_key = models.CharField(max_length=80, editable=False)
    invoice_date = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))], help_text="Invoice total.")
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=FundClaimStatus.choices, default=FundClaimStatus.DRAFT)
    reimbursable_amount = models.DecimalField(**MONEY, default=ZERO, editable=False)
    approved_amount = models.DecimalField(**MONEY, default=ZERO, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedTenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["-created_at", "-id"]),  # the parent's list in its default order
        ]
        constraints = [
            # An invoice is claimed once, by anybody: the database keeps it so under any race.
            models.UniqueConstraint(
                fields=["vendor_key", "invoice_key"],
                condition=Q(status__in=INVOICE_HOLDING),
                name="mdf_claim_invoice_once",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="mdf_claim_amount_pos"),
            models.CheckConstraint(
                condition=Q(approved_amount__lte=F("reimbursable_amount")), name="mdf_claim_approved_le_reimbursable"
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.vendor} {self.invoice_number}"

    @property
    def reference(self) -> str:
        return f"CL-{self.pk:06d}" if self.pk else "CL-new"

    def can_transition_to(self, status) -> bool:
        return status in FUND_CLAIM_TRANSITIONS[FundClaimStatus(self.status)]


class ProofKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    PHOTO = "photo", _("Photo")
    ATTENDEES = "attendees", _("Attendee list")
    SCREENSHOT = "screenshot", _("Screenshot")
    OTHER = "other", _("Other")


def proof_path(instance, filename):
    return uploads.private_path("mdf-proof", instance.claim_id, filename)


class ClaimFile(models.Model):
    """Proof of performance. Each file's SHA-256 is kept, and a file is claimed once in the channel."""

    claim = models.ForeignKey(FundClaim, on_delete=models.CASCADE, related_name="files")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=ProofKind.choices, default=ProofKind.INVOICE)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    file = models.FileField(upload_to=proof_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ParentScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["claim", "created_at"])]
        constraints = [models.UniqueConstraint(fields=["sha256"], name="mdf_proof_file_once")]

    def __str__(self):
        return self.filename


# Campaigns ---------------------------------------------------------------------------------------


class CampaignOwner(models.TextChoices):
    PARENT = "parent", _("Parent")
    PARTNER = "partner", _("Partner")


class LeadHandling(models.TextChoices):
    PARENT_ONLY = "parent_only", _("Parent markets with no reference to partners; leads stay with the parent")
    DISTRIBUTE = "distribute", _("Leads enter lead distribution; partners receive them")
    PARTNER = "partner", _("The partner's own campaign; leads are the partner's")


class CampaignQuerySet(TenantQuerySet):
    """Parent campaigns are parent data; a partner sees its own campaigns and the parent campaigns
    that fed it leads. Parent marketing staff see everything; others of the parent see parent campaigns
    and those of the partners they see."""

    def _partner_in(self, partner_ids):
        return Q(partner__in=sorted(partner_ids)) | Q(partner__isnull=True)

    def for_partner(self, partner_id):
        from deals.models import Lead

        fed = Lead.objects.filter(campaign=OuterRef("pk"), partner_id=partner_id)
        return self.filter(Q(partner_id=partner_id) | Q(Exists(fed)))

    def visible_to_partner(self, actor):
        return self.for_partner(actor.partner_id)


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    owner_party = models.CharField(max_length=10, choices=CampaignOwner.choices)
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="The partner running its own campaign; empty for the parent's campaigns.",
    )
    fund_request = models.ForeignKey(
        FundRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns"
    )
    lead_handling = models.CharField(max_length=12, choices=LeadHandling.choices, default=LeadHandling.DISTRIBUTE)
    description = models.TextField(blank=True)
    countries = models.CharField(
        max_length=200, blank=True, help_text="Audience territories: ISO country codes separated by commas; empty: all."
    )
    product_lines = models.ManyToManyField("partners.ProductLine", blank=True, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    budget = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name"]
        indexes = [models.Index(fields=["partner", "-starts_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="mdf_campaign_dates"),
            models.CheckConstraint(
                condition=(Q(owner_party="parent") & Q(partner__isnull=True) & ~Q(lead_handling="partner"))
                | (Q(owner_party="partner") & Q(partner__isnull=False) & Q(lead_handling="partner")),
                name="mdf_campaign_owner_partner",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def country_list(self) -> list[str]:
        return [c.strip().upper() for c in self.countries.split(",") if c.strip()]


# Collateral --------------------------------------------------------------------------------------


class AssetKind(models.TextChoices):
    BROCHURE = "brochure", _("Brochure")
    DATASHEET = "datasheet", _("Datasheet")
    EMAIL = "email", _("Email template")
    BANNER = "banner", _("Web banner")
    CASE_STUDY = "case_study", _("Case study")
    PRESENTATION = "presentation", _("Presentation")


class AssetQuerySet(TenantQuerySet):
    """The collateral library. The parent's assets reach a partner only when published and entitled
    (tier, territory, marketing model); a white-label partner (own brand) gets only assets marked
    white-label-safe. A partner's own assets are its own."""

    def _partner_in(self, partner_ids):
        return Q(partner__in=sorted(partner_ids)) | Q(partner__isnull=True)

    def visible_to_partner(self, actor):
        return self.entitled_to(actor.partner) | self.filter(partner_id=actor.partner_id)

    def for_partner(self, partner_id):
        from partners.models import Partner

        partner = Partner.objects.select_related("agreement", "tier").get(pk=partner_id)
        return self.entitled_to(partner) | self.filter(partner_id=partner_id)

    def entitled_to(self, partner):
        from partners.models import Territory

        model = partner.agreement.marketing_model
        qs = self.filter(partner__isnull=True, is_published=True)
        qs = qs.filter(Q(marketing_models="") | Q(marketing_models__contains=f",{model},"))
        qs = qs.filter(Q(min_tier__isnull=True) | Q(min_tier__rank__lte=partner.tier.rank if partner.tier else -1))
        # Territory entitlement: no countries listed, or one of the partner's territories is.
        territory_codes = list(Territory.objects.filter(partner_id=partner.pk).values_list("country", flat=True))
        territory_q = Q(countries="")
        for code in territory_codes:
            territory_q |= Q(countries__contains=f",{code},")
        qs = qs.filter(territory_q)
        if model == MarketingModel.PARTNER_BRAND:
            qs = qs.filter(white_label_safe=True)
        return qs


class Asset(models.Model):
    """A piece of collateral. Its HTML may hold placeholders filled for the partner rendering it:
    {partner_name}, {partner_logo}, {partner_website}, {contact_name}, {contact_email}, {contact_phone}
    and {provider_name} (the parent's name, or the partner's own for a white-label partner)."""

    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assets",
        help_text="A partner's own collateral; empty for the parent's library.",
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AssetKind.choices, default=AssetKind.BROCHURE)
    description = models.TextField(blank=True)
    is_published = models.BooleanField(default=True)
    co_branded = models.BooleanField(default=True, help_text="Rendered with the partner's name and contact details.")
    white_label_safe = models.BooleanField(
        default=False, help_text="Carries no trace of the parent: may reach white-label partners."
    )
    # Stored with leading and trailing commas (",GB,IE,") so one contains-lookup matches one code.
    marketing_models = models.CharField(max_length=200, blank=True, help_text="Empty: every marketing model.")
    countries = models.CharField(max_length=200, blank=True, help_text="Empty: every territory.")
    min_tier = models.ForeignKey(
        "partners.ProgramTier", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    product_lines = models.ManyToManyField("partners.ProductLine", blank=True, related_name="+")
    current_version = models.ForeignKey(
        "AssetVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["partner", "title"])]

    def __str__(self):
        return self.title

    @staticmethod
    def pack(values) -> str:
        values = [str(v).strip() for v in values if str(v).strip()]
        return f",{','.join(values)}," if values else ""

    @staticmethod
    def unpack(value: str) -> list[str]:
        return [v for v in value.split(",") if v]


class AssetVersionQuerySet(TenantQuerySet):
    partner_path = "asset__partner"

    def _partner_in(self, partner_ids):
        return Q(asset__partner__in=sorted(partner_ids)) | Q(asset__partner__isnull=True)

    def visible_to_partner(self, actor):
        return self.filter(asset__in=Asset.objects.visible_to_partner(actor))


class AssetVersion(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body_html = models.TextField(help_text="The asset's HTML, with placeholders such as {partner_name}.")
    notes = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AssetVersionQuerySet.as_manager()

    class Meta:
        ordering = ["asset", "-number"]
        constraints = [models.UniqueConstraint(fields=["asset", "number"], name="mdf_asset_version_unique")]

    def __str__(self):
        return f"{self.asset} v{self.number}"


class DownloadFormat(models.TextChoices):
    HTML = "html", _("HTML")
    PDF = "pdf", _("PDF")


class AssetDownload(models.Model):
    """Who rendered or downloaded which version of an asset, per partner."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="downloads")
    version = models.ForeignKey(AssetVersion, on_delete=models.SET_NULL, null=True, related_name="+")
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="asset_downloads"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    format = models.CharField(max_length=5, choices=DownloadFormat.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ParentScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["asset", "partner"])]

    def __str__(self):
        return f"{self.asset} by {self.partner or 'parent'} ({self.format})"
