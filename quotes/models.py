"""The product catalogue, price books and tier discounts, quotes with their versions, orders with the
business rules they must pass, and the provisioning outbox."""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.access import TenantQuerySet

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def cents(value) -> Decimal:
    """Money is rounded half-up to cents."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class ProductUnit(models.TextChoices):
    SEAT_MONTH = "seat_month", "Seat per month"
    SEAT_YEAR = "seat_year", "Seat per year"
    INSTANCE_MONTH = "instance_month", "Instance per month"
    GB_MONTH = "gb_month", "GB per month"
    ONE_TIME = "one_time", "One-time"


class ProductQuerySet(TenantQuerySet):
    """The catalogue is shared by the whole channel: every signed-in parent or partner user reads
    it; partners see only active products."""

    def for_user(self, user):
        from partners.access import actor_of

        actor = actor_of(user)
        if actor.is_parent:
            return self
        if actor.is_partner:
            return self.filter(active=True)
        return self.none()

    def for_partner(self, partner_id):
        return self.filter(active=True)


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    product_line = models.ForeignKey("partners.ProductLine", on_delete=models.PROTECT, related_name="products")
    unit = models.CharField(max_length=20, choices=ProductUnit.choices)
    is_subscription = models.BooleanField(default=True)
    list_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=Q(list_price__gte=0), name="product_price_nonneg")]

    def __str__(self):
        return f"{self.sku} {self.name}"


# Channel-wide configuration ----------------------------------------------------------------------


class ChannelConfigQuerySet(TenantQuerySet):
    """Configuration the parent maintains for the whole channel (price books, discount schedules,
    business rules): parent staff read all of it; partner users read what applies to them."""

    def for_user(self, user):
        from partners.access import actor_of

        actor = actor_of(user)
        if actor.is_parent:
            return self
        if actor.is_partner:
            return self.visible_to_partner(actor)
        return self.none()

    def for_partner(self, partner_id):
        return self

    def visible_to_partner(self, actor):
        return self


class PriceBookQuerySet(ChannelConfigQuerySet):
    def visible_to_partner(self, actor):
        return self.filter(active=True)

    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(active=True, valid_from__lte=on).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))


class PriceBook(models.Model):
    """A list price per product in one currency, valid for a period."""

    name = models.CharField(max_length=100, unique=True)
    currency = models.CharField(max_length=3, default="USD")
    valid_from = models.DateField(default=timezone.localdate)
    valid_until = models.DateField(null=True, blank=True)
    is_default = models.BooleanField(default=False, help_text="Used for new quotes and orders that name no book.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PriceBookQuerySet.as_manager()

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="pricebook_valid_period",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"

    def is_valid_on(self, day) -> bool:
        return self.active and self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class PriceBookEntry(models.Model):
    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="price_entries")
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])

    objects = ChannelConfigQuerySet.as_manager()

    class Meta:
        ordering = ["product__sku"]
        verbose_name_plural = "price book entries"
        constraints = [
            models.UniqueConstraint(fields=["price_book", "product"], name="pricebook_entry_unique"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="pricebook_entry_nonneg"),
        ]

    def __str__(self):
        return f"{self.product.sku} {self.unit_price}"


class DiscountScheduleQuerySet(ChannelConfigQuerySet):
    def visible_to_partner(self, actor):
        return self.filter(tier_id=actor.partner.tier_id)


class DiscountSchedule(models.Model):
    """The largest discount a partner of a tier may give on a product line without approval."""

    tier = models.ForeignKey("partners.ProgramTier", on_delete=models.CASCADE, related_name="discount_schedules")
    product_line = models.ForeignKey("partners.ProductLine", on_delete=models.CASCADE, related_name="+")
    max_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT)

    objects = DiscountScheduleQuerySet.as_manager()

    class Meta:
        ordering = ["tier__rank", "product_line__name"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "product_line"], name="discount_schedule_unique"),
            models.CheckConstraint(
                condition=Q(max_discount_percent__gte=0, max_discount_percent__lte=100), name="discount_schedule_pct"
            ),
        ]

    def __str__(self):
        return f"{self.tier} / {self.product_line}: {self.max_discount_percent}%"


class PartnerPriceQuerySet(TenantQuerySet):
    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(valid_from__lte=on).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))


class PartnerPrice(models.Model):
    """A partner-specific price agreement: this partner buys this product at this net price."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="price_agreements")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="partner_prices")
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="USD")
    valid_from = models.DateField(default=timezone.localdate)
    valid_until = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    objects = PartnerPriceQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "product__sku"]
        verbose_name = "partner price agreement"
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="partner_price_nonneg"),
        ]
        indexes = [models.Index(fields=["partner", "product"])]

    def __str__(self):
        return f"{self.partner}: {self.product.sku} at {self.unit_price} {self.currency}"


