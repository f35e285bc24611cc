import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from partners.models import Customer, Partner
from prm.api.base import (
    ERRORS_READ,
    ERRORS_WRITE,
    ScopedReadOnlyViewSet,
    ScopedViewSet,
    documented_errors,
    scoped_choices,
)
from quotes import services
from quotes.documents import quote_pdf_response, render_quote_document
from quotes.models import Order, OrderSource, OrderStatus, PriceBook, Product, ProductUnit, Quote, QuoteStatus

from . import serializers as s


class ProductFilter(django_filters.FilterSet):
    product_line = django_filters.CharFilter(field_name="product_line__code")
    unit = django_filters.ChoiceFilter(choices=ProductUnit.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields = ["product_line", "unit", "active", "is_subscription"]


@documented_errors
class ProductViewSet(ScopedReadOnlyViewSet):
    """The product catalogue (read-only here; the parent maintains it in the admin)."""

    model = Product
    serializer_class = s.ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "name"]
    ordering_fields = ["sku", "name", "list_price"]
    ordering = ["sku"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("product_line")


class PriceBookFilter(django_filters.FilterSet):
    currency = django_filters.CharFilter(lookup_expr="iexact")
    active = django_filters.BooleanFilter()
    is_default = django_filters.BooleanFilter()
    valid_on = django_filters.DateFilter(method="filter_valid_on", label="Valid on this date")

    class Meta:
        model = PriceBook
        fields = ["currency", "active", "is_default"]

    def filter_valid_on(self, queryset, name, value):
        return queryset.current(value)


@documented_errors
class PriceBookViewSet(ScopedReadOnlyViewSet):
    """Price books (currency, validity) with the list price of each product. The parent maintains them
    in the admin; partners read the active ones."""

    model = PriceBook
    serializer_class = s.PriceBookSerializer
    filterset_class = PriceBookFilter
    search_fields = ["name"]
    ordering_fields = ["name", "valid_from", "created_at"]
    ordering = ["-is_default", "name"]

    def narrow_queryset(self, queryset):
        return queryset.prefetch_related("entries__product")


class QuoteFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=QuoteStatus.choices)
    customer = django_filters.ModelChoiceFilter(queryset=scoped_choices(Customer))
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    valid_until_before = django_filters.DateFilter(field_name="valid_until", lookup_expr="lte")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Quote
        fields = ["status", "customer", "partner", "currency", "prepared_by_parent"]


def _action_schema(request=None, response=None, description=""):
    return extend_schema(
        request=request or s.QuotesEmptySerializer, responses={200: response, **ERRORS_WRITE}, description=description
    )


@documented_errors
class QuoteViewSet(ScopedViewSet):
    """Quotes with their lines. Totals are computed on the server; a quote moves
    draft → pending_approval → approved | rejected | returned; approved (or a draft within limits) →
    sent → accepted | declined | expired. Revising creates the next version and supersedes this one.
    A partner whose agreement gives it no quote access creates a quote *request* the parent prices."""

    model = Quote
    serializer_class = s.QuoteSerializer
    filterset_class = QuoteFilter
    search_fields = ["customer__legal_name", "opportunity_ref", "terms"]
    ordering_fields = ["created_at", "total", "valid_until", "status"]
    ordering = ["-created_at"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("customer", "order").prefetch_related(
            "lines__product__product_line", "service_lines"
        )

    def _reply(self, quote, code=status.HTTP_200_OK):
        quote = self.get_queryset().get(pk=quote.pk)
        return Response(s.QuoteSerializer(quote, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.QuoteCreateSerializer, responses={201: s.QuoteSerializer, **ERRORS_WRITE})
    def create(self, request, *args, **kwargs):
        data = s.QuoteCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        quote = services.quote_create(user=request.user, **data.validated_data)
        return self._reply(quote, status.HTTP_201_CREATED)

    @extend_schema(request=s.QuoteUpdateSerializer, responses={200: s.QuoteSerializer, **ERRORS_WRITE})
    def update(self, request, *args, **kwargs):
        quote = self.get_object()
        data = s.QuoteUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.quote_update(user=request.user, quote=quote, **data.validated_data)
        return self._reply(quote)

    @_action_schema(response=s.QuoteSerializer, description="Ask for approval, or approve at once within limits.")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        quote = self.get_object()
        s.QuotesEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.quote_submit(user=request.user, quote=quote))

    @_action_schema(s.QuotesReasonSerializer, s.QuoteSerializer, "Parent: approve the discount or total.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        quote = self.get_object()
        data = s.QuotesReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.quote_approve(user=request.user, quote=quote, **data.validated_data))

    @_action_schema(s.QuotesRequiredReasonSerializer, s.QuoteSerializer, "Parent: reject, with a reason.")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        quote = self.get_object()
        data = s.QuotesRequiredReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.quote_reject(user=request.user, quote=quote, **data.validated_data))

    @_action_schema(s.QuotesRequiredReasonSerializer, s.QuoteSerializer, "Parent: return for changes, with a reason.")
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        quote = self.get_object()
        data = s.QuotesRequiredReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.quote_return(user=request.user, quote=quote, **data.validated_data))

    @_action_schema(response=s.QuoteSerializer, description="Send to the customer.")
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        quote = self.get_object()
        s.QuotesEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.quote_send(user=request.user, quote=quote))

    @_action_schema(response=s.QuoteSerializer, description="The customer accepted; other versions are superseded.")
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        quote = self.get_object()
        s.QuotesEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.quote_accept(user=request.user, quote=quote))

    @_action_schema(s.QuotesReasonSerializer, s.QuoteSerializer, "The customer declined.")
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        quote = self.get_object()
        data = s.QuotesReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.quote_decline(user=request.user, quote=quote, **data.validated_data))

    @_action_schema(s.QuoteServiceLineInputSerializer, s.QuoteSerializer, "White label: add one of your own services.")
    @action(detail=True, methods=["post"], url_path="add-service-line")
    def add_service_line(self, request, pk=None):
        quote = self.get_object()
        data = s.QuoteServiceLineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.quote_service_line_add(user=request.user, quote=quote, **data.validated_data)
        return self._reply(quote)

    @_action_schema(s.QuoteServiceLineRemoveSerializer, s.QuoteSerializer, "White label: remove one of your services.")
    @action(detail=True, methods=["post"], url_path="remove-service-line")
    def remove_service_line(self, request, pk=None):
        quote = self.get_object()
        data = s.QuoteServiceLineRemoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.quote_service_line_remove(user=request.user, quote=quote, line_id=data.validated_data["line"])
        return self._reply(quote)

    @extend_schema(
        request=s.QuotesEmptySerializer,
        responses={201: s.QuoteSerializer, **ERRORS_WRITE},
        description="Create the next version (a draft with the same lines); this version is superseded.",
    )
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        quote = self.get_object()
        s.QuotesEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.quote_revise(user=request.user, quote=quote), status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="Printable HTML"), **ERRORS_READ},
        description="The printable quote document (HTML with print CSS) in the brand the agreement gives it.",
    )
    @action(detail=True, methods=["get"])
    def document(self, request, pk=None):
        quote = self.get_object()
        return HttpResponse(render_quote_document(quote), content_type="text/html; charset=utf-8")

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The quote as PDF"),
            **ERRORS_READ,
        },
        description="The quote document as PDF, in the brand the agreement gives it.",
    )
    @action(detail=True, methods=["get"], url_path="document/pdf")
    def document_pdf(self, request, pk=None):
        return quote_pdf_response(self.get_object())


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    source = django_filters.ChoiceFilter(choices=OrderSource.choices)
    customer = django_filters.ModelChoiceFilter(queryset=scoped_choices(Customer))
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    external_ref = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Order
        fields = ["status", "source", "customer", "partner", "external_ref", "currency"]


