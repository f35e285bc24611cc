import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from partners.models import Customer, Partner
from prm.api.base import ERRORS_WRITE, ScopedReadOnlyViewSet, documented_errors, scoped_choices
from quotes.api.serializers import QuoteSerializer
from renewals import services
from renewals.models import (
    MILESTONES,
    OPEN_RENEWAL_STATUSES,
    Contract,
    ContractStatus,
    OwnerSide,
    Renewal,
    RenewalStatus,
)

from . import serializers as s

User = get_user_model()


class ContractFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ContractStatus.choices)
    customer = django_filters.ModelChoiceFilter(queryset=scoped_choices(Customer))
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    ends_before = django_filters.DateFilter(field_name="term_end", lookup_expr="lte")
    ends_after = django_filters.DateFilter(field_name="term_end", lookup_expr="gte")

    class Meta:
        model = Contract
        fields = ["status", "customer", "partner", "currency"]


@documented_errors
class ContractViewSet(ScopedReadOnlyViewSet):
    """Contracts: what a customer has bought per product line, for which term, through which partner
    (partner of record) and who brought it (originating partner). Read-only: fulfilment writes them."""

    model = Contract
    serializer_class = s.ContractSerializer
    filterset_class = ContractFilter
    search_fields = ["customer__legal_name"]
    ordering_fields = ["term_end", "annual_value", "created_at"]
    ordering = ["term_end"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("customer", "product_line").prefetch_related("lines__product")


class RenewalFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RenewalStatus.choices)
    owner_side = django_filters.ChoiceFilter(choices=OwnerSide.choices)
    customer = django_filters.ModelChoiceFilter(queryset=scoped_choices(Customer))
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    milestone = django_filters.TypedChoiceFilter(
        field_name="due_milestone", choices=[(m, m) for m in MILESTONES], coerce=int
    )
    ends_before = django_filters.DateFilter(field_name="term_end", lookup_expr="lte")
    ends_after = django_filters.DateFilter(field_name="term_end", lookup_expr="gte")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open and past term end")
    parent_queue = django_filters.BooleanFilter(method="filter_parent_queue", label="In the parent's queue")

    class Meta:
        model = Renewal
        fields = ["status", "owner_side", "customer", "partner"]

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        overdue = queryset.filter(status__in=OPEN_RENEWAL_STATUSES, term_end__lt=today)
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_parent_queue(self, queryset, name, value):
        from django.db.models import Q

        today = timezone.localdate()
        queue = Q(owner_side=OwnerSide.PARENT) | Q(owner_side=OwnerSide.SHARED, parent_may_pursue_from__lte=today)
        return queryset.filter(queue, status__in=OPEN_RENEWAL_STATUSES) if value else queryset.exclude(queue)


def _action_schema(request, response, description):
    return extend_schema(request=request, responses={200: response, **ERRORS_WRITE}, description=description)


@documented_errors
class RenewalViewSet(ScopedReadOnlyViewSet):
    """Renewal opportunities, opened 120 days before a contract's term ends. Who works one follows the
    agreement when it opened (`owner_side`): the partner, the parent, or the partner exclusively until
    `parent_may_pursue_from` and then either (the parent `pursue`s it; 403 before). `quote` produces
    the renewal quote through the quotes app; its order's fulfilment renews the contract."""

    model = Renewal
    serializer_class = s.RenewalSerializer
    filterset_class = RenewalFilter
    search_fields = ["customer__legal_name"]
    ordering_fields = ["term_end", "expected_value", "opened_at"]
    ordering = ["term_end"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("customer")

    def _reply(self, renewal):
        return Response(
            s.RenewalSerializer(self.get_queryset().get(pk=renewal.pk), context={"request": self.request}).data
        )

    @extend_schema(
        request=s.RenewalQuoteSerializer,
        responses={201: QuoteSerializer, **ERRORS_WRITE},
        description="Create the renewal quote: the contract's products (quantities may change) plus upsells.",
    )
    @action(detail=True, methods=["post"])
    def quote(self, request, pk=None):
        renewal = self.get_object()
        data = s.RenewalQuoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = services.renewal_quote(user=request.user, renewal=renewal, **data.validated_data)
        return Response(QuoteSerializer(quote, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @_action_schema(s.RenewalLapseSerializer, s.RenewalSerializer, "Record that the customer did not renew.")
    @action(detail=True, methods=["post"], url_path="mark-lapsed")
    def mark_lapsed(self, request, pk=None):
        renewal = self.get_object()
        data = s.RenewalLapseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.renewal_mark_lapsed(user=request.user, renewal=renewal, **data.validated_data))

    @_action_schema(s.RenewalEmptySerializer, s.RenewalSerializer, "Parent: pursue once the exclusive window closed.")
    @action(detail=True, methods=["post"])
    def pursue(self, request, pk=None):
        renewal = self.get_object()
        s.RenewalEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.renewal_pursue(user=request.user, renewal=renewal))

    @_action_schema(s.RenewalAssignSerializer, s.RenewalSerializer, "Hand the renewal to a person of the working side.")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        renewal = self.get_object()
        data = s.RenewalAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignee = User.objects.filter(pk=data.validated_data["assignee"], is_active=True).first()
        return self._reply(services.renewal_assign(user=request.user, renewal=renewal, assignee=assignee))
