from django.contrib.auth import get_user_model
from rest_framework import serializers

from partners.access import PartnerRole
from partners.agreement import DIMENSIONS
from partners.models import (
    Agreement,
    Customer,
    CustomerClaim,
    CustomerRelationship,
    Membership,
    Partner,
    PartnerStatus,
    ProductLine,
)
from prm.api.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer

User = get_user_model()


class AgreementSerializer(ModelSerializer):
    overrides = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [*DIMENSIONS, "overrides", "summary"]

    def get_overrides(self, agreement) -> list[str]:
        return sorted(agreement.overrides)

    def get_summary(self, agreement) -> list[str]:
        return agreement.describe()


class AgreementUpdateSerializer(StrictModelSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, write_only=True)

    class Meta:
        model = Agreement
        fields = [*DIMENSIONS, "reason"]
        extra_kwargs = {name: {"required": False} for name in DIMENSIONS}


class PartnerSerializer(ModelSerializer):
    tier = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    website = serializers.CharField(read_only=True)  # may be blank: no "format: uri"
    territories = serializers.SerializerMethodField()
    expertise = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    agreement = AgreementSerializer(read_only=True)

    class Meta:
        model = Partner
        fields = [
            "id",
            "name",
            "slug",
            "status",
            "tier",
            "business_model",
            "country",
            "website",
            "territories",
            "expertise",
            "credit_limit",
            "display_name",
            "brand_color",
            "activated_at",
            "created_at",
            "agreement",
        ]
        read_only_fields = fields

    def get_territories(self, partner) -> list[str]:
        return [t.country for t in partner.territories.all()]


class PartnerWriteSerializer(StrictModelSerializer):
    territories = serializers.ListField(child=serializers.RegexField(r"^[A-Z]{2}$"), required=False, max_length=250)
    expertise = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=ProductLine.objects.all(), required=False
    )

    class Meta:
        model = Partner
        fields = [
            "name",
            "slug",
            "business_model",
            "country",
            "website",
            "tier",
            "credit_limit",
            "display_name",
            "brand_color",
            "territories",
            "expertise",
        ]


class PartnerTransitionSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class PartnerUserSerializer(StrictModelSerializer):
    username = serializers.CharField(source="user.username", max_length=150)
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField(source="user.first_name", required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(source="user.last_name", required=False, allow_blank=True, max_length=150)
    partner = serializers.PrimaryKeyRelatedField(read_only=True)
    last_login = serializers.DateTimeField(source="user.last_login", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "partner",
            "role",
            "is_active",
            "invitation_sent_at",
            "last_login",
            "created_at",
        ]
        read_only_fields = ["id", "partner", "is_active", "invitation_sent_at", "last_login", "created_at"]


class PartnerUserInviteSerializer(PartnerUserSerializer):
    partner = serializers.IntegerField(required=False, help_text="Parent staff only: the partner to invite into.")
    role = serializers.ChoiceField(choices=PartnerRole.choices, default=PartnerRole.REP)

    class Meta(PartnerUserSerializer.Meta):
        read_only_fields = ["id", "is_active", "invitation_sent_at", "last_login", "created_at"]


class PartnerUserUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=PartnerRole.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class CustomerRelationshipSerializer(ModelSerializer):
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CustomerRelationship
        fields = ["partner", "kind", "since"]


class CustomerStatusSerializer(StrictModelSerializer):
    """What a partner sees of a customer whose agreement shows it only the status of what it referred."""

    class Meta:
        model = Customer
        fields = ["id", "legal_name", "country", "status"]
        read_only_fields = fields


class CustomerBasicSerializer(StrictModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "legal_name", "domain", "country", "industry", "size", "status", "created_at"]
        read_only_fields = ["id", "status", "created_at"]


class CustomerSerializer(StrictModelSerializer):
    owner_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    relationships = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "legal_name",
            "normalized_name",
            "domain",
            "country",
            "industry",
            "size",
            "status",
            "owner_partner",
            "relationships",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "normalized_name", "owner_partner", "relationships", "created_at", "updated_at"]
        extra_kwargs = {"country": {"help_text": "Two-letter ISO code."}}

    def get_relationships(self, customer) -> list[dict]:
        # Prefetched through the access policy (partners.selectors.visible_relationships); filtered again
        # because DRF drops the prefetch after an update.
        actor = self.context.get("actor")
        rows = [r for r in customer.relationships.all() if actor is not None and actor.may_see_partner(r.partner_id)]
        return CustomerRelationshipSerializer(rows, many=True).data

    def to_representation(self, customer):
        data = super().to_representation(customer)
        actor = self.context.get("actor")
        if actor is not None and customer.owner_partner_id and not actor.may_see_partner(customer.owner_partner_id):
            data["owner_partner"] = None  # a partner the caller does not see stays unnamed
        return data


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    kind = serializers.CharField(help_text="parent or partner")
    partner = PartnerSerializer(allow_null=True)
    role = serializers.CharField(allow_null=True, help_text="The partner role, for partner users.")
    parent_roles = serializers.ListField(child=serializers.CharField())


class CustomerClaimSerializer(ModelSerializer):
    """A partner's request for an account that exists already; the partner never sees whose."""

    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CustomerClaim
        fields = ["id", "partner", "legal_name", "domain", "country", "status", "decision_reason", "created_at"]
        read_only_fields = fields


class CustomerClaimParentSerializer(CustomerClaimSerializer):
    class Meta(CustomerClaimSerializer.Meta):
        fields = [*CustomerClaimSerializer.Meta.fields, "matched_customer", "reasons", "decided_by", "decided_at"]
        read_only_fields = fields


class ClaimDecisionSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)