@documented_errors
class OrderViewSet(ScopedViewSet):
    """Orders, placed from an accepted quote (`quote`) or directly (`customer` and `lines`, e.g. by an
    integrator with its own `external_ref`). Submitting evaluates the business rules: a failed blocking
    rule is a 400 naming every failed rule; a failed review rule puts the order in review. Each order
    carries its rule results and status timeline."""

    model = Order
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    search_fields = ["customer__legal_name", "external_ref"]
    ordering_fields = ["created_at", "total", "status", "submitted_at"]
    ordering = ["-created_at"]

    def narrow_queryset(self, queryset):
        return queryset.select_related("customer").prefetch_related("lines__product", "events")

    def _reply(self, order, code=status.HTTP_200_OK):
        order = self.get_queryset().get(pk=order.pk)
        return Response(s.OrderSerializer(order, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.OrderCreateSerializer, responses={201: s.OrderSerializer, **ERRORS_WRITE})
    def create(self, request, *args, **kwargs):
        data = s.OrderCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if fields.get("quote") is not None:
            order = services.order_create_from_quote(user=request.user, quote=fields["quote"])
        else:
            fields.pop("quote", None)
            order = services.order_create(user=request.user, **fields)
        return self._reply(order, status.HTTP_201_CREATED)

    @extend_schema(request=s.OrderUpdateSerializer, responses={200: s.OrderSerializer, **ERRORS_WRITE})
    def update(self, request, *args, **kwargs):
        order = self.get_object()
        data = s.OrderUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.order_update(user=request.user, order=order, **data.validated_data)
        return self._reply(order)

    @_action_schema(response=s.OrderSerializer, description="Evaluate the business rules and place the order.")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        order = self.get_object()
        s.QuotesEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.order_submit(user=request.user, order=order))

    @_action_schema(
        s.QuotesReasonSerializer, s.OrderSerializer, "Parent: approve an order in review; provisioning starts."
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        order = self.get_object()
        data = s.QuotesReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.order_approve(user=request.user, order=order, **data.validated_data))

    @_action_schema(s.QuotesRequiredReasonSerializer, s.OrderSerializer, "Parent: decline an order, with a reason.")
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        order = self.get_object()
        data = s.QuotesRequiredReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.order_decline(user=request.user, order=order, **data.validated_data))

    @_action_schema(s.QuotesReasonSerializer, s.OrderSerializer, "Cancel before provisioning starts.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        data = s.QuotesReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(services.order_cancel(user=request.user, order=order, **data.validated_data))

    @_action_schema(response=s.OrderSerializer, description="Parent: hand a failed order to provisioning again.")
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        order = self.get_object()
        s.QuotesEmptySerializer(data=request.data).is_valid(raise_exception=True)
        return self._reply(services.order_retry(user=request.user, order=order))
