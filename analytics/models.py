"""Analytics: the facts (a compact daily and monthly reporting layer refreshed from the domain
tables), fraud rules with their alerts and payout holds, and the security signals."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.access import ParentRole, TenantQuerySet

# Facts --------------------------------------------------------------------------------------------


class Grain(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")


class FactQuerySet(TenantQuerySet):
    """A fact of one partner is that partner's figure; a fact without a partner is the parent's
    direct business, which every parent user may compare with. Inside a partner, only the roles
    that see the whole partner see its figures (reps see their own records, not the facts)."""

    def _partner_in(self, partner_ids):
        return Q(partner__in=sorted(partner_ids)) | Q(partner__isnull=True)

    def visible_to_partner(self, actor):
        if not actor.sees_partner_wide:
            return self.none()
        return self.filter(partner=actor.partner_id)


class Fact(models.Model):
    """One additive figure (a count, a sum, a numerator or a denominator) of one partner (or the
    direct business), product line (or none) and day or month. Rates are computed when read."""

    grain = models.CharField(max_length=5, choices=Grain.choices)
    period = models.DateField(help_text="The day, or the first day of the month.")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    product_line = models.ForeignKey(
        "partners.ProductLine", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    metric = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=18, decimal_places=2)

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering = ["grain", "period", "partner_id", "metric"]
        indexes = [
            models.Index(fields=["grain", "partner", "period"], name="fact_partner_period"),
            models.Index(fields=["grain", "period", "metric"], name="fact_period_metric"),
        ]

    def __str__(self):
        return f"{self.metric} {self.grain} {self.period} partner={self.partner_id}: {self.value}"


class RefreshLock(models.Model):
    """Refreshes of the facts run one at a time (they delete and rewrite ranges of rows)."""

    name = models.CharField(max_length=40, unique=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name


# Fraud ----------------------------------------------------------------------------------------------


class RuleAction(models.TextChoices):
    ALERT = "alert", _("Alert the fraud analyst")
    HOLD = "hold", _("Alert and hold the subject's payouts at once")


class FraudRule(models.Model):
    """The settings of one registered rule (analytics/rules.py): enabled, thresholds, action."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    thresholds = models.JSONField(default=dict, blank=True, help_text="Rule parameters; missing keys use defaults.")
    action = models.CharField(max_length=10, choices=RuleAction.choices, default=RuleAction.ALERT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    CONFIRMED = "confirmed", _("Confirmed")


ALERT_TRANSITIONS = {
    AlertStatus.OPEN: {AlertStatus.DISMISSED, AlertStatus.CONFIRMED},
    AlertStatus.DISMISSED: set(),
    AlertStatus.CONFIRMED: set(),
}


class FraudAlertQuerySet(TenantQuerySet):
    """Alerts are the fraud analyst's (and the parent admins'): partners never see one, nor do
    other parent staff."""

    def visible_to_partner(self, actor):
        return self.none()

    def visible_to_parent(self, actor):
        if not actor.has_parent_role(ParentRole.FRAUD_ANALYST):
            return self.none()
        return self


class FraudAlert(models.Model):
    """One alert per rule and subject (`subject_key`, e.g. "deals.opportunity:42"): the sweep and
    the event checks find the same row instead of raising it twice."""

    rule = models.ForeignKey(FraudRule, on_delete=models.PROTECT, related_name="alerts")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    subject_key = models.CharField(max_length=80)
    subject_repr = models.CharField(max_length=200)
    score = models.PositiveSmallIntegerField(help_text="0–100: how strongly the evidence points to fraud.")
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=list, help_text="The rows that matched.")
    hold_keys = models.JSONField(default=list, help_text="What a confirmation holds: payout keys of the subject.")
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    triage_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(default=timezone.now)

    objects = FraudAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "subject_key"], name="fraud_alert_once_per_subject")]
        indexes = [
            models.Index(fields=["status", "-score"]),
            models.Index(fields=["partner", "status"]),
        ]

    def __str__(self):
        return f"{self.rule.name}: {self.subject_repr}"

    def can_transition_to(self, status) -> bool:
        return status in ALERT_TRANSITIONS[AlertStatus(self.status)]


class PayoutHoldQuerySet(TenantQuerySet):
    def visible_to_partner(self, actor):
        return self.none()


class PayoutHold(models.Model):
    """A confirmed alert (or a rule whose action is "hold") stops payouts: of one subject (`key`,
    e.g. "commission:opportunity:42") or, with an empty key, every pending payout of the partner."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(FraudAlert, on_delete=models.CASCADE, related_name="holds")
    key = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PayoutHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["alert", "key"], name="payout_hold_once")]
        indexes = [models.Index(fields=["partner", "key"], name="hold_active", condition=Q(released_at=None))]

    def __str__(self):
        return f"Hold on {self.key or 'all payouts'} of partner {self.partner_id}"


# Security ---------------------------------------------------------------------------------------------


class SecurityKind(models.TextChoices):
    DENIED = "denied", _("Refused (403)")
    NOT_FOUND = "not_found", _("Not found (404)")
    NEW_TOKEN_ADDRESS = "new_token_address", _("API token used from a new address")
    EXPORT = "export", _("Export")


class SecurityEventQuerySet(TenantQuerySet):
    """Security signals are for parent admins and the fraud analyst only."""

    def visible_to_partner(self, actor):
        return self.none()

    def visible_to_parent(self, actor):
        return self if actor.has_parent_role(ParentRole.FRAUD_ANALYST) else self.none()


class SecurityEvent(models.Model):
    kind = models.CharField(max_length=20, choices=SecurityKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    rows = models.PositiveIntegerField(default=0, help_text="Exports: how many rows left.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "-created_at"]), models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.kind} {self.user_id} {self.path}"


class TokenAddress(models.Model):
    """The addresses an API token's user has called from: a new one is a security event."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ip_address = models.GenericIPAddressField()
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "ip_address"], name="token_address_once")]

    def __str__(self):
        return f"{self.user_id} from {self.ip_address}"


# Tier requirements ------------------------------------------------------------------------------------


class TierRequirement(models.Model):
    """What a partner must show to hold (or reach) a tier, over the last twelve months; the
    scorecard shows the partner's progress against its tier and the next one."""

    tier = models.OneToOneField("partners.ProgramTier", on_delete=models.CASCADE, related_name="requirement")
    min_win_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, help_text="Percent of closed deals won."
    )
    max_accept_hours = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, help_text="Average hours to accept a lead."
    )
    min_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0, help_text="Won revenue.")

    class Meta:
        ordering = ["tier__rank"]

    def __str__(self):
        return f"Requirements of {self.tier}"
