"""Writing the audit trail. The request id and IP come from the request being served, if any."""

import contextvars
import datetime
import decimal
import uuid

from django.contrib.contenttypes.models import ContentType
from django.core.files import File

_request_context = contextvars.ContextVar("prm_request_context", default=None)


def set_request_context(*, request_id: str, ip_address: str | None):
    return _request_context.set({"request_id": request_id, "ip_address": ip_address})


def reset_request_context(token):
    _request_context.reset(token)


def _plain(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, File):
        return value.name or None
    if hasattr(value, "pk"):
        return value.pk
    return value


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        name: [_plain(before.get(name)), _plain(after.get(name))]
        for name in after
        if _plain(before.get(name)) != _plain(after.get(name))
    }


def record(*, actor, verb: str, obj, partner=None, changes: dict | None = None, reason: str = ""):
    from .models import AuditEvent

    context = _request_context.get() or {}
    if partner is None:
        partner = getattr(obj, "partner", None)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        verb=verb,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        partner_id=getattr(partner, "pk", partner),
        changes=changes or {},
        reason=reason,
        request_id=context.get("request_id", ""),
        ip_address=context.get("ip_address"),
    )


def record_many(*, actor, verb: str, model, rows, changes: dict | None = None, reason: str = ""):
    """One audit event per `(pk, partner_id, object_repr)` row, written in one INSERT: for the
    set-based periodic tasks, where `record` per row would cost a query (or two) each."""
    from .models import AuditEvent

    context = _request_context.get() or {}
    content_type = ContentType.objects.get_for_model(model)
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor if getattr(actor, "pk", None) else None,
                verb=verb,
                content_type=content_type,
                object_id=str(pk),
                object_repr=str(text)[:200],
                partner_id=partner_id,
                changes=changes or {},
                reason=reason,
                request_id=context.get("request_id", ""),
                ip_address=context.get("ip_address"),
            )
            for pk, partner_id, text in rows
        ],
        batch_size=1000,
    )
