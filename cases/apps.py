from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases and customer service"

    def ready(self):
        from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

        register_nav(NavEntry("Cases", "cases:case-list", order=40))
        register_home_card(HomeCard("Cases", _case_figures, order=40))


def _case_figures(user):
    from django.urls import reverse

    from .selectors import open_case_counts

    counts = open_case_counts(user=user)
    url = reverse("cases:case-list")
    return [
        ("Assigned to me", counts["mine"], f"{url}?view=mine"),
        ("Open cases", counts["total"], f"{url}?view=all&status=open"),
        ("SLA breached", counts["breached"], f"{url}?view=all&status=open&breached=1"),
    ]
