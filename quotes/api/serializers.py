from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals.models import DealRegistration, Opportunity
from partners.models import Customer, Partner
from prm.api.base import ScopedPrimaryKeyRelatedField
from prm.api.serializers import ModelSerializer, StrictSerializer
from quotes.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PriceBook,
    PriceBookEntry,
    Product,
    Quote,
    QuoteLine,
    QuoteServiceLine,
    QuoteStatus,
)
from quotes.permissions import sees_own_services, sees_status_only


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(ScopedPrimaryKeyRelatedField):
    """The id of a row the caller can see (another tenant's id reads as missing)."""


def status_field(choices):
    """A read-only status; its OpenAPI enum is named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]."""
    return serializers.ChoiceField(choices=choices.choices, read_only=True)


PERCENT = {"max_digits": 5, "decimal_places": 2, "min_value": Decimal("0"), "max_value": Decimal("100")}


class ProductSerializer(ModelSerializer):
    product_line = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "product_line",
            "unit",
            "is_subscription",
            "list_price",
            "currency",
            "active",
            "description",
        ]
        read_only_fields = fields


class PriceBookEntrySerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = PriceBookEntry
        fields = ["product", "sku", "name", "unit_price"]
        read_only_fields = fields


class PriceBookSerializer(ModelSerializer):
    entries = PriceBookEntrySerializer(many=True, read_only=True)

    class Meta:
        model = PriceBook
        fields = ["id", "name", "currency", "valid_from", "valid_until", "is_default", "active", "entries"]
        read_only_fields = fields


# Quotes ---------------------------------------------------------------------------------------------


class LineInputSerializer(StrictSerializer):
    product = ScopedIdField(model=Product)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    discount_percent = serializers.DecimalField(required=False, default=Decimal("0"), **PERCENT)
    term_months = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=120)


class QuoteLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)
    product_line = serializers.CharField(source="product.product_line.code", read_only=True)

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "position",
            "product",
            "sku",
            "name",
            "product_line",
            "quantity",
            "unit_price",
            "discount_percent",
            "net_amount",
            "term_months",
        ]
        read_only_fields = fields


class QuoteServiceLineSerializer(ModelSerializer):
    class Meta:
        model = QuoteServiceLine
        fields = ["id", "position", "description", "quantity", "unit_price", "tax_category", "net_amount"]
        read_only_fields = fields


class QuoteServiceLineInputSerializer(StrictSerializer):
    description = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    tax_category = serializers.CharField(max_length=40)


class QuoteServiceLineRemoveSerializer(StrictSerializer):
    line = serializers.IntegerField()


class QuoteSerializer(ModelSerializer):
    status = status_field(QuoteStatus)
    service_lines = QuoteServiceLineSerializer(
        many=True, read_only=True, help_text="The partner's own services: shown to the partner only (else empty)."
    )
    services_total = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Null where the services are hidden.",
    )
    number = serializers.CharField(read_only=True)
    lines = QuoteLineSerializer(many=True, read_only=True)
    customer_name = serializers.CharField(source="customer.legal_name", read_only=True)
    order = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = [
            "id",
            "number",
            "partner",
            "customer",
            "customer_name",
            "prepared_by_parent",
            "price_book",
            "currency",
            "version",
            "previous",
            "opportunity_ref",
            "opportunity",
            "status",
            "header_discount_percent",
            "subtotal",
            "header_discount_amount",
            "total",
            "valid_until",
            "terms",
            "notes",
            "approval_reasons",
            "decision_reason",
            "decided_at",
            "sent_at",
            "answered_at",
            "created_at",
            "updated_at",
            "lines",
            "service_lines",
            "services_total",
            "order",
        ]
        read_only_fields = fields

    def get_order(self, quote) -> int | None:
        try:
            return quote.order.pk
        except Order.DoesNotExist:
            return None

    def to_representation(self, quote):
        data = super().to_representation(quote)
        request = self.context.get("request")
        if request is not None and sees_status_only(request.user, quote):
            # Status only means status only: no lines, prices, terms or notes.
            return {name: data[name] for name in QUOTE_STATUS_FIELDS}
        if request is None or not sees_own_services(request.user, quote):
            # A white-label partner's own services are its business, on its documents only.
            data["service_lines"], data["services_total"] = [], None
        return data


QUOTE_STATUS_FIELDS = (
    "id",
    "number",
    "partner",
    "customer",
    "customer_name",
    "prepared_by_parent",
    "status",
    "created_at",
    "updated_at",
)


