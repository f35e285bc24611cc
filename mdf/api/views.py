"""The MDF API: allocations, fund requests and claims (with their proof files), campaigns and the
collateral library with its co-branded rendering. Reads go through the scoped base classes; every
write calls a service."""

import django_filters
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from partners import uploads
from partners.access import actor_of
from partners.models import Partner
from prm.api.base import ERRORS_READ, ERRORS_WRITE, ScopedViewSet, scoped_choices
from prm.api.parsers import BoundedJSONParser

from .. import permissions, selectors, services
from ..models import (
    ActivityType,
    AllocationStatus,
    Asset,
    AssetKind,
    Campaign,
    CampaignOwner,
    ClaimFile,
    FundAllocation,
    FundClaim,
    FundClaimStatus,
    FundProgram,
    FundRequest,
    FundRequestStatus,
)
from . import serializers as s

CLAIM_PK = OpenApiParameter("claim_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The claim's id.")
ITEM_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The item's id.")


def _action(request_serializer, response_serializer, description=""):
    return extend_schema(
        request=request_serializer, responses={200: response_serializer, **ERRORS_WRITE}, description=description
    )


# Allocations -------------------------------------------------------------------------------------


class AllocationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AllocationStatus.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    program = django_filters.ModelChoiceFilter(queryset=FundProgram.objects.all())

    class Meta:
        model = FundAllocation
        fields = ["status", "partner", "program", "method"]