class RuleKind(models.TextChoices):
    PRODUCT_LINE_AUTHORISED = "product_line_authorised", _("Partner is authorised for the product line")
    QUANTITY_LIMITS = "quantity_limits", _("Quantities within limits")
    DISCOUNT_WITHIN_TIER = "discount_within_tier", _("Discount within the tier maximum")
    CUSTOMER_IN_TERRITORY = "customer_in_territory", _("Customer country within the partner's territory")
    CREDIT_LIMIT = "credit_limit", _("Open order value within the partner's credit limit")
    CUSTOMER_NOT_OWNED_BY_OTHER = "customer_not_owned_by_other", _("Customer not owned by another partner")
    AGREEMENT_ALLOWS_CUSTOMER = "agreement_allows_customer", _("Agreement allows ordering for this customer")
    FIRST_ORDER_OF_CUSTOMER = "first_order_of_customer", _("Not the first order of a new customer")
    ORDER_VALUE_LIMIT = "order_value_limit", _("Order value at most the threshold")


class RuleSeverity(models.TextChoices):
    BLOCKING = "blocking", _("Blocking (the order is refused)")
    REVIEW = "review", _("Review (the order goes to manual review)")


class BusinessRule(models.Model):
    """One check an order must pass when it is submitted; editable by the parent in the admin."""

    kind = models.CharField(max_length=40, choices=RuleKind.choices)
    name = models.CharField(max_length=120, unique=True)
    severity = models.CharField(max_length=10, choices=RuleSeverity.choices, default=RuleSeverity.BLOCKING)
    active = models.BooleanField(default=True)
    min_quantity = models.PositiveIntegerField(null=True, blank=True, help_text="quantity_limits: per line.")
    max_quantity = models.PositiveIntegerField(null=True, blank=True, help_text="quantity_limits: per line.")
    threshold = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="order_value_limit: the largest total."
    )
    product_line = models.ForeignKey(
        "partners.ProductLine",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="quantity_limits: only lines of this product line (empty: all).",
    )
    position = models.PositiveSmallIntegerField(default=100)
    description = models.TextField(blank=True)

    objects = ChannelConfigQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_quantity__isnull=True)
                | Q(max_quantity__isnull=True)
                | Q(min_quantity__lte=models.F("max_quantity")),
                name="business_rule_quantity_range",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.severity})"


# Quotes --------------------------------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested from the parent")
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


_S = QuoteStatus
# The quote state machine, in one place. A requested quote (a referral partner asked the parent to
# quote) moves like a draft, but only the parent moves it. Submitting a quote within its limits
# passes through pending_approval to approved at once.
QUOTE_TRANSITIONS = {
    _S.REQUESTED: {_S.PENDING_APPROVAL, _S.SENT, _S.SUPERSEDED},
    _S.DRAFT: {_S.PENDING_APPROVAL, _S.SENT, _S.SUPERSEDED},
    _S.RETURNED: {_S.PENDING_APPROVAL, _S.SENT, _S.SUPERSEDED},
    _S.PENDING_APPROVAL: {_S.APPROVED, _S.REJECTED, _S.RETURNED},
    _S.APPROVED: {_S.SENT, _S.SUPERSEDED},
    _S.REJECTED: {_S.SUPERSEDED},
    _S.SENT: {_S.ACCEPTED, _S.DECLINED, _S.EXPIRED, _S.SUPERSEDED},
    _S.ACCEPTED: set(),
    _S.DECLINED: {_S.SUPERSEDED},
    _S.EXPIRED: {_S.SUPERSEDED},
    _S.SUPERSEDED: set(),
}
QUOTE_EDITABLE = {_S.REQUESTED, _S.DRAFT, _S.RETURNED}


