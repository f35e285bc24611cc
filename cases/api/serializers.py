from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals.models import Lead
from partners.access import actor_of
from partners.agreement import ServiceModel
from partners.models import Customer, Partner, ProductLine
from prm.api.base import ScopedPrimaryKeyRelatedField
from prm.api.serializers import ModelSerializer, StrictSerializer

from .. import permissions, sla
from ..models import (
    Case,
    CaseAttachment,
    CaseCategory,
    CaseComment,
    CaseHandover,
    CaseOrigin,
    CasePriority,
    CaseQueue,
    CaseStatus,
    CloseReason,
    CommentVisibility,
    HandoverKind,
    Party,
    QueueKind,
)


def choice(enum, **kwargs):
    """A choice field documented inline: the case app's enums share field names ("status", "reason",
    "service_model") with other apps' and must not collide as schema components (which would need
    ENUM_NAME_OVERRIDES entries in the shared settings)."""

    # Wrapped in allOf so that drf-spectacular's enum post-processing leaves it inline. A blank-able
    # choice documents "" among its values (responses carry it).
    values = list(enum.values) + ([""] if kwargs.get("allow_blank") else [])

    @extend_schema_field({"allOf": [{"type": "string", "enum": values}]})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=enum.choices, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(ScopedPrimaryKeyRelatedField):
    pass


def case_actions(user, case) -> list[str]:
    """What the caller may do to the case now (the portal shows the same buttons)."""
    from ..models import CaseStatus

    actions = []
    work = permissions.can_work(user, case)
    if work and case.is_open:
        actions.append("assign")
        if case.status in (CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.WAITING_ON_CUSTOMER):
            actions.append("start-work")
        if case.status == CaseStatus.IN_PROGRESS:
            actions.append("wait-on-customer")
        if case.status in (CaseStatus.IN_PROGRESS, CaseStatus.WAITING_ON_CUSTOMER):
            actions.append("resolve")
        actions.append("close")
    if permissions.can_escalate(user, case):
        actions.append("escalate")
    if permissions.can_hand_back(user, case):
        actions.append("hand-back")
    if case.status == CaseStatus.RESOLVED:
        if permissions.can_reopen(user, case):
            actions.append("reopen")
        if work:
            actions.append("close")
    if permissions.comment_visibilities(user, case):
        actions.append("comment")
    return actions


class CaseSlaSerializer(serializers.Serializer):
    first_response_due_at = serializers.DateTimeField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    first_response_state = serializers.CharField(help_text="ok, warn, bad, met or empty")
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    resolution_state = serializers.CharField(help_text="ok, warn, bad, paused or empty")
    paused = serializers.BooleanField()
    breached = serializers.BooleanField()


class CaseHandoverSerializer(ModelSerializer):
    by = serializers.SerializerMethodField()
    from_queue = serializers.SerializerMethodField()
    to_queue = serializers.SerializerMethodField()
    kind = choice(HandoverKind, read_only=True)
    from_party = choice(Party, read_only=True)
    to_party = choice(Party, read_only=True)

    class Meta:
        model = CaseHandover
        fields = ["id", "kind", "from_party", "to_party", "from_queue", "to_queue", "by", "reason", "created_at"]
        read_only_fields = fields

    def _queue(self, queue) -> str | None:
        actor = self.context.get("actor")
        if queue is None or (actor is not None and actor.is_partner and queue.partner_id != actor.partner_id):
            return None
        return queue.name

    def get_by(self, handover) -> str | None:
        # A partner does not see which of the parent's people handed its case back.
        actor = self.context.get("actor")
        if handover.by is None or (actor is not None and actor.is_partner and handover.from_party == Party.PARENT):
            return None
        return handover.by.username

    def get_from_queue(self, handover) -> str | None:
        return self._queue(handover.from_queue)

    def get_to_queue(self, handover) -> str | None:
        return self._queue(handover.to_queue)


class CaseStatusSerializer(ModelSerializer):
    """What a referral-type partner sees of its cases: the status, and only that."""

    status = choice(CaseStatus, read_only=True)

    class Meta:
        model = Case
        fields = ["id", "customer", "subject", "status", "created_at", "updated_at"]
        read_only_fields = fields