@extend_schema_view(
    list=extend_schema(responses={200: s.FundAllocationSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(responses={200: s.FundAllocationSerializer, **ERRORS_READ}),
    create=extend_schema(
        request=s.FundAllocationCreateSerializer, responses={201: s.FundAllocationSerializer, **ERRORS_WRITE}
    ),
    update=extend_schema(
        request=s.FundAllocationAdjustSerializer, responses={200: s.FundAllocationSerializer, **ERRORS_WRITE}
    ),
    partial_update=extend_schema(
        request=s.FundAllocationAdjustSerializer, responses={200: s.FundAllocationSerializer, **ERRORS_WRITE}
    ),
    destroy=extend_schema(responses={204: None, **ERRORS_WRITE}),
)
class FundAllocationViewSet(ScopedViewSet):
    """A partner's share of a fund program. Balance = amount − committed − paid − expired; it never
    goes negative (a database constraint). Parent marketing and finance allocate and adjust; accrued
    allocations are proposed by a periodic task and approved here."""

    model = FundAllocation
    serializer_class = s.FundAllocationSerializer
    filterset_class = AllocationFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at", "-id"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("program", "partner")

    def _reply(self, allocation, code=status.HTTP_200_OK):
        return Response(s.FundAllocationSerializer(self.get_queryset().get(pk=allocation.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        if not permissions.can_manage_funds(request.user):
            raise PermissionDenied("You may not allocate funds.")
        data = s.FundAllocationCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        return self._reply(services.fund_allocation_create(user=request.user, **data.validated_data), 201)

    def update(self, request, *args, **kwargs):
        allocation = self.get_object()
        data = s.FundAllocationAdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(
            services.fund_allocation_adjust(user=request.user, allocation=allocation, **data.validated_data)
        )

    @_action(s.MdfEmptySerializer, s.FundAllocationSerializer, "Approve a proposed (accrued) allocation.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        allocation = self.get_object()
        s.MdfEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.fund_allocation_approve(user=request.user, allocation=allocation))


# Fund requests -----------------------------------------------------------------------------------


class FundRequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=FundRequestStatus.choices)
    activity_type = django_filters.MultipleChoiceFilter(choices=ActivityType.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))

    class Meta:
        model = FundRequest
        fields = ["status", "activity_type", "partner"]


@extend_schema_view(
    list=extend_schema(responses={200: s.FundRequestSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(responses={200: s.FundRequestDetailSerializer, **ERRORS_READ}),
    create=extend_schema(
        request=s.FundRequestWriteSerializer, responses={201: s.FundRequestDetailSerializer, **ERRORS_WRITE}
    ),
    update=extend_schema(
        request=s.FundRequestWriteSerializer, responses={200: s.FundRequestDetailSerializer, **ERRORS_WRITE}
    ),
    partial_update=extend_schema(
        request=s.FundRequestWriteSerializer, responses={200: s.FundRequestDetailSerializer, **ERRORS_WRITE}
    ),
    destroy=extend_schema(responses={204: None, **ERRORS_WRITE}),
)
class FundRequestViewSet(ScopedViewSet):
    """Pre-approval of a marketing activity: draft → submitted → approved (possibly for less, with a
    reimbursement % and a claim deadline) | rejected | returned; cancelled. Approval commits funds.
    What a partner may request follows its agreement's marketing model."""

    model = FundRequest
    serializer_class = s.FundRequestSerializer
    filterset_class = FundRequestFilter
    search_fields = ["title", "plan"]
    ordering_fields = ["created_at", "requested_amount", "starts_on", "claim_deadline"]
    ordering = ["-created_at", "-id"]

    def narrow_queryset(self, queryset):
        queryset = queryset.select_related("partner", "allocation__program", "created_by")
        if self.action != "list":
            queryset = queryset.prefetch_related("product_lines")
        return queryset

    def get_serializer_class(self):
        return s.FundRequestSerializer if self.action == "list" else s.FundRequestDetailSerializer

    def _reply(self, fund_request, code=status.HTTP_200_OK):
        instance = self.get_queryset().get(pk=fund_request.pk)
        results = selectors.request_results(user=self.request.user, fund_requests=[instance])
        return Response(s.FundRequestDetailSerializer(instance, context={"results": results}).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._reply(self.get_object())

    def create(self, request, *args, **kwargs):
        if not permissions.can_request_funds(request.user):
            raise PermissionDenied("Your role or marketing model does not let you request funds.")
        data = s.FundRequestWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        return self._reply(services.fund_request_create(user=request.user, **data.validated_data), 201)

    def update(self, request, *args, **kwargs):
        fund_request = self.get_object()
        data = s.FundRequestWriteSerializer(
            data=request.data, partial=kwargs.get("partial", False), context={"request": request}
        )
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("submit", None)
        fields.pop("allocation", None)
        return self._reply(services.fund_request_update(user=request.user, fund_request=fund_request, **fields))

    def _run(self, request, serializer_class, func):
        fund_request = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(func(user=request.user, fund_request=fund_request, **data.validated_data))

    @_action(s.MdfEmptySerializer, s.FundRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._run(request, s.MdfEmptySerializer, services.fund_request_submit)

    @_action(s.FundRequestApproveSerializer, s.FundRequestDetailSerializer, "Parent marketing; commits funds.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._run(request, s.FundRequestApproveSerializer, services.fund_request_approve)

    @_action(s.MdfReasonSerializer, s.FundRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._run(request, s.MdfReasonSerializer, services.fund_request_reject)

    @_action(s.MdfReasonSerializer, s.FundRequestDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        return self._run(request, s.MdfReasonSerializer, services.fund_request_return)

    @_action(s.MdfReasonSerializer, s.FundRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._run(request, s.MdfReasonSerializer, services.fund_request_cancel)


# Claims ------------------------------------------------------------------------------------------


class FundClaimFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=FundClaimStatus.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    fund_request = django_filters.ModelChoiceFilter(queryset=scoped_choices(FundRequest))

    class Meta:
        model = FundClaim
        fields = ["status", "partner", "fund_request"]


@extend_schema_view(
    list=extend_schema(responses={200: s.FundClaimSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(responses={200: s.FundClaimSerializer, **ERRORS_READ}),
    create=extend_schema(request=s.FundClaimCreateSerializer, responses={201: s.FundClaimSerializer, **ERRORS_WRITE}),
    update=extend_schema(request=s.FundClaimUpdateSerializer, responses={200: s.FundClaimSerializer, **ERRORS_WRITE}),
    partial_update=extend_schema(
        request=s.FundClaimUpdateSerializer, responses={200: s.FundClaimSerializer, **ERRORS_WRITE}
    ),
    destroy=extend_schema(responses={204: None, **ERRORS_WRITE}),
)
class FundClaimViewSet(ScopedViewSet):
    """Claims for reimbursement against an approved request, before its claim deadline, with proof
    of performance (`files`). Reimbursable = min(amount × the request's %, its remainder). An invoice
    or file already claimed anywhere is a 400 naming only the earlier claim's reference."""

    model = FundClaim
    serializer_class = s.FundClaimSerializer
    filterset_class = FundClaimFilter
    search_fields = ["vendor", "invoice_number"]
    ordering_fields = ["created_at", "amount", "submitted_at"]
    ordering = ["-created_at", "-id"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("partner", "fund_request", "created_by")

    def _reply(self, claim, code=status.HTTP_200_OK):
        return Response(s.FundClaimSerializer(self.get_queryset().get(pk=claim.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        data = s.FundClaimCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        return self._reply(services.fund_claim_create(user=request.user, **data.validated_data), 201)

    def update(self, request, *args, **kwargs):
        claim = self.get_object()
        data = s.FundClaimUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        return self._reply(services.fund_claim_update(user=request.user, claim=claim, **data.validated_data))

    def _run(self, request, serializer_class, func):
        claim = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(func(user=request.user, claim=claim, **data.validated_data))

    @_action(s.MdfEmptySerializer, s.FundClaimSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._run(request, s.MdfEmptySerializer, services.fund_claim_submit)

    @_action(s.FundClaimApproveSerializer, s.FundClaimSerializer, "Parent marketing; in full or in part.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._run(request, s.FundClaimApproveSerializer, services.fund_claim_approve)

    @_action(s.MdfReasonSerializer, s.FundClaimSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._run(request, s.MdfReasonSerializer, services.fund_claim_reject)

    @_action(s.MdfReasonSerializer, s.FundClaimSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        return self._run(request, s.MdfReasonSerializer, services.fund_claim_return)

    @_action(s.FundClaimMarkPaidSerializer, s.FundClaimSerializer, "Finance records the payment.")
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        return self._run(request, s.FundClaimMarkPaidSerializer, services.fund_claim_mark_paid)


@extend_schema_view(
    list=extend_schema(parameters=[CLAIM_PK], responses={200: s.ClaimFileSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(parameters=[CLAIM_PK, ITEM_ID], responses={200: s.ClaimFileSerializer, **ERRORS_READ}),
    create=extend_schema(
        parameters=[CLAIM_PK],
        request={"multipart/form-data": s.ClaimFileCreateSerializer},
        responses={201: s.ClaimFileSerializer, **ERRORS_WRITE},
    ),
    update=extend_schema(exclude=True),
    partial_update=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class ClaimFileViewSet(ScopedViewSet):
    """Proof of performance of a claim, downloaded through the access policy, never from a media URL."""

    model = ClaimFile
    serializer_class = s.ClaimFileSerializer
    filterset_fields = ["kind", "content_type"]
    ordering_fields = ["created_at", "size"]
    ordering = ["created_at", "id"]
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    refusal = "Proof files cannot be changed."

    def claim(self) -> FundClaim:
        if not hasattr(self, "_claim"):
            pk = str(self.kwargs.get("claim_pk", ""))
            claim = selectors.claim_get(user=self.request.user, pk=pk) if pk.isdigit() else None
            if claim is None:
                raise Http404
            self._claim = claim
        return self._claim

    def narrow_queryset(self, queryset):
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(claim=self.claim())

    def create(self, request, *args, **kwargs):
        claim = self.claim()
        data = s.ClaimFileCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proof = services.fund_claim_file_add(user=request.user, claim=claim, **data.validated_data)
        return Response(s.ClaimFileSerializer(proof).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)

    def partial_update(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)

    def destroy(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)

    @extend_schema(
        parameters=[CLAIM_PK, ITEM_ID],
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file, in its own type."),
            **ERRORS_READ,
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, claim_pk=None, pk=None):
        return uploads.stream_file(self.get_object())


# Campaigns ---------------------------------------------------------------------------------------


class CampaignFilter(django_filters.FilterSet):
    owner_party = django_filters.ChoiceFilter(choices=CampaignOwner.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    fund_request = django_filters.ModelChoiceFilter(queryset=scoped_choices(FundRequest))

    class Meta:
        model = Campaign
        fields = ["owner_party", "partner", "fund_request", "lead_handling"]


@extend_schema_view(
    list=extend_schema(responses={200: s.CampaignSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(responses={200: s.CampaignDetailSerializer, **ERRORS_READ}),
    create=extend_schema(
        request=s.CampaignCreateSerializer, responses={201: s.CampaignDetailSerializer, **ERRORS_WRITE}
    ),
    update=extend_schema(exclude=True),
    partial_update=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class CampaignViewSet(ScopedViewSet):
    """Campaigns: the parent's (their leads keep the campaign as source and enter lead distribution,
    or stay with the parent) and a partner's own (partner-led marketing). A partner sees its own and
    the parent campaigns that fed it leads, with their results."""

    model = Campaign
    serializer_class = s.CampaignSerializer
    filterset_class = CampaignFilter
    search_fields = ["name"]
    ordering_fields = ["starts_on", "name", "created_at"]
    ordering = ["-starts_on", "name"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("partner").prefetch_related("product_lines")

    def get_serializer_class(self):
        return s.CampaignSerializer if self.action == "list" else s.CampaignDetailSerializer

    def _reply(self, campaign, code=status.HTTP_200_OK):
        instance = self.get_queryset().get(pk=campaign.pk)
        results = selectors.campaign_results(user=self.request.user, campaigns=[instance])
        return Response(s.CampaignDetailSerializer(instance, context={"results": results}).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._reply(self.get_object())

    def create(self, request, *args, **kwargs):
        data = s.CampaignCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        return self._reply(services.campaign_create(user=request.user, **data.validated_data), 201)

    @extend_schema(request=s.CampaignLeadSerializer, responses={201: OpenApiTypes.OBJECT, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def leads(self, request, pk=None):
        """Add a lead from this campaign (the parent's campaigns: into lead distribution)."""
        campaign = self.get_object()
        data = s.CampaignLeadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead = services.campaign_lead_create(user=request.user, campaign=campaign, **data.validated_data)
        return Response({"id": lead.pk, "status": lead.status, "source": lead.source}, status=201)

    @extend_schema(request=s.CampaignAttributeSerializer, responses={200: s.CampaignDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def attribute(self, request, pk=None):
        """Attribute one of your leads or deal registrations to this campaign (its results count them)."""
        campaign = self.get_object()
        data = s.CampaignAttributeSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.campaign_attribute(user=request.user, campaign=campaign, **data.validated_data)
        return self._reply(campaign)


# Collateral --------------------------------------------------------------------------------------


class AssetFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=AssetKind.choices)

    class Meta:
        model = Asset
        fields = ["kind", "white_label_safe", "co_branded"]


@extend_schema_view(
    list=extend_schema(responses={200: s.AssetSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(responses={200: s.AssetSerializer, **ERRORS_READ}),
    create=extend_schema(request=s.AssetCreateSerializer, responses={201: s.AssetSerializer, **ERRORS_WRITE}),
    update=extend_schema(exclude=True),
    partial_update=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class AssetViewSet(ScopedViewSet):
    """The collateral library: what the caller's partner is entitled to (tier, territory, marketing
    model; white-label partners only white-label-safe assets) and its own collateral where its
    marketing model allows. `render` fills in the partner's name, logo and contact details."""

    model = Asset
    serializer_class = s.AssetSerializer
    filterset_class = AssetFilter
    search_fields = ["title", "description"]
    ordering_fields = ["title", "updated_at"]
    ordering = ["title", "id"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("current_version", "min_tier")

    def _reply(self, asset, code=status.HTTP_200_OK):
        return Response(s.AssetSerializer(self.get_queryset().get(pk=asset.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        data = s.AssetCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.asset_create(user=request.user, **data.validated_data), 201)

    @extend_schema(request=s.AssetVersionCreateSerializer, responses={201: s.AssetSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def versions(self, request, pk=None):
        """Publish a new version of the asset's content."""
        asset = self.get_object()
        data = s.AssetVersionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.asset_version_add(user=request.user, asset=asset, **data.validated_data)
        return self._reply(asset, 201)

    @extend_schema(
        parameters=[
            OpenApiParameter("to", OpenApiTypes.STR, enum=["html", "pdf"], description="html (default) or pdf."),
            OpenApiParameter("partner", OpenApiTypes.INT, description="Parent staff: render for this partner."),
        ],
        responses={
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The co-branded page."),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The co-branded PDF."),
            **ERRORS_WRITE,
        },
    )
    @action(detail=True, methods=["get"])
    def render(self, request, pk=None):
        asset = self.get_object()
        query = s.AssetRenderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return asset_response(request, asset, query.validated_data["to"], query.validated_data.get("partner"))


def asset_response(request, asset, fmt, partner_id=None) -> HttpResponse:
    """The rendered asset as a response (shared by the API and the portal)."""
    partner = None
    if partner_id and actor_of(request.user).is_parent:
        partner = (
            Partner.objects.for_user(request.user).select_related("agreement", "tier").filter(pk=partner_id).first()
        )
        if partner is None:
            raise Http404
    content, content_type, filename = services.asset_render(user=request.user, asset=asset, fmt=fmt, partner=partner)
    response = HttpResponse(content, content_type=content_type)
    disposition = "attachment" if fmt == "pdf" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Asset HTML may come from a partner: no scripts, no outside requests, in a sandbox.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    return response
