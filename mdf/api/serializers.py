from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.serializers import choice
from deals.models import DealRegistration, Lead
from partners.models import Partner, ProductLine, ProgramTier
from prm.api.base import ScopedPrimaryKeyRelatedField
from prm.api.serializers import ModelSerializer, StrictSerializer

from ..models import (
    ActivityType,
    AllocationMethod,
    AllocationStatus,
    Asset,
    AssetKind,
    Campaign,
    CampaignOwner,
    ClaimFile,
    DownloadFormat,
    FundAllocation,
    FundClaim,
    FundClaimStatus,
    FundProgram,
    FundRequest,
    FundRequestStatus,
    LeadHandling,
    ProofKind,
)


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(ScopedPrimaryKeyRelatedField):
    pass


MONEY = {"max_digits": 14, "decimal_places": 2}


# Allocations -------------------------------------------------------------------------------------


class FundAllocationSerializer(ModelSerializer):
    program = serializers.CharField(source="program.name", read_only=True)
    program_id = serializers.IntegerField(read_only=True)
    partner = serializers.CharField(source="partner.slug", read_only=True)
    method = choice(AllocationMethod, read_only=True)
    status = choice(AllocationStatus, read_only=True)
    balance = serializers.DecimalField(**MONEY, read_only=True)
    expires_on = serializers.DateField(source="program.expires_on", read_only=True)

    class Meta:
        model = FundAllocation
        fields = [
            "id",
            "program",
            "program_id",
            "partner",
            "method",
            "status",
            "amount",
            "committed",
            "paid",
            "expired",
            "balance",
            "accrual_basis",
            "expires_on",
            "approved_at",
            "created_at",
        ]
        read_only_fields = fields


class FundAllocationCreateSerializer(StrictSerializer):
    program = serializers.PrimaryKeyRelatedField(queryset=FundProgram.objects.all())
    partner = ScopedIdField(model=Partner)
    amount = serializers.DecimalField(**MONEY, min_value=0)


class FundAllocationAdjustSerializer(StrictSerializer):
    amount = serializers.DecimalField(**MONEY, min_value=0)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


# Requests ----------------------------------------------------------------------------------------


class FundRequestSerializer(ModelSerializer):
    reference = serializers.CharField(read_only=True)
    partner = serializers.CharField(source="partner.slug", read_only=True)
    program = serializers.CharField(source="allocation.program.name", read_only=True)
    activity_type = choice(ActivityType, read_only=True)
    status = choice(FundRequestStatus, read_only=True)
    remainder = serializers.DecimalField(**MONEY, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = FundRequest
        fields = [
            "id",
            "reference",
            "partner",
            "allocation",
            "program",
            "title",
            "activity_type",
            "plan",
            "starts_on",
            "ends_on",
            "requested_amount",
            "expected_leads",
            "expected_pipeline",
            "uses_own_materials",
            "status",
            "approved_amount",
            "reimbursement_percent",
            "claim_deadline",
            "reserved",
            "paid_amount",
            "released",
            "remainder",
            "decision_reason",
            "submitted_at",
            "decided_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class RequestResultsSerializer(serializers.Serializer):
    leads = serializers.IntegerField()
    pipeline = serializers.DecimalField(max_digits=16, decimal_places=2)
    won = serializers.DecimalField(max_digits=16, decimal_places=2)
    roi = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class FundRequestDetailSerializer(FundRequestSerializer):
    product_lines = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    results = serializers.SerializerMethodField()

    class Meta(FundRequestSerializer.Meta):
        fields = [*FundRequestSerializer.Meta.fields, "product_lines", "results"]
        read_only_fields = fields

    @extend_schema_field(RequestResultsSerializer)
    def get_results(self, obj):
        results = self.context.get("results") or {}
        row = results.get(obj.pk)
        return RequestResultsSerializer(row).data if row else None


class FundRequestWriteSerializer(StrictSerializer):
    allocation = ScopedIdField(model=FundAllocation, required=False, allow_null=True)
    title = serializers.CharField(max_length=200)
    activity_type = choice(ActivityType)
    plan = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    requested_amount = serializers.DecimalField(**MONEY, min_value=0)
    expected_leads = serializers.IntegerField(min_value=0, required=False)
    expected_pipeline = serializers.DecimalField(**MONEY, min_value=0, required=False)
    uses_own_materials = serializers.BooleanField(required=False)
    product_lines = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=ProductLine.objects.all(), required=False
    )
    submit = serializers.BooleanField(required=False, default=False)


class FundRequestApproveSerializer(StrictSerializer):
    amount = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    reimbursement_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    claim_deadline = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class MdfReasonSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=1000,
        error_messages={"required": "Say why.", "blank": "Say why."},
        help_text="Why it is rejected or returned; the partner reads it.",
    )


class MdfEmptySerializer(StrictSerializer):
    pass


# Claims ------------------------------------------------------------------------------------------


