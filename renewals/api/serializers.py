from rest_framework import serializers

from prm.api.serializers import ModelSerializer, StrictSerializer
from renewals import permissions
from renewals.models import Contract, ContractLine, LapseReason, Renewal


class StatusOnlyMixin:
    """Values are shown to the sides that may see them; a status-only reader (a referral partner, the
    originating partner of a parent-owned renewal) gets them as null."""

    value_fields: tuple = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not permissions.shows_values(request.user, instance):
            for name in self.value_fields:
                if name in data:
                    data[name] = None
        return data


class ContractLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = ContractLine
        fields = [
            "id",
            "sku",
            "product",
            "quantity",
            "unit_price",
            "term_number",
            "term_start",
            "term_end",
            "annual_value",
            "amount",
        ]


class ContractSerializer(StatusOnlyMixin, ModelSerializer):
    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.legal_name", read_only=True)
    product_line = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lines = ContractLineSerializer(many=True, read_only=True)
    value_fields = ("annual_value", "lines")

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "partner",
            "originating_partner",
            "product_line",
            "status",
            "term_number",
            "term_start",
            "term_end",
            "annual_value",
            "currency",
            "lines",
        ]


class RenewalSerializer(StatusOnlyMixin, ModelSerializer):
    number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.legal_name", read_only=True)
    days_to_term_end = serializers.SerializerMethodField()
    parent_may_pursue = serializers.SerializerMethodField()
    parent_may_market = serializers.SerializerMethodField()
    value_fields = ("current_value", "expected_value", "renewed_value", "value_change", "uplift_percent", "quote")

    class Meta:
        model = Renewal
        fields = [
            "id",
            "number",
            "contract",
            "customer",
            "customer_name",
            "partner",
            "originating_partner",
            "term_number",
            "term_end",
            "days_to_term_end",
            "status",
            "owner_side",
            "exclusive_days",
            "parent_may_pursue_from",
            "parent_may_pursue",
            "parent_may_market",
            "pursued_by_parent_at",
            "uplift_percent",
            "current_value",
            "expected_value",
            "renewed_value",
            "value_change",
            "currency",
            "outcome",
            "lapse_reason",
            "closed_by_side",
            "assigned_to",
            "quote",
            "due_milestone",
            "reminded_milestone",
            "opened_at",
            "closed_at",
        ]

    def get_days_to_term_end(self, renewal) -> int:
        return renewal.days_to_term_end()

    def get_parent_may_pursue(self, renewal) -> bool:
        return renewal.parent_may_pursue()

    def get_parent_may_market(self, renewal) -> bool:
        return renewal.owner_side != "partner" or renewal.parent_marketing_allowed


class RenewalQuoteSerializer(StrictSerializer):
    add_products = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    quantities = serializers.DictField(child=serializers.IntegerField(min_value=0), required=False, default=dict)

    def validate_quantities(self, value):
        try:
            return {int(key): quantity for key, quantity in value.items()}
        except ValueError:
            raise serializers.ValidationError("Keys are product ids.")


class RenewalLapseSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=LapseReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RenewalAssignSerializer(StrictSerializer):
    assignee = serializers.IntegerField(min_value=1, help_text="A user id of the side that works the renewal.")


class RenewalEmptySerializer(StrictSerializer):
    pass
