"""/api/v1/contracts/ and /api/v1/renewals/: the isolation matrix, who sees, works, pursues and earns
under each business model, the exclusive window's boundaries, bad input, constant query counts."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Commission, CommissionSource, Notification
from quotes import services as quote_services
from renewals.models import Contract, OwnerSide, Renewal, RenewalStatus, TimingRule
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import customer_of, parent_user, partner_user
from tests.factories.renewals import contract_for
from tests.renewals.conftest import make_partner, scenario

pytestmark = pytest.mark.django_db

ACTIONS = {
    "quote": {},
    "mark-lapsed": {"reason": "budget"},
    "pursue": {},
    "assign": {"assignee": 1},
}
PARTNER_WORKS = {BusinessModel.REGISTRATION_RETENTION, BusinessModel.DUAL, BusinessModel.WHITE_LABEL}


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_isolation_matrix(catalogue, business_model, role, client):
    mine = scenario(catalogue, business_model, days_left=100)
    user = partner_user(mine["partner"], role)
    other = scenario(catalogue, BusinessModel.DUAL, days_left=100)
    api = api_as(user)
    for resource, own, theirs in (
        ("contracts", mine["contract"], other["contract"]),
        ("renewals", mine["renewal"], other["renewal"]),
    ):
        listed = {row["id"] for row in api.get(f"/api/v1/{resource}/?page_size=100").json()["results"]}
        assert theirs.pk not in listed
        if role in ("admin", "manager", "support"):
            assert own.pk in listed
        url = f"/api/v1/{resource}/{theirs.pk}/"
        assert api.get(url).status_code == 404
        assert api.put(url, {}).status_code == 404
        assert api.patch(url, {}).status_code == 404
        assert api.delete(url).status_code == 404
    for name, payload in ACTIONS.items():
        assert api.post(f"/api/v1/renewals/{other['renewal'].pk}/{name}/", payload, format="json").status_code == 404
    filtered = api.get(f"/api/v1/renewals/?partner={other['partner'].pk}")
    assert filtered.status_code == 400 or filtered.json()["results"] == []
    client.force_login(user)
    assert client.get(f"/portal/renewals/{other['renewal'].pk}/").status_code == 404
    assert client.get(f"/portal/renewals/contracts/{other['contract'].pk}/").status_code == 404
    for name in ACTIONS:
        assert client.post(f"/portal/renewals/{other['renewal'].pk}/{name}/", {}).status_code == 404
    page = client.get("/portal/renewals/")
    assert page.status_code == 200 and other["renewal"].number not in page.content.decode()
    contracts = client.get("/portal/renewals/contracts/")
    assert contracts.status_code == 200 and other["contract"].number not in contracts.content.decode()
    assert Renewal.objects.get(pk=other["renewal"].pk).status == RenewalStatus.OPEN


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_who_sees_and_works_the_renewal(catalogue, business_model):
    s = scenario(catalogue, business_model, days_left=100)
    desk = parent_user(ParentRole.SALES)
    partner_api, parent_api = api_as(s["admin"]), api_as(desk)
    url = f"/api/v1/renewals/{s['renewal'].pk}/"
    seen = partner_api.get(url).json()
    assert seen["status"] == "open"
    status_only = business_model in (BusinessModel.REFERRAL, BusinessModel.REGISTRATION_PARENT)
    assert (seen["expected_value"] is None) == status_only
    assert parent_api.get(url).json()["expected_value"] is not None

    partner_quote = partner_api.post(f"{url}quote/", {}, format="json")
    assert partner_quote.status_code == (201 if business_model in PARTNER_WORKS else 403), partner_quote.json()
    parent_quote = parent_api.post(f"{url}quote/", {}, format="json")
    # The parent works its own renewals; an either-model renewal only once it pursues it.
    parent_owns = business_model in (BusinessModel.REFERRAL, BusinessModel.REGISTRATION_PARENT)
    assert parent_quote.status_code == (201 if parent_owns else 403)
    pursue = parent_api.post(f"{url}pursue/", {}, format="json")
    assert pursue.status_code == 403  # day 20 of the partner's 90 exclusive days, or not an either-model
    # Marketing: the parent may market to a partner-owned renewal's customer only when allowed.
    allowed = s["partner"].agreement.renewal_parent_marketing
    assert seen["parent_may_market"] == (s["renewal"].owner_side != OwnerSide.PARTNER or allowed)


@pytest.mark.parametrize(
    ("offset", "expected"), [(1, 403), (0, 200), (-1, 200)], ids=["day-before", "day-of", "day-after"]
)
def test_pursue_follows_the_exclusive_window_to_the_day(catalogue, offset, expected):
    # The parent may pursue from term end − 30 days (90 exclusive days after T-120).
    s = scenario(catalogue, BusinessModel.DUAL, days_left=30 + offset)
    renewal = s["renewal"]
    assert renewal.parent_may_pursue_from == timezone.localdate() + datetime.timedelta(days=offset)
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[s["partner"]])
    api = api_as(manager)
    queue = {row["id"] for row in api.get("/api/v1/renewals/?parent_queue=true").json()["results"]}
    assert (renewal.pk in queue) == (expected == 200)
    response = api.post(f"/api/v1/renewals/{renewal.pk}/pursue/", {}, format="json")
    assert response.status_code == expected, response.json()
    renewal.refresh_from_db()
    told = Notification.objects.filter(kind="renewals.pursued", recipient=s["admin"])
    if expected == 403:
        # Nothing half-written: no pursuit, no audit event, nobody told.
        assert renewal.pursued_by_parent_at is None and not told.exists()
        assert not AuditEvent.objects.filter(verb="renewal.pursue").exists()
        assert api.post(f"/api/v1/renewals/{renewal.pk}/quote/", {}, format="json").status_code == 403
    else:
        assert renewal.pursued_by_parent_at is not None and told.count() == 1
        # Then the parent works it too, and whoever closes it is recorded.
        assert api.post(f"/api/v1/renewals/{renewal.pk}/quote/", {}, format="json").status_code == 201


def test_a_timing_rule_holds_the_parent_back_after_the_window(catalogue):
    s = scenario(catalogue, BusinessModel.DUAL, days_left=30)
    TimingRule.objects.create(name="Give partners a week", wait_days_after_window=7)
    api = api_as(parent_user(ParentRole.SALES))
    response = api.post(f"/api/v1/renewals/{s['renewal'].pk}/pursue/", {}, format="json")
    assert response.status_code == 403 and "Give partners a week" in response.json()["detail"]


def test_the_parent_closes_a_parent_owned_renewal_and_the_referral_partner_earns(
    catalogue, django_capture_on_commit_callbacks
):
    s = scenario(catalogue, BusinessModel.REFERRAL, days_left=60)
    desk = parent_user(ParentRole.SALES)
    response = api_as(desk).post(f"/api/v1/renewals/{s['renewal'].pk}/quote/", {}, format="json")
    assert response.status_code == 201
    quote = quote_services.quote_send(user=desk, quote=s["renewal"].partner.quotes.get(pk=response.json()["id"]))
    quote_services.quote_accept(user=desk, quote=quote)
    order = quote_services.order_create_from_quote(user=desk, quote=quote)
    with django_capture_on_commit_callbacks(execute=True):
        quote_services.order_submit(user=desk, order=order)
    renewal = Renewal.objects.get(pk=s["renewal"].pk)
    assert renewal.status == RenewalStatus.RENEWED and renewal.closed_by_side == "parent"
    entry = Commission.objects.get(partner=s["partner"], source=CommissionSource.RENEWAL)
    assert entry.amount == Decimal("22.50")  # 5% of 450.00
    # The referral partner sees the status (renewed), not the values.
    seen = api_as(s["admin"]).get(f"/api/v1/renewals/{renewal.pk}/").json()
    assert seen["status"] == "renewed" and seen["renewed_value"] is None


def test_a_partner_owned_renewal_earns_no_renewal_commission(catalogue, django_capture_on_commit_callbacks):
    s = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=60)
    quote = quote_services.quote_send(
        user=s["admin"],
        quote=s["partner"].quotes.get(
            pk=api_as(s["admin"]).post(f"/api/v1/renewals/{s['renewal'].pk}/quote/", {}, format="json").json()["id"]
        ),
    )
    quote_services.quote_accept(user=s["admin"], quote=quote)
    order = quote_services.order_create_from_quote(user=s["admin"], quote=quote)
    with django_capture_on_commit_callbacks(execute=True):
        quote_services.order_submit(user=s["admin"], order=order)
    assert Renewal.objects.get(pk=s["renewal"].pk).status == RenewalStatus.RENEWED
    assert not Commission.objects.filter(source=CommissionSource.RENEWAL).exists()


def test_bad_input_is_a_400_and_writes_nothing(catalogue):
    s = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=100)
    api = api_as(s["admin"])
    url = f"/api/v1/renewals/{s['renewal'].pk}/"
    stranger = partner_user(make_partner(catalogue), PartnerRole.REP)
    support = partner_user(s["partner"], PartnerRole.SUPPORT)
    cases = [
        ("mark-lapsed", {"reason": "bored"}, "reason"),
        ("mark-lapsed", {"reason": "other"}, "note"),
        ("assign", {"assignee": stranger.pk}, "assignee"),
        ("assign", {"assignee": support.pk}, "assignee"),
        ("assign", {"assignee": 999999}, "assignee"),
        ("quote", {"quantities": {str(catalogue["vm"].pk): -1}}, "quantities"),
        ("quote", {"quantities": {str(catalogue["disk"].pk): 3}}, "quantities"),
        ("quote", {"add_products": [catalogue["disk"].pk]}, "add_products"),
        ("quote", {"unknown": 1}, "unknown"),
    ]
    for name, payload, field in cases:
        response = api.post(f"{url}{name}/", payload, format="json")
        assert response.status_code == 400 and field in response.json(), (name, payload, response.json())
    renewal = Renewal.objects.get(pk=s["renewal"].pk)
    assert renewal.status == RenewalStatus.OPEN and renewal.assigned_to is None and renewal.quote is None
    assert not s["partner"].quotes.exists()
    # A negative uplift in the agreement is refused too.
    admin = api_as(parent_user(ParentRole.ADMIN, superuser=True))
    response = admin.patch(
        f"/api/v1/partners/{s['partner'].pk}/agreement/", {"renewal_uplift_percent": "-5"}, format="json"
    )
    assert response.status_code == 400 and "renewal_uplift_percent" in response.json()
    s["partner"].agreement.refresh_from_db()
    assert s["partner"].agreement.renewal_uplift_percent == Decimal("5.00")


def test_assign_and_mark_lapsed(catalogue):
    s = scenario(catalogue, BusinessModel.WHITE_LABEL, days_left=100)
    rep = partner_user(s["partner"], PartnerRole.REP)
    api = api_as(s["admin"])
    url = f"/api/v1/renewals/{s['renewal'].pk}/"
    assert api.post(f"{url}assign/", {"assignee": rep.pk}, format="json").json()["assigned_to"] == rep.pk
    # The rep now sees the renewal assigned to them; a rep may not reassign it.
    rep_api = api_as(rep)
    assert rep_api.get(url).status_code == 200
    assert rep_api.post(f"{url}assign/", {"assignee": s["admin"].pk}, format="json").status_code == 403
    lapsed = rep_api.post(f"{url}mark-lapsed/", {"reason": "competitor", "note": "Cheaper offer"}, format="json")
    assert lapsed.status_code == 200 and lapsed.json()["status"] == "lapsed"
    assert api.post(f"{url}mark-lapsed/", {"reason": "budget"}, format="json").status_code == 400


@pytest.mark.parametrize("resource", ["contracts", "renewals"])
def test_list_query_count_is_constant_in_page_size(catalogue, resource):
    partner = make_partner(catalogue, BusinessModel.DUAL)
    admin = partner_user(partner, PartnerRole.ADMIN)
    today = timezone.localdate()
    for days in range(30):
        contract_for(
            partner, customer_of(partner), product=catalogue["vm"], term_end=today + datetime.timedelta(days=days + 1)
        )
    from renewals.services import renewals_open_due

    renewals_open_due()
    api = api_as(admin)
    api.get(f"/api/v1/{resource}/?page_size=1")

    def count(size):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/api/v1/{resource}/?page_size={size}")
        assert len(response.json()["results"]) == size
        return len(queries)

    assert count(5) == count(25)


def test_a_timing_rule_waits_after_the_partners_last_quote(catalogue):
    s = scenario(catalogue, BusinessModel.DUAL, days_left=20)  # window closed ten days ago
    TimingRule.objects.create(name="Not while the partner is quoting", not_within_days_of_partner_activity=14)
    api = api_as(parent_user(ParentRole.SALES))
    url = f"/api/v1/renewals/{s['renewal'].pk}/pursue/"
    assert api.post(url, {}, format="json").status_code == 200  # the partner has not worked it
    other = scenario(catalogue, BusinessModel.DUAL, days_left=20)
    assert (
        api_as(other["admin"]).post(f"/api/v1/renewals/{other['renewal'].pk}/quote/", {}, format="json").status_code
        == 201
    )
    refused = api.post(f"/api/v1/renewals/{other['renewal'].pk}/pursue/", {}, format="json")
    assert refused.status_code == 403 and "Not while the partner is quoting" in refused.json()["detail"]


def test_the_partners_quote_still_renews_after_the_parent_quoted_too(catalogue, django_capture_on_commit_callbacks):
    s = scenario(catalogue, BusinessModel.DUAL, days_left=20)
    desk = parent_user(ParentRole.SALES)
    partner_quote = api_as(s["admin"]).post(f"/api/v1/renewals/{s['renewal'].pk}/quote/", {}, format="json").json()
    assert api_as(desk).post(f"/api/v1/renewals/{s['renewal'].pk}/pursue/", {}, format="json").status_code == 200
    assert api_as(desk).post(f"/api/v1/renewals/{s['renewal'].pk}/quote/", {}, format="json").status_code == 201
    # The customer accepts the partner's (earlier) quote: the partner closes the renewal.
    quote = s["partner"].quotes.get(pk=partner_quote["id"])
    quote = quote_services.quote_send(user=s["admin"], quote=quote)
    quote = quote_services.quote_accept(user=s["admin"], quote=quote)
    order = quote_services.order_create_from_quote(user=s["admin"], quote=quote)
    with django_capture_on_commit_callbacks(execute=True):
        quote_services.order_submit(user=s["admin"], order=order)
    renewal = Renewal.objects.get(pk=s["renewal"].pk)
    assert renewal.status == RenewalStatus.RENEWED and renewal.closed_by_side == "partner" and renewal.order == order
    assert Contract.objects.get(pk=s["contract"].pk).term_number == 2


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_who_earns_when_the_working_side_renews(catalogue, business_model, django_capture_on_commit_callbacks):
    s = scenario(catalogue, business_model, days_left=25)
    desk = parent_user(ParentRole.SALES)
    worker = s["admin"] if business_model in PARTNER_WORKS else desk
    response = api_as(worker).post(f"/api/v1/renewals/{s['renewal'].pk}/quote/", {}, format="json")
    assert response.status_code == 201
    quote = s["partner"].quotes.get(pk=response.json()["id"])
    quote = quote_services.quote_send(user=worker, quote=quote)
    quote = quote_services.quote_accept(user=worker, quote=quote)
    order = quote_services.order_create_from_quote(user=worker, quote=quote)
    with django_capture_on_commit_callbacks(execute=True):
        quote_services.order_submit(user=worker, order=order)
    renewal = Renewal.objects.get(pk=s["renewal"].pk)
    assert renewal.status == RenewalStatus.RENEWED
    assert renewal.closed_by_side == ("partner" if worker is s["admin"] else "parent")
    agreement = s["partner"].agreement
    earned = Commission.objects.filter(partner=s["partner"], source=CommissionSource.RENEWAL)
    assert earned.exists() == agreement.renewal_commission
    if agreement.renewal_commission:
        assert earned.get().amount == (order.total * agreement.renewal_commission_rate / 100).quantize(Decimal("0.01"))
    # A renewal is not new business: no closed-deal commission stays accrued for its order.
    closed_deal = Commission.objects.filter(partner=s["partner"], source=CommissionSource.CLOSED_DEAL)
    assert not closed_deal.exclude(status="reversed").exists()


def test_cancelling_a_contract_cancels_its_open_renewal(catalogue):
    s = scenario(catalogue, BusinessModel.REGISTRATION_RETENTION, days_left=40)
    from renewals.services import contract_cancel

    with pytest.raises(PermissionDenied):
        contract_cancel(user=s["admin"], contract=s["contract"], reason="Terminated")
    with pytest.raises(ValidationError):
        contract_cancel(user=parent_user(ParentRole.SALES), contract=s["contract"], reason=" ")
    contract_cancel(user=parent_user(ParentRole.SALES), contract=s["contract"], reason="Customer terminated")
    renewal = Renewal.objects.get(pk=s["renewal"].pk)
    assert renewal.status == RenewalStatus.CANCELLED and renewal.outcome == "cancelled"
    assert Contract.objects.get(pk=s["contract"].pk).status == "cancelled"
