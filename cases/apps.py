from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases and customer service"

    def ready(self):
        from partners import portal
        from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

        register_nav(
            NavEntry("Cases", "cases:case-list", order=40, visible=portal.works_cases, lead_for=portal.supports_first)
        )
        register_home_card(HomeCard("Cases", _case_figures, order=40, visible=portal.works_cases))
        portal.register_todo(portal.Todo("cases", _case_todos, order=10))


def _case_todos(user):
    from django.urls import reverse

    from partners import portal
    from partners.access import actor_of

    from .selectors import open_case_counts

    if not portal.works_cases(actor_of(user)):
        return []
    counts = open_case_counts(user=user)
    url = reverse("cases:case-list")
    return [
        ("Open cases assigned to you", counts["mine"], f"{url}?view=mine"),
        ("Cases past their service level", counts["breached"], f"{url}?view=all&status=open&breached=1"),
    ]


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
