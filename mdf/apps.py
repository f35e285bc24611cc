from django.apps import AppConfig


class MdfConfig(AppConfig):
    name = "mdf"
    verbose_name = "Marketing and MDF"

    def ready(self):
        from partners.portal import HomeCard, NavEntry, register_home_card, register_nav

        register_nav(NavEntry("Marketing", "mdf:home", order=60))
        register_home_card(HomeCard("Marketing funds", _fund_figures, order=60))


def _fund_figures(user):
    from django.urls import reverse

    from .selectors import fund_summary

    summary = fund_summary(user=user)
    if summary is None:
        return []
    url = reverse("mdf:home")
    rows = [("Available balance", summary["balance"], url)]
    if summary["expiring"]:
        rows.append(("Expiring within 30 days", summary["expiring"], url))
    rows.append(("Requests awaiting decision", summary["requests_pending"], reverse("mdf:request-list")))
    rows.append(("Claims awaiting decision", summary["claims_pending"], reverse("mdf:claim-list")))
    return rows
