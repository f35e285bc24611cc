"""Portal pages of analytics: the partner scorecard, the parent's channel view, the fraud queue,
security monitoring and the audit browser. Every table can be downloaded as CSV (`?export=<key>`);
charts are drawn by Chart.js from our own static files, with the same figures in a table."""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from partners.access import actor_of
from partners.agreement import BusinessModel
from partners.models import ProgramTier
from partners.views import paginate, portal_view

from . import permissions, selectors, services
from .middleware import record
from .models import AlertStatus, FraudRule, SecurityKind
from .selectors import PERIODS, Table


def csv_response(request, table: Table, filename: str) -> HttpResponse:
    """The table as CSV; each export is a security signal (bulk exports are watched)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{table.key}.csv"'
    writer = csv.writer(response)
    writer.writerow([label for _, label in table.columns])
    rows = table.as_lists()
    writer.writerows(rows)
    record(
        kind=SecurityKind.EXPORT,
        user=request.user,
        ip=request.META.get("REMOTE_ADDR"),
        path=f"{request.path}?export={table.key}",
        rows=len(rows),
    )
    return response


def _export(request, tables, filename):
    wanted = request.GET.get("export")
    if not wanted:
        return None
    for table in tables:
        if table is not None and table.key == wanted:
            return csv_response(request, table, filename)
    raise Http404


@portal_view
def scorecard(request, partner_id=None):
    """A partner's scorecard: the caller's own partner, or (parent staff) one of their partners."""
    actor = actor_of(request.user)
    if actor.is_parent and partner_id is None:
        return redirect("analytics:channel")
    partner = selectors.scorecard_partner(user=request.user, partner_id=partner_id)
    if partner is None:
        raise Http404
    card = selectors.scorecard(user=request.user, partner=partner)
    response = _export(request, [card["trend"], card["tier"], card["actions"]], f"scorecard-{partner.slug}")
    if response is not None:
        return response
    return render(request, "analytics/scorecard.html", {"card": card, "partner": partner})


@portal_view
def channel(request):
    if not permissions.can_see_channel(request.user):
        raise Http404
    filters = {
        "period": request.GET.get("period", "quarter"),
        "tier": request.GET.get("tier") or None,
        "business_model": request.GET.get("business_model") or None,
        "territory": (request.GET.get("territory") or "").strip()[:2] or None,
    }
    if filters["tier"] and not filters["tier"].isdigit():
        filters["tier"] = None
    view = selectors.channel_cached(user=request.user, **filters)
    tables = [view[k] for k in ("compare", "partners", "models", "products", "routing", "funnel")]
    response = _export(request, tables, "channel")
    if response is not None:
        return response
    return render(
        request,
        "analytics/channel.html",
        {
            "view": view,
            "filters": filters,
            "periods": PERIODS.items(),
            "tiers": ProgramTier.objects.all(),
            "business_models": BusinessModel.choices,
            "tables": tables,
        },
    )


@portal_view
def alert_list(request):
    if not permissions.can_triage_alerts(request.user):
        raise Http404
    status = request.GET.get("status", AlertStatus.OPEN)
    alerts = selectors.alert_list(user=request.user, status=status, rule=request.GET.get("rule") or None)
    table = Table(
        "alerts",
        "Alerts",
        [
            ("id", "Alert"),
            ("rule", "Rule"),
            ("partner", "Partner"),
            ("subject", "Subject"),
            ("score", "Score"),
            ("status", "Status"),
            ("created", "Raised"),
        ],
    )
    if request.GET.get("export") == "alerts":
        table.rows = [
            {
                "id": a.pk,
                "rule": a.rule.name,
                "partner": a.partner.name,
                "subject": a.subject_repr,
                "score": a.score,
                "status": a.status,
                "created": a.created_at,
            }
            for a in alerts[:5000]
        ]
        return csv_response(request, table, "fraud")
    return render(
        request,
        "analytics/alert_list.html",
        {
            "page": paginate(request, alerts),
            "status": status,
            "statuses": AlertStatus.choices,
            "rules": FraudRule.objects.all(),
            "rule": request.GET.get("rule", ""),
        },
    )


@portal_view
def alert_detail(request, pk):
    alert = selectors.alert_get(user=request.user, pk=pk)
    if alert is None:
        raise Http404
    return render(request, "analytics/alert_detail.html", {"alert": alert})


@portal_view
@require_POST
def alert_action(request, pk, verb):
    alert = selectors.alert_get(user=request.user, pk=pk)
    if alert is None or verb not in ("dismiss", "confirm"):
        raise Http404
    reason = request.POST.get("reason", "")
    try:
        if verb == "dismiss":
            services.fraud_alert_dismiss(user=request.user, alert=alert, reason=reason)
            messages.success(request, "Alert dismissed.")
        else:
            services.fraud_alert_confirm(
                user=request.user, alert=alert, reason=reason, suspend_partner=request.POST.get("suspend") == "1"
            )
            messages.success(request, "Alert confirmed: the partner's payouts for it are held.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        return render(request, "analytics/payout_held.html", {"reason": str(exc)}, status=403)
    return redirect("analytics:alert-detail", pk=alert.pk)


@portal_view
def security(request):
    if not permissions.can_monitor_security(request.user):
        raise Http404
    try:
        hours = min(max(int(request.GET.get("hours", 24)), 1), 24 * 30)
    except ValueError:
        hours = 24
    overview = selectors.security_overview(user=request.user, hours=hours)
    response = _export(request, overview["tables"], "security")
    if response is not None:
        return response
    return render(request, "analytics/security.html", {"overview": overview})


def _parse_day(value):
    """A YYYY-MM-DD date, or None for an empty or malformed one (never a database error)."""
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


@portal_view
def audit(request):
    if not permissions.can_browse_audit(request.user):
        raise Http404
    filters = {
        name: request.GET.get(name, "").strip() for name in ("actor", "partner", "verb", "object", "since", "until")
    }
    dates = {name: _parse_day(filters[name]) for name in ("since", "until")}
    if any(filters[name] and dates[name] is None for name in dates):
        messages.error(request, "Use dates like 2026-12-01.")
    events = selectors.audit_list(
        user=request.user,
        actor=filters["actor"],
        partner=int(filters["partner"]) if filters["partner"].isdigit() else None,
        verb=filters["verb"],
        obj=filters["object"],
        since=dates["since"],
        until=dates["until"],
    )
    page = paginate(request, events, per_page=50)
    if request.GET.get("export") == "audit":
        table = Table(
            "audit",
            "Audit trail",
            [
                ("when", "When"),
                ("actor", "Who"),
                ("action", "Action"),
                ("object", "Object"),
                ("partner", "Partner"),
                ("reason", "Reason"),
                ("ip", "Address"),
            ],
        )
        table.rows = [_audit_row(e) for e in events[:10000]]
        return csv_response(request, table, "audit")
    for event in page:
        event.label = selectors.verb_label(event.verb)
    return render(
        request,
        "analytics/audit.html",
        {"page": page, "filters": filters, "partners": selectors.channel_partners(user=request.user)},
    )


def _audit_row(event):
    return {
        "when": event.created_at,
        "actor": event.actor.username if event.actor else "system",
        "action": selectors.verb_label(event.verb),
        "object": f"{event.content_type.name} {event.object_repr}",
        "partner": event.partner.name if event.partner else "",
        "reason": event.reason,
        "ip": event.ip_address or "",
    }
