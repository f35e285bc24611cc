"""The admin index's dashboard: what waits for the parent's review, counted through the access policy."""

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


def _rows(user):
    from cases.models import Case, CaseStatus
    from deals.models import DealRegistration, RegistrationStatus
    from partners.models import Commission, CommissionStatus
    from quotes.models import Order, OrderStatus, Quote, QuoteStatus

    return [
        (
            "Deal registrations to decide",
            DealRegistration.objects.for_user(user).filter(status=RegistrationStatus.SUBMITTED).count(),
            "admin:deals_dealregistration_changelist",
            "status__exact=submitted",
        ),
        (
            "Orders in manual review",
            Order.objects.for_user(user).filter(status=OrderStatus.IN_REVIEW).count(),
            "admin:quotes_order_changelist",
            "status__exact=in_review",
        ),
        (
            "Quotes waiting for discount approval",
            Quote.objects.for_user(user).filter(status=QuoteStatus.PENDING_APPROVAL).count(),
            "admin:quotes_quote_changelist",
            "status__exact=pending_approval",
        ),
        (
            "New cases nobody has taken",
            Case.objects.for_user(user).filter(status=CaseStatus.NEW, owner_party="parent").count(),
            "admin:cases_case_changelist",
            "status__exact=new",
        ),
        (
            "Commissions to approve",
            Commission.objects.for_user(user).filter(status=CommissionStatus.ACCRUED).count(),
            "admin:partners_commission_changelist",
            "status__exact=accrued",
        ),
    ]


@register.inclusion_tag("admin/_review_dashboard.html", takes_context=True)
def review_dashboard(context):
    request = context.get("request")
    rows = []
    for label, count, url_name, query in _rows(request.user):
        try:
            url = f"{reverse(url_name)}?{query}"
        except NoReverseMatch:
            url = ""
        rows.append({"label": label, "count": count, "url": url})
    return {"rows": rows}
