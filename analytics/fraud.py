"""The fraud engine: a registry of rules (analytics/rules.py registers them), the event checks
that domain services enqueue after commit, the nightly sweep, and the one place alerts are
written. One alert per rule and subject (a unique key), so the sweep and the events never raise
the same alert twice, however they interleave.

Hooks in other apps are one line: `analytics.fraud.check_on_commit("opportunity_won", obj)`."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from .models import AlertStatus, FraudAlert, FraudRule, PayoutHold, RuleAction

EVENTS = ("registration_submitted", "opportunity_won", "order_placed", "commission_due", "claim_submitted")


@dataclass
class Finding:
    partner_id: int
    subject_key: str
    subject_repr: str
    score: int
    summary: str
    evidence: list = field(default_factory=list)
    # Payout keys a confirmation holds (ledger source refs such as "opportunity:42"); "" is every
    # pending payout of the partner.
    hold_keys: list = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    description: str
    events: tuple  # events whose subject the rule checks
    defaults: dict
    check: Callable | None  # (subject, params) -> list[Finding]
    sweep: Callable | None  # (params, since: datetime) -> Iterable[Finding]


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    RULES[rule.code] = rule
    return rule


def subject_key(obj, suffix: str = "") -> str:
    key = f"{obj._meta.label_lower}:{obj.pk}"
    return f"{key}@{suffix}" if suffix else key


def check_on_commit(event: str, obj) -> None:
    """Enqueue the event's checks (and the partner's facts of today) once the transaction commits."""
    from . import tasks

    if event not in EVENTS:
        raise ValueError(f"Unknown fraud event {event!r}")
    label, pk = obj._meta.label_lower, obj.pk
    transaction.on_commit(lambda: tasks.check_event.delay(event, label, pk))


# Settings rows ----------------------------------------------------------------------------------------


def sync_rules() -> dict[str, FraudRule]:
    """One FraudRule row per registered rule (created enabled with the defaults); returns {code: row}."""
    rows = {r.code: r for r in FraudRule.objects.all()}
    missing = [
        FraudRule(code=rule.code, name=rule.name, description=rule.description, thresholds=dict(rule.defaults))
        for code, rule in RULES.items()
        if code not in rows
    ]
    if missing:
        FraudRule.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {r.code: r for r in FraudRule.objects.all()}
    return rows


def params_of(rule: Rule, row: FraudRule) -> dict:
    return dict(rule.defaults) | {k: v for k, v in (row.thresholds or {}).items() if k in rule.defaults}


# Writing alerts ------------------------------------------------------------------------------------------


def record(row: FraudRule, findings: Iterable[Finding], *, refresh_evidence: bool = True) -> int:
    """Insert each finding's alert unless its (rule, subject) exists; refresh the evidence of open
    ones. Rules whose action is "hold" hold the subject's payouts at once. Returns how many findings."""
    findings = list(findings)
    if not findings:
        return 0
    now = timezone.now()
    FraudAlert.objects.bulk_create(
        [
            FraudAlert(
                rule=row,
                partner_id=f.partner_id,
                subject_key=f.subject_key[:80],
                subject_repr=f.subject_repr[:200],
                score=max(0, min(int(f.score), 100)),
                summary=f.summary[:300],
                evidence=f.evidence,
                hold_keys=f.hold_keys,
                created_at=now,
                last_seen_at=now,
            )
            for f in findings
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    keys = [f.subject_key[:80] for f in findings]
    if refresh_evidence and len(findings) <= 20:
        for f in findings:
            FraudAlert.objects.filter(rule=row, subject_key=f.subject_key[:80], status=AlertStatus.OPEN).update(
                score=max(0, min(int(f.score), 100)), evidence=f.evidence, summary=f.summary[:300], last_seen_at=now
            )
    else:
        for start in range(0, len(keys), 1000):
            FraudAlert.objects.filter(
                rule=row, subject_key__in=keys[start : start + 1000], status=AlertStatus.OPEN
            ).update(last_seen_at=now)
    if row.action == RuleAction.HOLD:
        for start in range(0, len(keys), 1000):
            alerts = FraudAlert.objects.filter(rule=row, subject_key__in=keys[start : start + 1000]).exclude(
                status=AlertStatus.DISMISSED
            )
            place_holds(alerts, reason=f"Fraud rule '{row.name}' holds this payout pending review.")
    return len(findings)


def place_holds(alerts, *, reason: str) -> None:
    PayoutHold.objects.bulk_create(
        [
            PayoutHold(partner_id=alert.partner_id, alert=alert, key=key, reason=f"{reason} (alert #{alert.pk})"[:300])
            for alert in alerts
            for key in (alert.hold_keys or [""])
        ],
        ignore_conflicts=True,
    )


# Event checks and the sweep --------------------------------------------------------------------------------


def _subjects_for(event: str, obj) -> list[tuple[str, object]]:
    """The (event, subject) pairs to check. A commission about to be paid is checked through the
    subject that earned it (its ledger source ref), with that subject's own event's rules."""
    if event != "commission_due":
        return [(event, obj)]
    from deals.models import DealRegistration, Opportunity
    from quotes.models import Order

    kind, _, pk = (obj.source_ref or "").partition(":")
    if not pk.isdigit():
        return [(event, obj)]
    source = {
        "opportunity": ("opportunity_won", Opportunity),
        "deal-registration": ("registration_submitted", DealRegistration),
        "order": ("order_placed", Order),
    }.get(kind)
    if source is None:
        return [(event, obj)]
    subject = source[1].objects.for_partner(obj.partner_id).filter(pk=int(pk)).first()
    return [(event, obj)] + ([(source[0], subject)] if subject is not None else [])


def check_event(event: str, obj) -> int:
    """Run every enabled rule that listens to `event` on `obj`; returns how many findings."""
    rows = sync_rules()
    found = 0
    for each_event, subject in _subjects_for(event, obj):
        for rule in RULES.values():
            row = rows.get(rule.code)
            if rule.check is None or each_event not in rule.events or row is None or not row.enabled:
                continue
            found += record(row, rule.check(subject, params_of(rule, row)))
    return found


def load_subject(label: str, pk):
    model = apps.get_model(label)
    return model.objects.filter(pk=pk).first()


def sweep(*, days: int | None = None, codes: Iterable[str] | None = None) -> dict[str, int]:
    """The nightly sweep: every enabled rule over the recent past (its `sweep_days`, or `days`)."""
    rows = sync_rules()
    counts = {}
    for rule in RULES.values():
        if codes is not None and rule.code not in codes:
            continue
        row = rows.get(rule.code)
        if rule.sweep is None or row is None or not row.enabled:
            continue
        params = params_of(rule, row)
        since = timezone.now() - datetime.timedelta(days=days if days is not None else params.get("sweep_days", 30))
        counts[rule.code] = record(row, rule.sweep(params, since), refresh_evidence=False)
    return counts
