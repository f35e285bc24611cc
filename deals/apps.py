from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = "Leads, deal registrations and opportunities"

    def ready(self):
        register_portal()


def register_portal():
    from partners import portal
    from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

    register_nav(NavEntry("Leads", "deals:lead-list", order=20, visible=portal.sells_or_markets))
    register_nav(NavEntry("Registrations", "deals:registration-list", order=21, visible=portal.sells))
    register_nav(NavEntry("Pipeline", "deals:pipeline", order=22, visible=portal.sells))
    register_nav(NavEntry("Commissions", "deals:commission-list", order=23, visible=portal.earns_commission))
    register_home_card(HomeCard("Deals", _deal_figures, order=20, visible=portal.sells_or_markets))
    register_home_card(HomeCard("Money", _money_figures, order=15, visible=portal.sells))
    portal.register_todo(portal.Todo("deals", _deal_todos, order=20))


def _deal_todos(user):
    from django.db.models import Count
    from django.urls import reverse

    from partners.access import actor_of

    from . import permissions
    from .models import DealRegistration, Lead, LeadStatus, RegistrationStatus

    actor = actor_of(user)
    reg_url, lead_url = reverse("deals:registration-list"), reverse("deals:lead-list")
    regs = dict(DealRegistration.objects.for_user(user).order_by().values_list("status").annotate(n=Count("pk")))
    if actor.is_parent:
        rows = []
        if permissions.can_review_registrations(user):
            rows.append(("Deal registrations to review", regs.get(RegistrationStatus.SUBMITTED, 0), reg_url))
        if permissions.can_route_leads(user):
            leads = Lead.objects.for_user(user).filter(status=LeadStatus.NEW).count()
            rows.append(("Leads waiting to be routed to a partner", leads, f"{lead_url}?status=new"))
        return rows
    if not permissions.can_sell(user):
        return []
    offered = Lead.objects.for_user(user).filter(status=LeadStatus.OFFERED).count()
    return [
        ("Leads offered to you: accept or decline before the deadline", offered, f"{lead_url}?status=offered"),
        ("Registrations returned for changes", regs.get(RegistrationStatus.RETURNED, 0), f"{reg_url}?status=returned"),
        ("Draft registrations to submit", regs.get(RegistrationStatus.DRAFT, 0), f"{reg_url}?status=draft"),
    ]


def _money_figures(user):
    """Money first: open pipeline, protected registrations and commission, in the parent's currency."""
    from django.conf import settings
    from django.db.models import Sum
    from django.urls import reverse

    from partners import portal
    from partners.access import actor_of
    from partners.models import Commission, CommissionStatus
    from partners.presentation import money

    from .models import OPEN_STAGES, DealRegistration, Opportunity, RegistrationStatus

    currency = settings.PARENT_CURRENCY
    pipeline = Opportunity.objects.for_user(user).filter(stage__in=OPEN_STAGES).aggregate(s=Sum("amount"))["s"]
    protected = (
        DealRegistration.objects.for_user(user)
        .filter(status=RegistrationStatus.APPROVED)
        .aggregate(s=Sum("estimated_value"))["s"]
    )
    rows = [
        ("Open pipeline", money(pipeline or 0, currency), reverse("deals:pipeline")),
        (
            "Protected registrations",
            money(protected or 0, currency),
            f"{reverse('deals:registration-list')}?status=approved",
        ),
    ]
    if portal.earns_commission(actor_of(user)):
        sums = dict(Commission.objects.for_user(user).order_by().values_list("status").annotate(s=Sum("amount")))
        url = reverse("deals:commission-list")
        rows.append(
            (
                "Commission to be paid",
                money((sums.get(CommissionStatus.ACCRUED) or 0) + (sums.get(CommissionStatus.APPROVED) or 0), currency),
                url,
            )
        )
        rows.append(("Commission paid", money(sums.get(CommissionStatus.PAID) or 0, currency), f"{url}?status=paid"))
    return rows


def _deal_figures(user):
    from django.db.models import Count
    from django.urls import reverse

    from partners.access import actor_of

    from .models import DealRegistration, Lead, LeadStatus, RegistrationStatus

    actor = actor_of(user)
    registrations = dict(
        DealRegistration.objects.for_user(user).order_by().values_list("status").annotate(n=Count("pk"))
    )
    leads = dict(Lead.objects.for_user(user).order_by().values_list("status").annotate(n=Count("pk")))
    reg_url, lead_url = reverse("deals:registration-list"), reverse("deals:lead-list")
    if actor.is_parent:
        return [
            ("Registrations to review", registrations.get(RegistrationStatus.SUBMITTED, 0), reg_url),
            ("Leads in the queue", leads.get(LeadStatus.NEW, 0), f"{lead_url}?status=new"),
            ("Leads offered, awaiting answer", leads.get(LeadStatus.OFFERED, 0), f"{lead_url}?status=offered"),
        ]
    return [
        ("Leads offered to you", leads.get(LeadStatus.OFFERED, 0), f"{lead_url}?status=offered"),
        ("Registrations protected", registrations.get(RegistrationStatus.APPROVED, 0), f"{reg_url}?status=approved"),
        ("Registrations pending", registrations.get(RegistrationStatus.SUBMITTED, 0), f"{reg_url}?status=submitted"),
    ]
