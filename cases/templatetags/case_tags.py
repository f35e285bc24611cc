from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def countdown(due):
    """'in 3h 20m' or '2h 5m overdue' (wall-clock), for SLA badges."""
    if not due:
        return ""
    seconds = int((due - timezone.now()).total_seconds())
    overdue = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = ([f"{days}d"] if days else []) + ([f"{hours}h"] if hours or days else []) + [f"{minutes}m"]
    text = " ".join(parts)
    return f"{text} overdue" if overdue else f"in {text}"


SLA_CLASS = {"ok": "ok", "warn": "warn", "bad": "bad", "met": "ok", "paused": ""}


@register.filter
def sla_class(state):
    return SLA_CLASS.get(state, "")