class QuoteQuerySet(TenantQuerySet):
    owner_path = "created_by"

    def visible_to_parent(self, actor):
        # A partner whose pipeline the parent sees only once an order is placed keeps its quotes to
        # itself until then, except those it asked the parent to price or approve.
        from partners import pipeline

        asked_the_parent = (
            Q(prepared_by_parent=True) | Q(status__in=[_S.PENDING_APPROVAL, _S.REJECTED]) | Q(decided_by__isnull=False)
        )
        return self.exclude(pipeline.after_order() & ~asked_the_parent & ~pipeline.order_placed_for())


class Quote(models.Model):
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="quotes")
    customer = models.ForeignKey("partners.Customer", on_delete=models.PROTECT, related_name="quotes")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    prepared_by_parent = models.BooleanField(default=False, help_text="The parent quotes for this partner.")
    price_book = models.ForeignKey(PriceBook, on_delete=models.PROTECT, related_name="quotes")
    currency = models.CharField(max_length=3)
    # Versions of one quote share a chain; revising creates the next version and supersedes this one.
    chain = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    base_number = models.CharField(max_length=20, blank=True, editable=False, help_text="Shared by all versions.")
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    opportunity_ref = models.CharField(max_length=80, blank=True, help_text="The opportunity this quote is for.")
    opportunity = models.ForeignKey(
        "deals.Opportunity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quotes",
        help_text="The opportunity (or the approved registration's opportunity) this quote is made from.",
    )
    status = models.CharField(max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    header_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    header_discount_amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    services_total = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=ZERO,
        help_text="A white-label partner's own services on the quote: billed by the partner, outside the total.",
    )
    valid_until = models.DateField()
    terms = models.TextField(blank=True)
    notes = models.TextField(blank=True, help_text="For a quote request: what the customer needs.")
    approval_reasons = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "version"], name="quote_version_unique"),
            models.CheckConstraint(
                condition=Q(header_discount_percent__gte=0, header_discount_percent__lte=100),
                name="quote_header_discount_pct",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="quote_total_nonneg"),
        ]
        indexes = [
            models.Index(fields=["partner", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["status", "valid_until"]),
        ]

    def __str__(self):
        return f"{self.number} {self.customer_id and self.customer}"

    @property
    def number(self) -> str:
        return f"{self.base_number or f'Q-{self.pk or 0:05d}'}-v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status in QUOTE_EDITABLE

    def can_transition_to(self, status) -> bool:
        return status in QUOTE_TRANSITIONS[QuoteStatus(self.status)]


class PricedLine(models.Model):
    """What a quote line and an order line share: the product, how many, at what price, for how long."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=1)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT)
    net_amount = models.DecimalField(max_digits=14, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Subscriptions: the term.")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class QuoteLine(PricedLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="quote_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="quote_line_discount_pct"
            ),
        ]
        indexes = [models.Index(fields=["partner", "quote"])]

    def __str__(self):
        return f"{self.quantity} × {self.product_id}"


class QuoteServiceLine(models.Model):
    """A white-label partner's own service on its quote (installation, support, consulting): not a
    catalogue product, priced and taxed by the partner. It appears only on the partner's documents; it
    is never ordered from the parent, provisioned, commissioned or checked against discount rules."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="service_lines")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    tax_category = models.CharField(max_length=40, help_text="The partner's own tax category for this service.")
    net_amount = models.DecimalField(max_digits=14, decimal_places=2)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="quote_service_line_qty_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quote_service_line_price_nonneg"),
        ]
        indexes = [models.Index(fields=["partner", "quote"])]

    def __str__(self):
        return f"{self.quantity} × {self.description}"


# Orders ----------------------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    PROVISIONING = "provisioning", _("Provisioning")
    FULFILLED = "fulfilled", _("Fulfilled")
    FAILED = "failed", _("Provisioning failed")
    CANCELLED = "cancelled", _("Cancelled")


