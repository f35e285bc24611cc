"""How the portal says things to people: labels for every stored code, money with its currency and
grouping, one date style in the person's time zone, relative times, and the activity feed in
sentences with names. Templates reach it through the `present` filters (a template builtin)."""

from __future__ import annotations

import datetime
import decimal
from functools import cache

from babel.dates import format_timedelta
from babel.numbers import format_currency, format_decimal
from django.apps import apps
from django.utils import timezone

LOCALE = "en_US"
DATE_FORMAT = "%-d %b %Y"  # 3 Dec 2026
TIME_FORMAT = "%H:%M"


# Labels -------------------------------------------------------------------------------------------


@cache
def _choice_labels() -> dict[str, str]:
    """value → label for every choice of every model field, so a code stored in a JSON timeline or
    an audit row reads like the model's own display value."""
    labels: dict[str, str] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            for value, label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and value and value not in labels:
                    labels[value] = str(label)
    return labels


def label(value) -> str:
    """The human label of a stored code ("in_review" → "In review"); other values unchanged."""
    if value is None or value == "":
        return ""
    text = str(value)
    known = _choice_labels().get(text)
    if known:
        return known
    if text.islower() and " " not in text:
        return text.replace("_", " ").replace(".", " ").capitalize()
    return text


def person(user, *, fallback: str = "Someone") -> str:
    """A person's name as people say it: never a login name."""
    if user is None:
        return fallback
    name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    if name:
        return name
    email = getattr(user, "email", "") or ""
    return email or fallback


# Numbers and money --------------------------------------------------------------------------------


def money(amount, currency: str | None = None) -> str:
    """ "$42,000.00", "€1,250.50", "CA$90.00": always with the currency and thousands grouping."""
    if amount is None or amount == "":
        return "—"
    try:
        value = decimal.Decimal(str(amount))
    except decimal.InvalidOperation:
        return str(amount)
    if not currency:
        return format_decimal(value, format="#,##0.00", locale=LOCALE)
    return format_currency(value, str(currency).upper(), locale=LOCALE)


