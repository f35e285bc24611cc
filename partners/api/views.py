import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from partners import identity, permissions, selectors, services
from partners.access import actor_of
from partners.agreement import BusinessModel, PostWinVisibility
from partners.models import (
    Customer,
    CustomerClaim,
    CustomerClaimStatus,
    CustomerSize,
    CustomerStatus,
    Membership,
    Partner,
    PartnerStatus,
)
from prm.api.base import (
    ERRORS_READ,
    ERRORS_WRITE,
    ScopedReadOnlyViewSet,
    ScopedViewSet,
    documented_errors,
    scoped_choices,
)

from . import serializers as s


class MeView(APIView):
    """Who the caller is: parent or partner, the partner and its agreement, roles."""

    @extend_schema(responses={200: s.MeSerializer, **ERRORS_READ})
    def get(self, request):
        actor = actor_of(request.user)
        user = request.user
        data = {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "kind": actor.kind,
            "partner": actor.partner,
            "role": actor.role,
            "parent_roles": sorted(actor.parent_roles),
        }
        return Response(s.MeSerializer(data, context={"request": request}).data)


class PartnerFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PartnerStatus.choices)
    business_model = django_filters.MultipleChoiceFilter(choices=BusinessModel.choices)
    tier = django_filters.CharFilter(field_name="tier__name", lookup_expr="iexact")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")

    class Meta:
        model = Partner
        fields = ["status", "business_model", "tier", "country"]


