"""Items 2, 6, 8, 9, 10, 11 and 13 of issue 14: nothing leaks between colleagues, to a partner about the
parent or other partners, or to a referral partner beyond what its agreement shows."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from cases import services as case_services
from deals import services as deal_services
from deals.models import DealRegistration, Opportunity
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import CustomerRelationship, Membership, RelationshipKind
from tests.cases.conftest import people
from tests.conftest import api_as
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user
from tests.factories.deals import OpportunityFactory, registration_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent_support(db):
    return parent_user(ParentRole.SUPPORT, username="psupport", email="psupport@example.test")


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# 2. Commissions follow the visibility of what they pay for -------------------------------------------


@pytest.fixture
def dual_team(db):
    partner = PartnerFactory(slug="tail", business_model=BusinessModel.DUAL)
    me = partner_user(partner, PartnerRole.REP, username="tail-rep")
    colleague = partner_user(partner, PartnerRole.REP, username="tail-rep-2")
    admin = partner_user(partner, PartnerRole.ADMIN, username="tail-admin")
    mine = OpportunityFactory(partner=partner, owner=me, name="My Deal", amount=Decimal("1000.00"))
    theirs = OpportunityFactory(
        partner=partner, owner=colleague, name="Secret Colleague Deal", customer=customer_of(partner, owner=colleague)
    )
    finance = parent_user(ParentRole.FINANCE, username="tail-finance")
    for opportunity in (mine, theirs):
        deal_services.opportunity_mark_won(user=admin, opportunity=opportunity, amount=Decimal("77777.00"))
        # A win without an order accrues once finance verifies it.
        deal_services.opportunity_verify_win(user=finance, opportunity=opportunity)
    return {"partner": partner, "me": me, "colleague": colleague, "admin": admin, "mine": mine, "theirs": theirs}


def test_a_rep_sees_commissions_only_on_what_it_may_see(dual_team):
    me, theirs = dual_team["me"], dual_team["theirs"]
    assert api_as(me).get(f"/api/v1/opportunities/{theirs.pk}/").status_code == 404
    body = api_as(me).get("/api/v1/commissions/").json()
    refs = {row["source_ref"] for row in body["results"]} if "source_ref" in str(body) else None
    text = str(body)
    assert "Secret Colleague Deal" not in text and theirs.customer.legal_name not in text
    assert body["count"] == 1, refs
    page = portal(me).get("/portal/deals/commissions/").content.decode()
    assert "Secret Colleague Deal" not in page and theirs.customer.legal_name not in page
    assert "My Deal" in page
    # The admin sees the partner's whole ledger.
    assert api_as(dual_team["admin"]).get("/api/v1/commissions/").json()["count"] == 2


def test_commission_totals_follow_the_rows(dual_team):
    page = portal(dual_team["me"]).get("/portal/deals/commissions/").content.decode()
    one, both = "6,222.16", "12,444.32"  # 8% of 77,777.00 once, twice
    assert (one in page or "6222.16" in page) and both not in page and "12444.32" not in page


# 6. The activity feed shows a partner admin its own people only ----------------------------------------


def test_home_feed_hides_the_parents_people_and_their_internal_notes(parent_support):
    partner = PartnerFactory(slug="tail", business_model=BusinessModel.DUAL)
    admin = partner_user(partner, PartnerRole.ADMIN, username="tail-admin")
    agent, rep, customer = people(partner)
    case = case_services.case_open(user=agent, customer=customer, origin="email", category="technical", subject="S")
    case = case_services.case_escalate(user=agent, case=case, reason="complex")
    case_services.case_comment_add(user=parent_support, case=case, body="bug 4711", visibility="parent_internal")
    page = portal(admin).get("/portal/").content.decode()
    assert "psupport" not in page and "parent_internal" not in page
    assert agent.username in page  # its own people's work is there


# 8. Submissions share the pre-check's budget -----------------------------------------------------------


def test_after_the_pre_check_limit_a_submission_cannot_answer_the_same_question(settings, monkeypatch):
    monkeypatch.setitem(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "precheck", "3/minute")
    partner = PartnerFactory(slug="tail", business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP, username="tail-rep")
    client = api_as(rep)
    check = {"customer_name": "Acme", "customer_country": "US"}
    codes = [client.post("/api/v1/deal-registrations/pre-check/", check).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    before = DealRegistration.objects.count()
    product = __import__("tests.factories", fromlist=["ProductFactory"]).ProductFactory()
    body = {
        "customer_name": "Acme",
        "customer_country": "US",
        "estimated_value": "1000.00",
        "expected_close_date": "2030-01-01",
        "lines": [{"product": product.pk, "quantity": 1}],
        "submit": True,
    }
    response = client.post("/api/v1/deal-registrations/", body, format="json")
    assert response.status_code == 429 and "has_conflict" not in response.json()
    assert DealRegistration.objects.count() == before  # nothing half-written
    # A draft can still be saved; submitting it is what asks the question.
    draft = client.post("/api/v1/deal-registrations/", body | {"submit": False}, format="json")
    assert draft.status_code == 201
    assert client.post(f"/api/v1/deal-registrations/{draft.json()['id']}/submit/").status_code == 429
    cache.clear()
    assert client.post(f"/api/v1/deal-registrations/{draft.json()['id']}/submit/").status_code == 200


def test_portal_submission_over_the_budget_is_a_429(settings, monkeypatch):
    monkeypatch.setitem(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "precheck", "1/minute")
    partner = PartnerFactory(slug="tail", business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP, username="tail-rep")
    draft = registration_of(rep, submit=False)
    registration_of(rep, name="Other", domain="other.example", submit=True)  # spends the budget
    response = portal(rep).post(f"/portal/deals/registrations/{draft.pk}/submit/")
    assert response.status_code == 429


# 9. Invitations reveal nothing about accounts elsewhere ---------------------------------------------------


@pytest.fixture
def two_partners(db):
    alpha = PartnerFactory(slug="alpha")
    bravo = PartnerFactory(slug="bravo")
    admin = partner_user(alpha, PartnerRole.ADMIN, username="alpha-admin")
    partner_user(bravo, PartnerRole.REP, username="bob", email="bob@shared.example")
    parent_user(ParentRole.SUPPORT, username="psupport", email="psupport@helios.example")
    return alpha, bravo, admin


@pytest.mark.parametrize(
    "username, email",
    [
        ("bob", "new1@alpha.example"),  # a bravo user's username
        ("psupport", "new2@alpha.example"),  # a parent staff username
        ("new3", "bob@shared.example"),  # a bravo user's email
        ("new4", "psupport@helios.example"),  # a parent staff email
    ],
)
def test_inviting_an_existing_account_elsewhere_reads_like_a_fresh_invitation(two_partners, username, email):
    alpha, _, admin = two_partners
    response = api_as(admin).post("/api/v1/partner-users/", {"username": username, "email": email})
    assert response.status_code == 201, response.json()
    created = Membership.objects.get(pk=response.json()["id"])
    assert created.partner == alpha and created.user.username == f"alpha-{username}"


def test_inviting_someone_already_in_the_partner_is_refused(two_partners):
    _, _, admin = two_partners
    client = api_as(admin)
    assert (
        "username" in client.post("/api/v1/partner-users/", {"username": "alpha-admin", "email": "x@a.example"}).json()
    )
    first = client.post("/api/v1/partner-users/", {"username": "carol", "email": "carol@a.example"})
    assert first.status_code == 201
    again = client.post("/api/v1/partner-users/", {"username": "carol2", "email": "CAROL@a.example"})
    assert again.status_code == 400 and "email" in again.json()


def test_portal_invite_uses_the_namespace_too(two_partners):
    alpha, _, admin = two_partners
    response = portal(admin).post("/portal/team/", {"username": "psupport", "email": "p@alpha.example", "role": "rep"})
    assert response.status_code == 302
    assert Membership.objects.filter(partner=alpha, user__username="alpha-psupport").exists()


# 10. A channel manager never sees partners it does not manage -----------------------------------------


def test_channel_manager_does_not_see_unmanaged_partners_on_a_customer(db):
    managed = PartnerFactory(slug="managed", name="Managed Partners")
    unmanaged = PartnerFactory(slug="hidden", name="Hidden Partners")
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[managed], username="cm")
    customer = customer_of(managed)
    customer.owner_partner = unmanaged
    customer.save()
    CustomerRelationship.objects.create(customer=customer, partner=unmanaged, kind=RelationshipKind.SERVICING)
    body = api_as(manager).get(f"/api/v1/customers/{customer.pk}/").json()
    assert [r["partner"] for r in body["relationships"]] == ["managed"]
    assert body["owner_partner"] is None
    listed = api_as(manager).get("/api/v1/customers/").json()["results"]
    assert "hidden" not in str(listed)
    page = portal(manager).get(f"/portal/customers/{customer.pk}/").content.decode()
    assert "Hidden Partners" not in page, page[page.find("Hidden Partners") - 300 :][:400]


# 11. next= stays on the site ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:evil.example"]
)
def test_next_never_redirects_off_site(target):
    partner = PartnerFactory(slug="alpha")
    admin = partner_user(partner, PartnerRole.ADMIN, username="alpha-admin")
    rep = partner_user(partner, PartnerRole.REP, username="alpha-rep")
    registration = registration_of(rep, submit=False)
    response = portal(admin).post(f"/portal/team/{rep.membership.pk}/", {"role": "manager", "next": target})
    assert response.status_code == 302
    assert "evil" not in response["Location"]
    response = portal(rep).post(f"/portal/deals/registrations/{registration.pk}/submit/", {"next": target})
    assert response.status_code == 302 and "evil" not in response["Location"]


def test_next_on_the_site_still_works():
    partner = PartnerFactory(slug="alpha")
    admin = partner_user(partner, PartnerRole.ADMIN, username="alpha-admin")
    rep = partner_user(partner, PartnerRole.REP, username="alpha-rep")
    response = portal(admin).post(f"/portal/team/{rep.membership.pk}/", {"role": "support", "next": "/portal/"})
    assert response["Location"] == "/portal/"


def test_no_view_redirects_to_a_raw_parameter():
    """Lint: every `next` goes through prm.security.redirects.safe_next."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"redirect\(\s*(request\.(POST|GET)|nxt|next_url|target)")
    offenders = [
        str(path.relative_to(root))
        for app in ("partners", "deals", "quotes", "cases", "mdf", "renewals", "analytics", "prm")
        for path in (root / app).rglob("*.py")
        if pattern.search(path.read_text()) and path.name != "redirects.py"
    ]
    assert offenders == []


# 13. A referral partner sees the status of what it referred, and its own commission -------------------------


@pytest.fixture
def referral(db):
    partner = PartnerFactory(slug="north", business_model=BusinessModel.REFERRAL)
    rep = partner_user(partner, PartnerRole.REP, username="north-rep")
    sales = parent_user(ParentRole.SALES, username="parent-sales")
    registration = registration_of(rep, name="Referred Co", value="54321.00")
    deal_services.deal_registration_approve(user=sales, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    opportunity.amount, opportunity.probability, opportunity.owner = Decimal("98765.00"), 40, sales
    opportunity.expected_close_date = __import__("datetime").date(2031, 3, 4)
    opportunity.save()
    return partner, rep, sales, opportunity


def test_referral_partner_sees_status_only_in_the_api(referral):
    partner, rep, sales, opportunity = referral
    for row in (
        api_as(rep).get("/api/v1/opportunities/").json()["results"][0],
        api_as(rep).get(f"/api/v1/opportunities/{opportunity.pk}/").json(),
    ):
        assert row["stage"] == opportunity.stage and row["id"] == opportunity.pk
        for hidden in ("amount", "probability", "expected_close_date", "owner"):
            assert row[hidden] is None, hidden
    # Its own commission stays visible.
    assert api_as(rep).get("/api/v1/commissions/").json()["count"] == 1
    # Other partners see their figures.
    assert api_as(sales).get(f"/api/v1/opportunities/{opportunity.pk}/").json()["amount"] == "98765.00"


def test_referral_partner_sees_status_only_in_the_portal(referral):
    partner, rep, sales, opportunity = referral
    for url in ("/portal/deals/pipeline/", f"/portal/deals/opportunities/{opportunity.pk}/"):
        page = portal(rep).get(url).content.decode()
        assert "Referred Co" in page or opportunity.name in page
        for secret in ("98765", "98,765", "40%", "2031", "parent-sales"):
            assert secret not in page, (url, secret)
    assert "98765" in portal(sales).get(f"/portal/deals/opportunities/{opportunity.pk}/").content.decode()
