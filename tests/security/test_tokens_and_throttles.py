"""Items 7 and 12 of issue 14: API tokens expire, are stored hashed, listed and revoked in the portal,
and die on a password change, a deactivation or the partner's suspension; throttles and lockouts key on
the real client address (not a header the client picks) and on the account, and answer 429."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from partners import services as partner_services
from partners.access import ParentRole, PartnerRole
from tests.conftest import api_as
from tests.factories import PartnerFactory, parent_user, partner_user

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
PASSWORD = "test-pass-2026"


@pytest.fixture
def partner(db):
    return PartnerFactory(slug="alpha")


@pytest.fixture
def rep(partner):
    return partner_user(partner, PartnerRole.REP, username="alpha-rep")


def get_token(username="alpha-rep", password=PASSWORD, **extra):
    return APIClient().post(TOKEN, {"username": username, "password": password}, **extra)


def with_token(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# 12. Tokens ---------------------------------------------------------------------------------------


def test_the_contract_holds_and_the_store_keeps_only_a_digest(rep):
    from knox.models import AuthToken  # here, so the other tests also run on a tree without knox

    response = get_token()
    assert response.status_code == 200
    token = response.json()["token"]
    assert with_token(token).get("/api/v1/me/").json()["username"] == "alpha-rep"
    stored = AuthToken.objects.get(user=rep)
    assert token not in (stored.digest, stored.token_key) and stored.token_key == token[: len(stored.token_key)]
    assert stored.expiry is not None


def test_a_token_expires(rep):
    from knox.models import AuthToken  # here, so the other tests also run on a tree without knox

    token = get_token().json()["token"]
    AuthToken.objects.filter(user=rep).update(expiry=timezone.now() - timedelta(seconds=1))
    assert with_token(token).get("/api/v1/me/").status_code == 401


def test_a_password_change_ends_every_token(rep):
    first, second = get_token().json()["token"], get_token().json()["token"]
    rep.set_password("a-new-pass-2027")
    rep.save()
    for token in (first, second):
        assert with_token(token).get("/api/v1/me/").status_code == 401
    assert get_token(password="a-new-pass-2027").status_code == 200


def test_a_portal_password_change_ends_every_token(rep):
    token = get_token().json()["token"]
    client = Client()
    client.force_login(rep)
    response = client.post(
        "/portal/password/change/",
        {"old_password": PASSWORD, "new_password1": "Another-pass-2027!", "new_password2": "Another-pass-2027!"},
    )
    assert response.status_code == 302
    assert with_token(token).get("/api/v1/me/").status_code == 401


def test_deactivation_ends_the_token_and_reactivation_does_not_revive_it(partner, rep):
    from knox.models import AuthToken  # here, so the other tests also run on a tree without knox

    admin = partner_user(partner, PartnerRole.ADMIN)
    token = get_token().json()["token"]
    api_as(admin).patch(f"/api/v1/partner-users/{rep.membership.pk}/", {"is_active": False})
    assert not AuthToken.objects.filter(user=rep).exists()
    api_as(admin).patch(f"/api/v1/partner-users/{rep.membership.pk}/", {"is_active": True})
    assert with_token(token).get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("status", ["suspended", "terminated"])
def test_partner_suspension_ends_its_peoples_tokens(partner, rep, status):
    partner_user(PartnerFactory(slug="bravo"), PartnerRole.REP, username="bravo-rep")
    token = get_token().json()["token"]
    other_token = get_token("bravo-rep").json()["token"]
    boss = parent_user(ParentRole.ADMIN, superuser=True)
    partner_services.partner_transition(user=boss, partner=partner, status=status)
    assert with_token(token).get("/api/v1/me/").status_code == 401
    if status == "suspended":
        partner_services.partner_transition(user=boss, partner=partner, status="active")
        assert with_token(token).get("/api/v1/me/").status_code == 401  # not revived
    assert with_token(other_token).get("/api/v1/me/").status_code == 200


def test_tokens_are_listed_and_revoked_in_the_portal(partner, rep):
    from knox.models import AuthToken  # here, so the other tests also run on a tree without knox

    colleague = partner_user(partner, PartnerRole.REP, username="alpha-rep-2")
    mine = [get_token().json()["token"] for _ in range(2)]
    theirs = get_token("alpha-rep-2").json()["token"]
    client = Client()
    client.force_login(rep)
    page = client.get("/portal/profile/api-tokens/").content.decode()
    for token in mine:
        assert AuthToken.objects.get(user=rep, token_key=token[:15]).token_key in page
        assert token not in page  # the clear text is shown once, at issue, never again
    assert theirs[:15] not in page
    # Revoking someone else's key does nothing.
    client.post("/portal/profile/api-tokens/", {"token_key": theirs[:15]})
    assert with_token(theirs).get("/api/v1/me/").status_code == 200
    client.post("/portal/profile/api-tokens/", {"token_key": mine[0][:15]})
    assert with_token(mine[0]).get("/api/v1/me/").status_code == 401
    assert with_token(mine[1]).get("/api/v1/me/").status_code == 200
    client.post("/portal/profile/api-tokens/", {"all": "1"})
    assert with_token(mine[1]).get("/api/v1/me/").status_code == 401
    assert AuthToken.objects.filter(user=colleague).count() == 1


def test_a_token_header_that_is_not_utf8_is_a_401(rep):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=b"Token \xff\xfe".decode("latin-1"))
    assert client.get("/api/v1/me/").status_code == 401


# 7. Throttles and lockouts --------------------------------------------------------------------------


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "3/minute")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login_account", "5/minute")


def test_rotating_x_forwarded_for_does_not_escape_the_token_throttle(rep, low_rates):
    codes = [get_token(password="wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_key(rep, low_rates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client may prepend anything; the proxy's own entry (the last) is what counts.
    codes = [get_token(password="wrong", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 10.9.9.9").status_code for n in range(4)]
    assert codes[-1] == 429
    # Two real clients behind the proxy are two keys.
    assert get_token(password="wrong", HTTP_X_FORWARDED_FOR="10.9.9.8").status_code == 400


def test_attempts_on_one_account_from_many_addresses_are_throttled(rep, low_rates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    codes = [get_token(password="wrong", HTTP_X_FORWARDED_FOR=f"10.1.0.{n}").status_code for n in range(6)]
    assert codes[:5] == [400] * 5 and codes[5] == 429
    # Another account from the same addresses is not affected.
    assert get_token("someone-else", "x", HTTP_X_FORWARDED_FOR="10.1.0.99").status_code == 400


def test_a_locked_out_account_answers_429_on_the_token_endpoint(rep, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        assert get_token(password="wrong").status_code in (400, 429)
    locked = get_token()  # the right password, during the lockout
    assert locked.status_code == 429 and locked.json()["code"] == "locked_out"
    assert "token" not in locked.json()


def test_a_locked_out_account_answers_429_on_the_portal_login(rep, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post("/portal/login/", {"username": "alpha-rep", "password": "wrong"})
    response = client.post("/portal/login/", {"username": "alpha-rep", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_ignores_a_rotating_forwarded_header(rep, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        get_token(password="wrong", HTTP_X_FORWARDED_FOR=f"10.2.0.{n}")
    assert get_token(HTTP_X_FORWARDED_FOR="10.2.0.77").status_code == 429


def test_the_audit_trail_records_the_real_address(partner, rep, settings):
    from partners.models import AuditEvent

    admin = partner_user(partner, PartnerRole.ADMIN, username="alpha-admin")
    client = Client()
    client.force_login(admin)
    client.post(f"/portal/team/{rep.membership.pk}/", {"role": "support"}, HTTP_X_FORWARDED_FOR="6.6.6.6")
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None and event.ip_address == "127.0.0.1"