@documented_errors
class PartnerViewSet(ScopedViewSet):
    """Partner organisations. Parent staff see the partners they manage; a partner user sees its own."""

    model = Partner
    serializer_class = s.PartnerSerializer
    filterset_class = PartnerFilter
    search_fields = ["name", "slug", "display_name"]
    ordering_fields = ["name", "created_at", "status"]
    ordering = ["name"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("tier", "agreement__partner").prefetch_related("territories", "expertise")

    @extend_schema(request=s.PartnerWriteSerializer, responses={201: s.PartnerSerializer, **ERRORS_WRITE})
    def create(self, request, *args, **kwargs):
        data = s.PartnerWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        partner = services.partner_create(
            user=request.user,
            name=fields.pop("name"),
            slug=fields.pop("slug"),
            business_model=fields.pop("business_model"),
            country=fields.pop("country"),
            territories=fields.pop("territories", ()),
            expertise=fields.pop("expertise", ()),
            **fields,
        )
        return Response(
            s.PartnerSerializer(self.get_queryset().get(pk=partner.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.PartnerWriteSerializer, responses={200: s.PartnerSerializer, **ERRORS_WRITE})
    def update(self, request, *args, **kwargs):
        partner = self.get_object()
        data = s.PartnerWriteSerializer(partner, data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "business_model" in fields and fields["business_model"] != partner.business_model:
            raise ValidationError({"business_model": ["Change the business model with the apply-preset action."]})
        fields.pop("business_model", None)
        fields.pop("slug", None) if fields.get("slug") == partner.slug else None
        services.partner_update(user=request.user, partner=partner, **fields)
        return Response(s.PartnerSerializer(self.get_queryset().get(pk=partner.pk)).data)

    @extend_schema(request=s.PartnerTransitionSerializer, responses={200: s.PartnerSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the partner through applied → onboarding → active ⇄ suspended → terminated."""
        partner = self.get_object()
        data = s.PartnerTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.partner_transition(user=request.user, partner=partner, **data.validated_data)
        return Response(s.PartnerSerializer(self.get_queryset().get(pk=partner.pk)).data)

    @extend_schema(request=s.AgreementUpdateSerializer, responses={200: s.AgreementSerializer, **ERRORS_WRITE})
    # serializer_class: the browsable API builds its form from it (the partner's would not fit an agreement).
    @action(detail=True, methods=["get", "patch"], serializer_class=s.AgreementUpdateSerializer)
    def agreement(self, request, pk=None):
        """The agreement's policy dimensions; PATCH overrides single dimensions (audited)."""
        partner = self.get_object()
        if request.method == "GET":
            return Response(s.AgreementSerializer(partner.agreement).data)
        data = s.AgreementUpdateSerializer(partner.agreement, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        reason = fields.pop("reason", "")
        agreement = services.partner_agreement_update(user=request.user, partner=partner, reason=reason, **fields)
        return Response(s.AgreementSerializer(agreement).data)


class PartnerUserFilter(django_filters.FilterSet):
    role = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))

    class Meta:
        model = Membership
        fields = ["role", "is_active", "partner"]


@documented_errors
class PartnerUserViewSet(ScopedViewSet):
    """A partner's people. Partner admins invite (POST), change roles and deactivate (PATCH is_active)."""

    model = Membership
    serializer_class = s.PartnerUserSerializer
    filterset_class = PartnerUserFilter
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    ordering_fields = ["created_at", "user__username", "role"]
    ordering = ["user__username"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("user")

    @extend_schema(request=s.PartnerUserInviteSerializer, responses={201: s.PartnerUserSerializer, **ERRORS_WRITE})
    def create(self, request, *args, **kwargs):
        data = s.PartnerUserInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        actor = actor_of(request.user)
        partner_id = fields.pop("partner", None)
        if actor.is_partner:
            if partner_id not in (None, actor.partner_id):
                raise ValidationError({"partner": ["You invite people into your own partner only."]})
            partner = actor.partner
        else:
            partner = Partner.objects.for_user(request.user).filter(pk=partner_id).first() if partner_id else None
            if partner is None:
                raise ValidationError({"partner": ["Choose one of your partners."]})
        user_fields = fields.pop("user")
        membership = services.membership_invite(user=request.user, partner=partner, role=fields["role"], **user_fields)
        return Response(s.PartnerUserSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PartnerUserUpdateSerializer, responses={200: s.PartnerUserSerializer, **ERRORS_WRITE})
    def update(self, request, *args, **kwargs):
        membership = self.get_object()
        data = s.PartnerUserUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        membership = services.membership_update(user=request.user, membership=membership, **data.validated_data)
        return Response(s.PartnerUserSerializer(membership).data)


class CustomerFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(lookup_expr="iexact")
    status = django_filters.MultipleChoiceFilter(choices=CustomerStatus.choices)
    size = django_filters.ChoiceFilter(choices=CustomerSize.choices)
    industry = django_filters.CharFilter(lookup_expr="icontains")
    domain = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Customer
        fields = ["country", "status", "size", "industry", "domain"]


@documented_errors
class CustomerViewSet(ScopedViewSet):
    """End-customer accounts. A partner sees the customers it holds a relationship to, in the detail
    its agreement allows (a referral partner: the status of what it referred)."""

    model = Customer
    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilter
    search_fields = ["legal_name", "domain"]
    ordering_fields = ["legal_name", "created_at", "country", "status"]
    ordering = ["legal_name"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("owner_partner").prefetch_related(
            selectors.visible_relationships(self.request.user)
        )

    def get_serializer_class(self):
        actor = actor_of(self.request.user)
        if actor.is_partner and self.action != "create":
            level = actor.agreement.post_win_visibility
            if level == PostWinVisibility.STATUS_ONLY:
                return s.CustomerStatusSerializer
            if level == PostWinVisibility.BASIC:
                return s.CustomerBasicSerializer
        return s.CustomerSerializer

    def get_serializer_context(self):
        return super().get_serializer_context() | {"actor": actor_of(self.request.user)}

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.customer_create(
            user=self.request.user, **{k: v for k, v in data.items() if k in services.CUSTOMER_FIELDS and k != "status"}
        )

    def perform_update(self, serializer):
        customer = serializer.instance
        if not permissions.can_edit_customer(self.request.user, customer):
            raise PermissionDenied("Your agreement does not let you change this customer.")
        serializer.instance = services.customer_update(
            user=self.request.user, customer=customer, **serializer.validated_data
        )

    @extend_schema(
        responses={
            201: s.CustomerSerializer,
            200: OpenApiResponse(s.CustomerSerializer, description="The caller's own record of this account."),
            202: OpenApiResponse(
                s.CustomerClaimSerializer, description="The account exists in the channel: sent to the parent."
            ),
            **ERRORS_WRITE,
        }
    )
    def create(self, request, *args, **kwargs):
        if not permissions.can_create_customer(request.user):
            raise PermissionDenied("You may not create customers.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.customer_create(
            user=request.user, **{k: v for k, v in data.items() if k in services.CUSTOMER_FIELDS and k != "status"}
        )
        if isinstance(result, CustomerClaim):
            return Response(s.CustomerClaimSerializer(result).data, status=status.HTTP_202_ACCEPTED)
        fresh = result.created_by_id == request.user.pk and not getattr(result, "already_held", False)
        out = self.get_serializer_class()(result, context=self.get_serializer_context()).data
        return Response(out, status=status.HTTP_201_CREATED if fresh else status.HTTP_200_OK)


class CustomerClaimFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CustomerClaimStatus.choices)

    class Meta:
        model = CustomerClaim
        fields = ["status"]


@documented_errors
class CustomerClaimViewSet(ScopedReadOnlyViewSet):
    """Requests for accounts that exist already (one record per customer). The partner sees its own
    requests and their outcome; the parent links the partner to the existing account or rejects."""

    model = CustomerClaim
    serializer_class = s.CustomerClaimSerializer
    filterset_class = CustomerClaimFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("partner")

    def get_serializer_class(self):
        if actor_of(self.request.user).is_parent:
            return s.CustomerClaimParentSerializer
        return s.CustomerClaimSerializer

    def _decide(self, request, func):
        claim = self.get_object()
        data = s.ClaimDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = func(user=request.user, claim=claim, **data.validated_data)
        return Response(self.get_serializer_class()(claim).data)

    @extend_schema(request=s.ClaimDecisionSerializer, responses={200: s.CustomerClaimParentSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        return self._decide(request, identity.customer_claim_link)

    @extend_schema(request=s.ClaimDecisionSerializer, responses={200: s.CustomerClaimParentSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, identity.customer_claim_reject)