_O = OrderStatus
ORDER_TRANSITIONS = {
    _O.DRAFT: {_O.SUBMITTED, _O.CANCELLED},
    _O.SUBMITTED: {_O.IN_REVIEW, _O.APPROVED, _O.DECLINED, _O.CANCELLED},
    _O.IN_REVIEW: {_O.APPROVED, _O.DECLINED, _O.CANCELLED},
    _O.APPROVED: {_O.PROVISIONING, _O.CANCELLED},
    _O.PROVISIONING: {_O.FULFILLED, _O.FAILED},
    _O.FAILED: {_O.PROVISIONING},
    _O.DECLINED: set(),
    _O.FULFILLED: set(),
    _O.CANCELLED: set(),
}
# What counts against the credit limit.
OPEN_ORDER_STATUSES = [_O.SUBMITTED, _O.IN_REVIEW, _O.APPROVED, _O.PROVISIONING, _O.FAILED]
# What makes an order "the customer's first": any order that went (or is going) through.
LIVE_ORDER_STATUSES = [*OPEN_ORDER_STATUSES, _O.FULFILLED]


class OrderSource(models.TextChoices):
    QUOTE = "quote", _("From an accepted quote")
    API = "api", _("Placed directly (integration)")
    PORTAL = "portal", _("Placed in the portal")


class OrderQuerySet(TenantQuerySet):
    owner_path = "created_by"

    def visible_to_parent(self, actor):
        # Pipeline visibility "after_order": the parent sees the order once it is placed.
        return self.exclude(Q(status=_O.DRAFT) & Q(partner__agreement__pipeline_visibility="after_order"))


class Order(models.Model):
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey("partners.Customer", on_delete=models.PROTECT, related_name="orders")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, null=True, blank=True, related_name="order")
    opportunity = models.ForeignKey(
        "deals.Opportunity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        help_text="The sale this order proves: its fulfilment closes the opportunity as won.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    placed_by_parent = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=OrderSource.choices, default=OrderSource.API)
    external_ref = models.CharField(
        max_length=80, blank=True, help_text="The integrator's own order id (unique per partner)."
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    price_book = models.ForeignKey(PriceBook, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    currency = models.CharField(max_length=3, default="USD")
    header_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    header_discount_amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    rule_results = models.JSONField(default=list, blank=True)
    review_reasons = models.JSONField(default=list, blank=True)
    decline_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_ref"], condition=~Q(external_ref=""), name="order_external_ref_unique"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_nonneg"),
            models.CheckConstraint(
                condition=Q(header_discount_percent__gte=0, header_discount_percent__lte=100),
                name="order_header_discount_pct",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["customer", "status"]),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"O-{self.pk or 0:05d}"

    def can_transition_to(self, status) -> bool:
        return status in ORDER_TRANSITIONS[OrderStatus(self.status)]


class OrderLine(PricedLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # Set on fulfilment for subscriptions: the renewals app reads these.
    term_start = models.DateField(null=True, blank=True)
    term_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="order_line_discount_pct"
            ),
        ]
        indexes = [models.Index(fields=["partner", "order"]), models.Index(fields=["term_end"])]

    def __str__(self):
        return f"{self.quantity} × {self.product_id}"


class OrderEvent(models.Model):
    """The order's status timeline as the partner sees it (the audit trail is the parent's)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["partner", "order"])]

    def __str__(self):
        return f"{self.order_id}: {self.from_status} → {self.to_status}"


class ProvisioningStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ProvisioningRequest(models.Model):
    """The outbox row of one provisioning hand-off attempt. (order, run) is the idempotency key:
    a task delivered twice finds the row done and does nothing."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="provisioning_requests")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    run = models.PositiveSmallIntegerField(default=1, help_text="1 for the first hand-off, +1 per retry.")
    status = models.CharField(max_length=10, choices=ProvisioningStatus.choices, default=ProvisioningStatus.PENDING)
    adapter = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    external_id = models.CharField(max_length=120, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["order", "run"], name="provisioning_once_per_run")]
        indexes = [models.Index(fields=["status", "next_attempt_at"]), models.Index(fields=["partner", "order"])]

    def __str__(self):
        return f"Provisioning {self.order_id} run {self.run} ({self.status})"
