from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners and customers"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import roles
        from .access import connect_access_invalidation

        # After every app has migrated (its permissions exist only then); the sync is idempotent.
        post_migrate.connect(roles.sync_parent_role_permissions, dispatch_uid="prm-sync-parent-roles")
        connect_access_invalidation()
        register_portal()


def register_portal():
    from . import portal
    from .portal import HomeCard, NavEntry, register_home_card, register_nav

    register_nav(NavEntry("Home", "portal:home", order=0))
    register_nav(NavEntry("Customers", "portal:customer-list", order=10))
    register_nav(NavEntry("Partners", "portal:partner-list", order=5, visible=lambda actor: actor.is_parent))
    register_nav(NavEntry("Team", "portal:team", order=90, visible=portal.manages_team))
    register_nav(NavEntry("Profile", "portal:profile", order=95, visible=lambda actor: actor.is_partner))
    register_home_card(HomeCard("Channel", _channel_figures, order=0))
    register_home_card(HomeCard("Customers", _customer_figures, order=10))


def _channel_figures(user):
    from django.urls import reverse

    from .access import actor_of
    from .models import PartnerStatus
    from .selectors import partner_status_counts, team_list

    actor = actor_of(user)
    if actor.is_partner:
        partner = actor.partner
        return [
            ("Program tier", partner.tier.name if partner.tier else "—", reverse("portal:profile")),
            ("Status", partner.get_status_display(), None),
            (
                "Active team members",
                team_list(user=user, partner=partner).filter(is_active=True).count(),
                reverse("portal:team"),
            ),
        ]
    counts = partner_status_counts(user=user)
    url = reverse("portal:partner-list")
    return [(label, counts.get(value, 0), f"{url}?status={value}") for value, label in PartnerStatus.choices]


def _customer_figures(user):
    from django.db.models import Count
    from django.urls import reverse

    from .selectors import customer_list

    counts = dict(customer_list(user=user).order_by().values_list("status").annotate(n=Count("pk")))
    url = reverse("portal:customer-list")
    from .models import CustomerStatus

    return [(label, counts.get(value, 0), f"{url}?status={value}") for value, label in CustomerStatus.choices]