class CaseSerializer(ModelSerializer):
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    customer_name = serializers.CharField(source="customer.legal_name", read_only=True, default=None)
    product_line = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    queue = serializers.SerializerMethodField()
    queue_name = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    origin = choice(CaseOrigin, read_only=True)
    category = choice(CaseCategory, read_only=True)
    priority = choice(CasePriority, read_only=True)
    status = choice(CaseStatus, read_only=True)
    service_model = choice(ServiceModel, read_only=True)
    owner_party = choice(Party, read_only=True)
    close_reason = choice(CloseReason, read_only=True, allow_blank=True)
    reopen_until = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "partner",
            "customer",
            "customer_name",
            "lead",
            "lead_reference",
            "origin",
            "category",
            "priority",
            "product_line",
            "subject",
            "description",
            "status",
            "service_model",
            "owner_party",
            "queue",
            "queue_name",
            "assignee",
            "created_by",
            "close_reason",
            "resolution",
            "sla",
            "reopen_until",
            "actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _actor(self):
        return self.context["actor"]

    def _own_side_queue(self, case) -> bool:
        actor = self._actor()
        return not actor.is_partner or case.queue.partner_id == actor.partner_id

    def get_queue(self, case) -> int | None:
        return case.queue_id if self._own_side_queue(case) else None

    def get_queue_name(self, case) -> str | None:
        return case.queue.name if self._own_side_queue(case) else None

    def get_assignee(self, case) -> str | None:
        # A partner does not see which of the parent's people works its case.
        if case.assignee is None or (self._actor().is_partner and case.owner_party == Party.PARENT):
            return None
        return case.assignee.username

    def get_created_by(self, case) -> str | None:
        if case.created_by is None or (self._actor().is_partner and case.origin == CaseOrigin.PARENT):
            return None
        return case.created_by.username

    @extend_schema_field(CaseSlaSerializer)
    def get_sla(self, case) -> dict:
        return CaseSlaSerializer(sla.summary(case)).data

    def get_actions(self, case) -> list[str]:
        return case_actions(self.context["request"].user, case)


class CaseDetailSerializer(CaseSerializer):
    handovers = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "handovers"]
        read_only_fields = fields

    @extend_schema_field(CaseHandoverSerializer(many=True))
    def get_handovers(self, case) -> list[dict]:
        return CaseHandoverSerializer(case.handovers.all(), many=True, context=self.context).data


class CaseCreateSerializer(StrictSerializer):
    customer = ScopedIdField(model=Customer, required=False, allow_null=True)
    lead = ScopedIdField(model=Lead, required=False, allow_null=True, help_text="A lead the caller can see.")
    lead_reference = serializers.CharField(required=False, allow_blank=True, max_length=120)
    partner = ScopedIdField(
        model=Partner, required=False, allow_null=True, help_text="Parent staff: the partner involved."
    )
    origin = choice(CaseOrigin)
    category = choice(CaseCategory)
    priority = choice(CasePriority, default=CasePriority.NORMAL)
    product_line = serializers.SlugRelatedField(
        slug_field="code", queryset=ProductLine.objects.all(), required=False, allow_null=True
    )
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class CaseUpdateSerializer(StrictSerializer):
    subject = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    priority = choice(CasePriority, required=False)
    category = choice(CaseCategory, required=False)


class CaseAssignSerializer(StrictSerializer):
    assignee = serializers.IntegerField(help_text="User id of an agent of the party that owns the case.")


class CaseReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class CaseResolveSerializer(StrictSerializer):
    resolution = serializers.CharField(max_length=5000)


class CaseCloseSerializer(StrictSerializer):
    reason = choice(CloseReason)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CaseEmptySerializer(StrictSerializer):
    pass


class CaseCommentSerializer(ModelSerializer):
    author = serializers.SerializerMethodField()
    author_party = choice(Party, read_only=True)
    visibility = choice(CommentVisibility, read_only=True)

    class Meta:
        model = CaseComment
        fields = ["id", "case", "author", "author_party", "visibility", "body", "created_at"]
        read_only_fields = fields

    def get_author(self, comment) -> str | None:
        actor = self.context.get("actor")
        if comment.author is None or (actor is not None and actor.is_partner and comment.author_party == Party.PARENT):
            return None
        return comment.author.username


class CaseCommentCreateSerializer(StrictSerializer):
    body = serializers.CharField(max_length=20000)
    visibility = choice(CommentVisibility, default=CommentVisibility.SHARED)


class CaseAttachmentSerializer(ModelSerializer):
    download_url = serializers.SerializerMethodField()
    uploader_party = choice(Party, read_only=True)
    visibility = choice(CommentVisibility, read_only=True)

    class Meta:
        model = CaseAttachment
        fields = [
            "id",
            "case",
            "filename",
            "content_type",
            "size",
            "visibility",
            "uploader_party",
            "download_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return f"/api/v1/cases/{attachment.case_id}/attachments/{attachment.pk}/download/"


class CaseAttachmentCreateSerializer(StrictSerializer):
    file = serializers.FileField()
    visibility = choice(CommentVisibility, default=CommentVisibility.SHARED)


class CaseQueueSerializer(ModelSerializer):
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    calendar = serializers.StringRelatedField()
    open_cases = serializers.IntegerField(read_only=True)
    kind = choice(QueueKind, read_only=True)

    class Meta:
        model = CaseQueue
        fields = ["id", "name", "kind", "partner", "calendar", "open_cases"]
        read_only_fields = fields


def actor_context(request) -> dict:
    return {"actor": actor_of(request.user)}
