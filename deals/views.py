"""Portal pages of deals: the partner's lead inbox, deal registration with a live pre-check, my
registrations, the opportunity pipeline and my commissions; the parent's review queue and lead
routing. Invisible objects are 404; refusals are messages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from analytics.holds import PayoutHeld
from partners import ledger
from partners.access import actor_of
from partners.models import CommissionStatus, Partner
from partners.views import apply_form_errors, paginate, portal_view
from prm.security import bounds
from prm.security.redirects import safe_next

from . import permissions, selectors, services
from .forms import LINE_ROWS, RegistrationForm
from .models import EDITABLE_REGISTRATION_STATUSES, LeadSource, LeadStatus, OpportunityStage, RegistrationStatus


def _errors(request, exc):
    if isinstance(exc, ValidationError):
        messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, str(exc) or "You may not do this.")


# Leads -------------------------------------------------------------------------------------------


@portal_view
def lead_list(request):
    actor = actor_of(request.user)
    default = LeadStatus.OFFERED if actor.is_partner else LeadStatus.NEW
    status = request.GET.get("status", default)
    search = request.GET.get("search", "").strip()
    page = paginate(request, selectors.lead_list(user=request.user, status=status, search=search))
    misses = services.missed_offers({lead.partner_id for lead in page if lead.partner_id}) if actor.is_parent else {}
    for lead in page:
        lead.partner_misses = misses.get(lead.partner_id, 0)
    return render(
        request,
        "deals/lead_list.html",
        {
            "page": page,
            "status": status,
            "search": search,
            "statuses": LeadStatus.choices,
            "can_route": permissions.can_route_leads(request.user),
        },
    )


@portal_view
def lead_detail(request, pk):
    lead = selectors.lead_get(user=request.user, pk=pk)
    if lead is None:
        raise Http404
    actor = actor_of(request.user)
    can_route = permissions.can_route_leads(request.user)
    return render(
        request,
        "deals/lead_detail.html",
        {
            "lead": lead,
            "offer": lead.pending_offers[0] if lead.pending_offers else None,
            "contact_hidden": actor.is_partner and lead.status != LeadStatus.ACCEPTED,
            "offers": selectors.lead_offers(user=request.user, lead=lead) if actor.is_parent else [],
            "can_answer": permissions.can_answer_offer(request.user, lead) and lead.status == LeadStatus.OFFERED,
            "can_route": can_route,
            "can_take": permissions.can_take_leads(request.user),
            "can_disqualify": lead.status in (LeadStatus.NEW, LeadStatus.OFFERED)
            and (
                (can_route and lead.source != LeadSource.PARTNER)
                or (
                    permissions.can_sell(request.user)
                    and lead.partner_id == actor.partner_id
                    and lead.status == LeadStatus.NEW
                )
            ),
            "partners": Partner.objects.for_user(request.user).filter(status="active").order_by("name")
            if can_route
            else [],
        },
    )


@portal_view
@require_POST
def lead_action(request, pk, verb):
    lead = selectors.lead_get(user=request.user, pk=pk)
    if lead is None:
        raise Http404
    try:
        if verb == "accept":
            opportunity = services.lead_accept(user=request.user, lead=lead)
            messages.success(request, "Lead accepted: it is now your opportunity.")
            return redirect("deals:opportunity-detail", pk=opportunity.pk)
        if verb == "decline":
            services.lead_decline(user=request.user, lead=lead, reason=request.POST.get("reason", ""))
            messages.success(request, "Lead declined.")
            return redirect("deals:lead-list")
        if verb == "take":
            opportunity = services.lead_take(user=request.user, lead=lead)
            messages.success(request, "Lead taken for direct sales: it is now your opportunity.")
            return redirect("deals:opportunity-detail", pk=opportunity.pk)
        if verb == "route":
            offer = services.lead_route(user=request.user, lead=lead)
            messages.success(request, f"Offered to {offer.partner}." if offer else "No eligible partner: still queued.")
        elif verb == "disqualify":
            services.lead_disqualify(user=request.user, lead=lead, reason=request.POST.get("reason", ""))
            messages.success(request, "Lead disqualified.")
        elif verb == "forward":
            partner_id = request.POST.get("partner", "")
            partner = Partner.objects.for_user(request.user).filter(pk=bounds.parse_id(partner_id) or 0).first()
            services.lead_forward(user=request.user, lead=lead, partner=partner, reason=request.POST.get("reason", ""))
            messages.success(request, f"Forwarded to {partner}.")
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("deals:lead-detail", pk=lead.pk)


# Registrations -----------------------------------------------------------------------------------


@portal_view
def registration_list(request):
    """Partner: my registrations with their protection countdown. Parent: the review queue."""
    actor = actor_of(request.user)
    status = request.GET.get("status", RegistrationStatus.SUBMITTED if actor.is_parent else "")
    search = request.GET.get("search", "").strip()
    if actor.is_parent and status == RegistrationStatus.SUBMITTED and not search:
        queryset = selectors.review_queue(user=request.user)
    else:
        queryset = selectors.registration_list(user=request.user, status=status, search=search)
    return render(
        request,
        "deals/registration_list.html",
        {
            "page": paginate(request, queryset),
            "status": status,
            "search": search,
            "statuses": RegistrationStatus.choices,
            "can_register": permissions.can_register_deals(request.user),
        },
    )


@portal_view
def registration_create(request):
    if not permissions.can_register_deals(request.user):
        raise PermissionDenied
    form = RegistrationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.deal_registration_create(
                user=request.user,
                lines=form.lines(),
                submit=request.POST.get("submit") == "1",
                **form.registration_fields(),
            )
            messages.success(request, f"Registration #{registration.pk} saved ({registration.get_status_display()}).")
            return redirect("deals:registration-detail", pk=registration.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    return render(request, "deals/registration_form.html", {"form": form})


@portal_view
def registration_edit(request, pk):
    """The partner edits a draft or a returned registration, then submits it again."""
    registration = selectors.registration_get(user=request.user, pk=pk)
    if registration is None:
        raise Http404
    if not permissions.can_work_registration(request.user, registration):
        raise PermissionDenied
    if registration.status not in EDITABLE_REGISTRATION_STATUSES:
        messages.error(request, f"A {registration.get_status_display().lower()} registration cannot be edited.")
        return redirect("deals:registration-detail", pk=registration.pk)
    initial = {
        name: getattr(registration, name)
        for name in (
            "customer",
            "customer_name",
            "customer_domain",
            "customer_country",
            "estimated_value",
            "expected_close_date",
            "notes",
        )
    }
    for index, line in enumerate(registration.lines.all()[:LINE_ROWS], 1):
        initial[f"product_{index}"], initial[f"quantity_{index}"] = line.product_id, line.quantity
    form = RegistrationForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            fields = form.registration_fields()
            fields.setdefault("customer", None)
            fields.setdefault("notes", "")
            fields.setdefault("customer_domain", "")
            services.deal_registration_update(
                user=request.user, registration=registration, lines=form.lines(), **fields
            )
            if request.POST.get("submit") == "1":
                services.deal_registration_submit(user=request.user, registration=registration)
            messages.success(request, "Registration saved.")
            return redirect("deals:registration-detail", pk=registration.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    return render(request, "deals/registration_form.html", {"form": form, "registration": registration})


@portal_view
@require_POST
def registration_precheck(request):
    """The live pre-check (htmx): is the account open for registration? Yes or no, nothing else."""
    if not permissions.can_register_deals(request.user):
        raise PermissionDenied
    name = request.POST.get("customer_name", "").strip()
    country = request.POST.get("customer_country", "").strip().upper()
    if not name or len(country) != 2:
        result = None
    elif not services.pre_check_allowed(request.user):
        result = "throttled"
    else:
        available = services.deal_registration_pre_check(
            user=request.user,
            customer_name=name[:200],
            customer_domain=request.POST.get("customer_domain", "").strip()[:253],
            customer_country=country,
        )
        result = "open" if available else "taken"
    if not request.htmx:
        # Without JavaScript the check posts the whole form: show the form again with the answer.
        form = RegistrationForm(initial=request.POST.dict(), user=request.user)
        return render(request, "deals/registration_form.html", {"form": form, "result": result})
    return render(request, "deals/_precheck.html", {"result": result})


@portal_view
def registration_detail(request, pk):
    registration = selectors.registration_get(user=request.user, pk=pk)
    if registration is None:
        raise Http404
    actor = actor_of(request.user)
    reviewer = actor.is_parent and permissions.can_review_registrations(request.user)
    return render(
        request,
        "deals/registration_detail.html",
        {
            "r": registration,
            "is_parent": actor.is_parent,
            "reviewer": reviewer,
            "can_work": permissions.can_work_registration(request.user, registration),
            "others": selectors.conflicting_registrations(user=request.user, registration=registration)
            if actor.is_parent
            else [],
            "pending_extension": next((e for e in registration.extensions.all() if e.status == "pending"), None),
            "extensions_left": 2 - len(registration.extensions.all()),
        },
    )


REGISTRATION_ACTIONS = {
    "submit": (services.deal_registration_submit, ()),
    "withdraw": (services.deal_registration_withdraw, ("reason",)),
    "approve": (services.deal_registration_approve, ("reason",)),
    "reject": (services.deal_registration_reject, ("reason",)),
    "return": (services.deal_registration_return, ("reason",)),
    "cancel": (services.deal_registration_cancel, ("reason",)),
    "request-extension": (services.deal_registration_request_extension, ("days", "reason")),
    "approve-extension": (services.deal_registration_decide_extension, ("reason",)),
    "reject-extension": (services.deal_registration_decide_extension, ("reason",)),
}


REGISTRATION_DONE = {
    "submit": "Registration submitted for review.",
    "withdraw": "Registration withdrawn.",
    "approve": "Registration approved: the deal is protected.",
    "reject": "Registration rejected.",
    "return": "Registration returned to the partner for changes.",
    "cancel": "Registration cancelled.",
    "request-extension": "Extension requested.",
    "approve-extension": "Extension approved.",
    "reject-extension": "Extension turned down.",
}


@portal_view
@require_POST
def registration_action(request, pk, verb):
    registration = selectors.registration_get(user=request.user, pk=pk)
    if registration is None or verb not in REGISTRATION_ACTIONS:
        raise Http404
    func, names = REGISTRATION_ACTIONS[verb]
    kwargs = {name: request.POST.get(name, "") for name in names}
    if "days" in kwargs:
        kwargs["days"] = int(kwargs["days"]) if kwargs["days"].isdigit() else 0
    if verb == "approve":
        kwargs["override_conflicts"] = request.POST.get("override_conflicts") in ("on", "true", "1")
    if verb.endswith("-extension") and verb != "request-extension":
        kwargs["approve"] = verb == "approve-extension"
    try:
        result = func(user=request.user, registration=registration, **kwargs)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        if verb == "approve" and getattr(result, "status", "") == RegistrationStatus.SUBMITTED:
            messages.info(request, "First approval recorded; a second approver must confirm.")
        else:
            messages.success(request, REGISTRATION_DONE.get(verb, "Saved."))
        if request.POST.get("and_next"):
            following = selectors.next_registration_to_review(user=request.user, after=registration)
            if following is None:
                messages.info(request, "No other registration is waiting for review.")
                return redirect("deals:registration-list")
            return redirect("deals:registration-detail", pk=following.pk)
    return safe_next(request, "deals:registration-detail", pk=registration.pk)


# Opportunities -----------------------------------------------------------------------------------


@portal_view
def pipeline(request):
    return render(request, "deals/pipeline.html", {"columns": selectors.pipeline(user=request.user)})


@portal_view
def opportunity_detail(request, pk):
    opportunity = selectors.opportunity_get(user=request.user, pk=pk)
    if opportunity is None:
        raise Http404
    return render(
        request,
        "deals/opportunity_detail.html",
        {
            "o": opportunity,
            "can_edit": permissions.can_edit_opportunity(request.user, opportunity) and opportunity.is_open,
            "stages": [c for c in OpportunityStage.choices if c[0] not in ("closed_won", "closed_lost")],
        },
    )


@portal_view
@require_POST
def opportunity_action(request, pk, verb):
    opportunity = selectors.opportunity_get(user=request.user, pk=pk)
    if opportunity is None:
        raise Http404
    try:
        if verb == "stage":
            services.opportunity_update(user=request.user, opportunity=opportunity, stage=request.POST.get("stage", ""))
        elif verb == "mark-won":
            amount = request.POST.get("amount", "").strip() or None
            services.opportunity_mark_won(user=request.user, opportunity=opportunity, amount=amount)
        elif verb == "mark-lost":
            services.opportunity_mark_lost(
                user=request.user, opportunity=opportunity, reason=request.POST.get("reason", "")
            )
        else:
            raise Http404
        messages.success(request, "Opportunity updated.")
    except (ValidationError, PermissionDenied, ArithmeticError) as exc:
        _errors(request, exc if not isinstance(exc, ArithmeticError) else ValidationError("Enter an amount."))
    return redirect("deals:opportunity-detail", pk=opportunity.pk)


# Commissions -------------------------------------------------------------------------------------


@portal_view
def commission_list(request):
    status = request.GET.get("status", "")
    queryset = selectors.commission_list(user=request.user, status=status)
    return render(
        request,
        "deals/commission_list.html",
        {
            "page": paginate(request, queryset),
            "totals": selectors.commission_totals(selectors.commission_list(user=request.user)),
            "status": status,
            "statuses": CommissionStatus.choices,
            "is_finance": permissions.can_manage_commissions(request.user),
        },
    )


COMMISSION_ACTIONS = {
    "approve": (ledger.commission_approve, ()),
    "mark-paid": (ledger.commission_mark_paid, ("reference",)),
    "reverse": (ledger.commission_reverse, ("reason",)),
}


@portal_view
@require_POST
def commission_action(request, pk, verb):
    entry = selectors.commission_list(user=request.user).filter(pk=pk).first()
    if entry is None or verb not in COMMISSION_ACTIONS:
        raise Http404
    func, names = COMMISSION_ACTIONS[verb]
    try:
        func(user=request.user, commission=entry, **{n: request.POST.get(n, "") for n in names})
        messages.success(request, "Commission updated.")
    except PayoutHeld as exc:
        return render(request, "analytics/payout_held.html", {"reason": str(exc), "commission": entry}, status=403)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("deals:commission-list")
