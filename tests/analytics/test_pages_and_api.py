"""Scorecards, the channel view, the fraud queue, security and the audit browser: who sees what
(the isolation matrix over every partner role and business model), channel managers limited to
their partners, CSV exports, charts from our own static files, constant query counts."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import facts, fraud
from analytics.models import FraudAlert, SecurityEvent
from deals.models import OpportunityFlow
from partners import audit
from partners.access import ParentRole, PartnerRole
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, parent_user, partner_user
from tests.factories.deals import OpportunityFactory

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def won(partner, amount, days_ago=1):
    return OpportunityFactory(
        partner=partner,
        flow=OpportunityFlow.PARTNER_MANAGED if partner else OpportunityFlow.DIRECT,
        managed_by="partner" if partner else "parent",
        stage="closed_won",
        amount=Decimal(amount),
        closed_at=timezone.now() - datetime.timedelta(days=days_ago),
        name=f"Deal of {partner.name if partner else 'direct'}",
    )


def refresh():
    today = timezone.now().date()
    facts.refresh(start=today - datetime.timedelta(days=60), end=today)


@pytest.fixture
def channel_data(db):
    mine, theirs = PartnerFactory(name="Mine Partners"), PartnerFactory(name="Theirs Partners")
    won(mine, "11111.00", days_ago=0)
    won(theirs, "99999.00")
    won(None, "55555.00")
    alert_subject = won(theirs, "950000.00")
    fraud.check_event("opportunity_won", alert_subject)
    refresh()
    return mine, theirs


PORTAL_PAGES = [
    "/portal/analytics/channel/",
    "/portal/analytics/alerts/",
    "/portal/analytics/security/",
    "/portal/analytics/audit/",
]


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_partners_never_see_another_partners_figures_or_any_alert(business_model, role, channel_data):
    mine, theirs = channel_data
    mine.business_model = business_model
    mine.save()
    user = partner_user(mine, role)
    alert = FraudAlert.objects.get(rule__code="win_without_order")
    client, api = client_for(user), api_as(user)
    own = client.get("/portal/analytics/scorecard/")
    assert own.status_code == 200
    assert "99999" not in own.content.decode() and "Theirs" not in own.content.decode()
    assert client.get(f"/portal/analytics/scorecard/{theirs.pk}/").status_code == 404
    for url in PORTAL_PAGES:
        assert client.get(url).status_code == 404, url
    assert client.get(f"/portal/analytics/alerts/{alert.pk}/").status_code == 404
    assert client.post(f"/portal/analytics/alerts/{alert.pk}/confirm/").status_code == 404
    # API: the other partner's scorecard is absent; alerts are never listed; parent-only lists refuse.
    assert api.get(f"/api/v1/scorecards/{theirs.pk}/").status_code == 404
    assert [row["partner"] for row in api.get("/api/v1/scorecards/").json()["results"]] == [mine.pk]
    assert api.get("/api/v1/fraud-alerts/").json()["results"] == []
    assert api.get(f"/api/v1/fraud-alerts/{alert.pk}/").status_code == 404
    assert api.post(f"/api/v1/fraud-alerts/{alert.pk}/confirm/", {}).status_code == 404
    assert api.post(f"/api/v1/fraud-alerts/{alert.pk}/dismiss/", {"reason": "x"}).status_code == 404
    assert api.get("/api/v1/channel-metrics/").status_code == 403
    assert api.get("/api/v1/audit-events/").status_code == 403
    event = audit.record(actor=None, verb="partner.update", obj=theirs, partner=theirs)
    assert api.get(f"/api/v1/audit-events/{event.pk}/").status_code == 404
    card = api.get(f"/api/v1/scorecards/{mine.pk}/").json()
    if role in ("admin", "manager", "support"):
        assert {"label": "Won this quarter", "value": "11111.00"} in card["tiles"]
        assert card["own_only"] is False
    else:
        assert card["own_only"] is True


def test_channel_manager_sees_only_their_partners_figures(channel_data):
    mine, theirs = channel_data
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[mine])
    body = api_as(manager).get("/api/v1/channel-metrics/?period=12m").json()
    assert [row["partner"] for row in body["partners"]["rows"]] == ["Mine Partners"]
    channel_row = next(r for r in body["compare"]["rows"] if r["seller"] == "Channel")
    assert channel_row["won_amount"] == "11111.00"
    page = client_for(manager).get("/portal/analytics/channel/?period=12m").content.decode()
    assert "Mine Partners" in page and "Theirs Partners" not in page and "99999" not in page
    assert client_for(manager).get(f"/portal/analytics/scorecard/{theirs.pk}/").status_code == 404
    assert client_for(manager).get(f"/portal/analytics/scorecard/{mine.pk}/").status_code == 200
    assert api_as(manager).get(f"/api/v1/scorecards/{theirs.pk}/").status_code == 404
    # Channel managers triage nothing.
    assert api_as(manager).get("/api/v1/fraud-alerts/").json()["results"] == []
    assert client_for(manager).get("/portal/analytics/alerts/").status_code == 404


def test_parent_admin_channel_view_compares_channel_with_direct_and_drills_down(channel_data, parent_admin):
    mine, theirs = channel_data
    body = api_as(parent_admin).get("/api/v1/channel-metrics/?period=12m").json()
    compare = {r["seller"]: r for r in body["compare"]["rows"]}
    assert compare["Direct"]["won_amount"] == "55555.00"
    assert Decimal(compare["Channel"]["won_amount"]) == Decimal("11111.00") + Decimal("99999.00") + Decimal("950000.00")
    assert body["partners"]["rows"][0]["partner"] == "Theirs Partners"
    client = client_for(parent_admin)
    page = client.get("/portal/analytics/channel/?period=12m").content.decode()
    assert f"/portal/analytics/scorecard/{mine.pk}/" in page
    assert "analytics/chart.umd.js" in page and "analytics/charts.js" in page
    assert "<script>" not in page  # no inline script: the charts read a JSON data block
    assert client.get(f"/portal/analytics/scorecard/{mine.pk}/").status_code == 200
    csv = client.get("/portal/analytics/channel/?period=12m&export=partners")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Partner,Tier,Business model,Won revenue") and len(lines) == 3
    assert SecurityEvent.objects.filter(kind="export", user=parent_admin, rows=2).exists()
    assert client.get("/portal/analytics/channel/?export=nope").status_code == 404


@pytest.mark.parametrize("table", ["trend", "tier", "actions"])
def test_every_scorecard_table_exports_as_csv(channel_data, table):
    mine, _ = channel_data
    admin = partner_user(mine, PartnerRole.ADMIN)
    response = client_for(admin).get(f"/portal/analytics/scorecard/?export={table}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().count("\n") >= 1


def test_fraud_analyst_works_the_queue_in_the_portal(channel_data, analyst):
    alert = FraudAlert.objects.get(rule__code="win_without_order")
    client = client_for(analyst)
    page = client.get("/portal/analytics/alerts/").content.decode()
    assert "Win without an order" in page and "Theirs Partners" in page
    detail = client.get(f"/portal/analytics/alerts/{alert.pk}/").content.decode()
    assert "950000.00" in detail and "Confirm and hold payouts" in detail
    response = client.post(f"/portal/analytics/alerts/{alert.pk}/dismiss/", {"reason": ""})
    alert.refresh_from_db()
    assert response.status_code == 302 and alert.status == "open"
    client.post(f"/portal/analytics/alerts/{alert.pk}/confirm/", {"reason": "No contract"})
    alert.refresh_from_db()
    assert alert.status == "confirmed" and alert.holds.count() == 1
    assert client.get("/portal/analytics/alerts/?status=&export=alerts").content.decode().count("\n") == 2


def test_fraud_admin_confirms_and_rules_are_configurable(channel_data, analyst):
    alert = FraudAlert.objects.get(rule__code="win_without_order")
    client = client_for(analyst)
    assert client.get("/admin/analytics/fraudalert/").status_code == 200
    assert client.get(f"/admin/analytics/fraudalert/{alert.pk}/change/").status_code == 200
    client.post("/admin/analytics/fraudalert/", {"action": "confirm", "_selected_action": [alert.pk]})
    alert.refresh_from_db()
    assert alert.status == "confirmed"
    rule = alert.rule
    response = client.post(
        f"/admin/analytics/fraudrule/{rule.pk}/change/",
        {"name": rule.name, "enabled": "", "action": "hold", "thresholds": '{"min_amount": 500000}'},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.enabled is False and rule.action == "hold" and rule.thresholds["min_amount"] == 500000


def test_audit_browser_filters_with_labels(parent_admin, partner_a, partner_b):
    audit.record(actor=parent_admin, verb="deal_registration.approve", obj=partner_a, partner=partner_a, reason="ok")
    audit.record(actor=None, verb="commission.paid", obj=partner_b, partner=partner_b)
    client = client_for(parent_admin)
    page = client.get(f"/portal/analytics/audit/?partner={partner_a.pk}").content.decode()
    assert "Deal registration: approve" in page and "Commission: paid" not in page
    page = client.get("/portal/analytics/audit/?verb=commission.").content.decode()
    assert "Commission: paid" in page and "Deal registration: approve" not in page
    page = client.get(f"/portal/analytics/audit/?actor={parent_admin.username}&since=2000-01-01").content.decode()
    assert "Deal registration: approve" in page and "Commission: paid" not in page
    assert client.get("/portal/analytics/audit/?since=garbage").status_code == 200
    body = (
        api_as(parent_admin).get(f"/api/v1/audit-events/?object_type=partners.partner&object_id={partner_b.pk}").json()
    )
    assert [r["label"] for r in body["results"]] == ["Commission: paid"]
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    body = api_as(manager).get("/api/v1/audit-events/").json()
    assert {r["partner"] for r in body["results"]} == {partner_a.pk}


def test_list_query_counts_do_not_grow_with_the_page(parent_admin, analyst):
    partners = [PartnerFactory() for _ in range(8)]
    for partner in partners:
        fraud.check_event("opportunity_won", won(partner, "500000.00"))
        audit.record(actor=parent_admin, verb="partner.update", obj=partner, partner=partner)
    refresh()
    for url, user in (
        ("/api/v1/scorecards/", parent_admin),
        ("/api/v1/fraud-alerts/", analyst),
        ("/api/v1/audit-events/", parent_admin),
    ):
        client = api_as(user)
        client.get(f"{url}?page_size=1")  # warm the per-process caches (content types, the actor)
        counts = []
        for page_size in (2, 6):  # both pages short of the 8 rows, so each also counts them
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"{url}?page_size={page_size}")
            assert response.status_code == 200 and len(response.json()["results"]) == page_size, url
            counts.append(len(queries))
        assert counts[0] == counts[1], (url, counts)


def test_channel_view_is_cached_until_the_next_refresh(parent_admin):
    partner = PartnerFactory(name="Cached Partners")
    won(partner, "100.00", days_ago=0)
    refresh()
    api = api_as(parent_admin)

    def channel_revenue():
        rows = api.get("/api/v1/channel-metrics/?period=12m").json()["compare"]["rows"]
        return next(r for r in rows if r["seller"] == "Channel")["won_amount"]

    assert channel_revenue() == "100.00"
    won(partner, "50.00", days_ago=0)
    with CaptureQueriesContext(connection) as queries:
        assert channel_revenue() == "100.00"  # same facts, same figures, from the cache
    assert not any("analytics_fact" in q["sql"] for q in queries.captured_queries)
    refresh()
    assert channel_revenue() == "150.00"


def test_scorecard_needs_action_and_tier_progress(parent_admin):
    from analytics.models import TierRequirement
    from deals import services as deals
    from partners.models import ProgramTier
    from tests.factories.deals import registration_of
    from tests.factories.quotes import QuoteFactory

    gold, _ = ProgramTier.objects.get_or_create(name="Gold", defaults={"rank": 3})
    platinum, _ = ProgramTier.objects.get_or_create(name="Platinum", defaults={"rank": 4})
    TierRequirement.objects.create(tier=gold, min_win_rate=Decimal("30"), min_revenue=Decimal("1000"))
    TierRequirement.objects.create(tier=platinum, min_win_rate=Decimal("60"), min_revenue=Decimal("90000"))
    mine, theirs = PartnerFactory(tier=gold), PartnerFactory(tier=gold)
    admin = partner_user(mine, PartnerRole.ADMIN)
    for partner, name in ((mine, "Mine Returned Co"), (theirs, "Theirs Returned Co")):
        rep = partner_user(partner, PartnerRole.REP)
        returned = registration_of(rep, name=name, domain=f"{name.split()[0].lower()}returned.example")
        deals.deal_registration_return(user=parent_admin, registration=returned, reason="Add seats")
        QuoteFactory(partner=partner, status="sent", customer__legal_name=f"{name} quote customer")
    won(mine, "5000.00", days_ago=0)
    refresh()
    card = api_as(admin).get(f"/api/v1/scorecards/{mine.pk}/").json()
    actions = card["actions"]["rows"]
    assert {row["what"] for row in actions} == {"Registration returned for changes", "Quote awaiting the customer"}
    assert "Mine Returned Co" in {row["item"] for row in actions}
    assert not any("Theirs" in str(row["item"]) for row in actions)
    tier = {row["measure"]: row for row in card["tier"]["rows"]}
    assert tier["Won revenue"]["actual"] == "5000.00"
    assert tier["Won revenue"]["current"] == "≥ 1000.00" and "Platinum" in tier["Won revenue"]["next"]
    assert tier["Win rate %"]["actual"] == "100.0"
