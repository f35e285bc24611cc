from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics, fraud and security"

    def ready(self):
        from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

        from . import receivers, rules  # noqa: F401  (registers the fraud rules, the MDF hooks)

        register_nav(NavEntry("Scorecard", "analytics:scorecard", order=15, visible=_sees_scorecard))
        register_nav(NavEntry("Channel", "analytics:channel", order=16, visible=lambda a: a.is_parent))
        register_nav(
            NavEntry("Fraud", "analytics:alert-list", order=90, visible=lambda a: a.has_parent_role("Fraud analyst"))
        )
        register_nav(
            NavEntry("Security", "analytics:security", order=91, visible=lambda a: a.has_parent_role("Fraud analyst"))
        )
        register_nav(NavEntry("Audit", "analytics:audit", order=92, visible=lambda a: a.is_parent))
        register_home_card(HomeCard("Performance", _performance_card, order=5))


def _sees_scorecard(actor):
    return actor.is_partner


def _performance_card(user):
    from django.urls import reverse

    from partners.access import actor_of

    from .selectors import money_tiles

    actor = actor_of(user)
    if not actor.is_partner:
        return []
    from django.conf import settings

    from partners.presentation import money

    tiles = money_tiles(user=user)
    url = reverse("analytics:scorecard")
    return [(label, money(value, settings.PARENT_CURRENCY), url) for label, value in tiles]
