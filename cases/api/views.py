import django_filters
from django.contrib.auth import get_user_model
from django.db import models
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from partners import uploads
from partners.access import actor_of
from partners.models import Customer, Partner
from prm.api.base import (
    ERRORS_READ,
    ERRORS_WRITE,
    ScopedReadOnlyViewSet,
    ScopedViewSet,
    documented_errors,
    scoped_choices,
)
from prm.api.pagination import as_written
from prm.api.parsers import BoundedJSONParser

from .. import permissions, selectors, services
from ..models import (
    OPEN_STATUSES,
    PRIORITY_ORDER,
    Case,
    CaseAttachment,
    CaseCategory,
    CaseComment,
    CaseOrigin,
    CasePriority,
    CaseQueue,
    CaseStatus,
    Party,
    QueueKind,
)
from . import serializers as s

User = get_user_model()

CASE_PK = OpenApiParameter("case_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The case's id.")
ITEM_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The item's id.")


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=CasePriority.choices)
    category = django_filters.MultipleChoiceFilter(choices=CaseCategory.choices)
    origin = django_filters.ChoiceFilter(choices=CaseOrigin.choices)
    owner_party = django_filters.ChoiceFilter(choices=Party.choices)
    queue = django_filters.ModelChoiceFilter(queryset=scoped_choices(CaseQueue))
    customer = django_filters.ModelChoiceFilter(queryset=scoped_choices(Customer))
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))
    breached = django_filters.BooleanFilter(field_name="sla_breached")
    is_open = django_filters.BooleanFilter(method="filter_open", label="Open (not resolved or closed)")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Assigned to me")

    class Meta:
        model = Case
        fields = ["status", "priority", "category", "origin", "owner_party", "queue", "customer", "partner"]

    def filter_open(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_mine(self, queryset, name, value):
        user_id = getattr(self.request.user, "pk", None)
        return queryset.filter(assignee_id=user_id) if value else queryset.exclude(assignee_id=user_id)


@extend_schema_view(
    list=extend_schema(responses={200: s.CaseSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(responses={200: s.CaseDetailSerializer, **ERRORS_READ}),
    create=extend_schema(request=s.CaseCreateSerializer, responses={201: s.CaseDetailSerializer, **ERRORS_WRITE}),
    update=extend_schema(request=s.CaseUpdateSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE}),
    partial_update=extend_schema(
        request=s.CaseUpdateSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE}
    ),
    destroy=extend_schema(responses={204: None, **ERRORS_WRITE}),
)
class CaseViewSet(ScopedViewSet):
    """Cases about a customer or a lead. Where a case sits and who may work it follows the service
    model of the partner's agreement; a referral-type partner sees only the status of its cases."""

    model = Case
    serializer_class = s.CaseSerializer
    filterset_class = CaseFilter
    search_fields = ["subject", "lead_reference", "customer__legal_name"]
    ordering_fields = ["created_at", "updated_at", "priority_rank", "status", "resolution_due_at"]
    ordering = ["-created_at", "-id"]

    def narrow_queryset(self, queryset):
        queryset = queryset.select_related(
            "partner", "customer", "queue__calendar", "assignee", "created_by", "product_line", "sla_policy"
        ).annotate(
            # ?ordering=-priority_rank lists urgent first.
            priority_rank=models.Case(
                *[models.When(priority=p, then=models.Value(i)) for i, p in enumerate(PRIORITY_ORDER)],
                output_field=models.IntegerField(),
            )
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("handovers__by", "handovers__from_queue", "handovers__to_queue")
        return as_written(queryset)  # nine joins: plan them in order, not every order of them

    def get_serializer_class(self):
        actor = actor_of(self.request.user)
        if permissions.status_only(actor):
            return s.CaseStatusSerializer
        return s.CaseDetailSerializer if self.action != "list" else s.CaseSerializer

    def get_serializer_context(self):
        return super().get_serializer_context() | s.actor_context(self.request)

    def _detail(self, case, code=status.HTTP_200_OK):
        instance = self.get_queryset().prefetch_related("handovers__by", "handovers__from_queue", "handovers__to_queue")
        instance = instance.get(pk=case.pk)
        serializer_class = self.get_serializer_class()
        if serializer_class is s.CaseSerializer:
            serializer_class = s.CaseDetailSerializer
        return Response(serializer_class(instance, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        if not permissions.can_open_case(request.user):
            raise PermissionDenied("You may not open cases.")
        data = s.CaseCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        case = services.case_open(user=request.user, **data.validated_data)
        return self._detail(case, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        case = self.get_object()
        data = s.CaseUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        case = services.case_update(user=request.user, case=case, **data.validated_data)
        return self._detail(case)

    # Actions -----------------------------------------------------------------------------------
    def _run(self, request, serializer_class, func, **extra):
        case = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        case = func(user=request.user, case=case, **data.validated_data, **extra)
        return self._detail(case)

    @extend_schema(request=s.CaseAssignSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the case to an agent of the party that owns it (new → assigned)."""
        case = self.get_object()
        if not permissions.can_work(request.user, case):
            raise PermissionDenied("You may not work this case.")
        data = s.CaseAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignee = User.objects.filter(pk=data.validated_data["assignee"], is_active=True).first()
        if assignee is None:
            raise ValidationError({"assignee": ["Choose an agent of the party that owns the case."]})
        case = services.case_assign(user=request.user, case=case, assignee=assignee)
        return self._detail(case)

    @extend_schema(request=s.CaseEmptySerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="start-work")
    def start_work(self, request, pk=None):
        """Start or resume work (→ in progress); takes the case if nobody has."""
        return self._run(request, s.CaseEmptySerializer, services.case_start)

    @extend_schema(request=s.CaseEmptySerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="wait-on-customer")
    def wait_on_customer(self, request, pk=None):
        """Wait on the customer; the resolution clock pauses."""
        return self._run(request, s.CaseEmptySerializer, services.case_wait)

    @extend_schema(request=s.CaseReasonSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """The partner hands the case to the parent (either and partner-only service models)."""
        return self._run(request, s.CaseReasonSerializer, services.case_escalate)

    @extend_schema(request=s.CaseReasonSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"], url_path="hand-back")
    def hand_back(self, request, pk=None):
        """The parent gives an escalated case back to the partner's queue."""
        return self._run(request, s.CaseReasonSerializer, services.case_hand_back)

    @extend_schema(request=s.CaseResolveSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._run(request, s.CaseResolveSerializer, services.case_resolve)

    @extend_schema(request=s.CaseReasonSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a resolved case within 30 days (the customer answered)."""
        return self._run(request, s.CaseReasonSerializer, services.case_reopen)

    @extend_schema(request=s.CaseCloseSerializer, responses={200: s.CaseDetailSerializer, **ERRORS_WRITE})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a resolved case, or an open one as duplicate or rejected (with a note)."""
        return self._run(request, s.CaseCloseSerializer, services.case_close)


class CaseChildMixin:
    """Sub-resources of a case: the case must be visible to the caller (else 404 for everything)."""

    def case(self) -> Case:
        if not hasattr(self, "_case"):
            case = (
                Case.objects.for_user(self.request.user)
                .select_related("partner", "queue")
                .filter(pk=self.kwargs.get("case_pk"))
                .first()
                if str(self.kwargs.get("case_pk", "")).isdigit()
                else None
            )
            if case is None:
                raise Http404
            self._case = case
        return self._case

    def get_serializer_context(self):
        return super().get_serializer_context() | s.actor_context(self.request)

    # Comments and files are a record of what was said: look up (404 if invisible), then refuse.
    def update(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)

    def partial_update(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)

    def destroy(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)


@extend_schema_view(
    list=extend_schema(parameters=[CASE_PK], responses={200: s.CaseCommentSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(parameters=[CASE_PK, ITEM_ID], responses={200: s.CaseCommentSerializer, **ERRORS_READ}),
    create=extend_schema(
        parameters=[CASE_PK],
        request=s.CaseCommentCreateSerializer,
        responses={201: s.CaseCommentSerializer, **ERRORS_WRITE},
    ),
    update=extend_schema(parameters=[CASE_PK, ITEM_ID], request=None, responses={200: None, **ERRORS_WRITE}),
    partial_update=extend_schema(parameters=[CASE_PK, ITEM_ID], request=None, responses={200: None, **ERRORS_WRITE}),
    destroy=extend_schema(parameters=[CASE_PK, ITEM_ID], responses={204: None, **ERRORS_WRITE}),
)
class CaseCommentViewSet(CaseChildMixin, ScopedViewSet):
    """A case's conversation: shared comments, and comments internal to the caller's own side.
    What the other side marked internal is never listed."""

    model = CaseComment
    serializer_class = s.CaseCommentSerializer
    filterset_fields = ["visibility", "author_party"]
    search_fields = ["body"]
    ordering_fields = ["created_at"]
    ordering = ["created_at", "id"]
    refusal = "Comments cannot be changed."

    def narrow_queryset(self, queryset):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no case in the URL
            return queryset.none()
        return queryset.filter(case=self.case()).select_related("author")

    def create(self, request, *args, **kwargs):
        case = self.case()
        data = s.CaseCommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.case_comment_add(user=request.user, case=case, **data.validated_data)
        return Response(
            s.CaseCommentSerializer(comment, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    list=extend_schema(parameters=[CASE_PK], responses={200: s.CaseAttachmentSerializer(many=True), **ERRORS_READ}),
    retrieve=extend_schema(parameters=[CASE_PK, ITEM_ID], responses={200: s.CaseAttachmentSerializer, **ERRORS_READ}),
    create=extend_schema(
        parameters=[CASE_PK],
        request={"multipart/form-data": s.CaseAttachmentCreateSerializer},
        responses={201: s.CaseAttachmentSerializer, **ERRORS_WRITE},
    ),
    update=extend_schema(parameters=[CASE_PK, ITEM_ID], request=None, responses={200: None, **ERRORS_WRITE}),
    partial_update=extend_schema(parameters=[CASE_PK, ITEM_ID], request=None, responses={200: None, **ERRORS_WRITE}),
    destroy=extend_schema(parameters=[CASE_PK, ITEM_ID], responses={204: None, **ERRORS_WRITE}),
)
class CaseAttachmentViewSet(CaseChildMixin, ScopedViewSet):
    """Files on a case (size and type limits); downloaded through the access policy, never from a
    public media URL."""

    model = CaseAttachment
    serializer_class = s.CaseAttachmentSerializer
    filterset_fields = ["visibility", "uploader_party", "content_type"]
    search_fields = ["filename"]
    ordering_fields = ["created_at", "size", "filename"]
    ordering = ["created_at", "id"]
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    refusal = "Attachments cannot be changed."

    def narrow_queryset(self, queryset):
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(case=self.case())

    def create(self, request, *args, **kwargs):
        case = self.case()
        data = s.CaseAttachmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.case_attachment_add(user=request.user, case=case, **data.validated_data)
        return Response(
            s.CaseAttachmentSerializer(attachment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[CASE_PK, ITEM_ID],
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file, in its own type."),
            **ERRORS_READ,
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, case_pk=None, pk=None):
        attachment = self.get_object()
        return uploads.stream_file(attachment)


class CaseQueueFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=QueueKind.choices)
    partner = django_filters.ModelChoiceFilter(queryset=scoped_choices(Partner))

    class Meta:
        model = CaseQueue
        fields = ["kind", "partner"]


@documented_errors
class CaseQueueViewSet(ScopedReadOnlyViewSet):
    """Case queues: a partner sees its own (partner and shared); parent staff see the parent's team
    queues and those of the partners they see. `open_cases` counts the open cases the caller sees."""

    model = CaseQueue
    serializer_class = s.CaseQueueSerializer
    filterset_class = CaseQueueFilter
    search_fields = ["name"]
    ordering_fields = ["name", "kind"]
    ordering = ["kind", "name"]

    def narrow_queryset(self, queryset):
        return selectors.with_open_cases(queryset.select_related("partner", "calendar"), user=self.request.user)