class QuoteCreateSerializer(StrictSerializer):
    customer = ScopedIdField(model=Customer)
    partner = ScopedIdField(model=Partner, required=False, help_text="Parent staff only.")
    price_book = ScopedIdField(model=PriceBook, required=False)
    valid_until = serializers.DateField(required=False)
    header_discount_percent = serializers.DecimalField(required=False, default=Decimal("0"), **PERCENT)
    terms = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    opportunity_ref = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    opportunity = ScopedIdField(model=Opportunity, required=False, help_text="The opportunity this quote is for.")
    registration = ScopedIdField(
        model=DealRegistration, required=False, help_text="An approved registration: its opportunity."
    )
    lines = LineInputSerializer(many=True, required=False, default=list)


class QuoteUpdateSerializer(StrictSerializer):
    price_book = ScopedIdField(model=PriceBook, required=False)
    valid_until = serializers.DateField(required=False)
    header_discount_percent = serializers.DecimalField(required=False, **PERCENT)
    terms = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    opportunity_ref = serializers.CharField(required=False, allow_blank=True, max_length=80)
    lines = LineInputSerializer(many=True, required=False)


class QuotesReasonSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class QuotesRequiredReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class QuotesEmptySerializer(StrictSerializer):
    pass


# Orders --------------------------------------------------------------------------------------------


class OrderLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "position",
            "product",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "discount_percent",
            "net_amount",
            "term_months",
            "term_start",
            "term_end",
        ]
        read_only_fields = fields


class OrderEventSerializer(ModelSerializer):
    # Empty for the event that created the order.
    from_status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True, allow_blank=True)
    to_status = status_field(OrderStatus)

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "reason", "created_at"]
        read_only_fields = fields


class RuleResultSerializer(serializers.Serializer):
    rule = serializers.CharField()
    kind = serializers.CharField()
    severity = serializers.CharField()
    passed = serializers.BooleanField()
    messages = serializers.ListField(child=serializers.CharField())


class OrderSerializer(ModelSerializer):
    status = status_field(OrderStatus)
    number = serializers.CharField(read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)
    rule_results = RuleResultSerializer(many=True, read_only=True)
    customer_name = serializers.CharField(source="customer.legal_name", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "partner",
            "customer",
            "customer_name",
            "quote",
            "opportunity",
            "placed_by_parent",
            "source",
            "external_ref",
            "status",
            "price_book",
            "currency",
            "header_discount_percent",
            "subtotal",
            "header_discount_amount",
            "total",
            "rule_results",
            "review_reasons",
            "decline_reason",
            "failure_reason",
            "decided_at",
            "submitted_at",
            "fulfilled_at",
            "created_at",
            "updated_at",
            "lines",
            "events",
        ]
        read_only_fields = fields

    def to_representation(self, order):
        data = super().to_representation(order)
        request = self.context.get("request")
        if request is not None and sees_status_only(request.user, order):
            return {name: data[name] for name in ORDER_STATUS_FIELDS}
        return data


ORDER_STATUS_FIELDS = ("id", "number", "partner", "customer", "customer_name", "status", "created_at", "updated_at")


class OrderCreateSerializer(StrictSerializer):
    quote = ScopedIdField(model=Quote, required=False, help_text="Place the order of an accepted quote.")
    customer = ScopedIdField(model=Customer, required=False)
    partner = ScopedIdField(model=Partner, required=False, help_text="Parent staff only.")
    price_book = ScopedIdField(model=PriceBook, required=False)
    header_discount_percent = serializers.DecimalField(required=False, default=Decimal("0"), **PERCENT)
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    opportunity = ScopedIdField(
        model=Opportunity, required=False, help_text="The opportunity this order closes (one sale, one commission)."
    )
    lines = LineInputSerializer(many=True, required=False, default=list)

    def validate(self, attrs):
        if attrs.get("quote") is not None:
            extra = [name for name in ("customer", "partner", "price_book", "opportunity") if name in attrs]
            if attrs.get("lines"):
                extra.append("lines")
            if extra:
                raise serializers.ValidationError({name: ["Given by the quote."] for name in extra})
            return attrs
        errors = {}
        if attrs.get("customer") is None:
            errors["customer"] = ["This field is required."]
        if not attrs.get("lines"):
            errors["lines"] = ["An order needs at least one line."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OrderUpdateSerializer(StrictSerializer):
    header_discount_percent = serializers.DecimalField(required=False, **PERCENT)
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=80)
    lines = LineInputSerializer(many=True, required=False)