def number(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return format_decimal(decimal.Decimal(str(value)), locale=LOCALE)
    except decimal.InvalidOperation:
        return str(value)


def percent(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{format_decimal(decimal.Decimal(str(value)), format='#,##0.##', locale=LOCALE)}%"


# Dates --------------------------------------------------------------------------------------------


def _local(value):
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        return timezone.localtime(value)
    return value


def day(value) -> str:
    """The one date style: "3 Dec 2026" (in the person's time zone for a moment in time)."""
    if not value:
        return "—"
    value = _local(value)
    return value.strftime(DATE_FORMAT)


def when(value) -> str:
    """A moment: "3 Dec 2026, 14:05" in the person's time zone; a bare date as `day`."""
    if not value:
        return "—"
    if not isinstance(value, datetime.datetime):
        return day(value)
    value = _local(value)
    return f"{value.strftime(DATE_FORMAT)}, {value.strftime(TIME_FORMAT)}"


def relative(value, now=None) -> str:
    """ "in 3 days", "2 hours ago", "today" for dates."""
    if not value:
        return ""
    now = now or timezone.now()
    if isinstance(value, datetime.datetime):
        delta = value - now
        if abs(delta.total_seconds()) < 60:
            return "just now"
    else:
        days = (value - timezone.localdate(now)).days
        if days == 0:
            return "today"
        if days == 1:
            return "tomorrow"
        if days == -1:
            return "yesterday"
        delta = datetime.timedelta(days=days)
    return format_timedelta(delta, add_direction=True, locale=LOCALE, threshold=1.1)


# Activity sentences --------------------------------------------------------------------------------

PAST = {
    "accept": "accepted",
    "accrue": "earned commission on",
    "activate": "activated",
    "add": "added",
    "approve": "approved",
    "assign": "assigned",
    "attach": "attached a file to",
    "auto_approve": "automatically approved",
    "cancel": "cancelled",
    "close": "closed",
    "comment": "commented on",
    "create": "created",
    "deactivate": "deactivated",
    "decline": "declined",
    "delete": "deleted",
    "disqualify": "disqualified",
    "escalate": "escalated",
    "expire": "let expire",
    "expiry_warning": "was reminded of the expiry of",
    "extend": "extended",
    "extension_rejected": "turned down the extension of",
    "first_approval": "gave the first approval to",
    "forward": "forwarded",
    "hand_back": "handed back",
    "handback": "handed back",
    "invite": "invited",
    "lost": "marked as lost",
    "manager_grant": "made a manager of",
    "manager_revoke": "removed a manager from",
    "offer": "offered",
    "offer_missed": "missed the deadline on",
    "open": "opened",
    "order_placed": "placed an order for",
    "override": "changed the agreement of",
    "paid": "paid",
    "approved": "approved",
    "pending": "recorded",
    "pre_check": "checked whether this account is open:",
    "preset": "set the agreement of",
    "provisioning": "started provisioning",
    "reject": "rejected",
    "relationship_add": "added a relationship to",
    "reopen": "reopened",
    "request": "requested",
    "request_extension": "asked to extend",
    "resolve": "resolved",
    "retry": "retried",
    "return": "returned for changes",
    "revise": "revised",
    "share": "shared",
    "sla_breach": "missed the service level on",
    "sla_warning": "is close to the service level on",
    "start": "started work on",
    "submit": "submitted",
    "submitted": "submitted",
    "superseded": "replaced",
    "suspended": "suspended",
    "terminated": "terminated",
    "to_queue": "returned to the queue",
    "update": "updated",
    "wait": "is waiting on the customer for",
    "withdraw": "withdrew",
    "won": "won",
    # Verbs that are the new status (order.in_review, commission.paid, partner.active…).
    "in_review": "sent for review",
    "declined": "declined",
    "fulfilled": "fulfilled",
    "failed": "recorded a failure on",
    "cancelled": "cancelled",
    "reversed": "reversed",
    "rejected": "rejected",
    "returned": "returned for changes",
    "expired": "let expire",
    "active": "activated",
    "onboarding": "started onboarding",
    "sent": "sent",
    "accepted": "accepted",
    "requested": "requested",
}

# Events the system raises by itself, said about the thing rather than a person.
SYSTEM_SENTENCES = {
    "expiry_warning": "{thing} expires soon",
    "expire": "{thing} expired",
    "offer_missed": "{thing} was not answered in time and moves on",
    "sla_breach": "{thing} missed its service level",
    "sla_warning": "{thing} is close to its service level",
    "auto_approve": "{thing} was approved automatically",
    "superseded": "{thing} was replaced by a newer version",
    "provisioning": "{thing} went to provisioning",
}


def _entity_name(entity: str) -> str:
    entity = entity.rsplit(".", 1)[-1]
    return {
        "deal_registration": "deal registration",
        "programtier": "program tier",
        "businessrule": "business rule",
        "routingrule": "routing rule",
    }.get(entity, entity.replace("_", " "))


def activity_sentence(event) -> str:
    """ "Tina Rep approved the deal registration Acme — Cloud migration." for an audit event."""
    verb = event.verb or ""
    entity, _, action = verb.rpartition(".")
    if not entity:
        entity, action = action, "update"
    name = _entity_name(entity)
    shown = event.object_repr or ""
    # "the case #4: VPN down", not "the case Case #4: VPN down".
    if shown.lower().startswith(name + " "):
        shown = shown[len(name) + 1 :]
    thing = f"the {name} {shown}".strip()
    if not event.actor_id:
        template = SYSTEM_SENTENCES.get(action)
        if template:
            sentence = template.format(thing=thing[0].upper() + thing[1:])
            return sentence + (f" ({event.reason})." if event.reason else ".")
    who = person(event.actor, fallback="Someone") if event.actor_id else "The system"
    did = PAST.get(action) or action.replace("_", " ")
    sentence = f"{who} {did} {thing}"
    if event.reason:
        sentence += f" ({event.reason})"
    return sentence.rstrip(".") + "."


def when_utc(value, *, time: bool = True) -> str:
    """For messages written before we know the reader's time zone (emails, notifications)."""
    if not value:
        return "—"
    if not isinstance(value, datetime.datetime):
        return day(value)
    value = value.astimezone(datetime.UTC)
    return value.strftime(DATE_FORMAT) + (f", {value.strftime(TIME_FORMAT)} UTC" if time else "")
