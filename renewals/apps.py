from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "renewals"
    verbose_name = "Contracts and renewals"

    def ready(self):
        register_portal()


def register_portal():
    from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

    register_nav(NavEntry("Renewals", "renewals:pipeline", order=40))
    register_home_card(HomeCard("Renewals", _figures, order=40))


def _figures(user):
    from django.urls import reverse

    from .selectors import home_figures

    url = reverse("renewals:pipeline")
    return [(label, value, url) for label, value in home_figures(user)]
