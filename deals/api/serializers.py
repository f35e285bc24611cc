from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partners.access import actor_of, sees_status_only
from partners.models import Commission, Customer, Partner, ProductLine
from prm.api.base import ScopedPrimaryKeyRelatedField
from prm.api.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer
from quotes.models import Product

from ..models import (
    DealRegistration,
    DealRegistrationLine,
    Lead,
    LeadSource,
    LeadStatus,
    Opportunity,
    OpportunityStage,
    RegistrationConflict,
    RegistrationExtension,
)
from ..selectors import STATUS_ONLY_HIDDEN


@extend_schema_field(OpenApiTypes.INT)
class PartnerIdField(ScopedPrimaryKeyRelatedField):
    """One of the caller's partners, by id."""

    def __init__(self, **kwargs):
        super().__init__(model=Partner, **kwargs)


# Leads -------------------------------------------------------------------------------------------

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")


class LeadSerializer(ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    product_interest = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # Null while hidden (contact_hidden): the schema says so, or clients validating it would reject it.
    contact_name = serializers.CharField(read_only=True, allow_null=True)
    contact_email = serializers.CharField(read_only=True, allow_null=True)  # may be blank: no "format: email"
    contact_phone = serializers.CharField(read_only=True, allow_null=True)
    offer_deadline = serializers.SerializerMethodField(help_text="The pending offer's acceptance deadline (UTC).")
    contact_hidden = serializers.SerializerMethodField(help_text="Contact details show once the partner accepts.")
    opportunity = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id",
            "partner",
            "source",
            "status",
            "company_name",
            "company_domain",
            "country",
            "product_interest",
            *CONTACT_FIELDS,
            "contact_hidden",
            "description",
            "owner",
            "offer_deadline",
            "opportunity",
            "accepted_at",
            "created_at",
        ]
        read_only_fields = fields

    def _hidden(self, lead) -> bool:
        actor = self.context.get("actor")
        return actor is None or (actor.is_partner and lead.status != LeadStatus.ACCEPTED)

    def get_contact_hidden(self, lead) -> bool:
        return self._hidden(lead)

    def get_offer_deadline(self, lead) -> str | None:
        pending = getattr(lead, "pending_offers", None)
        if pending is None:
            return None
        return serializers.DateTimeField().to_representation(pending[0].deadline) if pending else None

    def get_opportunity(self, lead) -> int | None:
        opportunity = getattr(lead, "opportunity", None)
        return opportunity.pk if opportunity is not None else None

    def to_representation(self, lead):
        data = super().to_representation(lead)
        if self._hidden(lead):
            for name in CONTACT_FIELDS:
                data[name] = None
        return data


class LeadCreateSerializer(StrictModelSerializer):
    source = serializers.ChoiceField(
        choices=[c for c in LeadSource.choices if c[0] != LeadSource.PARTNER],
        required=False,
        help_text="Parent staff only; a partner's own leads are 'partner'.",
    )
    product_interest = serializers.SlugRelatedField(
        slug_field="code", queryset=ProductLine.objects.all(), required=False, allow_null=True
    )
    route = serializers.BooleanField(required=False, default=False, help_text="Parent staff: route it at once.")

    class Meta:
        model = Lead
        fields = [
            "source",
            "company_name",
            "company_domain",
            "country",
            "product_interest",
            *CONTACT_FIELDS,
            "description",
            "route",
        ]


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ApproveSerializer(ReasonSerializer):
    override_conflicts = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approve despite a conflict with an account held by the parent or another partner, or with "
        "the parent's open direct opportunity (a reason is required; audited).",
    )


class RequiredReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)


class LeadForwardSerializer(StrictSerializer):
    partner = PartnerIdField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class DoneSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class LeadRouteResultSerializer(serializers.Serializer):
    lead = LeadSerializer()
    offered_to = serializers.IntegerField(allow_null=True, help_text="The partner offered the lead; null: queue.")


# Deal registrations ------------------------------------------------------------------------------


class RegistrationLineSerializer(StrictModelSerializer):
    product = ScopedPrimaryKeyRelatedField(model=Product)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    class Meta:
        model = DealRegistrationLine
        fields = ["product", "quantity"]


class ConflictSerializer(ModelSerializer):
    class Meta:
        model = RegistrationConflict
        fields = [
            "id",
            "kind",
            "reasons",
            "detail",
            "conflicting_registration",
            "conflicting_opportunity",
            "conflicting_customer",
        ]
        read_only_fields = fields


class ExtensionSerializer(ModelSerializer):
    class Meta:
        model = RegistrationExtension
        fields = ["sequence", "days", "reason", "status", "requested_at", "decided_at"]
        read_only_fields = fields


