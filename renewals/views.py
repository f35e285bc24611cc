"""Portal pages: the renewals pipeline (bucketed by days to term end, value at stake, the exclusive
window's countdown, one click to a renewal quote), the parent's renewal queue and lapse rates, a
renewal's page with its actions, and contracts. Reads through selectors, writes through services."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from partners.access import actor_of
from partners.views import paginate, portal_view

from . import permissions, selectors, services
from .models import LapseReason

User = get_user_model()


def _renewal_or_404(request, pk):
    renewal = selectors.renewal_get(user=request.user, pk=pk)
    if renewal is None:
        raise Http404
    return renewal


@portal_view
def pipeline(request):
    actor = actor_of(request.user)
    today = timezone.localdate()
    context = {
        "buckets": selectors.pipeline(user=request.user, today=today),
        "today": today,
        "shows_values": permissions.shows_values(request.user),
    }
    if actor.is_parent:
        context["queue"] = selectors.parent_queue(user=request.user, today=today)[:100]
        context["lapse_rates"] = selectors.lapse_rate_by_partner(user=request.user)
    return render(request, "renewals/pipeline.html", context)


@portal_view
def renewal_detail(request, pk):
    renewal = _renewal_or_404(request, pk)
    shows = permissions.shows_values(request.user, renewal)
    can_work = permissions.can_work(request.user, renewal)
    can_assign = permissions.can_assign(request.user, renewal)
    context = {
        "renewal": renewal,
        "shows_values": shows,
        "can_work": can_work and renewal.is_open,
        "can_pursue": permissions.can_pursue(request.user, renewal) and renewal.is_open,
        "can_assign": can_assign and renewal.is_open,
        "may_pursue_now": renewal.parent_may_pursue(),
        "lines": services.current_lines(renewal.contract) if shows else [],
        "upsells": services.upsell_suggestions(renewal) if can_work and renewal.is_open else [],
        "lapse_reasons": LapseReason.choices,
        "days_left": renewal.days_to_term_end(),
        "window_days_left": (
            (renewal.parent_may_pursue_from - timezone.localdate()).days if renewal.parent_may_pursue_from else None
        ),
    }
    return render(request, "renewals/renewal_detail.html", context)


def _back(pk):
    return redirect("renewals:renewal-detail", pk=pk)


@require_POST
@portal_view
def renewal_action(request, pk, action):
    renewal = _renewal_or_404(request, pk)
    try:
        if action == "quote":
            add = [int(v) for v in request.POST.getlist("add_products") if v.isdigit()]
            quote = services.renewal_quote(user=request.user, renewal=renewal, add_products=add)
            messages.success(request, f"Renewal quote {quote.number} created.")
            return redirect("quotes:quote-detail", pk=quote.pk)
        if action == "pursue":
            services.renewal_pursue(user=request.user, renewal=renewal)
            messages.success(request, "You are pursuing this renewal; the partner has been told.")
        elif action == "mark-lapsed":
            services.renewal_mark_lapsed(
                user=request.user,
                renewal=renewal,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", "")[:2000],
            )
            messages.success(request, "Recorded as lapsed.")
        elif action == "assign":
            raw = request.POST.get("assignee", "")
            assignee = User.objects.filter(pk=int(raw), is_active=True).first() if raw.isdigit() else None
            services.renewal_assign(user=request.user, renewal=renewal, assignee=assignee)
            messages.success(request, "Assigned.")
        else:
            raise Http404
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You may not do this.")
        return render(request, "renewals/refused.html", {"renewal": renewal, "message": str(exc)}, status=403)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(renewal.pk)


@portal_view
def contract_list(request):
    page = paginate(request, selectors.contract_list(user=request.user).order_by("term_end", "id"))
    return render(
        request, "renewals/contract_list.html", {"page": page, "shows_values": permissions.shows_values(request.user)}
    )


@portal_view
def contract_detail(request, pk):
    contract = selectors.contract_get(user=request.user, pk=pk)
    if contract is None:
        raise Http404
    shows = permissions.shows_values(request.user, contract)
    return render(request, "renewals/contract_detail.html", {"contract": contract, "shows_values": shows})
