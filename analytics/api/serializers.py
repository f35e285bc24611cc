from rest_framework import serializers

from prm.api.serializers import ModelSerializer

from ..models import FraudAlert


class FigureSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.DecimalField(max_digits=18, decimal_places=2)


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()

    def get_columns(self, table) -> list[dict]:
        return [{"field": name, "label": label} for name, label in table.columns]

    def get_rows(self, table) -> list[dict]:
        return [{name: _plain(row.get(name)) for name, _ in table.columns} for row in table.rows]


def _plain(value):
    if value is None or isinstance(value, int | str | float):
        return value
    return str(value)


class ScorecardSummarySerializer(serializers.Serializer):
    """One partner's figures for the period (the list)."""

    partner = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    won_amount = serializers.DecimalField(max_digits=18, decimal_places=2, source="figures.won_amount")
    won_count = serializers.DecimalField(max_digits=18, decimal_places=0, source="figures.won_count")
    win_rate = serializers.DecimalField(max_digits=6, decimal_places=1, source="figures.win_rate", allow_null=True)
    fulfilled_revenue = serializers.DecimalField(max_digits=18, decimal_places=2, source="figures.fulfilled_revenue")
    commission_accrued = serializers.DecimalField(max_digits=18, decimal_places=2, source="figures.commission_accrued")


class ScorecardSerializer(serializers.Serializer):
    partner = serializers.IntegerField(source="partner.pk")
    name = serializers.CharField(source="partner.name")
    own_only = serializers.BooleanField(help_text="A rep's own figures, not the partner's.")
    tiles = serializers.SerializerMethodField()
    trend = TableSerializer()
    tier = TableSerializer(allow_null=True)
    actions = TableSerializer()

    def get_tiles(self, card) -> list[dict]:
        return [{"label": label, "value": str(value)} for label, value in card["tiles"]]


class ChannelMetricsSerializer(serializers.Serializer):
    period = serializers.CharField()
    first = serializers.DateField()
    last = serializers.DateField()
    compare = TableSerializer()
    partners = TableSerializer()
    models = TableSerializer()
    products = TableSerializer()
    routing = TableSerializer()
    funnel = TableSerializer()


class FraudAlertSerializer(ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    triaged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = FraudAlert
        fields = [
            "id",
            "rule",
            "rule_name",
            "partner",
            "subject_key",
            "subject_repr",
            "score",
            "summary",
            "evidence",
            "hold_keys",
            "status",
            "triaged_by",
            "triaged_at",
            "triage_reason",
            "created_at",
            "last_seen_at",
        ]
        read_only_fields = fields


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ConfirmSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    suspend_partner = serializers.BooleanField(required=False, default=False)


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    verb = serializers.CharField()
    label = serializers.SerializerMethodField()
    object_type = serializers.SerializerMethodField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    partner = serializers.IntegerField(source="partner_id", allow_null=True)
    changes = serializers.JSONField()
    reason = serializers.CharField()
    ip_address = serializers.CharField(allow_null=True)

    def get_label(self, event) -> str:
        from ..selectors import verb_label

        return verb_label(event.verb)

    def get_object_type(self, event) -> str:
        return f"{event.content_type.app_label}.{event.content_type.model}"
