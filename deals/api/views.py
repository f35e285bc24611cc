import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.response import Response

from partners import ledger
from partners.models import Commission, CommissionSource, CommissionStatus, Partner
from prm.api.base import (
    ERRORS_READ,
    ERRORS_WRITE,
    LookupBeforeRefusal,
    ScopedReadOnlyViewSet,
    ScopedViewSet,
    documented_errors,
    scoped_choices,
)

from .. import permissions, selectors, services
from ..models import (
    DealRegistration,
    Lead,
    LeadSource,
    LeadStatus,
    ManagedBy,
    Opportunity,
    OpportunityFlow,
    OpportunityStage,
    RegistrationStatus,
)
from . import serializers as s


class ActorContextMixin:
    def get_serializer_context(self):
        return super().get_serializer_context() | s.actor_context(self.request)


# Leads -------------------------------------------------------------------------------------------


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices)
    country = django_filters.CharFilter(lookup_expr="iexact")
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    in_queue = django_filters.BooleanFilter(field_name="partner", lookup_expr="isnull", label="In the parent's queue")

    class Meta:
        model = Lead
        fields = ["status", "source", "country", "partner", "in_queue"]


@documented_errors
class LeadViewSet(ActorContextMixin, ScopedViewSet):
    """Leads. Parent staff create them in the parent's queue and route or forward them; a partner
    sees the leads offered to it (contact details hidden until it accepts) and its own."""

    model = Lead
    serializer_class = s.LeadSerializer
    filterset_class = LeadFilter
    search_fields = ["company_name", "company_domain"]
    ordering_fields = ["created_at", "company_name", "status", "country"]
    ordering = ["-created_at"]

    def narrow_queryset(self, queryset):
        return selectors.with_lead_relations(queryset, self.request.user)

    def _out(self, lead, code=status.HTTP_200_OK):
        return Response(
            s.LeadSerializer(self.get_queryset().get(pk=lead.pk), context=self.get_serializer_context()).data,
            status=code,
        )

    @extend_schema(request=s.LeadCreateSerializer, responses={201: s.LeadSerializer, **ERRORS_WRITE})
    def create(self, request, *args, **kwargs):
        if not permissions.can_create_leads(request.user):
            raise PermissionDenied("You may not create leads.")
        data = s.LeadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead = services.lead_create(user=request.user, **data.validated_data)
        return self._out(lead, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        return LookupBeforeRefusal.update(self, request, *args, **kwargs)

    def partial_update(self, request, *args, **kwargs):
        return LookupBeforeRefusal.partial_update(self, request, *args, **kwargs)

    @extend_schema(request=None, responses={200: s.LeadRouteResultSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def route(self, request, pk=None):
        """Offer the lead to a partner by the routing rules (territory, expertise, tier weight); it
        stays in the parent's queue when nobody is eligible."""
        lead = self.get_object()
        offer = services.lead_route(user=request.user, lead=lead)
        body = {"lead": self.get_queryset().get(pk=lead.pk), "offered_to": offer.partner_id if offer else None}
        return Response(s.LeadRouteResultSerializer(body, context=self.get_serializer_context()).data)

    @extend_schema(request=s.LeadForwardSerializer, responses={200: s.LeadSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def forward(self, request, pk=None):
        """A channel manager offers the lead to one partner by hand."""
        lead = self.get_object()
        data = s.LeadForwardSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.lead_forward(user=request.user, lead=lead, **data.validated_data)
        return self._out(lead)

    @extend_schema(request=None, responses={200: s.LeadSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        """The parent takes a lead from its queue for its own direct sales: a direct opportunity."""
        lead = self.get_object()
        services.lead_take(user=request.user, lead=lead)
        return self._out(lead)

    @extend_schema(request=None, responses={200: s.LeadSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The partner accepts the offer before its deadline: the lead becomes its opportunity."""
        lead = self.get_object()
        services.lead_accept(user=request.user, lead=lead)
        return self._out(lead)

    @extend_schema(request=s.RequiredReasonSerializer, responses={200: s.DoneSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The partner declines with a reason; it is never offered this lead again."""
        lead = self.get_object()
        data = s.RequiredReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lead_decline(user=request.user, lead=lead, **data.validated_data)
        # The declining partner no longer sees the lead.
        return Response({"detail": "Declined.", "code": "declined"})

    @extend_schema(request=s.RequiredReasonSerializer, responses={200: s.LeadSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def disqualify(self, request, pk=None):
        """Close a lead that is not a real opportunity (parent routers; a partner for its own new lead)."""
        lead = self.get_object()
        data = s.RequiredReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lead_disqualify(user=request.user, lead=lead, **data.validated_data)
        return self._out(lead)


# Deal registrations ------------------------------------------------------------------------------


class RegistrationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RegistrationStatus.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    customer_country = django_filters.CharFilter(lookup_expr="iexact")
    has_conflict = django_filters.BooleanFilter()

    class Meta:
        model = DealRegistration
        fields = ["status", "partner", "customer_country", "has_conflict"]


@documented_errors
class DealRegistrationViewSet(ActorContextMixin, ScopedViewSet):
    """Deal registrations: draft → submitted → approved | rejected | returned | withdrawn; approved →
    won | lost | expired | cancelled. Conflicts are detected at submission; parent staff see them
    with their reasons, the partner only `has_conflict`."""

    model = DealRegistration
    serializer_class = s.DealRegistrationSerializer
    filterset_class = RegistrationFilter
    search_fields = ["customer_name", "customer_domain"]
    ordering_fields = ["created_at", "submitted_at", "estimated_value", "protected_until", "status"]
    ordering = ["-created_at"]

    def narrow_queryset(self, queryset):
        return selectors.with_registration_relations(queryset, self.request.user, api=True)

    def _out(self, registration, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=registration.pk)
        return Response(s.DealRegistrationSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _lines(self, lines):
        return [{"product": line["product"], "quantity": line["quantity"]} for line in lines]

    @extend_schema(
        request=s.DealRegistrationWriteSerializer, responses={201: s.DealRegistrationSerializer, **ERRORS_WRITE}
    )
    def create(self, request, *args, **kwargs):
        if not permissions.can_register_deals(request.user):
            raise PermissionDenied("Only a partner's sellers register deals.")
        data = s.DealRegistrationWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        lines = self._lines(fields.pop("lines"))
        registration = services.deal_registration_create(user=request.user, lines=lines, **fields)
        return self._out(registration, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.DealRegistrationWriteSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE}
    )
    def update(self, request, *args, **kwargs):
        registration = self.get_object()
        if not permissions.can_work_registration(request.user, registration):
            raise PermissionDenied("Only the registering partner's sellers edit it.")
        data = s.DealRegistrationWriteSerializer(
            data=request.data, partial=kwargs.get("partial", False), context={"request": request}
        )
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("submit", None)
        lines = self._lines(fields.pop("lines")) if "lines" in fields else None
        services.deal_registration_update(user=request.user, registration=registration, lines=lines, **fields)
        return self._out(registration)

    @extend_schema(request=s.PreCheckSerializer, responses={200: s.PreCheckResultSerializer, 429: None, **ERRORS_WRITE})
    @action(detail=False, methods=["post"], url_path="pre-check")
    def pre_check(self, request):
        """Is this account open for registration? Answers only yes or no; rate-limited and audited."""
        if not permissions.can_register_deals(request.user):
            raise PermissionDenied("Only a partner's sellers check accounts.")
        if not services.pre_check_allowed(request.user):
            raise Throttled(detail="Too many checks; try again in a minute.")
        data = s.PreCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        available = services.deal_registration_pre_check(user=request.user, **data.validated_data)
        return Response({"available": available})

    def _act(self, request, func, serializer=None, **extra):
        registration = self.get_object()
        kwargs = {}
        if serializer is not None:
            data = serializer(data=request.data)
            data.is_valid(raise_exception=True)
            kwargs = dict(data.validated_data)
        func(user=request.user, registration=registration, **kwargs, **extra)
        return self._out(registration)

    @extend_schema(request=None, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit for review; conflict detection runs now (first in wins by submission time)."""
        return self._act(request, services.deal_registration_submit)

    @extend_schema(request=s.ApproveSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve; above the second-approval threshold the first call records the first approval. A
        conflict with an existing account or the parent's direct pipeline needs `override_conflicts`."""
        return self._act(request, services.deal_registration_approve, s.ApproveSerializer)

    @extend_schema(request=s.RequiredReasonSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._act(request, services.deal_registration_reject, s.RequiredReasonSerializer)

    @extend_schema(request=s.RequiredReasonSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        """Return to the partner for changes; it edits and submits again."""
        return self._act(request, services.deal_registration_return, s.RequiredReasonSerializer)

    @extend_schema(request=s.ReasonSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._act(request, services.deal_registration_withdraw, s.ReasonSerializer)

    @extend_schema(request=s.RequiredReasonSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(request, services.deal_registration_cancel, s.RequiredReasonSerializer)

    @extend_schema(request=s.ExtensionRequestSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="request-extension")
    def request_extension(self, request, pk=None):
        """Ask the parent for more protection time (at most two requests per registration)."""
        return self._act(request, services.deal_registration_request_extension, s.ExtensionRequestSerializer)

    @extend_schema(request=s.ReasonSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="approve-extension")
    def approve_extension(self, request, pk=None):
        return self._act(request, services.deal_registration_decide_extension, s.ReasonSerializer, approve=True)

    @extend_schema(request=s.ReasonSerializer, responses={200: s.DealRegistrationSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="reject-extension")
    def reject_extension(self, request, pk=None):
        return self._act(request, services.deal_registration_decide_extension, s.ReasonSerializer, approve=False)


# Opportunities -----------------------------------------------------------------------------------


class OpportunityFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=OpportunityStage.choices)
    flow = django_filters.MultipleChoiceFilter(choices=OpportunityFlow.choices)
    managed_by = django_filters.ChoiceFilter(choices=ManagedBy.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))

    class Meta:
        model = Opportunity
        fields = ["stage", "flow", "managed_by", "partner"]


@documented_errors
class OpportunityViewSet(ActorContextMixin, ScopedViewSet):
    """Opportunities in the three flows: handed to the parent, passed to the partner, or managed by
    the partner (the parent sees those always or once an order is placed, by the agreement).
    `partner` is the attributed partner whoever owns the record."""

    model = Opportunity
    serializer_class = s.OpportunitySerializer
    filterset_class = OpportunityFilter
    search_fields = ["name", "customer__legal_name"]
    ordering_fields = ["created_at", "amount", "expected_close_date", "stage"]
    ordering = ["-created_at"]

    def narrow_queryset(self, queryset):
        return selectors.with_opportunity_relations(queryset, api=True)

    def _out(self, opportunity, code=status.HTTP_200_OK):
        opportunity = self.get_queryset().get(pk=opportunity.pk)
        return Response(s.OpportunitySerializer(opportunity, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.OpportunityWriteSerializer, responses={201: s.OpportunitySerializer, **ERRORS_WRITE})
    def create(self, request, *args, **kwargs):
        if not permissions.can_create_opportunity(request.user):
            raise PermissionDenied("You may not create opportunities.")
        data = s.OpportunityWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_create(user=request.user, **data.validated_data)
        return self._out(opportunity, status.HTTP_201_CREATED)

    @extend_schema(request=s.OpportunityWriteSerializer, responses={200: s.OpportunitySerializer, **ERRORS_WRITE})
    def update(self, request, *args, **kwargs):
        opportunity = self.get_object()
        if not permissions.can_edit_opportunity(request.user, opportunity):
            raise PermissionDenied("You do not manage this opportunity.")
        data = s.OpportunityWriteSerializer(
            data=request.data, partial=kwargs.get("partial", False), context={"request": request}
        )
        data.is_valid(raise_exception=True)
        services.opportunity_update(user=request.user, opportunity=opportunity, **data.validated_data)
        return self._out(opportunity)

    @extend_schema(request=s.MarkWonSerializer, responses={200: s.OpportunitySerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="mark-won")
    def mark_won(self, request, pk=None):
        """Close as won; the registration is won and an on-close commission accrues to the
        attributed partner."""
        opportunity = self.get_object()
        data = s.MarkWonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.opportunity_mark_won(user=request.user, opportunity=opportunity, **data.validated_data)
        return self._out(opportunity)

    @extend_schema(request=s.ReasonSerializer, responses={200: s.OpportunitySerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="verify-win")
    def verify_win(self, request, pk=None):
        """Finance verifies a won deal without an order: its on-close commission accrues now."""
        opportunity = self.get_object()
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.opportunity_verify_win(user=request.user, opportunity=opportunity, **data.validated_data)
        return self._out(opportunity)

    @extend_schema(request=s.RequiredReasonSerializer, responses={200: s.OpportunitySerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="mark-lost")
    def mark_lost(self, request, pk=None):
        opportunity = self.get_object()
        data = s.RequiredReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.opportunity_mark_lost(user=request.user, opportunity=opportunity, **data.validated_data)
        return self._out(opportunity)

    @extend_schema(request=s.AssignSerializer, responses={200: s.OpportunitySerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Pass one of the parent's direct opportunities to a partner."""
        opportunity = self.get_object()
        data = s.AssignSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.opportunity_assign(user=request.user, opportunity=opportunity, **data.validated_data)
        return self._out(opportunity)


# Commissions -------------------------------------------------------------------------------------


class CommissionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CommissionStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=CommissionSource.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))

    class Meta:
        model = Commission
        fields = ["status", "source", "partner"]


@documented_errors
class CommissionViewSet(ScopedReadOnlyViewSet):
    """The commission ledger. Partners read their own entries and totals; the parent's finance
    team approves, marks paid and reverses."""

    model = Commission
    serializer_class = s.CommissionSerializer
    filterset_class = CommissionFilter
    search_fields = ["description", "source_ref"]
    ordering_fields = ["accrued_at", "amount", "status"]
    ordering = ["-accrued_at"]

    def _act(self, request, func, serializer=None):
        entry = self.get_object()
        if not permissions.can_manage_commissions(request.user):
            raise PermissionDenied("Only the parent's finance team approves and pays commissions.")
        kwargs = {}
        if serializer is not None:
            data = serializer(data=request.data)
            data.is_valid(raise_exception=True)
            kwargs = dict(data.validated_data)
        func(user=request.user, commission=entry, **kwargs)
        return Response(s.CommissionSerializer(self.get_queryset().get(pk=entry.pk)).data)

    @extend_schema(request=None, responses={200: s.CommissionSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._act(request, ledger.commission_approve)

    @extend_schema(request=s.MarkPaidSerializer, responses={200: s.CommissionSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        return self._act(request, ledger.commission_mark_paid, s.MarkPaidSerializer)

    @extend_schema(request=s.RequiredReasonSerializer, responses={200: s.CommissionSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        return self._act(request, ledger.commission_reverse, s.RequiredReasonSerializer)

    @extend_schema(responses={200: s.CommissionTotalsSerializer, **ERRORS_READ})
    @action(detail=False, methods=["get"])
    def totals(self, request):
        """Sums by status of the caller's (filtered) ledger."""
        totals = selectors.commission_totals(self.filter_queryset(self.get_queryset()))
        return Response(s.CommissionTotalsSerializer(totals).data)
