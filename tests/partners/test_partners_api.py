import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Membership, Partner, PartnerStatus
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import PartnerFactory, parent_user, partner_user

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_partner_user_sees_only_own_partner(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    other = PartnerFactory()
    client = api_as(partner_user(mine, role))
    assert ids(client.get("/api/v1/partners/")) == {mine.pk}
    url = f"/api/v1/partners/{other.pk}/"
    for method in ("get", "put", "patch", "delete"):
        assert getattr(client, method)(url, {}).status_code == 404, method
    for action in ("transition", "agreement"):
        assert client.post(f"{url}{action}/", {"status": "suspended"}).status_code == 404
        assert client.patch(f"{url}{action}/", {"commission_rate": "99"}).status_code in (404, 405)
    other.refresh_from_db()
    assert other.status == PartnerStatus.ACTIVE


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_people_are_404(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    other = PartnerFactory()
    me = partner_user(mine, role)
    stranger = Membership.objects.get(user=partner_user(other, PartnerRole.ADMIN))
    client = api_as(me)
    listed = ids(client.get("/api/v1/partner-users/"))
    assert me.membership.pk in listed and stranger.pk not in listed
    url = f"/api/v1/partner-users/{stranger.pk}/"
    assert client.get(url).status_code == 404
    assert client.put(url, {"role": "rep"}).status_code == 404
    assert client.patch(url, {"is_active": False}).status_code == 404
    assert client.delete(url).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active and stranger.role == PartnerRole.ADMIN


def test_channel_manager_sees_only_granted_partners(partner_a, partner_b):
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    client = api_as(manager)
    assert ids(client.get("/api/v1/partners/")) == {partner_a.pk}
    assert client.get(f"/api/v1/partners/{partner_b.pk}/").status_code == 404
    assert client.post(f"/api/v1/partners/{partner_b.pk}/transition/", {"status": "suspended"}).status_code == 404
    response = client.post(f"/api/v1/partners/{partner_a.pk}/transition/", {"status": "suspended", "reason": "audit"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "suspended"


def test_parent_admin_and_fraud_analyst_see_every_partner(partner_a, partner_b, parent_admin):
    analyst = parent_user(ParentRole.FRAUD_ANALYST)
    for user in (parent_admin, analyst):
        assert ids(api_as(user).get("/api/v1/partners/")) >= {partner_a.pk, partner_b.pk}


def test_fraud_analyst_may_see_but_not_change(partner_a):
    analyst = parent_user(ParentRole.FRAUD_ANALYST)
    response = api_as(analyst).post(f"/api/v1/partners/{partner_a.pk}/transition/", {"status": "suspended"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    "current, target, ok",
    [
        (PartnerStatus.APPLIED, PartnerStatus.ONBOARDING, True),
        (PartnerStatus.APPLIED, PartnerStatus.ACTIVE, False),
        (PartnerStatus.ONBOARDING, PartnerStatus.ACTIVE, True),
        (PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED, True),
        (PartnerStatus.SUSPENDED, PartnerStatus.ACTIVE, True),
        (PartnerStatus.ACTIVE, PartnerStatus.APPLIED, False),
        (PartnerStatus.TERMINATED, PartnerStatus.ACTIVE, False),
        (PartnerStatus.SUSPENDED, PartnerStatus.TERMINATED, True),
    ],
)
def test_partner_status_machine(parent_admin, current, target, ok):
    partner = PartnerFactory(status=current)
    response = api_as(parent_admin).post(f"/api/v1/partners/{partner.pk}/transition/", {"status": target})
    partner.refresh_from_db()
    if ok:
        assert response.status_code == 200
        assert partner.status == target
        assert AuditEvent.objects.filter(verb=f"partner.{target}", object_id=str(partner.pk)).exists()
    else:
        assert response.status_code == 400
        assert "status" in response.json()
        assert partner.status == current


def test_agreement_override_is_audited_and_listed(partner_a, parent_admin):
    url = f"/api/v1/partners/{partner_a.pk}/agreement/"
    response = api_as(parent_admin).patch(url, {"service_model": "either", "reason": "pilot"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["overrides"] == ["service_model"]
    event = AuditEvent.objects.get(verb="agreement.override")
    assert event.changes == {"service_model": ["partner_only", "either"]}
    assert event.reason == "pilot"


def test_agreement_bad_input(partner_a, parent_admin):
    url = f"/api/v1/partners/{partner_a.pk}/agreement/"
    client = api_as(parent_admin)
    assert "service_model" in client.patch(url, {"service_model": "nobody"}).json()
    assert "commission_rate" in client.patch(url, {"commission_rate": "150"}).json()
    assert "bogus" in client.patch(url, {"bogus": 1}).json()
    partner_a.agreement.refresh_from_db()
    assert partner_a.agreement.service_model == "partner_only"
    assert not AuditEvent.objects.filter(verb="agreement.override").exists()


def test_partner_admin_cannot_change_own_agreement(partner_a, admin_a):
    response = api_as(admin_a).patch(f"/api/v1/partners/{partner_a.pk}/agreement/", {"commission_rate": "50"})
    assert response.status_code == 403


def test_create_partner_applies_preset(parent_admin):
    response = api_as(parent_admin).post(
        "/api/v1/partners/",
        {"name": "New Co", "slug": "new-co", "business_model": "white_label", "country": "NL", "territories": ["NL"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    partner = Partner.objects.get(slug="new-co")
    assert partner.status == PartnerStatus.APPLIED
    assert partner.agreement.quote_access == "self_service_branded"
    assert list(partner.territories.values_list("country", flat=True)) == ["NL"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"slug": "x", "business_model": "referral", "country": "US"}, "name"),
        ({"name": "X", "slug": "bad slug!", "business_model": "referral", "country": "US"}, "slug"),
        ({"name": "X", "slug": "x", "business_model": "pyramid", "country": "US"}, "business_model"),
        ({"name": "X", "slug": "x", "business_model": "referral", "country": "usa"}, "country"),
        ({"name": "X" * 201, "slug": "x", "business_model": "referral", "country": "US"}, "name"),
        (
            {"name": "X", "slug": "x", "business_model": "referral", "country": "US", "credit_limit": "abc"},
            "credit_limit",
        ),
    ],
)
def test_create_partner_bad_input(parent_admin, payload, field):
    before = Partner.objects.count()
    response = api_as(parent_admin).post("/api/v1/partners/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Partner.objects.count() == before


def test_only_parent_admin_creates_partners(partner_a, admin_a):
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    payload = {"name": "X", "slug": "x", "business_model": "referral", "country": "US"}
    assert api_as(manager).post("/api/v1/partners/", payload).status_code == 403
    assert api_as(admin_a).post("/api/v1/partners/", payload).status_code == 403


def test_partner_admin_invites_and_deactivates(
    partner_a, admin_a, mailoutbox, settings, django_capture_on_commit_callbacks
):
    client = api_as(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/partner-users/", {"username": "newbie", "email": "newbie@alpha.test", "role": "support"}
        )
    assert response.status_code == 201, response.json()
    membership = Membership.objects.get(pk=response.json()["id"])
    assert membership.partner == partner_a and membership.role == "support"
    assert not membership.user.has_usable_password()
    membership.refresh_from_db()
    assert membership.invitation_sent_at is not None
    assert len(mailoutbox) == 1 and "newbie" in mailoutbox[0].body
    response = client.patch(f"/api/v1/partner-users/{membership.pk}/", {"is_active": False})
    assert response.status_code == 200
    membership.user.refresh_from_db()
    assert membership.user.is_active is False
    assert AuditEvent.objects.filter(verb="membership.deactivate").exists()


def test_rep_cannot_invite(partner_a, rep_a):
    response = api_as(rep_a).post("/api/v1/partner-users/", {"username": "x", "email": "x@x.test"})
    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="x").exists()


def test_invite_bad_input(partner_a, admin_a):
    client = api_as(admin_a)
    assert "email" in client.post("/api/v1/partner-users/", {"username": "y", "email": "nope"}).json()
    assert "username" in client.post("/api/v1/partner-users/", {"username": "alpha-rep", "email": "a@b.test"}).json()
    assert (
        "role" in client.post("/api/v1/partner-users/", {"username": "z", "email": "z@b.test", "role": "boss"}).json()
    )
    assert not Membership.objects.filter(user__username__in=["y", "z"]).exists()


def test_last_admin_cannot_be_removed(partner_a, admin_a):
    response = api_as(admin_a).patch(f"/api/v1/partner-users/{admin_a.membership.pk}/", {"role": "rep"})
    assert response.status_code == 400


def test_me(partner_a, rep_a, parent_admin):
    body = api_as(rep_a).get("/api/v1/me/").json()
    assert body["kind"] == "partner" and body["role"] == "rep" and body["partner"]["slug"] == "alpha"
    body = api_as(parent_admin).get("/api/v1/me/").json()
    assert body["kind"] == "parent" and body["partner"] is None and "Admin" in body["parent_roles"]


def test_token_auth(partner_a, rep_a, api):
    response = api.post("/api/v1/auth/token/", {"username": "alpha-rep", "password": "test-pass-2026"})
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").json()["username"] == "alpha-rep"
    bad = api.post("/api/v1/auth/token/", {"username": "alpha-rep", "password": "wrong"})
    assert bad.status_code == 400 and "non_field_errors" in bad.json()


def test_deactivated_user_loses_api_access(partner_a, admin_a, rep_a, api):
    token = api.post("/api/v1/auth/token/", {"username": "alpha-rep", "password": "test-pass-2026"}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/customers/").status_code == 200
    api_as(admin_a).patch(f"/api/v1/partner-users/{rep_a.membership.pk}/", {"is_active": False})
    assert api.get("/api/v1/customers/").status_code == 401


@pytest.mark.parametrize(
    "url, make",
    [
        ("/api/v1/partners/", lambda n: [PartnerFactory() for _ in range(n)]),
        (
            "/api/v1/partner-users/",
            lambda n: [partner_user(Partner.objects.get(slug="alpha"), PartnerRole.REP) for _ in range(n)],
        ),
        ("/api/v1/products/", lambda n: __import__("tests.factories").factories.ProductFactory.create_batch(n)),
    ],
)
def test_list_query_counts_do_not_grow_with_page_size(partner_a, parent_admin, url, make):
    make(55)
    client = api_as(parent_admin)
    counts = {}
    for size in (1, 50):
        client.get(f"{url}?page_size=1")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?page_size={size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts[size] = len(queries)
    assert counts[1] == counts[50], counts


def test_page_size_is_capped(parent_admin):
    from tests.factories import ProductFactory

    ProductFactory.create_batch(105)
    response = api_as(parent_admin).get("/api/v1/products/?page_size=1000")
    assert response.status_code == 200
    assert response.json()["count"] == 105 and len(response.json()["results"]) == 100


def test_filters_and_search(parent_admin):
    PartnerFactory(name="Zeta Resellers", business_model=BusinessModel.REFERRAL, country="DE")
    PartnerFactory(name="Eta Labels", business_model=BusinessModel.WHITE_LABEL, country="FR")
    client = api_as(parent_admin)
    names = lambda r: [row["name"] for row in r.json()["results"]]  # noqa: E731
    assert names(client.get("/api/v1/partners/?business_model=referral")) == ["Zeta Resellers"]
    assert names(client.get("/api/v1/partners/?search=eta labels")) == ["Eta Labels"]
    assert names(client.get("/api/v1/partners/?country=fr")) == ["Eta Labels"]
    assert client.get("/api/v1/partners/?business_model=pyramid").status_code == 400


@pytest.mark.parametrize("status", [PartnerStatus.SUSPENDED, PartnerStatus.TERMINATED])
def test_people_of_a_suspended_or_terminated_partner_lose_access(partner_a, admin_a, parent_admin, status):
    from django.test import Client

    from partners.services import partner_transition

    partner_transition(user=parent_admin, partner=partner_a, status=status)
    admin_a.refresh_from_db()  # a new request: the actor is resolved again
    response = api_as(admin_a).get("/api/v1/customers/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert api_as(admin_a).get("/api/v1/me/").status_code == 403
    client = Client()
    client.force_login(admin_a)
    page = client.get("/portal/customers/")
    assert page.status_code == 403 and status in page.content.decode()


def test_reactivated_partner_gets_access_back(partner_a, admin_a, parent_admin):
    from partners.services import partner_transition

    partner_transition(user=parent_admin, partner=partner_a, status=PartnerStatus.SUSPENDED)
    partner_transition(user=parent_admin, partner=partner_a, status=PartnerStatus.ACTIVE)
    admin_a.refresh_from_db()
    assert api_as(admin_a).get("/api/v1/customers/").status_code == 200


def test_suspended_white_label_partner_page_keeps_its_own_brand(settings, parent_admin):
    from django.test import Client

    from partners.services import partner_transition

    partner = PartnerFactory(business_model=BusinessModel.WHITE_LABEL, display_name="Label Cloud")
    user = partner_user(partner, PartnerRole.REP)
    partner_transition(user=parent_admin, partner=partner, status=PartnerStatus.SUSPENDED)
    client = Client()
    client.force_login(user)
    body = client.get("/portal/").content.decode()
    assert "Label Cloud" in body and settings.PARENT_COMPANY_NAME not in body
