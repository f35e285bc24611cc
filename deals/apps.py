from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = "Leads, deal registrations and opportunities"

    def ready(self):
        register_portal()


def register_portal():
    from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

    register_nav(NavEntry("Leads", "deals:lead-list", order=20))
    register_nav(
        NavEntry(
            "Registrations",
            "deals:registration-list",
            order=21,
        )
    )
    register_nav(NavEntry("Pipeline", "deals:pipeline", order=22))
    register_nav(NavEntry("Commissions", "deals:commission-list", order=23))
    register_home_card(HomeCard("Deals", _deal_figures, order=20))


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
