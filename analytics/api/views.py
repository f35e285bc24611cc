"""REST: /scorecards/ (the caller's partner, or a partner parent staff see), /channel-metrics/
(parent staff), /fraud-alerts/ with dismiss and confirm (the fraud analyst), /audit-events/
(parent staff)."""

import django_filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from partners.access import actor_of
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Partner
from prm.api.base import (
    ERRORS_READ,
    ERRORS_WRITE,
    ErrorSerializer,
    ScopedReadOnlyViewSet,
    ScopedViewSetMixin,
    scoped_choices,
)

from .. import permissions, selectors, services
from ..models import AlertStatus, Fact, FraudAlert
from ..selectors import PERIODS
from . import serializers as s

PERIOD_PARAM = OpenApiParameter("period", OpenApiTypes.STR, enum=list(PERIODS), description="Default: quarter.")


class ScorecardViewSet(ScopedReadOnlyViewSet):
    """A partner's scorecard. Partner staff get their own partner (reps: their own figures); parent
    staff any partner they see. The list is a one-line summary per partner for the period."""

    model = Partner
    serializer_class = s.ScorecardSerializer
    search_fields = ["name"]
    ordering = ["name"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("tier")

    @extend_schema(parameters=[PERIOD_PARAM], responses={200: s.ScorecardSummarySerializer(many=True), **ERRORS_READ})
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        figures = selectors.partner_summaries(
            user=request.user, partner_ids=[p.pk for p in page], period=request.query_params.get("period", "quarter")
        )
        for partner in page:
            partner.figures = figures[partner.pk]
        return self.get_paginated_response(s.ScorecardSummarySerializer(page, many=True).data)

    @extend_schema(responses={200: s.ScorecardSerializer, **ERRORS_READ})
    def retrieve(self, request, *args, **kwargs):
        partner = self.get_object()
        return Response(s.ScorecardSerializer(selectors.scorecard(user=request.user, partner=partner)).data)


class OneObjectSchema(AutoSchema):
    """The channel view is one object (a set of tables), not a list, though it answers on the
    collection path."""

    def _is_list_view(self, serializer=None):
        return False


class ChannelMetricsViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    schema = OneObjectSchema()
    """The parent's channel view: channel against direct, partners ranked, business models,
    products by partner, lead routing and the funnel. Channel managers: their partners only.
    Read from the facts the caller sees, through the selector."""

    model = Fact
    serializer_class = s.ChannelMetricsSerializer
    pagination_class = None

    @extend_schema(
        parameters=[
            PERIOD_PARAM,
            OpenApiParameter("tier", OpenApiTypes.INT),
            OpenApiParameter("business_model", OpenApiTypes.STR, enum=list(BusinessModel.values)),
            OpenApiParameter("territory", OpenApiTypes.STR, description="A country code."),
        ],
        responses={
            200: s.ChannelMetricsSerializer,
            401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
            403: OpenApiResponse(ErrorSerializer, description="Parent staff only."),
        },
    )
    def list(self, request):
        if not permissions.can_see_channel(request.user):
            raise PermissionDenied("The channel view is for the parent's staff.")
        params = request.query_params
        tier = params.get("tier")
        view = selectors.channel_cached(
            user=request.user,
            period=params.get("period", "quarter"),
            tier=int(tier) if tier and tier.isdigit() else None,
            business_model=params.get("business_model") or None,
            territory=(params.get("territory") or "")[:2] or None,
        )
        return Response(s.ChannelMetricsSerializer(view).data)


class FraudAlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    rule = django_filters.CharFilter(field_name="rule__code")
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = FraudAlert
        fields = ["status", "rule", "partner", "min_score"]


class FraudAlertViewSet(ScopedReadOnlyViewSet):
    """The fraud analyst's queue (partners and other staff see none)."""

    model = FraudAlert
    serializer_class = s.FraudAlertSerializer
    filterset_class = FraudAlertFilter
    search_fields = ["subject_repr", "summary"]
    ordering_fields = ["score", "created_at"]
    ordering = ["-score", "-created_at"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("rule", "triaged_by")

    def _done(self, alert):
        return Response(
            s.FraudAlertSerializer(
                self.narrow_queryset(FraudAlert.objects.for_user(self.request.user)).get(pk=alert.pk)
            ).data
        )

    @extend_schema(request=s.DismissSerializer, responses={200: s.FraudAlertSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        alert = self.get_object()
        data = s.DismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.fraud_alert_dismiss(user=request.user, alert=alert, **data.validated_data))

    @extend_schema(request=s.ConfirmSerializer, responses={200: s.FraudAlertSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        alert = self.get_object()
        data = s.ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.fraud_alert_confirm(user=request.user, alert=alert, **data.validated_data))


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor__username")
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    verb = django_filters.CharFilter(field_name="verb", lookup_expr="startswith")
    object_type = django_filters.CharFilter(
        method="filter_object_type", label="app_label.model, e.g. deals.opportunity"
    )
    object_id = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields = ["actor", "partner", "verb", "object_id", "since", "until"]

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)


class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The audit trail, for parent staff (channel managers: their partners' events)."""

    model = AuditEvent
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    search_fields = ["object_repr", "reason"]
    ordering = ["-created_at", "-id"]

    def narrow_queryset(self, queryset):
        if not actor_of(self.request.user).is_parent:
            return queryset.none()
        return queryset.select_related("actor", "content_type")

    def list(self, request, *args, **kwargs):
        if not permissions.can_browse_audit(request.user):
            raise PermissionDenied("The audit trail is for the parent's staff.")
        return super().list(request, *args, **kwargs)
