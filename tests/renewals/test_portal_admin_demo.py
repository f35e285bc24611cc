"""Portal pages (pipeline buckets, the parent's queue and lapse rates, a renewal's actions, contracts,
the customer's lifetime value), the admin, and the demo."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import Commission, Notification
from partners.presentation import day
from renewals.models import Contract, OwnerSide, Renewal, RenewalReminder, RenewalStatus
from tests.factories import parent_user, partner_user
from tests.renewals.conftest import scenario

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def test_partner_pipeline_buckets_value_and_window_countdown(catalogue):
    s = scenario(catalogue, BusinessModel.DUAL, days_left=75)
    page = logged_in(s["admin"]).get("/portal/renewals/").content.decode()
    assert s["renewal"].number in page and "61–90 days" in page
    assert "value at stake $472.50" in page  # 10 × 45.00 plus the 5% uplift
    assert day(s["renewal"].parent_may_pursue_from) in page and "left" in page  # exclusive window countdown
    assert f'action="/portal/renewals/{s["renewal"].pk}/quote/"' in page  # one click to the renewal quote
    home = logged_in(s["admin"]).get("/portal/").content.decode()
    assert "Open renewals" in home and 'href="/portal/renewals/"' in home
    detail = logged_in(s["admin"]).get(f"/portal/renewals/{s['renewal'].pk}/").content.decode()
    assert "Create the renewal quote" in detail and "exclusive for 45 more days" in detail


def test_one_click_renewal_quote_from_the_portal(catalogue):
    s = scenario(catalogue, BusinessModel.WHITE_LABEL, days_left=40)
    client = logged_in(s["admin"])
    response = client.post(f"/portal/renewals/{s['renewal'].pk}/quote/", {"add_products": [catalogue["pro"].pk]})
    renewal = Renewal.objects.get(pk=s["renewal"].pk)
    assert renewal.status == RenewalStatus.QUOTED and response.url == f"/portal/quotes/{renewal.quote_id}/"
    assert renewal.quote.lines.count() == 2
    # The white-label partner's document carries its own brand only.
    document = client.get(f"/portal/quotes/{renewal.quote_id}/document/").content.decode()
    assert s["partner"].brand_name in document


def test_parent_queue_lapse_rate_and_pursue_from_the_portal(catalogue):
    inside = scenario(catalogue, BusinessModel.DUAL, days_left=60)
    past = scenario(catalogue, BusinessModel.DUAL, days_left=20)
    lapsed = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=10)
    from renewals.services import renewal_mark_lapsed

    renewal_mark_lapsed(user=lapsed["admin"], renewal=lapsed["renewal"], reason="budget")
    sales = parent_user(ParentRole.SALES)
    client = logged_in(sales)
    page = client.get("/portal/renewals/").content.decode()
    queue = page.split("Lapse rate by partner")[0]
    assert past["renewal"].number in queue and inside["renewal"].number not in queue
    assert "100.0%" in page  # the lapsed partner's rate
    refused = client.post(f"/portal/renewals/{inside['renewal'].pk}/pursue/")
    assert refused.status_code == 403
    assert client.post(f"/portal/renewals/{past['renewal'].pk}/pursue/").status_code == 302
    assert Renewal.objects.get(pk=past["renewal"].pk).pursued_by_parent_at is not None
    assert Renewal.objects.get(pk=inside["renewal"].pk).pursued_by_parent_at is None


def test_referral_partner_sees_status_only_and_the_customer_page_shows_ltv(catalogue):
    referral = scenario(catalogue, BusinessModel.REFERRAL, days_left=50)
    page = logged_in(referral["admin"]).get(f"/portal/renewals/{referral['renewal'].pk}/").content.decode()
    assert "Open" in page and "Expected value" not in page and "Create the renewal quote" not in page
    retention = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=50)
    customer_page = logged_in(retention["admin"]).get(f"/portal/customers/{retention['customer'].pk}/")
    assert "Lifetime value" in customer_page.content.decode() and "450.00" in customer_page.content.decode()
    contracts = logged_in(retention["admin"]).get("/portal/renewals/contracts/").content.decode()
    assert retention["contract"].number in contracts and referral["contract"].number not in contracts


def test_a_rep_sees_only_renewals_of_customers_they_manage(catalogue):
    s = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=50)
    rep = partner_user(s["partner"], PartnerRole.REP)
    client = logged_in(rep)
    assert client.get(f"/portal/renewals/{s['renewal'].pk}/").status_code == 404
    relationship = s["customer"].relationships.get()
    relationship.owner = rep
    relationship.save()
    assert client.get(f"/portal/renewals/{s['renewal'].pk}/").status_code == 200


def test_admin_lists_filters_and_pursues(catalogue):
    past = scenario(catalogue, BusinessModel.DUAL, days_left=10)
    client = logged_in(parent_user(ParentRole.ADMIN, superuser=True))
    for url in (
        "/admin/renewals/renewal/?owner_side=shared&milestone=30&overdue=yes",
        f"/admin/renewals/renewal/?partner__id__exact={past['partner'].pk}",
        "/admin/renewals/contract/?status=renewal_open",
        "/admin/renewals/timingrule/",
        f"/admin/renewals/renewal/{past['renewal'].pk}/change/",
        f"/admin/renewals/contract/{past['contract'].pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(
        "/admin/renewals/renewal/", {"action": "pursue_renewals", "_selected_action": [past["renewal"].pk]}
    )
    assert response.status_code == 302
    assert Renewal.objects.get(pk=past["renewal"].pk).pursued_by_parent_at is not None
    add = client.post(
        "/admin/renewals/timingrule/add/",
        {"name": "Wait a week", "wait_days_after_window": 7, "not_within_days_of_partner_activity": 0, "active": "on"},
    )
    assert add.status_code == 302


def test_the_demo_shows_every_renewal_situation(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    today = timezone.localdate()
    renewals = Renewal.objects.select_related("partner")
    by_slug = {
        slug: renewals.filter(partner__slug=slug)
        for slug in ("northwind", "contoso", "fabrikam", "tailspin", "wingtip")
    }
    assert all(qs.exists() for qs in by_slug.values())
    assert Contract.objects.filter(partner__slug="wingtip").count() >= 2
    dual = by_slug["tailspin"].filter(owner_side=OwnerSide.SHARED, status__in=["open", "quoted"])
    assert any(r.parent_may_pursue_from > today for r in dual)  # inside the window
    assert any(r.parent_may_pursue_from <= today for r in dual)  # just past it
    assert renewals.filter(status=RenewalStatus.LAPSED).exists()
    renewed = renewals.get(status=RenewalStatus.RENEWED)
    assert renewed.outcome == "upsell" and renewed.value_change > 0
    assert RenewalReminder.objects.exists()
    assert Notification.objects.filter(kind="renewals.milestone").exists()
    counts = (Contract.objects.count(), Renewal.objects.count(), Commission.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (Contract.objects.count(), Renewal.objects.count(), Commission.objects.count()) == counts
