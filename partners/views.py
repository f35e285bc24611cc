"""The portal's core pages: home, profile and agreement, team, customers, and the parent's partner
pages. Domain apps add their own pages and register navigation in partners.portal."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from prm.api.pagination import BoundedCountPaginator, stable
from prm.security.redirects import safe_next

from . import permissions, selectors, services
from .access import PartnerRole, actor_of
from .agreement import BusinessModel, PostWinVisibility
from .forms import BrandingForm, CustomerForm, InviteForm
from .models import CustomerClaim, CustomerClaimStatus, CustomerStatus, PartnerStatus
from .portal import HOME_CARDS, TODOS


def portal_view(view):
    """Signed-in parent or partner users only; other accounts (no role) see a 404, and the people
    of a suspended or terminated partner a page that says so."""

    @login_required
    def wrapper(request, *args, **kwargs):
        actor = actor_of(request.user)
        if actor.is_blocked:
            return render(request, "portal/blocked.html", {"partner": actor.partner}, status=403)
        if not actor.has_access:
            raise Http404
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def apply_form_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def paginate(request, queryset, per_page=25):
    # Counts are exact when small and estimated above a limit: no page counts a million rows.
    if hasattr(queryset, "query"):
        queryset = stable(queryset)
    return BoundedCountPaginator(queryset, per_page).get_page(request.GET.get("page"))


@portal_view
def home(request):
    actor = actor_of(request.user)
    cards = []
    for card in HOME_CARDS:
        if not card.visible(actor):
            continue
        rows = card.compute(request.user)
        if rows:
            cards.append({"title": card.title, "rows": rows})
    todos = [(text, count, url) for todo in TODOS for text, count, url in todo.compute(request.user) if count]
    return render(
        request,
        "portal/home.html",
        {
            "cards": cards,
            "todos": todos,
            "recent": selectors.recent_audit(user=request.user, limit=8)
            if actor.is_parent or actor.is_partner_admin
            else [],
        },
    )


@portal_view
def profile(request):
    actor = actor_of(request.user)
    if not actor.is_partner:
        return redirect("portal:partner-list")
    partner = selectors.partner_get(user=request.user, slug=actor.partner.slug)
    form = None
    if permissions.can_edit_branding(request.user, partner):
        form = BrandingForm(instance=partner)
        if request.method == "POST":
            form = BrandingForm(
                request.POST, request.FILES, instance=selectors.partner_get(user=request.user, slug=partner.slug)
            )
            if form.is_valid():
                try:
                    services.partner_update(
                        user=request.user, partner=partner, **{k: form.cleaned_data[k] for k in form.changed_data}
                    )
                    messages.success(request, "Branding saved.")
                    return redirect("portal:profile")
                except ValidationError as exc:
                    apply_form_errors(form, exc)
    return render(request, "partners/profile.html", {"partner": partner, "agreement": partner.agreement, "form": form})


@portal_view
def team(request):
    actor = actor_of(request.user)
    partner = actor.partner if actor.is_partner else None
    if partner is None:
        slug = request.GET.get("partner", "")
        partner = selectors.partner_get(user=request.user, slug=slug) if slug else None
        if partner is None:
            raise Http404
    can_manage = permissions.can_manage_team(request.user, partner)
    form = InviteForm()
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                membership = services.membership_invite(user=request.user, partner=partner, **form.cleaned_data)
                messages.success(request, f"Invitation sent to {membership.user.email}.")
                return redirect(request.get_full_path())
            except ValidationError as exc:
                apply_form_errors(form, exc)
    members = selectors.team_list(user=request.user, partner=partner)
    return render(
        request,
        "partners/team.html",
        {"partner": partner, "members": members, "form": form, "can_manage": can_manage, "roles": PartnerRole.choices},
    )


@portal_view
@require_POST
def member_update(request, pk):
    membership = selectors.membership_get(user=request.user, pk=pk)
    if membership is None:
        raise Http404
    if not permissions.can_manage_team(request.user, membership.partner):
        raise PermissionDenied
    changes = {}
    if "role" in request.POST:
        changes["role"] = request.POST["role"]
    if "is_active" in request.POST:
        changes["is_active"] = request.POST["is_active"] == "1"
    try:
        membership = services.membership_update(user=request.user, membership=membership, **changes)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return render(
            request, "partners/_member_row.html", {"m": membership, "can_manage": True, "roles": PartnerRole.choices}
        )
    return safe_next(request, "portal:team")


@portal_view
def customer_list(request):
    actor = actor_of(request.user)
    filters = {k: request.GET.get(k, "").strip() for k in ("search", "country", "status")}
    page = paginate(request, selectors.customer_list(user=request.user, **filters))
    template = "partners/_customer_rows.html" if request.htmx else "partners/customer_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "filters": filters,
            "statuses": CustomerStatus.choices,
            "status_only": actor.is_partner and actor.agreement.post_win_visibility == PostWinVisibility.STATUS_ONLY,
            "can_create": permissions.can_create_customer(request.user),
            # Requests for accounts that exist elsewhere in the channel, waiting for the parent.
            "claims": CustomerClaim.objects.for_user(request.user)
            .filter(status=CustomerClaimStatus.PENDING)
            .select_related("partner")[:20]
            if not request.htmx
            else [],
        },
    )


@portal_view
def customer_detail(request, pk):
    actor = actor_of(request.user)
    customer = selectors.customer_get(user=request.user, pk=pk)
    if customer is None:
        raise Http404
    level = actor.agreement.post_win_visibility if actor.is_partner else PostWinVisibility.FULL
    relationships = list(customer.relationships.all())  # prefetched through the access policy
    return render(
        request,
        "partners/customer_detail.html",
        {
            "customer": customer,
            "level": level,
            "relationships": relationships,
            "can_edit": permissions.can_edit_customer(request.user, customer),
        },
    )


@portal_view
def customer_create(request):
    if not permissions.can_create_customer(request.user):
        raise PermissionDenied
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(user=request.user, **form.cleaned_data)
            if isinstance(customer, CustomerClaim):
                # One record per customer: the account exists elsewhere in the channel, and whose it
                # is stays confidential; the parent decides.
                messages.info(
                    request,
                    f"This account is already a customer in the channel. Your request #{customer.pk} was sent "
                    "for a decision; you will see the customer here if you are linked to it.",
                )
                return redirect("portal:customer-list")
            if getattr(customer, "already_held", False):
                messages.info(request, f"{customer} is already one of your customers.")
            else:
                messages.success(request, f"{customer} added.")
            return redirect("portal:customer-detail", pk=customer.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    return render(request, "partners/customer_form.html", {"form": form, "title": "New customer"})


@portal_view
def customer_edit(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    if customer is None:
        raise Http404
    if not permissions.can_edit_customer(request.user, customer):
        raise PermissionDenied
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                user=request.user, customer=customer, **{k: form.cleaned_data[k] for k in form.changed_data}
            )
            messages.success(request, "Customer saved.")
            return redirect("portal:customer-detail", pk=customer.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    return render(request, "partners/customer_form.html", {"form": form, "title": f"Edit {customer}"})


@portal_view
def partner_list(request):
    actor = actor_of(request.user)
    if not actor.is_parent:
        raise Http404
    filters = {k: request.GET.get(k, "").strip() for k in ("search", "status", "business_model")}
    page = paginate(request, selectors.partner_list(user=request.user, **filters))
    return render(
        request,
        "partners/partner_list.html",
        {"page": page, "filters": filters, "statuses": PartnerStatus.choices, "models": BusinessModel.choices},
    )


@portal_view
def partner_detail(request, slug):
    actor = actor_of(request.user)
    if not actor.is_parent:
        raise Http404
    partner = selectors.partner_get(user=request.user, slug=slug)
    if partner is None:
        raise Http404
    return render(
        request,
        "partners/partner_detail.html",
        {
            "partner": partner,
            "agreement": partner.agreement,
            "members": selectors.team_list(user=request.user, partner=partner),
            "recent": selectors.recent_audit(user=request.user, partner=partner),
            "can_manage": permissions.can_manage_partner(request.user, partner),
            "transitions": sorted(s for s in PartnerStatus.values if partner.can_transition_to(s)),
        },
    )


@portal_view
def partner_logo(request, slug):
    """A partner's logo, for its own people and the parent staff who may see the partner."""
    partner = selectors.partner_get(user=request.user, slug=slug)
    if partner is None or not partner.logo:
        raise Http404
    response = FileResponse(partner.logo.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_view
@require_POST
def partner_transition(request, slug):
    partner = selectors.partner_get(user=request.user, slug=slug)
    if partner is None or not actor_of(request.user).is_parent:
        raise Http404
    try:
        services.partner_transition(
            user=request.user,
            partner=partner,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, "Status changed.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("portal:partner-detail", slug=partner.slug)