class DealRegistrationSerializer(ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(read_only=True)
    lines = RegistrationLineSerializer(many=True, read_only=True)
    extensions = ExtensionSerializer(many=True, read_only=True)
    conflicts = ConflictSerializer(
        many=True, read_only=True, help_text="Parent staff only: each conflict and why it matched."
    )
    days_left = serializers.IntegerField(read_only=True, allow_null=True)
    awaiting_second_approval = serializers.SerializerMethodField()
    contact_email = serializers.CharField(read_only=True)  # may be blank: no "format: email"

    class Meta:
        model = DealRegistration
        fields = [
            "id",
            "partner",
            "status",
            "customer",
            "customer_name",
            "customer_domain",
            "customer_country",
            "estimated_value",
            "currency",
            "expected_close_date",
            "notes",
            "contact_name",
            "contact_email",
            "competitor",
            "lines",
            "has_conflict",
            "conflicts",
            "submitted_at",
            "awaiting_second_approval",
            "decision_reason",
            "approved_at",
            "protected_until",
            "days_left",
            "extensions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        actor = self.context.get("actor")
        if actor is None or not actor.is_parent:
            fields.pop("conflicts")
        return fields

    def get_awaiting_second_approval(self, registration) -> bool:
        return registration.status == "submitted" and registration.first_approved_by_id is not None


class DealRegistrationWriteSerializer(StrictModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(model=Customer, required=False, allow_null=True)
    customer_name = serializers.CharField(max_length=200, required=False)
    customer_country = serializers.RegexField(r"^[A-Z]{2}$", required=False)
    lines = RegistrationLineSerializer(many=True, min_length=1, max_length=50)
    submit = serializers.BooleanField(required=False, default=False, write_only=True)

    class Meta:
        model = DealRegistration
        fields = [
            "customer",
            "customer_name",
            "customer_domain",
            "customer_country",
            "estimated_value",
            "currency",
            "expected_close_date",
            "notes",
            "lines",
            "submit",
        ]

    def validate(self, attrs):
        if not self.partial and attrs.get("customer") is None:
            missing = {
                name: ["This field is required for a new prospect."]
                for name in ("customer_name", "customer_country")
                if not attrs.get(name)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class PreCheckSerializer(StrictSerializer):
    customer_name = serializers.CharField(max_length=200)
    customer_domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    customer_country = serializers.RegexField(r"^[A-Z]{2}$")
    products = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=50)


class PreCheckResultSerializer(serializers.Serializer):
    available = serializers.BooleanField(help_text="True when the account is open for registration.")


class ExtensionRequestSerializer(StrictSerializer):
    days = serializers.IntegerField(min_value=1, max_value=180)
    reason = serializers.CharField(max_length=300)


# Opportunities -----------------------------------------------------------------------------------


class OpportunitySerializer(ModelSerializer):
    """A status-only partner (partners.access.sees_status_only) gets the fields of STATUS_ONLY_HIDDEN as null."""

    STATUS_ONLY_HIDDEN = STATUS_ONLY_HIDDEN

    partner = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    customer_name = serializers.CharField(source="customer.legal_name", read_only=True, allow_null=True, default=None)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    registered_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)
    probability = serializers.IntegerField(read_only=True, allow_null=True)

    def to_representation(self, opportunity):
        data = super().to_representation(opportunity)
        actor = self.context.get("actor")
        if actor is not None and sees_status_only(actor):
            data.update(dict.fromkeys(self.STATUS_ONLY_HIDDEN))
        return data

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "name",
            "partner",
            "flow",
            "managed_by",
            "customer",
            "customer_name",
            "prospect_name",
            "prospect_domain",
            "prospect_country",
            "stage",
            "amount",
            "currency",
            "probability",
            "expected_close_date",
            "owner",
            "registered_by",
            "registration",
            "lead",
            "order_placed_at",
            "closed_at",
            "lost_reason",
            "created_at",
        ]
        read_only_fields = fields


class OpportunityWriteSerializer(StrictModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(model=Customer, required=False, allow_null=True)
    owner = serializers.CharField(
        max_length=150,
        required=False,
        help_text="Username of who works it: parent staff, or a member of the partner that manages it.",
    )
    stage = serializers.ChoiceField(
        choices=[c for c in OpportunityStage.choices if c[0] not in ("closed_won", "closed_lost")], required=False
    )

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "customer",
            "prospect_name",
            "prospect_domain",
            "prospect_country",
            "amount",
            "currency",
            "probability",
            "expected_close_date",
            "stage",
            "owner",
        ]


class MarkWonSerializer(StrictSerializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)


class AssignSerializer(StrictSerializer):
    partner = PartnerIdField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


# Commissions -------------------------------------------------------------------------------------


class CommissionSerializer(ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Commission
        fields = [
            "id",
            "partner",
            "source",
            "source_ref",
            "customer",
            "description",
            "base_amount",
            "rate",
            "amount",
            "currency",
            "status",
            "accrued_at",
            "approved_at",
            "paid_at",
            "payment_reference",
            "reversal_reason",
        ]
        read_only_fields = fields


class MarkPaidSerializer(StrictSerializer):
    reference = serializers.CharField(max_length=80, required=False, allow_blank=True)


class CommissionTotalsSerializer(serializers.Serializer):
    accrued = serializers.DecimalField(max_digits=16, decimal_places=2)
    approved = serializers.DecimalField(max_digits=16, decimal_places=2)
    paid = serializers.DecimalField(max_digits=16, decimal_places=2)
    reversed = serializers.DecimalField(max_digits=16, decimal_places=2)


def actor_context(request) -> dict:
    return {"actor": actor_of(request.user)}