class FundClaimSerializer(ModelSerializer):
    reference = serializers.CharField(read_only=True)
    partner = serializers.CharField(source="partner.slug", read_only=True)
    fund_request_reference = serializers.CharField(source="fund_request.reference", read_only=True)
    status = choice(FundClaimStatus, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = FundClaim
        fields = [
            "id",
            "reference",
            "partner",
            "fund_request",
            "fund_request_reference",
            "vendor",
            "invoice_number",
            "invoice_date",
            "amount",
            "description",
            "status",
            "reimbursable_amount",
            "approved_amount",
            "decision_reason",
            "payment_reference",
            "submitted_at",
            "decided_at",
            "paid_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class FundClaimCreateSerializer(StrictSerializer):
    fund_request = ScopedIdField(model=FundRequest)
    vendor = serializers.CharField(max_length=200)
    invoice_number = serializers.CharField(max_length=80)
    invoice_date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    description = serializers.CharField(required=False, allow_blank=True)
    submit = serializers.BooleanField(required=False, default=False)


class FundClaimUpdateSerializer(StrictSerializer):
    vendor = serializers.CharField(max_length=200, required=False)
    invoice_number = serializers.CharField(max_length=80, required=False)
    invoice_date = serializers.DateField(required=False)
    amount = serializers.DecimalField(**MONEY, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class FundClaimApproveSerializer(StrictSerializer):
    amount = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class FundClaimMarkPaidSerializer(StrictSerializer):
    payment_reference = serializers.CharField(max_length=100)


class ClaimFileSerializer(ModelSerializer):
    kind = choice(ProofKind, read_only=True)

    class Meta:
        model = ClaimFile
        fields = ["id", "claim", "kind", "filename", "content_type", "size", "sha256", "created_at"]
        read_only_fields = fields


class ClaimFileCreateSerializer(StrictSerializer):
    file = serializers.FileField()
    kind = choice(ProofKind, required=False, default=ProofKind.INVOICE)


# Campaigns ---------------------------------------------------------------------------------------


class CampaignSerializer(ModelSerializer):
    owner_party = choice(CampaignOwner, read_only=True)
    lead_handling = choice(LeadHandling, read_only=True)
    partner = serializers.SerializerMethodField()
    product_lines = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "owner_party",
            "partner",
            "fund_request",
            "lead_handling",
            "description",
            "countries",
            "product_lines",
            "starts_on",
            "ends_on",
            "budget",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="The running partner; null: the parent."))
    def get_partner(self, obj):
        return obj.partner.slug if obj.partner_id else None


class CampaignResultsSerializer(serializers.Serializer):
    leads = serializers.IntegerField()
    pipeline = serializers.DecimalField(max_digits=16, decimal_places=2)
    won = serializers.DecimalField(max_digits=16, decimal_places=2)


class CampaignDetailSerializer(CampaignSerializer):
    results = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "results"]
        read_only_fields = fields

    @extend_schema_field(CampaignResultsSerializer)
    def get_results(self, obj):
        row = (self.context.get("results") or {}).get(obj.pk)
        return CampaignResultsSerializer(row).data if row else None


class CampaignCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    countries = serializers.CharField(required=False, allow_blank=True, max_length=200)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    budget = serializers.DecimalField(**MONEY, min_value=0, required=False)
    lead_handling = choice(LeadHandling, required=False)
    fund_request = ScopedIdField(model=FundRequest, required=False, allow_null=True)
    product_lines = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=ProductLine.objects.all(), required=False
    )


class CampaignLeadSerializer(StrictSerializer):
    company_name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2)
    company_domain = serializers.CharField(required=False, allow_blank=True, max_length=253)
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


class CampaignAttributeSerializer(StrictSerializer):
    lead = ScopedIdField(model=Lead, required=False, allow_null=True)
    registration = ScopedIdField(model=DealRegistration, required=False, allow_null=True)


# Collateral --------------------------------------------------------------------------------------


class AssetSerializer(ModelSerializer):
    kind = choice(AssetKind, read_only=True)
    version = serializers.IntegerField(source="current_version.number", read_only=True, default=None)
    own = serializers.SerializerMethodField()
    marketing_models = serializers.SerializerMethodField()
    countries = serializers.SerializerMethodField()
    min_tier = serializers.CharField(source="min_tier.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Asset
        fields = [
            "id",
            "title",
            "kind",
            "description",
            "is_published",
            "co_branded",
            "white_label_safe",
            "marketing_models",
            "countries",
            "min_tier",
            "version",
            "own",
            "updated_at",
        ]
        read_only_fields = fields

    def get_own(self, obj) -> bool:
        return obj.partner_id is not None

    def get_marketing_models(self, obj) -> list[str]:
        return Asset.unpack(obj.marketing_models)

    def get_countries(self, obj) -> list[str]:
        return Asset.unpack(obj.countries)


class AssetCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    kind = choice(AssetKind, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    body_html = serializers.CharField()
    is_published = serializers.BooleanField(required=False)
    co_branded = serializers.BooleanField(required=False)
    white_label_safe = serializers.BooleanField(required=False)
    marketing_models = serializers.ListField(child=serializers.CharField(), required=False)
    countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False)
    min_tier = serializers.PrimaryKeyRelatedField(queryset=ProgramTier.objects.all(), required=False, allow_null=True)
    product_lines = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=ProductLine.objects.all(), required=False
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=300)


class AssetVersionCreateSerializer(StrictSerializer):
    body_html = serializers.CharField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=300)


class AssetRenderQuerySerializer(serializers.Serializer):
    to = choice(DownloadFormat, required=False, default=DownloadFormat.HTML)
    partner = serializers.IntegerField(required=False)
